#!/usr/bin/env python3
"""The built-in WebSub hub's fan-out, measured against polling (run through bench/push.sh).

One run, on one corpus of N articles:

1. `seedfeed serve` with the hub on (`SEEDFEED_WEBSUB_HUB=true`, private callbacks
   allowed, `subscribe_per_minute` raised to S) ingests the corpus into an empty data
   folder; the run goes on once /status counts N entries and the archive pages are frozen
   (as bench/ingest.py's drops wait for them).
2. S subscribers in a child process (one asyncio loop, so their clocks are not held up
   by the driver's polling): an HTTP/1.1 server on each of H loopback addresses
   127.0.0.1 … 127.0.0.H, callbacks `/cb/0` … `/cb/S-1` spread over them in turn. The
   hub sends at most two requests at once to one host and `max_concurrent_requests` (16)
   in all: the default of 8 hosts lets it use all 16. Each subscriber answers the
   challenge, and for each POST records the time its body was read, checks
   `X-Hub-Signature` (sha256 HMAC under its own secret), and notes which dropped entries'
   ids (`urn:uuid:`, the UUIDv5 of the key under the default `id_namespace`) the body
   holds. All S subscribe to {base}/feed.atom; the run goes on once every challenge was
   answered and /status counts S subscriptions (the time for that is reported too).
3. D articles (the generator's next ones, not in the folder) written one at a time into
   the seeds folder, in one write each. For each, from the writer's close(): (a) to
   /feed.atom holding it, polled every millisecond with If-None-Match on one keep-alive
   connection (the reference, as bench/ingest.py's drops); (b) to the first subscriber
   reading a delivery holding its id; (c) to the last of the S. The next drop waits for
   all S (or a timeout) and for the hub to have nothing pending. A drop that fills an
   archive page (every 50th entry) has the page frozen moments later, which changes the
   main feeds (they link to the newest page) and so pushes /feed.atom once more, with no
   new entry: the next drop waits for that too, and such POSTs are counted apart.

Prints a Markdown table: median and p99 of (a), (b), (c), the ratio of (b)'s median to
(a)'s, deliveries received against expected (S × D), bad signatures, the hub's counters,
warnings in the daemon's log and its peak RSS. Exits non-zero if a delivery is missing,
a signature is bad or a subscription was not verified. Every process started is stopped
on the way out; the daemon's log is kept in the run's temp folder (its path is printed).
"""
import argparse
import asyncio
import bisect
import hashlib
import hmac
import http.client
import multiprocessing
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

sys.dont_write_bytecode = True  # no __pycache__ left in bench/ by the import below
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ingest  # noqa: E402  the house helpers: the daemon, /feed.atom polling, waits

TARGET = os.path.join(ingest.ROOT, os.environ.get("CARGO_TARGET_DIR") or "target")
BINARY = os.path.join(TARGET, "release", "seedfeed")

# The entry ids: UUIDv5 of the key under the namespace "seedfeed" (the default
# `id_namespace`, which is not a UUID and so is hashed into one).
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "seedfeed")
UUID_IN_BODY = re.compile(rb"urn:uuid:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")

DROP_TIMEOUT = 30     # s: close() → /feed.atom, and close() → all S deliveries
IDLE_TIMEOUT = 15     # s: the hub has nothing pending after a drop
GIVE_UP_AFTER = 3     # drops in a row with deliveries missing end the drops
PAGE_SIZE = 50        # entries per archive page: feed_size's default, as bench/ingest.py


def entry_id(key):
    return str(uuid.uuid5(NAMESPACE, key))


