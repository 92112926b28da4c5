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

/* Check that the session's role holds every privilege `need` (enum grants_need bits) requires.
 * 0, or -1 after logging one line that names each missing GRANT. */
int grants_check(PGconn *conn, unsigned need, const char *component);

/* The GRANT statements an ingest role needs (one a line, ending in ';'); heap string, the caller
 * frees; NULL after logging. The names are quoted for SQL. */
char *grants_sql(PGconn *conn, const char *role);

#endif
