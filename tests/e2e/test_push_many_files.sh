#!/usr/bin/env bash
# A site with more files than one part's manifest can describe: parts of 2 MiB (a destination behind a small
# request limit) and 20,000 extra files with long names, so the manifest alone is larger than a part. The push
# must still finish, and the destination must be the source, file by file. The source also has a table whose
# average row size hides a run of big rows, which must go in smaller chunks rather than fail the push, and
# ends in one row of about 8 MB that no part can hold: it goes in slices, joined by the destination.
set -euo pipefail
source "$(dirname "$0")/lib/e2e.sh"
source "$(dirname "$0")/lib/push.sh"
e2e_begin "push: a manifest larger than one part"

many="$PUSH_SRC_ROOT/wp-content/uploads/sitelift-many-files"
runs=wp_sitelift_runs
# The extra files and table leave the shared source site however this test ends (push.sh's own cleanup runs
# too).
many_cleanup() {
  rm -rf "$many"
  e2e_sql source "DROP TABLE IF EXISTS $runs" || true
  push_cleanup
}
trap many_cleanup EXIT

# killed_at SPEC WHAT [PUSH OPTIONS...]: a push that must kill itself at SPEC (SITELIFT_TEST_KILL_AT).
killed_at() {
  local spec="$1" what="$2" status=0
  shift 2
  SITELIFT_TEST_KILL_AT="$spec" push_run "$@" || status=$?
  [ "$status" = 137 ] || e2e_fail "$what (exit status $status): $(tail -n 3 "$E2E_WORK/push.err")"
}

# finished_like_the_source WHEN: the destination's job is done and the destination equals the source.
finished_like_the_source() {
  push_status destination | jq -e '.receive.job.phase == "done"' >/dev/null ||
    e2e_fail "$1, the push did not finish: $(push_status destination | jq -c .receive.job)"
  push_compare --quiet || e2e_fail "$1, the destination is not the source"
}

push_fresh_destination
# 20,000 files of random bytes under random 120-character names: every manifest record has its own checksum
# and name, so the manifest stays large when compressed (about 110 bytes a record).
e2e_php -r '
  $dir = $argv[1];
  for ($d = 0; $d < 200; $d++) {
    mkdir("$dir/" . sprintf("%03d", $d), 0755, true);
    for ($f = 0; $f < 100; $f++) {
      file_put_contents(sprintf("%s/%03d/%s.bin", $dir, $d, bin2hex(random_bytes(60))), random_bytes(24));
    }
  }' "$many" || e2e_fail "cannot create the extra files"
records=$(find "$PUSH_SRC_ROOT" -path "$PUSH_SRC_ROOT/.sitelift" -prune -o -print | wc -l)
e2e_ok "source has $records files and folders"
# And a table whose rows are tiny on average but end in a run of 150 rows of 25 KB that do not compress: a
# chunk cut by the average row size would hold the whole run, more than a part.
e2e_sql source "DROP TABLE IF EXISTS $runs;
  CREATE TABLE $runs (id INT PRIMARY KEY AUTO_INCREMENT, v LONGTEXT) DEFAULT CHARSET=utf8mb4;
  INSERT INTO $runs (v) SELECT 'x' FROM seq_1_to_20000;
  INSERT INTO $runs (v) SELECT CONCAT($(for i in $(seq 18); do printf 'TO_BASE64(RANDOM_BYTES(1024)),'; done | sed 's/,$//'))
    FROM seq_1_to_150;
  SET SESSION group_concat_max_len = 67108864;
  INSERT INTO $runs (id, v) SELECT 1000000, GROUP_CONCAT(TO_BASE64(RANDOM_BYTES(1024)) SEPARATOR '') FROM seq_1_to_6000;
  ANALYZE TABLE $runs" >/dev/null || e2e_fail "cannot create the table $runs"
big_row_md5=$(e2e_sql source "SELECT MD5(v) FROM $runs WHERE id = 1000000")
[ "$(e2e_sql source "SELECT LENGTH(v) > 8000000 FROM $runs WHERE id = 1000000")" = 1 ] ||
  e2e_fail "the big row of $runs is not there"

push_token
mark=$(push_access_mark)
push_ok --max-part=2097152 --json
jq -e '.phase == "done"' "$E2E_WORK/push.out" >/dev/null || e2e_fail "push does not say done: $(head -c 2000 "$E2E_WORK/push.out")"
parts=$(push_put_indices "$mark" | wc -l)
e2e_ok "pushed in $parts parts of at most 2 MiB"

# The manifest went in more than one part: the last parts hold nothing but manifest records.
manifest_parts=$(jq -r '.manifest_parts // 0' "$E2E_WORK/push.out")
[ "$manifest_parts" -ge 2 ] || e2e_fail "the manifest went in $manifest_parts part(s); this test needs it larger than one part"
e2e_ok "the manifest took $manifest_parts parts"

row_slice_parts=$(jq -r '.row_slice_parts // 0' "$E2E_WORK/push.out")
[ "$row_slice_parts" -ge 3 ] || e2e_fail "the big row went in $row_slice_parts slice(s); this test needs it in several"
e2e_ok "the big row took $row_slice_parts parts"

push_compare --quiet || e2e_fail "the destination is not the source with its URL replaced"
[ "$(e2e_sql destination "SELECT COUNT(*), SUM(LENGTH(v)) > 11500000 FROM wpd_sitelift_runs")" = "20151	1" ] ||
  e2e_fail "the destination's $runs does not hold the 20,151 rows"
