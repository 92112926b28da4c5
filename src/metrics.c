/*
 * metrics.c - the process-wide registry of counters, gauges and histograms, and its renderings.
 *
 * Every figure is a C11 atomic updated with relaxed ordering: a loader pays one atomic add per
 * call and never waits, and a reader (the HTTP thread, the metrics.prom writer) sees each figure
 * whole, though not all figures at one instant, which Prometheus does not promise either.
 * Dead letters are tallied per thread during a batch and published at its commit, so the counters
 * equal what the database holds once the loaders are drained. Rendering allocates only into the
 * caller's buffer and reads nothing but atomics, the clock and /proc/self/statm: it works the
 * same while the database is down. The only lock guards the last error's text.
 */
#include "metrics.h"

#include "clock.h"
#include "fsutil.h"
#include "utf8.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RELAXED memory_order_relaxed
#define WATCHDOG_SLOTS 32

static const double batch_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                      1,     2.5,  5,     10,   30,  60};
static const double latency_bounds[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                        2.5,  5,     10,   30,  60,   300, 900};
#define NBATCH (sizeof(batch_bounds) / sizeof(batch_bounds[0]))
#define NLATENCY (sizeof(latency_bounds) / sizeof(latency_bounds[0]))
_Static_assert(NBATCH + 1 + NLATENCY + 1 <= METRICS_SAMPLE_STATE_LEN, "sample state too small");

struct histogram {
    const double *bounds;
    size_t n;
    _Atomic uint64_t counts[16]; /* per bucket, not cumulative; counts[n] is +Inf */
    _Atomic uint64_t sum_us;
};

struct pending {
    _Atomic uint64_t files, bytes;
    _Atomic double oldest;  /* Unix seconds, 0 = none */
    _Atomic double updated; /* Unix seconds of the last report, 0 = slot not in use */
};

struct watchdog_slot {
    atomic_int used;
    char name[32];
    _Atomic double last; /* monotonic seconds */
};

static struct {
    double start_unix;
    _Atomic uint64_t rows_read, rows_loaded, bytes_read, batches, reconnects, retries;
    _Atomic uint64_t rows_skipped, rows_updated;
    _Atomic uint64_t rejected[REJECT_CODE_COUNT];
    _Atomic uint64_t files[METRICS_FILE_STATUS_COUNT];
    struct pending pending[METRICS_MAX_PENDING_SLOTS];
    struct pending extra;
    atomic_bool db_up;
    _Atomic double last_error, last_commit;
    struct histogram batch, latency;
    struct watchdog_slot watchdog[WATCHDOG_SLOTS];
    pthread_mutex_t error_mu;
    char error_text[256];
} m = {
    .batch = {.bounds = batch_bounds, .n = NBATCH},
    .latency = {.bounds = latency_bounds, .n = NLATENCY},
    .error_mu = PTHREAD_MUTEX_INITIALIZER,
};

/* This thread's dead letters in the batch being built, and its watchdog slot. */
static _Thread_local uint64_t batch_rejected[REJECT_CODE_COUNT];
static _Thread_local uint64_t batch_skipped, batch_updated;
static _Thread_local int watchdog_index = -1;

static const char *const file_status_names[METRICS_FILE_STATUS_COUNT] = {"done", "quarantined",
                                                                         "archived", "ignored"};

void metrics_init(void)
{
    if (m.start_unix == 0)
        m.start_unix = clock_wall();
}

static void histogram_observe(struct histogram *h, double v)
{
    size_t i = 0;
    while (i < h->n && v > h->bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->counts[i], 1, RELAXED);
    atomic_fetch_add_explicit(&h->sum_us, (uint64_t)(v > 0 ? v * 1e6 : 0), RELAXED);
}

/* ---- updates -------------------------------------------------------------------------------- */

void metrics_batch_begin(void)
{
    memset(batch_rejected, 0, sizeof(batch_rejected));
    batch_skipped = batch_updated = 0;
}

void metrics_batch_conflicts(uint64_t skipped, uint64_t updated)
{
    batch_skipped += skipped;
    batch_updated += updated;
}

void metrics_batch_reject(enum reject_code code, uint64_t n)
{
    if ((unsigned)code < REJECT_CODE_COUNT)
        batch_rejected[code] += n;
}

