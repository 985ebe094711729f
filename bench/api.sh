#!/usr/bin/env bash
# Load test of the job API with wrk: POST /v1/jobs and GET /v1/jobs/{id} against a release
# build on the embedded SQLite store, with the job workers running (each posted job is a
# real scrape of the service's own dashboard page on loopback).
#
# Two runs per endpoint:
#   paced: 1,000 requests/s offered at a constant rate (bench/wrk/pace.lua) over 50
#          connections, the load the target is stated for (p99 under 10 ms);
#   max:   8 connections as fast as they go: the sustained ceiling on this machine.
# Usage: bench/api.sh [SECONDS]   (default 15 per run)
#        WORKERS=N bench/api.sh  (job workers in the service; default the config default, 4;
#                                 0 measures the API alone)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
command -v wrk >/dev/null || { sudo=""; [[ $(id -u) -ne 0 ]] && sudo=sudo; $sudo apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked --bin ace-web >/dev/null 2>&1 || { echo "release build failed: run cargo build --release" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; [[ -n "${BENCH_KEEP:-}" ]] || rm -rf "$work"' EXIT
cat > "$work/ace.toml" <<TOML
allow_private_networks = true
admin_key = "ace_bench_admin_key_000000000000"
[plans.bench]
requests_per_minute = 10000000
concurrent_jobs = 1000
browser_sessions = 1
pages_per_month = 1000000000
TOML
ports=(${WORKERS:+--workers "$WORKERS"}); for s in dashboard orchestrator replicator extractor scraper health; do ports+=(--port "$s=0"); done
target/release/ace-web serve --config "$work/ace.toml" --data-dir "$work/data" "${ports[@]}" > "$work/out" 2> "$work/log" &
pid=$!
for _ in $(seq 100); do grep -q '^ace-web: ready' "$work/out" && break; sleep 0.1; done
api=$(sed -n 's/^ace-web: orchestrator listening on //p' "$work/out")
dash=$(sed -n 's/^ace-web: dashboard listening on //p' "$work/out")
key=$(curl -sf -X POST "$api/v1/tenants" -H 'authorization: Bearer ace_bench_admin_key_000000000000' \
      -H 'content-type: application/json' -d '{"name":"bench","plan":"bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
export BENCH_KEY=$key BENCH_TARGET="$dash/"
export BENCH_JOB=$(curl -sf -X POST "$api/v1/jobs" -H "authorization: Bearer $key" -H 'content-type: application/json' \
      -d "{\"kind\":\"scrape\",\"url\":\"$dash/\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo "ace-web $(target/release/ace-web --version | cut -d' ' -f2), $(nproc) cores, ${secs}s per run"
run() { # name script requests/s-per-thread (0: unpaced) connections
  BENCH_RATE=$3 wrk -t2 -c"$4" -d"${secs}s" --latency -s "bench/wrk/$2" "$api" > "$work/wrk" 2>"$work/wrk.err" || true
  local rps p50 p99 errs
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk")
  p50=$(awk '$1=="50%" {print $2}' "$work/wrk"); p99=$(awk '$1=="99%" {print $2}' "$work/wrk")
  errs=$(grep -c unexpected "$work/wrk.err" || true)
  printf '%-28s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$1" "$rps" "$p50" "$p99" "$errs"
}
run "POST /v1/jobs paced"        post_job.lua 500 50
run "GET  /v1/jobs/{id} paced"   get_job.lua  500 50
run "POST /v1/jobs max"          post_job.lua 0 8
run "GET  /v1/jobs/{id} max"     get_job.lua  0 8
jobs=$(curl -s "$(sed -n 's/^ace-web: health listening on //p' "$work/out")/metrics" | awk '/^ace_jobs\{/ {printf "%s ", $0}')
echo "store after the runs: $jobs"
