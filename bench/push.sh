#!/usr/bin/env bash
# The push benchmark: the built-in WebSub hub fanning each new article out to S
# subscribers, against polling /feed.atom as the reference, in one run. See bench/push.py
# for what is measured. Prints a Markdown table; exits non-zero if a delivery is missing
# or a signature is bad.
#
#   bench/push.sh                                     # 10,000 articles, 100 subscribers, 100 drops
#   bench/push.sh -n 2000 --subscribers 10 --drops 20 # a quick run (or BENCH_N=2000 ...)
#   bench/push.sh --hosts 4                           # subscribers on 127.0.0.1-4 only
#
# The corpus (and the D articles to drop, the next ones of the same generator) are
# generated once per size into $TMPDIR/seedfeed-bench by bench/gen_corpus.py and kept
# between runs. Needs cargo and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${BENCH_N:-10000}
subscribers=100
drops=100
hosts=8
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n="$2"; shift 2 ;;
    --subscribers) subscribers="$2"; shift 2 ;;
    --drops) drops="$2"; shift 2 ;;
    --hosts) hosts="$2"; shift 2 ;;
    *) sed -n '2,13p' "$0" >&2; exit 2 ;;
  esac
done
case "$n$subscribers$drops$hosts" in *[!0-9]*) echo "-n, --subscribers, --drops and --hosts take a number" >&2; exit 2 ;; esac
if [ "$n" -lt 1 ] || [ "$subscribers" -lt 1 ] || [ "$drops" -lt 1 ] || [ "$hosts" -lt 1 ] || [ "$hosts" -gt 250 ]; then
  echo "-n, --subscribers and --drops must be at least 1, --hosts 1 to 250" >&2; exit 2
fi
command="bench/push.sh -n $n --subscribers $subscribers --drops $drops"
[ "$hosts" != 8 ] && command+=" --hosts $hosts"

generator=bench/gen_corpus.py
for tool in cargo python3; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done

echo "building the release binary" >&2
cargo build --release --locked -q

# As bench/ingest.sh: distinct mtimes one second apart, generated aside, then renamed into
# place, so an interrupted generation is never taken for a corpus.
cache="${TMPDIR:-/tmp}/seedfeed-bench"
generate() { # DIR COUNT START
  [ -d "$1" ] && return
  echo "generating $2 articles into $1" >&2
  mkdir -p "$cache"
  partial=$(mktemp -d "$cache/partial.XXXXXX")
  trap 'rm -rf "$partial"' EXIT
  python3 "$generator" "$partial" -n "$2" --start "$3" --mtime-spread "$2" >&2
  mv "$partial" "$1"
  trap - EXIT
}
corpus="$cache/articles-$n"
generate "$corpus" "$n" 0
# The articles to drop: the generator's next ones after the corpus (articles n, n+1, …),
# so none is in the folder already. Their mtimes do not matter: push.py writes them anew.
extra="$cache/articles-$n-next-$drops"
generate "$extra" "$drops" "$n"

# push.py stops the daemon and the subscribers on its way out (error, Ctrl-C, SIGTERM),
# so it replaces this shell: signals reach it directly.
exec python3 bench/push.py "$corpus" "$extra" --subscribers "$subscribers" --hosts "$hosts" \
  --command "$command"
