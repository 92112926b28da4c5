/* test_file_policy.c - what the ingester may read, decided before reading: hard links, foreign
 * owners (as root), files over the size limit and sparse files are quarantined without a byte
 * read (the files here are unreadable by content checks: their verdict comes from fstat), a
 * symlink never opens, a FIFO opens without blocking and is refused, and a last row without a
 * newline waits until the file has been unchanged for the settle time. */
#include "file_policy.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/sluice-test-policy-XXXXXX";
static int dirfd_;

static void make(const char *name, const char *text)
{
    int fd = openat(dirfd_, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        perror(name);
        exit(2);
    }
    close(fd);
}

/* Set mtime to now - age seconds. */
static void age_file(const char *name, double age)
{
    struct timespec now, ts[2];
    clock_gettime(CLOCK_REALTIME, &now);
    ts[0] = ts[1] = (struct timespec){now.tv_sec - (time_t)age, now.tv_nsec};
    utimensat(dirfd_, name, ts, 0);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct file_verdict judge(const struct file_policy *p, const char *name)
{
    struct file_verdict v = {.action = -1};
    struct stat st;
    int fd = file_policy_open(dirfd_, name, &st);
    CHECK(fd >= 0);
    if (fd < 0)
        return v;
    file_policy_check(p, fd, &st, now_s(), &v);
    close(fd);
    return v;
}

static void test_plain_files(void)
{
    struct file_policy p;
    CHECK_EQ_LONG(file_policy_init(&p, dirfd_, 0, 2, -1), 0);
    make("ok.csv", "h\n1,2\n");
    struct file_verdict v = judge(&p, "ok.csv");
    CHECK_EQ_LONG(v.action, FILE_LOAD);
    CHECK_EQ_LONG(v.reason, FILE_OK);
    make("empty.csv", "");
    CHECK_EQ_LONG(judge(&p, "empty.csv").action, FILE_LOAD);
}

static void test_links(void)
{
    struct file_policy p;
    file_policy_init(&p, dirfd_, 0, 2, -1);
    char target[512];
    make("secret", "root only\n");
    CHECK(linkat(dirfd_, "secret", dirfd_, "hard.csv", 0) == 0);
    struct file_verdict v = judge(&p, "hard.csv");
    CHECK_EQ_LONG(v.action, FILE_QUARANTINE);
    CHECK_EQ_LONG(v.reason, FILE_HARD_LINK);
    CHECK_EQ_STR(v.message, "file has 2 hard links; only files with one link are read");
    CHECK_EQ_STR(file_reason_name(v.reason), "hard_link");

    snprintf(target, sizeof(target), "%s/secret", dir);
    CHECK(symlinkat(target, dirfd_, "soft.csv") == 0);
    struct stat st;
    errno = 0;
    CHECK_EQ_LONG(file_policy_open(dirfd_, "soft.csv", &st), -1);
    CHECK_EQ_LONG(errno, ELOOP);

    CHECK(mkfifoat(dirfd_, "pipe.csv", 0644) == 0);
    v = judge(&p, "pipe.csv"); /* returns at once: no writer needed */
    CHECK_EQ_LONG(v.action, FILE_QUARANTINE);
    CHECK_EQ_LONG(v.reason, FILE_NOT_REGULAR);
}

static void test_owner(void)
{
    if (geteuid() != 0) {
        printf("owner checks: skipped (not root)\n");
        return;
    }
    struct file_policy p;
    /* the folder belongs to root: a file of nobody's is refused... */
    file_policy_init(&p, dirfd_, 0, 2, -1);
    make("theirs.csv", "h\n");
    CHECK(fchownat(dirfd_, "theirs.csv", 65534, 65534, 0) == 0);
    struct file_verdict v = judge(&p, "theirs.csv");
    CHECK_EQ_LONG(v.action, FILE_QUARANTINE);
    CHECK_EQ_LONG(v.reason, FILE_FOREIGN_OWNER);
    CHECK_EQ_STR(v.message, "file is owned by uid 65534, not by the producer (uid 0); never read");
    /* ...unless nobody is the configured producer, and then root's own files are refused */
    file_policy_init(&p, dirfd_, 0, 2, 65534);
    CHECK_EQ_LONG(judge(&p, "theirs.csv").action, FILE_LOAD);
    CHECK_EQ_LONG(judge(&p, "ok.csv").reason, FILE_FOREIGN_OWNER);
    /* a folder owned by the producer makes it the producer */
    CHECK(mkdirat(dirfd_, "hot", 0755) == 0);
    CHECK(fchownat(dirfd_, "hot", 65534, 65534, 0) == 0);
    int hot = openat(dirfd_, "hot", O_RDONLY | O_DIRECTORY);
    file_policy_init(&p, hot, 0, 2, -1);
    CHECK_EQ_LONG(p.owner, 65534);
    CHECK(p.check_owner);
    close(hot);
}

static void test_sizes(void)
{
    struct file_policy p;
    file_policy_init(&p, dirfd_, 1024 * 1024, 2, -1);
    int fd = openat(dirfd_, "huge.csv", O_WRONLY | O_CREAT, 0644);
    CHECK(ftruncate(fd, (off_t)1 << 40) == 0); /* 1 TiB, no block allocated */
    close(fd);
    struct file_verdict v = judge(&p, "huge.csv");
    CHECK_EQ_LONG(v.action, FILE_QUARANTINE);
    CHECK_EQ_LONG(v.reason, FILE_TOO_LARGE);
    CHECK_EQ_STR(v.message, "file is 1099511627776 bytes, over --max-file-bytes 1048576");

    file_policy_init(&p, dirfd_, (uint64_t)1 << 41, 2, -1); /* a limit it is under */
    v = judge(&p, "huge.csv");
    CHECK_EQ_LONG(v.action, FILE_QUARANTINE);
    CHECK_EQ_LONG(v.reason, FILE_SPARSE);
    CHECK_EQ_STR(v.message, "file is sparse: 1099511627776 bytes with 0 allocated");

    file_policy_init(&p, dirfd_, 0, 2, -1); /* no limit: no sparse check either */
    CHECK(p.max_file_bytes == 0);

    /* a dense 2 MiB file under a limit loads */
    fd = openat(dirfd_, "dense.csv", O_WRONLY | O_CREAT, 0644);
    static char block[2 * 1024 * 1024];
    memset(block, 'x', sizeof(block));
    block[sizeof(block) - 1] = '\n';
    CHECK(write(fd, block, sizeof(block)) == (ssize_t)sizeof(block));
    fsync(fd);
    close(fd);
    file_policy_init(&p, dirfd_, 4 * 1024 * 1024, 2, -1);
    CHECK_EQ_LONG(judge(&p, "dense.csv").action, FILE_LOAD);
}

static void test_settle(void)
{
    struct file_policy p;
    file_policy_init(&p, dirfd_, 0, 2, -1);
    make("half.csv", "h\n1,12");
    struct file_verdict v = judge(&p, "half.csv");
    CHECK_EQ_LONG(v.action, FILE_WAIT);
    CHECK_EQ_LONG(v.reason, FILE_UNSETTLED);
    CHECK(v.wait_s > 1.5 && v.wait_s <= 2.0);
    age_file("half.csv", 3); /* unchanged for longer than the settle time */
    CHECK_EQ_LONG(judge(&p, "half.csv").action, FILE_LOAD);
    age_file("half.csv", -60); /* mtime in the future: not settled */
    v = judge(&p, "half.csv");
    CHECK_EQ_LONG(v.action, FILE_WAIT);
    CHECK(v.wait_s == 2.0);
    make("whole.csv", "h\n1,123.50\n"); /* ends with a newline: no wait */
    CHECK_EQ_LONG(judge(&p, "whole.csv").action, FILE_LOAD);
    file_policy_init(&p, dirfd_, 0, 0, -1); /* --settle-time 0 */
    make("half.csv", "h\n1,12");
    CHECK_EQ_LONG(judge(&p, "half.csv").action, FILE_LOAD);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    dirfd_ = open(dir, O_RDONLY | O_DIRECTORY);
    test_plain_files();
    test_links();
    test_owner();
    test_sizes();
    test_settle();
    close(dirfd_);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 2;
    return TEST_DONE();
}
