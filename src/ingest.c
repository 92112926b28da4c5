/*
 * ingest.c - the streaming engine: hot folder -> validated rows -> PostgreSQL, exactly once.
 *
 * Files are discovered by the watcher and queued by name. The engine takes files from the queue
 * into a batch (many small files, or one chunk of a large file, up to --batch-bytes) and loads
 * the batch in ONE transaction:
 *
 *   BEGIN
 *   claim each file: pg_try_advisory_xact_lock(name+hash), then its ledger row in ingest_files
 *     (created if new) says where to resume: done/quarantined files are skipped, a file being
 *     loaded resumes at committed_offset
 *   COPY user_activity FROM STDIN         valid rows, validated and encoded in C
 *   COPY user_activity_errors FROM STDIN  rejected rows with code, column, file, line, raw text
 *   UPDATE ingest_files                   new offset, counts, status, committed_at
 *     (compare-and-set on the old offset: a ledger that moved under us fails the batch)
 *   COMMIT
 *
 * So a crash at any instant leaves all or nothing of a batch, and the ledger, read again at the
 * start of every batch, is the only record of progress: an ambiguous COMMIT is resolved by
 * reading it after reconnecting, never by guessing. The advisory lock is per transaction, so a
 * claim dies with its session: a killed ingester's claims vanish at once, a stopped one's when
 * the server's idle_in_transaction_session_timeout ends its session.
 *
 * A batch whose COPY hits a unique violation (an event_id already loaded, or repeated in the
 * batch) is redone through a temporary staging table: first copy wins, later copies become
 * duplicate_event_id dead letters. The clean path pays nothing for this; after a duplicate the
 * next batches go through staging directly (duplicates come in runs), until a batch has none.
 *
 * Memory is bounded: the reader holds at most one row plus one read chunk, COPY data is flushed
 * every COPY_FLUSH_BYTES, and a batch closes early when its dead letters reach REJECT_CAP_BYTES.
 * Files are only ever read here; moving them is the archiver's job (or the error folder's, for
 * entries that are not regular files and files whose header is unusable).
 */
#include "ingest.h"

#include "csv_reader.h"
#include "db.h"
#include "fault.h"
#include "file_table.h"
#include "filehash.h"
#include "idset.h"
#include "fsutil.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "validate.h"
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK_BYTES (256 * 1024)
#define COPY_FLUSH_BYTES (1024 * 1024)
#define REJECT_CAP_BYTES (8 * 1024 * 1024)
#define MAX_FILES_PER_BATCH 2000
#define STAGING_STICKY_BATCHES 16

enum bf_action {
    BF_LOAD,       /* claimed, being loaded */
    BF_QUARANTINE, /* claimed; the file is unusable and goes to the error folder */
    BF_SKIP_DONE,  /* the ledger says it is finished already */
    BF_SKIP_BUSY,  /* another ingester holds it */
    BF_DEFER,      /* claimed, but the batch filled up before its turn */
};

struct batch_file {
    struct file_entry *e;
    int fd;
    struct stat st;
    char hash[FILEHASH_HEX_LEN + 1];
    enum bf_action action;
    char old_status[16];
    uint64_t start_offset, start_line; /* from the ledger */
    uint64_t end_offset, end_line;     /* after this batch */
    long sent;                         /* valid rows sent to COPY */
    long rejected;                     /* dead letters written */
    long duplicates; /* valid rows that turned out to be duplicates (staging mode) */
    bool at_eof;
};

enum batch_result { BATCH_OK, BATCH_RETRY, BATCH_DUPLICATE, BATCH_FATAL };

#define MAX_WORKERS 16

/* What the workers of one ingest_run() share: the counters, under a mutex. */
struct shared {
    pthread_mutex_t mu;
    struct ingest_stats *stats;
    uint64_t reconnects;
    double last_batch_s, last_commit_unixtime, metrics_written_at;
};

/* One worker: its own connection, queue and reader. Workers split the folder by name. */
struct ingest {
    const struct ingest_options *o;
    volatile sig_atomic_t *stop;
    struct shared *sh;
    unsigned worker, nworkers;
    char component[24];
    int rc;
    PGconn *conn;
    struct watch *watch;
    struct file_table *files;
    struct file_entry **queue; /* FIFO: queue[qhead .. qhead+qlen) */
    size_t qhead, qlen, qcap;
    unsigned gen;
    struct schema *schema;
    struct csv_reader *reader;
    int dirfd;
    int lockfd;
    char *chunk;
    struct buf copy, rej;
    struct batch_file *bf;
    size_t nbf, bfcap;
    uint64_t batch_in_bytes; /* input bytes taken into the current batch */
    bool staging;
    double pending_published; /* when this worker last gave metrics its queue */
    unsigned staging_batches; /* after a duplicate, the next batches go straight to staging */
    struct idset *batch_ids;  /* event_ids sent in this batch */
};

/* ---- the queue ---------------------------------------------------------------------------- */

static void queue_compact(struct ingest *ig, size_t need)
{
    if (ig->qhead > 0 && ig->qhead + ig->qlen + need > ig->qcap) {
        memmove(ig->queue, ig->queue + ig->qhead, ig->qlen * sizeof(*ig->queue));
        ig->qhead = 0;
    }
    if (ig->qlen + need > ig->qcap) {
        ig->qcap = ig->qcap ? ig->qcap * 2 : 1024;
        while (ig->qlen + need > ig->qcap)
            ig->qcap *= 2;
        ig->queue = xrealloc(ig->queue, ig->qcap * sizeof(*ig->queue));
    }
}

static void queue_push_back(struct ingest *ig, struct file_entry *e)
{
    queue_compact(ig, 1);
    ig->queue[ig->qhead + ig->qlen++] = e;
    e->queued = true;
}

static void queue_push_front(struct ingest *ig, struct file_entry *e)
{
    if (ig->qhead == 0) {
        queue_compact(ig, 1);
        memmove(ig->queue + 1, ig->queue, ig->qlen * sizeof(*ig->queue));
        ig->qhead = 1;
    }
    ig->queue[--ig->qhead] = e;
    ig->qlen++;
    e->queued = true;
}

