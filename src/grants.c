/*
 * grants.c - the privileges sluice's commands need, in one table: checked at start (so a missing
 * one is named as the exact GRANT to run, once, instead of failing every batch with 42501) and
 * printed as GRANT statements for an ingest role (`sluice db setup`, and the embedded cluster's
 * `db start`, which runs them). The table names the objects by role (the ledger, the target,
 * the dead-letter table and its sequence); the pipeline's actual tables fill them in, schema
 * included, so a pipeline loading sales.orders is checked on sales.orders, its dead-letter table
 * and the schema sales.
 */
#include "grants.h"

#include "db.h"
#include "log.h"
#include "mem.h"
#include "table_name.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum grant_kind { GRANT_DATABASE, GRANT_SCHEMA, GRANT_TABLE, GRANT_SEQUENCE };

/* The objects of a grant, by the part they play. */
enum grant_object {
    OBJ_DATABASE,     /* the current database */
    OBJ_SCHEMA,       /* the current schema: the ledger's */
    OBJ_TARGET_SCHEMA, /* the target's schema, when it is another */
    OBJ_DLQ_SCHEMA,   /* the dead-letter table's schema, when it is another */
    OBJ_LEDGER,
    OBJ_TARGET,
    OBJ_DLQ,
    OBJ_DLQ_SEQ, /* the sequence behind the dead-letter table's error_id */
    OBJ_COUNT
};

/* Every privilege a command needs, one a row; rows of one object are adjacent. */
static const struct grant {
    enum grant_kind kind;
    enum grant_object object;
    const char *privilege;
    unsigned need;
} grants[] = {
    {GRANT_DATABASE, OBJ_DATABASE, "CONNECT", GRANTS_INGEST | GRANTS_ARCHIVE},
    {GRANT_DATABASE, OBJ_DATABASE, "TEMPORARY", GRANTS_INGEST}, /* the dedupe staging table */
    {GRANT_SCHEMA, OBJ_SCHEMA, "USAGE", GRANTS_INGEST | GRANTS_ARCHIVE},
    {GRANT_SCHEMA, OBJ_TARGET_SCHEMA, "USAGE", GRANTS_INGEST},
    {GRANT_SCHEMA, OBJ_DLQ_SCHEMA, "USAGE", GRANTS_INGEST},
    {GRANT_TABLE, OBJ_LEDGER, "SELECT", GRANTS_INGEST | GRANTS_ARCHIVE},
    {GRANT_TABLE, OBJ_LEDGER, "INSERT", GRANTS_INGEST},
    {GRANT_TABLE, OBJ_LEDGER, "UPDATE", GRANTS_INGEST | GRANTS_ARCHIVE},
    {GRANT_TABLE, OBJ_TARGET, "SELECT", GRANTS_INGEST},
    {GRANT_TABLE, OBJ_TARGET, "INSERT", GRANTS_INGEST},
    {GRANT_TABLE, OBJ_DLQ, "INSERT", GRANTS_INGEST},
    {GRANT_SEQUENCE, OBJ_DLQ_SEQ, "USAGE", GRANTS_INGEST},
};
#define NGRANTS (sizeof(grants) / sizeof(grants[0]))

static const char *const grant_kind_names[] = {"DATABASE", "SCHEMA", "TABLE", "SEQUENCE"};

/* The names a GRANT statement needs, read from the session: every object quoted for SQL, NULL
 * for one this pipeline does not use (no dead-letter table asked for, a schema already named). */
struct grant_names {
    char *object[OBJ_COUNT];
    char *role;
};

static void grant_names_release(struct grant_names *n)
{
    for (int i = 0; i < OBJ_COUNT; i++)
        free(n->object[i]);
    free(n->role);
    memset(n, 0, sizeof(*n));
}

/* Append "GRANT a, b ON KIND object TO role;" for every object with a selected row. */
static void grants_format(struct buf *b, const bool *selected, const struct grant_names *n,
                          const char *sep)
{
    for (size_t i = 0; i < NGRANTS;) {
        size_t j = i;
        bool any = false;
        while (j < NGRANTS && grants[j].object == grants[i].object) {
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
            buf_printf(b, " ON %s %s TO %s;", grant_kind_names[grants[i].kind],
                       n->object[grants[i].object], n->role);
        }
        i = j;
    }
    buf_putc(b, '\0');
    b->len--;
}

/* Read the names from the session and the catalog, quoted: the database, the current schema,
 * the ledger, the pipeline's tables (t: "schema.table" as the catalog names them; NULL members
 * are left out), the schemas they are in when those differ from the current one, the sequence
 * of the dead-letter table's error_id, and role (NULL: the session's). 0, or -1 after logging. */
