/*
 * test_csv_reader.c - the streaming CSV reader, fed every input at every chunk size.
 *
 * Each case is an input, a row cap and the exact rows it must give (status, fields, raw, line,
 * next_line, offset, end_offset). Every case is fed in chunks of 1, 2, ... bytes up to the whole
 * input, draining rows after each chunk, and must give the same rows every time, with no more
 * than a row's worth of bytes buffered between chunks. Random inputs are then checked against a
 * plain whole-input reference parser at every chunk size. Last, a throughput figure is printed
 * (SLUICE_BENCH_MB sets the volume, 200 MB by default); it is not asserted on.
 */
#include "csv_reader.h"
#include "mem.h"
#include "testutil.h"

#include <stdint.h>
#include <time.h>

#define MAX_FIELDS 8
#define MAX_ROWS 16

struct exp_row {
    enum csv_row_status status;
    const char *raw;
    size_t raw_len; /* 0: strlen(raw) */
    uint64_t line, next_line, offset, end_offset;
    size_t nfields;
    const char *f[MAX_FIELDS];
    size_t flen[MAX_FIELDS]; /* 0: strlen(f[i]) */
};

/* A row as the reader returned it, copied out. */
struct got_row {
    enum csv_row_status status;
    char *raw;
    size_t raw_len;
    uint64_t line, next_line, offset, end_offset;
    size_t nfields;
    char **f;
    size_t *flen;
};

struct got_rows {
    struct got_row *rows;
    size_t n, cap;
};

static char *dup_mem(const char *p, size_t n)
{
    char *s = xmalloc(n + 1);
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void got_add(struct got_rows *g, const struct csv_row *row)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 8;
        g->rows = xrealloc(g->rows, g->cap * sizeof(*g->rows));
    }
    struct got_row *o = &g->rows[g->n++];
    o->status = row->status;
    o->raw = dup_mem(row->raw, row->raw_len);
    o->raw_len = row->raw_len;
    o->line = row->line;
    o->next_line = row->next_line;
    o->offset = row->offset;
    o->end_offset = row->end_offset;
    o->nfields = row->nfields;
    o->f = xcalloc(row->nfields + 1, sizeof(*o->f));
    o->flen = xcalloc(row->nfields + 1, sizeof(*o->flen));
    for (size_t i = 0; i < row->nfields; i++) {
        o->f[i] = dup_mem(row->fields[i], row->lengths[i]);
        o->flen[i] = row->lengths[i];
    }
}

static void got_clear(struct got_rows *g)
{
    for (size_t i = 0; i < g->n; i++) {
        for (size_t j = 0; j < g->rows[i].nfields; j++)
            free(g->rows[i].f[j]);
        free(g->rows[i].f);
        free(g->rows[i].flen);
        free(g->rows[i].raw);
    }
    g->n = 0;
}

static void got_release(struct got_rows *g)
{
    got_clear(g);
    free(g->rows);
}

/* Feed in[0..len) in chunks of `chunk` bytes, draining after each; collect every row. */
static void read_chunked(struct csv_reader *r, const char *in, size_t len, size_t chunk,
                         size_t max_row, struct got_rows *g)
{
    struct csv_row row;
    enum csv_next rc;
    for (size_t pos = 0; pos < len; pos += chunk) {
        size_t n = len - pos < chunk ? len - pos : chunk;
        csv_reader_feed(r, in + pos, n);
        while ((rc = csv_reader_next(r, &row)) == CSV_ROW)
            got_add(g, &row);
        CHECK_EQ_LONG(rc, CSV_NEED_MORE);
        /* between chunks only the unfinished row is held, and never more than the cap + 1 */
        CHECK(csv_reader_pending(r) <= max_row + 1);
    }
    csv_reader_finish(r);
    while ((rc = csv_reader_next(r, &row)) == CSV_ROW)
        got_add(g, &row);
    CHECK_EQ_LONG(rc, CSV_END);
    CHECK_EQ_LONG(csv_reader_next(r, &row), CSV_END);
}

