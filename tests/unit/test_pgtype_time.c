/*
 * test_pgtype_time.c - date, time, timestamp and timestamptz as pgtype_parse reads them: the
 * exact COPY text and value of each accepted form, the server's rules at their edges (24:00,
 * second 60, rounding of long fractions and of precision typmods, offsets crossing days and
 * years, the length limit), the zones of --time-zone, the refused forms with their messages, and
 * the order of pgtype_compare. The expected values were read from PostgreSQL 15 (the
 * differential test t_types_time.sh checks the same against a live server in bulk).
 *
 * Last, a throughput figure for timestamptz values is printed; it is not asserted on.
 */
#include "pgtype.h"
#include "testutil.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

static struct pgtype type_of(const char *typname, int32_t typmod)
{
    struct pgtype t;
    pgtype_from_catalog(&t, typname, typmod);
    return t;
}

/* Parse s as typname(typmod) in zone; expect the COPY text want and, when want_i is not NULL,
 * the value *want_i. */
#define EXPECT_OK(typname, typmod, zone, s, want, want_i)                                          \
    do {                                                                                           \
        struct pgtype t_ = type_of(typname, typmod);                                               \
        struct pgtype_env env_ = {0};                                                              \
        CHECK(pgtype_env_set_zone(&env_, zone) == 0);                                              \
        struct buf out_;                                                                           \
        buf_init(&out_);                                                                           \
        struct pgvalue v_;                                                                         \
        char why_[128];                                                                            \
        const char *bad_ = pgtype_parse(&t_, &env_, s, strlen(s), &out_, &v_, why_, sizeof(why_)); \
        if (bad_)                                                                                  \
            fprintf(stderr, "%s:%d: '%s' refused: %s\n", __FILE__, __LINE__, s, bad_);             \
        CHECK(bad_ == NULL);                                                                       \
        CHECK_EQ_MEM(out_.data, out_.len, want);                                                   \
        const int64_t *wi_ = (want_i);                                                             \
        if (!bad_ && wi_)                                                                          \
            CHECK_EQ_LONG(v_.i, *wi_);                                                             \
        buf_release(&out_);                                                                        \
    } while (0)

#define EXPECT_BAD(typname, typmod, s, why)                                                        \
    do {                                                                                           \
        struct pgtype t_ = type_of(typname, typmod);                                               \
        struct pgtype_env env_ = {0};                                                              \
        struct buf out_;                                                                           \
        buf_init(&out_);                                                                           \
        char why_[128];                                                                            \
        const char *bad_ =                                                                         \
            pgtype_parse(&t_, &env_, s, strlen(s), &out_, NULL, why_, sizeof(why_));               \
        CHECK(bad_ != NULL);                                                                       \
        if (bad_)                                                                                  \
            CHECK_EQ_STR(bad_, why);                                                               \
        CHECK_EQ_LONG(out_.len, 0);                                                                \
        buf_release(&out_);                                                                        \
    } while (0)

static const char fmt_date[] = "not a date (expected YYYY-MM-DD)";
static const char fmt_time[] = "not a time (expected HH:MM[:SS[.ffffff]])";
static const char fmt_ts[] = "not a timestamp (expected YYYY-MM-DD HH:MM:SS[.ffffff][Z|+HH:MM])";

static const int64_t day_us = INT64_C(86400000000);