static struct file_entry *queue_pop(struct ingest *ig)
{
    if (!ig->qlen)
        return NULL;
    struct file_entry *e = ig->queue[ig->qhead++];
    ig->qlen--;
    e->queued = false;
    return e;
}

/* ---- discovery ---------------------------------------------------------------------------- */

static int64_t mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

static bool same_identity(const struct file_entry *e, const struct stat *st)
{
    return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mtime_ns == mtime_ns(st);
}

/* Which worker owns a name: a stable hash, so a file always goes to the same worker. */
static unsigned name_worker(const char *name, unsigned nworkers)
{
    uint32_t h = 2166136261u;
    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 16777619u;
    return h % nworkers;
}

/* Queue the names the watcher reported; returns how many were new to the queue. */
static size_t take_names(struct ingest *ig, struct watch_names *names)
{
    size_t added = 0;
    if (names->full_scan)
        ig->gen++;
    for (size_t i = 0; i < names->count; i++) {
        if (ig->nworkers > 1 && name_worker(names->names[i], ig->nworkers) != ig->worker)
            continue;
        struct file_entry *e = file_table_get(ig->files, names->names[i], true);
        e->seen = ig->gen;
        if (e->queued)
            continue;
        if (e->finished) {
            /* Cheap identity check: a finished file that has not changed is not read again. */
            struct stat st;
            if (fstatat(ig->dirfd, e->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
                same_identity(e, &st))
                continue;
            e->finished = false;
        }
        queue_push_back(ig, e);
        added++;
    }
    if (names->full_scan)
        file_table_prune(ig->files, ig->gen);
    watch_names_clear(names);
    return added;
}

static void finish_entry(struct file_entry *e, const struct stat *st)
{
    e->finished = true;
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->size = st->st_size;
    e->mtime_ns = mtime_ns(st);
}

static void move_to_error_dir(struct ingest *ig, const char *name, const char *why)
{
    char final_name[1024];
    if (fs_move_durable(ig->o->input_dir, name, ig->o->error_dir, final_name, sizeof(final_name)) ==
        0)
        log_warn(ig->component, "moved '%s' to the error folder as '%s': %s", name, final_name,
                 why);
}

/* Open and hash a queued file. Returns true when bf is ready to be claimed; false when the entry
 * needs nothing now (gone, not a regular file and moved away, unchanged since finished). */
static bool prepare_file(struct ingest *ig, struct file_entry *e, struct batch_file *bf)
{
    memset(bf, 0, sizeof(*bf));
    bf->fd = -1;
    bf->e = e;
    struct stat st;
    if (fstatat(ig->dirfd, e->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT)
            log_warn(ig->component, "cannot stat '%s': %s", e->name, strerror(errno));
        e->finished = true; /* forgotten at the next listing that lacks it */
        e->dev = 0;
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        move_to_error_dir(ig, e->name,
                          S_ISLNK(st.st_mode)    ? "a symbolic link is never read"
                          : S_ISDIR(st.st_mode)  ? "a directory is never read"
                          : S_ISFIFO(st.st_mode) ? "a FIFO is never read"
                                                 : "not a regular file");
        metrics_add_files(METRICS_FILE_IGNORED, 1);
        e->finished = true;
        e->dev = 0;
        return false;
    }
    if (e->finished && same_identity(e, &st))
        return false;
    int fd = openat(ig->dirfd, e->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        log_warn(ig->component, "cannot open '%s': %s (will retry at the next rescan)", e->name,
                 strerror(errno));
        return false;
    }
    if (fstat(fd, &bf->st) < 0 || !S_ISREG(bf->st.st_mode) || bf->st.st_ino != st.st_ino) {
        close(fd);
        return false; /* replaced between stat and open: the next listing sees the new one */
    }
    if (filehash_fd(fd, bf->hash) < 0) {
        log_warn(ig->component, "cannot read '%s': %s (will retry at the next rescan)", e->name,
                 strerror(errno));
        close(fd);
        return false;
    }
    bf->fd = fd;
    return true;
}

/* ---- SQL helpers -------------------------------------------------------------------------- */

/* Append s as one element of a PostgreSQL array literal. */
static void array_elem(struct buf *b, const char *s)
{
    buf_putc(b, b->len == 0 ? '{' : ',');
    buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            buf_putc(b, '\\');
        buf_putc(b, *s);
    }
    buf_putc(b, '"');
}

static void array_elem_u64(struct buf *b, uint64_t v)
{
    char tmp[32];
    snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
    array_elem(b, tmp);
}

static const char *array_end(struct buf *b)
{
    if (b->len == 0)
        buf_putc(b, '{');
    buf_putc(b, '}');
    buf_putc(b, '\0');
    return b->data;
}

static enum batch_result status_to_result(enum db_status st)
{
    return st == DB_OK ? BATCH_OK : st == DB_RETRY ? BATCH_RETRY : BATCH_FATAL;
}