static void check_rows(const struct got_rows *g, const struct exp_row *exp, size_t nexp)
{
    CHECK_EQ_LONG(g->n, nexp);
    for (size_t i = 0; i < g->n && i < nexp; i++) {
        const struct got_row *o = &g->rows[i];
        const struct exp_row *e = &exp[i];
        size_t raw_len = e->raw_len ? e->raw_len : strlen(e->raw);
        CHECK_EQ_LONG(o->status, e->status);
        CHECK(o->raw_len == raw_len && memcmp(o->raw, e->raw, raw_len) == 0);
        if (o->raw_len != raw_len || memcmp(o->raw, e->raw, raw_len) != 0)
            fprintf(stderr, "  row %zu raw is \"%.*s\"\n", i, (int)o->raw_len, o->raw);
        CHECK_EQ_LONG(o->line, e->line);
        CHECK_EQ_LONG(o->next_line, e->next_line);
        CHECK_EQ_LONG(o->offset, e->offset);
        CHECK_EQ_LONG(o->end_offset, e->end_offset);
        CHECK_EQ_LONG(o->nfields, e->nfields);
        for (size_t j = 0; j < o->nfields && j < e->nfields; j++) {
            size_t n = e->flen[j] ? e->flen[j] : strlen(e->f[j]);
            CHECK(o->flen[j] == n && memcmp(o->f[j], e->f[j], n) == 0);
            if (o->flen[j] != n || memcmp(o->f[j], e->f[j], n) != 0)
                fprintf(stderr, "  row %zu field %zu is \"%.*s\"\n", i, j, (int)o->flen[j],
                        o->f[j]);
        }
    }
}

/* Run one case at every chunk size from 1 to the whole input, on one reader reused via reset. */
static void run_case(const char *name, const char *in, size_t len, size_t max_row, uint64_t offset,
                     uint64_t line, const struct exp_row *exp, size_t nexp)
{
    struct csv_reader *r = csv_reader_new(max_row);
    struct got_rows g = {0};
    for (size_t chunk = 1; chunk <= (len ? len : 1); chunk++) {
        int before = test_failures;
        csv_reader_reset(r, offset, line);
        read_chunked(r, in, len, chunk, max_row, &g);
        check_rows(&g, exp, nexp);
        got_clear(&g);
        if (test_failures != before) {
            fprintf(stderr, "  in case '%s' at chunk size %zu\n", name, chunk);
            break;
        }
    }
    got_release(&g);
    csv_reader_free(r);
}

#define CASE(name, in, max_row, ...)                                                               \
    do {                                                                                           \
        static const struct exp_row exp_[] = {__VA_ARGS__};                                        \
        run_case(name, in, sizeof(in) - 1, max_row, 0, 1, exp_, sizeof(exp_) / sizeof(exp_[0]));   \
    } while (0)

#define CASE_NO_ROWS(name, in, max_row) run_case(name, in, sizeof(in) - 1, max_row, 0, 1, NULL, 0)

/* Row constructors: OK row with fields, and a row without fields. */
// clang-format off
#define ROW(raw_, line_, next_, off_, end_, n_, ...)                                               \
    {CSV_ROW_OK, raw_, 0, line_, next_, off_, end_, n_, {__VA_ARGS__}, {0}}
#define BAD(status_, raw_, line_, next_, off_, end_)                                               \
    {status_, raw_, 0, line_, next_, off_, end_, 0, {NULL}, {0}}
// clang-format on

static void test_simple_rows(void)
{
    CASE("simple", "a,b,c\n1,2,3\n", 64, ROW("a,b,c", 1, 2, 0, 6, 3, "a", "b", "c"),
         ROW("1,2,3", 2, 3, 6, 12, 3, "1", "2", "3"));
    CASE("single field", "x\nyy\n", 64, ROW("x", 1, 2, 0, 2, 1, "x"),
         ROW("yy", 2, 3, 2, 5, 1, "yy"));
}

static void test_crlf(void)
{
    CASE("crlf", "a,b\r\n1,2\r\n", 64, ROW("a,b", 1, 2, 0, 5, 2, "a", "b"),
         ROW("1,2", 2, 3, 5, 10, 2, "1", "2"));
    CASE("crlf after quoted", "\"a\",\"b\"\r\nc\r\n", 64,
         ROW("\"a\",\"b\"", 1, 2, 0, 9, 2, "a", "b"), ROW("c", 2, 3, 9, 12, 1, "c"));
    CASE("mixed terminators", "a\r\nb\nc\r\n", 64, ROW("a", 1, 2, 0, 3, 1, "a"),
         ROW("b", 2, 3, 3, 5, 1, "b"), ROW("c", 3, 4, 5, 8, 1, "c"));
}

