/*
 * validate.c - a target table's contract applied to CSV rows: binds a file's header to the
 * table's columns, judges each data row with the table's own rules, and writes the COPY text
 * lines for the table (accepted rows) and its dead-letter table (rejected rows).
 *
 * Promises:
 * - An accepted row's line loads through COPY ... FROM STDIN (text format, UTF-8) and stores
 *   exactly the values judged here: every field is strict UTF-8 without NUL, each column's text
 *   is what its type's checker (pgtype) wrote, and the row passed every CHECK constraint that
 *   compiled (check_expr). An empty field is NULL, as in COPY's CSV format.
 * - A rejected row gets a verdict: the code and column of the FIRST problem (structure and
 *   encoding first, then the columns in the file's header order, then the constraints) and a
 *   message listing every problem found, "; "-separated. Row-level problems (too long,
 *   unterminated quote, encoding, column count) stop the per-column checks; a value that does
 *   not parse stops the constraint checks.
 * - A reject line can always be loaded: fields that are not valid UTF-8 become \N, and invalid
 *   bytes in the raw line, the message and the file name are written as the text \xNN, so no
 *   input can break or end a COPY early.
 * - No allocation per row: allocation happens when a schema is made or a header bound, and in
 *   growing the caller's buffers.
 *
 * Duplicates of a key are the loader's business (schema_row_key gives it the key's text).
 */
#include "validate.h"

#include "check_expr.h"
#include "copy_text.h"
#include "table_name.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MSG_VALUE_BYTES 60 /* how much of a bad value a message quotes */

struct schema {
    const struct table_def *t;
    struct pgtype_env env;
    bool strict;
    char **map_csv; /* --column-map: header name -> column */
    size_t *map_col;
    size_t nmap;
    char *reject_columns;

    /* the bound header */
    bool bound;
    size_t header_fields;
    size_t *pos;    /* per column: its header position, or SIZE_MAX when the file lacks it */
    size_t *order;  /* the bound columns in header order: the COPY column order */
    size_t norder;
    bool *check_on; /* per constraint: compiled and reading only columns the file has */
    size_t *check_order; /* the constraints by the header position of the first column read */
    struct buf copy_columns;

    /* the row being judged */
    struct pgvalue *vals; /* per column */
    bool *bad;            /* per column: its value did not parse (its constraints are skipped) */
    size_t *span_start;   /* per column: its COPY text within the row's line */
    size_t *span_len;
    size_t last_line;     /* where the last accepted row's line starts in copy_out */
    bool v_clean;         /* every value of the row being judged parsed */
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

const char *reject_code_name(enum reject_code code)
{
    if ((unsigned)code >= REJECT_CODE_COUNT)
        return "unknown";
    return reject_names[code];
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


/* ---- schema lifecycle ----------------------------------------------------------------------- */

/* Parse --column-map "csv=col,...". -1 with err filled. */
static int parse_column_map(struct schema *s, const char *map, char *err, size_t err_size)
{
    const char *p = map;
    while (*p) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq || eq == p || eq + 1 == end) {
            snprintf(err, err_size, "--column-map: expected csv_name=column, got '%.*s'",
                     (int)(end - p), p);
            return -1;
        }
        char *col = strndup(eq + 1, (size_t)(end - eq - 1));
        long c = table_def_column(s->t, col);
        if (c < 0) {
            snprintf(err, err_size, "--column-map: table %s has no column '%s'", s->t->name, col);
            free(col);
            return -1;
        }
        free(col);
        s->map_csv = xrealloc(s->map_csv, (s->nmap + 1) * sizeof(*s->map_csv));
        s->map_col = xrealloc(s->map_col, (s->nmap + 1) * sizeof(*s->map_col));
        s->map_csv[s->nmap] = strndup(p, (size_t)(eq - p));
        s->map_col[s->nmap++] = (size_t)c;
        p = comma ? comma + 1 : end;
    }
    return 0;
}

