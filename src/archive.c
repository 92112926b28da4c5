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
 *
 * The ledger is not trusted as a source of paths: other roles may write to it. A ledger name is
 * decoded (name_codec.c) and used only when it is a plain entry of the hot folder (no '/', not
 * "." or ".."); every file is reached with openat/fstatat/renameat relative to descriptors of
 * the two folders, opened O_NOFOLLOW, and the content hash is checked on the descriptor that was
 * opened, then the moved entry is checked to be that same inode before the row is marked. A move
 * that fails is not tried again for the same name for a minute (retry_limit.c), so a file that
 * can never move costs one log line a minute, not one per pass.
 */
#include "archive.h"

#include "clock.h"
#include "fault.h"
#include "filehash.h"
#include "fsutil.h"
#include "ledger.h"
#include "log.h"
#include "mem.h"
#include "name_codec.h"
#include "retry_limit.h"
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ARCHIVE_PAGE 5000

/* The ledger's answers are the archiver's: a lost connection means "try the next pass". */
static enum db_status as_db_status(enum sink_result r)
{
    return r == SINK_OK ? DB_OK : r == SINK_RETRY ? DB_RETRY : DB_FATAL;
}

static enum db_status mark_archived(PGconn *conn, const char *table, const char *name,
                                    const char *hash, const char *as)
{
    return as_db_status(ledger_mark_archived(conn, table, name, hash, as));
}

/* fstatat dirfd/name without following: 1 when it is a regular file (st filled), 0 when it is
 * something else (a symlink, a folder...), -1 when there is nothing by that name. */
static int regular_at(int dirfd, const char *name, struct stat *st)
{
    if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? -1 : 0;
    return S_ISREG(st->st_mode) ? 1 : 0;
}

/* Is dirfd/name a regular file of `size` bytes whose content hashes to `hash`? Read through an
 * O_NOFOLLOW descriptor; *st gets that descriptor's fstat (so the caller can tell a swap). */
