/* test_row_sort.c - the run sorter orders rows exactly as a comparison sort on (prefix, order
 * added) does, ties included, for runs whose prefixes differ in every byte, in a few bytes, or not
 * at all; and the prefixes of keys follow the order of their values. */
#include "row_sort.h"
#include "mem.h"
#include "testutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ref {
    uint64_t prefix;
    size_t added;
    uint32_t off, len;
};

static int ref_compare(const void *pa, const void *pb)
{
    const struct ref *a = pa, *b = pb;
    if (a->prefix != b->prefix)
        return a->prefix < b->prefix ? -1 : 1;
    return a->added < b->added ? -1 : a->added > b->added;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* n rows with prefixes from make(); the sorter's order must be qsort's on (prefix, added). */
static void check_against_qsort(struct row_sort *s, size_t n, uint64_t (*make)(size_t))
{
    struct ref *refs = xcalloc(n ? n : 1, sizeof(*refs));
    row_sort_clear(s);
    for (size_t i = 0; i < n; i++) {
        refs[i] = (struct ref){make(i), i, (uint32_t)(i * 7), (uint32_t)(i % 13 + 1)};
        row_sort_add(s, refs[i].prefix, refs[i].off, refs[i].len);
    }
    CHECK_EQ_LONG(row_sort_count(s), n);
    qsort(refs, n, sizeof(*refs), ref_compare);
    const struct row_sort_entry *e = row_sort_sort(s);
    size_t wrong = 0;
    for (size_t i = 0; i < n; i++)
        wrong +=
            e[i].prefix != refs[i].prefix || e[i].off != refs[i].off || e[i].len != refs[i].len;
    CHECK_EQ_LONG(wrong, 0);
    free(refs);
}

static uint64_t any_prefix(size_t i)
{
    (void)i;
    return rng();
}

static uint64_t few_values(size_t i) /* many ties */
{
    (void)i;
    return (rng() % 5) << 40 | 0x1234;
}

static uint64_t high_bytes_equal(size_t i) /* digits that agree are skipped */
{
    (void)i;
    return 0xabcd000000000000ULL | (rng() & 0xff00ff);
}

static uint64_t all_equal(size_t i)
{
    (void)i;
    return 42;
}

static uint64_t descending(size_t i)
{
    return UINT64_MAX - i;
}

static void test_sort(void)
{
    struct row_sort *s = row_sort_new();
    check_against_qsort(s, 0, any_prefix);
    check_against_qsort(s, 1, any_prefix);
    check_against_qsort(s, 2, descending);
    check_against_qsort(s, 5000, any_prefix);
    check_against_qsort(s, 5000, few_values);
    check_against_qsort(s, 70000, high_bytes_equal); /* grows past the first arrays */
    check_against_qsort(s, 3000, all_equal);
    check_against_qsort(s, 3000, descending);
    check_against_qsort(s, 100000, any_prefix); /* after sorts that swapped the arrays */
    row_sort_free(s);
}

/* Rows in one buffer, sent in sorted order: the bytes that come out. */
static void test_rows_in_a_buffer(void)
{
    const char *rows[] = {"30\tc\n", "-7\ta\n", "30\tb\n", "12\tx\n", "-7\tz\n"};
    struct buf in, out;
    buf_init(&in);
    buf_init(&out);
    struct row_sort *s = row_sort_new();
    for (size_t i = 0; i < 5; i++) {
        size_t off = in.len;
        buf_append(&in, rows[i], strlen(rows[i]));
        row_sort_add(s, row_sort_prefix(PGT_INT4, rows[i], strlen(rows[i]) - 1), off,
                     strlen(rows[i]));
    }
    const struct row_sort_entry *e = row_sort_sort(s);
    for (size_t i = 0; i < row_sort_count(s); i++)
        buf_append(&out, in.data + e[i].off, e[i].len);
    buf_putc(&out, '\0');
    CHECK_EQ_STR(out.data, "-7\ta\n-7\tz\n12\tx\n30\tc\n30\tb\n"); /* ties in read order */
    row_sort_free(s);
    buf_release(&in);
    buf_release(&out);
}

static uint64_t px(enum pgtype_kind kind, const char *key)
{
    return row_sort_prefix(kind, key, strlen(key));
}

static void test_prefix(void)
{
    /* integers: numeric order across the sign */
    const char *ints[] = {"-9223372036854775808", "-1000", "-1", "0", "1", "999",
                          "9223372036854775807"};
    for (size_t i = 0; i + 1 < sizeof(ints) / sizeof(*ints); i++)
        CHECK(px(PGT_INT8, ints[i]) < px(PGT_INT8, ints[i + 1]));
    CHECK(px(PGT_INT8, "0") == (uint64_t)1 << 63);
    CHECK(px(PGT_INT2, "+5") == px(PGT_INT2, "5"));
    CHECK(px(PGT_INT4, "12\tzzz") == px(PGT_INT4, "12")); /* a composite key: its first column */

    /* uuids: their first 8 bytes, however written */
    CHECK(px(PGT_UUID, "01234567-89ab-cdef-0123-456789abcdef") == 0x0123456789abcdefULL);
    CHECK(px(PGT_UUID, "{01234567-89AB-CDEF-0123-456789ABCDEF}") == 0x0123456789abcdefULL);
    CHECK(px(PGT_UUID, "00000000-0000-0000-0000-000000000001") == 0);
    CHECK(px(PGT_UUID, "ffffffff-ffff-ffff-0000-000000000000") == UINT64_MAX);
    CHECK(px(PGT_UUID, "") == 0);
    CHECK(px(PGT_UUID, "ab") == 0xab00000000000000ULL);

    /* anything else: its first 8 bytes, shorter text first */
    CHECK(px(PGT_VARCHAR, "abc") == 0x6162630000000000ULL);
    CHECK(px(PGT_TEXT, "abcdefghij") == px(PGT_TEXT, "abcdefghXX"));
    CHECK(px(PGT_VARCHAR, "ab") < px(PGT_VARCHAR, "abc"));
    CHECK(px(PGT_VARCHAR, "3f2a9c1e-7b") < px(PGT_VARCHAR, "3f2a9c1f-00"));
    CHECK(px(PGT_SERVER, "\xff") == 0xff00000000000000ULL);
    CHECK(px(PGT_TEXT, "a\tb") == px(PGT_TEXT, "a"));
}

int main(void)
{
    test_sort();
    test_rows_in_a_buffer();
    test_prefix();
    return TEST_DONE();
}
