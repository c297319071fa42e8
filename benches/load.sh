#!/usr/bin/env bash
# Load benchmark: Engawa against nginx serving the very same bytes, side by side, in one run.
# Builds the release binary, generates a corpus (the demo content plus STORIES synthetic stories),
# saves the HTML of each measured page into a folder nginx serves, and runs wrk against each pair
# with the same threads, connections and duration. Search is measured uncached (every request
# misses the page cache, see uncached.lua). Prints one Markdown table, then peak RSS and
# start-up time. Installs nginx and wrk with apt-get when missing.
#
#   benches/load.sh                      # 100,000 stories, 10 s per measurement
#   STORIES=5000 DURATION=3s benches/load.sh
#   STORIES=1000000 PROFILE=1 benches/load.sh   # also: where the server's time goes during an
#                                               # uncached search (perf, top functions)
#   STORIES=1000000 DATA=/var/tmp/engawa-1m benches/load.sh   # keeps the corpus in DATA; a
#       later run with the same DATA measures it again without generating it (no generation
#       or reindex figures then)
#   ONLY=search ...                              # only the search rows
#   BIN=/path/to/engawa ...                      # that binary, not one built from this checkout
set -euo pipefail
cd "$(dirname "$0")/.."

STORIES="${STORIES:-100000}"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
PAGE_CONNECTIONS="${PAGE_CONNECTIONS:-64}"
SEARCH_CONNECTIONS="${SEARCH_CONNECTIONS:-8}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/engawa-target}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# BIN=path/to/engawa measures a binary built earlier (two commits side by side, say).
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN="$CARGO_TARGET_DIR/release/engawa"
fi
WORK=$(mktemp -d)
# nginx's workers run as an unprivileged user: they must be able to read the pages (a 0700
# folder made them answer 403, a 153-byte error page, which the table then compared against).
chmod 755 "$WORK"
trap 'kill $(jobs -p) 2>/dev/null; [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null; rm -rf "$WORK"' EXIT
export ENGAWA_DATA_DIR="${DATA:-$WORK/data}" ENGAWA_CONFIG=/dev/null ENGAWA_LOG=warn
# Every request comes from this one address: lift the per-client search limit, or the uncached
# search rows would measure 429 pages.
export ENGAWA_SEARCHES_PER_MINUTE=1000000000

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts the server and waits until it answers; READY holds the seconds that took.
start_engawa() {
  local started
  started=$(date +%s.%N)
  ENGAWA_BIND="127.0.0.1:$PORT" ENGAWA_LOG=info "$BIN" serve "$@" >"$WORK/serve.log" 2>&1 &
  ENGAWA_PID=$!
  until grep -q "engawa ready at" "$WORK/serve.log" 2>/dev/null; do sleep 0.05; done
  until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 0.1; done
  READY=$(python3 -c "import sys; print(round(float(sys.argv[1]) - float(sys.argv[2]), 2))" "$(date +%s.%N)" "$started")
}

PORT=$(free_port)
GENERATED="(kept corpus)" REINDEXED="(kept corpus)"
if [ -n "${DATA:-}" ] && [ -f "$DATA/engawa.sqlite3" ]; then
  echo "== corpus: kept in $DATA" >&2
else
  echo "== corpus: demo content + $STORIES synthetic stories" >&2
  start_engawa --demo
  kill "$ENGAWA_PID"; wait "$ENGAWA_PID" 2>/dev/null || true
  seconds() { python3 -c "import sys; print(round(float(sys.argv[1]) - float(sys.argv[2])))" "$(date +%s.%N)" "$1"; }
  t=$(date +%s.%N)
  "$BIN" demo --stories "$STORIES" >&2
  GENERATED=$(seconds "$t")
  t=$(date +%s.%N)
  "$BIN" reindex >&2
  REINDEXED=$(seconds "$t")
fi
INDEX_SIZE=$(du -sm "$ENGAWA_DATA_DIR/search" | cut -f1)

echo "== starting Engawa on the corpus" >&2
start_engawa
BASE="http://127.0.0.1:$PORT"

STORY=$(curl -s "$BASE/stories" | grep -o 'href="/stories/[a-z0-9]\{12\}"' | head -1 | cut -d'"' -f2)
GUIDE=/guides/before-you-begin
PAGES=(
  "home|/"
  "guide|$GUIDE"
  "story|$STORY"
  "stories p1|/stories"
  "stories p50 (filter)|/stories?how_met=hobby&page=50"
  "feed.atom|/feed.atom"
)
QUERIES=("ルール" "家族の予定" "アプリ" "月に一度" "灯台")
for q in "${QUERIES[@]}"; do
  PAGES+=("search $q|/search?q=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$q")")
done

