/*
 * generator.c - the event producer: realistic e-commerce event CSV files, handed off atomically.
 *
 * The output is the original project's format (event_id, event_time, event_type, product_id,
 * price, user_id, session_id) with realistic structure rather than uniform noise: a pool of
 * active sessions, each a user browsing for several events; a catalogue whose products keep one
 * price and whose popularity is skewed (Zipf-like); purchases only of products viewed earlier in
 * the same session (a valid purchase, of a product a valid view showed). With --seed the content
 * of every file is the same from run to run (times come from a simulated clock starting at
 * 2026-01-01); file names carry the wall-clock time, a run id (from the seed when there is one)
 * and a sequence number, and are never reused: the rename into the hot folder refuses to
 * overwrite, and a name the archive already holds is skipped.
 *
 * Hand-off: a file is written in temp_dir (in 1 MiB writes; a typical file is one write),
 * fsynced, renamed into input_dir, and input_dir is fsynced, so a reader of input_dir only ever
 * sees complete files. A stop request finishes the file in hand, or discards it when it is
 * caught between two of those writes; the temp folder is left empty either way.
 *
 * --bad-ratio makes that fraction of rows invalid, each in exactly one reject class (the class
 * the validator will report first), and counts them per class for the manifest. A duplicate
 * repeats a valid row of the same file byte for byte; unterminated_quote (only ever a file's last
 * row) and row_too_long (a row just over 1 MiB) each come in about bad_ratio/8 of files. Rows are
 * formatted by hand into a large buffer: the generator writes well over a million events/s.
 */
#include "generator.h"

#include "clock.h"
#include "fsutil.h"
#include "log.h"
#include "mem.h"
#include "validate.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

#define N_PRODUCTS 2000
#define N_USERS 50000
#define N_SESSIONS 64
#define MAX_VIEWED 8
#define DUP_RING 64
#define FLUSH_BYTES (1 << 20)
#define TOO_LONG_BYTES ((1 << 20) + 1) /* a session_id just over the default --max-row-bytes */
#define SEEDED_EPOCH 1767225600        /* 2026-01-01 00:00:00 UTC */

static const char header[] = "event_id,event_time,event_type,product_id,price,user_id,session_id\n";

/* ---- random numbers: xoshiro256** seeded by splitmix64 ------------------------------------ */

struct rng {
    uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
    return rng_next(r) % n;
}

static inline double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- the simulated shop ------------------------------------------------------------------- */

struct session {
    char id[37];
    uint32_t user_id;
    int remaining;
    int nviewed;
    uint32_t viewed[MAX_VIEWED];
    int64_t clock; /* the session's own clock: its events never go back in time */
};

struct shop {
    struct rng rng;
    uint32_t price_cents[N_PRODUCTS + 1];
    double popularity_cdf[N_PRODUCTS];
    struct session sessions[N_SESSIONS];
    char dup_ring[DUP_RING][160]; /* recent valid rows, for duplicate_key */
    int dup_len[DUP_RING];
    long dup_count;
};

static const char hexd[] = "0123456789abcdef";

static void uuid_v4(struct rng *r, char out[37])
{
    uint64_t a = rng_next(r), b = rng_next(r);
    a = (a & ~0xf000ULL) | 0x4000ULL;                 /* version 4 */
    b = (b & ~(0xc000ULL << 48)) | (0x8000ULL << 48); /* variant 10 */
    int k = 0;
    for (int i = 15; i >= 0; i--) {
        out[k++] = hexd[(a >> (i * 4)) & 0xf];
        if (k == 8 || k == 13)
            out[k++] = '-';
    }
    out[k++] = '-';
    for (int i = 15; i >= 0; i--) {
        out[k++] = hexd[(b >> (i * 4)) & 0xf];
        if (k == 23)
            out[k++] = '-';
    }
    out[36] = '\0';
}

static void new_session(struct shop *shop, struct session *s)
{
    uuid_v4(&shop->rng, s->id);
    /* a few heavy users, a long tail */
    double u = rng_unit(&shop->rng);
    s->user_id = 1 + (uint32_t)(N_USERS * u * u);
    s->remaining = 3 + (int)rng_below(&shop->rng, 18);
    s->nviewed = 0;
    s->clock = 0;
}

