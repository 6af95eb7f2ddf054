#!/usr/bin/env python3
"""The daemon's ingest, measured on a generated corpus (run through bench/ingest.sh).

Four phases, in one command, on one corpus of N articles (distinct mtimes: the newest
article is the file with the newest, the highest-numbered one unless the dates were
shuffled):

1. cold ingest (corpus read once before, so from the page cache, as Hugo reads its
   files): `seedfeed serve` on the corpus with an empty data folder, until /status
   counts N entries (/status is sent after the snapshot holding them is published, so they
   are then stored and served); articles per second from exec, and the daemon's peak RSS
   (VmHWM, with VmRSS sampled at every poll), and the time some task waited on IO meanwhile
   (/proc/pressure/io: the database's writes, and the corpus's reads when it did not come
   from the page cache). Also: exec to /feed.atom first holding the newest article, and
   exec to the last archive page frozen (its log line). Run R times (--runs, default 3),
   each on a new data folder: the median is reported, with every run, because a shared
   machine's speed drifts by a fifth within minutes. The last run's daemon goes on to
   the next phases.
2. drop to served: with the N entries stored and the archive pages frozen, D new articles
   (the generator's next ones, as long as the stored ones, so the feeds keep their
   size) written one at a time straight into the seeds folder (open, write, close, as
   `cp` does); for each, the time from close() to /feed.atom holding it, polled every
   millisecond with If-None-Match on one keep-alive connection; median and p99. The
   dropped files are deleted afterwards and the daemon waited for until they leave.
3. start-up: the daemon stopped (SIGTERM) and started again on the same data and seeds
   (N unchanged files): exec to the first 200 of /feed.atom, and exec to the end of the
   first reconcile scan (its log line: /status does not say).
4. reference: Hugo building a 50-item full-content RSS feed from the same articles, in
   the same run: a Markdown corpus (--format markdown) as it is, its YAML front matter
   being Hugo's own; a plain one converted to Markdown (title, date from the file's
   mtime, categories from the section; conversion not timed). Its wall time, articles
   per second and peak RSS (`/usr/bin/time -v`); R builds, median reported. Skipped
   with --no-hugo.

Every generated file is an article, so a build that publishes fewer entries than the
corpus has files (files it does not read, rejects, duplicates) is not measured: the
cold ingest stops once /status accounts for every file, the shortfall and its first
reasons are printed in place of that build's figures, the Hugo reference still runs,
and the command exits with status 1.

With --baseline BINARY, a second build (already built: another commit, or this one with
a change undone) is measured in the same run, in turn with this one, A B A B, because
the machine's drift is then shared by both and cancels in the ratio, as it would not
between two commands minutes apart. Each cold ingest of this build (A) is followed by
one of the baseline's (B), each on its own data folder; after its last cold ingest
each build goes on to phases 2 and 3 before the other starts, so no two daemons ever
run at once. The table then has a column for each build and A/B, A's value divided by
B's (of times and sizes: below 1, A is the faster or the smaller). The baseline must
take the same `serve` flags and log the same two lines (the archive pages frozen, the
first scan done).

Prints a Markdown table. Timing claims live here, never in tests. Every daemon started
is stopped on the way out, on an error, Ctrl-C or SIGTERM too.
"""
import argparse
import http.client
import json
import math
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
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "seedfeed")
# The extension of the articles of each corpus format (bench/gen_corpus.py --format).
EXTENSIONS = {"plain": ".txt", "markdown": ".md"}
RUNNING = []  # every daemon started and not yet stopped


