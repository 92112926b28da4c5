/* dbtest_check.c - the CHECK compiler against PostgreSQL, for
 * tests/integration/t_check_differential.sh.
 *
 *   dbtest_check TABLE ROWS SEED CONSTRAINTS ROWFILE > verdicts
 *
 * Reads TABLE's columns (domains resolved to their base types) and its CHECK constraints and its
 * columns' domain constraints from the catalog of the server in SLUICE_DB, exactly as the engine
 * would, and compiles each. Writes CONSTRAINTS: one line per constraint in the order the server
 * tests them (domain constraints when the values are converted, in column order; then the
 * table's by name), "order<TAB>name<TAB>compiled|refused<TAB>why".
 *
 * Then generates ROWS rows from the first row of TABLE (one the server accepted): each row
 * changes one to three columns to a value near the constraints' constants (the constants
 * themselves, one digit or character off, cased or padded differently), a value typical of the
 * column's type, or NULL. ROWFILE gets "line<TAB>value...": each value as the loader would send
 * it, the COPY text the type parser writes (the raw text when it refuses it); stdout gets
 * "line<TAB>verdict": the name of the first compiled constraint the row fails in the server's
 * order, "none", or "bad" when a value is one the type parsers refuse (left out of the
 * comparison). */
#include "check_expr.h"
#include "copy_text.h"
#include "mem.h"
#include "pgtype.h"
#include "table_def.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, PGconn *c)
{
    fprintf(stderr, "dbtest_check: %s: %s", what, c ? PQerrorMessage(c) : "\n");
    exit(2);
}

static PGresult *query(PGconn *c, const char *sql, const char *param)
{
    const char *params[1] = {param};
    PGresult *r = PQexecParams(c, sql, param ? 1 : 0, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        die(sql, c);
    return r;
}

struct cons {
    char *name;
    char *def;
    long value_column;
    struct check_expr *compiled;
    char why[256];
};

/* A small deterministic generator (xorshift64*), so a failing seed replays. */
static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static size_t pick(size_t n)
{
    return (size_t)(rng() % n);
}

struct pool {
    char **v;
    size_t n, cap;
};

static void pool_add(struct pool *p, const char *s)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->v = xrealloc(p->v, p->cap * sizeof(char *));
    }
    p->v[p->n++] = xstrdup(s);
}

static void pool_free(struct pool *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
}

/* The constants of a constraint definition: quoted literals and bare numbers. */
static void constants_of(const char *def, struct pool *out)
{
    for (const char *p = def; *p;) {
        if (*p == '\'') {
            struct buf b;
            buf_init(&b);
            for (p++; *p; p++) {
                if (*p == '\'' && p[1] == '\'') {
                    buf_putc(&b, '\'');
                    p++;
                } else if (*p == '\'') {
                    p++;
                    break;
                } else {
                    buf_putc(&b, *p);
                }
            }
            buf_putc(&b, '\0');
            if (b.data[0] == '{') { /* an array constant: its elements */
                char *save = NULL;
                for (char *e = strtok_r(b.data + 1, ",}", &save); e;
                     e = strtok_r(NULL, ",}", &save))
                    pool_add(out, e[0] == '"' ? e + 1 : e);
            } else {
                pool_add(out, b.data);
            }
            buf_release(&b);
        } else if ((*p >= '0' && *p <= '9') && (p == def || !(p[-1] >= 'a' && p[-1] <= 'z'))) {
            const char *s = p;
            while ((*p >= '0' && *p <= '9') || *p == '.')
                p++;
            char *n = xasprintf("%.*s", (int)(p - s), s);
            pool_add(out, n);
            free(n);
        } else {
            p++;
        }
    }
}

/* Values near a constant: itself, its last digit moved by one, a character more or less, the
 * case of its first letter changed, a space around it, its sign turned. */
