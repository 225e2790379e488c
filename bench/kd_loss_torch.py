#!/usr/bin/env python3
"""Side-by-side: distill's fused kd_loss against PyTorch eager, same run.

Runs distill_bench_kd_loss for the CPU shapes, then the same computation in
PyTorch eager (log_softmax + kl_div + backward, or the top-k gather form)
on the same machine, and prints one JSON line per case with both medians
and the ratio. Without torch it says so and exits 0 (it is a benchmark).

Usage: python3 bench/kd_loss_torch.py [--bench build/release/bin/distill_bench_kd_loss]
                                      [--shapes 512x32000,1024x128256] [--repeats 7]
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

TEMPERATURE = 2.0
TOPK = 20


def torch_dense_step(torch, student, teacher):
    functional = torch.nn.functional
    s = student.detach().requires_grad_(True)
    log_q = functional.log_softmax(s.float() / TEMPERATURE, dim=-1)
    log_p = functional.log_softmax(teacher.float() / TEMPERATURE, dim=-1)
    loss = functional.kl_div(log_q, log_p, log_target=True, reduction="batchmean")
    (loss * TEMPERATURE**2).backward()
    return s.grad


def torch_topk_step(torch, student, ids, logprobs):
    functional = torch.nn.functional
    s = student.detach().requires_grad_(True)
    log_q = functional.log_softmax(s.float() / TEMPERATURE, dim=-1).gather(-1, ids)
    log_p = functional.log_softmax(logprobs / TEMPERATURE, dim=-1)  # renormalised top-k
    loss = (log_p.exp() * (log_p - log_q)).sum() / student.shape[0]
    (loss * TEMPERATURE**2).backward()
    return s.grad


def median_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default="build/release/bin/distill_bench_kd_loss")
    parser.add_argument("--shapes", default="512x32000,1024x128256")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    try:
        import torch
    except ImportError:
        print("torch is not importable: PyTorch comparison skipped", file=sys.stderr)
        return 0

    run = subprocess.run(
        [args.bench, "--shapes", args.shapes, "--repeats", str(args.repeats), "--no-reference"],
        check=True, capture_output=True, text=True)
    ours = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", file=sys.stderr)
    generator = torch.Generator().manual_seed(42)
    for case in ours:
        if case["device"] != "cpu":
            continue
        rows, vocab = case["N"], case["V"]
        dtype = torch.bfloat16 if case["dtype"] == "bf16" else torch.float32
        student = (torch.randn(rows, vocab, generator=generator) * 3).to(dtype)
        teacher = (torch.randn(rows, vocab, generator=generator) * 3).to(dtype)
        if case["op"] == "kd_loss_dense":
            torch_ms = median_ms(lambda: torch_dense_step(torch, student, teacher), args.repeats)
        else:
            top = torch.log_softmax(teacher.float(), dim=-1).topk(TOPK, dim=-1)
            torch_ms = median_ms(
                lambda: torch_topk_step(torch, student, top.indices, top.values), args.repeats)
        print(json.dumps({
            "op": case["op"], "divergence": case["divergence"], "N": rows, "V": vocab,
            "K": case["K"], "dtype": case["dtype"], "device": "cpu",
            "distill_ms": case["median_ms"], "torch_eager_ms": round(torch_ms, 3),
            "speedup_vs_torch": round(torch_ms / case["median_ms"], 2),
        }))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
