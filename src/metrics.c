/*
 * metrics.c - write the ingester's counters in the Prometheus text exposition format.
 *
 * The file is replaced atomically, so a reader always sees one consistent set. The temporary
 * is opened with fs_open_private() (0600, never through a symlink or into a planted file) and
 * renamed relative to the folder's descriptor, so the checkpoint folder cannot be used to make
 * sluice write elsewhere. Writing it is best effort: a failure is logged at debug level and
 * loading goes on.
 */
#include "metrics.h"

#include "fsutil.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void metrics_write(const char *dir, const struct metrics *m)
{
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int fd =
        dirfd < 0 ? -1 : fs_open_private(dirfd, ".metrics.prom.tmp", O_WRONLY | O_CREAT | O_TRUNC);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    if (!f) {
        log_debug("metrics", "cannot write '%s/.metrics.prom.tmp': %s", dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        if (dirfd >= 0)
            close(dirfd);
        return;
    }
    struct {
        const char *name, *type, *help;
        double value;
    } rows[] = {
        {"sluice_batches_total", "counter", "Transactions committed.", (double)m->batches},
        {"sluice_files_done_total", "counter", "Files loaded completely.", (double)m->files_done},
        {"sluice_files_quarantined_total", "counter", "Files moved to the error folder.",
         (double)m->files_quarantined},
        {"sluice_rows_loaded_total", "counter", "Rows committed to user_activity.",
         (double)m->rows_loaded},
        {"sluice_rows_rejected_total", "counter", "Rows committed to user_activity_errors.",
         (double)m->rows_rejected},
        {"sluice_db_reconnects_total", "counter", "Reconnections to PostgreSQL.",
         (double)m->reconnects},
        {"sluice_queue_files", "gauge", "Files waiting to be loaded.", (double)m->queue_files},
        {"sluice_last_batch_seconds", "gauge", "Duration of the last committed batch.",
         m->last_batch_seconds},
        {"sluice_last_commit_timestamp_seconds", "gauge", "Unix time of the last commit.",
         m->last_commit_unixtime},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", rows[i].name, rows[i].help,
                rows[i].name, rows[i].type, rows[i].name, rows[i].value);
    if (fclose(f) != 0 || renameat(dirfd, ".metrics.prom.tmp", dirfd, "metrics.prom") != 0)
        log_debug("metrics", "cannot write '%s/metrics.prom': %s", dir, strerror(errno));
    close(dirfd);
}
