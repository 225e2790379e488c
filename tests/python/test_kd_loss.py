"""distill.kd_loss against the independent PyTorch formulation (kd_reference)."""
import sys

import numpy as np
import pytest
import torch

import distill
from kd_reference import reference_kd_loss

N, V, K = 6, 50, 7
DIVERGENCES = ["forward_kl", "reverse_kl", "jsd", "tvd"]
TEACHERS = ["dense", "topk_renormalize", "topk_bucket"]
REDUCTIONS = ["batchmean", "sum", "none"]
DTYPES = [torch.float32, torch.bfloat16]


def make_problem(dtype=torch.float32, n=N, v=V, k=K, seed=0, teacher_dtype=None):
    g = torch.Generator().manual_seed(seed)
    student = (torch.randn(n, v, generator=g) * 2).to(dtype)
    teacher = (torch.randn(n, v, generator=g) * 3).to(teacher_dtype or dtype)
    teacher_logprobs_full = torch.log_softmax(teacher.float(), dim=-1)
    ids = torch.stack([torch.randperm(v, generator=g)[:k] for _ in range(n)])
    logprobs = teacher_logprobs_full.gather(-1, ids).to(teacher_dtype or dtype)
    labels = torch.randint(0, v, (n,), generator=g)
    labels[1] = -100
    return student, teacher, ids, logprobs, labels


def tolerances(dtype):
    # The reference is exact (float64 over the same input values); distill
    # accumulates in fp32 and rounds the gradient to the student's dtype.
    if dtype == torch.bfloat16:
        return dict(loss=(2e-4, 1e-5), grad=(1.6e-2, 8e-3))
    return dict(loss=(2e-5, 1e-6), grad=(1e-4, 2e-5))


def check(student, teacher=None, ids=None, logprobs=None, labels=None, **options):
    kwargs = dict(teacher_topk_ids=ids, teacher_topk_logprobs=logprobs, labels=labels, **options)
    loss, grad = distill.kd_loss(student, teacher, **kwargs)
    ref_options = {k: v for k, v in options.items()}
    ref_loss, ref_grad = reference_kd_loss(student, teacher, ids=ids, logprobs=logprobs,
                                           labels=labels, **ref_options)
    assert isinstance(loss, torch.Tensor) and loss.dtype == torch.float32
    assert grad.dtype == student.dtype and grad.shape == student.shape
    tol = tolerances(student.dtype)
    rtol, atol = tol["loss"]
    torch.testing.assert_close(loss.double(), ref_loss, rtol=rtol, atol=atol)
    rtol, atol = tol["grad"]
    scale = max(float(ref_grad.abs().max()), 1e-3)
    # atol relative to the gradient's scale (batchmean divides it by N).
    torch.testing.assert_close(grad.double(), ref_grad, rtol=rtol, atol=atol * scale)
    return loss, grad


def teacher_args(kind, teacher, ids, logprobs):
    if kind == "dense":
        return dict(teacher=teacher), {}
    return dict(ids=ids, logprobs=logprobs), {"tail": kind.split("_")[1]}


