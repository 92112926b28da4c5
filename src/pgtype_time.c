/*
 * pgtype_time.c - date, time, timestamp and timestamptz read the way PostgreSQL 15's input
 * functions read the ISO 8601 forms producers write, and written back as canonical COPY text.
 *
 * Accepted (leading and trailing white space " \t\n\v\f\r" is skipped, as the server does):
 *   date          YYYY-MM-DD, or infinity / -infinity (any case)
 *   time          HH:MM[:SS[.fraction]]
 *   timestamp(tz) YYYY-MM-DD, or YYYY-MM-DD then one ' ', 'T' or 't' then a time, then an optional
 *                 UTC offset (right after the time or after one space): Z, z, +HH, +HHMM,
 *                 +HH:MM or the same with '-', at most 15:59 either way; or infinity / -infinity.
 * Within these forms the server's rules are followed exactly: hour 24 only as 24:00:00, second 60
 * rolls over to the next minute (23:59:60 is 24:00:00), the whole time of day at most 24:00:00;
 * more than 6 fractional digits are rounded to microseconds as the server does (the decimal read
 * as a double, times 10^6, rounded half to even), then a precision typmod rounds to its digits
 * (half away from zero, as the server does); year 0000 is refused; the server's limit on the
 * length of a value's fields (MAXDATELEN) is applied: it only matters for very long fractions.
 *
 * Deliberately stricter than PostgreSQL (refused here, "not a date/time/timestamp" or "outside
 * years 0001..9999"): every other form the server accepts: month and day names, 'now', 'today',
 * 'epoch', 'allballs', '+infinity', julian dates, DMY/MDY orders, one-digit fields, years beyond
 * 9999 or BC, named zones and zone abbreviations, offsets with seconds or one digit, a fraction
 * without digits, white space between the parts beyond the one space allowed; a date column
 * refuses a time part and a time column a date or an offset, which the server drops silently
 * (losing what the producer meant).
 *
 * Zones: a timestamptz without an offset is read in the --time-zone offset (struct pgtype_env);
 * a timestamp WITH an offset is converted to the --time-zone wall clock (the server would drop the
 * offset; the seed pipeline stores UTC this way), without one it is taken as written. Only fixed
 * offsets are zones here (pgtime_parse_zone): no TZ database, no global state, thread-safe.
 *
 * Values: date = days since 2000-01-01, time = microseconds since midnight, timestamp and
 * timestamptz = microseconds since 2000-01-01 00:00 (UTC for timestamptz), infinities at
 * INT64_MAX / INT64_MIN, so comparing the integers orders as the server does. The COPY text is
 * what the server prints with DateStyle ISO; a timestamptz is written in UTC with "+00", so the
 * server's TimeZone setting does not matter. No allocation and no libc time function per value
 * (strtod, in the C locale sluice runs in, only for a fraction of more than 6 digits).
 */
#include "pgtype_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define USECS_PER_SEC INT64_C(1000000)
#define USECS_PER_DAY INT64_C(86400000000)
#define DAYS_1970_TO_2000 10957
#define TIMESTAMP_FIELDS_MAX 153 /* the server's work buffer for a timestamp's fields */
#define TIME_FIELDS_MAX 129      /* ... and for a time's */
#define TIME_TEXT_MAX 48         /* > "10000-01-02 23:59:59.999999+00" or a BC one */

static const char fmt_date[] = "not a date (expected YYYY-MM-DD)";
static const char fmt_time[] = "not a time (expected HH:MM[:SS[.ffffff]])";
static const char fmt_timestamp[] =
    "not a timestamp (expected YYYY-MM-DD HH:MM:SS[.ffffff][Z|+HH:MM])";
static const char why_date[] = "no such date";
static const char why_time[] = "no such time of day";
static const char why_years[] = "outside years 0001..9999";
static const char why_offset[] = "UTC offset out of range (at most +/-15:59)";
static const char why_long[] = "too long for PostgreSQL's date/time input";
static const char why_time_offset[] = "a time without time zone takes no UTC offset";

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* The value of a digit, or more than 9 for any other byte. */
static unsigned digit_value(char c)
{
    return (unsigned)(unsigned char)c - '0';
}

static int two_digits(const char *s)
{
    if (!is_digit(s[0]) || !is_digit(s[1]))
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

static unsigned days_in_month(unsigned year, unsigned month)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
        return 29;
    return days[month - 1];
}

