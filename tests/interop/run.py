#!/usr/bin/env python3
"""Interop suite: the real daemon over a real folder, its documents read by real clients.

    python3 tests/interop/run.py [--binary target/release/seedfeed] [--keep] [-v]

Builds a seeds folder (500 generated articles plus every fixture article), works out
what must be published with `seedfeed parse` (not by asking the daemon), serves the
folder with `seedfeed serve` on a free loopback port, downloads every document (main
feeds, section feeds, archive pages, OPML) and checks them with xmllint, jing (the RFC
4287 schema), feedparser, newsboat and sfeed, then compares what they read with what is
expected. Then it deletes an article (RFC 6721 tombstone) and adds one (RFC 3229 delta).
Last, a second daemon serves a podcast (two episodes with their audio, transcript and
chapters from tests/common/media, and an article without audio), read by feedparser,
newsboat and podcastparser (the parser gPodder uses).

Exit status: 0 every check passed; 1 a check failed (each failure names the document
URL, what was expected and what was seen); 2 a tool, the binary or a file of the
repository is missing (never skipped).

Needs: Python 3.11+, feedparser, podcastparser, xmllint (libxml2-utils), jing, newsboat,
sfeed. Nothing outside the repository: the articles come from bench/gen_corpus.py, the
schema is atom.rnc beside this file, the media files are tests/common/media's.
"""

import argparse
import collections
import html
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
GEN_CORPUS = REPO / "bench" / "gen_corpus.py"
ATOM_RNC = HERE / "atom.rnc"  # RFC 4287 Appendix B; its header says where it comes from
FIXTURES = REPO / "tests" / "fixtures" / "articles"
MEDIA = REPO / "tests" / "common" / "media"

# The podcast of the last stage: `[podcast]` for the main feed, a section's table for
# /categories/talk.rss, over two episodes and an article without audio.
PODCAST_TOML = """[feed]
title = "Interop Show"
[podcast]
image = "podcast/cover.png"
category = "Society & Culture > Documentary"
owner_name = "Interop"
owner_email = "interop@example.org"
[podcast.sections.talk]
category = "Technology"
"""
# Key, audio fixture, its name beside the article, itunes:episode, the header's seconds.
PODCAST_EPISODES = [
    ("one", "vbr.mp3", "one.mp3", 1, 4),
    ("two", "episode.m4a", "two.m4a", 2, 5),
]
# What goes with episode one by its name.
PODCAST_COMPANIONS = [("episode.vtt", "one.vtt"), ("episode.chapters.json", "one.chapters.json")]

CORPUS_SIZE = 500
FEED_SIZE = 50  # the daemon's default feed_size, which is also the archive page size
# Fixture copies get distinct whole-second mtimes after the newest generated article
# (gen_corpus ends its spread at 1700000000), so that "newest" is never a tie.
FIXTURE_MTIME_BASE = 1_700_000_000

ATOM = "{http://www.w3.org/2005/Atom}"
TOMBSTONES = "{http://purl.org/atompub/tombstones/1.0}"
HISTORY = "{http://purl.org/syndication/history/1.0}"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
MEDIA_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
    "opml": "text/x-opml",
}
RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

START_TIMEOUT = 60  # s until /healthz answers
SETTLE_TIMEOUT = 90  # s until the documents stop changing
SETTLE_QUIET = 2.0  # s the /feed.atom ETag must stay the same
CHANGE_TIMEOUT = 30  # s for a deletion or an addition to show in /feed.atom
TOOL_TIMEOUT = 120  # s for any one external tool

# Never go through a proxy to reach loopback.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Abort(Exception):
    """A failure after which the remaining checks cannot run."""


class Missing(Exception):
    """A tool or file the suite needs is not there (exit 2)."""


# ------------------------------------------------------------------ reporting


class Group:
    """One check group: prints one line, keeps its failures for the summary."""

    all_groups = []

    def __init__(self, name, unit):
        self.name, self.unit = name, unit
        self.count = 0
        self.failures = []
        Group.all_groups.append(self)

    def fail(self, where, message):
        self.failures.append(f"{where}: {message}")

    def check(self, condition, where, message):
        if not condition:
            self.fail(where, message)
        return condition

    def finish(self, extra=""):
        extra = f" ({extra})" if extra else ""
        if not self.failures:
            print(f"{self.name}: {self.count} {self.unit} ok{extra}", flush=True)
            return
        print(
            f"{self.name}: FAIL, {len(self.failures)} problem(s) in {self.count} {self.unit}{extra}",
            flush=True,
        )
        for line in self.failures[:25]:
            print(f"    - {line}", flush=True)
        if len(self.failures) > 25:
            print(f"    ... and {len(self.failures) - 25} more", flush=True)


def sample(items, n=5):
    items = sorted(items)
    more = f" … (+{len(items) - n})" if len(items) > n else ""
    return ", ".join(str(i) for i in items[:n]) + more


# ------------------------------------------------------------------ preflight


def preflight(binary):
    """Everything the suite needs, or Missing naming it and how to install it."""
    missing = []
    for tool, how in [
        ("xmllint", "apt-get install -y libxml2-utils"),
        ("jing", "apt-get install -y jing"),
        ("newsboat", "apt-get install -y newsboat"),
        ("sfeed", "apt-get install -y sfeed"),
    ]:
        if shutil.which(tool) is None:
            missing.append(f"{tool} is not on PATH (install it: {how})")
    for module in ("feedparser", "podcastparser"):
        try:
            __import__(module)
        except ImportError:
            missing.append(
                f"the Python module {module} is missing for {sys.executable} "
                f"(install it: python3 -m pip install {module})"
            )
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        missing.append(f"the seedfeed binary {binary} is missing (build it: cargo build --release)")
    for path, what in [(GEN_CORPUS, "the corpus generator"), (ATOM_RNC, "the Atom RELAX NG schema"),
                       (MEDIA / "cover.png", "the media fixtures")]:
        if not path.is_file():
            missing.append(f"{what} {path} is missing from the repository")
    if not FIXTURES.is_dir():
        missing.append(f"the fixture articles {FIXTURES} are missing")
    if missing:
        raise Missing("\n".join(missing))


# ------------------------------------------------------------------ processes and HTTP


