/*
 * pgtype.h - PostgreSQL column types judged in C: a CSV field is parsed the way the type's input
 * function would parse it, its COPY text is written, and its value is kept for CHECK constraints
 * and keys.
 *
 * The kinds are the base types sluice checks itself; a domain is checked as its base type (its
 * own CHECK constraints are the table's business, see check_expr.h), and every other type is
 * PGT_SERVER: its text goes to the server unchanged and the server's verdict is final (the
 * fallback in the loader turns a refusal into a db_rejected dead letter).
 */
#ifndef SLUICE_PGTYPE_H
#define SLUICE_PGTYPE_H

#include "mem.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pgtype_kind {
    PGT_SERVER = 0, /* not checked in C: the text is passed through, the server judges it */
    PGT_INT2,
    PGT_INT4,
    PGT_INT8,
    PGT_NUMERIC,
    PGT_FLOAT4,
    PGT_FLOAT8,
    PGT_BOOL,
    PGT_UUID,
    PGT_DATE,
    PGT_TIME,
    PGT_TIMESTAMP,
    PGT_TIMESTAMPTZ,
    PGT_TEXT,
    PGT_VARCHAR,
    PGT_BPCHAR,
    PGT_JSON,
    PGT_JSONB,
    PGT_ENUM,
    PGT_KIND_COUNT
};

struct pgtype {
    enum pgtype_kind kind;
    int precision; /* numeric(p,s): p, or -1 when unconstrained */
    int scale;     /* numeric(p,s): s */
    int length;    /* varchar(n), char(n): n in characters, or -1 when unlimited */
    char **labels; /* enum: the labels in sort order */
    size_t nlabels;
};

/* What changes how values are read, the same for every column (from the options). */
struct pgtype_env {
    /* Seconds east of UTC applied to timestamptz and timestamp inputs that carry no offset of
     * their own (--time-zone; 0 = UTC). */
    int32_t tz_offset;
};

/* A parsed value, for CHECK constraints and keys. Pointers stay valid while the field's bytes
 * do (the row being judged), or as long as the compiled constant that holds them. */
struct pgvalue {
    bool null;
    int64_t i;          /* int2/4/8, bool (0/1), enum (label index), date (days since
                         * 2000-01-01), time (microseconds since midnight), timestamp and
                         * timestamptz (microseconds since 2000-01-01 00:00 UTC) */
    double f;           /* float4 (as read into a float, widened), float8 */
    const char *text;   /* text kinds and json: the characters; numeric: the field's digits as
                         * written (pgtype_compare normalizes) */
    size_t len;
    unsigned char uuid[16];
};

/* Map a catalog type to a pgtype: typname is the base type's pg_type.typname ("int4",
 * "numeric", "varchar", "timestamptz", ...), typmod its pg_attribute.atttypmod. Unknown names
 * give PGT_SERVER. Enum labels are added by the caller (pgtype_set_labels). */
void pgtype_from_catalog(struct pgtype *t, const char *typname, int32_t typmod);
void pgtype_set_labels(struct pgtype *t, char **labels, size_t n); /* takes the array */
void pgtype_release(struct pgtype *t);

/* The kind's SQL name ("smallint", "varchar", ...), for messages. */
const char *pgtype_kind_name(enum pgtype_kind kind);

/* The type as format_type() names it ("numeric(10,2)", "character varying(20)"), for messages. */
const char *pgtype_name(const struct pgtype *t, char *buf, size_t size);

/* Parse field s[0..n) as t (an empty field is NULL and never reaches here). On success append
 * the value's COPY text to out (escaped, no separator), fill *v when v is not NULL, and return
 * NULL. On failure append nothing and return why, in words for the error_message ("not an
 * integer", "longer than 20 characters"); the text is static or written into why[0..why_size). */
const char *pgtype_parse(const struct pgtype *t, const struct pgtype_env *env, const char *s,
                         size_t n, struct buf *out, struct pgvalue *v, char *why,
                         size_t why_size);

/* Can values of t be ordered in C the way PostgreSQL orders them? (text kinds only under the C
 * collation, which the caller knows; json never.) */
bool pgtype_orderable(const struct pgtype *t);

/* Order of two non-NULL values of t: <0, 0, >0 as PostgreSQL's comparison operators say. */
int pgtype_compare(const struct pgtype *t, const struct pgvalue *a, const struct pgvalue *b);

/* length(value) / char_length(value) as PostgreSQL counts it (characters; char(n) without its
 * trailing spaces). Only for text kinds. */
size_t pgtype_char_length(const struct pgtype *t, const struct pgvalue *v);

/* Parse a --time-zone value ("UTC", "Z", "+05:30", "-0800") into env. -1 when not understood. */
int pgtype_env_set_zone(struct pgtype_env *env, const char *zone);

#endif
