/*
 * pgtype_number.c - smallint, integer, bigint, numeric, real, double precision, boolean and uuid
 * read exactly as PostgreSQL 15's input functions read them, without allocating and without
 * locale-dependent parsing of the raw text.
 *
 * What is accepted is what the server accepts, with two deliberate exceptions:
 *  - numeric refuses NaN and every Infinity spelling ("not a finite number"): a price or an
 *    amount that is not a number is never what the producer meant;
 *  - numeric(p,s) refuses a value that rounding to s decimal places would change ("more than 2
 *    decimal places"; for a negative s, "not a multiple of 100"), where the server would round
 *    it silently; zeros beyond the scale are fine ("1.500" into numeric(10,2) is 1.50).
 * Everything else follows the server: whitespace around every type but uuid (space, tab,
 * newline, CR, VT, FF), integers in decimal only with an optional sign, numeric's exponent
 * forms (even "1e 5", which the server's exponent reader allows), floats in every form the C
 * library's strtod takes (decimal, hexadecimal "0x1.8p3", inf/infinity, nan and nan(chars),
 * signed or not, denormals kept, underflow to zero and overflow refused), boolean's words and
 * their prefixes (t, tr, yes, y, on, of, off, 1, 0, any case), and uuid's optional braces and a
 * hyphen after any group of four hex digits.
 *
 * The COPY text written is canonical for integers ("007" is 7), boolean (t/f), uuid (lowercase
 * 8-4-4-4-12) and numeric (the server's own display: "+1.50e1" is 15.0, numeric(10,2) always
 * shows two decimals). A float is written as the producer wrote it, without the surrounding
 * whitespace: the syntax has been checked here and the server reads those characters with the
 * same correctly rounded strtod, so it stores the same bits (a NaN's sign and payload included).
 * strtod/strtof only ever see text whose syntax was checked here, and the program runs in the C
 * locale, so the decimal point is '.'. Nothing allocates, except a float spelled with more than
 * 127 characters, which is copied to the heap to be NUL-terminated for strtod.
 *
 * Values for CHECK constraints and keys (struct pgvalue): integers and boolean in i, floats in
 * f, uuid bytes in uuid, and for numeric the field's text without its whitespace, which
 * pgnumber_compare orders by value (1.50 = 1.5 = 15e-1) without allocating.
 */
#include "pgtype_impl.h"
#include "utf8.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The server's numeric limits: display scale in 14 bits, weight (base-10000 digits) in 16. */
#define NUMERIC_DSCALE_MAX 0x3FFF
#define NUMERIC_WEIGHT_MAX 32767
#define NUMERIC_EXPONENT_LIMIT 1073741823 /* INT_MAX / 2: the server refuses beyond it */

/* The bytes isspace() gives true for in the C locale: the server trims exactly these. */
static inline bool num_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline bool num_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline char num_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Does s[0..n) equal word, ignoring ASCII case? */
static bool num_word(const char *s, size_t n, const char *word)
{
    size_t i = 0;
    for (; i < n && word[i]; i++)
        if (num_lower(s[i]) != word[i])
            return false;
    return i == n && word[i] == '\0';
}

/* Narrow [*s, *s + *n) to its part without leading and trailing whitespace. */
static void num_trim(const char **s, size_t *n)
{
    const char *p = *s, *e = *s + *n;
    while (p < e && num_space(*p))
        p++;
    while (e > p && num_space(e[-1]))
        e--;
    *s = p;
    *n = (size_t)(e - p);
}

