"""distill — knowledge-distillation losses with exact gradients.

Zero-copy over NumPy arrays and PyTorch tensors (CPU, and CUDA when
libdistill has its CUDA backend), on the stable C ABI of libdistill::

    import numpy as np, distill
    loss, grad = distill.kd_loss(student_logits, teacher_logits, temperature=2.0)

``distill.torch.KDLoss`` is a ``torch.nn.Module`` whose backward pass uses
the same kernel. Importing ``distill`` does not import torch.
"""
from . import _distill
from ._distill import (
    CancelledError,
    Error,
    InternalError,
    InvalidArgumentError,
    OutOfMemoryError,
    UnsupportedError,
)
from ._loss import DIVERGENCES, REDUCTIONS, TAILS, kd_loss

__version__: str = _distill.HEADER_VERSION
ABI_VERSION: int = _distill.HEADER_ABI_VERSION


def library_version() -> str:
    """The version of the loaded libdistill, "MAJOR.MINOR.PATCH"."""
    return _distill.library_version()


def cuda_device_count() -> int:
    """Number of CUDA devices usable by libdistill (0 without its CUDA backend or a GPU)."""
    return _distill.cuda_device_count()


__all__ = [
    "ABI_VERSION",
    "CancelledError",
    "DIVERGENCES",
    "Error",
    "InternalError",
    "InvalidArgumentError",
    "OutOfMemoryError",
    "REDUCTIONS",
    "TAILS",
    "UnsupportedError",
    "__version__",
    "cuda_device_count",
    "kd_loss",
    "library_version",
]
