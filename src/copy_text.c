/*
 * copy_text.c - COPY text format output: the four escapes, and the sanitizing writer that turns
 * NUL and bytes that are not strict UTF-8 into the text \xNN.
 *
 * Promises: whatever the input bytes, the output is one COPY text field that loads into a TEXT
 * column of a UTF-8 database and never ends a row or the COPY early.
 */
#include "copy_text.h"

#include "utf8.h"

#include <string.h>

/* For each byte, the letter after the backslash when COPY text needs it escaped, else 0. */
static const char escape_letter[256] = {
    ['\\'] = '\\',
    ['\t'] = 't',
    ['\n'] = 'n',
    ['\r'] = 'r',
};

char *copy_text_escape_to(char *dst, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e = escape_letter[c];
        if (e) {
            *dst++ = '\\';
            *dst++ = e;
        } else {
            *dst++ = (char)c;
        }
    }
    return dst;
}

void copy_text_escape(struct buf *out, const char *s, size_t n)
{
    if (n == 0)
        return;
    char *d = buf_reserve(out, 2 * n);
    out->len += (size_t)(copy_text_escape_to(d, s, n) - d);
}

static const char hex_digits[] = "0123456789abcdef";

/* s[0..n) with NUL and bytes that are not strict UTF-8 written as the text \xNN, and with COPY's
 * escapes when copy_escapes. Works through the input in blocks so that a long line needs only a
 * bounded reservation at a time. */
static void sanitize(struct buf *out, const char *s, size_t n, bool copy_escapes)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t end = n - i > 4096 ? i + 4096 : n;
        /* worst case 5 output bytes per input byte; a sequence may run 3 bytes past end */
        char *d0 = buf_reserve(out, 5 * (end - i) + 8);
        char *d = d0;
        while (i < end) {
            unsigned char c = p[i];
            if (c != 0 && c < 0x80) {
                char e = copy_escapes ? escape_letter[c] : 0;
                if (e) {
                    *d++ = '\\';
                    *d++ = e;
                } else {
                    *d++ = (char)c;
                }
                i++;
                continue;
            }
            size_t k = utf8_seq_len(p + i, n - i);
            if (k == 0) {
                *d++ = '\\';
                if (copy_escapes)
                    *d++ = '\\';
                *d++ = 'x';
                *d++ = hex_digits[c >> 4];
                *d++ = hex_digits[c & 15];
                i++;
            } else {
                memcpy(d, p + i, k);
                d += k;
                i += k;
            }
        }
        out->len += (size_t)(d - d0);
    }
}

void copy_text_sanitized(struct buf *out, const char *s, size_t n)
{
    sanitize(out, s, n, true);
}

void copy_text_bytes_encode(struct buf *out, const char *s, size_t n)
{
    sanitize(out, s, n, false);
}

bool copy_text_bytes_decode(struct buf *out, const char *s, size_t n)
{
    if (n == 0)
        return false;
    size_t start = out->len;
    bool decoded = false;
    char *d = buf_reserve(out, n);
    for (size_t i = 0; i < n; i++) {
        bool escape = s[i] == '\\' && i + 3 < n && s[i + 1] == 'x';
        int hi = escape ? hex_digit_value(s[i + 2]) : -1;
        int lo = escape ? hex_digit_value(s[i + 3]) : -1;
        /* only what the encoder writes: NUL, or a byte of 0x80 and above */
        if (hi >= 0 && lo >= 0 && (hi >= 8 || (hi == 0 && lo == 0))) {
            *d++ = (char)(hi << 4 | lo);
            i += 3;
            decoded = true;
        } else {
            *d++ = s[i];
        }
    }
    out->len += (size_t)(d - (out->data + out->len));
    if (!decoded)
        return false;
    /* Bytes the encoder wrote were never strict UTF-8 in their place, so their decoding is
     * not either; when it is, the \xNN were the row's own text and stay as they are. */
    size_t len = out->len - start;
    if (utf8_check(out->data + start, len) == len && !memchr(out->data + start, 0, len)) {
        out->len = start;
        buf_append(out, s, n);
        return false;
    }
    return true;
}
