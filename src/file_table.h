/*
 * file_table.h - what the ingester knows about the names in its hot folder, keyed by name.
 */
#ifndef SLUICE_FILE_TABLE_H
#define SLUICE_FILE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct file_entry {
    char *name;
    bool queued;   /* waiting in the ingester's queue */
    bool finished; /* done or quarantined, with the identity below */
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns;
    unsigned seen; /* generation of the last full listing that showed the name */
};

struct file_table;

struct file_table *file_table_new(void);
void file_table_free(struct file_table *t);
/* The entry for name; with create, a fresh zeroed one when missing, else NULL. Entries stay at
 * the same address until removed. */
struct file_entry *file_table_get(struct file_table *t, const char *name, bool create);
/* Drop finished, unqueued entries whose name was not in listing `gen` (the file is gone). */
void file_table_prune(struct file_table *t, unsigned gen);
/* Drop every finished, unqueued entry (bounds memory; a file seen again is simply re-checked). */
void file_table_forget_finished(struct file_table *t);
size_t file_table_count(const struct file_table *t);
/* Occupied slots looked at so far by lookups, inserts and rebuilds (a cost measure for tests). */
uint64_t file_table_probes(const struct file_table *t);

#endif