static void test_bom(void)
{
    CASE("bom", "\357\273\277id,x\n1,2\n", 64, ROW("id,x", 1, 2, 3, 8, 2, "id", "x"),
         ROW("1,2", 2, 3, 8, 12, 2, "1", "2"));
    CASE("bom then quoted", "\xEF\xBB\xBF\"q\"\n", 64, ROW("\"q\"", 1, 2, 3, 7, 1, "q"));
    CASE_NO_ROWS("bom only", "\xEF\xBB\xBF", 64);
    CASE("bom prefix is data", "\xEF\xBBx\n", 64, ROW("\xEF\xBBx", 1, 2, 0, 4, 1, "\xEF\xBBx"));
    CASE("bom prefix at eof", "\xEF\xBB", 64, ROW("\xEF\xBB", 1, 2, 0, 2, 1, "\xEF\xBB"));
    CASE("second bom is data", "\357\273\277\357\273\277a\n", 64,
         ROW("\357\273\277a", 1, 2, 3, 8, 1, "\357\273\277a"));
}

static void test_quoted(void)
{
    CASE("quoted specials", "\"a,b\",\"say \"\"hi\"\"\",\"x\ny\",\"p\r\nq\"\r\nnext,row\n", 64,
         ROW("\"a,b\",\"say \"\"hi\"\"\",\"x\ny\",\"p\r\nq\"", 1, 4, 0, 33, 4, "a,b", "say \"hi\"",
             "x\ny", "p\r\nq"),
         ROW("next,row", 4, 5, 33, 42, 2, "next", "row"));
    CASE("only escapes", "\"\"\"\"\"\",\"\"\"\"\n", 64,
         ROW("\"\"\"\"\"\",\"\"\"\"", 1, 2, 0, 12, 2, "\"\"", "\""));
    CASE("newline-only quoted field", "\"\n\",\"\r\n\"\n", 64,
         ROW("\"\n\",\"\r\n\"", 1, 4, 0, 9, 2, "\n", "\r\n"));
}

static void test_empty_fields(void)
{
    CASE("empty fields", ",,\na,\n,b\n\"\"\na,\"\"\n", 64, ROW(",,", 1, 2, 0, 3, 3, "", "", ""),
         ROW("a,", 2, 3, 3, 6, 2, "a", ""), ROW(",b", 3, 4, 6, 9, 2, "", "b"),
         ROW("\"\"", 4, 5, 9, 12, 1, ""), ROW("a,\"\"", 5, 6, 12, 17, 2, "a", ""));
    CASE("trailing empty field crlf", "a,\r\n", 64, ROW("a,", 1, 2, 0, 4, 2, "a", ""));
    CASE("trailing empty field at eof", "a,", 64, ROW("a,", 1, 2, 0, 2, 2, "a", ""));
}

static void test_empty_lines(void)
{
    CASE("empty lines", "\n\na\n\r\n\nb\r\n\n", 64, ROW("a", 3, 4, 2, 4, 1, "a"),
         ROW("b", 6, 7, 7, 10, 1, "b"));
    CASE_NO_ROWS("only empty lines", "\n\r\n\n", 64);
    CASE("empty lines after bom", "\xEF\xBB\xBF\r\n\nz", 64, ROW("z", 3, 4, 6, 7, 1, "z"));
}

static void test_last_row_without_newline(void)
{
    CASE("last row", "a,b\nc,d", 64, ROW("a,b", 1, 2, 0, 4, 2, "a", "b"),
         ROW("c,d", 2, 3, 4, 7, 2, "c", "d"));
    CASE("last row quoted", "x,\"y\"", 64, ROW("x,\"y\"", 1, 2, 0, 5, 2, "x", "y"));
    CASE("last row quoted with tail", "x,\"y\"z", 64, ROW("x,\"y\"z", 1, 2, 0, 6, 2, "x", "yz"));
    CASE("last row ends in escape", "\"a\"\"\"", 64, ROW("\"a\"\"\"", 1, 2, 0, 5, 1, "a\""));
    CASE("last row with quoted newline", "\"a\nb\"", 64, ROW("\"a\nb\"", 1, 3, 0, 5, 1, "a\nb"));
}

