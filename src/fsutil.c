/*
 * fsutil.c - durable moves between folders, and mkdir -p.
 *
 * A move is durable when, after it returns, a power cut cannot bring the file back to where it
 * was nor lose it: the file's data is fsynced, it is renamed (never over an existing name: a
 * clash gets a numbered suffix), and both directories are fsynced, the target first. Entries that
 * are not regular files (symlinks, FIFOs, folders quarantined by the ingester) are renamed
 * without opening them. A failed fsync is reported and returned, never retried: after a failed
 * fsync the kernel may have dropped the dirty pages, so a retry that succeeds proves nothing.
 */
#include "fsutil.h"

#include "fault.h"
#include "log.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

int fs_mkdir_p(const char *path)
{
    char tmp[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(tmp)) {
        log_error("fs", "bad folder name '%s'", path);
        return -1;
    }
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST) {
            log_error("fs", "cannot create folder '%s': %s", tmp, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST) {
        log_error("fs", "cannot create folder '%s': %s", tmp, strerror(errno));
        return -1;
    }
    return 0;
}

int fs_fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        log_error("fs", "cannot open folder '%s': %s", path, strerror(errno));
        return -1;
    }
    int rc = fsync(fd);
    if (rc < 0)
        log_error("fs", "fsync of folder '%s' failed: %s", path, strerror(errno));
    close(fd);
    return rc < 0 ? -1 : 0;
}

/* name.csv -> name.N.csv (the suffix goes before the last extension). */
static void suffixed(char *out, size_t n, const char *name, unsigned k)
{
    const char *dot = strrchr(name, '.');
    if (k == 0)
        snprintf(out, n, "%s", name);
    else if (dot && dot != name)
        snprintf(out, n, "%.*s.%u%s", (int)(dot - name), name, k, dot);
    else
        snprintf(out, n, "%s.%u", name, k);
}

static int rename_noreplace(const char *src, const char *dst)
{
    return (int)syscall(SYS_renameat2, AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE);
}

/* Copy src into a new file dst (O_EXCL) and fsync it, for moves across filesystems. */
static int copy_file(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return -1;
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        close(in);
        return -1;
    }
    char buf[65536];
    ssize_t r;
    int rc = 0;
    while ((r = read(in, buf, sizeof(buf))) > 0) {
        for (ssize_t w = 0; w < r;) {
            ssize_t k = write(out, buf + w, (size_t)(r - w));
            if (k < 0) {
                rc = -1;
                goto done;
            }
            w += k;
        }
    }
    if (r < 0 || fsync(out) < 0)
        rc = -1;
done:
    close(in);
    if (close(out) < 0)
        rc = -1;
    if (rc < 0) {
        int e = errno;
        unlink(dst);
        errno = e;
    }
    return rc;
}

int fs_move_durable(const char *src_dir, const char *name, const char *dst_dir, char *final_name,
                    size_t final_name_len)
{
    char src[4096], dst[4096], leaf[1024];
    snprintf(src, sizeof(src), "%s/%s", src_dir, name);
    struct stat st;
    if (lstat(src, &st) < 0) {
        log_error("fs", "cannot move '%s': %s", src, strerror(errno));
        return -1;
    }
    if (fs_mkdir_p(dst_dir) < 0)
        return -1;
    if (S_ISREG(st.st_mode)) {
        int fd = open(src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            log_error("fs", "cannot open '%s': %s", src, strerror(errno));
            return -1;
        }
        int rc = fsync(fd);
        int e = errno;
        close(fd);
        if (rc < 0) {
            log_error("fs", "fsync of '%s' failed: %s", src, strerror(e));
            return -1;
        }
    }
    bool copied = false;
    for (unsigned k = 0;; k++) {
        suffixed(leaf, sizeof(leaf), name, k);
        snprintf(dst, sizeof(dst), "%s/%s", dst_dir, leaf);
        if (rename_noreplace(src, dst) == 0)
            break;
        if (errno == EEXIST)
            continue;
        if (errno == EINVAL || errno == ENOSYS) {
            /* no renameat2 on this filesystem: link + unlink never overwrites either */
            if (link(src, dst) == 0) {
                unlink(src);
                break;
            }
            if (errno == EEXIST)
                continue;
        }
        if (errno == EXDEV && S_ISREG(st.st_mode)) {
            if (copy_file(src, dst) == 0) {
                copied = true;
                break;
            }
            if (errno == EEXIST)
                continue;
        }
        log_error("fs", "cannot move '%s' to '%s': %s", src, dst, strerror(errno));
        return -1;
    }
    fault_point("archive-before-dir-fsync");
    if (fs_fsync_dir(dst_dir) < 0)
        return -1;
    if (copied && unlink(src) < 0) {
        log_error("fs", "copied '%s' but cannot remove it: %s", src, strerror(errno));
        return -1;
    }
    if (fs_fsync_dir(src_dir) < 0)
        return -1;
    if (final_name)
        snprintf(final_name, final_name_len, "%s", leaf);
    return 0;
}
