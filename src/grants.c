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
    char *oid[OBJ_COUNT]; /* what the check asks about: the oid, which needs no USAGE on a schema */
    char *role;
};

static void grant_names_release(struct grant_names *n)
{
    for (int i = 0; i < OBJ_COUNT; i++) {
        free(n->object[i]);
        free(n->oid[i]);
    }
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

/* Read the names from the session and the catalog, quoted, and the objects' oids: the database,
 * the current schema, the ledger, the pipeline's tables (t: "schema.table" as the catalog names
 * them; NULL members are left out), the schemas they are in when those differ from the current
 * one, the sequence behind the dead-letter table's error_id, and role (NULL: the session's).
 * Only the catalog is read, so a role without USAGE on a schema learns what it lacks there.
 * 0, or -1 after logging. */
static int grant_names_init(PGconn *conn, const char *role, const struct grants_tables *t,
                            struct grant_names *n)
{
    memset(n, 0, sizeof(*n));
    const char *p[] = {t ? t->target : NULL, t ? t->dlq : NULL, role};
#define REL_NAME(x)                                                                               \
    "(SELECT format('%I.%I', s.nspname, c.relname) FROM pg_class c JOIN pg_namespace s "          \
    "ON s.oid = c.relnamespace WHERE c.oid = " x ")"
#define REL_NSP(x) "(SELECT relnamespace FROM pg_class WHERE oid = " x ")"
    PGresult *res = PQexecParams(
        conn,
        "WITH o AS (SELECT to_regclass('ingest_files')::oid AS ledger, " TABLE_NAME_OID_SQL("1")
        " AS target, " TABLE_NAME_OID_SQL("2") " AS dlq, (SELECT oid FROM pg_namespace "
        "WHERE nspname = current_schema()) AS cur), "
        "q AS (SELECT o.*, " REL_NSP("o.target") " AS tns, " REL_NSP("o.dlq") " AS dns, "
        "(SELECT d.objid FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid "
        "AND a.attnum = d.refobjsubid JOIN pg_class c ON c.oid = d.objid "
        "WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass "
        "AND d.refobjid = o.dlq AND a.attname = 'error_id' AND d.deptype IN ('a', 'i') "
        "AND c.relkind = 'S' LIMIT 1) AS seq FROM o) "
        "SELECT format('%I', current_database()), NULL, "
        "format('%I', coalesce(current_schema(), 'public')), cur, "
        "(SELECT format('%I', nspname) FROM pg_namespace WHERE oid = tns AND tns <> cur), "
        "CASE WHEN tns <> cur THEN tns END, "
        "(SELECT format('%I', nspname) FROM pg_namespace WHERE oid = dns AND dns <> cur "
        "AND dns <> coalesce(tns, 0)), "
        "CASE WHEN dns <> cur AND dns <> coalesce(tns, 0) THEN dns END, "
        REL_NAME("ledger") ", ledger, " REL_NAME("target") ", target, " REL_NAME("dlq")
        ", dlq, " REL_NAME("seq") ", seq, format('%I', coalesce($3::text, current_user)) FROM q",
        3, NULL, p, NULL, NULL, 0);
#undef REL_NAME
#undef REL_NSP
    int rc = -1;
    if (db_check(conn, res, PGRES_TUPLES_OK, "reading the names of the grants") != DB_OK)
        goto out;
    if (PQgetisnull(res, 0, 9)) {
        log_error("db", "the ledger table ingest_files is missing");
        goto out;
    }
    /* the columns come in pairs, name and oid, in this order */
    static const enum grant_object cols[] = {OBJ_DATABASE, OBJ_SCHEMA, OBJ_TARGET_SCHEMA,
                                             OBJ_DLQ_SCHEMA, OBJ_LEDGER, OBJ_TARGET,
                                             OBJ_DLQ,      OBJ_DLQ_SEQ};
    for (int i = 0; i < (int)(sizeof(cols) / sizeof(cols[0])); i++) {
        if (PQgetisnull(res, 0, 2 * i))
            continue;
        n->object[cols[i]] = xstrdup(PQgetvalue(res, 0, 2 * i));
        if (!PQgetisnull(res, 0, 2 * i + 1))
            n->oid[cols[i]] = xstrdup(PQgetvalue(res, 0, 2 * i + 1));
    }
    n->role = xstrdup(PQgetvalue(res, 0, 16));
    rc = 0;
out:
    PQclear(res);
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
        asked[i] = (g->need & need) && n.object[g->object] &&
                   (g->kind == GRANT_DATABASE || n.oid[g->object]);
        if (!asked[i])
            continue;
        if (g->kind != GRANT_DATABASE)
            params[np++] = n.oid[g->object];
        switch (g->kind) {
        case GRANT_DATABASE:
            buf_printf(&sql, ", has_database_privilege(current_database(), '%s')", g->privilege);
            break;
        case GRANT_SCHEMA:
            buf_printf(&sql, ", has_schema_privilege($%d::oid, '%s')", np, g->privilege);
            break;
        case GRANT_TABLE:
            buf_printf(&sql, ", has_table_privilege($%d::oid, '%s')", np, g->privilege);
            break;
        case GRANT_SEQUENCE:
            buf_printf(&sql, ", has_sequence_privilege($%d::oid, '%s')", np, g->privilege);
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
