/*
 * test_validate.c - a table's contract applied to rows, on the seed table (seed_table.h):
 * header binding (names, --column-map, case, strictness, required columns), the order of
 * reject codes, constraint verdicts, keys, and the exact COPY bytes of accepted and rejected
 * rows. Each type's own rules are tested by test_pgtype_*.c and the differential tests.
 *
 * Rows are built by hand as the CSV reader would deliver them (fields plus the raw line). Last,
 * a throughput figure for validating and encoding a million typical rows is printed; it is not
 * asserted on.
 */
#include "validate.h"
#include "contract.h"
#include "mem.h"
#include "seed_table.h"
#include "testutil.h"

#include <stdarg.h>
#include <stdint.h>
#include <time.h>

#define HEADER "event_id,event_time,event_type,product_id,price,user_id,session_id"
#define MAX_TEST_FIELDS 16

/* The seed table's columns, in table order. */
enum { COL_EVENT_ID, COL_EVENT_TIME, COL_EVENT_TYPE, COL_PRODUCT_ID, COL_PRICE, COL_USER_ID,
       COL_SESSION_ID, COL_COUNT };

/* How the seed table's constraints appear in messages. */
#define ET_CHECK                                                                                   \
    "user_activity_event_type_check (((event_type)::text = ANY ((ARRAY['view'::character "       \
    "varying, 'purchase'::character varying])::text[])))"
#define PRICE_CHECK "user_activity_price_check ((price > (0)::numeric))"
#define PID_CHECK "user_activity_product_id_check ((product_id > 0))"
#define UID_CHECK "user_activity_user_id_check ((user_id > 0))"

static struct table_def seed_def;
static bool seed_ready;

static void new_schema_free(struct schema *s)
{
    schema_free(s);
}

static struct schema *new_schema(void)
{
    if (!seed_ready) {
        seed_table(&seed_def);
        seed_ready = true;
    }
    struct schema_options o = {.table = &seed_def};
    char err[256];
    return schema_new(&o, err, sizeof(err));
}

/* A hand-made reader row: fields as given, raw = the fields joined by commas. */
struct trow {
    struct csv_row row;
    const char *f[MAX_TEST_FIELDS];
    size_t len[MAX_TEST_FIELDS];
    char raw[4096];
};

/* Fields with explicit lengths (they may hold NUL bytes). */
static const struct csv_row *row_n(struct trow *t, uint64_t line, size_t n, const char *const *f,
                                   const size_t *len)
{
    memset(&t->row, 0, sizeof(t->row));
    size_t r = 0;
    for (size_t i = 0; i < n; i++) {
        t->f[i] = f[i];
        t->len[i] = len[i];
        if (i)
            t->raw[r++] = ',';
        memcpy(t->raw + r, f[i], len[i]);
        r += len[i];
    }
    t->row.status = CSV_ROW_OK;
    t->row.nfields = n;
    t->row.fields = t->f;
    t->row.lengths = t->len;
    t->row.raw = t->raw;
    t->row.raw_len = r;
    t->row.line = line;
    return &t->row;
}

/* A comma-separated line split into fields (no quoting), as a row; the fields point into the
 * row's own raw copy. */
static const struct csv_row *row_s(struct trow *t, uint64_t line, const char *csv)
{
    size_t total = strlen(csv), n = 0;
    memset(&t->row, 0, sizeof(t->row));
    memcpy(t->raw, csv, total + 1);
    const char *p = t->raw;
    for (;;) {
        const char *c = strchr(p, ',');
        t->f[n] = p;
        t->len[n] = c ? (size_t)(c - p) : strlen(p);
        n++;
        if (!c)
            break;
        p = c + 1;
    }
    t->row.status = CSV_ROW_OK;
    t->row.nfields = n;
    t->row.fields = t->f;
    t->row.lengths = t->len;
    t->row.raw = t->raw;
    t->row.raw_len = total;
    t->row.line = line;
    return &t->row;
}

static struct schema *bound_schema(const char *header)
{
    struct schema *s = new_schema();
    struct trow t;
    struct verdict v;
    CHECK(s != NULL);
    CHECK_EQ_LONG(schema_bind_header(s, row_s(&t, 1, header), &v), 0);
    return s;
}

/* The row must be accepted with exactly this COPY line. */
#define EXPECT_OK(s, row, line)                                                                    \
    do {                                                                                           \
        struct buf b_;                                                                             \
        struct verdict v_;                                                                         \
        buf_init(&b_);                                                                             \
        bool ok_ = schema_validate_row((s), (row), &b_, &v_);                                      \
        CHECK(ok_);                                                                                \
        if (!ok_)                                                                                  \
            fprintf(stderr, "  rejected: %s %ld %s\n", reject_code_name(v_.code), v_.column,        \
                    v_.message);                                                                   \
        CHECK_EQ_MEM(b_.data ? b_.data : "", b_.len, (line));                                      \
        CHECK_EQ_LONG(v_.code, REJECT_NONE);                                                       \
        buf_release(&b_);                                                                          \
    } while (0)