static bool has_content(int dirfd, const char *name, const char *hash, long long size,
                        struct stat *st)
{
    char got[FILEHASH_HEX_LEN + 1];
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
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
static bool find_in_archive(int archive_fd, const char *name, const char *hash, long long size,
                            char *as, size_t as_len)
{
    for (unsigned k = 0; k < 100000; k++) {
        struct stat st;
        if (fs_suffixed_name(as, as_len, name, k) < 0)
            return false;
        int kind = regular_at(archive_fd, as, &st);
        if (kind < 0)
            return false;
        if (kind > 0 && st.st_size == size && has_content(archive_fd, as, hash, size, &st))
            return true;
    }
    return false;
}

struct archive_dirs {
    int in_fd, arc_fd;
    const char *input_dir, *archive_dir;
    const char *table; /* the ledger's rows of this target table only */
};

/* A file set aside for archiving goes back under its name (or the first free suffixed name, if a
 * writer took that meanwhile): when it turned out not to be the one checked (a writer renamed a
 * new one over the name just before; logged with why), or when its move failed (why NULL: the
 * failure is logged by the caller) and it waits for the next try. */
static void give_back(const struct archive_dirs *d, const char *stage, const char *name,
                      const char *why)
{
    char back[1024];
    for (unsigned k = 0; k < 1000; k++) {
        if (fs_suffixed_name(back, sizeof(back), name, k) < 0)
            break;
        if (fs_rename_noreplace_at(d->in_fd, stage, d->in_fd, back) == 0) {
            if (why)
                log_info("archive", "'%s' %s; it stays in the hot folder%s%s", name, why,
                         k ? " as " : "", k ? back : "");
            return;
        }
        if (errno != EEXIST)
            break;
    }
    log_error("archive", "'%s' cannot be put back in the hot folder (it waits as '%s'): %m", name,
              stage);
}

/* Names whose move failed, held back for a minute. One archiver runs per process (the archive
 * command, or the archive thread of run), so the limiter lives as long as the process. */
static pthread_mutex_t retry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct retry_limit *retries;

/* The limiter, made at first use; call with retry_mu held. */
static struct retry_limit *limiter(void)
{
    if (!retries)
        retries = retry_limit_new(RETRY_LIMIT_INTERVAL_S);
    return retries;
}

static bool retry_due(const char *name)
{
    pthread_mutex_lock(&retry_mu);
    limiter();
    bool due = retry_limit_due(retries, name, clock_now());
    pthread_mutex_unlock(&retry_mu);
    return due;
}

/* Record a failure (ok == false) or a success of the operation on name. */
static void retry_record(const char *name, bool ok)
{
    pthread_mutex_lock(&retry_mu);
    if (ok)
        retry_limit_clear(limiter(), name);
    else
        retry_limit_failed(limiter(), name, clock_now());
    pthread_mutex_unlock(&retry_mu);
}


/* Archive the file the ledger names `lname` (its encoded name) if it is a plain entry of the
 * hot folder, old enough and unchanged. Returns the status of the ledger update (DB_OK when
 * nothing was to be done); *moved is set when the file moved. */
static enum db_status archive_one(PGconn *conn, const struct archive_dirs *d, double min_age_s,
                                  time_t now, const char *lname, const char *hash, long long size,
                                  bool *moved)
{
    struct stat st, hashed;
    char final_name[1024];
    enum db_status rc = DB_OK;
    *moved = false;
    size_t n;
    char *name = name_decode(lname, &n);
    char *as = NULL;
    if (!name_is_plain(name, n)) {
        if (retry_due(lname)) {
            log_warn("archive",
                     "the ledger names '%s', which is not an entry of the hot folder; "
                     "never touched",
                     lname);
            retry_record(lname, false);
        }
        goto out;
    }
    /* While a file is archived it is out of the writers' way under a hidden name made of its
     * content hash: a pass that died there resumes from it. */
    char stage[FILEHASH_HEX_LEN + 32];
    snprintf(stage, sizeof(stage), ".sluice-archiving.%s", hash);
    if (regular_at(d->in_fd, stage, &st) == 1) {
        if (!has_content(d->in_fd, stage, hash, size, &hashed)) {
            /* set aside, then found replaced, and the pass died before giving it back */
            give_back(d, stage, name, "was replaced after its check (the new file is not archived)");
            goto out;
        }
        if (!retry_due(lname))
            goto out;
        goto move;
    }
    int kind = regular_at(d->in_fd, name, &st);
    if (kind == 0) /* a symlink or folder took the name: not ours to move */
        goto out;
    if (kind < 0) {
        if (find_in_archive(d->arc_fd, name, hash, size, final_name, sizeof(final_name))) {
            as = name_encode(final_name, strlen(final_name));
            log_info("archive", "'%s' was moved before a crash; recording it as '%s'", lname, as);
            rc = mark_archived(conn, d->table, lname, hash, as);
            goto out;
        }
        log_debug("archive", "'%s' is done but not in the hot folder; skipped", lname);
        goto out;
    }
    if (difftime(now, st.st_mtime) < min_age_s)
        goto out;
    if (st.st_size != size || !has_content(d->in_fd, name, hash, size, &hashed)) {
        log_debug("archive", "'%s' has new content since it was loaded; left in place", lname);
        goto out;
    }
    if (!retry_due(lname))
        goto out;
    /* Take the checked file out of the writers' way first, then make sure the entry taken is
     * the one whose content was checked: a writer may rename a new file over the name at any
     * moment, and that file must stay in the hot folder for the ingesters. */
    if (fs_rename_noreplace_at(d->in_fd, name, d->in_fd, stage) < 0) {
        log_debug("archive", "'%s' cannot be set aside for archiving: %m", lname);
        goto out;
    }
    if (regular_at(d->in_fd, stage, &st) != 1 || st.st_ino != hashed.st_ino ||
        st.st_dev != hashed.st_dev || st.st_size != hashed.st_size ||
        st.st_mtim.tv_sec != hashed.st_mtim.tv_sec || st.st_mtim.tv_nsec != hashed.st_mtim.tv_nsec) {
        give_back(d, stage, name, "was replaced after its check (the new file is not archived)");
        goto out;
    }
    fault_point("archive-staged");
move:
    if (fs_move_durable_as(d->in_fd, d->input_dir, stage, d->arc_fd, d->archive_dir, name,
                           final_name, sizeof(final_name)) < 0) {
        give_back(d, stage, name, NULL); /* under its own name while it waits */
        log_warn("archive", "'%s' stays in the hot folder; next try in a minute", lname);
        retry_record(lname, false);
        goto out;
    }
    retry_record(lname, true);
    /* The entry that moved must be the one whose content was checked (on the same filesystem
     * the inode is kept; a copy has the checked size and content by construction). */
    if (regular_at(d->arc_fd, final_name, &st) != 1 || st.st_size != hashed.st_size ||
        (st.st_dev == hashed.st_dev && st.st_ino != hashed.st_ino)) {
        log_warn("archive",
                 "'%s' was replaced while being archived; '%s' in the archive is "
                 "not recorded",
                 lname, final_name);
        goto out;
    }
    as = name_encode(final_name, strlen(final_name));
    rc = mark_archived(conn, d->table, lname, hash, as);
    if (rc == DB_OK) {
        *moved = true;
        log_debug("archive", "archived '%s' as '%s'", lname, as);
    }
out:
    free(as);
    free(name);
    return rc;
}

enum db_status archive_pass(PGconn *conn, const char *table, const char *input_dir,
                            const char *archive_dir, double min_age_s, long *moved)
{
    *moved = 0;
    if (fs_mkdir_p(archive_dir) < 0)
        return DB_OK; /* reported; the next pass tries again */
    struct archive_dirs d = {
        .in_fd = open(input_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC),
        .arc_fd = open(archive_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC),
        .input_dir = input_dir,
        .archive_dir = archive_dir,
        .table = table,
    };
    if (d.in_fd < 0 || d.arc_fd < 0) {
        const char *dir = d.in_fd < 0 ? input_dir : archive_dir;
        if (retry_due(dir)) {
            log_error("archive", "cannot open folder '%s': %m", dir);
            retry_record(dir, false);
        }
        if (d.in_fd >= 0)
            close(d.in_fd);
        if (d.arc_fd >= 0)
            close(d.arc_fd);
        return DB_OK;
    }
    time_t now = time(NULL);
    char after_name[1024] = "", after_hash[FILEHASH_HEX_LEN + 1] = "";
    enum db_status st;
    for (;;) {
        PGresult *res = NULL;
        st = as_db_status(
            ledger_archive_page(conn, table, after_name, after_hash, ARCHIVE_PAGE, &res));
        int n = st == DB_OK ? PQntuples(res) : 0;
        for (int i = 0; i < n && st == DB_OK; i++) {
            const char *name = PQgetvalue(res, i, 0);
            const char *hash = PQgetvalue(res, i, 1);
            long long size = strtoll(PQgetvalue(res, i, 2), NULL, 10);
            snprintf(after_name, sizeof(after_name), "%s", name);
            snprintf(after_hash, sizeof(after_hash), "%s", hash);
            bool one = false;
            st = archive_one(conn, &d, min_age_s, now, name, hash, size, &one);
            *moved += one;
        }
        PQclear(res);
        if (st != DB_OK || n < ARCHIVE_PAGE)
            break;
    }
    metrics_add_files(METRICS_FILE_ARCHIVED, (uint64_t)*moved);
    close(d.in_fd);
    close(d.arc_fd);
    if (*moved)
        log_info("archive", "archived %ld files", *moved);
    return st;
}
