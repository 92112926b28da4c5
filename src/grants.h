/*
 * grants.h - the privileges each command needs: checked at start, printed as GRANTs.
 */
#ifndef SLUICE_GRANTS_H
#define SLUICE_GRANTS_H

#include <libpq-fe.h>

/* What a command does with the database. */
enum grants_need {
    GRANTS_INGEST = 1 << 0,
    GRANTS_ARCHIVE = 1 << 1,
};

/* The pipeline's tables, "schema.table" as the catalog names them (db_tables_prepare); NULL
 * members (or a NULL struct) are not checked or granted: only the ledger and the database. */
struct grants_tables {
    const char *target;
    const char *dlq;
};

/* Check that the session's role holds every privilege `need` (enum grants_need bits) requires
 * on the ledger and on the pipeline's tables t. 0, or -1 after logging one line that names each
 * missing GRANT. */
int grants_check(PGconn *conn, unsigned need, const char *component,
                 const struct grants_tables *t);

/* The GRANT statements an ingest role needs for the pipeline's tables t (one a line, ending in
 * ';'); heap string, the caller frees; NULL after logging. The names are quoted for SQL. */
char *grants_sql(PGconn *conn, const char *role, const struct grants_tables *t);

#endif
