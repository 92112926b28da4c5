/* test_watch.c - discovery: which names match, the first poll lists everything, a file renamed or
 * written into the folder is reported within one poll (well under a second) and only once, other
 * names never, a periodic and a requested rescan list everything again and say so, a full inotify
 * queue ends in a full listing, a signal ends the wait with 0. */
#include "log.h"
#include "mem.h"
#include "testutil.h"
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char root[256];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put(const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", root, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) < 0) {
        perror(p);
        exit(2);
    }
    close(fd);
}

/* The names in the list joined by spaces (static buffer). */
static const char *joined(const struct watch_names *l)
{
    static char s[4096];
    size_t n = 0;
    s[0] = '\0';
    for (size_t i = 0; i < l->count && n < sizeof(s); i++)
        n += (size_t)snprintf(s + n, sizeof(s) - n, "%s%s", i ? " " : "", l->names[i]);
    return s;
}

static void test_name_matches(void)
{
    CHECK(watch_name_matches("a.csv"));
    CHECK(watch_name_matches("events_2024-01-01.csv"));
    CHECK(watch_name_matches("a.b.csv"));
    CHECK(!watch_name_matches(".csv"));
    CHECK(!watch_name_matches(".a.csv"));
    CHECK(!watch_name_matches("a.csv.tmp"));
    CHECK(!watch_name_matches("a.tmp"));
    CHECK(!watch_name_matches("notes.txt"));
    CHECK(!watch_name_matches("csv"));
    CHECK(!watch_name_matches("acsv"));
    CHECK(!watch_name_matches("a.CSV"));
    CHECK(!watch_name_matches(""));
}

/* The list holds n names, all different. */
static void names_unique_check(const struct watch_names *l, size_t n)
{
    CHECK_EQ_LONG(l->count, n);
    for (size_t i = 0; i < l->count; i++)
        for (size_t j = i + 1; j < l->count; j++)
            CHECK(strcmp(l->names[i], l->names[j]) != 0);
}

static void test_events_and_rescans(void)
{
    put("b.csv", "1");
    put("a.csv", "2");
    put("notes.txt", "x");
    put("c.csv.tmp", "x");
    put(".hidden.csv", "x");
    put(".csv", "x");

    struct watch *w = watch_new(root, 3600);
    CHECK(w != NULL);
    if (!w)
        return;
    struct watch_names l = {0};

    /* The first poll lists the folder, sorted, without waiting. */
    double t0 = now_s();
    CHECK_EQ_LONG(watch_poll(w, 5000, &l), 2);
    CHECK(now_s() - t0 < 0.5);
    CHECK(l.full_scan);
    CHECK_EQ_STR(joined(&l), "a.csv b.csv");
    watch_names_clear(&l);
    CHECK_EQ_LONG(l.count, 0);
    CHECK(!l.full_scan);

    /* Nothing new: 0 after the timeout. */
    t0 = now_s();
    CHECK_EQ_LONG(watch_poll(w, 100, &l), 0);
    double waited = now_s() - t0;
    CHECK(waited >= 0.09 && waited < 0.5);
    CHECK(!l.full_scan);

    /* The atomic hand-off: written under a .tmp name, renamed in. Reported at once. */
    put("d.csv.tmp", "3");
    char from[512], to[512];
    snprintf(from, sizeof(from), "%s/d.csv.tmp", root);
    snprintf(to, sizeof(to), "%s/d.csv", root);
    t0 = now_s();
    CHECK_EQ_LONG(rename(from, to), 0);
    CHECK_EQ_LONG(watch_poll(w, 5000, &l), 1);
    CHECK(now_s() - t0 < 1.0);
    CHECK_EQ_STR(joined(&l), "d.csv");
    CHECK(!l.full_scan);
    watch_names_clear(&l);

    /* Written in place, closed twice: one name. Other names: nothing. */
    put("e.csv", "4");
    put("e.csv", "5");
    put("f.txt", "x");
    put(".g.csv", "x");
    put("h.csv.partial", "x");
    CHECK_EQ_LONG(watch_poll(w, 1000, &l), 1);
    CHECK_EQ_STR(joined(&l), "e.csv");
    watch_names_clear(&l);
    CHECK_EQ_LONG(watch_poll(w, 50, &l), 0);

    /* A requested rescan lists everything, keeps what the caller had in the list, dedupes. */
    watch_names_clear(&l);
    l.names = xrealloc(l.names, 8 * sizeof(*l.names));
    l.cap = 8;
    l.names[l.count++] = xstrdup("kept-by-caller");
    put("i.csv", "6"); /* an event and a listing entry in the same call: reported once */
    watch_request_rescan(w);
    t0 = now_s();
    CHECK_EQ_LONG(watch_poll(w, 5000, &l), 5);
    CHECK(now_s() - t0 < 0.5);
    CHECK(l.full_scan);
    CHECK_EQ_STR(joined(&l), "kept-by-caller a.csv b.csv d.csv e.csv i.csv");
    watch_names_release(&l);
    CHECK(l.names == NULL && l.count == 0);
    watch_free(w);
}

static void test_periodic_rescan(void)
{
    struct watch *w = watch_new(root, 0.3);
    struct watch_names l = {0};
    CHECK(w != NULL);
    if (!w)
        return;
    CHECK_EQ_LONG(watch_poll(w, 0, &l), 5);
    watch_names_clear(&l);
    /* Nothing happens, but the wait ends at the rescan, not at the 5 s timeout. */
    double t0 = now_s();
    int n = watch_poll(w, 5000, &l);
    double waited = now_s() - t0;
    CHECK_EQ_LONG(n, 5);
    CHECK(l.full_scan);
    CHECK(waited >= 0.25 && waited < 1.0);
    watch_names_clear(&l);
    /* An infinite timeout is bounded by the rescan too. */
    t0 = now_s();
    CHECK_EQ_LONG(watch_poll(w, -1, &l), 5);
    CHECK(now_s() - t0 < 1.0);
    watch_names_release(&l);
    watch_free(w);
}

