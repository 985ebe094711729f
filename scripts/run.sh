#!/usr/bin/env bash
# Starts every ace-web service on its default port (127.0.0.1:9000-9004, 9099), with the
# embedded SQLite store in ./data. Extra arguments go to `ace-web serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh run
cargo build --release --locked --bin ace-web
exec target/release/ace-web serve "$@"
