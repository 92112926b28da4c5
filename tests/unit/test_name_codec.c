/* test_name_codec.c - file names as ledger text: byte-exact encodings of non-UTF-8 bytes,
 * backslashes and controls, names that stay unchanged, decode inverting encode for every byte
 * and for random byte strings, and which names are plain entries of a folder. */
#include "name_codec.h"
#include "testutil.h"

#include <stdint.h>
#include <stdlib.h>

static void check_encodes(const char *name, size_t n, const char *want)
{
    char *e = name_encode(name, n);
    CHECK_EQ_STR(e, want);
    size_t m;
    char *d = name_decode(e, &m);
    CHECK_EQ_LONG(m, n);
    CHECK(m == n && memcmp(d, name, n) == 0);
    free(d);
    free(e);
}

#define ENCODES(lit, want) check_encodes((lit), sizeof(lit) - 1, (want))

static void test_examples(void)
{
    ENCODES("b\xfe"
            "1.csv",
            "b\\xfe1.csv");
    ENCODES("plain_2026-01-01.csv", "plain_2026-01-01.csv");
    ENCODES("caf\xc3\xa9.csv", "caf\xc3\xa9.csv");       /* UTF-8 stays */
    ENCODES("caf\xe9.csv", "caf\\xe9.csv");              /* Latin-1 does not */
    ENCODES("\xc0\xaf.csv", "\\xc0\\xaf.csv");           /* overlong '/' */
    ENCODES("\xed\xa0\x80.csv", "\\xed\\xa0\\x80.csv");  /* surrogate */
    ENCODES("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* above U+10FFFF */
    ENCODES("cut\xe2\x82", "cut\\xe2\\x82");             /* truncated sequence */
    ENCODES("a\\b.csv", "a\\b.csv");                     /* a lone backslash stays */
    ENCODES("a\\xfe.csv", "a\\x5cxfe.csv");              /* looks like an escape */
    ENCODES("a\\XFE.csv", "a\\XFE.csv");                 /* capital X is no escape */
    ENCODES("a\\xFe.csv", "a\\x5cxFe.csv");              /* either case of hex is */
    ENCODES("a\\xf", "a\\xf");                           /* too short to be one */
    ENCODES("\\\\x41", "\\\\x5cx41");                    /* only the one before x */
    ENCODES("\\\xfe", "\\\\xfe");                        /* backslash, then a bad byte */
    ENCODES("line\nbreak\r\x1b[31m.csv", "line\nbreak\r\x1b[31m.csv"); /* controls: log's job */
    check_encodes("a\0b", 3, "a\\x00b");
    check_encodes("", 0, "");
}

static void test_decode_of_foreign_text(void)
{
    size_t n;
    char *d = name_decode("x\\x2fy\\xZZ\\", &n); /* an escape, a non-escape, a trailing '\' */
    CHECK_EQ_MEM(d, n, "x/y\\xZZ\\");
    free(d);
    d = name_decode("\\x2E\\x2e", &n);
    CHECK_EQ_MEM(d, n, "..");
    CHECK(!name_is_plain(d, n)); /* a decoded name is checked before any use */
    free(d);
}

static void test_every_byte(void)
{
    for (int c = 0; c < 256; c++) {
        char name[3] = {'a', (char)c, 'z'};
        char *e = name_encode(name, 3);
        size_t m;
        char *d = name_decode(e, &m);
        CHECK(m == 3 && memcmp(d, name, 3) == 0);
        /* a byte is copied when ASCII but NUL, else written as \xNN */
        char want[8];
        if (c > 0 && c < 0x80)
            snprintf(want, sizeof(want), "a%cz", c);
        else
            snprintf(want, sizeof(want), "a\\x%02xz", c);
        CHECK_EQ_STR(e, want);
        free(d);
        free(e);
    }
}

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_random_round_trips(void)
{
    static const char alphabet[] = "\\xX0aF/.\xc3\xa9\xfe\x80\xe2\x82\xac\n";
    int bad = 0;
    for (int t = 0; t < 20000; t++) {
        char name[32];
        size_t n = rng() % sizeof(name);
        for (size_t i = 0; i < n; i++)
            name[i] = t % 2 ? (char)rng() : alphabet[rng() % (sizeof(alphabet) - 1)];
        char *e = name_encode(name, n);
        size_t m;
        char *d = name_decode(e, &m);
        char *e2 = name_encode(d, m);
        if (m != n || memcmp(d, name, n) != 0 || strcmp(e, e2) != 0)
            bad++;
        free(e2);
        free(d);
        free(e);
    }
    CHECK_EQ_LONG(bad, 0);
}

static void test_plain(void)
{
    CHECK(name_is_plain("a.csv", 5));
    CHECK(name_is_plain("...", 3));
    CHECK(name_is_plain(".hidden", 7));
    CHECK(!name_is_plain("", 0));
    CHECK(!name_is_plain(".", 1));
    CHECK(!name_is_plain("..", 2));
    CHECK(!name_is_plain("../victim/resolv.conf", 21));
    CHECK(!name_is_plain("/etc/passwd", 11));
    CHECK(!name_is_plain("sub/a.csv", 9));
    CHECK(!name_is_plain("a\0b", 3));
}

int main(void)
{
    test_examples();
    test_decode_of_foreign_text();
    test_every_byte();
    test_random_round_trips();
    test_plain();
    return TEST_DONE();
}
