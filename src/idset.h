/*
 * idset.h - a set of byte strings, kept as 128-bit hashes, for spotting repeated event_ids
 * inside one batch without a round trip to the database.
 */
#ifndef SLUICE_IDSET_H
#define SLUICE_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct idset;

struct idset *idset_new(void);
void idset_free(struct idset *s);
/* Forget everything; keeps the memory for the next batch. */
void idset_clear(struct idset *s);
/* Add key; true when it was not there yet. */
bool idset_insert(struct idset *s, const char *key, size_t len);
/* Occupied slots looked at so far by inserts and growth (a cost measure for tests). */
uint64_t idset_probes(const struct idset *s);

#endif
