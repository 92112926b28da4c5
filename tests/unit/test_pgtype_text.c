/*
 * test_pgtype_text.c - the text family of pgtype: text, varchar(n), char(n), json, jsonb and
 * enums, each on both sides of its rules, with the exact COPY text written, the value handed
 * back, the order and the length() that PostgreSQL would give. The expectations were checked
 * against PostgreSQL 15 by hand; tests/integration/t_types_text.sh checks them in bulk.
 *
 * Fields are valid UTF-8 without NUL here, as the row validator guarantees before parsing.
 */
#include "copy_text.h"
#include "mem.h"
#include "pgtype.h"
#include "testutil.h"

#include <stdint.h>
#include <time.h>

static struct buf out;
static struct pgvalue val;
static char why[256];
static const char *verdict;

/* Parse s as t; keeps the COPY text in out, the value in val and the failure in verdict. */
static const char *parse_n(const struct pgtype *t, const char *s, size_t n)
{
    static const struct pgtype_env env = {0};
    buf_reset(&out);
    memset(&val, 0, sizeof(val));
    verdict = pgtype_parse(t, &env, s, n, &out, &val, why, sizeof(why));
    if (verdict)
        CHECK_EQ_LONG(out.len, 0); /* nothing written on failure */
    return verdict;
}

static const char *parse(const struct pgtype *t, const char *s)
{
    return parse_n(t, s, strlen(s));
}

/* s is accepted, written as copy and valued as value (the characters kept). */
#define ACCEPTS(t, s, copy, value)                                                                 \
    do {                                                                                           \
        const char *bad_ = parse((t), (s));                                                        \
        CHECK(bad_ == NULL);                                                                       \
        if (bad_)                                                                                  \
            fprintf(stderr, "  refused \"%s\": %s\n", (s), bad_);                                  \
        CHECK_EQ_MEM(out.data, out.len, (copy));                                                   \
        CHECK_EQ_MEM(val.text, val.len, (value));                                                  \
    } while (0)

/* s is accepted and kept as written: the COPY text is s with copy_text's escapes. */
#define ACCEPTS_AS_IS(t, s)                                                                        \
    do {                                                                                           \
        struct buf e_;                                                                             \
        buf_init(&e_);                                                                             \
        copy_text_escape(&e_, (s), strlen(s));                                                     \
        buf_putc(&e_, '\0');                                                                       \
        ACCEPTS((t), (s), e_.data, (s));                                                           \
        buf_release(&e_);                                                                          \
    } while (0)

#define REFUSES(t, s, message)                                                                     \
    do {                                                                                           \
        const char *bad_ = parse((t), (s));                                                        \
        CHECK(bad_ != NULL);                                                                       \
        if (bad_)                                                                                  \
            CHECK_EQ_STR(bad_, (message));                                                         \
        else                                                                                       \
            fprintf(stderr, "  accepted \"%s\"\n", (s));                                           \
    } while (0)

static struct pgtype type_of(const char *typname, int32_t typmod)
{
    struct pgtype t;
    pgtype_from_catalog(&t, typname, typmod);
    return t;
}

static void test_text_takes_everything(void)
{
    struct pgtype t = type_of("text", -1);
    CHECK(t.kind == PGT_TEXT);
    ACCEPTS(&t, "hello", "hello", "hello");
    ACCEPTS(&t, "", "", "");
    ACCEPTS(&t, "  spaces kept  ", "  spaces kept  ", "  spaces kept  ");
    ACCEPTS(&t, "tab\there\nnew\\line\r", "tab\\there\\nnew\\\\line\\r", "tab\there\nnew\\line\r");
    ACCEPTS(&t, "\\N", "\\\\N", "\\N"); /* the text \N, not NULL */
    ACCEPTS(&t, "caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80",
            "caf\xc3\xa9 \xf0\x9f\x98\x80");
    CHECK_EQ_LONG(pgtype_char_length(&t, &val), 6);
}

