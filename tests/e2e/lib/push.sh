# shellcheck shell=bash
# Helpers for the push tests (sourced after e2e.sh): tokens, pushes, the fault proxy, the destination's
# access log, and the comparison of the pushed site with the source.

PUSH_SRC_ROOT="$(e2e_info source root)"
PUSH_DST_ROOT="$(e2e_info destination root)"
PUSH_DST_URL="$(e2e_info destination url)"
PUSH_DST_PORT="${PUSH_DST_URL##*:}"
PUSH_ACCESS_LOG="$(e2e_info sites_dir)/log/nginx-destination-access.log"
PUSH_LIB="$E2E_REPO/tests/e2e/lib"
PUSH_PROXY_PID=""
PUSH_PROXY_PORT=""
PUSH_BG_PID=""

# Everything this file starts is stopped on exit, by its own pid.
push_cleanup() {
  [ -z "$PUSH_BG_PID" ] || kill -KILL "$PUSH_BG_PID" 2>/dev/null || true
  push_proxy_stop
}
trap push_cleanup EXIT

# push_fresh_destination: a newly installed destination, with WP-Cron off (WordPress would otherwise run its
# background jobs during the push's own requests, creating options and upload folders that the "unchanged"
# checks would see), and no push job left on the source.
push_fresh_destination() {
  "$E2E_REPO/scripts/sites" reset destination >/dev/null 2>&1 || e2e_fail "resetting the destination failed"
  sed -i "1a define( 'DISABLE_WP_CRON', true );" "$PUSH_DST_ROOT/wp-config.php"
  push_forget
}

# push_forget: cancels any push job the source still has (an earlier test may have killed one on purpose; the
# source refuses a new token while it has an unfinished job).
push_forget() {
  e2e_php -r 'SiteLift\push_cancel($argv[1]);' "$PUSH_SRC_ROOT" || e2e_fail "cannot cancel the source's earlier push"
}

# push_token [OPTIONS...]: creates a token on the destination; sets PUSH_TOKEN, PUSH_SITE, PUSH_TOKEN_JSON.
push_token() {
  PUSH_TOKEN_JSON=$(e2e_cli token --path="$PUSH_DST_ROOT" --json "$@") || e2e_fail "sitelift token $* failed"
  PUSH_TOKEN=$(jq -r .token <<<"$PUSH_TOKEN_JSON")
  PUSH_SITE=$(jq -r .site_name <<<"$PUSH_TOKEN_JSON")
  [[ "$PUSH_TOKEN" == sl1.* ]] || e2e_fail "sitelift token printed no token: $PUSH_TOKEN_JSON"
}

# push_run [OPTIONS...]: pushes the source with PUSH_TOKEN to PUSH_SITE; stdout and stderr go to
# $E2E_WORK/push.out and push.err; returns the CLI's exit status.
# PUSH_TIMEOUT=S ends it after S seconds (status 124), for pushes that must fail fast.
push_run() {
  local limit=()
  [ -z "${PUSH_TIMEOUT:-}" ] || limit=(timeout -s KILL "$PUSH_TIMEOUT")
  "${limit[@]}" php -d extension="$E2E_REPO/modules/sitelift.so" -d memory_limit=128M \
    "$E2E_REPO/wp-plugin/sitelift/bin/sitelift" push --path="$PUSH_SRC_ROOT" --token="$PUSH_TOKEN" --site="$PUSH_SITE" \
    --quiet "$@" >"$E2E_WORK/push.out" 2>"$E2E_WORK/push.err"
}

# push_ok [OPTIONS...]: push_run that must succeed.
push_ok() {
  push_run "$@" || e2e_fail "push $* failed (status $?): $(tail -n 5 "$E2E_WORK/push.err")"
}

# push_bg [OPTIONS...]: push_run in the background; PUSH_BG_PID is the php process itself.
push_bg() {
  php -d extension="$E2E_REPO/modules/sitelift.so" -d memory_limit=128M "$E2E_REPO/wp-plugin/sitelift/bin/sitelift" \
    push --path="$PUSH_SRC_ROOT" --token="$PUSH_TOKEN" --site="$PUSH_SITE" --quiet "$@" \
    >"$E2E_WORK/push-bg.out" 2>"$E2E_WORK/push-bg.err" &
  PUSH_BG_PID=$!
}

