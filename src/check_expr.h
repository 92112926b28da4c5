/*
 * check_expr.h - CHECK constraints compiled to C: the common forms, read from the text
 * pg_get_constraintdef() prints, evaluated on a row's parsed values with SQL's rules (a CHECK
 * passes when its expression is true or NULL).
 */
#ifndef SLUICE_CHECK_EXPR_H
#define SLUICE_CHECK_EXPR_H

#include "pgtype.h"
#include "table_def.h"

#include <stdbool.h>
#include <stddef.h>

struct check_expr;

/* Compile def ("CHECK ((price > (0)::numeric))", as pg_get_constraintdef prints it) over the
 * table's columns cols[0..ncols). A domain's constraint names its value VALUE: value_column is
 * then the index of the column of that domain type (else -1). Returns NULL and writes why (for the start-up log) when the
 * expression uses anything not compiled here; the server then enforces it alone. */
struct check_expr *check_compile(const char *def, const struct table_column *cols, size_t ncols,
                                 long value_column, const struct pgtype_env *env, char *why,
                                 size_t why_size);

/* Evaluate on one row: vals[i] is the value of cols[i] (null set for NULL or for a column the
 * file does not have and whose default is unknown here; see check_uses_unknown). Returns true
 * when the row passes; on false *column is the index of the first column the expression names. */
bool check_eval(const struct check_expr *c, const struct pgvalue *vals, size_t *column);

/* Does the expression read column i? (A check on a column filled by a default the engine
 * cannot compute is left to the server for files that lack the column.) */
bool check_uses(const struct check_expr *c, size_t column);

void check_free(struct check_expr *c);

#endif
