/*
 * validate.c - the event schema: binds a file's header, judges each data row, and writes the
 * COPY text lines for user_activity (accepted rows) and user_activity_errors (rejected rows).
 *
 * Promises:
 * - An accepted row's line loads through COPY ... FROM STDIN (text format, UTF-8) and stores
 *   exactly the value judged here: every field is strict UTF-8 without NUL, numbers are written
 *   in canonical form, timestamps are converted to UTC and written the way PostgreSQL prints a
 *   TIMESTAMP (fraction without trailing zeros), text is escaped with copy_text_escape().
 * - A rejected row gets a verdict: the code and column of the FIRST problem (structure and
 *   encoding first, then the columns in the file's header order) and a message listing every
 *   problem found, "; "-separated. Row-level problems (too long, unterminated quote, encoding,
 *   column count) stop the per-column checks.
 * - A reject line can always be loaded: fields that are not valid UTF-8 become \N, and invalid
 *   bytes in the raw line, the message and the file name are written as the text \xNN, so no
 *   input can break or end a COPY early.
 * - No allocation and no libc parsing per row: parsing is hand-written over the field bytes.
 *   Allocation happens only in schema_new() and in growing the caller's buffers.
 *
 * It does not detect duplicate event ids; that is the database layer's job.
 */
#include "validate.h"

#include "copy_text.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TEXT_BYTES 50       /* event_id, session_id: VARCHAR(50) */
#define MAX_EVENT_TYPE_BYTES 20 /* event_type: VARCHAR(20) */
#define INT_MAX_VALUE 2147483647ULL
#define PRICE_LIMIT_UNITS 100000000ULL /* DECIMAL(10,2): whole part below 10^8 */
#define MSG_VALUE_BYTES 60             /* how much of a bad value a message quotes */

struct schema {
    char **types; /* allowed event_type values */
    size_t *type_lens;
    size_t ntypes;
    char *types_list; /* the same, comma-joined, for messages */

    bool bound;
    size_t header_fields;
    size_t pos[COL_COUNT];               /* header position of each required column */
    enum schema_column order[COL_COUNT]; /* required columns sorted by header position */
};

static const char *const reject_names[REJECT_CODE_COUNT] = {
    [REJECT_NONE] = "none",
    [REJECT_MISSING_FIELD] = "missing_field",
    [REJECT_BAD_VALUE] = "bad_value",
    [REJECT_RULE_VIOLATION] = "rule_violation",
    [REJECT_WRONG_COLUMN_COUNT] = "wrong_column_count",
    [REJECT_BAD_ENCODING] = "bad_encoding",
    [REJECT_UNTERMINATED_QUOTE] = "unterminated_quote",
    [REJECT_ROW_TOO_LONG] = "row_too_long",
    [REJECT_DUPLICATE_KEY] = "duplicate_key",
    [REJECT_BAD_HEADER] = "bad_header",
    [REJECT_BAD_FILE] = "bad_file",
    [REJECT_DB_REJECTED] = "db_rejected",
};

static const char *const column_names[COL_COUNT] = {
    [COL_EVENT_ID] = "event_id",     [COL_EVENT_TIME] = "event_time",
    [COL_EVENT_TYPE] = "event_type", [COL_PRODUCT_ID] = "product_id",
    [COL_PRICE] = "price",           [COL_USER_ID] = "user_id",
    [COL_SESSION_ID] = "session_id",
};

const char *reject_code_name(enum reject_code code)
{
    if ((unsigned)code >= REJECT_CODE_COUNT)
        return "unknown";
    return reject_names[code];
}

const char *schema_column_name(enum schema_column col)
{
    if ((unsigned)col >= COL_COUNT)
        return "unknown";
    return column_names[col];
}

/* Write v in decimal to dst; returns the new end. */
static char *put_uint(char *dst, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *dst++ = tmp[--n];
    return dst;
}

static char *put_2digits(char *dst, unsigned v)
{
    dst[0] = (char)('0' + v / 10);
    dst[1] = (char)('0' + v % 10);
    return dst + 2;
}

/* ---- schema lifecycle ----------------------------------------------------------------------- */

