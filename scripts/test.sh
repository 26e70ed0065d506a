#!/usr/bin/env bash
# The one command that runs every test (README, .ci/run). Installs what it needs itself.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/wasm-plugins.sh

# A throwaway PostgreSQL server for the store's PostgreSQL tests, stopped when this script
# exits. The tests read LEDGERLINK_TEST_PG_URL; LEDGERLINK_REQUIRE_PG=1 makes them fail
# (instead of skipping) when it is missing. An already exported URL is used as it is.
if [[ -z "${LEDGERLINK_TEST_PG_URL:-}" ]]; then
    # shellcheck source=scripts/pg-test-server.sh
    source scripts/pg-test-server.sh
    pg_test_server_start
    trap pg_test_server_stop EXIT
fi
export LEDGERLINK_REQUIRE_PG=1

# --no-fail-fast: one failing test binary must not hide the results of the others.
cargo test --workspace --no-fail-fast "$@"
