#!/usr/bin/env python3
"""distill.kd_loss from Python against PyTorch eager, side by side, same run.

Per-call time at small shapes (1x32000, 8x32000), where the Python-side
overhead shows, and throughput at 512x32000: forward KL at T = 2 with the
gradient, fp32. For each shape it prints one JSON line with the medians (ms)
of

  distill_numpy   distill.kd_loss on NumPy arrays (outputs allocated too)
  distill_torch   distill.kd_loss on torch CPU tensors
  native_floor    the extension's call alone with prepared DLPack capsules
                  and outputs (what is left when the Python layer is gone)
  torch_eager     log_softmax + kl_div + backward in PyTorch eager

plus python_overhead_us (distill_numpy - native_floor) and the speedups of
distill over torch eager. Without torch the torch columns are null.

Usage: python3 bench/kd_loss_python.py [--shapes 1x32000,8x32000,512x32000]
                                        [--repeats N] [--min-seconds S]
"""
import argparse
import json
import os
import statistics
import time

import numpy as np

import distill
from distill import _distill

TEMPERATURE = 2.0


def median_ms(fn, repeats, min_seconds):
    fn()
    fn()
    times = []
    start_all = time.perf_counter()
    while len(times) < repeats or time.perf_counter() - start_all < min_seconds:
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
        if len(times) >= 100 * repeats:
            break
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="1x32000,8x32000,512x32000")
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--min-seconds", type=float, default=1.0)
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None

    for shape in args.shapes.split(","):
        n, v = (int(x) for x in shape.split("x"))
        rng = np.random.default_rng(0)
        student = rng.standard_normal((n, v), dtype=np.float32)
        teacher = rng.standard_normal((n, v), dtype=np.float32)

        def run_numpy():
            return distill.kd_loss(student, teacher, temperature=TEMPERATURE)

        loss_out = np.empty((), np.float32)
        grad_out = np.empty((n, v), np.float32)
        capsules = [a.__dlpack__() for a in (student, teacher, loss_out, grad_out)]

        def run_native():
            s, t, l, g = capsules
            _distill.kd_loss(s, t, None, None, None, l, g, 0, 0.5, TEMPERATURE, True, 1.0, 0.0,
                             -100, 0, 0, 0, 0, 0)

        row = {
            "bench": "kd_loss_python",
            "shape": [n, v],
            "dtype": "float32",
            "divergence": "forward_kl",
            "temperature": TEMPERATURE,
            "with_grad": True,
            "cpus": os.cpu_count(),
            "distill_numpy_ms": median_ms(run_numpy, args.repeats, args.min_seconds),
            "native_floor_ms": median_ms(run_native, args.repeats, args.min_seconds),
        }
        row["python_overhead_us"] = (row["distill_numpy_ms"] - row["native_floor_ms"]) * 1e3
        if torch is not None:
            ts, tt = torch.from_numpy(student), torch.from_numpy(teacher)
            functional = torch.nn.functional

            def run_distill_torch():
                return distill.kd_loss(ts, tt, temperature=TEMPERATURE)

            def run_eager():
                s = ts.detach().requires_grad_(True)
                log_q = functional.log_softmax(s / TEMPERATURE, dim=-1)
                log_p = functional.log_softmax(tt / TEMPERATURE, dim=-1)
                loss = functional.kl_div(log_q, log_p, log_target=True, reduction="batchmean")
                (loss * TEMPERATURE**2).backward()
                return loss.detach(), s.grad

            # Same numbers before timing them.
            ours, ours_grad = run_numpy()
            ref, ref_grad = run_eager()
            assert abs(float(ours) - float(ref) * TEMPERATURE**2) <= 1e-3 * abs(float(ref)) * 4 + 1e-5
            assert np.allclose(ours_grad, ref_grad.numpy(), rtol=1e-3, atol=1e-7)
            row["distill_torch_ms"] = median_ms(run_distill_torch, args.repeats, args.min_seconds)
            row["torch_eager_ms"] = median_ms(run_eager, args.repeats, args.min_seconds)
            row["torch_threads"] = torch.get_num_threads()
            row["speedup_numpy_vs_torch_eager"] = row["torch_eager_ms"] / row["distill_numpy_ms"]
            row["speedup_torch_vs_torch_eager"] = row["torch_eager_ms"] / row["distill_torch_ms"]
        else:
            row.update(distill_torch_ms=None, torch_eager_ms=None)
        row["distill_numpy_rows_per_s"] = n / (row["distill_numpy_ms"] / 1e3)
        # Bytes moved by the fused kernel: read student and teacher, write the gradient.
        row["distill_numpy_gb_per_s"] = 3 * n * v * 4 / (row["distill_numpy_ms"] / 1e3) / 1e9
        print(json.dumps({k: (round(x, 4) if isinstance(x, float) else x) for k, x in row.items()}),
              flush=True)


if __name__ == "__main__":
    main()
