#!/usr/bin/env bash
# The one command that runs every test (README, .ci/run). Installs what it needs itself.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/wasm-plugins.sh
cargo test --workspace "$@"
