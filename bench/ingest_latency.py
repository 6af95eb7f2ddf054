#!/usr/bin/env python3
"""How long a new article takes to reach the feeds: file written -> entry served.

Starts the release binary twice on temp folders, in the same command: once with the
default settle_ms (500) and once with settle_ms=0 as the reference (the pipeline's own
cost: event, read, parse, store, render). For each of N articles it writes the file the
way `cp` does, then polls /feed.atom every 5 ms until the entry's id is served.

    cargo build --release && bench/ingest_latency.py [-n 30]

Prints median, p90 and max per run, and the median difference (the wait the settle rule
adds). Timing claims live here, never in tests.
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "seedfeed")
SAMPLE = os.path.join(ROOT, "seeds", "000_9b018788d1e41f8c.txt")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def run(settle_ms, n):
    work = tempfile.mkdtemp(prefix="seedfeed-bench-")
    seeds, data = os.path.join(work, "seeds"), os.path.join(work, "data")
    os.makedirs(seeds)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEDFEED_")}
    env.update(SEEDFEED_SETTLE_MS=str(settle_ms), SEEDFEED_LOG="warn")
    proc = subprocess.Popen(
        [BINARY, "serve", "--seeds", seeds, "--data", data, "--listen", f"127.0.0.1:{port}"],
        env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                get(base + "/healthz")
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit("the daemon did not start")
                time.sleep(0.02)
        text = open(SAMPLE, encoding="utf-8").read()
        latencies = []
        for i in range(n):
            title = f"Benchmark article {settle_ms}-{i}"
            body = text.replace("Mali: countercoup attempted", title)
            path = os.path.join(seeds, f"bench_{i:04d}.txt")
            start = time.monotonic()
            with open(path, "w", encoding="utf-8") as f:
                f.write(body)
            while title not in get(base + "/feed.atom"):
                if time.monotonic() - start > 30:
                    sys.exit(f"article {i} never appeared")
                time.sleep(0.005)
            latencies.append(time.monotonic() - start)
            time.sleep(0.05)
        return latencies
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def summary(name, xs):
    xs = sorted(xs)
    p90 = xs[min(len(xs) - 1, int(len(xs) * 0.9))]
    print(f"{name:<26} n={len(xs):<3} median={statistics.median(xs) * 1000:7.1f} ms  "
          f"p90={p90 * 1000:7.1f} ms  max={xs[-1] * 1000:7.1f} ms")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=30, help="articles per run (default 30)")
    a = ap.parse_args()
    if not os.access(BINARY, os.X_OK):
        sys.exit("build first: cargo build --release")
    default = run(500, a.n)
    reference = run(0, a.n)
    summary("settle_ms=500 (default)", default)
    summary("settle_ms=0 (reference)", reference)
    print(f"median added by settling: {(statistics.median(default) - statistics.median(reference)) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
