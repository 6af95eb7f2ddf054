#!/usr/bin/env bash
# Serving benchmark: seedfeed against nginx serving the same documents from disk, in one
# run, with as many nginx workers as seedfeed has. Builds the release binary, generates
# 10k articles, lets seedfeed ingest them, exports the same documents with `seedfeed
# render --out` (with their .gz and .br siblings), serves the export with nginx, then
# runs wrk (-t1, the same settings for every server) at each concurrency of -c, in
# these cases:
#   (a) /feed.atom identity  (b) gzip  (c) brotli  (d) 304  (e) the index /
#   (f) a 50 MB episode under /media/, whole  (g) the same, a 1 MiB range from its middle
# Three rounds; in each, every case runs on each server in turn (seedfeed nginx seedfeed
# nginx ...), so that the machine's drift falls on all alike. It prints req/s, p50 and
# p99 latency, and each server's CPU time per request (user+sys from /proc/PID/stat
# before and after, divided by requests), medians of the rounds, then the ratios
# seedfeed/nginx per case and concurrency.
#
# Workers: seedfeed's `workers` is -w (default: the number of cores), given to it
# through SEEDFEED_WORKERS and checked by counting its seedfeed-http threads; nginx gets
# as many worker processes.
#
# nginx is set up as a careful operator sets it up for a few hot files:
# - open_file_cache (max=1000 inactive=60s), open_file_cache_valid 60s,
#   open_file_cache_min_uses 1, open_file_cache_errors on: keeps the served files'
#   descriptors and sizes, and the misses of gzip_static's and brotli_static's look-ups,
#   which saves an open, fstat and close per request (seedfeed answers from memory);
# - keepalive_requests 1000000 and keepalive_timeout 60s: the default of 1000 requests
#   closes every busy connection every 1000 requests, which seedfeed never does; the
#   timeout is seedfeed's idle_timeout, long enough that no connection ends in a run;
# - sendfile on: bodies go from the page cache to the socket with no copy;
# - tcp_nopush on: with sendfile, the head goes out with the start of the body in full
#   packets;
# - tcp_nodelay on: the last packet of an answer leaves at once, as seedfeed's do;
# - gzip_static on, brotli_static on, gzip_vary on: the export's .gz and .br files, the
#   variants seedfeed sends from memory, with Vary: Accept-Encoding as seedfeed sends it;
# - etag on: the validators of the 304 case;
# - access_log off: seedfeed's access_log is off by default.
# brotli_static is Debian's libnginx-mod-http-brotli-static. Without it, nginx cannot
# send the .br files, so the brotli case runs seedfeed's br against nginx's gzip_static,
# the nearest it has, labelled "c br/ngx gz", and the run says so.
#
# With --floor, a third server in the identity and 304 cases: examples/floor.rs, which
# answers every request with the same prebuilt bytes (seedfeed's own head, captured, and
# for identity the body) through bare read and write calls and an epoll loop per worker,
# as many as the others have. Its CPU per request is the cost below which no HTTP server
# here can go; the summary prints seedfeed/floor and nginx/floor.
#
# With --baseline BINARY, a second seedfeed build (built beforehand, another commit say,
# run as it is) is one more server in the rotation, seedfeed baseline nginx for every
# case, so that the machine's drift falls on both builds alike: it serves the same seeds
# from its own data folder, under the same base URL (the same build would send the same
# bytes), with the same workers, and the ratio seedfeed/baseline is printed too.
#
#   bench/serve.sh [-n ARTICLES] [-d SECONDS] [-c "CONNECTIONS ..."] [-w WORKERS]
#                  [--floor] [--baseline BINARY]
#
# Defaults: 10,000 articles, 5 s per run, -c "32 64", one worker per core.
#
# Needs: cargo, python3, curl, nginx, libnginx-mod-http-brotli-static, wrk
# (apt-get install -y nginx libnginx-mod-http-brotli-static wrk).
set -euo pipefail
CALLER=$PWD # a relative --baseline is from there
cd "$(dirname "$0")/.."
N=10000 DURATION=5 CONNECTIONS="32 64" WORKERS=$(nproc) BASELINE="" FLOOR=""
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --floor) FLOOR=1; shift; continue ;;
    -n | -d | -c | -w | --baseline) [ $# -ge 2 ] || usage; opt=$1 value=$2; shift 2 ;;
    -[ndcw]?*) opt=${1:0:2} value=${1:2}; shift ;; # -n2000, as getopts took it
    *) usage ;;
  esac
  case $opt in
    -n) N=$value ;; -d) DURATION=$value ;; -c) CONNECTIONS=${value//,/ } ;;
    -w) WORKERS=$value ;; --baseline) BASELINE=$value ;;
  esac
