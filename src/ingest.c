/*
 * ingest.c - the engine's workers: discover, plan, load, account; and the retry policy.
 *
 * Each worker owns one connection, one part of the hot folder (files are split by a hash of
 * their name, so a file always goes to the same worker) and a bounded queue of its files
 * (file_queue). It plans a batch from the queue (batch), opens and hashes each file, and has
 * the loader run the batch's one transaction (loader: claim, COPY, dead letters, ledger,
 * COMMIT). The retry policy lives here and nowhere else:
 *   - a lost connection (SINK_RETRY): reconnect with backoff and redo the batch; the ledger is
 *     read again inside the new transaction, so nothing is lost or doubled, and an ambiguous
 *     COMMIT is resolved by the ledger, never by guessing;
 *   - a duplicate against rows already loaded (SINK_DUPLICATE): redo through staging at once;
 *   - a row the server refuses (SINK_REJECTED): redo at once in careful mode (row_bisect);
 *   - any other failure (SINK_FATAL): wait and redo, logged.
 * After COMMIT the worker accounts the batch and moves quarantined files to the error folder.
 * Files are only read here; moving committed files is the archiver's job.
 */
#include "ingest.h"

#include "batch.h"
#include "contract.h"
#include "clock.h"
#include "db.h"
#include "file_policy.h"
#include "file_queue.h"
#include "filehash.h"
#include "fsutil.h"
#include "loader.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "name_codec.h"
#include "retry_limit.h"
#include "split.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_WORKERS 16
#define FATAL_RETRY_SECONDS 5.0

/* What the workers of one ingest_run() share: the counters, under a mutex. */
struct shared {
    pthread_mutex_t mu;
    struct ingest_stats *stats;
    double metrics_written_at;
    struct split_board board; /* large files being loaded as segments (its own lock) */
    unsigned idle;            /* --once: workers with nothing of their own left (board lock) */
};

/* One worker: its own connection, queue, batch and loader. */
struct worker {
    const struct ingest_options *o;
    const atomic_int *stop;
    struct shared *sh;
    unsigned id, nworkers;
    char component[24];
    int rc;
    int dirfd;
    PGconn *conn;
    struct file_queue *queue;
    struct loader *loader;
    struct batch batch;
    struct batch seg_batch; /* a segment of a split file taken from the board */
    char no_split[FILEHASH_HEX_LEN + 1]; /* the content whose split was abandoned: not again */
    bool idle;                           /* counted in shared.idle */
    struct file_policy policy;
    struct retry_limit *retries; /* error-folder moves that failed */
    size_t max_files;            /* files (so descriptors) one batch may hold */
    double pending_published;    /* when this worker last gave metrics its queue */
};

/* Move a file the engine will not load to the error folder. A move that fails (a name too
 * long there, a symlink across filesystems) is tried again at most once a minute per file, so
 * it costs a log line a minute, never a loop. */
static void move_to_error_dir(struct worker *w, const char *name, const char *why)
{
    double now = clock_now();
    if (!retry_limit_due(w->retries, name, now))
        return;
    char final_name[1024];
    if (fs_move_durable(w->o->input_dir, name, w->o->error_dir, final_name, sizeof(final_name)) <
        0) {
        unsigned n = retry_limit_failed(w->retries, name, now);
        log_warn(w->component, "'%s' stays in the hot folder (%u failed moves); next try in %.0f s",
                 name, n, RETRY_LIMIT_INTERVAL_S);
        return;
    }
    retry_limit_clear(w->retries, name);
    log_warn(w->component, "moved '%s' to the error folder as '%s': %s", name, final_name, why);
}

/* The ledger's identity of a file refused unread: not a content hash (nothing was read), but
 * one that changes whenever the file does. The leading 'u' keeps it apart from real hashes. */
