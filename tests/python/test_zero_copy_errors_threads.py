"""Zero copy (proved by the data pointers the library was handed), the error
paths (each message names the argument) and concurrent calls."""
import threading

import numpy as np
import pytest
import torch

import distill
from distill import _distill
from kd_reference import reference_kd_loss


def problem(n=4, v=32, k=5, seed=0):
    rng = np.random.default_rng(seed)
    student = rng.standard_normal((n, v)).astype(np.float32)
    teacher = rng.standard_normal((n, v)).astype(np.float32)
    ids = np.stack([rng.permutation(v)[:k] for _ in range(n)]).astype(np.int64)
    logprobs = np.take_along_axis(
        teacher - np.log(np.exp(teacher).sum(-1, keepdims=True)), ids, -1).astype(np.float32)
    labels = rng.integers(0, v, n).astype(np.int64)
    return student, teacher, ids, logprobs, labels


# --- zero copy ---------------------------------------------------------------

def test_numpy_inputs_and_outputs_are_not_copied():
    s, t, _, _, y = problem()
    loss, grad = distill.kd_loss(s, t, labels=y, hard_weight=0.5)
    seen = _distill._last_call_pointers()
    assert seen["student_logits"] == s.ctypes.data
    assert seen["teacher_logits"] == t.ctypes.data
    assert seen["labels"] == y.ctypes.data
    # The outputs the caller gets are the buffers the library wrote.
    assert seen["loss"] == loss.ctypes.data
    assert seen["grad"] == grad.ctypes.data
    assert grad.base is None or grad.base is not s


def test_numpy_topk_and_views_are_not_copied():
    s, _, ids, lp, _ = problem(n=8)
    view = s[2:6]  # a contiguous view into the middle of s
    distill.kd_loss(view, teacher_topk_ids=ids[2:6], teacher_topk_logprobs=lp[2:6], tail="bucket")
    seen = _distill._last_call_pointers()
    assert seen["student_logits"] == view.ctypes.data == s.ctypes.data + 2 * s.strides[0]
    assert seen["teacher_topk_ids"] == ids[2:6].ctypes.data
    assert seen["teacher_topk_logprobs"] == lp[2:6].ctypes.data


def test_torch_inputs_and_outputs_are_not_copied():
    s, t, ids, lp, y = (torch.from_numpy(a) for a in problem())
    s = s.to(torch.bfloat16)
    loss, grad = distill.kd_loss(s, t, labels=y.int(), hard_weight=0.5)
    seen = _distill._last_call_pointers()
    assert seen["student_logits"] == s.data_ptr()
    assert seen["teacher_logits"] == t.data_ptr()
    assert seen["loss"] == loss.data_ptr()
    assert seen["grad"] == grad.data_ptr()
    distill.kd_loss(s, teacher_topk_ids=ids, teacher_topk_logprobs=lp, tail="bucket")
    seen = _distill._last_call_pointers()
    assert seen["teacher_topk_ids"] == ids.data_ptr()
    assert seen["teacher_topk_logprobs"] == lp.data_ptr()


def test_dlpack_capsule_points_at_the_array():
    s, *_ = problem()
    assert _distill._dlpack_data_pointer(s.__dlpack__()) == s.ctypes.data
    ts = torch.from_numpy(s)
    assert _distill._dlpack_data_pointer(ts.__dlpack__()) == ts.data_ptr() == s.ctypes.data


# --- errors ------------------------------------------------------------------

def expect(error, fragment, *args, **kwargs):
    with pytest.raises(error) as info:
        distill.kd_loss(*args, **kwargs)
    assert fragment in str(info.value), str(info.value)
    assert isinstance(info.value, distill.Error) or error is TypeError
    return info.value


def test_wrong_dtype():
    s, t, ids, lp, y = problem()
    e = expect(ValueError, "student_logits", s.astype(np.float64), t)
    assert isinstance(e, distill.InvalidArgumentError) and e.status == 1
    expect(ValueError, "teacher_logits", s, t.astype(np.int32))
    expect(ValueError, "labels", s, t, labels=y.astype(np.float32))
    expect(ValueError, "teacher_topk_ids", s, teacher_topk_ids=ids.astype(np.float32),
           teacher_topk_logprobs=lp)
    expect(ValueError, "teacher_topk_logprobs", s, teacher_topk_ids=ids,
           teacher_topk_logprobs=lp.astype(np.float64))


def test_wrong_shape():
    s, t, ids, lp, y = problem()
    expect(ValueError, "student_logits", s[0], t[0])
    expect(ValueError, "teacher_logits", s, t[:2])
    expect(ValueError, "labels", s, t, labels=y[:2])
    expect(ValueError, "teacher_topk_logprobs", s, teacher_topk_ids=ids, teacher_topk_logprobs=lp[:, :3])


