/*
 * table_def.c - reads a target table's definition from the catalog at start: columns with
 * their types (domains followed down to their base type, enums with their labels), NOT NULL
 * (the column's or a domain's), defaults, collations, the key, and the CHECK constraints of the
 * table and of its columns' domains, compiled by check_expr where it can.
 *
 * Promises: what is read here is what the server enforces; nothing is taken from a second
 * description of the table. A constraint or a column type that is not checked in C is named
 * once in the log at start, and the server stays its judge (the loader's fallback turns its
 * refusals into db_rejected dead letters). Dropped and generated columns, and identity columns
 * GENERATED ALWAYS, are never loaded (the server fills them; a file column of that name is
 * ignored).
 */
#include "table_def.h"

#include "check_expr.h"
#include "log.h"
#include "mem.h"
#include "table_name.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run a catalog query; NULL with err filled on failure. */
static PGresult *catalog_query(PGconn *conn, const char *sql, int nparams,
                               const char *const *params, char *err, size_t err_size)
{
    PGresult *r = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        return r;
    snprintf(err, err_size, "reading the catalog: %s", PQresultErrorMessage(r));
    size_t n = strlen(err);
    if (n && err[n - 1] == '\n')
        err[n - 1] = '\0';
    PQclear(r);
    return NULL;
}

/* The columns, one row each: attnum, name, format_type, NOT NULL (column or domain), has a
 * default (or identity), collation is C, base typname, typmod in force, typtype, base oid,
 * the domains on the way down (oid[] text). */
static const char columns_sql[] =
    "WITH RECURSIVE d AS ("
    "  SELECT a.attnum, a.atttypid AS oid, a.atttypmod AS typmod, a.attnotnull AS notnull,"
    "         ARRAY[]::oid[] AS doms, 0 AS depth"
    "  FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0"
    "    AND NOT a.attisdropped AND a.attgenerated = '' AND a.attidentity <> 'a'"
    "  UNION ALL"
    "  SELECT d.attnum, t.typbasetype, CASE WHEN d.typmod >= 0 THEN d.typmod ELSE t.typtypmod END,"
    "         d.notnull OR t.typnotnull, d.doms || t.oid, d.depth + 1"
    "  FROM d JOIN pg_type t ON t.oid = d.oid WHERE t.typtype = 'd' AND d.depth < 32)"
    " SELECT a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), d.notnull,"
    "        a.atthasdef OR a.attidentity <> '' OR EXISTS (SELECT 1 FROM pg_type dt"
    "          WHERE dt.oid = ANY (d.doms) AND dt.typdefault IS NOT NULL),"
    "        coalesce(c.collname IN ('C', 'POSIX') OR (a.attcollation = 100 AND"
    "          (SELECT datcollate IN ('C', 'POSIX') FROM pg_database"
    "           WHERE datname = current_database())), false),"
    "        coalesce(c.collisdeterministic, true),"
    "        CASE WHEN b.typnamespace = 'pg_catalog'::regnamespace THEN b.typname END,"
    "        d.typmod, b.typtype, b.oid, d.doms::text"
    " FROM d JOIN pg_attribute a ON a.attrelid = $1::regclass AND a.attnum = d.attnum"
    " JOIN pg_type b ON b.oid = d.oid"
    " LEFT JOIN pg_collation c ON c.oid = a.attcollation"
    " WHERE b.typtype <> 'd' ORDER BY a.attnum";

enum { C_ATTNUM, C_NAME, C_FORMAT, C_NOTNULL, C_DEFAULT, C_CCOLL, C_EXACT, C_TYPNAME, C_TYPMOD,
       C_TYPTYPE, C_TYPOID, C_DOMAINS };

static bool is_true(const PGresult *r, int row, int col)
{
    return PQgetvalue(r, row, col)[0] == 't';
}

static int read_enum_labels(PGconn *conn, struct pgtype *type, const char *type_oid, char *err,
                            size_t err_size)
{
    const char *p[] = {type_oid};
    PGresult *r = catalog_query(
        conn, "SELECT enumlabel FROM pg_enum WHERE enumtypid = $1::oid ORDER BY enumsortorder",
        1, p, err, err_size);
    if (!r)
        return -1;
    size_t n = (size_t)PQntuples(r);
    char **labels = xcalloc(n ? n : 1, sizeof(*labels));
    for (size_t i = 0; i < n; i++)
        labels[i] = xstrdup(PQgetvalue(r, (int)i, 0));
    pgtype_set_labels(type, labels, n);
    PQclear(r);
    return 0;
}

