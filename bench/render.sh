#!/usr/bin/env bash
# Screenshot benchmark: N pages of the Rust book served on loopback, at concurrency C, through
#   (pool)  ace-web's POST /v1/screenshot (pooled, warm, one fresh incognito context per page),
#   (a)     a cold `chromium --headless --screenshot` per page (same concurrency),
#   (b)     a bare chromiumoxide loop in one warm browser (same concurrency): the upper bound,
#           run on the browser the pool runs (POOL_BROWSER, by default Debian's headless shell,
#           as ace-web picks it) and on CHROMIUM (Debian's full Chromium).
# Then RENDERS (default 1000) screenshots through /v1/screenshot, reporting the peak memory of
# the pooled Chromium processes (sum of PSS, from /v1/pool) and of ace-web.
#
# Usage: bench/render.sh [N=60] [C=4] [RENDERS=1000]
#        (env: CHROMIUM, POOL_BROWSER, PROFILE=release|dev)
set -euo pipefail
N=${1:-60}
C=${2:-4}
RENDERS=${3:-1000}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
SHELL_BIN=/usr/lib/chromium/chromium-headless-shell
POOL_BROWSER=${POOL_BROWSER:-$([ -x "$SHELL_BIN" ] && echo "$SHELL_BIN" || echo "$CHROMIUM")}
PROFILE=${PROFILE:-release}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BOOK="$(rustc --print sysroot)/share/doc/rust/html/book"
WORK=$(mktemp -d /tmp/ace-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  cp "$WORK/ace.log" /tmp/ace-bench-last.log 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

[ -x "$CHROMIUM" ] || { echo "Chromium not found at $CHROMIUM (apt-get install -y chromium)" >&2; exit 1; }
[ -d "$BOOK" ] || { echo "the Rust book is not installed at $BOOK (rustup component add rust-docs)" >&2; exit 1; }

cargo_flags=()
[ "$PROFILE" = release ] && cargo_flags=(--release)
target_dir="$ROOT/target/$([ "$PROFILE" = release ] && echo release || echo debug)"
# Two builds: `--example` in one command would limit it to the example, leaving ace-web stale.
(cd "$ROOT" && nice -n 10 cargo build -q "${cargo_flags[@]}" -p ace-web --bin ace-web)
(cd "$ROOT" && nice -n 10 cargo build -q "${cargo_flags[@]}" -p ace-browser --example bench)
ACE="$target_dir/ace-web"
BENCH="$target_dir/examples/bench"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The book on loopback.
BOOK_PORT=$(free_port)
python3 -m http.server "$BOOK_PORT" --bind 127.0.0.1 --directory "$BOOK" >/dev/null 2>&1 &
PIDS+=($!)
(cd "$BOOK" && ls ./*.html | sed "s|^\./|http://127.0.0.1:$BOOK_PORT/|") > "$WORK/all.txt"
head -n "$N" "$WORK/all.txt" > "$WORK/urls.txt"
N=$(wc -l < "$WORK/urls.txt")
for i in $(seq 1 $(( (RENDERS + $(wc -l < "$WORK/all.txt") - 1) / $(wc -l < "$WORK/all.txt") ))); do cat "$WORK/all.txt"; done | head -n "$RENDERS" > "$WORK/renders.txt"
sleep 0.5

# ace-web with the pool (allowed to fetch loopback).
ports=()
for _ in 1 2 3 4 5 6; do ports+=("$(free_port)"); done
export ACE_ADMIN_KEY=bench_admin_key_0123456789abcdef ACE_ALLOW_PRIVATE_NETWORKS=1 ACE_DATA_DIR="$WORK/data"
export ACE_PORTS__DASHBOARD=${ports[0]} ACE_PORTS__ORCHESTRATOR=${ports[1]} ACE_PORTS__REPLICATOR=${ports[2]}
export ACE_PORTS__EXTRACTOR=${ports[3]} ACE_PORTS__SCRAPER=${ports[4]} ACE_PORTS__HEALTH=${ports[5]}
export ACE_PLANS__BENCH__REQUESTS_PER_MINUTE=1000000 ACE_PLANS__BENCH__CONCURRENT_JOBS=100
export ACE_PLANS__BENCH__BROWSER_SESSIONS=10 ACE_PLANS__BENCH__PAGES_PER_MONTH=100000000
export ACE_BROWSER__EXECUTABLE=${POOL_BROWSER}
"$ACE" serve >"$WORK/ace.log" 2>&1 &
ACE_PID=$!
PIDS+=("$ACE_PID")
BASE="http://127.0.0.1:${ports[1]}"
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:${ports[5]}/readyz" >/dev/null && break; sleep 0.1; done
KEY=$(curl -sf -XPOST "$BASE/v1/tenants" -H "Authorization: Bearer $ACE_ADMIN_KEY" -H 'content-type: application/json' \
  -d '{"name":"bench","plan":"bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')

echo "== $N pages of the Rust book, concurrency $C, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
echo "pool and bare loops on $POOL_BROWSER; cold runs and the second bare loops on $CHROMIUM"
# Warm the pool (one render) so the pooled run measures a warm service, as (b) does.
curl -sf -XPOST "$BASE/v1/screenshot" -H "Authorization: Bearer $KEY" -H 'content-type: application/json' -d "{\"url\":\"$(head -1 "$WORK/urls.txt")\"}" -o /dev/null
POOL=$("$BENCH" http "$BASE" "$KEY" "$C" "$WORK/urls.txt")
echo "pool   $POOL"
# The same render path in the bench's own process: what the HTTP hop and the service cost.
INPROC=$("$BENCH" pool "$POOL_BROWSER" "$C" "$WORK/urls.txt")
echo "inproc $INPROC"

BARE=$("$BENCH" bare "$POOL_BROWSER" "$C" "$WORK/urls.txt")
echo "bare   $BARE"
# The same loop with a fresh incognito context per page: the price of isolation alone.
BARECTX=$("$BENCH" bare-ctx "$POOL_BROWSER" "$C" "$WORK/urls.txt")
echo "barectx $BARECTX"
# The same two loops on full Chromium, the browser the issue's peers run.
BAREFULL=$("$BENCH" bare "$CHROMIUM" "$C" "$WORK/urls.txt")
echo "bare (chromium)    $BAREFULL"
BARECTXFULL=$("$BENCH" bare-ctx "$CHROMIUM" "$C" "$WORK/urls.txt")
echo "barectx (chromium) $BARECTXFULL"
# The bare loop in one context with the HTTP cache off: the cache's share of that price (the
# rest is the context itself).
BARENOCACHE=$(NOCACHE=1 "$BENCH" bare "$POOL_BROWSER" "$C" "$WORK/urls.txt")
echo "nocache $BARENOCACHE"

cold_one() {
  local url=$1 dir
  dir=$(mktemp -d "$WORK/cold.XXXXXX")
  timeout 60 "$COLD_BIN" --headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$dir/profile" \
    --window-size=1280,720 --screenshot="$dir/shot.png" "$url" >/dev/null 2>&1 || true
  [ -s "$dir/shot.png" ] && echo ok
  rm -rf "$dir"
}
export -f cold_one
export WORK
cold() {
  local start end ok
  export COLD_BIN=$1
  start=$(date +%s.%N)
  ok=$(xargs -P "$C" -I{} bash -c 'cold_one "$@"' _ {} < "$WORK/urls.txt" | grep -c ok || true)
  end=$(date +%s.%N)
  python3 -c "s=$end-$start; print(f'mode=cold concurrency=$C pages=$N ok=$ok secs={s:.2f} pages_per_sec={$ok/s:.2f}')"
}
COLD=$(cold "$CHROMIUM")
echo "cold   $COLD"
# A cold headless shell per page, for reference (the shell starts faster than full Chromium).
COLDSHELL=$(cold "$POOL_BROWSER")
echo "cold ($(basename "$POOL_BROWSER")) $COLDSHELL"

rate() { sed -n 's/.*pages_per_sec=\([0-9.]*\).*/\1/p' <<<"$1"; }
python3 - "$(rate "$POOL")" "$(rate "$BARE")" "$(rate "$COLD")" "$(rate "$BARECTX")" "$(rate "$INPROC")" "$(rate "$BARENOCACHE")" \
  "$(rate "$BAREFULL")" "$(rate "$BARECTXFULL")" "$(rate "$COLDSHELL")" <<'PY'
import sys
pool, bare, cold, barectx, inproc, nocache, barefull, barectxfull, coldshell = map(float, sys.argv[1:])
print(f"pool {pool:.2f} pages/s (in process {inproc:.2f}) | on the pool's browser: bare chromiumoxide {bare:.2f}, cache off {nocache:.2f}, "
      f"fresh context per page {barectx:.2f}, cold {coldshell:.2f} | on chromium: bare {barefull:.2f}, fresh context per page {barectxfull:.2f}, cold {cold:.2f}")
print(f"pool vs cold chromium: {pool/cold:.1f}x (target >= 4x); vs a cold headless shell: {pool/coldshell:.1f}x")
print(f"pool vs bare: {100*pool/bare:.0f}% on the pool's browser, {100*pool/barefull:.0f}% on chromium (target >= 85%); "
      f"vs bare+context: {100*pool/barectx:.0f}% on the pool's browser")
PY

echo "== $RENDERS renders through /v1/screenshot at concurrency $C"
peak_ace=0
( while kill -0 "$ACE_PID" 2>/dev/null; do awk '/VmRSS/ {print $2}' "/proc/$ACE_PID/status"; sleep 0.5; done ) > "$WORK/ace-rss.txt" &
PIDS+=($!)
MANY=$("$BENCH" http "$BASE" "$KEY" "$C" "$WORK/renders.txt")
echo "many   $MANY"
peak_ace=$(sort -n "$WORK/ace-rss.txt" | tail -1)
echo "ace-web peak RSS $(( peak_ace / 1024 )) MiB"
sleep 1
AFTER=$(curl -sf "$BASE/v1/pool" -H "Authorization: Bearer $KEY")
echo "pool after: $AFTER"
POOL_PIDS=$(python3 -c 'import json,sys; print(" ".join(str(b["pid"]) for b in json.loads(sys.argv[1])["detail"]))' "$AFTER")
kill -INT "$ACE_PID"; wait "$ACE_PID" || true
sleep 1
left=0
for p in $POOL_PIDS; do [ -e "/proc/$p" ] && left=$((left + 1)); done
left=$((left + $(pgrep -fc "ace-chromium-|$WORK" || true)))
echo "Chromium processes left after shutdown: $left"
