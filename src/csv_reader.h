/*
 * csv_reader.h - a streaming RFC 4180 reader that never holds a whole file.
 *
 * Push bytes in any chunk size with csv_reader_feed(), pull rows with csv_reader_next() until it
 * says CSV_NEED_MORE, and call csv_reader_finish() at end of input to flush the last row.
 * Quoted fields, "" escapes, newlines inside quotes, LF or CRLF line ends, and a UTF-8 BOM at the
 * very start of the input are handled. Lines that are completely empty are skipped (they still
 * count for line numbers). Field contents are returned unquoted and unescaped; the reader does not
 * judge encoding or NUL bytes (the validator does).
 */
#ifndef SLUICE_CSV_READER_H
#define SLUICE_CSV_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum csv_row_status {
    CSV_ROW_OK = 0,
    /* The row is longer than max_row_bytes: raw holds its first max_row_bytes bytes, fields are
     * not available (nfields == 0); the rest of the row was skipped and reading goes on at the
     * next row. */
    CSV_ROW_TOO_LONG,
    /* End of input inside a quoted field: raw holds everything from the row start to the end of
     * input, cut at max_row_bytes; nfields == 0. Always the last row. */
    CSV_ROW_UNTERMINATED_QUOTE,
};

struct csv_row {
    enum csv_row_status status;
    size_t nfields;
    const char *const *fields; /* fields[i] points at lengths[i] bytes (not NUL-terminated) */
    const size_t *lengths;
    const char *raw; /* the row as in the input, without its line terminator */
    size_t raw_len;
    uint64_t line;       /* 1-based line number where the row starts */
    uint64_t offset;     /* byte offset of the row's first byte */
    uint64_t end_offset; /* byte offset just past the row's line terminator */
    uint64_t next_line;  /* line number of the line that follows the row */
};

enum csv_next {
    CSV_ROW,       /* *row is filled in; valid until the next call on the reader */
    CSV_NEED_MORE, /* feed more bytes, or call csv_reader_finish() */
    CSV_END,       /* finished and every row returned */
};

struct csv_reader;

/* max_row_bytes: cap on a row's raw length (at least 1). */
struct csv_reader *csv_reader_new(size_t max_row_bytes);
void csv_reader_free(struct csv_reader *r);
/* Start over as if the input began at byte `offset`, on line `line`; a BOM is only skipped when
 * offset is 0. Used to resume a file from a committed offset. */
void csv_reader_reset(struct csv_reader *r, uint64_t offset, uint64_t line);
/* Copy len bytes of input into the reader. */
void csv_reader_feed(struct csv_reader *r, const char *data, size_t len);
/* No more input will come. */
void csv_reader_finish(struct csv_reader *r);
enum csv_next csv_reader_next(struct csv_reader *r, struct csv_row *row);
/* Bytes fed but not yet returned as rows (what is buffered). */
size_t csv_reader_pending(const struct csv_reader *r);

#endif
