"""Load test of the HTTP API on 127.0.0.1: concurrent plans or what-ifs on the bundled park.

Not a test: run it by hand and copy the table into api/README.md.

    python benchmarks/load_api.py                        # starts its own server, 200 requests, 50 at a time
    python benchmarks/load_api.py --requests 500 --concurrency 50
    python benchmarks/load_api.py --mode whatif --requests 50 --concurrency 50
    python benchmarks/load_api.py --url http://127.0.0.1:8000 --key KEY   # a running server

``--mode plan`` (default) sends ``POST /v1/plans``, every request with a different target (0.50
to 0.73), so each one is a real solve, not a stored plan. ``--mode whatif`` sends
``POST /v1/whatifs``, every request with a different target (0.66 to 0.73) and a different
capacity of the sand line R06 (3.0 to 3.5 Mt/yr), so each what-if plan is a real (warm) solve;
the base plan is solved once and then reused. A request that answers 202 is followed to its
job; the latency is the time until the audited plan (and, for a what-if, the comparison) is in
hand. 429 answers are retried after Retry-After and counted. Meanwhile a sampler times
``GET /v1/health`` to show that reads stay fast while solves run. The run is bounded by
``--requests`` and ``--max-seconds``, and only loopback addresses are accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
#: Seconds between polls of a job (the server suggests 1 s; shorter keeps the latency resolution).
POLL_S = 0.2


def percentiles(values: list[float]) -> dict[str, float]:
    """Return p50, p90, p95, p99 and max of ``values`` (seconds)."""
    if not values:
        return {}
    s = sorted(values)

    def pick(q: float) -> float:
        return s[min(len(s) - 1, max(0, round(q * len(s)) - 1))]

    return {"p50": pick(0.50), "p90": pick(0.90), "p95": pick(0.95), "p99": pick(0.99), "max": s[-1], "mean": statistics.fmean(s)}


def start_server(workers: int, queue: int, key: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    """Start ``flowopt serve`` on a free loopback port with a temporary database."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = Path(tempfile.mkdtemp(prefix="flowopt-load-"))
    env = {**os.environ, "FLOWOPT_DATA_DIR": str(data), "FLOWOPT_PORT": str(port), "FLOWOPT_HOST": "127.0.0.1", "FLOWOPT_API_KEYS": key, "FLOWOPT_WORKERS": str(workers), "FLOWOPT_QUEUE_SIZE": str(queue), "FLOWOPT_LOG_LEVEL": "warning", "FLOWOPT_RATE_LIMIT_PER_S": "0"}  # measures solves, not the limit
    script = Path(sys.executable).with_name("flowopt")
    cmd = [str(script), "serve"] if script.exists() else [sys.executable, "-m", "flowopt.cli", "serve"]
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited: {(data / 'server.log').read_text()[-2000:]}")
        try:
            if httpx.get(url + "/v1/ready", timeout=2).status_code == 200:
                return proc, url, data
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop_server(proc, data)
    sys.exit("server not ready after 120 s")