static void test_date(void)
{
    const int64_t zero = 0, one = 1, minus = -1, leap = 424, inf = INT64_MAX, ninf = INT64_MIN,
                  first = -730119, last = 2921939;
    EXPECT_OK("date", -1, "UTC", "2000-01-01", "2000-01-01", &zero);
    EXPECT_OK("date", -1, "UTC", "2000-01-02", "2000-01-02", &one);
    EXPECT_OK("date", -1, "UTC", "1999-12-31", "1999-12-31", &minus);
    EXPECT_OK("date", -1, "UTC", "2001-02-28", "2001-02-28", &leap);
    EXPECT_OK("date", -1, "UTC", "0001-01-01", "0001-01-01", &first);
    EXPECT_OK("date", -1, "UTC", "9999-12-31", "9999-12-31", &last);
    EXPECT_OK("date", -1, "UTC", "2024-02-29", "2024-02-29", NULL);
    EXPECT_OK("date", -1, "UTC", "2000-02-29", "2000-02-29", NULL);
    EXPECT_OK("date", -1, "UTC", " \t2024-01-31\n\r\f\v", "2024-01-31", NULL);
    EXPECT_OK("date", -1, "UTC", "infinity", "infinity", &inf);
    EXPECT_OK("date", -1, "UTC", " -INFINITY ", "-infinity", &ninf);
    EXPECT_BAD("date", -1, "2023-02-29", "no such date");
    EXPECT_BAD("date", -1, "1900-02-29", "no such date");
    EXPECT_BAD("date", -1, "2024-04-31", "no such date");
    EXPECT_BAD("date", -1, "2024-13-01", "no such date");
    EXPECT_BAD("date", -1, "2024-00-10", "no such date");
    EXPECT_BAD("date", -1, "2024-01-00", "no such date");
    EXPECT_BAD("date", -1, "0000-01-01", "outside years 0001..9999");
    EXPECT_BAD("date", -1, "10000-01-01", "outside years 0001..9999");
    /* Forms the server reads too, refused here on purpose (documented). */
    EXPECT_BAD("date", -1, "2024-1-1", fmt_date);
    EXPECT_BAD("date", -1, "20240101", fmt_date);
    EXPECT_BAD("date", -1, "2024-01-01 12:00:00", fmt_date);
    EXPECT_BAD("date", -1, "2024-01-01 BC", fmt_date);
    EXPECT_BAD("date", -1, "now", fmt_date);
    EXPECT_BAD("date", -1, "+infinity", fmt_date);
    EXPECT_BAD("date", -1, "2024/01/01", fmt_date);
    EXPECT_BAD("date", -1, " ", fmt_date);
}

/* Every day of years 1..9999 in order: each date is the day after the one before it. */
static void test_every_date(void)
{
    static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    struct pgtype t = type_of("date", -1);
    struct pgtype_env env = {0};
    struct buf out;
    buf_init(&out);
    int64_t want = -730119; /* 0001-01-01 */
    long wrong = 0;
    char s[40], why[64];
    for (int y = 1; y <= 9999; y++)
        for (int m = 1; m <= 12; m++) {
            bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
            int last = month_days[m - 1] + (m == 2 && leap);
            for (int d = 1; d <= last + 1; d++) {
                snprintf(s, sizeof(s), "%04d-%02d-%02d", y, m, d);
                struct pgvalue v;
                buf_reset(&out);
                const char *bad = pgtype_parse(&t, &env, s, 10, &out, &v, why, sizeof(why));
                if (d > last)
                    wrong += bad == NULL;
                else
                    wrong += bad || v.i != want++ || out.len != 10 || memcmp(out.data, s, 10);
            }
        }
    CHECK_EQ_LONG(wrong, 0);
    CHECK_EQ_LONG(want, 2921940); /* the day after 9999-12-31 */
    buf_release(&out);
}

static void test_time(void)
{
    const int64_t noon = INT64_C(43200000000), full = day_us, last = day_us - 1;
    EXPECT_OK("time", -1, "UTC", "12:00", "12:00:00", &noon);
    EXPECT_OK("time", -1, "UTC", "12:00:00", "12:00:00", &noon);
    EXPECT_OK("time", -1, "UTC", "23:59:59.999999", "23:59:59.999999", &last);
    EXPECT_OK("time", -1, "UTC", "01:02:03.5", "01:02:03.5", NULL);
    EXPECT_OK("time", -1, "UTC", "01:02:03.000100", "01:02:03.0001", NULL);
    EXPECT_OK("time", -1, "UTC", "24:00:00", "24:00:00", &full);
    EXPECT_OK("time", -1, "UTC", "24:00", "24:00:00", &full);
    EXPECT_OK("time", -1, "UTC", "24:00:00.0000001", "24:00:00", &full);
    EXPECT_OK("time", -1, "UTC", "23:59:60", "24:00:00", &full);
    EXPECT_OK("time", -1, "UTC", "12:59:60.5", "13:00:00.5", NULL);
    EXPECT_OK("time", -1, "UTC", "23:59:59.9999995", "24:00:00", &full);
    /* More than 6 digits: the decimal as a double, times 10^6, rounded half to even. */
    EXPECT_OK("time", -1, "UTC", "12:00:00.1234567", "12:00:00.123457", NULL);
    EXPECT_OK("time", -1, "UTC", "12:00:00.0000005", "12:00:00", NULL);
    EXPECT_OK("time", -1, "UTC", "12:00:00.0000015", "12:00:00.000002", NULL);
    EXPECT_OK("time", -1, "UTC", "12:00:00.0000025", "12:00:00.000002", NULL);
    /* Precision typmods round half up. */
    EXPECT_OK("time", 0, "UTC", "23:59:59.5", "24:00:00", &full);
    EXPECT_OK("time", 0, "UTC", "10:00:00.4999", "10:00:00", NULL);
    EXPECT_OK("time", 2, "UTC", "10:00:00.125", "10:00:00.13", NULL);
    EXPECT_BAD("time", -1, "24:00:00.1", "no such time of day");
    EXPECT_BAD("time", -1, "24:00:01", "no such time of day");
    EXPECT_BAD("time", -1, "23:59:60.5", "no such time of day");
    EXPECT_BAD("time", -1, "25:00", "no such time of day");
    EXPECT_BAD("time", -1, "12:60:00", "no such time of day");
    EXPECT_BAD("time", -1, "12:00:61", "no such time of day");
    EXPECT_BAD("time", -1, "12:00:00+05", "a time without time zone takes no UTC offset");
    EXPECT_BAD("time", -1, "12:00:00Z", "a time without time zone takes no UTC offset");
    EXPECT_BAD("time", -1, "1:02:03", fmt_time);
    EXPECT_BAD("time", -1, "12:00:00.", fmt_time);
    EXPECT_BAD("time", -1, "12:30.5", fmt_time);
    EXPECT_BAD("time", -1, "12", fmt_time);
    EXPECT_BAD("time", -1, "infinity", fmt_time);
    EXPECT_BAD("time", -1, "2024-01-01 12:00:00", fmt_time);
    /* The server keeps at most 128 characters of a time's fields. */
    char longest[140] = "12:00:00.";
    memset(longest + 9, '1', 119);
    longest[128] = '\0';
    EXPECT_OK("time", -1, "UTC", longest, "12:00:00.111111", NULL);
    longest[128] = '1';
    longest[129] = '\0';
    EXPECT_BAD("time", -1, longest, "too long for PostgreSQL's date/time input");
}

