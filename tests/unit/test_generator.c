/*
 * test_generator.c - the producer: the same seed gives the same bytes; the header and every field
 * of every row have the original format; the data is realistic (about 70% views, one price per
 * product, skewed popularity, sessions of several events whose clocks never go back, purchases
 * only of products the session viewed); with --bad-ratio each invalid row is found by the real
 * CSV reader and validator in exactly the class the totals (and the manifest) give it, and the
 * valid prices add up to the manifest's sum; file names are never reused, neither over a file in
 * the hot folder nor over one in the archive; a stop request ends the run cleanly.
 */
#include "csv_reader.h"
#include "generator.h"
#include "idset.h"
#include "log.h"
#include "mem.h"
#include "testutil.h"
#include "validate.h"
#include "seed_table.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_PRODUCT 100000 /* the catalogue is far smaller */

static char root[256];

/* ---- helpers -------------------------------------------------------------------------------- */

static void path_of(char *out, size_t n, const char *rel)
{
    snprintf(out, n, "%s/%s", root, rel);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void rm_rf(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int only_events(const struct dirent *d)
{
    return strncmp(d->d_name, "events_", 7) == 0;
}

/* The generated file names in root/rel, sorted; *n gets the count. Caller frees with free_names. */
static struct dirent **list_files(const char *rel, int *n)
{
    char dir[512];
    path_of(dir, sizeof(dir), rel);
    struct dirent **names = NULL;
    *n = scandir(dir, &names, only_events, alphasort);
    if (*n < 0)
        *n = 0;
    return names;
}

static void free_names(struct dirent **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static long count_entries(const char *rel)
{
    char dir[512];
    path_of(dir, sizeof(dir), rel);
    DIR *d = opendir(dir);
    long n = 0;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* The whole content of root/rel/name into b (reset first). */
static void slurp(const char *rel, const char *name, struct buf *b)
{
    char p[768];
    snprintf(p, sizeof(p), "%s/%s/%s", root, rel, name);
    buf_reset(b);
    int fd = open(p, O_RDONLY);
    if (fd < 0) {
        perror(p);
        exit(2);
    }
    for (;;) {
        char *dst = buf_reserve(b, 1 << 20);
        ssize_t r = read(fd, dst, 1 << 20);
        if (r <= 0)
            break;
        b->len += (size_t)r;
    }
    close(fd);
}

static void touch(const char *rel, const char *text)
{
    char p[768];
    path_of(p, sizeof(p), rel);
    FILE *f = fopen(p, "w");
    if (!f) {
        perror(p);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

static struct generator_options options(const char *tag, long files, long rows_min, long rows_max,
                                        double bad_ratio, uint64_t seed)
{
    static char in[64][512], tmp[64][512];
    static int k;
    k = (k + 1) % 64;
    snprintf(in[k], sizeof(in[k]), "%s/%s/input", root, tag);
    snprintf(tmp[k], sizeof(tmp[k]), "%s/%s/temp", root, tag);
    struct generator_options o = {
        .input_dir = in[k],
        .temp_dir = tmp[k],
        .files = files,
        .rows_min = rows_min,
        .rows_max = rows_max,
        .interval = 0,
        .rate = 0,
        .bad_ratio = bad_ratio,
        .seed = seed,
        .seed_set = true,
    };
    return o;
}

static int run(const struct generator_options *o, struct generator_totals *t)
{
    atomic_int stop = 0;
    return generator_run(o, &stop, t);
}

/* ---- field checks, by hand ------------------------------------------------------------------ */

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool is_uuid_v4(const char *s, size_t n)
{
    if (n != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!is_hex(s[i])) {
            return false;
        }
    }
    return s[14] == '4' && (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
}

static bool is_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* "YYYY-MM-DD HH:MM:SS" */
static bool is_time(const char *s, size_t n)
{
    static const char shape[] = "dddd-dd-dd dd:dd:dd";
    if (n != 19)
        return false;
    for (size_t i = 0; i < 19; i++)
        if (shape[i] == 'd' ? !is_digits(s + i, 1) : s[i] != shape[i])
            return false;
    return true;
}

/* A positive id without leading zeros, at most 2147483647; 0 when not. */
static long pos_int(const char *s, size_t n)
{
    if (!is_digits(s, n) || s[0] == '0' || n > 10)
        return 0;
    long long v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v <= 2147483647LL ? (long)v : 0;
}

/* digits '.' two digits, > 0; cents, or -1 when not. */
static long long price_cents(const char *s, size_t n)
{
    if (n < 4 || s[n - 3] != '.' || !is_digits(s, n - 3) || !is_digits(s + n - 2, 2))
        return -1;
    if (s[0] == '0' && n > 4)
        return -1;
    long long v = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '.')
            v = v * 10 + (s[i] - '0');
    return v > 0 ? v : -1;
}

/* A small map from session id to the session's last event time (for "never goes back"). */
struct sess_map {
    char (*key)[37];
    char (*last)[20];
    size_t cap;
};

static char *sess_last(struct sess_map *m, const char *id)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < 36; i++)
        h = (h ^ (unsigned char)id[i]) * 1099511628211ULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->key[i][0]) {
            memcpy(m->key[i], id, 36);
            return m->last[i];
        }
        if (memcmp(m->key[i], id, 36) == 0)
            return m->last[i];
    }
}

static const char header_line[] =
    "event_id,event_time,event_type,product_id,price,user_id,session_id\n";

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_same_seed_same_bytes(void)
{
    struct generator_totals ta, tb, tc;
    struct generator_options a = options("det-a", 4, 50, 400, 0.1, 42);
    struct generator_options b = options("det-b", 4, 50, 400, 0.1, 42);
    struct generator_options c = options("det-c", 4, 50, 400, 0.1, 43);
    CHECK_EQ_LONG(run(&a, &ta), 0);
    CHECK_EQ_LONG(run(&b, &tb), 0);
    CHECK_EQ_LONG(run(&c, &tc), 0);
    CHECK_EQ_LONG(ta.files, 4);
    CHECK_EQ_LONG(ta.rows, tb.rows);
    CHECK_EQ_LONG(ta.valid, tb.valid);
    CHECK_EQ_LONG(ta.valid_price_cents, tb.valid_price_cents);
    CHECK(memcmp(ta.invalid_by_class, tb.invalid_by_class, sizeof(ta.invalid_by_class)) == 0);

    int na, nb, nc;
    struct dirent **fa = list_files("det-a/input", &na);
    struct dirent **fb = list_files("det-b/input", &nb);
    struct dirent **fc = list_files("det-c/input", &nc);
    CHECK_EQ_LONG(na, 4);
    CHECK_EQ_LONG(nb, 4);
    CHECK_EQ_LONG(nc, 4);
    struct buf x, y;
    buf_init(&x);
    buf_init(&y);
    for (int i = 0; i < na && i < nb && i < nc; i++) {
        /* events_YYYYMMDDTHHMMSS_<run id>_<seq>.csv; the run id comes from the seed */
        const char *n1 = fa[i]->d_name, *n2 = fb[i]->d_name, *n3 = fc[i]->d_name;
        CHECK_EQ_LONG(strlen(n1), 7 + 15 + 1 + 8 + 1 + 6 + 4);
        CHECK(is_digits(n1 + 7, 8) && n1[15] == 'T' && is_digits(n1 + 16, 6) && n1[22] == '_');
        CHECK(memcmp(n1 + 23, n2 + 23, 8) == 0);
        CHECK(memcmp(n1 + 23, n3 + 23, 8) != 0);
        char seq[16];
        snprintf(seq, sizeof(seq), "%06d", i);
        CHECK(memcmp(n1 + 32, seq, 6) == 0 && strcmp(n1 + 38, ".csv") == 0);
        slurp("det-a/input", n1, &x);
        slurp("det-b/input", n2, &y);
        CHECK(x.len > 0 && x.len == y.len && memcmp(x.data, y.data, x.len) == 0);
        slurp("det-c/input", n3, &y);
        CHECK(x.len != y.len || memcmp(x.data, y.data, x.len) != 0);
    }
    CHECK_EQ_LONG(count_entries("det-a/temp"), 0);
    buf_release(&x);
    buf_release(&y);
    free_names(fa, na);
    free_names(fb, nb);
    free_names(fc, nc);
}

/* 100,000 valid rows: every field well formed, and the shop behaves like one. */
static void test_rows_are_realistic(void)
{
    struct generator_totals t;
    struct generator_options o = options("shape", 1, 100000, 100000, 0, 7);
    CHECK_EQ_LONG(run(&o, &t), 0);
    CHECK_EQ_LONG(t.rows, 100000);
    CHECK_EQ_LONG(t.valid, 100000);
    int n;
    struct dirent **names = list_files("shape/input", &n);
    CHECK_EQ_LONG(n, 1);
    if (n != 1)
        return;
    struct buf b;
    buf_init(&b);
    slurp("shape/input", names[0]->d_name, &b);
    size_t hl = sizeof(header_line) - 1;
    CHECK(b.len > hl && memcmp(b.data, header_line, hl) == 0);
    CHECK(b.data[b.len - 1] == '\n');
    CHECK(memchr(b.data, '\r', b.len) == NULL);

    static long long price_of[MAX_PRODUCT + 1];
    static long views_of[MAX_PRODUCT + 1];
    long rows = 0, bad_rows = 0, purchases = 0, unviewed = 0, time_back = 0, price_changed = 0;
    long long cents_sum = 0;
    long max_product = 0;
    struct idset *viewed = idset_new(), *sessions = idset_new(), *users = idset_new();
    long nsessions = 0, nusers = 0;
    struct sess_map sm = {xcalloc(1 << 18, 37), xcalloc(1 << 18, 20), 1 << 18};
    const char *p = b.data + hl, *end = b.data + b.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        const char *f[8];
        size_t len[8];
        int nf = 0;
        for (const char *q = p; nf < 8;) {
            const char *c = memchr(q, ',', (size_t)(nl - q));
            f[nf] = q;
            len[nf++] = (size_t)((c ? c : nl) - q);
            if (!c)
                break;
            q = c + 1;
        }
        rows++;
        long product = nf == 7 ? pos_int(f[3], len[3]) : 0;
        long long cents = nf == 7 ? price_cents(f[4], len[4]) : -1;
        bool view = nf == 7 && len[2] == 4 && memcmp(f[2], "view", 4) == 0;
        bool purchase = nf == 7 && len[2] == 8 && memcmp(f[2], "purchase", 8) == 0;
        if (nf != 7 || !is_uuid_v4(f[0], len[0]) || !is_time(f[1], len[1]) || !(view || purchase) ||
            product <= 0 || product > MAX_PRODUCT || cents <= 0 || pos_int(f[5], len[5]) <= 0 ||
            !is_uuid_v4(f[6], len[6])) {
            if (bad_rows++ < 3)
                fprintf(stderr, "malformed row: %.*s\n", (int)(nl - p), p);
            p = nl + 1;
            continue;
        }
        cents_sum += cents;
        if (product > max_product)
            max_product = product;
        if (price_of[product] && price_of[product] != cents)
            price_changed++;
        price_of[product] = cents;
        /* key: session id + product id */
        char key[64];
        memcpy(key, f[6], 36);
        memcpy(key + 36, f[3], len[3]);
        if (view) {
            views_of[product]++;
            idset_insert(viewed, key, 36 + len[3]);
        } else {
            purchases++;
            if (idset_insert(viewed, key, 36 + len[3]))
                unviewed++;
        }
        nsessions += idset_insert(sessions, f[6], 36);
        nusers += idset_insert(users, f[5], len[5]);
        /* seeded times: a simulated clock at 2026-01-01 00:00:00, events up to 4 s before it */
        if (!(memcmp(f[1], "2026-01-01 00:00:00", 19) == 0 ||
              (memcmp(f[1], "2025-12-31 23:59:5", 18) == 0 && f[1][18] >= '6')))
            time_back += 1000000;
        char *last = sess_last(&sm, f[6]);
        if (last[0] && memcmp(f[1], last, 19) < 0)
            time_back++;
        memcpy(last, f[1], 19);
        p = nl + 1;
    }
    CHECK_EQ_LONG(rows, 100000);
    CHECK_EQ_LONG(bad_rows, 0);
    CHECK_EQ_LONG(cents_sum, t.valid_price_cents);
    CHECK_EQ_LONG(price_changed, 0);
    CHECK_EQ_LONG(unviewed, 0);
    CHECK_EQ_LONG(time_back, 0);
    /* about 70% views, 30% purchases */
    CHECK(purchases > 28000 && purchases < 32000);
    /* sessions of several events; many users; a catalogue of thousands */
    CHECK(nsessions > 100000 / 20 && nsessions < 100000 / 5);
    CHECK(nusers > 3000 && nusers <= nsessions);
    CHECK(max_product > 1000);
    /* skewed popularity: the top product is viewed far more than the 100th */
    long views = rows - purchases;
    CHECK(views_of[1] > views / 20);
    CHECK(views_of[1] > 20 * (views_of[100] + 1));
    /* prices: positive, and not all alike */
    CHECK(price_of[1] != price_of[2] || price_of[2] != price_of[3]);

    fprintf(stderr,
            "realistic: %ld rows, %.1f%% purchases, %ld sessions, %ld users, "
            "top product %.1f%% of views\n",
            rows, 100.0 * purchases / rows, nsessions, nusers, 100.0 * views_of[1] / views);
    free(sm.key);
    free(sm.last);
    idset_free(viewed);
    idset_free(sessions);
    idset_free(users);
    buf_release(&b);
    free_names(names, n);
}

