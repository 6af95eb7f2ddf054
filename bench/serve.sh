#!/usr/bin/env bash
# Serving benchmark: seedfeed against nginx serving the same documents from disk, in one
# run. Builds the release binary, generates 10k articles, lets seedfeed ingest them,
# exports the same documents with `seedfeed render --out`, serves the export with nginx
# (sendfile, gzip_static, etag; one worker per core), then runs wrk against both in turn:
#   (a) /feed.atom identity  (b) /feed.atom gzip  (c) /feed.atom 304  (d) / index
#   (e) a 50 MB episode under /media/, whole  (f) the same, a 1 MiB range from its middle
# each 3 times, and prints req/s, p50 and p99 latency, and each server's CPU time per
# request (user+sys from /proc/PID/stat before and after, divided by requests), with
# the ratio seedfeed/nginx of the medians.
#
# With --baseline BINARY, a second seedfeed build (built beforehand, another commit say,
# run as it is) is one more server in the rotation, seedfeed baseline nginx in every
# round, so that the machine's drift falls on both builds alike: it serves the same
# seeds from its own data folder, under the same base URL (the same build would send the
# same bytes), and the ratio seedfeed/baseline of the medians is printed too.
#
#   bench/serve.sh [-n ARTICLES] [-d SECONDS] [-c CONNECTIONS] [--baseline BINARY]
#
# Needs: cargo, python3, nginx, wrk (apt-get install -y nginx wrk).
set -euo pipefail
CALLER=$PWD # a relative --baseline is from there
cd "$(dirname "$0")/.."
N=10000 DURATION=5 CONNECTIONS=32 BASELINE=""
usage() { sed -n '2,19p' "$0"; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    -n | -d | -c | --baseline) [ $# -ge 2 ] || usage; opt=$1 value=$2; shift 2 ;;
    -[ndc]?*) opt=${1:0:2} value=${1:2}; shift ;; # -n2000, as getopts took it
    *) usage ;;
  esac
  case $opt in
    -n) N=$value ;; -d) DURATION=$value ;; -c) CONNECTIONS=$value ;; --baseline) BASELINE=$value ;;
  esac
done
if [ -n "$BASELINE" ]; then
  given=$BASELINE
  BASELINE=$(cd "$CALLER" && realpath -e -- "$BASELINE" 2>/dev/null) && [ -f "$BASELINE" ] && [ -x "$BASELINE" ] \
    || { echo "--baseline takes a built seedfeed binary: $given is not one" >&2; exit 2; }
fi
for tool in nginx wrk python3 cargo; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "missing: $tool (apt-get install -y nginx wrk)" >&2; exit 2; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
CORES=$(nproc)

cargo build --release --quiet
BIN=target/release/seedfeed
# The build just written over is the one under test: a baseline must be another file (a
# copy, to compare a build with itself).
if [ -n "$BASELINE" ] && [ "$BASELINE" -ef "$BIN" ]; then
  echo "--baseline is $BIN itself, the build under test" >&2; exit 2
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/seedfeed-bench.XXXXXX")
SEEDFEED_PID="" BASELINE_PID="" NGINX_PID=""
cleanup() {
  [ -n "$SEEDFEED_PID" ] && kill "$SEEDFEED_PID" 2>/dev/null && wait "$SEEDFEED_PID" 2>/dev/null
  [ -n "$BASELINE_PID" ] && kill "$BASELINE_PID" 2>/dev/null && wait "$BASELINE_PID" 2>/dev/null
  [ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SF_PORT=$(free_port) NG_PORT=$(free_port) BL_PORT=$(free_port)
BASE="http://127.0.0.1:$SF_PORT"
# /status is on the admin listener, in builds that have one; older ones serve it publicly.
admin_flags() { # binary port
  case "$("$1" serve --help)" in *--admin-listen*) echo "--admin-listen 127.0.0.1:$2" ;; esac
}
admin_url() { # binary port public-url
  if [ -n "$(admin_flags "$1" "$2")" ]; then echo "http://127.0.0.1:$2"; else echo "$3"; fi
}
SF_ADMIN=$(free_port) BL_ADMIN=$(free_port)

echo "# corpus: $N articles" >&2
python3 bench/gen_corpus.py "$WORK/seeds" -n "$N" -q --mtime-spread "$N"
# A 50 MB episode beside the articles (random bytes: /media/ serves any file by its
# extension), which the export copies for nginx.
head -c $((50 * 1024 * 1024)) /dev/urandom >"$WORK/seeds/episode.mp3"
EPISODE=/media/episode.mp3 RANGE="bytes=26214400-27262975"
env -u SEEDFEED_CONFIG SEEDFEED_LOG=warn "$BIN" serve --seeds "$WORK/seeds" --data "$WORK/data" \
  --listen "127.0.0.1:$SF_PORT" $(admin_flags "$BIN" "$SF_ADMIN") --base-url "$BASE" \
  2>"$WORK/seedfeed.log" &
SEEDFEED_PID=$!
ingested() { # name url
  for _ in $(seq 1 600); do
    curl -fs "$2/status" 2>/dev/null | python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)['entries'] >= $N else 1)" 2>/dev/null && break
    sleep 0.5
  done
  echo "# $1 ingested: $(curl -fs "$2/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])') entries" >&2
}
ingested seedfeed "$(admin_url "$BIN" "$SF_ADMIN" "$BASE")"