@dataclass
class Build:
    """One seedfeed binary measured: its own data folder, log and results."""

    name: str
    binary: str
    data: str
    log: str
    results: dict = field(default_factory=dict)

    def version(self):
        try:
            out = subprocess.run([self.binary, "--version"], capture_output=True, text=True,
                                 timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        return out.splitlines()[0] if out else "version unknown"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kib(pid, field):
    """A VmRSS/VmHWM line of /proc/PID/status, in KiB (0 once the process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class LogTail:
    """The daemon's log, read from where the last look stopped (it grows during a run)."""

    def __init__(self, path):
        self.path = path
        self.offset = os.path.getsize(path) if os.path.exists(path) else 0

    def find(self, text):
        """Whether a line with `text` was written since the last look that found one."""
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            chunk = f.read()
        end = chunk.rfind(b"\n") + 1  # a half-written line is read again next time
        found = text.encode() in chunk[:end]
        self.offset += end
        return found


# The base URL every daemon of the bench is given.
BASE_URL = "https://bench.example"


def admin_flags(binary):
    """`--admin-listen` on a free port, for a build that has the admin listener (where
    /status lives since); none for an older build, which serves /status publicly."""
    help_text = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True).stdout
    if "--admin-listen" not in help_text:
        return None, []
    port = free_port()
    return port, ["--admin-listen", f"127.0.0.1:{port}"]


class Daemon:
    def __init__(self, build, seeds):
        self.port = free_port()
        self.admin_port, admin = admin_flags(build.binary)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEEDFEED_")}
        env["SEEDFEED_LOG"] = "info"
        self.log = LogTail(build.log)
        with open(build.log, "a") as log:
            self.started = time.monotonic()
            self.proc = subprocess.Popen(
                [build.binary, "serve", "--seeds", seeds, "--data", build.data,
                 "--listen", f"127.0.0.1:{self.port}", *admin,
                 # As a deployment sets it: the same every start, whatever the port (a new
                 # base URL makes the articles with links be read again).
                 "--base-url", BASE_URL],
                env=env, stdout=subprocess.DEVNULL, stderr=log)
        RUNNING.append(self)
        self.conn = None
        self.peak_rss = 0

    def since_exec(self):
        return time.monotonic() - self.started

    def sample_rss(self):
        self.peak_rss = max(self.peak_rss, kib(self.proc.pid, "VmRSS"))

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
        if self.admin_port is None:
            answer = self.request("/status")
        else:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=30)
                conn.request("GET", "/status")
                r = conn.getresponse()
                answer = r.status, None, r.read()
                conn.close()
            except (OSError, http.client.HTTPException):
                answer = None
        if answer is None or answer[0] != 200:
            return None
        return json.loads(answer[2])

    def stop(self):
        """SIGTERM, as an operator would; SIGKILL if it does not exit in time."""
        if self in RUNNING:
            RUNNING.remove(self)
        if self.conn is not None:
            self.conn.close()
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class FeedWatch:
    """/feed.atom polled with If-None-Match: whether it holds an entry, cheaply."""

    def __init__(self, daemon):
        self.daemon = daemon
        self.etag = None
        self.body = b""

    def holds(self, key):
        answer = self.daemon.request("/feed.atom", {"If-None-Match": self.etag} if self.etag else {})
        if answer is not None and answer[0] == 200:
            self.etag, self.body = answer[1], answer[2]
        # `/entries/{key}/`, or `/entries/{key}` in a build from before the slash.
        link = f"/entries/{key}".encode()
        return any(link + end in self.body for end in (b"/", b'"', b"<"))


def wait(what, check, limit=1800, every=0.05):
    """Polls `check` until it gives something true; gives up after `limit` seconds,
    saying what it waited for (`what`, or what it returns)."""
    deadline = time.monotonic() + limit
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            sys.exit(f"gave up waiting for {what() if callable(what) else what}")
        time.sleep(every)


FILE_COUNTS = (("not_articles", "not read as articles"), ("rejected", "rejected"),
               ("duplicates", "duplicates"))


def accounted(status):
    """The files a /status has an answer for: published, not articles, rejected or
    duplicates (a count an older build lacks is 0)."""
    files = status.get("files") or {}
    return files.get("published", 0) + sum(files.get(key, 0) for key, _ in FILE_COUNTS)


def shortfall(status, n):
    """Says what a build published of the n generated files, and why not the others,
    from its /status: the counts and the first few files with their reasons."""
    files = status.get("files") or {}
    counts = [f"{files[key]:,} {label}" for key, label in FILE_COUNTS if files.get(key)]
    shown = [f"{f['path']}: {f['reason']}" for key in ("not_articles", "rejects")
             for f in (status.get(key) or [])[:1]]
    shown += [f"{f['path']}: same as {f['duplicate_of']}" for f in (status.get("duplicates") or [])[:1]]
    detail = "; ".join(counts) + ("; e.g. " + "; ".join(shown) if shown else "")
    why = f" ({detail})" if detail else ""
    return f"published {status.get('entries', 0):,} entries of {n:,} generated files{why}"


