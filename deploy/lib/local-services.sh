# shellcheck shell=bash
#
# Local services for CareOps: find or start PostgreSQL and NATS (with JetStream) so that
# deploy/run.sh and deploy/test.sh work on a fresh Debian machine with only Rust installed.
# Sourced by those scripts, never executed on its own.
#
# Discovery, for each service, first match wins:
#   1. DATABASE_URL / NATS_URL from the environment (or from the project's .env);
#   2. a server on the standard local port (127.0.0.1:5432, 127.0.0.1:4222) that we can use:
#      Postgres must let `postgres` or the current user in without a password and allow CREATE
#      DATABASE (#[sqlx::test] needs it); NATS must have JetStream enabled;
#   3. a private instance of the project, started (and the Debian package installed) when needed:
#      data under <root>/.data (git-ignored), listening on 127.0.0.1 only, on a free port.
#      Private instances keep running after the script ends and are reused by the next run;
#      deploy/stop-local.sh stops them.
# CAREOPS_FORCE_PRIVATE_SERVICES=1 skips 1 and 2.
#
# Everything is reported on stderr with the prefix "careops:".

CAREOPS_SERVICE_TIMEOUT=${CAREOPS_SERVICE_TIMEOUT:-60}  # seconds to wait for a service to answer
CAREOPS_PG_FIRST_PORT=54329
CAREOPS_NATS_FIRST_PORT=42229
# File descriptor 9 holds the lock on <root>/.data/.services.lock while services are found or
# started; long-lived children must not inherit it, so they are all started with 9>&-.

careops_log() { printf 'careops: %s\n' "$*" >&2; }
careops_die() {
  printf 'careops: error: %s\n' "$*" >&2
  exit 1
}

# careops_init ROOT: remember the project root and where local state lives.
careops_init() {
  CAREOPS_ROOT=$1
  CAREOPS_STATE_DIR="$CAREOPS_ROOT/.data"
  CAREOPS_PG_LINK="$CAREOPS_STATE_DIR/postgres"
  CAREOPS_NATS_DIR="$CAREOPS_STATE_DIR/nats"
}

careops_is_root() { [[ $(id -u) -eq 0 ]]; }