# The baseline, started once seedfeed has ingested (the two never ingest at once), with
# seedfeed's base URL: it only goes into the documents, where a different one would
# change their bytes and sizes.
BL="http://127.0.0.1:$BL_PORT"
if [ -n "$BASELINE" ]; then
  env -u SEEDFEED_CONFIG SEEDFEED_LOG=warn "$BASELINE" serve --seeds "$WORK/seeds" \
    --data "$WORK/data-baseline" --listen "127.0.0.1:$BL_PORT" $(admin_flags "$BASELINE" "$BL_ADMIN") \
    --base-url "$BASE" 2>"$WORK/baseline.log" &
  BASELINE_PID=$!
  ingested baseline "$(admin_url "$BASELINE" "$BL_ADMIN" "$BL")"
fi

# The same documents from disk: the export, with the base URL of the running daemon so
# the bytes are identical.
env -u SEEDFEED_CONFIG SEEDFEED_LOG=warn "$BIN" render --out "$WORK/www" --seeds "$WORK/seeds" \
  --data "$WORK/data" --base-url "$BASE" >/dev/null
mkdir -p "$WORK/nginx/tmp"
USER_LINE=""; [ "$(id -u)" = 0 ] && USER_LINE="user root;"
cat >"$WORK/nginx/nginx.conf" <<CONF
$USER_LINE
worker_processes $CORES;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on; tcp_nopush on; gzip_static on; etag on;
  client_body_temp_path $WORK/nginx/tmp; proxy_temp_path $WORK/nginx/tmp;
  fastcgi_temp_path $WORK/nginx/tmp; uwsgi_temp_path $WORK/nginx/tmp; scgi_temp_path $WORK/nginx/tmp;
  types { application/atom+xml atom; application/rss+xml rss; application/feed+json json;
          text/html html; text/x-opml opml; text/xsl xsl; audio/mpeg mp3; }
  default_type text/html;
  charset utf-8; charset_types application/atom+xml application/rss+xml application/feed+json;
  server { listen 127.0.0.1:$NG_PORT; root $WORK/www; index index.html; }
}
CONF
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g "daemon off;" &
NGINX_PID=$!
NG="http://127.0.0.1:$NG_PORT"
for _ in $(seq 1 100); do curl -fs "$NG/feed.atom" >/dev/null 2>&1 && break; sleep 0.1; done
cmp <(curl -fs "$BASE/feed.atom") <(curl -fs "$NG/feed.atom") || { echo "the two servers send different bytes" >&2; exit 1; }
for url in "$BASE" "$NG"; do
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Range: $RANGE" "$url$EPISODE")
  [ "$status" = 206 ] || { echo "$url$EPISODE answers $status to a range, not 206" >&2; exit 1; }
done
cmp <(curl -fs -H "Range: $RANGE" "$BASE$EPISODE") <(curl -fs -H "Range: $RANGE" "$NG$EPISODE") \
  || { echo "the two servers send different bytes for a range of $EPISODE" >&2; exit 1; }
echo "# /feed.atom: $(curl -fs "$BASE/feed.atom" | wc -c) bytes, gzip $(curl -fs -H 'Accept-Encoding: gzip' "$BASE/feed.atom" | wc -c) bytes" >&2
# Another build may well render other bytes: said, not fatal, since the ratio is then of
# different documents.
if [ -n "$BASELINE" ]; then
  if cmp -s <(curl -fs "$BASE/feed.atom") <(curl -fs "$BL/feed.atom"); then
    echo "# baseline /feed.atom: the same bytes" >&2
  else
    echo "# baseline /feed.atom: other bytes, $(curl -fs "$BL/feed.atom" | wc -c) bytes, gzip $(curl -fs -H 'Accept-Encoding: gzip' "$BL/feed.atom" | wc -c) bytes" >&2
  fi
fi