def cold_ingest(build, seeds, n, newest):
    """One cold ingest: the daemon, exec to all n stored and to the newest in /feed.atom,
    the peak RSS (VmHWM; VmRSS sampled), and, when /status accounts for every file in the
    folder but fewer than n entries were published, what it said of them (the times are
    then None)."""
    files = len(os.listdir(seeds))
    d = Daemon(build, seeds)
    feed = FeedWatch(d)
    marks = {}

    def stored():
        if d.proc.poll() is not None:
            sys.exit(f"the daemon exited with status {d.proc.returncode}; see its log")
        d.sample_rss()
        if "newest" not in marks and feed.holds(newest):
            marks["newest"] = d.since_exec()
        s = d.status()
        if s is not None:
            marks["status"] = s
            if s["entries"] >= n:
                marks["stored"] = d.since_exec()
            elif accounted(s) >= files:  # every file has its answer, and some are not entries
                marks["short"] = shortfall(s, n)
        return "short" in marks or ("stored" in marks and "newest" in marks)

    def waited_for():
        last = marks.get("status")
        return f"{n:,} entries: the daemon " + (shortfall(last, n) if last else "never answered /status")

    wait(waited_for, stored, every=0.02)
    d.sample_rss()
    hwm = kib(d.proc.pid, "VmHWM")
    return (d, marks.get("stored"), marks.get("newest"), max(hwm, d.peak_rss), d.peak_rss,
            marks.get("short"))


def archives_frozen(d, n, page_size=50):
    """Exec to the last archive page frozen: the log line that names it with nothing
    waiting (freezing may catch up, and log so, between two batches of the ingest)."""
    full = n // page_size
    if full < 2:  # page 1 waits for page 2: nothing is frozen under two pages
        return None

    def done():
        d.sample_rss()
        return d.log.find(f"newest={full} waiting=0")

    wait("the archive pages", done, every=0.1)
    return d.since_exec()


def drops(d, seeds, extra, count, extension):
    """Writes the first `count` articles of `extra` (files ending in `extension`) into the
    seeds folder, one at a time; returns each one's latency from close() to /feed.atom
    holding it."""
    feed = FeedWatch(d)
    feed.holds("")
    latencies, paths = [], []
    for name in sorted(n for n in os.listdir(extra) if n.endswith(extension))[:count]:
        key = name[:-len(extension)]
        with open(os.path.join(extra, name), "rb") as f:
            text = f.read()
        path = os.path.join(seeds, name)
        paths.append(path)
        with open(path, "wb") as f:
            f.write(text)
        closed = time.monotonic()
        while not feed.holds(key):
            if time.monotonic() - closed > 30:
                sys.exit(f"{key} never appeared in /feed.atom")
            time.sleep(0.001)
        latencies.append(time.monotonic() - closed)
        time.sleep(0.02)
    if len(latencies) < count:
        sys.exit(f"{extra} holds {len(latencies)} articles, {count} drops asked for")
    d.sample_rss()
    for path in paths:
        os.unlink(path)
    return latencies


def startup(build, seeds):
    d = Daemon(build, seeds)
    wait("the first 200", lambda: (d.request("/feed.atom") or (0,))[0] == 200, every=0.005)
    serving = d.since_exec()
    wait("the first scan", lambda: d.log.find("first scan done"), every=0.005)
    scanned = d.since_exec()
    s = d.status()
    return d, serving, scanned, s["entries"] if s else 0


def hugo_site(site, category):
    """A Hugo site that writes an RSS home only, with `category` (a template expression)
    as each item's category; returns its content folder."""
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
                # How many pages Hugo read, to check that it took every article.
                '<description>{{ len (where .Site.RegularPages "Type" "posts") }} pages</description>'
                '{{ range first 50 (where .Site.RegularPages "Type" "posts") }}'
                '<item><title>{{ .Title }}</title><link>{{ .Permalink }}</link>'
                '<pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" }}</pubDate>'
                '<guid>{{ .Permalink }}</guid>'
                '<category>{{ ' + category + ' }}</category>'
                '<description>{{ .Content | html }}</description></item>{{ end }}'
                '</channel></rss>')
    return content


