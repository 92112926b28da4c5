/*
 * pgroles.h - the embedded cluster's roles, database, schema and grants (see pgroles.c).
 */
#ifndef SLUICE_PGROLES_H
#define SLUICE_PGROLES_H

struct pgroles_spec {
    const char *admin_conninfo; /* the bootstrap superuser, to database postgres */
    const char *owner_conninfo; /* the owner, to the database */
    const char *superuser, *owner, *ingest, *dbname;
    const char *table, *dlq_table; /* the pipeline's (--table, --dlq-table); NULL: none */
};

/* Make sure of the roles, the database, the schema and the ingest role's grants. 0, or -1 after
 * logging. */
int pgroles_ensure(const struct pgroles_spec *spec);

#endif
