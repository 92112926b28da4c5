/* test_check_expr.c - CHECK constraints compiled from the text PostgreSQL 15 prints for them
 * (every definition below was copied from pg_get_constraintdef on a real table), evaluated on
 * rows read by the type parsers, with SQL's three-valued logic; and the refusals, with why. */
#include "check_expr.h"
#include "mem.h"
#include "testutil.h"

#include <stdint.h>

enum {
    C_Q,
    C_B,
    C_S,
    C_PRICE,
    C_F,
    C_R,
    C_EVENT,
    C_TX,
    C_C,
    C_D,
    C_TS,
    C_TZ,
    C_OK,
    C_U,
    C_M,
    C_J,
    C_SRV,
    C_MIXED,
    NCOLS
};

static struct table_column cols[NCOLS];

static void column(size_t i, const char *name, const char *typname, int32_t typmod, bool c_coll)
{
    cols[i].name = (char *)name;
    cols[i].type_name = (char *)typname;
    cols[i].c_collation = c_coll;
    cols[i].text_exact = true;
    pgtype_from_catalog(&cols[i].type, typname, typmod);
}

static void setup_columns(void)
{
    column(C_Q, "q", "int4", -1, false);
    column(C_B, "b", "int8", -1, false);
    column(C_S, "s", "int2", -1, false);
    column(C_PRICE, "price", "numeric", ((10 << 16) | 2) + 4, false);
    column(C_F, "f", "float8", -1, false);
    column(C_R, "r", "float4", -1, false);
    column(C_EVENT, "event_type", "varchar", 20 + 4, true);
    column(C_TX, "tx", "text", -1, false);
    column(C_C, "c", "bpchar", 5 + 4, false);
    column(C_D, "d", "date", -1, false);
    column(C_TS, "ts", "timestamp", -1, false);
    column(C_TZ, "tz", "timestamptz", -1, false);
    column(C_OK, "ok", "bool", -1, false);
    column(C_U, "u", "uuid", -1, false);
    column(C_M, "m", "mood", -1, false);
    char **labels = xcalloc(3, sizeof(char *));
    labels[0] = xstrdup("sad");
    labels[1] = xstrdup("ok");
    labels[2] = xstrdup("happy");
    pgtype_set_labels(&cols[C_M].type, labels, 3);
    column(C_J, "j", "jsonb", -1, false);
    column(C_SRV, "iv", "interval", -1, false);
    column(C_MIXED, "Mixed Case", "int4", -1, false);
}

/* A row: every column NULL until set from text as the loader would read it. */
static struct pgvalue row[NCOLS];

static void row_clear(void)
{
    for (size_t i = 0; i < NCOLS; i++) {
        memset(&row[i], 0, sizeof(row[i]));
        row[i].null = true;
    }
}

static void set(size_t i, const char *text)
{
    struct buf out;
    buf_init(&out);
    char why[128];
    const char *bad =
        pgtype_parse(&cols[i].type, NULL, text, strlen(text), &out, &row[i], why, sizeof(why));
    buf_release(&out);
    if (bad) {
        fprintf(stderr, "test row: column %s refuses '%s': %s\n", cols[i].name, text, bad);
        test_failures++;
    }
}

static char why[256];

static struct check_expr *compile(const char *def)
{
    struct check_expr *c = check_compile(def, cols, NCOLS, -1, NULL, why, sizeof(why));
    if (!c)
        fprintf(stderr, "not compiled: %s: %s\n", def, why);
    return c;
}

/* passes(def, column, value): the row holding only that value passes the constraint. */
static int eval_one(struct check_expr *c, size_t col, const char *value, size_t *blamed)
{
    row_clear();
    if (value)
        set(col, value);
    return check_eval(c, row, blamed);
}

#define PASSES(c, col, value)                                                                      \
    do {                                                                                           \
        size_t blamed_;                                                                            \
        test_checks++;                                                                             \
        if (!(c) || !eval_one((c), (col), (value), &blamed_)) {                                    \
            test_failures++;                                                                       \
            fprintf(stderr, "%s:%d: %s=%s should pass\n", __FILE__, __LINE__, cols[col].name,      \
                    (value) ? (value) : "NULL");                                                   \
        }                                                                                          \
    } while (0)

#define FAILS(c, col, value)                                                                       \
    do {                                                                                           \
        size_t blamed_ = 999;                                                                      \
        test_checks++;                                                                             \
        if (!(c) || eval_one((c), (col), (value), &blamed_) || blamed_ != (col)) {                 \
            test_failures++;                                                                       \
            fprintf(stderr, "%s:%d: %s=%s should fail (blamed %zu)\n", __FILE__, __LINE__,         \
                    cols[col].name, (value) ? (value) : "NULL", blamed_);                          \
        }                                                                                          \
    } while (0)

