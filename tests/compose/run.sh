#!/usr/bin/env bash
# run.sh - `make compose-test`: the compose stack, scaled out and under fire, loads a known set
# exactly once.
#
# Starts a private dockerd (scripts/docker-engine.sh: its own data root and socket, stopped and
# removed at the end), makes the debian:bookworm-slim base image with debootstrap, builds the
# project's images and brings the stack up with three ingesters. The generator writes WAVES
# waves of files (seeded, ~1% invalid rows, one manifest per wave) while the test SIGKILLs
# random ingest containers, restarts the database container (crash and clean), pauses one
# ingester for longer than --lock-timeout (its claims must be freed by the others) and scales
# the ingesters between 1 and 3. Then it waits for the ledger to settle and checks, exactly:
# rows, dead letters and the price sum against the manifests, every file done once and
# archived, every service healthy. Then it freezes an ingester in the middle of a COPY: the
# others must end its session and finish its files while it is still frozen. Last, the
# throughput of one backlog with 1, 2 and 3 ingest containers. Runs as root; takes 10-20 minutes on 2 cores, most of it building images.
#
# Environment: WAVES (6), FILES_PER_WAVE (40), KILLS (30), DB_RESTARTS (3), LOCK_TIMEOUT (5),
# BENCH_FILES and BENCH_ROWS (150 files of 2000 rows per round); SLUICE_SRC, the tree to build (this one);
# SLUICE_DOCKER_DIR to reuse a running engine from an earlier run (kept at the end).
set -euo pipefail

src=${SLUICE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
here=$(cd "$(dirname "$0")/../.." && pwd)
WAVES=${WAVES:-6}
FILES_PER_WAVE=${FILES_PER_WAVE:-40}
KILLS=${KILLS:-30}
DB_RESTARTS=${DB_RESTARTS:-3}
LOCK_TIMEOUT=${LOCK_TIMEOUT:-5}
BENCH_FILES=${BENCH_FILES:-150}
BENCH_ROWS=${BENCH_ROWS:-2000}
project=sluicetest

say() { echo "compose-test: $*"; }
die() {
    echo "compose-test: FAIL: $*" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (it starts its own dockerd)"
"$here/scripts/install-deps.sh" compose

# ---- the engine ------------------------------------------------------------------------------
keep_engine=0
if [ -n "${SLUICE_DOCKER_DIR:-}" ]; then
    engine=$SLUICE_DOCKER_DIR
    keep_engine=1
    [ -S "$engine/docker.sock" ] || "$here/scripts/docker-engine.sh" start "$engine" >/dev/null
else
    engine=$(mktemp -d /tmp/sluice-dock.XXXXXX)
    "$here/scripts/docker-engine.sh" start "$engine" >/dev/null
fi
export DOCKER_HOST="unix://$engine/docker.sock"
work=$(mktemp -d)
dc() { docker-compose -p "$project" --project-directory "$src" -f "$src/docker-compose.yml" \
    -f "$work/override.yml" "$@"; }
cleanup() {
    local rc=$?
    if [ "$rc" != 0 ] && [ -f "$work/override.yml" ]; then
        dc ps >&2 || true
        dc logs --tail=30 >&2 2>&1 || true
    fi
    [ -f "$work/override.yml" ] && dc down -v --remove-orphans >/dev/null 2>&1 || true
    rm -rf "$work"
    [ "$keep_engine" = 1 ] || "$here/scripts/docker-engine.sh" stop "$engine" || true
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$here/scripts/docker-engine.sh" base-image "$engine"

# ---- the stack, with the test's secrets and settings ------------------------------------------
mkdir -p "$work/secrets"
for s in pg_admin_password pg_owner_password pg_ingest_password; do
    pw=$(head -c 512 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9')
    printf '%s' "${pw:0:32}" >"$work/secrets/$s"
    chmod 0644 "$work/secrets/$s"
done
# The generator writes wave W when /data/manifests/go.W appears, so the test decides when.
# ($$ is a literal $ for compose.)
cat >"$work/override.yml" <<YAML
services:
  ingest:
    environment:
      LOCK_TIMEOUT: "$LOCK_TIMEOUT"
      LOG_LEVEL: warn
  archiver:
    environment:
      ARCHIVE_AGE_MINUTES: "0"
      LOG_LEVEL: warn
  generator:
    entrypoint: ["/usr/bin/tini", "--", "bash", "-c"]
    command:
      - |
        set -e
        for w in \$\$(seq 1 $WAVES); do
          until [ -e /data/manifests/go.\$\$w ]; do sleep 0.2; done
          sluice generate --files $FILES_PER_WAVE --interval 0 --bad-ratio 0.01 \\
            --seed \$\$((7000 + w)) --manifest /data/manifests/wave\$\$w.tmp
          mv /data/manifests/wave\$\$w.tmp /data/manifests/wave\$\$w.json
        done
        exec sleep infinity
secrets:
  pg_admin_password:
    file: $work/secrets/pg_admin_password
  pg_owner_password:
    file: $work/secrets/pg_owner_password
  pg_ingest_password:
    file: $work/secrets/pg_ingest_password
YAML
dc config -q || die "docker-compose config rejects the stack"
say "building the images"
dc build >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; die "image build failed"; }
for img in sluice:local sluice-init:local sluice-postgres:local; do
    user=$(docker image inspect -f '{{.Config.User}}' "$img")
    case $user in "" | root | 0 | 0:*) die "$img runs as root" ;; esac
done

# psql as the admin inside the postgres container (the socket, not the network)
sql() {
    docker exec -i "$(dc ps -q postgres)" bash -c \
        'PGPASSWORD=$(cat "$ADMIN_PASSWORD_FILE") psql -X -q -At -h 127.0.0.1 -U postgres -d ecommerce_db "$@"' \
        -- "$@"
}
# wait_for SECONDS WHAT COMMAND...: poll a condition, fail at the deadline
wait_for() {
    local limit=$1 what=$2 deadline=$((SECONDS + $1))
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || die "$what: not within $limit s"
        sleep 0.5
    done
}
ingest_ids() { dc ps -q ingest; }
running_ingest() { docker ps -q --filter "label=com.docker.compose.project=$project" \
    --filter "label=com.docker.compose.service=ingest" --filter status=running; }
# every container of the long-running services healthy (init: exited 0)
all_healthy() {
    local c n=0
    for c in $(dc ps -q postgres ingest archiver generator); do
        [ "$(docker inspect -f '{{.State.Health.Status}}' "$c")" = healthy ] || return 1
        n=$((n + 1))
    done
    [ "$n" -ge 4 ] && [ "$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$(dc ps -q init)")" = "exited 0" ]
}
health_table() {
    local c
    for c in $(dc ps -q postgres init ingest archiver generator); do
        docker inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}exit={{.State.ExitCode}}{{end}} user={{.Config.User}}' "$c"
    done | sed 's|^/||' | sort
}

say "starting the stack with 3 ingesters"
dc up -d --scale ingest=3 >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; die "up failed"; }
wait_for 180 "every service healthy" all_healthy
for c in $(dc ps -q ingest archiver generator postgres); do
    [ "$(docker exec "$c" id -u)" != 0 ] || die "$(docker inspect -f '{{.Name}}' "$c") runs as root"
