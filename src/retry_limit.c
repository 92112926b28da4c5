/*
 * retry_limit.c - per-key back-off for file-level retries.
 *
 * A file that cannot be moved (a name too long for the target, a symlink that cannot cross
 * filesystems) used to be retried, and its error logged, on every pass of a loop that runs as
 * fast as it can: hundreds of thousands of lines a second. Callers ask retry_limit_due() before
 * trying, and report a failure with retry_limit_failed(); a key that failed is not tried again
 * (so not logged again) until the interval has passed. The table is keyed by producer-chosen
 * names, so it hashes with the per-process secret; it holds only keys that failed recently, and
 * entries whose interval has passed are dropped as the table grows, so a flood of failing names
 * costs memory proportional to what failed within one interval.
 */
#include "retry_limit.h"

#include "keyed_hash.h"
#include "mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct retry_entry {
    char *key;
    double failed_at;
    unsigned failures;
};

struct retry_limit {
    struct retry_entry *slots; /* key == NULL: empty */
    size_t cap;                /* a power of two */
    size_t count;
    double interval_s;
};

struct retry_limit *retry_limit_new(double interval_s)
{
    struct retry_limit *r = xcalloc(1, sizeof(*r));
    r->cap = 64;
    r->slots = xcalloc(r->cap, sizeof(*r->slots));
    r->interval_s = interval_s;
    return r;
}

void retry_limit_free(struct retry_limit *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->cap; i++)
        free(r->slots[i].key);
    free(r->slots);
    free(r);
}

static size_t slot_of(const struct retry_limit *r, const char *key)
{
    size_t i = keyed_hash64(key, strlen(key)) & (r->cap - 1);
    while (r->slots[i].key && strcmp(r->slots[i].key, key) != 0)
        i = (i + 1) & (r->cap - 1);
    return i;
}

/* Rebuild into cap slots, dropping entries older than the interval when `now` >= 0. */
static void rebuild(struct retry_limit *r, size_t cap, double now)
{
    struct retry_entry *old = r->slots;
    size_t old_cap = r->cap;
    r->slots = xcalloc(cap, sizeof(*r->slots));
    r->cap = cap;
    r->count = 0;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].key)
            continue;
        if (now >= 0 && now - old[i].failed_at >= r->interval_s) {
            free(old[i].key);
            continue;
        }
        r->slots[slot_of(r, old[i].key)] = old[i];
        r->count++;
    }
    free(old);
}

bool retry_limit_due(struct retry_limit *r, const char *key, double now)
{
    struct retry_entry *e = &r->slots[slot_of(r, key)];
    return !e->key || now - e->failed_at >= r->interval_s;
}

unsigned retry_limit_failed(struct retry_limit *r, const char *key, double now)
{
    size_t i = slot_of(r, key);
    if (!r->slots[i].key) {
        if ((r->count + 1) * 2 > r->cap) {
            rebuild(r, r->cap, now); /* first drop what expired */
            if ((r->count + 1) * 2 > r->cap / 2)
                rebuild(r, r->cap * 2, -1);
            i = slot_of(r, key);
        }
        r->slots[i].key = xstrdup(key);
        r->count++;
    }
    r->slots[i].failed_at = now;
    return ++r->slots[i].failures;
}

void retry_limit_clear(struct retry_limit *r, const char *key)
{
    size_t i = slot_of(r, key);
    if (!r->slots[i].key)
        return;
    free(r->slots[i].key);
    r->slots[i].key = NULL;
    r->count--;
    rebuild(r, r->cap, -1); /* linear probing needs the hole closed */
}

size_t retry_limit_count(const struct retry_limit *r)
{
    return r->count;
}
