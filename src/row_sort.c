/*
 * row_sort.c - a stable sort of row references by a 64-bit prefix, and the prefix of a key.
 *
 * The sort is a least-significant-digit radix sort on bytes: one pass counts all eight digits at
 * once, then each digit on which the rows do not all agree is one stable scatter between two
 * arrays. So a run costs O(n) whatever its keys, equal prefixes keep the order they were added
 * in, and the rows' bytes never move: only 16-byte entries do.
 *
 * A prefix orders keys as the server would for the kinds where that is cheap to know from the
 * text (integers, uuids, and bytewise text); for other collations and types it is merely a
 * consistent grouping. Either way it is a performance hint: the caller must not rely on it for
 * anything that is stored.
 */
#include "row_sort.h"

#include "mem.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

struct row_sort {
    struct row_sort_entry *rows, *tmp;
    size_t n, cap;
};

struct row_sort *row_sort_new(void)
{
    return xcalloc(1, sizeof(struct row_sort));
}

void row_sort_free(struct row_sort *s)
{
    if (!s)
        return;
    free(s->rows);
    free(s->tmp);
    free(s);
}

void row_sort_clear(struct row_sort *s)
{
    s->n = 0;
}

void row_sort_add(struct row_sort *s, uint64_t prefix, size_t off, size_t len)
{
    if (off > UINT32_MAX || len > UINT32_MAX - off)
        abort(); /* the caller's promise: its buffer stays under 4 GiB */
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->rows = xrealloc(s->rows, s->cap * sizeof(*s->rows));
        free(s->tmp); /* only needed while sorting; grown to match then */
        s->tmp = NULL;
    }
    s->rows[s->n++] = (struct row_sort_entry){prefix, (uint32_t)off, (uint32_t)len};
}

size_t row_sort_count(const struct row_sort *s)
{
    return s->n;
}

const struct row_sort_entry *row_sort_sort(struct row_sort *s)
{
    if (s->n < 2)
        return s->rows;
    size_t count[8][256] = {{0}};
    for (size_t i = 0; i < s->n; i++) {
        uint64_t p = s->rows[i].prefix;
        for (int d = 0; d < 8; d++)
            count[d][(p >> (8 * d)) & 0xff]++;
    }
    if (!s->tmp)
        s->tmp = xmalloc(s->cap * sizeof(*s->tmp));
    for (int d = 0; d < 8; d++) {
        size_t *c = count[d];
        if (c[(s->rows[0].prefix >> (8 * d)) & 0xff] == s->n)
            continue; /* every row has the same digit here: the pass would change nothing */
        size_t at = 0;
        for (int v = 0; v < 256; v++) { /* counts to starting positions */
            size_t k = c[v];
            c[v] = at;
            at += k;
        }
        for (size_t i = 0; i < s->n; i++) {
            const struct row_sort_entry *e = &s->rows[i];
            s->tmp[c[(e->prefix >> (8 * d)) & 0xff]++] = *e;
        }
        struct row_sort_entry *t = s->rows;
        s->rows = s->tmp;
        s->tmp = t;
    }
    return s->rows;
}

uint64_t row_sort_prefix(enum pgtype_kind kind, const char *key, size_t len)
{
    const char *tab = memchr(key, '\t', len);
    if (tab)
        len = (size_t)(tab - key); /* a composite key: its first column */
    uint64_t p = 0;
    switch (kind) {
    case PGT_INT2:
    case PGT_INT4:
    case PGT_INT8: {
        /* validated and written as [-]digits, within int64; the sign bit flipped makes
         * the unsigned order the numeric one */
        size_t i = 0;
        bool neg = len > 0 && key[0] == '-';
        i += neg || (len > 0 && key[0] == '+');
        uint64_t v = 0;
        for (; i < len && key[i] >= '0' && key[i] <= '9'; i++)
            v = v * 10 + (uint64_t)(key[i] - '0');
        return (neg ? 0 - v : v) ^ ((uint64_t)1 << 63);
    }
    case PGT_UUID: {
        int digits = 0;
        for (size_t i = 0; i < len && digits < 16; i++) {
            int h = hex_digit_value((unsigned char)key[i]);
            if (h < 0)
                continue; /* hyphens and braces */
            p = p << 4 | (uint64_t)h;
            digits++;
        }
        /* fewer than 16 digits only in text that is no uuid */
        return digits == 0 ? 0 : p << (4 * (16 - digits));
    }
    default:
        for (size_t i = 0; i < 8; i++)
            p = p << 8 | (i < len ? (unsigned char)key[i] : 0);
        return p;
    }
}