/* Every row read back with the real reader and validator; duplicates found the way the ingester
 * finds them (a valid row whose event_id an earlier valid row of the run had). */
static void test_bad_rows_match_the_manifest(void)
{
    struct generator_totals t;
    struct generator_options o = options("bad", 80, 20, 120, 0.3, 11);
    char manifest[512];
    path_of(manifest, sizeof(manifest), "bad/manifest.json");
    o.manifest = manifest;
    CHECK_EQ_LONG(run(&o, &t), 0);
    CHECK_EQ_LONG(t.files, 80);

    struct table_def seed;
    struct schema *s = seed_schema(&seed);
    struct idset *ids = idset_new(), *viewed = idset_new();
    long unviewed = 0;
    struct buf b, copy;
    buf_init(&b);
    buf_init(&copy);
    long found[REJECT_CODE_COUNT] = {0};
    long rows = 0, valid = 0;
    long long cents = 0;
    int n;
    struct dirent **names = list_files("bad/input", &n);
    CHECK_EQ_LONG(n, 80);
    for (int i = 0; i < n; i++) {
        slurp("bad/input", names[i]->d_name, &b);
        struct csv_reader *r = csv_reader_new(1048576);
        csv_reader_feed(r, b.data, b.len);
        csv_reader_finish(r);
        struct csv_row row;
        struct verdict v;
        bool header = true;
        while (csv_reader_next(r, &row) == CSV_ROW) {
            if (header) {
                CHECK_EQ_LONG(schema_bind_header(s, &row, &v), 0);
                header = false;
                continue;
            }
            rows++;
            if (!schema_validate_row(s, &row, &copy, &v)) {
                found[v.code]++;
                continue;
            }
            if (!idset_insert(ids, row.fields[0], row.lengths[0])) {
                found[REJECT_DUPLICATE_KEY]++;
                continue;
            }
            valid++;
            cents += price_cents(row.fields[4], row.lengths[4]);
            /* a valid purchase is of a product a valid view of the session showed earlier */
            char key[64];
            memcpy(key, row.fields[6], 36);
            memcpy(key + 36, row.fields[3], row.lengths[3]);
            bool first = idset_insert(viewed, key, 36 + row.lengths[3]);
            if (row.lengths[2] == 8 && first)
                unviewed++;
        }
        csv_reader_free(r);
    }
    CHECK_EQ_LONG(rows, t.rows);
    CHECK_EQ_LONG(valid, t.valid);
    CHECK_EQ_LONG(cents, t.valid_price_cents);
    long invalid = 0;
    for (int c = REJECT_MISSING_FIELD; c < REJECT_CODE_COUNT; c++) {
        if (found[c] != t.invalid_by_class[c])
            fprintf(stderr, "class %s: found %ld, totals say %ld\n",
                    reject_code_name((enum reject_code)c), found[c], t.invalid_by_class[c]);
        CHECK_EQ_LONG(found[c], t.invalid_by_class[c]);
        invalid += found[c];
    }
    CHECK_EQ_LONG(valid + invalid, rows);
    CHECK_EQ_LONG(unviewed, 0);
    /* about 30% invalid, and every row-level class is represented with this seed */
    CHECK(invalid > rows / 4 && invalid < rows * 7 / 20);
    for (int c = REJECT_MISSING_FIELD; c < REJECT_CODE_COUNT; c++)
        if (c != REJECT_BAD_HEADER && c != REJECT_BAD_FILE && c != REJECT_DB_REJECTED)
            CHECK(t.invalid_by_class[c] > 0);
    CHECK_EQ_LONG(t.invalid_by_class[REJECT_BAD_HEADER], 0);
    CHECK_EQ_LONG(t.invalid_by_class[REJECT_BAD_FILE], 0);

    /* the manifest says the same */
    struct buf m;
    buf_init(&m);
    slurp("bad", "manifest.json", &m);
    buf_putc(&m, '\0');
    char want[256];
    snprintf(want, sizeof(want), "\"files\": 80, \"rows\": %ld, \"valid\": %ld, \"invalid\": %ld,",
             rows, valid, invalid);
    CHECK(strstr(m.data, want) != NULL);
    for (int c = REJECT_MISSING_FIELD; c < REJECT_BAD_HEADER; c++) {
        snprintf(want, sizeof(want), "\"%s\": %ld", reject_code_name((enum reject_code)c),
                 found[c]);
        CHECK(strstr(m.data, want) != NULL);
    }
    snprintf(want, sizeof(want), "\"valid_price_sum\": \"%lld.%02lld\"}", cents / 100, cents % 100);
    CHECK(strstr(m.data, want) != NULL);
    CHECK(strstr(m.data, "bad_header") == NULL);

    buf_release(&m);
    free_names(names, n);
    buf_release(&b);
    buf_release(&copy);
    idset_free(ids);
    idset_free(viewed);
    schema_free(s);
    table_def_release(&seed);
}