# The same bytes for nginx: each page saved under its own file name.
mkdir -p "$WORK/static"
NGINX_PORT=$(free_port)
i=0
for entry in "${PAGES[@]}"; do
  path="${entry#*|}"
  curl -s "$BASE$path" -o "$WORK/static/page$i.html"
  i=$((i + 1))
done
cat >"$WORK/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type text/html;
  sendfile on;
  keepalive_requests 100000;
  server { listen 127.0.0.1:$NGINX_PORT; root $WORK/static; }
}
CONF
"$NGINX" -c "$WORK/nginx.conf" -p "$WORK"

# Prints "req/s p50 p99" (latencies in ms) from a wrk run; further arguments go to wrk. Stops the
# script if any answer was not a success: a fast error page is not a measurement.
measure() {
  local url=$1 connections=$2 out
  shift 2
  out=$(wrk -t"$THREADS" -c"$connections" -d"$DURATION" --latency "$@" "$url" 2>/dev/null)
  if grep -q "Non-2xx" <<<"$out"; then
    echo "$url: $(grep "Non-2xx" <<<"$out")" >&2
    exit 1
  fi
  awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    END { printf "%.0f %.2f %.2f", rps, p50, p99 }' <<<"$out"
}

peak_rss() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$ENGAWA_PID/status"; }

echo
echo "| page | connections | Engawa req/s | p50 ms | p99 ms | nginx req/s | p50 ms | p99 ms | Engawa/nginx |"
echo "|---|---|---|---|---|---|---|---|---|"
i=0
for entry in "${PAGES[@]}"; do
  name="${entry%%|*}"; path="${entry#*|}"
  if [ "${ONLY:-}" = search ] && [[ "$name" != search* ]]; then i=$((i + 1)); continue; fi
  connections=$PAGE_CONNECTIONS
  extra=()
  # Search is measured uncached: every request runs the query (see uncached.lua).
  case "$name" in search*) connections=$SEARCH_CONNECTIONS; extra=(-s benches/uncached.lua) ;; esac
  # Assigned first, so that a failed measurement stops the script (set -e).
  engawa=$(measure "$BASE$path" "$connections" "${extra[@]}")
  nginx=$(measure "http://127.0.0.1:$NGINX_PORT/page$i.html" "$connections")
  read -r e_rps e_p50 e_p99 <<<"$engawa"
  read -r n_rps n_p50 n_p99 <<<"$nginx"
  ratio=$(python3 -c "import sys; print(round(float(sys.argv[1]) / max(float(sys.argv[2]), 1), 2))" "$e_rps" "$n_rps")
  echo "| $name | $connections | $e_rps | $e_p50 | $e_p99 | $n_rps | $n_p50 | $n_p99 | $ratio |"
  i=$((i + 1))
done
echo
# もしかして: the first query that finds nothing reads the vocabulary of titles and tags.
nothing="$BASE/search?q=$(python3 -c 'import urllib.parse; print(urllib.parse.quote("ルーノレ"))')"
first=$(curl -s -o /dev/null -w '%{time_total}' "$nothing")
again=$(curl -s -o /dev/null -w "%{time_total}" "$nothing&fresh=1")
echo "A query that finds nothing (もしかして): first ${first} s (the vocabulary read), then ${again} s"
echo "Peak RSS of engawa serve under this load: $(peak_rss) MB"
echo "Generation (engawa demo --stories $STORIES): $GENERATED s; reindex: $REINDEXED s; index: $INDEX_SIZE MB"
if [ -n "${PROFILE:-}" ]; then
  # Where the time goes: the server sampled while wrk runs one uncached search, by function.
  for q in "${QUERIES[@]}"; do
    url="$BASE/search?q=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$q")"
    perf record -F 499 -g -p "$ENGAWA_PID" -o "$WORK/perf.data" -- sleep 8 >/dev/null 2>&1 &
    PERF_PID=$!
    wrk -t"$THREADS" -c"$SEARCH_CONNECTIONS" -d8s -s benches/uncached.lua "$url" >/dev/null 2>&1
    wait "$PERF_PID" || true
    echo
    echo "Profile of search $q (self time, top 15 functions):"
    # `head` closes the pipe early: under pipefail that must not end the script.
    perf report -i "$WORK/perf.data" --no-children --stdio --sort symbol 2>/dev/null |
      grep -E '^ +[0-9]' | head -15 || true
  done
fi
kill "$ENGAWA_PID"; wait "$ENGAWA_PID" 2>/dev/null || true
start_engawa
echo "Ready (answering /readyz) after a restart with the existing index: $READY s"
echo "Corpus: $STORIES synthetic stories + demo content; wrk -t$THREADS, ${DURATION} per measurement; $(nproc) cores; $(date -u +%F)"
