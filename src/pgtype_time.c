/*
 * pgtype_time.c - SCAFFOLD, replaced by the date and time work: date, time, timestamp,
 * timestamptz. Until then every value is refused, so nothing unchecked can pass.
 */
#include "pgtype_impl.h"

#include <string.h>

const char *pgtime_parse(const struct pgtype *t, const struct pgtype_env *env, const char *s,
                         size_t n, struct buf *out, struct pgvalue *v, char *why,
                         size_t why_size)
{
    (void)t, (void)env, (void)s, (void)n, (void)out, (void)v, (void)why, (void)why_size;
    return "not checked yet";
}

int pgtime_compare(const struct pgtype *t, const struct pgvalue *a, const struct pgvalue *b)
{
    (void)t;
    return (a->i > b->i) - (a->i < b->i);
}

int pgtime_parse_zone(const char *zone, int32_t *offset_seconds)
{
    if (strcmp(zone, "UTC") != 0)
        return -1;
    *offset_seconds = 0;
    return 0;
}
