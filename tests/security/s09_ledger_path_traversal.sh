#!/usr/bin/env bash
# s09_ledger_path_traversal.sh - issue 9, item 9: a database role that may write the ledger
# inserts rows whose file_name is a path ('../victim/resolv.conf', an absolute path, a name
# through a symlinked folder) with the right content hash of a file outside the hot folder.
# `sluice archive` runs as root. Safe outcome: nothing outside the hot folder is moved or
# changed, the archive stays empty of those files, the refusal is logged once per name, and a
# legitimate file next to them is still archived.
source "$(dirname "$0")/lib_security.sh"
pg_start
D=$WORK/data
hot_folder "$D/input"
mkdir -p "$D/victim" "$D/archive" # the victim sits beside the hot folder
printf 'nameserver 192.0.2.1\n' >"$D/victim/resolv.conf"
chmod 644 "$D/victim/resolv.conf"
ln -s "$D/victim" "$D/input/evil" # a symlink the producer planted in the hot folder
before=$(stat -c '%i %s %Y' "$D/victim/resolv.conf")

# One honest file, loaded the normal way, so the archiver has real work too.
{ echo "$HEADER"; rows ok 2; } | drop_as_producer "$D/input" honest.csv
capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$D/input" \
    --checkpoint-dir "$D/ck" --error-dir "$D/error"
expect_eq "the honest file loads" "$RC:$(psql_q "SELECT count(*) FROM user_activity")" "0:2"

# The attack: ledger rows naming the victim, with its true hash and size, marked done.
hash=$(xxh128 "$D/victim/resolv.conf")
size=$(stat -c %s "$D/victim/resolv.conf")
for name in "../victim/resolv.conf" "$D/victim/resolv.conf" "evil/resolv.conf" \
    "..\\x2fvictim\\x2fresolv.conf" ".."; do
    psql_q "INSERT INTO ingest_files (target_table, file_name, content_hash, size_bytes, status,
            committed_at) VALUES ('public.user_activity', '$name', '$hash', $size, 'done',
            now() - interval '1 day')" >/dev/null
done
touch -d '-2 hours' "$D/input/honest.csv"

capture "$SLUICE_BIN" archive --once --db "$SLUICE_DB" --input-dir "$D/input" \
    --archive-dir "$D/archive" --min-age 0
expect_eq "archive --once exits 0" "$RC" 0
expect_eq "the victim is where it was, unchanged" \
    "$(stat -c '%i %s %Y' "$D/victim/resolv.conf" 2>&1)" "$before"
expect_eq "the victim's content is intact" "$(cat "$D/victim/resolv.conf")" \
    "nameserver 192.0.2.1"
expect_eq "the archive holds only the honest file" "$(ls -A "$D/archive")" "honest.csv"
expect_eq "no attacker row is marked archived" \
    "$(psql_q "SELECT count(*) FROM ingest_files WHERE archived_at IS NOT NULL AND file_name <> 'honest.csv'")" 0
expect_eq "the honest row is marked archived" \
    "$(psql_q "SELECT archived_as FROM ingest_files WHERE file_name = 'honest.csv'")" "honest.csv"
expect_eq "each refusal is logged, once per name" \
    "$(grep -c 'which is not an entry of the hot folder; never touched' <<<"$ERR")" 5
check "the symlink planted in the hot folder is still a symlink" test -L "$D/input/evil"
finish