static void test_unterminated_quote(void)
{
    CASE("unterminated", "a\n\"b,c\nd", 64, ROW("a", 1, 2, 0, 2, 1, "a"),
         BAD(CSV_ROW_UNTERMINATED_QUOTE, "\"b,c\nd", 2, 4, 2, 8));
    CASE("unterminated after escape", "\"a\"\"", 64,
         BAD(CSV_ROW_UNTERMINATED_QUOTE, "\"a\"\"", 1, 2, 0, 4));
    /* cut at the cap, whether the reader still holds the row (max + 1 bytes) or dropped its tail */
    CASE("unterminated cut held", "ok\n\"abcd", 4, ROW("ok", 1, 2, 0, 3, 1, "ok"),
         BAD(CSV_ROW_UNTERMINATED_QUOTE, "\"abc", 2, 3, 3, 8));
    CASE("unterminated cut skipped", "ok\n\"ab\ncdefgh\nij", 4, ROW("ok", 1, 2, 0, 3, 1, "ok"),
         BAD(CSV_ROW_UNTERMINATED_QUOTE, "\"ab\n", 2, 5, 3, 16));
}

static void test_row_too_long(void)
{
    CASE("cap boundary", "12345\n123456\nab\n", 5, ROW("12345", 1, 2, 0, 6, 1, "12345"),
         BAD(CSV_ROW_TOO_LONG, "12345", 2, 3, 6, 13), ROW("ab", 3, 4, 13, 16, 1, "ab"));
    CASE("cap boundary crlf", "1,345\r\n1,3456\r\nab\r\n", 5,
         ROW("1,345", 1, 2, 0, 7, 2, "1", "345"), BAD(CSV_ROW_TOO_LONG, "1,345", 2, 3, 7, 15),
         ROW("ab", 3, 4, 15, 19, 1, "ab"));
    CASE("far too long", "a\n0123456789012345678901234567890123456789\nb\n", 5,
         ROW("a", 1, 2, 0, 2, 1, "a"), BAD(CSV_ROW_TOO_LONG, "01234", 2, 3, 2, 43),
         ROW("b", 3, 4, 43, 45, 1, "b"));
    CASE("too long with quoted newlines", "\"a\nb\nc\nd\",x\nok\n", 5,
         BAD(CSV_ROW_TOO_LONG, "\"a\nb\n", 1, 5, 0, 12), ROW("ok", 5, 6, 12, 15, 1, "ok"));
    CASE("too long, quoted delimiter and terminator", "\"a,\"\"\nb\"\",\r\nc\",d\r\nok\r\n", 4,
         BAD(CSV_ROW_TOO_LONG, "\"a,\"", 1, 4, 0, 18), ROW("ok", 4, 5, 18, 22, 1, "ok"));
    CASE("too long at eof", "ab\n1234567", 5, ROW("ab", 1, 2, 0, 3, 1, "ab"),
         BAD(CSV_ROW_TOO_LONG, "12345", 2, 3, 3, 10));
    CASE("one over at eof", "123456", 5, BAD(CSV_ROW_TOO_LONG, "12345", 1, 2, 0, 6));
    CASE("exactly cap at eof", "12345", 5, ROW("12345", 1, 2, 0, 5, 1, "12345"));
    CASE("too long quoted at eof", "\"abcdefg\"", 5, BAD(CSV_ROW_TOO_LONG, "\"abcd", 1, 2, 0, 9));
    CASE("cap of one", "a\nbc\n\nd", 1, ROW("a", 1, 2, 0, 2, 1, "a"),
         BAD(CSV_ROW_TOO_LONG, "b", 2, 3, 2, 5), ROW("d", 4, 5, 6, 7, 1, "d"));
}

static void test_bytes_pass_through(void)
{
    static const char in[] = "a\0b,\xff\xfe\n\"\0\",\xc3\x28\n";
    static const struct exp_row exp[] = {
        {CSV_ROW_OK, "a\0b,\xff\xfe", 6, 1, 2, 0, 7, 2, {"a\0b", "\xff\xfe"}, {3, 2}},
        {CSV_ROW_OK, "\"\0\",\xc3\x28", 6, 2, 3, 7, 14, 2, {"\0", "\xc3\x28"}, {1, 2}},
    };
    run_case("nul and invalid utf-8", in, sizeof(in) - 1, 64, 0, 1, exp, 2);
}

