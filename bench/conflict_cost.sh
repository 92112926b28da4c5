#!/usr/bin/env bash
# bench/conflict_cost.sh - what --on-conflict skip and update cost against reject: the same files
# (REPEAT_PCT of the rows carry the key of an earlier row, in the same file or an earlier one)
# loaded by `sluice ingest --once` into an empty seed table, each mode ROUNDS times, the modes
# alternating within a round; rows/s = data rows / wall seconds of the whole command, median over
# the rounds. Also reject and update on the same rows without repeats (what update mode costs
# when nothing conflicts: every batch goes through the staging table). Writes bench/CONFLICT.md.
#
#   ROWS=400000 FILES=80 ROUNDS=3 REPEAT_PCT=10 bench/conflict_cost.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SLUICE=${SLUICE_BIN:-build/sluice}
ROWS=${ROWS:-400000}
FILES=${FILES:-80}
ROUNDS=${ROUNDS:-3}
REPEAT_PCT=${REPEAT_PCT:-10}
OUT=${BENCH_OUT:-bench/CONFLICT.md}

work=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/sluice-conflict.XXXXXX")" && pwd -P)
chmod 755 "$work"
port=$((20000 + RANDOM % 20000))
trap '"$SLUICE" db stop --pg-dir "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
db=$("$SLUICE" db start --pg-dir "$work/pg" --pg-port "$port" 2>/dev/null)
psql -Xq -d "$db" -v ON_ERROR_STOP=1 -f sql/postgres_setup.sql >/dev/null
q() { psql -XAtq -d "$db" -v ON_ERROR_STOP=1 -c "$1"; }

echo "conflict_cost: making data ($ROWS rows, $REPEAT_PCT% repeated keys)" >&2
per=$((ROWS / FILES))
ROWS=$((per * FILES))
"$SLUICE" generate --input-dir "$work/unique" --temp-dir "$work/tmp" --files "$FILES" \
    --rows-per-file "$per" --interval 0 --bad-ratio 0 --seed 7 --log-level warn
mkdir -p "$work/repeat"
# Give REPEAT_PCT% of the rows (after the first file's first row) the key of a random earlier row.
i=0
for f in $(ls "$work/unique/"*.csv | sort); do
    i=$((i + 1))
    awk -F, -v OFS=, -v pct="$REPEAT_PCT" -v seed="$i" -v keys="$work/keys" '
        BEGIN { srand(seed); while ((getline k < keys) > 0) seen[n++] = k; close(keys) }
        FNR == 1 { print; next }
        { if (n > 0 && rand() * 100 < pct) $1 = seen[int(rand() * n)]; else seen[n++] = $1; print }
        END { for (j = 0; j < n; j++) print seen[j] > keys }' "$f" >"$work/repeat/$(basename "$f")"
done
repeats=$(cat "$work/repeat/"*.csv | grep -v '^event_id' | cut -d, -f1 | sort | uniq -d -c |
    awk '{ s += $1 - 1 } END { print s + 0 }')

# run NAME DIR ARGS...: one timed ingest of DIR's files into empty tables; prints rows/s.
run() {
    local dir=$2
    shift 2
    q "TRUNCATE user_activity, user_activity_errors, ingest_files" >/dev/null
    rm -rf "$work/in" "$work/ck"
    mkdir -p "$work/in"
    cp "$dir/"*.csv "$work/in/"
    local t0 t1
    t0=$(date +%s%N)
    "$SLUICE" ingest --once --db "$db" --input-dir "$work/in" --checkpoint-dir "$work/ck" \
        --error-dir "$work/err" --log-level warn "$@" >/dev/null
    t1=$(date +%s%N)
    local sum
    sum=$(q "SELECT sum(rows_loaded + rows_rejected + rows_skipped + rows_updated) FROM ingest_files")
    [ "$sum" == "$ROWS" ] || { echo "conflict_cost: $1: the ledger counts $sum of $ROWS rows" >&2; exit 1; }
    awk -v n="$ROWS" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }'
}

names=("reject, no repeats" "update, no repeats" "reject" "skip" "update" "update + guard")
declare -A results
for ((r = 1; r <= ROUNDS; r++)); do
    echo "conflict_cost: round $r of $ROUNDS" >&2
    results[0]+=" $(run a "$work/unique" --on-conflict reject)"
    results[1]+=" $(run b "$work/unique" --on-conflict update)"
    results[2]+=" $(run c "$work/repeat" --on-conflict reject)"
    results[3]+=" $(run d "$work/repeat" --on-conflict skip)"
    results[4]+=" $(run e "$work/repeat" --on-conflict update)"
    results[5]+=" $(run f "$work/repeat" --on-conflict update \
        --update-if "EXCLUDED.event_time > user_activity.event_time")"
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
base=$(median "${results[2]}")

{
    echo "# The cost of --on-conflict"
    echo
    echo "Written by \`bench/conflict_cost.sh\` (regenerated, never hand-edited) on $(date -u +%Y-%m-%d)."
    echo "$ROWS rows in $FILES files; in the \"repeat\" files $repeats rows ($REPEAT_PCT% drawn) carry"
    echo "the key of an earlier row, in the same file or an earlier one. \`sluice ingest --once\` with"
    echo "its defaults (2 workers, 16 MiB batches) into an empty seed table, fsync and"
    echo "synchronous_commit on; rows/s = rows / wall seconds of the whole command, median of $ROUNDS."
    echo
    echo "**The machine was shared and loaded** ($(nproc) cores, load average at the end:"
    echo "$(cut -d' ' -f1-3 /proc/loadavg)): compare the rows within this table, not with other runs."
    echo
    echo "Reading it: update mode sends every batch through the staging table and one upsert"
    echo "(\"update, no repeats\" against \"reject, no repeats\" is that price when nothing conflicts);"
    echo "reject and skip stay on the direct COPY until a key already loaded fails it, then redo the"
    echo "batch through staging (and the next batches, while repeats keep coming), where the staged"
    echo "rows are inserted in key order with ON CONFLICT (key) DO NOTHING and a row whose key another"
    echo "worker committed meanwhile is routed like any repeat: two workers on overlapping keys wait"
    echo "for each other instead of deadlocking. The dead letters of reject are written by SQL there."
    echo
    echo "| mode | files | rows/s (median) | runs | vs reject on the same files |"
    echo "| --- | --- | ---: | --- | ---: |"
    for k in 0 1 2 3 4 5; do
        m=$(median "${results[$k]}")
        same=$base
        [ "$k" -lt 2 ] && same=$(median "${results[0]}")
        files=repeat
        [ "$k" -lt 2 ] && files=unique
        printf '| %s | %s | %s | %s | %s |\n' "${names[$k]}" "$files" "$m" "${results[$k]# }" \
            "$(awk -v a="$m" -v b="$same" 'BEGIN { printf "%.2fx", a / b }')"
    done
} >"$OUT"
cat "$OUT"
