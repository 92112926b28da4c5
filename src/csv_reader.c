/*
 * csv_reader.c - the streaming RFC 4180 reader: bytes in, rows out, memory bounded.
 *
 * Input is copied into one buffer that is compacted as rows are consumed, so what the reader holds
 * is the row being read plus the last chunk fed: never a whole file. A row is returned only once
 * its line terminator (LF or CRLF; a lone CR is data) has been seen, or at csv_reader_finish();
 * a row cut by a chunk boundary is resumed where the scan stopped, never returned early or scanned
 * twice. The scan is one pass over a byte-class table (memchr-like tight loops), recording field
 * boundaries as it goes; fields that need no unescaping point straight into the buffer, the others
 * are unescaped into one reader-owned area, and the arrays handed out are reused from row to row.
 *
 * Quoting follows RFC 4180 with PostgreSQL's leniency: a quote opens a quoted field only as the
 * field's first byte (elsewhere it is data), "" inside quotes is one quote, and bytes after the
 * closing quote up to the delimiter are kept literally ("ab"c is abc). Newlines inside quotes stay
 * in the field and count as lines. A completely empty line is skipped but counted. A UTF-8 BOM is
 * skipped only at input offset 0. Bytes are bytes: NUL and invalid UTF-8 pass through untouched.
 *
 * A row whose raw text (without terminator) exceeds max_row_bytes is not buffered whole: its first
 * max_row_bytes are kept, the rest is dropped as it arrives while the quote state is still tracked
 * to find the row's real end, and the row comes out as CSV_ROW_TOO_LONG without fields.
 *
 * Line numbers: a row that starts on line L and holds k newlines inside quotes has next_line =
 * L + k + 1, also when it is the last row and has no terminator (the row used up its lines).
 */
#include "csv_reader.h"

#include "mem.h"

#include <stdlib.h>
#include <string.h>

enum scan_state {
    SCAN_FIELD_START, /* before a field's first byte */
    SCAN_UNQUOTED,    /* in an unquoted field, or after a quoted field's closing quote */
    SCAN_QUOTED,      /* inside quotes */
    SCAN_QUOTE_SEEN, /* a quote inside quotes: "" escape or the closing quote, the next byte says */
};

enum { SPAN_QUOTED = 1, SPAN_ESCAPED = 2 };

/* One field of the row being scanned; positions are relative to the row start, because the
 * buffer may move between calls while a row is incomplete. */
struct csv_span {
    size_t start; /* first byte (the opening quote, for a quoted field) */
    size_t end;   /* just past the last byte, delimiter and terminator excluded */
    size_t close; /* quoted field: position of the closing quote */
    unsigned flags;
};

struct csv_reader {
    /* input bytes: data[start..len) are fed and not yet consumed */
    char *data;
    size_t start, len, cap;
    uint64_t start_offset; /* input offset of data[start] */
    uint64_t line;         /* line on which the current row starts */

    size_t max_row;
    size_t scan_cap; /* max_row + 2: a row with no LF in this many bytes is surely too long */

    /* the row being scanned, which starts at data[start] */
    size_t scan;           /* bytes of it already scanned */
    enum scan_state state; /* state after those bytes */
    uint64_t row_nl;       /* newlines inside quotes so far */
    struct csv_span *spans;
    size_t nspans, spans_cap;

    /* a too-long row whose head is saved in long_raw and whose tail is being dropped */
    bool skipping;
    char *long_raw;
    uint64_t skip_offset; /* input offset where that row started */

    /* what the last CSV_ROW pointed at */
    const char **fields;
    size_t *lengths;
    size_t fields_cap;
    char *store;
    size_t store_cap;

    bool bom_pending; /* input began at offset 0 and the BOM question is still open */
    bool finished;    /* csv_reader_finish() was called */
    bool done;        /* every row has been returned */
};

/* Bytes that end an unquoted field, and bytes that matter inside quotes. */
static const unsigned char unquoted_stop[256] = {[','] = 1, ['\n'] = 1};
static const unsigned char quoted_stop[256] = {['"'] = 1, ['\n'] = 1};

static const char utf8_bom[3] = {'\xEF', '\xBB', '\xBF'};

static void reader_row_begin(struct csv_reader *r)
{
    r->scan = 0;
    r->state = SCAN_FIELD_START;
    r->row_nl = 0;
    r->nspans = 1;
    r->spans[0].start = 0;
    r->spans[0].flags = 0;
}

