#!/usr/bin/env bash
# Hostile and damaged archives: each is refused with a clear message, nothing is written outside the staging
# folder, and the destination stays exactly as it was.
set -euo pipefail
source "$(dirname "$0")/lib/e2e.sh"
e2e_begin "hostile archives are refused"

"$E2E_REPO/scripts/sites" reset destination >/dev/null
src_root=$(e2e_info source root)
dst_root=$(e2e_info destination root)
valid="$E2E_WORK/valid.tar.zst"
# A small archive keeps each case quick: the database and a few files are all the rules need.
e2e_cli export --path="$src_root" --output="$valid" --exclude=wp-admin --exclude=wp-includes \
  --exclude=wp-content/uploads --exclude=wp-content/themes --exclude=wp-content/languages --quiet >/dev/null ||
  e2e_fail "export failed"
before=$(e2e_fingerprint destination)
rm -f /tmp/sitelift-evil-absolute.txt "$dst_root/../escaped-dotdot.txt"

# case  text the refusal must mention
cases=(
  "dotdot|.."
  "absolute|unexpected entry"
  "absolute-in-files|absolute"
  "device|device"
  "fifo|device"
  "hardlink|hard link"
  "symlink-escape|outside"
  "symlink-absolute|outside"
  "symlink-chain|outside"
  "through-symlink|collides"
  "workdir|work folder"
  "stray-entry|unexpected entry"
  "truncated|truncated"
  "no-manifest|manifest.json is missing"
  "no-site-json|site.json"
  "bomb|ratio"
  "lying-size|manifest"
  "tampered-file|SHA-256"
  "tampered-sql|SHA-256"
  "sql-other-table|"
  "sql-drop|"
  "sql-versioned-comment|"
  "sql-create-select|"
)
for entry in "${cases[@]}"; do
  name="${entry%%|*}"
  text="${entry#*|}"
  bad="$E2E_WORK/hostile-$name.tar"
  python3 "$E2E_REPO/tests/e2e/lib/hostile.py" "$name" "$valid" "$bad" || e2e_fail "cannot build case $name"
  set +e
  err=$(e2e_cli import --path="$dst_root" --input="$bad" --quiet 2>&1 >/dev/null)
  status=$?
  set -e
  [ "$status" -eq 1 ] || e2e_fail "$name: expected exit status 1, got $status ($err)"
  grep -q '^sitelift: error: ' <<<"$err" || e2e_fail "$name: no clear error message: $err"
  [ -z "$text" ] || grep -qiF -- "$text" <<<"$err" || e2e_fail "$name: the message does not mention '$text': $err"
  [ "$(e2e_fingerprint destination)" = "$before" ] || e2e_fail "$name: the destination changed"
  [ ! -e "$dst_root/.sitelift/stage" ] || e2e_fail "$name: the staging folder was left behind"
  [ -z "$(e2e_sql destination "SHOW TABLES LIKE 'sl\\_%'")" ] || e2e_fail "$name: staging tables were left behind"
  [ ! -e /tmp/sitelift-evil-absolute.txt ] || e2e_fail "$name: a file was written outside the site"
  [ ! -e "$dst_root/../escaped-dotdot.txt" ] || e2e_fail "$name: a file was written outside the site"
  e2e_ok "$name refused: ${err#sitelift: error: }"
done

# A wp-config.php inside an archive never replaces the destination's own.
config_sum=$(sha256sum "$dst_root/wp-config.php")
python3 "$E2E_REPO/tests/e2e/lib/hostile.py" wp-config "$valid" "$E2E_WORK/hostile-wp-config.tar"
e2e_cli import --path="$dst_root" --input="$E2E_WORK/hostile-wp-config.tar" --no-rewrite --quiet >/dev/null 2>&1 ||
  e2e_fail "an archive holding wp-config.php could not be imported"
[ "$(sha256sum "$dst_root/wp-config.php")" = "$config_sum" ] || e2e_fail "the archive replaced wp-config.php"
e2e_cli rollback --path="$dst_root" --quiet >/dev/null || e2e_fail "rollback failed"
[ "$(e2e_fingerprint destination)" = "$before" ] || e2e_fail "rollback did not restore the destination"
e2e_ok "the destination keeps its own wp-config.php"