# CPU ticks (user+sys) of a process and its children threads; nginx: master + workers.
cpu_ticks() {
  local total=0 pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}
pids_of() {
  case $1 in
    nginx) echo "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')" ;;
    baseline) echo "$BASELINE_PID" ;;
    *) echo "$SEEDFEED_PID" ;;
  esac
}
TICK=$(getconf CLK_TCK)

run() { # server case url headers...
  local server=$1 case=$2 url=$3; shift 3
  local args=() h pids before after out
  for h in "$@"; do args+=(-H "$h"); done
  pids=$(pids_of "$server")
  before=$(cpu_ticks $pids)
  out=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "${args[@]}" "$url")
  after=$(cpu_ticks $pids)
  python3 - "$server" "$case" "$before" "$after" "$TICK" <<PY
import re, sys
server, case, before, after, tick = sys.argv[1:6]
out = """$out"""
reqs = int(re.search(r"(\d+) requests in", out).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
def lat(p):
    m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)" % p, out)
    v, u = float(m.group(1)), m.group(2)
    return v * {"us": 1, "ms": 1e3, "s": 1e6}[u]
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
cpu_us = (int(after) - int(before)) / int(tick) * 1e6 / max(reqs, 1)
print(f"{server}\t{case}\t{rps:.0f}\t{lat(50):.0f}\t{lat(99):.0f}\t{cpu_us:.1f}\t{errors.group(1) if errors else 0}")
PY
}

ETAG_SF=$(curl -fsI "$BASE/feed.atom" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
ETAG_NG=$(curl -fsI "$NG/feed.atom" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
SERVERS=(seedfeed)
if [ -n "$BASELINE" ]; then
  SERVERS+=(baseline)
  ETAG_BL=$(curl -fsI "$BL/feed.atom" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
fi
SERVERS+=(nginx)
RESULTS="$WORK/results.tsv"
for round in 1 2 3; do
  for server in "${SERVERS[@]}"; do
    case $server in
      seedfeed) url=$BASE; etag=$ETAG_SF ;;
      baseline) url=$BL; etag=$ETAG_BL ;;
      nginx) url=$NG; etag=$ETAG_NG ;;
    esac
    run $server "a identity" "$url/feed.atom" >>"$RESULTS"
    run $server "b gzip" "$url/feed.atom" "Accept-Encoding: gzip" >>"$RESULTS"
    run $server "c 304" "$url/feed.atom" "If-None-Match: $etag" >>"$RESULTS"
    run $server "d index" "$url/" >>"$RESULTS"
    run $server "e media" "$url$EPISODE" >>"$RESULTS"
    run $server "f range" "$url$EPISODE" "Range: $RANGE" >>"$RESULTS"
  done
  echo "# round $round done" >&2
done

VERSIONS=""
[ -n "$BASELINE" ] && VERSIONS="seedfeed: $("$BIN" --version | head -n 1); baseline: $("$BASELINE" --version | head -n 1) ($BASELINE)"
python3 - "$RESULTS" "$CONNECTIONS" "$DURATION" "$VERSIONS" <<'PY'
import statistics, sys
from collections import defaultdict
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
data = defaultdict(list)
for server, case, rps, p50, p99, cpu, errors in rows:
    data[(case, server)].append((float(rps), float(p50), float(p99), float(cpu), int(errors)))
servers = [s for s in ("seedfeed", "baseline", "nginx") if any(s == server for _, server in data)]
print(f"wrk -t1 -c{sys.argv[2]} -d{sys.argv[3]}s, medians of 3 runs; latency in µs, CPU µs per request")
if sys.argv[4]:
    print(sys.argv[4])
print(f"{'case':<12} {'server':<9} {'req/s':>8} {'p50':>7} {'p99':>7} {'CPU/req':>8} {'non-2xx/3xx':>11}")
for case in sorted({c for c, _ in data}):
    med = {}
    for server in servers:
        runs = data[(case, server)]
        m = [statistics.median(x[i] for x in runs) for i in range(4)]
        med[server] = m
        errors = sum(x[4] for x in runs)
        print(f"{case:<12} {server:<9} {m[0]:>8.0f} {m[1]:>7.0f} {m[2]:>7.0f} {m[3]:>8.1f} {errors:>11}")
    s = med["seedfeed"]
    for other in ("nginx", "baseline"):
        if other in med:
            n = med[other]
            print(f"{case:<12} {'ratio':<9} {s[0]/n[0]:>8.2f} {s[1]/n[1]:>7.2f} {s[2]/n[2]:>7.2f} {s[3]/n[3]:>8.2f}   (seedfeed/{other})")
PY