static void mutations_of(const char *s, struct pool *out)
{
    size_t n = strlen(s);
    pool_add(out, s);
    char *t = xmalloc(n + 3);
    for (size_t i = n; i-- > 0;)
        if (s[i] >= '0' && s[i] <= '9') {
            for (int d = -1; d <= 1; d += 2) {
                memcpy(t, s, n + 1);
                int v = s[i] - '0' + d;
                if (v < 0 || v > 9)
                    continue;
                t[i] = (char)('0' + v);
                pool_add(out, t);
            }
            break;
        }
    if (n) {
        memcpy(t, s, n - 1);
        t[n - 1] = '\0';
        pool_add(out, t);
    }
    snprintf(t, n + 3, "%sx", s);
    pool_add(out, t);
    snprintf(t, n + 3, "%s ", s);
    pool_add(out, t);
    snprintf(t, n + 3, " %s", s);
    pool_add(out, t);
    snprintf(t, n + 3, s[0] == '-' ? "%s" : "-%s", s[0] == '-' ? s + 1 : s);
    pool_add(out, t);
    memcpy(t, s, n + 1);
    if (t[0] >= 'a' && t[0] <= 'z')
        t[0] = (char)(t[0] - 32);
    else if (t[0] >= 'A' && t[0] <= 'Z')
        t[0] = (char)(t[0] + 32);
    pool_add(out, t);
    free(t);
}

/* Values typical of each kind, beside those near the constants. */
static void typical_of(enum pgtype_kind k, struct pool *out)
{
    static const char *const ints[] = {
        "0",           "1",          "-1",          "2",   "3",   "4",   "5",
        "9",           "10",         "11",          "99",  "100", "101", "2147483647",
        "-2147483648", "3000000000", "-3000000001", "007", "+4"};
    static const char *const nums[] = {"0",    "0.00", "0.01",        "-0.01",        "1.5",
                                       "1.49", "1.51", "99999999.99", "-99999999.99", "12.345",
                                       "1e2",  "5"};
    static const char *const floats[] = {"0",         "-0",      "1.5",      "1.4999999",
                                         "1.5000001", "NaN",     "Infinity", "-Infinity",
                                         "1e308",     "-1e-300", "0.1"};
    static const char *const texts[] = {"",
                                        "a",
                                        "A",
                                        "ab",
                                        "abc",
                                        "abcd",
                                        "view",
                                        "purchase",
                                        "View",
                                        "view ",
                                        "h\xc3\xa9\xc3\xa9",
                                        "\xc3\xa9t\xc3\xa9",
                                        "zzzzzzzzzzzzzzzzzzzz",
                                        "zzzzzzzzzzzzzzzzzzzzz",
                                        " ",
                                        "ab  ",
                                        "it's",
                                        "forbidden",
                                        "FORBIDDEN"};
    static const char *const dates[] = {"2000-01-01", "1999-12-31", "2030-01-01", "2029-12-31",
                                        "2024-02-29", "0001-01-01", "9999-12-31", "2000-01-02"};
    static const char *const stamps[] = {"2030-01-01 12:00:00",
                                         "2030-01-01 11:59:59.999999",
                                         "2030-01-01 12:00:00.000001",
                                         "2000-01-01 00:00:00",
                                         "1999-12-31 23:59:59",
                                         "2020-06-15 08:30:00",
                                         "2030-01-01T12:00:00",
                                         "2019-12-31 22:00:00+00",
                                         "2020-01-01 00:00:00+02",
                                         "2020-01-01 00:00:01+02",
                                         "2019-12-31 21:59:59.999999-00:00"};
    static const char *const bools[] = {"t",  "f",  "true", "false", "yes",
                                        "no", "on", "off",  "1",     "0"};
    static const char *const uuids[] = {
        "00000000-0000-0000-0000-000000000000", "{00000000-0000-0000-0000-000000000000}",
        "00000000000000000000000000000000", "00000000-0000-0000-0000-000000000001",
        "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"};
#define ADD(list)                                                                                  \
    do {                                                                                           \
        for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++)                                \
            pool_add(out, list[i]);                                                                \
    } while (0)
    switch (k) {
    case PGT_INT2:
    case PGT_INT4:
    case PGT_INT8:
        ADD(ints);
        for (int i = 0; i < 30; i++) {
            char b[16];
            snprintf(b, sizeof(b), "%d", (int)pick(130) - 10);
            pool_add(out, b);
        }
        break;
    case PGT_NUMERIC:
        ADD(nums);
        for (int i = 0; i < 30; i++) {
            char b[24];
            snprintf(b, sizeof(b), "%d.%02d", (int)pick(21) - 10, (int)pick(100));
            pool_add(out, b);
        }
        break;
    case PGT_FLOAT4:
    case PGT_FLOAT8:
        ADD(floats);
        break;
    case PGT_TEXT:
    case PGT_VARCHAR:
    case PGT_BPCHAR:
        ADD(texts);
        break;
    case PGT_DATE:
        ADD(dates);
        break;
    case PGT_TIMESTAMP:
    case PGT_TIMESTAMPTZ:
        ADD(stamps);
        break;
    case PGT_BOOL:
        ADD(bools);
        break;
    case PGT_UUID:
        ADD(uuids);
        break;
    default:
        break;
    }
