#!/usr/bin/env python3
"""Side-by-side: distill's transformer student against PyTorch eager on the CPU, same run.

The same Llama model (transformers' LlamaForCausalLM, fp32, eager attention;
tests/lm/make_llama_reference.py maps distill's config onto it the same way),
the same tokens and next-token targets (-100 at each sequence's last
position), the same thread count, the same step: forward, mean cross-entropy,
backward, clip_grad_norm_(1.0), AdamW(lr 1e-4, weight decay 0.01). The
forward alone is timed too (PyTorch under no_grad; distill's forward always
keeps what a backward needs).

Each side is its own process (bench/transformer_step_bench.cpp --serve, and
this script with --torch-serve), built once; the driver then asks them for
one step at a time, in turns (ABBA order), so that neighbouring steps of the
two see the same load on a shared machine. Printed per size: one line per
implementation (median and quickest ms, tokens/s, peak memory) and a ratio
line, distill / torch-eager:
  train_throughput          median torch step ms / median distill step ms
  train_pairs               [min, median, max] of the same ratio per turn
  forward_throughput        the same for the forward alone
  peak_rss                  distill's VmHWM after the steps / torch's
  peak_rss_over_start       the same, less each process's VmRSS before its
                            model was made (the libraries: torch's ~700 MB)

Usage: python3 bench/transformer_step_torch.py
           [--bench build/release/bin/distill_bench_transformer_step]
           [--size big|small|both] [--threads 2] [--steps 8]

Sizes: big   vocab 8192, dim 256, 4 layers, 8 heads (4 key/value), ffn 704,
             context 256, batch 8
       small vocab 2048, dim 128, 2 layers, 4 heads (2 key/value), ffn 352,
             context 128, batch 8
Without torch or transformers it says so and exits 0 (a benchmark, not a test).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

SIZES = {
    "big": (dict(kind="transformer", vocab=8192, dim=256, layers=4, heads=8, kv_heads=4, ffn=704,
                 context=256, rms_norm_eps=1e-5, rope_theta=10000.0, tie_embeddings=False), 8),
    "small": (dict(kind="transformer", vocab=2048, dim=128, layers=2, heads=4, kv_heads=2, ffn=352,
                   context=128, rms_norm_eps=1e-5, rope_theta=10000.0, tie_embeddings=False), 8),
}


def status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def torch_serve(config, batch, threads):
    """The PyTorch side, in its own process: the --serve protocol of the C++ bench."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.set_num_threads(threads)
    start_rss = status_kb("VmRSS")  # the libraries loaded, no model yet
    torch.manual_seed(0)
    hf = LlamaConfig(vocab_size=config["vocab"], hidden_size=config["dim"],
                     num_hidden_layers=config["layers"], num_attention_heads=config["heads"],
                     num_key_value_heads=config["kv_heads"], intermediate_size=config["ffn"],
                     max_position_embeddings=config["context"], rms_norm_eps=config["rms_norm_eps"],
                     rope_parameters={"rope_type": "default", "rope_theta": config["rope_theta"]},
                     tie_word_embeddings=config["tie_embeddings"], hidden_act="silu",
                     attention_bias=False, mlp_bias=False, attention_dropout=0.0,
                     initializer_range=0.02, use_cache=False)
    hf._attn_implementation = "eager"
    model = LlamaForCausalLM(hf).float()
    model.config._attn_implementation = "eager"
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    V, T = config["vocab"], config["context"]
    N = batch * T
    tokens = torch.tensor([(n * 7919 + 13) % V for n in range(N)], dtype=torch.long).view(batch, T)
    targets = torch.full_like(tokens, -100)
    targets[:, :-1] = tokens[:, 1:]

    def step():
        optimizer.zero_grad(set_to_none=True)
        logits = model(input_ids=tokens, use_cache=False).logits
        loss = torch.nn.functional.cross_entropy(logits.view(N, V), targets.view(N),
                                                 ignore_index=-100)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    def forward():
        with torch.no_grad():
            model(input_ids=tokens, use_cache=False)

    print("ready", flush=True)
    for line in sys.stdin:
        start = time.perf_counter()
        if line == "step\n":
            step()
        elif line == "forward\n":
            forward()
        elif line == "memory\n":
            print(json.dumps({"peak_rss_kb": status_kb("VmHWM"), "start_rss_kb": start_rss,
                              "torch": torch.__version__, "threads": torch.get_num_threads()}),
                  flush=True)
            continue
        else:
            raise SystemExit(f"--torch-serve: expected step, forward or memory, got {line!r}")
        print(f"{(time.perf_counter() - start) * 1e3:.3f}", flush=True)
    return 0