/* Days from 2000-01-01 to a date of years 1..9999 (proleptic Gregorian). Counting years from
 * March puts each leap day at the end of its year, so no leap test is needed. */
static int64_t days_from_civil(unsigned y, unsigned m, unsigned d)
{
    static const uint16_t days_before_month[12] = {306, 337, 0,   31,  61,  92,
                                                   122, 153, 184, 214, 245, 275};
    y -= m <= 2;
    unsigned days = y * 365 + y / 4 - y / 100 + y / 400 + days_before_month[m - 1] + d;
    return (int64_t)days - 730426; /* what 2000-01-01 counts here */
}

/* The calendar date of any day count (BC and beyond 9999 included), by 400-year eras; only for
 * values that an offset or a rounding moved off the day they were written on. */
static void civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
    int64_t z = days + 719468 + DAYS_1970_TO_2000;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = (int64_t)yoe + era * 400 + (*month <= 2);
}

/* ---- reading ------------------------------------------------------------------------------- */

/* YYYY-MM-DD at s (10 bytes available) as days since 2000-01-01; NULL or why it is not one.
 * The readers are on every value's path: always_inline keeps that path one call deep. */
static inline __attribute__((always_inline)) const char *read_date(const char *s, int64_t *days,
                                                                   const char *format)
{
    unsigned y0 = digit_value(s[0]), y1 = digit_value(s[1]), y2 = digit_value(s[2]),
             y3 = digit_value(s[3]), m0 = digit_value(s[5]), m1 = digit_value(s[6]),
             d0 = digit_value(s[8]), d1 = digit_value(s[9]);
    /* One test for the whole shape: the common value takes a single branch here. */
    if ((y0 > 9) | (y1 > 9) | (y2 > 9) | (y3 > 9) | (m0 > 9) | (m1 > 9) | (d0 > 9) | (d1 > 9) |
        (s[4] != '-') | (s[7] != '-'))
        return format;
    unsigned year = ((y0 * 10 + y1) * 10 + y2) * 10 + y3, month = m0 * 10 + m1, day = d0 * 10 + d1;
    if (year == 0)
        return why_years;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
        return why_date;
    *days = days_from_civil(year, month, day);
    return NULL;
}

/* A year of five or more digits gets the range message rather than the format one. */
static const char *date_format_why(const char *s, const char *end, const char *format)
{
    const char *p = s;
    while (p < end && is_digit(*p))
        p++;
    return p - s > 4 && p < end && *p == '-' ? why_years : format;
}

/* The microseconds of ".ddd..." (digits d[0..n), n > 6) exactly as the server rounds them: the
 * decimal read as the nearest double, times 10^6, rounded half to even. Digits past the 100th
 * cannot move the result except by being non-zero, which one '1' in their place says as well
 * (every halfway point of the doubles that matter has fewer than 100 decimals). */
static int64_t round_long_fraction(const char *d, size_t n)
{
    char text[104];
    size_t keep = n < 100 ? n : 100;
    text[0] = '.';
    memcpy(text + 1, d, keep);
    size_t len = keep + 1;
    for (size_t i = keep; i < n; i++)
        if (d[i] != '0') {
            text[len++] = '1';
            break;
        }
    text[len] = '\0';
    return (int64_t)rint(strtod(text, NULL) * 1e6);
}

/* HH:MM[:SS[.fraction]] at s[0..n): the microseconds since midnight and the bytes it took.
 * Stops at the first byte that cannot continue it; NULL or why. *canonical says the bytes are
 * already what put_clock would write for them. */
