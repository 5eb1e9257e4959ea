#!/usr/bin/env bash
# The archive is a standard format: GNU tar extracts it and the stock mariadb client loads its table files
# as they are. The result must equal the source, table by table and file by file.
set -euo pipefail
source "$(dirname "$0")/lib/e2e.sh"
e2e_begin "plain tar + mariadb read the archive"

src_root=$(e2e_info source root)
# A view and a trigger travel too, as their own files.
e2e_sql source "CREATE OR REPLACE VIEW wp_e2e_published AS SELECT ID, post_title FROM wp_posts WHERE post_status = 'publish';
  DROP TRIGGER IF EXISTS wp_e2e_touch;
  CREATE TRIGGER wp_e2e_touch BEFORE UPDATE ON wp_options FOR EACH ROW SET NEW.autoload = NEW.autoload;"
drop_extras() { e2e_sql source "DROP VIEW IF EXISTS wp_e2e_published; DROP TRIGGER IF EXISTS wp_e2e_touch;"; }
trap drop_extras EXIT
for compress in zstd gzip none; do
  archive="$E2E_WORK/standard.$compress.tar"
  rm -f "$archive"
  e2e_cli export --path="$src_root" --output="$archive" --compress="$compress" --quiet >/dev/null ||
    e2e_fail "export with --compress=$compress failed"
  out="$E2E_WORK/standard-$compress"
  rm -rf "$out"
  mkdir -p "$out"
  case "$compress" in
    zstd) tar --zstd -xpf "$archive" -C "$out" ;;
    gzip) tar -xzpf "$archive" -C "$out" ;;
    none) tar -xpf "$archive" -C "$out" ;;
  esac || e2e_fail "GNU tar cannot extract the $compress archive"
  [ -f "$out/manifest.json" ] && [ -f "$out/site.json" ] || e2e_fail "manifest.json or site.json missing"
  # Every entry as the manifest describes it (type, size, SHA-256, mode, mtime, link target).
  e2e_php "$E2E_REPO/tests/e2e/lib/verify-manifest.php" "$out" || e2e_fail "the extracted files disagree with the manifest ($compress)"
done
e2e_ok "zstd, gzip and uncompressed archives extract with GNU tar and match their manifests"

# Load the table files with the stock client into a third database.
out="$E2E_WORK/standard-zstd"
e2e_sql_root "DROP DATABASE IF EXISTS sl_third; CREATE DATABASE sl_third CHARACTER SET utf8mb4;"
for f in "$out"/database/*.sql; do
  mariadb --default-character-set=utf8mb4 -h 127.0.0.1 -P "$(e2e_info mariadb port)" \
    -u"$(e2e_info mariadb root_user)" -p"$(e2e_info mariadb root_password)" sl_third <"$f" ||
    e2e_fail "the mariadb client could not load $(basename "$f")"
done
for f in "$out"/database/views/*.sql "$out"/database/triggers/*.sql; do
  [ -f "$f" ] || e2e_fail "the archive lacks the view or the trigger"
  mariadb --default-character-set=utf8mb4 -h 127.0.0.1 -P "$(e2e_info mariadb port)" \
    -u"$(e2e_info mariadb root_user)" -p"$(e2e_info mariadb root_password)" sl_third <"$f" ||
    e2e_fail "the mariadb client could not load $(basename "$f")"
done
[ "$(e2e_sql_root "SELECT COUNT(*) FROM sl_third.wp_e2e_published")" = "$(e2e_sql source "SELECT COUNT(*) FROM wp_e2e_published")" ] ||
  e2e_fail "the view does not work in the restored database"
e2e_sql_root "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'sl_third' AND TRIGGER_NAME = 'wp_e2e_touch'" |
  grep -qx 1 || e2e_fail "the trigger was not restored"
e2e_ok "the mariadb client loaded every table, view and trigger file"

third_db=$(jq -c '.source.db | .name = "sl_third" | .user = "'"$(e2e_info mariadb root_user)"'" | .password = "'"$(e2e_info mariadb root_password)"'"' <<<"$E2E_SITES_JSON")
src_db=$(jq -c '.source.db' <<<"$E2E_SITES_JSON")
e2e_compare --source-root="$src_root" --dest-root="$out/files" --source-db="$src_db" --dest-db="$third_db" \
  --source-prefix=wp_ --dest-prefix=wp_ --ignore-file=wp-config.php --ignore-dir=.sitelift --ignore-dir=wp-content/upgrade --quiet ||
  e2e_fail "what plain tar + mariadb restored differs from the source"
e2e_sql_root "DROP DATABASE sl_third"
drop_extras
e2e_ok "plain tools restore an identical site"
