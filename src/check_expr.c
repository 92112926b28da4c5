/*
 * check_expr.c - SCAFFOLD, replaced by the CHECK compiler work. Until then nothing compiles and
 * every constraint is left to the server.
 */
#include "check_expr.h"

#include <stdio.h>

struct check_expr *check_compile(const char *def, const struct table_column *cols, size_t ncols,
                                 long value_column, const struct pgtype_env *env, char *why,
                                 size_t why_size)
{
    (void)def, (void)cols, (void)ncols, (void)value_column, (void)env;
    snprintf(why, why_size, "not compiled yet");
    return NULL;
}

bool check_eval(const struct check_expr *c, const struct pgvalue *vals, size_t *column)
{
    (void)c, (void)vals;
    *column = 0;
    return true;
}

bool check_uses(const struct check_expr *c, size_t column)
{
    (void)c, (void)column;
    return false;
}

void check_free(struct check_expr *c)
{
    (void)c;
}
