/*
 * archive.c - the archiver: only what is committed leaves the hot folder.
 *
 * The original archived by age alone, which can move a file nobody has read. Here the ledger
 * decides: a file is archived only when its ingest_files row is 'done', and only if the file in
 * the folder still has that row's content hash (a new file under an old name is not touched).
 * The move is durable (fsync file, rename without overwriting, fsync both folders) and happens
 * BEFORE archived_at is set; a crash in between leaves the file in the archive with archived_at
 * empty, and the next pass, finding it there and not in the hot folder, completes the record.
 */
#include "archive.h"

#include "filehash.h"
#include "fsutil.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* Does dir/name exist with content `hash`? */
static bool has_content(const char *dir, const char *name, const char *hash, struct stat *st)
{
    char path[4096], got[FILEHASH_HEX_LEN + 1];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (lstat(path, st) < 0 || !S_ISREG(st->st_mode))
        return false;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return false;
    int rc = filehash_fd(fd, got);
    close(fd);
    return rc == 0 && strcmp(got, hash) == 0;
}

/* One page of the files to archive, in name order after `after`. */
static PGresult *next_page(PGconn *conn, const char *after, enum db_status *st)
{
    const char *p[] = {after};
    PGresult *res = PQexecParams(conn,
                                 "SELECT file_name, content_hash FROM ingest_files "
                                 "WHERE status = 'done' AND archived_at IS NULL AND file_name > $1 "
                                 "ORDER BY file_name LIMIT 5000",
                                 1, NULL, p, NULL, NULL, 0);
    *st = db_check(conn, res, PGRES_TUPLES_OK, "list files to archive");
    return res;
}

enum db_status archive_pass(PGconn *conn, const char *input_dir, const char *archive_dir,
                            double min_age_s, long *moved)
{
    *moved = 0;
    time_t now = time(NULL);
    char after[1024] = "";
    enum db_status st;
    for (;;) {
        PGresult *res = next_page(conn, after, &st);
        int n = st == DB_OK ? PQntuples(res) : 0;
        for (int i = 0; i < n && st == DB_OK; i++) {
            const char *name = PQgetvalue(res, i, 0);
            const char *hash = PQgetvalue(res, i, 1);
            snprintf(after, sizeof(after), "%s", name);
            struct stat sb;
            if (!has_content(input_dir, name, hash, &sb)) {
                /* Moved before a crash, record not yet written? Then complete the record. */
                if (has_content(archive_dir, name, hash, &sb))
                    st = mark_archived(conn, name, hash, name);
                continue;
            }
            if (difftime(now, sb.st_mtime) < min_age_s)
                continue;
            char final_name[1024];
            if (fs_move_durable(input_dir, name, archive_dir, final_name, sizeof(final_name)) < 0) {
                log_warn("archive", "'%s' stays in the hot folder; will retry", name);
                continue;
            }
            st = mark_archived(conn, name, hash, final_name);
            if (st == DB_OK) {
                (*moved)++;
                log_debug("archive", "archived '%s' as '%s'", name, final_name);
            }
        }
        PQclear(res);
        if (st != DB_OK || n < 5000)
            break;
    }
    if (*moved)
        log_info("archive", "archived %ld files", *moved);
    return st;
}
