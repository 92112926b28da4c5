#!/bin/sh
# make-secrets.sh - random passwords for the compose stack, made once, into docker/secrets/
# (git-ignored, never in an image). Existing ones are kept, so running it again is harmless.
set -eu
dir=$(dirname "$0")/secrets
mkdir -p "$dir"
chmod 0700 "$dir"
for name in pg_admin_password pg_owner_password pg_ingest_password; do
    [ -s "$dir/$name" ] && continue
    # 32 characters from the kernel's random source; no quote or backslash to escape anywhere
    pw=$(head -c 512 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9' | cut -c 1-32)
    printf '%s' "$pw" >"$dir/$name.tmp"
    # readable inside the containers, which run as other users than the file's owner
    chmod 0644 "$dir/$name.tmp"
    mv "$dir/$name.tmp" "$dir/$name"
    echo "make-secrets: made $dir/$name"
done
