#!/usr/bin/env bash
# Uncached searches measured on binaries taken in turns, on one kept corpus, so that the
# machine's drift falls on each alike. Each binary is started, warmed for 4 s, then measured
# for 10 s at 8 connections; prints req/s, p50, p99, the requests served and the server's CPU
# time per request (from /proc, steadier than latency on a shared machine).
#
#   DATA=/var/tmp/engawa-1m/data benches/alternate.sh before=/tmp/engawa-old after=/tmp/engawa-new
#   QUERIES="家族の予定 アプリ" ROUNDS=3 DATA=... benches/alternate.sh a=BIN b=BIN
#
# DATA is a data folder load.sh kept (its DATA=); build each binary with `cargo build --release`
# and copy it aside first. Needs wrk (load.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
export ENGAWA_DATA_DIR="${DATA:?DATA= a data folder with a corpus and its index}"
export ENGAWA_CONFIG=/dev/null ENGAWA_LOG=warn ENGAWA_SEARCHES_PER_MINUTE=1000000000
QUERIES="${QUERIES:-家族の予定}"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for round in $(seq "${ROUNDS:-2}"); do
  for named in "$@"; do
    label=${named%%=*} bin=${named#*=}
    port=$(free_port)
    ENGAWA_BIND="127.0.0.1:$port" "$bin" serve >/dev/null 2>&1 &
    pid=$!
    until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.1; done
    for q in $QUERIES; do
      url="http://127.0.0.1:$port/search?q=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$q")"
      wrk -t2 -c8 -d4s -s benches/uncached.lua "$url" >/dev/null
      before=$(cpu_ticks "$pid")
      out=$(wrk -t2 -c8 -d10s --latency -s benches/uncached.lua "$url")
      after=$(cpu_ticks "$pid")
      awk -v label="$label" -v q="$q" -v round="$round" -v ticks=$((after - before)) \
        -v hz="$(getconf CLK_TCK)" '
        /Requests\/sec/ { rps = $2 }
        / requests in / { n = $1 }
        $1 == "50%" { p50 = $2 }
        $1 == "99%" { p99 = $2 }
        /Non-2xx/ { bad = " (" $0 ")" }
        END { printf "round %s | %s | %s | %s req/s | p50 %s | p99 %s | %d requests | CPU %.2f ms/request%s\n",
              round, label, q, rps, p50, p99, n, ticks * 1000 / hz / n, bad }' <<<"$out"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
done
