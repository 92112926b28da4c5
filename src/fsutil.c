/*
 * fsutil.c - durable moves between folders, and mkdir -p.
 *
 * A move is durable when, after it returns, a power cut cannot bring the file back to where it
 * was nor lose it: the file's data is fsynced, it is renamed (never over an existing name: a
 * clash gets a numbered suffix, name.1.csv, name.2.csv ...), and both directories are fsynced,
 * the target first. Across filesystems the file is copied to a hidden temporary name in the
 * target folder, fsynced, renamed into place the same no-overwrite way, and only then unlinked
 * from the source; a crash leaves at worst a stray ".name.<pid>.tmp", never a half file under
 * the real name. Entries that are not regular files (symlinks, FIFOs, folders quarantined by the
 * ingester) are renamed without opening them. A failed fsync is reported and returned, never
 * retried: after a failed fsync the kernel may have dropped the dirty pages, so a retry that
 * succeeds proves nothing.
 */
#include "fsutil.h"

#include "fault.h"
#include "log.h"
#include "mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

#define FS_PATH_MAX 4096
#define FS_MAX_SUFFIX 100000

/* mkdir, and when it created the folder, fsync its parent so the new entry survives a crash. */
static int mkdir_durable(char *path)
{
    if (mkdir(path, 0755) < 0)
        return errno == EEXIST ? 0 : -1;
    char *slash = strrchr(path, '/');
    if (!slash)
        return fs_fsync_dir(".");
    if (slash == path)
        return fs_fsync_dir("/");
    *slash = '\0';
    int rc = fs_fsync_dir(path);
    *slash = '/';
    return rc;
}

int fs_mkdir_p(const char *path)
{
    char tmp[FS_PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(tmp)) {
        log_error("fs", "bad folder name '%s'", path);
        return -1;
    }
    /* The common case, on every move: the folder is there already. One syscall. */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    memcpy(tmp, path, n + 1);
    while (n > 1 && tmp[n - 1] == '/')
        tmp[--n] = '\0';
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/' || p[-1] == '/')
            continue;
        *p = '\0';
        int rc = mkdir_durable(tmp);
        *p = '/';
        if (rc < 0)
            goto fail;
    }
    if (mkdir_durable(tmp) < 0)
        goto fail;
    if (stat(tmp, &st) < 0 || !S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        goto fail;
    }
    return 0;
fail:
    log_error("fs", "cannot create folder '%s': %m", path);
    return -1;
}

int fs_fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        log_error("fs", "cannot open folder '%s': %m", path);
        return -1;
    }
    int rc = fsync(fd);
    if (rc < 0)
        log_error("fs", "fsync of folder '%s' failed: %m", path);
    close(fd);
    return rc < 0 ? -1 : 0;
}

int fs_suffixed_name(char *out, size_t n, const char *name, unsigned k)
{
    const char *dot = strrchr(name, '.');
    int len;
    if (k == 0)
        len = snprintf(out, n, "%s", name);
    else if (dot && dot != name)
        len = snprintf(out, n, "%.*s.%u%s", (int)(dot - name), name, k, dot);
    else
        len = snprintf(out, n, "%s.%u", name, k);
    return len < 0 || (size_t)len >= n ? -1 : 0;
}