# careops_pid_alive PID [NAME]: is PID a live process (not a zombie), named NAME* when given?
careops_pid_alive() {
  local stat
  [[ $1 =~ ^[0-9]+$ ]] && kill -0 "$1" 2>/dev/null || return 1
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0 # no /proc: trust kill -0
  [[ ${stat##*) } != Z* ]] || return 1
  [[ -z ${2:-} || $(cat "/proc/$1/comm" 2>/dev/null) == "$2"* ]]
}

careops_force_private() { [[ ${CAREOPS_FORCE_PRIVATE_SERVICES:-0} =~ ^(1|true|yes)$ ]]; }

# careops_redact URL: hide a password in a URL before printing it.
careops_redact() { printf '%s' "$1" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#'; }

# careops_load_dotenv: take DATABASE_URL, NATS_URL, RUST_LOG and CAREOPS_* from <root>/.env when the
# environment does not set them (the binaries read .env too; reading it here keeps the scripts from
# starting services that .env already points elsewhere). Plain KEY=VALUE lines, optional `export`
# and quotes; everything else is ignored.
careops_load_dotenv() {
  local file="$CAREOPS_ROOT/.env" line key value
  [[ -f $file ]] || return 0
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    line=${line#"${line%%[![:space:]]*}"}
    [[ -z $line || $line == \#* ]] && continue
    line=${line#export }
    [[ $line == *=* ]] || continue
    key=${line%%=*}
    key=${key%"${key##*[![:space:]]}"}
    value=${line#*=}
    value=${value#"${value%%[![:space:]]*}"}
    [[ $key =~ ^(DATABASE_URL|NATS_URL|RUST_LOG|CAREOPS_[A-Z0-9_]+)$ ]] || continue
    [[ -n ${!key+set} ]] && continue
    if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then
      value=${BASH_REMATCH[1]}
    fi
    export "$key=$value"
  done <"$file"
}

# careops_lock / careops_unlock: serialise service start-up between concurrent scripts.
careops_lock() {
  mkdir -p "$CAREOPS_STATE_DIR"
  command -v flock >/dev/null 2>&1 || return 0
  exec 9>"$CAREOPS_STATE_DIR/.services.lock"
  flock -w "$CAREOPS_SERVICE_TIMEOUT" 9 ||
    careops_die "another CareOps script has held $CAREOPS_STATE_DIR/.services.lock for ${CAREOPS_SERVICE_TIMEOUT}s"
}
careops_unlock() { exec 9>&-; }

# careops_tcp_open HOST PORT: does something accept TCP connections there?
careops_tcp_open() {
  # shellcheck disable=SC2016 # $1 and $2 expand in the child bash
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# careops_nats_info HOST PORT: print the INFO line a NATS server greets every client with.
careops_nats_info() {
  local line
  # shellcheck disable=SC2016 # $1 and $2 expand in the child bash
  line=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && IFS= read -r l <&3 && printf "%s" "$l"' _ "$1" "$2" 2>/dev/null) || return 1
  [[ $line == INFO* ]] || return 1
  printf '%s\n' "$line"
}

# careops_free_port PREFERRED FIRST: PREFERRED when nothing listens there, else the first free one
# of FIRST..FIRST+200.
careops_free_port() {
  local port
  for port in "$1" $(seq "$2" $(($2 + 200))); do
    [[ $port =~ ^[0-9]+$ ]] || continue
    if ! careops_tcp_open 127.0.0.1 "$port"; then
      printf '%s\n' "$port"
      return 0
    fi
  done
  careops_die "no free TCP port on 127.0.0.1 in $2..$(($2 + 200))"
}

# careops_apt_install PACKAGE...: install Debian packages without questions (sudo when not root).
careops_apt_install() {
  local -a sudo=()
  command -v apt-get >/dev/null 2>&1 ||
    careops_die "$* missing and apt-get not found: install $* yourself, or set DATABASE_URL / NATS_URL"
  if ! careops_is_root; then
    command -v sudo >/dev/null 2>&1 ||
      careops_die "$* missing: run 'apt-get install -y $*' as root (no sudo here), then run this again"
    sudo=(sudo)
  fi
  careops_log "installing $* from Debian packages (apt-get)..."
  if [[ -z ${CAREOPS_APT_UPDATED:-} ]]; then
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 ||
      careops_die "apt-get update failed"
    CAREOPS_APT_UPDATED=1
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 ||
    careops_die "apt-get install $* failed"
}

# careops_require_toolchain: cargo on PATH (rustup's ~/.cargo/bin counts) and a C compiler/linker,
# which rustup does not bring and the build needs (linking, the `ring` crate).
careops_require_toolchain() {
  if ! command -v cargo >/dev/null 2>&1 && [[ -x ${CARGO_HOME:-${HOME:-}/.cargo}/bin/cargo ]]; then
    PATH="${CARGO_HOME:-${HOME:-}/.cargo}/bin:$PATH"
    export PATH
  fi
  command -v cargo >/dev/null 2>&1 ||
    careops_die "cargo not found: install Rust with rustup (https://rustup.rs), then run this again"
  command -v cc >/dev/null 2>&1 || careops_apt_install build-essential
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

# careops_pg_bindir: directory of initdb/pg_ctl (PATH first, else the newest Debian version).
careops_pg_bindir() {
  local initdb
  if initdb=$(command -v initdb 2>/dev/null); then
    dirname "$(readlink -f "$initdb")" # often a symlink into /usr/lib/postgresql/N/bin
    return 0
  fi
  initdb=$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)
  [[ -x $initdb ]] || return 1
  dirname "$initdb"
}

# careops_pg_as_owner CMD...: run CMD as the user that owns the private cluster. Postgres refuses
# to run as root, so root runs it as the `postgres` system user of the Debian package.
careops_pg_as_owner() {
  if careops_is_root; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# careops_pg_ready PORT: does a Postgres server accept connections on 127.0.0.1:PORT?
careops_pg_ready() {
  local isready="${CAREOPS_PG_BINDIR:-}/pg_isready"
  [[ -n ${CAREOPS_PG_BINDIR:-} && -x $isready ]] || isready=$(command -v pg_isready 2>/dev/null) || isready=""
  if [[ -n $isready ]]; then
    "$isready" -q -h 127.0.0.1 -p "$1" -U postgres -d postgres -t 3 >/dev/null 2>&1
  else
    careops_tcp_open 127.0.0.1 "$1"
  fi
}

# careops_psql URL SQL: run one statement without a password prompt, print the unaligned result.
careops_psql() {
  env -u PGPASSWORD PGPASSFILE=/dev/null/none PGCONNECT_TIMEOUT=5 \
    "$CAREOPS_PSQL" -X -w -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

# careops_pg_try_standard: use the Postgres on 127.0.0.1:5432 when it lets us in.
# Sets CAREOPS_PG_SERVER (URL without database) on success.
careops_pg_try_standard() {
  local user out
  careops_pg_ready 5432 || return 1
  if ! CAREOPS_PSQL=$(command -v psql 2>/dev/null); then
    careops_log "Postgres answers on 127.0.0.1:5432 and psql is not installed to check it: assuming user postgres without a password"
    CAREOPS_PG_SERVER="postgres://postgres@127.0.0.1:5432"
    return 0
  fi
  for user in postgres "$(id -un)"; do
    if out=$(careops_psql "postgres://$user@127.0.0.1:5432/postgres" \
      "select rolsuper or rolcreatedb from pg_roles where rolname = current_user" 2>/dev/null) &&
      [[ $out == t ]]; then
      CAREOPS_PG_SERVER="postgres://$user@127.0.0.1:5432"
      return 0
    fi
  done
  careops_log "Postgres answers on 127.0.0.1:5432, but neither postgres nor $(id -un) can log in without a password and create databases (set DATABASE_URL to use it anyway); starting a private instance instead"
  return 1
}

# careops_pg_running_port DATADIR: print the port of the postmaster running on DATADIR, if any.
careops_pg_running_port() {
  local pidfile="$1/postmaster.pid" pid port _
  [[ -r $pidfile ]] || return 1
  { read -r pid && read -r _ && read -r _ && read -r port; } <"$pidfile" || return 1
  [[ $port =~ ^[0-9]+$ ]] && careops_pid_alive "$pid" postgres || return 1
  printf '%s\n' "$port"
}

# careops_pg_wait PORT LOG: wait until the server answers, or give up after the time-out.
careops_pg_wait() {
  local deadline=$((SECONDS + CAREOPS_SERVICE_TIMEOUT))
  until careops_pg_ready "$1"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

# careops_tail_log FILE [OFFSET]: show the end of a log, only what was written after byte OFFSET.
careops_tail_log() {
  local text
  text=$(tail -c "+$((${2:-0} + 1))" "$1" 2>/dev/null | tail -n 20) || true
  [[ -n $text ]] || return 0
  careops_log "last lines of $1:"
  printf '%s\n' "$text" >&2
}

careops_file_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# careops_pg_base_dir: the folder of the private cluster, normally <root>/.data/postgres. When root
# runs this in a folder the postgres user cannot reach (e.g. under /root), the cluster lives in
# /var/lib/postgresql/careops-<hash> instead and <root>/.data/postgres links to it.
careops_pg_base_dir() {
  local base
  if [[ ! -e $CAREOPS_PG_LINK ]]; then
    mkdir -p "$CAREOPS_PG_LINK"
    if careops_is_root; then
      chown postgres: "$CAREOPS_PG_LINK"
      if ! runuser -u postgres -- test -w "$CAREOPS_PG_LINK"; then
        rmdir "$CAREOPS_PG_LINK"
        base="/var/lib/postgresql/careops-$(printf '%s' "$CAREOPS_ROOT" | sha256sum | cut -c1-12)"
        mkdir -p "$base"
        chown postgres: "$base"
        ln -s "$base" "$CAREOPS_PG_LINK"
        careops_log "the postgres user cannot reach $CAREOPS_STATE_DIR; the private cluster lives in $base (linked from .data/postgres)"
      fi
    fi
  fi
  readlink -f "$CAREOPS_PG_LINK"
}

# careops_pg_start_private: start (or reuse) the project's own cluster. Sets CAREOPS_PG_SERVER.
careops_pg_start_private() {
  local base data socket logfile port preferred log_offset
  if careops_is_root && ! id postgres >/dev/null 2>&1; then
    CAREOPS_PG_BINDIR=""  # the package creates the postgres user; install it if the user is missing
  else
    CAREOPS_PG_BINDIR=$(careops_pg_bindir) || CAREOPS_PG_BINDIR=""
  fi
  if [[ -z $CAREOPS_PG_BINDIR ]]; then
    careops_apt_install postgresql
    CAREOPS_PG_BINDIR=$(careops_pg_bindir) || careops_die "PostgreSQL installed but initdb not found under /usr/lib/postgresql/*/bin"
  fi
  if careops_is_root; then
    id postgres >/dev/null 2>&1 || careops_die "running as root needs the postgres system user (from the postgresql package) to run a private Postgres"
  fi
  CAREOPS_PSQL="$CAREOPS_PG_BINDIR/psql"
  [[ -x $CAREOPS_PSQL ]] || CAREOPS_PSQL=$(command -v psql 2>/dev/null) ||
    careops_die "psql not found next to initdb ($CAREOPS_PG_BINDIR) nor on PATH"

  base=$(careops_pg_base_dir)
  [[ -w $base ]] || careops_die "$base is not writable by $(id -un); remove it or run as its owner"
  data="$base/data"
  socket="$base/socket"
  logfile="$base/postgres.log"

  if [[ -f $data/postmaster.pid ]] && port=$(careops_pg_running_port "$data"); then
    careops_pg_wait "$port" ||
      careops_die "the private Postgres in $data runs but does not answer on port $port; see $logfile, or stop it with deploy/stop-local.sh"
    careops_log "Postgres: reusing the private instance on 127.0.0.1:$port ($data)"
    CAREOPS_PG_SERVER="postgres://postgres@127.0.0.1:$port"
    return 0
  fi

  if [[ -f $data/postmaster.pid ]]; then
    local old_pid
    old_pid=$(head -n 1 "$data/postmaster.pid")
    if [[ $old_pid =~ ^[0-9]+$ ]] && kill -0 "$old_pid" 2>/dev/null && ! careops_pid_alive "$old_pid"; then
      # Killed, but its parent has not reaped it yet (common in containers): Postgres would take
      # the zombie for a running postmaster and refuse to start.
      careops_log "Postgres: the previous private instance (pid $old_pid) died; removing its stale lock files"
      rm -f "$data/postmaster.pid" "$socket"/.s.PGSQL.*
    fi
  fi

  if [[ ! -f $data/careops-initialized ]]; then
    # No cluster, or one whose initialisation was interrupted: start from scratch.
    rm -rf "$data"
    local -a locale=(--no-locale)
    if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale=(--locale=C.UTF-8); fi
    careops_log "Postgres: initialising a private instance in $data"
    if ! careops_pg_as_owner "$CAREOPS_PG_BINDIR/initdb" -D "$data" -U postgres --auth=trust \
      --encoding=UTF8 "${locale[@]}" >"$base/initdb.log" 2>&1 9>&-; then
      careops_tail_log "$base/initdb.log"
      rm -rf "$data"
      careops_die "initdb failed (log above)"
    fi
    printf "\n# CareOps local settings (rewritten at every start by deploy/lib/local-services.sh)\ninclude_if_exists = 'careops.conf'\n" >>"$data/postgresql.conf"
    touch "$data/careops-initialized"
    if careops_is_root; then chown postgres: "$data/careops-initialized"; fi
  fi

  preferred=$(cat "$base/port" 2>/dev/null || true)
  port=$(careops_free_port "${preferred:-$CAREOPS_PG_FIRST_PORT}" "$CAREOPS_PG_FIRST_PORT")
  mkdir -p "$socket"
  if careops_is_root; then chown postgres: "$socket"; fi
  local socket_setting="'$socket'"
  if ((${#socket} > 90)) || [[ $socket == *"'"* ]]; then
    careops_log "Postgres: $socket is too long (or odd) for a Unix socket path; TCP only"
    socket_setting="''"
  fi
  cat >"$data/careops.conf" <<EOF
# Written by deploy/lib/local-services.sh at every start; edit postgresql.conf instead.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = $socket_setting
max_connections = 200
EOF
  if careops_is_root; then chown postgres: "$data/careops.conf"; fi
  printf '%s\n' "$port" >"$base/port"

  careops_log "Postgres: starting the private instance on 127.0.0.1:$port (log: $logfile)"
  log_offset=$(careops_file_size "$logfile")
  if ! careops_pg_as_owner setsid -w "$CAREOPS_PG_BINDIR/pg_ctl" -D "$data" -l "$logfile" -w \
    -t "$CAREOPS_SERVICE_TIMEOUT" start </dev/null >"$base/pg_ctl.out" 2>&1 9>&- ||
    ! careops_pg_wait "$port"; then
    careops_tail_log "$base/pg_ctl.out"
    careops_tail_log "$logfile" "$log_offset"
    careops_pg_as_owner "$CAREOPS_PG_BINDIR/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 9>&- || true
    careops_die "the private Postgres did not start on port $port (logs above; waited up to ${CAREOPS_SERVICE_TIMEOUT}s)"
  fi
  CAREOPS_PG_SERVER="postgres://postgres@127.0.0.1:$port"
}

# careops_pg_ensure_database SERVER NAME: create database NAME when missing.
careops_pg_ensure_database() {
  local exists
  exists=$(careops_psql "$1/postgres" "select 1 from pg_database where datname = '$2'") ||
    careops_die "cannot query $(careops_redact "$1")"
  [[ $exists == 1 ]] && return 0
  careops_log "Postgres: creating database $2"
  careops_psql "$1/postgres" "create database \"$2\"" >/dev/null ||
    [[ $(careops_psql "$1/postgres" "select 1 from pg_database where datname = '$2'") == 1 ]] ||
    careops_die "cannot create database $2 on $(careops_redact "$1")"
}

# careops_postgres_up DATABASE: export DATABASE_URL. DATABASE is the database to use on a discovered
# or private server: `careops` for the running system, `postgres` for the tests (#[sqlx::test]
# creates a database per test from there).
careops_postgres_up() {
  local database=$1
  if ! careops_force_private && [[ -n ${DATABASE_URL:-} ]]; then
    careops_log "Postgres: using DATABASE_URL from the environment"
    export DATABASE_URL
    return 0
  fi
  CAREOPS_PG_SERVER=""
  CAREOPS_PSQL=""
  if ! careops_force_private && careops_pg_try_standard; then
    careops_log "Postgres: using the server on 127.0.0.1:5432"
  else
    careops_pg_start_private
  fi
  if [[ $database != postgres ]]; then
    if [[ -n $CAREOPS_PSQL ]]; then
      careops_pg_ensure_database "$CAREOPS_PG_SERVER" "$database"
    else
      careops_log "Postgres: no psql to create database $database; using database postgres"
      database=postgres
    fi
  fi
  DATABASE_URL="$CAREOPS_PG_SERVER/$database"
  export DATABASE_URL
}

# ---------------------------------------------------------------------------------------------
# NATS

careops_nats_bin() {
  local candidate
  for candidate in "$(command -v nats-server 2>/dev/null || true)" /usr/sbin/nats-server /usr/bin/nats-server /usr/local/bin/nats-server; do
    if [[ -n $candidate && -x $candidate ]]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

# careops_nats_pid: pid of the private nats-server when it is running.
careops_nats_pid() {
  local pid
  pid=$(cat "$CAREOPS_NATS_DIR/nats.pid" 2>/dev/null) || return 1
  careops_pid_alive "$pid" nats-server || return 1
  printf '%s\n' "$pid"
}

# careops_stop_pid PID SIGNAL: signal PID and wait (bounded) for it to exit; SIGKILL as a last resort.
careops_stop_pid() {
  local pid=$1 deadline=$((SECONDS + 30))
  kill "-$2" "$pid" 2>/dev/null || return 0
  while careops_pid_alive "$pid"; do
    if ((SECONDS >= deadline)); then
      careops_log "pid $pid still running after 30s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      return 0
    fi
    sleep 0.2
  done
}

# careops_nats_start_private: start (or reuse) the project's own nats-server with JetStream.
careops_nats_start_private() {
  local bin pid port preferred deadline log_offset logfile="$CAREOPS_NATS_DIR/nats.log"
  bin=$(careops_nats_bin) || {
    careops_apt_install nats-server
    bin=$(careops_nats_bin) || careops_die "nats-server installed but not found"
  }
  mkdir -p "$CAREOPS_NATS_DIR/jetstream"

  if pid=$(careops_nats_pid); then
    port=$(cat "$CAREOPS_NATS_DIR/port" 2>/dev/null || true)
    if [[ -n $port ]] && careops_nats_info 127.0.0.1 "$port" >/dev/null; then
      careops_log "NATS: reusing the private nats-server on 127.0.0.1:$port (pid $pid)"
      NATS_URL="nats://127.0.0.1:$port"
      export NATS_URL
      return 0
    fi
    careops_log "NATS: the private nats-server (pid $pid) does not answer; restarting it"
    careops_stop_pid "$pid" TERM
  fi
  rm -f "$CAREOPS_NATS_DIR/nats.pid"

  preferred=$(cat "$CAREOPS_NATS_DIR/port" 2>/dev/null || true)
  port=$(careops_free_port "${preferred:-$CAREOPS_NATS_FIRST_PORT}" "$CAREOPS_NATS_FIRST_PORT")
  printf '%s\n' "$port" >"$CAREOPS_NATS_DIR/port"
  careops_log "NATS: starting a private nats-server with JetStream on 127.0.0.1:$port (log: $logfile)"
  log_offset=$(careops_file_size "$logfile")
  setsid "$bin" --name careops-local -a 127.0.0.1 -p "$port" -js -sd "$CAREOPS_NATS_DIR/jetstream" \
    -l "$logfile" -P "$CAREOPS_NATS_DIR/nats.pid" \
    </dev/null >"$CAREOPS_NATS_DIR/nats.out" 2>&1 9>&- &
  pid=$!
  disown "$pid"
  deadline=$((SECONDS + CAREOPS_SERVICE_TIMEOUT))
  until careops_nats_info 127.0.0.1 "$port" >/dev/null; do
    if ! careops_pid_alive "$pid"; then
      careops_tail_log "$CAREOPS_NATS_DIR/nats.out"
      careops_tail_log "$logfile" "$log_offset"
      rm -f "$CAREOPS_NATS_DIR/nats.pid"
      careops_die "nats-server exited during start-up (logs above)"
    fi
    if ((SECONDS >= deadline)); then
      careops_stop_pid "$pid" KILL
      rm -f "$CAREOPS_NATS_DIR/nats.pid"
      careops_tail_log "$CAREOPS_NATS_DIR/nats.out"
      careops_tail_log "$logfile" "$log_offset"
      careops_die "nats-server did not answer on port $port within ${CAREOPS_SERVICE_TIMEOUT}s (log above)"
    fi
    sleep 0.2
  done
  [[ -s $CAREOPS_NATS_DIR/nats.pid ]] || printf '%s\n' "$pid" >"$CAREOPS_NATS_DIR/nats.pid"
  NATS_URL="nats://127.0.0.1:$port"
  export NATS_URL
}

# careops_nats_up: export NATS_URL.
careops_nats_up() {
  local info
  if ! careops_force_private && [[ -n ${NATS_URL:-} ]]; then
    careops_log "NATS: using NATS_URL from the environment"
    export NATS_URL
    return 0
  fi
  if ! careops_force_private && info=$(careops_nats_info 127.0.0.1 4222); then
    if [[ $info == *'"jetstream":true'* ]]; then
      careops_log "NATS: using the server on 127.0.0.1:4222"
      NATS_URL="nats://127.0.0.1:4222"
      export NATS_URL
      return 0
    fi
    careops_log "NATS answers on 127.0.0.1:4222 without JetStream (set NATS_URL to use it anyway); starting a private nats-server instead"
  fi
  careops_nats_start_private
}

# ---------------------------------------------------------------------------------------------

# careops_services_up DATABASE: find or start Postgres and NATS; exports DATABASE_URL (on
# DATABASE, see careops_postgres_up) and NATS_URL. Call careops_load_dotenv first.
careops_services_up() {
  if careops_force_private; then
    careops_log "CAREOPS_FORCE_PRIVATE_SERVICES is set: ignoring DATABASE_URL, NATS_URL and the standard ports"
  fi
  careops_lock
  careops_postgres_up "$1"
  careops_nats_up
  careops_unlock
  careops_log "DATABASE_URL=$(careops_redact "$DATABASE_URL")"
  careops_log "NATS_URL=$(careops_redact "$NATS_URL")"
}

# careops_stop_private [--purge]: stop the private instances (never servers we did not start);
# --purge also deletes their data.
careops_stop_private() {
  local purge=${1:-} base data pid stopped=0
  careops_lock
  if [[ -e $CAREOPS_PG_LINK ]]; then
    base=$(readlink -f "$CAREOPS_PG_LINK")
    data="$base/data"
    if [[ -r $data/postmaster.pid ]] && pid=$(head -n 1 "$data/postmaster.pid") &&
      careops_pid_alive "$pid" postgres; then
      careops_log "stopping the private Postgres (pid $pid, $data)"
      careops_stop_pid "$pid" INT # SIGINT: Postgres' fast shutdown
      stopped=1
    fi
    if [[ $purge == --purge ]]; then
      careops_log "deleting $base"
      rm -rf "$base"
      rm -f "$CAREOPS_PG_LINK"
    fi
  fi
  if pid=$(careops_nats_pid); then
    careops_log "stopping the private nats-server (pid $pid)"
    careops_stop_pid "$pid" TERM
    stopped=1
  fi
  rm -f "$CAREOPS_NATS_DIR/nats.pid"
  if [[ $purge == --purge && -d $CAREOPS_NATS_DIR ]]; then
    careops_log "deleting $CAREOPS_NATS_DIR"
    rm -rf "$CAREOPS_NATS_DIR"
  fi
  ((stopped)) || careops_log "no private Postgres or NATS of this project was running"
  careops_unlock
}

# careops_sqlx_offline: build against the committed offline query data (.sqlx/, from
# `cargo sqlx prepare --workspace`) rather than whatever database DATABASE_URL points at, which may
# not be migrated yet. An explicit SQLX_OFFLINE wins.
careops_sqlx_offline() {
  [[ -z ${SQLX_OFFLINE+set} ]] || return 0
  if compgen -G "$CAREOPS_ROOT/.sqlx" >/dev/null || compgen -G "$CAREOPS_ROOT/*/.sqlx" >/dev/null; then
    export SQLX_OFFLINE=true
    careops_log "SQLX_OFFLINE=true (offline query data in .sqlx/)"
  fi
}