/* Append the decimal digits of v. */
static void num_put_int(struct buf *out, int64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof(tmp);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    buf_append(out, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* ---- integers (the server's pg_strtoint16/32/64: decimal digits, optional sign) ---- */

static const char *num_parse_int(const struct pgtype *t, const char *s, size_t n, int64_t *val)
{
    static const struct {
        uint64_t max; /* largest magnitude of a positive value */
        const char *range;
    } kinds[] = {
        [PGT_INT2] = {32767, "out of range for smallint"},
        [PGT_INT4] = {2147483647, "out of range for integer"},
        [PGT_INT8] = {9223372036854775807ULL, "out of range for bigint"},
    };
    const char *p = s, *e = s + n;
    bool neg = false;
    if (p < e && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    if (p == e || !num_digit(*p))
        return "not an integer";
    while (p < e && *p == '0') /* leading zeros never overflow */
        p++;
    /* up to 19 significant digits fit in 64 bits unsigned; more is out of range for any kind */
    const char *digits = p;
    uint64_t acc = 0;
    for (; p < e && num_digit(*p); p++)
        acc = acc * 10 + (unsigned)(*p - '0');
    if (p != e)
        return "not an integer";
    if (p - digits > 19 || acc > kinds[t->kind].max + (neg ? 1 : 0))
        return kinds[t->kind].range;
    *val = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return NULL;
}

/* ---- boolean (the server's parse_bool_with_len) ---- */

/* Is s[0..n) a non-empty prefix of word, at least min characters long, ignoring case? */
static bool num_prefix(const char *s, size_t n, const char *word, size_t min)
{
    size_t wl = strlen(word);
    if (n < min || n > wl)
        return false;
    for (size_t i = 0; i < n; i++)
        if (num_lower(s[i]) != word[i])
            return false;
    return true;
}

static const char *num_parse_bool(const char *s, size_t n, int64_t *val)
{
    if (n == 0)
        return "not a boolean";
    switch (num_lower(s[0])) {
    case 't':
        *val = 1;
        return num_prefix(s, n, "true", 1) ? NULL : "not a boolean";
    case 'f':
        *val = 0;
        return num_prefix(s, n, "false", 1) ? NULL : "not a boolean";
    case 'y':
        *val = 1;
        return num_prefix(s, n, "yes", 1) ? NULL : "not a boolean";
    case 'n':
        *val = 0;
        return num_prefix(s, n, "no", 1) ? NULL : "not a boolean";
    case 'o': /* "o" alone could be on or off: the server wants two letters */
        if (num_prefix(s, n, "on", 2)) {
            *val = 1;
            return NULL;
        }
        *val = 0;
        return num_prefix(s, n, "off", 2) ? NULL : "not a boolean";
    case '1':
    case '0':
        *val = s[0] == '1';
        return n == 1 ? NULL : "not a boolean";
    default:
        return "not a boolean";
    }
}

/* ---- uuid (the server's string_to_uuid: no whitespace at all) ---- */

static const char *num_parse_uuid(const char *s, size_t n, unsigned char *uuid)
{
    const char *p = s, *e = s + n;
    bool braces = p < e && *p == '{';
    if (braces)
        p++;
    for (int i = 0; i < 16; i++) {
        if (e - p < 2)
            return "not a uuid";
        int hi = hex_digit_value(p[0]), lo = hex_digit_value(p[1]);
        if (hi < 0 || lo < 0)
            return "not a uuid";
        uuid[i] = (unsigned char)(hi << 4 | lo);
        p += 2;
        if (p < e && *p == '-' && i % 2 == 1 && i < 15)
            p++;
    }
    if (braces) {
        if (p == e || *p != '}')
            return "not a uuid";
        p++;
    }
    return p == e ? NULL : "not a uuid";
}

static void num_put_uuid(struct buf *out, const unsigned char *uuid)
{
    static const char hex[] = "0123456789abcdef";
    char *d = buf_reserve(out, 36), *p = d;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[uuid[i] >> 4];
        *p++ = hex[uuid[i] & 15];
    }
    out->len += 36;
}

/* ---- floats (the server's float4in/float8in: strtof/strtod on the whole trimmed text) ---- */

/* Is s[0..n) one whole number in a form the C library's strtod reads to its end? */
static bool num_float_syntax(const char *s, size_t n)
{
    const char *p = s, *e = s + n;
    if (p < e && (*p == '+' || *p == '-'))
        p++;
    size_t rest = (size_t)(e - p);
    if (num_word(p, rest, "inf") || num_word(p, rest, "infinity") || num_word(p, rest, "nan"))
        return true;
    if (rest > 4 && num_word(p, 4, "nan(") && e[-1] == ')') {
        for (const char *q = p + 4; q < e - 1; q++)
            if (!(num_digit(*q) || (num_lower(*q) >= 'a' && num_lower(*q) <= 'z') || *q == '_'))
                return false;
        return true;
    }
    bool hex = rest > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
    if (hex)
        p += 2;
    size_t digits = 0;
    for (; p < e && (hex ? hex_digit_value(*p) >= 0 : num_digit(*p)); p++)
        digits++;
    if (p < e && *p == '.')
        for (p++; p < e && (hex ? hex_digit_value(*p) >= 0 : num_digit(*p)); p++)
            digits++;
    if (digits == 0)
        return false;
    if (p < e && (hex ? (*p == 'p' || *p == 'P') : (*p == 'e' || *p == 'E'))) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p == e || !num_digit(*p))
            return false;
        while (p < e && num_digit(*p))
            p++;
    }
    return p == e;
}

static const char *num_parse_float(const struct pgtype *t, const char *s, size_t n, double *val)
{
    if (!num_float_syntax(s, n))
        return "not a number";
    char small[128];
    char *z = n < sizeof(small) ? small : xmalloc(n + 1); /* only for overlong digit strings */
    memcpy(z, s, n);
    z[n] = '\0';
    const char *why = NULL;
    errno = 0;
    if (t->kind == PGT_FLOAT4) {
        float f = strtof(z, NULL);
        /* the server keeps a denormal (ERANGE but neither zero nor infinite) */
        if (errno == ERANGE && (f == 0.0f || isinf(f)))
            why = "out of range for real";
        *val = f;
    } else {
        double d = strtod(z, NULL);
        if (errno == ERANGE && (d == 0.0 || isinf(d)))
            why = "out of range for double precision";
        *val = d;
    }
    if (z != small)
        free(z);
    return why;
}

static int num_compare_float(double a, double b)
{
    if (isnan(a))
        return isnan(b) ? 0 : 1;
    if (isnan(b))
        return -1;
    return (a > b) - (a < b);
}

/* ---- numeric (the server's numeric_in and apply_typmod) ---- */

/* A numeric's text located: digits d[0..m) read from the mantissa (which holds at most one
 * point, after the first `ints` digits), and the value is 0.d * 10^(ints + exp) with sign. */
struct num_text {
    const char *mant; /* first digit or point */
    int64_t m;        /* digits in the mantissa */
    int64_t ints;     /* digits before the point */
    int64_t exp;      /* the exponent written after e, 0 without */
    int64_t first;    /* index of the first nonzero digit, m when the value is zero */
    int64_t last;     /* index of the last nonzero digit */
    bool neg;
};

/* Digit i of the mantissa, skipping the point. */
static inline char num_digit_at(const struct num_text *x, int64_t i)
{
    return x->mant[i < x->ints ? i : i + 1];
}

/* The digit of x at power q of ten (0 for a position outside the written digits). */
static inline char num_digit_pow(const struct num_text *x, int64_t q)
{
    int64_t i = x->ints + x->exp - 1 - q;
    return i >= 0 && i < x->m ? num_digit_at(x, i) : '0';
}

/* Read s[0..n) (trimmed) as numeric_in does; NULL or why not. */
static const char *num_scan(const char *s, size_t n, struct num_text *x)
{
    const char *p = s, *e = s + n;
    memset(x, 0, sizeof(*x));
    if (p < e && (*p == '+' || *p == '-'))
        x->neg = *p++ == '-';
    x->mant = p;
    bool point = false;
    if (p < e && *p == '.') {
        point = true;
        p++;
    }
    if (p == e || !num_digit(*p))
        return "not a number";
    x->first = -1;
    for (; p < e; p++) {
        if (num_digit(*p)) {
            if (*p != '0') {
                if (x->first < 0)
                    x->first = x->m;
                x->last = x->m;
            }
            x->m++;
            if (!point)
                x->ints++;
        } else if (*p == '.') {
            if (point)
                return "not a number";
            point = true;
            x->ints = x->m;
        } else {
            break;
        }
    }
    if (!point)
        x->ints = x->m;
    if (x->first < 0)
        x->first = x->m;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        while (p < e && num_space(*p)) /* the server reads the exponent with strtol */
            p++;
        bool eneg = false;
        if (p < e && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p == e || !num_digit(*p))
            return "not a number";
        int64_t v = 0;
        for (; p < e && num_digit(*p); p++)
            if (v < NUMERIC_EXPONENT_LIMIT)
                v = v * 10 + (*p - '0');
        if (p != e)
            return "not a number";
        if (v >= NUMERIC_EXPONENT_LIMIT)
            return "out of range for numeric";
        x->exp = eneg ? -v : v;
    }
    return p == e ? NULL : "not a number";
}