void metrics_batch_commit(uint64_t rows_loaded, uint64_t rows_read, uint64_t bytes_read,
                          double seconds)
{
    for (int c = 0; c < REJECT_CODE_COUNT; c++)
        if (batch_rejected[c])
            atomic_fetch_add_explicit(&m.rejected[c], batch_rejected[c], RELAXED);
    atomic_fetch_add_explicit(&m.rows_skipped, batch_skipped, RELAXED);
    atomic_fetch_add_explicit(&m.rows_updated, batch_updated, RELAXED);
    rows_read += batch_skipped + batch_updated;
    metrics_batch_begin();
    atomic_fetch_add_explicit(&m.rows_loaded, rows_loaded, RELAXED);
    atomic_fetch_add_explicit(&m.rows_read, rows_read, RELAXED);
    atomic_fetch_add_explicit(&m.bytes_read, bytes_read, RELAXED);
    atomic_fetch_add_explicit(&m.batches, 1, RELAXED);
    histogram_observe(&m.batch, seconds);
    atomic_store_explicit(&m.last_commit, clock_wall(), RELAXED);
}

void metrics_observe_commit_latency(double landed_unix)
{
    double lat = clock_wall() - landed_unix;
    histogram_observe(&m.latency, lat < 0 ? 0 : lat);
}

void metrics_add_files(enum metrics_file_status status, uint64_t n)
{
    if ((unsigned)status < METRICS_FILE_STATUS_COUNT)
        atomic_fetch_add_explicit(&m.files[status], n, RELAXED);
}

static void pending_store(struct pending *p, uint64_t files, uint64_t bytes, double oldest)
{
    atomic_store_explicit(&p->files, files, RELAXED);
    atomic_store_explicit(&p->bytes, bytes, RELAXED);
    atomic_store_explicit(&p->oldest, oldest, RELAXED);
}

void metrics_set_pending(unsigned slot, uint64_t files, uint64_t bytes, double oldest_mtime)
{
    if (slot >= METRICS_MAX_PENDING_SLOTS)
        return;
    pending_store(&m.pending[slot], files, bytes, oldest_mtime);
    atomic_store_explicit(&m.pending[slot].updated, clock_wall(), RELAXED);
}

void metrics_pending_release(unsigned slot)
{
    if (slot >= METRICS_MAX_PENDING_SLOTS)
        return;
    pending_store(&m.pending[slot], 0, 0, 0);
    atomic_store_explicit(&m.pending[slot].updated, 0, RELAXED);
}

void metrics_set_pending_extra(uint64_t files, uint64_t bytes, double oldest_mtime)
{
    pending_store(&m.extra, files, bytes, oldest_mtime);
}

double metrics_pending_updated_at(void)
{
    double oldest = 0;
    for (int i = 0; i < METRICS_MAX_PENDING_SLOTS; i++) {
        double t = atomic_load_explicit(&m.pending[i].updated, RELAXED);
        if (t > 0 && (oldest == 0 || t < oldest))
            oldest = t;
    }
    return oldest;
}

void metrics_set_db_up(bool up)
{
    atomic_store_explicit(&m.db_up, up, RELAXED);
}

bool metrics_db_up(void)
{
    return atomic_load_explicit(&m.db_up, RELAXED);
}

void metrics_add_reconnect(void)
{
    atomic_fetch_add_explicit(&m.reconnects, 1, RELAXED);
}

void metrics_add_retry(void)
{
    atomic_fetch_add_explicit(&m.retries, 1, RELAXED);
}

void metrics_note_error(const char *component, const char *message)
{
    atomic_store_explicit(&m.last_error, clock_wall(), RELAXED);
    pthread_mutex_lock(&m.error_mu);
    snprintf(m.error_text, sizeof(m.error_text), "%s: %s", component, message);
    pthread_mutex_unlock(&m.error_mu);
}

/* ---- watchdog ------------------------------------------------------------------------------- */

void metrics_watchdog_begin(const char *name)
{
    for (int i = 0; i < WATCHDOG_SLOTS; i++) {
        int expect = 0;
        if (atomic_compare_exchange_strong(&m.watchdog[i].used, &expect, 1)) {
            snprintf(m.watchdog[i].name, sizeof(m.watchdog[i].name), "%s", name);
            atomic_store(&m.watchdog[i].last, clock_now());
            atomic_store(&m.watchdog[i].used, 2); /* name written: visible to readers */
            watchdog_index = i;
            return;
        }
    }
}

void metrics_watchdog_tick(void)
{
    if (watchdog_index >= 0)
        atomic_store_explicit(&m.watchdog[watchdog_index].last, clock_now(), RELAXED);
}

void metrics_watchdog_end(void)
{
    if (watchdog_index >= 0)
        atomic_store(&m.watchdog[watchdog_index].used, 0);
    watchdog_index = -1;
}

