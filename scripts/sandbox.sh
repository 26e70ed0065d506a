#!/usr/bin/env bash
# The main job: both simulators, the host and the standard plugin in one process, on the
# embedded defaults (SQLite under ./ledgerlink-data). Extra arguments go to `ledgerlink sandbox`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/wasm-plugins.sh
exec cargo run --release -p ledgerlink -- sandbox "$@"