static inline __attribute__((always_inline)) const char *read_clock(const char *s, size_t n,
                                                                    int64_t *usec, size_t *used,
                                                                    bool *canonical,
                                                                    const char *format)
{
    if (n < 5)
        return format;
    unsigned h0 = digit_value(s[0]), h1 = digit_value(s[1]), m0 = digit_value(s[3]),
             m1 = digit_value(s[4]);
    if ((h0 > 9) | (h1 > 9) | (m0 > 9) | (m1 > 9) | (s[2] != ':'))
        return format;
    int h = (int)(h0 * 10 + h1), mi = (int)(m0 * 10 + m1), se = 0;
    size_t i = 5;
    int64_t frac = 0;
    bool exact = true; /* at most 6 fractional digits */
    if (i < n && s[i] == ':') {
        if (n - i < 3 || (se = two_digits(s + i + 1)) < 0)
            return format;
        i += 3;
        if (i < n && s[i] == '.') {
            size_t start = ++i;
            while (i < n && is_digit(s[i]))
                i++;
            size_t nd = i - start;
            if (nd == 0)
                return format;
            if (nd <= 6) {
                static const int32_t scale[7] = {1000000, 100000, 10000, 1000, 100, 10, 1};
                int32_t f = 0;
                for (size_t k = start; k < i; k++)
                    f = f * 10 + (s[k] - '0');
                frac = (int64_t)f * scale[nd];
            } else {
                frac = round_long_fraction(s + start, nd);
                exact = false;
            }
        }
    }
    /* The server's rules: each field in range, hour 24 and second 60 allowed as long as the
     * whole is at most 24:00:00. */
    if (h > 24 || mi > 59 || se > 60)
        return why_time;
    int64_t total = ((int64_t)h * 3600 + mi * 60 + se) * USECS_PER_SEC + frac;
    if (total > USECS_PER_DAY)
        return why_time;
    *usec = total;
    *used = i;
    *canonical = i >= 8 && h < 24 && se < 60 && exact && (i == 8 || s[i - 1] != '0');
    return NULL;
}

/* [ ]Z | [ ](+|-)HH[[:]MM] filling s[0..n) exactly: seconds east of UTC; NULL or why.
 * *len is the bytes of the offset itself (without the space), for the server's length rule. */
static const char *read_offset(const char *s, size_t n, int32_t *east, size_t *len,
                               const char *format)
{
    if (n > 1 && s[0] == ' ') {
        s++;
        n--;
    }
    *len = n;
    if (n == 1 && (s[0] == 'Z' || s[0] == 'z')) {
        *east = 0;
        return NULL;
    }
    if ((s[0] != '+' && s[0] != '-') || (n != 3 && n != 5 && n != 6))
        return format;
    int h = two_digits(s + 1), m = 0;
    if (h < 0)
        return format;
    if (n == 5)
        m = two_digits(s + 3);
    else if (n == 6)
        m = s[3] == ':' ? two_digits(s + 4) : -1;
    if (m < 0)
        return format;
    if (h > 15 || m > 59)
        return why_offset;
    *east = (h * 3600 + m * 60) * (s[0] == '-' ? -1 : 1);
    return NULL;
}

/* "infinity" or "-infinity" in any case: +1, -1, or 0 when neither. */
static int read_infinity(const char *s, size_t n)
{
    int sign = 1;
    if (n == 9 && s[0] == '-') {
        sign = -1;
        s++;
        n--;
    }
    if (n != 8)
        return 0;
    static const char word[] = "infinity";
    for (size_t i = 0; i < 8; i++)
        if ((s[i] | 0x20) != word[i])
            return 0;
    return sign;
}

/* A precision typmod rounds microseconds to p digits, half away from zero, as the server does. */
static int64_t round_to_precision(int64_t us, int precision)
{
    static const int64_t scale[6] = {1000000, 100000, 10000, 1000, 100, 10};
    if (precision < 0 || precision >= 6)
        return us;
    int64_t sc = scale[precision], half = sc / 2;
    return us >= 0 ? (us + half) / sc * sc : -(((-us) + half) / sc * sc);
}

/* ---- writing ------------------------------------------------------------------------------- */

static char *put_2(char *d, unsigned v)
{
    d[0] = (char)('0' + v / 10);
    d[1] = (char)('0' + v % 10);
    return d + 2;
}

/* A year as the server prints it: at least four digits. */
static char *put_year(char *d, int64_t y)
{
    if (y >= 0 && y <= 9999)
        return put_2(put_2(d, (unsigned)y / 100), (unsigned)y % 100);
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + y % 10);
        y /= 10;
    } while (y);
    while (n < 4)
        tmp[n++] = '0';
    while (n)
        *d++ = tmp[--n];
    return d;
}

/* YYYY-MM-DD of a day count; *bc says the year was written as its BC number. */
static char *put_date(char *d, int64_t days, bool *bc)
{
    int64_t y;
    unsigned m, day;
    civil_from_days(days, &y, &m, &day);
    *bc = y <= 0;
    d = put_year(d, *bc ? 1 - y : y);
    *d++ = '-';
    d = put_2(d, m);
    *d++ = '-';
    return put_2(d, day);
}

