/* test_keyed_hash.c - hash flooding: names crafted to share a bucket under the old unkeyed hashes
 * (FNV-1a for the file table, plain XXH3 for the event_id set) cost a quadratic number of probes
 * in a table using those hashes, and a linear number in file_table and idset, whose hashes are
 * keyed per process. Probes are counted, not timed. */
#include "file_table.h"
#include "idset.h"
#include "keyed_hash.h"
#include "testutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <xxhash.h>

#define NKEYS 2000
#define MASK 4095 /* both tables hold 2000 keys in 4096 slots; smaller tables share the bits */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* Probes that linear probing in 4096 slots costs to insert keys with these hashes. */
static uint64_t unkeyed_probes(const uint64_t *hashes, size_t n)
{
    static unsigned char used[MASK + 1];
    memset(used, 0, sizeof(used));
    uint64_t probes = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = hashes[k] & MASK;
        while (used[i]) {
            i = (i + 1) & MASK;
            probes++;
        }
        used[i] = 1;
    }
    return probes;
}

static void test_file_table(void)
{
    static char names[NKEYS][32];
    static uint64_t hashes[NKEYS];
    size_t n = 0;
    for (unsigned c = 0; n < NKEYS; c++) {
        snprintf(names[n], sizeof(names[n]), "events_%u.csv", c);
        uint64_t h = fnv1a(names[n]);
        if ((h & MASK) == 0)
            hashes[n++] = h;
    }
    uint64_t old_cost = unkeyed_probes(hashes, n);
    CHECK(old_cost >= (uint64_t)NKEYS * (NKEYS - 1) / 2); /* every key walks past all earlier */

    struct file_table *t = file_table_new();
    for (size_t i = 0; i < n; i++)
        file_table_get(t, names[i], true);
    for (size_t i = 0; i < n; i++) /* a rescan looks every name up again */
        CHECK(file_table_get(t, names[i], false) != NULL);
    uint64_t cost = file_table_probes(t);
    printf("file_table: %zu crafted names, %llu probes keyed, %llu unkeyed\n", n,
           (unsigned long long)cost, (unsigned long long)old_cost);
    CHECK(cost < 10 * (uint64_t)NKEYS);
    CHECK_EQ_LONG(file_table_count(t), NKEYS);
    file_table_free(t);
}

static void test_idset(void)
{
    static char ids[NKEYS][24];
    static uint64_t hashes[NKEYS];
    size_t n = 0;
    for (unsigned c = 0; n < NKEYS; c++) {
        int len = snprintf(ids[n], sizeof(ids[n]), "evt-%u", c);
        uint64_t h = XXH3_128bits(ids[n], (size_t)len).low64; /* what idset used before */
        if ((h & MASK) == 0)
            hashes[n++] = h;
    }
    uint64_t old_cost = unkeyed_probes(hashes, n);
    CHECK(old_cost >= (uint64_t)NKEYS * (NKEYS - 1) / 2);

    struct idset *s = idset_new();
    for (size_t i = 0; i < n; i++)
        CHECK(idset_insert(s, ids[i], strlen(ids[i])));
    for (size_t i = 0; i < n; i++) /* a repeat is still found */
        CHECK(!idset_insert(s, ids[i], strlen(ids[i])));
    uint64_t cost = idset_probes(s);
    printf("idset: %zu crafted ids, %llu probes keyed, %llu unkeyed\n", n, (unsigned long long)cost,
           (unsigned long long)old_cost);
    CHECK(cost < 10 * (uint64_t)NKEYS);
    idset_free(s);
}

static void test_keyed(void)
{
    /* the key is secret: the keyed hash is not the plain one */
    CHECK(keyed_hash64("a.csv", 5) != XXH3_64bits("a.csv", 5));
    CHECK(keyed_hash64("a.csv", 5) == keyed_hash64("a.csv", 5));
    XXH128_hash_t a = keyed_hash128("e1", 2), b = XXH3_128bits("e1", 2);
    CHECK(a.low64 != b.low64 || a.high64 != b.high64);
}

int main(void)
{
    test_keyed();
    test_file_table();
    test_idset();
    return TEST_DONE();
}
