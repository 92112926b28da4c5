/*
 * pgroles.c - the embedded cluster's roles, database, schema and grants, made sure of at every
 * `sluice db start`.
 *
 * As the bootstrap superuser: the owner role and the ingest role exist, can log in and are not
 * superusers (a cluster made by an older sluice had the owner as its superuser), and the database
 * exists and belongs to the owner (who may also CHECKPOINT, through pg_checkpoint). As the owner:
 * the schema is current (db_connect applies sql/postgres_setup.sql when it is not) and the ingest
 * role holds exactly the GRANTs grants.c lists. Every step is idempotent. Names are quoted with
 * PQescapeIdentifier and values passed as parameters.
 */
#include "pgroles.h"

#include "db.h"
#include "grants.h"
#include "log.h"
#include "mem.h"
#include "signals.h"
#include "table_name.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#define PG_COMPONENT "pg"

/* Run sql (with $1 = param when given); 0, or -1 after logging. */
static int admin_exec(PGconn *conn, const char *sql, const char *param, const char *what,
                      PGresult **out)
{
    const char *params[] = {param};
    PGresult *res = PQexecParams(conn, sql, param ? 1 : 0, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        db_check(conn, res, PGRES_COMMAND_OK, what);
        PQclear(res);
        return -1;
    }
    if (out)
        *out = res;
    else
        PQclear(res);
    return 0;
}

/* Run "<prefix> <quoted name><suffix>" ; 0, or -1 after logging. */
static int admin_named(PGconn *conn, const char *prefix, const char *name, const char *suffix)
{
    char *ident = PQescapeIdentifier(conn, name, strlen(name));
    if (!ident) {
        log_error(PG_COMPONENT, "bad name '%s'", name);
        return -1;
    }
    char *sql = xasprintf("%s %s%s", prefix, ident, suffix);
    int rc = admin_exec(conn, sql, NULL, sql, NULL);
    free(sql);
    PQfreemem(ident);
    return rc;
}

/* 1 when the query with $1 = name returns a row, 0 when not, -1 after logging. */
static int admin_exists(PGconn *conn, const char *sql, const char *name)
{
    PGresult *res = NULL;
    if (admin_exec(conn, sql, name, sql, &res) < 0)
        return -1;
    int found = PQntuples(res) > 0;
    PQclear(res);
    return found;
}

static int ensure_role(PGconn *conn, const char *role)
{
    int found = admin_exists(conn, "SELECT 1 FROM pg_roles WHERE rolname = $1", role);
    if (found <= 0 && (found < 0 || admin_named(conn, "CREATE ROLE", role, " LOGIN") < 0))
        return -1;
    /* a cluster made by an older sluice had the owner as its superuser: not any more */
    return admin_named(conn, "ALTER ROLE", role, " LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB");
}

/* As the superuser: the owner and ingest roles, and the database owned by the owner. */
static int ensure_roles(const struct pgroles_spec *c)
{
    PGconn *conn = PQconnectdb(c->admin_conninfo);
    int rc = -1;
    if (PQstatus(conn) != CONNECTION_OK) {
        const char *msg = PQerrorMessage(conn);
        log_error(PG_COMPONENT, "cannot connect to the cluster as '%s': %.*s", c->superuser,
                  (int)strcspn(msg, "\n"), msg);
        goto out;
    }
    if ((strcmp(c->owner, c->superuser) != 0 && ensure_role(conn, c->owner) < 0) ||
        (strcmp(c->ingest, c->superuser) != 0 && ensure_role(conn, c->ingest) < 0))
        goto out;
    /* the owner may CHECKPOINT (the benchmark does), nothing more of a superuser's */
    if (admin_exists(conn, "SELECT 1 FROM pg_roles WHERE rolname = $1", "pg_checkpoint") == 1 &&
        admin_named(conn, "GRANT pg_checkpoint TO", c->owner, "") < 0)
        goto out;
    int found = admin_exists(conn, "SELECT 1 FROM pg_database WHERE datname = $1", c->dbname);
    if (found < 0)
        goto out;
    char *owner = PQescapeIdentifier(conn, c->owner, strlen(c->owner));
    char *suffix = xasprintf(" OWNER %s", owner ? owner : "");
    char *to = xasprintf(" OWNER TO %s", owner ? owner : "");
    if (!found) {
        rc = admin_named(conn, "CREATE DATABASE", c->dbname, suffix);
        if (rc == 0)
            log_info(PG_COMPONENT, "created database %s", c->dbname);
    } else {
        rc = admin_named(conn, "ALTER DATABASE", c->dbname, to);
    }
    free(suffix);
    free(to);
    PQfreemem(owner);
out:
    PQfinish(conn);
    return rc;
}

/* As the owner: the schema (db_connect makes it current) and the ingest role's grants. */
static int ensure_schema(const struct pgroles_spec *c)
{
    PGconn *conn = db_connect(c->owner_conninfo, PG_COMPONENT, 60, &signals_stop);
    if (!conn)
        return -1;
    /* The pipeline's tables, made ready as the owner; a table of the user's own that is not
     * created yet is granted on by the next start, when it exists (the ingester refuses to
     * start without it, saying so). */
    struct db_tables t = {0};
    char err[512], *found = NULL;
    if (c->table && strcmp(c->table, DB_SEED_TABLE) != 0 &&
        table_name_resolve(conn, c->table, &found, err, sizeof(err)) == 0)
        log_info(PG_COMPONENT, "%s yet: no grants on it", err);
    else if (c->table && db_tables_prepare(conn, c->table, c->dlq_table, true, &t) < 0) {
        PQfinish(conn);
        return -1;
    }
    struct grants_tables gt = {t.target, t.dlq};
    char *grants = grants_sql(conn, c->ingest, &gt);
    int rc = grants && db_exec(conn, grants, "granting the ingest role") == DB_OK ? 0 : -1;
    db_tables_release(&t);
    free(found);
    free(grants);
    PQfinish(conn);
    return rc;
}

int pgroles_ensure(const struct pgroles_spec *spec)
{
    return ensure_roles(spec) < 0 || ensure_schema(spec) < 0 ? -1 : 0;
}
