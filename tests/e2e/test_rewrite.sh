#!/usr/bin/env bash
# URL and path rewriting end to end: after export and import between the local sites no source URL remains in
# the destination's database (guids aside), every serialized value still unserializes, the data equals the
# source's with the URL replaced, paths inside serialized data follow ABSPATH, and pages and media load at
# the destination's URL.
set -euo pipefail
source "$(dirname "$0")/lib/e2e.sh"
e2e_begin "URLs and paths rewritten safely"

"$E2E_REPO/scripts/sites" reset destination >/dev/null
src_root=$(e2e_info source root); dst_root=$(e2e_info destination root)
src_url=$(e2e_info source url); dst_url=$(e2e_info destination url)
src_host=${src_url#http://}
archive="$E2E_WORK/rewrite.tar.zst"

# ABSPATH inside serialized data, nested twice (the two roots differ in length, so lengths must be fixed),
# and inside a JSON document kept in a JSON string (its slashes escaped as "\\\/").
paths=$(php -r 'echo serialize(["upload_path" => $argv[1] . "wp-content/uploads", "inner" => serialize(["dir" => $argv[1] . "wp-content"]),
  "json" => json_encode(["layout" => json_encode(["dir" => $argv[1] . "wp-content"])])]);' "$src_root/")
e2e_sql source "DELETE FROM wp_options WHERE option_name = 'e2e_paths'; INSERT INTO wp_options (option_name, option_value, autoload) VALUES ('e2e_paths', '$(sed -e 's/\\/\\\\/g' -e "s/'/''/g" <<<"$paths")', 'no')"
# Binary columns: text and serialized data in a BLOB are rewritten; bytes that are neither (here a PNG
# header and an invalid UTF-8 byte) stay as they are, counted as skipped.
e2e_sql source "DROP TABLE IF EXISTS wp_e2e_blobs; CREATE TABLE wp_e2e_blobs (id INT PRIMARY KEY, b LONGBLOB) ENGINE=InnoDB;
  INSERT INTO wp_e2e_blobs VALUES (1, CONCAT('text in a blob: ', 'http://$src_host/page/')),
  (2, X'$(php -r 'echo bin2hex(serialize(["u" => $argv[1] . "/x", "bin" => "\xff\x00"]));' "http://$src_host")'),
  (3, CONCAT(X'89504E470D0A1A0A00FF', ' http://$src_host/in-an-image'))"
remove_test_data() { e2e_sql source "DELETE FROM wp_options WHERE option_name = 'e2e_paths'; DROP TABLE IF EXISTS wp_e2e_blobs"; }
trap remove_test_data EXIT

e2e_cli export --path="$src_root" --output="$archive" --quiet >/dev/null || e2e_fail "export failed"
e2e_cli import --path="$dst_root" --input="$archive" --json --quiet >"$E2E_WORK/rewrite.json" || e2e_fail "import failed"
changed=$(jq .values_changed "$E2E_WORK/rewrite.json")
[ "$changed" -gt 100 ] || e2e_fail "only $changed values were rewritten"
jq -e '.table_reports.wpd_posts.values_changed > 0 and .table_reports.wpd_options.values_changed > 0 and
       .table_reports.wpd_postmeta.values_changed > 0' "$E2E_WORK/rewrite.json" >/dev/null ||
  e2e_fail "the import summary does not report rewritten values per table"
e2e_ok "$changed values rewritten; $(jq .values_skipped_unsafe "$E2E_WORK/rewrite.json") left alone as unsafe"
blob() { e2e_sql destination "SELECT HEX(b) FROM wpd_e2e_blobs WHERE id = $1"; }
[ "$(blob 1)" = "$(php -r 'echo bin2hex($argv[1]);' "text in a blob: $dst_url/page/" | tr a-f A-F)" ] ||
  e2e_fail "text in a BLOB was not rewritten"
php -r '$v = unserialize(hex2bin($argv[1])); exit($v === ["u" => $argv[2] . "/x", "bin" => "\xff\x00"] ? 0 : 1);' \
  "$(blob 2)" "$dst_url" || e2e_fail "serialized data in a BLOB was not rewritten"
[ "$(blob 3)" = "$(e2e_sql source "SELECT HEX(b) FROM wp_e2e_blobs WHERE id = 3")" ] || e2e_fail "binary bytes in a BLOB changed"
jq -e '.table_reports.wpd_e2e_blobs | .values_changed == 2 and .values_skipped_unsafe == 1 and .skipped_by_column == {"b": 1}' \
  "$E2E_WORK/rewrite.json" >/dev/null ||
  e2e_fail "the summary does not count the BLOBs: $(jq -c '.table_reports.wpd_e2e_blobs' "$E2E_WORK/rewrite.json")"
