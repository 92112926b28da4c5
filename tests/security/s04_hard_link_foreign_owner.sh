#!/usr/bin/env bash
# s04_hard_link_foreign_owner.sh - issue 9, item 4: sluice runs as root; the hot folder belongs
# to the producer. A hard link to a root-only 0600 file appears in the hot folder, and a file
# owned by another user; reading either as root would put data the producer cannot read into
# the tables or the dead letters' raw_line. (With fs.protected_hardlinks=1 the producer cannot
# make that link itself, so root makes it here, standing in for a system where it can.) Also,
# quarantine across filesystems used to leave copies 0644 root. Safe outcome: both files are
# quarantined without being read (no byte of them in any table or log), the producer's own files
# load, and a quarantined copy on another filesystem keeps the source's mode and owner.
source "$(dirname "$0")/lib_security.sh"
pg_start
D=$WORK/data
hot_folder "$D/input"
other_fs_dir
{ echo "$HEADER"; rows SECRET 2; } >"$WORK/secret.csv"
chmod 600 "$WORK/secret.csv"
secret_before=$(stat -c '%U %a %s %Y' "$WORK/secret.csv")
if ! as_producer ln "$WORK/secret.csv" "$D/input/steal.csv" 2>/dev/null; then
    ln "$WORK/secret.csv" "$D/input/steal.csv"
fi
{ echo "$HEADER"; rows FOREIGN 2; } >"$D/input/foreign.csv"
chown 12345:12345 "$D/input/foreign.csv"
{ echo "$HEADER"; rows ok 2; } | drop_as_producer "$D/input" ok.csv
printf 'no header here\n' | drop_as_producer "$D/input" private_bad.csv
as_producer chmod 600 "$D/input/private_bad.csv"

capture timeout -k 2 60 "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$D/input" \
    --checkpoint-dir "$D/ck" --error-dir "$SHM/error"
expect_eq "ingest --once exits 0" "$RC" 0
expect_eq "the producer's file loads" \
    "$(psql_q "SELECT string_agg(event_id, ',' ORDER BY event_id) FROM user_activity")" "ok1,ok2"
expect_eq "nothing of the linked or foreign file in any table" \
    "$(psql_q "SELECT (SELECT count(*) FROM user_activity WHERE event_id ~ 'SECRET|FOREIGN')
                    + (SELECT count(*) FROM user_activity_errors WHERE raw_line ~ 'SECRET|FOREIGN')")" 0
expect_eq "nor in the log" "$(grep -c 'SECRET[0-9]\|FOREIGN[0-9]' <<<"$ERR")" 0
expect_eq "both are quarantined" "$(cd "$SHM/error" && ls steal.csv foreign.csv 2>&1 | tr '\n' ' ')" \
    "foreign.csv steal.csv "
expect_eq "the ledger says why, not what they hold" \
    "$(psql_q "SELECT count(*) FROM ingest_files WHERE file_name IN ('steal.csv', 'foreign.csv')
               AND (rows_loaded > 0 OR rows_rejected > 1)")" 0
expect_eq "the quarantined copy of the linked file is still root's and 0600" \
    "$(stat -c '%U %a' "$SHM/error/steal.csv" 2>&1)" "root 600"
expect_eq "the original is untouched" "$(stat -c '%U %a %s %Y' "$WORK/secret.csv")" "$secret_before"
expect_eq "a quarantined copy across filesystems keeps mode and owner" \
    "$(stat -c '%U %a' "$SHM/error/private_bad.csv" 2>&1)" "nobody 600"
finish
