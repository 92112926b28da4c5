/*
 * copy_text.h - writing values for COPY ... FROM STDIN in text format: the escapes every field
 * needs, and a sanitizing writer for bytes that may not be valid UTF-8.
 */
#ifndef SLUICE_COPY_TEXT_H
#define SLUICE_COPY_TEXT_H

#include "mem.h"

#include <stdbool.h>

#include <stddef.h>

/* Write s[0..n) escaped for COPY text (backslash, tab, newline, CR) to dst, which has room for
 * 2n bytes; returns the new end. */
char *copy_text_escape_to(char *dst, const char *s, size_t n);

/* Append s[0..n) to out escaped for COPY text format. */
void copy_text_escape(struct buf *out, const char *s, size_t n);

/* Append s[0..n) for COPY text, with every byte that is NUL or not strict UTF-8 written as the
 * four characters \xNN, so that any input loads into a TEXT column. */
void copy_text_sanitized(struct buf *out, const char *s, size_t n);

/* What a dead letter's raw_line holds for the bytes s[0..n): NUL and bytes that are not strict
 * UTF-8 written as the text \xNN, nothing else changed (no COPY escapes: for a parameter). */
void copy_text_bytes_encode(struct buf *out, const char *s, size_t n);

/* The bytes a text made by copy_text_bytes_encode stands for, appended to out: each \xNN
 * (00, or 80 to ff) back to its byte. When that decoding would give strict UTF-8 without NUL,
 * which the encoder never makes, the \xNN were written by a person and the text is kept as it
 * is. True when bytes were decoded. */
bool copy_text_bytes_decode(struct buf *out, const char *s, size_t n);

#endif
