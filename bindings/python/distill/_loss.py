"""distill.kd_loss: the distillation-loss family over DLPack, without copies."""
from __future__ import annotations

import sys
import warnings

import numpy as np

from . import _distill

InvalidArgumentError = _distill.InvalidArgumentError

# The C ABI's enum values and defaults, read from the library.
DIVERGENCES = dict(_distill.DIVERGENCES)
REDUCTIONS = dict(_distill.REDUCTIONS)
TAILS = dict(_distill.TAILS)
_DEFAULTS = _distill.KD_LOSS_DEFAULTS
_NONE = REDUCTIONS["none"]

_KDL_CPU = 1
_KDL_CUDA = 2


def _choice(name, value, table):
    code = table.get(value) if isinstance(value, str) else None
    if code is None:
        raise InvalidArgumentError(
            f"INVALID_ARGUMENT: {name}: expected one of {', '.join(repr(k) for k in table)}, got {value!r}"
        )
    return code


def _torch_module(x):
    """torch, when x is a torch.Tensor (torch is then already imported)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        return torch
    return None


def _rows(x, name, torch):
    """x as [N, V] when it has more leading dimensions (a view, never a copy)."""
    if x is None or getattr(x, "ndim", 2) <= 2 or (torch is None and not isinstance(x, np.ndarray)):
        return x
    contiguous = x.is_contiguous() if torch is not None else x.flags.c_contiguous
    if not contiguous:
        raise InvalidArgumentError(
            f"INVALID_ARGUMENT: {name}: expected a contiguous tensor, got shape {tuple(x.shape)} "
            "with non-contiguous strides"
        )
    return x.reshape(-1, x.shape[-1])


def _flat(x, name, torch):
    if x is None or getattr(x, "ndim", 1) <= 1 or (torch is None and not isinstance(x, np.ndarray)):
        return x
    contiguous = x.is_contiguous() if torch is not None else x.flags.c_contiguous
    if not contiguous:
        raise InvalidArgumentError(f"INVALID_ARGUMENT: {name}: expected a contiguous tensor")
    return x.reshape(-1)


def _export(x, stream):
    """A DLPack capsule of x, or x itself for a buffer-protocol object."""
    if x is None:
        return None
    if type(x) is np.ndarray:
        try:
            return x.__dlpack__()
        except BufferError:
            # A read-only array, which legacy DLPack cannot flag: the buffer
            # protocol reads it in place as well.
            return x
    if getattr(x, "requires_grad", False):
        x = x.detach()
    dlpack = getattr(x, "__dlpack__", None)
    if dlpack is None:
        return x
    cuda = x.is_cuda if hasattr(x, "is_cuda") else _device_of(x)[0] == _KDL_CUDA
    if cuda:
        # The stream the library will run on (torch's current one), so that
        # the producer orders its pending work before it; -1 (no ordering)
        # for a CUDA tensor passed with a CPU student, which the library
        # refuses anyway.
        return dlpack(stream=-1 if stream is None else stream)
    try:
        return dlpack()
    except BufferError:
        if isinstance(x, np.ndarray):
            return x
        raise


def _torch_cpu_empty(torch, shape, dtype):
    itemsize = dtype.itemsize
    carrier = {2: np.uint16, 4: np.float32, 8: np.float64}[itemsize]
    return torch.from_numpy(np.empty(shape, dtype=carrier)).view(dtype)


def _device_of(x):
    dev = getattr(x, "__dlpack_device__", None)
    if dev is None:
        return (_KDL_CPU, 0)
    kind, index = dev()
    return (int(kind), int(index))


def _hard_weight_or_warn(hard_weight, labels):
    """hard_weight None is 0; with labels that is most likely a forgotten
    hard_weight, since the labels then add no cross-entropy (UserWarning,
    shown once per call site by Python's default filter)."""
    if hard_weight is not None:
        return hard_weight
    if labels is not None:
        warnings.warn(
            "kd_loss: labels were given without hard_weight, so they add no cross-entropy "
            "and only mask the rows labelled ignore_index; pass hard_weight > 0 for the "
            "hard-label loss, or hard_weight=0.0 if masking is all you want",
            UserWarning, stacklevel=3)
    return 0.0


def kd_loss(
    student_logits,
    teacher_logits=None,
    *,
    teacher_topk_ids=None,
    teacher_topk_logprobs=None,
    labels=None,
    divergence=_DEFAULTS["divergence"],
    beta=_DEFAULTS["beta"],
    temperature=_DEFAULTS["temperature"],
    scale_by_t2=_DEFAULTS["scale_by_t2"],
    soft_weight=_DEFAULTS["soft_weight"],
    hard_weight=None,
    ignore_index=_DEFAULTS["ignore_index"],
    reduction=_DEFAULTS["reduction"],
    tail=_DEFAULTS["tail"],
    return_grad=True,
):
    """Distillation loss of a student against a teacher, and its gradient.

    Shapes (N rows, vocabulary V, K teacher entries per row; leading
    dimensions [..., V] are flattened to N rows and restored on the outputs):

    - ``student_logits``: [N, V], float32 / bfloat16 / float16.
    - ``teacher_logits``: [N, V] (dense teacher; its dtype may differ), or
    - ``teacher_topk_ids``: [N, K] int32/int64 and ``teacher_topk_logprobs``:
      [N, K] log-probabilities at T = 1 (top-k teacher; ``teacher_logits``
      must then be None).
    - ``labels``: None or [N] int32/int64, in [0, V) or ``ignore_index``.

    Inputs are anything with ``__dlpack__`` (NumPy arrays, PyTorch CPU
    tensors, PyTorch CUDA tensors when libdistill has its CUDA backend) or
    the buffer protocol, and are read in place, never copied.

    Options (exactly the C ABI's, see distill.h): ``divergence`` in
    ``"forward_kl"``, ``"reverse_kl"``, ``"jsd"`` (mixing ``beta``), ``"tvd"``;
    ``temperature`` T (soft loss × T² when ``scale_by_t2``); row loss =
    ``soft_weight`` · soft + ``hard_weight`` · cross-entropy(labels); rows
    whose label is ``ignore_index`` count 0; ``hard_weight`` None means 0,
    and with ``labels`` it warns (the labels then only mask the rows equal to
    ``ignore_index``: pass ``hard_weight=0.0`` to say that is meant); ``reduction`` in
    ``"batchmean"``, ``"sum"``, ``"none"``; ``tail`` (top-k only) in
    ``"renormalize"``, ``"bucket"``.

    Returns ``(loss, grad)``, arrays of the same kind as ``student_logits``
    (NumPy for NumPy and buffers, torch on the student's device for torch):
    ``loss`` is float32, a 0-d array for ``"batchmean"``/``"sum"`` and [N]
    for ``"none"``; ``grad`` is d(reduced loss)/d(student_logits) (of the
    sum for ``"none"``), shaped and typed like the student, or None when
    ``return_grad`` is False.

    Raises ``distill.InvalidArgumentError`` (a ValueError) naming the bad
    argument, ``distill.UnsupportedError`` (a RuntimeError) for undefined
    combinations such as reverse KL against a renormalised top-k teacher.
    """
    torch = _torch_module(student_logits)
    hard_weight = _hard_weight_or_warn(hard_weight, labels)
    div = _choice("divergence", divergence, DIVERGENCES)
    red = _choice("reduction", reduction, REDUCTIONS)
    tl = _choice("tail", tail, TAILS)
    if teacher_logits is None:
        if teacher_topk_ids is None or teacher_topk_logprobs is None:
            raise InvalidArgumentError(
                "INVALID_ARGUMENT: teacher_logits: expected a dense teacher (teacher_logits) "
                "or a top-k teacher (teacher_topk_ids and teacher_topk_logprobs), got neither"
            )
    elif teacher_topk_ids is not None or teacher_topk_logprobs is not None:
        raise InvalidArgumentError(
            "INVALID_ARGUMENT: teacher_logits: expected either teacher_logits or "
            "teacher_topk_ids/teacher_topk_logprobs, got both"
        )
    if not hasattr(student_logits, "__dlpack__") and not isinstance(student_logits, np.ndarray):
        try:
            memoryview(student_logits)
        except TypeError:
            raise TypeError(
                "student_logits: expected an array with __dlpack__ or the buffer protocol, got "
                f"{type(student_logits).__name__}"
            ) from None
        student_logits = np.asarray(student_logits)  # a view over the buffer

    lead = tuple(student_logits.shape[:-1]) if getattr(student_logits, "ndim", 2) > 2 else None
    student = _rows(student_logits, "student_logits", torch)
    teacher = _rows(teacher_logits, "teacher_logits", _torch_module(teacher_logits))
    ids = _rows(teacher_topk_ids, "teacher_topk_ids", _torch_module(teacher_topk_ids))
    logprobs = _rows(teacher_topk_logprobs, "teacher_topk_logprobs", _torch_module(teacher_topk_logprobs))
    labels_ = _flat(labels, "labels", _torch_module(labels))

    shape = tuple(student.shape)
    if len(shape) != 2:
        raise InvalidArgumentError(
            f"INVALID_ARGUMENT: student_logits: expected shape [N, V], got {list(shape)}"
        )
    device_type, device_id = _device_of(student)
    stream = None
    stream_ptr = 0
    if torch is not None and student.device.type == "cpu":
        # torch tensors over NumPy allocations: torch's CPU allocator maps and
        # page-faults a fresh block for every large tensor, malloc reuses one.
        loss = torch.from_numpy(np.empty((shape[0],) if red == _NONE else (), dtype=np.float32))
        grad = _torch_cpu_empty(torch, shape, student.dtype) if return_grad else None
    elif torch is not None:
        loss = torch.empty((shape[0],) if red == _NONE else (), dtype=torch.float32, device=student.device)
        grad = torch.empty(shape, dtype=student.dtype, device=student.device) if return_grad else None
        if student.device.type == "cuda":
            stream_ptr = torch.cuda.current_stream(student.device).cuda_stream
            # DLPack: 1 names the legacy default stream, 0 is ambiguous.
            stream = stream_ptr if stream_ptr != 0 else 1
    else:
        if device_type != _KDL_CPU:
            raise InvalidArgumentError(
                "INVALID_ARGUMENT: student_logits: only NumPy-like CPU arrays and torch tensors "
                f"are supported, got a {type(student_logits).__name__} on DLPack device {device_type}"
            )
        loss = np.empty((shape[0],) if red == _NONE else (), dtype=np.float32)
        grad = np.empty(shape, dtype=student.dtype) if return_grad else None

    _distill.kd_loss(
        _export(student, stream),
        _export(teacher, stream),
        _export(ids, stream),
        _export(logprobs, stream),
        _export(labels_, stream),
        _export(loss, stream),
        _export(grad, stream),
        div,
        float(beta),
        float(temperature),
        bool(scale_by_t2),
        float(soft_weight),
        float(hard_weight),
        int(ignore_index),
        red,
        tl,
        1 if device_type == _KDL_CUDA else 0,
        device_id,
        stream_ptr,
    )
    if lead is not None:
        if red == _NONE:
            loss = loss.reshape(lead)
        if grad is not None:
            grad = grad.reshape(tuple(student_logits.shape))
    return loss, grad

