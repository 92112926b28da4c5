#!/usr/bin/env bash
# bench/run.sh - sluice against PostgreSQL's own `psql \copy` and pgloader, on this machine, in
# the same run; prints its tables and writes them to BENCHMARKS.md (regenerated, never
# hand-edited).
#
#   ROWS=1000000 FILES=500 ROUNDS=3 LATENCY_SECONDS=30 LATENCY_RATE=10000 make bench
#   RATE_STEPS="50000 100000 150000 200000 300000 400000" RATE_FILE_ROWS=1000 RATE_SECONDS=60
#   (the sustained-rate steps; RATE_SECONDS defaults to twice LATENCY_SECONDS, RATE_STEPS= skips)
#
# Every contender loads the same rows into the same table (sql/postgres_setup.sql: varchar
# primary key and the event_time index), truncated before each run, on one throwaway cluster
# with the server's default durability (fsync on, synchronous_commit on). Contenders alternate
# within a round; the table gives medians over the rounds. Times are wall-clock seconds of the
# whole command; peak RSS and CPU (user + system) are /usr/bin/time's figures for the client
# process (for two \copy streams: the larger RSS and the summed CPU of both psql). The server's
# settings are read back from it and printed. The cluster listens on TCP 127.0.0.1 too
# (scram-sha-256, the owner's password set for the run in a password file): sluice, one \copy and
# two parallel \copy streams are also timed over TCP, against \copy over TCP. The wide table
# (bench/wide.sql: 21 columns, every type sluice checks in C, 9 CHECKs, composite key; rows from
# bench/wide.pl) is loaded by `sluice ingest --table wide` from FILES files and by one \copy of
# the same rows. The targets of issues 5 and 14 are checked at the end: the script prints whether
# each is met and by how much it is missed, and never fails for slowness.
# bench/CONFLICT.md (what --on-conflict skip and update cost, from bench/conflict_cost.sh, which
# make bench runs first), bench/FALLBACK.md (careful mode's cost, bench/fallback_cost.sh),
# bench/PROFILE.md (where the time goes, written by hand from perf profiles) and bench/SCALEOUT.md
# (the figures of `make compose-test`) are appended.
# A quick smoke run: ROWS=20000 FILES=20 ROUNDS=1 LATENCY_SECONDS=3 BENCH_OUT=/tmp/b.md bench/run.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SLUICE=${SLUICE_BIN:-build/sluice}
ROWS=${ROWS:-1000000}
FILES=${FILES:-500}
ROUNDS=${ROUNDS:-3}
LATENCY_SECONDS=${LATENCY_SECONDS:-30}
LATENCY_RATE=${LATENCY_RATE:-10000}
RATE_STEPS=${RATE_STEPS-50000 100000 150000 200000 300000 400000} # empty: no sustained-rate steps
RATE_SECONDS=${RATE_SECONDS:-$((2 * LATENCY_SECONDS))}
RATE_FILE_ROWS=${RATE_FILE_ROWS:-1000}
OUT=${BENCH_OUT:-BENCHMARKS.md}

work=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench.XXXXXX")" && pwd -P)
chmod 755 "$work"
port=$((20000 + RANDOM % 20000))
trap '"$SLUICE" db stop --pg-dir "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
db=$("$SLUICE" db start --pg-dir "$work/pg" --pg-port "$port" --pg-listen 127.0.0.1 2>/dev/null)
psql -Xq -d "$db" -v ON_ERROR_STOP=1 -f sql/postgres_setup.sql >/dev/null
psql -Xq -d "$db" -v ON_ERROR_STOP=1 -f bench/wide.sql >/dev/null
q() { psql -XAtq -d "$db" -v ON_ERROR_STOP=1 -c "$1"; }
# TCP: the owner gets a password for this run only, which libpq (psql and sluice) reads from a
# password file; the unix socket stays peer.
password=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
q "ALTER ROLE CURRENT_USER PASSWORD '$password'"
dbname=$(q 'SELECT current_database()')
owner=$(q 'SELECT current_user')
echo "127.0.0.1:$port:$dbname:$owner:$password" >"$work/pgpass"
chmod 600 "$work/pgpass"
export PGPASSFILE=$work/pgpass
tcp="host=127.0.0.1 port=$port dbname=$dbname user=$owner"
settings=$(q "SELECT string_agg(name || ' = ' || current_setting(name), ', ' ORDER BY name)
              FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes',
                   'shared_buffers', 'max_wal_size', 'wal_level')")

