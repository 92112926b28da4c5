#!/usr/bin/env bash
# t_archive.sh - the archiver moves only committed files (the ledger decides, not age), never
# overwrites, and leaves a file whose content changed under the same name; then `sluice run`
# end to end: generator, ingester and archiver in one process, everything accounted for.
source "$(dirname "$0")/lib.sh"
pg_start

D=$WORK/data
mkdir -p "$D/input"
ARC=("$SLUICE_BIN" archive --db "$SLUICE_DB" --input-dir "$D/input" --archive-dir "$D/archive")
"$SLUICE_BIN" generate --input-dir "$D/input" --temp-dir "$D/temp" --files 3 --rows-per-file 10 \
    --interval 0 --seed 11 2>/dev/null
capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$D/input" \
    --checkpoint-dir "$D/ck" --error-dir "$D/error"
expect_eq "ingest exits 0" "$RC" 0

# Files that are not committed: a new one, and a committed name whose content changed.
printf 'event_id,event_time,event_type,product_id,price,user_id,session_id\n' >"$D/input/late.csv"
changed=$(ls "$D/input" | head -n 1)
echo "n-1,2026-01-01 00:00:00,view,1,1.00,1,s" >>"$D/input/$changed"
# A name clash in the archive: an older file of the same name is already there.
second=$(ls "$D/input" | sed -n 2p)
mkdir -p "$D/archive"
echo "older" >"$D/archive/$second"

capture "${ARC[@]}" --once --min-age 3600
expect_eq "archive --once exits 0" "$RC" 0
expect_eq "--min-age 3600: nothing is old enough" "$(ls "$D/input" | wc -l)" 4

capture "${ARC[@]}" --once --min-age 0
expect_eq "archive --once --min-age 0 exits 0" "$RC" 0
expect_eq "uncommitted files stay in the hot folder" "$(ls "$D/input" | sort | tr '\n' ' ')" \
    "$(printf '%s\n' "$changed" late.csv | sort | tr '\n' ' ')"
expect_eq "committed files archived, the clash got a suffix" "$(ls "$D/archive" | wc -l)" 3
check "the older archived file was not overwritten" grep -qx older "$D/archive/$second"
expect_eq "ledger: archived_at and archived_as set" \
    "$(psql_q "SELECT count(*) FROM ingest_files WHERE archived_at IS NOT NULL AND archived_as LIKE '%.1.csv'")" 1
expect_eq "ledger: the changed file's original content is not marked archived" \
    "$(psql_q "SELECT count(*) FROM ingest_files WHERE archived_at IS NULL")" 1

# --- a crash between the durable move and the ledger update -------------------------------------
# The dying pass has renamed the file (into a clash suffix); the next pass finds it there and
# records it, then archives the rest.
psql_q "TRUNCATE ingest_files"
rm -rf "$D/input" "$D/archive"
mkdir -p "$D/input" "$D/archive"
csv_file() { # csv_file NAME ID...: a valid file with one row per id
    local name=$1 id
    shift
    {
        echo "event_id,event_time,event_type,product_id,price,user_id,session_id"
        for id in "$@"; do echo "$id,2026-01-15 10:00:00,view,1,1.00,1,s"; done
    } >"$D/input/$name"
}
csv_file a.csv a-1 a-2
csv_file b.csv b-1
csv_file c.csv c-1
csv_file d.csv d-1
echo "older a" >"$D/archive/a.csv"
capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$D/input" \
    --checkpoint-dir "$D/ck" --error-dir "$D/error"
expect_eq "crash: ingest exits 0" "$RC" 0
expect_eq "crash: 4 files done" "$(psql_q "SELECT count(*) FROM ingest_files WHERE status = 'done'")" 4
capture env SLUICE_FAULT=archive-before-dir-fsync:1 "${ARC[@]}" --once --min-age 0
expect_eq "crash: the fault point ends the archiver with 77" "$RC" 77
expect_match "crash: the fault point says where" "$ERR" \
    "fault point 'archive-before-dir-fsync' reached (pass 1)"
expect_eq "crash: a.csv was renamed into the clash suffix" "$(ls "$D/archive" | tr '\n' ' ')" "a.1.csv a.csv "
expect_eq "crash: nothing recorded yet" \
    "$(psql_q "SELECT count(*) FROM ingest_files WHERE archived_at IS NOT NULL")" 0
# Someone removes d.csv; someone replaces c.csv with a symlink to a copy of its content.
cp "$D/input/c.csv" "$WORK/c-copy.csv"
rm "$D/input/d.csv" "$D/input/c.csv"
ln -s "$WORK/c-copy.csv" "$D/input/c.csv"
capture "${ARC[@]}" --once --min-age 0
expect_eq "crash: the next pass exits 0" "$RC" 0
expect_eq "crash: it moved b.csv (a.csv was already moved)" "$OUT" "archived 1 files"
expect_eq "crash: the ledger knows where every file went" \
    "$(psql_q "SELECT file_name || '=' || coalesce(archived_as, '-') FROM ingest_files ORDER BY 1" | tr '\n' ' ')" \
    "a.csv=a.1.csv b.csv=b.csv c.csv=- d.csv=- "
expect_eq "crash: the archive holds a.1.csv a.csv b.csv" "$(ls "$D/archive" | tr '\n' ' ')" "a.1.csv a.csv b.csv "
check "crash: the older a.csv is untouched" grep -qx "older a" "$D/archive/a.csv"
check "crash: the symlink is not followed nor moved" test -L "$D/input/c.csv"
expect_eq "crash: the hot folder keeps only the symlink" "$(ls "$D/input" | tr '\n' ' ')" "c.csv "