/* Power of ten of the most significant nonzero digit (x not zero). */
static inline int64_t num_top(const struct num_text *x)
{
    return x->ints + x->exp - 1 - x->first;
}

/* Power of ten of the least significant nonzero digit (x not zero). */
static inline int64_t num_bottom(const struct num_text *x)
{
    return x->ints + x->exp - 1 - x->last;
}

/* Append x with `scale` decimals (x has no nonzero digit beyond them). */
static void num_put_numeric(struct buf *out, const struct num_text *x, int64_t scale)
{
    bool zero = x->first == x->m;
    int64_t top = zero ? 0 : num_top(x);
    size_t need = 2 + (size_t)(top > 0 ? top : 0) + 1 + (size_t)scale;
    char *d = buf_reserve(out, need), *p = d;
    if (x->neg && !zero)
        *p++ = '-';
    if (zero || top < 0)
        *p++ = '0';
    else
        for (int64_t q = top; q >= 0; q--)
            *p++ = num_digit_pow(x, q);
    if (scale > 0) {
        *p++ = '.';
        for (int64_t q = -1; q >= -scale; q--)
            *p++ = num_digit_pow(x, q);
    }
    out->len += (size_t)(p - d);
}

static const char *num_parse_numeric(const struct pgtype *t, const char *s, size_t n,
                                     struct buf *out, char *why, size_t why_size)
{
    static const char *const specials[] = {"nan",       "inf",  "infinity", "+inf",
                                           "+infinity", "-inf", "-infinity"};
    for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
        if (num_word(s, n, specials[i]))
            return "not a finite number";
    struct num_text x;
    const char *bad = num_scan(s, n, &x);
    if (bad)
        return bad;
    bool zero = x.first == x.m;
    int64_t scale;
    if (t->precision < 0) {
        scale = x.m - x.ints - x.exp;
        if (scale < 0)
            scale = 0;
        if (scale > NUMERIC_DSCALE_MAX)
            return "out of range for numeric";
        if (!zero && num_top(&x) >= 0 && num_top(&x) / 4 > NUMERIC_WEIGHT_MAX)
            return "out of range for numeric"; /* the base-10000 weight overflows */
    } else {
        if (!zero && num_bottom(&x) < -(int64_t)t->scale) {
            if (t->scale >= 0) {
                snprintf(why, why_size, "more than %d decimal place%s", t->scale,
                         t->scale == 1 ? "" : "s");
            } else {
                snprintf(why, why_size, "not a multiple of 1%0*d", -t->scale, 0);
            }
            return why;
        }
        int maxdigits = t->precision - t->scale;
        if (!zero && num_top(&x) + 1 > maxdigits) {
            if (maxdigits > 0)
                snprintf(why, why_size,
                         "numeric field overflow (at most %d digit%s before the point)", maxdigits,
                         maxdigits == 1 ? "" : "s");
            else if (maxdigits == 0)
                snprintf(why, why_size, "numeric field overflow (must be below 1)");
            else
                snprintf(why, why_size, "numeric field overflow (must be below 1e%d)", maxdigits);
            return why;
        }
        scale = t->scale > 0 ? t->scale : 0;
    }
    num_put_numeric(out, &x, scale);
    return NULL;
}