done
ssl=$(sql -c "SELECT count(*) FILTER (WHERE NOT s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename LIKE 'sluice_%'")
[ "$ssl" = 0 ] || die "$ssl sluice connections without TLS"

# ---- waves under fire ------------------------------------------------------------------------
kills=0 restarts=0 paused=0 scaled=""
pause_pid=""
start_stopped() { # start ingest containers that were killed
    local c
    for c in $(ingest_ids); do
        [ "$(docker inspect -f '{{.State.Status}}' "$c")" = exited ] && docker start "$c" >/dev/null
    done
    return 0
}
gen=$(dc ps -q generator)
tick=0 wave=0
ticks=$((KILLS + 8))
while [ "$tick" -lt "$ticks" ] || [ "$wave" -lt "$WAVES" ]; do
    tick=$((tick + 1))
    # a new wave every few ticks
    if [ "$wave" -lt "$WAVES" ] && [ $((tick % (ticks / WAVES))) = 1 ]; then
        wave=$((wave + 1))
        docker exec "$gen" touch "/data/manifests/go.$wave"
    fi
    # one SIGKILL per tick of a random running ingester (never the paused one)
    if [ "$kills" -lt "$KILLS" ]; then
        victim=$(running_ingest | grep -v "^${paused_id:-none}" | shuf -n 1 || true)
        if [ -n "$victim" ]; then
            docker kill -s KILL "$victim" >/dev/null && kills=$((kills + 1))
        fi
    fi
    # the database: crash restarts, and one clean one
    if [ "$restarts" -lt "$DB_RESTARTS" ] && [ $((tick % 9)) = 4 ]; then
        if [ "$restarts" = 1 ]; then docker restart -t 20 "$(dc ps -q postgres)" >/dev/null
        else docker restart -t 0 "$(dc ps -q postgres)" >/dev/null; fi
        restarts=$((restarts + 1))
    fi
    # one ingester frozen for longer than --lock-timeout, in the middle of its work
    if [ "$paused" = 0 ] && [ "$tick" = 6 ]; then
        paused_id=$(running_ingest | head -1)
        docker pause "$paused_id" >/dev/null
        (sleep $((LOCK_TIMEOUT * 2 + 2)); docker unpause "$paused_id" >/dev/null) &
        pause_pid=$!
        paused=1
    fi
    # scale 3 -> 1 -> 2 -> 3 (after the frozen one is back)
    if [ "$tick" = $((ticks / 2)) ]; then
        wait "$pause_pid"
        paused_id=""
        dc up -d --no-recreate --scale ingest=1 >/dev/null 2>&1 && scaled="$scaled 1"
    elif [ "$tick" = $((ticks / 2 + 5)) ]; then
        dc up -d --no-recreate --scale ingest=2 >/dev/null 2>&1 && scaled="$scaled 2"
    elif [ "$tick" = $((ticks / 2 + 10)) ]; then
        dc up -d --no-recreate --scale ingest=3 >/dev/null 2>&1 && scaled="$scaled 3"
    fi
    sleep 1
    # killed containers come back a tick later (their restart is the test's, as an operator's)
    start_stopped
