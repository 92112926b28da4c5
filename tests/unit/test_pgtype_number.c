/* test_pgtype_number.c - the number family reads a field the way PostgreSQL 15's input function
 * does, writes the exact COPY text, refuses with short words, and orders values as the server's
 * comparison operators do (numeric by value whatever its spelling, NaN above every float, uuid
 * bytewise). The differential test (t_types_number.sh) checks the same against a real server on
 * 10^5 values per type; these are the cases worth reading. */
#include "pgtype.h"
#include "testutil.h"

#include <math.h>

static struct pgtype type_of(const char *typname, int32_t typmod)
{
    struct pgtype t;
    pgtype_from_catalog(&t, typname, typmod);
    return t;
}

/* numeric(p,s) as pg_attribute.atttypmod has it */
static int32_t numeric_typmod(int p, int s)
{
    return ((p << 16) | (s & 0x7ff)) + 4;
}

static struct buf out;
static struct pgvalue val;
static char why[128];

/* Parse s as t: the COPY text (NUL-terminated in out), or NULL when refused (reason in why). */
static const char *parse(const struct pgtype *t, const char *s)
{
    static const struct pgtype_env env = {0};
    buf_reset(&out);
    const char *bad = pgtype_parse(t, &env, s, strlen(s), &out, &val, why, sizeof(why));
    if (bad) {
        CHECK_EQ_LONG(out.len, 0); /* nothing appended on failure */
        if (bad != why)            /* a static reason; a composed one is already in why */
            snprintf(why, sizeof(why), "%s", bad);
        return NULL;
    }
    buf_putc(&out, '\0');
    return out.data;
}

#define ACCEPTS(t, in, expected)                                                                   \
    do {                                                                                           \
        const char *got_ = parse((t), (in));                                                       \
        CHECK(got_ != NULL);                                                                       \
        if (got_)                                                                                  \
            CHECK_EQ_STR(got_, (expected));                                                        \
        else                                                                                       \
            fprintf(stderr, "  (\"%s\" refused: %s)\n", (in), why);                                \
    } while (0)

#define REFUSES(t, in, reason)                                                                     \
    do {                                                                                           \
        const char *got_ = parse((t), (in));                                                       \
        CHECK(got_ == NULL);                                                                       \
        if (!got_)                                                                                 \
            CHECK_EQ_STR(why, (reason));                                                           \
        else                                                                                       \
            fprintf(stderr, "  (\"%s\" accepted as \"%s\")\n", (in), got_);                        \
    } while (0)

static void test_integers(void)
{
    struct pgtype i2 = type_of("int2", -1), i4 = type_of("int4", -1), i8 = type_of("int8", -1);
    ACCEPTS(&i2, "32767", "32767");
    ACCEPTS(&i2, "-32768", "-32768");
    REFUSES(&i2, "32768", "out of range for smallint");
    REFUSES(&i2, "-32769", "out of range for smallint");
    ACCEPTS(&i4, " \t+0002147483647\n", "2147483647");
    ACCEPTS(&i4, "-2147483648", "-2147483648");
    CHECK_EQ_LONG(val.i, -2147483648LL);
    REFUSES(&i4, "2147483648", "out of range for integer");
    ACCEPTS(&i4, "-0", "0");
    ACCEPTS(&i4, "\v\f7\r", "7");
    ACCEPTS(&i4, "0000000000000000000000000000042", "42");
    ACCEPTS(&i8, "9223372036854775807", "9223372036854775807");
    ACCEPTS(&i8, "-9223372036854775808", "-9223372036854775808");
    CHECK(val.i == INT64_MIN);
    REFUSES(&i8, "9223372036854775808", "out of range for bigint");
    REFUSES(&i8, "-9223372036854775809", "out of range for bigint");
    REFUSES(&i8, "99999999999999999999999", "out of range for bigint");
    /* syntax comes before range: an overlong number with junk is not an integer */
    REFUSES(&i2, "99999x", "not an integer");
    static const char *const not_int[] = {"1.0",
                                          "1.",
                                          "1e3",
                                          "0x10",
                                          "1_000",
                                          "1,000",
                                          "+-1",
                                          "--1",
                                          "- 1",
                                          "+",
                                          "-",
                                          " ",
                                          "1 2",
                                          "\xc2\xa0"
                                          "1",
                                          "\xd9\xa1",
                                          "NaN",
                                          "0b1",
                                          "1e",
                                          "12a"};
    for (size_t k = 0; k < sizeof(not_int) / sizeof(not_int[0]); k++)
        REFUSES(&i4, not_int[k], "not an integer");
}

