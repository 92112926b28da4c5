/*
 * keyed_hash.c - XXH3 with a per-process random secret, for tables keyed by what producers choose.
 *
 * An unkeyed hash lets whoever names the files (or writes the event_ids) pick keys that all land
 * in one bucket, and an open-addressing table then pays a probe per earlier key: quadratic time
 * from a folder of crafted names. With a secret the attacker cannot see, which keys collide is
 * unknowable in advance, so crafted keys spread like any others. The secret comes from
 * getrandom(2) the first time a hash is asked for; it is never written anywhere, so the values
 * differ from run to run and must never be stored.
 */
#include "keyed_hash.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define KEYED_SECRET_BYTES 192 /* XXH3 wants at least XXH3_SECRET_SIZE_MIN (136) */

static unsigned char secret[KEYED_SECRET_BYTES];
static pthread_once_t secret_once = PTHREAD_ONCE_INIT;

static void secret_init(void)
{
    size_t got = 0;
    while (got < sizeof(secret)) {
        ssize_t n = getrandom(secret + got, sizeof(secret) - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* No kernel entropy interface at all (pre-3.17): refusing to run would be worse
             * than a weaker key; mix what varies per process. */
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t x =
                (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&ts;
            for (size_t i = 0; i < sizeof(secret); i++) { /* splitmix64 */
                uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
                z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
                z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
                secret[i] = (unsigned char)(z ^ (z >> 31));
            }
            return;
        }
        got += (size_t)n;
    }
}

uint64_t keyed_hash64(const void *p, size_t n)
{
    pthread_once(&secret_once, secret_init);
    return XXH3_64bits_withSecret(p, n, secret, sizeof(secret));
}

XXH128_hash_t keyed_hash128(const void *p, size_t n)
{
    pthread_once(&secret_once, secret_init);
    return XXH3_128bits_withSecret(p, n, secret, sizeof(secret));
}
