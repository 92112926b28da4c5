#!/usr/bin/env bash
# t_dashboard.sh - the dashboard in a real browser (Debian's chromium, headless): loaded during a
# run, the numbers it shows equal the database's (rows loaded and rejected, dead letters by code,
# files done), its charts have points, and hostile data (a raw line `<img src=x onerror=...>`, a
# file named like markup) shows as text and never becomes an element. Leaves a screenshot in
# $WORK/dashboard.png; SCREENSHOT_OUT=FILE copies it there (the README's picture is made so).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_http.sh"
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
    echo "FAIL - chromium is not installed (scripts/install-deps.sh installs it)"
    exit 1
fi
pg_start

IN=$WORK/in
mkdir -p "$IN"
"$SLUICE_BIN" ingest --db "$SLUICE_DB" --input-dir "$IN" --checkpoint-dir "$WORK/ck" \
    --error-dir "$WORK/err" --listen 127.0.0.1:0 2>"$WORK/ingest.log" &
ING=$!
http_url "$WORK/ingest.log"

"$SLUICE_BIN" generate --input-dir "$IN" --temp-dir "$WORK/tmp" --files 24 --rows-per-file 2000 \
    --rate 16000 --bad-ratio 0.05 --seed 21 --log-level warn
HOSTILE_NAME='<svg onload=alert(2)>.csv'
printf 'event_id,event_time,event_type,product_id,price,user_id,session_id\nx-1,2026-01-01 00:00:00,view,1,-1,1,s\n' \
    >"$IN/$HOSTILE_NAME"
sleep 0.2 # a later commit than the hostile name, so the raw line is the newest dead letter
printf 'event_id,event_time,event_type,product_id,price,user_id,session_id\n<img src=x onerror=alert(1)>\n' \
    >"$IN/xss.csv"

drained() { metric_is 'sluice_files_total{status="done"}' 26; }
check "drained: 26 files done" wait_for 60 drained
# (the body is read whole first: grep -q closing the pipe early would fail it under pipefail)
recent_has_xss() { local b; b=$(curl -sf "${URL}api/status") && [[ $b == *'onerror=alert(1)'* ]]; }
check "the sampler has read the newest dead letters" wait_for 15 recent_has_xss
history_len() { curl -sf "${URL}api/status" | grep -o '"t":\[[^]]*\]' | tr ',' '\n' | wc -l; }
has_history() { (($(history_len) >= 5)); }
check "five seconds of history" wait_for 15 has_history

browse() { # browse OUTPUT ARGS...: headless chromium on the dashboard
    local out=$1
    shift
    timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$WORK/chrome" --hide-scrollbars --window-size=1400,1350 \
        --virtual-time-budget=5000 "$@" "$URL" >"$out" 2>>"$WORK/chromium.log"
}
browse "$WORK/dom.html" --dump-dom
check "chromium rendered the page" grep -q 'id="rows-loaded"' "$WORK/dom.html"
shown() { # shown ID [DOM]: the text of the element with that id, commas dropped
    grep -o "id=\"$1\"[^>]*>[^<]*" "${2:-$WORK/dom.html}" | head -n 1 | sed 's/.*>//; s/,//g'
}
expect_eq "rows loaded shown = count(user_activity)" "$(shown rows-loaded)" \
    "$(psql_q "SELECT count(*) FROM user_activity")"
expect_eq "rows rejected shown = count(user_activity_errors)" "$(shown rows-rejected)" \
    "$(psql_q "SELECT count(*) FROM user_activity_errors")"
expect_eq "files done shown = the ledger's" "$(shown files-done)" \
    "$(psql_q "SELECT count(*) FROM ingest_files WHERE status = 'done'")"
for code in missing_field bad_value rule_violation wrong_column_count bad_encoding \
    duplicate_key unterminated_quote row_too_long bad_header; do
    got=$(grep -o "<tr id=\"code-$code\">.*" "$WORK/dom.html" | head -n 1 |
        sed 's|</tr>.*||; s|<[^>]*>| |g' | awk '{ print $2 }' | tr -d ,)
    expect_eq "dead letters shown for $code = the table's" "$got" \
        "$(psql_q "SELECT count(*) FROM user_activity_errors WHERE error_code = '$code'")"
done
points=$(grep -o '<svg id="chart-rate"[^>]*data-points="[0-9]*"' "$WORK/dom.html" | grep -o '[0-9]*"$' | tr -d '"')
((${points:-0} >= 4)) && pass "the rate chart has points ($points)" || fail "the rate chart has points" "${points:-none}"
check "the rate chart has a line" grep -q '<polyline[^>]*class="series"' "$WORK/dom.html"
check "the raw line shows as text" grep -q '>&lt;img src=x onerror=alert(1)&gt;</td>' "$WORK/dom.html"
expect_eq "no img element anywhere" "$(grep -c '<img' "$WORK/dom.html")" 0
check "the hostile file name shows as text" grep -q '>&lt;svg onload=alert(2)&gt;.csv</td>' "$WORK/dom.html"
expect_eq "no element from the file name" "$(grep -c '<svg onload' "$WORK/dom.html")" 0
expect_match "the database shown up" "$(shown db)" "database up"

browse "$WORK/shot.log" --screenshot="$WORK/dashboard.png"
check "screenshot written" test -s "$WORK/dashboard.png"
expect_eq "screenshot is a PNG" "$(head -c 8 "$WORK/dashboard.png" | od -An -tx1 | tr -d ' \n')" \
    "89504e470d0a1a0a"
if [ -n "${SCREENSHOT_OUT:-}" ] && [ -s "$WORK/dashboard.png" ]; then
    cp "$WORK/dashboard.png" "$SCREENSHOT_OUT"
    echo "screenshot: $SCREENSHOT_OUT"
fi

# --- the database down: the page says so, and keeps the figures -----------------------------------
pg_stop >/dev/null
check "db_up 0" wait_for 15 metric_is sluice_db_up 0
down_reported() {
    local b
    b=$(curl -sf "${URL}api/status") && [[ $b == *'"recent":{"db":"database unreachable'* ]]
}
check "the sampler reports the database down" wait_for 10 down_reported
browse "$WORK/dom2.html" --dump-dom
expect_match "the page shows the database down" "$(shown db "$WORK/dom2.html")" "database down"
check "the tables say the database is not available" grep -q 'id="dead-note">database not available' "$WORK/dom2.html"
expect_eq "rows loaded still shown while down" "$(shown rows-loaded "$WORK/dom2.html")" \
    "$(shown rows-loaded)"

kill -TERM "$ING"
wait "$ING"
expect_eq "ingester exits 0" "$?" 0
finish
