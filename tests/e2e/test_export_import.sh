#!/usr/bin/env bash
# Export the seeded source, import it into the destination, and compare the two sites table by table and
# file by file; then roll back, import again and clean up.
set -euo pipefail
source "$(dirname "$0")/lib/e2e.sh"
e2e_begin "export, import, compare, rollback, cleanup"

"$E2E_REPO/scripts/sites" reset destination >/dev/null
src_root=$(e2e_info source root)
dst_root=$(e2e_info destination root)
dst_url=$(e2e_info destination url)
archive="$E2E_WORK/site.tar.zst"
rm -f "$archive"
# A SiteLift option on each side, as a source that has pushed and a destination with a token have: the import
# must keep the destination's. The source's leaves however this test ends (the source is shared).
trap 'e2e_sql source "DELETE FROM wp_options WHERE option_name = '"'sitelift_e2e_marker'"'" || true' EXIT
e2e_sql source "REPLACE INTO wp_options (option_name, option_value, autoload) VALUES ('sitelift_e2e_marker', 'source', 'no')"
e2e_sql destination "REPLACE INTO wpd_options (option_name, option_value, autoload) VALUES ('sitelift_e2e_marker', 'destination', 'no')"

# --- export ---
e2e_cli export --path="$src_root" --output="$archive" --json --quiet >"$E2E_WORK/export.json" ||
  e2e_fail "export failed"
tables=$(jq .tables "$E2E_WORK/export.json")
files=$(jq .files "$E2E_WORK/export.json")
[ "$tables" -ge 12 ] || e2e_fail "only $tables tables exported"
[ "$files" -ge 1000 ] || e2e_fail "only $files files exported"
e2e_ok "exported $tables tables, $files files"

# The archive is a standard tar: site.json first, manifest.json last, wp-config.php never inside.
tar --zstd -tf "$archive" >"$E2E_WORK/list.txt" || e2e_fail "GNU tar cannot list the archive"
[ "$(head -n1 "$E2E_WORK/list.txt")" = "site.json" ] || e2e_fail "site.json is not the first entry"
[ "$(tail -n1 "$E2E_WORK/list.txt")" = "manifest.json" ] || e2e_fail "manifest.json is not the last entry"
grep -qx 'database/wp_posts.sql' "$E2E_WORK/list.txt" || e2e_fail "no database/wp_posts.sql"
grep -qx 'files/wp-config.php' "$E2E_WORK/list.txt" && e2e_fail "wp-config.php was exported"
grep -q '^files/wp-content/uploads/' "$E2E_WORK/list.txt" || e2e_fail "no uploads in the archive"
tar --zstd -xOf "$archive" manifest.json >"$E2E_WORK/manifest.json"
jq -e '.site.home and .site.siteurl and .site.abspath and .site.wp_version and .site.php_version and .site.db_server
       and .site.table_prefix == "wp_" and (.site.multisite == false) and .site.charset and .site.collate' \
  "$E2E_WORK/manifest.json" >/dev/null || e2e_fail "manifest.json lacks site facts"
jq -e '[.entries[] | select(.type == "file" and (.sha256 | length) == 64 and .size != null and .mode and .mtime)] | length > 1000' \
  "$E2E_WORK/manifest.json" >/dev/null || e2e_fail "manifest.json lacks per-file facts"
jq -e '[.entries[] | select(.table) | select(.rows != null and (.checksum | length) == 64)] | length >= 12' \
  "$E2E_WORK/manifest.json" >/dev/null || e2e_fail "manifest.json lacks per-table facts"
e2e_ok "archive layout and manifest"

before=$(e2e_fingerprint destination)
dst_config_sum=$(sha256sum "$dst_root/wp-config.php")
# SiteLift's own options (tokens, push and receive state) are each site's own: the import keeps the
# destination's, whatever the source holds (a source that has pushed before has some), and the comparisons
# below leave them out.
own_options() { e2e_sql destination "SELECT option_name, MD5(option_value) FROM wpd_options WHERE option_name LIKE 'sitelift\\_%' ORDER BY option_name"; }
dst_own=$(own_options)

# --- import (no URL rewriting, so the two sites must match exactly but for home/siteurl) ---
e2e_cli import --path="$dst_root" --input="$archive" --no-rewrite --json --quiet >"$E2E_WORK/import.json" ||
  e2e_fail "import failed"
