# lib_http.sh - sourced after lib.sh by the tests of the HTTP endpoint: find the URL a sluice
# process logged, read one series from /metrics, and wait for a condition with a deadline.

# http_url LOGFILE: wait (up to 20 s) for "dashboard at URL" in LOGFILE; sets URL.
http_url() {
    local i
    URL=""
    for ((i = 0; i < 200; i++)); do
        URL=$(grep -o 'dashboard at http://[^ ]*' "$1" 2>/dev/null | head -n 1 | cut -d' ' -f3)
        [ -n "$URL" ] && return 0
        sleep 0.1
    done
    echo "FAIL - no 'dashboard at' line in $1"
    tail -n 20 "$1"
    exit 1
}

# metric SERIES: the value of one series (name with its labels, exactly) from GET /metrics.
metric() {
    curl -sf --max-time 5 "${URL}metrics" | awk -v s="$1" '$1 == s { print $2; found = 1 } END { exit !found }'
}

# metric_is SERIES VALUE: true when the series has exactly that value (for wait_for).
metric_is() {
    [ "$(metric "$1")" = "$2" ]
}

# http_code PATH: the status code of GET URL/PATH.
http_code() {
    curl -s -o /dev/null --max-time 5 -w '%{http_code}' "${URL}$1"
}

http_code_is() {
    [ "$(http_code "$1")" = "$2" ]
}
