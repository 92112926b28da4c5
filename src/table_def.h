/*
 * table_def.h - a target table's definition as the catalog has it: its columns with their types,
 * NOT NULL and defaults, its key, and its CHECK constraints (compiled where check_expr can).
 */
#ifndef SLUICE_TABLE_DEF_H
#define SLUICE_TABLE_DEF_H

#include "pgtype.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct check_expr;

struct table_column {
    char *name;       /* attname */
    char *type_name;  /* format_type(), for logs */
    struct pgtype type;
    bool not_null;
    bool has_default; /* a default, identity or serial: the column may be left out of a file */
    bool c_collation; /* text kinds: ordered bytewise (collation "C" or "POSIX") */
    bool text_exact;  /* text kinds: equal only when byte-equal (a deterministic collation) */
};

struct table_check {
    char *name;                  /* conname */
    char *def;                   /* pg_get_constraintdef() text */
    struct check_expr *compiled; /* NULL: left to the server */
    long value_column;           /* a domain's constraint: the column it guards, else -1 */
};

struct table_def {
    char *name;      /* as given (--table), for messages */
    char *sql_name;  /* schema-qualified, quoted: for statements */
    struct table_column *cols;
    size_t ncols;    /* in attnum order, generated and dropped columns left out */
    size_t *key;     /* the primary key's columns (else the first unique constraint's) */
    size_t nkey;
    char *key_index; /* the name of the key's index (a unique violation names it), or NULL */
    bool key_immediate; /* its uniqueness is checked row by row (not DEFERRABLE): an arbiter */
    struct table_check *checks;
    size_t nchecks;
};

/* Read the definition of table `name` (as --table gives it) and compile its CHECK constraints
 * (and those of the domains its columns use). 0, or -1 with err filled: no such table, or no
 * column sluice could load. Constraints left to the server are logged once at info. */
int table_def_read(PGconn *conn, const char *name, const struct pgtype_env *env,
                   struct table_def *t, char *err, size_t err_size);

/* Add a constraint of sluice's own on top of the table's (the --event-types rule), compiled
 * like the table's; -1 with err filled when it does not compile. */
int table_def_add_check(struct table_def *t, const char *name, const char *def,
                        const struct pgtype_env *env, char *err, size_t err_size);

/* Index of the column named name, or -1. */
long table_def_column(const struct table_def *t, const char *name);

void table_def_release(struct table_def *t);

#endif