static void unread_identity(const struct stat *st, char hash[FILEHASH_HEX_LEN + 1])
{
    uint64_t t = (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
    snprintf(hash, FILEHASH_HEX_LEN + 1, "u%07llx%08llx%016llx",
             (unsigned long long)(st->st_ino & 0xfffffff), (unsigned long long)(t & 0xffffffff),
             (unsigned long long)st->st_size);
}

enum prepared {
    PREP_READY, /* bf is ready to be claimed */
    PREP_SKIP,  /* nothing to do with this entry now */
    PREP_FULL,  /* out of descriptors: the entry went back to the queue; plan no more now */
};

/* Open and check a queued file into bf: the policy decides from fstat before a byte is read
 * (load, look again later, or refuse whole), and only a file to load is hashed. */
static enum prepared prepare_file(struct worker *w, struct file_entry *e, struct batch_file *bf)
{
    bf->e = e;
    struct stat st;
    if (fstatat(w->dirfd, e->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT)
            log_warn(w->component, "cannot stat '%s': %m", e->name);
        file_queue_forget(e);
        return PREP_SKIP;
    }
    if (!S_ISREG(st.st_mode)) {
        move_to_error_dir(w, e->name,
                          S_ISLNK(st.st_mode)    ? "a symbolic link is never read"
                          : S_ISDIR(st.st_mode)  ? "a directory is never read"
                          : S_ISFIFO(st.st_mode) ? "a FIFO is never read"
                                                 : "not a regular file");
        metrics_add_files(METRICS_FILE_IGNORED, 1);
        file_queue_forget(e);
        return PREP_SKIP;
    }
    if (e->finished && file_queue_unchanged(e, &st))
        return PREP_SKIP;
    int fd = file_policy_open(w->dirfd, e->name, &bf->st);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) {
            file_queue_push_front(w->queue, e); /* back-pressure: after this batch */
            return PREP_FULL;
        }
        if (errno != ELOOP && errno != ENOENT) /* (replaced by a symlink, or gone: next look) */
            log_warn(w->component, "cannot open '%s': %m (will retry at the next rescan)",
                     e->name);
        return PREP_SKIP;
    }
    if (bf->st.st_ino != st.st_ino || bf->st.st_dev != st.st_dev) {
        close(fd);
        return PREP_SKIP; /* replaced between stat and open: the next listing sees the new one */
    }
    struct file_verdict v;
    file_policy_check(&w->policy, fd, &bf->st, (double)time(NULL), &v);
    if (v.action == FILE_WAIT) {
        close(fd);
        log_debug(w->component, "'%s': %s", e->name, v.message);
        file_queue_look_again(w->queue, e, v.wait_s);
        return PREP_SKIP;
    }
    if (v.action == FILE_QUARANTINE) {
        close(fd); /* refused unread */
        unread_identity(&bf->st, bf->lf.hash);
        bf->quarantine_why = xstrdup(v.message);
    } else if (filehash_fd(fd, bf->lf.hash) < 0) {
        log_warn(w->component, "cannot read '%s': %m (will retry at the next rescan)", e->name);
        close(fd);
        return PREP_SKIP;
    } else {
        bf->fd = fd;
    }
    bf->lf.name = name_encode(e->name, strlen(e->name));
    bf->lf.size = (uint64_t)bf->st.st_size;
    bf->lf.mtime = bf->st.st_mtim;
    return PREP_READY;
}

/* Take files from the queue into the batch, up to its size. */
static void plan_batch(struct worker *w)
{
    struct batch *b = &w->batch;
    batch_close_files(b);
    while (file_queue_len(w->queue) && batch_wants_more(b)) {
        struct file_entry *e = file_queue_pop(w->queue);
        enum prepared p = prepare_file(w, e, batch_slot(b));
        if (p == PREP_READY)
            batch_plan_keep(b);
        else if (p == PREP_FULL)
            break;
    }
}

/* Put every file of a batch that did not commit back at the head of the queue, in order. */
static void requeue_batch(struct worker *w)
{
    for (size_t i = w->batch.n; i-- > 0;)
        file_queue_push_front(w->queue, w->batch.files[i].e);
    batch_close_files(&w->batch);
}

/* Give metrics this worker's queue (files, bytes, oldest mtime) about once a second, and
 * rewrite CHECKPOINT_DIR/metrics.prom at most once a second for all workers. */
static void write_metrics(struct worker *w, bool force)
{
    double now = clock_now();
    metrics_watchdog_tick();
    if (force || file_queue_len(w->queue) == 0 || now - w->pending_published >= 1.0) {
        w->pending_published = now;
        uint64_t files, bytes;
        double oldest;
        file_queue_pending(w->queue, &files, &bytes, &oldest);
        metrics_set_pending(w->id, files, bytes, oldest);
    }
    struct shared *sh = w->sh;
    pthread_mutex_lock(&sh->mu);
    bool due = force || now - sh->metrics_written_at >= 1.0;
    if (due)
        sh->metrics_written_at = now;
    pthread_mutex_unlock(&sh->mu);
    if (due)
        metrics_write(w->o->checkpoint_dir);
}