static void test_comparisons_with_constants(void)
{
    struct check_expr *c = compile("CHECK ((price > (0)::numeric))");
    PASSES(c, C_PRICE, "0.01");
    FAILS(c, C_PRICE, "0");
    FAILS(c, C_PRICE, "-3.50");
    PASSES(c, C_PRICE, NULL); /* NULL passes a CHECK */
    CHECK(c && check_uses(c, C_PRICE) && !check_uses(c, C_Q));
    check_free(c);

    c = compile("CHECK ((price >= 0.005))"); /* finer than the column's scale: exact */
    PASSES(c, C_PRICE, "0.01");
    FAILS(c, C_PRICE, "0.00");
    check_free(c);

    c = compile("CHECK ((price < '-1.5'::numeric))");
    PASSES(c, C_PRICE, "-1.51");
    FAILS(c, C_PRICE, "-1.50");
    check_free(c);

    c = compile("CHECK ((q > '-5'::integer))");
    PASSES(c, C_Q, "-4");
    FAILS(c, C_Q, "-5");
    check_free(c);

    c = compile("CHECK ((0 < q))"); /* the constant on the left */
    PASSES(c, C_Q, "1");
    FAILS(c, C_Q, "0");
    check_free(c);

    c = compile("CHECK ((b > '3000000000'::bigint))");
    PASSES(c, C_B, "3000000001");
    FAILS(c, C_B, "3000000000");
    check_free(c);

    c = compile("CHECK ((s <> '-1'::integer))");
    PASSES(c, C_S, "1");
    FAILS(c, C_S, "-1");
    check_free(c);

    c = compile("CHECK (((q)::numeric > 2.5))"); /* an integer compared with a fraction */
    PASSES(c, C_Q, "3");
    FAILS(c, C_Q, "2");
    FAILS(c, C_Q, "-2147483648");
    check_free(c);

    c = compile("CHECK ((q <= 10))");
    PASSES(c, C_Q, "10");
    FAILS(c, C_Q, "11");
    check_free(c);

    c = compile("CHECK ((q = 1))");
    PASSES(c, C_Q, "1");
    FAILS(c, C_Q, "2");
    check_free(c);

    c = compile("CHECK ((q >= 1))");
    PASSES(c, C_Q, "1");
    FAILS(c, C_Q, "0");
    check_free(c);
}

static void test_floats(void)
{
    struct check_expr *c = compile("CHECK ((f > (0)::double precision))");
    PASSES(c, C_F, "1e-300");
    FAILS(c, C_F, "-0");
    PASSES(c, C_F, "NaN"); /* NaN sorts above every number */
    check_free(c);

    c = compile("CHECK ((f < 'Infinity'::double precision))");
    PASSES(c, C_F, "1e308");
    FAILS(c, C_F, "Infinity");
    FAILS(c, C_F, "NaN");
    check_free(c);

    c = compile("CHECK ((f < ('-1.5'::numeric)::double precision))");
    PASSES(c, C_F, "-1.6");
    FAILS(c, C_F, "-1.5");
    check_free(c);

    c = compile("CHECK ((r > (1.5)::double precision))"); /* real widened, as float48gt does */
    PASSES(c, C_R, "1.5000001");
    FAILS(c, C_R, "1.5");
    check_free(c);

    c = compile("CHECK ((r = (0.1)::real))");
    PASSES(c, C_R, "0.1");
    FAILS(c, C_R, "0.2");
    check_free(c);

    c = compile("CHECK ((r <> (0.1)::double precision))"); /* real 0.1 is not double 0.1 */
    PASSES(c, C_R, "0.1");
    check_free(c);
}