struct schema *schema_new(const struct schema_options *o, char *err, size_t err_size)
{
    struct schema *s = xcalloc(1, sizeof(*s));
    const struct table_def *t = o->table;
    s->t = t;
    s->env = o->env;
    s->strict = o->strict_columns;
    if (o->column_map && parse_column_map(s, o->column_map, err, err_size) < 0) {
        schema_free(s);
        return NULL;
    }
    size_t n = t->ncols ? t->ncols : 1;
    s->pos = xcalloc(n, sizeof(*s->pos));
    s->order = xcalloc(n, sizeof(*s->order));
    s->vals = xcalloc(n, sizeof(*s->vals));
    s->bad = xcalloc(n, sizeof(*s->bad));
    s->span_start = xcalloc(n, sizeof(*s->span_start));
    s->span_len = xcalloc(n, sizeof(*s->span_len));
    s->check_on = xcalloc(t->nchecks ? t->nchecks : 1, sizeof(*s->check_on));
    s->check_order = xcalloc(t->nchecks ? t->nchecks : 1, sizeof(*s->check_order));
    buf_init(&s->copy_columns);

    struct buf b;
    buf_init(&b);
    buf_putc(&b, '(');
    for (size_t c = 0; c < t->ncols; c++) {
        sql_append_ident(&b, t->cols[c].name);
        buf_append(&b, ", ", 2);
    }
    buf_printf(&b, "%s)", REJECT_ERROR_COLUMNS);
    buf_putc(&b, '\0');
    s->reject_columns = b.data;
    return s;
}

void schema_free(struct schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nmap; i++)
        free(s->map_csv[i]);
    free(s->map_csv);
    free(s->map_col);
    free(s->reject_columns);
    free(s->pos);
    free(s->order);
    free(s->vals);
    free(s->bad);
    free(s->check_order);
    free(s->span_start);
    free(s->span_len);
    free(s->check_on);
    buf_release(&s->copy_columns);
    free(s);
}

const char *schema_reject_columns(const struct schema *s)
{
    return s->reject_columns;
}

const char *schema_copy_columns(const struct schema *s)
{
    return s->bound ? s->copy_columns.data : "()";
}

/* ---- verdict messages ----------------------------------------------------------------------- */

/* Message text being built in v->message; stays valid UTF-8 and NUL-terminated throughout. */
struct msg {
    const struct table_def *t;
    struct verdict *v;
    size_t len;
    bool full;
};

