from typing import Any, Optional

import torch

from . import Divergence, Reduction, Tail

class KDLossFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, student_logits: torch.Tensor, teacher_logits: Optional[torch.Tensor],
                teacher_topk_ids: Optional[torch.Tensor], teacher_topk_logprobs: Optional[torch.Tensor],
                labels: Optional[torch.Tensor], options: dict) -> torch.Tensor: ...
    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> Any: ...

class KDLoss(torch.nn.Module):
    options: dict
    def __init__(self, divergence: Divergence = "forward_kl", beta: float = 0.5,
                 temperature: float = 1.0, scale_by_t2: bool = True, soft_weight: float = 1.0,
                 hard_weight: Optional[float] = None, ignore_index: int = -100,
                 reduction: Reduction = "batchmean", tail: Tail = "renormalize") -> None: ...
    def forward(self, student_logits: torch.Tensor, teacher_logits: Optional[torch.Tensor] = None, *,
                labels: Optional[torch.Tensor] = None, teacher_topk_ids: Optional[torch.Tensor] = None,
                teacher_topk_logprobs: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Loss [] ([...] for reduction="none") of student_logits [..., V]."""
        ...
    def __call__(self, student_logits: torch.Tensor, teacher_logits: Optional[torch.Tensor] = None, *,
                 labels: Optional[torch.Tensor] = None, teacher_topk_ids: Optional[torch.Tensor] = None,
                 teacher_topk_logprobs: Optional[torch.Tensor] = None) -> torch.Tensor: ...