static void test_lists(void)
{
    const char *defs[] = {
        "CHECK (((event_type)::text = ANY ((ARRAY['view'::character varying, "
        "'purchase'::character varying])::text[])))",
        /* the form sluice makes of --event-types view,purchase */
        "CHECK (((event_type)::text = ANY ((ARRAY['view'::text, 'purchase'::text])::text[])))",
    };
    for (size_t i = 0; i < 2; i++) {
        struct check_expr *c = compile(defs[i]);
        PASSES(c, C_EVENT, "view");
        PASSES(c, C_EVENT, "purchase");
        FAILS(c, C_EVENT, "View");
        FAILS(c, C_EVENT, "view ");
        FAILS(c, C_EVENT, "");
        PASSES(c, C_EVENT, NULL);
        check_free(c);
    }

    struct check_expr *c = compile("CHECK ((q <> ALL (ARRAY[3, 4])))");
    PASSES(c, C_Q, "2");
    FAILS(c, C_Q, "3");
    FAILS(c, C_Q, "4");
    check_free(c);

    c = compile("CHECK ((q = ANY (ARRAY[1, '-2'::integer])))");
    PASSES(c, C_Q, "-2");
    FAILS(c, C_Q, "2");
    check_free(c);

    c = compile("CHECK ((tx <> ALL (ARRAY['a'::text, 'b'::text])))");
    PASSES(c, C_TX, "c");
    FAILS(c, C_TX, "b");
    check_free(c);

    c = compile("CHECK ((price = ANY (ARRAY[1.5, (2)::numeric])))");
    PASSES(c, C_PRICE, "2.00");
    PASSES(c, C_PRICE, "1.50");
    FAILS(c, C_PRICE, "1.49");
    check_free(c);

    /* an array constant with a NULL: no match is unknown, which passes */
    c = compile("CHECK ((tx = ANY ('{a,\"b c\",NULL}'::text[])))");
    PASSES(c, C_TX, "a");
    PASSES(c, C_TX, "b c");
    PASSES(c, C_TX, "zzz");
    check_free(c);
    c = compile("CHECK ((tx <> ALL ('{a, NULL}'::text[])))");
    FAILS(c, C_TX, "a");
    PASSES(c, C_TX, "b");
    check_free(c);
    c = compile("CHECK ((q = ANY ('{1,2}'::integer[])))");
    PASSES(c, C_Q, "2");
    FAILS(c, C_Q, "3");
    check_free(c);

    c = compile("CHECK ((c = ANY (ARRAY['ab'::bpchar, 'cd'::bpchar])))");
    PASSES(c, C_C, "cd   ");
    FAILS(c, C_C, "abc");
    check_free(c);

    c = compile("CHECK ((ts = ANY (ARRAY['2020-01-01 00:00:00'::timestamp without time zone, "
                "'2021-01-01 00:00:00'::timestamp without time zone])))");
    PASSES(c, C_TS, "2021-01-01 00:00:00");
    FAILS(c, C_TS, "2021-01-01 00:00:01");
    check_free(c);

    c = compile("CHECK ((m = ANY (ARRAY['ok'::mood, 'sad'::mood])))");
    PASSES(c, C_M, "sad");
    FAILS(c, C_M, "happy");
    check_free(c);
}

static void test_between_and_logic(void)
{
    struct check_expr *c = compile("CHECK (((q >= 1) AND (q <= 10)))");
    FAILS(c, C_Q, "0");
    PASSES(c, C_Q, "1");
    PASSES(c, C_Q, "10");
    FAILS(c, C_Q, "11");
    PASSES(c, C_Q, NULL);
    check_free(c);

    /* NOT BETWEEN */
    c = compile("CHECK (((q < 3) OR (q > 4)))");
    PASSES(c, C_Q, "2");
    FAILS(c, C_Q, "3");
    FAILS(c, C_Q, "4");
    PASSES(c, C_Q, NULL); /* NULL OR NULL */
    check_free(c);

    /* BETWEEN SYMMETRIC */
    c = compile("CHECK ((((b >= 5) AND (b <= 1)) OR ((b >= 1) AND (b <= 5))))");
    PASSES(c, C_B, "3");
    FAILS(c, C_B, "6");
    check_free(c);

    /* NULL AND FALSE is FALSE: the false operand's column is blamed */
    c = compile("CHECK (((q > 0) AND ((b < 5) OR (NOT (s = 1)))))");
    row_clear();
    set(C_B, "10");
    set(C_S, "1");
    size_t blamed = 999;
    CHECK(c && !check_eval(c, row, &blamed));
    CHECK_EQ_LONG(blamed, C_B);
    set(C_S, "2"); /* NULL AND TRUE is NULL: passes */
    CHECK(c && check_eval(c, row, &blamed));
    set(C_Q, "0");
    CHECK(c && !check_eval(c, row, &blamed));
    CHECK_EQ_LONG(blamed, C_Q);
    check_free(c);

    c = compile("CHECK (((q <> NULL::integer) AND (tx <> NULL::text)))");
    PASSES(c, C_Q, "1"); /* a comparison with NULL is unknown */
    check_free(c);
}

