/*
 * dlq_table.h - the dead-letter table of any target table, made or completed at start (see
 * dlq_table.c for what it holds).
 */
#ifndef SLUICE_DLQ_TABLE_H
#define SLUICE_DLQ_TABLE_H

#include <libpq-fe.h>

/* Make sure the dead-letter table dlq_given ("schema.table" or "table", as --dlq-table gives it)
 * exists and fits the target (its "schema.table" as the catalog names it): created when missing,
 * completed when it lacks a column or an index, typed columns widened to TEXT; each change
 * logged. 0 with its catalog name in *canonical (heap string, the caller frees), or -1 after
 * logging (a role that may not make the changes, a target column named like an error column, a
 * --dlq-table that names the target). */
int dlq_table_ensure(PGconn *conn, const char *target, const char *dlq_given, char **canonical);

#endif