/* After COMMIT: each file's fate, the counters, the log line. Returns files that progressed
 * (*touched: how many of them were loaded or quarantined, not just found finished). */
static size_t after_commit(struct worker *w, struct batch *b, double t0, size_t *touched)
{
    size_t files = 0, progressed = 0, done = 0, quarantined = 0, redropped = 0;
    uint64_t bytes_read = 0;
    for (size_t i = b->n; i-- > 0;) {
        struct batch_file *bf = &b->files[i];
        enum batch_fate fate = batch_fate(bf);
        if (bf->action == BATCH_LOAD || bf->action == BATCH_QUARANTINE)
            files++;
        if (fate != BATCH_FATE_AGAIN_LATER)
            progressed++;
        if (bf->action == BATCH_LOAD && bf->at_eof)
            metrics_observe_commit_latency(clock_seconds(&bf->st.st_mtim));
        if (bf->action == BATCH_LOAD || bf->action == BATCH_QUARANTINE)
            bytes_read += bf->end_offset - bf->lf.offset;
        metrics_batch_reject(REJECT_DUPLICATE_KEY, bf->duplicates);
        if (bf->action == BATCH_SKIP_DONE && bf->lf.redropped) {
            redropped++;
            log_info(w->component, "'%s' was already loaded on %s as '%s'; left in place for the "
                     "archiver", bf->e->name, bf->lf.committed_at, bf->lf.archived_as);
        }
        if (!bf->e) { /* a segment: its file's fate is the split's, then its owner's */
            done += fate == BATCH_FATE_NONE && bf->action == BATCH_LOAD;
            quarantined += bf->action == BATCH_QUARANTINE;
            continue;
        }
        switch (fate) {
        case BATCH_FATE_AGAIN_NOW:
            file_queue_push_front(w->queue, bf->e); /* the next chunk, or deferred: next */
            break;
        case BATCH_FATE_AGAIN_LATER:
            break; /* pushed to the back below, in order */
        case BATCH_FATE_TO_ERRORS:
            quarantined += bf->action == BATCH_QUARANTINE;
            file_queue_finish(bf->e, &bf->st);
            move_to_error_dir(w, bf->e->name,
                              bf->action != BATCH_QUARANTINE ? "its content was quarantined before"
                              : bf->quarantine_why ? bf->quarantine_why
                                                   : "unusable file (see its dead letter)");
            break;
        case BATCH_FATE_NONE:
            done += bf->action == BATCH_LOAD;
            file_queue_finish(bf->e, &bf->st);
            break;
        }
    }
    for (size_t i = 0; i < b->n; i++)
        if (b->files[i].e && batch_fate(&b->files[i]) == BATCH_FATE_AGAIN_LATER)
            file_queue_push_back(w->queue, b->files[i].e);
    uint64_t loaded, rejected, skipped = 0, updated = 0;
    batch_counts(b, &loaded, &rejected);
    for (size_t i = 0; i < b->n; i++) { /* --on-conflict: rows in neither count */
        skipped += b->files[i].skipped + b->files[i].dropped;
        updated += b->files[i].updated;
    }
    double secs = clock_now() - t0;
    struct shared *sh = w->sh;
    pthread_mutex_lock(&sh->mu);
    sh->stats->batches++;
    sh->stats->files_done += done;
    sh->stats->files_quarantined += quarantined;
    sh->stats->rows_loaded += loaded;
    sh->stats->rows_rejected += rejected;
    sh->stats->rows_skipped += skipped;
    sh->stats->rows_updated += updated;
    pthread_mutex_unlock(&sh->mu);
    metrics_batch_commit(loaded, loaded + rejected + skipped + updated, bytes_read, secs);
    metrics_add_files(METRICS_FILE_DONE, done);
    metrics_add_files(METRICS_FILE_QUARANTINED, quarantined);
    metrics_add_files(METRICS_FILE_IGNORED, redropped);
    write_metrics(w, false);
    if (files) {
        char conflicts[64] = "";
        if (skipped || updated)
            snprintf(conflicts, sizeof(conflicts), " rows_skipped=%" PRIu64 " rows_updated=%" PRIu64,
                     skipped, updated);
        uint64_t read = loaded + rejected + skipped + updated;
        log_info(w->component,
                 "batch committed: files=%zu rows_loaded=%" PRIu64 " rows_rejected=%" PRIu64
                 "%s rows/s=%.0f batch_ms=%.1f%s",
                 files, loaded, rejected, conflicts, secs > 0 ? (double)read / secs : 0,
                 secs * 1000, loader_staging(w->loader) ? " (duplicates resolved)" : "");
    }
    *touched = files;
    return progressed;
}