# --- the loop: archives as files are committed, stops cleanly on SIGTERM ---------------------------
rm "$D/input/c.csv"
csv_file e.csv e-1
"${ARC[@]}" --min-age 0 >"$WORK/loop.out" 2>"$WORK/loop.err" &
APID=$!
capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$D/input" \
    --checkpoint-dir "$D/ck" --error-dir "$D/error"
for _ in $(seq 50); do
    [ -e "$D/archive/e.csv" ] && break
    sleep 0.1
done
check "loop: e.csv archived within 5 s of its commit" test -e "$D/archive/e.csv"
kill -TERM "$APID"
wait "$APID"
expect_eq "loop: SIGTERM exits 0" "$?" 0
expect_eq "loop: e.csv recorded" \
    "$(psql_q "SELECT archived_as FROM ingest_files WHERE file_name = 'e.csv'")" "e.csv"

# --- an identical re-drop: the same name and content, after it was loaded and archived ---------
cp "$D/archive/e.csv" "$D/input/e.csv"
capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$D/input" \
    --checkpoint-dir "$D/ck" --error-dir "$D/error"
expect_eq "re-drop: ingest exits 0" "$RC" 0
expect_eq "re-drop: logged once, at info, saying where it went" \
    "$(grep -c "'e.csv' was already loaded on .* as 'e.csv'; left in place for the archiver" <<<"$ERR")" 1
expect_eq "re-drop: no row loaded twice" "$(psql_q "SELECT count(*) FROM user_activity WHERE event_id = 'e-1'")" 1
capture "${ARC[@]}" --once --min-age 0
expect_eq "re-drop: the archiver moves it like any done file" "$OUT" "archived 1 files"
expect_eq "re-drop: the hot folder is empty" "$(ls "$D/input" | wc -l)" 0
expect_eq "re-drop: the ledger says where the copy went" \
    "$(psql_q "SELECT archived_as FROM ingest_files WHERE file_name = 'e.csv'")" "e.1.csv"

# --- a crash after the file was set aside under its hidden name ----------------------------------
csv_file f.csv f-1
capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$D/input" \
    --checkpoint-dir "$D/ck" --error-dir "$D/error"
capture env SLUICE_FAULT=archive-staged:1 "${ARC[@]}" --once --min-age 0
expect_eq "staged crash: the fault point ends the archiver with 77" "$RC" 77
expect_eq "staged crash: f.csv waits under its hidden name" \
    "$(ls -A "$D/input" | grep -c '^\.sluice-archiving\.')" 1
csv_file f.csv f-2 # a new file under the name
capture "${ARC[@]}" --once --min-age 0
expect_eq "staged crash: the next pass finishes the move" \
    "$(psql_q "SELECT archived_as FROM ingest_files WHERE file_name = 'f.csv' AND archived_at IS NOT NULL")" "f.csv"
check "staged crash: the archive has the loaded content" grep -q '^f-1,' "$D/archive/f.csv"
expect_eq "staged crash: the new file stays for the ingesters" "$(ls -A "$D/input")" "f.csv"
capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$D/input" \
    --checkpoint-dir "$D/ck" --error-dir "$D/error"
expect_eq "staged crash: the new content is loaded" \
    "$(psql_q "SELECT count(*) FROM user_activity WHERE event_id = 'f-2'")" 1
capture "${ARC[@]}" --once --min-age 0

# --- a pass that died after setting aside a file that had been replaced -----------------------
csv_file g.csv g-1
capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$D/input" \
    --checkpoint-dir "$D/ck" --error-dir "$D/error"
ghash=$(psql_q "SELECT content_hash FROM ingest_files WHERE file_name = 'g.csv'")
csv_file g.csv g-2 # new content renamed over the name before the set-aside
mv "$D/input/g.csv" "$D/input/.sluice-archiving.$ghash"
capture "${ARC[@]}" --once --min-age 0
expect_eq "replaced set-aside: the new file is given back under its name" \
    "$(ls -A "$D/input" | tr '\n' ' ')" "g.csv "
check "replaced set-aside: with its new content" grep -q '^g-2,' "$D/input/g.csv"
expect_eq "replaced set-aside: the loaded content is not marked archived" \
    "$(psql_q "SELECT count(*) FROM ingest_files WHERE file_name = 'g.csv' AND archived_at IS NOT NULL")" 0
capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$D/input" \
    --checkpoint-dir "$D/ck" --error-dir "$D/error"
expect_eq "replaced set-aside: the new content loads" \
    "$(psql_q "SELECT count(*) FROM user_activity WHERE event_id = 'g-2'")" 1
capture "${ARC[@]}" --once --min-age 0

# --- sluice run: everything together ------------------------------------------------------------
R=$WORK/run
psql_q "TRUNCATE user_activity, user_activity_errors, ingest_files"
capture "$SLUICE_BIN" run --db "$SLUICE_DB" --data-dir "$R" --seconds 3 --rate 2000 \
    --rows-per-file 100 --bad-ratio 0.02 --min-age 0
expect_eq "run --seconds 3 exits 0" "$RC" 0
generated=$(grep -o 'generated [0-9]* rows' <<<"$ERR" | grep -o '[0-9]*')
check "run generated rows" test "${generated:-0}" -gt 1000
expect_eq "run: every generated row is in one of the tables" \
    "$(psql_q "SELECT (SELECT count(*) FROM user_activity) + (SELECT count(*) FROM user_activity_errors)")" \
    "$generated"
expect_eq "run: the hot folder is empty (all archived)" "$(ls "$R/input" | wc -l)" 0
expect_eq "run: every file archived" \
    "$(psql_q "SELECT count(*) FILTER (WHERE archived_at IS NULL), count(*) > 10 FROM ingest_files")" "0|t"
check "run: metrics file written" grep -q '^sluice_rows_loaded_total ' "$R/checkpoints/metrics.prom"

finish
