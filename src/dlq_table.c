/*
 * dlq_table.c - the dead-letter table of any target table, made or brought up to date at start.
 *
 * A dead letter keeps a rejected row as it came: one TEXT column per column of the target (same
 * names, in the target's column order, dropped and generated columns left out), because bad data
 * has any length and any shape, plus where and why it was rejected: error_id BIGSERIAL PRIMARY
 * KEY, error_code, error_column, error_message, source_file, line_number BIGINT, raw_line and
 * ingestion_time, with an index on (source_file, line_number). A missing table is created. An
 * existing one is completed, never rebuilt, and its rows are kept: a column the target gained is
 * added, a typed column (a table made by the original project, or by hand) is widened to TEXT, a
 * missing error column is added, and an index on (source_file, line_number) is made unless one
 * already exists under any name. Each change is logged at info; a table that is already right
 * costs two catalog reads and needs no privilege beyond reading the catalog. All names are quoted
 * with PQescapeIdentifier. Changes run in one transaction under the schema lock, so two starters
 * never race on them.
 */
#include "dlq_table.h"

#include "db.h"
#include "log.h"
#include "mem.h"
#include "table_name.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The error columns, after the target's: name and SQL type. error_id comes first. */
static const struct {
    const char *name, *type;
} error_columns[] = {
    {"error_id", "BIGSERIAL"}, {"error_code", "TEXT"},
    {"error_column", "TEXT"},  {"error_message", "TEXT"},
    {"source_file", "TEXT"},   {"line_number", "BIGINT"},
    {"raw_line", "TEXT"},      {"ingestion_time", "TIMESTAMP DEFAULT CURRENT_TIMESTAMP"},
};
#define NERROR_COLUMNS (sizeof(error_columns) / sizeof(error_columns[0]))

static bool is_error_column(const char *name)
{
    for (size_t i = 0; i < NERROR_COLUMNS; i++)
        if (strcmp(name, error_columns[i].name) == 0)
            return true;
    return false;
}

/* The columns of the table whose catalog name is `table`: name and type name, in attnum order,
 * dropped and generated ones left out (a generated column cannot be written, so it has no
 * dead-letter twin). */
static PGresult *table_columns(PGconn *conn, const char *table, const char *what)
{
    const char *p[] = {table};
    PGresult *res =
        PQexecParams(conn,
                     "SELECT attname, atttypid::regtype::text FROM pg_attribute "
                     "WHERE attrelid = " TABLE_NAME_OID_SQL(
                         "1") " AND attnum > 0 "
                              "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
                     1, NULL, p, NULL, NULL, 0);
    if (db_check(conn, res, PGRES_TUPLES_OK, what) != DB_OK) {
        PQclear(res);
        return NULL;
    }
    return res;
}

/* Row of `name` in a table_columns() result, or -1. */
static int find_column(const PGresult *cols, const char *name)
{
    for (int i = 0; i < PQntuples(cols); i++)
        if (strcmp(PQgetvalue(cols, i, 0), name) == 0)
            return i;
    return -1;
}

/* Append a quoted identifier to b; false when libpq cannot quote it. */
static bool put_ident(PGconn *conn, struct buf *b, const char *name)
{
    char *q = PQescapeIdentifier(conn, name, strlen(name));
    if (!q) {
        log_error("setup", "cannot quote column name '%s': %s", name, PQerrorMessage(conn));
        return false;
    }
    buf_printf(b, "%s", q);
    PQfreemem(q);
    return true;
}

/* The statements that make a new dead-letter table for target columns tcols. */
static bool create_sql(PGconn *conn, struct buf *sql, const char *dlq, const PGresult *tcols)
{
    buf_printf(sql, "CREATE TABLE %s (error_id BIGSERIAL PRIMARY KEY", dlq);
    for (int i = 0; i < PQntuples(tcols); i++) {
        buf_printf(sql, ", ");
        if (!put_ident(conn, sql, PQgetvalue(tcols, i, 0)))
            return false;
        buf_printf(sql, " TEXT");
    }
    for (size_t i = 1; i < NERROR_COLUMNS; i++)
        buf_printf(sql, ", %s %s", error_columns[i].name, error_columns[i].type);
    buf_printf(sql, "); CREATE INDEX ON %s (source_file, line_number);", dlq);
    return true;
}

/* The statements that complete an existing dead-letter table (have: its columns); *changes
 * counts them, each also logged. */