#undef ADD
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: dbtest_check TABLE ROWS SEED CONSTRAINTS ROWFILE > verdicts\n");
        return 2;
    }
    const char *table = argv[1];
    long nrows = atol(argv[2]);
    rng_state = (uint64_t)atoll(argv[3]) * 0x9e3779b97f4a7c15ULL + 1;
    const char *conninfo = getenv("SLUICE_DB");
    PGconn *c = PQconnectdb(conninfo ? conninfo : "");
    if (PQstatus(c) != CONNECTION_OK)
        die("connect", c);
    /* the settings the engine reads constraint text under */
    PQclear(PQexec(c, "SET DateStyle = ISO; SET TimeZone = 'UTC'; SET extra_float_digits = 3"));

    /* Columns, domains resolved to their base type and typmod. */
    PGresult *r = query(c,
                        "WITH RECURSIVE d(attnum, oid, typmod, dom) AS ("
                        " SELECT a.attnum, a.atttypid, a.atttypmod, 0::oid FROM pg_attribute a"
                        " WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped"
                        " UNION ALL SELECT d.attnum, t.typbasetype, t.typtypmod, t.oid FROM d"
                        " JOIN pg_type t ON t.oid = d.oid WHERE t.typtype = 'd')"
                        " SELECT a.attname, t.typname, d.typmod, t.typtype, t.oid,"
                        "  coalesce(co.collname IN ('C', 'POSIX'), false),"
                        "  format_type(a.atttypid, a.atttypmod),"
                        "  (SELECT max(x.dom) FROM d x WHERE x.attnum = d.attnum)"
                        " FROM d JOIN pg_type t ON t.oid = d.oid"
                        " JOIN pg_attribute a ON a.attrelid = $1::regclass AND a.attnum = d.attnum"
                        " LEFT JOIN pg_collation co ON co.oid = a.attcollation"
                        " WHERE t.typtype <> 'd' ORDER BY d.attnum",
                        table);
    size_t ncols = (size_t)PQntuples(r);
    if (ncols == 0)
        die("the table has no columns", NULL);
    struct table_column *cols = xcalloc(ncols, sizeof(*cols));
    char **domain_oid = xcalloc(ncols, sizeof(char *));
    for (size_t i = 0; i < ncols; i++) {
        int row = (int)i;
        cols[i].name = xstrdup(PQgetvalue(r, row, 0));
        cols[i].type_name = xstrdup(PQgetvalue(r, row, 6));
        cols[i].c_collation = PQgetvalue(r, row, 5)[0] == 't';
        cols[i].text_exact = true; /* the test table uses deterministic collations */
        pgtype_from_catalog(&cols[i].type, PQgetvalue(r, row, 1),
                            (int32_t)atol(PQgetvalue(r, row, 2)));
        if (PQgetvalue(r, row, 3)[0] == 'e') {
            PGresult *e = query(c,
                                "SELECT enumlabel FROM pg_enum WHERE enumtypid = $1::oid"
                                " ORDER BY enumsortorder",
                                PQgetvalue(r, row, 4));
            size_t n = (size_t)PQntuples(e);
            char **labels = xcalloc(n ? n : 1, sizeof(*labels));
            for (size_t j = 0; j < n; j++)
                labels[j] = xstrdup(PQgetvalue(e, (int)j, 0));
            pgtype_set_labels(&cols[i].type, labels, n);
            PQclear(e);
        }
        if (strcmp(PQgetvalue(r, row, 7), "0") != 0)
            domain_oid[i] = xstrdup(PQgetvalue(r, row, 7));
    }
    PQclear(r);

    /* Constraints in the order the server tests them. */
    struct cons *cons = NULL;
    size_t ncons = 0;
    for (size_t i = 0; i <= ncols; i++) {
        if (i < ncols && !domain_oid[i])
            continue;
        PGresult *k = i < ncols ? query(c,
                                        "SELECT conname, pg_get_constraintdef(oid)"
                                        " FROM pg_constraint WHERE contypid = $1::oid"
                                        " AND contype = 'c' ORDER BY conname COLLATE \"C\"",
                                        domain_oid[i])
                                : query(c,
                                        "SELECT conname, pg_get_constraintdef(oid)"
                                        " FROM pg_constraint WHERE conrelid = $1::regclass"
                                        " AND contype = 'c' ORDER BY conname COLLATE \"C\"",
                                        table);
        for (int j = 0; j < PQntuples(k); j++) {
            cons = xrealloc(cons, (ncons + 1) * sizeof(*cons));
            struct cons *x = &cons[ncons++];
            x->name = xstrdup(PQgetvalue(k, j, 0));
            x->def = xstrdup(PQgetvalue(k, j, 1));
            x->value_column = i < ncols ? (long)i : -1;
        }
        PQclear(k);
    }
    struct pgtype_env env = {0};
    FILE *cf = fopen(argv[4], "w");
    if (!cf)
        die("open constraints file", NULL);
    struct pool consts = {0};
    for (size_t i = 0; i < ncons; i++) {
        cons[i].compiled = check_compile(cons[i].def, cols, ncols, cons[i].value_column, &env,
                                         cons[i].why, sizeof(cons[i].why));
        fprintf(cf, "%zu\t%s\t%s\t%s\n", i, cons[i].name, cons[i].compiled ? "compiled" : "refused",
                cons[i].compiled ? cons[i].def : cons[i].why);
        constants_of(cons[i].def, &consts);
    }
    fclose(cf);

    /* The base row: one the server holds, as text. */
    struct buf sql;
    buf_init(&sql);
    buf_printf(&sql, "SELECT ");
    for (size_t i = 0; i < ncols; i++) {
        char *id = PQescapeIdentifier(c, cols[i].name, strlen(cols[i].name));
        buf_printf(&sql, "%s%s::text", i ? ", " : "", id);
        PQfreemem(id);
    }
    buf_printf(&sql, " FROM %s LIMIT 1", table);
    buf_putc(&sql, '\0');
    r = query(c, sql.data, NULL);
    if (PQntuples(r) != 1)
        die("the table holds no base row", NULL);
    char **base = xcalloc(ncols, sizeof(char *));
    for (size_t i = 0; i < ncols; i++)
        base[i] = PQgetisnull(r, 0, (int)i) ? NULL : xstrdup(PQgetvalue(r, 0, (int)i));
    PQclear(r);
    PQfinish(c);

    /* Candidates per column: what the type parser reads of the constants' neighbours and of the
     * typical values, with a few it refuses kept aside. */
    struct pool *good = xcalloc(ncols, sizeof(*good)), *badv = xcalloc(ncols, sizeof(*badv));
    struct pool all = {0};
    for (size_t i = 0; i < consts.n; i++)
        mutations_of(consts.v[i], &all);
    struct buf out;
    buf_init(&out);
    char why[256];
    for (size_t i = 0; i < ncols; i++) {
        struct pool cand = {0};
        for (size_t j = 0; j < all.n; j++)
            pool_add(&cand, all.v[j]);
        typical_of(cols[i].type.kind, &cand);
        for (size_t j = 0; j < cols[i].type.nlabels; j++)
            pool_add(&cand, cols[i].type.labels[j]);
        for (size_t j = 0; j < cand.n; j++) {
            buf_reset(&out);
            const char *bad = pgtype_parse(&cols[i].type, &env, cand.v[j], strlen(cand.v[j]), &out,
                                           NULL, why, sizeof(why));
            pool_add(bad ? &badv[i] : &good[i], cand.v[j]);
            free(cand.v[j]);
        }
        free(cand.v);
    }

    FILE *rf = fopen(argv[5], "w");
    if (!rf)
        die("open row file", NULL);
    const char **vals = xcalloc(ncols, sizeof(char *));
    struct pgvalue *pv = xcalloc(ncols, sizeof(*pv));
    for (long line = 1; line <= nrows; line++) {
        for (size_t i = 0; i < ncols; i++)
            vals[i] = base[i];
        size_t changes = pick(10) < 7 ? 1 : 2 + pick(2);
        for (size_t k = 0; k < changes; k++) {
            size_t i = pick(ncols);
            size_t roll = pick(100);
            if (roll < 10)
                vals[i] = NULL;
            else if (roll < 11 && badv[i].n)
                vals[i] = badv[i].v[pick(badv[i].n)];
            else if (good[i].n)
                vals[i] = good[i].v[pick(good[i].n)];
        }
        /* parse as the loader would, then judge */
        bool bad = false;
        buf_reset(&out);
        buf_printf(&out, "%ld", line);
        for (size_t i = 0; i < ncols; i++) {
            buf_putc(&out, '\t');
            memset(&pv[i], 0, sizeof(pv[i]));
            if (!vals[i]) {
                pv[i].null = true;
                buf_append(&out, "\\N", 2);
                continue;
            }
            /* what the loader would send: the COPY text the parser writes (a timestamp with an
             * offset, for one, is converted); the raw text when the parser refuses it */
            size_t mark = out.len;
            if (pgtype_parse(&cols[i].type, &env, vals[i], strlen(vals[i]), &out, &pv[i], why,
                             sizeof(why))) {
                bad = true;
                out.len = mark;
                copy_text_escape(&out, vals[i], strlen(vals[i]));
            }
        }
        buf_putc(&out, '\n');
        fwrite(out.data, 1, out.len, rf);
        const char *verdict = "none";
        if (bad) {
            verdict = "bad";
        } else {
            for (size_t k = 0; k < ncons; k++) {
                size_t col;
                if (cons[k].compiled && !check_eval(cons[k].compiled, pv, &col)) {
                    verdict = cons[k].name;
                    if (!check_uses(cons[k].compiled, col)) {
                        fprintf(stderr,
                                "dbtest_check: %s blames column %zu, which it does not read\n",
                                cons[k].name, col);
                        return 1;
                    }
                    break;
                }
            }
        }
        printf("%ld\t%s\n", line, verdict);
    }
    if (fclose(rf) != 0 || fflush(stdout) != 0)
        die("write", NULL);

    free(pv);
    free(vals);
    buf_release(&out);
    buf_release(&sql);
    pool_free(&all);
    pool_free(&consts);
    for (size_t i = 0; i < ncols; i++) {
        pool_free(&good[i]);
        pool_free(&badv[i]);
        free(base[i]);
        free(domain_oid[i]);
        free(cols[i].name);
        free(cols[i].type_name);
        pgtype_release(&cols[i].type);
    }
    free(good);
    free(badv);
    free(base);
    free(domain_oid);
    free(cols);
    for (size_t i = 0; i < ncons; i++) {
        check_free(cons[i].compiled);
        free(cons[i].name);
        free(cons[i].def);
    }
    free(cons);
    return 0;
}
