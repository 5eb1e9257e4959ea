#!/usr/bin/env bash
# Push end to end between the local sites, through nginx and php-fpm with the shared-host limits (8M bodies,
# 30 s): a token made on the destination, `sitelift push` on the source, then the destination must be the
# source with its URL rewritten, table by table and file by file, and both sides' status must say done.
set -euo pipefail
source "$(dirname "$0")/lib/e2e.sh"
source "$(dirname "$0")/lib/push.sh"
e2e_begin "push: source to destination with a machine token"

push_fresh_destination
dst_config_sum=$(sha256sum "$PUSH_DST_ROOT/wp-config.php")

# --- token ---
now=$(date +%s)
push_token
jq -e --arg url "$PUSH_DST_URL" --argjson now "$now" '
  .site_name == "sitelift-destination" and .url == $url and (.fingerprint | test("^[0-9a-f]{12}$"))
  and (.expires_at >= $now + 86400 - 60) and (.expires_at <= $now + 86400 + 60)' <<<"$PUSH_TOKEN_JSON" >/dev/null ||
  e2e_fail "the token's facts are not the defaults (site name a slug of the blog name, home URL, 24 h): $PUSH_TOKEN_JSON"
secret=${PUSH_TOKEN##*.}
push_status destination >"$E2E_WORK/push-status-dst-before.json" || e2e_fail "status on the destination failed"
jq -e --arg fp "$(jq -r .fingerprint <<<"$PUSH_TOKEN_JSON")" '.receive.fingerprint == $fp' \
  "$E2E_WORK/push-status-dst-before.json" >/dev/null || e2e_fail "status does not show the token: $(cat "$E2E_WORK/push-status-dst-before.json")"
e2e_sql destination "SELECT option_value FROM wpd_options WHERE option_name LIKE 'sitelift%'" | grep -qF -- "$secret" &&
  e2e_fail "the destination stores the token's secret"
e2e_ok "token for site '$PUSH_SITE' at $PUSH_DST_URL, fingerprint $(jq -r .fingerprint <<<"$PUSH_TOKEN_JSON")"

# --- push ---
mark=$(push_access_mark)
start=$(date +%s)
push_ok --json
jq -e '.phase == "done"' "$E2E_WORK/push.out" >/dev/null || e2e_fail "push --json does not say done: $(head -c 2000 "$E2E_WORK/push.out")"
parts=$(push_put_indices "$mark" | wc -l)
[ "$parts" -ge 2 ] || e2e_fail "the push went in $parts part(s); the small site needs several 8 MB parts"
# Parts skip the REST API (and most of WordPress) through the plugin's transfer.php; nothing else does.
direct=$(push_access_since "$mark" | grep -cE '"PUT [^ ]*/wp-content/plugins/sitelift/transfer\.php\?rest_route=[^ ]*/parts/[0-9]+ [^"]*" 200 ' || true)
[ "$direct" = "$parts" ] || e2e_fail "only $direct of $parts parts went through transfer.php: $(push_access_since "$mark" | grep -F PUT | head -n 3)"
push_access_since "$mark" | grep -F 'transfer.php' | grep -vqF '"PUT ' && e2e_fail "something other than a part went to transfer.php"
e2e_ok "pushed in $(($(date +%s) - start)) s, $parts parts, all through the direct endpoint"

# --- the destination is the source, URL rewritten ---
push_compare --quiet || e2e_fail "the destination is not the source with its URL replaced"
[ "$(sha256sum "$PUSH_DST_ROOT/wp-config.php")" = "$dst_config_sum" ] || e2e_fail "the destination's wp-config.php changed"
[ "$(e2e_sql destination "SELECT option_value FROM wpd_options WHERE option_name='home'")" = "$PUSH_DST_URL" ] ||
  e2e_fail "home is not the destination's URL"
[ "$(e2e_sql destination "SELECT option_value FROM wpd_options WHERE option_name='siteurl'")" = "$PUSH_DST_URL" ] ||
  e2e_fail "siteurl is not the destination's URL"
src_host=$(e2e_info source url)
src_host=${src_host#http://}
[ "$(e2e_sql destination "SELECT COUNT(*) FROM wpd_options WHERE option_value LIKE '%$src_host%'")" = 0 ] ||
  e2e_fail "options still hold the source's URL"
e2e_ok "destination matches the source table by table and file by file, URLs rewritten"

# --- status on both sides ---
push_status source >"$E2E_WORK/push-status-src.json" || e2e_fail "status on the source failed"
push_status destination >"$E2E_WORK/push-status-dst.json" || e2e_fail "status on the destination failed"
jq -e '.push.phase == "done" and .push.total_bytes > 0 and .push.parts >= 2' \
  "$E2E_WORK/push-status-src.json" >/dev/null || e2e_fail "the source's status is not done: $(jq -c .push "$E2E_WORK/push-status-src.json")"
jq -e '.receive.job.phase == "done"' "$E2E_WORK/push-status-dst.json" >/dev/null ||
  e2e_fail "the destination's status is not done: $(jq -c .receive "$E2E_WORK/push-status-dst.json")"
[ "$(jq -r .receive.job.id "$E2E_WORK/push-status-dst.json")" = "$(jq -r .push.job "$E2E_WORK/push-status-src.json")" ] ||
  e2e_fail "the two sides name different jobs"
jq -e '(.import // .).phase == "swapped"' "$E2E_WORK/push-status-dst.json" >/dev/null ||
  e2e_fail "the destination's import state is not swapped: $(jq -c '.import // .phase' "$E2E_WORK/push-status-dst.json")"
# The destination counts failed attempts and throttles after 20 in 10 minutes: a clean push must not count any.
guard="$PUSH_DST_ROOT/.sitelift/guard.json"
if [ -f "$guard" ]; then
  counted=$(jq '[.failures // {} | .[] | length] | add // 0' "$guard")
  [ "$counted" = 0 ] || e2e_fail "a clean push of $parts parts left $counted failed attempts on the destination ($guard); it throttles after 20"
fi
e2e_ok "status says done on both sides (job $(jq -r .push.job "$E2E_WORK/push-status-src.json"))"

# --- the migrated site works, and SiteLift stays active on it ---
title=$(e2e_sql source "SELECT post_title FROM wp_posts WHERE post_status='publish' AND post_type='post' ORDER BY post_date DESC LIMIT 1")
curl -sf "$PUSH_DST_URL/" >"$E2E_WORK/push-front.html" || e2e_fail "the destination's front page does not load"
grep -qF "$(php -r 'echo htmlspecialchars($argv[1], ENT_QUOTES);' "$title")" "$E2E_WORK/push-front.html" ||
  grep -qF "$title" "$E2E_WORK/push-front.html" || e2e_fail "the destination's front page lacks the post '$title'"
e2e_sql destination "SELECT option_value FROM wpd_options WHERE option_name='active_plugins'" | grep -qF 'sitelift/' ||
  e2e_fail "SiteLift is not active on the destination after the push"
e2e_ok "front page shows the source's latest post; SiteLift still active"

# --- no secret anywhere it could leak ---
sd=$(e2e_info sites_dir)
for place in "$sd/log" "$PUSH_SRC_ROOT/.sitelift/push/log.txt" "$PUSH_DST_ROOT/.sitelift" "$E2E_WORK/push.out" \
  "$E2E_WORK/push.err"; do
  [ -e "$place" ] || continue
  grep -rqF -- "$secret" "$place" && e2e_fail "the token's secret appears in $place"
done
push_status source | grep -qF -- "$secret" && e2e_fail "the source's status shows the token's secret"
e2e_ok "the token's secret is in no log, no status and nowhere on the destination"

# --- many small parts (more requests than the destination's failure limit, all of them good), with the host
# blocking the direct endpoint: the source falls back to the REST API after one refusal ---
push_fresh_destination
push_token
direct_file="$PUSH_DST_ROOT/wp-content/plugins/sitelift/transfer.php"
cp -p "$direct_file" "$E2E_WORK/transfer.php.kept"
printf '%s\n' '<?php http_response_code( 403 ); echo "<html><body>Forbidden by the host</body></html>";' >"$direct_file"
mark=$(push_access_mark)
start=$(date +%s)
timeout 300 bash -c 'exec "$@"' _ php -d extension="$E2E_REPO/modules/sitelift.so" -d memory_limit=128M \
  "$E2E_REPO/wp-plugin/sitelift/bin/sitelift" push --path="$PUSH_SRC_ROOT" --token="$PUSH_TOKEN" --site="$PUSH_SITE" \
  --max-part=2097152 --quiet >"$E2E_WORK/push.out" 2>"$E2E_WORK/push.err" ||
  e2e_fail "the push in 2 MiB parts failed (or took over 5 minutes): $(tail -n 3 "$E2E_WORK/push.err"); answers: $(push_statuses "$mark" | sort | uniq -c | paste -sd,)"
cp -p "$E2E_WORK/transfer.php.kept" "$direct_file"
parts=$(push_put_indices "$mark" | wc -l)
[ "$parts" -ge 21 ] || e2e_fail "2 MiB parts: only $parts parts were sent"
blocked=$(push_access_since "$mark" | grep -cF 'transfer.php' || true)
[ "$blocked" = 1 ] || e2e_fail "with transfer.php blocked, $blocked requests went to it (expected one, then the REST API)"
grep -qF 'parts go through its REST API' "$PUSH_SRC_ROOT/.sitelift/push/log.txt" ||
  e2e_fail "the source's log does not say it fell back to the REST API"
push_compare --quiet || e2e_fail "2 MiB parts: the destination is not the source with its URL replaced"
e2e_ok "pushed again in $parts parts of at most 2 MiB in $(($(date +%s) - start)) s, transfer.php blocked: same result"
