/*
 * fsutil.h - durable file moves and small filesystem helpers.
 */
#ifndef SLUICE_FSUTIL_H
#define SLUICE_FSUTIL_H

#include <stddef.h>
#include <sys/resource.h>

/* write(2) all of data, through EINTR and short writes. 0, or -1 with errno set. */
int fs_write_all(int fd, const void *data, size_t n);
/* renameat2(RENAME_NOREPLACE): fails with EEXIST instead of replacing dst (link + unlink where
 * the filesystem lacks it). 0, or -1 with errno set. */
int fs_rename_noreplace_at(int src_dirfd, const char *src, int dst_dirfd, const char *dst);
/* The k-th name a clash gives: name.csv -> name.K.csv (before the last extension; the name
 * itself for k == 0). The one rule for the archive and the error folder. -1 when it does not fit. */
int fs_suffixed_name(char *out, size_t n, const char *name, unsigned k);
/* Make the directory and its parents (like mkdir -p). 0, or -1 after logging. */
int fs_mkdir_p(const char *path);
/* fsync a directory. 0, or -1 after logging. */
int fs_fsync_dir(const char *path);
/* Move src_dir/name into dst_dir durably: fsync the file, rename without ever overwriting (on a
 * clash add a suffix: name.1.csv, name.2.csv ...), fsync dst_dir, then src_dir. The final name is
 * written to final_name. Across filesystems (EXDEV) it copies, fsyncs and unlinks. A failed fsync
 * is returned as an error, never retried. 0, or -1 after logging. */
int fs_move_durable(const char *src_dir, const char *name, const char *dst_dir, char *final_name,
                    size_t final_name_len);
/* The same between two open folders; name must be a plain entry (no '/', not "." or ".."), and
 * the labels are the folders' names for messages. A cross-filesystem copy keeps the source's
 * owner (when permitted) and permission bits. */
int fs_move_durable_at(int src_dirfd, const char *src_label, const char *name, int dst_dirfd,
                       const char *dst_label, char *final_name, size_t final_name_len);
/* The same, giving the file dst_name (or its first free suffixed form) in the destination. */
int fs_move_durable_as(int src_dirfd, const char *src_label, const char *name, int dst_dirfd,
                       const char *dst_label, const char *dst_name, char *final_name,
                       size_t final_name_len);

/* Open (flags may hold O_CREAT, O_RDWR, O_TRUNC, ...) a file sluice keeps for itself in dirfd
 * (or AT_FDCWD): never through a symlink (ELOOP), created 0600, and refused unless it is a
 * regular file (EINVAL) that we own with one link (EPERM), so nothing planted there is written.
 * Returns the fd (O_CLOEXEC, blocking unless flags say otherwise), or -1 with errno; the caller
 * reports. */
int fs_open_private(int dirfd, const char *name, int flags);
/* The same in the folder dir (opened for the call). */
int fs_open_private_in(const char *dir, const char *name, int flags);

/* Raise the soft limit on open descriptors to the hard limit; *soft (when not NULL) gets the
 * limit now in force. 0, or -1 with errno. Call once at start, before threads. */
int fs_raise_nofile_limit(rlim_t *soft);

#endif
