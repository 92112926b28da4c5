#!/usr/bin/env bash
# demo.sh - the whole pipeline on this machine, then what it did, in numbers.
#
# Starts the embedded PostgreSQL cluster in data/pg, runs `sluice run` (generator, ingester and
# archiver) for DEMO_SECONDS (60 by default; Ctrl-C ends it early and the results still print),
# then asks the database: rows loaded, dead letters by error code, files archived, throughput
# and the latency from a file landing to its rows being committed. While it runs, the dashboard
# is at the URL `sluice run` prints (127.0.0.1:9464 or the next free port); a few seconds before
# the end, headless chromium takes a screenshot of it (DEMO_SCREENSHOT, default
# data/dashboard.png; the path is printed). The cluster is stopped on the way out unless it was
# already running before. Extra arguments go to `sluice run`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SLUICE=${SLUICE_BIN:-build/sluice}
PG_DIR=${PG_DIR:-data/pg}
SECONDS_TO_RUN=${DEMO_SECONDS:-60}
SHOT=${DEMO_SCREENSHOT:-data/dashboard.png}

if [ ! -x "$SLUICE" ]; then
    echo "demo: $SLUICE is missing: run 'make' first" >&2
    exit 1
fi

was_running=0
"$SLUICE" db status --pg-dir "$PG_DIR" >/dev/null 2>&1 && was_running=1
stop_cluster() {
    if [ "$was_running" = 0 ]; then
        "$SLUICE" db stop --pg-dir "$PG_DIR" || true
    fi
}
trap stop_cluster EXIT

# Two roles: the owner (made by `db start`, which also creates the schema and the GRANTs) for the
# queries below, the least-privilege ingest role for the pipeline.
conninfo=$("$SLUICE" db start --pg-dir "$PG_DIR")
ingest_conninfo=$("$SLUICE" db ingest-url --pg-dir "$PG_DIR")
q() { psql -X -d "$conninfo" -v ON_ERROR_STOP=1 "$@"; }
value() { q -Atq -c "$1"; }

started_at=$(value "SELECT now()")

echo "demo: running the pipeline for ${SECONDS_TO_RUN}s (Ctrl-C to end it early)"
interrupted=0
trap 'interrupted=1' INT
t0=$EPOCHREALTIME
run_log=$(mktemp "${TMPDIR:-/tmp}/sluice-demo.XXXXXX")
# The dashboard's URL, once `sluice run` logs it; then, a few seconds before the end, a
# screenshot of it. Bounded: gives up when the run is over.
(
    url=""
    for ((i = 0; i < 300; i++)); do
        url=$(grep -o 'dashboard at http://[^ ]*' "$run_log" 2>/dev/null | head -n 1 | cut -d' ' -f3 || true)
        [ -n "$url" ] && break
        sleep 0.1
    done
    [ -z "$url" ] && exit 0
    echo "demo: watch it at $url"
    chromium=$(command -v chromium || command -v chromium-browser || true)
    [ -z "$chromium" ] && exit 0
    wait_s=$((SECONDS_TO_RUN > 20 ? SECONDS_TO_RUN - 10 : SECONDS_TO_RUN / 2))
    sleep "$wait_s"
    mkdir -p "$(dirname "$SHOT")"
    timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
        --user-data-dir="$run_log.chrome" --window-size=1400,1350 --virtual-time-budget=3000 \
        --screenshot="$SHOT" "$url" >/dev/null 2>&1 || true
) &
shooter=$!
run_rc=0
"$SLUICE" run --db "$ingest_conninfo" --create-dirs --drain-archive --seconds "$SECONDS_TO_RUN" \
    --min-age "${DEMO_MIN_AGE:-5}" --rate "${DEMO_RATE:-100}" --bad-ratio "${DEMO_BAD_RATIO:-0.02}" \
    "$@" 2> >(tee "$run_log" >&2) ||
    run_rc=$?
t1=$EPOCHREALTIME
trap - INT
[ "$interrupted" = 1 ] && kill "$shooter" 2>/dev/null
wait "$shooter" 2>/dev/null || true
rm -rf "$run_log" "$run_log.chrome"
elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
[ "$interrupted" = 1 ] && echo "demo: interrupted after ${elapsed}s; the results so far:"

echo
echo "== Results =="
echo "user_activity: $(value "SELECT count(*) FROM user_activity") rows"
q -P footer=off -c "SELECT event_type, count(*) AS rows FROM user_activity
                    GROUP BY event_type ORDER BY event_type"
q -P footer=off -c "SELECT event_id, event_time, event_type, product_id, price, user_id
                    FROM user_activity ORDER BY event_time DESC LIMIT 5"

echo "user_activity_errors (dead letters): $(value "SELECT count(*) FROM user_activity_errors") rows"
q -P footer=off -c "SELECT coalesce(error_code, '(none)') AS error_code, count(*) AS rows
                    FROM user_activity_errors GROUP BY 1 ORDER BY 2 DESC, 1"

value "SELECT 'files: ' || count(*) FILTER (WHERE status = 'done') || ' committed, '
              || count(*) FILTER (WHERE status = 'quarantined') || ' quarantined, '
              || count(*) FILTER (WHERE archived_at IS NOT NULL) || ' archived'
       FROM ingest_files"

# Throughput and latency of this run only: files committed since it started.
value "SELECT 'this run: ' || count(*) || ' files, ' || coalesce(sum(rows_loaded + rows_rejected), 0)
              || ' rows in ${elapsed}s = '
              || round(coalesce(sum(rows_loaded + rows_rejected), 0) / greatest(${elapsed}, 0.1), 1)
              || ' rows/s'
       FROM ingest_files WHERE committed_at >= '$started_at'"
value "WITH l AS (SELECT extract(epoch FROM committed_at - file_mtime) * 1000 AS ms
                  FROM ingest_files
                  WHERE committed_at >= '$started_at' AND file_mtime IS NOT NULL)
       SELECT 'latency, file written to rows committed: '
              || coalesce('p50 ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric)
                          || ' ms, p99 '
                          || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric)
                          || ' ms, max ' || round(max(ms)::numeric) || ' ms', 'no files')
       FROM l"

if [ -s "$SHOT" ]; then
    echo "demo: a screenshot of the dashboard is in $SHOT"
fi

if [ "$run_rc" -ne 0 ] && [ "$interrupted" = 0 ]; then
    echo "demo: sluice run failed (exit status $run_rc)" >&2
    exit "$run_rc"
fi
exit 0
