/*
 * pgtype_text.c - the text family: text, varchar(n), char(n) (bpchar), json, jsonb and enums,
 * judged the way PostgreSQL 15's input functions judge them in a UTF-8 database.
 *
 * Promises, for a field that is valid UTF-8 without NUL (the row validator checks that before
 * any field gets here, so nothing here decodes UTF-8 again beyond counting characters):
 *   - text and unbounded varchar/bpchar take every field as it is;
 *   - varchar(n) and char(n) count characters, not bytes; a longer field is refused unless
 *     everything past the n-th character is spaces, which are then cut off (as varchar_input and
 *     bpchar_input do); char(n) is padded by the server, so the COPY text carries the cut value;
 *   - json follows PostgreSQL's grammar (json_lex and friends): whitespace is space, tab, LF and
 *     CR only; numbers are -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? and may not run into a
 *     letter, digit, '_' or non-ASCII character; strings refuse control characters and any escape
 *     but \" \\ \/ \b \f \n \r \t \uXXXX; json keeps the text, so \u0000 and unpaired surrogates
 *     pass, as json_in lets them;
 *   - jsonb refuses in addition what jsonb_in refuses: \u0000, surrogates that do not pair, and
 *     numbers numeric cannot hold (more than 16383 digits after the point, a first digit past
 *     10^131071, an exponent of 2^30-1 or more either way);
 *   - nesting deeper than PGTEXT_JSON_MAX_DEPTH (1000) is refused: a deliberately stricter rule.
 *     PostgreSQL has no limit of its own but its stack (about 14,500 levels with the default
 *     max_stack_depth of 2MB, far fewer if an administrator lowers it), so a fixed bound below
 *     any realistic setting keeps sluice from accepting what the server would refuse. The parser
 *     never recurses: its stack is one bit a level, on the C stack;
 *   - a jsonb document longer than PGTEXT_JSONB_MAX_BYTES (32 MiB) is refused, also stricter:
 *     jsonb_in builds the whole value in memory first and gives up on a container of more than
 *     2^24 elements (its array of them would pass 1 GB) and on a binary form past 256 MiB, which
 *     can be six times the text ("[0,0,...]"); below 32 MiB of text neither can happen;
 *   - an enum takes exactly one of its labels, case and spaces included (enum_in).
 * Nothing is allocated per value. The value handed back points into the field (or, for an enum,
 * at the label): text and varchar as stored, char(n) without its trailing spaces (the
 * comparisons and length() of bpchar ignore them), json and jsonb as written.
 */
#include "pgtype_impl.h"

#include "copy_text.h"
#include "utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define PGTEXT_JSON_MAX_DEPTH 1000
#define PGTEXT_JSONB_MAX_BYTES ((size_t)32 << 20)

/* jsonb keeps numbers as numeric; numeric_in and make_result refuse beyond these. */
#define NUMERIC_DSCALE_MAX 16383            /* digits after the point (NUMERIC_DSCALE_MASK) */
#define NUMERIC_FIRST_DIGIT_MAX 131071      /* 4 * 32767 + 3: the int16 weight in base 10000 */
#define NUMERIC_EXPONENT_LIMIT 1073741823LL /* INT_MAX / 2: this or more either way is refused */

static bool is_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* Characters in s[0..n), which is valid UTF-8. */
static size_t utf8_chars(const char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        chars += !is_continuation((unsigned char)s[i]);
    return chars;
}

/* Byte length of the first max characters of s[0..n) (all of it when it is shorter). */
static size_t utf8_clip(const char *s, size_t n, size_t max)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        if (!is_continuation((unsigned char)s[i]) && chars++ == max)
            return i;
    return n;
}

/* varchar(n) and char(n): *keep is how many bytes of s the stored value holds. */
static const char *text_fit(const struct pgtype *t, const char *s, size_t n, size_t *keep,
                            char *why, size_t why_size)
{
    *keep = n;
    if (t->length < 0 || n <= (size_t)t->length) /* fewer bytes than n, so fewer characters */
        return NULL;
    size_t clip = utf8_clip(s, n, (size_t)t->length);
    size_t i = clip;
    while (i < n && s[i] == ' ')
        i++;
    if (i < n) {
        snprintf(why, why_size, "longer than %d character%s (got %zu)", t->length,
                 t->length == 1 ? "" : "s", (size_t)t->length + utf8_chars(s + clip, n - clip));
        return why;
    }
    *keep = clip;
    return NULL;
}

