#!/usr/bin/env python3
"""`distill query` beside the official openai SDK, against one local server.

distill_bench_teacher_query --serve starts the same cpp-httplib server that
the C++ bench uses (127.0.0.1, a small chat answer with top-5
log-probabilities, answered at once) and keeps it up while this script runs,
at concurrency 1, 16 and 64:
  * `distill query` into a fresh store (a child process: its wall time and
    its CPU time from wait4), and
  * AsyncOpenAI().chat.completions.create with as many requests in flight
    (an asyncio semaphore), in this process (CPU time: process_time).
Both ask the same requests (logprobs, top_logprobs 5) of the same server in
the same run. distill also stores every answer with its provenance in SQLite;
the SDK only parses them, so the comparison favours the SDK.
One JSON line per run on stdout, then one line of ratios per concurrency.

    .venv/bin/python bench/teacher_query_openai.py \
        --bench build/release/bin/distill_bench_teacher_query \
        --distill build/release/bin/distill [--requests 2000]
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time

from openai import AsyncOpenAI

MODEL = "teacher-1"


def run_distill(distill, url, prompts, store, concurrency):
    start = time.perf_counter()
    child = subprocess.Popen(
        [distill, "query", "--teacher", url, "--model", MODEL, "--prompts", prompts,
         "--store", store, "--top-logprobs", "5", "--concurrency", str(concurrency)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"distill query exited with status {status}")
    return seconds, usage.ru_utime + usage.ru_stime


async def run_sdk(url, requests, concurrency):
    # The SDK's own HTTP client and connection pool, as a user gets them.
    client = AsyncOpenAI(base_url=url, api_key="unused-local-key")
    gate = asyncio.Semaphore(concurrency)

    async def ask(i):
        async with gate:
            answer = await client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": f"question {i}"}],
                logprobs=True, top_logprobs=5)
            if not answer.choices[0].logprobs.content:
                raise RuntimeError("an answer without log-probabilities")

    cpu = time.process_time()
    start = time.perf_counter()
    await asyncio.gather(*(ask(i) for i in range(requests)))
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    await client.close()
    return seconds, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", required=True, help="distill_bench_teacher_query")
    parser.add_argument("--distill", required=True, help="the distill command line")
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()

    server = subprocess.Popen([args.bench, "--serve"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    url = server.stdout.readline().strip()
    if not url.startswith("http://"):
        sys.exit(f"the server did not start (said {url!r})")
    try:
        with tempfile.TemporaryDirectory(prefix="distill-bench-openai-") as work:
            prompts = os.path.join(work, "prompts.jsonl")
            with open(prompts, "w") as out:
                for i in range(args.requests):
                    out.write(json.dumps(
                        {"messages": [{"role": "user", "content": f"question {i}"}]}) + "\n")
            for concurrency in (1, 16, 64):
                rows = {}
                store = os.path.join(work, f"run-{concurrency}.db")
                rows["distill_query"] = run_distill(args.distill, url, prompts, store, concurrency)
                rows["openai_sdk"] = asyncio.run(run_sdk(url, args.requests, concurrency))
                for name, (seconds, cpu) in rows.items():
                    print(json.dumps({"bench": name, "concurrency": concurrency,
                                      "requests": args.requests, "seconds": seconds,
                                      "requests_per_second": args.requests / seconds,
                                      "cpu_ms_per_request": 1000 * cpu / args.requests}),
                          flush=True)
                (d_seconds, d_cpu), (s_seconds, s_cpu) = rows["distill_query"], rows["openai_sdk"]
                print(json.dumps({"bench": "distill_vs_openai_sdk", "concurrency": concurrency,
                                  "requests_per_second_ratio": s_seconds / d_seconds,
                                  "cpu_per_request_ratio": s_cpu / d_cpu}), flush=True)
    finally:
        server.stdin.close()
        server.wait()


if __name__ == "__main__":
    main()