struct csv_reader *csv_reader_new(size_t max_row_bytes)
{
    struct csv_reader *r = xcalloc(1, sizeof(*r));
    r->max_row = max_row_bytes ? max_row_bytes : 1;
    r->scan_cap = r->max_row <= SIZE_MAX - 2 ? r->max_row + 2 : SIZE_MAX;
    r->spans_cap = 16;
    r->spans = xmalloc(r->spans_cap * sizeof(*r->spans));
    r->fields_cap = 16;
    r->fields = xmalloc(r->fields_cap * sizeof(*r->fields));
    r->lengths = xmalloc(r->fields_cap * sizeof(*r->lengths));
    r->cap = 4096; /* never NULL, so pointer arithmetic on an empty buffer is defined */
    r->data = xmalloc(r->cap);
    csv_reader_reset(r, 0, 1);
    return r;
}

void csv_reader_free(struct csv_reader *r)
{
    if (!r)
        return;
    free(r->data);
    free(r->spans);
    free(r->long_raw);
    free(r->fields);
    free(r->lengths);
    free(r->store);
    free(r);
}

void csv_reader_reset(struct csv_reader *r, uint64_t offset, uint64_t line)
{
    r->start = 0;
    r->len = 0;
    r->start_offset = offset;
    r->line = line;
    r->skipping = false;
    r->bom_pending = offset == 0;
    r->finished = false;
    r->done = false;
    reader_row_begin(r);
}

void csv_reader_feed(struct csv_reader *r, const char *data, size_t len)
{
    if (len == 0)
        return;
    if (r->start == r->len) {
        r->start = 0;
        r->len = 0;
    }
    if (r->cap - r->len < len) {
        /* Compact first; grow only if the unconsumed bytes plus this chunk still do not fit. */
        size_t keep = r->len - r->start;
        if (r->start > 0) {
            memmove(r->data, r->data + r->start, keep);
            r->start = 0;
            r->len = keep;
        }
        if (r->cap - keep < len) {
            size_t want = keep + len;
            size_t cap = r->cap ? r->cap : 4096;
            while (cap < want)
                cap = cap <= SIZE_MAX / 2 ? cap * 2 : want;
            r->data = xrealloc(r->data, cap);
            r->cap = cap;
        }
    }
    memcpy(r->data + r->len, data, len);
    r->len += len;
}

void csv_reader_finish(struct csv_reader *r)
{
    r->finished = true;
}

size_t csv_reader_pending(const struct csv_reader *r)
{
    return r->len - r->start;
}

/* Open a new field at row position pos. */
static inline struct csv_span *reader_push_span(struct csv_reader *r, size_t pos)
{
    if (r->nspans == r->spans_cap) {
        r->spans_cap *= 2;
        r->spans = xrealloc(r->spans, r->spans_cap * sizeof(*r->spans));
    }
    struct csv_span *f = &r->spans[r->nspans++];
    f->start = pos;
    f->flags = 0;
    return f;
}

/*
 * The tokenizer's one state machine, for the rows that are kept and for the dropped tail of a
 * too-long row alike: advance over d[*pos .. lim) from *state, counting newlines inside quotes;
 * with `record`, open and close the field spans as it goes (a constant at each call site, so
 * the compiler makes two loops of it). Returns true with *pos at the row's terminating LF, or
 * false with *pos = lim when the bytes ran out.
 */
static inline bool tokenize(struct csv_reader *r, const unsigned char *d, size_t *pos, size_t lim,
                            enum scan_state *state, bool record)
{
    size_t p = *pos;
    enum scan_state st = *state;
    struct csv_span *f = record ? &r->spans[r->nspans - 1] : NULL;
    bool found = false;

    while (p < lim) {
        switch (st) {
        case SCAN_FIELD_START:
            if (d[p] == '"') {
                if (record)
                    f->flags = SPAN_QUOTED;
                st = SCAN_QUOTED;
                p++;
                break;
            }
            st = SCAN_UNQUOTED;
            /* fall through */
        case SCAN_UNQUOTED:
            while (p < lim && !unquoted_stop[d[p]])
                p++;
            if (p == lim)
                goto out;
            if (d[p] == '\n') {
                found = true;
                goto out;
            }
            if (record) {
                f->end = p;
                f = reader_push_span(r, p + 1);
            }
            p++;
            st = SCAN_FIELD_START;
            break;
        case SCAN_QUOTED:
            while (p < lim && !quoted_stop[d[p]])
                p++;
            if (p == lim)
                goto out;
            if (d[p++] == '\n')
                r->row_nl++;
            else
                st = SCAN_QUOTE_SEEN;
            break;
        case SCAN_QUOTE_SEEN:
            if (d[p] == '"') {
                if (record)
                    f->flags |= SPAN_ESCAPED;
                st = SCAN_QUOTED;
                p++;
                break;
            }
            if (record)
                f->close = p - 1;
            st = SCAN_UNQUOTED; /* the byte is a delimiter, the terminator, or literal tail */
            break;
        }
    }
out:
    *pos = p;
    *state = st;
    return found;
}

