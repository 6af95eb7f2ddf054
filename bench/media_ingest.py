#!/usr/bin/env python3
"""What ten images cost an article's ingest (run through bench/media.sh).

Two corpora of the same N Markdown articles (bench/gen_corpus.py --format markdown):

- plain: the articles as generated;
- images: each article with ten more paragraphs, each an image beside it,
  `![Photo k](photos/<name>-k.<ext>)`, and those files in `photos/`: six JPEGs with an
  Exif segment before the frame header (as a camera writes them, so the reader has to
  skip it), three PNGs and a WebP, copies of the test fixtures (tests/common/media/).

seedfeed resolves each reference, opens the file under the media rules and reads its
header for the width and height (`parse::media`); the bench measures what that costs.
Cold ingests of the two corpora alternate (plain, images, plain, images, …), each on an
empty data folder with the corpus in the page cache, so that the machine's drift is
shared by both; each is timed from exec until /status counts the N entries, and the
daemon's CPU time (user + system, /proc/PID/stat) is read then. Medians are reported,
with the images/plain ratio of each (the issue's bound: at most 2), and every run.

Prints a Markdown table. Every daemon started is stopped on the way out.
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ingest  # noqa: E402  (the daemon handling of bench/ingest.py)

FIXTURES = os.path.join(ingest.ROOT, "tests", "common", "media")
IMAGES_PER_ARTICLE = 10
# The files each article's ten references name, in order: (fixture, extension).
KINDS = [("photo.jpg", "jpg")] * 6 + [("picture.png", "png")] * 3 + [("lossy.webp", "webp")]
EXIF_BYTES = 4096


def camera_jpeg():
    """photo.jpg with an APP1 Exif segment of EXIF_BYTES after its SOI marker."""
    with open(os.path.join(FIXTURES, "photo.jpg"), "rb") as f:
        jpeg = f.read()
    if jpeg[:2] != b"\xff\xd8":
        sys.exit("tests/common/media/photo.jpg is not a JPEG")
    payload = b"Exif\x00\x00" + bytes(EXIF_BYTES - 6)
    segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    return jpeg[:2] + segment + jpeg[2:]


def with_images(plain, out):
    """Writes the images corpus from the plain one: each article with its ten image
    paragraphs, and their files. Same names and mtimes as the plain corpus."""
    contents = {"jpg": camera_jpeg()}
    for fixture, ext in KINDS:
        if ext not in contents:
            with open(os.path.join(FIXTURES, fixture), "rb") as f:
                contents[ext] = f.read()
    photos = os.path.join(out, "photos")
    os.makedirs(photos)
    for name in sorted(os.listdir(plain)):
        if not name.endswith(".md"):
            continue
        key = name[:-3]
        source = os.path.join(plain, name)
        with open(source, encoding="utf-8") as f:
            text = f.read()
        refs = []
        for k, (_, ext) in enumerate(KINDS, 1):
            file_name = f"{key}-{k}.{ext}"
            with open(os.path.join(photos, file_name), "wb") as f:
                f.write(contents[ext])
            refs.append(f"![Photo {k}](photos/{file_name})")
        target = os.path.join(out, name)
        with open(target, "w", encoding="utf-8") as f:
            f.write(text.rstrip("\n") + "\n\n" + "\n\n".join(refs) + "\n")
        stat = os.stat(source)
        os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def warm(seeds):
    """Reads every file of the corpus once, and flushes (see ingest.warm)."""
    for folder, _, names in os.walk(seeds):
        for name in names:
            with open(os.path.join(folder, name), "rb") as f:
                f.read()
    subprocess.run(["sync"])


def cpu_seconds(pid):
    """User + system CPU time of a running process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cold_ingest(binary, work, name, seeds, n, newest):
    """One cold ingest of `seeds`: (wall seconds to n entries stored, CPU seconds then)."""
    build = ingest.Build(name, binary, os.path.join(work, f"data-{name}"),
                         os.path.join(work, f"daemon-{name}.log"))
    if os.path.exists(build.data):
        shutil.rmtree(build.data)
    warm(seeds)
    d, stored, _, _, _, short = ingest.cold_ingest(build, seeds, n, newest)
    try:
        if short:
            sys.exit(f"the {name} corpus was not ingested whole: {short}")
        cpu = cpu_seconds(d.proc.pid)
        # A reference that did not resolve is a warning on its article: there must be none
        # (the plain corpus's articles have none either).
        warned = (d.status() or {}).get("warnings") or []
        if warned:
            sys.exit(f"{len(warned)} articles of the {name} corpus have warnings, such as "
                     f"{warned[0]['path']}: {warned[0]['reason']}")
        return stored, cpu
    finally:
        d.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("plain", help="a folder of generated Markdown articles")
    ap.add_argument("images", help="where the corpus with images is (written if missing)")
    ap.add_argument("--runs", type=int, default=5, help="cold ingests of each corpus (medians)")
    ap.add_argument("--command", default="bench/media.sh", help="the command line to print")
    a = ap.parse_args()
    if a.runs < 1:
        sys.exit("--runs takes a number of at least 1")
    if not os.access(ingest.BINARY, os.X_OK):
        sys.exit("build first: cargo build --release")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda number, _frame: sys.exit(128 + number))
    names = [name for name in os.listdir(a.plain) if name.endswith(".md")]
    if not names:
        sys.exit(f"{a.plain} holds no .md files: is it a Markdown corpus?")
    n = len(names)
    newest = max(names, key=lambda name: os.stat(os.path.join(a.plain, name)).st_mtime)[:-3]
    if not os.path.isdir(a.images):
        print(f"writing the corpus with {IMAGES_PER_ARTICLE} images per article", file=sys.stderr)
        partial = a.images + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        os.makedirs(partial)
        with_images(a.plain, partial)
        os.rename(partial, a.images)
    work = tempfile.mkdtemp(prefix="seedfeed-media-bench-")
    results = {"plain": [], "images": []}
    try:
        for run in range(a.runs):
            for name, seeds in (("plain", a.plain), ("images", a.images)):
                print(f"cold ingest of {n} articles ({name}), run {run + 1} of {a.runs}",
                      file=sys.stderr)
                wall, cpu = cold_ingest(ingest.BINARY, work, name, seeds, n, newest)
                print(f"      {wall:.2f} s, CPU {cpu:.2f} s", file=sys.stderr)
                results[name].append((wall, cpu))
        report(a.command, n, results)
    finally:
        for d in list(ingest.RUNNING):
            d.stop()
        shutil.rmtree(work, ignore_errors=True)


def report(command, n, results):
    print(f"`{command}`: {n:,} Markdown articles, each with {IMAGES_PER_ARTICLE} images or none; "
          f"medians of {len(results['plain'])} cold ingests each, alternated\n")
    print("| | plain | ten images each | images / plain |")
    print("|---|---|---|---|")
    for label, index, unit in (("wall time to all stored", 0, "s"), ("daemon CPU time", 1, "s")):
        plain = statistics.median(r[index] for r in results["plain"])
        images = statistics.median(r[index] for r in results["images"])
        print(f"| {label} | {plain:.2f} {unit} | {images:.2f} {unit} | {images / plain:.2f} |")
        per = [f"{p[index]:.2f}/{i[index]:.2f}" for p, i in zip(results["plain"], results["images"])]
        print(f"| {label}, each run (plain/images) | {' '.join(per)} | | |")
    plain_wall = statistics.median(r[0] for r in results["plain"])
    images_wall = statistics.median(r[0] for r in results["images"])
    print(f"| articles per second | {n / plain_wall:,.0f} | {n / images_wall:,.0f} | |")


if __name__ == "__main__":
    main()
