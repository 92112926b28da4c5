/*
 * validate.h - the event schema: header binding, row validation, and the COPY text encoding of
 * accepted rows (into user_activity) and rejected rows (into user_activity_errors).
 */
#ifndef SLUICE_VALIDATE_H
#define SLUICE_VALIDATE_H

#include "copy_text.h"
#include "csv_reader.h"
#include "mem.h"

#include <stdbool.h>
#include <stddef.h>

enum schema_column {
    COL_EVENT_ID,
    COL_EVENT_TIME,
    COL_EVENT_TYPE,
    COL_PRODUCT_ID,
    COL_PRICE,
    COL_USER_ID,
    COL_SESSION_ID,
    COL_COUNT
};

/* The reject taxonomy; names are what lands in user_activity_errors.error_code. */
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
const char *schema_column_name(enum schema_column col);

struct verdict {
    enum reject_code code; /* REJECT_NONE when the row is valid */
    int column;            /* enum schema_column at fault, or -1 */
    char message[512];     /* every problem found, "; "-separated */
};

struct schema;

/* event_types: comma-separated allowed event_type values ("view,purchase"). NULL on a bad list. */
struct schema *schema_new(const char *event_types);
void schema_free(struct schema *s);

/* Bind the header row: map each required column to its position by name (order free, extra
 * columns ignored). Returns 0, or -1 with v filled (REJECT_BAD_HEADER, message says why). */
int schema_bind_header(struct schema *s, const struct csv_row *header, struct verdict *v);

/* Validate one data row against the bound header. On success append one COPY text line (the
 * user_activity columns in table order, tab-separated, newline-terminated) to copy_out and return
 * true; otherwise leave copy_out unchanged, fill v and return false. Rows the reader flagged
 * (too long, unterminated quote) are rejected with their codes. */
bool schema_validate_row(const struct schema *s, const struct csv_row *row, struct buf *copy_out,
                         struct verdict *v);

/* Append one COPY text line for user_activity_errors with the columns, in this order:
 * event_id, event_time, event_type, product_id, price, user_id, session_id (each field's raw text
 * when the row has it and it is valid UTF-8 without NUL, else \N), error_code, error_column,
 * error_message, source_file, line_number, raw_line (invalid bytes and NUL as \xNN).
 * s may have no header bound (bad_header): then the field columns are \N. */
void schema_encode_reject(const struct schema *s, const struct csv_row *row,
                          const struct verdict *v, const char *source_file, struct buf *out);

/* The column list schema_encode_reject() writes, for the COPY command. */
#define REJECT_COPY_COLUMNS                                                                        \
    "event_id, event_time, event_type, product_id, price, user_id, session_id, error_code, "       \
    "error_column, error_message, source_file, line_number, raw_line"


#endif