static bool upgrade_sql(PGconn *conn, struct buf *sql, const char *dlq, const PGresult *tcols,
                        const PGresult *have, bool has_pkey, bool has_source_index, int *changes)
{
    *changes = 0;
    for (int i = 0; i < PQntuples(tcols); i++) {
        const char *col = PQgetvalue(tcols, i, 0);
        int k = find_column(have, col);
        if (k >= 0 && strcmp(PQgetvalue(have, k, 1), "text") == 0)
            continue;
        buf_printf(sql, "ALTER TABLE %s ", dlq);
        if (k < 0) {
            buf_printf(sql, "ADD COLUMN ");
            if (!put_ident(conn, sql, col))
                return false;
            buf_printf(sql, " TEXT;");
            log_info("setup", "dead-letter table %s: added column %s (the target has it)", dlq,
                     col);
        } else {
            buf_printf(sql, "ALTER COLUMN ");
            if (!put_ident(conn, sql, col))
                return false;
            buf_printf(sql, " TYPE TEXT USING ");
            if (!put_ident(conn, sql, col))
                return false;
            buf_printf(sql, "::text;");
            log_info("setup", "dead-letter table %s: column %s widened from %s to TEXT", dlq, col,
                     PQgetvalue(have, k, 1));
        }
        (*changes)++;
    }
    for (size_t i = 0; i < NERROR_COLUMNS; i++) {
        const char *col = error_columns[i].name;
        int k = find_column(have, col);
        bool text = strcmp(error_columns[i].type, "TEXT") == 0;
        if (k < 0) {
            buf_printf(sql, "ALTER TABLE %s ADD COLUMN %s %s%s;", dlq, col, error_columns[i].type,
                       i == 0 && !has_pkey ? " PRIMARY KEY" : "");
            log_info("setup", "dead-letter table %s: added column %s", dlq, col);
            (*changes)++;
        } else if (text && strcmp(PQgetvalue(have, k, 1), "text") != 0) {
            buf_printf(sql, "ALTER TABLE %s ALTER COLUMN %s TYPE TEXT USING %s::text;", dlq, col,
                       col);
            log_info("setup", "dead-letter table %s: column %s widened from %s to TEXT", dlq, col,
                     PQgetvalue(have, k, 1));
            (*changes)++;
        }
    }
    if (!has_source_index) {
        buf_printf(sql, "CREATE INDEX ON %s (source_file, line_number);", dlq);
        log_info("setup", "dead-letter table %s: added an index on (source_file, line_number)",
                 dlq);
        (*changes)++;
    }
    return true;
}

/* What an existing dead-letter table has beyond its columns: a primary key, and an index whose
 * first two columns are (source_file, line_number), whatever its name. -1 after logging. */
static int dlq_indexes(PGconn *conn, const char *table, bool *has_pkey, bool *has_source_index)
{
    const char *p[] = {table};
    PGresult *res = PQexecParams(
        conn,
        "SELECT EXISTS (SELECT 1 FROM pg_index WHERE indrelid = " TABLE_NAME_OID_SQL(
            "1") " AND "
                 "indisprimary), EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid "
                 "= " TABLE_NAME_OID_SQL("1") " "
                                              "AND i.indnatts >= 2 AND i.indpred IS NULL "
                                              "AND i.indkey[0] = (SELECT attnum FROM pg_attribute "
                                              "WHERE attrelid = i.indrelid "
                                              "AND attname = 'source_file' AND NOT attisdropped) "
                                              "AND i.indkey[1] = (SELECT attnum FROM pg_attribute "
                                              "WHERE attrelid = i.indrelid "
                                              "AND attname = 'line_number' AND NOT attisdropped))",
        1, NULL, p, NULL, NULL, 0);
    int rc = -1;
    if (db_check(conn, res, PGRES_TUPLES_OK, "reading the dead-letter table's indexes") == DB_OK) {
        *has_pkey = PQgetvalue(res, 0, 0)[0] == 't';
        *has_source_index = PQgetvalue(res, 0, 1)[0] == 't';
        rc = 0;
    }
    PQclear(res);
    return rc;
}

/* Under the schema lock, in one transaction: look again (another starter may have done it) and
 * make or complete the table. 0, or -1 after logging. */
