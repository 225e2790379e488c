"""Reference values for distill's transformer student (core/lm/), from
transformers' LlamaForCausalLM, the way llm.c checks itself against PyTorch:
for each case below a random fp32 model (eager attention), a batch of tokens
with targets, and what the model gives for them are written to
<out>/<case>.safetensors:

  model.*, lm_head.weight  the weights, with Hugging Face's names (lm_head
                           absent when tied)
  tokens, targets          I32 [B, T]; targets[b, t] = tokens[b, t + 1], or
                           -100 (the last position, and a few masked ones)
  logits                   F32 [B, T, V] of the first forward
  grad.<name>              F32, the gradient of the mean cross-entropy for
                           every parameter
  losses                   F32 [steps], the loss before each of `steps`
                           updates on the same batch: clip_grad_norm_, then
                           torch.optim.AdamW at the project's warmup-cosine
                           rate (core/train/lr_schedule.h's formula)
  __metadata__             {"config": distill's JSON config, "optimizer",
                           "schedule", "max_grad_norm", "steps"}

The loss is checked here against transformers' own (labels=...), so the
shift-by-one convention is the package's. Exits 77 (CTest's skip), leaving
<out>/SKIPPED with the reason, when torch or transformers cannot be imported.

Usage: python make_llama_reference.py OUT_DIR
"""
import json
import math
import os
import sys

if len(sys.argv) != 2:
    raise SystemExit("usage: make_llama_reference.py OUT_DIR")
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
    # CTest reads 77 as "skipped"; the checking test finds SKIPPED and
    # reports itself skipped too (a skipped fixture does not stop it).
    reason = f"transformers is not importable by {sys.executable} ({exc})"
    with open(os.path.join(OUT_DIR, "SKIPPED"), "w") as f:
        f.write(reason + "\n")
    print(f"make_llama_reference: skipped, {reason}")
    sys.exit(77)

# (name, distill config, batch, length, seed). Odd sizes, GQA and MQA, tied
# and untied, and sequences longer than one key tile (64) of the attention.
CASES = [
    ("odd_untied", dict(vocab=97, dim=48, layers=2, heads=3, kv_heads=3, ffn=70, context=24,
                        rms_norm_eps=1e-5, rope_theta=10000.0, tie_embeddings=False), 2, 19, 1),
    ("gqa_tied", dict(vocab=61, dim=64, layers=2, heads=8, kv_heads=2, ffn=96, context=40,
                      rms_norm_eps=1e-6, rope_theta=500000.0, tie_embeddings=True), 3, 40, 2),
    ("mqa_long", dict(vocab=50, dim=32, layers=1, heads=4, kv_heads=1, ffn=40, context=160,
                      rms_norm_eps=1e-5, rope_theta=10000.0, tie_embeddings=False), 1, 150, 3),
    ("gqa_deep", dict(vocab=33, dim=24, layers=3, heads=6, kv_heads=3, ffn=37, context=16,
                      rms_norm_eps=1e-5, rope_theta=10000.0, tie_embeddings=True), 4, 11, 4),
]

OPTIMIZER = {"kind": "adamw", "lr": 3e-3, "betas": [0.9, 0.999], "eps": 1e-8,
             "weight_decay": 0.01}
SCHEDULE = {"kind": "warmup_cosine", "warmup_steps": 3, "total_steps": 10, "min_lr": 1e-4}
MAX_GRAD_NORM = 1.0
STEPS = 10


def learning_rate(step: int) -> float:
    """core/train/lr_schedule.h's warmup_cosine, step 0-based."""
    base, warmup, total, low = (OPTIMIZER["lr"], SCHEDULE["warmup_steps"],
                                SCHEDULE["total_steps"], SCHEDULE["min_lr"])
    if step < warmup:
        return base * (step + 1) / warmup
    if step >= total:
        return low
    return low + (base - low) * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))


def make_case(name, config, batch, length, seed, out_dir):
    torch.manual_seed(seed)
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
    with torch.no_grad():  # norms away from 1, so their weights matter in the check
        for pname, p in model.named_parameters():
            if p.dim() == 1:
                p.copy_(1 + 0.2 * torch.randn_like(p))
    tokens = torch.randint(0, config["vocab"], (batch, length), dtype=torch.int64)
    labels = tokens.clone()
    labels[0, 1:3] = -100  # masked targets (position 0 and 1 of sequence 0)
    targets = torch.full_like(tokens, -100)
    targets[:, :-1] = labels[:, 1:]

    def loss_of(logits):
        return torch.nn.functional.cross_entropy(
            logits.reshape(-1, config["vocab"]), targets.reshape(-1), ignore_index=-100)

    # Weights as they are before training (state_dict holds lm_head even when tied).
    weights = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()
               if not (config["tie_embeddings"] and k == "lm_head.weight")}
    out = model(input_ids=tokens, labels=labels)
    loss = loss_of(out.logits)
    if not torch.allclose(loss, out.loss, rtol=1e-6, atol=0):
        raise SystemExit(f"{name}: own loss {loss.item()} differs from transformers' {out.loss.item()}")
    loss.backward()
    grads = {}
    for pname, p in model.named_parameters():
        grads["grad." + pname] = p.grad.detach().clone().contiguous()
    logits = out.logits.detach().clone().contiguous()

    optimizer = torch.optim.AdamW(model.parameters(), lr=OPTIMIZER["lr"],
                                  betas=tuple(OPTIMIZER["betas"]), eps=OPTIMIZER["eps"],
                                  weight_decay=OPTIMIZER["weight_decay"], foreach=False)
    losses = []
    for step in range(STEPS):
        optimizer.zero_grad()
        step_loss = loss_of(model(input_ids=tokens).logits)
        losses.append(step_loss.item())
        step_loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step)
        optimizer.step()

    tensors = dict(weights)
    tensors.update(grads)
    tensors["tokens"] = tokens.to(torch.int32)
    tensors["targets"] = targets.to(torch.int32)
    tensors["logits"] = logits
    tensors["losses"] = torch.tensor(losses, dtype=torch.float32)
    metadata = {"config": json.dumps(dict(kind="transformer", **config)),
                "optimizer": json.dumps(OPTIMIZER), "schedule": json.dumps(SCHEDULE),
                "max_grad_norm": repr(MAX_GRAD_NORM), "steps": str(STEPS)}
    path = os.path.join(out_dir, name + ".safetensors")
    save_file(tensors, path, metadata=metadata)
    print(f"{name}: loss {losses[0]:.6f} -> {losses[-1]:.6f}, wrote {path}")


def main():
    out_dir = OUT_DIR
    torch.set_num_threads(1)
    for case in CASES:
        make_case(*case, out_dir)
    with open(os.path.join(out_dir, "cases.txt"), "w") as f:
        f.write("\n".join(case[0] for case in CASES) + "\n")


if __name__ == "__main__":
    main()