static void shop_init(struct shop *shop, uint64_t seed)
{
    memset(shop, 0, sizeof(*shop));
    rng_seed(&shop->rng, seed);
    for (int p = 1; p <= N_PRODUCTS; p++) {
        /* log-uniform prices from 1.99 to about 2000 */
        double v = exp(log(199.0) + rng_unit(&shop->rng) * log(1000.0));
        shop->price_cents[p] = (uint32_t)v;
    }
    double total = 0;
    for (int p = 0; p < N_PRODUCTS; p++) {
        total += 1.0 / pow(p + 1, 1.1);
        shop->popularity_cdf[p] = total;
    }
    for (int p = 0; p < N_PRODUCTS; p++)
        shop->popularity_cdf[p] /= total;
    for (int i = 0; i < N_SESSIONS; i++)
        new_session(shop, &shop->sessions[i]);
}

static uint32_t popular_product(struct shop *shop)
{
    double u = rng_unit(&shop->rng);
    int lo = 0, hi = N_PRODUCTS - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (shop->popularity_cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint32_t)lo + 1;
}

/* ---- formatting --------------------------------------------------------------------------- */

static char *put_u64(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *put_str(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

/* A string literal, its length counted by the compiler (a hand count once wrote its NUL). */
#define put_lit(p, lit) put_str((p), (lit), sizeof(lit) - 1)

static char *put_price(char *p, uint32_t cents)
{
    p = put_u64(p, cents / 100);
    *p++ = '.';
    *p++ = (char)('0' + cents / 10 % 10);
    *p++ = (char)('0' + cents % 10);
    return p;
}

/* "YYYY-MM-DD HH:MM:SS", cached per second. */
struct time_cache {
    int64_t t;
    char text[64];
};

static const char *format_time(struct time_cache *c, int64_t t)
{
    if (t != c->t || !c->text[0]) {
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        snprintf(c->text, sizeof(c->text), "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        c->t = t;
    }
    return c->text;
}

/* The row-level classes --bad-ratio spreads rows over (unterminated_quote only ends a file). */
static const enum reject_code bad_classes[] = {
    REJECT_MISSING_FIELD,      REJECT_BAD_VALUE,    REJECT_RULE_VIOLATION,
    REJECT_WRONG_COLUMN_COUNT, REJECT_BAD_ENCODING, REJECT_DUPLICATE_KEY,
};
#define N_BAD_CLASSES (sizeof(bad_classes) / sizeof(bad_classes[0]))

struct event {
    char id[37];
    const char *time;
    const char *type;
    uint32_t product;
    uint32_t cents;
    uint32_t user;
    const char *session;
};

/* The next event of a random active session. Only a view that will be written as a valid row is
 * remembered, so a valid purchase is always of a product the session validly viewed before. */
static void next_event(struct shop *shop, struct time_cache *tc, int64_t base, bool valid,
                       struct event *ev)
{
    struct session *s = &shop->sessions[rng_below(&shop->rng, N_SESSIONS)];
    if (s->remaining <= 0)
        new_session(shop, s);
    s->remaining--;
    /* events happened in the few seconds before the file was written, in session order */
    int64_t t = s->clock + (int64_t)rng_below(&shop->rng, 2);
    if (t < base - 4)
        t = base - 4 + (int64_t)rng_below(&shop->rng, 3);
    if (t > base)
        t = base;
    s->clock = t;
    uuid_v4(&shop->rng, ev->id);
    ev->time = format_time(tc, t);
    /* 1 in ~11.5 events opens a session (always a view), so 0.33 here gives ~30% purchases */
    if (s->nviewed > 0 && rng_unit(&shop->rng) < 0.33) {
        ev->type = "purchase";
        ev->product = s->viewed[rng_below(&shop->rng, (uint64_t)s->nviewed)];
    } else {
        ev->type = "view";
        ev->product = popular_product(shop);
        if (valid && s->nviewed < MAX_VIEWED)
            s->viewed[s->nviewed++] = ev->product;
        else if (valid)
            s->viewed[rng_below(&shop->rng, MAX_VIEWED)] = ev->product;
    }
    ev->cents = shop->price_cents[ev->product];
    ev->user = s->user_id;
    ev->session = s->id;
}

/* A duplicate_key row: a byte-for-byte repeat of one of the file's recent valid rows (a
 * producer's retry). The caller makes sure there is one. */
static char *put_duplicate(struct shop *shop, char *p)
{
    long have = shop->dup_count < DUP_RING ? shop->dup_count : DUP_RING;
    int i = (int)rng_below(&shop->rng, (uint64_t)have);
    return put_str(p, shop->dup_ring[i], (size_t)shop->dup_len[i]);
}

/* Write one row; a bad row is broken in exactly the way its class says, and in no way the
 * validator would notice earlier (row-level checks first, then the columns in header order). */
static char *put_row(struct shop *shop, char *p, const struct event *ev, enum reject_code bad)
{
    char *start = p;
    unsigned variant = bad == REJECT_NONE ? 0 : (unsigned)rng_below(&shop->rng, 5);
    int skip = bad == REJECT_MISSING_FIELD ? (int)variant : -1; /* column left empty */
    if (skip != 0)
        p = put_str(p, ev->id, 36);
    if (bad == REJECT_BAD_VALUE && variant == 0)
        p = put_lit(p, "-0123456789abcdef"); /* 53 bytes in all: over 50 */
    *p++ = ',';
    if (bad == REJECT_BAD_VALUE && variant == 1)
        p = put_lit(p, "2026-02-30 10:00:00");
    else if (skip != 1)
        p = put_str(p, ev->time, 19);
    *p++ = ',';
    if (bad == REJECT_RULE_VIOLATION && variant == 0)
        p = put_lit(p, "unknown_event");
    else if (bad == REJECT_BAD_ENCODING && variant < 2)
        p = put_str(p, variant == 0 ? "vi\xffw" : "vi\0ew", 5);
    else if (skip != 2)
        p = put_str(p, ev->type, strlen(ev->type));
    *p++ = ',';
    if (bad == REJECT_RULE_VIOLATION && variant == 1)
        *p++ = '0';
    else if (bad == REJECT_BAD_VALUE && variant == 2)
        p = put_lit(p, "99999999999");
    else if (skip != 3)
        p = put_u64(p, ev->product);
    *p++ = ',';
    if (bad == REJECT_RULE_VIOLATION && variant >= 2)
        p = put_str(p, variant == 2 ? "-50.00" : "0.00", variant == 2 ? 6 : 4);
    else if (bad == REJECT_BAD_VALUE && variant == 3)
        p = put_lit(p, "abc");
    else if (bad == REJECT_BAD_VALUE && variant == 4)
        p = put_lit(p, "1.234");
    else if (skip != 4)
        p = put_price(p, ev->cents);
    *p++ = ',';
    p = put_u64(p, ev->user);
    if (bad != REJECT_WRONG_COLUMN_COUNT || variant >= 2) {
        *p++ = ',';
        if (bad == REJECT_BAD_ENCODING && variant >= 2)
            p = put_lit(p, "s\xc3\x28");
        else
            p = put_str(p, ev->session, 36);
    }
    if (bad == REJECT_WRONG_COLUMN_COUNT && variant >= 2)
        p = put_lit(p, ",extra");
    *p++ = '\n';
    if (bad == REJECT_NONE && p - start <= (long)sizeof(shop->dup_ring[0])) {
        int slot = (int)(shop->dup_count % DUP_RING);
        shop->dup_len[slot] = (int)(p - start);
        memcpy(shop->dup_ring[slot], start, (size_t)(p - start));
        shop->dup_count++;
    }
    return p;
}

/* Append one data row of class `bad` (REJECT_NONE: a valid row) to b. Returns the row's price
 * in cents (meaningful for a valid row). */
static uint32_t append_row(struct shop *shop, struct buf *b, struct time_cache *tc, int64_t base,
                           enum reject_code bad)
{
    char *p = buf_reserve(b, 512);
    char *end;
    if (bad == REJECT_DUPLICATE_KEY) {
        b->len += (size_t)(put_duplicate(shop, p) - p);
        return 0;
    }
    struct event ev;
    next_event(shop, tc, base, bad == REJECT_NONE, &ev);
    switch (bad) {
    case REJECT_ROW_TOO_LONG:
        /* a session_id just over the default --max-row-bytes: the reader cuts it first */
        end = put_str(p, ev.id, 36);
        end = put_lit(end, ",");
        end = put_str(end, ev.time, 19);
        end = put_lit(end, ",view,1,1.00,1,");
        b->len += (size_t)(end - p);
        memset(buf_reserve(b, TOO_LONG_BYTES + 1), 'x', TOO_LONG_BYTES);
        b->len += TOO_LONG_BYTES;
        buf_putc(b, '\n');
        return ev.cents;
    case REJECT_UNTERMINATED_QUOTE:
        /* the quote opened before event_time never closes: the row runs to the end of the file */
        end = put_str(p, ev.id, 36);
        end = put_lit(end, ",\"");
        end = put_str(end, ev.time, 19);
        end = put_lit(end, ",view,1,1.00,1,never closed\n");
        break;
    default:
        end = put_row(shop, p, &ev, bad);
        break;
    }
    b->len += (size_t)(end - p);
    return ev.cents;
}

/* ---- files -------------------------------------------------------------------------------- */

struct file_result {
    long rows, valid;
    long invalid[REJECT_CODE_COUNT];
    long long cents;
};

/* Write one file of `rows` rows into path. 0, 1 when stopped midway (file removed), -1 error. */
static int write_file(struct shop *shop, const struct generator_options *o, const char *path,
                      long rows, int64_t base, const atomic_int *stop, struct file_result *fr)
{
    memset(fr, 0, sizeof(*fr));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        log_error("generate", "cannot create '%s': %m", path);
        return -1;
    }
    struct buf b;
    buf_init(&b);
    buf_append(&b, header, sizeof(header) - 1);
    struct time_cache tc = {0};
    /* The two file-level row classes are rarer than the others: an unterminated quote can only
     * end a file, and a row over the ingester's default 1 MiB cap costs a megabyte. */
    bool quote_last = o->bad_ratio > 0 && rng_unit(&shop->rng) < o->bad_ratio / 8;
    long too_long_at = o->bad_ratio > 0 && rng_unit(&shop->rng) < o->bad_ratio / 8
                           ? (long)rng_below(&shop->rng, (uint64_t)rows)
                           : -1;
    shop->dup_count = 0; /* a duplicate repeats a row of its own file (a producer's retry) */
    int rc = 0;
    for (long i = 0; i < rows; i++) {
        enum reject_code bad = REJECT_NONE;
        if (quote_last && i == rows - 1)
            bad = REJECT_UNTERMINATED_QUOTE;
        else if (i == too_long_at)
            bad = REJECT_ROW_TOO_LONG;
        else if (o->bad_ratio > 0 && rng_unit(&shop->rng) < o->bad_ratio) {
            bad = bad_classes[rng_below(&shop->rng, N_BAD_CLASSES)];
            if (bad == REJECT_DUPLICATE_KEY && shop->dup_count == 0)
                bad = REJECT_MISSING_FIELD; /* nothing valid to repeat yet */
        }
        uint32_t cents = append_row(shop, &b, &tc, base, bad);
        fr->rows++;
        if (bad == REJECT_NONE) {
            fr->valid++;
            fr->cents += cents;
        } else {
            fr->invalid[bad]++;
        }
        if (b.len >= FLUSH_BYTES) {
            if (fs_write_all(fd, b.data, b.len) < 0)
                goto io_error;
            buf_reset(&b);
            if (*stop) {
                rc = 1;
                goto out;
            }
        }
    }
    if (fs_write_all(fd, b.data, b.len) < 0 || fsync(fd) < 0)
        goto io_error;
    goto out;
io_error:
    log_error("generate", "cannot write '%s': %m", path);
    rc = -1;
out:
    buf_release(&b);
    if (close(fd) < 0 && rc == 0) {
        log_error("generate", "cannot write '%s': %m", path);
        rc = -1;
    }
    if (rc != 0)
        unlink(path);
    return rc;
}

/* True when dir/name exists (a file the archiver already moved out of the hot folder). */
static bool name_taken(const char *dir, const char *name)
{
    if (!dir)
        return false;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Rename into the hot folder without ever overwriting, and never under a name the archive
 * already holds (the ledger would take a same-named, same-content file for one already loaded);
 * bumps *seq on a clash. */
static int hand_off(const struct generator_options *o, const char *tmp_path, const char *stamp,
                    uint32_t run_id, long *seq, char *final_name, size_t n)
{
    for (;;) {
        char dst[4096];
        snprintf(final_name, n, "events_%s_%08x_%06ld.csv", stamp, run_id, *seq);
        if (name_taken(o->archive_dir, final_name)) {
            (*seq)++;
            continue;
        }
        snprintf(dst, sizeof(dst), "%s/%s", o->input_dir, final_name);
        if (fs_rename_noreplace_at(AT_FDCWD, tmp_path, AT_FDCWD, dst) == 0)
            return fs_fsync_dir(o->input_dir);
        if (errno != EEXIST) {
            log_error("generate", "cannot move '%s' to '%s': %m", tmp_path, dst);
            unlink(tmp_path);
            return -1;
        }
        (*seq)++;
    }
}

static int write_manifest(const char *path, const struct generator_totals *t)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        log_error("generate", "cannot write manifest '%s': %m", path);
        return -1;
    }
    long invalid = 0;
    for (int c = 0; c < REJECT_CODE_COUNT; c++)
        invalid += t->invalid_by_class[c];
    fprintf(f, "{\"files\": %ld, \"rows\": %ld, \"valid\": %ld, \"invalid\": %ld,\n", t->files,
            t->rows, t->valid, invalid);
    fprintf(f, " \"invalid_by_class\": {");
    bool first = true;
    for (int c = REJECT_MISSING_FIELD; c < REJECT_CODE_COUNT; c++) {
        if (c == REJECT_BAD_HEADER || c == REJECT_BAD_FILE)
            continue; /* file-level codes: the generator makes rows */
        fprintf(f, "%s\"%s\": %ld", first ? "" : ", ", reject_code_name((enum reject_code)c),
                t->invalid_by_class[c]);
        first = false;
    }
    fprintf(f, "},\n \"valid_price_sum\": \"%lld.%02lld\"}\n", t->valid_price_cents / 100,
            t->valid_price_cents % 100);
    if (fclose(f) != 0) {
        log_error("generate", "cannot write manifest '%s': %m", path);
        return -1;
    }
    return 0;
}

int generator_run(const struct generator_options *o, const atomic_int *stop,
                  struct generator_totals *totals)
{
    memset(totals, 0, sizeof(*totals));
    if (fs_mkdir_p(o->input_dir) < 0 || fs_mkdir_p(o->temp_dir) < 0)
        return -1;
    uint64_t seed = o->seed_set ? o->seed
                                : ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^
                                      (uint64_t)(clock_now() * 1e9);
    struct shop *shop = xmalloc(sizeof(*shop));
    shop_init(shop, seed);
    /* The run id in file names: from the seed when there is one, so names repeat with the
     * content; hand_off() still never reuses a name that exists. */
    uint64_t id_state = seed;
    uint32_t run_id = (uint32_t)splitmix64(&id_state);
    int rc = 0;
    long seq = 0;
    double next_at = clock_now();
    double sim_clock = SEEDED_EPOCH; /* event times with --seed: a simulated clock */
    double t0 = clock_now();
    for (long f = 0; (o->files == 0 || f < o->files) && !*stop; f++) {
        long rows = o->rows_min;
        if (o->rows_max > o->rows_min)
            rows += (long)rng_below(&shop->rng, (uint64_t)(o->rows_max - o->rows_min + 1));
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        char stamp[32];
        snprintf(stamp, sizeof(stamp), "%04d%02d%02dT%02d%02d%02d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        char tmp_path[4096];
        /* the pid keeps two runs with one seed from opening the same temporary name */
        snprintf(tmp_path, sizeof(tmp_path), "%s/events_%s_%08x_%06ld.%ld.tmp", o->temp_dir, stamp,
                 run_id, seq, (long)getpid());
        int64_t base = o->seed_set ? (int64_t)sim_clock : (int64_t)now;
        struct file_result fr;
        int w = write_file(shop, o, tmp_path, rows, base, stop, &fr);
        if (w != 0) {
            rc = w < 0 ? -1 : 0;
            break;
        }
        char name[256];
        if (hand_off(o, tmp_path, stamp, run_id, &seq, name, sizeof(name)) < 0) {
            rc = -1;
            break;
        }
        seq++;
        if (o->rate > 0)
            sim_clock += (double)fr.rows / o->rate;
        else
            sim_clock += o->interval > 0 ? o->interval : 1;
        totals->files++;
        totals->rows += fr.rows;
        totals->valid += fr.valid;
        totals->valid_price_cents += fr.cents;
        for (int c = 0; c < REJECT_CODE_COUNT; c++)
            totals->invalid_by_class[c] += fr.invalid[c];
        log_debug("generate", "wrote '%s' (%ld rows)", name, fr.rows);
        if (o->rate > 0)
            next_at += (double)fr.rows / o->rate;
        else
            next_at = clock_now() + o->interval;
        if (o->files == 0 || f + 1 < o->files)
            clock_sleep_until(next_at, stop);
    }
    double secs = clock_now() - t0;
    log_info("generate", "wrote %ld files, %ld rows (%ld invalid) in %.2f s (%.0f events/s)",
             totals->files, totals->rows, totals->rows - totals->valid, secs,
             secs > 0 ? (double)totals->rows / secs : 0);
    if (o->manifest && write_manifest(o->manifest, totals) < 0)
        rc = -1;
    free(shop);
    return rc;
}