static void test_timestamp(void)
{
    const int64_t zero = 0, half = 500000, day = day_us, inf = INT64_MAX;
    EXPECT_OK("timestamp", -1, "UTC", "2000-01-01 00:00:00", "2000-01-01 00:00:00", &zero);
    EXPECT_OK("timestamp", -1, "UTC", "2000-01-01T00:00:00.5", "2000-01-01 00:00:00.5", &half);
    EXPECT_OK("timestamp", -1, "UTC", "2000-01-01t24:00", "2000-01-02 00:00:00", &day);
    EXPECT_OK("timestamp", -1, "UTC", "2000-01-01", "2000-01-01 00:00:00", &zero);
    EXPECT_OK("timestamp", -1, "UTC", "9999-12-31 24:00:00", "10000-01-01 00:00:00", NULL);
    EXPECT_OK("timestamp", -1, "UTC", "2024-12-31 23:59:60", "2025-01-01 00:00:00", NULL);
    EXPECT_OK("timestamp", -1, "UTC", "infinity", "infinity", &inf);
    /* Without an offset the wall clock as written, whatever the zone. */
    EXPECT_OK("timestamp", -1, "+05:30", "2024-06-01 12:00:00", "2024-06-01 12:00:00", NULL);
    /* With one: converted to the --time-zone wall clock (UTC by default). */
    EXPECT_OK("timestamp", -1, "UTC", "2024-06-01 12:00:00+02:00", "2024-06-01 10:00:00", NULL);
    EXPECT_OK("timestamp", -1, "UTC", "2024-12-31 23:30:00-01", "2025-01-01 00:30:00", NULL);
    EXPECT_OK("timestamp", -1, "+05:30", "2024-06-01 12:00:00Z", "2024-06-01 17:30:00", NULL);
    EXPECT_OK("timestamp", -1, "-0800", "2024-01-01 06:00:00 +0000", "2023-12-31 22:00:00", NULL);
    EXPECT_OK("timestamp", -1, "UTC", "0001-01-01 00:00:00+05", "0001-12-31 19:00:00 BC", NULL);
    /* Typmods round half away from zero, so before 2000 a half goes to the earlier second. */
    EXPECT_OK("timestamp", 0, "UTC", "2000-01-01 00:00:00.5", "2000-01-01 00:00:01", NULL);
    EXPECT_OK("timestamp", 0, "UTC", "1999-12-31 23:59:59.5", "1999-12-31 23:59:59", NULL);
    EXPECT_OK("timestamp", 3, "UTC", "2024-01-01 10:00:00.1235", "2024-01-01 10:00:00.124", NULL);
    EXPECT_BAD("timestamp", -1, "2024-02-30 10:00:00", "no such date");
    EXPECT_BAD("timestamp", -1, "2024-01-01 24:00:00.5", "no such time of day");
    EXPECT_BAD("timestamp", -1, "2024-01-01 12:00:00+16:00",
               "UTC offset out of range (at most +/-15:59)");
    EXPECT_BAD("timestamp", -1, "2024-01-01 12:00:00+05:60",
               "UTC offset out of range (at most +/-15:59)");
    EXPECT_BAD("timestamp", -1, "0000-01-01 12:00:00", "outside years 0001..9999");
    EXPECT_BAD("timestamp", -1, "10000-01-01 12:00:00", "outside years 0001..9999");
    EXPECT_BAD("timestamp", -1, "2024-01-01T", fmt_ts);
    EXPECT_BAD("timestamp", -1, "2024-01-01  12:00:00", fmt_ts);
    EXPECT_BAD("timestamp", -1, "2024-01-01 12:00:00  +05", fmt_ts);
    EXPECT_BAD("timestamp", -1, "2024-01-01 12:00:00+5", fmt_ts);
    EXPECT_BAD("timestamp", -1, "2024-01-01 12:00:00+05:30:00", fmt_ts);
    EXPECT_BAD("timestamp", -1, "2024-01-01 12:00:00 UTC", fmt_ts);
    EXPECT_BAD("timestamp", -1, "2024-01-01 12:00:00+05Z", fmt_ts);
    EXPECT_BAD("timestamp", -1, "2024-01-01 12:00:00,5", fmt_ts);
    EXPECT_BAD("timestamp", -1, "2024-01-01\t12:00:00", fmt_ts);
    EXPECT_BAD("timestamp", -1, "+infinity", fmt_ts);
    EXPECT_BAD("timestamp", -1, "epoch", fmt_ts);
}

