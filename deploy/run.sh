#!/usr/bin/env bash
#
# Start the whole CareOps system on this machine: find or start PostgreSQL and NATS (see
# deploy/lib/local-services.sh), build the release binaries, apply the migrations, serve.
#
#   deploy/run.sh [--demo] [ARGS...]    ARGS go to `command-api serve`
#
# One process runs everything: the HTTP API, the relay to NATS, every projection and the
# notifier (file transport by default: emails and SMS land in $CAREOPS_DATA_DIR/outbox).
# `--demo` (or CAREOPS_DEMO=1) also creates the seed's demo business "Urban Glow" (slug
# `urbanglow`) unless it exists, and prints the owner's login.
#
# Environment: see the configuration table in README.md.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=deploy/lib/local-services.sh
source "$root/deploy/lib/local-services.sh"
careops_init "$root"
careops_load_dotenv

# Relative paths given by the caller are relative to the caller's directory; we are about to cd.
for var in CARGO_TARGET_DIR CAREOPS_DATA_DIR; do
  if [[ -n ${!var:-} && ${!var} != /* ]]; then export "$var=$PWD/${!var}"; fi
done
cd "$root"

export CAREOPS_HTTP_PORT=${CAREOPS_HTTP_PORT:-8080}
export CAREOPS_DATA_DIR=${CAREOPS_DATA_DIR:-$root/.data}
# Links in emails (manage/cancel, forms) point at this instance unless told otherwise.
export CAREOPS_PUBLIC_BASE_URL=${CAREOPS_PUBLIC_BASE_URL:-http://127.0.0.1:$CAREOPS_HTTP_PORT}
if careops_tcp_open 127.0.0.1 "$CAREOPS_HTTP_PORT"; then
  careops_die "something already listens on port $CAREOPS_HTTP_PORT; stop it or set CAREOPS_HTTP_PORT"
fi

careops_require_toolchain
careops_services_up careops # exports DATABASE_URL (database `careops`) and NATS_URL
mkdir -p "$CAREOPS_DATA_DIR"

# Local runs sign tokens with a secret kept in the data folder, so logins survive restarts.
if [[ -z ${CAREOPS_JWT_SECRET:-} ]]; then
  secret_file="$CAREOPS_DATA_DIR/jwt-secret"
  if [[ ! -s $secret_file ]]; then
    (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$secret_file")
    careops_log "generated a JWT secret in $secret_file"
  fi
  CAREOPS_JWT_SECRET=$(<"$secret_file")
  export CAREOPS_JWT_SECRET
fi

careops_sqlx_offline

# The all-in-one process: command-api runs the API, the relay, the projections and the
# notifier (each can be switched off and run as its own binary: see deploy/README.md).
binaries=(command-api)

build_args=(build --release)
for binary in "${binaries[@]}"; do build_args+=(--bin "$binary"); done
careops_log "building ${binaries[*]} (cargo ${build_args[*]})"
cargo "${build_args[@]}"

target_dir=$(cargo metadata --no-deps --format-version 1 2>/dev/null |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p') || true
target_dir=${target_dir:-${CARGO_TARGET_DIR:-$root/target}}
command_api="$target_dir/release/command-api"
[[ -x $command_api ]] || careops_die "built, but $command_api is missing"

careops_log "applying migrations"
"$command_api" migrate

base="http://127.0.0.1:$CAREOPS_HTTP_PORT"
cat >&2 <<EOF
careops: starting CareOps (Ctrl-C stops it; deploy/stop-local.sh stops private Postgres/NATS)
careops:   API     $base/api/v1
careops:   docs    $base/docs
careops:   health  $base/health   (readiness: $base/ready)
careops:   data    $CAREOPS_DATA_DIR
careops:   outbox  ${CAREOPS_OUTBOX_DIR:-$CAREOPS_DATA_DIR/outbox}   (emails and SMS of the file transport)
EOF
exec "$command_api" serve "$@"