static void rollback(struct worker *w)
{
    if (db_alive(w->conn))
        PQclear(PQexec(w->conn, "ROLLBACK"));
}

static void reconnect(struct worker *w)
{
    metrics_add_reconnect();
    PQfinish(w->conn);
    w->conn = db_connect(w->o->conninfo, w->component, w->o->lock_timeout, w->stop);
}

/* See batch b committed, waiting out database outages (the retry policy). SINK_OK once
 * committed (*t0: when the committing attempt began); SINK_OUT_OF_TURN for a segment that came
 * before the one ahead of it (rolled back); another result when it gave up (a stop, no
 * connection, or a failure that kept coming back). */
static enum sink_result commit_batch(struct worker *w, struct batch *b, double *t0)
{
    loader_begin_batch(w->loader);
    for (unsigned attempt = 0;; attempt++) {
        if (!w->conn || atomic_load(w->stop))
            return SINK_RETRY;
        *t0 = clock_now();
        enum sink_result r = loader_run(w->loader, w->conn, b);
        if (r == SINK_OK)
            return r;
        rollback(w);
        if (r == SINK_OUT_OF_TURN)
            return r;
        metrics_add_retry();
        if (b->poisoned) {
            log_warn(w->component, "a file of the batch failed on its own; redoing the batch "
                     "with that file quarantined");
            continue;
        }
        if (r == SINK_DUPLICATE) {
            log_info(w->component,
                     "batch hit a key already loaded; redoing it through staging");
            loader_use_staging(w->loader);
            continue;
        }
        if (r == SINK_REJECTED) {
            log_info(w->component, "the server refused a row of the batch; redoing it in "
                                   "careful mode, where refused rows become dead letters");
            loader_use_careful(w->loader);
            continue;
        }
        if (r == SINK_RETRY || !db_alive(w->conn)) {
            reconnect(w);
            continue;
        }
        /* A statement failed for a reason other than the connection. Wait and redo: the ledger
         * is read again, so nothing is lost or doubled; the error is in the log. */
        log_error(w->component, "batch of %zu files failed; retrying in %.0f s", b->n,
                  FATAL_RETRY_SECONDS);
        if (!clock_sleep(FATAL_RETRY_SECONDS, w->stop) || attempt > 1000)
            return SINK_FATAL;
    }
}

/* Load one segment taken from the board as a batch of its own, and hand it back. */
static void run_segment(struct worker *w, const struct split_job *job)
{
    struct batch *b = &w->seg_batch;
    struct batch_file *bf = batch_slot(b);
    enum split_outcome o = SPLIT_ABANDON;
    uint64_t reached = 0, reached_line = 0;
    bf->fd = fcntl(job->fd, F_DUPFD_CLOEXEC, 0);
    if (bf->fd < 0) {
        log_warn(w->component, "cannot share a descriptor of '%s': %m", job->name);
        split_done(&w->sh->board, job, o, 0, 0);
        return;
    }
    bf->st = job->st;
    bf->lf.name = xstrdup(job->name);
    snprintf(bf->lf.hash, sizeof(bf->lf.hash), "%s", job->hash);
    bf->lf.size = (uint64_t)job->st.st_size;
    bf->lf.mtime = job->st.st_mtim;
    bf->lf.segment = true;
    bf->lf.seg_offset = job->off;
    bf->lf.seg_line = job->line;
    bf->lf.seg_wait = job->wait;
    bf->lf.seg_wait_key = job->wait_key;
    bf->seg_end = job->end;
    batch_plan_keep(b);
    double t0;
    enum sink_result r = commit_batch(w, b, &t0);
    if (r == SINK_OK) {
        bf = &b->files[0];
        if (bf->action == BATCH_LOAD) {
            o = SPLIT_COMMITTED;
            reached = bf->at_eof ? UINT64_MAX : bf->end_offset;
            reached_line = bf->end_line;
        }
        size_t touched;
        after_commit(w, b, t0, &touched);
    } else if (r == SINK_OUT_OF_TURN) {
        o = SPLIT_AGAIN;
    }
    batch_close_files(b);
    split_done(&w->sh->board, job, o, reached, reached_line);
}

