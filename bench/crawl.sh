#!/usr/bin/env bash
# Crawls the local Rust documentation (31,765 reachable pages, served by nginx on loopback)
# with ace-web and, in the same run, with the peers (default spider, HTTrack and wget), using
# the shared harness. The nginx access log is the ground truth for pages and requests.
# Usage: bench/crawl.sh [--scope all|std|book] [--peers spider,httrack,wget]
set -euo pipefail
cd "$(dirname "$0")/.."
harness=${ACE_CRAWL_HARNESS:-../shared/bench/crawl/run.sh}
[[ -f "$harness" ]] || { echo "the shared crawl harness is not at $harness (set ACE_CRAWL_HARNESS)" >&2; exit 1; }
cargo build --release --locked --bin ace-web >/dev/null 2>&1 || { echo "release build failed: run cargo build --release" >&2; exit 1; }
args=(--scope all --peers spider,httrack,wget)
[[ $# -gt 0 ]] && args=("$@")
ACE_ALLOW_PRIVATE_NETWORKS=1 exec bash "$harness" "${args[@]}" --ours "$PWD/target/release/ace-web crawl {url} --out {out}"