[ "$(e2e_sql destination "SELECT MD5(v) FROM wpd_sitelift_runs WHERE id = 1000000")" = "$big_row_md5" ] ||
  e2e_fail "the destination's big row differs from the source's"
[ "$(find "$PUSH_DST_ROOT/wp-content/uploads/sitelift-many-files" -type f | wc -l)" = 20000 ] ||
  e2e_fail "the destination lacks some of the 20,000 extra files"
e2e_ok "destination matches the source, the 20,000 extra files included"

# --- killed between two slices of the manifest, then resumed ---
# The process that sends the rest must go on from the byte the destination holds, cutting from the same
# manifest text (its head and records as the killed process had them); else the destination refuses the
# slice or the joined manifest does not verify.
push_fresh_destination
push_token
killed_at "part:$((parts - 1))" "the push was not killed before its last part" --max-part=2097152
# (The receiving job's own file: the status shows progress, not the manifest's.)
jq -e '.manifest_received > 0 and .manifest_seen == false' "$PUSH_DST_ROOT/.sitelift/receive/job.json" >/dev/null ||
  e2e_fail "the kill did not fall between two slices of the manifest: $(jq -c . "$PUSH_DST_ROOT/.sitelift/receive/job.json")"
e2e_ok "killed after $((parts - 1)) parts, with part of the manifest received"
push_ok --max-part=2097152
finished_like_the_source "after the resumed push"
e2e_ok "resumed: the rest of the manifest joined the slice received before, destination matches the source"

# --- killed between two slices of the big row, its copy on the source lost, then resumed ---
# The destination holds the first slice; the source's copy of the row's text is gone, so the rest is cut from
# the row read again, starting over at offset 0, which the destination must accept in place of what it holds.
push_fresh_destination
push_token
killed_at "row-slice:2" "the push was not killed between slices of the big row" --max-part=2097152
jq -e '.sql_slice.next > 0' "$PUSH_DST_ROOT/.sitelift/receive/job.json" >/dev/null ||
  e2e_fail "the kill did not fall between two slices of the big row: $(jq -c .sql_slice "$PUSH_DST_ROOT/.sitelift/receive/job.json")"
[ -f "$PUSH_SRC_ROOT/.sitelift/push/row.sql" ] || e2e_fail "the source keeps no copy of the big row's text"
rm -f "$PUSH_SRC_ROOT/.sitelift/push/row.sql"
e2e_ok "killed with part of the big row received; the source's copy of it removed"
push_ok --max-part=2097152
grep -q "its slices start over" "$PUSH_SRC_ROOT/.sitelift/push/log.txt" ||
  e2e_fail "the resumed push did not cut the big row again: $(tail -n 5 "$PUSH_SRC_ROOT/.sitelift/push/log.txt")"
finished_like_the_source "after the resumed push"
[ "$(e2e_sql destination "SELECT MD5(v) FROM wpd_sitelift_runs WHERE id = 1000000")" = "$big_row_md5" ] ||
  e2e_fail "after the resumed push, the destination's big row differs from the source's"
e2e_ok "resumed: the big row was sent again from its start, destination matches the source"

# --- the same push in steps of no time at all, the file listing killed and resumed ---
# wp-admin drives a push in steps that each fit one PHP request; listing this tree then takes many steps (a
# step lists a few hundred entries when its time is up). A step killed after writing more of the list than
# its state records leaves lines that the next step must cut off; the list must come out exactly as one
# uninterrupted walk made it (taken from a push killed once its first database part was made).
push_fresh_destination
push_token
killed_at "database:1" "the reference push was not killed at its first database part" --max-part=2097152
cp "$PUSH_SRC_ROOT/.sitelift/push/files.jsonl" "$E2E_WORK/files-whole.jsonl"
push_fresh_destination
push_token
killed_at "listing:3" "the push was not killed in its third listing step" --restart --step-seconds=0 --max-part=2097152
jq -e '.phase == "listing"' "$PUSH_SRC_ROOT/.sitelift/push/state.json" >/dev/null ||
  e2e_fail "the third step ended the listing; this test needs more steps: $(jq -c '{phase, listing, files}' "$PUSH_SRC_ROOT/.sitelift/push/state.json")"
printf '{"p":"bm90LWxpc3RlZA==","k":"f","m":420,"t":0,"n":0,"s":1}\n' >>"$PUSH_SRC_ROOT/.sitelift/push/files.jsonl"
e2e_ok "killed after three listing steps of $(jq -r .files "$PUSH_SRC_ROOT/.sitelift/push/state.json") entries; a line the state does not record added"
killed_at "database:1" "the push in steps was not killed at its first database part" --step-seconds=0 --max-part=2097152
cmp -s "$PUSH_SRC_ROOT/.sitelift/push/files.jsonl" "$E2E_WORK/files-whole.jsonl" ||
  e2e_fail "the file list made in steps differs from the one made at once: $(diff "$PUSH_SRC_ROOT/.sitelift/push/files.jsonl" "$E2E_WORK/files-whole.jsonl" | head -c 600)"
e2e_ok "the file list made in $(grep -c . "$E2E_WORK/files-whole.jsonl") entries over many steps equals the one made at once"
push_ok --step-seconds=0 --max-part=2097152
finished_like_the_source "after the push in steps"
[ ! -e "$PUSH_SRC_ROOT/.sitelift/push/row.sql" ] || e2e_fail "the finished push left its copy of the big row behind"
e2e_ok "pushed in steps: destination matches the source"