static void test_lone_cr(void)
{
    CASE("lone cr", "a\rb,c\r\n\r\r\nx\r", 64, ROW("a\rb,c", 1, 2, 0, 7, 2, "a\rb", "c"),
         ROW("\r", 2, 3, 7, 10, 1, "\r"), ROW("x\r", 3, 4, 10, 12, 1, "x\r"));
}

static void test_lenient_quotes(void)
{
    CASE("text after closing quote", "\"ab\"c,d\n", 64,
         ROW("\"ab\"c,d", 1, 2, 0, 8, 2, "abc", "d"));
    CASE("quote inside unquoted field", "a\"b,c\"\n", 64,
         ROW("a\"b,c\"", 1, 2, 0, 7, 2, "a\"b", "c\""));
    CASE("escape then tail with quote", "\"a\"\"b\"x\"y,z\n", 64,
         ROW("\"a\"\"b\"x\"y,z", 1, 2, 0, 12, 2, "a\"bx\"y", "z"));
    CASE("doubled quote unquoted", "a\"\"b\n", 64, ROW("a\"\"b", 1, 2, 0, 5, 1, "a\"\"b"));
    CASE("tail then crlf", "\"ab\" \r\n", 64, ROW("\"ab\" ", 1, 2, 0, 7, 1, "ab "));
}

static void test_reset(void)
{
    static const char in[] = "h1,h2\n1,\"2\n2\"\n3,4\n";
    static const struct exp_row all[] = {
        ROW("h1,h2", 1, 2, 0, 6, 2, "h1", "h2"),
        ROW("1,\"2\n2\"", 2, 4, 6, 14, 2, "1", "2\n2"),
        ROW("3,4", 4, 5, 14, 18, 2, "3", "4"),
    };
    run_case("reset base", in, sizeof(in) - 1, 64, 0, 1, all, 3);
    /* resume from each committed row boundary, as the ingester does after a restart */
    run_case("resume at row 2", in + 6, sizeof(in) - 1 - 6, 64, 6, 2, all + 1, 2);
    run_case("resume at row 3", in + 14, sizeof(in) - 1 - 14, 64, 14, 4, all + 2, 1);

    static const char bom[] = "\357\273\277a\n";
    static const struct exp_row bom_kept[] = {
        ROW("\357\273\277a", 7, 8, 10, 15, 1, "\357\273\277a"),
    };
    run_case("no bom skip past offset 0", bom, sizeof(bom) - 1, 64, 10, 7, bom_kept, 1);

    /* a reset in the middle of a row, in skip mode, and after an unterminated quote */
    struct csv_reader *r = csv_reader_new(4);
    struct csv_row row;
    csv_reader_feed(r, "\"abcdefghij", 11);
    CHECK_EQ_LONG(csv_reader_next(r, &row), CSV_NEED_MORE);
    csv_reader_reset(r, 100, 50);
    csv_reader_feed(r, "x,y\n", 4);
    CHECK_EQ_LONG(csv_reader_next(r, &row), CSV_ROW);
    CHECK_EQ_LONG(row.status, CSV_ROW_OK);
    CHECK_EQ_LONG(row.nfields, 2);
    CHECK_EQ_MEM(row.fields[1], row.lengths[1], "y");
    CHECK_EQ_LONG(row.line, 50);
    CHECK_EQ_LONG(row.offset, 100);
    CHECK_EQ_LONG(row.end_offset, 104);
    csv_reader_feed(r, "\"q", 2);
    csv_reader_finish(r);
    CHECK_EQ_LONG(csv_reader_next(r, &row), CSV_ROW);
    CHECK_EQ_LONG(row.status, CSV_ROW_UNTERMINATED_QUOTE);
    CHECK_EQ_LONG(csv_reader_next(r, &row), CSV_END);
    csv_reader_reset(r, 0, 1);
    csv_reader_feed(r, "\xEF\xBB\xBFk\n", 5);
    CHECK_EQ_LONG(csv_reader_next(r, &row), CSV_ROW);
    CHECK_EQ_MEM(row.raw, row.raw_len, "k");
    CHECK_EQ_LONG(row.offset, 3);
    CHECK_EQ_LONG(row.line, 1);
    CHECK_EQ_LONG(csv_reader_next(r, &row), CSV_NEED_MORE);
    CHECK_EQ_LONG(csv_reader_pending(r), 0);
    csv_reader_free(r);
}

