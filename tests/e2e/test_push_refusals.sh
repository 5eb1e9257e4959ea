#!/usr/bin/env bash
# Pushes the destination must refuse, each leaving it as it was: wrong site name, expired, revoked, garbage
# and forged tokens, a replayed request, a stale or wrongly signed one, a part tampered with (in transit, so
# its signature fails; and re-signed, so only the part's own authentication can catch it), and a second
# push from another source while one is running; and the direct endpoint for parts refusing what is not a
# signed part.
set -euo pipefail
source "$(dirname "$0")/lib/e2e.sh"
source "$(dirname "$0")/lib/push.sh"
e2e_begin "push: refusals leave the destination unchanged"

push_fresh_destination
push_remember

# refused NAME PATTERN [STATUSES]: the last push_run failed with status 1 (or one of STATUSES), said
# "sitelift: error: ..." matching PATTERN (extended regex, any case), and the destination is unchanged.
refused() {
  local name="$1" pattern="$2" statuses="${3:-1}" status="$push_status_code"
  local err
  err=$(cat "$E2E_WORK/push.err")
  [[ " $statuses " == *" $status "* ]] || e2e_fail "$name: expected exit status $statuses, got $status: $err"
  grep -q '^sitelift: error: ' <<<"$err" || e2e_fail "$name: no 'sitelift: error:' message: $err"
  grep -qiE -- "$pattern" <<<"$err" || e2e_fail "$name: the message does not match /$pattern/: $err"
  push_unchanged "$name"
  push_no_staging || e2e_fail "$name: something was staged on the destination"
  e2e_ok "$name refused: $(head -n1 <<<"${err#sitelift: error: }")"
}
# A refusal must come quickly: a push that keeps retrying is stopped after 2 minutes (status 137).
try_push() { push_status_code=0; PUSH_TIMEOUT=120 push_run "$@" || push_status_code=$?; }

# --- tokens ---
push_token
# A destination that holds a token but has received nothing reports no job (null, not an empty list).
push_status destination | jq -e '.receive | has("job") and .job == null' >/dev/null ||
  e2e_fail "status before any push: .receive.job is not null: $(push_status destination | jq -c .receive)"
site="$PUSH_SITE"
PUSH_SITE="not-$site"
try_push
refused "wrong site name" 'site name'
PUSH_SITE="$site"

# The shortest TTL the CLI takes is a minute: the destination's own record is made to expire in 2 s instead
# (the token string still says it is valid, so only the destination can refuse it).
push_token --ttl=60
e2e_sql destination "UPDATE wpd_options SET option_value = JSON_SET(option_value, '\$.expires_at', UNIX_TIMESTAMP() + 2)
                     WHERE option_name = 'sitelift_token'"
sleep 3
push_status destination | jq -e '.receive.expired == true' >/dev/null ||
  e2e_fail "status does not show the token as expired: $(push_status destination | jq -c .receive)"
try_push
refused "expired token" 'expired'

push_token
e2e_cli token --path="$PUSH_DST_ROOT" --revoke >/dev/null || e2e_fail "sitelift token --revoke failed"
push_status destination | jq -e '.receive.revoked == true' >/dev/null ||
  e2e_fail "status does not show the token as revoked: $(push_status destination | jq -c .receive)"
try_push
refused "revoked token" 'revoked'

real="$PUSH_TOKEN"
PUSH_TOKEN="this-is-not-a-token"
try_push
refused "garbage token" 'token' "1 2"

push_token
real="$PUSH_TOKEN"
for forge in "" --new-id; do
  PUSH_TOKEN=$(python3 "$PUSH_LIB/pushsign.py" forge-token --token="$real" $forge)
  mark=$(push_access_mark)
  try_push
  refused "forged token (right URL and site name, random secret${forge:+ and id})" 'token|signature|refused|denied|unauthori'
  push_statuses "$mark" | grep -qE '^[A-Z]+ 40[13]$' ||
    e2e_fail "forged token: the destination did not answer 401/403: $(push_statuses "$mark" | paste -sd,)"
done
PUSH_TOKEN="$real"

# --- one running push, seen through the proxy: a second source, replays, bad signatures, a tampered part ---
# The proxy lets the handshake and the first two parts through, then swallows every later PUT (the push
# keeps retrying part 2) and keeps a copy of every request.
cap="$E2E_WORK/capture"
rm -rf "$cap" "$E2E_WORK/proxy.log"
push_proxy_start --capture "$cap" --swallow-put-from 3
push_token --url="$PUSH_PROXY_URL"
push_bg
swallowed() { grep -q 'kind=swallow' "$E2E_WORK/proxy.log" 2>/dev/null; }
push_wait_for 300 "the push to reach its third part" swallowed
kill -0 "$PUSH_BG_PID" 2>/dev/null || e2e_fail "the push ended instead of retrying: $(cat "$E2E_WORK/push-bg.err")"
job=$(push_status destination | jq -r '.receive.job.id // empty')
[ -n "$job" ] || e2e_fail "the destination shows no job receiving"
[ "$(push_next_index)" = 2 ] || e2e_fail "the destination should expect part 2, expects $(push_next_index)"
e2e_ok "a push is running (job $job), stuck retrying part 2"

# A second source (a copy of the source's files on the same database) pushing with the same token.
src2="$E2E_WORK/source2"
rm -rf "$src2"
mkdir -p "$src2"
(cd "$PUSH_SRC_ROOT" && tar --exclude=./.sitelift -cf - .) | tar -C "$src2" -xf -
push_status_code=0
timeout 300 php -d extension="$E2E_REPO/modules/sitelift.so" -d memory_limit=128M "$E2E_REPO/wp-plugin/sitelift/bin/sitelift" \
  push --path="$src2" --token="$PUSH_TOKEN" --site="$PUSH_SITE" --quiet >"$E2E_WORK/push.out" 2>"$E2E_WORK/push.err" ||
  push_status_code=$?
err=$(cat "$E2E_WORK/push.err")
[ "$push_status_code" = 1 ] || e2e_fail "second push: expected exit status 1, got $push_status_code: $err"
grep -qiE 'another|in progress|already|running' <<<"$err" || e2e_fail "second push: the message does not say another push runs: $err"
[ "$(push_status destination | jq -r .receive.job.id)" = "$job" ] || e2e_fail "second push: the destination's job changed"
[ "$(push_next_index)" = 2 ] || e2e_fail "second push: the destination's progress changed"
push_unchanged "second push"
rm -rf "$src2"
e2e_ok "second concurrent push refused: ${err#sitelift: error: }"

# send FILE [pushsign options]: sends a captured request straight to the destination; sets SENT_STATUS.
# A 429 (the destination slowing down repeated failures without looking at the request) says nothing about
# the request itself: it is sent again (re-signed anew when it was re-signed) until another answer comes. The
# destination allows 20 failures per token and 10 minutes, so the cases below stay well under that.
send() {
  local file="$1" waited=0
  shift
  while :; do
    python3 "$PUSH_LIB/pushsign.py" send --request="$file" --to="$PUSH_DST_URL" --token="$PUSH_TOKEN" "$@" \
      >"$E2E_WORK/sent.txt" || e2e_fail "pushsign.py failed"
    SENT_STATUS=$(sed -n 's/^status=//p' "$E2E_WORK/sent.txt")
    [ "$SENT_STATUS" = 429 ] || break
    [ "$waited" -lt 300 ] || e2e_fail "the destination kept answering 429 for 5 minutes"
    sleep 10
    waited=$((waited + 10))
  done
}
expect_refused() {  # NAME
  [[ "$SENT_STATUS" == 4?? ]] || e2e_fail "$1: expected a 4xx answer, got $SENT_STATUS: $(tail -n +2 "$E2E_WORK/sent.txt" | head -c 500)"
  [ "$(push_next_index)" = "$2" ] || e2e_fail "$1: the destination's progress moved to $(push_next_index)"
  push_unchanged "$1"
  e2e_ok "$1 refused with $SENT_STATUS: $(tail -n +2 "$E2E_WORK/sent.txt" | head -c 200)"
}
part_request() {  # INDEX: the first captured PUT of that part
  local f
  for f in "$cap"/*-PUT.http; do
    if head -n1 "$f" | grep -qE "parts(/|%2F|%2f)$1 "; then echo "$f"; return 0; fi
  done
  e2e_fail "no captured PUT of part $1 (captured: $(ls "$cap" | paste -sd' '))"
}
part0=$(part_request 0)
part2=$(part_request 2)

send "$part0"
expect_refused "replayed request (part 0, exactly as captured)" 2
send "$part0" --resign --keep-nonce
expect_refused "re-signed request with a nonce already seen" 2
send "$part0" --resign --timestamp-offset=-3600
expect_refused "request signed an hour ago" 2
send "$part2" --resign --forge
expect_refused "part 2 signed with a wrong key" 2
send "$part2" --flip-body-at=7
expect_refused "part 2 with a changed byte, signature unchanged" 2
# Validly signed, but a byte of the sealed part changed: only AES-GCM's tag can tell (header, then ciphertext).
for at in 8 $(( $(stat -c %s "$part2") / 2 )); do
  send "$part2" --flip-body-at="$at" --resign
  expect_refused "part 2 re-signed with byte $at of the sealed part flipped" 2
done
# The control: the same request re-signed but unchanged is accepted, so the refusals above were the part's
# own authentication, not a signature this test got wrong.
send "$part2" --resign
[[ "$SENT_STATUS" == 2?? ]] || e2e_fail "control: the untouched part 2, re-signed, was refused ($SENT_STATUS): $(tail -n +2 "$E2E_WORK/sent.txt")"
[ "$(push_next_index)" = 3 ] || e2e_fail "control: the destination did not move to part 3 (at $(push_next_index))"
e2e_ok "control: the same part re-signed and untouched is accepted"

# The push, stopped and run again through a clean proxy, finishes the job; the result is the source.
push_bg_kill
push_proxy_start
push_ok
[ "$(push_status destination | jq -r .receive.job.id)" = "$job" ] || e2e_fail "the push did not finish the same job"
push_compare --quiet || e2e_fail "after the refusals, the pushed destination differs from the source"
e2e_ok "the push then completed the same job; destination matches the source"

# --- the direct endpoint for parts (the plugin's transfer.php) takes signed parts and nothing else ---
direct_url="$PUSH_DST_URL/wp-content/plugins/sitelift/transfer.php"
direct() {  # EXPECTED_STATUS EXPECTED_CODE NAME CURL_ARGS...
  local want="$1" code="$2" name="$3" got
  shift 3
  got=$(curl -s -o "$E2E_WORK/direct.json" -w '%{http_code}' "$@") || e2e_fail "$name: curl failed"
  [ "$got" = "$want" ] && jq -e --arg c "$code" '.code == $c' "$E2E_WORK/direct.json" >/dev/null ||
    e2e_fail "$name: expected $want $code, got $got $(head -c 300 "$E2E_WORK/direct.json")"
  e2e_ok "transfer.php: $name answered $want $code"
}
direct 404 sitelift_no_route "a GET" "$direct_url"
direct 404 sitelift_no_route "a finalize (only parts go this way)" -X PUT --data-binary '{}' \
  "$direct_url?rest_route=/sitelift/v1/jobs/$job/finalize"
direct 401 sitelift_unsigned "an unsigned part" -X PUT --data-binary 'sealed bytes' \
  "$direct_url?rest_route=/sitelift/v1/jobs/$job/parts/0"
active=$(e2e_sql destination "SELECT option_value FROM wpd_options WHERE option_name='active_plugins'")
e2e_sql destination "UPDATE wpd_options SET option_value='a:0:{}' WHERE option_name='active_plugins'"
direct 404 sitelift_direct_unavailable "a part while the plugin is inactive" -X PUT --data-binary 'sealed bytes' \
  "$direct_url?rest_route=/sitelift/v1/jobs/$job/parts/0"
e2e_sql destination "UPDATE wpd_options SET option_value='$active' WHERE option_name='active_plugins'"

# Repeated failures are slowed down: after enough bad signatures the destination answers 429 without looking,
# even to a good request.
throttled=""
for i in $(seq 1 30); do
  python3 "$PUSH_LIB/pushsign.py" send --request="$part0" --to="$PUSH_DST_URL" --token="$PUSH_TOKEN" --resign --forge \
    >"$E2E_WORK/sent.txt" || e2e_fail "pushsign.py failed"
  if grep -qx 'status=429' "$E2E_WORK/sent.txt"; then throttled=$i; break; fi
  grep -qE '^status=4[0-9][0-9]$' "$E2E_WORK/sent.txt" || e2e_fail "a forged signature was answered $(head -n1 "$E2E_WORK/sent.txt")"
done
[ -n "$throttled" ] || e2e_fail "30 bad signatures in a row were never answered 429"
python3 "$PUSH_LIB/pushsign.py" send --request="$part0" --to="$PUSH_DST_URL" --token="$PUSH_TOKEN" --resign \
  >"$E2E_WORK/sent.txt" || e2e_fail "pushsign.py failed"
grep -qx 'status=429' "$E2E_WORK/sent.txt" || e2e_fail "a good request while throttled was answered $(head -n1 "$E2E_WORK/sent.txt")"
e2e_ok "after $throttled more bad signatures the destination answers 429, even to a good request"

# --- a part tampered with in transit (its signature fails); nothing of it is applied ---
push_fresh_destination
rm -f "$E2E_WORK/proxy.log"
push_proxy_start --tamper-put 2
push_token --url="$PUSH_PROXY_URL"
try_push
grep -q 'kind=tamper' "$E2E_WORK/proxy.log" || e2e_fail "the proxy tampered with no PUT"
n=$(sed -nE 's/.*request conn=[0-9]+ n=([0-9]+) method=PUT .*/\1/p' "$E2E_WORK/proxy.log" | sed -n 2p)
answer=$(sed -nE "s/.*response conn=[0-9]+ n=$n status=([0-9]+) .*/\1/p" "$E2E_WORK/proxy.log")
[[ "$answer" == 4?? ]] || e2e_fail "the tampered PUT (request $n) was answered '$answer', not 4xx"
if [ "$push_status_code" != 0 ]; then
  e2e_ok "the push stopped after the tampered part ($(head -n1 "$E2E_WORK/push.err")); running it again"
  push_proxy_start
  push_ok
fi
push_compare --quiet || e2e_fail "after a tampered part, the pushed destination differs from the source"
e2e_ok "tampered part refused ($answer); the push completed and the destination matches the source"

# --- usage ---
status=0
err=$(e2e_cli token --path="$PUSH_DST_ROOT" --ttl=1 2>&1 >/dev/null) || status=$?
# (usage errors print "sitelift: <what>" and the usage text, exit 2; no PHP error or trace)
[ "$status" = 2 ] && grep -q '^sitelift: --ttl' <<<"$err" && ! grep -qi 'fatal\|uncaught\|stack trace' <<<"$err" ||
  e2e_fail "sitelift token --ttl=1: expected a usage error (status 2, 'sitelift: --ttl ...'), got status $status: $err"
e2e_ok "a TTL below the minimum is a usage error: $(head -n1 <<<"${err#sitelift: }")"
