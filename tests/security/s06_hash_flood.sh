#!/usr/bin/env bash
# s06_hash_flood.sh - issue 9, item 6: the producer names its files so that they all fall into
# one bucket of the ingester's file table under the unkeyed FNV-1a hash it used (computed
# offline, as an attacker would). Every insert and every rescan's lookup then walked past all
# earlier names: quadratic work (the issue measured 5x the run time for 60k names). Safe outcome:
# the table is keyed with a per-process secret, so the crafted names cost what any names cost:
# `ingest --once` over 30,000 of them stays under 2.5 s of CPU (the unkeyed table needs about
# 0.45 billion probes to insert them, and as many again for each full listing). Measured on the
# 2-core test machine: 3.9 s unkeyed, 1.1 s keyed. CPU time depends on the machine and on
# sanitizers, so the exact proof is tests/unit/test_keyed_hash.c, which counts probes; this
# script shows the effect on the real binary. It is slow (5 to 10 minutes at 30,000 names) and
# not registered in CMake; NFILES=3000 runs it in about a minute (no attack at that size).
source "$(dirname "$0")/lib_security.sh"
pg_start
D=$WORK/data
hot_folder "$D/input"
NFILES=${NFILES:-30000}
# Names whose FNV-1a hash has its low 16 bits zero: one bucket in tables of up to 65536 slots.
cc -O2 -x c -o "$WORK/craft" - <<'C' || exit 1
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
    long want = atol(argv[1]), found = 0;
    char name[64];
    for (unsigned long c = 0; found < want; c++) {
        int n = snprintf(name, sizeof(name), "h%lu.csv", c);
        uint64_t h = 1469598103934665603ULL;
        for (int i = 0; i < n; i++)
            h = (h ^ (unsigned char)name[i]) * 1099511628211ULL;
        if ((h & 0xffff) == 0) {
            puts(name);
            found++;
        }
    }
    return 0;
}
C
"$WORK/craft" "$NFILES" >"$WORK/names"
chmod 644 "$WORK/names"
as_producer bash -c 'while read -r n; do printf "%s\n" "$2" >"$1/$n"; done <"$3"' _ \
    "$D/input" "$HEADER" "$WORK/names"
expect_eq "crafted files in the hot folder" "$(ls "$D/input" | wc -l)" "$NFILES"

capture /usr/bin/time -f '%U %S' -o "$WORK/cpu" timeout -k 2 300 "$SLUICE_BIN" ingest --once \
    --db "$SLUICE_DB" --input-dir "$D/input" --checkpoint-dir "$D/ck" --error-dir "$D/error" \
    --workers 1
expect_eq "ingest --once exits 0" "$RC" 0
expect_eq "every crafted file is handled" \
    "$(psql_q "SELECT count(*) FROM ingest_files WHERE status = 'done'")" "$NFILES"
used=$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$WORK/cpu")
echo "       ingest --once: ${used} ms of CPU for ${NFILES} crafted names"
expect_eq "CPU stays under 2.5 s (${used} ms)" "$((used < 2500))" 1
finish
