/* dbtest_pgtype.c - the type checkers of pgtype.c, value by value, for the differential tests
 * (tests/integration/t_types_*.sh).
 *
 *   dbtest_pgtype 'SQL TYPE' [ZONE] < values > verdicts
 *
 * The type is written as in CREATE TABLE ("numeric(10,2)", "varchar(20)", a domain or an enum
 * made beforehand); the program asks the server in SLUICE_DB what that type is, exactly as the
 * engine reads a column from the catalog. Each input line is one value in COPY text form (\n,
 * \t, \\ escapes; \N alone is skipped as NULL). Each output line is "ok<TAB>COPY text" or
 * "bad<TAB>why", in input order, so the script can load both and compare them with what
 * PostgreSQL's own input function makes of the same values. ZONE is a --time-zone value. */
#include "copy_text.h"
#include "mem.h"
#include "pgtype.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, PGconn *c)
{
    fprintf(stderr, "dbtest_pgtype: %s: %s", what, c ? PQerrorMessage(c) : "\n");
    exit(2);
}

/* The type of a probe column as the catalog has it: base type of domains, typmod, enum labels. */
static void read_type(PGconn *c, const char *sql_type, struct pgtype *t)
{
    char *ddl = xasprintf("CREATE TEMP TABLE probe (v %s)", sql_type);
    PGresult *r = PQexec(c, ddl);
    free(ddl);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die("create probe", c);
    PQclear(r);
    r = PQexec(c, "WITH RECURSIVE d(oid, typmod) AS ("
                  " SELECT a.atttypid, a.atttypmod FROM pg_attribute a"
                  " WHERE a.attrelid = 'probe'::regclass AND a.attname = 'v'"
                  " UNION ALL SELECT t.typbasetype, t.typtypmod FROM d JOIN pg_type t"
                  " ON t.oid = d.oid WHERE t.typtype = 'd')"
                  " SELECT t.typname, d.typmod, t.typtype, t.oid FROM d JOIN pg_type t"
                  " ON t.oid = d.oid WHERE t.typtype <> 'd'");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        die("read probe type", c);
    int32_t typmod = (int32_t)atol(PQgetvalue(r, 0, 1));
    pgtype_from_catalog(t, PQgetvalue(r, 0, 0), typmod);
    if (PQgetvalue(r, 0, 2)[0] == 'e') {
        char *q = xasprintf("SELECT enumlabel FROM pg_enum WHERE enumtypid = %s "
                            "ORDER BY enumsortorder", PQgetvalue(r, 0, 3));
        PGresult *e = PQexec(c, q);
        free(q);
        if (PQresultStatus(e) != PGRES_TUPLES_OK)
            die("read enum labels", c);
        size_t n = (size_t)PQntuples(e);
        char **labels = xcalloc(n ? n : 1, sizeof(*labels));
        for (size_t i = 0; i < n; i++)
            labels[i] = xstrdup(PQgetvalue(e, (int)i, 0));
        pgtype_set_labels(t, labels, n);
        PQclear(e);
    }
    PQclear(r);
}

/* Undo COPY text escapes in place; returns the new length. */
static size_t unescape(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 == n) {
            s[o++] = s[i];
            continue;
        }
        char e = s[++i];
        s[o++] = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
    }
    return o;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: dbtest_pgtype 'SQL TYPE' [ZONE] < values\n");
        return 2;
    }
    const char *conninfo = getenv("SLUICE_DB");
    PGconn *c = PQconnectdb(conninfo ? conninfo : "");
    if (PQstatus(c) != CONNECTION_OK)
        die("connect", c);
    struct pgtype t;
    read_type(c, argv[1], &t);
    PQfinish(c);
    struct pgtype_env env = {0};
    if (argc == 3 && pgtype_env_set_zone(&env, argv[2]) < 0) {
        fprintf(stderr, "dbtest_pgtype: bad zone '%s'\n", argv[2]);
        return 2;
    }

    struct buf out;
    buf_init(&out);
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    char why[256];
    while ((got = getline(&line, &cap, stdin)) >= 0) {
        size_t n = (size_t)got;
        if (n && line[n - 1] == '\n')
            n--;
        if (n == 2 && memcmp(line, "\\N", 2) == 0)
            continue;
        n = unescape(line, n);
        buf_reset(&out);
        buf_append(&out, "ok\t", 3);
        struct pgvalue v;
        const char *bad = pgtype_parse(&t, &env, line, n, &out, &v, why, sizeof(why));
        if (bad) {
            buf_reset(&out);
            buf_append(&out, "bad\t", 4);
            copy_text_sanitized(&out, bad, strlen(bad));
        }
        buf_putc(&out, '\n');
        fwrite(out.data, 1, out.len, stdout);
    }
    free(line);
    buf_release(&out);
    pgtype_release(&t);
    return 0;
}
