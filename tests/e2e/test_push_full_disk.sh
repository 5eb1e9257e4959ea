#!/usr/bin/env bash
# A push into a destination whose disk fills up: the push stops with a message saying the destination's disk
# is full, the destination's live site is exactly as it was, and once there is room the same push job resumes
# from the parts already received (it does not start over) and ends with the destination equal to the source.
# The destination's folder is put on a small tmpfs for the test.
set -euo pipefail
source "$(dirname "$0")/lib/e2e.sh"
source "$(dirname "$0")/lib/push.sh"
e2e_begin "push: a full disk on the destination loses nothing and the push resumes"

push_fresh_destination
trap 'push_cleanup; e2e_disk_release "$PUSH_DST_ROOT"' EXIT
# SiteLift stops receiving while less than 64 MiB is free (the live site keeps room to work). Room for the site
# and 84 MiB: a few 8 MB parts arrive, then the destination answers that it has no room.
if ! e2e_small_disk "$PUSH_DST_ROOT" $((84 * 1024)); then
  echo "  skipped: cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)"
  exit 0
fi
push_token
push_remember
push_log="$PUSH_SRC_ROOT/.sitelift/push/log.txt"
log_lines=$(cat "$push_log" 2>/dev/null | wc -l)

status=0
push_run || status=$?
err=$(cat "$E2E_WORK/push.err")
[ "$status" -eq 1 ] || e2e_fail "expected exit status 1 on a full disk, got $status: $err"
grep -qiE "destination's disk is (nearly )?full" <<<"$err" || e2e_fail "the message does not say the destination's disk is full: $err"
grep -qi 'resume' <<<"$err" || e2e_fail "the message does not say the push can resume: $err"
retries=$(tail -n +$((log_lines + 1)) "$push_log" | grep 'retrying' || true)
[ -z "$retries" ] || e2e_fail "the push retried a full disk instead of stopping: $(head -n 3 <<<"$retries")"
e2e_ok "stopped at once: $(grep -m1 -i 'full' <<<"$err")"
push_unchanged "after the full disk"
job=$(push_job)
acked=$(push_next_index)
[ -n "$job" ] || e2e_fail "the source kept no job to resume"
[ "$acked" -ge 1 ] || e2e_fail "no part was received before the disk was full (the test needs some)"
push_status destination | jq -e '.receive.job.phase == "receiving"' >/dev/null ||
  e2e_fail "the destination's job is not waiting for the rest: $(push_status destination | jq -c .receive.job)"
e2e_ok "the live destination is as it was; $acked part(s) received and kept for the rerun"

# With room, the same job goes on from where it stopped.
e2e_disk_grow "$PUSH_DST_ROOT" $((400 * 1024))
mark=$(push_access_mark)
push_ok
[ "$(push_job)" = "$job" ] || e2e_fail "the push started another job ($(push_job), was $job)"
first=$(push_put_indices "$mark" | sort -n | head -n1)
[ -z "$first" ] || [ "$first" -ge $((acked - 1)) ] ||
  e2e_fail "the resumed push sent part $first again though the destination had received up to part $((acked - 1))"
push_compare --quiet || e2e_fail "the destination differs from the source"
e2e_ok "with room, the same job resumed at part ${first:-none} and the destination equals the source"
