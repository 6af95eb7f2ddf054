#!/usr/bin/env bash
# The ingest benchmark: cold ingest, drop-to-served latency and restart of seedfeed on a
# generated corpus, with Hugo building a feed from the same articles as the reference, in
# one run. See bench/ingest.py for what each phase measures. Prints a Markdown table.
#
#   bench/ingest.sh                       # 100,000 articles (several minutes, 0.4 GB of corpus)
#   bench/ingest.sh -n 10000              # a quicker run (or BENCH_N=10000 bench/ingest.sh)
#   bench/ingest.sh --drops 50 --no-hugo
#   bench/ingest.sh --runs 5               # cold ingests and Hugo builds (median; default 3)
#   bench/ingest.sh --format markdown     # the Markdown corpus (or BENCH_FORMAT=markdown)
#   bench/ingest.sh --scale               # 1,000,000 articles, one run, no Hugo: about
#                                         # 25 minutes, 4.9 GB of corpus and 16 GB of
#                                         # database once every archive page is frozen
#   bench/ingest.sh --scale --shuffle-dates
#                                         # the dates dealt out of the names' order, as
#                                         # slugs or a fresh checkout have them
#   bench/ingest.sh -n 20000 --baseline OTHER/target/release/seedfeed
#                                         # and another build, in turn: medians of each, A/B
#
# --baseline takes a seedfeed binary built beforehand (another commit, say from a
# `git worktree`), run as it is; see bench/ingest.py for how the two alternate.
#
# --format plain (the default) is the seed format, .txt, which Hugo gets converted to
# Markdown; --format markdown is .md files with YAML front matter (title, date, tags,
# authors, section, some summaries and images; headings, links, lists), which seedfeed
# and Hugo both read as they are. A build that publishes fewer entries than there are
# files is reported as not measured (and the command exits 1), not given a rate.
#
# The corpus is generated once per format and size by bench/gen_corpus.py
# (deterministic, distinct mtimes) into $TMPDIR/seedfeed-bench and kept between runs.
# Needs cargo and python3; installs hugo (apt) when missing and allowed (root or sudo),
# else runs without the reference.
set -euo pipefail
caller=$PWD # a relative --baseline is from there
cd "$(dirname "$0")/.."

n=${BENCH_N:-100000}
format=${BENCH_FORMAT:-plain}
drops=200
runs=3
hugo=yes
shuffle=no
baseline=""
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n="$2"; shift 2 ;;
    --drops) drops="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --no-hugo) hugo=no; shift ;;
    --baseline) baseline="$2"; shift 2 ;;
    --format) format="$2"; shift 2 ;;
    --scale) n=1000000; runs=1; hugo=no; shift ;;
    --shuffle-dates) shuffle=yes; shift ;;
    *) sed -n '2,32p' "$0" >&2; exit 2 ;;
  esac
done
case "$n$drops$runs" in *[!0-9]*|"") echo "-n, --drops and --runs take a number" >&2; exit 2 ;; esac
case "$format" in plain|markdown) ;; *) echo "--format takes plain or markdown" >&2; exit 2 ;; esac
command="bench/ingest.sh -n $n --drops $drops --runs $runs"
[ "$format" = markdown ] && command+=" --format markdown"
[ "$hugo" = no ] && command+=" --no-hugo"
[ "$shuffle" = yes ] && command+=" --shuffle-dates"
if [ -n "$baseline" ]; then
  given=$baseline
  command+=" --baseline $given"
  baseline=$(cd "$caller" && realpath -e -- "$baseline" 2>/dev/null) && [ -f "$baseline" ] && [ -x "$baseline" ] \
    || { echo "--baseline takes a built seedfeed binary: $given is not one" >&2; exit 2; }
fi

generator=bench/gen_corpus.py
cache="${TMPDIR:-/tmp}/seedfeed-bench"
for tool in cargo python3; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done

if [ "$hugo" = yes ] && ! command -v hugo >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  if command -v apt-get >/dev/null && { [ -z "$SUDO" ] || sudo -n true 2>/dev/null; }; then
    echo "installing hugo for the reference" >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q hugo >/dev/null
  fi