/* ---- json ---------------------------------------------------------------------------- */

struct json_scan {
    const unsigned char *s;
    size_t n;
    size_t i;   /* the next byte */
    bool jsonb; /* refuse what jsonb_in refuses beyond the grammar */
    const char *what;
    size_t at; /* where the trouble is */
};

static bool json_fail(struct json_scan *js, const char *what, size_t at)
{
    js->what = what;
    js->at = at;
    return false;
}

static void json_skip_space(struct json_scan *js)
{
    while (js->i < js->n) {
        unsigned char c = js->s[js->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        js->i++;
    }
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* What PostgreSQL's lexer takes as part of a word or number: letters, digits, '_' and every
 * byte of a non-ASCII character. */
static bool is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c >= 0x80;
}

/* A string at s[i] == '"'; on success i is past the closing quote. */
static bool json_string(struct json_scan *js)
{
    const unsigned char *s = js->s;
    size_t start = js->i, i = start + 1;
    size_t high_at = 0; /* where an unpaired high surrogate began (jsonb), or 0 */
    for (;;) {
        size_t run = i;
        while (i < js->n && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\')
            i++;
        if (i > run && high_at)
            return json_fail(js, "unpaired surrogate", high_at);
        if (i >= js->n)
            return json_fail(js, "string not closed", start);
        unsigned char c = s[i];
        if (c == '"')
            break;
        if (c != '\\')
            return json_fail(js, "control character in a string", i);
        if (i + 1 >= js->n)
            return json_fail(js, "string not closed", start);
        unsigned char e = s[i + 1];
        if (e != 'u') {
            if (!strchr("\"\\/bfnrt", e))
                return json_fail(js, "bad escape", i);
            if (high_at)
                return json_fail(js, "unpaired surrogate", high_at);
            i += 2;
            continue;
        }
        unsigned code = 0;
        for (size_t k = 2; k < 6; k++) {
            int h = i + k < js->n ? hex_digit_value(s[i + k]) : -1;
            if (h < 0)
                return json_fail(js, "bad \\u escape", i);
            code = code * 16 + (unsigned)h;
        }
        if (js->jsonb) {
            if (code >= 0xD800 && code <= 0xDBFF) {
                if (high_at)
                    return json_fail(js, "unpaired surrogate", high_at);
                high_at = i;
            } else if (code >= 0xDC00 && code <= 0xDFFF) {
                if (!high_at)
                    return json_fail(js, "unpaired surrogate", i);
                high_at = 0;
            } else if (high_at) {
                return json_fail(js, "unpaired surrogate", high_at);
            } else if (code == 0) {
                return json_fail(js, "\\u0000 cannot be stored in jsonb", i);
            }
        }
        i += 6;
    }
    if (high_at)
        return json_fail(js, "unpaired surrogate", high_at);
    js->i = i + 1;
    return true;
}

/* Can numeric hold the number whose digits before the point are s[ip..ip+il), after it
 * s[fp..fp+fl), with exponent exp (saturated)? As numeric_in and make_result decide. */
static bool numeric_fits(const unsigned char *s, size_t ip, size_t il, size_t fp, size_t fl,
                         int64_t exp)
{
    if (exp >= NUMERIC_EXPONENT_LIMIT || exp <= -NUMERIC_EXPONENT_LIMIT)
        return false;
    int64_t dscale = (int64_t)fl - exp;
    if (dscale > NUMERIC_DSCALE_MAX)
        return false;
    int64_t first; /* power of ten of the first digit that is not zero */
    if (s[ip] != '0') {
        first = (int64_t)il - 1 + exp;
    } else {
        size_t k = 0;
        while (k < fl && s[fp + k] == '0')
            k++;
        if (k == fl)
            return true; /* zero: always weight 0 */
        first = exp - (int64_t)k - 1;
    }
    return first <= NUMERIC_FIRST_DIGIT_MAX;
}

/* A number at s[i] ('-' or a digit). */
static bool json_number(struct json_scan *js)
{
    const unsigned char *s = js->s;
    size_t n = js->n, start = js->i, i = start;
    bool ok = true;
    if (s[i] == '-')
        i++;
    size_t ip = i;
    if (i < n && s[i] == '0')
        i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9')
        while (i < n && is_digit(s[i]))
            i++;
    else
        ok = false;
    size_t il = i - ip, fp = i, fl = 0;
    if (i < n && s[i] == '.') {
        fp = ++i;
        while (i < n && is_digit(s[i]))
            i++;
        fl = i - fp;
        ok = ok && fl > 0;
    }
    int64_t exp = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool negative = false;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            negative = s[i++] == '-';
        size_t ep = i;
        for (; i < n && is_digit(s[i]); i++)
            if (exp < NUMERIC_EXPONENT_LIMIT)
                exp = exp * 10 + (s[i] - '0');
        ok = ok && i > ep;
        if (negative)
            exp = -exp;
    }
    while (i < n && is_word_byte(s[i])) { /* "12ab", "1.5x", "0123": one bad token */
        ok = false;
        i++;
    }
    if (!ok)
        return json_fail(js, "bad number", start);
    if (js->jsonb && !numeric_fits(s, ip, il, fp, fl, exp))
        return json_fail(js, "number out of jsonb's range", start);
    js->i = i;
    return true;
}

/* true, false or null at s[i]; anything else there is an error. */
static bool json_word(struct json_scan *js)
{
    const unsigned char *s = js->s;
    size_t start = js->i, i = start;
    while (i < js->n && is_word_byte(s[i]))
        i++;
    size_t len = i - start;
    if (len == 0)
        return json_fail(js, "unexpected character", start);
    if (!((len == 4 && (memcmp(s + start, "true", 4) == 0 || memcmp(s + start, "null", 4) == 0)) ||
          (len == 5 && memcmp(s + start, "false", 5) == 0)))
        return json_fail(js, "unexpected word", start);
    js->i = i;
    return true;
}

/* A whole document. The nesting is kept as one bit a level (1 = object), so the parser is a
 * loop over three states, never a recursion. */
static bool json_document(struct json_scan *js)
{
    uint64_t objects[(PGTEXT_JSON_MAX_DEPTH + 63) / 64] = {0};
    size_t depth = 0;
    enum { WANT_VALUE, WANT_KEY, AFTER_VALUE } state = WANT_VALUE;
    for (;;) {
        json_skip_space(js);
        size_t i = js->i;
        unsigned char c = i < js->n ? js->s[i] : 0;
        if (state == WANT_VALUE) {
            if (i >= js->n)
                return json_fail(js, "input ended early", i);
            if (c == '{' || c == '[') {
                if (depth == PGTEXT_JSON_MAX_DEPTH)
                    return json_fail(js, "nested deeper than 1000 levels", i);
                uint64_t bit = (uint64_t)1 << (depth % 64);
                if (c == '{')
                    objects[depth / 64] |= bit;
                else
                    objects[depth / 64] &= ~bit;
                depth++;
                js->i++;
                json_skip_space(js);
                if (js->i < js->n && js->s[js->i] == (c == '{' ? '}' : ']')) {
                    js->i++;
                    depth--;
                    state = AFTER_VALUE;
                } else {
                    state = c == '{' ? WANT_KEY : WANT_VALUE;
                }
                continue;
            }
            bool ok = c == '"'                  ? json_string(js)
                      : c == '-' || is_digit(c) ? json_number(js)
                                                : json_word(js);
            if (!ok)
                return false;
            state = AFTER_VALUE;
        } else if (state == WANT_KEY) {
            if (i >= js->n)
                return json_fail(js, "input ended early", i);
            if (c != '"')
                return json_fail(js, "expected a string key", i);
            if (!json_string(js))
                return false;
            json_skip_space(js);
            if (js->i >= js->n)
                return json_fail(js, "input ended early", js->i);
            if (js->s[js->i] != ':')
                return json_fail(js, "expected ':'", js->i);
            js->i++;
            state = WANT_VALUE;
        } else {
            if (depth == 0) {
                if (i < js->n)
                    return json_fail(js, "unexpected characters after the value", i);
                return true;
            }
            if (i >= js->n)
                return json_fail(js, "input ended early", i);
            bool object = (objects[(depth - 1) / 64] >> ((depth - 1) % 64)) & 1;
            if (c == ',') {
                js->i++;
                state = object ? WANT_KEY : WANT_VALUE;
            } else if (c == (object ? '}' : ']')) {
                js->i++;
                depth--;
            } else {
                return json_fail(js, object ? "expected ',' or '}'" : "expected ',' or ']'", i);
            }
        }
    }
}

static const char *json_parse(bool jsonb, const char *s, size_t n, char *why, size_t why_size)
{
    struct json_scan js = {.s = (const unsigned char *)s, .n = n, .jsonb = jsonb};
    if (jsonb && n > PGTEXT_JSONB_MAX_BYTES) {
        snprintf(why, why_size, "not valid jsonb: longer than %zu bytes (got %zu)",
                 PGTEXT_JSONB_MAX_BYTES, n);
        return why;
    }
    if (json_document(&js))
        return NULL;
    snprintf(why, why_size, "not valid %s: %s at offset %zu", jsonb ? "jsonb" : "JSON", js.what,
             js.at);
    return why;
}

/* ---- enum ---------------------------------------------------------------------------- */

static const char *enum_parse(const struct pgtype *t, const char *s, size_t n, struct pgvalue *v,
                              char *why, size_t why_size)
{
    for (size_t k = 0; k < t->nlabels; k++) {
        const char *label = t->labels[k];
        if (strlen(label) == n && memcmp(label, s, n) == 0) {
            v->i = (int64_t)k;
            v->text = label;
            v->len = n;
            return NULL;
        }
    }
    /* "not one of the enum's labels: a, b, c", cut short with "..." when it does not fit */
    int w = snprintf(why, why_size, "not one of the enum's labels:");
    size_t used = w > 0 ? (size_t)w : 0;
    for (size_t k = 0; k < t->nlabels && used < why_size; k++) {
        size_t need = strlen(t->labels[k]) + 2;
        if (used + need + 5 > why_size) {
            snprintf(why + used, why_size - used, " ...");
            break;
        }
        w = snprintf(why + used, why_size - used, "%s %s", k ? "," : "", t->labels[k]);
        used += w > 0 ? (size_t)w : 0;
    }
    return why;
}

/* ---- the family's entry points -------------------------------------------------------- */

const char *pgtext_parse(const struct pgtype *t, const char *s, size_t n, struct buf *out,
                         struct pgvalue *v, char *why, size_t why_size)
{
    const char *bad = NULL;
    size_t keep = n;
    switch (t->kind) {
    case PGT_VARCHAR:
    case PGT_BPCHAR:
        bad = text_fit(t, s, n, &keep, why, why_size);
        break;
    case PGT_JSON:
    case PGT_JSONB:
        bad = json_parse(t->kind == PGT_JSONB, s, n, why, why_size);
        break;
    case PGT_ENUM:
        bad = enum_parse(t, s, n, v, why, why_size);
        break;
    default:
        break;
    }
    if (bad)
        return bad;
    copy_text_escape(out, s, keep);
    if (t->kind == PGT_ENUM)
        return NULL;
    v->text = s;
    v->len = keep;
    if (t->kind == PGT_BPCHAR)
        while (v->len > 0 && s[v->len - 1] == ' ')
            v->len--;
    return NULL;
}

/* Bytewise, the order of the C collation; bpchar values come without their trailing spaces,
 * so they compare as bpcharcmp does. json and jsonb are compared as written, which is right
 * only for telling identical texts apart (pgtype_orderable says they are not ordered). */
int pgtext_compare(const struct pgtype *t, const struct pgvalue *a, const struct pgvalue *b)
{
    if (t->kind == PGT_ENUM)
        return (a->i > b->i) - (a->i < b->i);
    size_t common = a->len < b->len ? a->len : b->len;
    int c = common ? memcmp(a->text, b->text, common) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return (a->len > b->len) - (a->len < b->len);
}

size_t pgtext_char_length(const struct pgtype *t, const struct pgvalue *v)
{
    (void)t; /* bpchar's trailing spaces are already gone from v */
    return utf8_chars(v->text, v->len);
}
