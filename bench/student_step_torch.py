#!/usr/bin/env python3
"""Side-by-side: a built-in distill student's training step against PyTorch eager, same run.

The same MLP (784-256-10 by default), the same batch, the same step — forward,
0.5·T²·KL(teacher‖student) at T = 2 plus 0.5·cross-entropy, backward, AdamW —
timed in distill (bench/student_step_bench.cpp) and in PyTorch eager on the
CPU with the same thread count, then inference at batch 1 and at the batch.
Prints one JSON line per implementation and one with the ratios. Without
torch it says so and exits 0 (it is a benchmark, not a test).

Usage: python3 bench/student_step_torch.py [--bench build/release/bin/distill_bench_student_step]
                                           [--batch 128] [--hidden 256] [--seconds 2]
                                           [--device cpu|cuda]

--device cuda runs both on GPU 0: distill's trainer takes the batch from
host memory and waits for each step's loss; PyTorch's batch lives on the GPU
and each step ends with torch.cuda.synchronize().
"""
import argparse
import json
import os
import subprocess
import sys
import time

TEMPERATURE = 2.0


def per_run(fn, budget, min_runs):
    fn()
    runs, start = 0, time.perf_counter()
    while runs < min_runs or time.perf_counter() - start < budget:
        fn()
        runs += 1
    return (time.perf_counter() - start) / runs


def torch_figures(torch, batch, hidden, budget, device):
    functional = torch.nn.functional
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, hidden), torch.nn.ReLU(),
                                torch.nn.Linear(hidden, 10)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    x = torch.rand(batch, 784, device=device)
    teacher = torch.rand(batch, 10, device=device) * 8 - 4
    labels = torch.arange(batch, device=device) % 10
    log_p = functional.log_softmax(teacher / TEMPERATURE, dim=-1)
    wait = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def step():
        optimizer.zero_grad(set_to_none=True)
        logits = model(x)
        log_q = functional.log_softmax(logits / TEMPERATURE, dim=-1)
        soft = functional.kl_div(log_q, log_p, log_target=True, reduction="batchmean") * TEMPERATURE**2
        loss = 0.5 * soft + 0.5 * functional.cross_entropy(logits, labels)
        loss.backward()
        optimizer.step()
        wait()

    def infer(rows):
        model(x[:rows])
        wait()

    step_seconds = per_run(step, budget, 10)
    with torch.no_grad():
        infer_batch = per_run(lambda: infer(batch), budget / 2, 10)
        infer_one = per_run(lambda: infer(1), budget / 2, 100)
    return {"bench": "student_step", "impl": "torch-eager", "device": device, "batch": batch,
            "parameters": sum(p.numel() for p in model.parameters()),
            "threads": torch.get_num_threads(), "step_ms": step_seconds * 1e3,
            "train_samples_per_s": batch / step_seconds, "infer_batch_ms": infer_batch * 1e3,
            "infer_samples_per_s": batch / infer_batch, "infer_batch1_ms": infer_one * 1e3}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default="build/release/bin/distill_bench_student_step")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    args = parser.parse_args()

    config = json.dumps({"kind": "mlp", "inputs": 784, "hidden": [args.hidden], "activation": "relu",
                         "dropout": 0.0, "outputs": 10})
    ours = json.loads(subprocess.run(
        [args.bench, "--config", config, "--batch", str(args.batch), "--seconds", str(args.seconds),
         "--device", args.device],
        check=True, capture_output=True, text=True).stdout)
    print(json.dumps(ours))
    try:
        import torch
    except ImportError:
        print(json.dumps({"bench": "student_step", "impl": "torch-eager", "skipped": "torch not installed"}))
        return 0
    torch.set_num_threads(os.cpu_count() or 1)
    theirs = torch_figures(torch, args.batch, args.hidden, args.seconds, args.device)
    print(json.dumps(theirs))
    print(json.dumps({"bench": "student_step", "ratio": "distill / torch-eager",
                      "train_throughput": ours["train_samples_per_s"] / theirs["train_samples_per_s"],
                      "infer_throughput": ours["infer_samples_per_s"] / theirs["infer_samples_per_s"],
                      "infer_batch1_latency": theirs["infer_batch1_ms"] / ours["infer_batch1_ms"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
