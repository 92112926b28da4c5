/*
 * grants.c - the privileges sluice's commands need, in one table: checked at start (so a missing
 * one is named as the exact GRANT to run, once, instead of failing every batch with 42501) and
 * printed as GRANT statements for an ingest role (`sluice db setup`, and the embedded cluster's
 * `db start`, which runs them).
 */
#include "grants.h"

#include "db.h"
#include "log.h"
#include "mem.h"

#include <stdbool.h>
#include <string.h>

enum grant_kind { GRANT_DATABASE, GRANT_SCHEMA, GRANT_TABLE, GRANT_SEQUENCE };

/* Every privilege a command needs, one a row; rows of one object are adjacent. */
static const struct grant {
    enum grant_kind kind;
    const char *object; /* NULL: the current database or schema */
    const char *privilege;
    unsigned need;
} grants[] = {
    {GRANT_DATABASE, NULL, "CONNECT", GRANTS_INGEST | GRANTS_ARCHIVE},
    {GRANT_DATABASE, NULL, "TEMPORARY", GRANTS_INGEST}, /* the dedupe staging table */
    {GRANT_SCHEMA, NULL, "USAGE", GRANTS_INGEST | GRANTS_ARCHIVE},
    {GRANT_TABLE, "ingest_files", "SELECT", GRANTS_INGEST | GRANTS_ARCHIVE},
    {GRANT_TABLE, "ingest_files", "INSERT", GRANTS_INGEST},
    {GRANT_TABLE, "ingest_files", "UPDATE", GRANTS_INGEST | GRANTS_ARCHIVE},
    {GRANT_TABLE, "user_activity", "SELECT", GRANTS_INGEST},
    {GRANT_TABLE, "user_activity", "INSERT", GRANTS_INGEST},
    {GRANT_TABLE, "user_activity_errors", "INSERT", GRANTS_INGEST},
    {GRANT_SEQUENCE, "user_activity_errors_error_id_seq", "USAGE", GRANTS_INGEST},
};
#define NGRANTS (sizeof(grants) / sizeof(grants[0]))

static const char *const grant_kind_names[] = {"DATABASE", "SCHEMA", "TABLE", "SEQUENCE"};

/* The names a GRANT statement needs, read from the session. */
struct grant_names {
    char *database, *schema, *role; /* quoted identifiers (PQescapeIdentifier) */
};

static void grant_names_release(struct grant_names *n)
{
    PQfreemem(n->database);
    PQfreemem(n->schema);
    PQfreemem(n->role);
}

/* Append "GRANT a, b ON KIND object TO role;" for every object with a selected row. */
static void grants_format(struct buf *b, const bool *selected, const struct grant_names *n,
                          const char *sep)
{
    for (size_t i = 0; i < NGRANTS;) {
        size_t j = i;
        bool any = false;
        while (j < NGRANTS && grants[j].kind == grants[i].kind &&
               (grants[j].object == grants[i].object ||
                (grants[j].object && grants[i].object &&
                 strcmp(grants[j].object, grants[i].object) == 0))) {
            any = any || selected[j];
            j++;
        }
        if (any) {
            if (b->len)
                buf_printf(b, "%s", sep);
            buf_printf(b, "GRANT ");
            bool first = true;
            for (size_t k = i; k < j; k++)
                if (selected[k]) {
                    buf_printf(b, "%s%s", first ? "" : ", ", grants[k].privilege);
                    first = false;
                }
            const char *object = grants[i].object                   ? grants[i].object
                                 : grants[i].kind == GRANT_DATABASE ? n->database
                                                                    : n->schema;
            buf_printf(b, " ON %s %s TO %s;", grant_kind_names[grants[i].kind], object, n->role);
        }
        i = j;
    }
    buf_putc(b, '\0');
    b->len--;
}

/* Read current_database(), current_schema() and quote them and role. 0, or -1 after logging. */
static int grant_names_init(PGconn *conn, const char *role, struct grant_names *n)
{
    memset(n, 0, sizeof(*n));
    PGresult *res = PQexec(conn, "SELECT current_database(), current_schema(), current_user");
    int rc = -1;
    if (db_check(conn, res, PGRES_TUPLES_OK, "reading the session's names") != DB_OK)
        goto out;
    const char *r = role ? role : PQgetvalue(res, 0, 2);
    const char *s = PQgetisnull(res, 0, 1) ? "public" : PQgetvalue(res, 0, 1);
    n->database = PQescapeIdentifier(conn, PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)));
    n->schema = PQescapeIdentifier(conn, s, strlen(s));
    n->role = PQescapeIdentifier(conn, r, strlen(r));
    rc = n->database && n->schema && n->role ? 0 : -1;
    if (rc < 0)
        log_error("db", "cannot quote a name: %s", PQerrorMessage(conn));
out:
    PQclear(res);
    return rc;
}

char *grants_sql(PGconn *conn, const char *role)
{
    struct grant_names n;
    if (grant_names_init(conn, role, &n) < 0) {
        grant_names_release(&n);
        return NULL;
    }
    bool all[NGRANTS];
    for (size_t i = 0; i < NGRANTS; i++)
        all[i] = true;
    struct buf b;
    buf_init(&b);
    grants_format(&b, all, &n, "\n");
    buf_putc(&b, '\n');
    buf_putc(&b, '\0');
    grant_names_release(&n);
    return b.data;
}

int grants_check(PGconn *conn, unsigned need, const char *component)
{
    struct buf sql;
    buf_init(&sql);
    buf_printf(&sql, "SELECT ");
    for (size_t i = 0; i < NGRANTS; i++) {
        const struct grant *g = &grants[i];
        const char *sep = i ? ", " : "";
        switch (g->kind) {
        case GRANT_DATABASE:
            buf_printf(&sql, "%shas_database_privilege(current_database(), '%s')", sep,
                       g->privilege);
            break;
        case GRANT_SCHEMA:
            buf_printf(&sql, "%shas_schema_privilege(current_schema(), '%s')", sep, g->privilege);
            break;
        case GRANT_TABLE:
            buf_printf(&sql, "%shas_table_privilege('%s', '%s')", sep, g->object, g->privilege);
            break;
        case GRANT_SEQUENCE:
            buf_printf(&sql, "%shas_sequence_privilege('%s', '%s')", sep, g->object, g->privilege);
            break;
        }
    }
    buf_putc(&sql, '\0');
    PGresult *res = PQexec(conn, sql.data);
    buf_release(&sql);
    int rc = -1;
    struct grant_names n = {0};
    struct buf missing;
    buf_init(&missing);
    if (db_check(conn, res, PGRES_TUPLES_OK, "checking privileges") != DB_OK)
        goto out;
    bool lacks[NGRANTS];
    bool any = false;
    for (size_t i = 0; i < NGRANTS; i++) {
        lacks[i] = (grants[i].need & need) && strcmp(PQgetvalue(res, 0, (int)i), "t") != 0;
        any = any || lacks[i];
    }
    if (!any) {
        rc = 0;
        goto out;
    }
    if (grant_names_init(conn, NULL, &n) < 0)
        goto out;
    grants_format(&missing, lacks, &n, " ");
    log_error(component,
              "role %s lacks privileges sluice needs (42501) hint=as the owner role run: %s "
              "('sluice db setup --ingest-role NAME' prints every GRANT an ingest role needs)",
              n.role, missing.data);
out:
    grant_names_release(&n);
    buf_release(&missing);
    PQclear(res);
    return rc;
}
