/*
 * idset.c - an open-addressing set of XXH3-128 hashes.
 *
 * The ingester uses it to route a repeated event_id to the dead letters as soon as it reads it,
 * when the first copy is in the same batch, instead of letting COPY fail on the primary key and
 * redoing the batch through the staging table. Storing 16-byte hashes rather than the keys keeps
 * memory at 32 bytes per row of a batch whatever the key length; two different ids share a
 * 128-bit hash with a probability far below that of a disk error (the same assumption the
 * ledger's content hashes make). event_ids come from producers, so the hash is keyed with a
 * per-process secret (keyed_hash.c): ids crafted to fill one run of slots cannot be computed
 * without it. The set counts its probes for the tests that show this.
 */
#include "idset.h"

#include "keyed_hash.h"
#include "mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct idset {
    XXH128_hash_t *slots; /* {0, 0} marks an empty slot */
    size_t cap;           /* a power of two */
    size_t count;
    uint64_t probes; /* occupied slots looked at, for tests */
};

struct idset *idset_new(void)
{
    struct idset *s = xcalloc(1, sizeof(*s));
    s->cap = 4096;
    s->slots = xcalloc(s->cap, sizeof(*s->slots));
    return s;
}

void idset_free(struct idset *s)
{
    if (!s)
        return;
    free(s->slots);
    free(s);
}

void idset_clear(struct idset *s)
{
    /* Sized for as many keys as it last held: a set cleared per small file stays small (and in
     * the core's cache), one cleared per large batch does not grow again from scratch. */
    size_t cap = 4096;
    while ((s->count + 1) * 4 > cap * 3)
        cap *= 2;
    if (cap != s->cap) {
        free(s->slots);
        s->slots = xcalloc(cap, sizeof(*s->slots));
        s->cap = cap;
    } else {
        memset(s->slots, 0, s->cap * sizeof(*s->slots));
    }
    s->count = 0;
}

static bool is_empty(XXH128_hash_t h)
{
    return h.low64 == 0 && h.high64 == 0;
}

static bool put(XXH128_hash_t *slots, size_t cap, XXH128_hash_t h, uint64_t *probes)
{
    size_t i = (size_t)h.low64 & (cap - 1);
    while (!is_empty(slots[i])) {
        (*probes)++;
        if (slots[i].low64 == h.low64 && slots[i].high64 == h.high64)
            return false;
        i = (i + 1) & (cap - 1);
    }
    slots[i] = h;
    return true;
}

bool idset_insert(struct idset *s, const char *key, size_t len)
{
    XXH128_hash_t h = keyed_hash128(key, len);
    if (is_empty(h))
        h.low64 = 1;                       /* keep {0, 0} free as the empty mark */
    if ((s->count + 1) * 4 > s->cap * 3) { /* at most 3/4 full */
        size_t cap = s->cap * 2;
        XXH128_hash_t *slots = xcalloc(cap, sizeof(*slots));
        for (size_t i = 0; i < s->cap; i++)
            if (!is_empty(s->slots[i]))
                put(slots, cap, s->slots[i], &s->probes);
        free(s->slots);
        s->slots = slots;
        s->cap = cap;
    }
    if (!put(s->slots, s->cap, h, &s->probes))
        return false;
    s->count++;
    return true;
}

uint64_t idset_probes(const struct idset *s)
{
    return s->probes;
}