def stop_server(proc: subprocess.Popen[bytes], data: Path) -> None:
    """Stop the server's process group and remove its temporary data."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
    shutil.rmtree(data, ignore_errors=True)


def plan_request(i: int, n: int) -> tuple[str, dict[str, Any]]:
    """The ``i``-th of ``n`` plan requests: a distinct target from 0.50 to 0.73."""
    return "/v1/plans", {"scenario_id": "panzhihua_east_2025", "target": round(0.50 + 0.23 * i / max(1, n - 1), 6)}


def whatif_request(i: int, n: int) -> tuple[str, dict[str, Any]]:
    """The ``i``-th of ``n`` what-ifs: a distinct target (0.66-0.73) and R06 capacity (3.0-3.5 Mt/yr)."""
    x = i / max(1, n - 1)
    change = {"set": "projects.R06.capacity_t", "value": round(3_000_000 + 500_000 * ((i * 7) % n) / max(1, n - 1))}
    return "/v1/whatifs", {"scenario_id": "panzhihua_east_2025", "changes": [change], "target": round(0.66 + 0.07 * x, 6)}


def _accepted(doc: dict[str, Any], mode: str, warm: Counter[str]) -> bool:
    """True when the answer holds an audited plan (and, for a what-if, its comparison)."""
    if mode == "plan":
        return bool(doc["audit"]["passed"])
    warm["warm" if doc["solve"]["warm"] else ("reused" if doc["solve"]["reused"] else "cold")] += 1
    return bool(doc["whatif"]["audit"]["passed"] and doc["comparison"]["kpis"])


async def one_request(client: httpx.AsyncClient, path: str, body: dict[str, Any], mode: str, deadline: float, outcome: Counter[str], warm: Counter[str]) -> float | None:
    """Send one request end to end (following a 202 to its job); return its latency, or None on error."""
    t0 = time.perf_counter()
    while time.monotonic() < deadline:
        r = await client.post(path, json=body)
        if r.status_code == 429:
            outcome["429 (retried)"] += 1
            await asyncio.sleep(float(r.headers.get("retry-after", "1")))
            continue
        if r.status_code == 202:
            outcome["202 then polled"] += 1
            url = r.headers["location"]
            while time.monotonic() < deadline:
                await asyncio.sleep(POLL_S)
                job = (await client.get(url)).json()
                if job["status"] == "succeeded" and _accepted(job["result"], mode, warm):
                    return time.perf_counter() - t0
                if job["status"] == "failed":
                    outcome[f"job failed: {job['error']['code']}"] += 1
                    return None
            break
        if r.status_code in (200, 201) and _accepted(r.json(), mode, warm):
            outcome[str(r.status_code)] += 1
            return time.perf_counter() - t0
        outcome[f"error {r.status_code}"] += 1
        return None
    outcome["out of time"] += 1
    return None


async def run_load(url: str, key: str, requests: int, concurrency: int, max_seconds: float, mode: str = "plan") -> int:
    """Run the load and print the report; return the number of errors."""
    deadline = time.monotonic() + max_seconds
    outcome: Counter[str] = Counter()
    warm: Counter[str] = Counter()
    latencies: list[float] = []
    reads: list[float] = []
    gate = asyncio.Semaphore(concurrency)
    make = whatif_request if mode == "whatif" else plan_request
    calls = [make(i, requests) for i in range(requests)]
    # idle connections are dropped before uvicorn's 5 s keep-alive timeout: reusing one the
    # server is closing at that moment fails a POST with ReadError (httpx's default is also 5 s)
    limits = httpx.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency + 2, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": key}, timeout=120, limits=limits) as client:
        health = (await client.get("/v1/health")).json()
        done = asyncio.Event()

        async def sample_reads() -> None:
            while not done.is_set():
                t0 = time.perf_counter()
                await client.get("/v1/health")
                reads.append(time.perf_counter() - t0)
                await asyncio.sleep(0.05)

        async def bounded(path: str, body: dict[str, Any]) -> None:
            async with gate:
                try:
                    latency = await one_request(client, path, body, mode, deadline, outcome, warm)
                except httpx.HTTPError as exc:
                    outcome[f"transport error {type(exc).__name__}"] += 1
                    return
                if latency is not None:
                    latencies.append(latency)

        sampler = asyncio.create_task(sample_reads())
        t0 = time.perf_counter()
        await asyncio.gather(*(bounded(path, body) for path, body in calls))
        wall = time.perf_counter() - t0
        done.set()
        await sampler
    errors = requests - len(latencies)
    cpu = platform.processor() or platform.machine()
    print(f"Machine: {os.cpu_count()} CPUs, {cpu}, {platform.system()} {platform.release()}, Python {platform.python_version()}, HiGHS {health['solver']['highs_version']}")
    what = "POST /v1/whatifs, distinct targets 0.66-0.73 and R06 capacities 3.0-3.5 Mt/yr" if mode == "whatif" else "POST /v1/plans, distinct targets 0.50-0.73"
    print(f"Server: {health['solver']['workers_configured']} solver processes, queue {health['solver']['queue_capacity']}; load: {requests} {what}, {concurrency} concurrent")
    print(f"Wall time {wall:.1f} s, {len(latencies) / wall:.1f} answers/s, errors: {errors}")
    print("Answers: " + ", ".join(f"{k}: {v}" for k, v in sorted(outcome.items())))
    if warm:
        print("What-if plans: " + ", ".join(f"{k}: {v}" for k, v in sorted(warm.items())))
    print()
    print("| measurement | n | p50 (ms) | p90 (ms) | p95 (ms) | p99 (ms) | max (ms) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    label = "POST /v1/whatifs, request to plan + comparison" if mode == "whatif" else "POST /v1/plans, request to audited plan"
    for name, values in ((label, latencies), ("GET /v1/health during the load", reads)):
        p = percentiles(values)
        if p:
            print(f"| {name} | {len(values)} | {p['p50'] * 1e3:.0f} | {p['p90'] * 1e3:.0f} | {p['p95'] * 1e3:.0f} | {p['p99'] * 1e3:.0f} | {p['max'] * 1e3:.0f} |")
    return errors


def main() -> int:
    """Parse arguments, run the load against a loopback server, return 1 on any error."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server (loopback only); default: start one")
    parser.add_argument("--key", default=None, help="API key for --url")
    parser.add_argument("--mode", choices=("plan", "whatif"), default="plan", help="POST /v1/plans (default) or POST /v1/whatifs")
    parser.add_argument("--requests", type=int, default=200, help="number of requests (default 200, at most 5000)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight (default 50)")
    parser.add_argument("--max-seconds", type=float, default=300, help="stop after this many seconds (default 300)")
    parser.add_argument("--workers", type=int, default=2, help="solver processes of the started server (default 2)")
    args = parser.parse_args()
    if not 1 <= args.requests <= 5000 or not 1 <= args.concurrency <= 500:
        parser.error("--requests must be 1..5000 and --concurrency 1..500")
    proc = data = None
    key = args.key or secrets.token_urlsafe(24)
    url = args.url
    if url is None:
        proc, url, data = start_server(args.workers, max(64, args.concurrency), key)
    elif httpx.URL(url).host not in LOOPBACK:
        parser.error("--url must point at 127.0.0.1 / localhost: this script sends bursts of solves")
    try:
        errors = asyncio.run(run_load(url, key, args.requests, args.concurrency, args.max_seconds, args.mode))
    finally:
        if proc is not None and data is not None:
            stop_server(proc, data)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
