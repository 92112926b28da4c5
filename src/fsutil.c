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
 *
 * Moves work relative to folder descriptors and only on plain entries (no '/', not "." or
 * ".."), so a name can never reach outside the folder it names an entry of. A copy keeps the
 * source's owner and permission bits: a file quarantined or archived by root across
 * filesystems must not become readable by users who could not read it in the hot folder.
 * fs_open_private() is for the few files sluice itself creates in folders others may write to
 * (the lock, the metrics): never through a symlink, never a file planted by someone else.
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
#include <limits.h>
#include <sys/resource.h>
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

int fs_rename_noreplace_at(int src_dirfd, const char *src, int dst_dirfd, const char *dst)
{
    if (syscall(SYS_renameat2, src_dirfd, src, dst_dirfd, dst, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    if (linkat(src_dirfd, src, dst_dirfd, dst, 0) < 0)
        return -1;
    if (unlinkat(src_dirfd, src, 0) < 0) {
        int e = errno;
        unlinkat(dst_dirfd, dst, 0); /* undo: the file stays where it was */
        errno = e;
        return -1;
    }
    return 0;
}

/* Copy the regular file `in` (fstat in *st) into a new file dst_dirfd/dst (O_EXCL), give it the
 * source's owner and permission bits (set-id bits dropped), and fsync it. The copy is created
 * 0600, so nobody else can open it before it has its final owner and mode. -1 with errno set
 * (and dst removed). */
static int copy_file(int in, const struct stat *st, int dst_dirfd, const char *dst)
{
    int out = openat(dst_dirfd, dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0)
        return -1;
    size_t cap = 256 * 1024;
    char *buf = xmalloc(cap);
    off_t off = 0;
    ssize_t r;
    int rc = 0;
    while ((r = pread(in, buf, cap, off)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = -1;
            goto out;
        }
        off += r;
        if (fs_write_all(out, buf, (size_t)r) < 0) {
            rc = -1;
            goto out;
        }
    }
    /* chown first: it clears set-id bits, and a non-root process may only give a file away to
     * itself, so EPERM there just leaves the copy ours. */
    if ((st->st_uid != geteuid() || st->st_gid != getegid()) &&
        fchown(out, st->st_uid, st->st_gid) < 0 && errno != EPERM) {
        rc = -1;
        goto out;
    }
    if (fchmod(out, st->st_mode & 0777) < 0 || fsync(out) < 0)
        rc = -1;
out:;
    int e = errno;
    free(buf);
    if (close(out) < 0 && rc == 0) {
        e = errno;
        rc = -1;
    }
    if (rc < 0) {
        unlinkat(dst_dirfd, dst, 0);
        errno = e;
    }
    return rc;
}

/* Rename src_dirfd/from into dst_dirfd under name or the first free suffixed name; leaf gets the
 * name used. -1 with errno set. */
static int rename_free_name(int src_dirfd, const char *from, int dst_dirfd, const char *name,
                            char *leaf, size_t leaf_len)
{
    for (unsigned k = 0; k < FS_MAX_SUFFIX; k++) {
        if (fs_suffixed_name(leaf, leaf_len, name, k) < 0) {
            errno = ENAMETOOLONG;
            return -1;
        }
        if (fs_rename_noreplace_at(src_dirfd, from, dst_dirfd, leaf) == 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
}

static int fsync_fd_dir(int dirfd, const char *label)
{
    if (fsync(dirfd) == 0)
        return 0;
    log_error("fs", "fsync of folder '%s' failed: %m", label);
    return -1;
}

int fs_move_durable_at(int src_dirfd, const char *src_label, const char *name, int dst_dirfd,
                       const char *dst_label, char *final_name, size_t final_name_len)
{
    return fs_move_durable_as(src_dirfd, src_label, name, dst_dirfd, dst_label, name, final_name,
                              final_name_len);
}

int fs_move_durable_as(int src_dirfd, const char *src_label, const char *name, int dst_dirfd,
                       const char *dst_label, const char *dst_name, char *final_name,
                       size_t final_name_len)
{
    char tmp[FS_PATH_MAX], leaf[1024];
    if (name[0] == '\0' || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        log_error("fs", "refusing to move '%s': not a plain entry of '%s'", name, src_label);
        return -1;
    }
    struct stat st;
    if (fstatat(src_dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        log_error("fs", "cannot move '%s' from '%s': %m", name, src_label);
        return -1;
    }
    int fd = -1;
    if (S_ISREG(st.st_mode)) {
        fd = openat(src_dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0) {
            log_error("fs", "cannot open '%s' in '%s': %m", name, src_label);
            goto fail;
        }
        if (fsync(fd) < 0) {
            log_error("fs", "fsync of '%s' in '%s' failed: %m", name, src_label);
            goto fail;
        }
    }
    bool copied = false;
    if (rename_free_name(src_dirfd, name, dst_dirfd, dst_name, leaf, sizeof(leaf)) < 0) {
        if (errno != EXDEV || fd < 0) {
            log_error("fs", "cannot move '%s' from '%s' to '%s': %m", dst_name, src_label,
                      dst_label);
            goto fail;
        }
        /* Another filesystem: copy to a hidden name there, fsync, then give it its name. */
        int len = snprintf(tmp, sizeof(tmp), ".%s.%ld.tmp", name, (long)getpid());
        if (len < 0 || (size_t)len >= sizeof(tmp) || len > NAME_MAX) {
            log_error("fs", "cannot move '%s' from '%s': name too long", name, src_label);
            goto fail;
        }
        unlinkat(dst_dirfd, tmp, 0); /* a leftover of an earlier process with our pid */
        if (copy_file(fd, &st, dst_dirfd, tmp) < 0) {
            log_error("fs", "cannot copy '%s' from '%s' to '%s': %m", dst_name, src_label,
                      dst_label);
            goto fail;
        }
        if (rename_free_name(dst_dirfd, tmp, dst_dirfd, dst_name, leaf, sizeof(leaf)) < 0) {
            log_error("fs", "cannot move '%s' into '%s': %m", tmp, dst_label);
            unlinkat(dst_dirfd, tmp, 0);
            goto fail;
        }
        copied = true;
    }
    if (fd >= 0)
        close(fd);
    fd = -1;
    fault_point("archive-before-dir-fsync");
    if (fsync_fd_dir(dst_dirfd, dst_label) < 0)
        return -1;
    if (copied && unlinkat(src_dirfd, name, 0) < 0) {
        log_error("fs", "copied '%s' from '%s' but cannot remove it: %m", name, src_label);
        return -1;
    }
    if (fsync_fd_dir(src_dirfd, src_label) < 0)
        return -1;
    if (final_name)
        snprintf(final_name, final_name_len, "%s", leaf);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    return -1;
}

int fs_move_durable(const char *src_dir, const char *name, const char *dst_dir, char *final_name,
                    size_t final_name_len)
{
    if (fs_mkdir_p(dst_dir) < 0)
        return -1;
    int rc = -1;
    int src_fd = open(src_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int dst_fd = open(dst_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (src_fd < 0 || dst_fd < 0)
        log_error("fs", "cannot open folder '%s': %m", src_fd < 0 ? src_dir : dst_dir);
    else
        rc = fs_move_durable_at(src_fd, src_dir, name, dst_fd, dst_dir, final_name, final_name_len);
    if (src_fd >= 0)
        close(src_fd);
    if (dst_fd >= 0)
        close(dst_fd);
    return rc;
}

int fs_open_private(int dirfd, const char *name, int flags)
{
    int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    struct stat st;
    int e = 0;
    if (fstat(fd, &st) < 0)
        e = errno;
    else if (!S_ISREG(st.st_mode))
        e = EINVAL;
    else if (st.st_nlink != 1 || st.st_uid != geteuid())
        e = EPERM;
    else if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
        e = errno;
    if (e) {
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int fs_open_private_in(const char *dir, const char *name, int flags)
{
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -1;
    int fd = fs_open_private(dirfd, name, flags);
    int e = errno;
    close(dirfd);
    errno = e;
    return fd;
}

int fs_raise_nofile_limit(rlim_t *soft)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -1;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            return -1;
    }
    if (soft)
        *soft = rl.rlim_cur;
    return 0;
}
