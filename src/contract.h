/*
 * contract.h - what an ingester holds to: the target table's definition read from the catalog,
 * the rules sluice adds on top (--event-types), the dead-letter table, and how values are read
 * (--time-zone). Loaded once at start, shared read-only by every worker.
 */
#ifndef SLUICE_CONTRACT_H
#define SLUICE_CONTRACT_H

#include "config.h"
#include "loader.h"
#include "pgtype.h"
#include "table_def.h"

#include <libpq-fe.h>

struct contract {
    struct table_def table;
    char *dlq_sql_name; /* quoted for SQL */
    struct pgtype_env env;
    enum loader_conflict on_conflict; /* --on-conflict */
    const char *update_if;            /* --update-if (the config's string), or NULL */
};

/* 0, or -1 after logging one ERROR line (no such table, a bad --time-zone or --event-types,
 * --on-conflict skip or update on a table without a key, an --update-if guard the server does
 * not accept in the upsert). */
int contract_load(struct contract *c, PGconn *conn, const struct config *cfg);
void contract_release(struct contract *c);

/* The CHECK text of the --event-types rule for column `col` (heap string), or NULL when the
 * list is malformed or the column is not text. */
char *contract_event_types_check(const struct table_column *col, const char *list);

#endif