echo "bench: making data ($ROWS rows)" >&2
per=$((ROWS / FILES))
ROWS=$((per * FILES)) # what the files hold, so every contender loads the same rows
gen() { # gen DIR FILES ROWS_PER_FILE BAD_RATIO
    "$SLUICE" generate --input-dir "$1" --temp-dir "$work/tmp" --files "$2" --rows-per-file "$3" \
        --interval 0 --bad-ratio "$4" --seed 42 --log-level warn
}
gen "$work/clean" "$FILES" "$per" 0
gen "$work/bad5" "$FILES" "$per" 0.05
SINGLE_ROWS=$ROWS
gen "$work/single" 1 "$SINGLE_ROWS" 0
{
    head -n 1 "$work/single/"*.csv
    for f in "$work/clean/"*.csv; do tail -n +2 "$f"; done
} >"$work/all.csv"
tail -n +2 "$work/all.csv" >"$work/body.csv"
split -n l/2 "$work/body.csv" "$work/half."
rm "$work/body.csv"
perl bench/wide.pl "$ROWS" "$FILES" "$work/wide" "$work/wide_all.csv"
gen_t0=$(date +%s%N)
"$SLUICE" generate --input-dir "$work/genspeed" --temp-dir "$work/tmp" --files 10 \
    --rows-per-file $((ROWS / 10)) --interval 0 --seed 1 --log-level warn
