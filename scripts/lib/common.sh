# shellcheck shell=bash
# Shared helpers for SiteLift's scripts (sourced, not executed).
#
# Everything is found relative to this file: the repository root is two levels up.
# Nothing here may name a path of one particular machine.

SL_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
SL_REPO="$(cd "$SL_LIB_DIR/../.." && pwd -P)"
export SL_REPO

# The two local test sites, in a fixed order.
SL_SITES=(source destination)

sl_log()  { printf "sites: [%3ss] %s\n" "$SECONDS" "$*" >&2; }
sl_note() { printf '%s\n' "sites: note: $*" >&2; }
sl_die()  { printf '%s\n' "sites: error: $*" >&2; exit 1; }

# --- Locations ----------------------------------------------------------------------------

# Absolute sites folder (created if missing). Override with SITELIFT_SITES_DIR.
sl_sites_dir() {
  local d="${SITELIFT_SITES_DIR:-$SL_REPO/.sites}"
  mkdir -p "$d" || sl_die "cannot create sites folder $d"
  (cd "$d" && pwd -P)
}

# The built PHP extension, if any (absolute path), else empty.
sl_extension_path() {
  local so="$SL_REPO/modules/sitelift.so"
  if [[ -f "$so" ]]; then printf '%s\n' "$so"; fi
}

# --- Per-site constants -------------------------------------------------------------------
# Test-box credentials: fixed on purpose so tests and people can rely on them. They only ever
# guard servers bound to 127.0.0.1 with private data folders.

# shellcheck disable=SC2034  # used by the scripts that source this file
{
SL_DB_ROOT_USER='root'
SL_DB_ROOT_PASSWORD='sitelift-root-pw'
SL_ADMIN_USER='admin'
SL_ADMIN_EMAIL='admin@example.test'
}

sl_site_known() { local s; for s in "${SL_SITES[@]}"; do [[ "$s" == "$1" ]] && return 0; done; return 1; }
sl_require_site() {
  [[ -n "${1:-}" ]] || sl_die "missing site name (one of: ${SL_SITES[*]})"
  sl_site_known "$1" || sl_die "unknown site '$1' (one of: ${SL_SITES[*]})"
}

sl_site_db_name()     { printf 'sl_%s\n' "$1"; }
sl_site_db_user()     { printf 'sl_%s\n' "$1"; }
sl_site_db_password() { printf 'sl-%s-db-pw\n' "$1"; }
sl_site_default_prefix() { case "$1" in source) echo wp_ ;; destination) echo wpd_ ;; esac; }
sl_site_admin_password() { case "$1" in source) echo admin-source-pw ;; destination) echo admin-dest-pw ;; esac; }
sl_site_title() { case "$1" in source) echo "SiteLift Source" ;; destination) echo "SiteLift Destination" ;; esac; }

# --- Ports ----------------------------------------------------------------------------------
# Ports come from the environment, else from what the sites folder was created with, else the
# defaults. A sites folder keeps the ports it was created with (URLs live in its databases).

sl_load_ports() {
  local sd="$1" f="$1/state/ports.env"
  local rec_db="" rec_src="" rec_dst=""
  if [[ -f "$f" ]]; then
    rec_db=$(sed -n 's/^DB_PORT=//p' "$f"); rec_src=$(sed -n 's/^SOURCE_PORT=//p' "$f"); rec_dst=$(sed -n 's/^DEST_PORT=//p' "$f")
  fi
  SL_DB_PORT="${SITELIFT_DB_PORT:-${rec_db:-3406}}"
  SL_SOURCE_PORT="${SITELIFT_SOURCE_PORT:-${rec_src:-8081}}"
  SL_DEST_PORT="${SITELIFT_DEST_PORT:-${rec_dst:-8082}}"
  local p
  for p in "$SL_DB_PORT" "$SL_SOURCE_PORT" "$SL_DEST_PORT"; do
    if ! [[ "$p" =~ ^[0-9]+$ ]] || (( p < 1 || p > 65535 )); then sl_die "invalid port '$p'"; fi
  done
  if [[ -n "$rec_db" ]] && [[ "$rec_db/$rec_src/$rec_dst" != "$SL_DB_PORT/$SL_SOURCE_PORT/$SL_DEST_PORT" ]]; then
    sl_die "the sites in $sd were created with ports db=$rec_db source=$rec_src destination=$rec_dst," \
      "not db=$SL_DB_PORT source=$SL_SOURCE_PORT destination=$SL_DEST_PORT; unset SITELIFT_*_PORT," \
      "or start over: scripts/sites down && rm -rf '$sd'"
  fi
}

sl_save_ports() {
  local sd="$1"
  mkdir -p "$sd/state"
  printf 'DB_PORT=%s\nSOURCE_PORT=%s\nDEST_PORT=%s\n' "$SL_DB_PORT" "$SL_SOURCE_PORT" "$SL_DEST_PORT" >"$sd/state/ports.env"
}

sl_site_port() { case "$1" in source) echo "$SL_SOURCE_PORT" ;; destination) echo "$SL_DEST_PORT" ;; esac; }
sl_site_url()  { printf 'http://127.0.0.1:%s\n' "$(sl_site_port "$1")"; }

# Is something accepting TCP connections on 127.0.0.1:PORT?
sl_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- Processes ----------------------------------------------------------------------------
# A server counts as ours only when its pid file names a live process whose command line
# mentions our own config file; nothing else is ever signalled.

sl_pid_of() {  # PIDFILE MARKER -> prints pid when alive and ours
  local pidfile="$1" marker="$2" pid cmd
  [[ -s "$pidfile" ]] || return 1
  pid=$(tr -dc '0-9' <"$pidfile")
  [[ -n "$pid" ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ "$cmd" == *"$marker"* ]] || return 1
  printf '%s\n' "$pid"
}

# Wait until a command succeeds. sl_wait_for SECONDS DESCRIPTION LOGFILE -- CMD...
sl_wait_for() {
  local timeout="$1" desc="$2" log="$3"; shift 4
  local deadline=$((SECONDS + timeout))
  while ! "$@" >/dev/null 2>&1; do
    if (( SECONDS >= deadline )); then
      printf '%s\n' "sites: error: timed out after ${timeout}s waiting for $desc" >&2
      if [[ -n "$log" && -f "$log" ]]; then
        printf '%s\n' "---- last lines of $log ----" >&2
        tail -n 30 "$log" >&2
        printf '%s\n' "----" >&2
      fi
      return 1
    fi
    sleep 0.2
  done
}

# Stop a process that is ours: signal, then wait; SIGKILL only after the grace period.
sl_stop_pid() {  # PID NAME SIGNAL GRACE_SECONDS
  local pid="$1" name="$2" sig="$3" grace="$4"
  kill "-$sig" "$pid" 2>/dev/null || return 0
  local deadline=$((SECONDS + grace))
  while kill -0 "$pid" 2>/dev/null; do
    if (( SECONDS >= deadline )); then
      sl_log "$name (pid $pid) did not stop within ${grace}s; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
}

# --- PHP CLI --------------------------------------------------------------------------------
# Fills the array SL_PHP_ARGS with `php` options for site NAME: the SiteLift extension when
# built, mail to the site's mail folder, errors to stderr.
sl_php_args() {
  local sd="$1" name="$2" so
  SL_PHP_ARGS=(-d "sendmail_path='$SL_LIB_DIR/fake-sendmail' '$sd/$name/mail'" -d display_errors=stderr -d log_errors=0)
  so=$(sl_extension_path)
  if [[ -n "$so" ]]; then SL_PHP_ARGS+=(-d "extension=$so"); fi
}
