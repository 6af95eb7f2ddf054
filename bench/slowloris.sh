#!/usr/bin/env bash
# Hostile load: slowhttptest's slowloris (-H: request heads trickled, a header line every
# 5 s) and slow read (-X: /feed.atom asked for three times on each connection, read 32
# bytes every 5 s through a window of 512-1024 bytes) against seedfeed, each with three
# times the connection cap, each beside a normal client: one GET /feed.atom on a new
# connection every 0.2 s (curl, 10 s at most each) while the attack runs. Builds the
# release binary, generates ARTICLES articles with bench/gen_corpus.py, starts seedfeed on
# a free loopback port with max_connections CAP, and prints for each attack the normal
# client's success rate (200s of its requests), its latency (median, p99), seedfeed's
# peak RSS during the attack (sampled every 0.2 s) against its RSS before, and the most
# connections it held open.
#
#   bench/slowloris.sh [-n ARTICLES] [-c CAP] [-r RATE] [-l SECONDS]
#
# Defaults: 2,000 articles, the built-in max_connections, new attacking connections at
# 3 × CAP / 8 a second (all of them open within 8 s, before the header-read timeout closes
# the first ones), each attack long enough to open all of them and 30 s more. It needs
# an open-files limit of about 3 × CAP + 1,000 (it raises its own soft limit to the hard
# one; as root it can raise the hard one too).
#
# Needs: cargo, python3, curl, slowhttptest. This script installs nothing: on Debian or
# Ubuntu, `apt-get install -y slowhttptest` (the package of that name).
set -euo pipefail
cd "$(dirname "$0")/.."
N=2000 CAP="" RATE="" LENGTH=""
usage() { sed -n '2,23p' "$0"; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    -n) N=${2:?}; shift 2 ;;
    -c) CAP=${2:?}; shift 2 ;;
    -r) RATE=${2:?}; shift 2 ;;
    -l) LENGTH=${2:?}; shift 2 ;;
    *) usage ;;
  esac
done
for tool in cargo python3 curl slowhttptest; do
  command -v "$tool" >/dev/null || {
    echo "missing: $tool (slowhttptest: apt-get install -y slowhttptest)" >&2; exit 2; }
done

cargo build --release --quiet
BIN=target/release/seedfeed
# The built-in cap, as `serve --help` shows it ("max_connections, SEEDFEED_MAX_CONNECTIONS
# [default: N]").
[ -n "$CAP" ] || CAP=$("$BIN" serve --help | sed -n 's/.*SEEDFEED_MAX_CONNECTIONS.*default: \([0-9]*\).*/\1/p' | head -1)
# Fast enough for three times the cap to be open at once before the header-read timeout
# (10 s) would close the first ones by itself.
[ -n "$RATE" ] || RATE=$(((3 * CAP + 7) / 8))
case "$N$CAP$RATE$LENGTH" in *[!0-9]*|"") echo "-n, -c, -r and -l take numbers" >&2; exit 2 ;; esac
ATTACKERS=$((3 * CAP))
[ -n "$LENGTH" ] || LENGTH=$((ATTACKERS / RATE + 30))
NEED=$((ATTACKERS + 1000))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$NEED" ]; then
  ulimit -n "$NEED" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  [ "$(ulimit -n)" -ge "$NEED" ] || {
    echo "open files: $(ulimit -n) allowed, $NEED needed (ulimit -n $NEED as root, or a smaller -c)" >&2; exit 2; }
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/seedfeed-slowloris.XXXXXX")
SEEDFEED_PID="" ATTACK_PID="" SAMPLER_PID=""
cleanup() {
  [ -n "$ATTACK_PID" ] && kill "$ATTACK_PID" 2>/dev/null && wait "$ATTACK_PID" 2>/dev/null
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null && wait "$SAMPLER_PID" 2>/dev/null
  [ -n "$SEEDFEED_PID" ] && kill "$SEEDFEED_PID" 2>/dev/null && wait "$SEEDFEED_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port) ADMIN_PORT=$(free_port)
BASE="http://127.0.0.1:$PORT" ADMIN="http://127.0.0.1:$ADMIN_PORT"

echo "# corpus: $N articles; max_connections $CAP; $ATTACKERS attacking connections at $RATE/s for ${LENGTH}s" >&2
python3 bench/gen_corpus.py "$WORK/seeds" -n "$N" -q --mtime-spread "$N"
env -u SEEDFEED_CONFIG SEEDFEED_LOG=warn SEEDFEED_MAX_CONNECTIONS="$CAP" "$BIN" serve \
  --seeds "$WORK/seeds" --data "$WORK/data" --listen "127.0.0.1:$PORT" \
  --admin-listen "127.0.0.1:$ADMIN_PORT" --base-url "$BASE" 2>"$WORK/seedfeed.log" &
SEEDFEED_PID=$!
for _ in $(seq 1 600); do
  curl -fs "$ADMIN/status" 2>/dev/null | python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)['entries'] >= $N else 1)" 2>/dev/null && break
  sleep 0.5
