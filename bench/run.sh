#!/usr/bin/env bash
# bench/run.sh - sluice against PostgreSQL's own `psql \copy` and pgloader, on this machine, in
# the same run; prints one table and writes it to BENCHMARKS.md (regenerated, never hand-edited).
#
#   ROWS=1000000 FILES=500 ROUNDS=3 LATENCY_SECONDS=30 LATENCY_RATE=10000 make bench
#
# Every contender loads the same rows into the same table (sql/postgres_setup.sql: varchar
# primary key and the event_time index), truncated before each run, on one throwaway cluster
# with the server's default durability (fsync on, synchronous_commit on). Contenders alternate
# within a round; the table gives medians over the rounds. Times are wall-clock seconds of the
# whole command; peak RSS is /usr/bin/time's maximum resident set size of the client.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SLUICE=${SLUICE_BIN:-build/sluice}
ROWS=${ROWS:-1000000}
FILES=${FILES:-500}
ROUNDS=${ROUNDS:-3}
LATENCY_SECONDS=${LATENCY_SECONDS:-30}
LATENCY_RATE=${LATENCY_RATE:-10000}
OUT=${BENCH_OUT:-BENCHMARKS.md}

work=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench.XXXXXX")" && pwd -P)
chmod 755 "$work"
port=$((20000 + RANDOM % 20000))
trap '"$SLUICE" db stop --pg-dir "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
db=$("$SLUICE" db start --pg-dir "$work/pg" --pg-port "$port" 2>/dev/null)
psql -Xq -d "$db" -v ON_ERROR_STOP=1 -f sql/postgres_setup.sql >/dev/null
q() { psql -XAtq -d "$db" -v ON_ERROR_STOP=1 -c "$1"; }

echo "bench: making data ($ROWS rows)" >&2
per=$((ROWS / FILES))
gen() { # gen DIR FILES ROWS_PER_FILE BAD_RATIO
    "$SLUICE" generate --input-dir "$1" --temp-dir "$work/tmp" --files "$2" --rows-per-file "$3" \
        --interval 0 --bad-ratio "$4" --seed 42 --log-level warn
}
gen "$work/clean" "$FILES" "$per" 0
gen "$work/bad5" "$FILES" "$per" 0.05
gen "$work/single" 1 "$ROWS" 0
{
    head -n 1 "$work/single/"*.csv
    for f in "$work/clean/"*.csv; do tail -n +2 "$f"; done
} >"$work/all.csv"
tail -n +2 "$work/all.csv" >"$work/body.csv"
split -n l/2 "$work/body.csv" "$work/half."
rm "$work/body.csv"
gen_t0=$(date +%s%N)
"$SLUICE" generate --input-dir "$work/genspeed" --temp-dir "$work/tmp" --files 10 \
    --rows-per-file $((ROWS / 10)) --interval 0 --seed 1 --log-level warn
