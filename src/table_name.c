/*
 * table_name.c - the names of the tables a pipeline uses, as the user gives them and as the
 * catalog has them.
 *
 * A name is given raw, not as SQL: "orders" or "sales.orders", split at the first dot into
 * schema and table, each part taken literally (case kept, any character allowed but a dot in the
 * schema). Statements get it quoted part by part with PQescapeIdentifier, never pasted. The
 * catalog's form, "schema.table" with both parts as pg_class and pg_namespace spell them, is what
 * the ledger keys files by: "orders" and "public.orders" are one table and one pipeline, so
 * spelling the option differently can never load a file twice. Nothing here logs; callers decide.
 */
#include "table_name.h"

#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void append_quoted(struct buf *b, const char *s, char q)
{
    buf_putc(b, q);
    for (; *s; s++) {
        if (*s == q)
            buf_putc(b, q);
        buf_putc(b, *s);
    }
    buf_putc(b, q);
}

void sql_append_ident(struct buf *b, const char *name)
{
    append_quoted(b, name, '"');
}

void sql_append_literal(struct buf *b, const char *s)
{
    append_quoted(b, s, '\'');
}

char *table_name_quote(PGconn *conn, const char *given)
{
    const char *dot = strchr(given, '.');
    char *schema = NULL;
    char *table = PQescapeIdentifier(conn, dot ? dot + 1 : given, strlen(dot ? dot + 1 : given));
    if (dot)
        schema = PQescapeIdentifier(conn, given, (size_t)(dot - given));
    char *out = NULL;
    if (table && (!dot || schema))
        out = dot ? xasprintf("%s.%s", schema, table) : xstrdup(table);
    PQfreemem(schema);
    PQfreemem(table);
    return out;
}

int table_name_resolve(PGconn *conn, const char *given, char **canonical, char *err, size_t errlen)
{
    *canonical = NULL;
    char *quoted = table_name_quote(conn, given);
    if (!quoted) {
        snprintf(err, errlen, "cannot quote the table name '%s': %s", given, PQerrorMessage(conn));
        return -1;
    }
    /* A qualified name is looked up by its parts in the catalog, which needs no privilege on
     * the schema (to_regclass would fail for a role without USAGE there, before the grants
     * check could name what it lacks); an unqualified one on the search_path. */
    const char *dot = strchr(given, '.');
    char *schema = NULL;
    if (dot) {
        schema = xmalloc((size_t)(dot - given) + 1);
        memcpy(schema, given, (size_t)(dot - given));
        schema[dot - given] = '\0';
    }
    const char *p[] = {dot ? schema : quoted, dot ? dot + 1 : NULL};
    PGresult *res = PQexecParams(conn,
                                 dot ? "SELECT n.nspname || '.' || c.relname FROM pg_class c "
                                       "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                       "WHERE n.nspname = $1 AND c.relname = $2"
                                     : "SELECT n.nspname || '.' || c.relname FROM pg_class c "
                                       "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                       "WHERE c.oid = to_regclass($1)",
                                 dot ? 2 : 1, NULL, p, NULL, NULL, 0);
    free(schema);
    int rc = -1;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        snprintf(err, errlen, "cannot look up table %s: %s", quoted, m ? m : PQerrorMessage(conn));
    } else if (PQntuples(res) == 1) {
        *canonical = xstrdup(PQgetvalue(res, 0, 0));
        rc = 1;
    } else {
        snprintf(err, errlen, "table %s does not exist", quoted);
        rc = 0;
    }
    PQclear(res);
    free(quoted);
    return rc;
}
