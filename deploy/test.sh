#!/usr/bin/env bash
#
# Run the whole CareOps test suite against real PostgreSQL and NATS (found or started by
# deploy/lib/local-services.sh).
#
#   deploy/test.sh [CARGO TEST ARGS...]
#
# Examples: deploy/test.sh -p event-store
#           deploy/test.sh relay -- --nocapture
# Without target options (--lib, --test NAME, --doc, ...) it runs every target and then the doc
# tests (cargo skips doc tests under --all-targets); with them it runs `cargo test --workspace ARGS`.
# The exit code is cargo's (the first failing run's).
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

targets_chosen=0
for arg in "$@"; do
  [[ $arg == -- ]] && break
  case $arg in
  --lib | --bins | --bin | --bin=* | --examples | --example | --example=* | --tests | --test | --test=* | \
    --benches | --bench | --bench=* | --all-targets | --doc)
    targets_chosen=1
    ;;
  esac
done

if ((targets_chosen)); then
  careops_log "cargo test --workspace${*:+ $*}"
  exec cargo test --workspace "$@"
fi

status=0
careops_log "cargo test --workspace --all-targets${*:+ $*}"
cargo test --workspace --all-targets "$@" || status=$?
careops_log "cargo test --workspace --doc${*:+ $*}"
cargo test --workspace --doc "$@" || { rc=$?; ((status)) || status=$rc; }
if ((status)); then
  careops_log "tests FAILED (exit code $status)"
else
  careops_log "all tests passed"
fi
exit "$status"
