/*
 * file_policy.h - may the ingester read this file now? Decided from the open descriptor's
 * fstat before a byte is read (and one byte, the last, for the settle rule).
 */
#ifndef SLUICE_FILE_POLICY_H
#define SLUICE_FILE_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

enum file_action {
    FILE_LOAD,       /* read it */
    FILE_WAIT,       /* leave it, look again after wait_s */
    FILE_QUARANTINE, /* never read it: to the error folder, with the reason */
};

enum file_reason {
    FILE_OK,
    FILE_NOT_REGULAR,   /* a FIFO, device, folder... (only reachable through a race) */
    FILE_HARD_LINK,     /* more than one link: may be a link to a file the producer cannot read */
    FILE_FOREIGN_OWNER, /* as root: not owned by the hot folder's owner or --producer-uid */
    FILE_TOO_LARGE,     /* over --max-file-bytes */
    FILE_SPARSE,        /* allocated blocks far below the size, with a size limit set */
    FILE_UNSETTLED,     /* the last row has no newline and the file changed < --settle-time ago */
};

struct file_policy {
    uint64_t max_file_bytes; /* 0 = no limit */
    double settle_s;
    bool check_owner;
    uid_t owner;
};

struct file_verdict {
    enum file_action action;
    enum file_reason reason;
    double wait_s;     /* FILE_WAIT: seconds until the file may have settled */
    char message[192]; /* FILE_QUARANTINE / FILE_WAIT: one line for the log and the dead letter */
};

/* Set the policy up for the hot folder open as dirfd. Owners are checked when running as root,
 * or whenever producer_uid >= 0 is given; the allowed owner is producer_uid, else the folder's
 * owner. 0, or -1 with errno (fstat of the folder failed). */
int file_policy_init(struct file_policy *p, int dirfd, uint64_t max_file_bytes, double settle_s,
                     long producer_uid);
/* Open dirfd/name the only way the ingester may: read-only, O_NOFOLLOW (a symlink fails with
 * ELOOP), O_NONBLOCK (a FIFO never blocks), O_CLOEXEC; *st gets the descriptor's fstat.
 * The fd, or -1 with errno. */
int file_policy_open(int dirfd, const char *name, struct stat *st);
/* The verdict for the file open as fd, with fstat *st, at wall-clock time now (seconds since the
 * epoch, as mtime). Reads at most the file's last byte, and only when every check on *st passed. */
void file_policy_check(const struct file_policy *p, int fd, const struct stat *st, double now,
                       struct file_verdict *v);
/* A stable lowercase name for a reason ("hard_link"), usable as an error code. */
const char *file_reason_name(enum file_reason r);

#endif
