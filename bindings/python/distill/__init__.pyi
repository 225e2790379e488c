from typing import Any, Literal, Optional, Tuple

from ._distill import classification_answer as classification_answer
from ._distill import request_features as request_features
from ._distill import (
    CallbackTeacher as CallbackTeacher,
    Dataset as Dataset,
    HttpTeacher as HttpTeacher,
    Model as Model,
    ModelTeacher as ModelTeacher,
    Store as Store,
    Teacher as Teacher,
    TeacherRecord as TeacherRecord,
    TextDataset as TextDataset,
    Tokenizer as Tokenizer,
    Trainer as Trainer,
    collect as collect,
    evaluate as evaluate,
    evaluate_lm as evaluate_lm,
    evaluate_lm_stored as evaluate_lm_stored,
    export_hf_folder as export_hf_folder,
    import_hf_folder as import_hf_folder,
    tokenize_files as tokenize_files,
    CancelledError as CancelledError,
    CorruptFileError as CorruptFileError,
    DiskFullError as DiskFullError,
    Error as Error,
    FileIOError as FileIOError,
    InternalError as InternalError,
    InvalidArgumentError as InvalidArgumentError,
    NotFoundError as NotFoundError,
    OutOfMemoryError as OutOfMemoryError,
    UnsupportedError as UnsupportedError,
)

from ._training import LossOptions as LossOptions

__version__: str
ABI_VERSION: int
DIVERGENCES: dict[str, int]
REDUCTIONS: dict[str, int]
TAILS: dict[str, int]

Divergence = Literal["forward_kl", "reverse_kl", "jsd", "tvd"]
Reduction = Literal["batchmean", "sum", "none"]
Tail = Literal["renormalize", "bucket"]

def library_version() -> str: ...
def cuda_device_count() -> int: ...
def kd_loss(
    student_logits: Any,
    teacher_logits: Optional[Any] = None,
    *,
    teacher_topk_ids: Optional[Any] = None,
    teacher_topk_logprobs: Optional[Any] = None,
    labels: Optional[Any] = None,
    divergence: Divergence = "forward_kl",
    beta: float = 0.5,
    temperature: float = 1.0,
    scale_by_t2: bool = True,
    soft_weight: float = 1.0,
    hard_weight: Optional[float] = None,
    ignore_index: int = -100,
    reduction: Reduction = "batchmean",
    tail: Tail = "renormalize",
    return_grad: bool = True,
) -> Tuple[Any, Optional[Any]]:
    """Loss [] ([N] for reduction="none") and d loss / d student_logits [N, V]
    (None when return_grad is False) of student_logits [N, V] against
    teacher_logits [N, V] or teacher_topk_ids / teacher_topk_logprobs [N, K];
    labels [N]. Outputs are arrays of the same kind as student_logits."""
    ...
