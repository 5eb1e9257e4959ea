#!/usr/bin/env bash
# A destination whose disk fills up during an import: the import stops with a clear message, the live site is
# exactly as it was (files and database), nothing staged is left behind to keep the disk full, and once there
# is room the same import goes through. The destination's folder is put on a small tmpfs for the test.
set -euo pipefail
source "$(dirname "$0")/lib/e2e.sh"
e2e_begin "import: a full disk on the destination loses nothing"

"$E2E_REPO/scripts/sites" reset destination >/dev/null
src_root=$(e2e_info source root)
dst_root=$(e2e_info destination root)
archive="$E2E_WORK/full-disk.tar.zst"
e2e_cli export --path="$src_root" --output="$archive" --quiet >/dev/null || e2e_fail "export failed"
archive_kb=$(( $(tar --zstd -tvf "$archive" 2>/dev/null | awk '{s += $3} END {print int(s / 1024)}') ))

trap 'e2e_disk_release "$dst_root"' EXIT
# SiteLift stops staging while less than 64 MiB is free (the live site keeps room to work). Room for the site
# and 72 MiB: staging starts, and stops once the source's files (uploads alone are tens of MB) take 8 MiB.
if ! e2e_small_disk "$dst_root" $((72 * 1024)); then
  echo "  skipped: cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)"
  exit 0
fi
[ "$archive_kb" -gt $((24 * 1024)) ] || e2e_fail "the archive holds only $archive_kb KB: too little to fill the disk"
before=$(e2e_fingerprint destination)

set +e
err=$(e2e_cli import --path="$dst_root" --input="$archive" --no-rewrite --quiet 2>&1 >/dev/null)
status=$?
set -e
[ "$status" -eq 1 ] || e2e_fail "expected exit status 1 on a full disk, got $status ($err)"
grep -q '^sitelift: error: ' <<<"$err" || e2e_fail "no clear error message: $err"
grep -qiE 'disk is (nearly )?full' <<<"$err" || e2e_fail "the message does not say the disk is full: $err"
grep -qi 'free' <<<"$err" || e2e_fail "the message does not say what to do: $err"
e2e_ok "refused: ${err#sitelift: error: }"
[ "$(e2e_fingerprint destination)" = "$before" ] || e2e_fail "the destination changed"
[ ! -e "$dst_root/.sitelift/stage" ] || e2e_fail "the staged files were left behind, keeping the disk full"
[ -z "$(e2e_sql destination "SHOW TABLES LIKE 'sl\\_%'")" ] || e2e_fail "staging tables were left behind"
free_kb=$(e2e_free_kb "$dst_root")
[ "$free_kb" -ge $((71 * 1024)) ] || e2e_fail "only $free_kb KB free after the failed import: something still takes the space"
e2e_ok "the destination is as it was, and its free space is back"

# A disk that is nearly full from the start is refused before anything is staged.
fill="$dst_root/.sitelift/fill.bin"  # (not in the site's folders: their times are part of the fingerprint)
mkdir -p "$dst_root/.sitelift"
head -c $(( (free_kb - 32 * 1024) * 1024 )) /dev/zero >"$fill"
e2e_expect_refusal 'nearly full' e2e_cli import --path="$dst_root" --input="$archive" --no-rewrite --quiet
rm -f "$fill"
[ ! -e "$dst_root/.sitelift/stage" ] || e2e_fail "something was staged on a nearly full disk"
e2e_ok "a disk nearly full from the start is refused before anything is staged"
[ "$(e2e_fingerprint destination)" = "$before" ] || e2e_fail "the destination changed"

# With room (the archive's files twice over), the same import goes through and the site is the source's.
e2e_disk_grow "$dst_root" $((archive_kb * 2 + 8192))
e2e_cli import --path="$dst_root" --input="$archive" --no-rewrite --quiet >/dev/null ||
  e2e_fail "the import failed with room on the disk"
e2e_compare --sites-json=<(echo "$E2E_SITES_JSON") --ignore-option=home,siteurl --ignore-option='sitelift_*' \
  --ignore-file=wp-config.php --ignore-dir=.sitelift --ignore-dir=wp-content/upgrade --quiet ||
  e2e_fail "the destination differs from the source"
e2e_ok "with room, the same import goes through"