/* Run a parameterised statement; the result is returned on success (caller clears it). */
static enum batch_result query(struct ingest *ig, const char *sql, int nparams,
                               const char *const *params, ExecStatusType want, const char *what,
                               PGresult **out)
{
    PGresult *res = PQexecParams(ig->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    enum db_status st = db_check(ig->conn, res, want, what);
    if (st == DB_OK && out) {
        *out = res;
        return BATCH_OK;
    }
    if (st == DB_FATAL && strcmp(db_sqlstate(res), "23505") == 0) {
        PQclear(res);
        return BATCH_DUPLICATE;
    }
    PQclear(res);
    return status_to_result(st);
}

/* ---- claiming ----------------------------------------------------------------------------- */

/* Files held by another session: if that session has been stuck for longer than --lock-timeout
 * (a stopped process in the middle of a COPY, which the server does not see as idle), end it so
 * its claims are freed. Safe: its transaction rolls back, and when it wakes up it reads the
 * ledger again. A live ingester never waits that long between two messages of one batch. */
static enum batch_result free_stalled_claims(struct ingest *ig, const char *keys)
{
    char secs[32];
    snprintf(secs, sizeof(secs), "%.3f", ig->o->lock_timeout);
    const char *p[] = {keys, secs};
    PGresult *res = NULL;
    enum batch_result r =
        query(ig,
              "SELECT a.pid, pg_terminate_backend(a.pid) FROM pg_locks l "
              "JOIN pg_stat_activity a ON a.pid = l.pid "
              "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
              "AND ((l.classid::bigint << 32) | l.objid::bigint) = ANY($1::bigint[]) "
              "AND a.pid <> pg_backend_pid() "
              "AND (a.state = 'idle in transaction' OR a.wait_event = 'ClientRead') "
              "AND now() - a.state_change > make_interval(secs => $2::float8)",
              2, p, PGRES_TUPLES_OK, "free stalled claims", &res);
    if (r != BATCH_OK)
        return r;
    for (int i = 0; i < PQntuples(res); i++)
        log_warn(ig->component,
                 "ended PostgreSQL session %s: it held files without progress for over %s s "
                 "(a stalled ingester); its batch is rolled back",
                 PQgetvalue(res, i, 0), secs);
    PQclear(res);
    return BATCH_OK;
}

static enum batch_result claim_files(struct ingest *ig)
{
    struct buf keys, names, hashes, sizes, mtimes;
    buf_init(&keys);
    buf_init(&names);
    buf_init(&hashes);
    buf_init(&sizes);
    buf_init(&mtimes);
    PGresult *res = NULL;
    enum batch_result r;

    for (size_t i = 0; i < ig->nbf; i++) {
        char key[32];
        snprintf(key, sizeof(key), "%" PRId64,
                 filehash_lock_key(ig->bf[i].hash, ig->bf[i].e->name));
        array_elem(&keys, key);
    }
    const char *p1[] = {array_end(&keys)};
    r = query(ig,
              "SELECT pg_try_advisory_xact_lock(k) FROM unnest($1::bigint[]) WITH ORDINALITY "
              "AS t(k, i) ORDER BY i",
              1, p1, PGRES_TUPLES_OK, "claim files", &res);
    if (r != BATCH_OK)
        goto out;
    size_t nclaimed = 0, nbusy = 0;
    for (size_t i = 0; i < ig->nbf; i++) {
        struct batch_file *bf = &ig->bf[i];
        if (strcmp(PQgetvalue(res, (int)i, 0), "t") != 0) {
            bf->action = BF_SKIP_BUSY;
            nbusy++;
            continue;
        }
        nclaimed++;
        array_elem(&names, bf->e->name);
        array_elem(&hashes, bf->hash);
        array_elem_u64(&sizes, (uint64_t)bf->st.st_size);
        char mt[48];
        snprintf(mt, sizeof(mt), "%lld.%09ld", (long long)bf->st.st_mtim.tv_sec,
                 bf->st.st_mtim.tv_nsec);
        array_elem(&mtimes, mt);
    }
    PQclear(res);
    res = NULL;
    if (nbusy) {
        r = free_stalled_claims(ig, p1[0]);
        if (r != BATCH_OK)
            goto out;
    }
    if (!nclaimed)
        goto out;

    const char *p2[] = {array_end(&names), array_end(&hashes), array_end(&sizes),
                        array_end(&mtimes)};
    r = query(ig,
              "INSERT INTO ingest_files (file_name, content_hash, size_bytes, file_mtime) "
              "SELECT n, h, s, to_timestamp(m) FROM unnest($1::text[], $2::text[], "
              "$3::bigint[], $4::float8[]) AS t(n, h, s, m) ON CONFLICT DO NOTHING",
              4, p2, PGRES_COMMAND_OK, "register files", &res);
    if (r != BATCH_OK)
        goto out;
    PQclear(res);
    r = query(ig,
              "SELECT f.status, f.committed_offset, f.committed_line FROM unnest($1::text[], "
              "$2::text[]) WITH ORDINALITY AS t(n, h, i) JOIN ingest_files f "
              "ON f.file_name = t.n AND f.content_hash = t.h ORDER BY t.i",
              2, p2, PGRES_TUPLES_OK, "read ledger", &res);
    if (r != BATCH_OK)
        goto out;
    if ((size_t)PQntuples(res) != nclaimed) {
        log_error(ig->component, "ledger returned %d rows for %zu claimed files", PQntuples(res),
                  nclaimed);
        r = BATCH_FATAL;
        goto out;
    }
    int row = 0;
    for (size_t i = 0; i < ig->nbf; i++) {
        struct batch_file *bf = &ig->bf[i];
        if (bf->action == BF_SKIP_BUSY)
            continue;
        const char *status = PQgetvalue(res, row, 0);
        snprintf(bf->old_status, sizeof(bf->old_status), "%s", status);
        bf->start_offset = strtoull(PQgetvalue(res, row, 1), NULL, 10);
        bf->start_line = strtoull(PQgetvalue(res, row, 2), NULL, 10);
        bf->end_offset = bf->start_offset;
        bf->end_line = bf->start_line;
        row++;
        if (strcmp(status, "loading") != 0)
            bf->action = BF_SKIP_DONE;
        else if (ig->o->max_file_bytes && (uint64_t)bf->st.st_size > ig->o->max_file_bytes)
            bf->action = BF_QUARANTINE;
        else
            bf->action = BF_LOAD;
    }
    r = BATCH_OK;
out:
    PQclear(res);
    buf_release(&keys);
    buf_release(&names);
    buf_release(&hashes);
    buf_release(&sizes);
    buf_release(&mtimes);
    return r;
}

/* ---- reading ------------------------------------------------------------------------------ */

static enum batch_result copy_send(struct ingest *ig, struct buf *data)
{
    if (data->len == 0)
        return BATCH_OK;
    if (PQputCopyData(ig->conn, data->data, (int)data->len) != 1) {
        db_check(ig->conn, NULL, PGRES_COPY_IN, "COPY data");
        return BATCH_RETRY;
    }
    buf_reset(data);
    fault_point("mid-copy");
    return BATCH_OK;
}

/* Is the batch full at this row boundary? A file is only cut when it alone fills a batch (a
 * large file, committed in chunks) or the batch has grown to twice its size: plan_batch() already
 * sized the batch by whole files, and cutting a small file would only cost a round trip. */
static bool batch_full(const struct ingest *ig, const struct batch_file *bf)
{
    uint64_t in_file = bf->end_offset - bf->start_offset;
    return in_file >= ig->o->batch_bytes ||
           ig->batch_in_bytes + in_file >= 2 * ig->o->batch_bytes ||
           ig->rej.len >= REJECT_CAP_BYTES;
}

/* Write a dead letter for a file-level problem (reported at line 1). */
static void reject_file(struct ingest *ig, struct batch_file *bf, const struct csv_row *row,
                        const struct verdict *v)
{
    struct csv_row empty;
    if (!row) {
        memset(&empty, 0, sizeof(empty));
        empty.line = 1;
        empty.raw = "";
        row = &empty;
    }
    schema_encode_reject(ig->schema, row, v, bf->e->name, &ig->rej);
    metrics_batch_reject(v->code, 1);
    bf->rejected++;
    bf->action = BF_QUARANTINE;
    bf->end_offset = (uint64_t)bf->st.st_size;
    bf->at_eof = true;
}

/* Read the header line from the start of the file and bind it. -1 on a read error. */
static int read_header(struct ingest *ig, struct batch_file *bf, struct csv_row *row, bool *found)
{
    csv_reader_reset(ig->reader, 0, 1);
    uint64_t off = 0;
    *found = false;
    for (;;) {
        enum csv_next n = csv_reader_next(ig->reader, row);
        if (n == CSV_ROW) {
            *found = true;
            return 0;
        }
        if (n == CSV_END)
            return 0;
        ssize_t got = pread(bf->fd, ig->chunk, READ_CHUNK_BYTES, (off_t)off);
        if (got < 0) {
            log_error(ig->component, "read error on '%s': %s", bf->e->name, strerror(errno));
            return -1;
        }
        if (got == 0)
            csv_reader_finish(ig->reader);
        else
            csv_reader_feed(ig->reader, ig->chunk, (size_t)got);
        off += (uint64_t)got;
    }
}

static void stage_prefix(struct ingest *ig, size_t file_idx, uint64_t line)
{
    buf_printf(&ig->copy, "%zu\t%" PRIu64 "\t", file_idx, line);
}

/* Is the event_id of the COPY line that starts at copy.data[mark] new in this batch? If not,
 * fill v: the later copy is a duplicate_event_id dead letter, and the first one stays. */
static bool first_in_batch(struct ingest *ig, size_t mark, struct verdict *v)
{
    const char *line = ig->copy.data + mark;
    const char *end = ig->copy.data + ig->copy.len;
    if (ig->staging) /* skip the file_idx and line columns */
        for (int tabs = 0; tabs < 2 && line < end; line++)
            if (*line == '\t')
                tabs++;
    const char *tab = memchr(line, '\t', (size_t)(end - line));
    size_t len = tab ? (size_t)(tab - line) : 0;
    if (idset_insert(ig->batch_ids, line, len))
        return true;
    v->code = REJECT_DUPLICATE_EVENT_ID;
    v->column = COL_EVENT_ID;
    snprintf(v->message, sizeof(v->message), "event_id: '%.*s' is already loaded",
             (int)(len > 100 ? 100 : len), line);
    return false;
}

/* One data row: into COPY when valid, into the dead letters otherwise. */
static void take_row(struct ingest *ig, size_t file_idx, struct batch_file *bf,
                     const struct csv_row *row)
{
    struct verdict v;
    size_t mark = ig->copy.len;
    if (ig->staging)
        stage_prefix(ig, file_idx, row->line);
    bool valid = schema_validate_row(ig->schema, row, &ig->copy, &v);
    if (valid && !first_in_batch(ig, mark, &v))
        valid = false;
    if (valid) {
        if (ig->staging) {
            ig->copy.len--; /* the newline: the raw line follows */
            buf_putc(&ig->copy, '\t');
            copy_text_escape(&ig->copy, row->raw, row->raw_len);
            buf_putc(&ig->copy, '\n');
        }
        bf->sent++;
    } else {
        ig->copy.len = mark;
        schema_encode_reject(ig->schema, row, &v, bf->e->name, &ig->rej);
        metrics_batch_reject(v.code, 1);
        bf->rejected++;
    }
}

/* Stream one claimed file into the open COPY, from its committed offset until its end or until
 * the batch is full. */
static enum batch_result load_file(struct ingest *ig, size_t file_idx)
{
    struct batch_file *bf = &ig->bf[file_idx];
    struct csv_row row;
    struct verdict v;
    bool header_bound = false;

    if (bf->start_offset > 0) {
        bool found;
        if (read_header(ig, bf, &row, &found) < 0)
            return BATCH_FATAL;
        if (!found || schema_bind_header(ig->schema, &row, &v) < 0) {
            log_error(ig->component, "'%s': header unreadable on resume", bf->e->name);
            return BATCH_FATAL;
        }
        header_bound = true;
    }
    csv_reader_reset(ig->reader, bf->start_offset, bf->start_line);
    uint64_t off = bf->start_offset;
    for (;;) {
        enum csv_next n;
        while ((n = csv_reader_next(ig->reader, &row)) == CSV_ROW) {
            if (!header_bound) {
                if (schema_bind_header(ig->schema, &row, &v) < 0) {
                    reject_file(ig, bf, &row, &v);
                    return BATCH_OK;
                }
                header_bound = true;
            } else {
                take_row(ig, file_idx, bf, &row);
            }
            bf->end_offset = row.end_offset;
            bf->end_line = row.next_line;
            if (ig->copy.len >= COPY_FLUSH_BYTES) {
                enum batch_result r = copy_send(ig, &ig->copy);
                if (r != BATCH_OK)
                    return r;
            }
            if (batch_full(ig, bf))
                return BATCH_OK;
        }
        if (n == CSV_END) {
            bf->at_eof = true;
            bf->end_offset = (uint64_t)bf->st.st_size;
            return BATCH_OK;
        }
        ssize_t got = pread(bf->fd, ig->chunk, READ_CHUNK_BYTES, (off_t)off);
        if (got < 0) {
            log_error(ig->component, "read error on '%s': %s", bf->e->name, strerror(errno));
            return BATCH_FATAL;
        }
        if (got == 0)
            csv_reader_finish(ig->reader);
        else
            csv_reader_feed(ig->reader, ig->chunk, (size_t)got);
        off += (uint64_t)got;
    }
}

/* ---- the batch transaction ---------------------------------------------------------------- */

static const char *const copy_main_sql =
    "COPY user_activity (event_id, event_time, event_type, product_id, price, user_id, "
    "session_id) FROM STDIN";
static const char *const copy_stage_sql =
    "COPY sluice_stage (file_idx, line, event_id, event_time, event_type, product_id, price, "
    "user_id, session_id, raw_line) FROM STDIN";

static enum batch_result copy_begin(struct ingest *ig, const char *sql, const char *what)
{
    PGresult *res = PQexec(ig->conn, sql);
    enum db_status st = db_check(ig->conn, res, PGRES_COPY_IN, what);
    PQclear(res);
    return status_to_result(st);
}

/* End a COPY and check the server counted `expect` rows. */
static enum batch_result copy_end(struct ingest *ig, struct buf *data, long expect,
                                  const char *what)
{
    enum batch_result r = copy_send(ig, data);
    if (r != BATCH_OK)
        return r;
    if (PQputCopyEnd(ig->conn, NULL) != 1) {
        db_check(ig->conn, NULL, PGRES_COMMAND_OK, what);
        return BATCH_RETRY;
    }
    PGresult *res;
    r = BATCH_OK;
    bool first = true;
    while ((res = PQgetResult(ig->conn)) != NULL) {
        if (first) {
            enum db_status st = db_check(ig->conn, res, PGRES_COMMAND_OK, what);
            if (st == DB_FATAL && strcmp(db_sqlstate(res), "23505") == 0)
                r = BATCH_DUPLICATE;
            else if (st != DB_OK)
                r = status_to_result(st);
            else if (atol(PQcmdTuples(res)) != expect) {
                log_error(ig->component, "%s: server stored %s rows, %ld were sent", what,
                          PQcmdTuples(res), expect);
                r = BATCH_FATAL;
            }
            first = false;
        }
        PQclear(res);
    }
    if (first && r == BATCH_OK) {
        db_check(ig->conn, NULL, PGRES_COMMAND_OK, what);
        r = BATCH_RETRY;
    }
    return r;
}

/* Staging mode: route duplicates to the dead letters, insert the rest, count per file. */
static enum batch_result stage_resolve(struct ingest *ig, long sent)
{
    struct buf names;
    buf_init(&names);
    for (size_t i = 0; i < ig->nbf; i++)
        array_elem(&names, ig->bf[i].e->name);
    const char *p[] = {array_end(&names)};
    PGresult *res = NULL;
    enum batch_result r = query(
        ig,
        "WITH r AS (SELECT ctid AS c, event_id, row_number() OVER (PARTITION BY event_id "
        "ORDER BY file_idx, line) AS rn FROM sluice_stage), "
        "x AS (SELECT c FROM r WHERE rn > 1 OR EXISTS (SELECT 1 FROM user_activity u "
        "WHERE u.event_id = r.event_id)), "
        "d AS (DELETE FROM sluice_stage s USING x WHERE s.ctid = x.c RETURNING s.*), "
        "e AS (INSERT INTO user_activity_errors (" REJECT_COPY_COLUMNS ") SELECT event_id, "
        "event_time::text, event_type, product_id::text, price::text, user_id::text, session_id, "
        "'duplicate_event_id', 'event_id', 'event_id: ''' || event_id || ''' is already loaded', "
        "($1::text[])[file_idx + 1], line, raw_line FROM d) "
        "SELECT file_idx, count(*) FROM d GROUP BY file_idx",
        1, p, PGRES_TUPLES_OK, "route duplicates", &res);
    buf_release(&names);
    if (r != BATCH_OK)
        return r;
    long dups = 0;
    if (PQntuples(res) == 0)
        ig->staging_batches = 0; /* no duplicates here: back to the direct path */
    for (int i = 0; i < PQntuples(res); i++) {
        size_t idx = strtoul(PQgetvalue(res, i, 0), NULL, 10);
        long n = atol(PQgetvalue(res, i, 1));
        if (idx < ig->nbf)
            ig->bf[idx].duplicates = n;
        dups += n;
    }
    PQclear(res);
    res = NULL;
    r = query(ig,
              "INSERT INTO user_activity SELECT event_id, event_time, event_type, product_id, "
              "price, user_id, session_id FROM sluice_stage",
              0, NULL, PGRES_COMMAND_OK, "insert staged rows", &res);
    if (r != BATCH_OK)
        return r;
    long inserted = atol(PQcmdTuples(res));
    PQclear(res);
    if (inserted + dups != sent) {
        log_error(ig->component, "staging: %ld inserted + %ld duplicates != %ld sent", inserted,
                  dups, sent);
        return BATCH_FATAL;
    }
    return BATCH_OK;
}

static enum batch_result update_ledger(struct ingest *ig, size_t *nupdated)
{
    struct buf names, hashes, status, offs, lines, loaded, rejected, old;
    struct buf *all[] = {&names, &hashes, &status, &offs, &lines, &loaded, &rejected, &old};
    for (size_t i = 0; i < 8; i++)
        buf_init(all[i]);
    size_t n = 0;
    for (size_t i = 0; i < ig->nbf; i++) {
        struct batch_file *bf = &ig->bf[i];
        if (bf->action != BF_LOAD && bf->action != BF_QUARANTINE)
            continue;
        n++;
        array_elem(&names, bf->e->name);
        array_elem(&hashes, bf->hash);
        array_elem(&status, bf->action == BF_QUARANTINE ? "quarantined"
                            : bf->at_eof                ? "done"
                                                        : "loading");
        array_elem_u64(&offs, bf->end_offset);
        array_elem_u64(&lines, bf->end_line);
        array_elem_u64(&loaded, (uint64_t)(bf->sent - bf->duplicates));
        array_elem_u64(&rejected, (uint64_t)(bf->rejected + bf->duplicates));
        array_elem_u64(&old, bf->start_offset);
    }
    enum batch_result r = BATCH_OK;
    *nupdated = n;
    if (n) {
        const char *p[8];
        for (size_t i = 0; i < 8; i++)
            p[i] = array_end(all[i]);
        PGresult *res = NULL;
        r = query(
            ig,
            "UPDATE ingest_files f SET status = t.st, committed_offset = t.off, "
            "committed_line = t.line, rows_loaded = f.rows_loaded + t.ld, "
            "rows_rejected = f.rows_rejected + t.rj, committed_at = clock_timestamp() "
            "FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], "
            "$6::bigint[], $7::bigint[], $8::bigint[]) AS t(n, h, st, off, line, ld, rj, old) "
            "WHERE f.file_name = t.n AND f.content_hash = t.h AND f.committed_offset = t.old "
            "AND f.status = 'loading'",
            8, p, PGRES_COMMAND_OK, "update ledger", &res);
        if (r == BATCH_OK && (size_t)atol(PQcmdTuples(res)) != n) {
            log_error(ig->component, "ledger moved under this batch (%s of %zu rows updated)",
                      PQcmdTuples(res), n);
            r = BATCH_FATAL;
        }
        PQclear(res);
    }
    for (size_t i = 0; i < 8; i++)
        buf_release(all[i]);
    return r;
}

/* The whole transaction for the files in ig->bf. */
static enum batch_result run_batch(struct ingest *ig)
{
    enum batch_result r;
    buf_reset(&ig->copy);
    buf_reset(&ig->rej);
    idset_clear(ig->batch_ids);
    ig->batch_in_bytes = 0;
    metrics_batch_begin();

    r = status_to_result(db_exec(ig->conn, "BEGIN", "BEGIN"));
    if (r != BATCH_OK)
        return r;
    r = claim_files(ig);
    if (r != BATCH_OK)
        return r;
    fault_point("claimed");

    bool any_load = false;
    for (size_t i = 0; i < ig->nbf; i++)
        if (ig->bf[i].action == BF_LOAD)
            any_load = true;
    long sent = 0;
    if (any_load) {
        if (ig->staging) {
            r = status_to_result(
                db_exec(ig->conn,
                        "CREATE TEMP TABLE IF NOT EXISTS sluice_stage (file_idx int, line bigint, "
                        "event_id text, event_time timestamp, event_type text, product_id int, "
                        "price numeric(10,2), user_id int, session_id text, raw_line text) "
                        "ON COMMIT DELETE ROWS",
                        "create staging table"));
            if (r != BATCH_OK)
                return r;
        }
        r = copy_begin(ig, ig->staging ? copy_stage_sql : copy_main_sql, "COPY user_activity");
        if (r != BATCH_OK)
            return r;
        for (size_t i = 0; i < ig->nbf; i++) {
            struct batch_file *bf = &ig->bf[i];
            if (bf->action != BF_LOAD)
                continue;
            r = load_file(ig, i);
            if (r != BATCH_OK)
                return r;
            sent += bf->sent;
            ig->batch_in_bytes += bf->end_offset - bf->start_offset;
            if (!bf->at_eof) {
                /* batch full: the files after this one wait for the next batch */
                for (size_t j = i + 1; j < ig->nbf; j++)
                    if (ig->bf[j].action == BF_LOAD)
                        ig->bf[j].action = BF_DEFER;
                break;
            }
        }
        r = copy_end(ig, &ig->copy, sent, "COPY user_activity");
        if (r != BATCH_OK)
            return r;
        if (ig->staging) {
            r = stage_resolve(ig, sent);
            if (r != BATCH_OK)
                return r;
        }
    }
    for (size_t i = 0; i < ig->nbf; i++) {
        struct batch_file *bf = &ig->bf[i];
        if (bf->action == BF_QUARANTINE && bf->rejected == 0) {
            struct verdict v = {.code = REJECT_BAD_HEADER, .column = -1};
            snprintf(v.message, sizeof(v.message),
                     "file is %lld bytes, over --max-file-bytes %" PRIu64,
                     (long long)bf->st.st_size, ig->o->max_file_bytes);
            reject_file(ig, bf, NULL, &v);
        }
    }
    if (ig->rej.len) {
        long nrej = 0;
        for (size_t i = 0; i < ig->nbf; i++)
            nrej += ig->bf[i].rejected;
        r = copy_begin(ig, "COPY user_activity_errors (" REJECT_COPY_COLUMNS ") FROM STDIN",
                       "COPY user_activity_errors");
        if (r != BATCH_OK)
            return r;
        fault_point("mid-deadletter");
        r = copy_end(ig, &ig->rej, nrej, "COPY user_activity_errors");
        if (r != BATCH_OK)
            return r;
    }
    size_t nupdated;
    r = update_ledger(ig, &nupdated);
    if (r != BATCH_OK)
        return r;
    fault_point("before-commit");
    PGresult *res = PQexec(ig->conn, "COMMIT");
    enum db_status st = db_check(ig->conn, res, PGRES_COMMAND_OK, "COMMIT");
    PQclear(res);
    if (st != DB_OK)
        return status_to_result(st);
    fault_point("after-commit");
    return BATCH_OK;
}

/* ---- the loop ----------------------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void close_batch_files(struct ingest *ig)
{
    for (size_t i = 0; i < ig->nbf; i++)
        if (ig->bf[i].fd >= 0)
            close(ig->bf[i].fd);
    ig->nbf = 0;
}

/* Take files from the queue into ig->bf, up to the batch size. */
static void plan_batch(struct ingest *ig)
{
    uint64_t planned = 0;
    ig->nbf = 0;
    while (ig->qlen && ig->nbf < MAX_FILES_PER_BATCH && planned < ig->o->batch_bytes) {
        struct file_entry *e = queue_pop(ig);
        if (ig->nbf == ig->bfcap) {
            ig->bfcap = ig->bfcap ? ig->bfcap * 2 : 64;
            ig->bf = xrealloc(ig->bf, ig->bfcap * sizeof(*ig->bf));
        }
        if (prepare_file(ig, e, &ig->bf[ig->nbf])) {
            planned += (uint64_t)ig->bf[ig->nbf].st.st_size;
            ig->nbf++;
        }
    }
}

static void rollback(struct ingest *ig)
{
    if (!db_alive(ig->conn))
        return;
    PQclear(PQexec(ig->conn, "ROLLBACK"));
}

/* Put every file of a failed batch back at the head of the queue, in order. */
static void requeue_batch(struct ingest *ig)
{
    for (size_t i = ig->nbf; i-- > 0;)
        queue_push_front(ig, ig->bf[i].e);
}

/* Give metrics this worker's queue (files, bytes, oldest mtime) about once a second, and
 * rewrite CHECKPOINT_DIR/metrics.prom at most once a second for all workers. */
static void write_metrics(struct ingest *ig, bool force)
{
    double now = now_s();
    metrics_watchdog_tick();
    if (force || ig->qlen == 0 || now - ig->pending_published >= 1.0) {
        ig->pending_published = now;
        uint64_t bytes = 0;
        double oldest = 0;
        for (size_t i = 0; i < ig->qlen; i++) {
            struct stat st;
            if (fstatat(ig->dirfd, ig->queue[ig->qhead + i]->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                continue;
            bytes += (uint64_t)st.st_size;
            double mt = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
            if (oldest == 0 || mt < oldest)
                oldest = mt;
        }
        metrics_set_pending(ig->worker, ig->qlen, bytes, oldest);
    }
    struct shared *sh = ig->sh;
    pthread_mutex_lock(&sh->mu);
    bool due = force || now - sh->metrics_written_at >= 1.0;
    if (due)
        sh->metrics_written_at = now;
    pthread_mutex_unlock(&sh->mu);
    if (due)
        metrics_write(ig->o->checkpoint_dir);
}

/* After COMMIT: account, and move what needs moving. Returns files that made progress. */
static size_t after_commit(struct ingest *ig, double t0)
{
    long loaded = 0, rejected = 0;
    uint64_t bytes_read = 0;
    size_t files = 0, progressed = 0, done = 0, quarantined = 0;
    for (size_t i = ig->nbf; i-- > 0;) {
        struct batch_file *bf = &ig->bf[i];
        switch (bf->action) {
        case BF_SKIP_BUSY:
            break;
        case BF_DEFER:
            queue_push_front(ig, bf->e);
            break;
        case BF_SKIP_DONE:
            progressed++;
            finish_entry(bf->e, &bf->st);
            if (strcmp(bf->old_status, "quarantined") == 0)
                move_to_error_dir(ig, bf->e->name, "its content was quarantined before");
            break;
        case BF_QUARANTINE:
            files++;
            progressed++;
            quarantined++;
            finish_entry(bf->e, &bf->st);
            move_to_error_dir(ig, bf->e->name, "unusable file (see user_activity_errors)");
            break;
        case BF_LOAD:
            files++;
            progressed++;
            if (bf->at_eof) {
                done++;
                finish_entry(bf->e, &bf->st);
            } else {
                queue_push_front(ig, bf->e); /* a large file: the next chunk comes next */
            }
            break;
        }
        if (bf->action == BF_LOAD && bf->at_eof)
            metrics_observe_commit_latency((double)bf->st.st_mtim.tv_sec +
                                           (double)bf->st.st_mtim.tv_nsec / 1e9);
        if (bf->action == BF_LOAD || bf->action == BF_QUARANTINE)
            bytes_read += bf->end_offset - bf->start_offset;
        metrics_batch_reject(REJECT_DUPLICATE_EVENT_ID, (uint64_t)bf->duplicates);
        loaded += bf->sent - bf->duplicates;
        rejected += bf->rejected + bf->duplicates;
    }
    /* busy files go to the back of the queue, in order */
    for (size_t i = 0; i < ig->nbf; i++)
        if (ig->bf[i].action == BF_SKIP_BUSY)
            queue_push_back(ig, ig->bf[i].e);
    double ms = (now_s() - t0) * 1000;
    struct shared *sh = ig->sh;
    pthread_mutex_lock(&sh->mu);
    sh->stats->batches++;
    sh->stats->files_done += done;
    sh->stats->files_quarantined += quarantined;
    sh->stats->rows_loaded += (uint64_t)loaded;
    sh->stats->rows_rejected += (uint64_t)rejected;
    sh->last_batch_s = ms / 1000;
    sh->last_commit_unixtime = (double)time(NULL);
    pthread_mutex_unlock(&sh->mu);
    metrics_batch_commit((uint64_t)loaded, (uint64_t)(loaded + rejected), bytes_read, ms / 1000);
    metrics_add_files(METRICS_FILE_DONE, done);
    metrics_add_files(METRICS_FILE_QUARANTINED, quarantined);
    write_metrics(ig, false);
    if (files)
        log_info(ig->component,
                 "batch committed: files=%zu rows_loaded=%ld rows_rejected=%ld rows/s=%.0f "
                 "batch_ms=%.1f%s",
                 files, loaded, rejected, ms > 0 ? (loaded + rejected) / (ms / 1000) : 0, ms,
                 ig->staging ? " (duplicates resolved)" : "");
    return progressed;
}

static void reconnect(struct ingest *ig)
{
    pthread_mutex_lock(&ig->sh->mu);
    ig->sh->reconnects++;
    pthread_mutex_unlock(&ig->sh->mu);
    metrics_add_reconnect();
    PQfinish(ig->conn);
    ig->conn = db_connect(ig->o->conninfo, ig->component, ig->o->lock_timeout, ig->stop);
}

/* Process one batch from the queue; waits out database outages. */
static void process_batch(struct ingest *ig)
{
    plan_batch(ig);
    if (!ig->nbf)
        return;
    ig->staging = ig->staging_batches > 0;
    if (ig->staging_batches)
        ig->staging_batches--;
    for (unsigned attempt = 0;; attempt++) {
        if (!ig->conn) {
            requeue_batch(ig);
            close_batch_files(ig);
            return;
        }
        double t0 = now_s();
        for (size_t i = 0; i < ig->nbf; i++) {
            struct batch_file *bf = &ig->bf[i];
            bf->sent = bf->rejected = bf->duplicates = 0;
            bf->at_eof = false;
            bf->action = BF_LOAD;
        }
        enum batch_result r = run_batch(ig);
        if (r == BATCH_OK) {
            size_t progressed = after_commit(ig, t0);
            close_batch_files(ig);
            if (!progressed) {
                struct timespec ts = {0, 50 * 1000000L}; /* everything busy elsewhere */
                nanosleep(&ts, NULL);
            }
            return;
        }
        rollback(ig);
        if (r == BATCH_DUPLICATE) {
            log_info(ig->component,
                     "batch hit an event_id already loaded; redoing it through staging");
            ig->staging = true;
            ig->staging_batches = STAGING_STICKY_BATCHES;
            continue;
        }
        metrics_add_retry();
        if (r == BATCH_RETRY || !db_alive(ig->conn)) {
            if (*ig->stop) {
                requeue_batch(ig);
                close_batch_files(ig);
                return;
            }
            reconnect(ig);
            continue;
        }
        /* A statement failed for a reason other than the connection. Wait and retry: the
         * ledger is read again, so nothing is lost or doubled; the error is in the log. */
        log_error(ig->component, "batch of %zu files failed; retrying in 5 s", ig->nbf);
        for (int i = 0; i < 50 && !*ig->stop; i++) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (*ig->stop || attempt > 1000) {
            requeue_batch(ig);
            close_batch_files(ig);
            return;
        }
    }
}

/* The checkpoint folder's lock: one process per checkpoint folder. Returns the fd, or -1. */
static int lock_checkpoint(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/ingest.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        log_error("ingest", "cannot open lock file '%s': %s", path, strerror(errno));
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
    if (ftruncate(fd, 0) == 0 && write(fd, pid, (size_t)n) < 0)
        log_debug("ingest", "cannot write pid to lock file");
    return fd;
}

static void worker_release(struct ingest *ig)
{
    close_batch_files(ig);
    free(ig->bf);
    free(ig->queue);
    free(ig->chunk);
    buf_release(&ig->copy);
    buf_release(&ig->rej);
    csv_reader_free(ig->reader);
    schema_free(ig->schema);
    idset_free(ig->batch_ids);
    file_table_free(ig->files);
    watch_free(ig->watch);
    PQfinish(ig->conn);
    if (ig->dirfd >= 0)
        close(ig->dirfd);
}

/* Set a worker up; -1 after logging. */
static int worker_init(struct ingest *ig)
{
    const struct ingest_options *o = ig->o;
    buf_init(&ig->copy);
    buf_init(&ig->rej);
    if (ig->nworkers > 1)
        snprintf(ig->component, sizeof(ig->component), "ingest-%u", ig->worker + 1);
    else
        snprintf(ig->component, sizeof(ig->component), "ingest");
    ig->schema = schema_new(o->event_types);
    if (!ig->schema) {
        log_error(ig->component, "bad --event-types list '%s'", o->event_types);
        return -1;
    }
    ig->dirfd = open(o->input_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ig->dirfd < 0) {
        log_error(ig->component, "cannot open input folder '%s': %s", o->input_dir,
                  strerror(errno));
        return -1;
    }
    ig->watch = watch_new(o->input_dir, o->rescan_interval);
    if (!ig->watch)
        return -1;
    ig->files = file_table_new();
    ig->reader = csv_reader_new(o->max_row_bytes);
    ig->chunk = xmalloc(READ_CHUNK_BYTES);
    ig->batch_ids = idset_new();
    return 0;
}

/* A worker's loop: discover, batch, commit; until drained (once) or stopped. */
static void *worker_run(void *arg)
{
    struct ingest *ig = arg;
    const struct ingest_options *o = ig->o;
    struct watch_names names = {0};
    bool drained_check = false;
    metrics_watchdog_begin(ig->component);
    ig->conn = db_connect(o->conninfo, ig->component, o->lock_timeout, ig->stop);
    while (!*ig->stop) {
        write_metrics(ig, false);
        if (!ig->conn) {
            ig->conn = db_connect(o->conninfo, ig->component, o->lock_timeout, ig->stop);
            continue;
        }
        int timeout = ig->qlen ? 0 : (o->once ? 0 : 1000);
        if (drained_check)
            watch_request_rescan(ig->watch);
        if (watch_poll(ig->watch, timeout, &names) < 0) {
            ig->rc = -1;
            break;
        }
        size_t added = take_names(ig, &names);
        if (ig->qlen) {
            drained_check = false;
            process_batch(ig);
            continue;
        }
        if (o->once || (o->drain && *o->drain)) {
            /* Drained: one more full listing catches files that arrived meanwhile. */
            if (drained_check && added == 0)
                break;
            drained_check = true;
        }
    }
    watch_names_release(&names);
    metrics_pending_release(ig->worker);
    metrics_watchdog_end();
    return NULL;
}

int ingest_run(const struct ingest_options *o, volatile sig_atomic_t *stop,
               struct ingest_stats *stats)
{
    memset(stats, 0, sizeof(*stats));
    if (fs_mkdir_p(o->input_dir) < 0 || fs_mkdir_p(o->error_dir) < 0 ||
        fs_mkdir_p(o->checkpoint_dir) < 0)
        return -1;
    int lockfd = lock_checkpoint(o->checkpoint_dir);
    if (lockfd < 0)
        return -1;
    unsigned n = o->workers < 1 ? 1 : o->workers > MAX_WORKERS ? MAX_WORKERS : o->workers;
    struct shared sh;
    memset(&sh, 0, sizeof(sh));
    pthread_mutex_init(&sh.mu, NULL);
    sh.stats = stats;
    struct ingest *workers = xcalloc(n, sizeof(*workers));
    for (unsigned k = 0; k < n; k++)
        workers[k].dirfd = -1;
    pthread_t threads[MAX_WORKERS];
    int rc = 0;
    unsigned started = 0;
    for (unsigned k = 0; k < n; k++) {
        struct ingest *ig = &workers[k];
        ig->o = o;
        ig->stop = stop;
        ig->sh = &sh;
        ig->worker = k;
        ig->nworkers = n;
        if (worker_init(ig) < 0) {
            rc = -1;
            break;
        }
    }
    log_info("ingest", "watching '%s' with %u worker%s%s", o->input_dir, n, n > 1 ? "s" : "",
             o->once ? " (once)" : "");
    for (; rc == 0 && started < n; started++)
        if (pthread_create(&threads[started], NULL, worker_run, &workers[started]) != 0) {
            log_error("ingest", "cannot start worker thread");
            rc = -1;
            break;
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
    close(lockfd);
    log_info("ingest",
             "stopped: %" PRIu64 " files done, %" PRIu64 " quarantined, %" PRIu64
             " rows loaded, %" PRIu64 " rejected",
             stats->files_done, stats->files_quarantined, stats->rows_loaded, stats->rows_rejected);
    return rc;
}