struct schema *schema_new(const char *event_types)
{
    if (!event_types)
        return NULL;
    struct schema *s = xcalloc(1, sizeof(*s));
    size_t len = strlen(event_types);
    size_t cap = 1;
    for (size_t i = 0; i < len; i++)
        cap += event_types[i] == ',';
    s->types = xcalloc(cap, sizeof(*s->types));
    s->type_lens = xcalloc(cap, sizeof(*s->type_lens));
    s->types_list = xmalloc(len + 1);
    size_t list_len = 0;

    const char *p = event_types;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(event_types + len - p));
        const char *end = comma ? comma : event_types + len;
        /* spaces around an item are separators, not part of the value */
        const char *a = p, *b = end;
        while (a < b && *a == ' ')
            a++;
        while (b > a && b[-1] == ' ')
            b--;
        size_t n = (size_t)(b - a);
        if (n == 0 || n > MAX_EVENT_TYPE_BYTES || utf8_check(a, n) != n)
            goto fail;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)a[i] < 0x20 || a[i] == 0x7f)
                goto fail;
        s->types[s->ntypes] = xmalloc(n + 1);
        memcpy(s->types[s->ntypes], a, n);
        s->types[s->ntypes][n] = '\0';
        s->type_lens[s->ntypes] = n;
        s->ntypes++;
        if (list_len)
            s->types_list[list_len++] = ',';
        memcpy(s->types_list + list_len, a, n);
        list_len += n;
        if (!comma)
            break;
        p = comma + 1;
    }
    s->types_list[list_len] = '\0';
    return s;

fail:
    schema_free(s);
    return NULL;
}

void schema_free(struct schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ntypes; i++)
        free(s->types[i]);
    free(s->types);
    free(s->type_lens);
    free(s->types_list);
    free(s);
}

/* ---- verdict messages ----------------------------------------------------------------------- */

/* Message text being built in v->message; stays valid UTF-8 and NUL-terminated throughout. */
struct msg {
    struct verdict *v;
    size_t len;
    bool full;
};

static void msg_start(struct msg *m, struct verdict *v)
{
    m->v = v;
    m->len = 0;
    m->full = false;
    v->code = REJECT_NONE;
    v->column = -1;
    v->message[0] = '\0';
}

/* Append s[0..n) (valid UTF-8). What does not fit is cut at a character boundary and marked
 * with "..."; nothing is appended after that. */
static void msg_append(struct msg *m, const char *s, size_t n)
{
    if (m->full)
        return;
    size_t room = sizeof(m->v->message) - 1 - m->len;
    if (n > room) {
        size_t k = room >= 3 ? room - 3 : 0;
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
        memcpy(m->v->message + m->len, s, k);
        m->len += k;
        size_t dots = room - k < 3 ? room - k : 3;
        memcpy(m->v->message + m->len, "...", dots);
        m->len += dots;
        m->full = true;
    } else {
        memcpy(m->v->message + m->len, s, n);
        m->len += n;
    }
    m->v->message[m->len] = '\0';
}

