/*
 * row_sort.h - put a run of encoded rows in the order of a 64-bit key prefix, stably, before they
 * are sent: consecutive inserts then walk the same path of the key's B-tree. The order is only a
 * hint to the server; nothing that is stored depends on it.
 */
#ifndef SLUICE_ROW_SORT_H
#define SLUICE_ROW_SORT_H

#include "pgtype.h"

#include <stddef.h>
#include <stdint.h>

/* One row of the run: where its bytes are in the caller's buffer, and its prefix. */
struct row_sort_entry {
    uint64_t prefix;
    uint32_t off; /* the caller's buffer stays under 4 GiB */
    uint32_t len;
};

struct row_sort;

struct row_sort *row_sort_new(void);
void row_sort_free(struct row_sort *s);
/* Forget the rows; keeps the memory for the next run. */
void row_sort_clear(struct row_sort *s);
/* Add the row of len bytes at off (off + len < 4 GiB). */
void row_sort_add(struct row_sort *s, uint64_t prefix, size_t off, size_t len);
size_t row_sort_count(const struct row_sort *s);
/* Order the rows by prefix, equal prefixes in the order added (O(n): radix), and return them;
 * the array is the sorter's, valid until the next add or clear. */
const struct row_sort_entry *row_sort_sort(struct row_sort *s);

/* The prefix of a key, given as its COPY text (schema_row_key: the columns joined by tabs; only
 * the first is read) and the kind of its first column: integers in numeric order, a uuid by its
 * first 8 bytes, anything else by its first 8 bytes of text (big endian, zero padded). */
uint64_t row_sort_prefix(enum pgtype_kind kind, const char *key, size_t len);

#endif
