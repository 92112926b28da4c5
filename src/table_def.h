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
};

struct table_check {
    char *name;                  /* conname */
    char *def;                   /* pg_get_constraintdef() text */
    struct check_expr *compiled; /* NULL: left to the server */
};

struct table_def {
    char *name;      /* as given (--table), for messages */
    char *sql_name;  /* schema-qualified, quoted: for statements */
    struct table_column *cols;
    size_t ncols;    /* in attnum order, generated and dropped columns left out */
    size_t *key;     /* the primary key's columns (else the first unique constraint's) */
    size_t nkey;
    struct table_check *checks;
    size_t nchecks;
};

#endif
