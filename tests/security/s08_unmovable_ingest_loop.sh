#!/usr/bin/env bash
# s08_unmovable_ingest_loop.sh - issue 9, item 8, the ingester's half: the producer plants a
# symlink while the error folder is on another filesystem, so quarantining it (a symlink cannot
# be copied across) fails every time. Safe outcome: ingest --once finishes and exits 0 with the
# other files loaded, and the failure is logged at most once per file per minute (the issue saw
# 480,000 lines in 3 s; src/retry_limit.c is the limiter to use).
source "$(dirname "$0")/lib_security.sh"
pg_start
D=$WORK/data
hot_folder "$D/input"
other_fs_dir
{ echo "$HEADER"; rows ok 2; } | drop_as_producer "$D/input" ok.csv
as_producer ln -s /etc/hostname "$D/input/link.csv"

capture timeout -k 2 20 "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$D/input" \
    --checkpoint-dir "$D/ck" --error-dir "$SHM/error" --rescan-interval 0.1
expect_eq "ingest --once finishes and exits 0" "$RC" 0
expect_eq "the other file loads" "$(psql_q "SELECT count(*) FROM user_activity")" 2
nlines=$(grep -c "link.csv" <<<"$ERR")
expect_eq "the symlink's failure is logged once (got $nlines lines)" "$((nlines >= 1 && nlines <= 2))" 1
check "the symlink is left in place" test -L "$D/input/link.csv"

finish
