#!/usr/bin/env bash
# tiny-files.sh DIR N PREFIX - write N valid one-row event files DIR/PREFIX_NNNNNNN.csv (event_id
# PREFIX-i, price 1.00) with one awk and no fsync: a folder of many files in seconds, for the
# overflow chaos scenario and the memory measurement (the generator's fsync per file would take
# far longer).
set -euo pipefail
mkdir -p "$1"
awk -v n="$2" -v dir="$1" -v p="$3" 'BEGIN {
    for (i = 0; i < n; i++) {
        f = sprintf("%s/%s_%07d.csv", dir, p, i)
        print "event_id,event_time,event_type,product_id,price,user_id,session_id" > f
        printf "%s-%d,2026-01-01 00:00:00,view,1,1.00,1,s\n", p, i > f
        close(f)
    } }'