done
[ -z "$pause_pid" ] || wait "$pause_pid" || true
dc up -d --no-recreate --scale ingest=3 >/dev/null 2>&1
start_stopped
say "$kills kills, $restarts database restarts, 1 ingester frozen for $((LOCK_TIMEOUT * 2 + 2)) s, scaled to$scaled"

# ---- the manifests, and the ledger settling ---------------------------------------------------
wait_for 300 "all $WAVES manifests" docker exec "$gen" test -e "/data/manifests/wave$WAVES.json"
manifest() { docker exec "$gen" sh -c "cat /data/manifests/wave*.json"; }
field() { manifest | sed -n "s/.*\"$1\": \"\{0,1\}\([0-9.]*\)\"\{0,1\}.*/\1/p" | awk '{ s += $1 } END { printf "%.2f\n", s }'; }
files=$(field files | cut -d. -f1)
rows=$(field rows | cut -d. -f1)
valid=$(field valid | cut -d. -f1)
invalid=$(field invalid | cut -d. -f1)
price=$(field valid_price_sum)
[ "$files" = $((WAVES * FILES_PER_WAVE)) ] || die "manifests count $files files, expected $((WAVES * FILES_PER_WAVE))"
[ "$rows" = $((valid + invalid)) ] || die "manifest rows $rows != valid $valid + invalid $invalid"
settled() {
    [ "$(sql -c "SELECT count(*) FROM ingest_files WHERE status = 'done' AND archived_at IS NOT NULL")" = "$files" ]
}
wait_for 600 "every file done and archived" settled
wait_for 120 "every service healthy after the storm" all_healthy

loaded=$(sql -c "SELECT count(*) FROM user_activity")
dead=$(sql -c "SELECT count(*) FROM user_activity_errors")
dbprice=$(sql -c "SELECT coalesce(sum(price), 0) FROM user_activity")
ledger=$(sql -c "SELECT count(*), count(DISTINCT file_name), sum(rows_loaded), sum(rows_rejected), count(*) FILTER (WHERE status <> 'done') FROM ingest_files")
distinct=$(sql -c "SELECT count(DISTINCT (source_file, line_number)) FROM user_activity_errors")
in_input=$(docker exec "$gen" sh -c 'ls /data/input | wc -l')
in_archive=$(docker exec "$gen" sh -c 'ls /data/archive | wc -l')
lost=$((rows - loaded - dead)); [ "$lost" -lt 0 ] && lost=0
dup=$((loaded + dead - rows)); [ "$dup" -lt 0 ] && dup=0

say "health at the end:"
health_table | sed 's/^/    /'
ok=1
check() { [ "$2" = "$3" ] || { echo "compose-test: $1: $2, expected $3" >&2; ok=0; }; }
check "rows loaded" "$loaded" "$valid"
check "dead letters" "$dead" "$invalid"
check "dead letters with distinct (file, line)" "$distinct" "$dead"
check "price sum" "$dbprice" "$price"
check "ledger (rows, names, loaded, rejected, not done)" "$ledger" "$files|$files|$valid|$invalid|0"
check "files left in the hot folder" "$in_input" 0
check "files in the archive" "$in_archive" "$files"
[ "$kills" -ge "$KILLS" ] || { echo "compose-test: only $kills of $KILLS kills happened" >&2; ok=0; }
[ "$restarts" -ge "$DB_RESTARTS" ] || { echo "compose-test: only $restarts database restarts" >&2; ok=0; }
[ "$ok" = 1 ] || die "the loaded data does not match the manifests"
summary="compose-test: $kills kills, $restarts restarts, $rows rows expected, $loaded loaded + $dead dead letters, $lost lost, $dup duplicated"

