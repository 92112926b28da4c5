#!/usr/bin/env bash
# bench/fallback_cost.sh - what careful mode (the fallback for rows the server refuses) costs, in
# rows/s, on the seed table with a BEFORE INSERT trigger that costs the same in every run and
# refuses rows by a knob (two settings of the ingester's sessions, given in PGOPTIONS):
#   direct          no row refused: every batch on the usual path
#   careful clean   the first row of the first file refused: that batch fails once and is redone
#                   in careful mode, and the batches after it stay careful (no row refused)
#   careful 1/1000  the trigger refuses 1 row in 1,000 (hash of event_id): every batch careful
# Each run loads the same files into emptied tables with one worker; ROUNDS rounds alternate the
# runs. Printed: the median over all batches of a kind of their rows/s (the batch that met the
# first refusal left out), and the median of the whole runs' rows/s (which include that batch's
# failed direct attempt). The server keeps its default durability (fsync on). Writes nothing.
#
#   FILES=30 ROWS_PER_FILE=20000 BATCH_BYTES=4000000 ROUNDS=3 bench/fallback_cost.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SLUICE=${SLUICE_BIN:-build/sluice}
FILES=${FILES:-30}
ROWS_PER_FILE=${ROWS_PER_FILE:-20000}
BATCH_BYTES=${BATCH_BYTES:-4000000}
ROUNDS=${ROUNDS:-3}

work=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench.XXXXXX")" && pwd -P)
chmod 755 "$work"
port=$((20000 + RANDOM % 20000))
[ -n "${KEEP:-}" ] || trap '"$SLUICE" db stop --pg-dir "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
db=$("$SLUICE" db start --pg-dir "$work/pg" --pg-port "$port" 2>/dev/null)
q() { psql -XAtq -d "$db" -v ON_ERROR_STOP=1 -c "$1"; }
q "CREATE FUNCTION bench_guard() RETURNS trigger LANGUAGE plpgsql AS \$\$
    DECLARE one_in int := current_setting('bench.one_in')::int;
    BEGIN
        IF NEW.event_id = current_setting('bench.refuse')
           OR (one_in > 0 AND abs(hashtext(NEW.event_id)::bigint) % one_in = 0) THEN
            RAISE EXCEPTION 'refused by the bench trigger';
        END IF;
        RETURN NEW;
    END \$\$
   ;CREATE TRIGGER bench_guard BEFORE INSERT ON user_activity
    FOR EACH ROW EXECUTE FUNCTION bench_guard()" >/dev/null
"$SLUICE" generate --input-dir "$work/files" --temp-dir "$work/tmp" --files "$FILES" \
    --rows-per-file "$ROWS_PER_FILE" --bad-ratio 0 --seed 7 --interval 0 --log-level warn
rows=$((FILES * ROWS_PER_FILE))

# run NAME ONE_IN REFUSE: copy the files to a fresh hot folder and load them once with the
# trigger's knob set; appends the batches' rows/s to $work/NAME.batches (the batch that met the
# first refusal left out) and the whole run's rows/s to $work/NAME.runs.
run() {
    q "TRUNCATE user_activity, user_activity_errors, ingest_files; CHECKPOINT"
    rm -rf "$work/in" "$work/ck" && cp -r "$work/files" "$work/in"
    local t0 t1
    t0=$(date +%s%N)
    PGOPTIONS="-c bench.one_in=$2 -c bench.refuse=$3" "$SLUICE" ingest --once --db "$db" --input-dir "$work/in" --checkpoint-dir "$work/ck" \
        --error-dir "$work/err" --batch-bytes "$BATCH_BYTES" --workers 1 --log-level info \
        2>"$work/$1.log"
    t1=$(date +%s%N)
    echo $((rows * 1000000000 / (t1 - t0))) >>"$work/$1.runs"
    awk '/refused a row of the batch/ && !seen { seen = 1; skip = 1; next }
         /batch committed/ { if (skip) { skip = 0; next }
             match($0, /rows\/s=[0-9]+/); print substr($0, RSTART + 7, RLENGTH - 7) }' \
        "$work/$1.log" >>"$work/$1.batches"
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }

first=$(ls "$work/files" | head -n 1)
first_id=$(sed -n 2p "$work/files/$first" | cut -d, -f1)
for ((round = 1; round <= ROUNDS; round++)); do
    run direct 0 none
    run clean 0 "$first_id"
    run thousand 1000 none
done
refused=$(q "SELECT count(*) FROM user_activity_errors WHERE error_code = 'db_rejected'")

echo "fallback cost: $FILES files x $ROWS_PER_FILE rows, --batch-bytes $BATCH_BYTES, $ROUNDS rounds"
printf '%-30s %16s %16s\n' "" "batch rows/s" "run rows/s"
for k in "direct direct, none refused" "clean careful, none refused" "thousand careful, 1 in 1,000"; do
    printf '%-30s %16s %16s\n' "${k#* }" "$(median <"$work/${k%% *}.batches")" \
        "$(median <"$work/${k%% *}.runs")"
done
echo "rows refused in the last 1/1000 run: $refused of $rows"