def test_vocabulary_mismatch():
    s, t, *_ = problem()
    expect(ValueError, "teacher_logits: expected the student's vocabulary", s, t[:, :16].copy())


def test_non_contiguous():
    s, t, *_ = problem()
    expect(ValueError, "student_logits: expected a row-major contiguous", s[:, ::2], t[:, ::2])
    expect(ValueError, "teacher_logits", s, np.asfortranarray(t))
    ts, tt = torch.from_numpy(s), torch.from_numpy(t)
    expect(ValueError, "student_logits", ts.t().contiguous().t(), tt)


def test_ids_and_labels_out_of_range():
    s, t, ids, lp, y = problem()
    bad = ids.copy()
    bad[2, 1] = 32
    expect(ValueError, "teacher_topk_ids", s, teacher_topk_ids=bad, teacher_topk_logprobs=lp)
    bad[2, 1] = -1
    expect(ValueError, "teacher_topk_ids", s, teacher_topk_ids=bad, teacher_topk_logprobs=lp)
    bad_y = y.copy()
    bad_y[0] = 99
    expect(ValueError, "labels", s, t, labels=bad_y)


def test_wrong_device():
    s, t, *_ = problem()
    meta = torch.empty(4, 32, device="meta")
    with pytest.raises((ValueError, RuntimeError, BufferError, TypeError)):
        distill.kd_loss(torch.from_numpy(s), meta)
    if torch.cuda.is_available() and distill.cuda_device_count() > 0:
        expect(ValueError, "teacher_logits: expected a tensor on the context's device",
               torch.from_numpy(s), torch.from_numpy(t).cuda())
        expect(ValueError, "teacher_logits", torch.from_numpy(s).cuda(), torch.from_numpy(t))


def test_bad_options_and_teacher_arguments():
    s, t, ids, lp, y = problem()
    expect(ValueError, "divergence", s, t, divergence="kl")
    expect(ValueError, "reduction", s, t, reduction="mean")
    expect(ValueError, "tail", s, t, tail="drop")
    expect(ValueError, "temperature", s, t, temperature=0.0)
    expect(ValueError, "beta", s, t, divergence="jsd", beta=1.5)
    expect(ValueError, "hard_weight", s, t, hard_weight=1.0)  # needs labels
    expect(ValueError, "teacher_logits", s)
    expect(ValueError, "teacher_logits", s, t, teacher_topk_ids=ids, teacher_topk_logprobs=lp)
    expect(TypeError, "student_logits", [[1.0, 2.0]], t)
    expect(TypeError, "teacher_logits", s, "not an array")
    e = expect(RuntimeError, "reverse KL", s, teacher_topk_ids=ids, teacher_topk_logprobs=lp,
               divergence="reverse_kl")
    assert isinstance(e, distill.UnsupportedError) and not isinstance(e, ValueError)


# --- threads -----------------------------------------------------------------

def test_four_threads_at_once():
    problems = [problem(n=16, v=2000, seed=seed) for seed in range(4)]
    expected = []
    for s, t, ids, lp, y in problems:
        ref_loss, ref_grad = reference_kd_loss(torch.from_numpy(s), torch.from_numpy(t),
                                               labels=torch.from_numpy(y), hard_weight=0.5,
                                               temperature=2.0)
        expected.append((float(ref_loss), ref_grad.numpy()))
    barrier = threading.Barrier(4)
    failures = []

    def work(index):
        s, t, _, _, y = problems[index]
        barrier.wait()
        try:
            for _ in range(25):
                loss, grad = distill.kd_loss(s, t, labels=y, hard_weight=0.5, temperature=2.0)
                ref_loss, ref_grad = expected[index]
                assert abs(float(loss) - ref_loss) <= 2e-5 * abs(ref_loss) + 1e-6
                np.testing.assert_allclose(grad, ref_grad, rtol=1e-4, atol=1e-7)
        except Exception as error:  # reported by the main thread
            failures.append((index, error))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures


def test_native_call_releases_the_gil():
    # While one thread runs a large loss, another Python thread keeps running.
    s, t, *_ = problem(n=256, v=32000)
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(1)

    def run():
        for _ in range(5):
            distill.kd_loss(s, t)

    worker = threading.Thread(target=ticker)
    worker.start()
    try:
        before = len(ticks)
        run()
        during = len(ticks) - before
    finally:
        stop.set()
        worker.join()
    assert during > 0
