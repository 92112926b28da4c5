/*
 * name_codec.c - lossless text for file names, which are bytes.
 *
 * Linux file names are any bytes but '/' and NUL; the ledger's file_name column is UTF-8 text,
 * and a name that is not UTF-8 made every ledger statement of its batch fail. name_encode()
 * writes each byte that is not part of a strict UTF-8 sequence as the four characters \xNN
 * (lowercase hex), the same way raw_line keeps such bytes in the dead letters. To stay lossless,
 * a backslash is written as \x5c when, and only when, the name has 'x' and two hex digits right
 * after it, so decoding is unambiguous; every other byte is copied. So every name that loaded
 * before this codec existed keeps its ledger text, and name_decode(name_encode(b)) == b for every
 * byte string b.
 *
 * The encoding is not an escape for display: control characters that are valid UTF-8 (a newline
 * in a name) are kept, and the logger escapes them when it writes a line.
 */
#include "name_codec.h"

#include "mem.h"
#include "utf8.h"

#include <string.h>

static const char hex_digits[] = "0123456789abcdef";

/* Does p[0..n) start with \xHH (either case of hex)? */
static bool at_escape(const unsigned char *p, size_t n)
{
    return n >= 4 && p[0] == '\\' && p[1] == 'x' && hex_digit_value(p[2]) >= 0 && hex_digit_value(p[3]) >= 0;
}

char *name_encode(const char *name, size_t n)
{
    const unsigned char *p = (const unsigned char *)name;
    char *out = xmalloc(4 * n + 1);
    char *d = out;
    size_t i = 0;
    while (i < n) {
        size_t k = utf8_seq_len(p + i, n - i);
        if (k == 0 || at_escape(p + i, n - i)) {
            *d++ = '\\';
            *d++ = 'x';
            *d++ = hex_digits[p[i] >> 4];
            *d++ = hex_digits[p[i] & 15];
            i++;
            continue;
        }
        memcpy(d, p + i, k);
        d += k;
        i += k;
    }
    *d = '\0';
    return out;
}

char *name_decode(const char *enc, size_t *n)
{
    const unsigned char *p = (const unsigned char *)enc;
    size_t len = strlen(enc);
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (at_escape(p + i, len - i)) {
            out[o++] = (char)(hex_digit_value(p[i + 2]) << 4 | hex_digit_value(p[i + 3]));
            i += 4;
        } else {
            out[o++] = (char)p[i++];
        }
    }
    out[o] = '\0';
    *n = o;
    return out;
}

bool name_is_plain(const char *name, size_t n)
{
    if (n == 0 || memchr(name, '/', n) || memchr(name, '\0', n))
        return false;
    return !(n == 1 && name[0] == '.') && !(n == 2 && name[0] == '.' && name[1] == '.');
}