done
echo "# /feed.atom: $(curl -fs "$BASE/feed.atom" | wc -c) bytes" >&2

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$SEEDFEED_PID/status"; }
# Every 0.2 s: seedfeed's RSS (KiB) and its open connections, one line each.
sample() {
  while kill -0 "$SEEDFEED_PID" 2>/dev/null; do
    open=$(curl -fs --max-time 1 "$ADMIN/metrics" | awk '$1 == "seedfeed_http_connections_open" { print $2 }' || true)
    echo "$(rss_kib) ${open:-0}"
    sleep 0.2
  done
}
# One GET a line, "status seconds curl's-exit-code", until the attack ends.
normal_client() {
  while kill -0 "$ATTACK_PID" 2>/dev/null; do
    curl -s -o /dev/null --max-time 10 -w '%{http_code} %{time_total} %{exitcode}\n' "$BASE/feed.atom" || true
    sleep 0.2
  done
}
summary() { # name, requests file, samples file, RSS before (KiB)
  python3 - "$@" <<'PY'
import statistics, sys
name, requests, samples, before = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rows = [line.split() for line in open(requests) if line.strip()]
ok = [float(t) for code, t, _ in rows if code == "200"]
codes = {}
for code, _, exit_code in rows:
    # No answer at all: curl's exit code says why (7 refused, 28 timed out, 52 empty
    # reply, 56 reset).
    code = code if code != "000" else f"000 (curl {exit_code})"
    codes[code] = codes.get(code, 0) + 1
times = sorted(float(t) for _, t, _ in rows)
def pct(p):
    return times[min(len(times) - 1, int(p * len(times)))] * 1000 if times else float("nan")
s = [tuple(int(x) for x in line.split()) for line in open(samples) if len(line.split()) == 2]
peak = max((r for r, _ in s), default=before)
most = max((o for _, o in s), default=0)
print(f"| {name} | {len(ok)}/{len(rows)} = {100 * len(ok) / max(1, len(rows)):.1f} % "
      f"| {pct(0.5):.1f} ms | {pct(0.99):.1f} ms | {before / 1024:.0f} → {peak / 1024:.0f} MiB "
      f"| {most} | {' '.join(f'{c}×{n}' for c, n in sorted(codes.items()))} |")
PY
}

attack() { # name, slowhttptest's mode options...
  local name=$1; shift
  local before; before=$(rss_kib)
  slowhttptest -c "$ATTACKERS" -r "$RATE" -l "$LENGTH" -p 10 "$@" -u "$BASE/feed.atom" \
    >"$WORK/$name.slowhttptest" 2>&1 &
  ATTACK_PID=$!
  sample >"$WORK/$name.samples" &
  SAMPLER_PID=$!
  normal_client >"$WORK/$name.requests"
  wait "$ATTACK_PID" 2>/dev/null || true
  ATTACK_PID=""
  kill "$SAMPLER_PID" 2>/dev/null || true
  wait "$SAMPLER_PID" 2>/dev/null || true
  SAMPLER_PID=""
  summary "$name" "$WORK/$name.requests" "$WORK/$name.samples" "$before"
  # What slowhttptest last reported of its connections.
  { grep -E 'closed:|connected:|pending:' "$WORK/$name.slowhttptest" || true; } | tail -3 | tr -s ' \t' ' ' | sed 's/^/# /' >&2
  # Let the attack's last connections time out before the next one.
  for _ in $(seq 1 150); do
    [ "$(curl -fs "$ADMIN/metrics" | awk '$1 == "seedfeed_http_connections_open" { print $2 }')" = 0 ] && break
    sleep 0.5
  done
}

echo "| attack | normal client 200s | median | p99 | seedfeed RSS before → peak | most open | statuses |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
attack slowloris -H -i 5
attack slow-read -X -w 512 -y 1024 -n 5 -z 32 -k 3
echo "# seedfeed's peak RSS over the whole run (ingest included): $(awk '/^VmHWM:/ { print $2 / 1024 " MiB" }' "/proc/$SEEDFEED_PID/status")" >&2
echo "# command: bench/slowloris.sh -n $N -c $CAP -r $RATE -l $LENGTH" >&2
