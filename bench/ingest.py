#!/usr/bin/env python3
"""The daemon's ingest, measured on a generated corpus (run through bench/ingest.sh).

Four phases, in one command, on one corpus of N articles:

1. cold ingest: `seedfeed serve` on the corpus with an empty data folder, until /status
   counts N entries (they are then stored and in the feeds); articles per second, and
   peak RSS (VmHWM) of the daemon over the phase.
2. drop to served: with the N entries stored (and the archive pages frozen), D new
   articles written one at a time into a subfolder of the seeds folder (open, write,
   close, as `cp` does); for each, the time from close() to /feed.atom holding it,
   polled every millisecond with If-None-Match on one keep-alive connection; median and
   p99. The subfolder is removed afterwards, and its entries leave the feeds.
3. start-up: the daemon stopped (SIGTERM) and started again on the same data and seeds
   (N unchanged files): exec to the first 200 of /feed.atom, and exec to the end of the
   first reconcile scan (its log line).
4. reference: Hugo building a 50-item full-content RSS feed from the same articles
   converted to Markdown (conversion not timed), in the same run; its wall time, articles
   per second and peak RSS (`/usr/bin/time -v`). Skipped when `hugo` is not installed.

Prints a Markdown table. Timing claims live here, never in tests.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "seedfeed")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kib(pid, field):
    """A VmRSS/VmHWM line of /proc/PID/status, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Daemon:
    def __init__(self, seeds, data, log_path):
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEEDFEED_")}
        env["SEEDFEED_LOG"] = "info"
        self.log_path = log_path
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [BINARY, "serve", "--seeds", seeds, "--data", data,
             "--listen", f"127.0.0.1:{self.port}"],
            env=env, stdout=subprocess.DEVNULL, stderr=open(log_path, "a"))
        self.conn = None

    def request(self, path, headers=None):
        """GET on a keep-alive connection: (status, etag, body); None if not up yet."""
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request("GET", path, headers=headers or {})
            r = self.conn.getresponse()
            return r.status, r.getheader("ETag"), r.read()
        except (OSError, http.client.HTTPException):
            self.conn = None
            return None

    def status(self):
        answer = self.request("/status")
        if answer is None or answer[0] != 200:
            return None
        return json.loads(answer[2])

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def wait(what, check, limit=900, every=0.05):
    deadline = time.monotonic() + limit
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            sys.exit(f"gave up waiting for {what}")
        time.sleep(every)


def cold_ingest(seeds, data, log, n):
    d = Daemon(seeds, data, log)
    peak_rss = 0

    def stored():
        nonlocal peak_rss
        peak_rss = max(peak_rss, kib(d.proc.pid, "VmRSS"))
        s = d.status()
        return s is not None and s["entries"] >= n

    wait(f"{n} entries", stored)
    seconds = time.monotonic() - d.started
    hwm = kib(d.proc.pid, "VmHWM")
    return d, seconds, max(hwm, peak_rss)


def drops(d, seeds, count):
    folder = os.path.join(seeds, "bench-drops")
    os.makedirs(folder, exist_ok=True)
    _, etag, _ = d.request("/feed.atom")
    latencies = []
    for i in range(count):
        key = f"drop_{os.getpid()}_{i:04d}"
        text = (f"World\n\nDropped article {key}\n\n\nA caption.\n\n\n\n"
                f"The body of {key}, a new article.\n\nA second paragraph.\n")
        path = os.path.join(folder, key + ".txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        closed = time.monotonic()
        needle = f"/entries/{key}".encode()
        while True:
            status, new_etag, body = d.request("/feed.atom", {"If-None-Match": etag} if etag else {})
            if status == 200:
                etag = new_etag
                if needle in body:
                    break
            if time.monotonic() - closed > 30:
                sys.exit(f"{key} never appeared")
            time.sleep(0.001)
        latencies.append(time.monotonic() - closed)
        time.sleep(0.02)
    shutil.rmtree(folder)
    return latencies


def startup(seeds, data, log, n):
    d = Daemon(seeds, data, log)
    before = d.log().count("first scan done")
    wait("the first 200", lambda: (d.request("/feed.atom") or (0,))[0] == 200, every=0.005)
    serving = time.monotonic() - d.started
    wait("the first scan", lambda: d.log().count("first scan done") > before, every=0.005)
    scanned = time.monotonic() - d.started
    s = d.status()
    return d, serving, scanned, s["entries"] if s else 0


def markdown_site(seeds, site):
    """The corpus as a Hugo site: one Markdown page per article, an RSS home only."""
    content = os.path.join(site, "content", "posts")
    os.makedirs(content)
    os.makedirs(os.path.join(site, "layouts", "_default"))
    with open(os.path.join(site, "hugo.toml"), "w") as f:
        f.write('baseURL = "http://127.0.0.1/"\ntitle = "bench"\n'
                'disableKinds = ["taxonomy", "term", "sitemap", "robotsTXT", "404", "section"]\n'
                '[outputs]\nhome = ["RSS"]\npage = []\n[services.rss]\nlimit = 50\n')
    # The feed with full content, as seedfeed's.
    with open(os.path.join(site, "layouts", "_default", "rss.xml"), "w") as f:
        f.write('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                '<title>{{ .Site.Title }}</title><link>{{ .Permalink }}</link>'
                '{{ range first 50 (where .Site.RegularPages "Type" "posts") }}'
                '<item><title>{{ .Title }}</title><link>{{ .Permalink }}</link>'
                '<pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" }}</pubDate>'
                '<guid>{{ .Permalink }}</guid>'
                '<description>{{ .Content | html }}</description></item>{{ end }}'
                '</channel></rss>')
    for name in os.listdir(seeds):
        if not name.endswith(".txt"):
            continue
        path = os.path.join(seeds, name)
        with open(path, encoding="utf-8", errors="replace") as f:
            blocks = [b.strip() for b in re.split(r"\n\s*\n", f.read()) if b.strip()]
        if len(blocks) < 2:
            continue
        section, title, body = blocks[0], blocks[1], blocks[2:]
        date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(os.stat(path).st_mtime))
        with open(os.path.join(content, name[:-4] + ".md"), "w", encoding="utf-8") as out:
            out.write("---\ntitle: " + json_string(title) + "\ndate: " + date +
                      "\ncategories: [" + json_string(section) + "]\n---\n\n" +
                      "\n\n".join(body) + "\n")