e2e_ok "text and serialized data in BLOBs rewritten, other bytes left alone"

# No source URL in any form, anywhere but the guids; every serialized value intact.
dst_db=$(jq -c '.destination.db' <<<"$E2E_SITES_JSON")
e2e_php "$E2E_REPO/tests/e2e/lib/check-serialized.php" --db="$dst_db" --prefix=wpd_ --skip-column=posts.guid --skip-column=e2e_blobs.b \
  --forbid="$src_host" --forbid="${src_host//\//\\/}" --forbid="127.0.0.1%3A8081" --forbid="$src_root" ||
  e2e_fail "source URLs or paths remain, or serialized data broke"
e2e_ok "no source URL or path remains and every serialized value unserializes"

# The guids keep the source URL (WordPress's guidance).
[ "$(e2e_sql destination "SELECT COUNT(*) FROM wpd_posts WHERE guid LIKE '%$src_host%'")" -gt 0 ] ||
  e2e_fail "guids were rewritten without --rewrite-guids"

# Everything else equals the source with its URL replaced (same-length URLs, so serialized lengths agree).
e2e_compare --sites-json=<(echo "$E2E_SITES_JSON") --replace-site-url --replace-binary --ignore-column=posts.guid \
  --ignore-table=e2e_blobs --ignore-option=e2e_paths --ignore-file=wp-config.php --ignore-dir=.sitelift --ignore-dir=wp-content/upgrade --quiet ||
  e2e_fail "the destination is not the source with its URL replaced"
e2e_ok "the destination equals the source with the URL replaced"

# (HEX: the client's batch output would escape the backslashes.)
got=$(e2e_sql destination "SELECT HEX(option_value) FROM wpd_options WHERE option_name = 'e2e_paths'")
php -r '$v = unserialize(hex2bin($argv[1])); $i = unserialize($v["inner"]); $j = json_decode(json_decode($v["json"], true)["layout"], true);
  exit($v["upload_path"] === $argv[2] . "/wp-content/uploads" && $i["dir"] === $argv[2] . "/wp-content" &&
    $j["dir"] === $argv[2] . "/wp-content" ? 0 : 1);' \
  "$got" "$dst_root" || e2e_fail "ABSPATH was not rewritten inside nested serialized data or nested JSON: $(php -r 'echo hex2bin($argv[1]);' "$got")"
e2e_ok "ABSPATH rewritten inside nested serialized data and nested JSON"

# The site URL inside a JSON document kept in JSON, and in JSON run through addslashes() (seeded).
got=$(e2e_sql destination "SELECT HEX(option_value) FROM wpd_options WHERE option_name = 'sl_seed_plugin_settings'")
php -r '$v = unserialize(hex2bin($argv[1])); $j = json_decode(json_decode($v["json_in_json"], true)["layout"], true);
  $k = json_decode(stripslashes($v["slashed_json"]), true);
  exit($j["background"] === $argv[2] . "/wp-content/uploads/bg.jpg" && $k["link"] === $argv[2] . "/shop/" ? 0 : 1);' \
  "$got" "$dst_url" || e2e_fail "the site URL was not rewritten inside nested or slashed JSON: $(php -r 'echo hex2bin($argv[1]);' "$got")"
e2e_ok "site URL rewritten inside nested and slashed JSON"

# Pages and media load at the destination's URL.
curl -sf "$dst_url/" >"$E2E_WORK/rewrite-front.html" || e2e_fail "the front page does not load"
grep -qF "$src_host" "$E2E_WORK/rewrite-front.html" && e2e_fail "the front page still links to the source"
img=$(grep -oE "$dst_url/wp-content/uploads/[^\"' ]+\.(jpg|png)" "$E2E_WORK/rewrite-front.html" | head -n1 || true)
if [ -z "$img" ]; then
  img="$dst_url/wp-content/uploads/$(e2e_sql destination "SELECT meta_value FROM wpd_postmeta WHERE meta_key='_wp_attached_file' LIMIT 1")"
fi
type=$(curl -sf -o /dev/null -w '%{content_type}' "$img") || e2e_fail "media does not load: $img"
[[ "$type" == image/* ]] || e2e_fail "media at $img is served as $type"
e2e_ok "front page and media load at the destination's URL"

# --rewrite-guids rewrites the guids too.
e2e_cli import --path="$dst_root" --input="$archive" --rewrite-guids --quiet >/dev/null || e2e_fail "import with --rewrite-guids failed"
[ "$(e2e_sql destination "SELECT COUNT(*) FROM wpd_posts WHERE guid LIKE '%$src_host%'")" = 0 ] ||
  e2e_fail "--rewrite-guids left source guids"
e2e_cli cleanup --path="$dst_root" --quiet >/dev/null
e2e_ok "--rewrite-guids"
