"""distill — knowledge distillation: losses, built-in students, teachers.

Zero-copy over NumPy arrays and PyTorch tensors (CPU, and CUDA when
libdistill has its CUDA backend), on the stable C ABI of libdistill::

    import numpy as np, distill
    loss, grad = distill.kd_loss(student_logits, teacher_logits, temperature=2.0)

``distill.torch.KDLoss`` is a ``torch.nn.Module`` whose backward pass uses
the same kernel. Built-in students train inside the library
(``Model``, ``Dataset``, ``Trainer``, ``evaluate``), transformer
students too (``Model.lm_logits``, ``Trainer.fit_text`` over a
``TextDataset``, ``Trainer.fit_stored`` over a teacher's stored top-k
answers, ``evaluate_lm``); teachers are asked
through ``CallbackTeacher`` (any Python callable), ``HttpTeacher``
(OpenAI-compatible servers) or ``ModelTeacher``, with answers kept in a
``Store`` and collected at scale with ``collect``. Importing ``distill``
does not import torch.

``help(distill.CallbackTeacher)`` gives the format of a Python teacher's
answers and what happens to its exceptions.
"""
from . import _distill
from ._distill import (
    CallbackTeacher,
    CancelledError,
    CorruptFileError,
    Dataset,
    DiskFullError,
    Error,
    FileIOError,
    HttpTeacher,
    InternalError,
    InvalidArgumentError,
    Model,
    ModelTeacher,
    NotFoundError,
    OutOfMemoryError,
    Store,
    Teacher,
    TeacherRecord,
    TextDataset,
    Tokenizer,
    Trainer,
    UnsupportedError,
    collect,
    evaluate,
    evaluate_lm,
    evaluate_lm_stored,
    export_hf_folder,
    import_hf_folder,
    tokenize_files,
)
from ._distill import classification_answer, request_features
from ._loss import DIVERGENCES, REDUCTIONS, TAILS, kd_loss
from ._training import LossOptions

# The native classes show as distill.X (their public home), not distill._distill.X.
for _cls in (CallbackTeacher, Dataset, HttpTeacher, Model, ModelTeacher, Store, Teacher,
             TeacherRecord, TextDataset, Tokenizer, Trainer):
    _cls.__module__ = __name__
del _cls

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
    "CallbackTeacher",
    "CancelledError",
    "CorruptFileError",
    "DIVERGENCES",
    "Dataset",
    "DiskFullError",
    "Error",
    "FileIOError",
    "HttpTeacher",
    "InternalError",
    "InvalidArgumentError",
    "LossOptions",
    "Model",
    "ModelTeacher",
    "NotFoundError",
    "OutOfMemoryError",
    "REDUCTIONS",
    "Store",
    "TAILS",
    "Teacher",
    "TeacherRecord",
    "TextDataset",
    "Tokenizer",
    "Trainer",
    "UnsupportedError",
    "__version__",
    "classification_answer",
    "collect",
    "cuda_device_count",
    "evaluate",
    "evaluate_lm",
    "evaluate_lm_stored",
    "export_hf_folder",
    "import_hf_folder",
    "kd_loss",
    "library_version",
    "request_features",
    "tokenize_files",
]