/* HH:MM:SS[.f] with the fraction's trailing zeros dropped, as the server prints it. */
static char *put_clock(char *d, int64_t us)
{
    uint32_t secs = (uint32_t)(us / USECS_PER_SEC), frac = (uint32_t)(us % USECS_PER_SEC);
    d = put_2(d, secs / 3600);
    *d++ = ':';
    d = put_2(d, secs / 60 % 60);
    *d++ = ':';
    d = put_2(d, secs % 60);
    if (frac) {
        *d = '.';
        d = put_2(d + 1, frac / 10000);
        d = put_2(d, frac / 100 % 100);
        d = put_2(d, frac % 100);
        while (d[-1] == '0')
            d--;
    }
    return d;
}

static size_t put_infinity(char *d, int64_t v)
{
    if (v == INT64_MAX) {
        memcpy(d, "infinity", 8);
        return 8;
    }
    memcpy(d, "-infinity", 9);
    return 9;
}

static size_t put_timestamp(char *d0, int64_t us, bool utc)
{
    if (us == INT64_MAX || us == INT64_MIN)
        return put_infinity(d0, us);
    int64_t days = us / USECS_PER_DAY, tod = us % USECS_PER_DAY;
    if (tod < 0) {
        tod += USECS_PER_DAY;
        days--;
    }
    bool bc;
    char *d = put_date(d0, days, &bc);
    *d++ = ' ';
    d = put_clock(d, tod);
    if (utc) {
        memcpy(d, "+00", 3);
        d += 3;
    }
    if (bc) {
        memcpy(d, " BC", 3);
        d += 3;
    }
    return (size_t)(d - d0);
}

/* ---- the three entry points ------------------------------------------------------------------ */

/* A value read, with what lets the common case be written by copying the input: the date and
 * clock as read when they are already canonical. */
struct reading {
    int64_t value;
    const char *date;  /* YYYY-MM-DD as read, or NULL (an infinity) */
    int64_t day_start; /* the microseconds at the midnight that starts date */
    const char *clock; /* the clock as read when canonical, or NULL */
    size_t clock_len;
    int64_t clock_us; /* the time of day it says */
};

static const char *parse_date_value(const char *s, const char *end, struct reading *r)
{
    size_t n = (size_t)(end - s);
    int inf = read_infinity(s, n);
    if (inf) {
        r->value = inf > 0 ? INT64_MAX : INT64_MIN;
        return NULL;
    }
    if (n != 10)
        return date_format_why(s, end, fmt_date);
    r->date = s;
    return read_date(s, &r->value, fmt_date);
}

static const char *parse_time_value(const struct pgtype *t, const char *s, const char *end,
                                    struct reading *r)
{
    size_t n = (size_t)(end - s), used;
    bool canonical;
    const char *why = read_clock(s, n, &r->clock_us, &used, &canonical, fmt_time);
    if (why)
        return why;
    if (used < n) {
        int32_t east;
        size_t len;
        return read_offset(s + used, n - used, &east, &len, fmt_time) ? fmt_time : why_time_offset;
    }
    if (used + 1 > TIME_FIELDS_MAX)
        return why_long;
    if (canonical) {
        r->clock = s;
        r->clock_len = used;
    }
    r->value = round_to_precision(r->clock_us, t->precision);
    return NULL;
}

