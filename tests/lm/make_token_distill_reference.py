"""Reference values for token-level distillation of distill's transformer
student (core/train/token_distillation.h), from transformers'
LlamaForCausalLM and the loss written out here in PyTorch from its
definitions (capi/include/distill/distill.h, section 4), not from distill's
kernels. For each case below a random fp32 student (eager attention), a
token batch whose labels mask a prompt of each sequence and its last
position, and teacher targets (dense logits, or top-k ids with empty slots)
are written to <out>/<case>.safetensors:

  model.*, lm_head.weight  the student's weights, Hugging Face's names
  tokens, labels           I32 [B, T]; labels[b, t] = tokens[b, t + 1], or
                           -100 at prompt positions and the last one
  teacher_logits           F32 [B, T, V] (dense cases)
  topk_ids                 I32 [B, T, K], -1 = an empty slot (top-k cases)
  topk_logprobs            F32 [B, T, K]
  loss, soft, hard         F32 [1]: the loss, the mean divergence and the
                           mean cross-entropy over the positions that count
  grad.<name>              F32, the loss's gradient for every parameter
  __metadata__             {"config": distill's JSON config, "loss": the
                           kd_loss options}

Conventions (distill.h): q = softmax(z / T), p = softmax(t / T) (dense) or,
top-k, p_i ∝ exp(l_i / T) at the ids; RENORMALIZE puts p = 0 elsewhere over
the full vocabulary, BUCKET reduces both sides to the ids and one tail
category, p_tail ∝ (1 − Σ exp(l_i))^(1/T) (0 below 1e-6), q_tail the
student's mass outside the ids. An empty slot's mass is in the tail; a row
with no id contributes 0. JSD(β): β·KL(p‖m) + (1 − β)·KL(q‖m),
m = β·p + (1 − β)·q. TVD: ½ Σ |p − q|. Hard term: cross-entropy of the
un-tempered logits. loss = w_soft · (T² if scale_by_t2) · mean divergence
+ w_hard · mean cross-entropy, means over the rows whose label is not -100.

Exits 77 (CTest's skip), leaving <out>/SKIPPED with the reason, when torch
or transformers cannot be imported.

Usage: python make_token_distill_reference.py OUT_DIR
"""
import json
import os
import sys

if len(sys.argv) != 2:
    raise SystemExit("usage: make_token_distill_reference.py OUT_DIR")
OUT_DIR = sys.argv[1]
os.makedirs(OUT_DIR, exist_ok=True)
for stale in ("cases.txt", "SKIPPED"):
    if os.path.exists(os.path.join(OUT_DIR, stale)):
        os.remove(os.path.join(OUT_DIR, stale))
try:
    import torch
    from safetensors.torch import save_file
    from transformers import LlamaConfig, LlamaForCausalLM
except ImportError as exc:
    reason = f"transformers is not importable by {sys.executable} ({exc})"
    with open(os.path.join(OUT_DIR, "SKIPPED"), "w") as f:
        f.write(reason + "\n")
    print(f"make_token_distill_reference: skipped, {reason}")
    sys.exit(77)

FORWARD_KL, REVERSE_KL, JSD, TVD = 0, 1, 2, 3
RENORMALIZE, BUCKET = 0, 1
TAIL_ROUNDING_FLOOR = 1e-6

UNTIED = dict(vocab=37, dim=24, layers=2, heads=4, kv_heads=2, ffn=40, context=16,
              rms_norm_eps=1e-5, rope_theta=10000.0, tie_embeddings=False)
TIED = dict(UNTIED, tie_embeddings=True, heads=3, kv_heads=1)


def loss_options(divergence, temperature=1.0, beta=0.5, soft_weight=1.0, hard_weight=0.0,
                 scale_by_t2=True, tail=RENORMALIZE):
    return dict(divergence=divergence, beta=beta, temperature=temperature,
                scale_by_t2=scale_by_t2, soft_weight=soft_weight, hard_weight=hard_weight,
                tail=tail)