def markdown_site(seeds, site):
    """A Markdown corpus as a Hugo site: the files as they are (hard links), their YAML
    front matter being Hugo's own (title, date, tags; the section is a parameter)."""
    content = hugo_site(site, ".Params.section")
    for name in os.listdir(seeds):
        if name.endswith(".md"):
            src, dst = os.path.join(seeds, name), os.path.join(content, name)
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)


def converted_site(seeds, site):
    """A plain corpus as a Hugo site: one Markdown page per article."""
    content = hugo_site(site, "index .Params.categories 0")
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
            out.write("---\ntitle: " + json.dumps(title, ensure_ascii=False) +
                      "\ndate: " + date +
                      "\ncategories: [" + json.dumps(section, ensure_ascii=False) + "]\n---\n\n" +
                      "\n\n".join(body) + "\n")


def hugo(corpus, work, expected, run, corpus_format):
    """One Hugo build into a new output folder; the site is set up on the first run. Its
    feed must hold 50 items, the newest article among them, out of every article
    (`expected`: their number and the newest's key)."""
    n, newest = expected
    site = os.path.join(work, "hugo-site")
    public = os.path.join(work, f"hugo-public-{run}")
    if run == 0:
        (markdown_site if corpus_format == "markdown" else converted_site)(corpus, site)
    subprocess.run(["sync"])
    timing = os.path.join(work, "hugo-time.txt")
    started = time.monotonic()
    subprocess.run(["/usr/bin/time", "-v", "-o", timing, "hugo", "--quiet", "-s", site,
                    "-d", public], check=True)
    seconds = time.monotonic() - started
    with open(timing) as f:
        peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read()).group(1))
    with open(os.path.join(public, "index.xml"), "rb") as f:
        feed = f.read()
    items = feed.count(b"<item>")
    pages = re.search(rb"<description>(\d+) pages</description>", feed)
    pages = int(pages.group(1)) if pages else None
    if items != 50 or pages != n or f"/posts/{newest}/".lower().encode() not in feed.lower():
        sys.exit(f"Hugo's feed is not the expected one ({items} items of {pages} pages, "
                 f"{n} articles, newest {newest})")
    version = subprocess.run(["hugo", "version"], capture_output=True, text=True).stdout.split()[1]
    shutil.rmtree(public, ignore_errors=True)  # a page per article: hundreds of MB
    return seconds, peak, version


def nearest_rank(values, q):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def link_corpus(corpus, seeds):
    """Hard links: the daemon gets its own folder (drops go into it) without a copy."""
    os.makedirs(seeds)
    for name in os.listdir(corpus):
        src, dst = os.path.join(corpus, name), os.path.join(seeds, name)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    subprocess.run(["sync"])


def ms(seconds):
    return f"{seconds * 1000:.0f} ms"


def ratio(values):
    """A/B of a row's two values, or nothing when there is one build."""
    if len(values) < 2 or not values[1]:
        return ""
    return f"{values[0] / values[1]:.2f}"


def row(label, cells, target="", ab=""):
    """One line of the table: a cell per build, and A/B after them when there are two."""
    parts = [label, *cells] + ([ab] if len(cells) > 1 else [])
    print("| " + " | ".join(parts) + (f" | {target} |" if target else " | |"))


def shown(path):
    return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path


