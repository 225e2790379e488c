"""torch CUDA tensors, when libdistill has its CUDA backend and a GPU is
present (skipped otherwise, like the C++ GPU tests)."""
import numpy as np
import pytest
import torch

import distill
from distill import _distill
from distill.torch import KDLoss
from kd_reference import reference_kd_loss

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available() or distill.cuda_device_count() == 0,
    reason="needs a GPU and libdistill's CUDA backend")


def problem(dtype=torch.float32, n=8, v=1000, k=16):
    g = torch.Generator().manual_seed(0)
    s = torch.randn(n, v, generator=g).to(dtype)
    t = torch.randn(n, v, generator=g).to(dtype)
    ids = torch.stack([torch.randperm(v, generator=g)[:k] for _ in range(n)])
    lp = torch.log_softmax(t.float(), -1).gather(-1, ids).to(dtype)
    y = torch.randint(0, v, (n,), generator=g)
    y[0] = -100
    return s, t, ids, lp, y


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("tail", [None, "renormalize", "bucket"])
def test_cuda_matches_reference_without_copies(dtype, tail):
    s, t, ids, lp, y = problem(dtype)
    cs, ct, cids, clp, cy = (x.cuda() for x in (s, t, ids, lp, y))
    if tail is None:
        loss, grad = distill.kd_loss(cs, ct, labels=cy, hard_weight=0.5, temperature=2.0)
        ref_loss, ref_grad = reference_kd_loss(s, t, labels=y, hard_weight=0.5, temperature=2.0)
    else:
        loss, grad = distill.kd_loss(cs, teacher_topk_ids=cids, teacher_topk_logprobs=clp,
                                     labels=cy, tail=tail, temperature=2.0)
        ref_loss, ref_grad = reference_kd_loss(s, ids=ids, logprobs=lp, labels=y, tail=tail,
                                               temperature=2.0)
    seen = _distill._last_call_pointers()
    assert seen["student_logits"] == cs.data_ptr() and seen["grad"] == grad.data_ptr()
    assert loss.device == cs.device and grad.device == cs.device and grad.dtype == dtype
    rtol = 2e-2 if dtype == torch.bfloat16 else 1e-4
    torch.testing.assert_close(loss.cpu().double(), ref_loss, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(grad.cpu().double(), ref_grad, rtol=rtol,
                               atol=rtol * float(ref_grad.abs().max()))


def test_cuda_on_a_side_stream_and_kdloss_backward():
    s, t, _, _, _ = problem()
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        cs = s.cuda().requires_grad_(True)
        ct = t.cuda()
        loss = KDLoss(divergence="jsd", temperature=2.0)(cs, ct)
        loss.backward()
    torch.cuda.synchronize()
    ref_loss, ref_grad = reference_kd_loss(s, t, divergence="jsd", temperature=2.0)
    torch.testing.assert_close(loss.detach().cpu().double(), ref_loss, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(cs.grad.cpu().double(), ref_grad, rtol=1e-4,
                               atol=1e-4 * float(ref_grad.abs().max()))


def test_cuda_device_mismatch_names_the_argument():
    s, t, _, _, _ = problem()
    with pytest.raises(ValueError, match="teacher_logits"):
        distill.kd_loss(s.cuda(), t)
    with pytest.raises(ValueError, match="teacher_logits"):
        distill.kd_loss(s, t.cuda())


STUDENT = {"kind": "mlp", "inputs": 20, "hidden": [32, 16], "activation": "gelu",
           "dropout": 0.2, "outputs": 10}


def test_cuda_student_trains_and_predicts_like_the_cpu():
    """A built-in student on device="cuda": batches stay NumPy arrays, the
    forward, loss and backward run on the GPU, and five AdamW steps end
    where the CPU's end."""
    rng = np.random.default_rng(4)
    batches = [(rng.standard_normal((32, 20), dtype=np.float32),
                rng.standard_normal((32, 10), dtype=np.float32) * 3,
                rng.integers(0, 10, 32, dtype=np.int64)) for _ in range(5)]
    models, losses = {}, {}
    for device in ("cpu", "cuda"):
        model = distill.Model(STUDENT, seed=5)
        trainer = distill.Trainer(model, optimizer={"kind": "adamw", "lr": 1e-2}, seed=2,
                                  temperature=2.0, soft_weight=1.0, hard_weight=0.5,
                                  device=device)
        losses[device] = [trainer.step(x, labels=y, teacher_logits=t)["loss"]
                          for x, t, y in batches]
        models[device] = model
    np.testing.assert_allclose(losses["cuda"], losses["cpu"], rtol=1e-5)
    cpu, gpu = models["cpu"].parameters(), models["cuda"].parameters()
    scale = max(float(np.abs(v).max()) for v in cpu.values())
    for name in cpu:
        np.testing.assert_allclose(gpu[name], cpu[name], rtol=0, atol=1e-5 * scale, err_msg=name)
    x = batches[0][0]
    for output in ("logits", "probabilities", "log_probabilities"):
        expected = models["cpu"].predict(x, output)
        np.testing.assert_allclose(models["cpu"].predict(x, output, device="cuda"), expected,
                                   rtol=1e-5, atol=1e-5 * float(np.abs(expected).max()))
    # Evaluation's forward on the GPU gives the CPU's figures.
    data = distill.Dataset(x, batches[0][2])
    data.set_teacher_logits(batches[0][1])
    on_cpu = distill.evaluate(models["cpu"], data)
    on_gpu = distill.evaluate(models["cpu"], data, device="cuda")
    for figure in ("accuracy", "agreement", "mean_kl", "ece", "loss"):
        np.testing.assert_allclose(on_gpu[figure], on_cpu[figure], rtol=1e-5, err_msg=figure)
    # The model as a teacher answering from the GPU: the CPU teacher's answers.
    answers = {}
    for device in ("cpu", "cuda"):
        asked = distill.Dataset(x)
        asked.ask_teacher(distill.ModelTeacher(models["cpu"], device=device), progress=False)
        answers[device] = asked.teacher_topk[1]
    np.testing.assert_allclose(answers["cuda"], answers["cpu"], rtol=1e-5, atol=1e-6)
