/*
 * utf8.h - strict UTF-8 checks shared by the validator, the name codec and the logger, and the
 * ASCII hex digit the type checkers and the name codec read.
 *
 * Strict means what PostgreSQL accepts in a UTF-8 database: no overlong forms, no surrogates,
 * nothing above U+10FFFF, no NUL. Inline because the validator calls them once per byte of input.
 */
#ifndef SLUICE_UTF8_H
#define SLUICE_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Length of the strict UTF-8 sequence at p (1..4), or 0 when the bytes there are not one (bad
 * lead byte, overlong form, surrogate, above U+10FFFF, truncated) or are a NUL. n >= 1. */
static inline size_t utf8_seq_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return c != 0;
    if (c < 0xC2)
        return 0;
    if (c < 0xE0) {
        if (n < 2 || (p[1] & 0xC0) != 0x80)
            return 0;
        return 2;
    }
    if (c < 0xF0) {
        if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && p[1] < 0xA0) /* overlong */
            return 0;
        if (c == 0xED && p[1] >= 0xA0) /* surrogate */
            return 0;
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90) /* overlong */
            return 0;
        if (c == 0xF4 && p[1] >= 0x90) /* above U+10FFFF */
            return 0;
        return 4;
    }
    return 0;
}

/* Offset of the first byte that is NUL or not strict UTF-8, or n when there is none. ASCII is
 * checked eight bytes at a time. */
static inline size_t utf8_check(const char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (((w & highs) | ((w - ones) & ~w & highs)) == 0) {
                i += 8;
                continue;
            }
        }
        size_t k = utf8_seq_len(p + i, n - i);
        if (k == 0)
            return i;
        i += k;
    }
    return n;
}

/* The value of an ASCII hex digit (either case), or -1. */
static inline int hex_digit_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