/* The row must be rejected with this code, column and message, leaving the output untouched. */
#define EXPECT_REJECT(s, row, want_code, col, msg)                                                 \
    do {                                                                                           \
        struct buf b_;                                                                             \
        struct verdict v_;                                                                         \
        buf_init(&b_);                                                                             \
        buf_append(&b_, "X", 1);                                                                   \
        CHECK(!schema_validate_row((s), (row), &b_, &v_));                                         \
        CHECK_EQ_MEM(b_.data, b_.len, "X");                                                        \
        CHECK_EQ_STR(reject_code_name(v_.code), reject_code_name(want_code));                      \
        CHECK_EQ_LONG(v_.column, (col));                                                           \
        CHECK_EQ_STR(v_.message, (msg));                                                           \
        buf_release(&b_);                                                                          \
    } while (0)

/* A standard-header row with one column replaced. */
static const struct csv_row *with(struct trow *t, int col, const char *value)
{
    const char *f[COL_COUNT] = {"e1", "2024-05-01 10:20:30", "view", "101", "19.99", "7", "s1"};
    size_t len[COL_COUNT];
    f[col] = value;
    for (int i = 0; i < COL_COUNT; i++)
        len[i] = strlen(f[i]);
    return row_n(t, 2, COL_COUNT, f, len);
}

/* The COPY line of the standard row with one column's output replaced. */
static const char *line_with(int col, const char *out)
{
    static char line[512];
    const char *f[COL_COUNT] = {"e1", "2024-05-01 10:20:30", "view", "101", "19.99", "7", "s1"};
    f[col] = out;
    snprintf(line, sizeof(line), "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f[0], f[1], f[2], f[3], f[4], f[5],
             f[6]);
    return line;
}

static void test_names(void)
{
    const char *want[] = {"none",
                          "missing_field",
                          "bad_value",
                          "rule_violation",
                          "wrong_column_count",
                          "bad_encoding",
                          "unterminated_quote",
                          "row_too_long",
                          "duplicate_key",
                          "bad_header",
                          "bad_file",
                          "db_rejected"};
    for (int c = 0; c < REJECT_CODE_COUNT; c++)
        CHECK_EQ_STR(reject_code_name((enum reject_code)c), want[c]);
    const char *cols[] = {"event_id", "event_time", "event_type", "product_id",
                          "price",    "user_id",    "session_id"};
    new_schema_free(new_schema());
    CHECK_EQ_LONG(seed_def.ncols, COL_COUNT);
    for (int c = 0; c < COL_COUNT; c++)
        CHECK_EQ_STR(seed_def.cols[c].name, cols[c]);
}

