# shellcheck shell=bash
# Helpers for the end-to-end tests (sourced). The local sites must be up (scripts/sites up) and the extension
# built (modules/sitelift.so). Each test script calls e2e_begin, then checks with the e2e_* helpers; the first
# failed check ends that script with a non-zero status.

E2E_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd -P)"
E2E_SITES_JSON="$("$E2E_REPO/scripts/sites" info)"
E2E_WORK="${E2E_WORK:-$E2E_REPO/.sites/e2e-work}"
mkdir -p "$E2E_WORK"

e2e_begin() { E2E_NAME="$1"; echo "== $E2E_NAME"; }
e2e_fail() {
  echo "FAIL [$E2E_NAME]: $*" >&2
  exit 1
}
e2e_ok() { echo "  ok: $*"; }

# info FIELD...: a value from `scripts/sites info`, e.g. `e2e_info source root`.
e2e_info() {
  local path=""
  local k
  for k in "$@"; do path="$path.\"$k\""; done
  jq -r "$path" <<<"$E2E_SITES_JSON"
}

e2e_php() { php -d extension="$E2E_REPO/modules/sitelift.so" -d memory_limit=128M "$@"; }
e2e_cli() { e2e_php "$E2E_REPO/wp-plugin/sitelift/bin/sitelift" "$@"; }

# mysql SITE SQL: runs SQL in a site's database, tab-separated output without headers.
e2e_sql() {
  local site="$1"
  shift
  mariadb --default-character-set=utf8mb4 -h 127.0.0.1 -P "$(e2e_info mariadb port)" \
    -u"$(e2e_info mariadb root_user)" -p"$(e2e_info mariadb root_password)" -N -B \
    "$(e2e_info "$site" db name)" -e "$*"
}

e2e_sql_root() {
  mariadb --default-character-set=utf8mb4 -h 127.0.0.1 -P "$(e2e_info mariadb port)" \
    -u"$(e2e_info mariadb root_user)" -p"$(e2e_info mariadb root_password)" -N -B -e "$*"
}

# A fingerprint of everything a site is: every table's checksum and every file's type, mode, mtime, size,
# hash and link target. Equal fingerprints mean nothing changed. WordPress's own background work (WP-Cron
# runs after the first page view and keeps its schedule and transients in the options table) is left out.
e2e_fingerprint() {
  local site="$1" root
  root="$(e2e_info "$site" root)"
  {
    local t
    for t in $(e2e_sql "$site" "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME"); do
      if [[ "$t" == *options ]]; then
        echo "$t"
        e2e_sql "$site" "SELECT option_name, MD5(option_value), autoload FROM \`$t\` WHERE option_name NOT LIKE '%transient%'
                         AND option_name NOT IN ('cron', 'doing_cron') ORDER BY option_name"
      else
        e2e_sql "$site" "CHECKSUM TABLE \`$t\` EXTENDED"
      fi
    done
    (cd "$root" && find . -mindepth 1 -path ./.sitelift -prune -o -printf '%y %m %T@ %s %p -> %l\n' | LC_ALL=C sort)
    (cd "$root" && find . -path ./.sitelift -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
  } | sha256sum | cut -d' ' -f1
}

# Fails unless the command fails (exit 1) and its stderr contains the text.
e2e_expect_refusal() {
  local text="$1"
  shift
  local err
  if err=$("$@" 2>&1 >/dev/null); then e2e_fail "expected a refusal mentioning '$text', but it succeeded"; fi
  grep -qiF -- "$text" <<<"$err" || e2e_fail "expected a refusal mentioning '$text', got: $err"
}

e2e_compare() {
  e2e_php "$E2E_REPO/tests/e2e/lib/compare-sites.php" "$@"
}

# e2e_small_disk ROOT FREE_KB: puts the folder ROOT on a tmpfs of its content's size plus FREE_KB, with ROOT's
# path, owner and mode (its own files stay below the mount, hidden, and are back after e2e_disk_release ROOT).
# Returns 1, mounting nothing, where no tmpfs can be mounted (not root, no CAP_SYS_ADMIN).
e2e_small_disk() {
  local root="$1" free_kb="$2" copy="$E2E_WORK/small-disk-copy" probe="$E2E_WORK/small-disk-probe" used_kb
  mkdir -p "$probe"
  mount -t tmpfs -o size=1m tmpfs "$probe" 2>/dev/null || return 1
  umount "$probe"
  rm -rf "$copy"
  cp -a "$root" "$copy"
  rm -rf "$copy/.sitelift"
  used_kb=$(du -sk "$copy" | cut -f1)
  mount -t tmpfs -o "size=$((used_kb + free_kb))k,mode=$(stat -c %a "$root"),uid=$(stat -c %u "$root"),gid=$(stat -c %g "$root")" \
    tmpfs "$root" || return 1
  cp -a "$copy/." "$root/"
  rm -rf "$copy"
}

# e2e_disk_grow ROOT KB: gives the tmpfs of e2e_small_disk KB more room.
e2e_disk_grow() {
  local size_kb
  size_kb=$(df -k --output=size "$1" | tail -n1 | tr -d ' ')
  mount -o "remount,size=$((size_kb + $2))k" "$1"
}

# e2e_disk_release ROOT: unmounts the tmpfs of e2e_small_disk, if there is one (the folder's own files are back).
e2e_disk_release() { ! mountpoint -q "$1" || umount "$1"; }

# e2e_free_kb ROOT: free space of the file system holding ROOT, in KB.
e2e_free_kb() { df -k --output=avail "$1" | tail -n1 | tr -d ' '; }