/* Is the planned batch one large file, worth loading as segments by every worker? */
static bool split_wanted(const struct worker *w)
{
    const struct batch *b = &w->batch;
    if (w->nworkers < 2 || b->n != 1)
        return false;
    const struct batch_file *bf = &b->files[0];
    return bf->fd >= 0 && !bf->quarantine_why &&
           (uint64_t)bf->st.st_size > 2 * b->limit_bytes &&
           strcmp(bf->lf.hash, w->no_split) != 0;
}

/* The planned batch's one large file, loaded as segments: registered and its progress read in
 * a transaction of its own, offered on the board, and loaded by this worker and any other that
 * is free. Afterwards the file goes back to the queue: the ordinary path finds it done (or,
 * when the split was abandoned, resumes it from the ledger). False, with nothing changed, when
 * the file is not worth it after all (little left, busy elsewhere, not loading). */
static bool split_own(struct worker *w)
{
    struct batch *b = &w->batch;
    struct batch_file *bf = &b->files[0];
    struct ledger_file *lf = &bf->lf;
    b->lf[0] = lf;
    const char *table = w->o->contract->table.name;
    if (!w->conn)
        return false;
    enum sink_result r = sink_exec(w->conn, "BEGIN", "BEGIN");
    if (r == SINK_OK)
        r = ledger_claim(w->conn, table, &lf, 1);
    bool want = r == SINK_OK && !lf->busy && strcmp(lf->status, "loading") == 0 &&
                lf->size - lf->offset > 2 * b->limit_bytes;
    if (r == SINK_OK)
        r = sink_exec(w->conn, want ? "COMMIT" : "ROLLBACK", "register file");
    if (r != SINK_OK)
        rollback(w);
    if (r != SINK_OK || !want)
        return false;
    struct split_board *board = &w->sh->board;
    struct split *sp = split_offer(board, lf->name, lf->hash, bf->fd, &bf->st, lf->offset,
                                   lf->line, b->limit_bytes);
    log_info(w->component, "'%s': %" PRIu64 " bytes to load, in segments of about %" PRIu64
             " bytes that every worker takes", bf->e->name, lf->size - lf->offset,
             b->limit_bytes);
    for (;;) {
        if (atomic_load(w->stop))
            split_abandon(board, sp);
        struct split_job job;
        if (split_take(board, sp, &job))
            run_segment(w, &job);
        else if (split_wait(board, sp))
            break;
    }
    if (!split_close(board, sp)) {
        snprintf(w->no_split, sizeof(w->no_split), "%s", lf->hash);
        if (!atomic_load(w->stop))
            log_info(w->component, "'%s': segments stopped; the rest loads as one stream",
                     bf->e->name);
    }
    requeue_batch(w); /* the ordinary path finishes it: found done, or resumed */
    return true;
}

/* Plan one batch and see it committed. Returns how many files it loaded or quarantined. */
static size_t process_batch(struct worker *w)
{
    plan_batch(w);
    if (!w->batch.n)
        return 0;
    if (split_wanted(w) && split_own(w))
        return 1;
    double t0;
    if (commit_batch(w, &w->batch, &t0) != SINK_OK) {
        requeue_batch(w);
        return 0;
    }
    size_t touched;
    size_t progressed = after_commit(w, &w->batch, t0, &touched);
    batch_close_files(&w->batch);
    if (!progressed)
        clock_sleep(0.05, w->stop); /* everything is busy elsewhere */
    return touched;
}

/* Take a segment of a split from the board and load it; false when there is none. */
static bool help_split(struct worker *w)
{
    struct split_job job;
    if (w->nworkers < 2 || !split_take(&w->sh->board, NULL, &job))
        return false;
    run_segment(w, &job);
    return true;
}