static void test_null_and_boolean_tests(void)
{
    struct check_expr *c = compile("CHECK ((q IS NOT NULL))");
    PASSES(c, C_Q, "0");
    FAILS(c, C_Q, NULL);
    check_free(c);

    c = compile("CHECK ((tx IS NULL))");
    PASSES(c, C_TX, NULL);
    FAILS(c, C_TX, "");
    check_free(c);

    c = compile("CHECK ((j IS NOT NULL))"); /* json: only whether it is there */
    PASSES(c, C_J, "{}");
    FAILS(c, C_J, NULL);
    check_free(c);

    c = compile("CHECK (ok)");
    PASSES(c, C_OK, "t");
    FAILS(c, C_OK, "f");
    PASSES(c, C_OK, NULL);
    check_free(c);

    c = compile("CHECK ((NOT ok))");
    PASSES(c, C_OK, "f");
    FAILS(c, C_OK, "yes");
    check_free(c);

    c = compile("CHECK ((ok = true))");
    PASSES(c, C_OK, "on");
    FAILS(c, C_OK, "off");
    check_free(c);

    c = compile("CHECK ((ok IS TRUE))");
    PASSES(c, C_OK, "t");
    FAILS(c, C_OK, NULL); /* IS TRUE is never unknown */
    check_free(c);

    c = compile("CHECK ((ok IS NOT FALSE))");
    PASSES(c, C_OK, NULL);
    FAILS(c, C_OK, "0");
    check_free(c);

    c = compile("CHECK (((q > 0) IS NOT NULL))");
    PASSES(c, C_Q, "-1");
    FAILS(c, C_Q, NULL);
    check_free(c);
}

static void test_text_and_lengths(void)
{
    struct check_expr *c = compile("CHECK ((length((event_type)::text) = 3))");
    PASSES(c, C_EVENT, "abc");
    PASSES(c, C_EVENT, "h\xc3\xa9\xc3\xa9"); /* characters, not bytes */
    FAILS(c, C_EVENT, "ab");
    check_free(c);

    c = compile("CHECK ((char_length(tx) <= 5))");
    PASSES(c, C_TX, "12345");
    FAILS(c, C_TX, "123456");
    check_free(c);

    c = compile("CHECK (((length(tx) >= 1) AND (length(tx) <= 3)))");
    FAILS(c, C_TX, "");
    PASSES(c, C_TX, "abc");
    check_free(c);

    c = compile("CHECK ((length(c) < 3))"); /* char(n) without its padding */
    PASSES(c, C_C, "ab   ");
    FAILS(c, C_C, "abc");
    check_free(c);

    c = compile("CHECK ((tx = 'it''s'::text))");
    PASSES(c, C_TX, "it's");
    FAILS(c, C_TX, "its");
    check_free(c);

    c = compile("CHECK ((c = 'ab'::bpchar))");
    PASSES(c, C_C, "ab");
    PASSES(c, C_C, "ab   ");
    FAILS(c, C_C, " ab");
    check_free(c);

    /* order under the C collation is bytewise */
    c = compile("CHECK (((event_type)::text > 'a'::text))");
    PASSES(c, C_EVENT, "b");
    PASSES(c, C_EVENT, "a ");
    FAILS(c, C_EVENT, "a");
    FAILS(c, C_EVENT, "B");
    check_free(c);

    c = compile("CHECK ((((c)::text = 'ab'::text)))");
    PASSES(c, C_C, "ab  ");
    check_free(c);
}

static void test_other_types(void)
{
    struct check_expr *c = compile("CHECK ((d >= '2000-01-01'::date))");
    PASSES(c, C_D, "2000-01-01");
    FAILS(c, C_D, "1999-12-31");
    check_free(c);

    c = compile("CHECK ((ts < '2030-01-01 12:00:00'::timestamp without time zone))");
    PASSES(c, C_TS, "2030-01-01 11:59:59.999999");
    FAILS(c, C_TS, "2030-01-01 12:00:00");
    check_free(c);

    c = compile("CHECK ((tz > '2019-12-31 22:00:00+00'::timestamp with time zone))");
    PASSES(c, C_TZ, "2020-01-01 00:00:01+02");
    FAILS(c, C_TZ, "2020-01-01 00:00:00+02");
    check_free(c);

    c = compile("CHECK ((u <> '00000000-0000-0000-0000-000000000000'::uuid))");
    PASSES(c, C_U, "00000000-0000-0000-0000-000000000001");
    FAILS(c, C_U, "{00000000-0000-0000-0000-000000000000}");
    check_free(c);

    c = compile("CHECK ((m > 'sad'::mood))"); /* enums order by their labels' order */
    PASSES(c, C_M, "happy");
    FAILS(c, C_M, "sad");
    check_free(c);

    c = compile("CHECK ((\"Mixed Case\" > 0))");
    PASSES(c, C_MIXED, "1");
    FAILS(c, C_MIXED, "0");
    check_free(c);

    c = compile("CHECK ((q < b))"); /* two integer columns */
    row_clear();
    set(C_Q, "3");
    set(C_B, "4");
    size_t blamed;
    CHECK(c && check_eval(c, row, &blamed));
    set(C_B, "3");
    CHECK(c && !check_eval(c, row, &blamed) && blamed == C_Q);
    check_free(c);
}

