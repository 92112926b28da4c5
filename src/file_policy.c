/*
 * file_policy.c - the checks a file passes before the ingester reads a byte of it.
 *
 * The hot folder is written by a producer we do not trust, so what it holds is looked at through
 * a descriptor opened O_NOFOLLOW|O_NONBLOCK relative to the folder, and judged on that
 * descriptor's fstat, in this order:
 *   - not a regular file: quarantine (the open cannot block on a FIFO, and a symlink never opens);
 *   - more than one hard link: quarantine. A producer may link any file it can see, including
 *     ones it cannot read; read by root, its content would reach the dead letters;
 *   - when checking owners (as root, or with --producer-uid): a file not owned by the allowed
 *     owner is quarantined, for the same reason;
 *   - over --max-file-bytes: quarantine, decided from st_size, so a 15 TiB file costs nothing;
 *   - with a size limit set, a file of 1 MiB or more whose allocated blocks are under 1/16 of its
 *     size is sparse (holes read as zeros at memory speed, a stall for the worker): quarantine.
 *     1/16 leaves room for filesystems that compress;
 *   - only then one byte is read, the last: a file whose last row has no final newline is a file
 *     being written in place, unless it has not changed for --settle-time (mtime); until then the
 *     verdict is to wait. The producer contract is: write elsewhere and rename in, or end the
 *     last row with a newline, or stop writing for the settle time.
 * The module decides; it neither logs nor moves anything. The caller acts on the verdict.
 */
#include "file_policy.h"

#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#define SPARSE_MIN_BYTES (1024 * 1024)
#define SPARSE_RATIO 16

int file_policy_init(struct file_policy *p, int dirfd, uint64_t max_file_bytes, double settle_s,
                     long producer_uid)
{
    struct stat st;
    if (fstat(dirfd, &st) < 0)
        return -1;
    p->max_file_bytes = max_file_bytes;
    p->settle_s = settle_s;
    p->check_owner = geteuid() == 0 || producer_uid >= 0;
    p->owner = producer_uid >= 0 ? (uid_t)producer_uid : st.st_uid;
    return 0;
}

int file_policy_open(int dirfd, const char *name, struct stat *st)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

const char *file_reason_name(enum file_reason r)
{
    switch (r) {
    case FILE_OK:
        return "ok";
    case FILE_NOT_REGULAR:
        return "not_regular_file";
    case FILE_HARD_LINK:
        return "hard_link";
    case FILE_FOREIGN_OWNER:
        return "foreign_owner";
    case FILE_TOO_LARGE:
        return "file_too_large";
    case FILE_SPARSE:
        return "sparse_file";
    case FILE_UNSETTLED:
        return "unsettled";
    }
    return "unknown";
}

static void verdict(struct file_verdict *v, enum file_action a, enum file_reason r)
{
    v->action = a;
    v->reason = r;
}

void file_policy_check(const struct file_policy *p, int fd, const struct stat *st, double now,
                       struct file_verdict *v)
{
    v->wait_s = 0;
    v->message[0] = '\0';
    verdict(v, FILE_LOAD, FILE_OK);
    uint64_t size = st->st_size > 0 ? (uint64_t)st->st_size : 0;
    uint64_t allocated = (uint64_t)st->st_blocks * 512;
    if (!S_ISREG(st->st_mode)) {
        verdict(v, FILE_QUARANTINE, FILE_NOT_REGULAR);
        snprintf(v->message, sizeof(v->message), "not a regular file; never read");
    } else if (st->st_nlink > 1) {
        verdict(v, FILE_QUARANTINE, FILE_HARD_LINK);
        snprintf(v->message, sizeof(v->message),
                 "file has %ju hard links; only files with one link are read",
                 (uintmax_t)st->st_nlink);
    } else if (p->check_owner && st->st_uid != p->owner) {
        verdict(v, FILE_QUARANTINE, FILE_FOREIGN_OWNER);
        snprintf(v->message, sizeof(v->message),
                 "file is owned by uid %ju, not by the producer (uid %ju); never read",
                 (uintmax_t)st->st_uid, (uintmax_t)p->owner);
    } else if (p->max_file_bytes && size > p->max_file_bytes) {
        verdict(v, FILE_QUARANTINE, FILE_TOO_LARGE);
        snprintf(v->message, sizeof(v->message),
                 "file is %" PRIu64 " bytes, over --max-file-bytes %" PRIu64, size,
                 p->max_file_bytes);
    } else if (p->max_file_bytes && size >= SPARSE_MIN_BYTES && allocated < size / SPARSE_RATIO) {
        verdict(v, FILE_QUARANTINE, FILE_SPARSE);
        snprintf(v->message, sizeof(v->message),
                 "file is sparse: %" PRIu64 " bytes with %" PRIu64 " allocated", size, allocated);
    }
    if (v->action != FILE_LOAD || size == 0)
        return;
    char last;
    ssize_t n;
    do
        n = pread(fd, &last, 1, (off_t)size - 1);
    while (n < 0 && errno == EINTR);
    if (n == 1 && last == '\n')
        return;
    double age = now - clock_seconds(&st->st_mtim);
    if (age >= p->settle_s)
        return; /* settled: the unterminated last row is the producer's final word */
    verdict(v, FILE_WAIT, FILE_UNSETTLED);
    v->wait_s = age < 0 ? p->settle_s : p->settle_s - age;
    snprintf(v->message, sizeof(v->message),
             "last row has no newline and the file changed %.1f s ago; waiting for "
             "--settle-time %.1f s",
             age < 0 ? 0.0 : age, p->settle_s);
}
