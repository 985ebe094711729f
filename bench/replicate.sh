#!/usr/bin/env bash
# Site replication side by side: ace-web replicate, wget --mirror and HTTrack copy the Rust
# book (from the local toolchain docs, served by nginx on loopback), in the same run, on the
# same machine. For each: wall time, files, bytes. Then the project's fidelity QA (pixel match,
# escaped requests, missing references, text similarity) is applied to all three copies on
# the same sample pages, and our WARC is checked with warcio.
# Usage: [RUNS=5] bench/replicate.sh [SAMPLE_PAGES...]    (paths under the book; defaults below)
# ACE_BIN=path/to/ace-web to use a given build (default: a release build made here).
set -euo pipefail
cd "$(dirname "$0")/.."
book="$(rustc --print sysroot)/share/doc/rust/html/book"
[[ -f "$book/index.html" ]] || { echo "the Rust book is not at $book (rustup component add rust-docs)" >&2; exit 1; }
for tool in nginx wget httrack warcio; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (scripts/install-deps.sh test; apt-get install nginx httrack)" >&2; exit 1; }
done
if [[ -z "${ACE_BIN:-}" ]]; then
  cargo build --release --locked --bin ace-web >/dev/null 2>&1 || { echo "release build failed: run cargo build --release" >&2; exit 1; }
  ACE_BIN="$PWD/target/release/ace-web"
fi
samples=("$@")
[[ ${#samples[@]} -gt 0 ]] || samples=(index.html ch04-01-what-is-ownership.html ch10-02-traits.html ch16-01-threads.html appendix-01-keywords.html)

work=$(mktemp -d)
# nginx's workers may not read the toolchain's folder (under /root): serve a copy.
cp -r "$book" "$work/book"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx/logs"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  access_log $work/nginx/logs/access.log;
  server { listen 127.0.0.1:$port; root $work/book; index index.html; }
}
CONF
chmod -R a+rX "$work"
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_pid=$!
trap 'kill $nginx_pid 2>/dev/null; wait $nginx_pid 2>/dev/null; [[ -n "${ACE_BENCH_KEEP:-}" ]] && echo "kept $work" || rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$port/"

timed() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>"$work/last.err" || true; end=$(date +%s.%N); echo "$end - $start" | bc; }
stats() { echo "$(find "$1" -type f | wc -l) files, $(du -sb "$1" | cut -f1) bytes"; }

echo "Rust book: $(find "$book" -type f | wc -l) files, $(du -sb "$book" | cut -f1) bytes, served by nginx at $url"
# ace-web and wget take a fraction of a second here, where the order of runs (nginx and the
# page cache warming up) matters: each runs $RUNS times, alternating which goes first, and
# the median is compared. HTTrack, minutes apart from both, runs once.
runs=${RUNS:-5}
ace_times=(); wget_times=()
run_ace() { rm -rf "$work/ace" "$work/ace.warc.gz"; ace_times+=("$(timed env ACE_ALLOW_PRIVATE_NETWORKS=1 "$ACE_BIN" replicate "$url" --out "$work/ace" --warc "$work/ace.warc.gz")"); cp "$work/last.err" "$work/ace.err"; }
run_wget() { rm -rf "$work/wget"; wget_times+=("$(timed wget --mirror --convert-links --page-requisites --adjust-extension --no-host-directories -e robots=off -q -P "$work/wget" "$url")"); }
for i in $(seq "$runs"); do
  if (( i % 2 )); then run_ace; run_wget; else run_wget; run_ace; fi
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "ace-web replicate: median $(median "${ace_times[@]}")s of ${runs} (${ace_times[*]}), $(stats "$work/ace"), WARC included ($(grep -o 'ace-web replicate: .*' "$work/ace.err" | head -1))"
echo "wget --mirror:     median $(median "${wget_times[@]}")s of ${runs} (${wget_times[*]}), $(stats "$work/wget")"
t=$(timed httrack "$url" -O "$work/httrack" -q -s0 -%v0 "+127.0.0.1:$port/*")
echo "httrack:           ${t}s, $(stats "$work/httrack")"
if warcio check "$work/ace.warc.gz"; then echo "warcio check: pass ($(warcio index "$work/ace.warc.gz" | wc -l) records)"; else echo "warcio check: FAIL"; fi

# The same QA on the same pages of each copy. Each copy's file for a page: ours mirrors the
# URL path, wget (no host folder) too, HTTrack puts the site under 127.0.0.1_PORT/.
qa() {
  local name=$1 dir=$2 prefix=$3 args=()
  for p in "${samples[@]}"; do args+=(--qa-page "/$p=$prefix$p"); done
  ACE_ALLOW_PRIVATE_NETWORKS=1 "$ACE_BIN" replicate "$url" --check-copy "$dir" "${args[@]}" --out "$work/unused" > "$work/qa-$name.json" 2>"$work/qa-$name.err" || { echo "QA $name failed: $(tail -1 "$work/qa-$name.err")"; return; }
  python3 - "$name" "$work/qa-$name.json" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
qa = json.load(open(path))
pages = qa["pages"]
print(f"QA {name:8} on {len(pages)} pages: min pixel match {qa['minPixelMatch']:.4f}, mean {qa['meanPixelMatch']:.4f}, "
      f"text {qa['meanTextSimilarity']:.4f}, escaped {qa['escaped']}, missing {qa['missing']}, kept in by the copy's policy {qa['contained']}, errors {len(qa['errors'])}")
for p in pages:
    print(f"    {p['url'].split('/', 3)[-1]:40} pixels {p['pixelMatch']:.4f} text {p['textSimilarity']:.4f} escaped {len(p['escaped'])} missing {len(p['missing'])} kept in {len(p['contained'])}")
PY
}
qa ace "$work/ace" ""
qa wget "$work/wget" ""
qa httrack "$work/httrack" "127.0.0.1_$port/"