/* Scan the current row from where the last call stopped, recording fields. Returns true with
 * *lf set to the row position of the terminating LF, or false when the bytes ran out or the row
 * reached scan_cap bytes without a terminator (r->scan tells which). */
static bool reader_scan(struct csv_reader *r, size_t *lf)
{
    const unsigned char *d = (const unsigned char *)r->data + r->start;
    size_t avail = r->len - r->start;
    size_t lim = avail < r->scan_cap ? avail : r->scan_cap;
    size_t p = r->scan;
    bool found = tokenize(r, d, &p, lim, &r->state, true);
    r->scan = p;
    *lf = p;
    return found;
}

/* Unescape a quoted field: the bytes between its quotes with "" made ", then the tail after the
 * closing quote as is. Returns the length written to out. */
static size_t reader_unquote(const char *row, const struct csv_span *f, char *out)
{
    const char *q = row + f->start + 1, *close = row + f->close;
    size_t o = 0;
    while (q < close) {
        const char *k = memchr(q, '"', (size_t)(close - q));
        if (!k) {
            memcpy(out + o, q, (size_t)(close - q));
            o += (size_t)(close - q);
            break;
        }
        /* k and k+1 are an escaped pair: keep one quote */
        memcpy(out + o, q, (size_t)(k - q) + 1);
        o += (size_t)(k - q) + 1;
        q = k + 2;
    }
    size_t tail = f->end - (f->close + 1);
    memcpy(out + o, row + f->close + 1, tail);
    return o + tail;
}

/* Fill row->fields from the recorded spans; the row's content is row[0..content_len). */
static void reader_build_fields(struct csv_reader *r, const char *row, size_t content_len,
                                struct csv_row *out)
{
    size_t n = r->nspans;
    if (n > r->fields_cap) {
        while (r->fields_cap < n)
            r->fields_cap *= 2;
        r->fields = xrealloc(r->fields, r->fields_cap * sizeof(*r->fields));
        r->lengths = xrealloc(r->lengths, r->fields_cap * sizeof(*r->lengths));
    }
    char *store = NULL;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        const struct csv_span *f = &r->spans[i];
        if (!(f->flags & SPAN_QUOTED)) {
            r->fields[i] = row + f->start;
            r->lengths[i] = f->end - f->start;
        } else if (!(f->flags & SPAN_ESCAPED) && f->end == f->close + 1) {
            r->fields[i] = row + f->start + 1;
            r->lengths[i] = f->close - f->start - 1;
        } else {
            if (!store) {
                /* unescaping only shrinks, so the row's length is room enough for all fields */
                if (r->store_cap < content_len) {
                    free(r->store);
                    r->store = xmalloc(content_len);
                    r->store_cap = content_len;
                }
                store = r->store;
            }
            r->fields[i] = store + used;
            r->lengths[i] = reader_unquote(row, f, store + used);
            used += r->lengths[i];
        }
    }
    out->nfields = n;
    out->fields = r->fields; /* the arrays may have moved above */
    out->lengths = r->lengths;
}

static void reader_fill(const struct csv_reader *r, struct csv_row *row, enum csv_row_status status,
                        const char *raw, size_t raw_len, uint64_t offset, uint64_t end_offset)
{
    row->status = status;
    row->nfields = 0;
    row->fields = r->fields;
    row->lengths = r->lengths;
    row->raw = raw;
    row->raw_len = raw_len;
    row->line = r->line;
    row->offset = offset;
    row->end_offset = end_offset;
    row->next_line = r->line + r->row_nl + 1;
}

/* Consume n bytes of the buffer and start the next row on the line after this one. */
static void reader_advance(struct csv_reader *r, size_t n)
{
    r->start += n;
    r->start_offset += n;
    r->line += r->row_nl + 1;
    reader_row_begin(r);
}

/* The row has reached scan_cap bytes with no end in sight: keep its head, drop the rest. */
static void reader_begin_skip(struct csv_reader *r)
{
    if (!r->long_raw)
        r->long_raw = xmalloc(r->max_row);
    memcpy(r->long_raw, r->data + r->start, r->max_row);
    r->skipping = true;
    r->skip_offset = r->start_offset;
    r->start += r->scan;
    r->start_offset += r->scan;
    r->scan = 0;
}