static void test_numeric(void)
{
    struct pgtype n = type_of("numeric", -1);
    ACCEPTS(&n, " 1.50 ", "1.50"); /* the scale written is kept, as the server keeps it */
    ACCEPTS(&n, "+.5e1", "5");
    ACCEPTS(&n, "1.50e1", "15.0");
    ACCEPTS(&n, "15e-1", "1.5");
    ACCEPTS(&n, "1e-3", "0.001");
    ACCEPTS(&n, "-0.00", "0.00");
    ACCEPTS(&n, "0007.", "7");
    ACCEPTS(&n, "-.5", "-0.5");
    ACCEPTS(&n, "1e 5", "100000"); /* the server reads the exponent with strtol */
    ACCEPTS(&n, "1E\t-2", "0.01");
    ACCEPTS(&n, "0e1073741822", "0");
    ACCEPTS(&n, "123456789012345678901234567890.123456789",
            "123456789012345678901234567890.123456789");
    REFUSES(&n, "0e1073741823", "out of range for numeric");
    REFUSES(&n, "1e-16384", "out of range for numeric"); /* more than 16383 decimals */
    REFUSES(&n, "1e131072", "out of range for numeric"); /* a weight beyond 32767 */
    CHECK(parse(&n, "1e131071") && strlen(out.data) == 131072);
    CHECK(parse(&n, "0e-16383") && strlen(out.data) == 16385);
    static const char *const not_num[] = {".",    "-.",  "5..",  "1.2.3", "1e",   "1e+", "1e- 5",
                                          "1 e5", "1,5", "0x10", "$1",    "1e5x", "e5",  "++1"};
    for (size_t k = 0; k < sizeof(not_num) / sizeof(not_num[0]); k++)
        REFUSES(&n, not_num[k], "not a number");
    /* stricter than the server: no NaN or infinity for a numeric column */
    static const char *const specials[] = {"NaN", " nan ", "Infinity", "-inf", "+INFINITY"};
    for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++)
        REFUSES(&n, specials[k], "not a finite number");
    REFUSES(&n, "-NaN", "not a number"); /* the server refuses it too */

    struct pgtype money = type_of("numeric", numeric_typmod(10, 2));
    CHECK_EQ_LONG(money.precision, 10);
    CHECK_EQ_LONG(money.scale, 2);
    ACCEPTS(&money, "1.5", "1.50");
    ACCEPTS(&money, "1.500000", "1.50"); /* zeros beyond the scale change nothing */
    ACCEPTS(&money, "12345678.9", "12345678.90");
    ACCEPTS(&money, "-99999999.99", "-99999999.99");
    ACCEPTS(&money, "123e-2", "1.23");
    ACCEPTS(&money, "0.000e-20000", "0.00"); /* a zero has no decimals to lose */
    ACCEPTS(&money, "0", "0.00");
    REFUSES(&money, "1.005", "more than 2 decimal places"); /* the server would round it */
    REFUSES(&money, "1e-20000", "more than 2 decimal places");
    REFUSES(&money, "123456789", "numeric field overflow (at most 8 digits before the point)");
    REFUSES(&money, "99999999.995", "more than 2 decimal places");

    struct pgtype whole = type_of("numeric", numeric_typmod(5, 0));
    ACCEPTS(&whole, "99999", "99999");
    ACCEPTS(&whole, "1.0e2", "100");
    REFUSES(&whole, "99999.4", "more than 0 decimal places");
    REFUSES(&whole, "100000", "numeric field overflow (at most 5 digits before the point)");

    struct pgtype frac = type_of("numeric", numeric_typmod(3, 3));
    ACCEPTS(&frac, "0.999", "0.999");
    ACCEPTS(&frac, "-.5", "-0.500");
    REFUSES(&frac, "1", "numeric field overflow (must be below 1)");
    REFUSES(&frac, "0.9995", "more than 3 decimal places");

    struct pgtype hundreds =
        type_of("numeric", numeric_typmod(5, -2)); /* PostgreSQL 15 allows it */
    CHECK_EQ_LONG(hundreds.scale, -2);
    ACCEPTS(&hundreds, "1500", "1500");
    ACCEPTS(&hundreds, "9999900", "9999900");
    REFUSES(&hundreds, "150", "not a multiple of 100");
    REFUSES(&hundreds, "10000000", "numeric field overflow (at most 7 digits before the point)");

    struct pgtype tiny = type_of("numeric", numeric_typmod(2, 5));
    ACCEPTS(&tiny, "0.00099", "0.00099");
    REFUSES(&tiny, "0.001", "numeric field overflow (must be below 1e-3)");
}

