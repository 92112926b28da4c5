/* test_copy_text.c - the text a dead letter's raw_line holds for a row's bytes, and back: bytes
 * that are not UTF-8 (and NUL) as \xNN and decoded to the same bytes for every input, including
 * random byte strings; \xNN that a person wrote in valid text kept as text; the COPY escapes only
 * in the COPY writer. */
#include "copy_text.h"
#include "testutil.h"

#include <stdint.h>
#include <stdlib.h>

/* encode(bytes) is `want`, and decoding it gives the bytes back. */
static void check_round_trip(const char *bytes, size_t n, const char *want)
{
    struct buf e, d;
    buf_init(&e);
    buf_init(&d);
    copy_text_bytes_encode(&e, bytes, n);
    CHECK_EQ_MEM(e.data, e.len, want);
    copy_text_bytes_decode(&d, e.data, e.len);
    CHECK(d.len == n && memcmp(d.data, bytes, n) == 0);
    buf_release(&e);
    buf_release(&d);
}

#define ROUND_TRIP(lit, want) check_round_trip((lit), sizeof(lit) - 1, (want))

static void test_examples(void)
{
    ROUND_TRIP("a,b,c", "a,b,c");
    ROUND_TRIP("tab\there, and a \\ backslash", "tab\there, and a \\ backslash"); /* no escapes */
    ROUND_TRIP("vi\xffw", "vi\\xffw");
    ROUND_TRIP("vi\0ew", "vi\\x00ew");
    ROUND_TRIP("s\xc3\x28", "s\\xc3(");
    ROUND_TRIP("caf\xc3\xa9", "caf\xc3\xa9");
    ROUND_TRIP("\xe2\x82"
               "A",
               "\\xe2\\x82A");

    struct buf b;
    buf_init(&b);
    copy_text_sanitized(&b, "a\tb\xff", 4);
    CHECK_EQ_MEM(b.data, b.len, "a\\tb\\\\xff"); /* the COPY writer escapes for COPY */
    buf_release(&b);
}

/* Text a person wrote: \xNN that decode to valid UTF-8 (the encoder never writes those) stay. */
static void test_written_by_hand(void)
{
    const char *cases[] = {"\\xc3\\xa9", "price \\x41", "\\x7f", "\\xz1", "\\x", "end \\xf"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf d;
        buf_init(&d);
        CHECK(!copy_text_bytes_decode(&d, cases[i], strlen(cases[i])));
        CHECK_EQ_MEM(d.data, d.len, cases[i]);
        buf_release(&d);
    }
}

/* The one ambiguity, on the safe side: a valid row that holds the text \xff decodes to the byte
 * 0xff, so a replay finds bad_encoding and the row stays a dead letter (it is never stored
 * changed). */
static void test_ambiguous(void)
{
    struct buf d;
    buf_init(&d);
    CHECK(copy_text_bytes_decode(&d, "a\\xffb", 6));
    CHECK_EQ_MEM(d.data, d.len,
                 "a\xff"
                 "b");
    buf_release(&d);
}

/* Every byte string without the text "\x" comes back: random ones, heavy in bytes that are not
 * ASCII, backslashes and hex digits. (A row whose own text holds \xNN with NN 00 or 80..ff cannot
 * be told from an encoded byte: see test_ambiguous.) */
static void test_random(void)
{
    uint64_t x = 88172645463325252ULL;
    char bytes[64];
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)(round % 64);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            unsigned v = (unsigned)(x & 0xff); /* ASCII only from the alphabet */
            bytes[i] = v < 128 ? "\\0aF,\";\n"[v % 8] : (char)v;
        }
        struct buf e, d;
        buf_init(&e);
        buf_init(&d);
        copy_text_bytes_encode(&e, bytes, n);
        copy_text_bytes_decode(&d, e.data, e.len);
        CHECK(d.len == n && (n == 0 || memcmp(d.data, bytes, n) == 0));
        buf_release(&e);
        buf_release(&d);
    }
}

int main(void)
{
    test_examples();
    test_written_by_hand();
    test_ambiguous();
    test_random();
    return TEST_DONE();
}
