# lib_chaos.sh - what the chaos scenarios share: the sizes (CHAOS=full for `make chaos`, quick
# otherwise), a throwaway cluster with the schema, waves of generated files with their
# manifests, a clean final pass (ingest --once, archive --once), and the exactly-once check.
# Sourced by each scenario script; it sources tests/integration/lib.sh (which gives $WORK,
# pg_start, psql_q, expect_eq...).
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

if [ "${CHAOS:-quick}" = full ]; then
    FAULT_RUNS=20 KILLS=200 KILL_FILES=200 KILL_ROWS=2000 PG_CRASHES=20 STALL_S=30
    OVERFLOW_FILES=20000 ARCHIVER_KILLS=100 LIVENESS_MB=1024
else
    FAULT_RUNS=${FAULT_RUNS:-2} KILLS=${KILLS:-15} KILL_FILES=${KILL_FILES:-30}
    KILL_ROWS=${KILL_ROWS:-500} PG_CRASHES=${PG_CRASHES:-3} STALL_S=${STALL_S:-4}
    OVERFLOW_FILES=${OVERFLOW_FILES:-0} ARCHIVER_KILLS=${ARCHIVER_KILLS:-10}
    LIVENESS_MB=${LIVENESS_MB:-120}
fi
pg_start
psql -Xq -v ON_ERROR_STOP=1 -f "$SLUICE_SRC/sql/postgres_setup.sql" >/dev/null

D=$WORK/data
IN=$D/input
mkdir -p "$IN" "$D/manifests"
WAVE=0
export LOCK_TIMEOUT=${LOCK_TIMEOUT:-5}

# wave FILES ROWS: generate FILES files of ROWS rows (1% invalid) into the hot folder.
wave() {
    WAVE=$((WAVE + 1))
    "$SLUICE_BIN" generate --input-dir "$IN" --temp-dir "$D/temp" --files "$1" \
        --rows-per-file "$2" --interval 0 --bad-ratio "${BAD_RATIO:-0.01}" \
        --seed "$((RANDOM * 32768 + RANDOM + WAVE))" --manifest "$D/manifests/$WAVE.json" \
        --log-level warn
}

# Sum a key over every manifest (prices as cents).
manifest_sum() {
    cat "$D/manifests/"*.json 2>/dev/null | grep -o "\"$1\": *\"\?[0-9.]*" |
        sed 's/.*[": ]//' | awk -v cents="${2:-}" '{ if (cents) { split($1, p, "."); s += p[1] * 100 + p[2] } else s += $1 }
            END { if (cents) { w = int(s / 100); printf "%.0f.%02.0f\n", w, s - w * 100 }
                  else printf "%.0f\n", s }'
}

# ingest_fg ARGS / ingest_bg ARGS: the ingester on the hot folder, in the foreground or in the
# background ($! is then its pid). CK names its checkpoint folder (two ingesters need two).
ingest_fg() {
    "$SLUICE_BIN" ingest --db "$SLUICE_DB" --input-dir "$IN" --checkpoint-dir "$D/ck${CK:-}" \
        --error-dir "$D/error" "$@"
}
ingest_bg() {
    "$SLUICE_BIN" ingest --db "$SLUICE_DB" --input-dir "$IN" --checkpoint-dir "$D/ck${CK:-}" \
        --error-dir "$D/error" "$@" &
}

# The clean pass after the chaos: whatever is left is loaded and archived.
final_pass() {
    ingest_fg --once --log-level warn
    "$SLUICE_BIN" archive --once --min-age 0 --db "$SLUICE_DB" --input-dir "$IN" \
        --archive-dir "$D/archive" --log-level warn >/dev/null
}

# exactly_once NAME: every generated row is in exactly one table, once; every file done and
# archived; nothing stranded. Prints the figures.
exactly_once() {
    local name=$1
    local files rows valid invalid psum loaded distinct rejected lsum nfiles ndone narch left
    files=$(manifest_sum files)
    rows=$(manifest_sum rows)
    valid=$(manifest_sum valid)
    invalid=$(manifest_sum invalid)
    psum=$(manifest_sum valid_price_sum 1)
    IFS='|' read -r loaded distinct lsum <<<"$(psql_q "SELECT count(*), count(DISTINCT event_id),
        coalesce(sum(price), 0) FROM user_activity")"
    rejected=$(psql_q "SELECT count(*) FROM user_activity_errors")
    IFS='|' read -r nfiles ndone narch <<<"$(psql_q "SELECT count(*), count(*) FILTER (WHERE status = 'done'),
        count(*) FILTER (WHERE archived_at IS NOT NULL) FROM ingest_files")"
    left=$(find "$IN" -type f | wc -l)
    local lost=$((valid - distinct)) dup=$((loaded - distinct))
    [ "$lost" -lt 0 ] && lost=0
    echo "$name: rows expected $rows (valid $valid, invalid $invalid), loaded $loaded," \
        "rejected $rejected, lost $lost, duplicated $dup; files $files, done $ndone," \
        "archived $narch, stranded $left"
    expect_eq "$name: count(*) = valid rows" "$loaded" "$valid"
    expect_eq "$name: count(distinct event_id) = count(*)" "$distinct" "$loaded"
    expect_eq "$name: sum(price) exact" "$lsum" "$psum"
    expect_eq "$name: dead letters = invalid rows" "$rejected" "$invalid"
    expect_eq "$name: every file done" "$nfiles|$ndone" "$files|$files"
    expect_eq "$name: every file archived" "$narch" "$files"
    expect_eq "$name: nothing stranded in the hot folder" "$left" 0
    expect_eq "$name: archive holds every file" "$(find "$D/archive" -type f | wc -l)" "$files"
}

# reset: empty tables and folders for the next scenario.
reset() {
    psql_q "TRUNCATE user_activity, user_activity_errors, ingest_files"
    rm -rf "$D"
    mkdir -p "$IN" "$D/manifests"
    WAVE=0
}

# rand_ms LO HI: a random number of milliseconds, as seconds for sleep.
rand_sleep() {
    local ms=$(($1 + RANDOM % ($2 - $1 + 1)))
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
}

# wait_exit PID SECONDS: wait for PID, at most SECONDS; sets EXIT_RC to its exit status, or to
# "timeout" (then it is killed). Not in a subshell: only the parent shell can reap the process.
wait_exit() {
    local pid=$1 limit=$2 i
    EXIT_RC=timeout
    for ((i = 0; i < limit * 20; i++)); do
        if ! kill -0 "$pid" 2>/dev/null || [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ]; then
            wait "$pid"
            EXIT_RC=$?
            return
        fi
        sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}


# copy_in_flight: an ingester's COPY is running right now.
copy_in_flight() {
    [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE
        'sluice-ingest%' AND query LIKE 'COPY%' AND state <> 'idle'")" != 0 ]
}

# files_done: how many ledger rows are done.
files_done() {
    psql_q "SELECT count(*) FROM ingest_files WHERE status = 'done'"
}
