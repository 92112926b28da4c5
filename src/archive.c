/*
 * archive.c - the archiver: only what is committed leaves the hot folder.
 *
 * The original archived by age alone, which can move a file nobody has read. Here the ledger
 * decides: a file is archived only when its ingest_files row is 'done', and only if the file in
 * the folder still has that row's content hash (a new file under an old name is not touched).
 * Cheap checks come first (lstat: a regular file, old enough, the ledger's size), so a young or
 * changed file costs no read; only a candidate is hashed, through an O_NOFOLLOW descriptor.
 * The move is durable (fsync file, rename without overwriting, fsync both folders) and happens
 * BEFORE archived_at is set; a crash in between leaves the file in the archive with archived_at
 * empty, and the next pass, finding it there (under its name or a clash suffix) and not in the
 * hot folder, completes the record. A move that fails (a full disk) leaves the file in place and
 * the row 'done' for the next pass: nothing is lost, nothing is marked that did not happen.
 */
#include "archive.h"

#include "filehash.h"
#include "fsutil.h"
#include "log.h"
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ARCHIVE_PAGE 5000
#define ARCHIVE_STR_(x) #x
#define ARCHIVE_STR(x) ARCHIVE_STR_(x)

static enum db_status mark_archived(PGconn *conn, const char *name, const char *hash,
                                    const char *as)
{
    const char *p[] = {name, hash, as};
    PGresult *res = PQexecParams(conn,
                                 "UPDATE ingest_files SET archived_at = now(), archived_as = $3 "
                                 "WHERE file_name = $1 AND content_hash = $2",
                                 3, NULL, p, NULL, NULL, 0);
    enum db_status st = db_check(conn, res, PGRES_COMMAND_OK, "mark archived");
    PQclear(res);
    return st;
}

/* lstat dir/name: 1 when it is a regular file (st filled), 0 when it is something else (a
 * symlink, a folder...), -1 when there is nothing by that name. */
static int regular_at(const char *dir, const char *name, struct stat *st)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -1;
    if (lstat(path, st) < 0)
        return errno == ENOENT ? -1 : 0;
    return S_ISREG(st->st_mode) ? 1 : 0;
}

/* Is dir/name a regular file of `size` bytes whose content hashes to `hash`? Read through an
 * O_NOFOLLOW descriptor; *st gets that descriptor's fstat (so the caller can tell a swap). */
static bool has_content(const char *dir, const char *name, const char *hash, long long size,
                        struct stat *st)
{
    char path[4096], got[FILEHASH_HEX_LEN + 1];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(path))
        return false;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool same = fstat(fd, st) == 0 && S_ISREG(st->st_mode) && st->st_size == size &&
                filehash_fd(fd, got) == 0 && strcmp(got, hash) == 0;
    close(fd);
    return same;
}

/* A crash between the durable move and the UPDATE leaves the file in the archive under `name`
 * or, after a clash, name.K.csv. Returns the name it has there in `as`, or false. Suffixes are
 * taken in order, so the search stops at the first free one. */
static bool find_in_archive(const char *archive_dir, const char *name, const char *hash,
                            long long size, char *as, size_t as_len)
{
    const char *dot = strrchr(name, '.');
    for (unsigned k = 0; k < 100000; k++) {
        struct stat st;
        int n = k == 0 ? snprintf(as, as_len, "%s", name)
                : dot && dot != name
                    ? snprintf(as, as_len, "%.*s.%u%s", (int)(dot - name), name, k, dot)
                    : snprintf(as, as_len, "%s.%u", name, k);
        if (n < 0 || (size_t)n >= as_len)
            return false;
        int kind = regular_at(archive_dir, as, &st);
        if (kind < 0)
            return false;
        if (kind > 0 && st.st_size == size && has_content(archive_dir, as, hash, size, &st))
            return true;
    }
    return false;
}

