/*
 * filehash.c - a file's content hash: XXH3-128 (libxxhash), streamed in 1 MiB preads.
 *
 * The hash names a file's content in the ledger, so "same name, same content" is recognised
 * across restarts and renames, and "same name, new content" is a new file. XXH3 runs at memory
 * speed, so hashing costs little next to parsing; it is not a cryptographic hash and need not be.
 */
#include "filehash.h"

#include "mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#define HASH_CHUNK (1024 * 1024)

int filehash_fd(int fd, char hex[FILEHASH_HEX_LEN + 1])
{
    XXH3_state_t *st = XXH3_createState();
    char *chunk = xmalloc(HASH_CHUNK);
    int rc = -1;
    if (!st) {
        errno = ENOMEM;
        goto out;
    }
    XXH3_128bits_reset(st);
    off_t off = 0;
    for (;;) {
        ssize_t n = pread(fd, chunk, HASH_CHUNK, off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            goto out;
        }
        if (n == 0)
            break;
        XXH3_128bits_update(st, chunk, (size_t)n);
        off += n;
    }
    XXH128_hash_t h = XXH3_128bits_digest(st);
    snprintf(hex, FILEHASH_HEX_LEN + 1, "%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
    rc = 0;
out:
    free(chunk);
    XXH3_freeState(st);
    return rc;
}