int fs_write_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int fs_rename_noreplace(const char *src, const char *dst)
{
    if (syscall(SYS_renameat2, AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    if (link(src, dst) < 0)
        return -1;
    if (unlink(src) < 0) {
        int e = errno;
        unlink(dst); /* undo: the file stays where it was */
        errno = e;
        return -1;
    }
    return 0;
}

/* Copy src into a new file dst (O_EXCL) and fsync it. -1 with errno set (and dst removed). */
static int copy_file(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (in < 0)
        return -1;
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        int e = errno;
        close(in);
        errno = e;
        return -1;
    }
    size_t cap = 256 * 1024;
    char *buf = xmalloc(cap);
    ssize_t r;
    int rc = 0;
    while ((r = read(in, buf, cap)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = -1;
            goto out;
        }
        if (fs_write_all(out, buf, (size_t)r) < 0) {
            rc = -1;
            goto out;
        }
    }
    if (fsync(out) < 0)
        rc = -1;
out:;
    int e = errno;
    free(buf);
    close(in);
    if (close(out) < 0 && rc == 0) {
        e = errno;
        rc = -1;
    }
    if (rc < 0) {
        unlink(dst);
        errno = e;
    }
    return rc;
}

/* Rename from into dst_dir under name or the first free suffixed name; leaf gets the name used.
 * -1 with errno set. */
static int rename_free_name(const char *from, const char *dst_dir, const char *name, char *leaf,
                            size_t leaf_len)
{
    char dst[FS_PATH_MAX];
    for (unsigned k = 0; k < FS_MAX_SUFFIX; k++) {
        int len;
        if (fs_suffixed_name(leaf, leaf_len, name, k) < 0 ||
            (len = snprintf(dst, sizeof(dst), "%s/%s", dst_dir, leaf)) < 0 ||
            (size_t)len >= sizeof(dst)) {
            errno = ENAMETOOLONG;
            return -1;
        }
        if (fs_rename_noreplace(from, dst) == 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
}

int fs_move_durable(const char *src_dir, const char *name, const char *dst_dir, char *final_name,
                    size_t final_name_len)
{
    char src[FS_PATH_MAX], tmp[FS_PATH_MAX], leaf[1024];
    int len = snprintf(src, sizeof(src), "%s/%s", src_dir, name);
    if (len < 0 || (size_t)len >= sizeof(src)) {
        log_error("fs", "cannot move '%s': name too long", name);
        return -1;
    }
    struct stat st;
    if (lstat(src, &st) < 0) {
        log_error("fs", "cannot move '%s': %m", src);
        return -1;
    }
    if (fs_mkdir_p(dst_dir) < 0)
        return -1;
    if (S_ISREG(st.st_mode)) {
        int fd = open(src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            log_error("fs", "cannot open '%s': %m", src);
            return -1;
        }
        int rc = fsync(fd);
        int e = errno;
        close(fd);
        if (rc < 0) {
            errno = e;
            log_error("fs", "fsync of '%s' failed: %m", src);
            return -1;
        }
    }
    bool copied = false;
    if (rename_free_name(src, dst_dir, name, leaf, sizeof(leaf)) < 0) {
        if (errno != EXDEV || !S_ISREG(st.st_mode)) {
            log_error("fs", "cannot move '%s' to '%s': %m", src, dst_dir);
            return -1;
        }
        /* Another filesystem: copy to a hidden name there, fsync, then give it its name. */
        len = snprintf(tmp, sizeof(tmp), "%s/.%s.%ld.tmp", dst_dir, name, (long)getpid());
        if (len < 0 || (size_t)len >= sizeof(tmp)) {
            log_error("fs", "cannot move '%s': name too long", src);
            return -1;
        }
        unlink(tmp); /* a leftover of an earlier process with our pid */
        if (copy_file(src, tmp) < 0) {
            log_error("fs", "cannot copy '%s' to '%s': %m", src, dst_dir);
            return -1;
        }
        if (rename_free_name(tmp, dst_dir, name, leaf, sizeof(leaf)) < 0) {
            log_error("fs", "cannot move '%s' to '%s': %m", tmp, dst_dir);
            unlink(tmp);
            return -1;
        }
        copied = true;
    }
    fault_point("archive-before-dir-fsync");
    if (fs_fsync_dir(dst_dir) < 0)
        return -1;
    if (copied && unlink(src) < 0) {
        log_error("fs", "copied '%s' but cannot remove it: %m", src);
        return -1;
    }
    if (fs_fsync_dir(src_dir) < 0)
        return -1;
    if (final_name)
        snprintf(final_name, final_name_len, "%s", leaf);
    return 0;
}