static const char *parse_timestamp_value(const struct pgtype *t, const struct pgtype_env *env,
                                         const char *s, const char *end, struct reading *r)
{
    size_t n = (size_t)(end - s);
    int inf = read_infinity(s, n);
    if (inf) {
        r->value = inf > 0 ? INT64_MAX : INT64_MIN;
        return NULL;
    }
    if (n < 10)
        return fmt_timestamp;
    int64_t days, tod = 0;
    const char *why = read_date(s, &days, fmt_timestamp);
    if (why)
        return why == fmt_timestamp ? date_format_why(s, end, fmt_timestamp) : why;
    bool has_offset = false;
    int32_t east = 0;
    if (n > 10) {
        char sep = s[10];
        if (sep != ' ' && sep != 'T' && sep != 't')
            return fmt_timestamp;
        size_t used, off_len = 0;
        bool canonical;
        why = read_clock(s + 11, n - 11, &tod, &used, &canonical, fmt_timestamp);
        if (why)
            return why;
        size_t rest = n - 11 - used;
        if (rest) {
            why = read_offset(s + 11 + used, rest, &east, &off_len, fmt_timestamp);
            if (why)
                return why;
            has_offset = true;
        }
        /* The server keeps each field with a terminator in a fixed buffer: the date, a 't'
         * field, the time, the offset. */
        size_t fields = (sep == ' ' ? 11u : 13u) + used + 1 + (has_offset ? off_len + 1 : 0);
        if (fields > TIMESTAMP_FIELDS_MAX)
            return why_long;
        if (canonical) {
            r->clock = s + 11;
            r->clock_len = used;
        }
    }
    r->date = s;
    r->day_start = days * USECS_PER_DAY;
    r->clock_us = tod;
    int64_t us = r->day_start + tod;
    int32_t zone = env ? env->tz_offset : 0;
    if (t->kind == PGT_TIMESTAMPTZ)
        us -= (int64_t)(has_offset ? east : zone) * USECS_PER_SEC;
    else if (has_offset)
        us += (int64_t)(zone - east) * USECS_PER_SEC;
    r->value = round_to_precision(us, t->precision);
    return NULL;
}

/* The clock of a value of the day r->date starts: copied when the input's is canonical and
 * nothing (an offset, a rounding) moved it, else written from the microseconds. */
static char *put_clock_of(char *d, const struct reading *r, int64_t tod)
{
    if (r->clock && tod == r->clock_us) {
        memcpy(d, r->clock, r->clock_len);
        return d + r->clock_len;
    }
    return put_clock(d, tod);
}

const char *pgtime_parse(const struct pgtype *t, const struct pgtype_env *env, const char *s,
                         size_t n, struct buf *out, struct pgvalue *v, char *why, size_t why_size)
{
    (void)why, (void)why_size; /* every message here is static */
    const char *end = s + n;
    while (s < end && is_space(*s))
        s++;
    while (end > s && is_space(end[-1]))
        end--;

    struct reading r = {0};
    const char *bad;
    switch (t->kind) {
    case PGT_DATE:
        bad = parse_date_value(s, end, &r);
        break;
    case PGT_TIME:
        bad = parse_time_value(t, s, end, &r);
        break;
    default:
        bad = parse_timestamp_value(t, env, s, end, &r);
        break;
    }
    if (bad)
        return bad;

    char *d = out->cap - out->len >= TIME_TEXT_MAX ? out->data + out->len
                                                   : buf_reserve(out, TIME_TEXT_MAX);
    char *e;
    int64_t value = r.value;
    if (value == INT64_MAX || value == INT64_MIN) {
        e = d + put_infinity(d, value);
    } else if (t->kind == PGT_DATE) { /* a date read is already in its canonical form */
        memcpy(d, r.date, 10);
        e = d + 10;
    } else if (t->kind == PGT_TIME) {
        e = put_clock_of(d, &r, value);
    } else if (value >= r.day_start && value - r.day_start < USECS_PER_DAY) {
        memcpy(d, r.date, 10); /* still on the day as written */
        d[10] = ' ';
        e = put_clock_of(d + 11, &r, value - r.day_start);
        if (t->kind == PGT_TIMESTAMPTZ) {
            memcpy(e, "+00", 3);
            e += 3;
        }
    } else {
        e = d + put_timestamp(d, value, t->kind == PGT_TIMESTAMPTZ);
    }
    out->len += (size_t)(e - d);
    if (v)
        v->i = value;
    return NULL;
}

int pgtime_compare(const struct pgtype *t, const struct pgvalue *a, const struct pgvalue *b)
{
    (void)t;
    return (a->i > b->i) - (a->i < b->i);
}

int pgtime_parse_zone(const char *zone, int32_t *offset_seconds)
{
    size_t n = strlen(zone), len;
    if (n == 3 && (zone[0] | 0x20) == 'u' && (zone[1] | 0x20) == 't' && (zone[2] | 0x20) == 'c') {
        *offset_seconds = 0;
        return 0;
    }
    /* Otherwise exactly what a value may carry: Z, +HH, +HHMM, +HH:MM (or '-'). */
    int32_t east;
    if (n == 0 || zone[0] == ' ' || read_offset(zone, n, &east, &len, fmt_timestamp))
        return -1;
    *offset_seconds = east;
    return 0;
}
