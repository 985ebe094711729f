#!/usr/bin/env bash
# Installs what the tests need and is missing, then runs every test of the workspace:
# unit tests, in-process router tests and black-box tests of the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh test
cargo test --workspace --locked --no-fail-fast "$@"