/* A listing larger than the room a caller gives goes on over several polls; events that find
 * no room make another listing due; a partition reports only its own names. Here the folder
 * holds the five names of the tests above. */
static void test_paged_listing(void)
{
    struct watch *w = watch_new(root, 3600);
    struct watch_names l = {0};
    CHECK(w != NULL);
    if (!w)
        return;
    l.limit = 2;
    CHECK_EQ_LONG(watch_poll(w, 0, &l), 2);
    CHECK(l.listing_began);
    CHECK(!l.full_scan);
    CHECK(watch_listing(w));
    size_t seen = l.count;
    CHECK_EQ_LONG(watch_poll(w, 5000, &l), 2); /* no wait while a listing is in progress */
    CHECK(!l.listing_began);
    CHECK(!l.full_scan);
    seen = l.count;
    CHECK_EQ_LONG(seen, 4);
    CHECK_EQ_LONG(watch_poll(w, 0, &l), 1);
    CHECK(l.full_scan);
    CHECK(!watch_listing(w));
    names_unique_check(&l, 5);
    watch_names_clear(&l);

    /* three events, room for one: one reported, a listing becomes due */
    l.limit = 1;
    put("p1.csv", "1");
    put("p2.csv", "1");
    put("p3.csv", "1");
    CHECK_EQ_LONG(watch_poll(w, 1000, &l), 1);
    CHECK(l.listing_began); /* started, with no room left to read */
    CHECK(watch_listing(w));
    watch_names_clear(&l);
    l.limit = 0;
    CHECK_EQ_LONG(watch_poll(w, 0, &l), 8);
    CHECK(l.full_scan);
    watch_names_clear(&l);

    /* two partitions split the folder with nothing lost and nothing twice */
    size_t total = 0;
    for (unsigned part = 0; part < 2; part++) {
        watch_set_partition(w, part, 2);
        watch_request_rescan(w);
        int n = watch_poll(w, 0, &l);
        CHECK(n >= 0);
        for (size_t i = 0; i < l.count; i++)
            CHECK_EQ_LONG(watch_name_part(l.names[i], 2), part);
        total += l.count;
        watch_names_clear(&l);
    }
    CHECK_EQ_LONG(total, 8);
    watch_names_release(&l);
    watch_free(w);
    for (int i = 1; i <= 3; i++) {
        char p[400];
        snprintf(p, sizeof(p), "%s/p%d.csv", root, i);
        unlink(p);
    }
}

static void on_alarm(int sig)
{
    (void)sig;
}

static void test_signal_ends_wait(void)
{
    struct watch *w = watch_new(root, 3600);
    struct watch_names l = {0};
    CHECK(w != NULL);
    if (!w)
        return;
    CHECK_EQ_LONG(watch_poll(w, 0, &l), 5);
    watch_names_clear(&l);
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm; /* no SA_RESTART: poll returns EINTR */
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 100000}};
    setitimer(ITIMER_REAL, &it, NULL);
    double t0 = now_s();
    CHECK_EQ_LONG(watch_poll(w, 5000, &l), 0);
    double waited = now_s() - t0;
    CHECK(waited >= 0.05 && waited < 1.0);
    CHECK_EQ_LONG(l.count, 0);
    watch_names_release(&l);
    watch_free(w);
}

/* More events than the kernel queues: IN_Q_OVERFLOW, then a full listing. */
static void test_overflow_rescans(void)
{
    long max_queued = 0;
    FILE *f = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
    if (f) {
        if (fscanf(f, "%ld", &max_queued) != 1)
            max_queued = 0;
        fclose(f);
    }
    if (max_queued <= 0 || max_queued > 70000) {
        printf("overflow: skipped (max_queued_events %ld)\n", max_queued);
        return;
    }
    char dir[300];
    snprintf(dir, sizeof(dir), "%s/flood", root);
    mkdir(dir, 0755);
    struct watch *w = watch_new(dir, 3600);
    struct watch_names l = {0};
    CHECK(w != NULL);
    if (!w)
        return;
    CHECK_EQ_LONG(watch_poll(w, 0, &l), 0);
    long files = max_queued + 100;
    char p[400];
    for (long i = 0; i < files; i++) {
        snprintf(p, sizeof(p), "%s/f%06ld.csv", dir, i);
        int fd = open(p, O_WRONLY | O_CREAT, 0644);
        if (fd >= 0)
            close(fd);
    }
    int n = watch_poll(w, 1000, &l);
    CHECK_EQ_LONG(n, files);
    CHECK(l.full_scan);
    CHECK_EQ_STR(l.names[0], "f000000.csv");
    watch_names_release(&l);
    watch_free(w);
    for (long i = 0; i < files; i++) {
        snprintf(p, sizeof(p), "%s/f%06ld.csv", dir, i);
        unlink(p);
    }
}

int main(void)
{
    log_min_level = LOG_LEVEL_ERROR; /* the overflow warning is expected */
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof(root), "%s/sluice-watch.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 2;
    }
    test_name_matches();
    test_events_and_rescans();
    test_periodic_rescan();
    test_paged_listing();
    test_signal_ends_wait();
    test_overflow_rescans();
    char cmd[320];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return TEST_DONE();
}
