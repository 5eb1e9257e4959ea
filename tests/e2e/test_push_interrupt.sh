#!/usr/bin/env bash
# Interrupted pushes end exactly like an uninterrupted one: the push killed while making database and files
# segments, after acknowledged parts and right after asking to finalize, then run again; the destination's
# php-fpm restarted and its workers killed mid-transfer; and the network between the sites dropping
# connections, stalling, flipping bytes and losing acknowledgements (tests/e2e/lib/faultproxy.py). Every
# rerun continues the same job from the last acknowledged part, and every result equals the source.
#   SITELIFT_PUSH_CASES="kill chain fpm proxy"   the groups to run (default all)
#   SITELIFT_PUSH_KILLS="files:1 part:2"         the kill points of the "kill" group (default: all of them)
set -euo pipefail
source "$(dirname "$0")/lib/e2e.sh"
source "$(dirname "$0")/lib/push.sh"
e2e_begin "push: interrupted pushes resume to the same result"
cases="${SITELIFT_PUSH_CASES:-kill chain fpm proxy}"
export PUSH_FP_NO_CONFIG=1  # every case installs the destination afresh, with its own salts
want() { [[ " $cases " == *" $1 "* ]]; }

fresh_destination() {
  push_fresh_destination
  rm -f "$E2E_WORK/proxy.log"
}

# result NAME: the destination equals the source and the uninterrupted run's result.
result() {
  push_compare --quiet || e2e_fail "$1: the destination differs from the source"
  push_unchanged "$1 (compared with the uninterrupted push)"
  push_status destination | jq -e '.receive.job.phase == "done"' >/dev/null ||
    e2e_fail "$1: the destination's job is not done: $(push_status destination | jq -c .receive.job)"
  push_status source | jq -e '.push.phase == "done"' >/dev/null ||
    e2e_fail "$1: the source's job is not done: $(push_status source | jq -c .push)"
}

# killed SPEC: a push that SIGKILLs itself at SPEC (event:n) must die there; sets job and acked.
killed() {
  local status=0
  SITELIFT_TEST_KILL_AT="$1" push_run || status=$?
  [ "$status" = 137 ] || e2e_fail "kill at $1: the push was not killed (exit status $status): $(tail -n 3 "$E2E_WORK/push.err")"
  local j
  j=$(push_job)
  [ -n "$j" ] || e2e_fail "kill at $1: the source recorded no job"
  [ -z "${job:-}" ] || [ "$j" = "$job" ] || e2e_fail "kill at $1: the job changed from $job to $j (started over)"
  job="$j"
  push_status source | jq -e '.push.phase != "done"' >/dev/null || e2e_fail "kill at $1: the source says done"
  acked=$(push_next_index)
}

# resumed NAME: the push run again finishes the same job, sending no part before the last acknowledged one.
resumed() {
  local mark first
  mark=$(push_access_mark)
  push_ok
  [ "$(push_job)" = "$job" ] || e2e_fail "$1: the rerun started another job ($(push_job), was $job)"
  first=$(push_put_indices "$mark" | sort -n | head -n1)
  if [ -n "$first" ] && [ "$acked" -gt 0 ] && [ "$first" -lt $((acked - 1)) ]; then
    e2e_fail "$1: the rerun sent part $first again though the destination had acknowledged up to part $((acked - 1))"
  fi
  echo "${first:-none}"
}

# --- the reference: one uninterrupted push ---
fresh_destination
push_token
push_ok
push_compare --quiet || e2e_fail "uninterrupted push: the destination differs from the source"
push_remember  # the reference for every run below
total_parts=$(push_status source | jq -r .push.parts)
e2e_ok "uninterrupted push: $total_parts parts"