static int make_current(PGconn *conn, const char *target_q, const char *dlq_given,
                        const PGresult *tcols)
{
    struct buf sql;
    buf_init(&sql);
    PGresult *have = NULL;
    char err[512], *canon = NULL, *dlq_q = NULL;
    int rc = -1;
    if (db_exec(conn, "BEGIN", "BEGIN") != DB_OK)
        goto out;
    char lock[64];
    snprintf(lock, sizeof(lock), "SELECT pg_advisory_xact_lock(%d)", DB_SCHEMA_LOCK_KEY);
    if (db_exec(conn, lock, "schema lock") != DB_OK)
        goto out;
    int found = table_name_resolve(conn, dlq_given, &canon, err, sizeof(err));
    if (found < 0) {
        log_error("setup", "%s", err);
        goto out;
    }
    if (!(dlq_q = table_name_quote(conn, found ? canon : dlq_given))) {
        log_error("setup", "cannot quote '%s': %s", dlq_given, PQerrorMessage(conn));
        goto out;
    }
    int changes = 1;
    if (!found) {
        if (!create_sql(conn, &sql, dlq_q, tcols))
            goto out;
        log_info("setup",
                 "created dead-letter table %s for %s: one TEXT column per column of "
                 "the target, and the error columns",
                 dlq_q, target_q);
    } else {
        bool has_pkey, has_index;
        if (!(have = table_columns(conn, canon, "reading the dead-letter table's columns")) ||
            dlq_indexes(conn, canon, &has_pkey, &has_index) < 0 ||
            !upgrade_sql(conn, &sql, dlq_q, tcols, have, has_pkey, has_index, &changes))
            goto out;
    }
    buf_putc(&sql, '\0');
    if (changes && db_exec(conn, sql.data, "making the dead-letter table current") != DB_OK)
        goto out;
    rc = db_exec(conn, "COMMIT", "COMMIT") == DB_OK ? 0 : -1;
out:
    if (rc < 0)
        PQclear(PQexec(conn, "ROLLBACK"));
    PQclear(have);
    free(canon);
    free(dlq_q);
    buf_release(&sql);
    return rc;
}

/* True when an existing dead-letter table needs nothing: every target column is there as TEXT,
 * every error column is there (the text ones as TEXT), and the source index exists. */
static int is_current(PGconn *conn, const char *dlq, const PGresult *tcols, bool *current)
{
    PGresult *have = table_columns(conn, dlq, "reading the dead-letter table's columns");
    if (!have)
        return -1;
    bool ok = true;
    for (int i = 0; i < PQntuples(tcols) && ok; i++) {
        int k = find_column(have, PQgetvalue(tcols, i, 0));
        ok = k >= 0 && strcmp(PQgetvalue(have, k, 1), "text") == 0;
    }
    for (size_t i = 0; i < NERROR_COLUMNS && ok; i++) {
        int k = find_column(have, error_columns[i].name);
        ok = k >= 0 && (strcmp(error_columns[i].type, "TEXT") != 0 ||
                        strcmp(PQgetvalue(have, k, 1), "text") == 0);
    }
    PQclear(have);
    bool has_pkey = false, has_index = false;
    if (ok && dlq_indexes(conn, dlq, &has_pkey, &has_index) < 0)
        return -1;
    *current = ok && has_index;
    return 0;
}

int dlq_table_ensure(PGconn *conn, const char *target, const char *dlq_given, char **canonical)
{
    *canonical = NULL;
    char *target_q = table_name_quote(conn, target);
    PGresult *tcols = NULL;
    char err[512];
    int rc = -1;
    if (!target_q) {
        log_error("setup", "cannot quote '%s': %s", target, PQerrorMessage(conn));
        goto out;
    }
    if (!(tcols = table_columns(conn, target, "reading the target table's columns")))
        goto out;
    for (int i = 0; i < PQntuples(tcols); i++)
        if (is_error_column(PQgetvalue(tcols, i, 0))) {
            log_error("setup",
                      "table %s has a column named %s, which its dead-letter table needs for "
                      "itself hint=rename that column",
                      target_q, PQgetvalue(tcols, i, 0));
            goto out;
        }
    int found = table_name_resolve(conn, dlq_given, canonical, err, sizeof(err));
    if (found < 0) {
        log_error("setup", "%s", err);
        goto out;
    }
    if (found && strcmp(*canonical, target) == 0) {
        log_error("setup", "--dlq-table names the target table %s itself hint=choose another name",
                  target_q);
        goto out;
    }
    bool current = false;
    if (found && is_current(conn, *canonical, tcols, &current) < 0)
        goto out;
    if (!current) {
        free(*canonical);
        *canonical = NULL;
        if (make_current(conn, target_q, dlq_given, tcols) < 0)
            goto out;
        if (table_name_resolve(conn, dlq_given, canonical, err, sizeof(err)) != 1) {
            log_error("setup", "%s", err);
            goto out;
        }
    }
    rc = 0;
out:
    if (rc < 0) {
        free(*canonical);
        *canonical = NULL;
    }
    PQclear(tcols);
    free(target_q);
    return rc;
}