class HubDaemon(ingest.Daemon):
    """ingest.Daemon (its __init__, copied) with WebSub settings in the environment."""

    def __init__(self, seeds, data, log_path, settings):
        self.port = ingest.free_port()
        self.admin_port, admin = ingest.admin_flags(BINARY)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEEDFEED_")}
        env["SEEDFEED_LOG"] = "info"
        env.update(settings)
        self.log = ingest.LogTail(log_path)
        with open(log_path, "a") as log:
            self.started = time.monotonic()
            self.proc = subprocess.Popen(
                [BINARY, "serve", "--seeds", seeds, "--data", data,
                 "--listen", f"127.0.0.1:{self.port}", *admin],
                env=env, stdout=subprocess.DEVNULL, stderr=log)
        ingest.RUNNING.append(self)
        self.conn = None
        self.peak_rss = 0
        self.base = f"http://127.0.0.1:{self.port}"

    def alive(self):
        if self.proc.poll() is not None:
            sys.exit(f"the daemon exited with status {self.proc.returncode}; see its log")
        return True

    def websub(self):
        return (self.status() or {}).get("websub") or {}

    def post_form(self, path, fields):
        """POST a form on a connection of its own: (status, Retry-After, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("POST", path, body=urllib.parse.urlencode(fields),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            r = conn.getresponse()
            return r.status, r.getheader("Retry-After"), r.read()
        finally:
            conn.close()


# ---- the subscribers (a child process) ----------------------------------------------

def subscribers_main(conn, hosts, secrets, topic, wanted):
    """Serves the callbacks on `hosts` until the driver says stop (or goes away). Sends
    the driver ("ready", ports), then one message per request it answered."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    asyncio.run(serve_callbacks(conn, hosts, [s.encode() for s in secrets], topic, wanted))