def clean_env(**extra):
    """The environment without any SEEDFEED_* setting of the caller, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEDFEED_")}
    env.update(extra)
    return env


def run(cmd, **kwargs):
    kwargs.setdefault("timeout", TOOL_TIMEOUT)
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    try:
        return subprocess.run([str(c) for c in cmd], capture_output=True, **kwargs)
    except subprocess.TimeoutExpired as e:
        raise Abort(f"{Path(str(cmd[0])).name} did not finish in {e.timeout} s: {' '.join(map(str, cmd))[:200]}")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Response:
    url: str
    status: int
    headers: dict  # lower-case names
    body: bytes


def fetch(url, headers=None, method="GET"):
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with OPENER.open(request, timeout=30) as r:
            return Response(url, r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as e:
        return Response(url, e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())
    except (urllib.error.URLError, OSError) as e:
        raise Abort(f"{url}: request failed: {e}")


class Daemon:
    def __init__(self, binary, seeds, data, port, log, config=None):
        self.base = f"http://127.0.0.1:{port}"
        self.log = log
        cmd = [binary, "serve", "--seeds", seeds, "--data", data,
               "--listen", f"127.0.0.1:{port}", "--admin-listen", "127.0.0.1:0",
               "--base-url", self.base]
        if config is not None:
            cmd += ["--config", config]
        self.log_file = open(log, "wb")
        self.proc = subprocess.Popen(
            [str(c) for c in cmd], stdin=subprocess.DEVNULL, stdout=self.log_file,
            stderr=subprocess.STDOUT, env=clean_env(SEEDFEED_LOG="warn", SEEDFEED_WEBSUB_HUB="true"),
        )

    def url(self, path):
        return self.base + path

    def log_tail(self, lines=15):
        try:
            text = Path(self.log).read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return "\n".join("    | " + line for line in text[-lines:])

    def ensure_running(self):
        if self.proc.poll() is not None:
            raise Abort(f"the daemon exited with status {self.proc.returncode}; its log:\n{self.log_tail()}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()


# ------------------------------------------------------------------ documents


@dataclass
class Item:
    id: str
    title: str
    link: str
    date: str  # as written: RFC 3339 (Atom, JSON) or RFC 822 (RSS)


@dataclass
class Doc:
    path: str
    url: str
    kind: str  # rss, atom, json, opml, xsl
    response: Response
    file: Path
    items: list = field(default_factory=list)
    links: dict = field(default_factory=dict)  # feed-level rel -> href
    title: str = ""
    tombstones: list = field(default_factory=list)  # (ref, when)
    is_archive: bool = False  # carries fh:archive

    @property
    def ids(self):
        return [i.id for i in self.items]

    @property
    def is_feed_xml(self):
        return self.kind in ("rss", "atom")


def text_of(element):
    """The plain text of an Atom text construct (RFC 4287 §3.1) or an RSS title, which
    readers take as HTML: entity-decoded, as a reader would show it."""
    if element is None:
        return ""
    kind = element.get("type", "text")
    if kind == "xhtml":
        return "".join(element.itertext())
    text = element.text or ""
    return html.unescape(text) if kind == "html" else text


def kind_of(path):
    ext = path.rsplit(".", 1)[-1]
    return {"rss": "rss", "atom": "atom", "json": "json", "opml": "opml", "xsl": "xsl"}[ext]


def parse_structure(doc):
    """Reads a feed's entries and links with the standard library (the reference the
    clients are compared with). Raises ValueError when the document is not a feed."""
    body = doc.response.body
    if doc.kind == "json":
        data = json.loads(body)
        doc.title = data.get("title", "")
        doc.items = [
            Item(str(i.get("id", "")), i.get("title", ""), i.get("url", ""), i.get("date_published", ""))
            for i in data.get("items", [])
        ]
        return
    root = ET.fromstring(body)
    if doc.kind == "atom":
        if root.tag != ATOM + "feed":
            raise ValueError(f"root element is {root.tag}, not atom:feed")
        doc.title = text_of(root.find(ATOM + "title"))
        doc.links = {l.get("rel", "alternate"): l.get("href") for l in root.findall(ATOM + "link")}
        for e in root.findall(ATOM + "entry"):
            alternate = [l.get("href") for l in e.findall(ATOM + "link") if l.get("rel", "alternate") == "alternate"]
            doc.items.append(Item(
                e.findtext(ATOM + "id", ""), text_of(e.find(ATOM + "title")),
                alternate[0] if alternate else "",
                e.findtext(ATOM + "published") or e.findtext(ATOM + "updated", ""),
            ))
        doc.tombstones = [(t.get("ref"), t.get("when")) for t in root.findall(TOMBSTONES + "deleted-entry")]
        doc.is_archive = root.find(HISTORY + "archive") is not None
    elif doc.kind == "rss":
        channel = root.find("channel")
        if root.tag != "rss" or channel is None:
            raise ValueError(f"root element is {root.tag}, not rss/channel")
        doc.title = html.unescape(channel.findtext("title", ""))
        doc.links = {l.get("rel", "alternate"): l.get("href") for l in channel.findall(ATOM + "link")}
        doc.items = [
            Item(i.findtext("guid", ""), html.unescape(i.findtext("title", "")), i.findtext("link", ""),
                 i.findtext("pubDate", ""))
            for i in channel.findall("item")
        ]
        doc.is_archive = channel.find(HISTORY + "archive") is not None


class Collector:
    """Downloads documents once, keeps them by path and as files for the tools."""

    def __init__(self, daemon, folder, http_group):
        self.daemon = daemon
        self.folder = folder
        self.docs = {}
        self.http = http_group
        folder.mkdir(parents=True, exist_ok=True)

    def get(self, path, required=True, name=None):
        if path in self.docs and name is None:
            return self.docs[path]
        url = self.daemon.url(path)
        response = fetch(url)
        if response.status != 200:
            if required:
                self.http.fail(url, f"expected 200, got {response.status}")
            return None
        file = self.folder / (name or path.strip("/").replace("/", "_"))
        file.write_bytes(response.body)
        doc = Doc(path, url, kind_of(path), response, file)
        self.check_headers(doc)
        if doc.kind in ("rss", "atom", "json"):
            try:
                parse_structure(doc)
            except (ValueError, ET.ParseError, json.JSONDecodeError) as e:
                self.http.fail(url, f"cannot be read as {doc.kind}: {e}")
        if name is None:
            self.docs[path] = doc
        return doc

    def check_headers(self, doc):
        self.http.count += 1
        h = doc.response.headers
        ctype = h.get("content-type", "")
        mime = ctype.split(";")[0].strip().lower()
        want = MEDIA_TYPES.get(doc.kind)
        if want:
            self.http.check(mime == want, doc.url, f"Content-Type {ctype!r}, expected {want}; charset=utf-8")
            self.http.check("charset=utf-8" in ctype.lower().replace(" ", ""), doc.url,
                            f"Content-Type {ctype!r} has no charset=utf-8")
        etag = h.get("etag", "")
        self.http.check(etag.startswith('"') and etag.endswith('"'), doc.url, f"no strong ETag (got {etag!r})")
        self.http.check("last-modified" in h, doc.url, "no Last-Modified")

    def feeds(self):
        return [d for d in self.docs.values() if d.is_feed_xml]

    def xml_docs(self):
        return [d for d in self.docs.values() if d.kind in ("rss", "atom", "opml", "xsl")]


# ------------------------------------------------------------------ expected entries


@dataclass
class Expected:
    id: str
    key: str
    file: str
    title: str
    link: str
    slug: str | None
    term: str | None
    published: datetime
    content_hash: str


def rfc3339(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_seeds(binary, files, base):
    """`seedfeed parse` on every file: the published entries, deduplicated as the daemon
    does (identical content: the first file in path order wins), and the rejects."""
    result = run([binary, "parse", *files], env=clean_env(SEEDFEED_BASE_URL=base, SEEDFEED_LOG="error"))
    if result.returncode not in (0, 1):
        raise Abort(f"seedfeed parse exited with {result.returncode}: {result.stderr.decode(errors='replace')[-500:]}")
    try:
        parsed = json.loads(result.stdout)
    except json.JSONDecodeError as e:
        raise Abort(f"seedfeed parse printed no JSON array: {e}")
    # One line per rejected file (`path: rejected: reason`); anything else is the log.
    prefixes = tuple(f"{f}: " for f in files)
    rejects = [l for l in result.stderr.decode(errors="replace").splitlines() if l.startswith(prefixes)]
    by_hash = {}
    duplicates = []
    for e in sorted(parsed, key=lambda e: e["file"]):
        if e["content_hash"] in by_hash:
            duplicates.append((e["file"], by_hash[e["content_hash"]].file))
            continue
        category = e.get("category") or {}
        by_hash[e["content_hash"]] = Expected(
            id=e["id"], key=e["key"], file=e["file"], title=e["title"], link=e["link"],
            slug=category.get("slug"), term=category.get("term"),
            published=rfc3339(e["published"]), content_hash=e["content_hash"],
        )
    expected = {e.id: e for e in by_hash.values()}
    if len(expected) != len(by_hash):
        raise Abort("seedfeed parse gave two entries the same id")
    return expected, parsed, rejects, duplicates


# ------------------------------------------------------------------ the run


class Suite:
    def __init__(self, args):
        self.args = args
        self.binary = args.binary
        self.work = Path(tempfile.mkdtemp(prefix="seedfeed-interop-"))
        self.seeds = self.work / "seeds"
        self.data = self.work / "data"
        self.expected = {}
        self.daemon = None
        self.site_title = ""
        self.sections = []  # slugs
        self.archive_pages = 0

    # -------------------------------------------------------------- set-up

    def build_seeds(self):
        self.seeds.mkdir()
        result = run([sys.executable, GEN_CORPUS, self.seeds, "-n", CORPUS_SIZE,
                      "--mtime-spread", "500000", "-q"])
        if result.returncode != 0:
            raise Abort(f"gen_corpus.py failed: {result.stderr.decode(errors='replace')[-500:]}")
        fixtures = sorted(p for p in FIXTURES.iterdir() if p.is_file())
        for i, path in enumerate(fixtures):
            target = self.seeds / path.name
            shutil.copyfile(path, target)
            t = FIXTURE_MTIME_BASE + 1000 * (i + 1)
            os.utime(target, (t, t))
        files = sorted(self.seeds.iterdir())
        print(f"seeds: {len(files)} files ({CORPUS_SIZE} generated, {len(fixtures)} fixtures) in {self.seeds}", flush=True)
        return files

    def compute_expected(self, files, base):
        group = Group("parse", "files")
        expected, parsed, rejects, duplicates = parse_seeds(self.binary, files, base)
        group.count = len(files)
        generated = [e for e in parsed if re.match(r"\d{6}_[0-9a-f]{16}$", e["key"])]
        group.check(len(generated) == CORPUS_SIZE, "seedfeed parse",
                    f"{len(generated)} of the {CORPUS_SIZE} generated articles parsed")
        group.check(len(parsed) + len(rejects) == len(files), "seedfeed parse",
                    f"{len(parsed)} entries + {len(rejects)} rejects for {len(files)} files")
        for entry in expected.values():
            group.check(entry.link.startswith(base + "/entries/"), entry.file, f"link {entry.link!r} is not under {base}/entries/")
        group.finish(f"{len(expected)} to publish, {len(rejects)} rejected, {len(duplicates)} duplicates")
        if self.args.verbose:
            for line in rejects:
                print(f"    rejected: {line}")
            for dup, original in duplicates:
                print(f"    duplicate: {dup} of {original}")
        self.expected = expected

    def start_daemon(self, port, seeds=None, data=None, config=None, log="daemon.log"):
        self.daemon = Daemon(self.binary, seeds or self.seeds, data or self.data, port, self.work / log, config)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            self.daemon.ensure_running()
            try:
                if fetch(self.daemon.url("/healthz")).status == 200:
                    break
            except Abort:
                pass
            if time.monotonic() > deadline:
                raise Abort(f"{self.daemon.url('/healthz')} did not answer 200 within {START_TIMEOUT} s")
            time.sleep(0.1)

    def wait_settled(self, want_count, deadline_s=SETTLE_TIMEOUT, what="the documents to settle"):
        """Until /feed.json has `want_count` items and the /feed.atom ETag has not changed
        for SETTLE_QUIET seconds. Returns that ETag."""
        deadline = time.monotonic() + deadline_s
        etag, since, count = None, time.monotonic(), None
        while True:
            self.daemon.ensure_running()
            json_feed = fetch(self.daemon.url("/feed.json"))
            if json_feed.status == 200:
                try:
                    count = len(json.loads(json_feed.body).get("items", []))
                except (json.JSONDecodeError, AttributeError):
                    count = None
            atom = fetch(self.daemon.url("/feed.atom"), method="HEAD")
            current = atom.headers.get("etag") if atom.status == 200 else None
            now = time.monotonic()
            if current != etag:
                etag, since = current, now
            if count == want_count and etag and now - since >= SETTLE_QUIET:
                return etag
            if now > deadline:
                raise Abort(f"timed out after {deadline_s} s waiting for {what}: /feed.json has {count} items "
                            f"(expected {want_count}), /feed.atom ETag {etag!r} last changed {now - since:.1f} s ago")
            time.sleep(0.25)

    # -------------------------------------------------------------- collecting

    def collect(self):
        http = Group("http", "documents")
        c = Collector(self.daemon, self.work / "docs", http)
        for ext in ("rss", "atom", "json"):
            c.get(f"/feed.{ext}")
        main_atom = c.docs.get("/feed.atom")
        if main_atom is None:
            http.finish()
            raise Abort("/feed.atom could not be downloaded")
        self.site_title = main_atom.title

        opml = c.get("/feeds.opml")
        base = self.daemon.base
        if opml is not None:
            try:
                urls = [o.get("xmlUrl") for o in ET.fromstring(opml.response.body).iter("outline") if o.get("xmlUrl")]
            except ET.ParseError as e:
                http.fail(opml.url, f"not well-formed: {e}")
                urls = []
            http.check(base + "/feed.atom" in urls, opml.url, "does not list the main feed /feed.atom")
            for url in urls:
                m = re.fullmatch(re.escape(base) + r"/categories/([^/]+)\.atom", url)
                if m:
                    self.sections.append(m.group(1))
                elif url != base + "/feed.atom":
                    http.fail(opml.url, f"lists {url!r}, which is neither the main feed nor a section's .atom feed")
        for slug in self.sections:
            for ext in ("rss", "atom", "json"):
                c.get(f"/categories/{slug}.{ext}")

        # RFC 5005 archives: prev-archive from the subscription document, then page by page.
        self.walk_archives(c, http)

        # A browser is sent an HTML page about the feed (no script, no XSLT), with its own
        # tag; the feed's bytes are the readers'. The stylesheet the feed names is served.
        browser = fetch(self.daemon.url("/feed.atom"), headers={"Accept": BROWSER_ACCEPT})
        http.count += 1
        ctype = browser.headers.get("content-type", "")
        http.check(browser.status == 200, browser.url, f"with a browser Accept: status {browser.status}")
        http.check(ctype.split(";")[0].strip() == "text/html", browser.url,
                   f"with a browser Accept: Content-Type {ctype!r}, expected text/html")
        http.check(b"<script" not in browser.body and b"xml-stylesheet" not in browser.body, browser.url,
                   "with a browser Accept: the page has a script or a stylesheet instruction")
        http.check(browser.headers.get("etag") != main_atom.response.headers.get("etag"), browser.url,
                   "with a browser Accept: the page has the feed's ETag")
        xsl = c.get("/feed.xsl")
        if xsl is not None:
            ctype = xsl.response.headers.get("content-type", "")
            http.check("xsl" in ctype or "xml" in ctype, xsl.url, f"Content-Type {ctype!r} is not an XSLT type")
        http.finish(f"{len(self.sections)} sections, {self.archive_pages} archive pages")
        return c

    def walk_archives(self, c, http):
        main = {ext: c.docs.get(f"/feed.{ext}") for ext in ("rss", "atom")}
        base = self.daemon.base
        newest = None
        prev = main["atom"].links.get("prev-archive")
        if prev is not None:
            m = re.fullmatch(re.escape(base) + r"/archive/(\d+)\.atom", prev)
            if not m:
                http.fail(main["atom"].url, f"prev-archive {prev!r} is not {base}/archive/N.atom")
                return
            newest = int(m.group(1))
        if main["rss"] is not None:
            want = None if newest is None else f"{base}/archive/{newest}.rss"
            http.check(main["rss"].links.get("prev-archive") == want, main["rss"].url,
                       f"prev-archive {main['rss'].links.get('prev-archive')!r}, expected {want!r} (as the Atom feed)")
        if newest is None:
            return
        self.archive_pages = newest
        number = newest
        while number >= 1:
            for ext in ("atom", "rss"):
                page = c.get(f"/archive/{number}.{ext}")
                if page is None:
                    continue
                self.check_archive_links(page, number, ext, http)
            atom = c.docs.get(f"/archive/{number}.atom")
            if number == 1 or atom is None:
                break
            number -= 1
        following = fetch(self.daemon.url(f"/archive/{newest + 1}.atom"))
        http.check(following.status == 404, following.url,
                   f"status {following.status}, but the main feed's prev-archive names page {newest} as the newest")

    def check_archive_links(self, page, number, ext, http):
        base = self.daemon.base
        want = {"current": f"{base}/feed.{ext}", "self": f"{base}/archive/{number}.{ext}"}
        if number >= 2:
            want["prev-archive"] = f"{base}/archive/{number - 1}.{ext}"
        elif self.archive_pages >= 2:
            want["next-archive"] = f"{base}/archive/2.{ext}"
        for rel, href in want.items():
            http.check(page.links.get(rel) == href, page.url, f"link rel={rel} is {page.links.get(rel)!r}, expected {href!r}")
        if number >= 2:
            http.check("next-archive" not in page.links, page.url,
                       "a full page >= 2 links next-archive (it could not stay immutable)")
        http.check(page.is_archive, page.url, "has no fh:archive element (RFC 5005 §4)")
        cache = page.response.headers.get("cache-control", "")
        http.check("immutable" in cache, page.url, f"Cache-Control {cache!r} of a full archive page is not immutable")

    # -------------------------------------------------------------- checks

    def check_xmllint(self, docs, group):
        for doc in docs:
            group.count += 1
            r = run(["xmllint", "--noout", "--nonet", doc.file])
            if r.returncode != 0:
                first = (r.stdout + r.stderr).decode(errors="replace").strip().splitlines()
                group.fail(doc.url, f"xmllint exit {r.returncode}: {first[0] if first else ''}")

    def check_jing(self, docs, group):
        docs = [d for d in docs if d.kind == "atom"]
        if not docs:
            return
        group.count += len(docs)
        r = run(["jing", "-c", ATOM_RNC, *[d.file for d in docs]])
        out = (r.stdout + r.stderr).decode(errors="replace")
        lines = [l for l in out.splitlines() if l.strip() and not l.startswith("[warning]")]
        attributed = False
        for doc in docs:
            errors = [l for l in lines if l.startswith(str(doc.file) + ":")]
            if errors:
                attributed = True
                group.fail(doc.url, f"{len(errors)} schema error(s), first: {errors[0][len(str(doc.file)) + 1:]}")
        if r.returncode != 0 and not attributed:
            group.fail("jing", f"exit {r.returncode}: {' | '.join(lines[:3])}")

    def check_feedparser(self, docs, group):
        import feedparser

        base = self.daemon.base
        for doc in docs:
            group.count += 1
            parsed = feedparser.parse(
                doc.response.body,
                response_headers={"content-type": doc.response.headers.get("content-type", ""),
                                  "content-location": doc.url},
            )
            if parsed.bozo:
                group.fail(doc.url, f"bozo: {parsed.get('bozo_exception')!r}")
            want_version = {"rss": "rss20", "atom": "atom10"}[doc.kind]
            group.check(parsed.version == want_version, doc.url, f"read as {parsed.version!r}, expected {want_version}")
            ids = [e.get("id", "") for e in parsed.entries]
            if not group.check(ids == doc.ids, doc.url,
                               f"feedparser reads {len(ids)} entries, the document has {len(doc.ids)} (or other ids)"):
                continue
            for e in parsed.entries:
                where = f"{doc.url} entry {e.get('id')}"
                group.check(e.get("id"), where, "no id")
                group.check(e.get("title"), where, "no title")
                link = e.get("link", "")
                group.check(link.startswith(base + "/"), where, f"link {link!r} is not an absolute URL under {base}/")
                group.check(e.get("published_parsed") or e.get("updated_parsed"), where, "no published or updated date")

    def check_newest(self, group, where, ids, pool, want_count, dates):
        """`ids` are `want_count` entries of `pool`, the newest by published date, newest
        first (dates: the document's own date of each id, as datetimes)."""
        group.check(len(ids) == want_count, where, f"{len(ids)} entries, expected {want_count}")
        group.check(len(set(ids)) == len(ids), where, "an id appears twice")
        unknown = [i for i in ids if i not in pool]
        group.check(not unknown, where, f"{len(unknown)} ids are not among the expected entries: {sample(unknown, 3)}")
        known = [i for i in ids if i in pool]
        left_out = set(pool) - set(known)
        if known and left_out:
            oldest_in = min(self.expected[i].published for i in known)
            newer_out = [self.expected[i].key for i in left_out if self.expected[i].published > oldest_in]
            group.check(not newer_out, where,
                        f"leaves out {len(newer_out)} entries newer than its oldest one: {sample(newer_out, 3)}")
        order = [dates.get(i) for i in ids]
        if None not in order:
            group.check(all(a >= b for a, b in zip(order, order[1:])), where, "entries are not newest first")

    def check_main(self, c):
        group = Group("main feeds", "feeds")
        rss, atom, js = (c.docs.get(f"/feed.{ext}") for ext in ("rss", "atom", "json"))
        if None in (rss, atom, js):
            group.fail("main feeds", "one of /feed.rss /feed.atom /feed.json is missing")
            group.finish()
            return
        group.count = 3
        want = min(FEED_SIZE, len(self.expected))
        group.check(rss.ids == atom.ids, rss.url, f"ids differ from {atom.url} (same entries, same order expected)")
        group.check(js.ids == atom.ids, js.url, f"ids differ from {atom.url} (same entries, same order expected)")
        dates = {}
        for item in js.items:
            if group.check(RFC3339_Z.match(item.date or ""), js.url, f"item {item.id}: date_published {item.date!r} is not RFC 3339 in UTC (Z)"):
                dates[item.id] = rfc3339(item.date)
        for doc in (rss, atom, js):
            self.check_newest(group, doc.url, doc.ids, self.expected, want, dates)
            for item in doc.items:
                e = self.expected.get(item.id)
                if e is None:
                    continue
                group.check(item.link == e.link, doc.url, f"entry {item.id}: link {item.link!r}, expected {e.link!r}")
                group.check(item.title == e.title, doc.url, f"entry {item.id}: title {item.title!r}, expected {e.title!r}")
        for i, d in dates.items():
            e = self.expected.get(i)
            if e is not None:
                group.check(abs(d - e.published) <= timedelta(seconds=1), js.url,
                            f"entry {i}: date_published {d.isoformat()}, but the file's mtime is {e.published.isoformat()}")
        # The daemon runs with the built-in WebSub hub: each main feed names it in its
        # body and in a Link header that also names the feed itself, once, as self.
        hub = self.daemon.base + "/hub"
        group.check(rss.links.get("hub") == hub, rss.url, f"atom:link rel=hub is {rss.links.get('hub')!r}, expected {hub!r}")
        group.check(atom.links.get("hub") == hub, atom.url, f"link rel=hub is {atom.links.get('hub')!r}, expected {hub!r}")
        hubs = json.loads(js.response.body).get("hubs")
        group.check(hubs == [{"type": "WebSub", "url": hub}], js.url, f"hubs is {hubs!r}, expected one WebSub hub {hub!r}")
        for doc in (rss, atom, js):
            link = doc.response.headers.get("link", "")
            group.check(f'<{hub}>; rel="hub"' in link and link.count('rel="self"') == 1
                        and f'<{doc.url}>; rel="self"' in link, doc.url,
                        f"Link header {link!r} does not name the hub and the feed as self")
        group.finish(f"{want} entries each")

    def check_sections(self, c):
        group = Group("section feeds", "sections")
        by_slug = collections.defaultdict(dict)
        for e in self.expected.values():
            if e.slug:
                by_slug[e.slug][e.id] = e
        missing = set(by_slug) - set(self.sections)
        group.check(not missing, self.daemon.url("/feeds.opml"), f"lists no feed for the sections {sample(missing)}")
        extra = set(self.sections) - set(by_slug)
        group.check(not extra, self.daemon.url("/feeds.opml"), f"lists feeds for sections with no entry: {sample(extra)}")
        for slug in self.sections:
            group.count += 1
            docs = [c.docs.get(f"/categories/{slug}.{ext}") for ext in ("rss", "atom", "json")]
            if None in docs:
                group.fail(self.daemon.url(f"/categories/{slug}"), "one of .rss .atom .json is missing")
                continue
            rss, atom, js = docs
            pool = by_slug.get(slug, {})
            term = next(iter(pool.values())).term if pool else None
            want_title = f"{self.site_title} — {term}"
            dates = {i.id: rfc3339(i.date) for i in js.items if RFC3339_Z.match(i.date or "")}
            for doc in docs:
                group.check(doc.title == want_title, doc.url, f"title {doc.title!r}, expected {want_title!r}")
                self.check_newest(group, doc.url, doc.ids, pool, min(FEED_SIZE, len(pool)), dates)
            group.check(rss.ids == atom.ids and js.ids == atom.ids, atom.url, "the .rss, .atom and .json feeds have different ids")
        group.finish(f"{sum(1 for d in c.docs if d.startswith('/categories/'))} documents")

    def check_archives(self, c):
        group = Group("archives", "pages")
        total = len(self.expected)
        want_pages = 0 if total // FEED_SIZE <= 1 else total // FEED_SIZE
        group.check(self.archive_pages == want_pages, self.daemon.url("/feed.atom"),
                    f"prev-archive names page {self.archive_pages or None}, expected {want_pages or None} "
                    f"({total} entries, pages of {FEED_SIZE}; page 1 only once page 2 is full)")
        seen = collections.Counter()
        for n in range(1, self.archive_pages + 1):
            atom, rss = c.docs.get(f"/archive/{n}.atom"), c.docs.get(f"/archive/{n}.rss")
            if atom is None or rss is None:
                group.fail(self.daemon.url(f"/archive/{n}"), "the .atom or .rss page is missing")
                continue
            group.count += 1
            group.check(len(atom.ids) == FEED_SIZE, atom.url, f"{len(atom.ids)} entries, a full page holds {FEED_SIZE}")
            group.check(rss.ids == atom.ids, rss.url, f"ids differ from {atom.url}")
            unknown = [i for i in atom.ids if i not in self.expected]
            group.check(not unknown, atom.url, f"{len(unknown)} unexpected ids: {sample(unknown, 3)}")
            for item in atom.items:
                e = self.expected.get(item.id)
                if e:
                    group.check(item.link == e.link, atom.url, f"entry {item.id}: link {item.link!r}, expected {e.link!r}")
            seen.update(set(atom.ids))
        twice = [i for i, k in seen.items() if k > 1]
        group.check(not twice, "archive pages", f"{len(twice)} ids are on two pages: {sample(twice, 3)}")
        main = c.docs.get("/feed.atom")
        union = set(seen) | set(main.ids if main else [])
        lost = [self.expected[i].key for i in set(self.expected) - union]
        group.check(not lost, "archives + /feed.atom",
                    f"{len(lost)} of {total} expected entries are in no archive page and not in the main feed "
                    f"(a reader cannot recover them): {sample(lost)}")
        extra = union - set(self.expected)
        group.check(not extra, "archives + /feed.atom", f"{len(extra)} ids that should not be published: {sample(extra, 3)}")
        group.finish(f"{len(union)} of {total} entries recoverable")

    def check_entry_pages(self, c):
        group = Group("entry pages", "links")
        links = []
        for path in ("/feed.atom", "/archive/1.atom"):
            doc = c.docs.get(path)
            if doc:
                links += [(doc.url, i.link) for i in doc.items]
        base = self.daemon.base
        for where, link in links:
            group.count += 1
            if not group.check(link.startswith(base + "/"), where, f"link {link!r} is not under {base}/"):
                continue
            r = fetch(link)
            ctype = r.headers.get("content-type", "")
            group.check(r.status == 200 and ctype.startswith("text/html"), where,
                        f"link {link} answers {r.status} {ctype!r}, expected 200 text/html")
        group.finish()

    def check_newsboat(self, c):
        """newsboat keys its cache by guid alone (an id seen in one feed is not imported
        again for another), so each feed is read by its own newsboat, with its own cache."""
        group = Group("newsboat", "feeds")
        feeds = [c.docs.get("/feed.rss"), c.docs.get("/feed.atom")]
        if self.sections:
            feeds.append(c.docs.get(f"/categories/{self.sections[0]}.atom"))
            feeds.append(c.docs.get(f"/categories/{self.sections[-1]}.rss"))
        imported = 0
        for n, doc in enumerate(f for f in feeds if f is not None):
            group.count += 1
            got = self.newsboat_read(doc.url, self.work / "newsboat" / str(n), group)
            imported += len(got)
            missing = [i for i in doc.ids if i not in got]
            group.check(not missing, doc.url, f"newsboat imported {len(got)} items; {len(missing)} of the "
                                              f"{len(doc.ids)} entries are missing: {sample(missing, 3)}")
            extra = set(got) - set(doc.ids)
            group.check(not extra, doc.url, f"newsboat has items that are not entries: {sample(extra, 3)}")
            for item in doc.items:
                if item.id in got:
                    title, url, date = got[item.id]
                    group.check(url == item.link, doc.url, f"entry {item.id}: newsboat url {url!r}, expected {item.link!r}")
                    group.check(bool(title), doc.url, f"entry {item.id}: newsboat has no title")
                    group.check(date > 0, doc.url, f"entry {item.id}: newsboat found no date")
        group.finish(f"{imported} items imported")

    def newsboat_read(self, url, nb, group):
        """Runs newsboat headless (one `-x reload`, its own config and cache); returns its
        items of `url`, by guid: (title, url, pubDate)."""
        nb.mkdir(parents=True)
        (nb / "urls").write_text(url + "\n")
        (nb / "config").write_text("")
        env = dict(os.environ, HOME=str(nb), XDG_CONFIG_HOME=str(nb), XDG_DATA_HOME=str(nb))
        r = run(["newsboat", "-C", nb / "config", "-u", nb / "urls", "-c", nb / "cache.db",
                 "-l", "4", "-d", nb / "log", "-x", "reload"], env=env)
        group.check(r.returncode == 0, url, f"newsboat -x reload exit {r.returncode}: "
                                            f"{(r.stdout + r.stderr).decode(errors='replace').strip()[-300:]}")
        log = (nb / "log").read_text(errors="replace") if (nb / "log").exists() else ""
        for line in log.splitlines():
            if re.search(r"\] (USERERROR|CRITICAL|ERROR):", line):
                group.fail(url, "newsboat log: " + line.split("]", 1)[-1].strip()[:200])
        try:
            db = sqlite3.connect(f"file:{nb / 'cache.db'}?mode=ro", uri=True)
            rows = db.execute("SELECT guid, title, url, pubDate FROM rss_item WHERE feedurl = ?", (url,)).fetchall()
            db.close()
        except sqlite3.Error as e:
            group.fail(url, f"cannot read newsboat's cache {nb / 'cache.db'}: {e}")
            rows = []
        return {guid: (title, link, date) for guid, title, link, date in rows}

    def check_sfeed(self, docs, group):
        for doc in docs:
            group.count += 1
            with open(doc.file, "rb") as f:
                r = run(["sfeed"], stdin=f)
            if not group.check(r.returncode == 0, doc.url, f"sfeed exit {r.returncode}"):
                continue
            lines = [l for l in r.stdout.decode("utf-8", errors="replace").split("\n") if l]
            fields = [l.split("\t") for l in lines]
            if not group.check(len(lines) == len(doc.items), doc.url,
                               f"sfeed printed {len(lines)} lines for {len(doc.items)} entries"):
                continue
            for item, f in zip(doc.items, fields):
                f = f + [""] * (9 - len(f))
                group.check(f[5] == item.id, doc.url, f"sfeed id (field 6) {f[5]!r}, expected {item.id!r}")
                group.check(f[2] == item.link, doc.url, f"entry {item.id}: sfeed link (field 3) {f[2]!r}, expected {item.link!r}")
                group.check(f[0].isdigit(), doc.url, f"entry {item.id}: sfeed found no date (field 1 {f[0]!r})")

    # -------------------------------------------------------------- changes

    def feed_atom(self, name):
        r = fetch(self.daemon.url("/feed.atom"))
        if r.status != 200:
            raise Abort(f"{r.url}: status {r.status}")
        file = self.work / "docs" / name
        file.write_bytes(r.body)
        doc = Doc("/feed.atom", r.url, "atom", r, file)
        parse_structure(doc)
        return doc

    def wait_for(self, condition, what):
        deadline = time.monotonic() + CHANGE_TIMEOUT
        while True:
            self.daemon.ensure_running()
            doc = self.feed_atom("feed-latest.atom")
            if condition(doc):
                return doc
            if time.monotonic() > deadline:
                raise Abort(f"{doc.url}: {what} within {CHANGE_TIMEOUT} s (it did not)")
            time.sleep(0.2)

    def check_delete(self, c):
        group = Group("tombstone", "checks")
        main = c.docs["/feed.atom"]
        hashes = collections.Counter(e.content_hash for e in self.expected.values())
        # A generated article with unique content: deleting it brings no duplicate back.
        victims = [i for i in main.ids if i in self.expected
                   and re.match(r"\d{6}_", self.expected[i].key) and hashes[self.expected[i].content_hash] == 1]
        if not victims:
            group.fail(main.url, "no generated article in the main feed to delete")
            group.finish()
            return
        victim = self.expected[victims[0]]
        os.remove(victim.file)
        doc = self.wait_for(lambda d: victim.id not in d.ids, f"the deleted {victim.key} should leave the feed")
        self.wait_settled(min(FEED_SIZE, len(self.expected) - 1), what="the feeds to settle after the deletion")
        doc = self.feed_atom("feed-after-delete.atom")
        del self.expected[victim.id]
        group.count += 1
        refs = {ref: when for ref, when in doc.tombstones}
        group.check(victim.id in refs, doc.url, f"no at:deleted-entry ref={victim.id!r} for the deleted {victim.key} "
                                                f"(tombstones: {sample(refs, 3) or 'none'})")
        when = refs.get(victim.id) or ""
        if victim.id in refs:
            group.check(RFC3339_Z.match(when) or re.match(r"^\d{4}-\d\d-\d\dT", when), doc.url,
                        f"at:deleted-entry when={when!r} is not an RFC 3339 date")
        group.count += 1
        group.check(len(doc.ids) == min(FEED_SIZE, len(self.expected)), doc.url,
                    f"{len(doc.ids)} entries after the deletion, expected {min(FEED_SIZE, len(self.expected))}")
        for ext in ("rss", "json"):
            group.count += 1
            other = fetch(self.daemon.url(f"/feed.{ext}"))
            d = Doc(f"/feed.{ext}", other.url, ext, other, self.work / "docs" / f"after-delete.{ext}")
            parse_structure(d)
            group.check(victim.id not in d.ids, d.url, f"still has the deleted entry {victim.id}")
        if victim.slug:
            group.count += 1
            section = fetch(self.daemon.url(f"/categories/{victim.slug}.atom"))
            d = Doc("", section.url, "atom", section, self.work / "docs" / "section-after-delete.atom")
            parse_structure(d)
            group.check(victim.id not in d.ids, d.url, f"still has the deleted entry {victim.id}")
            group.check(victim.id in {r for r, _ in d.tombstones}, d.url,
                        f"no at:deleted-entry ref={victim.id!r} for the deleted {victim.key}")
        self.check_xmllint([doc], group)
        self.check_jing([doc], group)
        self.check_feedparser([doc], group)
        group.finish(f"deleted {victim.key}")

    def check_delta(self):
        group = Group("delta (RFC 3229)", "checks")
        old = fetch(self.daemon.url("/feed.atom"))
        old_etag = old.headers.get("etag", "")
        new_dir = self.work / "new"
        r = run([sys.executable, GEN_CORPUS, new_dir, "-n", "1", "--start", str(CORPUS_SIZE), "-q"])
        if r.returncode != 0:
            raise Abort(f"gen_corpus.py failed: {r.stderr.decode(errors='replace')[-300:]}")
        (new_file,) = list(new_dir.iterdir())
        added, _, rejects, _ = parse_seeds(self.binary, [new_file], self.daemon.base)
        if not added:
            raise Abort(f"seedfeed parse rejects the new article {new_file}: {rejects}")
        (new,) = added.values()
        # Copied in as an operator's rsync does: a hidden temporary, then a rename.
        partial = self.seeds / f".{new_file.name}.part"
        shutil.copy2(new_file, partial)
        os.replace(partial, self.seeds / new_file.name)
        self.wait_for(lambda d: new.id in d.ids, f"the new article {new.key} should appear")
        current_etag = self.wait_settled(min(FEED_SIZE, len(self.expected) + 1),
                                         what="the feeds to settle after the addition")
        url = self.daemon.url("/feed.atom")

        group.count += 1
        delta = fetch(url, headers={"A-IM": "feed", "If-None-Match": old_etag})
        if group.check(delta.status == 226, url, f"A-IM: feed with the previous ETag {old_etag}: status {delta.status}, expected 226"):
            group.check(delta.headers.get("im", "").strip().lower() == "feed", url,
                        f"226 without IM: feed (got {delta.headers.get('im')!r})")
            group.check(delta.headers.get("etag") == current_etag, url,
                        f"226 carries ETag {delta.headers.get('etag')!r}, expected the current {current_etag}")
            d = Doc("/feed.atom", url, "atom", delta, self.work / "docs" / "delta.atom")
            d.file.write_bytes(delta.body)
            try:
                parse_structure(d)
                group.check(d.ids == [new.id], url, f"the delta holds {sample(d.ids, 3) or 'no entry'}, expected only {new.id}")
            except (ValueError, ET.ParseError) as e:
                group.fail(url, f"the delta body is not an Atom feed: {e}")
            import feedparser

            parsed = feedparser.parse(delta.body, response_headers={"content-type": delta.headers.get("content-type", "")})
            group.check(not parsed.bozo, url, f"feedparser: the delta is bozo: {parsed.get('bozo_exception')!r}")
            got = [e.get("id") for e in parsed.entries]
            group.check(got == [new.id], url, f"feedparser reads the delta's entries as {got}, expected [{new.id}]")
        for headers in ({"If-None-Match": current_etag}, {"A-IM": "feed", "If-None-Match": current_etag}):
            group.count += 1
            r = fetch(url, headers=headers)
            group.check(r.status == 304, url, f"{headers}: status {r.status}, expected 304")
        group.finish(f"added {new.key}")

    # -------------------------------------------------------------- podcast

    def build_podcast(self, root):
        """The podcast's folder and config file: two episodes in section Talk (episode
        one with its transcript and chapters beside it), an article without audio, the
        artwork. Returns the seeds folder, the config file and the article files."""
        seeds = root / "seeds"
        (seeds / "shows").mkdir(parents=True)
        (seeds / "podcast").mkdir()
        shutil.copyfile(MEDIA / "cover.png", seeds / "podcast" / "cover.png")
        articles = []
        for day, (key, fixture, audio, number, _) in enumerate(PODCAST_EPISODES, start=1):
            shutil.copyfile(MEDIA / fixture, seeds / "shows" / audio)
            article = seeds / "shows" / f"{key}.md"
            article.write_text(f"---\ntitle: Episode {key}\ndate: 2024-05-0{day}\nsection: Talk\n"
                               f"enclosure: {audio}\nepisode: {number}\nseason: 1\n---\n\nShow {key}.\n")
            articles.append(article)
        for fixture, name in PODCAST_COMPANIONS:
            shutil.copyfile(MEDIA / fixture, seeds / "shows" / name)
        notes = seeds / "notes.md"
        notes.write_text("---\ntitle: Notes\ndate: 2024-05-09\nsection: Talk\n---\n\nNo audio.\n")
        articles.append(notes)
        config = root / "seedfeed.toml"
        config.write_text(PODCAST_TOML)
        return seeds, config, articles

    def check_podcast(self):
        """A second daemon serving a podcast: the main feed and a section's, read by
        feedparser, newsboat and podcastparser. Every episode is there with its guid (the
        entry's id), its one enclosure (URL, length, type), its duration and number; the
        article without audio is not; episode one has its transcript and chapters."""
        root = self.work / "podcast"
        seeds, config, articles = self.build_podcast(root)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        expected, _, rejects, _ = parse_seeds(self.binary, articles, base)
        if rejects or len(expected) != len(articles):
            raise Abort(f"the podcast's articles do not all parse: {rejects}")
        ids = {e.key: e.id for e in expected.values()}
        self.start_daemon(port, seeds, root / "data", config, "podcast.log")
        try:
            self.podcast_body("/feed.atom", len(articles), "atom:entry")
            episodes = {}
            for key, fixture, audio, number, seconds in PODCAST_EPISODES:
                url = f"{base}/media/shows/{audio}"
                size = (MEDIA / fixture).stat().st_size
                episodes[ids[key]] = (url, size, number, seconds)
            for path in ("/feed.rss", "/categories/talk.rss"):
                body = self.podcast_body(path, len(PODCAST_EPISODES))
                self.check_podcast_feedparser(path, body, episodes)
                self.check_podcast_newsboat(path, episodes)
                self.check_podcast_podcastparser(path, body, episodes)
                self.check_podcast_companions(path, body, ids["one"])
        finally:
            self.daemon.stop()

    def podcast_body(self, path, items, element="channel/item"):
        """The feed at `path` once it has `items` of `element` (RSS items, or Atom entries
        with `atom:entry`); until the first ingest is done it answers 503."""
        url = self.daemon.url(path)
        deadline = time.monotonic() + CHANGE_TIMEOUT
        while True:
            self.daemon.ensure_running()
            response = fetch(url)
            if response.status == 200:
                found = ET.fromstring(response.body).findall(element, {"atom": ATOM[1:-1]})
                if len(found) == items:
                    return response.body
            if time.monotonic() > deadline:
                raise Abort(f"{url}: {items} items within {CHANGE_TIMEOUT} s (it did not)")
            time.sleep(0.2)

    def check_podcast_feedparser(self, path, body, episodes):
        import feedparser

        group = Group(f"podcast feedparser {path}", "feeds")
        group.count = 1
        url = self.daemon.url(path)
        parsed = feedparser.parse(body, response_headers={"content-type": "application/rss+xml",
                                                          "content-location": url})
        group.check(not parsed.bozo, url, f"bozo: {parsed.get('bozo_exception')!r}")
        cover = self.daemon.url("/media/podcast/cover.png")
        group.check(parsed.feed.get("image", {}).get("href") == cover, url,
                    f"artwork {parsed.feed.get('image')!r}, expected {cover}")
        got = {e.get("id"): e for e in parsed.entries}
        group.check(set(got) == set(episodes), url, f"entries {sample(got)}, expected the episodes {sample(episodes)}")
        for guid, (audio, size, number, seconds) in episodes.items():
            entry = got.get(guid)
            if entry is None:
                continue
            enclosures = [(e.get("href"), e.get("length"), e.get("type")) for e in entry.get("enclosures", [])]
            group.check(enclosures == [(audio, str(size), enclosures[0][2] if enclosures else None)], url,
                        f"{guid}: enclosures {enclosures}, expected one of {audio} ({size} bytes)")
            group.check(entry.get("itunes_episode") == str(number), url,
                        f"{guid}: itunes:episode {entry.get('itunes_episode')!r}, expected {number}")
            group.check(entry.get("itunes_duration") == str(seconds), url,
                        f"{guid}: itunes:duration {entry.get('itunes_duration')!r}, expected {seconds}")
        group.finish(f"{len(got)} episodes")

    def check_podcast_newsboat(self, path, episodes):
        group = Group(f"podcast newsboat {path}", "feeds")
        group.count = 1
        url = self.daemon.url(path)
        nb = self.work / "podcast" / "newsboat" / path.strip("/").replace("/", "-")
        got = self.newsboat_read(url, nb, group)
        group.check(set(got) == set(episodes), url, f"items {sample(got)}, expected the episodes {sample(episodes)}")
        try:
            db = sqlite3.connect(f"file:{nb / 'cache.db'}?mode=ro", uri=True)
            rows = db.execute("SELECT guid, enclosure_url FROM rss_item WHERE feedurl = ?", (url,)).fetchall()
            db.close()
        except sqlite3.Error as e:
            group.fail(url, f"cannot read newsboat's cache: {e}")
            rows = []
        for guid, enclosure in rows:
            want = episodes.get(guid, (None,))[0]
            group.check(enclosure == want, url, f"{guid}: newsboat's enclosure {enclosure!r}, expected {want!r}")
        group.finish(f"{len(got)} episodes")

    def check_podcast_podcastparser(self, path, body, episodes):
        import io
        import podcastparser

        group = Group(f"podcastparser {path}", "feeds")
        group.count = 1
        url = self.daemon.url(path)
        try:
            podcast = podcastparser.parse(url, io.BytesIO(body))
        except Exception as e:  # noqa: BLE001 (any failure of the parser is the finding)
            group.fail(url, f"podcastparser failed: {e!r}")
            group.finish()
            return
        cover = self.daemon.url("/media/podcast/cover.png")
        group.check(podcast.get("cover_url") == cover, url, f"cover {podcast.get('cover_url')!r}, expected {cover}")
        owner = podcast.get("itunes_owner") or {}
        group.check(owner.get("email") == "interop@example.org", url, f"owner {owner!r}")
        got = {e["guid"]: e for e in podcast.get("episodes", [])}
        group.check(set(got) == set(episodes), url, f"episodes {sample(got)}, expected {sample(episodes)}")
        for guid, (audio, size, number, seconds) in episodes.items():
            episode = got.get(guid)
            if episode is None:
                continue
            enclosures = [(e["url"], e["file_size"]) for e in episode.get("enclosures", [])]
            group.check(enclosures == [(audio, size)], url, f"{guid}: enclosures {enclosures}, expected [({audio}, {size})]")
            group.check(episode.get("total_time") == seconds, url,
                        f"{guid}: duration {episode.get('total_time')!r}, expected {seconds}")
            group.check(episode.get("number") == number, url,
                        f"{guid}: number {episode.get('number')!r}, expected {number}")
        group.finish(f"{len(got)} episodes")

    def check_podcast_companions(self, path, body, guid):
        """Episode `guid`'s podcast:transcript and podcast:chapters, read by namespace
        (podcastparser 0.6.11 knows the Podcasting 2.0 tags only under the namespace's
        former address, a page of its repository), and the files they name, served with
        their types."""
        group = Group(f"podcast transcript and chapters {path}", "feeds")
        group.count = 1
        url = self.daemon.url(path)
        podcast_ns = "{https://podcastindex.org/namespace/1.0}"
        items = [i for i in ET.fromstring(body).iter("item") if text_of(i.find("guid")) == guid]
        if not group.check(len(items) == 1, url, f"{len(items)} items with the guid {guid}"):
            group.finish()
            return
        for tag, name, media_type in (("transcript", "one.vtt", "text/vtt"),
                                      ("chapters", "one.chapters.json", "application/json+chapters")):
            found = [(e.get("url"), e.get("type")) for e in items[0].iter(f"{podcast_ns}{tag}")]
            want = self.daemon.url(f"/media/shows/{name}")
            group.check(found == [(want, media_type)], url, f"podcast:{tag} {found}, expected [({want}, {media_type})]")
            served = fetch(want)
            group.check(served.status == 200 and served.headers.get("content-type") == media_type, want,
                        f"status {served.status}, Content-Type {served.headers.get('content-type')!r}")
        group.finish()

    # -------------------------------------------------------------- driver

    def run(self):
        files = self.build_seeds()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        self.compute_expected(files, base)
        started = time.monotonic()
        self.start_daemon(port)
        try:
            self.wait_settled(min(FEED_SIZE, len(self.expected)))
            print(f"daemon: {base} settled in {time.monotonic() - started:.1f} s", flush=True)
            c = self.collect()
            xml_docs = c.xml_docs()
            feeds = c.feeds()

            group = Group("xmllint", "documents")
            self.check_xmllint(xml_docs, group)
            group.finish()
            group = Group("jing atom.rnc", "documents")
            self.check_jing(feeds, group)
            group.finish()
            group = Group("feedparser", "documents")
            self.check_feedparser(feeds, group)
            group.finish(f"{sum(len(d.items) for d in feeds)} entries")
            self.check_main(c)
            self.check_sections(c)
            self.check_archives(c)
            self.check_entry_pages(c)
            self.check_newsboat(c)
            group = Group("sfeed", "documents")
            self.check_sfeed(feeds, group)
            group.finish(f"{sum(len(d.items) for d in feeds)} entries")
            self.check_delete(c)
            self.check_delta()
        finally:
            self.daemon.stop()
        self.check_podcast()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", type=Path, default=REPO / "target" / "release" / "seedfeed",
                    help="the seedfeed binary (default: target/release/seedfeed of this repository)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (it is kept anyway on failure)")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list rejected and duplicate files")
    args = ap.parse_args(argv)
    args.binary = args.binary.resolve()
    t0 = time.monotonic()
    try:
        preflight(args.binary)
    except Missing as e:
        print(f"interop: cannot run, missing:\n{e}", file=sys.stderr)
        return 2
    suite = Suite(args)
    aborted = None
    try:
        suite.run()
    except Abort as e:
        aborted = str(e)
    elapsed = time.monotonic() - t0
    groups = Group.all_groups
    failing = [g for g in groups if g.failures]
    if aborted or failing:
        if aborted:
            print(f"ABORTED: {aborted}", flush=True)
        print(f"interop: FAILED ({len(failing)} of {len(groups)} check groups failed"
              f"{', aborted' if aborted else ''}) in {elapsed:.1f} s; work folder kept: {suite.work}", flush=True)
        return 1
    total = sum(g.count for g in groups)
    if not args.keep:
        shutil.rmtree(suite.work, ignore_errors=True)
    else:
        print(f"work folder kept: {suite.work}")
    print(f"interop: OK, {len(groups)} check groups, {total} checks passed in {elapsed:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