static void add_check(struct table_def *t, const char *name, const char *def, long value_column,
                      const struct pgtype_env *env)
{
    char why[256] = "";
    t->checks = xrealloc(t->checks, (t->nchecks + 1) * sizeof(*t->checks));
    struct table_check *c = &t->checks[t->nchecks++];
    c->name = xstrdup(name);
    c->def = xstrdup(def);
    c->value_column = value_column;
    c->compiled = check_compile(def, t->cols, t->ncols, value_column, env, why, sizeof(why));
    if (c->compiled)
        log_debug("ingest", "%s: constraint %s compiled: %s", t->name, name, def);
    else
        log_info("ingest", "%s: constraint %s is checked by the server only (%s): %s", t->name,
                 name, why, def);
}

static int read_columns(PGconn *conn, struct table_def *t, const char *regclass,
                        const struct pgtype_env *env, char *err, size_t err_size)
{
    const char *p[] = {regclass};
    PGresult *r = catalog_query(conn, columns_sql, 1, p, err, err_size);
    if (!r)
        return -1;
    t->ncols = (size_t)PQntuples(r);
    t->cols = xcalloc(t->ncols ? t->ncols : 1, sizeof(*t->cols));
    int rc = 0;
    for (size_t i = 0; i < t->ncols && rc == 0; i++) {
        int row = (int)i;
        struct table_column *c = &t->cols[i];
        c->name = xstrdup(PQgetvalue(r, row, C_NAME));
        c->type_name = xstrdup(PQgetvalue(r, row, C_FORMAT));
        c->not_null = is_true(r, row, C_NOTNULL);
        c->has_default = is_true(r, row, C_DEFAULT);
        c->c_collation = is_true(r, row, C_CCOLL);
        c->text_exact = is_true(r, row, C_EXACT);
        pgtype_from_catalog(&c->type, PQgetvalue(r, row, C_TYPNAME),
                            (int32_t)atol(PQgetvalue(r, row, C_TYPMOD)));
        if (PQgetvalue(r, row, C_TYPTYPE)[0] == 'e')
            rc = read_enum_labels(conn, &c->type, PQgetvalue(r, row, C_TYPOID), err, err_size);
        if (c->type.kind == PGT_SERVER)
            log_info("ingest", "%s: column %s (%s) is checked by the server only", t->name,
                     c->name, c->type_name);
    }
    if (rc == 0) {
        /* the domains' own constraints, each guarding the column of that domain */
        for (size_t i = 0; i < t->ncols && rc == 0; i++) {
            const char *doms = PQgetvalue(r, (int)i, C_DOMAINS);
            if (strcmp(doms, "{}") == 0)
                continue;
            const char *q[] = {doms};
            PGresult *cr = catalog_query(conn,
                                         "SELECT conname, pg_get_constraintdef(oid) FROM "
                                         "pg_constraint WHERE contypid = ANY ($1::oid[]) AND "
                                         "contype = 'c' ORDER BY conname",
                                         1, q, err, err_size);
            if (!cr) {
                rc = -1;
                break;
            }
            for (int k = 0; k < PQntuples(cr); k++)
                add_check(t, PQgetvalue(cr, k, 0), PQgetvalue(cr, k, 1), (long)i, env);
            PQclear(cr);
        }
    }
    PQclear(r);
    return rc;
}

