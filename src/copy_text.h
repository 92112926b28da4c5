/*
 * copy_text.h - writing values for COPY ... FROM STDIN in text format: the escapes every field
 * needs, and a sanitizing writer for bytes that may not be valid UTF-8.
 */
#ifndef SLUICE_COPY_TEXT_H
#define SLUICE_COPY_TEXT_H

#include "mem.h"

#include <stddef.h>

/* Write s[0..n) escaped for COPY text (backslash, tab, newline, CR) to dst, which has room for
 * 2n bytes; returns the new end. */
char *copy_text_escape_to(char *dst, const char *s, size_t n);

/* Append s[0..n) to out escaped for COPY text format. */
void copy_text_escape(struct buf *out, const char *s, size_t n);

/* Append s[0..n) for COPY text, with every byte that is NUL or not strict UTF-8 written as the
 * four characters \xNN, so that any input loads into a TEXT column. */
void copy_text_sanitized(struct buf *out, const char *s, size_t n);

#endif