class Server:
    def __init__(self, command):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        if self.process.stdout.readline().strip() != "ready":
            raise SystemExit(f"{command[0]}: did not start")

    def ask(self, what):
        self.process.stdin.write(what + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise SystemExit(f"a server ended on {what!r} (exit {self.process.wait()})")
        return json.loads(answer)

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def paired(ours, theirs, what, turns):
    """Per turn one call on each side, alternating which goes first; one warm-up each."""
    ours.ask(what)
    theirs.ask(what)
    times = ([], [])
    for turn in range(turns):
        order = (0, 1) if turn % 2 == 0 else (1, 0)
        for side in order:
            times[side].append((ours, theirs)[side].ask(what))
    return times


def compare(size, bench, threads, turns):
    config, batch = SIZES[size]
    tokens = batch * config["context"]
    ours = Server([bench, "--serve", "--config", json.dumps(config), "--batch", str(batch),
                   "--threads", str(threads)])
    theirs = Server([sys.executable, os.path.abspath(__file__), "--threads", str(threads),
                     "--torch-serve", json.dumps({"config": config, "batch": batch})])
    steps = paired(ours, theirs, "step", turns)
    memory = (ours.ask("memory"), theirs.ask("memory"))
    forwards = paired(ours, theirs, "forward", turns)
    ours.close()
    theirs.close()
    rows = []
    for side, name in ((0, "distill"), (1, "torch-eager")):
        step_ms, forward_ms = statistics.median(steps[side]), statistics.median(forwards[side])
        row = {"bench": "transformer_step", "size": size, "impl": name, "config": config,
               "batch": batch, "threads": threads, "turns": turns, "step_ms": step_ms,
               "step_min_ms": min(steps[side]), "train_tokens_per_s": tokens / step_ms * 1e3,
               "forward_ms": forward_ms, "forward_min_ms": min(forwards[side]),
               "forward_tokens_per_s": tokens / forward_ms * 1e3, **memory[side]}
        if side == 1:
            row["peer"] = "transformers.LlamaForCausalLM, eager attention, fp32"
        rows.append(row)
        print(json.dumps(row), flush=True)
    pair = lambda t: sorted(b / a for a, b in zip(*t))
    train_pairs, forward_pairs = pair(steps), pair(forwards)
    grown = lambda m: m["peak_rss_kb"] - m["start_rss_kb"]
    print(json.dumps({
        "bench": "transformer_step", "size": size, "ratio": "distill / torch-eager",
        "train_throughput": rows[1]["step_ms"] / rows[0]["step_ms"],
        "train_pairs": [train_pairs[0], statistics.median(train_pairs), train_pairs[-1]],
        "forward_throughput": rows[1]["forward_ms"] / rows[0]["forward_ms"],
        "forward_pairs": [forward_pairs[0], statistics.median(forward_pairs), forward_pairs[-1]],
        "peak_rss": memory[0]["peak_rss_kb"] / memory[1]["peak_rss_kb"],
        "peak_rss_over_start": grown(memory[0]) / grown(memory[1])}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default="build/release/bin/distill_bench_transformer_step")
    parser.add_argument("--size", choices=("big", "small", "both"), default="both")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=8, help="turns of one step on each side")
    parser.add_argument("--torch-serve", help=argparse.SUPPRESS)  # JSON: config, batch
    args = parser.parse_args()

    if args.torch_serve:
        job = json.loads(args.torch_serve)
        return torch_serve(job["config"], job["batch"], args.threads)
    try:
        import torch  # noqa: F401  (only whether it is there; the server uses it)
        import transformers  # noqa: F401
    except ImportError as exc:
        print(json.dumps({"bench": "transformer_step", "impl": "torch-eager",
                          "skipped": f"torch or transformers not importable ({exc})"}))
        return 0
    for size in (("big", "small") if args.size == "both" else (args.size,)):
        compare(size, args.bench, args.threads, args.steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