# (name, config, teacher form "dense" | "topk", K, loss options, seed)
CASES = [
    ("dense_forward_kl_t2_hard", UNTIED, "dense", 0,
     loss_options(FORWARD_KL, temperature=2.0, soft_weight=0.7, hard_weight=0.3), 1),
    ("dense_reverse_kl", UNTIED, "dense", 0, loss_options(REVERSE_KL), 2),
    ("dense_jsd_tied", TIED, "dense", 0, loss_options(JSD, temperature=1.5, beta=0.3), 3),
    ("dense_tvd_no_t2", UNTIED, "dense", 0,
     loss_options(TVD, temperature=0.8, scale_by_t2=False, hard_weight=0.5), 4),
    ("topk_bucket_forward_kl", UNTIED, "topk", 6,
     loss_options(FORWARD_KL, temperature=2.0, hard_weight=0.2, tail=BUCKET), 5),
    ("topk_renormalize_jsd", TIED, "topk", 5, loss_options(JSD, beta=0.5), 6),
    ("topk_bucket_reverse_kl", UNTIED, "topk", 4, loss_options(REVERSE_KL, tail=BUCKET), 7),
    ("topk_bucket_tvd", TIED, "topk", 7, loss_options(TVD, temperature=1.3, tail=BUCKET), 8),
]
BATCH, LENGTH = 3, 11


def xlogy(x, y):
    return torch.special.xlogy(x, y)


def divergence(kind, beta, p, q):
    """Over the last axis of probability vectors p (teacher), q (student)."""
    if kind == JSD and beta == 0.0:
        kind = FORWARD_KL
    if kind == JSD and beta == 1.0:
        kind = REVERSE_KL
    if kind == FORWARD_KL:
        return (xlogy(p, p) - xlogy(p, q)).sum(-1)
    if kind == REVERSE_KL:
        return (xlogy(q, q) - xlogy(q, p)).sum(-1)
    if kind == JSD:
        m = beta * p + (1 - beta) * q
        return beta * (xlogy(p, p) - xlogy(p, m)).sum(-1) + \
            (1 - beta) * (xlogy(q, q) - xlogy(q, m)).sum(-1)
    return 0.5 * (p - q).abs().sum(-1)


def row_divergence(z, teacher, options, form):
    """One row's divergence: z [V] the student's logits (fp64)."""
    T = options["temperature"]
    q = torch.softmax(z / T, -1)
    kind, beta = options["divergence"], options["beta"]
    if form == "dense":
        return divergence(kind, beta, torch.softmax(teacher / T, -1), q)
    ids, logprobs = teacher
    keep = ids >= 0
    ids, logprobs = ids[keep].long(), logprobs[keep]
    if ids.numel() == 0:
        return z.sum() * 0.0
    if options["tail"] == RENORMALIZE:
        p = torch.zeros_like(q)
        p[ids] = torch.softmax(logprobs / T, -1)
        return divergence(kind, beta, p, q)
    tail = 1.0 - torch.exp(logprobs).sum()
    tail = tail if tail >= TAIL_ROUNDING_FLOOR else torch.zeros_like(tail)
    p = torch.cat([torch.exp(logprobs / T), (tail ** (1.0 / T)).reshape(1)])
    p = p / p.sum()
    outside = torch.ones_like(q, dtype=torch.bool)
    outside[ids] = False
    q_reduced = torch.cat([q[ids], q[outside].sum().reshape(1)])
    return divergence(kind, beta, p, q_reduced)


def token_loss(logits, labels, teacher, options, form):
    """logits [N, V] fp64, labels [N]; returns loss, soft, hard."""
    active = (labels != -100).nonzero().flatten().tolist()
    n = len(active)
    soft = sum(row_divergence(logits[r], teacher[r] if form == "dense"
                              else (teacher[0][r], teacher[1][r]), options, form)
               for r in active) / n
    hard = sum(torch.logsumexp(logits[r], -1) - logits[r, labels[r]] for r in active) / n
    T = options["temperature"]
    scale = options["soft_weight"] * (T * T if options["scale_by_t2"] else 1.0)
    return scale * soft + options["hard_weight"] * hard, soft, hard