bool metrics_watchdog_ok(double max_age, char *who, size_t who_len)
{
    double now = clock_now();
    for (int i = 0; i < WATCHDOG_SLOTS; i++) {
        if (atomic_load(&m.watchdog[i].used) != 2)
            continue;
        if (now - atomic_load_explicit(&m.watchdog[i].last, RELAXED) > max_age) {
            snprintf(who, who_len, "%s", m.watchdog[i].name);
            return false;
        }
    }
    return true;
}

/* ---- reading -------------------------------------------------------------------------------- */

struct totals {
    uint64_t files_pending, bytes_pending;
    double oldest; /* Unix seconds, 0 = none */
};

static void pending_add(struct totals *t, struct pending *p)
{
    t->files_pending += atomic_load_explicit(&p->files, RELAXED);
    t->bytes_pending += atomic_load_explicit(&p->bytes, RELAXED);
    double o = atomic_load_explicit(&p->oldest, RELAXED);
    if (o > 0 && (t->oldest == 0 || o < t->oldest))
        t->oldest = o;
}

static struct totals pending_totals(void)
{
    struct totals t = {0};
    for (int i = 0; i < METRICS_MAX_PENDING_SLOTS; i++)
        pending_add(&t, &m.pending[i]);
    pending_add(&t, &m.extra);
    return t;
}

static uint64_t rejected_total(void)
{
    uint64_t n = 0;
    for (int c = 0; c < REJECT_CODE_COUNT; c++)
        n += atomic_load_explicit(&m.rejected[c], RELAXED);
    return n;
}

static double resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

static double oldest_age(const struct totals *t, double now)
{
    return t->oldest > 0 && now > t->oldest ? now - t->oldest : 0;
}

/* ---- Prometheus text ------------------------------------------------------------------------ */

static void head(struct buf *out, const char *name, const char *type, const char *help)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(struct buf *out, const char *name, const char *help, uint64_t v)
{
    head(out, name, "counter", help);
    buf_printf(out, "%s %" PRIu64 "\n", name, v);
}

static void gauge(struct buf *out, const char *name, const char *help, double v)
{
    head(out, name, "gauge", help);
    buf_printf(out, "%s %.17g\n", name, v);
}

static void histogram_render(struct buf *out, const char *name, const char *help,
                             struct histogram *h)
{
    head(out, name, "histogram", help);
    uint64_t cum = 0;
    for (size_t i = 0; i <= h->n; i++) {
        cum += atomic_load_explicit(&h->counts[i], RELAXED);
        if (i < h->n)
            buf_printf(out, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, h->bounds[i], cum);
        else
            buf_printf(out, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cum);
    }
    buf_printf(out, "%s_sum %.6f\n%s_count %" PRIu64 "\n", name,
               (double)atomic_load_explicit(&h->sum_us, RELAXED) / 1e6, name, cum);
}