static void test_timestamptz(void)
{
    const int64_t zero = 0, ninf = INT64_MIN;
    EXPECT_OK("timestamptz", -1, "UTC", "2000-01-01 00:00:00Z", "2000-01-01 00:00:00+00", &zero);
    EXPECT_OK("timestamptz", -1, "UTC", "2000-01-01 05:30:00+05:30", "2000-01-01 00:00:00+00",
              &zero);
    EXPECT_OK("timestamptz", -1, "+05:30", "2000-01-01 05:30", "2000-01-01 00:00:00+00", &zero);
    EXPECT_OK("timestamptz", -1, "-08", "1999-12-31 16:00:00", "2000-01-01 00:00:00+00", &zero);
    EXPECT_OK("timestamptz", -1, "+05:30", "2000-01-01 00:00:00-0100", "2000-01-01 01:00:00+00",
              NULL);
    EXPECT_OK("timestamptz", -1, "UTC", "9999-12-31 23:00:00-05", "10000-01-01 04:00:00+00", NULL);
    EXPECT_OK("timestamptz", -1, "UTC", "0001-01-01 00:00:00+15:59", "0001-12-31 08:01:00+00 BC",
              NULL);
    EXPECT_OK("timestamptz", -1, "UTC", "2024-03-10 12:00:00.123456789 +01",
              "2024-03-10 11:00:00.123457+00", NULL);
    EXPECT_OK("timestamptz", 0, "+05:30", "1999-12-31 23:59:59.5", "1999-12-31 18:29:59+00", NULL);
    EXPECT_OK("timestamptz", -1, "UTC", "-infinity", "-infinity", &ninf);
    /* The server's work buffer: each field and its terminator, at most 153 bytes in all. */
    char s[200] = "2024-01-01 12:00:00.";
    memset(s + 20, '0', 126);
    memcpy(s + 146, "+05:30", 7);
    EXPECT_BAD("timestamptz", -1, s, "too long for PostgreSQL's date/time input");
    memcpy(s + 145, "+05:30", 7); /* 125 digits: date 10 + 1, time 134 + 1, offset 6 + 1 */
    EXPECT_OK("timestamptz", -1, "UTC", s, "2024-01-01 06:30:00+00", NULL);
}