static void test_event_type_list(void)
{
    struct table_column varchar_col = {.name = "event_type"}, text_col = {.name = "event_type"},
                        int_col = {.name = "event_type"};
    pgtype_from_catalog(&varchar_col.type, "varchar", 24);
    pgtype_from_catalog(&text_col.type, "text", -1);
    pgtype_from_catalog(&int_col.type, "int4", -1);
    const char *bad[] = {"", ",", "view,,purchase", "view,", ",view", "view, ,purchase", "a\tb",
                         "caf\xc3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        CHECK(contract_event_types_check(&varchar_col, bad[i]) == NULL);
    CHECK(contract_event_types_check(&int_col, "view") == NULL);
    /* spaces around items are separators; quotes are doubled */
    char *def = contract_event_types_check(&varchar_col, " view , purchase,it's");
    CHECK_EQ_STR(def, "CHECK (((event_type)::text = ANY ((ARRAY['view'::text, 'purchase'::text, "
                      "'it''s'::text])::text[])))");
    free(def);
    def = contract_event_types_check(&text_col, "view");
    CHECK_EQ_STR(def, "CHECK ((event_type = ANY (ARRAY['view'::text])))");
    free(def);
}

static void test_header_binding(void)
{
    struct schema *s = new_schema();
    struct trow t, r;
    struct verdict v;

    /* reordered, with extra columns (even one named like nothing we know, twice) */
    CHECK_EQ_LONG(schema_bind_header(s,
                                     row_s(&t, 1,
                                           "note,session_id,price,x,event_type,user_id,x,"
                                           "event_time,product_id,event_id"),
                                     &v),
                  0);
    CHECK_EQ_LONG(v.code, REJECT_NONE);
    /* the COPY names the columns in the file's order */
    CHECK_EQ_STR(schema_copy_columns(s), "(\"session_id\", \"price\", \"event_type\", \"user_id\", "
                                         "\"event_time\", \"product_id\", \"event_id\")");
    EXPECT_OK(s, row_s(&r, 2, "hello,sess,12.5,,view,42,,2024-01-02T03:04:05,9,ev-1"),
              "sess\t12.50\tview\t42\t2024-01-02 03:04:05\t9\tev-1\n");
    /* checks run in the file's column order */
    EXPECT_REJECT(s, row_s(&r, 2, "hello,sess,0,,bogus,42,,2024-01-02T03:04:05,9,ev-1"),
                  REJECT_RULE_VIOLATION, COL_PRICE,
                  "price: '0' violates " PRICE_CHECK "; event_type: 'bogus' violates " ET_CHECK);
    EXPECT_REJECT(s, row_s(&r, 2, "a,b,1"), REJECT_WRONG_COLUMN_COUNT, -1,
                  "expected 10 fields, got 3");

    /* missing columns: the NOT NULL ones without a default are required, all named */
    CHECK_EQ_LONG(schema_bind_header(s, row_s(&t, 1, "event_id,event_time,event_type,user_id"), &v),
                  -1);
    CHECK_EQ_LONG(v.code, REJECT_BAD_HEADER);
    CHECK_EQ_LONG(v.column, -1);
    CHECK_EQ_STR(v.message,
                 "missing required column 'product_id'; missing required column 'price'");
    /* a failed bind leaves no header bound */
    EXPECT_REJECT(s, row_s(&r, 2, "e1,2024-05-01 10:20:30,view,101,19.99,7,s1"), REJECT_BAD_HEADER,
                  -1, "no header bound");
    /* a nullable column may be missing: it is left out of the COPY (NULL or its default) */
    CHECK_EQ_LONG(
        schema_bind_header(
            s, row_s(&t, 1, "event_id,event_time,event_type,product_id,price,user_id"), &v),
        0);
    EXPECT_OK(s, row_s(&r, 2, "e1,2024-05-01 10:20:30,view,101,19.99,7"),
              "e1\t2024-05-01 10:20:30\tview\t101\t19.99\t7\n");

    CHECK_EQ_LONG(schema_bind_header(s, row_s(&t, 1, HEADER ",price"), &v), -1);
    CHECK_EQ_STR(v.message, "duplicate column 'price' (fields 5 and 8)");
    CHECK_EQ_LONG(v.code, REJECT_BAD_HEADER);

    /* case does not matter when only one column matches; surrounding spaces do */
    CHECK_EQ_LONG(schema_bind_header(s,
                                     row_s(&t, 1,
                                           "Event_ID,event_time,event_type,product_id, price,"
                                           "user_id,session_id"),
                                     &v),
                  -1);
    CHECK_EQ_STR(v.message, "missing required column 'price'");
    CHECK_EQ_LONG(schema_bind_header(s, row_s(&t, 1, "EVENT_ID,Event_Time,event_type,product_id,"
                                                     "PRICE,user_id"),
                                     &v),
                  0);

    /* a BOM left on the first name is tolerated */
    CHECK_EQ_LONG(schema_bind_header(s, row_s(&t, 1, "\xef\xbb\xbf" HEADER), &v), 0);
    EXPECT_OK(s, with(&r, COL_PRICE, "1"), line_with(COL_PRICE, "1.00"));

    /* binary headers */
    CHECK_EQ_LONG(schema_bind_header(s, row_s(&t, 1, HEADER ",caf\xe9"), &v), -1);
    CHECK_EQ_LONG(v.code, REJECT_BAD_HEADER);
    CHECK_EQ_STR(v.message, "header row is not valid UTF-8 (bad byte 0xe9 at offset 70)");
    {
        const char *f[] = {"event_id", "event_time", "event_type", "product_id",
                           "price",    "user_id",    "session_id", "a\0b"};
        size_t len[] = {8, 10, 10, 10, 5, 7, 10, 3};
        CHECK_EQ_LONG(schema_bind_header(s, row_n(&t, 1, 8, f, len), &v), -1);
        CHECK_EQ_STR(v.message, "header row has a NUL byte at offset 68");
    }
    row_s(&t, 1, HEADER);
    t.row.status = CSV_ROW_TOO_LONG;
    t.row.nfields = 0;
    CHECK_EQ_LONG(schema_bind_header(s, &t.row, &v), -1);
    CHECK_EQ_LONG(v.code, REJECT_BAD_HEADER);
    CHECK_EQ_STR(v.message, "header row is longer than the row size limit");
    t.row.status = CSV_ROW_UNTERMINATED_QUOTE;
    CHECK_EQ_LONG(schema_bind_header(s, &t.row, &v), -1);
    CHECK_EQ_STR(v.message, "header row has an unterminated quoted field");
    CHECK_EQ_LONG(schema_bind_header(s, row_s(&t, 1, ""), &v), -1);
    CHECK(strstr(v.message, "missing required column 'event_id'") == v.message);
    schema_free(s);
}

static void test_valid_row_output(void)
{
    struct schema *s = bound_schema(HEADER);
    struct trow t;
    EXPECT_OK(s, row_s(&t, 2, "evt-001,2024-05-01 10:20:30,purchase,1234,49.90,77,sess-9"),
              "evt-001\t2024-05-01 10:20:30\tpurchase\t1234\t49.90\t77\tsess-9\n");
    /* empty session_id is NULL */
    EXPECT_OK(s, with(&t, COL_SESSION_ID, ""), line_with(COL_SESSION_ID, "\\N"));
    /* text is COPY-escaped: backslash, tab, newline, CR; "\." cannot end the COPY */
    EXPECT_OK(s, with(&t, COL_EVENT_ID, "a\\b\tc\nd\re"),
              line_with(COL_EVENT_ID, "a\\\\b\\tc\\nd\\re"));
    EXPECT_OK(s, with(&t, COL_EVENT_ID, "\\."), line_with(COL_EVENT_ID, "\\\\."));
    EXPECT_OK(s, with(&t, COL_SESSION_ID, "\\N"), line_with(COL_SESSION_ID, "\\\\N"));
    EXPECT_OK(s, with(&t, COL_SESSION_ID, "x\ty"), line_with(COL_SESSION_ID, "x\\ty"));
    /* multi-byte UTF-8 of every length passes through */
    EXPECT_OK(s, with(&t, COL_EVENT_ID, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"),
              line_with(COL_EVENT_ID, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"));
    /* appends after what the buffer holds */
    struct buf b;
    struct verdict v;
    buf_init(&b);
    buf_append(&b, "prefix|", 7);
    CHECK(schema_validate_row(s, with(&t, COL_PRICE, "5"), &b, &v));
    CHECK(schema_validate_row(s, with(&t, COL_PRICE, "6"), &b, &v));
    CHECK_EQ_MEM(b.data, b.len,
                 "prefix|e1\t2024-05-01 10:20:30\tview\t101\t5.00\t7\ts1\n"
                 "e1\t2024-05-01 10:20:30\tview\t101\t6.00\t7\ts1\n");
    buf_release(&b);
    schema_free(s);
}

static void test_text_columns(void)
{
    struct schema *s = bound_schema(HEADER);
    struct trow t;
    const char *id50 = "01234567890123456789012345678901234567890123456789";
    const char *id51 = "012345678901234567890123456789012345678901234567890";
    EXPECT_OK(s, with(&t, COL_EVENT_ID, id50), line_with(COL_EVENT_ID, id50));
    EXPECT_REJECT(s, with(&t, COL_EVENT_ID, id51), REJECT_BAD_VALUE, COL_EVENT_ID,
                  "event_id: longer than 50 characters (got 51)");
    EXPECT_REJECT(s, with(&t, COL_EVENT_ID, ""), REJECT_MISSING_FIELD, COL_EVENT_ID,
                  "event_id: required value is empty");
    EXPECT_OK(s, with(&t, COL_EVENT_ID, "x"), line_with(COL_EVENT_ID, "x"));
    /* lengths are in characters: 50 two-byte characters fit, 51 do not */
    char u50[128] = "", u51[128] = "";
    for (int i = 0; i < 50; i++)
        memcpy(u50 + 2 * i, "\xc3\xa9", 3);
    memcpy(u51, u50, 100);
    memcpy(u51 + 100, "\xc3\xa9", 3);
    EXPECT_OK(s, with(&t, COL_EVENT_ID, u50), line_with(COL_EVENT_ID, u50));
    EXPECT_REJECT(s, with(&t, COL_EVENT_ID, u51), REJECT_BAD_VALUE, COL_EVENT_ID,
                  "event_id: longer than 50 characters (got 51)");
    EXPECT_OK(s, with(&t, COL_SESSION_ID, id50), line_with(COL_SESSION_ID, id50));
    EXPECT_REJECT(s, with(&t, COL_SESSION_ID, id51), REJECT_BAD_VALUE, COL_SESSION_ID,
                  "session_id: longer than 50 characters (got 51)");

    /* event_type: exact, case-sensitive */
    EXPECT_OK(s, with(&t, COL_EVENT_TYPE, "purchase"), line_with(COL_EVENT_TYPE, "purchase"));
    EXPECT_REJECT(s, with(&t, COL_EVENT_TYPE, "View"), REJECT_RULE_VIOLATION, COL_EVENT_TYPE,
                  "event_type: 'View' violates " ET_CHECK);
    EXPECT_REJECT(s, with(&t, COL_EVENT_TYPE, "unknown_event"), REJECT_RULE_VIOLATION,
                  COL_EVENT_TYPE, "event_type: 'unknown_event' violates " ET_CHECK);
    EXPECT_REJECT(s, with(&t, COL_EVENT_TYPE, "vie"), REJECT_RULE_VIOLATION, COL_EVENT_TYPE,
                  "event_type: 'vie' violates " ET_CHECK);
    EXPECT_REJECT(s, with(&t, COL_EVENT_TYPE, "views"), REJECT_RULE_VIOLATION, COL_EVENT_TYPE,
                  "event_type: 'views' violates " ET_CHECK);
    EXPECT_REJECT(s, with(&t, COL_EVENT_TYPE, ""), REJECT_MISSING_FIELD, COL_EVENT_TYPE,
                  "event_type: required value is empty");
    /* a long bad value is quoted cut at a character boundary */
    char longv[200];
    memset(longv, 'a', 59);
    memcpy(longv + 59, "\xe2\x82\xac", 3); /* bytes 59..61: the cut at 60 falls inside */
    memset(longv + 62, 'b', 100);
    longv[162] = '\0';
    char want[300];
    snprintf(want, sizeof(want), "price: not a number (got '%.59s...')", longv);
    EXPECT_REJECT(s, with(&t, COL_PRICE, longv), REJECT_BAD_VALUE, COL_PRICE, want);
    EXPECT_REJECT(s, with(&t, COL_EVENT_TYPE, longv), REJECT_BAD_VALUE, COL_EVENT_TYPE,
                  "event_type: longer than 20 characters (got 160)");
    schema_free(s);
}

static void test_problem_order(void)
{
    struct schema *s = bound_schema(HEADER);
    struct trow t;
    /* the first problem sets code and column: the values in header order, then the
     * constraints (those on values that parsed) in header order; the message lists them all */
    EXPECT_REJECT(s, row_s(&t, 2, "e1,2024-05-01 10:20:30,unknown_event,101,-50.0,7,"),
                  REJECT_RULE_VIOLATION, COL_EVENT_TYPE,
                  "event_type: 'unknown_event' violates " ET_CHECK "; "
                  "price: '-50.0' violates " PRICE_CHECK);
    EXPECT_REJECT(s, row_s(&t, 2, ",2023-02-29 00:00:00,view,x,1.234,0,"), REJECT_MISSING_FIELD,
                  COL_EVENT_ID,
                  "event_id: required value is empty; event_time: no such date (got "
                  "'2023-02-29 00:00:00'); product_id: not an integer (got 'x'); price: more "
                  "than 2 decimal places (got '1.234'); user_id: '0' violates " UID_CHECK);
    EXPECT_REJECT(s, row_s(&t, 2, "e1,2024-05-01 10:20:30,view,0,,7,s"), REJECT_MISSING_FIELD,
                  COL_PRICE,
                  "price: required value is empty; product_id: '0' violates " PID_CHECK);
    schema_free(s);

    /* the file's order, not the table's */
    s = bound_schema("price,event_type,user_id,product_id,event_time,event_id,session_id");
    EXPECT_REJECT(s, row_s(&t, 2, "-50.0,unknown_event,7,101,2024-05-01 10:20:30,e1,"),
                  REJECT_RULE_VIOLATION, COL_PRICE,
                  "price: '-50.0' violates " PRICE_CHECK "; "
                  "event_type: 'unknown_event' violates " ET_CHECK);
    EXPECT_OK(s, row_s(&t, 2, "3,purchase,7,101,2024-05-01 10:20:30,e1,"),
              "3.00\tpurchase\t7\t101\t2024-05-01 10:20:30\te1\t\\N\n");
    schema_free(s);

    /* a message too long for the verdict is cut with "..." and stays a whole string */
    s = new_schema();
    struct trow h;
    struct verdict v;
    CHECK_EQ_LONG(schema_bind_header(s, row_s(&h, 1, HEADER), &v), 0);
    char big[7][200];
    const char *f[7];
    size_t len[7];
    for (int i = 0; i < 7; i++) {
        memset(big[i], 'z', 120);
        big[i][120] = '\0';
        f[i] = big[i];
        len[i] = 120;
    }
    struct buf b;
    buf_init(&b);
    CHECK(!schema_validate_row(s, row_n(&t, 2, 7, f, len), &b, &v));
    CHECK_EQ_LONG(b.len, 0);
    CHECK_EQ_LONG(v.code, REJECT_BAD_VALUE);
    CHECK_EQ_LONG(v.column, COL_EVENT_ID);
    CHECK_EQ_LONG(strlen(v.message), sizeof(v.message) - 1);
    CHECK(memcmp(v.message + sizeof(v.message) - 4, "...", 3) == 0);
    buf_release(&b);
    schema_free(s);
}

static void test_row_structure(void)
{
    struct schema *s = bound_schema(HEADER);
    struct trow t;
    with(&t, COL_EVENT_ID, "e1");
    t.row.status = CSV_ROW_TOO_LONG;
    t.row.nfields = 0;
    EXPECT_REJECT(s, &t.row, REJECT_ROW_TOO_LONG, -1,
                  "row is longer than the row size limit (42 bytes)");
    t.row.status = CSV_ROW_UNTERMINATED_QUOTE;
    EXPECT_REJECT(s, &t.row, REJECT_UNTERMINATED_QUOTE, -1,
                  "quoted field not closed before the end of the file");

    EXPECT_REJECT(s, row_s(&t, 2, "e1,2024-05-01 10:20:30,view,101,19.99,7"),
                  REJECT_WRONG_COLUMN_COUNT, -1, "expected 7 fields, got 6");
    EXPECT_REJECT(s, row_s(&t, 2, "e1,2024-05-01 10:20:30,view,101,19.99,7,s,"),
                  REJECT_WRONG_COLUMN_COUNT, -1, "expected 7 fields, got 8");
    EXPECT_REJECT(s, row_s(&t, 2, "\\."), REJECT_WRONG_COLUMN_COUNT, -1,
                  "expected 7 fields, got 1");

    /* strict UTF-8: each bad sequence at offset 3 of the event_id "ab<bad>" */
    static const struct {
        const char *bytes;
        const char *msg;
    } bad[] = {
        {"\xc0\x80", "not valid UTF-8 (bad byte 0xc0 at offset 2)"},         /* overlong NUL */
        {"\xc1\xbf", "not valid UTF-8 (bad byte 0xc1 at offset 2)"},         /* overlong */
        {"\xe0\x80\xaf", "not valid UTF-8 (bad byte 0xe0 at offset 2)"},     /* overlong '/' */
        {"\xe0\x9f\xbf", "not valid UTF-8 (bad byte 0xe0 at offset 2)"},     /* overlong */
        {"\xf0\x8f\xbf\xbf", "not valid UTF-8 (bad byte 0xf0 at offset 2)"}, /* overlong */
        {"\xed\xa0\x80", "not valid UTF-8 (bad byte 0xed at offset 2)"},     /* U+D800 */
        {"\xed\xbf\xbf", "not valid UTF-8 (bad byte 0xed at offset 2)"},     /* U+DFFF */
        {"\xf4\x90\x80\x80", "not valid UTF-8 (bad byte 0xf4 at offset 2)"}, /* U+110000 */
        {"\xf5\x80\x80\x80", "not valid UTF-8 (bad byte 0xf5 at offset 2)"},
        {"\xff", "not valid UTF-8 (bad byte 0xff at offset 2)"},
        {"\x80", "not valid UTF-8 (bad byte 0x80 at offset 2)"},     /* lone continuation */
        {"\xe2\x82", "not valid UTF-8 (bad byte 0xe2 at offset 2)"}, /* truncated */
        {"\xc3", "not valid UTF-8 (bad byte 0xc3 at offset 2)"},     /* truncated */
        {"\xf0\x9f\x98", "not valid UTF-8 (bad byte 0xf0 at offset 2)"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        char id[16];
        snprintf(id, sizeof(id), "ab%s", bad[i].bytes);
        EXPECT_REJECT(s, with(&t, COL_EVENT_ID, id), REJECT_BAD_ENCODING, -1, bad[i].msg);
    }
    /* at the very end of the row: the truncated sequence has no bytes after it */
    EXPECT_REJECT(s, with(&t, COL_SESSION_ID, "s\xe2\x82"), REJECT_BAD_ENCODING, -1,
                  "not valid UTF-8 (bad byte 0xe2 at offset 41)");
    /* the edges that are valid */
    EXPECT_OK(s, with(&t, COL_EVENT_ID, "\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"),
              line_with(COL_EVENT_ID, "\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"));
    EXPECT_OK(s, with(&t, COL_EVENT_ID, "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\x7f\x01"),
              line_with(COL_EVENT_ID, "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\x7f\x01"));
    {
        const char *f[] = {"e\0001", "2024-05-01 10:20:30", "view", "1", "1", "1", ""};
        size_t len[] = {3, 19, 4, 1, 1, 1, 0};
        EXPECT_REJECT(s, row_n(&t, 2, 7, f, len), REJECT_BAD_ENCODING, -1, "NUL byte at offset 1");
        /* encoding and column count both reported; encoding is first */
        EXPECT_REJECT(s, row_n(&t, 2, 6, f, len), REJECT_BAD_ENCODING, -1,
                      "NUL byte at offset 1; expected 7 fields, got 6");
    }
    /* a NUL far into a long ASCII row (the eight-byte fast path must see it) */
    {
        char id[41];
        memset(id, 'q', 40);
        id[40] = '\0';
        const char *f[] = {id, "2024-05-01 10:20:30", "view", "1", "1", "1", "abcdefgh\0ijklmn"};
        size_t len[] = {40, 19, 4, 1, 1, 1, 15};
        EXPECT_REJECT(s, row_n(&t, 2, 7, f, len), REJECT_BAD_ENCODING, -1, "NUL byte at offset 80");
    }
    schema_free(s);
}

static void test_reject_lines(void)
{
    struct schema *s = bound_schema(HEADER);
    struct trow t;
    struct verdict v;
    struct buf b;
    buf_init(&b);

    /* the original's sample: every field's raw text, code, column, message, file, line, raw */
    const struct csv_row *r = row_s(&t, 12, "e9,2024-05-01 10:20:30,view,101,-50.0,7,s1");
    CHECK(!schema_validate_row(s, r, &b, &v));
    schema_encode_reject(s, r, &v, "events_1.csv", &b);
    CHECK_EQ_MEM(b.data, b.len,
                 "e9\t2024-05-01 10:20:30\tview\t101\t-50.0\t7\ts1\trule_violation\tprice\t"
                 "price: '-50.0' violates " PRICE_CHECK "\tevents_1.csv\t12\t"
                 "e9,2024-05-01 10:20:30,view,101,-50.0,7,s1\n");

    /* tabs, newlines and backslashes in fields, message and raw line are escaped */
    buf_reset(&b);
    r = row_s(&t, 3, "a\tb,2024-05-01 10:20:30,vi\\ew,1,1,1,x\ny");
    CHECK(!schema_validate_row(s, r, &b, &v));
    schema_encode_reject(s, r, &v, "dir\\f\tile.csv", &b);
    CHECK_EQ_MEM(b.data, b.len,
                 "a\\tb\t2024-05-01 10:20:30\tvi\\\\ew\t1\t1\t1\tx\\ny\t"
                 "rule_violation\tevent_type\tevent_type: 'vi\\\\ew' violates " ET_CHECK "\t"
                 "dir\\\\f\\tile.csv\t3\ta\\tb,2024-05-01 10:20:30,vi\\\\ew,1,1,1,x\\ny\n");

    /* invalid bytes: the field becomes \N, the raw line shows \xNN (as \\xNN in COPY text) */
    buf_reset(&b);
    {
        const char *f[] = {"ok", "2024-05-01 10:20:30", "v\xff", "1", "\\1", "\0", "\xc3\xa9"};
        size_t len[] = {2, 19, 2, 1, 2, 1, 2};
        r = row_n(&t, 4, 7, f, len);
    }
    CHECK(!schema_validate_row(s, r, &b, &v));
    schema_encode_reject(s, r, &v, "bad\xfe.csv", &b);
    CHECK_EQ_MEM(b.data, b.len,
                 "ok\t2024-05-01 10:20:30\t\\N\t1\t\\\\1\t\\N\t\xc3\xa9\tbad_encoding\t\\N\t"
                 "not valid UTF-8 (bad byte 0xff at offset 24)\tbad\\\\xfe.csv\t4\t"
                 "ok,2024-05-01 10:20:30,v\\\\xff,1,\\\\1,\\\\x00,\xc3\xa9\n");

    /* "\." as a whole row: never a COPY end marker */
    buf_reset(&b);
    r = row_s(&t, 5, "\\.");
    CHECK(!schema_validate_row(s, r, &b, &v));
    schema_encode_reject(s, r, &v, "f.csv", &b);
    CHECK_EQ_MEM(b.data, b.len,
                 "\\\\.\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\twrong_column_count\t\\N\t"
                 "expected 7 fields, got 1\tf.csv\t5\t\\\\.\n");

    /* a too-long row has no fields; its raw prefix may end inside a character */
    buf_reset(&b);
    row_s(&t, 6, "abc\xe2\x82");
    t.row.status = CSV_ROW_TOO_LONG;
    t.row.nfields = 0;
    CHECK(!schema_validate_row(s, &t.row, &b, &v));
    schema_encode_reject(s, &t.row, &v, "f.csv", &b);
    CHECK_EQ_MEM(b.data, b.len,
                 "\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\trow_too_long\t\\N\t"
                 "row is longer than the row size limit (5 bytes)\tf.csv\t6\tabc\\\\xe2\\\\x82\n");

    /* a bad header: no header bound, so no fields; a caller-made message is sanitized too */
    buf_reset(&b);
    struct trow h;
    CHECK_EQ_LONG(schema_bind_header(s, row_s(&h, 1, "event_id,price"), &v), -1);
    schema_encode_reject(s, &h.row, &v, "h.csv", &b);
    CHECK_EQ_MEM(b.data, b.len,
                 "\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\tbad_header\t\\N\t"
                 "missing required column 'event_time'; missing required column 'event_type'; "
                 "missing required column 'product_id'; missing required column 'user_id'"
                 "\th.csv\t1\tevent_id,price\n");
    buf_reset(&b);
    struct verdict cv = {.code = REJECT_BAD_HEADER, .column = -1};
    snprintf(cv.message, sizeof(cv.message), "file '\xff\\x' is too big");
    struct csv_row empty = {.line = 1, .raw = ""};
    schema_encode_reject(s, &empty, &cv, NULL, &b); /* s has no header bound now */
    CHECK_EQ_MEM(b.data, b.len,
                 "\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\tbad_header\t\\N\t"
                 "file '\\\\xff\\\\x' is too big\t\\N\t1\t\n");

    /* a big raw line with invalid bytes throughout goes through the block loop */
    buf_reset(&b);
    static char rawbig[20000];
    for (size_t i = 0; i < sizeof(rawbig); i++)
        rawbig[i] = (i % 3 == 0) ? '\xff' : (i % 3 == 1) ? '\t' : 'a';
    struct csv_row big = {
        .status = CSV_ROW_TOO_LONG, .raw = rawbig, .raw_len = sizeof(rawbig), .line = 9};
    struct verdict bv = {.code = REJECT_ROW_TOO_LONG, .column = -1};
    schema_encode_reject(s, &big, &bv, "f", &b);
    const char *prefix = "\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\trow_too_long\t\\N\t\tf\t9\t";
    size_t pl = strlen(prefix);
    /* 6666 groups of \xff (5 bytes in COPY text), \t (2), a (1); then \xff, \t; newline */
    CHECK_EQ_LONG(b.len, pl + 6666 * 8 + 5 + 2 + 1);
    CHECK(memcmp(b.data, prefix, pl) == 0);
    CHECK(memcmp(b.data + pl, "\\\\xff\\ta\\\\xff\\ta", 16) == 0);
    CHECK(b.data[b.len - 1] == '\n');
    CHECK(memchr(b.data, '\n', b.len) == b.data + b.len - 1);
    buf_release(&b);
    schema_free(s);
}

static void test_copy_text_escape(void)
{
    struct buf b;
    buf_init(&b);
    copy_text_escape(&b, "", 0);
    CHECK_EQ_LONG(b.len, 0);
    copy_text_escape(&b, "a\\b\tc\nd\re\x01\xc3\xa9", 12);
    CHECK_EQ_MEM(b.data, b.len, "a\\\\b\\tc\\nd\\re\x01\xc3\xa9");
    buf_reset(&b);
    copy_text_escape(&b, "\\.", 2);
    CHECK_EQ_MEM(b.data, b.len, "\\\\.");
    buf_release(&b);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Typical rows, validated and encoded; a few percent are rejects. Not asserted on. */
static void bench(void)
{
    enum { NDISTINCT = 1024, NROWS = 1000000 };
    struct schema *s = bound_schema(HEADER);
    struct trow *rows = xcalloc(NDISTINCT, sizeof(*rows));
    for (int i = 0; i < NDISTINCT; i++) {
        char line[256];
        snprintf(line, sizeof(line),
                 "evt-%08d-%04x,2024-%02d-%02d %02d:%02d:%02d%s,%s,%d,%d.%02d,%d,%s%d", i * 7919, i,
                 1 + i % 12, 1 + i % 28, i % 24, i % 60, (i * 7) % 60, i % 4 == 0 ? ".123" : "",
                 i % 3 ? "view" : "purchase", 1000 + i, i % 500, i % 100, 50000 + i,
                 i % 5 ? "sess-" : "", i);
        if (i % 50 == 0)
            memcpy(strstr(line, "view") ? strstr(line, "view") : strstr(line, "purchase"), "xx", 2);
        row_s(&rows[i], (uint64_t)i + 2, line);
    }
    long want_bad = 0;
    for (int i = 0; i < NROWS; i++)
        want_bad += (i % NDISTINCT) % 50 == 0;
    struct buf out, rej;
    buf_init(&out);
    buf_init(&rej);
    struct verdict v;
    long ok = 0, bad = 0;
    size_t bytes = 0;
    double t0 = now_seconds();
    for (int i = 0; i < NROWS; i++) {
        const struct csv_row *r = &rows[i % NDISTINCT].row;
        if (schema_validate_row(s, r, &out, &v)) {
            ok++;
        } else {
            schema_encode_reject(s, r, &v, "bench.csv", &rej);
            bad++;
        }
        if (out.len > 1 << 20) {
            bytes += out.len;
            buf_reset(&out);
        }
        if (rej.len > 1 << 20)
            buf_reset(&rej);
    }
    double dt = now_seconds() - t0;
    bytes += out.len;
    printf("validate+encode: %d rows (%ld ok, %ld rejected) in %.3f s = %.2f M rows/s, "
           "%.0f MB/s of COPY text\n",
           NROWS, ok, bad, dt, NROWS / dt / 1e6, (double)bytes / dt / 1e6);
    CHECK_EQ_LONG(bad, want_bad);
    free(rows);
    buf_release(&out);
    buf_release(&rej);
    schema_free(s);
}

int main(void)
{
    test_names();
    test_event_type_list();
    test_header_binding();
    test_valid_row_output();
    test_text_columns();
    test_problem_order();
    test_row_structure();
    test_reject_lines();
    test_copy_text_escape();
    bench();
    table_def_release(&seed_def);
    return TEST_DONE();
}