# ---- an ingester frozen in the middle of a COPY ---------------------------------------------
# The storm's freeze lands wherever the ingester happens to be; this one waits for a COPY in
# flight, freezes the container that runs it, and requires the others to end its session (after
# --lock-timeout without progress) and finish every file while it is still frozen.
say "freezing an ingester in the middle of a COPY"
dc up -d --no-recreate --scale ingest=0 >/dev/null 2>&1
before=$(sql -c "SELECT count(*) FROM ingest_files WHERE status = 'done'")
dc run --rm --no-deps -T --entrypoint /usr/local/bin/sluice generator generate \
    --files 12 --rows-per-file 60000 --interval 0 --seed 9500 \
    --manifest /data/manifests/freeze.json --log-level warn >/dev/null 2>"$work/run.log" ||
    { cat "$work/run.log" >&2; die "generating the freeze backlog failed"; }
dc up -d --no-recreate --scale ingest=3 >/dev/null 2>&1
copy_ip=""
copying() {
    copy_ip=$(sql -c "SELECT host(a.client_addr) FROM pg_stat_progress_copy c JOIN pg_stat_activity a USING (pid) WHERE a.usename = 'sluice_ingest' LIMIT 1")
    [ -n "$copy_ip" ]
}
wait_for 120 "a COPY in progress" copying
frozen=""
for c in $(dc ps -q ingest); do
    [ "$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$c")" = "$copy_ip" ] && frozen=$c
done
[ -n "$frozen" ] || die "no ingest container has address $copy_ip"
docker pause "$frozen" >/dev/null
t0=$SECONDS
freeze_done() { [ "$(sql -c "SELECT count(*) FROM ingest_files WHERE status = 'done'")" = $((before + 12)) ]; }
wait_for 300 "the others finishing while one is frozen" freeze_done
[ "$(docker inspect -f '{{.State.Status}}' "$frozen")" = paused ] || die "the frozen ingester woke up early"
ended=$(dc logs --no-color ingest 2>/dev/null | grep -c "ended PostgreSQL session" || true)
[ "$ended" -ge 1 ] || die "nobody ended the frozen ingester's session"
docker unpause "$frozen" >/dev/null
fz_rows=$(docker exec "$gen" cat /data/manifests/freeze.json | sed -n 's/.*"rows": \([0-9]*\).*/\1/p')
fz_db=$(sql -c "SELECT sum(rows_loaded + rows_rejected) FROM (SELECT * FROM ingest_files ORDER BY discovered_at DESC LIMIT 12) f")
check "rows of the freeze backlog" "$fz_db" "$fz_rows"
check "user_activity against the ledger" "$(sql -c "SELECT count(*) = (SELECT sum(rows_loaded) FROM ingest_files) FROM user_activity")" t
check "dead letters against the ledger" "$(sql -c "SELECT count(*) = (SELECT sum(rows_rejected) FROM ingest_files) FROM user_activity_errors")" t
[ "$ok" = 1 ] || die "the freeze backlog does not match"
say "one ingester frozen mid-COPY: $ended session(s) ended by the others, its files done in $((SECONDS - t0)) s, $fz_rows rows exactly once"
wait_for 120 "every service healthy after the freeze" all_healthy

# ---- throughput: one backlog, 1, 2 and 3 ingest containers ------------------------------------
say "throughput: $BENCH_FILES files of $BENCH_ROWS rows per round"
bench=""
for n in 1 2 3; do
    dc up -d --no-recreate --scale ingest=0 >/dev/null 2>&1
    before=$(sql -c "SELECT count(*) FROM ingest_files")
    dc run --rm --no-deps -T --entrypoint /usr/local/bin/sluice generator generate \
        --files "$BENCH_FILES" --rows-per-file "$BENCH_ROWS" --interval 0 --seed $((9000 + n)) \
        --log-level warn >/dev/null 2>"$work/run.log" || { cat "$work/run.log" >&2; die "generating the backlog failed"; }
    want=$((before + BENCH_FILES))
    dc up -d --no-recreate --scale ingest="$n" >/dev/null 2>&1
    t0=$SECONDS
    bench_done() { [ "$(sql -c "SELECT count(*) FROM ingest_files WHERE status = 'done'")" = "$want" ]; }
    wait_for 600 "backlog with $n ingesters" bench_done
    # the span the database saw: first claim to last commit of this round's files
    r=$(sql -c "SELECT sum(rows_loaded + rows_rejected), round(extract(epoch FROM max(committed_at) - min(discovered_at))::numeric, 2) FROM (SELECT * FROM ingest_files ORDER BY discovered_at DESC LIMIT $BENCH_FILES) f")
    nrows=${r%|*} secs=${r#*|}
    rate=$(awk -v r="$nrows" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? r / s : 0) }')
    say "  $n ingest container(s): $nrows rows in $secs s = $rate rows/s (wall $((SECONDS - t0)) s with container start)"
    bench="$bench $n:$rate"
done
say "throughput rows/s by ingesters:$bench"
echo "$summary"