done
for number in "$N" "$DURATION" "$WORKERS" $CONNECTIONS; do
  [[ $number =~ ^[1-9][0-9]*$ ]] || { echo "not a positive number: $number" >&2; usage; }
done
if [ -n "$BASELINE" ]; then
  given=$BASELINE
  BASELINE=$(cd "$CALLER" && realpath -e -- "$BASELINE" 2>/dev/null) && [ -f "$BASELINE" ] && [ -x "$BASELINE" ] \
    || { echo "--baseline takes a built seedfeed binary: $given is not one" >&2; exit 2; }
fi
for tool in nginx wrk python3 cargo curl; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "missing: $tool (apt-get install -y nginx wrk curl)" >&2; exit 2; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
BROTLI_MODULE=/usr/lib/nginx/modules/ngx_http_brotli_static_module.so

cargo build --release --quiet
BIN=target/release/seedfeed
FLOOR_BIN=target/release/examples/floor
[ -z "$FLOOR" ] || cargo build --release --quiet --example floor
# The build just written over is the one under test: a baseline must be another file (a
# copy, to compare a build with itself).
if [ -n "$BASELINE" ] && [ "$BASELINE" -ef "$BIN" ]; then
  echo "--baseline is $BIN itself, the build under test" >&2; exit 2
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/seedfeed-bench.XXXXXX")
SEEDFEED_PID="" BASELINE_PID="" NGINX_PID="" FLOOR_ID_PID="" FLOOR_304_PID=""
# Every server is stopped whatever the others' exit status (the floor dies of the
# SIGTERM, which set -e would otherwise take for a failure and end the cleanup on).
cleanup() {
  local pid
  for pid in "$SEEDFEED_PID" "$BASELINE_PID" "$FLOOR_ID_PID" "$FLOOR_304_PID"; do
    [ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; } || true
  done
  [ -z "$NGINX_PID" ] || { kill -QUIT "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null; } || true
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
# The HTTP worker threads a seedfeed process runs: what its `workers` came to.
http_threads() { cat /proc/"$1"/task/*/comm 2>/dev/null | grep -c '^seedfeed-http-' || true; }
check_workers() { # name pid
  local threads
  threads=$(http_threads "$2")
  [ "$threads" = "$WORKERS" ] || { echo "$1 runs $threads HTTP workers, not $WORKERS" >&2; exit 1; }
}

echo "# corpus: $N articles" >&2
python3 bench/gen_corpus.py "$WORK/seeds" -n "$N" -q --mtime-spread "$N"
# A 50 MB episode beside the articles (random bytes: /media/ serves any file by its
# extension), which the export copies for nginx.
head -c $((50 * 1024 * 1024)) /dev/urandom >"$WORK/seeds/episode.mp3"
EPISODE=/media/episode.mp3 RANGE="bytes=26214400-27262975"
env -u SEEDFEED_CONFIG SEEDFEED_LOG=warn SEEDFEED_WORKERS="$WORKERS" "$BIN" serve \
  --seeds "$WORK/seeds" --data "$WORK/data" --listen "127.0.0.1:$SF_PORT" \
  $(admin_flags "$BIN" "$SF_ADMIN") --base-url "$BASE" 2>"$WORK/seedfeed.log" &
SEEDFEED_PID=$!
ingested() { # name url
  for _ in $(seq 1 600); do
    curl -fs "$2/status" 2>/dev/null | python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)['entries'] >= $N else 1)" 2>/dev/null && break
    sleep 0.5
  done
  echo "# $1 ingested: $(curl -fs "$2/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])') entries" >&2
}
ingested seedfeed "$(admin_url "$BIN" "$SF_ADMIN" "$BASE")"
check_workers seedfeed "$SEEDFEED_PID"

# The baseline, started once seedfeed has ingested (the two never ingest at once), with
# seedfeed's base URL: it only goes into the documents, where a different one would
# change their bytes and sizes.
BL="http://127.0.0.1:$BL_PORT"
if [ -n "$BASELINE" ]; then
  env -u SEEDFEED_CONFIG SEEDFEED_LOG=warn SEEDFEED_WORKERS="$WORKERS" "$BASELINE" serve \
    --seeds "$WORK/seeds" --data "$WORK/data-baseline" --listen "127.0.0.1:$BL_PORT" \
    $(admin_flags "$BASELINE" "$BL_ADMIN") --base-url "$BASE" 2>"$WORK/baseline.log" &
  BASELINE_PID=$!
  ingested baseline "$(admin_url "$BASELINE" "$BL_ADMIN" "$BL")"
  check_workers baseline "$BASELINE_PID"
fi

# The same documents from disk: the export, with the base URL of the running daemon so
# the bytes are identical.
env -u SEEDFEED_CONFIG SEEDFEED_LOG=warn "$BIN" render --out "$WORK/www" --seeds "$WORK/seeds" \
  --data "$WORK/data" --base-url "$BASE" >/dev/null
# nginx's brotli: Debian's brotli_static module, else the case falls back to gzip_static.
BR_CASE="c brotli" NGINX_BR=br LOAD_BROTLI="" BROTLI_STATIC=""
if [ -f "$BROTLI_MODULE" ]; then
  LOAD_BROTLI="load_module $BROTLI_MODULE;" BROTLI_STATIC="brotli_static on;"
else
  BR_CASE="c br/ngx gz" NGINX_BR=gzip
  echo "# no brotli module for nginx ($BROTLI_MODULE; Debian: libnginx-mod-http-brotli-static):" \
    "the brotli case runs against nginx's gzip_static" >&2
fi
mkdir -p "$WORK/nginx/tmp"
USER_LINE=""; [ "$(id -u)" = 0 ] && USER_LINE="user root;"
# Each setting is explained in the header of this script.
cat >"$WORK/nginx/nginx.conf" <<CONF
$LOAD_BROTLI
$USER_LINE
worker_processes $WORKERS;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 1000000; keepalive_timeout 60s;
  open_file_cache max=1000 inactive=60s; open_file_cache_valid 60s;
  open_file_cache_min_uses 1; open_file_cache_errors on;
  gzip_static on; gzip_vary on; $BROTLI_STATIC
  etag on;
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
NGINX_WORKERS=$(pgrep -c -P "$NGINX_PID" || true)
[ "$NGINX_WORKERS" = "$WORKERS" ] || { echo "nginx runs $NGINX_WORKERS workers, not $WORKERS" >&2; exit 1; }
echo "# workers: $WORKERS (seedfeed's HTTP worker threads, nginx's worker processes)" >&2

# Both servers send /feed.atom in a coding (given as the one to ask nginx for, when that
# differs) with the same bytes; the sizes are printed.
same_coding() { # coding [nginx's coding]
  local coding=$1 server url asked sent
  for server in seedfeed nginx; do
    url=$BASE asked=$coding
    [ $server = nginx ] && url=$NG asked=${2:-$coding}
    curl -fs -D "$WORK/head.$server" -o "$WORK/body.$server" -H "Accept-Encoding: $asked" "$url/feed.atom"
    sent=$(tr -d '\r' <"$WORK/head.$server" | awk -F': ' 'tolower($1)=="content-encoding"{print $2}')
    [ "${sent:-identity}" = "$asked" ] || { echo "$server sends /feed.atom as ${sent:-identity} when asked for $asked" >&2; exit 1; }
  done
  if [ "$asked" = "$coding" ]; then
    cmp -s "$WORK/body.seedfeed" "$WORK/body.nginx" \
      || { echo "the two servers send different bytes for /feed.atom in $coding" >&2; exit 1; }
  fi
  echo "$coding $(wc -c <"$WORK/body.seedfeed")"
}
sizes="$(same_coding identity), $(same_coding gzip), $(same_coding br "$NGINX_BR")"
echo "# /feed.atom, bytes: $sizes" >&2
for url in "$BASE" "$NG"; do
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Range: $RANGE" "$url$EPISODE")
  [ "$status" = 206 ] || { echo "$url$EPISODE answers $status to a range, not 206" >&2; exit 1; }
done
cmp <(curl -fs -H "Range: $RANGE" "$BASE$EPISODE") <(curl -fs -H "Range: $RANGE" "$NG$EPISODE") \
  || { echo "the two servers send different bytes for a range of $EPISODE" >&2; exit 1; }
# Another build may well render other bytes: said, not fatal, since the ratio is then of
# different documents.
if [ -n "$BASELINE" ]; then
  if cmp -s <(curl -fs "$BASE/feed.atom") <(curl -fs "$BL/feed.atom"); then
    echo "# baseline /feed.atom: the same bytes" >&2
  else
    echo "# baseline /feed.atom: other bytes, $(curl -fs "$BL/feed.atom" | wc -c) bytes, gzip $(curl -fs -H 'Accept-Encoding: gzip' "$BL/feed.atom" | wc -c) bytes" >&2
  fi
fi

etag_of() { curl -fsI "$1/feed.atom" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}'; }
ETAG_SF=$(etag_of "$BASE") ETAG_NG=$(etag_of "$NG") ETAG_BL=""
[ -z "$BASELINE" ] || ETAG_BL=$(etag_of "$BL")

# The floor: seedfeed's own answers, its heads captured as sent, served by floor.rs.
FL_ID="" FL_304=""
if [ -n "$FLOOR" ]; then
  curl -fs -D "$WORK/floor-id.head" -o "$WORK/floor-id.body" "$BASE/feed.atom"
  curl -s -D "$WORK/floor-304.head" -o /dev/null -H "If-None-Match: $ETAG_SF" "$BASE/feed.atom"
  FL_ID_PORT=$(free_port) FL_304_PORT=$(free_port)
  "$FLOOR_BIN" --listen "127.0.0.1:$FL_ID_PORT" --threads "$WORKERS" --head "$WORK/floor-id.head" \
    --body "$WORK/floor-id.body" 2>>"$WORK/floor.log" &
  FLOOR_ID_PID=$!
  "$FLOOR_BIN" --listen "127.0.0.1:$FL_304_PORT" --threads "$WORKERS" --head "$WORK/floor-304.head" \
    2>>"$WORK/floor.log" &
  FLOOR_304_PID=$!
  FL_ID="http://127.0.0.1:$FL_ID_PORT" FL_304="http://127.0.0.1:$FL_304_PORT"
  for _ in $(seq 1 100); do curl -fs "$FL_ID/feed.atom" >/dev/null 2>&1 && break; sleep 0.1; done
  cmp -s <(curl -fs "$BASE/feed.atom") <(curl -fs "$FL_ID/feed.atom") \
    || { echo "the floor does not send seedfeed's /feed.atom" >&2; exit 1; }
  status=$(curl -s -o /dev/null -w '%{http_code}' "$FL_304/feed.atom")
  [ "$status" = 304 ] || { echo "the floor's 304 answers $status" >&2; exit 1; }
  echo "# floor: seedfeed's answers, $(wc -c <"$WORK/floor-304.head") bytes for the 304" >&2
fi

# CPU ticks (user+sys) of processes, all their threads included; nginx: master + workers.
cpu_ticks() {
  local total=0 pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}
TICK=$(getconf CLK_TCK)

# The request of a case to a server: sets URL, HEADERS (an array) and PIDS; fails when
# the server does not run that case (the floor runs two).
request_for() { # server case
  local base etag coding=br
  case $1 in
    seedfeed) base=$BASE etag=$ETAG_SF PIDS=$SEEDFEED_PID ;;
    baseline) base=$BL etag=$ETAG_BL PIDS=$BASELINE_PID ;;
    nginx) base=$NG etag=$ETAG_NG coding=$NGINX_BR PIDS="$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')" ;;
    floor)
      case $2 in
        "a identity") base=$FL_ID PIDS=$FLOOR_ID_PID ;;
        "d 304") base=$FL_304 etag=$ETAG_SF PIDS=$FLOOR_304_PID ;;
        *) return 1 ;;
      esac ;;
  esac
  HEADERS=()
  case $2 in
    "a identity") URL=$base/feed.atom ;;
    "b gzip") URL=$base/feed.atom HEADERS=("Accept-Encoding: gzip") ;;
    "$BR_CASE") URL=$base/feed.atom HEADERS=("Accept-Encoding: $coding") ;;
    "d 304") URL=$base/feed.atom HEADERS=("If-None-Match: $etag") ;;
    "e index") URL=$base/ ;;
    "f media") URL=$base$EPISODE ;;
    "g range") URL=$base$EPISODE HEADERS=("Range: $RANGE") ;;
  esac
}

run() { # server connections case
  local server=$1 connections=$2 case=$3 args=() h before after out
  request_for "$server" "$case" || return 0
  for h in "${HEADERS[@]}"; do args+=(-H "$h"); done
  before=$(cpu_ticks $PIDS)
  out=$(wrk -t1 -c"$connections" -d"${DURATION}s" --latency "${args[@]}" "$URL")
  after=$(cpu_ticks $PIDS)
  python3 - "$server" "$connections" "$case" "$before" "$after" "$TICK" <<PY
import re, sys
server, connections, case, before, after, tick = sys.argv[1:7]
out = """$out"""
reqs = int(re.search(r"(\d+) requests in", out).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
def lat(p):
    m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)" % p, out)
    v, u = float(m.group(1)), m.group(2)
    return v * {"us": 1, "ms": 1e3, "s": 1e6}[u]
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
cpu_us = (int(after) - int(before)) / int(tick) * 1e6 / max(reqs, 1)
print(f"{server}\t{connections}\t{case}\t{rps:.0f}\t{lat(50):.0f}\t{lat(99):.0f}\t{cpu_us:.1f}\t{errors.group(1) if errors else 0}")
PY
}

SERVERS=(seedfeed)
[ -z "$BASELINE" ] || SERVERS+=(baseline)
SERVERS+=(nginx)
[ -z "$FLOOR" ] || SERVERS+=(floor)
CASES=("a identity" "b gzip" "$BR_CASE" "d 304" "e index" "f media" "g range")
RESULTS="$WORK/results.tsv"
for round in 1 2 3; do
  for connections in $CONNECTIONS; do
    for case in "${CASES[@]}"; do
      for server in "${SERVERS[@]}"; do
        run "$server" "$connections" "$case" >>"$RESULTS"
      done
    done
  done
  echo "# round $round done" >&2
done

NOTES="workers: $WORKERS each (seedfeed's HTTP worker threads, nginx's worker processes)"
[ -z "$BASELINE" ] || NOTES+=$'\n'"seedfeed: $("$BIN" --version | head -n 1); baseline: $("$BASELINE" --version | head -n 1) ($BASELINE)"
[ -n "$BROTLI_STATIC" ] || NOTES+=$'\n'"$BR_CASE: nginx has no brotli module here; its row is nginx's gzip_static"
[ -z "$FLOOR" ] || NOTES+=$'\n'"floor: examples/floor.rs, seedfeed's answers as prebuilt bytes, bare read/write, an epoll loop per worker"
python3 bench/serve_summary.py "$RESULTS" "$DURATION" "$NOTES"
