/*
 * validate.h - the contract of a target table applied to CSV rows: header binding, row
 * judgement against the table's own definition (types, NOT NULL, lengths, CHECK constraints),
 * and the COPY text of accepted rows (into the table) and rejected rows (into its dead-letter
 * table).
 */
#ifndef SLUICE_VALIDATE_H
#define SLUICE_VALIDATE_H

#include "copy_text.h"
#include "csv_reader.h"
#include "mem.h"
#include "table_def.h"

#include <stdbool.h>
#include <stddef.h>

/* The reject taxonomy; names are what lands in the dead-letter table's error_code. */
enum reject_code {
    REJECT_NONE = 0,
    REJECT_MISSING_FIELD,
    REJECT_BAD_VALUE,
    REJECT_RULE_VIOLATION,
    REJECT_WRONG_COLUMN_COUNT,
    REJECT_BAD_ENCODING,
    REJECT_UNTERMINATED_QUOTE,
    REJECT_ROW_TOO_LONG,
    REJECT_DUPLICATE_KEY,
    REJECT_BAD_HEADER,
    REJECT_BAD_FILE, /* refused whole before reading: size, sparse, links, owner, read error */
    REJECT_DB_REJECTED, /* passed every check in C, refused by the server (the fallback) */
    REJECT_CODE_COUNT
};

const char *reject_code_name(enum reject_code code);

struct verdict {
    enum reject_code code; /* REJECT_NONE when the row is valid */
    long column;           /* the table column at fault (index into the table_def), or -1 */
    char message[512];     /* every problem found, "; "-separated */
};

struct schema_options {
    const struct table_def *table; /* must outlive the schema */
    struct pgtype_env env;
    const char *column_map; /* "csv_name=column,..." or NULL */
    bool strict_columns;    /* a header name the table lacks is a bad_header */
};

struct schema;

/* NULL with err filled when the options do not fit the table (a --column-map naming a column
 * the table lacks, or malformed). */
struct schema *schema_new(const struct schema_options *o, char *err, size_t err_size);
void schema_free(struct schema *s);

/* Bind a file's header row: each name to a table column (--column-map, then the exact name,
 * then the name case-insensitively when only one column matches); extra names are ignored (or a
 * bad_header with strict_columns); a NOT NULL column without a default that the header lacks is
 * a bad_header. Returns 0, or -1 with v filled (REJECT_BAD_HEADER, message says why). */
int schema_bind_header(struct schema *s, const struct csv_row *header, struct verdict *v);

/* The quoted column list of the bound header, "(a, b, c)": the COPY into the table names
 * exactly the columns the file has, so the others get their defaults. Stable until the next
 * bind; compare it to know whether two files can share one COPY. */
const char *schema_copy_columns(const struct schema *s);

/* Judge one data row against the bound header. On success append one COPY text line (the bound
 * columns in schema_copy_columns order, tab-separated, newline-terminated) to copy_out and
 * return true; otherwise leave copy_out unchanged, fill v and return false. Rows the reader
 * flagged (too long, unterminated quote) are rejected with their codes. */
bool schema_validate_row(struct schema *s, const struct csv_row *row, struct buf *copy_out,
                         struct verdict *v);

/* The key of the row schema_validate_row last accepted, as its COPY text (columns joined by a
 * tab), into key; false when the table has no key, or the row's key has a NULL or is filled by
 * a default. copy_out is the buffer that row went into, unchanged since. */
bool schema_row_key(const struct schema *s, const struct buf *copy_out, struct buf *key);

/* The duplicate_key verdict for the row whose key is `key` (as schema_row_key made it). */
void schema_duplicate_verdict(const struct schema *s, const struct buf *key, struct verdict *v);

/* Append one COPY text line for the dead-letter table, columns in schema_reject_columns order:
 * one per table column (the field's raw text when the row has it and it is valid UTF-8 without
 * NUL, else \N), then error_code, error_column, error_message, source_file, line_number,
 * raw_line (invalid bytes and NUL as \xNN). s may have no header bound (bad_header). */
void schema_encode_reject(const struct schema *s, const struct csv_row *row,
                          const struct verdict *v, const char *source_file, struct buf *out);

/* "(col1, ..., error_code, error_column, error_message, source_file, line_number, raw_line)",
 * quoted, for the COPY into the dead-letter table. */
const char *schema_reject_columns(const struct schema *s);

/* The dead-letter table's error columns, after the table's own. */
#define REJECT_ERROR_COLUMNS "error_code, error_column, error_message, source_file, line_number, raw_line"

#endif