/* Record one problem: the first one sets the verdict's code and column, each adds its text. */
static void msg_problem(struct msg *m, enum reject_code code, int column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void msg_problem(struct msg *m, enum reject_code code, int column, const char *fmt, ...)
{
    char tmp[sizeof(m->v->message)];
    if (m->v->code == REJECT_NONE) {
        m->v->code = code;
        m->v->column = column;
    } else {
        msg_append(m, "; ", 2);
    }
    if (column >= 0) {
        const char *name = column_names[column];
        msg_append(m, name, strlen(name));
        msg_append(m, ": ", 2);
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1;
    /* vsnprintf may have cut a character: keep only whole ones */
    len = utf8_check(tmp, len);
    msg_append(m, tmp, len);
}

/* A value as a message shows it: 'text' (or bare, for well-formed numbers), cut at a character
 * boundary with "..." when long. s must be valid UTF-8 (row-level checks run first). */
struct quoted {
    char text[MSG_VALUE_BYTES + 8];
};

static const char *show_value(struct quoted *q, const char *s, size_t n, bool quotes)
{
    size_t k = n;
    bool cut = false;
    if (k > MSG_VALUE_BYTES) {
        k = MSG_VALUE_BYTES;
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
        cut = true;
    }
    char *d = q->text;
    if (quotes)
        *d++ = '\'';
    memcpy(d, s, k);
    d += k;
    if (cut) {
        memcpy(d, "...", 3);
        d += 3;
    }
    if (quotes)
        *d++ = '\'';
    *d = '\0';
    return q->text;
}

static const char *quote_value(struct quoted *q, const char *s, size_t n)
{
    return show_value(q, s, n, true);
}

/* ---- header binding ------------------------------------------------------------------------- */

int schema_bind_header(struct schema *s, const struct csv_row *header, struct verdict *v)
{
    struct msg m;
    msg_start(&m, v);
    s->bound = false;

    if (header->status == CSV_ROW_TOO_LONG) {
        msg_problem(&m, REJECT_BAD_HEADER, -1, "header row is longer than the row size limit");
        return -1;
    }
    if (header->status == CSV_ROW_UNTERMINATED_QUOTE) {
        msg_problem(&m, REJECT_BAD_HEADER, -1, "header row has an unterminated quoted field");
        return -1;
    }
    size_t bad = utf8_check(header->raw, header->raw_len);
    if (bad < header->raw_len) {
        if (header->raw[bad] == '\0')
            msg_problem(&m, REJECT_BAD_HEADER, -1, "header row has a NUL byte at offset %zu", bad);
        else
            msg_problem(&m, REJECT_BAD_HEADER, -1,
                        "header row is not valid UTF-8 (bad byte 0x%02x at offset %zu)",
                        (unsigned char)header->raw[bad], bad);
        return -1;
    }

    size_t pos[COL_COUNT];
    for (int c = 0; c < COL_COUNT; c++)
        pos[c] = SIZE_MAX;
    for (size_t i = 0; i < header->nfields; i++) {
        const char *name = header->fields[i];
        size_t n = header->lengths[i];
        if (i == 0 && n >= 3 && memcmp(name, "\xEF\xBB\xBF", 3) == 0) {
            name += 3; /* a BOM the reader did not strip */
            n -= 3;
        }
        for (int c = 0; c < COL_COUNT; c++) {
            if (n != strlen(column_names[c]) || memcmp(name, column_names[c], n) != 0)
                continue;
            if (pos[c] != SIZE_MAX)
                msg_problem(&m, REJECT_BAD_HEADER, -1, "duplicate column '%s' (fields %zu and %zu)",
                            column_names[c], pos[c] + 1, i + 1);
            else
                pos[c] = i;
            break;
        }
    }
    for (int c = 0; c < COL_COUNT; c++)
        if (pos[c] == SIZE_MAX)
            msg_problem(&m, REJECT_BAD_HEADER, -1, "missing required column '%s'", column_names[c]);
    if (v->code != REJECT_NONE)
        return -1;

    /* order: the required columns in header order (insertion sort of seven) */
    for (int c = 0; c < COL_COUNT; c++) {
        int k = c;
        while (k > 0 && pos[s->order[k - 1]] > pos[c]) {
            s->order[k] = s->order[k - 1];
            k--;
        }
        s->order[k] = (enum schema_column)c;
    }
    memcpy(s->pos, pos, sizeof(pos));
    s->header_fields = header->nfields;
    s->bound = true;
    return 0;
}

/* ---- field parsers -------------------------------------------------------------------------- */

static inline bool is_digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

/*
 * A positive INTEGER: [+-]digits. Returns REJECT_NONE with *out set, REJECT_BAD_VALUE for a
 * non-integer or a value above 2147483647, REJECT_RULE_VIOLATION for a value <= 0.
 */
static enum reject_code parse_id(const char *s, size_t n, uint32_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        return REJECT_BAD_VALUE;
    uint64_t v = 0;
    bool huge = false;
    for (; i < n; i++) {
        if (!is_digit(s[i]))
            return REJECT_BAD_VALUE;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > INT_MAX_VALUE) {
            huge = true;
            v = INT_MAX_VALUE + 1; /* keeps accumulating in range */
        }
    }
    if (neg || v == 0)
        return REJECT_RULE_VIOLATION;
    if (huge)
        return REJECT_BAD_VALUE;
    *out = (uint32_t)v;
    return REJECT_NONE;
}

/*
 * A price: [+-]digits[.digits] with at most 2 fractional digits (".5" and "5." allowed, at least
 * one digit). Returns REJECT_NONE with *cents set, REJECT_BAD_VALUE for a malformed value, more
 * than 2 fractional digits or a value >= 100000000, REJECT_RULE_VIOLATION for a value <= 0.
 */
static enum reject_code parse_price(const char *s, size_t n, uint64_t *cents, const char **why)
{
    size_t i = 0;
    bool neg = false;
    if (n && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    uint64_t units = 0;
    size_t ndigits = 0;
    bool huge = false;
    for (; i < n && is_digit(s[i]); i++, ndigits++) {
        units = units * 10 + (uint64_t)(s[i] - '0');
        if (units >= PRICE_LIMIT_UNITS) {
            huge = true;
            units = PRICE_LIMIT_UNITS;
        }
    }
    unsigned frac = 0;
    size_t nfrac = 0;
    if (i < n && s[i] == '.') {
        for (i++; i < n && is_digit(s[i]); i++, nfrac++)
            if (nfrac < 2)
                frac = frac * 10 + (unsigned)(s[i] - '0');
    }
    if (i != n || ndigits + nfrac == 0) {
        *why = "not a decimal number";
        return REJECT_BAD_VALUE;
    }
    if (nfrac > 2) {
        *why = "more than 2 decimal places";
        return REJECT_BAD_VALUE;
    }
    if (nfrac == 1)
        frac *= 10;
    if (neg || (units == 0 && frac == 0)) {
        *why = "must be > 0";
        return REJECT_RULE_VIOLATION;
    }
    if (huge) {
        *why = "must be < 100000000";
        return REJECT_BAD_VALUE;
    }
    *cents = units * 100 + frac;
    return REJECT_NONE;
}

static bool is_leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Two ASCII digits at s as a number, or -1. */
static inline int two_digits(const char *s)
{
    if (!is_digit(s[0]) || !is_digit(s[1]))
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

#define TIME_TEXT_MAX 27 /* "YYYY-MM-DD HH:MM:SS.ffffff" + NUL */

/*
 * A timestamp: YYYY-MM-DD[ T]HH:MM:SS[.f{1,6}][Z|+HH:MM|-HH:MM], a real date and time in years
 * 0001..9999 before and after conversion to UTC. On success writes the UTC value as PostgreSQL
 * prints a TIMESTAMP (fraction without trailing zeros) to out and returns its length; returns 0
 * with *why set otherwise (always a bad_value).
 */
static size_t parse_time(const char *s, size_t n, char out[TIME_TEXT_MAX], const char **why)
{
    static const char *const format =
        "not a timestamp (expected YYYY-MM-DD HH:MM:SS[.ffffff][Z|+HH:MM|-HH:MM])";
    *why = format;
    if (n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' ||
        s[16] != ':')
        return 0;
    int y1 = two_digits(s), y2 = two_digits(s + 2), mo = two_digits(s + 5), d = two_digits(s + 8);
    int h = two_digits(s + 11), mi = two_digits(s + 14), se = two_digits(s + 17);
    if ((y1 | y2 | mo | d | h | mi | se) < 0)
        return 0;
    size_t i = 19;
    const char *frac = NULL;
    size_t nfrac = 0;
    if (i < n && s[i] == '.') {
        frac = s + ++i;
        while (i < n && is_digit(s[i]))
            i++;
        nfrac = (size_t)(s + i - frac);
        if (nfrac == 0)
            return 0;
        if (nfrac > 6) {
            *why = "more than 6 fractional second digits";
            return 0;
        }
    }
    int offset = 0; /* minutes east of UTC */
    if (i < n && s[i] == 'Z') {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        if (n - i < 6 || s[i + 3] != ':')
            return 0;
        int oh = two_digits(s + i + 1), om = two_digits(s + i + 4);
        if (oh < 0 || om < 0)
            return 0;
        if (oh > 15 || om > 59) {
            *why = "UTC offset out of range (at most +/-15:59)";
            return 0;
        }
        offset = oh * 60 + om;
        if (s[i] == '-')
            offset = -offset;
        i += 6;
    }
    if (i != n)
        return 0;

    unsigned year = (unsigned)(y1 * 100 + y2);
    unsigned month = (unsigned)mo, day = (unsigned)d;
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
        h > 23 || mi > 59 || se > 59) {
        *why = "no such date or time";
        return 0;
    }
    if (offset) {
        int minutes = h * 60 + mi - offset;
        if (minutes < 0) {
            minutes += 1440;
            if (--day == 0) {
                if (--month == 0) {
                    month = 12;
                    year--;
                }
                day = days_in_month(year ? year : 4, month); /* year 0 is rejected below */
            }
        } else if (minutes >= 1440) {
            minutes -= 1440;
            if (++day > days_in_month(year, month)) {
                day = 1;
                if (++month > 12) {
                    month = 1;
                    year++;
                }
            }
        }
        h = minutes / 60;
        mi = minutes % 60;
        if (year < 1 || year > 9999) {
            *why = "outside years 0001..9999 in UTC";
            return 0;
        }
    }
    while (nfrac > 0 && frac[nfrac - 1] == '0')
        nfrac--;

    char *o = out;
    o = put_2digits(o, year / 100);
    o = put_2digits(o, year % 100);
    *o++ = '-';
    o = put_2digits(o, month);
    *o++ = '-';
    o = put_2digits(o, day);
    *o++ = ' ';
    o = put_2digits(o, (unsigned)h);
    *o++ = ':';
    o = put_2digits(o, (unsigned)mi);
    *o++ = ':';
    o = put_2digits(o, (unsigned)se);
    if (nfrac) {
        *o++ = '.';
        memcpy(o, frac, nfrac);
        o += nfrac;
    }
    *o = '\0';
    return (size_t)(o - out);
}

/* ---- row validation ------------------------------------------------------------------------- */

bool schema_validate_row(const struct schema *s, const struct csv_row *row, struct buf *copy_out,
                         struct verdict *v)
{
    struct msg m;
    struct quoted q;
    msg_start(&m, v);

    if (!s->bound) {
        msg_problem(&m, REJECT_BAD_HEADER, -1, "no header bound");
        return false;
    }
    if (row->status == CSV_ROW_TOO_LONG) {
        msg_problem(&m, REJECT_ROW_TOO_LONG, -1,
                    "row is longer than the row size limit (%zu bytes)", row->raw_len);
        return false;
    }
    if (row->status == CSV_ROW_UNTERMINATED_QUOTE) {
        msg_problem(&m, REJECT_UNTERMINATED_QUOTE, -1,
                    "quoted field not closed before the end of the file");
        return false;
    }
    size_t bad = utf8_check(row->raw, row->raw_len);
    if (bad < row->raw_len) {
        if (row->raw[bad] == '\0')
            msg_problem(&m, REJECT_BAD_ENCODING, -1, "NUL byte at offset %zu", bad);
        else
            msg_problem(&m, REJECT_BAD_ENCODING, -1,
                        "not valid UTF-8 (bad byte 0x%02x at offset %zu)",
                        (unsigned char)row->raw[bad], bad);
    }
    if (row->nfields != s->header_fields)
        msg_problem(&m, REJECT_WRONG_COLUMN_COUNT, -1, "expected %zu fields, got %zu",
                    s->header_fields, row->nfields);
    if (v->code != REJECT_NONE)
        return false;

    const char *text[COL_COUNT];
    size_t text_len[COL_COUNT];
    char time_text[TIME_TEXT_MAX];
    size_t time_len = 0;
    uint32_t product_id = 0, user_id = 0;
    uint64_t cents = 0;

    for (int k = 0; k < COL_COUNT; k++) {
        enum schema_column col = s->order[k];
        const char *f = row->fields[s->pos[col]];
        size_t n = row->lengths[s->pos[col]];
        text[col] = f;
        text_len[col] = n;
        if (n == 0) {
            if (col != COL_SESSION_ID)
                msg_problem(&m, REJECT_MISSING_FIELD, (int)col, "required value is empty");
            continue;
        }
        enum reject_code rc;
        const char *why;
        switch (col) {
        case COL_EVENT_ID:
        case COL_SESSION_ID:
            if (n > MAX_TEXT_BYTES)
                msg_problem(&m, REJECT_BAD_VALUE, (int)col, "longer than %d bytes (got %zu)",
                            MAX_TEXT_BYTES, n);
            break;
        case COL_EVENT_TIME:
            time_len = parse_time(f, n, time_text, &why);
            if (time_len == 0)
                msg_problem(&m, REJECT_BAD_VALUE, (int)col, "%s (got %s)", why,
                            quote_value(&q, f, n));
            break;
        case COL_EVENT_TYPE: {
            size_t t = 0;
            while (t < s->ntypes && (s->type_lens[t] != n || memcmp(s->types[t], f, n) != 0))
                t++;
            if (t == s->ntypes)
                msg_problem(&m, REJECT_RULE_VIOLATION, (int)col, "%s is not one of %s",
                            quote_value(&q, f, n), s->types_list);
            break;
        }
        case COL_PRODUCT_ID:
        case COL_USER_ID:
            rc = parse_id(f, n, col == COL_PRODUCT_ID ? &product_id : &user_id);
            if (rc == REJECT_RULE_VIOLATION)
                msg_problem(&m, rc, (int)col, "must be > 0 (got %s)", show_value(&q, f, n, false));
            else if (rc == REJECT_BAD_VALUE)
                msg_problem(&m, rc, (int)col, "not an integer in 1..2147483647 (got %s)",
                            quote_value(&q, f, n));
            break;
        case COL_PRICE:
            rc = parse_price(f, n, &cents, &why);
            if (rc != REJECT_NONE)
                msg_problem(&m, rc, (int)col, "%s (got %s)", why,
                            show_value(&q, f, n, rc != REJECT_RULE_VIOLATION));
            break;
        case COL_COUNT:
            break;
        }
    }
    if (v->code != REJECT_NONE)
        return false;

    /* Worst case: two 50-byte texts and a 20-byte type all escaped, the numbers, separators. */
    char *d0 = buf_reserve(copy_out, 2 * (MAX_TEXT_BYTES * 2 + MAX_EVENT_TYPE_BYTES) + 96);
    char *d = copy_text_escape_to(d0, text[COL_EVENT_ID], text_len[COL_EVENT_ID]);
    *d++ = '\t';
    memcpy(d, time_text, time_len);
    d += time_len;
    *d++ = '\t';
    d = copy_text_escape_to(d, text[COL_EVENT_TYPE], text_len[COL_EVENT_TYPE]);
    *d++ = '\t';
    d = put_uint(d, product_id);
    *d++ = '\t';
    d = put_uint(d, cents / 100);
    *d++ = '.';
    d = put_2digits(d, (unsigned)(cents % 100));
    *d++ = '\t';
    d = put_uint(d, user_id);
    *d++ = '\t';
    if (text_len[COL_SESSION_ID] == 0) {
        *d++ = '\\';
        *d++ = 'N';
    } else {
        d = copy_text_escape_to(d, text[COL_SESSION_ID], text_len[COL_SESSION_ID]);
    }
    *d++ = '\n';
    copy_out->len += (size_t)(d - d0);
    return true;
}

/* ---- reject lines --------------------------------------------------------------------------- */

void schema_encode_reject(const struct schema *s, const struct csv_row *row,
                          const struct verdict *v, const char *source_file, struct buf *out)
{
    bool have_fields = s && s->bound && row->status == CSV_ROW_OK;

    for (int c = 0; c < COL_COUNT; c++) {
        size_t p = have_fields ? s->pos[c] : SIZE_MAX;
        if (p < row->nfields && utf8_check(row->fields[p], row->lengths[p]) == row->lengths[p])
            copy_text_escape(out, row->fields[p], row->lengths[p]);
        else
            buf_append(out, "\\N", 2);
        buf_putc(out, '\t');
    }
    const char *code = reject_code_name(v->code);
    buf_append(out, code, strlen(code));
    buf_putc(out, '\t');
    if (v->column >= 0 && v->column < COL_COUNT) {
        const char *col = column_names[v->column];
        buf_append(out, col, strlen(col));
    } else {
        buf_append(out, "\\N", 2);
    }
    buf_putc(out, '\t');
    copy_text_sanitized(out, v->message, strnlen(v->message, sizeof(v->message)));
    buf_putc(out, '\t');
    if (source_file)
        copy_text_sanitized(out, source_file, strlen(source_file));
    else
        buf_append(out, "\\N", 2);
    buf_putc(out, '\t');
    char *d = buf_reserve(out, 24);
    out->len += (size_t)(put_uint(d, row->line) - d);
    buf_putc(out, '\t');
    copy_text_sanitized(out, row->raw, row->raw_len);
    buf_putc(out, '\n');
}