/* One page of the files to archive, in name order after (after_name, after_hash). */
static PGresult *next_page(PGconn *conn, const char *after_name, const char *after_hash,
                           enum db_status *st)
{
    const char *p[] = {after_name, after_hash};
    PGresult *res = PQexecParams(
        conn,
        "SELECT file_name, content_hash, size_bytes FROM ingest_files "
        "WHERE status = 'done' AND archived_at IS NULL AND (file_name, content_hash) > ($1, $2) "
        "ORDER BY file_name, content_hash LIMIT " ARCHIVE_STR(ARCHIVE_PAGE),
        2, NULL, p, NULL, NULL, 0);
    *st = db_check(conn, res, PGRES_TUPLES_OK, "list files to archive");
    return res;
}

/* Archive one ledger row's file if it is there, old enough and unchanged. Returns the status of
 * the ledger update (DB_OK when nothing was to be done); *moved is set when the file moved. */
static enum db_status archive_one(PGconn *conn, const char *input_dir, const char *archive_dir,
                                  double min_age_s, time_t now, const char *name, const char *hash,
                                  long long size, bool *moved)
{
    struct stat st, hashed;
    char final_name[1024];
    *moved = false;
    int kind = regular_at(input_dir, name, &st);
    if (kind == 0) /* a symlink or folder took the name: not ours to move */
        return DB_OK;
    if (kind < 0) {
        if (find_in_archive(archive_dir, name, hash, size, final_name, sizeof(final_name))) {
            log_info("archive", "'%s' was moved before a crash; recording it as '%s'", name,
                     final_name);
            return mark_archived(conn, name, hash, final_name);
        }
        log_debug("archive", "'%s' is done but not in the hot folder; skipped", name);
        return DB_OK;
    }
    if (difftime(now, st.st_mtime) < min_age_s)
        return DB_OK;
    if (st.st_size != size || !has_content(input_dir, name, hash, size, &hashed)) {
        log_debug("archive", "'%s' has new content since it was loaded; left in place", name);
        return DB_OK;
    }
    /* Still the file we hashed? (A writer may have renamed a new one over it meanwhile.) */
    if (regular_at(input_dir, name, &st) != 1 || st.st_ino != hashed.st_ino ||
        st.st_dev != hashed.st_dev || st.st_size != hashed.st_size ||
        st.st_mtim.tv_sec != hashed.st_mtim.tv_sec || st.st_mtim.tv_nsec != hashed.st_mtim.tv_nsec)
        return DB_OK;
    if (fs_move_durable(input_dir, name, archive_dir, final_name, sizeof(final_name)) < 0) {
        log_warn("archive", "'%s' stays in the hot folder; will retry", name);
        return DB_OK;
    }
    enum db_status rc = mark_archived(conn, name, hash, final_name);
    if (rc == DB_OK) {
        *moved = true;
        log_debug("archive", "archived '%s' as '%s'", name, final_name);
    }
    return rc;
}

enum db_status archive_pass(PGconn *conn, const char *input_dir, const char *archive_dir,
                            double min_age_s, long *moved)
{
    *moved = 0;
    time_t now = time(NULL);
    char after_name[1024] = "", after_hash[FILEHASH_HEX_LEN + 1] = "";
    enum db_status st;
    for (;;) {
        PGresult *res = next_page(conn, after_name, after_hash, &st);
        int n = st == DB_OK ? PQntuples(res) : 0;
        for (int i = 0; i < n && st == DB_OK; i++) {
            const char *name = PQgetvalue(res, i, 0);
            const char *hash = PQgetvalue(res, i, 1);
            long long size = strtoll(PQgetvalue(res, i, 2), NULL, 10);
            snprintf(after_name, sizeof(after_name), "%s", name);
            snprintf(after_hash, sizeof(after_hash), "%s", hash);
            bool one = false;
            st = archive_one(conn, input_dir, archive_dir, min_age_s, now, name, hash, size, &one);
            *moved += one;
        }
        PQclear(res);
        if (st != DB_OK || n < ARCHIVE_PAGE)
            break;
    }
    metrics_add_files(METRICS_FILE_ARCHIVED, (uint64_t)*moved);
    if (*moved)
        log_info("archive", "archived %ld files", *moved);
    return st;
}
