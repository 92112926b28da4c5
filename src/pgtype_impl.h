/*
 * pgtype_impl.h - the per-family parsers behind pgtype.c's dispatch. Each family file owns the
 * exact input rules of its types; see pgtype.h for the contract of parse, compare and length.
 */
#ifndef SLUICE_PGTYPE_IMPL_H
#define SLUICE_PGTYPE_IMPL_H

#include "pgtype.h"

/* int2, int4, int8, numeric, float4, float8, bool, uuid (pgtype_number.c) */
const char *pgnumber_parse(const struct pgtype *t, const char *s, size_t n, struct buf *out,
                           struct pgvalue *v, char *why, size_t why_size);
int pgnumber_compare(const struct pgtype *t, const struct pgvalue *a, const struct pgvalue *b);

/* date, time, timestamp, timestamptz (pgtype_time.c) */
const char *pgtime_parse(const struct pgtype *t, const struct pgtype_env *env, const char *s,
                         size_t n, struct buf *out, struct pgvalue *v, char *why,
                         size_t why_size);
int pgtime_compare(const struct pgtype *t, const struct pgvalue *a, const struct pgvalue *b);
int pgtime_parse_zone(const char *zone, int32_t *offset_seconds);

/* text, varchar, bpchar, json, jsonb, enum (pgtype_text.c) */
const char *pgtext_parse(const struct pgtype *t, const char *s, size_t n, struct buf *out,
                         struct pgvalue *v, char *why, size_t why_size);
int pgtext_compare(const struct pgtype *t, const struct pgvalue *a, const struct pgvalue *b);
size_t pgtext_char_length(const struct pgtype *t, const struct pgvalue *v);

#endif