def report(n, command, builds, hugo_builds):
    """The Markdown table: a column for each build measured (and A/B for two) and Hugo's
    rows; a build that did not publish every file has a line instead of its column."""
    measured = [b for b in builds if "short" not in b.results]
    print()
    print(f"`{command}`: {n:,} articles, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}")
    print()
    for b in builds:
        if "short" in b.results:
            print(f"- **{b.name}: not measured.** {b.version()} {b.results['short']}")
    if len(measured) < len(builds):
        print()
    if len(measured) > 1:
        for letter, b in zip("AB", measured):
            print(f"- {letter}, {b.name}: {b.version()} (`{shown(b.binary)}`)")
        print("- A/B: A's value divided by B's; the cold ingests alternated A B A B")
        print()
        print("| measure | A: seedfeed | B: baseline | A/B | target |")
        print("| --- | --- | --- | --- | --- |")
    else:
        print(f"| measure | {measured[0].name if measured else 'reference'} | target |")
        print("| --- | --- | --- |")
    cold = build_rows(n, [b.results for b in measured]) if measured else []
    if hugo_builds:
        hugo_rows(n, hugo_builds, cold)


def build_rows(n, rs):
    """The rows of the builds measured (their results); returns their cold ingest medians."""
    two = len(rs) > 1
    cold = [statistics.median(r["cold_s"]) for r in rs]
    runs = [", ".join(f"{s:.2f}" for s in r["cold_s"]) for r in rs]
    count = len(rs[0]["cold_s"])
    if two:  # every run in its build's cell
        label = f"cold ingest: exec → all {n:,} stored and served, median of {count} (every run)"
        cells = [f"{c:.2f} s = {n / c:,.0f} articles/s ({each} s)" for c, each in zip(cold, runs)]
    else:
        label = f"cold ingest: exec → all {n:,} stored and served, median of {count} ({runs[0]} s)"
        cells = [f"{cold[0]:.2f} s = {n / cold[0]:,.0f} articles/s"]
    row(label, cells, "≥ 25,000 articles/s", ratio(cold))
    if all(len(r["cold_io_stall_s"]) == count for r in rs):
        # Time in which the daemon, or anything else, waited on the disk: its writes, and
        # the corpus's reads when the page cache no longer held it (see `warm`).
        stalls = [", ".join(f"{s:.1f}" for s in r["cold_io_stall_s"]) for r in rs]
        row("cold ingest: time some task waited on IO (/proc/pressure/io), each run",
            [f"{x} s" for x in stalls])
    newest = [statistics.median(r["newest_s"]) for r in rs]
    row("cold ingest: exec → newest article in /feed.atom (median)",
        [f"{x:.2f} s" for x in newest], ab=ratio(newest))
    rss = [r["cold_rss"] / 1024 for r in rs]
    sampled = [r["cold_sampled"] / 1024 for r in rs]
    if two:
        row("peak RSS of the cold ingest (VmHWM; VmRSS sampled)",
            [f"{x:.0f} MiB ({y:.0f} MiB sampled)" for x, y in zip(rss, sampled)], "< 150 MiB",
            ratio(rss))
    else:
        row(f"peak RSS of the cold ingest (VmHWM; VmRSS sampled: {sampled[0]:.0f} MiB)",
            [f"{rss[0]:.0f} MiB"], "< 150 MiB")
    frozen = [r["frozen_s"] for r in rs]
    if None not in frozen:
        row("exec → every archive page frozen", [f"{x:.1f} s" for x in frozen], ab=ratio(frozen))
    drop_rss = [r["drop_rss"] / 1024 for r in rs]
    row("peak RSS after archive freezing and the drops", [f"{x:.0f} MiB" for x in drop_rss],
        ab=ratio(drop_rss))
    drop = [r["drops"] for r in rs]
    median = [statistics.median(x) for x in drop]
    p99 = [nearest_rank(x, 0.99) for x in drop]
    row(f"file closed → in /feed.atom, {n:,} stored: median, p99 ({len(drop[0])} drops)",
        [f"{ms(m)}, {ms(p)} (max {ms(max(x))})" for m, p, x in zip(median, p99, drop)],
        ab=f"{ratio(median)}, {ratio(p99)}" if two else "")
    entries = [r["entries"] for r in rs]
    serving = [r["serving_s"] for r in rs]
    cells = [f"{x:.2f} s" for x in serving]
    if two and entries[1] != entries[0]:  # it would be a different restart
        cells[1] += f" ({entries[1]:,} entries)"
    row(f"restart over {entries[0]:,} unchanged files: exec → first 200 of /feed.atom",
        cells, "< 2 s", ratio(serving))
    scanned = [r["scanned_s"] for r in rs]
    row("restart: exec → first scan done", [f"{x:.2f} s" for x in scanned], "< 2 s",
        ratio(scanned))
    start_rss = [r["start_rss"] / 1024 for r in rs]
    row("peak RSS of the restart", [f"{x:.0f} MiB" for x in start_rss], ab=ratio(start_rss))
    return cold