/* A name already in the hot folder or in the archive is skipped, and the file there is kept. */
static void test_names_never_reused(void)
{
    struct generator_totals t;
    struct generator_options probe = options("names-probe", 1, 5, 5, 0, 99);
    CHECK_EQ_LONG(run(&probe, &t), 0);
    int n;
    struct dirent **names = list_files("names-probe/input", &n);
    CHECK_EQ_LONG(n, 1);
    if (n != 1)
        return;
    char run_id[9];
    memcpy(run_id, names[0]->d_name + 23, 8);
    run_id[8] = '\0';
    free_names(names, n);

    /* squat on sequence numbers 0-2 in the archive and 3 in the hot folder, for this second and
     * the next two (the run below takes milliseconds) */
    static const char *const dirs[] = {"names", "names/input", "names/archive"};
    for (int i = 0; i < 3; i++) {
        char dir[512];
        path_of(dir, sizeof(dir), dirs[i]);
        mkdir(dir, 0755);
    }
    time_t now = time(NULL);
    for (int k = 0; k < 3; k++) {
        time_t tt = now + k;
        struct tm tm;
        gmtime_r(&tt, &tm);
        for (int seq = 0; seq < 4; seq++) {
            char rel[256];
            snprintf(rel, sizeof(rel), "names/%s/events_%04d%02d%02dT%02d%02d%02d_%s_%06d.csv",
                     seq < 3 ? "archive" : "input", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, run_id, seq);
            touch(rel, "keep\n");
        }
    }
    struct generator_options o = options("names", 2, 5, 5, 0, 99);
    char archive[512];
    path_of(archive, sizeof(archive), "names/archive");
    o.archive_dir = archive;
    CHECK_EQ_LONG(run(&o, &t), 0);
    CHECK_EQ_LONG(t.files, 2);
    names = list_files("names/input", &n);
    CHECK_EQ_LONG(n, 3 + 2);
    struct buf b;
    buf_init(&b);
    int squatted = 0, fresh = 0;
    for (int i = 0; i < n; i++) {
        slurp("names/input", names[i]->d_name, &b);
        if (b.len == 5 && memcmp(b.data, "keep\n", 5) == 0) {
            squatted++;
            continue;
        }
        /* the new files took sequence numbers 4 and 5 */
        char seq[16];
        snprintf(seq, sizeof(seq), "_%06d.csv", 4 + fresh);
        CHECK_EQ_STR(names[i]->d_name + 31, seq);
        fresh++;
    }
    CHECK_EQ_LONG(squatted, 3);
    CHECK_EQ_LONG(fresh, 2);
    CHECK_EQ_LONG(count_entries("names/archive"), 9);
    buf_release(&b);
    free_names(names, n);
}