# push_bg_wait [SECONDS]: waits for the background push; returns its status (124 after the timeout).
push_bg_wait() {
  local limit="${1:-900}" t=0
  while kill -0 "$PUSH_BG_PID" 2>/dev/null; do
    sleep 1
    t=$((t + 1))
    [ "$t" -lt "$limit" ] || return 124
  done
  local s=0
  wait "$PUSH_BG_PID" || s=$?
  PUSH_BG_PID=""
  return "$s"
}

# push_bg_kill: ends the background push (SIGKILL, as a crash would).
push_bg_kill() {
  [ -n "$PUSH_BG_PID" ] || return 0
  kill -KILL "$PUSH_BG_PID" 2>/dev/null || true
  wait "$PUSH_BG_PID" 2>/dev/null || true
  PUSH_BG_PID=""
}

# push_status SIDE: `sitelift status` of source or destination (JSON).
push_status() {
  local root="$PUSH_SRC_ROOT"
  [ "$1" = destination ] && root="$PUSH_DST_ROOT"
  e2e_cli status --path="$root"
}

push_job() { push_status source | jq -r '.push.job // empty'; }
push_next_index() { push_status destination | jq -r '.receive.job.next_index // 0'; }

# push_wait_for SECONDS DESCRIPTION CMD...: polls CMD every half second.
push_wait_for() {
  local limit="$1" what="$2" t=0
  shift 2
  until "$@"; do
    sleep 0.5
    t=$((t + 1))
    [ "$t" -lt $((limit * 2)) ] || e2e_fail "timed out after ${limit}s waiting for $what"
  done
}

