# lib_security.sh - sourced by the tests/security/s*.sh scripts, after tests/integration/lib.sh
# (throwaway folder, PostgreSQL cluster, check/expect_eq/finish).
#
# The threat model of issue 9: the hot folder is writable by an untrusted producer, played here
# by the `nobody` user (as_producer); sluice runs as root, as careless operators run it. Each
# script reproduces one attack and asserts the safe outcome with the real binary.
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

PRODUCER=nobody
HEADER='event_id,event_time,event_type,product_id,price,user_id,session_id'

if [ "$(id -u)" != 0 ]; then
    echo "these tests play root (sluice) against nobody (the producer); run them as root"
    exit 1
fi

# as_producer CMD...: run CMD as the producer.
as_producer() {
    runuser -u "$PRODUCER" -- "$@"
}

# other_fs_dir: set SHM to a fresh folder on another filesystem (/dev/shm, a tmpfs), removed at
# exit, so a move into it is a copy across filesystems.
other_fs_dir() {
    SHM=$(mktemp -d /dev/shm/sluice-sec.XXXXXX)
    trap 'rm -rf "$SHM"; lib_cleanup' EXIT
}

# hot_folder DIR: make DIR a hot folder the producer owns and writes (the usual drop-box set-up).
hot_folder() {
    mkdir -p "$1"
    chown "$PRODUCER": "$1"
    chmod 755 "$1"
}

# rows PREFIX N: N valid rows with event_ids PREFIX1..PREFIXN, each ending with a newline.
rows() {
    local i
    for ((i = 1; i <= $2; i++)); do
        printf '%s%d,2026-01-01 00:00:00,view,%d,1.00,1,s\n' "$1" "$i" "$i"
    done
}

# drop_as_producer DIR NAME: stdin becomes DIR/NAME, written by the producer to a temporary name
# and renamed in, as the producer contract asks.
drop_as_producer() {
    as_producer bash -c 'cat >"$1/.drop.$$.part" && mv -T -- "$1/.drop.$$.part" "$1/$2"' _ "$1" "$2"
}


# xxh128 FILE: the content hash sluice keeps in ingest_files.content_hash (XXH3-128, high 64 bits
# first, 32 hex digits), from a helper compiled once against libxxhash.
xxh128() {
    if [ ! -x "$WORK/xxh128" ]; then
        cc -O2 -x c -o "$WORK/xxh128" - -lxxhash <<'C' || return 1
#include <stdio.h>
#include <stdlib.h>
#include <xxhash.h>
int main(int argc, char **argv)
{
    FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
    if (!f)
        return 1;
    XXH3_state_t *s = XXH3_createState();
    XXH3_128bits_reset(s);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        XXH3_128bits_update(s, buf, n);
    XXH128_hash_t h = XXH3_128bits_digest(s);
    printf("%016llx%016llx\n", (unsigned long long)h.high64, (unsigned long long)h.low64);
    return 0;
}
C
    fi
    "$WORK/xxh128" "$1"
}

# cpu_ticks PID: user + system CPU time the process has used, in clock ticks.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}
