"""distill.torch.KDLoss: autograd, and training that matches PyTorch's own KL."""
import pytest
import torch
import torch.nn.functional as F

import distill
from distill.torch import KDLoss
from kd_reference import reference_kd_loss


def test_backward_gives_the_kernel_gradient():
    g = torch.Generator().manual_seed(0)
    student = torch.randn(5, 40, generator=g, requires_grad=True)
    teacher = torch.randn(5, 40, generator=g)
    labels = torch.tensor([1, 2, -100, 4, 5])
    loss_fn = KDLoss(temperature=2.0, soft_weight=0.5, hard_weight=0.5)
    loss = loss_fn(student, teacher, labels=labels)
    assert loss.shape == () and loss.requires_grad
    loss.backward()
    ref_loss, ref_grad = reference_kd_loss(student, teacher, labels=labels, temperature=2.0,
                                           soft_weight=0.5, hard_weight=0.5)
    torch.testing.assert_close(loss.detach().double(), ref_loss, rtol=2e-5, atol=1e-6)
    torch.testing.assert_close(student.grad.double(), ref_grad, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none"])
def test_grad_output_scales_the_gradient(reduction):
    g = torch.Generator().manual_seed(1)
    student = torch.randn(4, 30, generator=g, requires_grad=True)
    ids = torch.stack([torch.randperm(30, generator=g)[:6] for _ in range(4)])
    logprobs = torch.log_softmax(torch.randn(4, 30, generator=g), -1).gather(-1, ids)
    loss_fn = KDLoss(divergence="jsd", reduction=reduction, tail="bucket")
    loss = loss_fn(student, teacher_topk_ids=ids, teacher_topk_logprobs=logprobs)
    weights = torch.tensor([0.5, -1.0, 2.0, 3.0]) if reduction == "none" else torch.tensor(2.5)
    (loss * weights).sum().backward()
    ref_loss, ref_grad = reference_kd_loss(student, ids=ids, logprobs=logprobs, divergence="jsd",
                                           reduction="none", tail="bucket")
    if reduction == "none":
        expected = ref_grad * weights.double().unsqueeze(-1)
    else:
        expected = ref_grad * 2.5 / (4 if reduction == "batchmean" else 1)
    torch.testing.assert_close(student.grad.double(), expected, rtol=1e-4, atol=1e-7)


def test_bf16_student_and_3d_shapes():
    g = torch.Generator().manual_seed(2)
    student = torch.randn(2, 3, 64, generator=g).bfloat16().requires_grad_(True)
    teacher = torch.randn(2, 3, 64, generator=g).bfloat16()
    loss = KDLoss(divergence="reverse_kl")(student, teacher)
    loss.backward()
    assert student.grad.dtype == torch.bfloat16 and student.grad.shape == student.shape
    _, ref_grad = reference_kd_loss(student.reshape(6, 64), teacher.reshape(6, 64),
                                    divergence="reverse_kl")
    torch.testing.assert_close(student.grad.reshape(6, 64).double(), ref_grad, rtol=2e-2,
                               atol=2e-2 * float(ref_grad.abs().max()))


def test_non_contiguous_student_is_accepted_by_the_module():
    g = torch.Generator().manual_seed(3)
    base = torch.randn(40, 5, generator=g, requires_grad=True)
    teacher = torch.randn(5, 40, generator=g)
    KDLoss()(base.t(), teacher).backward()
    _, ref_grad = reference_kd_loss(base.t(), teacher)
    torch.testing.assert_close(base.grad.t().double(), ref_grad, rtol=1e-4, atol=1e-7)


def test_bad_option_is_refused_at_construction():
    with pytest.raises(distill.InvalidArgumentError, match="divergence"):
        KDLoss(divergence="kl")
    assert "temperature=2.0" in repr(KDLoss(temperature=2))


def make_task(seed=0, n=512, d=16, classes=10):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    w = torch.randn(d, classes, generator=g)
    y = (x @ w + 0.5 * torch.randn(n, classes, generator=g)).argmax(-1)
    return x, y


def train(loss_kind, steps=60, temperature=2.0):
    x, y = make_task()
    torch.manual_seed(0)
    teacher = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    optimizer = torch.optim.Adam(teacher.parameters(), lr=1e-2)
    for _ in range(100):
        optimizer.zero_grad()
        F.cross_entropy(teacher(x), y).backward()
        optimizer.step()
    with torch.no_grad():
        teacher_logits = teacher(x)

    torch.manual_seed(1)
    student = torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.ReLU(), torch.nn.Linear(16, 10))
    optimizer = torch.optim.SGD(student.parameters(), lr=0.5)
    kd = KDLoss(temperature=temperature, soft_weight=0.5, hard_weight=0.5)
    curve = []
    for _ in range(steps):
        optimizer.zero_grad()
        logits = student(x)
        if loss_kind == "distill":
            loss = kd(logits, teacher_logits, labels=y)
        else:
            soft = F.kl_div(F.log_softmax(logits / temperature, -1),
                            F.log_softmax(teacher_logits / temperature, -1),
                            log_target=True, reduction="batchmean") * temperature**2
            loss = 0.5 * soft + 0.5 * F.cross_entropy(logits, y)
        loss.backward()
        optimizer.step()
        curve.append(float(loss.detach()))
    return curve


def test_training_matches_pytorch_kl_curve():
    ours = train("distill")
    theirs = train("torch")
    assert ours[-1] < 0.6 * ours[0]  # it learns
    for a, b in zip(ours, theirs):
        assert abs(a - b) <= 1e-3 * max(1.0, abs(b)), (ours, theirs)
