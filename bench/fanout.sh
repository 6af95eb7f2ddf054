#!/usr/bin/env bash
# The fan-out benchmark: one new article delivered to F fediverse followers on H loopback
# hosts (shared inboxes), R times. See benches/fanout.rs for what is measured. Prints a
# Markdown table; exits non-zero if a host missed its Create, got two, or a signature is
# bad.
#
#   bench/fanout.sh                         # 1,000 followers on 100 hosts, 5 runs
#   bench/fanout.sh --runs 10               # more runs
#   bench/fanout.sh --hosts 10 --actors 5   # a quick run: 50 followers on 10 hosts
#   bench/fanout.sh --perf                  # also perf record on the daemon during each fan-out
#   bench/fanout.sh --one-address           # every host on 127.0.0.1, told apart by port
#
# The hosts are 127.0.0.1 … 127.0.0.H, each with its own port. Needs cargo (and perf
# for --perf); nothing else: the follows are signed by a Rust program (benches/fanout.rs)
# with seedfeed's own signature code.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=5
hosts=100
actors=10
flags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --hosts) hosts="$2"; shift 2 ;;
    --actors) actors="$2"; shift 2 ;;
    --perf|--one-address) flags+=("$1"); shift ;;
    *) sed -n '2,15p' "$0" >&2; exit 2 ;;
  esac
done
case "$runs$hosts$actors" in *[!0-9]*) echo "--runs, --hosts and --actors take a number" >&2; exit 2 ;; esac
if [ "$runs" -lt 1 ] || [ "$actors" -lt 1 ] || [ "$hosts" -lt 1 ] || [ "$hosts" -gt 250 ]; then
  echo "--runs and --actors must be at least 1, --hosts 1 to 250" >&2; exit 2
fi
command="bench/fanout.sh --runs $runs"
[ "$hosts" != 100 ] && command+=" --hosts $hosts"
[ "$actors" != 10 ] && command+=" --actors $actors"
[ ${#flags[@]} -gt 0 ] && command+=" ${flags[*]}"
command -v cargo >/dev/null || { echo "missing: cargo" >&2; exit 2; }
if [[ " ${flags[*]-} " == *" --perf "* ]]; then
  command -v perf >/dev/null || { echo "missing: perf (for --perf)" >&2; exit 2; }
fi

echo "building the release binary and the benchmark" >&2
cargo build --release --locked -q
# The benchmark's own executable, run directly (not under cargo, which would not pass a
# SIGTERM on to it).
program=$(cargo bench --locked -q --bench fanout --no-run --message-format=json |
  sed -n 's/.*"name":"fanout".*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
[ -x "$program" ] || { echo "cargo built no fanout benchmark" >&2; exit 1; }
binary="${CARGO_TARGET_DIR:-target}/release/seedfeed"
work=$(mktemp -d "${TMPDIR:-/tmp}/seedfeed-fanout-bench.XXXXXX")
# The program stops the daemon (and perf) on its way out; this is for when it cannot
# (SIGKILL): the processes it started, by the ids it wrote down, then the folders. The
# daemon's log stays.
cleanup() {
  status=$?
  if [ -n "${bench_pid-}" ] && kill "$bench_pid" 2>/dev/null; then wait "$bench_pid" || true; fi
  for name in daemon perf; do
    if [ -f "$work/$name.pid" ]; then kill "$(cat "$work/$name.pid")" 2>/dev/null || true; fi
  done
  rm -rf "$work/seeds" "$work/data" "$work"/*.pid
  echo "the daemon's log: $work/daemon.log" >&2
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$program" --binary "$binary" --work "$work" \
  --runs "$runs" --hosts "$hosts" --actors "$actors" --command "$command" ${flags[@]+"${flags[@]}"} &
bench_pid=$!
wait "$bench_pid"
