#!/usr/bin/env bash
# docker-engine.sh - a private Docker engine for the compose test, and the base image it needs.
#
#   scripts/docker-engine.sh start DIR        start dockerd with everything under DIR (its own
#                                             data root, exec root, pid file and unix socket);
#                                             prints DOCKER_HOST=unix://DIR/docker.sock
#   scripts/docker-engine.sh base-image DIR   build debian:bookworm-slim with debootstrap from the
#                                             Debian mirror apt already uses, and import it
#   scripts/docker-engine.sh stop DIR         stop that dockerd (by its pid) and remove DIR
#
# Nothing can be pulled from an image registry here, so the base image is made locally: a
# minbase bookworm tree, imported under the tag the Dockerfiles start FROM. The engine touches
# neither the host's firewall (--iptables=false) nor its default bridge (--bridge=none):
# containers talk over the user-defined network compose creates, and image builds that run
# apt-get use --network host. Runs as root.
set -euo pipefail

die() {
    echo "docker-engine: $*" >&2
    exit 1
}

# Wait until "$@" succeeds, at most $1 seconds.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

engine_start() {
    local dir=$1
    mkdir -p "$dir/data" "$dir/exec"
    local sock="$dir/docker.sock"
    # A unix socket path must fit in 108 bytes.
    [ "${#sock}" -lt 100 ] || die "'$dir' is too long a path for a unix socket"
    command -v dockerd >/dev/null || die "dockerd is not installed (apt-get install docker.io)"
    dockerd --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
        -H "unix://$sock" --iptables=false --ip-masq=false --bridge=none \
        --storage-driver overlay2 --log-level warn >"$dir/dockerd.log" 2>&1 &
    echo $! >"$dir/dockerd.started"
    if ! wait_for 60 docker -H "unix://$sock" info; then
        tail -20 "$dir/dockerd.log" >&2
        die "dockerd did not answer within 60 s"
    fi
    echo "DOCKER_HOST=unix://$sock"
}

engine_stop() {
    local dir=$1 pid=""
    [ -d "$dir" ] || return 0
    if [ -f "$dir/docker.pid" ]; then
        pid=$(cat "$dir/docker.pid")
    elif [ -f "$dir/dockerd.started" ]; then
        pid=$(cat "$dir/dockerd.started")
    fi
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        docker -H "unix://$dir/docker.sock" ps -q 2>/dev/null |
            xargs -r docker -H "unix://$dir/docker.sock" kill >/dev/null 2>&1 || true
        kill -TERM "$pid"
        if ! wait_for 60 bash -c "! kill -0 $pid"; then
            echo "docker-engine: dockerd $pid ignored SIGTERM; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
            wait_for 10 bash -c "! kill -0 $pid" || true
        fi
    fi
    # Mounts a killed engine left behind under DIR, deepest first.
    awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$dir"
}

# The first Debian archive URI in apt's sources (deb822 or one-line format) that is not the
# security archive: the mirror this machine is already allowed to use.
apt_mirror() {
    local f uri=""
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
        [ -n "$uri" ] && break
    done
    if [ -z "$uri" ]; then
        uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }')
    fi
    [ -n "$uri" ] || die "no Debian mirror found in apt's sources"
    echo "$uri"
}

base_image() {
    local dir=$1
    export DOCKER_HOST="unix://$dir/docker.sock"
    if docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
        echo "docker-engine: debian:bookworm-slim is there already"
        return 0
    fi
    local mirror root
    mirror=$(apt_mirror)
    root="$dir/rootfs"
    rm -rf "$root"
    echo "docker-engine: debootstrap --variant=minbase bookworm from $mirror" >&2
    debootstrap --variant=minbase bookworm "$root" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
        { tail -20 "$dir/debootstrap.log" >&2; die "debootstrap failed"; }
    # Keep images small, as the slim image does: no apt caches or lists, no docs.
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
        "$root"/usr/share/doc/* "$root"/usr/share/man/*
    tar -C "$root" -c . | docker import - debian:bookworm-slim >/dev/null
    rm -rf "$root"
    echo "docker-engine: imported debian:bookworm-slim" >&2
}

[ $# -eq 2 ] || die "usage: $0 start|stop|base-image DIR"
[ "$(id -u)" -eq 0 ] || die "dockerd needs root"
case $1 in
start) engine_start "$2" ;;
stop) engine_stop "$2" ;;
base-image) base_image "$2" ;;
*) die "unknown command '$1'" ;;
esac