static int grant_names_init(PGconn *conn, const char *role, const struct grants_tables *t,
                            struct grant_names *n)
{
    memset(n, 0, sizeof(*n));
    const char *target = t ? t->target : NULL, *dlq = t ? t->dlq : NULL;
    char *tq = target ? table_name_quote(conn, target) : NULL;
    char *dq = dlq ? table_name_quote(conn, dlq) : NULL;
    const char *p[] = {tq, dq, role};
    /* format('%I'): the server quotes every name exactly as a statement needs it */
    PGresult *res = PQexecParams(
        conn,
        "SELECT format('%I', current_database()), format('%I', coalesce(current_schema(), "
        "'public')), format('%I.ingest_files', n.nspname), "
        "(SELECT format('%I.%I', s.nspname, c.relname) FROM pg_class c JOIN pg_namespace s "
        "ON s.oid = c.relnamespace WHERE c.oid = to_regclass($1::text)), "
        "(SELECT format('%I.%I', s.nspname, c.relname) FROM pg_class c JOIN pg_namespace s "
        "ON s.oid = c.relnamespace WHERE c.oid = to_regclass($2::text)), "
        "(SELECT format('%I', s.nspname) FROM pg_class c JOIN pg_namespace s "
        "ON s.oid = c.relnamespace WHERE c.oid = to_regclass($1::text) "
        "AND s.nspname <> current_schema()), "
        "(SELECT format('%I', s.nspname) FROM pg_class c JOIN pg_namespace s "
        "ON s.oid = c.relnamespace WHERE c.oid = to_regclass($2::text) "
        "AND s.nspname <> current_schema() AND s.oid <> (SELECT relnamespace FROM pg_class "
        "WHERE oid = to_regclass($1::text))), "
        "(SELECT format('%I.%I', s.nspname, c.relname) FROM pg_class c JOIN pg_namespace s "
        "ON s.oid = c.relnamespace WHERE c.oid = pg_get_serial_sequence($2::text, 'error_id')::regclass), "
        "format('%I', coalesce($3::text, current_user)) "
        "FROM pg_class l JOIN pg_namespace n ON n.oid = l.relnamespace "
        "WHERE l.oid = to_regclass('ingest_files')",
        3, NULL, p, NULL, NULL, 0);
    int rc = -1;
    if (db_check(conn, res, PGRES_TUPLES_OK, "reading the names of the grants") != DB_OK)
        goto out;
    if (PQntuples(res) != 1) {
        log_error("db", "the ledger table ingest_files is missing");
        goto out;
    }
    static const enum grant_object cols[] = {OBJ_DATABASE,      OBJ_SCHEMA,     OBJ_LEDGER,
                                             OBJ_TARGET,        OBJ_DLQ,        OBJ_TARGET_SCHEMA,
                                             OBJ_DLQ_SCHEMA,    OBJ_DLQ_SEQ};
    for (int i = 0; i < (int)(sizeof(cols) / sizeof(cols[0])); i++)
        if (!PQgetisnull(res, 0, i))
            n->object[cols[i]] = xstrdup(PQgetvalue(res, 0, i));
    n->role = xstrdup(PQgetvalue(res, 0, 8));
    rc = 0;
out:
    PQclear(res);
    free(tq);
    free(dq);
    return rc;
}

char *grants_sql(PGconn *conn, const char *role, const struct grants_tables *t)
{
    struct grant_names n;
    if (grant_names_init(conn, role, t, &n) < 0) {
        grant_names_release(&n);
        return NULL;
    }
    bool all[NGRANTS];
    for (size_t i = 0; i < NGRANTS; i++)
        all[i] = n.object[grants[i].object] != NULL;
    struct buf b;
    buf_init(&b);
    grants_format(&b, all, &n, "\n");
    buf_putc(&b, '\n');
    buf_putc(&b, '\0');
    grant_names_release(&n);
    return b.data;
}

int grants_check(PGconn *conn, unsigned need, const char *component,
                 const struct grants_tables *t)
{
    struct grant_names n;
    if (grant_names_init(conn, NULL, t, &n) < 0) {
        grant_names_release(&n);
        return -1;
    }
    /* the names come quoted from the server and go back as parameters, never pasted */
    struct buf sql;
    buf_init(&sql);
    const char *params[NGRANTS];
    int np = 0;
    bool asked[NGRANTS];
    buf_printf(&sql, "SELECT true");
    for (size_t i = 0; i < NGRANTS; i++) {
        const struct grant *g = &grants[i];
        asked[i] = (g->need & need) && n.object[g->object];
        if (!asked[i])
            continue;
        if (g->kind != GRANT_DATABASE)
            params[np++] = n.object[g->object];
        switch (g->kind) {
        case GRANT_DATABASE:
            buf_printf(&sql, ", has_database_privilege(current_database(), '%s')", g->privilege);
            break;
        case GRANT_SCHEMA: /* it takes the bare name; we hold the quoted one */
            buf_printf(&sql,
                       ", has_schema_privilege((SELECT oid FROM pg_namespace "
                       "WHERE format('%%I', nspname) = $%d::text), '%s')",
                       np, g->privilege);
            break;
        case GRANT_TABLE:
            buf_printf(&sql, ", has_table_privilege($%d::text, '%s')", np, g->privilege);
            break;
        case GRANT_SEQUENCE:
            buf_printf(&sql, ", has_sequence_privilege($%d::text, '%s')", np, g->privilege);
            break;
        }
    }
    buf_putc(&sql, '\0');
    PGresult *res = PQexecParams(conn, sql.data, np, NULL, params, NULL, NULL, 0);
    buf_release(&sql);
    int rc = -1;
    struct buf missing;
    buf_init(&missing);
    if (db_check(conn, res, PGRES_TUPLES_OK, "checking privileges") != DB_OK)
        goto out;
    bool lacks[NGRANTS];
    bool any = false;
    int col = 1; /* column 0 is the "true" the list starts with */
    for (size_t i = 0; i < NGRANTS; i++) {
        lacks[i] = false;
        if (!asked[i])
            continue;
        lacks[i] = strcmp(PQgetvalue(res, 0, col++), "t") != 0;
        any = any || lacks[i];
    }
    if (!any) {
        rc = 0;
        goto out;
    }
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