static void *stop_later(void *arg)
{
    atomic_int *stop = arg;
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    *stop = 1;
    return NULL;
}

/* --files 0 runs until stopped; the stop leaves no temporary file and the totals match. */
static void test_stop(void)
{
    struct generator_totals t;
    struct generator_options o = options("stop", 0, 10, 10, 0, 5);
    o.interval = 0.05;
    atomic_int stop = 0;
    pthread_t th;
    pthread_create(&th, NULL, stop_later, (void *)&stop);
    struct timespec a, z;
    clock_gettime(CLOCK_MONOTONIC, &a);
    CHECK_EQ_LONG(generator_run(&o, &stop, &t), 0);
    clock_gettime(CLOCK_MONOTONIC, &z);
    pthread_join(th, NULL);
    double secs = (double)(z.tv_sec - a.tv_sec) + (double)(z.tv_nsec - a.tv_nsec) / 1e9;
    CHECK(secs < 0.3 + 0.15 + 0.5);
    /* one file at once, then one every 50 ms: about 7 in 300 ms */
    CHECK(t.files >= 3 && t.files <= 8);
    CHECK_EQ_LONG(count_entries("stop/input"), t.files);
    CHECK_EQ_LONG(t.rows, 10 * t.files);
    CHECK_EQ_LONG(count_entries("stop/temp"), 0);

    /* already stopped: nothing written, the manifest still is */
    struct generator_options q = options("stopped", 5, 10, 10, 0, 5);
    char manifest[512];
    path_of(manifest, sizeof(manifest), "stopped/manifest.json");
    q.manifest = manifest;
    stop = 1;
    CHECK_EQ_LONG(generator_run(&q, &stop, &t), 0);
    CHECK_EQ_LONG(t.files, 0);
    CHECK_EQ_LONG(count_entries("stopped/input"), 0);
    struct buf m;
    buf_init(&m);
    slurp("stopped", "manifest.json", &m);
    buf_putc(&m, '\0');
    CHECK(strstr(m.data, "{\"files\": 0, \"rows\": 0, \"valid\": 0, \"invalid\": 0,") == m.data);
    CHECK(strstr(m.data, "\"valid_price_sum\": \"0.00\"}") != NULL);
    buf_release(&m);
}

/* --rate paces by rows: 3 files of 100 rows at 1000 rows/s take about 0.2 s (no pause after the
 * last file). */
static void test_rate(void)
{
    struct generator_totals t;
    struct generator_options o = options("rate", 3, 100, 100, 0, 5);
    o.rate = 1000;
    struct timespec a, z;
    clock_gettime(CLOCK_MONOTONIC, &a);
    CHECK_EQ_LONG(run(&o, &t), 0);
    clock_gettime(CLOCK_MONOTONIC, &z);
    double secs = (double)(z.tv_sec - a.tv_sec) + (double)(z.tv_nsec - a.tv_nsec) / 1e9;
    CHECK_EQ_LONG(t.rows, 300);
    CHECK(secs >= 0.19 && secs < 0.6);
}

int main(void)
{
    log_min_level = LOG_LEVEL_WARN;
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof(root), "%s/test_generator.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 2;
    }
    test_same_seed_same_bytes();
    test_rows_are_realistic();
    test_bad_rows_match_the_manifest();
    test_names_never_reused();
    test_stop();
    test_rate();
    rm_rf(root);
    return TEST_DONE();
}