@pytest.mark.parametrize("dtype", DTYPES, ids=["fp32", "bf16"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", TEACHERS)
@pytest.mark.parametrize("divergence", DIVERGENCES)
def test_matches_reference(divergence, kind, reduction, dtype):
    student, teacher, ids, logprobs, labels = make_problem(dtype)
    tensors, extra = teacher_args(kind, teacher, ids, logprobs)
    options = dict(divergence=divergence, temperature=2.0, reduction=reduction, soft_weight=0.7,
                   hard_weight=0.3, beta=0.4, **extra)
    if kind == "topk_renormalize" and divergence == "reverse_kl":
        with pytest.raises(distill.UnsupportedError, match="reverse KL"):
            distill.kd_loss(student, tensors.get("teacher"), teacher_topk_ids=ids,
                            teacher_topk_logprobs=logprobs, labels=labels, **options)
        return
    loss, grad = check(student, labels=labels, **tensors, **options)
    # The ignored row: zero loss and zero gradient.
    if reduction == "none":
        assert float(loss[1]) == 0.0
    assert torch.count_nonzero(grad[1]) == 0


@pytest.mark.parametrize("kind", TEACHERS)
@pytest.mark.parametrize("temperature", [0.5, 1.0, 3.0])
@pytest.mark.parametrize("scale_by_t2", [True, False])
def test_temperature_and_scaling_without_labels(kind, temperature, scale_by_t2):
    student, teacher, ids, logprobs, _ = make_problem()
    tensors, extra = teacher_args(kind, teacher, ids, logprobs)
    check(student, temperature=temperature, scale_by_t2=scale_by_t2, **tensors, **extra)


@pytest.mark.parametrize("kind", TEACHERS)
def test_ignore_index_custom_value_and_all_ignored(kind):
    student, teacher, ids, logprobs, labels = make_problem()
    tensors, extra = teacher_args(kind, teacher, ids, logprobs)
    labels = labels.clone()
    labels[1] = 7
    labels[3] = -1
    check(student, labels=labels.int(), ignore_index=-1, hard_weight=0.5, **tensors, **extra)
    everything = torch.full((N,), -100)
    loss, grad = check(student, labels=everything, hard_weight=1.0, **tensors, **extra)
    assert float(loss) == 0.0 and torch.count_nonzero(grad) == 0


@pytest.mark.parametrize("tail", ["renormalize", "bucket"])
@pytest.mark.parametrize("divergence", ["forward_kl", "jsd", "tvd"])
def test_topk_with_k_equal_v(tail, divergence):
    # K = V: the bucket's student rest mass is exactly 0, and both tails are
    # the dense loss.
    student, teacher, _, _, _ = make_problem(v=12, k=12)
    ids = torch.stack([torch.randperm(12) for _ in range(N)])
    logprobs = torch.log_softmax(teacher, -1).gather(-1, ids)
    options = dict(divergence=divergence, temperature=2.0, beta=0.3)
    topk_loss, topk_grad = check(student, ids=ids, logprobs=logprobs, tail=tail, **options)
    dense_loss, dense_grad = distill.kd_loss(student, teacher, **options)
    torch.testing.assert_close(topk_loss, dense_loss, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(topk_grad, dense_grad, rtol=1e-3, atol=1e-6)


def test_bucket_tail_below_epsilon_counts_as_zero():
    student, teacher, _, _, _ = make_problem(v=10, k=4)
    ids = torch.tensor([[0, 1, 2, 3]] * N)
    # Σ exp(l) = 1 − 5e-7: a tail of rounding, which tempering at T = 4 would
    # turn into (5e-7)^(1/4) ≈ 0.027 if it were kept.
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05 - 5e-7], dtype=torch.float64)
    logprobs = probs.log().float().expand(N, 4).contiguous()
    loss, _ = check(student, ids=ids, logprobs=logprobs, tail="bucket", temperature=4.0)
    # The same teacher with an exact zero tail: the same loss.
    zero_tail = (probs / probs.sum()).log().float().expand(N, 4).contiguous()
    loss0, _ = distill.kd_loss(student, teacher_topk_ids=ids, teacher_topk_logprobs=zero_tail,
                               tail="bucket", temperature=4.0)
    torch.testing.assert_close(loss, loss0, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kind", ["dense", "topk_bucket"])
def test_jsd_beta_endpoints_are_exactly_the_kls(kind):
    student, teacher, ids, logprobs, _ = make_problem()
    tensors, extra = teacher_args(kind, teacher, ids, logprobs)
    call = dict(teacher_topk_ids=tensors.get("ids"), teacher_topk_logprobs=tensors.get("logprobs"),
                temperature=2.0, **extra)
    teacher_ = tensors.get("teacher")
    for beta, same in [(0.0, "forward_kl"), (1.0, "reverse_kl")]:
        jsd = distill.kd_loss(student, teacher_, divergence="jsd", beta=beta, **call)
        kl = distill.kd_loss(student, teacher_, divergence=same, **call)
        torch.testing.assert_close(jsd[0], kl[0], rtol=1e-6, atol=0)
        torch.testing.assert_close(jsd[1], kl[1], rtol=1e-6, atol=0)
        assert float(jsd[0]) > 1e-3  # not the 0 the interior formula tends to


def test_jsd_renormalize_beta_one_is_refused():
    student, _, ids, logprobs, _ = make_problem()
    with pytest.raises(distill.UnsupportedError):
        distill.kd_loss(student, teacher_topk_ids=ids, teacher_topk_logprobs=logprobs,
                        divergence="jsd", beta=1.0)


def test_mixed_dtypes_and_int32_ids():
    student, teacher, ids, logprobs, labels = make_problem(torch.bfloat16, teacher_dtype=torch.float32)
    check(student, teacher, labels=labels, hard_weight=0.5)
    check(student, ids=ids.int(), logprobs=logprobs, tail="bucket")
    s16, t16, _, _, _ = make_problem(torch.float16)
    loss, grad = distill.kd_loss(s16, t16)
    ref_loss, ref_grad = reference_kd_loss(s16, t16)
    assert grad.dtype == torch.float16
    torch.testing.assert_close(loss.double(), ref_loss, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(grad.double(), ref_grad, rtol=2e-3, atol=1e-5)


def test_numpy_in_numpy_out_matches_torch():
    student, teacher, ids, logprobs, labels = make_problem()
    s, t, y = student.numpy(), teacher.numpy(), labels.numpy()
    loss, grad = distill.kd_loss(s, t, labels=y, hard_weight=0.5, temperature=2.0)
    assert isinstance(loss, np.ndarray) and loss.shape == () and loss.dtype == np.float32
    assert isinstance(grad, np.ndarray) and grad.shape == s.shape and grad.dtype == np.float32
    tl, tg = distill.kd_loss(student, teacher, labels=labels, hard_weight=0.5, temperature=2.0)
    assert float(loss) == float(tl)
    np.testing.assert_array_equal(grad, tg.numpy())
    rows, _ = distill.kd_loss(s, teacher_topk_ids=ids.numpy(), teacher_topk_logprobs=logprobs.numpy(),
                              reduction="none", return_grad=False)
    assert rows.shape == (N,)


def test_return_grad_false():
    student, teacher, _, _, _ = make_problem()
    loss, grad = distill.kd_loss(student, teacher, return_grad=False)
    assert grad is None
    assert float(loss) == float(distill.kd_loss(student, teacher)[0])


def test_leading_dimensions_are_rows():
    student, teacher, _, _, labels = make_problem()
    s3, t3, y2 = student.reshape(2, 3, V), teacher.reshape(2, 3, V), labels.reshape(2, 3)
    loss, grad = distill.kd_loss(s3, t3, labels=y2, reduction="none", hard_weight=0.2)
    flat_loss, flat_grad = distill.kd_loss(student, teacher, labels=labels, reduction="none",
                                           hard_weight=0.2)
    assert loss.shape == (2, 3) and grad.shape == (2, 3, V)
    torch.testing.assert_close(loss.reshape(-1), flat_loss, rtol=0, atol=0)
    torch.testing.assert_close(grad.reshape(N, V), flat_grad, rtol=0, atol=0)


def test_buffer_protocol_input():
    import array

    values = array.array("f", np.random.default_rng(0).standard_normal(2 * 8).astype(np.float32).tobytes())
    student = np.frombuffer(values, dtype=np.float32).reshape(2, 8)
    loss, grad = distill.kd_loss(memoryview(values).cast("B").cast("f", (2, 8)), student.copy())
    assert isinstance(loss, np.ndarray)
    assert abs(float(loss)) < 1e-6  # student == teacher


def test_read_only_numpy_input():
    student, teacher, _, _, _ = make_problem()
    s, t = student.numpy().copy(), teacher.numpy().copy()
    s.flags.writeable = False
    t.flags.writeable = False
    loss, _ = distill.kd_loss(s, t)
    assert float(loss) == float(distill.kd_loss(student, teacher)[0])


def test_package_metadata():
    assert distill.__version__ == distill.library_version() == "0.1.0"
    assert distill._distill.library_abi_version() >= distill.ABI_VERSION
    assert distill.kd_loss.__doc__ and "[N, V]" in distill.kd_loss.__doc__
    assert issubclass(distill.InvalidArgumentError, distill.Error)
    assert issubclass(distill.InvalidArgumentError, ValueError)
    for cls in (distill.UnsupportedError, distill.InternalError, distill.OutOfMemoryError,
                distill.CancelledError):
        assert issubclass(cls, distill.Error) and issubclass(cls, RuntimeError)
    import importlib.resources as resources

    files = {p.name for p in resources.files("distill").iterdir()}
    assert {"py.typed", "__init__.pyi", "torch.pyi"} <= files
    assert distill.cuda_device_count() >= 0


def test_import_does_not_import_torch():
    import subprocess

    code = "import sys, distill; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_labels_without_hard_weight_warn_and_only_mask():
    student, teacher, _, _, labels = make_problem()
    with pytest.warns(UserWarning, match="without hard_weight"):
        loss, _ = distill.kd_loss(student, teacher, labels=labels)
    # The labels mask row 1 (ignore_index) and add no cross-entropy.
    masked, _ = distill.kd_loss(student, teacher, labels=labels, hard_weight=0.0)
    assert float(loss) == float(masked)
    assert float(masked) != float(distill.kd_loss(student, teacher)[0])
    assert float(masked) != float(distill.kd_loss(student, teacher, labels=labels, hard_weight=0.5)[0])


def test_no_warning_when_hard_weight_is_said_or_labels_absent():
    import warnings

    from distill.torch import KDLoss

    student, teacher, _, _, labels = make_problem()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        distill.kd_loss(student, teacher, labels=labels, hard_weight=0.0)
        distill.kd_loss(student, teacher)
        KDLoss(hard_weight=0.0)(student, teacher, labels=labels)
    with pytest.warns(UserWarning, match="without hard_weight"):
        KDLoss()(student, teacher, labels=labels)