static void msg_start(struct msg *m, const struct table_def *t, struct verdict *v)
{
    m->t = t;
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
static void msg_problem(struct msg *m, enum reject_code code, long column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void msg_problem(struct msg *m, enum reject_code code, long column, const char *fmt, ...)
{
    char tmp[sizeof(m->v->message)];
    if (m->v->code == REJECT_NONE) {
        m->v->code = code;
        m->v->column = column;
    } else {
        msg_append(m, "; ", 2);
    }
    if (column >= 0) {
        const char *name = m->t->cols[column].name;
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

/* Which column a header name means, or -1; *ambiguous when it matches several ignoring case. */
static long header_column(const struct schema *s, const char *name, size_t n, bool *ambiguous)
{
    *ambiguous = false;
    for (size_t k = 0; k < s->nmap; k++)
        if (strlen(s->map_csv[k]) == n && memcmp(s->map_csv[k], name, n) == 0)
            return (long)s->map_col[k];
    for (size_t c = 0; c < s->t->ncols; c++) {
        const char *cn = s->t->cols[c].name;
        if (strlen(cn) == n && memcmp(cn, name, n) == 0)
            return (long)c;
    }
    long found = -1;
    for (size_t c = 0; c < s->t->ncols; c++) {
        const char *cn = s->t->cols[c].name;
        if (strlen(cn) == n && strncasecmp(cn, name, n) == 0) {
            if (found >= 0) {
                *ambiguous = true;
                return -1;
            }
            found = (long)c;
        }
    }
    return found;
}

int schema_bind_header(struct schema *s, const struct csv_row *header, struct verdict *v)
{
    struct msg m;
    struct quoted q;
    const struct table_def *t = s->t;
    msg_start(&m, t, v);
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

    for (size_t c = 0; c < t->ncols; c++)
        s->pos[c] = SIZE_MAX;
    for (size_t i = 0; i < header->nfields; i++) {
        const char *name = header->fields[i];
        size_t n = header->lengths[i];
        if (i == 0 && n >= 3 && memcmp(name, "\xEF\xBB\xBF", 3) == 0) {
            name += 3; /* a BOM the reader did not strip */
            n -= 3;
        }
        bool ambiguous;
        long c = header_column(s, name, n, &ambiguous);
        if (ambiguous) {
            msg_problem(&m, REJECT_BAD_HEADER, -1,
                        "header name %s matches several columns ignoring case (use --column-map)",
                        quote_value(&q, name, n));
            continue;
        }
        if (c < 0) {
            if (s->strict)
                msg_problem(&m, REJECT_BAD_HEADER, -1, "table %s has no column %s", t->name,
                            quote_value(&q, name, n));
            continue;
        }
        if (s->pos[c] != SIZE_MAX)
            msg_problem(&m, REJECT_BAD_HEADER, -1, "duplicate column '%s' (fields %zu and %zu)",
                        t->cols[c].name, s->pos[c] + 1, i + 1);
        else
            s->pos[c] = i;
    }
    s->norder = 0;
    for (size_t c = 0; c < t->ncols; c++) {
        if (s->pos[c] != SIZE_MAX)
            s->order[s->norder++] = c;
        else if (t->cols[c].not_null && !t->cols[c].has_default)
            msg_problem(&m, REJECT_BAD_HEADER, -1, "missing required column '%s'",
                        t->cols[c].name);
    }
    if (v->code == REJECT_NONE && s->norder == 0)
        msg_problem(&m, REJECT_BAD_HEADER, -1, "no column of table %s in the header", t->name);
    if (v->code != REJECT_NONE)
        return -1;

    /* COPY order: header order (an insertion sort; tables are narrow) */
    for (size_t k = 1; k < s->norder; k++) {
        size_t c = s->order[k], j = k;
        while (j > 0 && s->pos[s->order[j - 1]] > s->pos[c]) {
            s->order[j] = s->order[j - 1];
            j--;
        }
        s->order[j] = c;
    }
    buf_reset(&s->copy_columns);
    buf_putc(&s->copy_columns, '(');
    for (size_t k = 0; k < s->norder; k++) {
        if (k)
            buf_append(&s->copy_columns, ", ", 2);
        sql_append_ident(&s->copy_columns, t->cols[s->order[k]].name);
    }
    buf_append(&s->copy_columns, ")", 2); /* with the NUL */
    s->copy_columns.len--;

    /* A constraint on a column the file lacks judges its default: the server's business. The
     * others run in the file's order (by the first column each reads), like the columns. */
    size_t first_pos[t->nchecks ? t->nchecks : 1];
    for (size_t j = 0; j < t->nchecks; j++) {
        const struct check_expr *ce = t->checks[j].compiled;
        bool on = ce != NULL;
        first_pos[j] = SIZE_MAX;
        for (size_t c = 0; on && c < t->ncols; c++) {
            if (!check_uses(ce, c))
                continue;
            if (s->pos[c] == SIZE_MAX)
                on = false;
            else if (s->pos[c] < first_pos[j])
                first_pos[j] = s->pos[c];
        }
        s->check_on[j] = on;
        size_t k = j;
        while (k > 0 && first_pos[s->check_order[k - 1]] > first_pos[j]) {
            s->check_order[k] = s->check_order[k - 1];
            k--;
        }
        s->check_order[k] = j;
    }
    s->header_fields = header->nfields;
    s->bound = true;
    return 0;
}

/* ---- row validation ------------------------------------------------------------------------- */

/* The constraint's text as a message shows it: without the "CHECK " pg_get_constraintdef puts
 * first. */
static const char *check_text(const char *def)
{
    return strncmp(def, "CHECK ", 6) == 0 ? def + 6 : def;
}

/* Does the constraint read a column whose value did not parse? Only asked on bad rows. */
static bool reads_bad(const struct schema *s, const struct check_expr *ce)
{
    if (s->v_clean)
        return false;
    for (size_t k = 0; k < s->norder; k++)
        if (s->bad[s->order[k]] && check_uses(ce, s->order[k]))
            return true;
    return false;
}

bool schema_validate_row(struct schema *s, const struct csv_row *row, struct buf *copy_out,
                         struct verdict *v)
{
    struct msg m;
    struct quoted q;
    const struct table_def *t = s->t;
    msg_start(&m, t, v);

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

    size_t mark = copy_out->len;
    char why[160];
    for (size_t k = 0; k < s->norder; k++) {
        size_t c = s->order[k];
        const struct table_column *col = &t->cols[c];
        const char *f = row->fields[s->pos[c]];
        size_t n = row->lengths[s->pos[c]];
        struct pgvalue *val = &s->vals[c];
        s->bad[c] = false;
        if (k)
            buf_putc(copy_out, '\t');
        size_t start = copy_out->len;
        if (n == 0) {
            val->null = true;
            if (col->not_null)
                msg_problem(&m, REJECT_MISSING_FIELD, (long)c, "required value is empty");
            buf_append(copy_out, "\\N", 2);
        } else {
            const char *e = pgtype_parse(&col->type, &s->env, f, n, copy_out, val, why,
                                         sizeof(why));
            if (e) {
                s->bad[c] = true;
                if (strstr(e, "(got "))
                    msg_problem(&m, REJECT_BAD_VALUE, (long)c, "%s", e);
                else
                    msg_problem(&m, REJECT_BAD_VALUE, (long)c, "%s (got %s)", e,
                                quote_value(&q, f, n));
            }
        }
        s->span_start[c] = start - mark;
        s->span_len[c] = copy_out->len - start;
    }
    s->v_clean = v->code == REJECT_NONE;
    {
        for (size_t i = 0; i < t->nchecks; i++) {
            size_t j = s->check_order[i], at;
            if (!s->check_on[j] || reads_bad(s, t->checks[j].compiled) ||
                check_eval(t->checks[j].compiled, s->vals, &at))
                continue;
            if (at < t->ncols && s->pos[at] != SIZE_MAX) {
                size_t p = s->pos[at];
                msg_problem(&m, REJECT_RULE_VIOLATION, (long)at, "%s violates %s %s",
                            row->lengths[p] ? quote_value(&q, row->fields[p], row->lengths[p])
                                            : "NULL",
                            t->checks[j].name, check_text(t->checks[j].def));
            } else {
                msg_problem(&m, REJECT_RULE_VIOLATION, -1, "violates %s %s", t->checks[j].name,
                            check_text(t->checks[j].def));
            }
        }
    }
    if (v->code != REJECT_NONE) {
        copy_out->len = mark;
        return false;
    }
    buf_putc(copy_out, '\n');
    s->last_line = mark;
    return true;
}

bool schema_row_key(const struct schema *s, const struct buf *copy_out, struct buf *key)
{
    const struct table_def *t = s->t;
    if (t->nkey == 0)
        return false;
    buf_reset(key);
    for (size_t k = 0; k < t->nkey; k++) {
        size_t c = t->key[k];
        if (s->pos[c] == SIZE_MAX || s->vals[c].null)
            return false;
        if (k)
            buf_putc(key, '\t');
        buf_append(key, copy_out->data + s->last_line + s->span_start[c], s->span_len[c]);
    }
    return true;
}

void schema_duplicate_verdict(const struct schema *s, const struct buf *key, struct verdict *v)
{
    const struct table_def *t = s->t;
    v->code = REJECT_DUPLICATE_KEY;
    v->column = t->nkey ? (long)t->key[0] : -1;
    int n = (int)(key->len > 200 ? 200 : key->len);
    if (t->nkey == 1) {
        snprintf(v->message, sizeof(v->message), "%s: '%.*s' is already loaded",
                 t->cols[t->key[0]].name, n, key->data);
        return;
    }
    struct buf names;
    buf_init(&names);
    for (size_t k = 0; k < t->nkey; k++)
        buf_printf(&names, "%s%s", k ? ", " : "", t->cols[t->key[k]].name);
    buf_putc(&names, '\0');
    char shown[256];
    size_t o = 0;
    for (int i = 0; i < n && o + 3 < sizeof(shown); i++) {
        if (key->data[i] == '\t') {
            shown[o++] = ',';
            shown[o++] = ' ';
        } else {
            shown[o++] = key->data[i];
        }
    }
    shown[o] = '\0';
    snprintf(v->message, sizeof(v->message), "key (%s) = (%s) is already loaded", names.data,
             shown);
    buf_release(&names);
}

/* ---- reject lines --------------------------------------------------------------------------- */

void schema_encode_reject(const struct schema *s, const struct csv_row *row,
                          const struct verdict *v, const char *source_file, struct buf *out)
{
    const struct table_def *t = s->t;
    bool have_fields = s->bound && row->status == CSV_ROW_OK;

    for (size_t c = 0; c < t->ncols; c++) {
        size_t p = have_fields ? s->pos[c] : SIZE_MAX;
        if (p < row->nfields && row->lengths[p] &&
            utf8_check(row->fields[p], row->lengths[p]) == row->lengths[p])
            copy_text_escape(out, row->fields[p], row->lengths[p]);
        else
            buf_append(out, "\\N", 2);
        buf_putc(out, '\t');
    }
    const char *code = reject_code_name(v->code);
    buf_append(out, code, strlen(code));
    buf_putc(out, '\t');
    if (v->column >= 0 && (size_t)v->column < t->ncols) {
        const char *col = t->cols[v->column].name;
        copy_text_sanitized(out, col, strlen(col));
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
