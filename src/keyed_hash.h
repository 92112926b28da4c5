/*
 * keyed_hash.h - hashes of attacker-chosen keys (file names, event_ids) for in-memory tables,
 * keyed with a secret drawn at random once per process.
 */
#ifndef SLUICE_KEYED_HASH_H
#define SLUICE_KEYED_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>

uint64_t keyed_hash64(const void *p, size_t n);
XXH128_hash_t keyed_hash128(const void *p, size_t n);

#endif
