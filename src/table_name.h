/*
 * table_name.h - table names as given ("schema.table", split at the first dot) and as the
 * catalog has them (see table_name.c).
 */
#ifndef SLUICE_TABLE_NAME_H
#define SLUICE_TABLE_NAME_H

#include "mem.h"

#include <libpq-fe.h>
#include <stddef.h>

/* Append name as one quoted SQL identifier ("a""b"), without a connection: for names read from
 * the catalog (valid UTF-8). */
void sql_append_ident(struct buf *b, const char *name);
/* Append s as an SQL string literal (standard_conforming_strings: only ' is doubled). */
void sql_append_literal(struct buf *b, const char *s);

/* The given name quoted for SQL, part by part: "sales"."orders", or "orders" (heap string, the
 * caller frees); NULL when libpq cannot quote it (the connection's message says why). */
char *table_name_quote(PGconn *conn, const char *given);

/* The table a given name means, as "schema.table" in the catalog's own spelling (heap string in
 * *canonical, the caller frees): 1 when it exists, 0 when it does not (err says so), -1 when the
 * catalog cannot be read (err says why). An unqualified name is looked up on the search_path. */
int table_name_resolve(PGconn *conn, const char *given, char **canonical, char *err, size_t errlen);

/* A SQL expression for the oid of the table whose catalog name ("schema.table", split at the
 * first dot) is the text parameter $N; it needs no privilege on the schema. Use with a literal:
 * TABLE_NAME_OID_SQL("1"). */
#define TABLE_NAME_OID_SQL(n)                                                                      \
    "(SELECT c.oid FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace "                 \
    "WHERE s.nspname = split_part($" n "::text, '.', 1) "                                          \
    "AND c.relname = substr($" n "::text, length(split_part($" n "::text, '.', 1)) + 2))"

#endif