static void test_suffixes_and_domains(void)
{
    struct check_expr *c = compile("CHECK ((q > 0)) NOT VALID");
    FAILS(c, C_Q, "0");
    check_free(c);
    c = compile("CHECK ((q > 1)) NO INHERIT NOT VALID");
    FAILS(c, C_Q, "1");
    check_free(c);

    /* a domain's constraint names its value VALUE */
    c = check_compile("CHECK (((VALUE >= 0) AND (VALUE <= 100)))", cols, NCOLS, C_S, NULL, why,
                      sizeof(why));
    PASSES(c, C_S, "100");
    FAILS(c, C_S, "101");
    check_free(c);
    c = check_compile("CHECK ((length((VALUE)::text) = 3))", cols, NCOLS, C_EVENT, NULL, why,
                      sizeof(why));
    FAILS(c, C_EVENT, "ab");
    check_free(c);
}

/* The constraint is not compiled, and why says so in words containing expect. */
static void refused(const char *def, const char *expect)
{
    struct check_expr *c = check_compile(def, cols, NCOLS, -1, NULL, why, sizeof(why));
    test_checks++;
    if (c || !strstr(why, expect)) {
        test_failures++;
        fprintf(stderr, "%s: %s, why \"%s\" (expected \"%s\")\n", def, c ? "compiled" : "refused",
                why, expect);
    }
    check_free(c);
}

static void test_refusals(void)
{
    refused("CHECK ((tx > 'abc'::text))", "orders text column \"tx\" under collation");
    refused("CHECK ((tx > ('a'::text COLLATE \"C\")))", "COLLATE");
    refused("CHECK ((lower(tx) = tx))", "calls lower()");
    refused("CHECK (((q + 1) > 0))", "operator +");
    refused("CHECK ((d > CURRENT_DATE))", "uses CURRENT_DATE");
    refused("CHECK ((ts < '2030-01-01'::date))", "compares column \"ts\" (timestamp) with a "
                                                 "constant of type date");
    refused("CHECK ((((event_type)::character varying(3))::text = 'abc'::text))",
            "with a modifier");
    refused("CHECK ((q > 2.5))", "compares column \"q\" (integer) with a constant of type numeric");
    refused("CHECK ((j = '{}'::jsonb))", "jsonb");
    refused("CHECK ((iv > '00:00:01'::interval))", "iv");
    refused("CHECK ((ROW(u, q) IS NOT NULL))", "ROW");
    refused("CHECK ((VALUE > 0))", "VALUE outside a domain");
    refused("CHECK ((nope > 0))", "names \"nope\", which is no column");
    refused("CHECK ((q > 0)", "expected");
    refused("CHECK ((tx = 'unterminated))", "not understood");
    refused("UNIQUE (q)", "is not a CHECK constraint");
    refused("", "is not a CHECK constraint");
    refused("CHECK ((q > 0)) garbage", "after its expression");
    refused("CHECK ((q IS DISTINCT FROM 1))", "IS DISTINCT");
    refused("CHECK ((price > 'abc'::numeric))", "not read as numeric");
    refused("CHECK ((f > (q)::double precision))", "casts column \"q\"");
    refused("CHECK ((q = ANY (ARRAY[1, b])))", "holds a column");

    /* deep nesting is refused, not recursed into */
    struct buf deep;
    buf_init(&deep);
    buf_append(&deep, "CHECK ", 6);
    for (int i = 0; i < 100000; i++)
        buf_putc(&deep, '(');
    buf_putc(&deep, '\0');
    refused(deep.data, "nests deeper");
    buf_reset(&deep);
    buf_append(&deep, "CHECK (", 7);
    for (int i = 0; i < 100000; i++)
        buf_append(&deep, "NOT ", 4);
    buf_append(&deep, "ok)", 4);
    refused(deep.data, "nests deeper");
    buf_release(&deep);
}

int main(void)
{
    setup_columns();
    test_comparisons_with_constants();
    test_floats();
    test_lists();
    test_between_and_logic();
    test_null_and_boolean_tests();
    test_text_and_lengths();
    test_other_types();
    test_suffixes_and_domains();
    test_refusals();
    pgtype_release(&cols[C_M].type);
    return TEST_DONE();
}
