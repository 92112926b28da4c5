/*
 * dbtest_differential.c - the C half of the differential test against PostgreSQL
 * (tests/integration/t_differential.sh).
 *
 * It reads the contract of user_activity from the catalog of the cluster in SLUICE_DB, exactly
 * as the engine does, reads the CSV file given with the reader, validates every row, and prints
 * one COPY text line per data row: line number, verdict code, field count, the seven raw fields
 * (\N when missing or not valid UTF-8), then the seven values the validator would load (\N
 * when rejected). The shell half loads that into PostgreSQL and compares it with PostgreSQL's
 * own parsing.
 */
#include "contract.h"
#include "csv_reader.h"
#include "testutil.h"
#include "validate.h"

#include <libpq-fe.h>

#include <stdio.h>
#include <string.h>

/* Strict UTF-8 without NUL (an independent copy of the rule, so the test does not trust the
 * validator's own check for the raw columns). */
static bool utf8_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0)
            return false;
        if (c < 0x80)
            continue;
        int k = c >= 0xc2 && c <= 0xdf   ? 1
                : c >= 0xe0 && c <= 0xef ? 2
                : c >= 0xf0 && c <= 0xf4 ? 3
                                         : -1;
        if (k < 0 || i + (size_t)k >= n)
            return false;
        for (int j = 1; j <= k; j++)
            if (((unsigned char)s[i + (size_t)j] & 0xc0) != 0x80)
                return false;
        unsigned char c1 = (unsigned char)s[i + 1];
        if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90) ||
            (c == 0xf4 && c1 > 0x8f))
            return false;
        i += (size_t)k;
    }
    return true;
}

#define NCOLS 7

static int dump(const char *path, const struct table_def *t)
{
    FILE *in = fopen(path, "rb");
    if (!in) {
        perror(path);
        return 1;
    }
    struct csv_reader *r = csv_reader_new(1 << 20);
    struct schema_options so = {.table = t};
    char err[256];
    struct schema *s = schema_new(&so, err, sizeof(err));
    if (!s || t->ncols != NCOLS) {
        fprintf(stderr, "schema: %s\n", s ? "user_activity is not the seed table" : err);
        return 1;
    }
    struct buf out, line;
    buf_init(&out);
    buf_init(&line);
    bool bound = false, eof = false;
    int header_pos[NCOLS];
    char chunk[65536];
    for (;;) {
        struct csv_row row;
        enum csv_next n = csv_reader_next(r, &row);
        if (n == CSV_END)
            break;
        if (n == CSV_NEED_MORE) {
            size_t got = eof ? 0 : fread(chunk, 1, sizeof(chunk), in);
            if (got == 0) {
                eof = true;
                csv_reader_finish(r);
            } else {
                csv_reader_feed(r, chunk, got);
            }
            continue;
        }
        struct verdict v;
        if (!bound) {
            if (schema_bind_header(s, &row, &v) < 0) {
                fprintf(stderr, "bad header in %s\n", path);
                return 1;
            }
            /* the header of the test files is the standard one, in order */
            for (int c = 0; c < NCOLS; c++)
                header_pos[c] = c;
            bound = true;
            continue;
        }
        buf_reset(&line);
        bool ok = schema_validate_row(s, &row, &line, &v);
        buf_printf(&out, "%llu\t%s\t%zu", (unsigned long long)row.line,
                   ok ? "none" : reject_code_name(v.code), row.nfields);
        for (int c = 0; c < NCOLS; c++) {
            size_t p = (size_t)header_pos[c];
            buf_putc(&out, '\t');
            if (row.status == CSV_ROW_OK && p < row.nfields &&
                utf8_ok(row.fields[p], row.lengths[p]))
                copy_text_escape(&out, row.fields[p], row.lengths[p]);
            else
                buf_append(&out, "\\N", 2);
        }
        if (ok) {
            buf_putc(&out, '\t');
            buf_append(&out, line.data, line.len); /* already COPY text, newline included */
        } else {
            for (int c = 0; c < NCOLS; c++)
                buf_append(&out, "\t\\N", 3);
            buf_putc(&out, '\n');
        }
        if (out.len > (1 << 20)) {
            fwrite(out.data, 1, out.len, stdout);
            buf_reset(&out);
        }
    }
    fwrite(out.data, 1, out.len, stdout);
    buf_release(&out);
    buf_release(&line);
    schema_free(s);
    csv_reader_free(r);
    fclose(in);
    return 0;
}

int main(int argc, char **argv)
{
    CHECK(utf8_ok("abc", 3));
    CHECK(utf8_ok("\xc3\xa9", 2));
    CHECK(!utf8_ok("\xc3", 1));
    CHECK(!utf8_ok("a\0b", 3));
    CHECK(!utf8_ok("\xed\xa0\x80", 3));
    if (argc != 2 || test_failures) {
        fprintf(stderr, "usage: dbtest_differential FILE.csv (SLUICE_DB: the cluster)\n");
        return 2;
    }
    const char *conninfo = getenv("SLUICE_DB");
    PGconn *c = PQconnectdb(conninfo ? conninfo : "");
    struct config cfg = {.table = "user_activity", .dlq_table = "user_activity_errors",
                         .time_zone = "UTC"};
    struct contract k;
    if (PQstatus(c) != CONNECTION_OK || contract_load(&k, c, &cfg) < 0) {
        fprintf(stderr, "dbtest_differential: cannot read the contract: %s", PQerrorMessage(c));
        return 2;
    }
    PQfinish(c);
    int rc = dump(argv[1], &k.table);
    contract_release(&k);
    return rc;
}
