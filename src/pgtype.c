/*
 * pgtype.c - the front of the type checkers: maps catalog types to kinds, names them for
 * messages, and dispatches parse, compare and length to the family that owns each kind
 * (pgtype_number.c, pgtype_time.c, pgtype_text.c).
 *
 * Promises: a PGT_SERVER column's text goes out unchanged (escaped for COPY), so the server
 * sees exactly what the producer wrote; every other kind is judged by its family's parser.
 */
#include "pgtype.h"

#include "copy_text.h"
#include "pgtype_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TYPMOD_HEADER 4 /* PostgreSQL's VARHDRSZ, added to every length and precision typmod */

static const struct {
    const char *typname;
    enum pgtype_kind kind;
} catalog_names[] = {
    {"int2", PGT_INT2},           {"int4", PGT_INT4},
    {"int8", PGT_INT8},           {"numeric", PGT_NUMERIC},
    {"float4", PGT_FLOAT4},       {"float8", PGT_FLOAT8},
    {"bool", PGT_BOOL},           {"uuid", PGT_UUID},
    {"date", PGT_DATE},           {"time", PGT_TIME},
    {"timestamp", PGT_TIMESTAMP}, {"timestamptz", PGT_TIMESTAMPTZ},
    {"text", PGT_TEXT},           {"varchar", PGT_VARCHAR},
    {"bpchar", PGT_BPCHAR},       {"json", PGT_JSON},
    {"jsonb", PGT_JSONB},
};

void pgtype_from_catalog(struct pgtype *t, const char *typname, int32_t typmod)
{
    memset(t, 0, sizeof(*t));
    t->kind = PGT_SERVER;
    t->precision = -1;
    t->length = -1;
    for (size_t i = 0; i < sizeof(catalog_names) / sizeof(catalog_names[0]); i++)
        if (strcmp(typname, catalog_names[i].typname) == 0)
            t->kind = catalog_names[i].kind;
    switch (t->kind) {
    case PGT_NUMERIC:
        if (typmod >= TYPMOD_HEADER) {
            int32_t m = typmod - TYPMOD_HEADER;
            t->precision = (m >> 16) & 0xffff;
            t->scale = ((m & 0x7ff) ^ 1024) - 1024; /* an 11-bit signed scale */
        }
        break;
    case PGT_VARCHAR:
    case PGT_BPCHAR:
        if (typmod >= TYPMOD_HEADER)
            t->length = typmod - TYPMOD_HEADER;
        break;
    case PGT_TIME:
    case PGT_TIMESTAMP:
    case PGT_TIMESTAMPTZ:
        if (typmod >= 0)
            t->precision = typmod; /* fractional second digits kept */
        break;
    default:
        break;
    }
}

void pgtype_set_labels(struct pgtype *t, char **labels, size_t n)
{
    t->kind = PGT_ENUM;
    t->labels = labels;
    t->nlabels = n;
}

void pgtype_release(struct pgtype *t)
{
    for (size_t i = 0; i < t->nlabels; i++)
        free(t->labels[i]);
    free(t->labels);
    t->labels = NULL;
    t->nlabels = 0;
}

const char *pgtype_kind_name(enum pgtype_kind kind)
{
    static const char *const names[PGT_KIND_COUNT] = {
        [PGT_SERVER] = "a type checked by the server",
        [PGT_INT2] = "smallint",
        [PGT_INT4] = "integer",
        [PGT_INT8] = "bigint",
        [PGT_NUMERIC] = "numeric",
        [PGT_FLOAT4] = "real",
        [PGT_FLOAT8] = "double precision",
        [PGT_BOOL] = "boolean",
        [PGT_UUID] = "uuid",
        [PGT_DATE] = "date",
        [PGT_TIME] = "time",
        [PGT_TIMESTAMP] = "timestamp",
        [PGT_TIMESTAMPTZ] = "timestamptz",
        [PGT_TEXT] = "text",
        [PGT_VARCHAR] = "varchar",
        [PGT_BPCHAR] = "char",
        [PGT_JSON] = "json",
        [PGT_JSONB] = "jsonb",
        [PGT_ENUM] = "enum",
    };
    return (unsigned)kind < PGT_KIND_COUNT ? names[kind] : "an unknown type";
}

const char *pgtype_name(const struct pgtype *t, char *buf, size_t size)
{
    const char *base = pgtype_kind_name(t->kind);
    if (t->kind == PGT_NUMERIC && t->precision >= 0)
        snprintf(buf, size, "numeric(%d,%d)", t->precision, t->scale);
    else if ((t->kind == PGT_VARCHAR || t->kind == PGT_BPCHAR) && t->length >= 0)
        snprintf(buf, size, "%s(%d)", base, t->length);
    else if ((t->kind == PGT_TIME || t->kind == PGT_TIMESTAMP || t->kind == PGT_TIMESTAMPTZ) &&
             t->precision >= 0)
        snprintf(buf, size, "%s(%d)", base, t->precision);
    else
        snprintf(buf, size, "%s", base);
    return buf;
}

const char *pgtype_parse(const struct pgtype *t, const struct pgtype_env *env, const char *s,
                         size_t n, struct buf *out, struct pgvalue *v, char *why, size_t why_size)
{
    struct pgvalue scratch;
    if (!v)
        v = &scratch;
    v->null = false;
    switch (t->kind) {
    case PGT_INT2:
    case PGT_INT4:
    case PGT_INT8:
    case PGT_NUMERIC:
    case PGT_FLOAT4:
    case PGT_FLOAT8:
    case PGT_BOOL:
    case PGT_UUID:
        return pgnumber_parse(t, s, n, out, v, why, why_size);
    case PGT_DATE:
    case PGT_TIME:
    case PGT_TIMESTAMP:
    case PGT_TIMESTAMPTZ:
        return pgtime_parse(t, env, s, n, out, v, why, why_size);
    case PGT_TEXT:
    case PGT_VARCHAR:
    case PGT_BPCHAR:
    case PGT_JSON:
    case PGT_JSONB:
    case PGT_ENUM:
        return pgtext_parse(t, s, n, out, v, why, why_size);
    case PGT_SERVER:
    case PGT_KIND_COUNT:
        break;
    }
    v->text = s;
    v->len = n;
    copy_text_escape(out, s, n);
    return NULL;
}

bool pgtype_orderable(const struct pgtype *t)
{
    return t->kind != PGT_SERVER && t->kind != PGT_JSON && t->kind != PGT_JSONB &&
           t->kind != PGT_KIND_COUNT;
}

int pgtype_compare(const struct pgtype *t, const struct pgvalue *a, const struct pgvalue *b)
{
    switch (t->kind) {
    case PGT_DATE:
    case PGT_TIME:
    case PGT_TIMESTAMP:
    case PGT_TIMESTAMPTZ:
        return pgtime_compare(t, a, b);
    case PGT_TEXT:
    case PGT_VARCHAR:
    case PGT_BPCHAR:
    case PGT_JSON:
    case PGT_JSONB:
    case PGT_ENUM:
        return pgtext_compare(t, a, b);
    default:
        return pgnumber_compare(t, a, b);
    }
}

size_t pgtype_char_length(const struct pgtype *t, const struct pgvalue *v)
{
    return pgtext_char_length(t, v);
}

int pgtype_env_set_zone(struct pgtype_env *env, const char *zone)
{
    return pgtime_parse_zone(zone, &env->tz_offset);
}
