#!/usr/bin/env bash
#
# Run the whole CareOps test suite against real PostgreSQL and NATS (found or started by
# deploy/lib/local-services.sh).
#
#   deploy/test.sh [CARGO TEST ARGS...]
#
# Examples: deploy/test.sh -p event-store
#           deploy/test.sh relay -- --nocapture
# The exit code is cargo's.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=deploy/lib/local-services.sh
source "$root/deploy/lib/local-services.sh"
careops_init "$root"
careops_load_dotenv

if [[ -n ${CARGO_TARGET_DIR:-} && $CARGO_TARGET_DIR != /* ]]; then
  export CARGO_TARGET_DIR="$PWD/$CARGO_TARGET_DIR"
fi
cd "$root"

careops_require_toolchain
# DATABASE_URL points at the server's `postgres` database: #[sqlx::test] creates (and drops) a
# fresh database per test from there, so the user must be allowed to CREATE DATABASE.
careops_services_up postgres

export RUST_BACKTRACE=${RUST_BACKTRACE:-1}
careops_sqlx_offline

# Plain `cargo test --workspace` runs unit, integration and doc tests, and builds (without
# running) the examples; benchmarks are programs run with `cargo bench`, never part of the suite.
# `-p NAME` narrows the run to that crate (cargo would test the whole workspace if
# `--workspace` came with it).
scope=(--workspace)
for arg in "$@"; do
  case $arg in
    -p | --package | -p* | --package=*) scope=() ;;
    --) break ;;
  esac
done
careops_log "cargo test ${scope[*]}${*:+ $*}"
if cargo test "${scope[@]}" "$@"; then
  careops_log "all tests passed"
else
  status=$?
  careops_log "tests FAILED (exit code $status)"
  exit "$status"
fi