fi
if [ "$hugo" = yes ] && { ! command -v hugo >/dev/null || [ ! -x /usr/bin/time ]; }; then
  echo "hugo or /usr/bin/time is not installed: no reference (apt-get install -y hugo time)" >&2
  hugo=no
fi

echo "building the release binary" >&2
cargo build --release --locked -q
# The build just written over is A: B must be another file (a copy, to compare a build
# with itself).
if [ -n "$baseline" ] && [ "$baseline" -ef target/release/seedfeed ]; then
  echo "--baseline is target/release/seedfeed itself, the build under test" >&2; exit 2
fi

# Distinct mtimes, one second apart, so the newest article is the last file (with
# --shuffle-dates, the one dealt the newest date) and every date in the feeds (and in
# Hugo's) differs; a Markdown article's date is its mtime.
# Generated aside, then renamed into place, so an interrupted generation is never taken
# for a corpus.
end=1700000000 # the newest article's mtime (the generator's default)
generate() { # FOLDER, then the generator's arguments
  local folder=$1; shift
  mkdir -p "$cache"
  partial=$(mktemp -d "$cache/partial.XXXXXX")
  trap 'rm -rf "$partial"' EXIT
  python3 "$generator" "$partial" --format "$format" "$@" >&2
  mv "$partial" "$folder"
  trap - EXIT
}
name=articles
# The Markdown corpus's name changes with what the generator writes (v2: root-relative
# image paths), so that a cached corpus of another version is not measured.
[ "$format" = markdown ] && name=markdown-v2
[ "$shuffle" = yes ] && name+=-shuffled
shuffled=(); [ "$shuffle" = yes ] && shuffled=(--shuffle-dates)
corpus="$cache/$name-$n"
mkdir -p "$cache"
# About 16 KB of database per article (its row and indexes, and its share of the frozen
# archive pages with their compressed copies), and 5 KB of corpus when it is still to be
# generated, with a tenth more to spare: a full disk halfway through measures nothing.
need_kb=$((n * 16))
[ -d "$corpus" ] || need_kb=$((n * 21))
need_mb=$((need_kb * 11 / 10 / 1024))
free_mb=$(df -Pm "$cache" | awk 'NR == 2 { print $4 }')
if [ "$free_mb" -lt "$need_mb" ]; then
  echo "$n articles need about $need_mb MB free under $cache; $free_mb MB are" >&2
  exit 2
fi
if [ ! -d "$corpus" ]; then
  echo "generating $n $format articles into $corpus" >&2
  generate "$corpus" -n "$n" --mtime-spread "$n" --mtime-end "$end" "${shuffled[@]}"
fi

# The articles to drop: the generator's next ones after the corpus (articles n, n+1, …),
# full-size like the stored ones, and in no feed yet. ingest.py writes them anew. A
# Markdown article's date comes from its front matter, not from when it is written, so
# there the corpus's timeline goes on past its newest: one second apart, newer than
# every stored article.
extra="$cache/$name-$n-next-$drops"
if [ ! -d "$extra" ]; then
  echo "generating the $drops $format articles to drop into $extra" >&2
  if [ "$format" = markdown ]; then
    total=$((n + drops))
    generate "$extra" -n "$drops" --start "$n" --mtime-spread "$total" --mtime-total "$total" \
      --mtime-end $((end + drops))
  else
    generate "$extra" -n "$drops" --start "$n" --mtime-spread "$drops"
  fi
fi

# ingest.py stops every daemon it started on its way out (error, Ctrl-C, SIGTERM), so
# it replaces this shell: signals reach it directly.
args=(--drops "$drops" --runs "$runs" --extra "$extra" --format "$format" --command "$command")
[ "$hugo" = no ] && args+=(--no-hugo)
[ -n "$baseline" ] && args+=(--baseline "$baseline")
exec python3 bench/ingest.py "$corpus" "${args[@]}"
