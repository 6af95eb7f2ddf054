#!/usr/bin/env python3
"""seedfeed behind a real nginx proxy_cache: nginx revalidates with seedfeed's validators
(the upstream answers 304), keeps a browser's page and a reader's feed apart at the same
address (Vary: Accept), and serves a new entry once max-age has passed.

    python3 tests/nginx/run.py [--binary target/release/seedfeed]

Needs nginx (apt-get install -y nginx). Exit 0 when every check passes, 1 on a failed
check (with what was seen), 2 when nginx or the binary is missing.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
SAMPLE = REPO / "seeds" / "000_9b018788d1e41f8c.txt"
MAX_AGE = 2
# What Chromium sends for a page, and what a feed reader sends.
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
READER = "application/atom+xml,application/rss+xml;q=0.9,*/*;q=0.1"

NGINX_CONF = """
{user}
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 64; }}
http {{
    client_body_temp_path {work}/tmp/body;
    proxy_temp_path {work}/tmp/proxy;
    fastcgi_temp_path {work}/tmp/fastcgi;
    uwsgi_temp_path {work}/tmp/uwsgi;
    scgi_temp_path {work}/tmp/scgi;
    log_format cache '$request_uri $status upstream=$upstream_status cache=$upstream_cache_status';
    access_log {work}/access.log cache;
    proxy_cache_path {work}/cache keys_zone=feeds:1m;
    server {{
        listen 127.0.0.1:{front};
        location / {{
            proxy_pass http://127.0.0.1:{back};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache feeds;
            proxy_cache_revalidate on;
        }}
    }}
}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read().decode()


def fetch(url, accept):
    """The media type and body of `url` asked for with this Accept."""
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=10) as r:
        return r.headers.get("Content-Type", ""), r.read().decode()


def check_vary(cached, work):
    """A feed's address answers a browser with a page and a reader with the feed
    (Vary: Accept): through the cache, neither ever gets the other's copy, and each copy
    is kept."""
    wanted = {BROWSER: "text/html", READER: "application/atom+xml"}
    for _ in range(3):
        for accept, kind in wanted.items():
            media_type, body = fetch(cached + "/feed.atom", accept)
            if not media_type.startswith(kind) or (kind == "text/html") == body.startswith("<?xml"):
                fail(f"asked with Accept {accept!r}, got {media_type} ({last_log_line(work)})")
    for accept, kind in wanted.items():
        wait_until(f"a cache hit for Accept {accept!r}",
                   lambda: fetch(cached + "/feed.atom", accept)[0].startswith(kind)
                   and "cache=HIT" in last_log_line(work), seconds=5)


def wait_until(what, check, seconds=30, shown=None):
    """Polls `check` until it holds; on giving up, says what `shown` returns (the
    requests nginx logged, say) so that a failure can be understood from the CI log."""
    deadline = time.monotonic() + seconds
    error = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError as e:
            error = e
        time.sleep(0.1)
    details = f"; last error: {error}" if error else ""
    if shown:
        details += f"; seen: {shown()}"
    fail(f"gave up waiting for {what}{details}")


def fail(message):
    print(f"nginx cache: FAIL {message}")
    sys.exit(1)


def last_log_line(work):
    lines = (work / "access.log").read_text().strip().splitlines()
    return lines[-1] if lines else ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=str(REPO / "target" / "release" / "seedfeed"))
    a = ap.parse_args()
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    missing = [m for m, ok in [("nginx (apt-get install -y nginx)", nginx), (f"the binary {a.binary}", os.access(a.binary, os.X_OK))] if not ok]
    if missing:
        print("nginx cache: cannot run, missing: " + "; ".join(missing))
        sys.exit(2)

    work = Path(tempfile.mkdtemp(prefix="seedfeed-nginx-"))
    seeds, data = work / "seeds", work / "data"
    seeds.mkdir()
    for d in ["tmp", "cache"]:
        (work / d).mkdir()
    shutil.copy(SAMPLE, seeds / SAMPLE.name)
    back, front = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEDFEED_")}
    env.update(SEEDFEED_CACHE_MAX_AGE=str(MAX_AGE), SEEDFEED_ACCESS_LOG="true", SEEDFEED_LOG="info")
    seedfeed_log = open(work / "seedfeed.log", "w")
    daemon = subprocess.Popen(
        [a.binary, "serve", "--seeds", str(seeds), "--data", str(data), "--listen", f"127.0.0.1:{back}",
         "--admin-listen", "127.0.0.1:0", "--base-url", f"http://127.0.0.1:{front}"],
        env=env, stderr=seedfeed_log)
    # As root, nginx's workers would run as nobody and could not use our temp folder.
    user = "user root;" if os.geteuid() == 0 else ""
    (work / "nginx.conf").write_text(NGINX_CONF.format(user=user, work=work, front=front, back=back))
    proxy = subprocess.Popen([nginx, "-p", str(work), "-c", str(work / "nginx.conf"), "-g", "daemon off;"],
                             stderr=subprocess.DEVNULL)
    origin, cached = f"http://127.0.0.1:{back}", f"http://127.0.0.1:{front}"
    try:
        wait_until("seedfeed", lambda: "countercoup" in get(origin + "/feed.atom")[1])
        wait_until("nginx", lambda: get(cached + "/healthz")[0] == 200)

        _, first = get(cached + "/feed.atom")
        if "cache=MISS" not in last_log_line(work):
            fail(f"first request not a miss: {last_log_line(work)}")
        # nginx stores the response once it has been read whole: ask until it is there.
        wait_until("a cache hit", lambda: get(cached + "/feed.atom") and "cache=HIT" in last_log_line(work), seconds=5)
        print("nginx cache: MISS, then HIT within max-age")
        check_vary(cached, work)
        print("nginx cache: a browser gets the page, a reader the feed, each kept (Vary: Accept)")

        time.sleep(MAX_AGE + 1)
        log_before = len((work / "access.log").read_text().splitlines())
        revalidated = lambda: get(cached + "/feed.atom") and "cache=REVALIDATED" in last_log_line(work)
        wait_until("a revalidation", revalidated, seconds=10,
                   shown=lambda: (work / "access.log").read_text().splitlines()[log_before:][-8:])
        since = (work / "access.log").read_text().splitlines()[log_before:]
        if any("upstream=200" in line for line in since):
            fail(f"nginx fetched the whole feed again instead of revalidating: {since}")
        if "upstream=304" not in since[-1]:
            fail(f"the revalidation was not a 304 from seedfeed: {since[-1]}")
        _, again = get(cached + "/feed.atom")
        if again != first:
            fail("the revalidated copy differs from the first")
        if "status=304" not in (work / "seedfeed.log").read_text():
            fail("seedfeed's access log shows no 304")
        print("nginx cache: after max-age, revalidated with seedfeed's validators (upstream 304)")

        new = SAMPLE.read_text().replace("Mali: countercoup attempted", "A brand new story")
        (seeds / "new-story.txt").write_text(new)
        wait_until("seedfeed to publish the new story", lambda: "A brand new story" in get(origin + "/feed.atom")[1])
        wait_until("nginx to serve the new story after max-age",
                   lambda: "A brand new story" in get(cached + "/feed.atom")[1], seconds=MAX_AGE + 10)
        print(f"nginx cache: the new entry is served through the cache ({last_log_line(work)})")
        print("nginx cache: OK")
    finally:
        proxy.send_signal(signal.SIGQUIT)
        daemon.terminate()
        for p in (proxy, daemon):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        if os.environ.get("KEEP"):
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