/* Nothing of this worker's own is left, or it is leaving (for whatever reason): counted once,
 * so the helpers waiting for every worker to be through never wait for one that has gone. */
static void worker_idle(struct worker *w)
{
    struct split_board *board = &w->sh->board;
    pthread_mutex_lock(&board->mu);
    if (!w->idle) {
        w->idle = true;
        w->sh->idle++;
        pthread_cond_broadcast(&board->cv);
    }
    pthread_mutex_unlock(&board->mu);
}

/* --once, and nothing of this worker's own is left: help with splits until every worker is
 * through, so a large file found late by one worker is still shared. */
static void help_until_all_idle(struct worker *w)
{
    struct split_board *board = &w->sh->board;
    worker_idle(w);
    pthread_mutex_lock(&board->mu);
    while (w->sh->idle < w->nworkers && !atomic_load(w->stop)) {
        pthread_mutex_unlock(&board->mu);
        bool helped = help_split(w);
        pthread_mutex_lock(&board->mu);
        if (!helped && w->sh->idle < w->nworkers) {
            struct timespec until = clock_wall_after(0.1);
            pthread_cond_timedwait(&board->cv, &board->mu, &until);
        }
    }
    pthread_mutex_unlock(&board->mu);
}

/* The checkpoint folder's lock: one process per checkpoint folder. Returns the fd, or -1. */
static int lock_checkpoint(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/ingest.lock", dir);
    int fd = fs_open_private_in(dir, "ingest.lock", O_RDWR | O_CREAT);
    if (fd < 0) {
        log_error("ingest", "cannot open lock file '%s': %m", path);
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        log_error("ingest",
                  "another ingester uses checkpoint folder '%s'; give each ingester its own "
                  "--checkpoint-dir",
                  dir);
        close(fd);
        return -1;
    }
    char pid[32];
    int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || write(fd, pid, (size_t)n) < 0)
        log_debug("ingest", "cannot write pid to lock file");
    return fd;
}

static void worker_release(struct worker *w)
{
    batch_release(&w->batch);
    batch_release(&w->seg_batch);
    retry_limit_free(w->retries);
    loader_free(w->loader);
    file_queue_free(w->queue);
    PQfinish(w->conn);
    if (w->dirfd >= 0)
        close(w->dirfd);
}

/* Set a worker up; -1 after logging. */
static int worker_init(struct worker *w)
{
    const struct ingest_options *o = w->o;
    if (w->nworkers > 1)
        snprintf(w->component, sizeof(w->component), "ingest-%u", w->id + 1);
    else
        snprintf(w->component, sizeof(w->component), "ingest");
    batch_init(&w->batch, o->batch_bytes, w->max_files);
    batch_init(&w->seg_batch, o->batch_bytes, 1);
    w->retries = retry_limit_new(RETRY_LIMIT_INTERVAL_S);
    struct loader_options lo = {
        .table = &o->contract->table,
        .dlq_sql_name = o->contract->dlq_sql_name,
        .env = o->contract->env,
        .on_conflict = o->contract->on_conflict,
        .update_if = o->contract->update_if,
        .column_map = o->column_map,
        .strict_columns = o->strict_columns,
        .max_row_bytes = o->max_row_bytes,
        .lock_timeout = o->lock_timeout,
    };
    w->loader = loader_new(&lo);
    if (!w->loader)
        return -1;
    w->dirfd = open(o->input_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->dirfd < 0) {
        log_error(w->component, "cannot open input folder '%s': %m", o->input_dir);
        return -1;
    }
    if (file_policy_init(&w->policy, w->dirfd, o->max_file_bytes, o->settle_time,
                         o->producer_uid) < 0) {
        log_error(w->component, "cannot read input folder '%s': %m", o->input_dir);
        return -1;
    }
    w->queue = file_queue_new(o->input_dir, w->dirfd, o->rescan_interval, w->id, w->nworkers);
    return w->queue ? 0 : -1;
}

static bool draining(const struct worker *w)
{
    return w->o->once || (w->o->drain && atomic_load(w->o->drain));
}