gen_rate=$(awk -v n="$ROWS" -v ns=$(($(date +%s%N) - gen_t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
rm -rf "$work/genspeed"

# timed NAME CMD...: run CMD under /usr/bin/time; append "NAME seconds rss_kb" to results.
timed() {
    local name=$1
    shift
    q "TRUNCATE user_activity, user_activity_errors, ingest_files"
    q "CHECKPOINT"
    local t0 t1 rss
    t0=$(date +%s%N)
    rss=$(/usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -n 1)
    t1=$(date +%s%N)
    echo "$name $(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f", ns / 1e9 }') $rss" >>"$work/results"
    echo "bench: $name $(tail -n 1 "$work/results" | cut -d' ' -f2) s, loaded $(q "SELECT count(*) FROM user_activity")" >&2
}
ingest() { # ingest DIR [options]
    local dir=$1
    shift
    rm -rf "$work/ck"
    timed "$@" "$SLUICE" ingest --once --db "$db" --input-dir "$dir" --checkpoint-dir "$work/ck" \
        --error-dir "$work/err" --log-level warn
}
pgloader_url="postgresql://$(q 'SELECT current_user')@unix:$work/pg:$port/ecommerce_db?tablename=user_activity"

for ((r = 1; r <= ROUNDS; r++)); do
    echo "bench: round $r of $ROUNDS" >&2
    timed copy psql -Xq -d "$db" -c "\\copy user_activity FROM '$work/all.csv' CSV HEADER"
    ingest "$work/clean" sluice
    timed copy2 bash -c "psql -Xq -d '$db' -c \"\\copy user_activity FROM '$work/half.aa' CSV\" &
        psql -Xq -d '$db' -c \"\\copy user_activity FROM '$work/half.ab' CSV\" & wait"
    ingest "$work/bad5" sluice_bad5
    ingest "$work/single" sluice_single
    timed pgloader pgloader --type csv --field "event_id,event_time,event_type,product_id,price,user_id,session_id" \
        --with "skip header = 1" --with "fields terminated by ','" "$work/all.csv" "$pgloader_url"
done

median() { # median NAME FIELD
    awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$work/results" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Latency: the generator at LATENCY_RATE events/s in 100-row files while ingest runs.
echo "bench: latency, $LATENCY_RATE events/s for ${LATENCY_SECONDS}s" >&2
q "TRUNCATE user_activity, user_activity_errors, ingest_files"
rm -rf "$work/ck" "$work/lat"
mkdir -p "$work/lat"
/usr/bin/time -f '%M' -o "$work/lat.rss" "$SLUICE" ingest --db "$db" --input-dir "$work/lat" \
    --checkpoint-dir "$work/ck" --error-dir "$work/err" --log-level warn &
ing=$!
sleep 1
"$SLUICE" generate --input-dir "$work/lat" --temp-dir "$work/tmp" --files $((LATENCY_SECONDS * LATENCY_RATE / 100)) \
    --rows-per-file 100 --rate "$LATENCY_RATE" --log-level warn
sleep 2
pkill -TERM -P "$ing" # the ingester, child of /usr/bin/time
wait "$ing" || true
lat=$(q "WITH l AS (SELECT extract(epoch FROM committed_at - file_mtime) * 1000 AS ms FROM ingest_files)
         SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) || ' ' ||
                round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1) || ' ' ||
                round(max(ms)::numeric, 1) || ' ' || count(*) FROM l")
read -r p50 p99 pmax lfiles <<<"$lat"
lat_rss=$(tail -n 1 "$work/lat.rss")

copy=$(median copy 2)
row() { # row LABEL NAME
    local t rss
    t=$(median "$2" 2)
    rss=$(median "$2" 3)
    awk -v l="$1" -v t="$t" -v rss="$rss" -v c="$copy" -v n="$ROWS" 'BEGIN {
        printf "| %s | %.2f | %.0f | %.2f | %.1f |\n", l, t, n / t, t / c, rss / 1024 }'
}
bad_cost=$(awk -v a="$(median sluice_bad5 2)" -v b="$(median sluice 2)" 'BEGIN { printf "%+.0f%%", (a / b - 1) * 100 }')
{
    echo "# Benchmarks"
    echo
    echo "Generated by \`make bench\` (bench/run.sh) on $(date -u +%Y-%m-%d); do not edit by hand."
    echo
    echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(postgres --version 2>/dev/null || "$(pg_config --bindir 2>/dev/null)/postgres" --version 2>/dev/null || echo PostgreSQL), $(uname -sr)."
    echo "Server: a throwaway cluster on a unix socket, default durability (fsync on, synchronous_commit on)."
    echo "Data: $ROWS rows from \`sluice generate\` ($FILES files of $per rows; the same rows as one file for \\copy and pgloader); $ROUNDS rounds, contenders alternated, medians."
    echo
    echo "| contender | seconds | rows/s | time / \\copy | peak RSS MB |"
    echo "| --- | ---: | ---: | ---: | ---: |"
    row "psql \\copy, one file" copy
    row "psql \\copy, two parallel streams" copy2
    row "sluice ingest --once, $FILES files" sluice
    row "sluice, $FILES files, 5% invalid rows" sluice_bad5
    row "sluice, one file of $ROWS rows" sluice_single
    row "pgloader, one file" pgloader
    echo
    echo "- dead-letter path (5% invalid rows) costs $bad_cost of sluice's time on clean rows"
    echo "- latency, file written to rows committed, at $LATENCY_RATE events/s in 100-row files for ${LATENCY_SECONDS}s ($lfiles files): p50 $p50 ms, p99 $p99 ms, max $pmax ms; peak RSS $(awk -v k="$lat_rss" 'BEGIN { printf "%.1f", k / 1024 }') MB"
    echo "- generator, unpaced: $gen_rate events/s"
    if [ -f bench/PROFILE.md ]; then
        echo
        cat bench/PROFILE.md
    fi
} >"$OUT"
cat "$OUT"
