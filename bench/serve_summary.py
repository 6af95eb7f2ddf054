#!/usr/bin/env python3
"""The summary of bench/serve.sh: medians of its rounds, then ratios.

    serve_summary.py RESULTS SECONDS NOTES

RESULTS has one line per wrk run, tab-separated: server, connections, case, req/s, p50
and p99 latency (µs), CPU µs per request, non-2xx/3xx responses. Printed: for each
concurrency, each case's medians per server and the ratios seedfeed/nginx,
seedfeed/baseline, seedfeed/floor and nginx/floor (when those servers ran); then one
table of seedfeed/nginx for every case and concurrency, and, with the floor, one of CPU
per request over the floor's.
"""

import statistics
import sys
from collections import defaultdict

SERVERS = ("seedfeed", "baseline", "nginx", "floor")
# The ratios printed under a case, as (numerator, denominator).
RATIOS = (("seedfeed", "nginx"), ("seedfeed", "baseline"), ("seedfeed", "floor"), ("nginx", "floor"))


def medians(path):
    """{(connections, case, server): [req/s, p50, p99, CPU/req, errors (summed)]}."""
    runs = defaultdict(list)
    for line in open(path):
        server, connections, case, *values = line.rstrip("\n").split("\t")
        runs[(int(connections), case, server)].append([float(v) for v in values])
    return {
        key: [statistics.median(r[i] for r in rows) for i in range(4)] + [sum(r[4] for r in rows)]
        for key, rows in runs.items()
    }


def ratio(a, b):
    return a / b if b else float("nan")


def detail(med, concurrency, cases):
    print(f"\n-c{concurrency}")
    print(f"{'case':<13} {'server':<9} {'req/s':>8} {'p50':>7} {'p99':>7} {'CPU/req':>8} {'non-2xx/3xx':>11}")
    for case in cases:
        for server in SERVERS:
            m = med.get((concurrency, case, server))
            if m:
                print(f"{case:<13} {server:<9} {m[0]:>8.0f} {m[1]:>7.0f} {m[2]:>7.0f} {m[3]:>8.1f} {m[4]:>11.0f}")
        for a, b in RATIOS:
            x, y = med.get((concurrency, case, a)), med.get((concurrency, case, b))
            if x and y:
                r = [ratio(x[i], y[i]) for i in range(4)]
                print(f"{case:<13} {'ratio':<9} {r[0]:>8.2f} {r[1]:>7.2f} {r[2]:>7.2f} {r[3]:>8.2f}   {a}/{b}")


def table(med, concurrencies, cases, title, pairs):
    """One line per case: for each pair (column, numerator, denominator, value index),
    the ratio at each concurrency."""
    rows = []
    for case in cases:
        cells = []
        for _, a, b, i in pairs:
            for c in concurrencies:
                x, y = med.get((c, case, a)), med.get((c, case, b))
                cells.append(f"{ratio(x[i], y[i]):.2f}" if x and y else "-")
        if any(cell != "-" for cell in cells):
            rows.append((case, cells))
    if not rows:
        return
    n = len(concurrencies)
    # Each pair's block: a column of 6 per concurrency, at least as wide as its name.
    widths = [max(len(name), 6 * n) for name, *_ in pairs]
    block = lambda texts, w: "  " + "".join(f"{t:>6}" for t in texts).rjust(w)
    print(f"\n{title}")
    print(f"{'':<13}" + "".join(f"  {name:>{w}}" for (name, *_), w in zip(pairs, widths)))
    print(f"{'case':<13}" + "".join(block([f"c{c}" for c in concurrencies], w) for w in widths))
    for case, cells in rows:
        print(f"{case:<13}" + "".join(block(cells[k * n : (k + 1) * n], w) for k, w in enumerate(widths)))


def main():
    path, seconds, notes = sys.argv[1:4]
    med = medians(path)
    concurrencies = sorted({c for c, _, _ in med})
    cases = sorted({case for _, case, _ in med})
    print(f"wrk -t1 -d{seconds}s, medians of 3 rounds; latency in µs, CPU in µs per request")
    if notes:
        print(notes)
    for c in concurrencies:
        detail(med, c, cases)
    table(med, concurrencies, cases, "seedfeed/nginx, per case and concurrency",
          [("req/s", "seedfeed", "nginx", 0), ("CPU/req", "seedfeed", "nginx", 3)])
    table(med, concurrencies, cases, "CPU per request over the floor's",
          [("seedfeed/floor", "seedfeed", "floor", 3), ("nginx/floor", "nginx", "floor", 3)])


if __name__ == "__main__":
    main()
