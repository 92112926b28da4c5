/*
 * pgtype_number.c - SCAFFOLD, replaced by the numbers work: int2, int4, int8, numeric, float4,
 * float8, bool, uuid. Until then every value is refused, so nothing unchecked can pass.
 */
#include "pgtype_impl.h"

const char *pgnumber_parse(const struct pgtype *t, const char *s, size_t n, struct buf *out,
                           struct pgvalue *v, char *why, size_t why_size)
{
    (void)t, (void)s, (void)n, (void)out, (void)v, (void)why, (void)why_size;
    return "not checked yet";
}

int pgnumber_compare(const struct pgtype *t, const struct pgvalue *a, const struct pgvalue *b)
{
    (void)t;
    return (a->i > b->i) - (a->i < b->i);
}