void metrics_render(struct buf *out)
{
    double now = clock_wall();
    struct totals t = pending_totals();
    counter(out, "sluice_rows_read_total", "Data rows read in committed batches.",
            atomic_load_explicit(&m.rows_read, RELAXED));
    counter(out, "sluice_rows_loaded_total", "Rows committed to the target table.",
            atomic_load_explicit(&m.rows_loaded, RELAXED));
    counter(out, "sluice_rows_skipped_total",
            "Rows dropped by --on-conflict skip or update (repeats, and rows the guard declined).",
            atomic_load_explicit(&m.rows_skipped, RELAXED));
    counter(out, "sluice_rows_updated_total",
            "Rows that replaced a stored row (--on-conflict update).",
            atomic_load_explicit(&m.rows_updated, RELAXED));
    head(out, "sluice_rows_rejected_total", "counter",
         "Rows committed to the dead-letter table, by error code.");
    for (int c = REJECT_NONE + 1; c < REJECT_CODE_COUNT; c++)
        buf_printf(out, "sluice_rows_rejected_total{code=\"%s\"} %" PRIu64 "\n",
                   reject_code_name((enum reject_code)c),
                   atomic_load_explicit(&m.rejected[c], RELAXED));
    counter(out, "sluice_bytes_read_total", "Input bytes consumed by committed batches.",
            atomic_load_explicit(&m.bytes_read, RELAXED));
    head(out, "sluice_files_total", "counter", "Files finished, by what became of them.");
    for (int s = 0; s < METRICS_FILE_STATUS_COUNT; s++)
        buf_printf(out, "sluice_files_total{status=\"%s\"} %" PRIu64 "\n", file_status_names[s],
                   atomic_load_explicit(&m.files[s], RELAXED));
    gauge(out, "sluice_files_pending", "Files in the hot folder waiting to be loaded.",
          (double)t.files_pending);
    gauge(out, "sluice_bytes_pending", "Bytes of the files waiting to be loaded.",
          (double)t.bytes_pending);
    gauge(out, "sluice_oldest_pending_file_age_seconds",
          "Age of the oldest file waiting to be loaded (0 when none).", oldest_age(&t, now));
    counter(out, "sluice_batches_total", "Transactions committed.",
            atomic_load_explicit(&m.batches, RELAXED));
    histogram_render(out, "sluice_batch_duration_seconds",
                     "Duration of committed batches, BEGIN to COMMIT.", &m.batch);
    histogram_render(out, "sluice_commit_latency_seconds",
                     "From a file's mtime to its last rows committed.", &m.latency);
    gauge(out, "sluice_db_up", "1 when PostgreSQL answered the last check, else 0.",
          metrics_db_up() ? 1 : 0);
    counter(out, "sluice_db_reconnects_total", "Reconnections to PostgreSQL.",
            atomic_load_explicit(&m.reconnects, RELAXED));
    counter(out, "sluice_retries_total", "Batches redone after a failure.",
            atomic_load_explicit(&m.retries, RELAXED));
    gauge(out, "sluice_last_error_timestamp_seconds", "Unix time of the last error (0 = none).",
          atomic_load_explicit(&m.last_error, RELAXED));
    gauge(out, "sluice_last_commit_timestamp_seconds", "Unix time of the last commit (0 = none).",
          atomic_load_explicit(&m.last_commit, RELAXED));
    head(out, "sluice_build_info", "gauge", "Always 1; the labels say which build this is.");
    buf_printf(out, "sluice_build_info{version=\"%s\"} 1\n", SLUICE_VERSION);
    gauge(out, "process_start_time_seconds", "Start time of the process since the Unix epoch.",
          m.start_unix);
    gauge(out, "process_resident_memory_bytes", "Resident memory size in bytes.", resident_bytes());
}

void metrics_write(const char *dir)
{
    /* The temporary is opened with fs_open_private() (0600, never through a symlink or into a
     * planted file) and renamed relative to the folder's descriptor, so the checkpoint folder
     * cannot make sluice write elsewhere. Best effort: a failure is logged at debug level. */
    struct buf b;
    buf_init(&b);
    metrics_render(&b);
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int fd =
        dirfd < 0 ? -1 : fs_open_private(dirfd, ".metrics.prom.tmp", O_WRONLY | O_CREAT | O_TRUNC);
    if (fd < 0)
        log_debug("metrics", "cannot write '%s/.metrics.prom.tmp': %m", dir);
    else if (fs_write_all(fd, b.data, b.len) < 0 || close(fd) != 0 ||
             renameat(dirfd, ".metrics.prom.tmp", dirfd, "metrics.prom") != 0)
        log_debug("metrics", "cannot write '%s/metrics.prom': %m", dir);
    if (dirfd >= 0)
        close(dirfd);
    buf_release(&b);
}

/* ---- JSON ----------------------------------------------------------------------------------- */

void json_put_string(struct buf *out, const char *s)
{
    buf_putc(out, '"');
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    const unsigned char *end = p + strlen((const char *)p);
    while (*p) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            buf_putc(out, '\\');
            buf_putc(out, (char)c);
            p++;
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f) {
            buf_printf(out, "\\u%04x", c);
            p++;
        } else if (c < 0x80) {
            buf_putc(out, (char)c);
            p++;
        } else {
            size_t n = utf8_seq_len(p, (size_t)(end - p));
            if (n == 0) {
                buf_append(out, "\\ufffd", 6);
                p++;
            } else {
                buf_append(out, p, n);
                p += n;
            }
        }
    }
    buf_putc(out, '"');
}

static void json_num(struct buf *out, double v)
{
    if (!isfinite(v))
        buf_append(out, "null", 4);
    else
        buf_printf(out, "%.17g", v);
}