/* A worker's loop: discover, batch, commit; until drained (once) or stopped. */
static void *worker_run(void *arg)
{
    struct worker *w = arg;
    const struct ingest_options *o = w->o;
    bool drained_check = false;
    metrics_watchdog_begin(w->component);
    while (!atomic_load(w->stop)) {
        write_metrics(w, false);
        if (!w->conn) {
            w->conn = db_connect(o->conninfo, w->component, o->lock_timeout, w->stop);
            continue;
        }
        if (file_queue_poll(w->queue, draining(w) ? 0 : 1000) < 0) {
            w->rc = -1;
            break;
        }
        if (help_split(w)) {
            drained_check = false;
            continue;
        }
        if (file_queue_len(w->queue)) {
            if (process_batch(w) > 0)
                drained_check = false;
            continue;
        }
        if (draining(w) && !file_queue_listing(w->queue)) {
            /* Drained: one more full listing catches files that arrived meanwhile. Reaching
             * here again with nothing loaded since means that listing found nothing new (files
             * it re-checked and found finished do not count, so a folder of done files that
             * outgrows what the queue remembers still ends). */
            if (drained_check) {
                if (w->nworkers > 1)
                    help_until_all_idle(w);
                break;
            }
            drained_check = true;
            file_queue_request_rescan(w->queue);
        }
    }
    worker_idle(w);
    metrics_pending_release(w->id);
    metrics_watchdog_end();
    return NULL;
}

int ingest_run(const struct ingest_options *o, const atomic_int *stop, struct ingest_stats *stats)
{
    memset(stats, 0, sizeof(*stats)); /* (the folders were checked by the command's setup) */
    int lockfd = lock_checkpoint(o->checkpoint_dir);
    if (lockfd < 0)
        return -1;
    unsigned n = o->workers < 1 ? 1 : o->workers > MAX_WORKERS ? MAX_WORKERS : o->workers;
    /* Descriptors: as many as the hard limit allows; each worker's batch holds a share of
     * them, leaving some for connections, the watcher and the logs. Running out anyway (other
     * processes, a lower limit) is back-pressure, never an exit. */
    rlim_t nofile = 1024;
    if (fs_raise_nofile_limit(&nofile) < 0)
        log_warn("ingest", "cannot raise the open-file limit: %m");
    size_t spare = nofile > 64 + 16 * n ? (size_t)nofile - 64 : 16 * n;
    size_t max_files = spare / n;
    struct shared sh;
    memset(&sh, 0, sizeof(sh));
    pthread_mutex_init(&sh.mu, NULL);
    sh.stats = stats;
    split_board_init(&sh.board, o->contract->table.name, o->max_row_bytes, n);
    struct worker *workers = xcalloc(n, sizeof(*workers));
    pthread_t threads[MAX_WORKERS];
    int rc = 0;
    unsigned started = 0;
    for (unsigned k = 0; k < n; k++) {
        struct worker *w = &workers[k];
        w->o = o;
        w->stop = stop;
        w->sh = &sh;
        w->id = k;
        w->nworkers = n;
        w->dirfd = -1;
        w->max_files = max_files;
    }
    for (unsigned k = 0; k < n && rc == 0; k++)
        if (worker_init(&workers[k]) < 0)
            rc = -1;
    if (rc == 0)
        log_info("ingest", "watching '%s' with %u worker%s%s", o->input_dir, n, n > 1 ? "s" : "",
                 o->once ? " (once)" : "");
    for (; rc == 0 && started < n; started++) {
        int e = pthread_create(&threads[started], NULL, worker_run, &workers[started]);
        if (e != 0) {
            log_error("ingest", "cannot start worker thread: %s", strerror_r(e, (char[128]){0}, 128));
            rc = -1;
            break;
        }
    }
    for (unsigned k = 0; k < started; k++) {
        pthread_join(threads[k], NULL);
        if (workers[k].rc < 0)
            rc = -1;
    }
    if (started)
        write_metrics(&workers[0], true);
    for (unsigned k = 0; k < n; k++)
        worker_release(&workers[k]);
    free(workers);
    pthread_mutex_destroy(&sh.mu);
    split_board_destroy(&sh.board);
    close(lockfd);
    log_info("ingest",
             "stopped: %" PRIu64 " files done, %" PRIu64 " quarantined, %" PRIu64
             " rows loaded, %" PRIu64 " rejected, %" PRIu64 " skipped, %" PRIu64 " updated",
             stats->files_done, stats->files_quarantined, stats->rows_loaded, stats->rows_rejected,
             stats->rows_skipped, stats->rows_updated);
    return rc;
}