def hugo_rows(n, hugo_builds, cold):
    """Hugo's row, and (when builds were measured, their `cold` medians) the speed ratio."""
    seconds = statistics.median(b[0] for b in hugo_builds)
    peak, version = max(b[1] for b in hugo_builds), hugo_builds[0][2]
    times = ", ".join(f"{b[0]:.1f}" for b in hugo_builds)
    reference = f"{seconds:.1f} s = {n / seconds:,.0f} articles/s, {peak / 1024:.0f} MiB"
    row(f"Hugo {version}, RSS feed of the same articles (50 items, full content), "
        f"median of {len(hugo_builds)} ({times} s)", [reference] + ["(the same)"] * (len(cold) - 1))
    if cold:
        speed = [seconds / c for c in cold]
        row("articles/s, seedfeed cold ingest / Hugo build (medians)",
            [f"{x:.2f}" for x in speed], ab=ratio(speed))


def warm(seeds):
    """Reads every article once and flushes what is dirty, so that the cold ingest reads
    from the page cache, as Hugo does its Markdown files (written just before its run),
    and no writeback of an earlier run competes with it. Memory reclaim may evict a
    corpus read long ago: a cold ingest that read it from disk took 2 to 3.5 times as
    long on this project's machine, whose kernel pages out what has not been touched for
    about a minute. So the articles are read newest first: the oldest, which the ingest
    reads first (in date order), are the last read here. The IO stall of the cold ingest
    (`io_stall_total`) shows how long it waited on the disk all the same, for the corpus
    or for the database's writes."""
    names = sorted(((entry.stat().st_mtime, entry.name) for entry in os.scandir(seeds)
                    if entry.is_file()), reverse=True)
    for _, name in names:
        with open(os.path.join(seeds, name), "rb") as f:
            f.read()
    subprocess.run(["sync"])


def io_stall_total():
    """Microseconds in which some task waited on IO since boot (Linux's pressure stall
    information, /proc/pressure/io); None where the kernel does not give it."""
    try:
        with open("/proc/pressure/io") as f:
            return int(f.readline().split("total=")[1])
    except (OSError, IndexError, ValueError):
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", help="a folder of generated articles")
    ap.add_argument("--drops", type=int, default=200, help="articles dropped in phase 2")
    ap.add_argument("--extra", required=True, help="a folder of the articles to drop (not in the corpus)")
    ap.add_argument("--no-hugo", action="store_true", help="skip the Hugo reference")
    ap.add_argument("--command", default="bench/ingest.sh", help="the command line to print")
    ap.add_argument("--runs", type=int, default=3, help="cold ingests and Hugo builds (medians)")
    ap.add_argument("--format", choices=sorted(EXTENSIONS), default="plain",
                    help="the corpus's format (bench/gen_corpus.py --format): plain (.txt, the "
                         "default) or markdown (.md with front matter)")
    ap.add_argument("--baseline", metavar="BINARY",
                    help="a second seedfeed build measured in turn with this one (A B A B)")
    a = ap.parse_args()
    if a.runs < 1:
        sys.exit("--runs takes a number of at least 1")
    if not os.access(BINARY, os.X_OK):
        sys.exit("build first: cargo build --release")
    if a.baseline and not (os.path.isfile(a.baseline) and os.access(a.baseline, os.X_OK)):
        sys.exit(f"the baseline {a.baseline} is not an executable file")
    # SIGTERM and SIGHUP end the run as Ctrl-C does: through the `finally` below.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda number, _frame: sys.exit(128 + number))
    extension = EXTENSIONS[a.format]
    names = [name for name in os.listdir(a.corpus) if name.endswith(extension)]
    if not names:
        sys.exit(f"{a.corpus} holds no {extension} files: is it a {a.format} corpus?")
    n = len(names)
    newest = max(names, key=lambda name: os.stat(os.path.join(a.corpus, name)).st_mtime)[:-len(extension)]
    work = tempfile.mkdtemp(prefix="seedfeed-ingest-bench-")
    seeds = os.path.join(work, "seeds")
    builds = [Build("seedfeed", BINARY, os.path.join(work, "data"), os.path.join(work, "daemon.log"))]
    if a.baseline:
        builds.append(Build("baseline", os.path.abspath(a.baseline), os.path.join(work, "data-baseline"),
                            os.path.join(work, "daemon-baseline.log")))
    current = [builds[0]]  # whose log to show on an error
    hugo_builds = []
    try:
        link_corpus(a.corpus, seeds)
        measure(a, builds, (seeds, n, newest, extension), current)
        if a.no_hugo:
            print("[4/4] no Hugo reference", file=sys.stderr)
        else:
            for run in range(a.runs):
                print(f"[4/4] Hugo reference, build {run + 1} of {a.runs}", file=sys.stderr)
                hugo_builds.append(hugo(a.corpus, work, (n, newest), run, a.format))
        report(n, a.command, builds, hugo_builds)
    except BaseException:
        if os.path.exists(current[0].log):
            with open(current[0].log, "rb") as f:
                tail = f.read()[-2000:].decode("utf-8", "replace")
            who = f"the {current[0].name} daemon's" if len(builds) > 1 else "the daemon's"
            print(f"{who} last log lines:\n{tail}", file=sys.stderr)
        raise
    finally:
        for d in list(RUNNING):
            d.stop()
        shutil.rmtree(work, ignore_errors=True)
    if any("short" in b.results for b in builds):
        sys.exit(1)


