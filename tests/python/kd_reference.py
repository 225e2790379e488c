"""An independent PyTorch formulation of distill's loss family (distill.h),
in float64 with autograd for the gradient. Written from the definitions, not
from the library: the tests compare distill.kd_loss against it."""
import torch

TAIL_EPSILON = 1e-6


def _divergence(p, log_p, q, log_q, divergence, beta):
    """Row divergences of [N, C] distributions; p is a constant (teacher)."""
    positive_p = p > 0
    positive_q = q > 0

    def kl_q_m(log_m):  # Σ q (log q − log m) with 0·log 0 = 0
        return torch.where(positive_q, q * (log_q - log_m), 0).sum(-1)

    def kl_p_m(log_m):  # Σ p (log p − log m) with 0·log 0 = 0
        return torch.where(positive_p, p * (log_p.masked_fill(~positive_p, 0) - log_m), 0).sum(-1)

    if divergence == "forward_kl":
        return kl_p_m(log_q)
    if divergence == "reverse_kl":
        return kl_q_m(log_p)
    if divergence == "jsd":
        if beta == 0.0:
            return kl_p_m(log_q)
        if beta == 1.0:
            return kl_q_m(log_p)
        m = beta * p + (1 - beta) * q
        log_m = torch.log(m.clamp_min(1e-300))
        return beta * kl_p_m(log_m) + (1 - beta) * kl_q_m(log_m)
    if divergence == "tvd":
        return 0.5 * (p - q).abs().sum(-1)
    raise ValueError(divergence)


def reference_kd_loss(student, teacher=None, *, ids=None, logprobs=None, labels=None,
                      divergence="forward_kl", beta=0.5, temperature=1.0, scale_by_t2=True,
                      soft_weight=1.0, hard_weight=0.0, ignore_index=-100, reduction="batchmean",
                      tail="renormalize"):
    """(loss, grad) as float64 CPU tensors."""
    z = student.detach().to(torch.float64).cpu().requires_grad_(True)
    T = float(temperature)
    log_q_full = torch.log_softmax(z / T, dim=-1)
    q_full = log_q_full.exp()
    if teacher is not None:
        t = teacher.detach().to(torch.float64).cpu()
        log_p = torch.log_softmax(t / T, dim=-1)
        p = log_p.exp()
        soft = _divergence(p, log_p, q_full, log_q_full, divergence, beta)
    else:
        ids = ids.cpu().long()
        lp = logprobs.detach().to(torch.float64).cpu()
        if tail == "renormalize":
            log_p_k = torch.log_softmax(lp / T, dim=-1)
            log_p = torch.full_like(log_q_full, float("-inf")).scatter(-1, ids, log_p_k)
            p = log_p.exp()
            soft = _divergence(p, log_p, q_full, log_q_full, divergence, beta)
        else:
            tail_mass = 1.0 - lp.exp().sum(-1, keepdim=True)
            tail_mass = torch.where(tail_mass < TAIL_EPSILON, torch.zeros_like(tail_mass), tail_mass)
            unnormalised = torch.cat([(lp / T).exp(), tail_mass ** (1.0 / T)], dim=-1)
            p = unnormalised / unnormalised.sum(-1, keepdim=True)
            log_p = torch.log(p)
            outside = torch.ones_like(q_full, dtype=torch.bool).scatter(-1, ids, False)
            q_rest = torch.where(outside, q_full, 0).sum(-1, keepdim=True)
            q = torch.cat([q_full.gather(-1, ids), q_rest], dim=-1)
            log_q = torch.cat([log_q_full.gather(-1, ids), torch.log(q_rest.clamp_min(1e-300))], dim=-1)
            soft = _divergence(p, log_p, q, log_q, divergence, beta)
    rows = soft_weight * (T * T if scale_by_t2 else 1.0) * soft
    n = z.shape[0]
    kept = torch.ones(n, dtype=torch.bool)
    if labels is not None:
        y = labels.cpu().long()
        kept = y != ignore_index
        if hard_weight != 0.0:
            log_softmax = torch.log_softmax(z, dim=-1)
            safe = torch.where(kept, y, 0)
            hard = -log_softmax.gather(-1, safe.unsqueeze(-1)).squeeze(-1)
            rows = rows + hard_weight * hard
        rows = torch.where(kept, rows, 0)
    if reduction == "none":
        loss = rows
        total = rows.sum()
    elif reduction == "sum":
        loss = total = rows.sum()
    else:
        count = int(kept.sum())
        loss = total = rows.sum() / count if count > 0 else rows.sum() * 0
    total.backward()
    return loss.detach(), z.grad.detach()