static void test_zone(void)
{
    struct pgtype_env env = {123};
    CHECK(pgtype_env_set_zone(&env, "UTC") == 0);
    CHECK_EQ_LONG(env.tz_offset, 0);
    CHECK(pgtype_env_set_zone(&env, "+05:30") == 0);
    CHECK_EQ_LONG(env.tz_offset, 19800);
    CHECK(pgtype_env_set_zone(&env, "-0800") == 0);
    CHECK_EQ_LONG(env.tz_offset, -28800);
    CHECK(pgtype_env_set_zone(&env, "+01") == 0);
    CHECK_EQ_LONG(env.tz_offset, 3600);
    CHECK(pgtype_env_set_zone(&env, "Z") == 0);
    CHECK_EQ_LONG(env.tz_offset, 0);
    CHECK(pgtype_env_set_zone(&env, "utc") == 0);
    env.tz_offset = 7;
    CHECK(pgtype_env_set_zone(&env, "Europe/Paris") == -1);
    CHECK(pgtype_env_set_zone(&env, "") == -1);
    CHECK(pgtype_env_set_zone(&env, "+16:00") == -1);
    CHECK(pgtype_env_set_zone(&env, "+5") == -1);
    CHECK(pgtype_env_set_zone(&env, " +05") == -1);
    CHECK(pgtype_env_set_zone(&env, "CET") == -1);
    CHECK_EQ_LONG(env.tz_offset, 7); /* a refused zone changes nothing */
}

static struct pgvalue parsed(const struct pgtype *t, const char *s)
{
    struct pgtype_env env = {0};
    struct buf out;
    buf_init(&out);
    struct pgvalue v;
    char why[64];
    CHECK(pgtype_parse(t, &env, s, strlen(s), &out, &v, why, sizeof(why)) == NULL);
    buf_release(&out);
    return v;
}

static void test_compare(void)
{
    struct pgtype ts = type_of("timestamptz", -1), tm = type_of("time", -1),
                  d = type_of("date", -1);
    const char *order[] = {"-infinity",
                           "0001-01-01 00:00:00+05",
                           "0001-01-01 00:00:00",
                           "1999-12-31 23:59:59.999999",
                           "2000-01-01 01:00:00+01:00",
                           "2000-01-01 00:00:00.000001",
                           "9999-12-31 23:59:59",
                           "infinity"};
    size_t n = sizeof(order) / sizeof(order[0]);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            struct pgvalue a = parsed(&ts, order[i]), b = parsed(&ts, order[j]);
            int want = (i > j) - (i < j);
            int c = pgtype_compare(&ts, &a, &b);
            CHECK_EQ_LONG((c > 0) - (c < 0), want);
        }
    struct pgvalue e1 = parsed(&ts, "2000-01-01 01:00:00+01:00"),
                   e2 = parsed(&ts, "2000-01-01 00:00Z");
    CHECK_EQ_LONG(pgtype_compare(&ts, &e1, &e2), 0);
    struct pgvalue t1 = parsed(&tm, "23:59:59.999999"), t2 = parsed(&tm, "24:00:00");
    CHECK(pgtype_compare(&tm, &t1, &t2) < 0);
    struct pgvalue d1 = parsed(&d, "9999-12-31"), d2 = parsed(&d, "infinity"),
                   d3 = parsed(&d, "-infinity"), d4 = parsed(&d, "0001-01-01");
    CHECK(pgtype_compare(&d, &d1, &d2) < 0);
    CHECK(pgtype_compare(&d, &d3, &d4) < 0);
    CHECK(pgtype_orderable(&ts));
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench(void)
{
    enum { NDISTINCT = 1024, NVALUES = 500000 };
    static char values[NDISTINCT][40];
    for (int i = 0; i < NDISTINCT; i++)
        snprintf(values[i], sizeof(values[i]), "2024-%02d-%02d %02d:%02d:%02d%s", 1 + i % 12,
                 1 + i % 28, i % 24, i % 60, (i * 7) % 60,
                 i % 4 == 0   ? ".123"
                 : i % 4 == 1 ? "Z"
                 : i % 4 == 2 ? "+05:30"
                              : "");
    struct pgtype t = type_of("timestamptz", -1);
    struct pgtype_env env = {0};
    struct buf out;
    buf_init(&out);
    struct pgvalue v;
    char why[64];
    long bad = 0;
    double t0 = now_seconds();
    for (int i = 0; i < NVALUES; i++) {
        const char *s = values[i % NDISTINCT];
        bad += pgtype_parse(&t, &env, s, strlen(s), &out, &v, why, sizeof(why)) != NULL;
        if (out.len > 1 << 20)
            buf_reset(&out);
    }
    double secs = now_seconds() - t0;
    CHECK_EQ_LONG(bad, 0);
    printf("bench: %d timestamptz values in %.3f s (%.1f ns a value)\n", NVALUES, secs,
           secs * 1e9 / NVALUES);
    buf_release(&out);
}

int main(void)
{
    test_date();
    test_every_date();
    test_time();
    test_timestamp();
    test_timestamptz();
    test_zone();
    test_compare();
    bench();
    return TEST_DONE();
}