void metrics_render_json(struct buf *out)
{
    double now = clock_wall();
    struct totals t = pending_totals();
    buf_printf(
        out,
        "{\"version\":\"%s\",\"now\":%.3f,\"start_time\":%.3f,\"rows_read\":%" PRIu64
        ",\"rows_loaded\":%" PRIu64 ",\"rows_rejected\":%" PRIu64 ",\"bytes_read\":%" PRIu64
        ",\"batches\":%" PRIu64 ",\"files_pending\":%" PRIu64 ",\"bytes_pending\":%" PRIu64
        ",\"oldest_pending_age\":%.3f,\"db_up\":%s"
        ",\"reconnects\":%" PRIu64 ",\"retries\":%" PRIu64,
        SLUICE_VERSION, now, m.start_unix, atomic_load_explicit(&m.rows_read, RELAXED),
        atomic_load_explicit(&m.rows_loaded, RELAXED), rejected_total(),
        atomic_load_explicit(&m.bytes_read, RELAXED), atomic_load_explicit(&m.batches, RELAXED),
        t.files_pending, t.bytes_pending, oldest_age(&t, now), metrics_db_up() ? "true" : "false",
        atomic_load_explicit(&m.reconnects, RELAXED), atomic_load_explicit(&m.retries, RELAXED));
    buf_append(out, ",\"last_commit\":", 15);
    json_num(out, atomic_load_explicit(&m.last_commit, RELAXED));
    buf_append(out, ",\"last_error_time\":", 19);
    json_num(out, atomic_load_explicit(&m.last_error, RELAXED));
    buf_append(out, ",\"last_error\":", 14);
    char text[sizeof(m.error_text)];
    pthread_mutex_lock(&m.error_mu);
    memcpy(text, m.error_text, sizeof(text));
    pthread_mutex_unlock(&m.error_mu);
    json_put_string(out, text);
    buf_printf(out, ",\"rss_bytes\":%.0f,\"rejected_by_code\":{", resident_bytes());
    for (int c = REJECT_NONE + 1; c < REJECT_CODE_COUNT; c++)
        buf_printf(out, "%s\"%s\":%" PRIu64, c > 1 ? "," : "",
                   reject_code_name((enum reject_code)c),
                   atomic_load_explicit(&m.rejected[c], RELAXED));
    buf_append(out, "},\"files\":{", 11);
    for (int s = 0; s < METRICS_FILE_STATUS_COUNT; s++)
        buf_printf(out, "%s\"%s\":%" PRIu64, s ? "," : "", file_status_names[s],
                   atomic_load_explicit(&m.files[s], RELAXED));
    buf_append(out, "}}", 2);
}

/* ---- history samples ------------------------------------------------------------------------ */

/* The q-quantile of the observations between two snapshots of a histogram, interpolated within
 * its bucket as Prometheus' histogram_quantile() does; -1 when nothing was observed. */
static double quantile(const struct histogram *h, const uint64_t *prev, const uint64_t *cur,
                       double q)
{
    uint64_t total = 0;
    for (size_t i = 0; i <= h->n; i++)
        total += cur[i] - prev[i];
    if (total == 0)
        return -1;
    double rank = q * (double)total, cum = 0;
    for (size_t i = 0; i <= h->n; i++) {
        double d = (double)(cur[i] - prev[i]);
        if (cum + d >= rank && d > 0) {
            if (i == h->n)
                return h->bounds[h->n - 1];
            double lo = i ? h->bounds[i - 1] : 0;
            return lo + (h->bounds[i] - lo) * ((rank - cum) / d);
        }
        cum += d;
    }
    return h->bounds[h->n - 1];
}

static void histogram_snapshot(struct histogram *h, uint64_t *out)
{
    for (size_t i = 0; i <= h->n; i++)
        out[i] = atomic_load_explicit(&h->counts[i], RELAXED);
}

void metrics_sample(struct metrics_sample *s, uint64_t *prev)
{
    uint64_t cur[METRICS_SAMPLE_STATE_LEN];
    uint64_t *cb = cur, *cl = cur + NBATCH + 1;
    histogram_snapshot(&m.batch, cb);
    histogram_snapshot(&m.latency, cl);
    struct totals t = pending_totals();
    *s = (struct metrics_sample){
        .t = clock_wall(),
        .rows_read = atomic_load_explicit(&m.rows_read, RELAXED),
        .rows_loaded = atomic_load_explicit(&m.rows_loaded, RELAXED),
        .rows_rejected = rejected_total(),
        .bytes_read = atomic_load_explicit(&m.bytes_read, RELAXED),
        .files_pending = t.files_pending,
        .bytes_pending = t.bytes_pending,
        .batch_p50 = quantile(&m.batch, prev, cb, 0.5),
        .batch_p99 = quantile(&m.batch, prev, cb, 0.99),
        .latency_p50 = quantile(&m.latency, prev + NBATCH + 1, cl, 0.5),
        .latency_p99 = quantile(&m.latency, prev + NBATCH + 1, cl, 0.99),
        .db_up = metrics_db_up(),
    };
    memcpy(prev, cur, (NBATCH + 1 + NLATENCY + 1) * sizeof(*prev));
}