def json_string(text):
    return json.dumps(text, ensure_ascii=False)


def hugo(seeds, n, work):
    if shutil.which("hugo") is None:
        return None
    site = os.path.join(work, "hugo-site")
    markdown_site(seeds, site)
    timing = os.path.join(work, "hugo-time.txt")
    started = time.monotonic()
    subprocess.run(["/usr/bin/time", "-v", "-o", timing, "hugo", "--quiet", "-s", site,
                    "-d", os.path.join(work, "hugo-public")], check=True)
    seconds = time.monotonic() - started
    with open(timing) as f:
        peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read()).group(1))
    version = subprocess.run(["hugo", "version"], capture_output=True, text=True).stdout.split()[1]
    return seconds, peak, version


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", help="a folder of generated articles")
    ap.add_argument("--drops", type=int, default=200, help="articles dropped in phase 2")
    ap.add_argument("--no-hugo", action="store_true", help="skip the Hugo reference")
    a = ap.parse_args()
    if not os.access(BINARY, os.X_OK):
        sys.exit("build first: cargo build --release")
    n = sum(1 for name in os.listdir(a.corpus) if name.endswith(".txt"))
    work = tempfile.mkdtemp(prefix="seedfeed-ingest-bench-")
    seeds = os.path.join(work, "seeds")
    data = os.path.join(work, "data")
    log = os.path.join(work, "daemon.log")
    try:
        # Hard links: the daemon gets its own folder (drops go into it) without a copy.
        os.makedirs(seeds)
        for name in os.listdir(a.corpus):
            src, dst = os.path.join(a.corpus, name), os.path.join(seeds, name)
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
        subprocess.run(["sync"])

        print(f"[1/4] cold ingest of {n} articles", file=sys.stderr)
        d, cold_s, cold_rss = cold_ingest(seeds, data, log, n)
        print(f"[2/4] {a.drops} drops with {n} stored (waiting for the archive pages first)", file=sys.stderr)
        wait("the archive pages", lambda: "waiting=0" in d.log() or n < 100, every=0.5)
        drop = drops(d, seeds, a.drops)
        wait("the drops to leave", lambda: (d.status() or {}).get("entries") == n)
        drop_rss = kib(d.proc.pid, "VmHWM")
        d.stop()
        print("[3/4] restart over the unchanged folder", file=sys.stderr)
        d, serving_s, scanned_s, entries = startup(seeds, data, log, n)
        start_rss = kib(d.proc.pid, "VmHWM")
        d.stop()
        print("[4/4] Hugo reference", file=sys.stderr)
        ref = None if a.no_hugo else hugo(a.corpus, n, work)

        drop.sort()
        p99 = drop[min(len(drop) - 1, int(len(drop) * 0.99))]
        print()
        print(f"corpus: {n} articles; {os.cpu_count()} cores")
        print()
        print("| measure | seedfeed | target |")
        print("| --- | --- | --- |")
        print(f"| cold ingest, exec to all {n} stored and served | {cold_s:.1f} s = "
              f"{n / cold_s:,.0f} articles/s | ≥ 25,000 articles/s |")
        print(f"| peak RSS during the cold ingest | {cold_rss / 1024:.0f} MiB | < 150 MiB |")
        print(f"| peak RSS after archive freezing and {len(drop)} drops | {drop_rss / 1024:.0f} MiB | |")
        print(f"| file closed → in /feed.atom, {n} stored ({len(drop)} drops) | median "
              f"{statistics.median(drop) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms | p99 < 100 ms |")
        print(f"| restart over {entries} unchanged files: exec → first 200 | {serving_s:.2f} s | |")
        print(f"| restart: exec → first scan done | {scanned_s:.2f} s | < 2 s |")
        print(f"| peak RSS of the restart | {start_rss / 1024:.0f} MiB | |")
        if ref:
            seconds, peak, version = ref
            print(f"| Hugo {version}: RSS feed of the same articles | {seconds:.1f} s = "
                  f"{n / seconds:,.0f} articles/s, {peak / 1024:.0f} MiB | |")
            print(f"| ratio of articles/s, seedfeed / Hugo | {(n / cold_s) / (n / seconds):.2f} | |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
