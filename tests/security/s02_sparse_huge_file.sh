#!/usr/bin/env bash
# s02_sparse_huge_file.sh - issue 9, item 2: the producer drops a 20 GiB sparse file (and a
# 15 TiB one where the filesystem allows it) to stall a worker: the whole file used to be hashed
# before the --max-file-bytes check (59 s for 20 GiB, hours for 15 TiB). Safe outcome: files over
# the limit, and sparse files under a generous limit, are quarantined from their fstat without a
# byte read, so ingest --once ends in seconds with the ordinary file loaded.
source "$(dirname "$0")/lib_security.sh"
pg_start
D=$WORK/data
hot_folder "$D/input"
{ echo "$HEADER"; rows ok 2; } | drop_as_producer "$D/input" ok.csv
as_producer truncate -s 20G "$D/input/huge.csv"
as_producer truncate -s 15T "$D/input/enormous.csv" 2>/dev/null || true
# Reading 20 GiB of holes takes about a minute here: 20 s is far more than a fstat needs.
capture timeout -k 2 20 "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$D/input" \
    --checkpoint-dir "$D/ck" --error-dir "$D/error" --max-file-bytes 1000000000
expect_eq "over the limit: ingest --once ends within 20 s, exit 0" "$RC" 0
expect_eq "the ordinary file loaded" "$(psql_q "SELECT count(*) FROM user_activity")" 2
check "the 20 GiB file is quarantined" test -f "$D/error/huge.csv"
check "nothing of it is left in the hot folder" test ! -e "$D/input/huge.csv"

# Under a limit it does not exceed, a sparse file is still refused.
as_producer truncate -s 20G "$D/input/holes.csv"
capture timeout -k 2 20 "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$D/input" \
    --checkpoint-dir "$D/ck" --error-dir "$D/error" --max-file-bytes 100000000000
expect_eq "sparse under the limit: ingest --once ends within 20 s, exit 0" "$RC" 0
check "the sparse file is quarantined" test -f "$D/error/holes.csv"
expect_match "the reason names it sparse" "$ERR" "sparse"
finish