/* Follow the quote state through the dropped part of a too-long row. Returns true with *lf the
 * buffer-relative position of its terminating LF, else drops all that is buffered. */
static bool reader_skip(struct csv_reader *r, size_t *lf)
{
    const unsigned char *d = (const unsigned char *)r->data + r->start;
    size_t n = r->len - r->start, p = 0;
    bool found = tokenize(r, d, &p, n, &r->state, false);
    if (found) {
        *lf = p;
        return true;
    }
    r->start += p;
    r->start_offset += p;
    return false;
}

/* A UTF-8 BOM at offset 0 is skipped; returns false while too few bytes are here to tell. */
static bool reader_check_bom(struct csv_reader *r)
{
    size_t avail = r->len - r->start;
    if (avail == 0 && !r->finished)
        return false;
    const char *d = avail ? r->data + r->start : "";
    if (avail < sizeof(utf8_bom) && !r->finished && memcmp(d, utf8_bom, avail) == 0)
        return false;
    if (avail >= sizeof(utf8_bom) && memcmp(d, utf8_bom, sizeof(utf8_bom)) == 0) {
        r->start += sizeof(utf8_bom);
        r->start_offset += sizeof(utf8_bom);
    }
    r->bom_pending = false;
    return true;
}

/* The rest of a too-long row: its end, or end of input. */
static enum csv_next reader_next_skipping(struct csv_reader *r, struct csv_row *row)
{
    size_t lf;
    if (reader_skip(r, &lf)) {
        reader_fill(r, row, CSV_ROW_TOO_LONG, r->long_raw, r->max_row, r->skip_offset,
                    r->start_offset + lf + 1);
        r->skipping = false;
        reader_advance(r, lf + 1);
        return CSV_ROW;
    }
    if (!r->finished)
        return CSV_NEED_MORE;
    reader_fill(r, row, r->state == SCAN_QUOTED ? CSV_ROW_UNTERMINATED_QUOTE : CSV_ROW_TOO_LONG,
                r->long_raw, r->max_row, r->skip_offset, r->start_offset);
    r->skipping = false;
    r->done = true;
    return CSV_ROW;
}

/* End of input with an unterminated row in the buffer (at least one byte). */
static enum csv_next reader_next_last(struct csv_reader *r, struct csv_row *row)
{
    const char *d = r->data + r->start;
    size_t n = r->len - r->start;
    size_t cut = n < r->max_row ? n : r->max_row;
    uint64_t end = r->start_offset + n;

    r->done = true;
    if (r->state == SCAN_QUOTED) {
        reader_fill(r, row, CSV_ROW_UNTERMINATED_QUOTE, d, cut, r->start_offset, end);
    } else if (n > r->max_row) {
        reader_fill(r, row, CSV_ROW_TOO_LONG, d, cut, r->start_offset, end);
    } else {
        struct csv_span *f = &r->spans[r->nspans - 1];
        if (r->state == SCAN_QUOTE_SEEN)
            f->close = n - 1;
        f->end = n;
        reader_fill(r, row, CSV_ROW_OK, d, n, r->start_offset, end);
        reader_build_fields(r, d, n, row);
    }
    r->start = r->len;
    r->start_offset = end;
    return CSV_ROW;
}

enum csv_next csv_reader_next(struct csv_reader *r, struct csv_row *row)
{
    for (;;) {
        if (r->done)
            return CSV_END;
        if (r->bom_pending && !reader_check_bom(r))
            return CSV_NEED_MORE;
        if (r->skipping)
            return reader_next_skipping(r, row);

        size_t lf;
        if (!reader_scan(r, &lf)) {
            if (r->scan >= r->scan_cap) {
                reader_begin_skip(r);
                continue;
            }
            if (!r->finished)
                return CSV_NEED_MORE;
            if (r->start == r->len) {
                r->done = true;
                return CSV_END;
            }
            return reader_next_last(r, row);
        }

        const char *d = r->data + r->start;
        size_t content = lf > 0 && d[lf - 1] == '\r' ? lf - 1 : lf;
        if (content == 0) { /* an empty line */
            reader_advance(r, lf + 1);
            continue;
        }
        uint64_t end = r->start_offset + lf + 1;
        if (content > r->max_row) {
            reader_fill(r, row, CSV_ROW_TOO_LONG, d, r->max_row, r->start_offset, end);
        } else {
            r->spans[r->nspans - 1].end = content;
            reader_fill(r, row, CSV_ROW_OK, d, content, r->start_offset, end);
            reader_build_fields(r, d, content, row);
        }
        reader_advance(r, lf + 1);
        return CSV_ROW;
    }
}
