/* test_metrics.c - the registry: every error code is a series from the start; dead letters count
 * only when their batch commits (a rolled-back attempt is forgotten); counters from several
 * threads add up exactly; histograms are cumulative and their quantiles interpolate; JSON strings
 * never carry markup or invalid UTF-8; the watchdog notices a thread that stops ticking. */
#include "metrics.h"
#include "testutil.h"

#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

/* The value of one series in the rendered text, or -1. */
static double series(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; (p = strstr(p, name)) != NULL; p += n)
        if ((p == text || p[-1] == '\n') && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}

static char *render(void)
{
    struct buf b;
    buf_init(&b);
    metrics_render(&b);
    buf_putc(&b, '\0');
    return b.data;
}

static void *committer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10000; i++) {
        metrics_batch_begin();
        metrics_batch_reject(REJECT_BAD_VALUE, 1);
        metrics_batch_commit(3, 4, 100, 0.001);
    }
    return NULL;
}

int main(void)
{
    metrics_init();
    char *t = render();
    for (int c = REJECT_NONE + 1; c < REJECT_CODE_COUNT; c++) {
        char name[96];
        snprintf(name, sizeof(name), "sluice_rows_rejected_total{code=\"%s\"}",
                 reject_code_name((enum reject_code)c));
        CHECK(series(t, name) == 0);
    }
    CHECK(series(t, "sluice_db_up") == 0);
    CHECK(series(t, "process_start_time_seconds") > 1e9);
    free(t);

    /* an attempt that is rolled back is forgotten; the redo counts once */
    metrics_batch_begin();
    metrics_batch_reject(REJECT_MISSING_FIELD, 5);
    metrics_batch_begin();
    metrics_batch_reject(REJECT_MISSING_FIELD, 2);
    metrics_batch_reject(REJECT_DUPLICATE_KEY, 1);
    metrics_batch_commit(10, 13, 1000, 0.3);
    metrics_batch_commit(0, 0, 0, 20); /* nothing tallied since the last commit */
    t = render();
    CHECK(series(t, "sluice_rows_rejected_total{code=\"missing_field\"}") == 2);
    CHECK(series(t, "sluice_rows_rejected_total{code=\"duplicate_key\"}") == 1);
    CHECK(series(t, "sluice_rows_loaded_total") == 10);
    CHECK(series(t, "sluice_rows_read_total") == 13);
    CHECK(series(t, "sluice_batches_total") == 2);
    CHECK(series(t, "sluice_batch_duration_seconds_bucket{le=\"0.25\"}") == 0);
    CHECK(series(t, "sluice_batch_duration_seconds_bucket{le=\"0.5\"}") == 1);
    CHECK(series(t, "sluice_batch_duration_seconds_bucket{le=\"30\"}") == 2);
    CHECK(series(t, "sluice_batch_duration_seconds_bucket{le=\"+Inf\"}") == 2);
    CHECK(series(t, "sluice_batch_duration_seconds_count") == 2);
    CHECK(series(t, "sluice_batch_duration_seconds_sum") > 20.29 &&
          series(t, "sluice_batch_duration_seconds_sum") < 20.31);
    free(t);

    /* four threads, 10,000 commits each: exact sums */
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, committer, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    t = render();
    CHECK(series(t, "sluice_rows_rejected_total{code=\"bad_value\"}") == 40000);
    CHECK(series(t, "sluice_rows_loaded_total") == 10 + 120000);
    CHECK(series(t, "sluice_bytes_read_total") == 1000 + 4000000);
    free(t);

    /* pending: the sum of the slots plus the extra, the oldest across them */
    metrics_set_pending(0, 2, 200, 1000);
    metrics_set_pending(1, 1, 50, 900);
    metrics_set_pending_extra(1, 10, 950);
    t = render();
    CHECK(series(t, "sluice_files_pending") == 4);
    CHECK(series(t, "sluice_bytes_pending") == 260);
    CHECK(series(t, "sluice_oldest_pending_file_age_seconds") > 1e9); /* now - 900 */
    free(t);
    metrics_pending_release(0);
    metrics_pending_release(1);
    metrics_set_pending_extra(0, 0, 0);
    t = render();
    CHECK(series(t, "sluice_files_pending") == 0);
    CHECK(series(t, "sluice_oldest_pending_file_age_seconds") == 0);
    free(t);

    /* quantiles over the growth since the last sample: 0.3 s lands in (0.25, 0.5] */
    uint64_t prev[METRICS_SAMPLE_STATE_LEN] = {0};
    struct metrics_sample s;
    metrics_sample(&s, prev);
    metrics_batch_commit(0, 0, 0, 0.3);
    metrics_sample(&s, prev);
    CHECK(s.batch_p50 > 0.25 && s.batch_p50 <= 0.5);
    metrics_sample(&s, prev);
    CHECK(s.batch_p50 < 0); /* nothing new: no figure, not an old one */

    /* JSON strings: markup escaped, invalid UTF-8 replaced, valid UTF-8 kept */
    struct buf j;
    buf_init(&j);
    json_put_string(&j, "<img src=x onerror=alert(1)>");
    CHECK_EQ_MEM(j.data, j.len, "\"\\u003cimg src=x onerror=alert(1)\\u003e\"");
    buf_reset(&j);
    json_put_string(&j, "a\"b\\c\n\x01\xff\xc3\xa9");
    CHECK_EQ_MEM(j.data, j.len, "\"a\\\"b\\\\c\\u000a\\u0001\\ufffd\xc3\xa9\"");
    buf_release(&j);

    /* the watchdog: a thread that stops ticking is named */
    char who[32] = "";
    metrics_watchdog_begin("tester");
    CHECK(metrics_watchdog_ok(10, who, sizeof(who)));
    usleep(20000);
    CHECK(!metrics_watchdog_ok(0.01, who, sizeof(who)));
    CHECK_EQ_STR(who, "tester");
    metrics_watchdog_tick();
    CHECK(metrics_watchdog_ok(0.01, who, sizeof(who)));
    metrics_watchdog_end();
    usleep(20000);
    CHECK(metrics_watchdog_ok(0.01, who, sizeof(who))); /* ended: no longer watched */
    return TEST_DONE();
}