def measure(a, builds, corpus, current):
    """Phases 1 to 3 for every build, the cold ingests alternated; a build that does not
    publish every file is measured no further. `current[0]` is the build running."""
    seeds, n, newest, extension = corpus
    for b in builds:
        b.results.update(cold_s=[], newest_s=[], cold_io_stall_s=[], cold_rss=0, cold_sampled=0)
    for run in range(a.runs):
        for b in builds:
            if "short" in b.results:
                continue
            current[0], r = b, b.results
            which = f" ({b.name})" if len(builds) > 1 else ""
            if os.path.exists(b.data):
                shutil.rmtree(b.data)
            warm(seeds)
            print(f"[1/4] cold ingest of {n} articles, run {run + 1} of {a.runs}{which}",
                  file=sys.stderr)
            stall_before = io_stall_total()
            d, cold_s, newest_s, rss, sampled, short = cold_ingest(b, seeds, n, newest)
            stall_after = io_stall_total()
            if short:
                d.stop()
                r["short"] = short
                print(f"      {b.name} {short}: its ingest is not measured", file=sys.stderr)
                continue
            print(f"      {cold_s:.2f} s", file=sys.stderr)
            r["cold_s"].append(cold_s)
            r["newest_s"].append(newest_s)
            if None not in (stall_before, stall_after):
                r["cold_io_stall_s"].append((stall_after - stall_before) / 1e6)
            r["cold_rss"], r["cold_sampled"] = max(r["cold_rss"], rss), max(r["cold_sampled"], sampled)
            if run < a.runs - 1:
                d.stop()
                continue
            # The last cold ingest's daemon goes on to the drops, then the restart; the
            # other build's daemon is started only once this one is stopped.
            print("      waiting for the archive pages", file=sys.stderr)
            r["frozen_s"] = archives_frozen(d, n)
            print(f"[2/4] {a.drops} drops with {n} stored{which}", file=sys.stderr)
            r["drops"] = drops(d, seeds, a.extra, a.drops, extension)
            wait("the drops to leave", lambda: (d.status() or {}).get("entries") == n)
            r["drop_rss"] = kib(d.proc.pid, "VmHWM")
            d.stop()
            print(f"[3/4] restart over the unchanged folder{which}", file=sys.stderr)
            d, r["serving_s"], r["scanned_s"], r["entries"] = startup(b, seeds)
            r["start_rss"] = kib(d.proc.pid, "VmHWM")
            d.stop()


if __name__ == "__main__":
    main()