async def serve_callbacks(conn, hosts, secrets, topic, wanted):
    def answer(method, target, headers, body, arrived):
        path, _, query = target.partition("?")
        m = re.fullmatch(r"/cb/(\d+)", path)
        if not m or int(m.group(1)) >= len(secrets):
            conn.send(("stray", method, target))
            return "404 Not Found", b""
        i = int(m.group(1))
        if method == "GET":
            q = urllib.parse.parse_qs(query)
            mode = q.get("hub.mode", [""])[0]
            challenge = q.get("hub.challenge", [""])[0]
            if mode == "subscribe" and q.get("hub.topic", [""])[0] == topic and challenge:
                conn.send(("verified", i, arrived))
                return "200 OK", challenge.encode()
            conn.send(("refused", i, query))
            return "404 Not Found", b""
        if method == "POST":
            expected = "sha256=" + hmac.new(secrets[i], body, hashlib.sha256).hexdigest()
            good = hmac.compare_digest(headers.get("x-hub-signature", ""), expected)
            found = [wanted[u] for u in set(UUID_IN_BODY.findall(body)) if u in wanted]
            conn.send(("post", i, arrived, good, found, len(body)))
            return "200 OK", b""
        conn.send(("stray", method, target))
        return "405 Method Not Allowed", b""

    async def read_chunked(reader):
        body = bytearray()
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(body)
            body += await reader.readexactly(size)
            await reader.readline()

    async def handle(reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers = {}
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = h.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                if headers.get("transfer-encoding", "").lower() == "chunked":
                    body = await read_chunked(reader)
                else:
                    body = await reader.readexactly(int(headers.get("content-length", "0")))
                status, payload = answer(method, target, headers, body, time.monotonic())
                writer.write(f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\n"
                             f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    servers = [await asyncio.start_server(handle, host, 0) for host in hosts]
    conn.send(("ready", [s.sockets[0].getsockname()[1] for s in servers]))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_reader(conn.fileno(), stop.set)
    await stop.wait()


class Subscribers:
    """The child process, and what it reported: per drop, each subscriber's first
    delivery holding it."""

    def __init__(self, hosts, count, topic, drops):
        self.secrets = [f"bench-secret-{i}-{os.urandom(8).hex()}" for i in range(count)]
        wanted = {entry_id(key).encode(): j for j, key in enumerate(drops)}
        self.conn, child = multiprocessing.Pipe()
        self.proc = multiprocessing.Process(
            target=subscribers_main, args=(child, hosts, self.secrets, topic, wanted), daemon=True)
        self.proc.start()
        child.close()
        if not self.conn.poll(30):
            sys.exit("the subscribers did not start")
        _, ports = self.conn.recv()
        self.callbacks = [f"http://{hosts[i % len(hosts)]}:{ports[i % len(hosts)]}/cb/{i}"
                          for i in range(count)]
        self.first = [{} for _ in drops]   # drop → {subscriber: arrival}
        self.closed = []                   # drop → when its file was closed
        self.verified = {}                 # subscriber → time its challenge was answered
        self.posts = self.bad = self.stale = self.bytes = 0
        self.stale_at = []                 # arrival of each POST that held no new drop
        self.odd = []                      # refused challenges, stray requests

    def pump(self, timeout=0.0):
        """Takes what the child reported, waiting up to `timeout` for the first message."""
        try:
            while self.conn.poll(timeout):
                timeout = 0
                message = self.conn.recv()
                kind = message[0]
                if kind == "post":
                    _, i, arrived, good, found, size = message
                    self.posts += 1
                    self.bytes += size
                    self.bad += not good
                    new = [j for j in found if i not in self.first[j]]
                    for j in new:
                        self.first[j][i] = arrived
                    if not new:
                        self.stale += 1
                        self.stale_at.append(arrived)
                elif kind == "verified":
                    self.verified.setdefault(message[1], message[2])
                else:
                    self.odd.append(message)
        except (EOFError, OSError):
            sys.exit("the subscribers' process ended")

    def stop(self):
        if self.proc.is_alive():
            try:
                self.conn.send("stop")
            except OSError:
                pass
            self.proc.join(5)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join()
        self.conn.close()


# ---- the phases ---------------------------------------------------------------------

def ingest_corpus(d, n):
    ingest.wait(f"{n} entries", lambda: d.alive() and (d.status() or {}).get("entries", 0) >= n,
                limit=900, every=0.05)
    full = n // PAGE_SIZE  # as ingest.archives_frozen: page 1 waits for page 2
    if full >= 2:
        ingest.wait("the archive pages", lambda: d.alive() and d.log.find(f"newest={full} waiting=0"),
                    limit=900, every=0.1)


def check_ids(d):
    """The ids this driver computes are the feed's: every key in /feed.atom has its
    UUIDv5 there too."""
    answer = d.request("/feed.atom")
    if answer is None or answer[0] != 200:
        sys.exit("no /feed.atom")
    body = answer[2]
    keys = set(re.findall(rb"/entries/([^\"<?#/]+)/", body))
    ids = set(UUID_IN_BODY.findall(body))
    if not keys or any(entry_id(k.decode()).encode() not in ids for k in keys):
        sys.exit("the entry ids in /feed.atom are not the UUIDv5 of their keys under the "
                 "namespace 'seedfeed': is id_namespace set?")


def subscribe(d, subs):
    topic = f"{d.base}/feed.atom"
    started = time.monotonic()
    for i, callback in enumerate(subs.callbacks):
        fields = {"hub.mode": "subscribe", "hub.topic": topic, "hub.callback": callback,
                  "hub.secret": subs.secrets[i], "hub.lease_seconds": "86400"}
        for _ in range(5):
            status, retry_after, body = d.post_form("/hub", fields)
            if status != 429 and status != 503:
                break
            time.sleep(min(float(retry_after or 1), 10))
        if status != 202:
            sys.exit(f"POST /hub for {callback}: {status} {body.decode(errors='replace').strip()}")
        subs.pump()

    def verified():
        d.alive()
        subs.pump(0.05)
        if subs.odd:
            sys.exit(f"the hub asked the callbacks something else: {subs.odd[:3]}")
        return len(subs.verified) == len(subs.callbacks) and \
            d.websub().get("subscriptions") == len(subs.callbacks)

    ingest.wait(f"{len(subs.callbacks)} subscriptions", verified, limit=120, every=0)
    return time.monotonic() - started


def drop_all(d, subs, seeds, drops, n):
    """Returns, per drop: (a) seconds to /feed.atom, (b) to the first delivery holding it
    (None if none), (c) to the last of the S (None if one is missing)."""
    feed = ingest.FeedWatch(d)
    feed.holds("")
    count = len(subs.callbacks)
    results, missing_in_a_row = [], 0
    for j, (key, content) in enumerate(drops):
        path = os.path.join(seeds, key + ".txt")
        with open(path, "wb") as f:
            f.write(content)
        closed = time.monotonic()
        subs.closed.append(closed)
        while not feed.holds(key):
            if time.monotonic() - closed > DROP_TIMEOUT:
                sys.exit(f"{key} never appeared in /feed.atom")
            subs.pump()
            time.sleep(0.001)
        polled = time.monotonic() - closed
        while len(subs.first[j]) < count and time.monotonic() - closed < DROP_TIMEOUT:
            subs.pump(0.05)
        arrivals = subs.first[j].values()
        first = min(arrivals) - closed if arrivals else None
        last = max(arrivals) - closed if len(arrivals) == count else None
        results.append((polled, first, last))
        if last is None:
            print(f"      drop {j + 1} ({key}): {len(arrivals)} of {count} subscribers "
                  f"in {DROP_TIMEOUT} s", file=sys.stderr)
            missing_in_a_row += 1
            if missing_in_a_row >= GIVE_UP_AFTER:
                print(f"      {GIVE_UP_AFTER} drops in a row incomplete: no more drops",
                      file=sys.stderr)
                break
        else:
            missing_in_a_row = 0
        # A drop that fills an archive page has it frozen moments later, and the main
        # feeds then link to it: /feed.atom changes again and is pushed again, with no
        # new entry. The next drop waits for that push too.
        stored = n + j + 1
        if stored % PAGE_SIZE == 0 and stored // PAGE_SIZE >= 2:
            frozen = f"newest={stored // PAGE_SIZE} waiting=0"
            deadline = time.monotonic() + IDLE_TIMEOUT
            while not d.log.find(frozen) and time.monotonic() < deadline:
                subs.pump(0.01)
            etag = feed.etag
            while feed.etag == etag and time.monotonic() < deadline:
                feed.holds(key)
                subs.pump(0.01)
            end = time.monotonic() + 0.3  # the hub queues the change after the snapshot
            while time.monotonic() < end:
                subs.pump(0.01)
        # The next drop starts on an idle hub: nothing pending, nothing in flight.
        deadline = time.monotonic() + IDLE_TIMEOUT
        while d.alive() and d.websub().get("pending", 0) != 0 and time.monotonic() < deadline:
            subs.pump(0.01)
        subs.pump()
        if (j + 1) % 20 == 0:
            print(f"      {j + 1} drops", file=sys.stderr)
        time.sleep(0.02)
    # Late deliveries (after a drop's timeout) still count as received.
    end = time.monotonic() + 2
    while time.monotonic() < end:
        subs.pump(0.1)
    return results


def stale_after(subs):
    """{drop number (1-based): POSTs with no new entry that came after it}."""
    counts = {}
    for arrived in subs.stale_at:
        j = bisect.bisect_right(subs.closed, arrived)
        counts[j] = counts.get(j, 0) + 1
    return counts


def cpu_seconds(pid):
    """User + system CPU time of a process so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def log_problems(path):
    """The daemon's log lines at WARN or ERROR level."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return [line.rstrip() for line in f if re.search(r"\b(WARN|ERROR)\b", line)]


# ---- the report ---------------------------------------------------------------------

def ms(seconds):
    return f"{seconds * 1000:.0f} ms"


def spread(values):
    if not values:
        return "—"
    return (f"{ms(statistics.median(values))}, {ms(ingest.nearest_rank(values, 0.99))} "
            f"(max {ms(max(values))})")


def report(a, n, r):
    s, hosts, results, subs = a.subscribers, a.hosts, r["results"], r["subs"]
    polled = [p for p, _, _ in results]
    first = [f for _, f, _ in results if f is not None]
    last = [x for _, _, x in results if x is not None]
    expected = s * len(results)
    received = sum(len(per) for per in subs.first[:len(results)])
    ratio = statistics.median(first) / statistics.median(polled) if first else float("nan")
    hub = r["hub"]
    print()
    print(f"`{a.command}`: {n:,} articles, {s} subscribers on {hosts} loopback "
          f"host{'s' if hosts > 1 else ''}, {len(results)} drops, {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d')}")
    print()
    print("| measure (from the dropped file's close()) | median, p99 |")
    print("| --- | --- |")
    print(f"| (a) → in /feed.atom, polled every ms (reference) | {spread(polled)} |")
    print(f"| (b) → first subscriber has it (push) | {spread(first)} |")
    print(f"| (c) → all {s} subscribers have it | {spread(last)} |")
    print(f"| (b) / (a), medians | {ratio:.2f} |")
    print(f"| drops delivered to all {s} within {DROP_TIMEOUT} s | {len(last)} / {len(results)} |")
    print(f"| deliveries holding each drop (late ones too): received / expected | "
          f"{received:,} / {expected:,} |")
    after = ", ".join(f"#{j}: {c}" for j, c in sorted(r["stale_after"].items()))
    print(f"| POSTs received, MiB; of which with no new entry (after drop: count) | "
          f"{subs.posts:,}, {subs.bytes / 2**20:,.0f} MiB; {subs.stale:,}"
          f"{f' ({after})' if after else ''} |")
    print(f"| bad signatures | {subs.bad} |")
    print(f"| hub (/status websub): sent, failed, dropped, pending | {hub.get('sent')}, "
          f"{hub.get('failed')}, {hub.get('dropped')}, {hub.get('pending')} |")
    print(f"| {s} subscriptions: first POST /hub → all verified | {r['subscribe_s']:.2f} s |")
    print(f"| CPU time during the drops: daemon, subscribers' process (wall time) | "
          f"{r['cpu'][0]:.1f} s, {r['cpu'][1]:.1f} s ({r['cpu'][2]:.1f} s) |")
    print(f"| WARN/ERROR lines in the daemon's log | {len(r['problems'])} |")
    print(f"| daemon's peak RSS (VmHWM): after the ingest → at the end | "
          f"{r['rss_ingest'] / 1024:.0f} MiB → {r['rss_end'] / 1024:.0f} MiB |")
    return received == expected and len(last) == len(results) and subs.bad == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", help="a folder of generated articles")
    ap.add_argument("extra", help="a folder of further articles, to drop (one per drop)")
    ap.add_argument("--subscribers", type=int, default=100)
    ap.add_argument("--hosts", type=int, default=8, help="loopback addresses the callbacks are spread over")
    ap.add_argument("--command", default="bench/push.sh", help="the command line to print")
    a = ap.parse_args()
    if not os.access(BINARY, os.X_OK):
        sys.exit("build first: cargo build --release")
    names = sorted(name for name in os.listdir(a.corpus) if name.endswith(".txt"))
    extra = sorted(name for name in os.listdir(a.extra) if name.endswith(".txt"))
    if set(names) & set(extra):
        sys.exit("the articles to drop are in the corpus already")
    drops = []
    for name in extra:
        with open(os.path.join(a.extra, name), "rb") as f:
            drops.append((name[:-4], f.read()))
    n = len(names)
    hosts = [f"127.0.0.{h + 1}" for h in range(a.hosts)]

    work = tempfile.mkdtemp(prefix="seedfeed-push-bench-")
    seeds, data = os.path.join(work, "seeds"), os.path.join(work, "data")
    log = os.path.join(work, "daemon.log")
    subs = None
    r = {}
    complete = False
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda number, _frame: sys.exit(128 + number))
    try:
        ingest.link_corpus(a.corpus, seeds)
        print(f"[1/3] the hub on, ingest of {n} articles", file=sys.stderr)
        d = HubDaemon(seeds, data, log, {
            "SEEDFEED_WEBSUB_HUB": "true",
            "SEEDFEED_WEBSUB_ALLOW_PRIVATE_CALLBACKS": "true",
            "SEEDFEED_WEBSUB_SUBSCRIBE_PER_MINUTE": str(max(30, a.subscribers)),
        })
        ingest_corpus(d, n)
        check_ids(d)
        r["rss_ingest"] = ingest.kib(d.proc.pid, "VmHWM")

        print(f"[2/3] {a.subscribers} subscribers on {a.hosts} loopback hosts", file=sys.stderr)
        subs = Subscribers(hosts, a.subscribers, f"{d.base}/feed.atom", [key for key, _ in drops])
        r["subs"] = subs
        r["subscribe_s"] = subscribe(d, subs)

        print(f"[3/3] {len(drops)} drops", file=sys.stderr)
        pids = (d.proc.pid, subs.proc.pid)
        before = [cpu_seconds(pid) for pid in pids] + [time.monotonic()]
        r["results"] = drop_all(d, subs, seeds, drops, n)
        after = [cpu_seconds(pid) for pid in pids] + [time.monotonic()]
        r["cpu"] = [end - start for start, end in zip(before, after)]
        r["hub"] = d.websub()
        r["rss_end"] = ingest.kib(d.proc.pid, "VmHWM")
        d.stop()
        subs.stop()
        r["stale_after"] = stale_after(subs)
        if subs.stale:
            print(f"      POSTs that held no new entry, by the drop they followed: "
                  f"{r['stale_after']}", file=sys.stderr)
        r["problems"] = log_problems(log)
        for line in r["problems"][:10]:
            print(f"      log: {line}", file=sys.stderr)
        complete = report(a, n, r)
    except BaseException:
        if os.path.exists(log):
            with open(log, "rb") as f:
                tail = f.read()[-2000:].decode("utf-8", "replace")
            print(f"the daemon's last log lines:\n{tail}", file=sys.stderr)
        raise
    finally:
        for d in list(ingest.RUNNING):
            d.stop()
        if subs is not None:
            subs.stop()
        shutil.rmtree(seeds, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)
        print(f"the daemon's log: {log}", file=sys.stderr)
    if not complete:
        sys.exit("deliveries are missing or a signature is bad")


if __name__ == "__main__":
    main()
