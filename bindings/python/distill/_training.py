"""distill.LossOptions: the loss a Trainer minimises (the loss family of
distill.h; reduction is always batchmean)."""
from __future__ import annotations

from dataclasses import dataclass

from . import _distill

_DEFAULTS = _distill.KD_LOSS_DEFAULTS  # distill_kd_loss_options_init


@dataclass
class LossOptions:
    """Row loss = soft_weight · (T² if scale_by_t2) · divergence(teacher,
    student at temperature T) + hard_weight · cross-entropy(labels).

    divergence: "forward_kl", "reverse_kl", "jsd" (mixing ``beta``), "tvd";
    tail (top-k teachers): "renormalize" or "bucket". Rows labelled
    ``ignore_index`` count 0."""

    divergence: str = _DEFAULTS["divergence"]
    beta: float = _DEFAULTS["beta"]
    temperature: float = _DEFAULTS["temperature"]
    scale_by_t2: bool = _DEFAULTS["scale_by_t2"]
    soft_weight: float = _DEFAULTS["soft_weight"]
    hard_weight: float = _DEFAULTS["hard_weight"]
    ignore_index: int = _DEFAULTS["ignore_index"]
    tail: str = _DEFAULTS["tail"]
