/*
 * file_table.c - an open-addressing hash table of file entries, keyed by name.
 *
 * The ingester looks every discovered name up here, so that a rescan of a folder holding
 * thousands of finished files (waiting for the archiver) costs a hash lookup per name instead of
 * a re-read of each file. Entries are heap objects, so pointers to them stay valid while the
 * table grows; the table only forgets an entry in file_table_prune().
 *
 * Names are chosen by whoever writes into the hot folder, so the hash is keyed with a secret
 * per process (keyed_hash.c): names crafted to share a bucket under a known hash would turn
 * every lookup into a walk over all of them. The table counts its probes, so tests can show
 * that crafted names cost what random ones do.
 */
#include "file_table.h"

#include "keyed_hash.h"
#include "mem.h"

#include <stdlib.h>
#include <string.h>

struct file_table {
    struct file_entry **slots;
    size_t cap; /* a power of two */
    size_t count;
    uint64_t probes; /* slots looked at by lookups and inserts, for tests */
};

static uint64_t name_hash(const char *s)
{
    return keyed_hash64(s, strlen(s));
}

struct file_table *file_table_new(void)
{
    struct file_table *t = xcalloc(1, sizeof(*t));
    t->cap = 1024;
    t->slots = xcalloc(t->cap, sizeof(*t->slots));
    return t;
}

static void entry_free(struct file_entry *e)
{
    free(e->name);
    free(e);
}

void file_table_free(struct file_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i])
            entry_free(t->slots[i]);
    free(t->slots);
    free(t);
}

static void insert_slot(struct file_entry **slots, size_t cap, struct file_entry *e,
                        uint64_t *probes)
{
    size_t i = name_hash(e->name) & (cap - 1);
    while (slots[i]) {
        i = (i + 1) & (cap - 1);
        (*probes)++;
    }
    slots[i] = e;
}

static void rebuild(struct file_table *t, size_t cap)
{
    struct file_entry **slots = xcalloc(cap, sizeof(*slots));
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i])
            insert_slot(slots, cap, t->slots[i], &t->probes);
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
}

struct file_entry *file_table_get(struct file_table *t, const char *name, bool create)
{
    size_t i = name_hash(name) & (t->cap - 1);
    while (t->slots[i]) {
        t->probes++;
        if (strcmp(t->slots[i]->name, name) == 0)
            return t->slots[i];
        i = (i + 1) & (t->cap - 1);
    }
    if (!create)
        return NULL;
    struct file_entry *e = xcalloc(1, sizeof(*e));
    e->name = xstrdup(name);
    t->count++;
    if (t->count * 2 > t->cap)
        rebuild(t, t->cap * 2);
    insert_slot(t->slots, t->cap, e, &t->probes);
    return e;
}

/* Drop finished, unqueued entries: those not seen in listing gen, or all of them. */
static void drop_finished(struct file_table *t, unsigned gen, bool all)
{
    size_t dropped = 0;
    for (size_t i = 0; i < t->cap; i++) {
        struct file_entry *e = t->slots[i];
        if (e && e->finished && !e->queued && (all || e->seen != gen)) {
            entry_free(e);
            t->slots[i] = NULL;
            dropped++;
        }
    }
    if (dropped) {
        t->count -= dropped;
        rebuild(t, t->cap); /* linear probing needs the holes closed */
    }
}

void file_table_prune(struct file_table *t, unsigned gen)
{
    drop_finished(t, gen, false);
}

void file_table_forget_finished(struct file_table *t)
{
    drop_finished(t, 0, true);
}

size_t file_table_count(const struct file_table *t)
{
    return t->count;
}

uint64_t file_table_probes(const struct file_table *t)
{
    return t->probes;
}
