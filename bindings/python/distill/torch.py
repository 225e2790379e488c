"""distill.torch — the distillation losses as a PyTorch module.

``KDLoss(...)(student_logits, teacher_logits)`` returns the loss as a torch
tensor; ``loss.backward()`` gives ``student_logits`` the gradient that
libdistill computed in the same call (an exact closed form), scaled by the
incoming gradient. The teacher is treated as a constant (no gradient).
"""
from __future__ import annotations

import torch

from ._loss import DIVERGENCES, REDUCTIONS, TAILS, _choice, kd_loss

__all__ = ["KDLoss", "KDLossFunction"]


class KDLossFunction(torch.autograd.Function):
    """autograd.Function over distill.kd_loss: forward computes the loss and
    (when the student needs it) its gradient in one native call; backward
    returns that gradient times grad_output."""

    @staticmethod
    def forward(ctx, student_logits, teacher_logits, teacher_topk_ids, teacher_topk_logprobs,
                labels, options):
        need_grad = ctx.needs_input_grad[0]
        loss, grad = kd_loss(
            student_logits.detach(),
            None if teacher_logits is None else teacher_logits.detach(),
            teacher_topk_ids=teacher_topk_ids,
            teacher_topk_logprobs=None if teacher_topk_logprobs is None else teacher_topk_logprobs.detach(),
            labels=labels,
            return_grad=need_grad,
            **options,
        )
        ctx.per_row = options["reduction"] == "none"
        if grad is not None:
            ctx.save_for_backward(grad)
        return loss

    @staticmethod
    def backward(ctx, grad_output):
        if not ctx.needs_input_grad[0]:
            return None, None, None, None, None, None
        (grad,) = ctx.saved_tensors
        if ctx.per_row:
            scale = grad_output.to(grad.dtype).unsqueeze(-1)
            return grad * scale, None, None, None, None, None
        if grad_output.device.type == "cpu" and grad_output.item() == 1.0:
            return grad, None, None, None, None, None
        return grad * grad_output.to(grad.dtype), None, None, None, None, None


class KDLoss(torch.nn.Module):
    """Knowledge-distillation loss (distill.kd_loss) as a ``torch.nn.Module``.

    ``KDLoss(divergence="forward_kl", beta=0.5, temperature=1.0,
    scale_by_t2=True, soft_weight=1.0, hard_weight=None, ignore_index=-100,
    reduction="batchmean", tail="renormalize")`` — the options of
    ``distill.kd_loss`` (hard_weight None is 0, and warns when labels come).

    Called as ``loss_fn(student_logits, teacher_logits=None, *, labels=None,
    teacher_topk_ids=None, teacher_topk_logprobs=None)`` with shapes
    ``student_logits`` [..., V] (float32/bfloat16/float16, CPU or CUDA),
    ``teacher_logits`` [..., V], or ``teacher_topk_ids`` / ``teacher_topk_logprobs``
    [..., K], ``labels`` [...]. Returns the loss: a 0-d float32 tensor, or
    [...] for ``reduction="none"``. Non-contiguous inputs are made contiguous
    first (the only case where a copy is made).
    """

    def __init__(self, divergence="forward_kl", beta=0.5, temperature=1.0, scale_by_t2=True,
                 soft_weight=1.0, hard_weight=None, ignore_index=-100, reduction="batchmean",
                 tail="renormalize"):
        super().__init__()
        # Refuse bad choices now rather than at the first call.
        _choice("divergence", divergence, DIVERGENCES)
        _choice("reduction", reduction, REDUCTIONS)
        _choice("tail", tail, TAILS)
        self.options = dict(
            divergence=divergence,
            beta=float(beta),
            temperature=float(temperature),
            scale_by_t2=bool(scale_by_t2),
            soft_weight=float(soft_weight),
            hard_weight=None if hard_weight is None else float(hard_weight),
            ignore_index=int(ignore_index),
            reduction=reduction,
            tail=tail,
        )

    def extra_repr(self):
        return ", ".join(f"{k}={v!r}" for k, v in self.options.items())

    def forward(self, student_logits, teacher_logits=None, *, labels=None, teacher_topk_ids=None,
                teacher_topk_logprobs=None):
        def contiguous(x):
            return x.contiguous() if isinstance(x, torch.Tensor) else x

        return KDLossFunction.apply(
            contiguous(student_logits),
            contiguous(teacher_logits),
            contiguous(teacher_topk_ids),
            contiguous(teacher_topk_logprobs),
            contiguous(labels),
            self.options,
        )
