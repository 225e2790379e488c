#!/usr/bin/env python3
"""`distill query` beside the official openai SDK, against one local server.

The server (--server, nginx by default) answers every POST at once with the
same small chat answer with top-5 log-probabilities:
  * nginx (Debian's nginx-light, /usr/sbin/nginx), started by this script on
    127.0.0.1 as a child process (daemon off, one worker, its config, pid,
    logs and temp files in a temp dir: no root needed). It costs a few
    microseconds of CPU per request, so the clients are what is measured;
    its own CPU per request is reported beside theirs.
  * httplib: distill_bench_teacher_query --serve (--bench), the cpp-httplib
    server of the C++ bench. On a small machine it shares the cores with the
    client and caps both (what the first figures measured).
At concurrency 1, 16 and 64, both clients ask the same requests (logprobs,
top_logprobs 5) of the same server in the same run:
  * `distill query` into a fresh store (a child process: its wall time and
    its CPU time from wait4), and
  * AsyncOpenAI().chat.completions.create with as many requests in flight
    (an asyncio semaphore), in this process (CPU time: process_time).
distill also stores every answer with its provenance in SQLite; the SDK only
parses them, so the comparison favours the SDK. One JSON line per run on
stdout (requests/s, the client's and the server's CPU ms per request), then
one line of ratios per concurrency.

    .venv/bin/python bench/teacher_query_openai.py \
        --distill build/release/bin/distill [--requests 2000] \
        [--server nginx [--nginx /usr/sbin/nginx] |
         --server httplib --bench build/release/bin/distill_bench_teacher_query]
"""

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

from openai import AsyncOpenAI

MODEL = "teacher-1"

# The answer both servers give (the C++ bench's, byte for byte in content):
# one position, its top-5 alternatives, usage counts.
ANSWER = json.dumps({
    "id": "c", "model": MODEL,
    "choices": [{"message": {"content": "t0"}, "logprobs": {"content": [
        {"token": "t0", "logprob": -0.1,
         "top_logprobs": [{"token": f"t{i}", "logprob": -0.5 * i} for i in range(5)]}]}}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 1}}, separators=(",", ":"))

NGINX_CONFIG = """\
daemon off;
master_process off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    server {{
        listen 127.0.0.1:{port} reuseport;
        default_type application/json;
        location / {{ return 200 '{answer}'; }}
    }}
}}
"""


def cpu_seconds_of(pid):
    # CPU time of a live process's threads (nginx: one; the httplib server:
    # its pool, which lives as long as it does), from each thread's
    # /proc/PID/task/TID/schedstat (first field, nanoseconds): /proc/PID/stat's
    # clock ticks (10 ms) are too coarse for microseconds a request.
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as stat:
                total += int(stat.read().split()[0])
        except FileNotFoundError:  # a thread that ended meanwhile
            pass
    return total / 1e9


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_nginx(nginx, work):
    # One process (master_process off: it is its own worker) so that its
    # CPU time is one /proc read; the answer goes inside single quotes, and
    # the JSON has none.
    port = free_port()
    config = os.path.join(work, "nginx.conf")
    with open(config, "w") as out:
        out.write(NGINX_CONFIG.format(work=work, port=port, answer=ANSWER))
    server = subprocess.Popen([nginx, "-p", work, "-c", config, "-e", os.path.join(work, "error.log")],
                              stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        if server.poll() is not None:
            with open(os.path.join(work, "error.log")) as log:
                sys.exit(f"nginx exited with status {server.returncode}: {log.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                sys.exit("nginx did not listen within 10 s")
            time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}/v1"


def start_httplib(bench):
    server = subprocess.Popen([bench, "--serve"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    url = server.stdout.readline().strip()
    if not url.startswith("http://"):
        sys.exit(f"the server did not start (said {url!r})")
    return server, url


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
    parser.add_argument("--distill", required=True, help="the distill command line")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--server", choices=("nginx", "httplib"), default="nginx",
                        help="what answers: nginx (default) or the C++ bench's cpp-httplib server")
    parser.add_argument("--nginx", default="/usr/sbin/nginx", help="the nginx binary")
    parser.add_argument("--bench", help="distill_bench_teacher_query (for --server httplib)")
    args = parser.parse_args()
    if args.requests <= 0:
        parser.error(f"--requests: expected a positive count, got {args.requests}")
    if args.server == "httplib" and not args.bench:
        parser.error("--server httplib needs --bench (distill_bench_teacher_query)")

    with tempfile.TemporaryDirectory(prefix="distill-bench-openai-") as work:
        if args.server == "nginx":
            server, url = start_nginx(args.nginx, work)
        else:
            server, url = start_httplib(args.bench)
        try:
            prompts = os.path.join(work, "prompts.jsonl")
            with open(prompts, "w") as out:
                for i in range(args.requests):
                    out.write(json.dumps(
                        {"messages": [{"role": "user", "content": f"question {i}"}]}) + "\n")
            for concurrency in (1, 16, 64):
                rows = {}
                store = os.path.join(work, f"run-{concurrency}.db")
                for name in ("distill_query", "openai_sdk"):
                    server_cpu = cpu_seconds_of(server.pid)
                    if name == "distill_query":
                        seconds, cpu = run_distill(args.distill, url, prompts, store, concurrency)
                    else:
                        seconds, cpu = asyncio.run(run_sdk(url, args.requests, concurrency))
                    server_cpu = cpu_seconds_of(server.pid) - server_cpu
                    rows[name] = (seconds, cpu)
                    print(json.dumps({"bench": name, "server": args.server,
                                      "concurrency": concurrency, "requests": args.requests,
                                      "seconds": seconds,
                                      "requests_per_second": args.requests / seconds,
                                      "cpu_ms_per_request": 1000 * cpu / args.requests,
                                      "server_cpu_ms_per_request":
                                          1000 * server_cpu / args.requests}),
                          flush=True)
                (d_seconds, d_cpu), (s_seconds, s_cpu) = rows["distill_query"], rows["openai_sdk"]
                print(json.dumps({"bench": "distill_vs_openai_sdk", "server": args.server,
                                  "concurrency": concurrency,
                                  "requests_per_second_ratio": s_seconds / d_seconds,
                                  "cpu_per_request_ratio": s_cpu / d_cpu}), flush=True)
        finally:
            if args.server == "nginx":
                server.terminate()
            else:
                server.stdin.close()
            server.wait()


if __name__ == "__main__":
    main()