gen_rate=$(awk -v n="$ROWS" -v ns=$(($(date +%s%N) - gen_t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
rm -rf "$work/genspeed"

# timed NAME CMD...: run CMD under /usr/bin/time; append "NAME seconds rss_kb cpu_s rows_loaded"
# to results (rows in both tables after the run).
timed() {
    local name=$1
    shift
    truncate_all
    q "CHECKPOINT"
    local t0 t1 rss cpu loaded
    t0=$(date +%s%N)
    read -r rss cpu < <(/usr/bin/time -f '%M %U %S' "$@" 2>&1 >/dev/null | tail -n 1 |
        awk '{ printf "%d %.2f\n", $1, $2 + $3 }')
    t1=$(date +%s%N)
    loaded=$(q "SELECT (SELECT count(*) FROM user_activity) + (SELECT count(*) FROM wide)")
    echo "$name $(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f", ns / 1e9 }') $rss $cpu $loaded" >>"$work/results"
    echo "bench: $name $(tail -n 1 "$work/results" | cut -d' ' -f2) s, loaded $loaded" >&2
}
truncate_all() { # wide_errors exists once sluice has made it
    q "TRUNCATE user_activity, user_activity_errors, ingest_files, wide"
    q "DO \$\$ BEGIN IF to_regclass('wide_errors') IS NOT NULL THEN TRUNCATE wide_errors; END IF; END \$\$"
}
ingest() { # [ING_DB=CONNINFO] ingest DIR NAME [sluice options]; the unix socket by default
    local dir=$1 name=$2
    shift 2
    rm -rf "$work/ck"
    timed "$name" "$SLUICE" ingest --once --db "${ING_DB:-$db}" --input-dir "$dir" --checkpoint-dir "$work/ck" \
        --error-dir "$work/err" --log-level warn "$@"
}
# The same ingest with the HTTP endpoint on, scraped once a second (as Prometheus would) by a
# curl loop that runs for the whole measurement; its own CPU is not counted.
http_port=$((port + 1))
ingest_scraped() { # ingest_scraped DIR NAME
    (while :; do
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$http_port/metrics" || true
        sleep 1
    done) &
    local scraper=$!
    ingest "$1" "$2" --listen "127.0.0.1:$http_port"
    kill "$scraper"
    wait "$scraper" 2>/dev/null || true
}
pgloader_url="postgresql://$(q 'SELECT current_user')@unix:$work/pg:$port/ecommerce_db?tablename=user_activity"

for ((r = 1; r <= ROUNDS; r++)); do
    echo "bench: round $r of $ROUNDS" >&2
    timed copy psql -Xq -d "$db" -c "\\copy user_activity FROM '$work/all.csv' CSV HEADER"
    ingest "$work/clean" sluice
    ingest_scraped "$work/clean" sluice_http
    timed copy2 bash -c "psql -Xq -d '$db' -c \"\\copy user_activity FROM '$work/half.aa' CSV\" &
        psql -Xq -d '$db' -c \"\\copy user_activity FROM '$work/half.ab' CSV\" & wait"
    ingest "$work/bad5" sluice_bad5
    ingest "$work/single" sluice_single
    timed pgloader pgloader --type csv --field "event_id,event_time,event_type,product_id,price,user_id,session_id" \
        --with "skip header = 1" --with "fields terminated by ','" "$work/all.csv" "$pgloader_url"
    ING_DB=$tcp ingest "$work/clean" sluice_tcp
    timed copy_tcp psql -Xq -d "$tcp" -c "\\copy user_activity FROM '$work/all.csv' CSV HEADER"
    ING_DB=$tcp ingest "$work/single" sluice_single_tcp
    timed copy2_tcp bash -c "psql -Xq -d '$tcp' -c \"\\copy user_activity FROM '$work/half.aa' CSV\" &
        psql -Xq -d '$tcp' -c \"\\copy user_activity FROM '$work/half.ab' CSV\" & wait"
    timed copy_wide psql -Xq -d "$db" -c "\\copy wide FROM '$work/wide_all.csv' CSV HEADER"
    ingest "$work/wide" sluice_wide --table wide
done

median() { # median NAME FIELD
    awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$work/results" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Latency: the generator at LATENCY_RATE events/s in 100-row files while ingest runs.
echo "bench: latency, $LATENCY_RATE events/s for ${LATENCY_SECONDS}s" >&2
truncate_all
rm -rf "$work/ck" "$work/lat"
mkdir -p "$work/lat"
/usr/bin/time -f '%M' -o "$work/lat.rss" "$SLUICE" ingest --db "$db" --input-dir "$work/lat" \
    --checkpoint-dir "$work/ck" --error-dir "$work/err" --log-level warn &
ing=$!
sleep 1
lat_files=$((LATENCY_SECONDS * LATENCY_RATE / 100))
"$SLUICE" generate --input-dir "$work/lat" --temp-dir "$work/tmp" --files "$lat_files" \
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

# Highest sustained rate: the generator at each rate of RATE_STEPS (events/s, in RATE_FILE_ROWS-row
# files) for RATE_SECONDS while ingest runs, from a truncated table, stepping up until a step
# fails. A step holds when the generator kept at least 95% of its pace (else the step says so and
# measures nothing about sluice), every file was committed by 10 s after the last one landed, and
# p99 of file landed -> committed is at most 1 s.
sustained=0
sustained_last=""
rate_rss=0
: >"$work/rate.steps"
for rate in $RATE_STEPS; do
    echo "bench: sustained rate, $rate events/s for ${RATE_SECONDS}s" >&2
    truncate_all
    rm -rf "$work/ck" "$work/rate"
    mkdir -p "$work/rate"
    /usr/bin/time -f '%M' -o "$work/rate.rss" "$SLUICE" ingest --db "$db" --input-dir "$work/rate" \
        --checkpoint-dir "$work/ck" --error-dir "$work/err" --log-level warn &
    ing=$!
    sleep 1
    rate_files=$(((RATE_SECONDS * rate + RATE_FILE_ROWS - 1) / RATE_FILE_ROWS))
    t0=$(date +%s%N)
    "$SLUICE" generate --input-dir "$work/rate" --temp-dir "$work/tmp" --files "$rate_files" \
        --rows-per-file "$RATE_FILE_ROWS" --rate "$rate" --log-level warn
    paced=$(awk -v n=$((rate_files * RATE_FILE_ROWS)) -v ns=$(($(date +%s%N) - t0)) \
        'BEGIN { printf "%.0f", n / (ns / 1e9) }')
    drain_end=$(($(date +%s) + 10))
    while (($(q "SELECT count(*) FROM ingest_files WHERE status = 'done'") < rate_files)) &&
        (($(date +%s) < drain_end)); do
        sleep 0.2
    done
    pkill -TERM -P "$ing"
    wait "$ing" || true
    rss=$(tail -n 1 "$work/rate.rss")
    ((rss > rate_rss)) && rate_rss=$rss
    read -r rdone rp50 rp99 rmax <<<"$(q "WITH l AS (SELECT extract(epoch FROM committed_at - file_mtime) * 1000 AS ms
            FROM ingest_files WHERE status = 'done')
        SELECT count(*) || ' ' || coalesce(round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1), 0) || ' ' ||
               coalesce(round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1), 0) || ' ' ||
               coalesce(round(max(ms)::numeric, 1), 0) FROM l")"
    if awk -v p="$paced" -v r="$rate" 'BEGIN { exit !(p < 0.95 * r) }'; then
        verdict="the generator fell behind: not a measure of sluice"
    elif ((rdone < rate_files)); then
        verdict="fell behind: $((rate_files - rdone)) files not committed 10 s after the last landed"
    elif awk -v p="$rp99" 'BEGIN { exit !(p > 1000) }'; then
        verdict="p99 over 1 s"
    else
        verdict="held"
    fi
    echo "| $rate | $paced | $rdone of $rate_files | $rp50 | $rp99 | $rmax | $verdict |" >>"$work/rate.steps"
    echo "bench: $rate events/s: $verdict (p99 $rp99 ms)" >&2
    rm -rf "$work/rate"
    sustained_last=$verdict
    [ "$verdict" = held ] || break
    sustained=$rate
done
truncate_all

# spread NAME: "min-max" seconds over the rounds.
spread() {
    awk -v n="$1" '$1 == n { if (lo == "" || $2 < lo) lo = $2; if ($2 > hi) hi = $2 }
        END { printf "%.2f-%.2f", lo, hi }' "$work/results"
}
row() { # row LABEL NAME ROWS [REFERENCE]: the time ratio is to REFERENCE's median (default copy)
    awk -v l="$1" -v t="$(median "$2" 2)" -v rss="$(median "$2" 3)" -v cpu="$(median "$2" 4)" \
        -v c="$(median "${4:-copy}" 2)" -v n="$3" -v sp="$(spread "$2")" 'BEGIN {
        printf "| %s | %.2f | %s | %.0f | %.2f | %.2f | %.1f |\n", l, t, sp, n / t, t / c, cpu, rss / 1024 }'
}
ratio() { awk -v a="$(median "$1" 2)" -v c="$(median "${2:-copy}" 2)" 'BEGIN { printf "%.2f", a / c }'; } # ratio NAME [REFERENCE]
# Dead-letter cost as lost throughput: 1 - (time on clean rows / time with 5% invalid rows).
bad_cost=$(awk -v a="$(median sluice_bad5 2)" -v b="$(median sluice 2)" 'BEGIN { printf "%.1f", (1 - b / a) * 100 }')
# Peak RSS over every sluice run (not the median): the target is a bound.
max_rss_kb=$(awk '$1 ~ /^sluice/ && $3 > m { m = $3 } END { print m + 0 }' "$work/results")
((lat_rss > max_rss_kb)) && max_rss_kb=$lat_rss
((rate_rss > max_rss_kb)) && max_rss_kb=$rate_rss
# Client CPU (user + system) of the clean 500-file run, scaled to 1,000,000 rows.
cpu_per_m=$(awk -v c="$(median sluice 4)" -v n="$ROWS" 'BEGIN { printf "%.2f", c * 1000000 / n }')
# target LABEL VALUE OP LIMIT UNIT: one row of the targets table; OP is <= or >=.
target() {
    awk -v l="$1" -v v="$2" -v op="$3" -v lim="$4" -v u="$5" 'BEGIN {
        ok = (op == "<=") ? v <= lim : v >= lim
        if (ok) verdict = "met"
        else if (u == "%") verdict = sprintf("missed by %.1f points", v - lim)
        else if (op == "<=") verdict = sprintf("missed by %.2f%s (%.0f%% over)", v - lim, u, (v / lim - 1) * 100)
        else verdict = sprintf("missed by %.0f%s (%.0f%% under)", lim - v, u, (1 - v / lim) * 100)
        printf "| %s | %s %s%s | %s%s | %s |\n", l, op, lim, u, v, u, verdict }'
}
{
    echo "# Benchmarks"
    echo
    echo "Generated by \`make bench\` (bench/run.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'); do not edit by hand."
    echo
    echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(q 'SELECT version()' | cut -d, -f1), $(uname -sr). The machine is shared, so figures are noisy: contenders alternate within each round."
    echo
    echo "Server: a throwaway cluster (\`sluice db start --pg-listen 127.0.0.1\`, not --fast), the same for every contender, reached on its unix socket (peer) unless a row says TCP (127.0.0.1, scram-sha-256, no TLS): $settings."
    echo
    echo "Data: $ROWS rows from \`sluice generate\` ($FILES files of $per rows; the same rows as one file for \\copy and pgloader; sql/postgres_setup.sql, truncated before every run); $ROUNDS rounds, medians."
    echo
    echo "| contender | seconds | min-max | rows/s | time / \\copy | client CPU s | peak RSS MB |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    row "psql \\copy, one file" copy "$ROWS"
    row "psql \\copy, two parallel streams" copy2 "$ROWS"
    row "sluice ingest --once, $FILES files" sluice "$ROWS"
    row "the same, --listen on and /metrics scraped every second" sluice_http "$ROWS"
    row "sluice, $FILES files, 5% invalid rows" sluice_bad5 "$ROWS"
    row "sluice, one file of $SINGLE_ROWS rows" sluice_single "$SINGLE_ROWS"
    row "pgloader, one file" pgloader "$ROWS"
    echo
    echo "Over TCP (127.0.0.1), the time ratio to one \\copy over TCP:"
    echo
    echo "| contender | seconds | min-max | rows/s | time / \\copy (TCP) | client CPU s | peak RSS MB |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    row "psql \\copy, one file, TCP" copy_tcp "$ROWS" copy_tcp
    row "psql \\copy, two parallel streams, TCP" copy2_tcp "$ROWS" copy_tcp
    row "sluice ingest --once, $FILES files, TCP" sluice_tcp "$ROWS" copy_tcp
    row "sluice, one file of $SINGLE_ROWS rows, TCP" sluice_single_tcp "$SINGLE_ROWS" copy_tcp
    echo
    echo "The wide table (bench/wide.sql: 21 columns, smallint to jsonb, an enum, a domain with a CHECK; 9 CHECK constraints, all compiled to C; primary key (site, seq)), $ROWS valid rows from bench/wide.pl ($FILES files, the same rows as one file for \\copy), unix socket, the time ratio to one \\copy of the wide rows:"
    echo
    echo "| contender | seconds | min-max | rows/s | time / \\copy (wide) | client CPU s | peak RSS MB |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    row "psql \\copy, one file, wide" copy_wide "$ROWS" copy_wide
    row "sluice ingest --once --table wide, $FILES files" sluice_wide "$ROWS" copy_wide
    echo
    echo "- time / \\copy is the time ratio: at most 1.00 means at least as fast as one \\copy."
    echo "- dead-letter path (5% invalid rows): $(awk -v c="$bad_cost" 'BEGIN { if (c > 0) printf "%.1f%% less throughput than", c; else printf "no loss against (%.1f%% faster, within the noise)", -c }') clean rows ($(median sluice_bad5 2) s against $(median sluice 2) s)."
    echo "- latency, file written to rows committed (\`ingest_files.committed_at - file_mtime\`), at $LATENCY_RATE events/s in 100-row files for ${LATENCY_SECONDS}s ($lfiles of $lat_files files committed): p50 $p50 ms, p99 $p99 ms, max $pmax ms; ingester peak RSS $(awk -v k="$lat_rss" 'BEGIN { printf "%.1f", k / 1024 }') MB."
    echo "- generator, unpaced (files written, fsynced and renamed): $gen_rate events/s."
    echo "- peak RSS counts every sluice run above, the latency run and the sustained-rate steps."
    echo "- rows loaded, fewest over the rounds: $(for n in copy copy_tcp copy_wide sluice sluice_tcp sluice_single sluice_single_tcp sluice_wide sluice_bad5; do
        awk -v n="$n" '$1 == n && (m == "" || $5 < m) { m = $5 } END { printf "%s %s, ", n, m }' "$work/results"
    done | sed 's/, $//') (of $ROWS each; in the 5% invalid run the rest are dead letters)."
    if [ -n "$RATE_STEPS" ]; then
        echo
        echo "Sustained rate: the generator at each rate for ${RATE_SECONDS}s in $RATE_FILE_ROWS-row files while \`sluice ingest\` runs (unix socket, table truncated before each step), stepping up until a step fails; a step holds when the generator kept at least 95% of its pace, every file was committed by 10 s after the last one landed and p99 of file landed -> committed (\`committed_at - file_mtime\`) is at most 1 s."
        echo
        echo "| events/s asked | generator achieved | files committed | p50 ms | p99 ms | max ms | step |"
        echo "| ---: | ---: | ---: | ---: | ---: | ---: | --- |"
        cat "$work/rate.steps"
    fi
    echo
    echo "## Targets (issue 5)"
    echo
    echo "| target | limit | measured | verdict |"
    echo "| --- | ---: | ---: | --- |"
    target "sluice / \\copy, $FILES files" "$(ratio sluice)" "<=" 1.00 ""
    target "stretch: sluice / \\copy, $FILES files" "$(ratio sluice)" "<=" 0.80 ""
    target "sluice / \\copy, one file" "$(ratio sluice_single)" "<=" 1.00 ""
    target "endpoint on and scraped / off, $FILES files" "$(awk -v a="$(median sluice_http 2)" \
        -v b="$(median sluice 2)" 'BEGIN { printf "%.3f", a / b }')" "<=" 1.02 ""
    target "client CPU, endpoint on and scraped / off" "$(awk -v a="$(median sluice_http 4)" \
        -v b="$(median sluice 4)" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')" "<=" 1.02 ""
    target "dead-letter cost at 5% invalid" "$(awk -v c="$bad_cost" 'BEGIN { printf "%.1f", (c < 0 ? 0 : c) }')" "<=" 10 "%"
    target "latency p99 at $LATENCY_RATE events/s" "$p99" "<=" 50 " ms"
    target "peak RSS, any sluice run" "$(awk -v k="$max_rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')" "<=" 64 " MB"
    target "generator, unpaced" "$gen_rate" ">=" 1000000 " events/s"
    echo
    echo "## Targets (issue 14)"
    echo
    echo "| target | limit | measured | verdict |"
    echo "| --- | ---: | ---: | --- |"
    target "sluice / one \\copy, $FILES files" "$(ratio sluice)" "<=" 0.65 ""
    target "sluice / two parallel \\copy streams, $FILES files" "$(ratio sluice copy2)" "<=" 0.80 ""
    target "sluice / one \\copy, one file of $SINGLE_ROWS rows" "$(ratio sluice_single)" "<=" 0.75 ""
    target "TCP: sluice / one \\copy, $FILES files" "$(ratio sluice_tcp copy_tcp)" "<=" 0.65 ""
    target "TCP: sluice / two parallel \\copy streams, $FILES files" "$(ratio sluice_tcp copy2_tcp)" "<=" 0.80 ""
    target "TCP: sluice / one \\copy, one file of $SINGLE_ROWS rows" "$(ratio sluice_single_tcp copy_tcp)" "<=" 0.75 ""
    target "latency p99 at $LATENCY_RATE events/s" "$p99" "<=" 20 " ms"
    target "client CPU per 1,000,000 rows ($FILES files, clean)" "$cpu_per_m" "<=" 0.5 " s"
    target "peak RSS, any sluice run" "$(awk -v k="$max_rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')" "<=" 64 " MB"
    target "wide table: sluice / one \\copy, $FILES files" "$(ratio sluice_wide copy_wide)" "<=" 0.80 ""
    if [ -n "$RATE_STEPS" ]; then
        floor=""
        [ "$sustained_last" = held ] && floor=" (every step held: a floor)"
        case $sustained_last in the\ generator*) floor=" (stopped by the generator, not by sluice: a floor)" ;; esac
        target "highest sustained rate, p99 landed -> committed <= 1 s for ${RATE_SECONDS}s$floor" \
            "$sustained" ">=" 150000 " events/s"
    fi
    for part in bench/CONFLICT.md bench/FALLBACK.md bench/PROFILE.md bench/SCALEOUT.md; do
        if [ -f "$part" ]; then
            echo
            cat "$part"
        fi
    done
} >"$OUT"
cat "$OUT"