static void test_floats(void)
{
    struct pgtype f8 = type_of("float8", -1), f4 = type_of("float4", -1);
    /* written as the producer wrote them: the server's strtod reads the same bits */
    ACCEPTS(&f8, "  1.50\t", "1.50");
    CHECK(val.f == 1.5);
    ACCEPTS(&f8, "-.5e+3", "-.5e+3");
    CHECK(val.f == -500);
    ACCEPTS(&f8, "5.", "5.");
    ACCEPTS(&f8, "0x1.8p1", "0x1.8p1");
    CHECK(val.f == 3);
    ACCEPTS(&f8, "-Infinity", "-Infinity");
    CHECK(isinf(val.f) && val.f < 0);
    ACCEPTS(&f8, "iNf", "iNf");
    ACCEPTS(&f8, "+nan", "+nan");
    CHECK(isnan(val.f));
    ACCEPTS(&f8, "nan(0x7_a)", "nan(0x7_a)");
    ACCEPTS(&f8, "4.9406564584124654e-324", "4.9406564584124654e-324"); /* a denormal is kept */
    CHECK(val.f > 0);
    ACCEPTS(&f8, "0e-99999", "0e-99999");
    ACCEPTS(&f8, "1.7976931348623157e308", "1.7976931348623157e308");
    REFUSES(&f8, "1.7976931348623159e308", "out of range for double precision");
    REFUSES(&f8, "1e-400", "out of range for double precision"); /* underflow to zero */
    REFUSES(&f8, "2e-324", "out of range for double precision");
    ACCEPTS(&f4, "3.4028235e38", "3.4028235e38");
    CHECK(val.f == (double)3.4028235e38f);
    REFUSES(&f4, "3.5e38", "out of range for real");
    ACCEPTS(&f4, "1.4e-45", "1.4e-45");
    REFUSES(&f4, "1e-46", "out of range for real");
    ACCEPTS(&f4, "0.1", "0.1");
    CHECK(val.f == (double)0.1f); /* read as a float, not rounded twice through a double */
    char longer[300];
    memset(longer, '0', sizeof(longer) - 1);
    longer[0] = '1';
    longer[1] = '.';
    longer[sizeof(longer) - 2] = '1';
    longer[sizeof(longer) - 1] = '\0';
    CHECK(parse(&f8, longer) != NULL && val.f == 1.0);
    static const char *const not_float[] = {".",
                                            "e5",
                                            "1e",
                                            "1e+",
                                            "0x",
                                            "0x.p1",
                                            "0x1p",
                                            "infinit",
                                            "infinityy",
                                            "nan(",
                                            "nan(1 2)",
                                            "nan)",
                                            "1,5",
                                            "1f",
                                            "1d5",
                                            "--1",
                                            "1 2",
                                            "\xe2\x88\x92"
                                            "1",
                                            "1_0"};
    for (size_t k = 0; k < sizeof(not_float) / sizeof(not_float[0]); k++)
        REFUSES(&f8, not_float[k], "not a number");
}

static void test_bool(void)
{
    struct pgtype b = type_of("bool", -1);
    static const char *const yes[] = {"t", "TR", "tRuE", "y", "yes", "on", "ON", "1", " \tTrue\n"};
    static const char *const no[] = {"f", "fal", "FALSE", "n", "NO", "of", "off", "0", " 0 "};
    for (size_t k = 0; k < sizeof(yes) / sizeof(yes[0]); k++) {
        ACCEPTS(&b, yes[k], "t");
        CHECK_EQ_LONG(val.i, 1);
    }
    for (size_t k = 0; k < sizeof(no) / sizeof(no[0]); k++) {
        ACCEPTS(&b, no[k], "f");
        CHECK_EQ_LONG(val.i, 0);
    }
    static const char *const neither[] = {"o",  "onn", "offf", "truee", "yess",  "2",        "01",
                                          "-1", "t f", "ja",   " ",     "tr ue", "t\xc2\xa0"};
    for (size_t k = 0; k < sizeof(neither) / sizeof(neither[0]); k++)
        REFUSES(&b, neither[k], "not a boolean");
}