/* Order two numerics by value, whatever their spelling. */
static int num_compare_numeric(const struct pgvalue *a, const struct pgvalue *b)
{
    struct num_text x, y;
    if (num_scan(a->text, a->len, &x) || num_scan(b->text, b->len, &y))
        return (a->len > b->len) - (a->len < b->len); /* not reached: both were accepted */
    bool xz = x.first == x.m, yz = y.first == y.m;
    int xs = xz ? 0 : x.neg ? -1 : 1, ys = yz ? 0 : y.neg ? -1 : 1;
    if (xs != ys || xs == 0)
        return (xs > ys) - (xs < ys);
    int mag; /* |x| against |y| */
    int64_t xt = num_top(&x), yt = num_top(&y);
    if (xt != yt) {
        mag = xt > yt ? 1 : -1;
    } else {
        int64_t low = num_bottom(&x) < num_bottom(&y) ? num_bottom(&x) : num_bottom(&y);
        mag = 0;
        for (int64_t q = xt; q >= low && mag == 0; q--) {
            char dx = num_digit_pow(&x, q), dy = num_digit_pow(&y, q);
            mag = (dx > dy) - (dx < dy);
        }
    }
    return xs * mag;
}

/* ---- the family's entry points ---- */

const char *pgnumber_parse(const struct pgtype *t, const char *s, size_t n, struct buf *out,
                           struct pgvalue *v, char *why, size_t why_size)
{
    const char *bad = NULL;
    if (t->kind != PGT_UUID)
        num_trim(&s, &n);
    v->text = s;
    v->len = n;
    switch (t->kind) {
    case PGT_INT2:
    case PGT_INT4:
    case PGT_INT8:
        bad = num_parse_int(t, s, n, &v->i);
        if (!bad)
            num_put_int(out, v->i);
        return bad;
    case PGT_BOOL:
        bad = num_parse_bool(s, n, &v->i);
        if (!bad)
            buf_putc(out, v->i ? 't' : 'f');
        return bad;
    case PGT_UUID:
        bad = num_parse_uuid(s, n, v->uuid);
        if (!bad)
            num_put_uuid(out, v->uuid);
        return bad;
    case PGT_FLOAT4:
    case PGT_FLOAT8:
        bad = num_parse_float(t, s, n, &v->f);
        if (!bad)
            buf_append(out, s, n);
        return bad;
    case PGT_NUMERIC:
        return num_parse_numeric(t, s, n, out, why, why_size);
    default:
        return "not a number type";
    }
}

int pgnumber_compare(const struct pgtype *t, const struct pgvalue *a, const struct pgvalue *b)
{
    switch (t->kind) {
    case PGT_FLOAT4:
    case PGT_FLOAT8:
        return num_compare_float(a->f, b->f);
    case PGT_UUID: {
        int c = memcmp(a->uuid, b->uuid, sizeof(a->uuid));
        return (c > 0) - (c < 0);
    }
    case PGT_NUMERIC:
        return num_compare_numeric(a, b);
    default:
        return (a->i > b->i) - (a->i < b->i);
    }
}
