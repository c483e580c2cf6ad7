#!/usr/bin/env bash
#
# Run the whole CareOps test suite against real PostgreSQL and NATS (found or started by
# deploy/lib/local-services.sh), and check the deployment files offline (deploy/validate.sh).
#
#   deploy/test.sh [CARGO TEST ARGS...]
#
# Examples: deploy/test.sh -p event-store
#           deploy/test.sh relay -- --nocapture
# The exit code is cargo's when the tests fail, else 1 when validate.sh finds a fault.
# validate.sh needs Python 3 with PyYAML (it installs what is missing from PyPI, and reaches
# no other network); when it cannot run at all, that is reported as skipped, not failed:
# the Rust suite does not depend on Python. CAREOPS_SKIP_DEPLOY_VALIDATE=1 skips it.
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
# deploy/validate.sh, summarised on one line unless it finds a fault (then in full).
validate_deploy() {
  if [[ ${CAREOPS_SKIP_DEPLOY_VALIDATE:-} == 1 ]]; then
    careops_log "deploy/validate.sh skipped (CAREOPS_SKIP_DEPLOY_VALIDATE=1)"
    return 0
  fi
  local log status=0
  log=$(mktemp)
  "$root/deploy/validate.sh" >"$log" 2>&1 || status=$?
  case $status in
    0) careops_log "deploy/validate.sh: $(grep '^validate: ' "$log" | tail -n 1 | sed 's/^validate: //')" ;;
    3) careops_log "deploy/validate.sh skipped: $(grep '^validate: cannot run: ' "$log" | sed 's/^validate: cannot run: //')" ;;
    *)
      cat "$log" >&2
      careops_log "deploy/validate.sh FAILED (exit code $status)"
      ;;
  esac
  rm -f "$log"
  [[ $status == 0 || $status == 3 ]]
}

validate_status=0
validate_deploy || validate_status=1

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
  if [[ $validate_status != 0 ]]; then
    careops_log "tests passed; deploy/validate.sh FAILED"
    exit "$validate_status"
  fi
  careops_log "all tests passed"
else
  status=$?
  careops_log "tests FAILED (exit code $status)"
  exit "$status"
fi