# The destination as a site: every table's checksum and every file, as e2e_fingerprint, but without what a
# push may legitimately leave behind before its swap (SiteLift's own sitelift_* options, sl_* staging tables).
# PUSH_FP_NO_CONFIG=1 leaves out wp-config.php and folder times (for comparing destinations installed
# separately: each install draws its own salts).
push_fingerprint() {
  local site="$1" root t skip=.sitelift dirtime='%T@ '
  # Across installs folder times differ too: the swap moves the destination's own SiteLift folder into
  # wp-content/plugins at its own time.
  [ "${PUSH_FP_NO_CONFIG:-0}" != 1 ] || { skip=wp-config.php; dirtime=''; }
  root="$(e2e_info "$site" root)"
  {
    for t in $(e2e_sql "$site" "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
                                AND TABLE_NAME NOT LIKE 'sl\\_%' ORDER BY TABLE_NAME"); do
      if [[ "$t" == *options ]]; then
        echo "$t"
        e2e_sql "$site" "SELECT option_name, MD5(option_value), autoload FROM \`$t\` WHERE option_name NOT LIKE '%transient%'
                         AND option_name NOT IN ('cron', 'doing_cron') AND option_name NOT LIKE 'sitelift\\_%' ORDER BY option_name"
      else
        e2e_sql "$site" "CHECKSUM TABLE \`$t\` EXTENDED"
      fi
    done
    (cd "$root" && find . -mindepth 1 \( -path ./.sitelift -o -path "./$skip" \) -prune -o \( -type d -a -printf "%y %m $dirtime%p\n" \) \
      -o -printf '%y %m %T@ %s %p -> %l\n' | LC_ALL=C sort)
    (cd "$root" && find . \( -path ./.sitelift -o -path "./$skip" \) -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
  } >"$E2E_WORK/fingerprint-$site.txt"
  sha256sum <"$E2E_WORK/fingerprint-$site.txt" | cut -d' ' -f1
}

# push_remember: takes the destination's fingerprint as the state that push_unchanged compares with.
push_remember() {
  PUSH_BEFORE=$(push_fingerprint destination)
  cp "$E2E_WORK/fingerprint-destination.txt" "$E2E_WORK/fingerprint-before.txt"
}

# push_unchanged NAME: fails, showing what differs, unless the destination is as push_remember found it.
push_unchanged() {
  [ "$(push_fingerprint destination)" = "$PUSH_BEFORE" ] && return 0
  e2e_fail "$1: the destination changed:
$(diff "$E2E_WORK/fingerprint-before.txt" "$E2E_WORK/fingerprint-destination.txt" | head -n 20)"
}

# push_no_staging: nothing of a push was staged on the destination.
push_no_staging() {
  [ -z "$(e2e_sql destination "SHOW TABLES LIKE 'sl\\_stage%'")" ] || return 1
  [ ! -e "$PUSH_DST_ROOT/.sitelift/stage" ] || return 1
}

# push_compare: the destination equals the source with its URL replaced by the destination's (what a push
# rewrites), but for what the destination keeps as its own (wp-config.php, home and siteurl, SiteLift's
# options) and what WordPress itself changes while serving the push's requests (WP-Cron's schedule and
# transients, as e2e_fingerprint leaves out). guids keep the source's URL; binary columns holding text or
# serialized data are rewritten too (the seeded ones do).
push_compare() {
  e2e_compare --sites-json=<(echo "$E2E_SITES_JSON") --replace-site-url --replace-binary --ignore-column=posts.guid \
    --ignore-option=home,siteurl,cron,doing_cron --ignore-option='sitelift_*' --ignore-option='_transient_*' \
    --ignore-option='_site_transient_*' --ignore-file=wp-config.php --ignore-dir=.sitelift \
    --ignore-dir=wp-content/upgrade "$@"
}

# push_access_mark: the destination access log's current line count (for push_access_since).
push_access_mark() { if [ -f "$PUSH_ACCESS_LOG" ]; then wc -l <"$PUSH_ACCESS_LOG"; else echo 0; fi; }
push_access_since() { tail -n +"$(($1 + 1))" "$PUSH_ACCESS_LOG" 2>/dev/null || true; }

# push_put_indices MARK: the part indices PUT to the destination since MARK, one per line, in order.
push_put_indices() {
  push_access_since "$1" | grep -oE '"PUT [^ ]*parts(/|%2F|%2f)[0-9]+' | grep -oE '[0-9]+$' || true
}

# push_statuses MARK: "METHOD STATUS" of every SiteLift request since MARK.
push_statuses() {
  push_access_since "$1" | grep -i 'sitelift' | sed -nE 's/^[^"]*"([A-Z]+) [^"]*" ([0-9]{3}) .*/\1 \2/p' || true
}

# push_proxy_start [OPTIONS...]: starts faultproxy.py in front of the destination (on PUSH_PROXY_PORT when
# set, else a free port, kept for the restarts); its log is $E2E_WORK/proxy.log.
push_proxy_start() {
  push_proxy_stop
  local out="$E2E_WORK/proxy.out"
  : >"$out"
  python3 "$PUSH_LIB/faultproxy.py" --listen "127.0.0.1:${PUSH_PROXY_PORT:-0}" --target "127.0.0.1:$PUSH_DST_PORT" \
    --log "$E2E_WORK/proxy.log" "$@" >"$out" 2>&1 &
  PUSH_PROXY_PID=$!
  local t=0
  until grep -q 'listening on' "$out"; do
    kill -0 "$PUSH_PROXY_PID" 2>/dev/null || e2e_fail "the fault proxy did not start: $(cat "$out")"
    sleep 0.1
    t=$((t + 1))
    [ "$t" -lt 100 ] || e2e_fail "the fault proxy did not start"
  done
  PUSH_PROXY_PORT=$(sed -nE 's/.*listening on [0-9.]+:([0-9]+).*/\1/p' "$out" | head -n1)
  PUSH_PROXY_URL="http://127.0.0.1:$PUSH_PROXY_PORT"
}

push_proxy_stop() {
  [ -n "$PUSH_PROXY_PID" ] || return 0
  kill "$PUSH_PROXY_PID" 2>/dev/null || true
  wait "$PUSH_PROXY_PID" 2>/dev/null || true
  PUSH_PROXY_PID=""
}

# push_proxy_count KIND: how many faults of KIND the proxy injected so far.
push_proxy_count() { grep -cE "fault .*kind=$1( |$)" "$E2E_WORK/proxy.log" 2>/dev/null || true; }
