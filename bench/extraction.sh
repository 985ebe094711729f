#!/usr/bin/env bash
# Main-content extraction: ace-extractors side by side with trafilatura, same machine, same run.
#
#   bash bench/extraction.sh                 # both shared sets, trafilatura measured too
#   PEER=0 bash bench/extraction.sh          # reuse trafilatura's saved predictions (faster loop)
#   SETS="wcxb-dev" bash bench/extraction.sh # one set
#
# Quality: ../shared/bench/extraction/score.py (bow_f1, shingle_f1, with/without, by page type).
# Speed: whole-process time of the batch command (gunzip + decode + parse + extract + JSONL),
# pinned to one core, against trafilatura's in-process pages/s on the same core.
# Peak memory and p99 per page come from /usr/bin/time -v and the batch command's own report.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${SHARED:-$ROOT/../shared/bench/extraction}"
[ -d "$SHARED" ] || SHARED=/work/shared/bench/extraction
SCORE="$SHARED/score.py"
OUT="${OUT:-$ROOT/target/bench-extraction}"
SETS="${SETS:-wcxb-dev trafilatura-eval}"
PEER="${PEER:-1}"
CORE="${CORE:-0}"
mkdir -p "$OUT"

pin() { if command -v taskset >/dev/null; then taskset -c "$CORE" "$@"; else "$@"; fi; }

echo "== build"
(cd "$ROOT" && nice -n 10 cargo build -q -p ace-extractors --release --examples)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/extract"

if [ "$PEER" = 1 ]; then
  python3 -c 'import trafilatura' 2>/dev/null || pip install -q trafilatura lxml_html_clean
fi

for set in $SETS; do
  data="$SHARED/data/$set"
  pages=$(ls "$data/html" | wc -l)
  echo
  echo "== $set ($pages pages)"
  pin /usr/bin/time -v "$BIN" --batch "$data/html" --out "$OUT/ours-$set.jsonl" 2> "$OUT/ours-$set.time"
  ours_wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$OUT/ours-$set.time")
  ours_cpu=$(awk -F': ' '/User time|System time/ {s+=$2} END {print s}' "$OUT/ours-$set.time")
  ours_rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$OUT/ours-$set.time")
  ours_line=$(head -1 "$OUT/ours-$set.time")
  if [ "$PEER" = 1 ]; then
    pin python3 "$SCORE" "$data" --peer trafilatura --save "$OUT/trafilatura-$set.jsonl" --by-type > "$OUT/trafilatura-$set.score"
  fi
  python3 "$SCORE" "$data" --predictions "$OUT/ours-$set.jsonl" --against "$OUT/trafilatura-$set.jsonl" --by-type | tee "$OUT/compare-$set.score"
  traf_pps=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("pages_per_s", 0))' "$OUT/trafilatura-$set.score" 2>/dev/null || echo 0)
  python3 - "$pages" "$ours_wall" "$traf_pps" "$ours_rss" "$ours_line" "$ours_cpu" <<'PY'
import sys
pages, wall, traf, rss, line, cpu = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5], float(sys.argv[6])
ours = pages / wall if wall else 0.0
ratio = f"{ours / traf:.1f}x" if traf else "n/a (run with PEER=1)"
print(f"speed: ours {ours:.1f} pages/s (whole process, {wall:.2f} s wall, {cpu:.2f} s CPU = {pages / max(cpu, 1e-9):.1f} pages per CPU-second, one core), trafilatura {traf} pages/s -> {ratio}")
print(f"memory: peak RSS {rss} MB; batch report: {line}")
PY
done