# --- killed at one point, then run again ---
if want kill; then
  [ "$total_parts" -ge 3 ] || e2e_fail "the small site went in $total_parts parts; the kill points need at least 3"
  specs=${SITELIFT_PUSH_KILLS:-}
  [ -n "$specs" ] || specs=$(printf '%s\n' database:1 files:1 files:2 part:1 "part:$((total_parts / 2))" "part:$((total_parts - 1))" finalize:1 | awk '!seen[$0]++')
  for spec in $specs; do
    fresh_destination
    push_token
    job=""
    killed "$spec"
    first=$(resumed "kill at $spec")
    result "kill at $spec"
    e2e_ok "killed at $spec (destination had $acked parts), resumed from part $first: same result"
  done
fi

# --- killed with a part made but not sent, whose file is then damaged (as a crash of the machine may leave it:
# segments are not synced) ---
if want kill; then
  fresh_destination
  push_token
  job=""
  killed files:1
  seg="$PUSH_SRC_ROOT/.sitelift/push/segment.bin"
  [ -s "$seg" ] || e2e_fail "damaged part: no pending segment after the kill at files:1"
  size=$(stat -c %s "$seg")
  byte=$(dd if="$seg" bs=1 skip=$((size / 2)) count=1 status=none | od -An -tu1 | tr -d ' ')
  printf "\\x$(printf %02x $((byte ^ 255)))" | dd of="$seg" bs=1 seek=$((size / 2)) conv=notrunc status=none
  [ "$(stat -c %s "$seg")" = "$size" ] || e2e_fail "damaged part: the damage changed the file's size"
  first=$(resumed "damaged part")
  result "damaged part"
  grep -q "was not found intact on disk; it is made again" "$PUSH_SRC_ROOT/.sitelift/push/log.txt" ||
    e2e_fail "damaged part: the rerun did not notice the damaged segment"
  e2e_ok "killed at files:1 and the pending part's file damaged: made again, same result"
fi

# --- killed three times in one job ---
if want chain; then
  fresh_destination
  push_token
  job=""
  killed database:1
  killed part:2
  killed part:1
  killed finalize:1
  first=$(resumed "four kills")
  result "four kills"
  e2e_ok "killed at database:1, part:2, part:1 and finalize:1 in turn, then completed: same result"
fi

