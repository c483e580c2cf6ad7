#!/usr/bin/env bash
#
# Stop the private PostgreSQL and NATS that deploy/run.sh or deploy/test.sh started for this
# project (servers they merely found, or that DATABASE_URL / NATS_URL point at, are left alone).
#
#   deploy/stop-local.sh            stop them; their data stays for the next run
#   deploy/stop-local.sh --purge    stop them and delete their data (.data/postgres, .data/nats)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=deploy/lib/local-services.sh
source "$root/deploy/lib/local-services.sh"
careops_init "$root"

case ${1:-} in
"" | --purge) careops_stop_private "${1:-}" ;;
*)
  echo "usage: $0 [--purge]" >&2
  exit 2
  ;;
esac
