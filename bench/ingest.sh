#!/usr/bin/env bash
# The ingest benchmark: cold ingest, drop-to-served latency and restart of seedfeed on a
# generated corpus, with Hugo building a feed from the same articles as the reference, in
# one run. See bench/ingest.py for what each phase measures.
#
#   bench/ingest.sh            # 100,000 articles (about 3 minutes, 0.4 GB of corpus)
#   bench/ingest.sh -n 10000   # a quicker run
#
# Needs python3 and the corpus generator in ../shared/tools; installs hugo (apt) when
# missing and allowed (root or sudo), else runs without the reference.
set -euo pipefail
cd "$(dirname "$0")/.."

n=100000
drops=200
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n="$2"; shift 2 ;;
    --drops) drops="$2"; shift 2 ;;
    *) echo "usage: bench/ingest.sh [-n ARTICLES] [--drops N]" >&2; exit 2 ;;
  esac
done

generator=../shared/tools/gen_corpus.py
[ -f "$generator" ] || { echo "the corpus generator $generator is missing" >&2; exit 2; }

if ! command -v hugo >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  if command -v apt-get >/dev/null && { [ -z "$SUDO" ] || sudo -n true 2>/dev/null; }; then
    echo "installing hugo for the reference" >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q hugo >/dev/null
  fi
fi

echo "building the release binary" >&2
cargo build --release --locked -q

# The corpus is deterministic: generated once per size and kept between runs.
corpus="${TMPDIR:-/tmp}/seedfeed-bench/corpus-$n"
if [ "$(find "$corpus" -maxdepth 1 -name '*.txt' 2>/dev/null | wc -l)" -ne "$n" ]; then
  echo "generating $n articles into $corpus" >&2
  rm -rf "$corpus"
  mkdir -p "$corpus"
  python3 "$generator" "$corpus" -n "$n" >&2
fi

extra=()
command -v hugo >/dev/null || { echo "hugo is not installed: no reference" >&2; extra=(--no-hugo); }
python3 bench/ingest.py "$corpus" --drops "$drops" "${extra[@]}"
