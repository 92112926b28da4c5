/*
 * fsutil.h - durable file moves and small filesystem helpers.
 */
#ifndef SLUICE_FSUTIL_H
#define SLUICE_FSUTIL_H

#include <stddef.h>

/* Make the directory and its parents (like mkdir -p). 0, or -1 after logging. */
int fs_mkdir_p(const char *path);
/* fsync a directory. 0, or -1 after logging. */
int fs_fsync_dir(const char *path);
/* write(2) all of data, through EINTR and short writes. 0, or -1 with errno set. */
int fs_write_all(int fd, const void *data, size_t n);
/* rename(2) that fails with EEXIST instead of replacing dst (RENAME_NOREPLACE, or link + unlink
 * where the filesystem lacks it). 0, or -1 with errno set. */
int fs_rename_noreplace(const char *src, const char *dst);
/* The k-th name a clash gives: name.csv -> name.K.csv (before the last extension; the name
 * itself for k == 0). The one rule for the archive and the error folder. -1 when it does not fit. */
int fs_suffixed_name(char *out, size_t n, const char *name, unsigned k);
/* Move src_dir/name into dst_dir durably: fsync the file, rename without ever overwriting (on a
 * clash add a suffix: name.1.csv, name.2.csv ...), fsync dst_dir, then src_dir. The final name is
 * written to final_name. Across filesystems (EXDEV) it copies, fsyncs and unlinks. A failed fsync
 * is returned as an error, never retried. 0, or -1 after logging. */
int fs_move_durable(const char *src_dir, const char *name, const char *dst_dir, char *final_name,
                    size_t final_name_len);

#endif