[ "$(jq .tables "$E2E_WORK/import.json")" = "$tables" ] || e2e_fail "import counted other tables"
[ "$(sha256sum "$dst_root/wp-config.php")" = "$dst_config_sum" ] || e2e_fail "the destination's wp-config.php changed"
[ "$(e2e_sql destination "SELECT option_value FROM wpd_options WHERE option_name='home'")" = "$dst_url" ] ||
  e2e_fail "home is not the destination's URL"
[ "$(e2e_sql destination "SELECT option_value FROM wpd_options WHERE option_name='siteurl'")" = "$dst_url" ] ||
  e2e_fail "siteurl is not the destination's URL"
[ "$(own_options)" = "$dst_own" ] || e2e_fail "the import changed the destination's own sitelift_* options"
[ "$(e2e_sql destination "SELECT option_value FROM wpd_options WHERE option_name='sitelift_e2e_marker'")" = destination ] ||
  e2e_fail "the import did not keep the destination's own sitelift_e2e_marker"
e2e_sql destination "SELECT COUNT(*) FROM wpd_options WHERE option_name='wpd_user_roles'" | grep -qx 1 ||
  e2e_fail "the user_roles option was not renamed to the destination's prefix"
[ "$(e2e_sql destination "SELECT COUNT(*) FROM wpd_usermeta WHERE meta_key LIKE 'wp\\_%'")" = 0 ] ||
  e2e_fail "usermeta keys still carry the source's prefix"
e2e_compare --sites-json=<(echo "$E2E_SITES_JSON") --ignore-option=home,siteurl --ignore-option='sitelift_*' --ignore-file=wp-config.php --ignore-dir=.sitelift --ignore-dir=wp-content/upgrade --quiet ||
  e2e_fail "the destination differs from the source"
e2e_ok "destination matches the source table by table and file by file"

# The migrated site serves its content at the destination URL, and the source admin can log in there.
title=$(e2e_sql source "SELECT post_title FROM wp_posts WHERE post_status='publish' AND post_type='post' ORDER BY post_date DESC LIMIT 1")
curl -sf "$dst_url/" >"$E2E_WORK/front.html" || e2e_fail "the destination's front page does not load"
grep -qF "$(php -r 'echo htmlspecialchars($argv[1], ENT_QUOTES);' "$title")" "$E2E_WORK/front.html" ||
  grep -qF "$title" "$E2E_WORK/front.html" || e2e_fail "the destination's front page lacks the post '$title'"
e2e_ok "front page shows the source's latest post"

e2e_cli status --path="$dst_root" | jq -e '.phase == "swapped"' >/dev/null || e2e_fail "status is not 'swapped'"
e2e_sql destination "SHOW TABLES LIKE 'sl\\_bak\\_%'" | grep -q . || e2e_fail "no backup tables kept"
[ -d "$dst_root/.sitelift/backup" ] || e2e_fail "no backup folder kept"

# --- rollback restores the destination exactly ---
e2e_cli rollback --path="$dst_root" --quiet >/dev/null || e2e_fail "rollback failed"
[ "$(e2e_fingerprint destination)" = "$before" ] || e2e_fail "rollback did not restore the destination exactly"
e2e_expect_refusal "no previous site" e2e_cli rollback --path="$dst_root"
e2e_ok "rollback restored the previous destination"

# --- import again, then cleanup drops what was kept ---
e2e_cli import --path="$dst_root" --input="$archive" --no-rewrite --quiet >/dev/null || e2e_fail "second import failed"
e2e_cli cleanup --path="$dst_root" --quiet >/dev/null || e2e_fail "cleanup failed"
[ -z "$(e2e_sql destination "SHOW TABLES LIKE 'sl\\_%'")" ] || e2e_fail "cleanup left SiteLift tables behind"
[ ! -e "$dst_root/.sitelift/backup" ] || e2e_fail "cleanup left the backup folder"
[ ! -e "$dst_root/.sitelift/stage" ] || e2e_fail "a staging folder was left behind"
e2e_compare --sites-json=<(echo "$E2E_SITES_JSON") --ignore-option=home,siteurl --ignore-option='sitelift_*' --ignore-file=wp-config.php --ignore-dir=.sitelift --ignore-dir=wp-content/upgrade --quiet ||
  e2e_fail "after cleanup the destination differs from the source"
e2e_ok "second import and cleanup"