/*
 * A whole-input reference parser written the slow, obvious way, for random inputs: it must agree
 * with the streaming reader at every chunk size.
 */
static void reference_parse(const char *in, size_t len, size_t max_row, struct got_rows *g)
{
    size_t pos = 0;
    uint64_t line = 1;
    if (len >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    char *fbuf = xmalloc(len + 1);
    const char *fields[64];
    size_t lengths[64], fstart[64];
    while (pos < len) {
        size_t p = pos, nf = 0, o = 0;
        uint64_t nl = 0;
        bool in_quotes = false, ended = false, unterminated = false;
        /* walk one row */
        fstart[nf] = o;
        bool at_start = true, was_quoted = false;
        while (p < len) {
            char c = in[p];
            if (in_quotes) {
                if (c == '"' && p + 1 < len && in[p + 1] == '"') {
                    fbuf[o++] = '"';
                    p += 2;
                    continue;
                }
                if (c == '"') {
                    in_quotes = false;
                    p++;
                    continue;
                }
                if (c == '\n')
                    nl++;
                fbuf[o++] = c;
                p++;
                continue;
            }
            if (at_start && c == '"' && !was_quoted) {
                in_quotes = true;
                was_quoted = true;
                at_start = false;
                p++;
                continue;
            }
            at_start = false;
            if (c == ',' || c == '\n') {
                lengths[nf] = o - fstart[nf];
                nf++;
                fstart[nf] = o;
                at_start = true;
                was_quoted = false;
                if (c == '\n') {
                    ended = true;
                    break;
                }
                p++;
                continue;
            }
            fbuf[o++] = c;
            p++;
        }
        size_t content = p - pos, end = p;
        if (ended) {
            end = p + 1;
            if (content > 0 && in[p - 1] == '\r') {
                content--;
                /* the CR went into the last field */
                lengths[nf - 1]--;
            }
        } else {
            if (in_quotes)
                unterminated = true;
            lengths[nf] = o - fstart[nf];
            nf++;
        }
        if (content == 0 && ended) {
            pos = end;
            line++;
            continue;
        }
        struct csv_row row = {0};
        row.raw = in + pos;
        row.raw_len = content < max_row ? content : max_row;
        row.line = line;
        row.next_line = line + nl + 1;
        row.offset = pos;
        row.end_offset = end;
        if (unterminated) {
            row.status = CSV_ROW_UNTERMINATED_QUOTE;
        } else if (content > max_row) {
            row.status = CSV_ROW_TOO_LONG;
        } else {
            for (size_t i = 0; i < nf; i++)
                fields[i] = fbuf + fstart[i];
            row.nfields = nf;
            row.fields = fields;
            row.lengths = lengths;
        }
        got_add(g, &row);
        pos = end;
        line = row.next_line;
        if (unterminated)
            break;
    }
    free(fbuf);
}

static bool rows_equal(const struct got_row *a, const struct got_row *b)
{
    if (a->status != b->status || a->raw_len != b->raw_len ||
        memcmp(a->raw, b->raw, a->raw_len) != 0 || a->line != b->line ||
        a->next_line != b->next_line || a->offset != b->offset || a->end_offset != b->end_offset ||
        a->nfields != b->nfields)
        return false;
    for (size_t j = 0; j < a->nfields; j++)
        if (a->flen[j] != b->flen[j] || memcmp(a->f[j], b->f[j], a->flen[j]) != 0)
            return false;
    return true;
}

static void test_random_against_reference(void)
{
    static const char alphabet[] = "ab,\"\n\r";
    uint64_t seed = 0x9E3779B97F4A7C15u;
    char in[48];
    struct got_rows want = {0}, got = {0};
    struct csv_reader *r = NULL;
    int mismatches = 0;
    for (int iter = 0; iter < 1500 && mismatches < 3; iter++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        size_t len = (size_t)(seed >> 33) % sizeof(in);
        size_t max_row = 1 + (size_t)(seed >> 20) % 12;
        for (size_t i = 0; i < len; i++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            in[i] = alphabet[(seed >> 33) % (sizeof(alphabet) - 1)];
        }
        if (iter % 7 == 0 && len >= 3)
            memcpy(in, "\xEF\xBB\xBF", 3);
        reference_parse(in, len, max_row, &want);
        r = csv_reader_new(max_row);
        for (size_t chunk = 1; chunk <= (len ? len : 1); chunk++) {
            csv_reader_reset(r, 0, 1);
            read_chunked(r, in, len, chunk, max_row, &got);
            bool same = got.n == want.n;
            for (size_t i = 0; same && i < got.n; i++)
                same = rows_equal(&got.rows[i], &want.rows[i]);
            CHECK(same);
            got_clear(&got);
            if (!same) {
                fprintf(stderr, "  random input \"%.*s\" (max %zu) at chunk size %zu\n", (int)len,
                        in, max_row, chunk);
                mismatches++;
                break;
            }
        }
        csv_reader_free(r);
        got_clear(&want);
    }
    got_release(&want);
    got_release(&got);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parse generated rows shaped like the generator's events and print MB/s and rows/s. */
static void test_throughput(void)
{
    const char *env = getenv("SLUICE_BENCH_MB");
    long mb = env ? atol(env) : 200;
    if (mb <= 0)
        return;
    size_t block_cap = 4u << 20, block_len = 0, block_rows = 0;
    char *block = xmalloc(block_cap);
    static const char *const types[] = {"view", "add_to_cart", "purchase", "remove_from_cart"};
    uint64_t seed = 42;
    for (;;) {
        char line[256];
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        uint32_t x = (uint32_t)(seed >> 32);
        int n = snprintf(line, sizeof(line),
                         "%08x-%04x-4%03x-8%03x-%08x%04x,2025-%02u-%02u %02u:%02u:%02u,%s,%u,"
                         "%u.%02u,%u,%s%08x-%04x\n",
                         x, x & 0xffff, x & 0xfff, (x >> 12) & 0xfff, x ^ 0x5bd1e995u, x >> 16,
                         1 + x % 12, 1 + x % 28, x % 24, x % 60, (x >> 8) % 60, types[x % 4],
                         1000 + x % 9000, 1 + x % 500, x % 100, 1 + x % 100000,
                         x % 10 ? "" : "\"sess, ", x, x >> 20);
        if (x % 10 == 0) { /* one row in ten has a quoted field with a comma in it */
            line[n - 1] = '"';
            line[n++] = '\n';
        }
        if (block_len + (size_t)n > block_cap)
            break;
        memcpy(block + block_len, line, (size_t)n);
        block_len += (size_t)n;
        block_rows++;
    }
    CHECK(block_rows > 0);
    if (block_rows == 0) {
        free(block);
        return;
    }
    size_t total = (size_t)mb << 20, reps = total / block_len + 1, chunk = 64 << 10;
    struct csv_reader *r = csv_reader_new(1 << 20);
    struct csv_row row;
    size_t rows = 0, fields = 0, bytes = 0;
    double t0 = now_seconds();
    for (size_t rep = 0; rep < reps; rep++) {
        for (size_t pos = 0; pos < block_len; pos += chunk) {
            size_t n = block_len - pos < chunk ? block_len - pos : chunk;
            csv_reader_feed(r, block + pos, n);
            bytes += n;
            while (csv_reader_next(r, &row) == CSV_ROW) {
                rows++;
                fields += row.nfields;
            }
        }
    }
    csv_reader_finish(r);
    while (csv_reader_next(r, &row) == CSV_ROW)
        rows++;
    double dt = now_seconds() - t0;
    CHECK_EQ_LONG(rows, block_rows * reps);
    CHECK_EQ_LONG(fields, block_rows * reps * 7);
    printf("throughput: %.0f MB in %.2f s: %.0f MB/s, %.2f M rows/s (%zu-byte rows)\n",
           (double)bytes / (1 << 20), dt, (double)bytes / (1 << 20) / dt, (double)rows / dt / 1e6,
           block_len / block_rows);
    csv_reader_free(r);
    free(block);
}

int main(void)
{
    test_simple_rows();
    test_crlf();
    test_bom();
    test_quoted();
    test_empty_fields();
    test_empty_lines();
    test_last_row_without_newline();
    test_unterminated_quote();
    test_row_too_long();
    test_bytes_pass_through();
    test_lone_cr();
    test_lenient_quotes();
    test_reset();
    test_random_against_reference();
    test_throughput();
    return TEST_DONE();
}