static void test_varchar_counts_characters(void)
{
    struct pgtype t = type_of("varchar", 5 + 4); /* varchar(5) */
    CHECK_EQ_LONG(t.length, 5);
    ACCEPTS(&t, "abcde", "abcde", "abcde");
    ACCEPTS(&t, "", "", "");
    /* five characters in ten bytes */
    ACCEPTS(&t, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
            "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
    CHECK_EQ_LONG(pgtype_char_length(&t, &val), 5);
    ACCEPTS(&t, "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80x",
            "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80x",
            "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80x");
    REFUSES(&t, "abcdef", "longer than 5 characters (got 6)");
    REFUSES(&t, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
            "longer than 5 characters (got 6)");
    REFUSES(&t, "abcde  x", "longer than 5 characters (got 8)");
    REFUSES(&t, "abcde\t", "longer than 5 characters (got 6)"); /* only spaces are cut */
    /* spaces past the limit are cut off, spaces within it kept */
    ACCEPTS(&t, "abcde   ", "abcde", "abcde");
    ACCEPTS(&t, "ab   ", "ab   ", "ab   ");
    ACCEPTS(&t, "ab      ", "ab   ", "ab   ");
    ACCEPTS(&t, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 ",
            "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
    CHECK_EQ_LONG(pgtype_char_length(&t, &val), 5);

    struct pgtype one = type_of("varchar", 1 + 4);
    REFUSES(&one, "ab", "longer than 1 character (got 2)");

    struct pgtype unbounded = type_of("varchar", -1);
    CHECK_EQ_LONG(unbounded.length, -1);
    ACCEPTS(&unbounded, "a long value with trailing spaces   ",
            "a long value with trailing spaces   ", "a long value with trailing spaces   ");
}

static void test_bpchar_pads_and_ignores_trailing_spaces(void)
{
    struct pgtype t = type_of("bpchar", 5 + 4); /* char(5) */
    CHECK_EQ_LONG(t.length, 5);
    /* the server pads; the value kept has no trailing spaces */
    ACCEPTS(&t, "ab", "ab", "ab");
    CHECK_EQ_LONG(pgtype_char_length(&t, &val), 2);
    ACCEPTS(&t, "ab  ", "ab  ", "ab");
    CHECK_EQ_LONG(pgtype_char_length(&t, &val), 2);
    ACCEPTS(&t, "  ab", "  ab", "  ab");
    ACCEPTS(&t, "", "", "");
    ACCEPTS(&t, "     ", "     ", "");
    CHECK_EQ_LONG(pgtype_char_length(&t, &val), 0);
    ACCEPTS(&t, "abcde      ", "abcde", "abcde");
    ACCEPTS(&t,
            "\xe4\xb8\xad\xe6\x96\x87"
            "ab\xc3\xa9  ",
            "\xe4\xb8\xad\xe6\x96\x87"
            "ab\xc3\xa9",
            "\xe4\xb8\xad\xe6\x96\x87"
            "ab\xc3\xa9");
    CHECK_EQ_LONG(pgtype_char_length(&t, &val), 5);
    REFUSES(&t, "abcdef", "longer than 5 characters (got 6)");
    REFUSES(&t, "abc   d", "longer than 5 characters (got 7)");

    /* bpchar without a length keeps what it is given, trailing spaces included */
    struct pgtype unbounded = type_of("bpchar", -1);
    ACCEPTS(&unbounded, "xy   ", "xy   ", "xy");

    /* equal whatever the trailing spaces, ordered bytewise */
    struct pgvalue a, b;
    parse(&t, "ab");
    a = val;
    parse(&t, "ab   ");
    b = val;
    CHECK_EQ_LONG(pgtype_compare(&t, &a, &b), 0);
    parse(&t, "ab\t");
    b = val;
    CHECK(pgtype_compare(&t, &a, &b) < 0); /* 'ab' < 'ab\t' as bpchar: the tab is kept */
}

static void test_text_order_is_bytewise(void)
{
    struct pgtype t = type_of("text", -1);
    struct pgvalue a, b;
    parse(&t, "abc");
    a = val;
    parse(&t, "abd");
    b = val;
    CHECK(pgtype_compare(&t, &a, &b) < 0);
    CHECK(pgtype_compare(&t, &b, &a) > 0);
    parse(&t, "ab");
    b = val;
    CHECK(pgtype_compare(&t, &a, &b) > 0); /* a prefix sorts first */
    parse(&t, "ab ");
    a = val;
    CHECK(pgtype_compare(&t, &a, &b) > 0); /* text keeps trailing spaces */
    parse(&t, "Z");
    a = val;
    parse(&t, "a");
    b = val;
    CHECK(pgtype_compare(&t, &a, &b) < 0); /* C collation: upper case first */
    parse(&t, "\xc3\xa9");
    a = val;
    parse(&t, "z");
    b = val;
    CHECK(pgtype_compare(&t, &a, &b) > 0); /* bytes are unsigned */
    parse(&t, "");
    a = val;
    CHECK(pgtype_compare(&t, &a, &b) < 0);
    CHECK_EQ_LONG(pgtype_compare(&t, &a, &a), 0);
}

static void test_json_accepts_its_grammar(void)
{
    struct pgtype t = type_of("json", -1);
    struct pgtype tb = type_of("jsonb", -1);
    static const char *const good[] = {
        "0",
        "-0",
        "1",
        "-1",
        "12.5",
        "0.0",
        "1e5",
        "1E+5",
        "1e-5",
        "-0.5e-0",
        "123456789012345678901234567890",
        "true",
        "false",
        "null",
        "\"\"",
        "\"x\"",
        "{}",
        "[]",
        "[[]]",
        " {} ",
        "\t[\n1\r]\n",
        "{\"a\":1}",
        "{\"a\" : [1, 2.5, \"s\", true, false, null, {}, []]}",
        "[1,[2,[3,[4]]]]",
        "{\"a\":1,\"a\":2}",
        "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
        "\"\\u00e9\\u00E9\"",
        "\"\\ud83d\\ude00\"",
        "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"",
        "\"\x7f\"",
        "{\"\":\"\"}",
        "[1e131071]",
        "[-0.0000001e-16376]",
        "0e1073741822",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ACCEPTS_AS_IS(&t, good[i]);
        ACCEPTS_AS_IS(&tb, good[i]);
    }
    /* the COPY text is escaped, the value is the document */
    ACCEPTS(&t, "[1,\n2]", "[1,\\n2]", "[1,\n2]");
    ACCEPTS(&t, "\"a\\\\b\"", "\"a\\\\\\\\b\"", "\"a\\\\b\"");
}

static void test_json_refuses_what_postgres_refuses(void)
{
    struct pgtype t = type_of("json", -1);
    REFUSES(&t, "", "not valid JSON: input ended early at offset 0");
    REFUSES(&t, "   ", "not valid JSON: input ended early at offset 3");
    REFUSES(&t, "01", "not valid JSON: bad number at offset 0");
    REFUSES(&t, "-", "not valid JSON: bad number at offset 0");
    REFUSES(&t, "1.", "not valid JSON: bad number at offset 0");
    REFUSES(&t, "1.e5", "not valid JSON: bad number at offset 0");
    REFUSES(&t, ".5", "not valid JSON: unexpected character at offset 0");
    REFUSES(&t, "+1", "not valid JSON: unexpected character at offset 0");
    REFUSES(&t, "1e", "not valid JSON: bad number at offset 0");
    REFUSES(&t, "1e+", "not valid JSON: bad number at offset 0");
    REFUSES(&t, "[1x]", "not valid JSON: bad number at offset 1");
    REFUSES(&t, "1\xc3\xa9", "not valid JSON: bad number at offset 0");
    REFUSES(&t, "1 2", "not valid JSON: unexpected characters after the value at offset 2");
    REFUSES(&t, "1.5.3", "not valid JSON: unexpected characters after the value at offset 3");
    REFUSES(&t, "tru", "not valid JSON: unexpected word at offset 0");
    REFUSES(&t, "True", "not valid JSON: unexpected word at offset 0");
    REFUSES(&t, "truefalse", "not valid JSON: unexpected word at offset 0");
    REFUSES(&t, "nulls", "not valid JSON: unexpected word at offset 0");
    REFUSES(&t,
            "\xc2\xa0"
            "1",
            "not valid JSON: unexpected word at offset 0"); /* no-break space */
    REFUSES(&t, "\f1", "not valid JSON: unexpected character at offset 0");
    REFUSES(&t, "\v1", "not valid JSON: unexpected character at offset 0");
    REFUSES(&t, "[1,]", "not valid JSON: unexpected character at offset 3");
    REFUSES(&t, "[,1]", "not valid JSON: unexpected character at offset 1");
    REFUSES(&t, "[1 2]", "not valid JSON: expected ',' or ']' at offset 3");
    REFUSES(&t, "[1", "not valid JSON: input ended early at offset 2");
    REFUSES(&t, "[1}", "not valid JSON: expected ',' or ']' at offset 2");
    REFUSES(&t, "{\"a\":1,}", "not valid JSON: expected a string key at offset 7");
    REFUSES(&t, "{\"a\" 1}", "not valid JSON: expected ':' at offset 5");
    REFUSES(&t, "{\"a\":}", "not valid JSON: unexpected character at offset 5");
    REFUSES(&t, "{a:1}", "not valid JSON: expected a string key at offset 1");
    REFUSES(&t, "{1:1}", "not valid JSON: expected a string key at offset 1");
    REFUSES(&t, "{\"a\":1]", "not valid JSON: expected ',' or '}' at offset 6");
    REFUSES(&t, "{\"a\"", "not valid JSON: input ended early at offset 4");
    REFUSES(&t, "]", "not valid JSON: unexpected character at offset 0");
    REFUSES(&t, "'a'", "not valid JSON: unexpected character at offset 0");
    REFUSES(&t, "\"abc", "not valid JSON: string not closed at offset 0");
    REFUSES(&t, "\"abc\\", "not valid JSON: string not closed at offset 0");
    REFUSES(&t, "\"a\tb\"", "not valid JSON: control character in a string at offset 2");
    REFUSES(&t, "\"a\nb\"", "not valid JSON: control character in a string at offset 2");
    REFUSES(&t, "\"\\x\"", "not valid JSON: bad escape at offset 1");
    REFUSES(&t, "\"\\U0041\"", "not valid JSON: bad escape at offset 1");
    REFUSES(&t, "\"\\'\"", "not valid JSON: bad escape at offset 1");
    REFUSES(&t, "\"\\u12\"", "not valid JSON: bad \\u escape at offset 1");
    REFUSES(&t, "\"\\u12g4\"", "not valid JSON: bad \\u escape at offset 1");
    REFUSES(&t, "\"\\u123", "not valid JSON: bad \\u escape at offset 1");
}

static void test_json_and_jsonb_differ_on_escapes_and_numbers(void)
{
    struct pgtype t = type_of("json", -1);
    struct pgtype tb = type_of("jsonb", -1);
    /* json keeps its text, so these pass; jsonb decodes them and cannot */
    static const char *const json_only[] = {
        "\"\\u0000\"",        "\"\\ud800\"",        "\"\\udc00\"",
        "\"\\ud800x\"",       "\"\\ud800\\n\"",     "\"\\ud800\\ud800\\udc00\"",
        "\"\\udc00\\ud800\"", "\"\\ud800\\u0041\"", "1e131072",
        "10e131071",          "1e-16384",           "0e-16384",
        "0.5e-16383",         "0.00e-16382",        "1e1073741823",
        "0e1073741823",       "0e-1073741822",      "1e99999999999999999999",
    };
    for (size_t i = 0; i < sizeof(json_only) / sizeof(json_only[0]); i++) {
        ACCEPTS_AS_IS(&t, json_only[i]);
        CHECK(parse(&tb, json_only[i]) != NULL);
    }
    REFUSES(&tb, "[\"\\u0000\"]", "not valid jsonb: \\u0000 cannot be stored in jsonb at offset 2");
    REFUSES(&tb, "\"ab\\ud800\"", "not valid jsonb: unpaired surrogate at offset 3");
    REFUSES(&tb, "\"\\udc00\"", "not valid jsonb: unpaired surrogate at offset 1");
    REFUSES(&tb, "{\"n\":1e131072}", "not valid jsonb: number out of jsonb's range at offset 5");
    /* at the edges of what numeric holds */
    static const char *const jsonb_edges[] = {
        "1e131071",
        "9.9e131071",
        "0.1e131072",
        "10e131070",
        "1e-16383",
        "0e-16383",
        "0.00e-16381",
        "0.0e16383",
        "-0.0",
        "0e1073741822",
        "1e+0000000000000000000000001",
    };
    for (size_t i = 0; i < sizeof(jsonb_edges) / sizeof(jsonb_edges[0]); i++)
        ACCEPTS_AS_IS(&tb, jsonb_edges[i]);
    ACCEPTS(&tb, "\"\\uD83D\\uDE00\"", "\"\\\\uD83D\\\\uDE00\"", "\"\\uD83D\\uDE00\"");
}

/* Nesting is bounded at 1000 levels, below what PostgreSQL's default stack allows. */
static void test_json_nesting_limit(void)
{
    struct pgtype t = type_of("json", -1);
    struct pgtype tb = type_of("jsonb", -1);
    enum { DEEP = 1001 };
    static char doc[6 * DEEP + 8];
    for (size_t depth = 999; depth <= DEEP; depth++) {
        size_t n = 0;
        for (size_t i = 0; i < depth; i++) { /* {"k":[{"k":[... */
            if (i % 2) {
                doc[n++] = '[';
            } else {
                memcpy(doc + n, "{\"k\":", 5);
                n += 5;
            }
        }
        doc[n++] = '1';
        for (size_t i = depth; i-- > 0;)
            doc[n++] = i % 2 ? ']' : '}';
        doc[n] = '\0';
        const char *bad = parse_n(&t, doc, n);
        const char *bad_b = parse_n(&tb, doc, n);
        if (depth <= 1000) {
            CHECK(bad == NULL);
            CHECK(bad_b == NULL);
        } else {
            CHECK(bad != NULL && strstr(bad, "nested deeper than 1000 levels"));
            CHECK(bad_b != NULL && strstr(bad_b, "nested deeper than 1000 levels"));
        }
    }
    /* a hostile document fails fast and without touching memory past the limit */
    static char brackets[100000];
    memset(brackets, '[', sizeof(brackets));
    CHECK(parse_n(&t, brackets, sizeof(brackets)) != NULL);
    CHECK_EQ_STR(verdict, "not valid JSON: nested deeper than 1000 levels at offset 1000");
}

/* jsonb texts stop at 32 MiB, short of where jsonb_in runs out of room; json has no such bound. */
static void test_jsonb_size_limit(void)
{
    struct pgtype t = type_of("json", -1);
    struct pgtype tb = type_of("jsonb", -1);
    size_t max = (size_t)32 << 20;
    char *doc = xmalloc(max + 1);
    doc[0] = '0';
    memset(doc + 1, ' ', max);
    CHECK(parse_n(&tb, doc, max) == NULL);
    CHECK(parse_n(&tb, doc, max + 1) != NULL);
    CHECK_EQ_STR(verdict, "not valid jsonb: longer than 33554432 bytes (got 33554433)");
    CHECK(parse_n(&t, doc, max + 1) == NULL);
    free(doc);
}

static void test_enum_matches_labels_exactly(void)
{
    struct pgtype t = type_of("anenum", -1);
    CHECK(t.kind == PGT_SERVER);
    char **labels = xcalloc(4, sizeof(*labels));
    labels[0] = xstrdup("sad");
    labels[1] = xstrdup("ok");
    labels[2] = xstrdup("happy face");
    labels[3] = xstrdup("\xc3\xa9t\xc3\xa9");
    pgtype_set_labels(&t, labels, 4);
    CHECK(t.kind == PGT_ENUM);
    ACCEPTS(&t, "sad", "sad", "sad");
    CHECK_EQ_LONG(val.i, 0);
    ACCEPTS(&t, "happy face", "happy face", "happy face");
    CHECK_EQ_LONG(val.i, 2);
    ACCEPTS(&t, "\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9");
    CHECK_EQ_LONG(val.i, 3);
    CHECK_EQ_LONG(pgtype_char_length(&t, &val), 3);
    const char *labels_msg = "not one of the enum's labels: sad, ok, happy face, \xc3\xa9t\xc3\xa9";
    REFUSES(&t, "Sad", labels_msg);
    REFUSES(&t, "sad ", labels_msg);
    REFUSES(&t, " sad", labels_msg);
    REFUSES(&t, "sa", labels_msg);
    REFUSES(&t, "", labels_msg);
    REFUSES(&t, "happy", labels_msg);
    /* order is the enum's sort order, not the labels' spelling */
    struct pgvalue a, b;
    parse(&t, "sad");
    a = val;
    parse(&t, "ok");
    b = val;
    CHECK(pgtype_compare(&t, &a, &b) < 0);
    CHECK(pgtype_compare(&t, &b, &a) > 0);
    CHECK_EQ_LONG(pgtype_compare(&t, &a, &a), 0);

    /* a long list of labels is cut short, never past the buffer */
    char small[40];
    struct buf o;
    buf_init(&o);
    struct pgvalue v;
    const char *bad =
        pgtype_parse(&t, &(struct pgtype_env){0}, "x", 1, &o, &v, small, sizeof(small));
    CHECK(bad != NULL);
    CHECK_EQ_STR(bad, "not one of the enum's labels: sad ...");
    buf_release(&o);
    pgtype_release(&t);
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* How long a typical value takes, printed for the record, not asserted on. */
static void report_throughput(void)
{
    static const struct {
        const char *typname;
        int32_t typmod;
        const char *value;
    } cases[] = {
        {"varchar", 20 + 4, "alice@example.com"},
        {"bpchar", 5 + 4, "AB12 "},
        {"jsonb", -1,
         "{\"id\": 12345, \"tags\": [\"a\", \"b\\u00e9\"], \"price\": 19.99, \"ok\": true}"},
    };
    enum { ROUNDS = 300000 };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct pgtype t = type_of(cases[c].typname, cases[c].typmod);
        size_t n = strlen(cases[c].value), refused = 0;
        double start = seconds_now();
        for (int i = 0; i < ROUNDS; i++)
            refused += parse_n(&t, cases[c].value, n) != NULL;
        double ns = (seconds_now() - start) * 1e9 / ROUNDS;
        CHECK_EQ_LONG(refused, 0);
        printf("%s: %.0f ns a value (%zu bytes)\n", cases[c].typname, ns, n);
    }
}

int main(void)
{
    buf_init(&out);
    test_text_takes_everything();
    test_varchar_counts_characters();
    test_bpchar_pads_and_ignores_trailing_spaces();
    test_text_order_is_bytewise();
    test_json_accepts_its_grammar();
    test_json_refuses_what_postgres_refuses();
    test_json_and_jsonb_differ_on_escapes_and_numbers();
    test_json_nesting_limit();
    test_jsonb_size_limit();
    test_enum_matches_labels_exactly();
    report_throughput();
    buf_release(&out);
    return TEST_DONE();
}