static void test_uuid(void)
{
    struct pgtype u = type_of("uuid", -1);
    const char *canon = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
    ACCEPTS(&u, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", canon);
    ACCEPTS(&u, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", canon);
    ACCEPTS(&u, "a0eebc999c0b4ef8bb6d6bb9bd380a11", canon);
    ACCEPTS(&u, "{a0ee-bc99-9c0b4ef8-bb6d-6bb9-bd38-0a11}", canon);
    CHECK_EQ_LONG(val.uuid[0], 0xa0);
    CHECK_EQ_LONG(val.uuid[15], 0x11);
    static const char *const not_uuid[] = {
        " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", /* no whitespace for uuid */
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 ",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
        "-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11",
        "a0eebc9-99c0b-4ef8-bb6d-6bb9bd380a11",
        "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
        "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "{}"};
    for (size_t k = 0; k < sizeof(not_uuid) / sizeof(not_uuid[0]); k++)
        REFUSES(&u, not_uuid[k], "not a uuid");
}

/* Order of two fields read as t. */
static int order(const struct pgtype *t, const char *a, const char *b)
{
    static const struct pgtype_env env = {0};
    struct pgvalue va, vb;
    struct buf scratch;
    buf_init(&scratch);
    char w[128];
    CHECK(pgtype_parse(t, &env, a, strlen(a), &scratch, &va, w, sizeof(w)) == NULL);
    CHECK(pgtype_parse(t, &env, b, strlen(b), &scratch, &vb, w, sizeof(w)) == NULL);
    buf_release(&scratch);
    int c = pgtype_compare(t, &va, &vb);
    CHECK_EQ_LONG(pgtype_compare(t, &vb, &va), -c); /* antisymmetric */
    return c;
}

static void test_compare(void)
{
    struct pgtype n = type_of("numeric", -1);
    CHECK(pgtype_orderable(&n));
    CHECK_EQ_LONG(order(&n, "1.50", "1.5"), 0);
    CHECK_EQ_LONG(order(&n, " 15e-1", "+0001.5000"), 0);
    CHECK_EQ_LONG(order(&n, "-0.00", "0"), 0);
    CHECK_EQ_LONG(order(&n, "0e5", ".000"), 0);
    CHECK_EQ_LONG(order(&n, "10", "9.99"), 1);
    CHECK_EQ_LONG(order(&n, "1e3", "999.9999"), 1);
    CHECK_EQ_LONG(order(&n, "-10", "-9.99"), -1);
    CHECK_EQ_LONG(order(&n, "-0.001", "0"), -1);
    CHECK_EQ_LONG(order(&n, "0.1", "0.09"), 1);
    CHECK_EQ_LONG(order(&n, "123.456", "123.4561"), -1);
    CHECK_EQ_LONG(order(&n, "1e-5", "0.00001"), 0);

    struct pgtype i4 = type_of("int4", -1);
    CHECK_EQ_LONG(order(&i4, "-2147483648", "2147483647"), -1);
    CHECK_EQ_LONG(order(&i4, "007", "7"), 0);

    struct pgtype f8 = type_of("float8", -1), f4 = type_of("float4", -1);
    CHECK_EQ_LONG(order(&f8, "NaN", "nan"), 0);      /* NaN equals itself */
    CHECK_EQ_LONG(order(&f8, "NaN", "Infinity"), 1); /* and is above everything */
    CHECK_EQ_LONG(order(&f8, "-NaN", "-Infinity"), 1);
    CHECK_EQ_LONG(order(&f8, "-0", "0"), 0);
    CHECK_EQ_LONG(order(&f8, "1e-320", "0"), 1);
    CHECK_EQ_LONG(order(&f4, "0.1", "0.100000001"), 0); /* the same float */
    CHECK_EQ_LONG(order(&f4, "nan", "3.4e38"), 1);

    struct pgtype b = type_of("bool", -1);
    CHECK_EQ_LONG(order(&b, "false", "true"), -1);
    CHECK_EQ_LONG(order(&b, "yes", "on"), 0);

    struct pgtype u = type_of("uuid", -1);
    CHECK_EQ_LONG(
        order(&u, "00000000-0000-0000-0000-000000000001", "{00000000000000000000000000000001}"), 0);
    CHECK_EQ_LONG(
        order(&u, "7fffffff-ffff-ffff-ffff-ffffffffffff", "80000000-0000-0000-0000-000000000000"),
        -1);
}

int main(void)
{
    buf_init(&out);
    test_integers();
    test_numeric();
    test_floats();
    test_bool();
    test_uuid();
    test_compare();
    buf_release(&out);
    return TEST_DONE();
}
