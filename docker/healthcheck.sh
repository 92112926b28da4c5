#!/bin/bash
# sluice-healthcheck PATH - exit 0 when sluice's HTTP endpoint (SLUICE_LISTEN) answers PATH with
# 200. Plain bash (/dev/tcp), so the image needs no HTTP client.
set -u
path=${1:-/readyz}
listen=${SLUICE_LISTEN:-127.0.0.1:9187}
port=${listen##*:}
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$path" >&3
read -r -t 2 status <&3 || exit 1
case $status in
"HTTP/1."[01]" 200"*) exit 0 ;;
*) echo "$path: $status" >&2; exit 1 ;;
esac
