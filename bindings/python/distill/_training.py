"""distill.LossOptions: the loss a Trainer minimises (the loss family of
distill.h; reduction is always batchmean)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LossOptions:
    """Row loss = soft_weight · (T² if scale_by_t2) · divergence(teacher,
    student at temperature T) + hard_weight · cross-entropy(labels).

    divergence: "forward_kl", "reverse_kl", "jsd" (mixing ``beta``), "tvd";
    tail (top-k teachers): "renormalize" or "bucket". Rows labelled
    ``ignore_index`` count 0."""

    divergence: str = "forward_kl"
    beta: float = 0.5
    temperature: float = 1.0
    scale_by_t2: bool = True
    soft_weight: float = 1.0
    hard_weight: float = 0.0
    ignore_index: int = -100
    tail: str = "renormalize"