def make_topk(V, K, generator):
    """Top-k targets of a random teacher distribution (its K most likely
    ids, log-probabilities at T = 1), with empty slots: a few alternatives
    the student "lacks" (their mass joins the tail) and one row with none."""
    N = BATCH * LENGTH
    full = torch.log_softmax(2.5 * torch.randn(N, V, generator=generator, dtype=torch.float64), -1)
    logprobs, ids = full.topk(K, -1)
    ids = ids.to(torch.int32)
    drop = torch.rand(N, K, generator=generator) < 0.25
    drop[:, 0] = False
    drop[7] = True  # a row with no alternative the student knows
    ids[drop] = -1
    return ids, logprobs.float()


def make_case(name, config, form, K, options, seed, out_dir):
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(1000 + seed)
    hf = LlamaConfig(vocab_size=config["vocab"], hidden_size=config["dim"],
                     intermediate_size=config["ffn"], num_hidden_layers=config["layers"],
                     num_attention_heads=config["heads"],
                     num_key_value_heads=config["kv_heads"],
                     max_position_embeddings=config["context"],
                     rms_norm_eps=config["rms_norm_eps"],
                     rope_parameters={"rope_type": "default", "rope_theta": config["rope_theta"]},
                     tie_word_embeddings=config["tie_embeddings"], initializer_range=0.1,
                     attention_bias=False, mlp_bias=False, hidden_act="silu")
    hf._attn_implementation = "eager"
    model = LlamaForCausalLM(hf).float()
    model.config._attn_implementation = "eager"
    with torch.no_grad():
        for _, p in model.named_parameters():
            if p.dim() == 1:
                p.copy_(1 + 0.2 * torch.randn_like(p))
    V = config["vocab"]
    tokens = torch.randint(0, V, (BATCH, LENGTH), generator=generator, dtype=torch.int64)
    labels = torch.full_like(tokens, -100)
    labels[:, :-1] = tokens[:, 1:]
    for b, prompt in enumerate([3, 1, 5]):  # prompt positions: no target
        labels[b, :prompt] = -100
    flat_labels = labels.reshape(-1)
    if form == "dense":
        teacher_logits = 3.0 * torch.randn(BATCH * LENGTH, V, generator=generator)
        teacher = teacher_logits.double()
    else:
        topk_ids, topk_logprobs = make_topk(V, K, generator)
        teacher = (topk_ids, topk_logprobs.double())

    weights = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()
               if not (config["tie_embeddings"] and k == "lm_head.weight")}
    logits = model(input_ids=tokens).logits.reshape(-1, V).double()
    loss, soft, hard = token_loss(logits, flat_labels, teacher, options, form)
    loss.backward()
    tensors = dict(weights)
    for pname, p in model.named_parameters():
        tensors["grad." + pname] = p.grad.detach().clone().contiguous()
    tensors["tokens"] = tokens.to(torch.int32)
    tensors["labels"] = labels.to(torch.int32)
    if form == "dense":
        tensors["teacher_logits"] = teacher_logits.reshape(BATCH, LENGTH, V).contiguous()
    else:
        tensors["topk_ids"] = topk_ids.reshape(BATCH, LENGTH, K).contiguous()
        tensors["topk_logprobs"] = topk_logprobs.reshape(BATCH, LENGTH, K).contiguous()
    for key, value in (("loss", loss), ("soft", soft), ("hard", hard)):
        tensors[key] = value.detach().float().reshape(1)
    metadata = {"config": json.dumps(dict(kind="transformer", **config)),
                "loss": json.dumps(options)}
    path = os.path.join(out_dir, name + ".safetensors")
    save_file(tensors, path, metadata=metadata)
    print(f"{name}: loss {loss.item():.6f} (soft {soft.item():.6f}, hard {hard.item():.6f}), "
          f"wrote {path}")


def main():
    torch.set_num_threads(1)
    for case in CASES:
        make_case(*case, OUT_DIR)
    with open(os.path.join(OUT_DIR, "cases.txt"), "w") as f:
        f.write("\n".join(case[0] for case in CASES) + "\n")


if __name__ == "__main__":
    main()