long table_def_column(const struct table_def *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* The primary key's columns, else those of the first plain unique index. */
static int read_key(PGconn *conn, struct table_def *t, const char *regclass, char *err,
                    size_t err_size)
{
    const char *p[] = {regclass};
    PGresult *r = catalog_query(
        conn,
        "SELECT a.attname, k.indexrelid::regclass::text, k.indimmediate FROM (SELECT i.indkey,"
        "   i.indexrelid, i.indimmediate"
        "   FROM pg_index i WHERE i.indrelid = $1::regclass"
        "   AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL"
        "   ORDER BY i.indisprimary DESC, i.indexrelid LIMIT 1) k,"
        " unnest(k.indkey::int2[]) WITH ORDINALITY AS u(attnum, pos)"
        " JOIN pg_attribute a ON a.attrelid = $1::regclass AND a.attnum = u.attnum"
        " ORDER BY u.pos",
        1, p, err, err_size);
    if (!r)
        return -1;
    size_t n = (size_t)PQntuples(r);
    t->key = xcalloc(n ? n : 1, sizeof(*t->key));
    if (n) { /* as a unique violation names it: without its schema */
        const char *idx = PQgetvalue(r, 0, 1);
        const char *dot = strrchr(idx, '.');
        t->key_index = xstrdup(dot ? dot + 1 : idx);
        t->key_immediate = strcmp(PQgetvalue(r, 0, 2), "t") == 0;
    }
    for (size_t i = 0; i < n; i++) {
        long c = table_def_column(t, PQgetvalue(r, (int)i, 0));
        if (c < 0) { /* a generated column in the key: duplicates are left to the server */
            t->nkey = 0;
            break;
        }
        t->key[t->nkey++] = (size_t)c;
    }
    PQclear(r);
    return 0;
}

int table_def_read(PGconn *conn, const char *name, const struct pgtype_env *env,
                   struct table_def *t, char *err, size_t err_size)
{
    memset(t, 0, sizeof(*t));
    t->name = xstrdup(name);
    t->sql_name = table_name_quote(conn, name);
    if (!t->sql_name) {
        snprintf(err, err_size, "'%s' is not a table name ([schema.]name)", name);
        return -1;
    }
    const char *p[] = {t->sql_name};
    PGresult *r = catalog_query(conn,
                                "SELECT c.oid::text FROM pg_class c WHERE c.oid = "
                                "to_regclass($1) AND c.relkind IN ('r', 'p')",
                                1, p, err, err_size);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        snprintf(err, err_size, "table %s does not exist (create it first)", name);
        return -1;
    }
    char *regclass = xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    /* constants in constraint texts print as the session's DateStyle says: ISO, which the
     * compiler reads */
    PQclear(PQexec(conn, "SET DateStyle = ISO"));
    int rc = read_columns(conn, t, regclass, env, err, err_size);
    if (rc == 0 && t->ncols == 0) {
        snprintf(err, err_size, "table %s has no column sluice can load", name);
        rc = -1;
    }
    if (rc == 0)
        rc = read_key(conn, t, regclass, err, err_size);
    if (rc == 0) {
        r = catalog_query(conn,
                          "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE "
                          "conrelid = $1::oid AND contype = 'c' ORDER BY conname",
                          1, (const char *const[]){regclass}, err, err_size);
        if (!r)
            rc = -1;
        for (int i = 0; r && i < PQntuples(r); i++)
            add_check(t, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), -1, env);
        PQclear(r);
    }
    free(regclass);
    return rc;
}

int table_def_add_check(struct table_def *t, const char *name, const char *def,
                        const struct pgtype_env *env, char *err, size_t err_size)
{
    char why[256] = "";
    struct check_expr *c = check_compile(def, t->cols, t->ncols, -1, env, why, sizeof(why));
    if (!c) {
        snprintf(err, err_size, "%s does not compile (%s): %s", name, why, def);
        return -1;
    }
    t->checks = xrealloc(t->checks, (t->nchecks + 1) * sizeof(*t->checks));
    t->checks[t->nchecks++] =
        (struct table_check){.name = xstrdup(name), .def = xstrdup(def), .compiled = c,
                             .value_column = -1};
    return 0;
}

void table_def_release(struct table_def *t)
{
    for (size_t i = 0; i < t->ncols; i++) {
        free(t->cols[i].name);
        free(t->cols[i].type_name);
        pgtype_release(&t->cols[i].type);
    }
    for (size_t i = 0; i < t->nchecks; i++) {
        free(t->checks[i].name);
        free(t->checks[i].def);
        check_free(t->checks[i].compiled);
    }
    free(t->cols);
    free(t->key);
    free(t->key_index);
    free(t->checks);
    free(t->name);
    free(t->sql_name);
    memset(t, 0, sizeof(*t));
}