# --- the destination's php-fpm restarted, then its workers killed, mid-transfer ---
if want fpm; then
  fresh_destination
  push_token
  push_bg
  at_least() { [ "$(push_next_index)" -ge "$1" ] || ! kill -0 "$PUSH_BG_PID" 2>/dev/null; }
  push_wait_for 300 "the first acknowledged part" at_least 1
  kill -0 "$PUSH_BG_PID" 2>/dev/null || e2e_fail "the push ended before php-fpm could be restarted"
  "$E2E_REPO/scripts/sites" restart-fpm >/dev/null 2>&1 || e2e_fail "scripts/sites restart-fpm failed"
  n=$(push_next_index)
  push_wait_for 300 "another acknowledged part" at_least $((n + 1))
  kill -0 "$PUSH_BG_PID" 2>/dev/null || e2e_fail "the push ended before the destination's workers could be killed"
  # Every worker of the destination's pool, children of the php-fpm master this sites folder runs.
  master=$(cat "$(e2e_info sites_dir)/run/php-fpm.pid")
  workers=()
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)" = "$master" ] || continue
    tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q 'pool destination' && workers+=("$p")
  done
  [ ${#workers[@]} -gt 0 ] || e2e_fail "no php-fpm worker of the destination found"
  kill -KILL "${workers[@]}" 2>/dev/null || true
  status=0
  push_bg_wait 900 || status=$?
  [ "$status" = 0 ] || e2e_fail "the push did not complete after the php-fpm restart (status $status): $(tail -n 5 "$E2E_WORK/push-bg.err")"
  result "php-fpm restart"
  e2e_ok "php-fpm restarted at part $n and ${#workers[@]} workers killed later: completed, same result"
fi

# --- through the fault proxy ---
# Random faults are proportional to bytes (one decision per 16 KiB block of a stream); the rates give a few
# faults over the site's parts, capped per kind so the test ends. Each run must have seen its faults.
blocks=$(( $(push_status source | jq -r '.push.sent_bytes // .push.total_bytes') / 16384 + 1 ))
rate() { awk -v k="$1" -v b="$blocks" 'BEGIN { r = k / b; if (r > 1) r = 1; printf "%.6f", r }'; }
proxied() {  # RUNS NAME PROXY-OPTIONS...: pushes through the proxy, at most RUNS invocations
  local runs="$1" name="$2" i=1 status
  shift 2
  fresh_destination
  push_proxy_start "$@"
  push_token --url="$PUSH_PROXY_URL"
  job=""
  while :; do
    status=0
    push_run || status=$?
    [ "$status" = 0 ] && break
    [ "$status" = 1 ] || e2e_fail "$name: the push ended with status $status: $(tail -n 3 "$E2E_WORK/push.err")"
    [ -z "$job" ] || [ "$(push_job)" = "$job" ] || e2e_fail "$name: a rerun started another job"
    job=$(push_job)
    [ "$i" -lt "$runs" ] || e2e_fail "$name: still failing after $runs runs: $(tail -n 3 "$E2E_WORK/push.err")"
    echo "  note: $name: run $i stopped: $(tail -n 1 "$E2E_WORK/push.err"); running it again"
    i=$((i + 1))
  done
  [ -z "$job" ] || [ "$(push_job)" = "$job" ] || e2e_fail "$name: the last run started another job"
  push_proxy_stop
  result "$name"
  proxy_runs=$i
}
if want proxy; then
  # Drops and stalls are transient: one invocation must ride them out with its own retries.
  proxied 1 "drops and stalls" --seed 1 --drop-rate "$(rate 6)" --stall-rate "$(rate 6)" --stall-seconds 3 --max-faults 3
  [ "$(push_proxy_count drop)" -ge 1 ] || e2e_fail "drops and stalls: the proxy dropped no connection"
  [ "$(push_proxy_count stall)" -ge 1 ] || e2e_fail "drops and stalls: the proxy stalled nothing"
  e2e_ok "$(push_proxy_count drop) connections dropped, $(push_proxy_count stall) stalls of 3 s: completed, same result"

  # Lost acknowledgements: the destination applied a part, the source never heard of it.
  proxied 1 "lost acknowledgements" --drop-after-put 1 --drop-after-put 3 --drop-after-put 4
  [ "$(grep -c 'drop conn=.*kind=drop-after-put' "$E2E_WORK/proxy.log")" -ge 2 ] ||
    e2e_fail "lost acknowledgements: the proxy cut fewer than two answers"
  e2e_ok "$(grep -c 'drop conn=.*kind=drop-after-put' "$E2E_WORK/proxy.log") acknowledgements lost: completed, same result"

  # Flipped bytes: in requests (parts fail their signature) and in answers. A flipped byte may stop a run
  # (the destination cannot tell it from a wrong token); running it again must continue the same job.
  proxied 4 "bytes flipped in requests" --seed 2 --direction up --flip-rate "$(rate 6)" --drop-rate "$(rate 2)" --max-faults 3
  [ "$(push_proxy_count flip)" -ge 1 ] || e2e_fail "flips in requests: the proxy flipped nothing"
  e2e_ok "$(push_proxy_count flip) bytes flipped in requests: completed in $proxy_runs run(s), nothing corrupted"
  proxied 4 "bytes flipped in answers" --seed 3 --direction down --chunk 128 --flip-rate 0.3 --max-faults 3
  [ "$(push_proxy_count flip)" -ge 1 ] || e2e_fail "flips in answers: the proxy flipped nothing"
  e2e_ok "$(push_proxy_count flip) bytes flipped in answers: completed in $proxy_runs run(s), nothing corrupted"
fi
