#!/usr/bin/env bash
# What ten images cost an article's ingest: cold ingests of N Markdown articles, alternated
# with cold ingests of the same articles each referencing ten images beside it (JPEG,
# PNG, WebP, whose headers seedfeed reads for their size). See bench/media_ingest.py.
# Prints a Markdown table.
#
#   bench/media.sh             # 20,000 articles and 200,000 images (about 1 GB of corpus)
#   bench/media.sh -n 5000 --runs 3
#
# The corpora are generated once per size into $TMPDIR/seedfeed-bench and kept.
# Needs cargo and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

n=20000
runs=5
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) sed -n '2,11p' "$0" >&2; exit 2 ;;
  esac
done
case "$n$runs" in *[!0-9]*|"") echo "-n and --runs take a number" >&2; exit 2 ;; esac
for tool in cargo python3; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done

echo "building the release binary" >&2
cargo build --release --locked -q

cache="${TMPDIR:-/tmp}/seedfeed-bench"
mkdir -p "$cache"
# Its own corpus name: the articles are those of bench/ingest.sh's Markdown corpus, but
# with distinct mtimes one second apart and nothing dropped beside them.
plain="$cache/media-plain-$n"
if [ ! -d "$plain" ]; then
  echo "generating $n Markdown articles into $plain" >&2
  partial=$(mktemp -d "$cache/partial.XXXXXX")
  trap 'rm -rf "$partial"' EXIT
  python3 bench/gen_corpus.py "$partial" --format markdown -n "$n" --mtime-spread "$n" >&2
  mv "$partial" "$plain"
  trap - EXIT
fi
exec python3 bench/media_ingest.py "$plain" "$cache/media-images-$n" --runs "$runs" \
  --command "bench/media.sh -n $n --runs $runs"
