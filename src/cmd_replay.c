/*
 * cmd_replay.c - `sluice replay`: its options checked (an unknown error code or a time the server
 * cannot read is a bad option, exit 2), the contract loaded exactly as `sluice ingest` loads it,
 * the dead letters replayed (replay.c), and one summary line on stdout. Exit 0 when the run
 * finished, whatever stayed; 1 on a database failure (the open batch rolls back).
 */
#include "commands.h"

#include "contract.h"
#include "db.h"
#include "loader.h"
#include "log.h"
#include "mem.h"
#include "replay.h"
#include "signals.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char cmd_replay_help[] =
    "Give dead letters a second chance: each selected one (--code, --file, --since, --until,\n"
    "--where-raw; all when none is given) is read again from its raw_line under its file's\n"
    "header (kept in the ledger), checked against the table's current definition and options\n"
    "(--event-types, --time-zone...), and in one transaction per --batch-rows: the rows that\n"
    "pass now move into the table and leave the dead-letter table; the others get their new\n"
    "error_code, error_column and error_message, replay_count + 1 and last_replayed_at. Correct a\n"
    "raw_line by SQL first to replay the corrected text. Dead letters of files refused whole\n"
    "(bad_header, bad_file), row_too_long ones and those of files loaded before the ledger kept\n"
    "headers are refused. A key already loaded follows --on-conflict (reject: it stays a\n"
    "duplicate_key; skip: it leaves the dead letters; update: it replaces the stored row).\n"
    "--dry-run says what would move and what would stay, and changes nothing. Exit 0 when done, 1 "
    "on a database failure, 2 on a bad option.";

static int bad_option(const char *option, const char *value, const char *why)
{
    fprintf(stderr, "sluice replay: invalid value '%s' for --%s: %s\nTry 'sluice replay --help'\n",
            value, option, why);
    return 2;
}

/* Every name in the comma-separated list is an error code. 0, or 2 after reporting. */
static int check_codes(const char *list)
{
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        bool known = n == strlen("duplicate_event_id") && strncmp(p, "duplicate_event_id", n) == 0;
        for (int i = 1; i < REJECT_CODE_COUNT && !known; i++) {
            const char *name = reject_code_name((enum reject_code)i);
            known = strlen(name) == n && strncmp(p, name, n) == 0;
        }
        if (!known)
            return bad_option("code", list, "not a list of error codes (see README, Error codes)");
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* A time the server reads as timestamptz. 0, 2 after reporting, or 1 on a database failure. */
static int check_time(PGconn *conn, const char *option, const char *value)
{
    if (!value)
        return 0;
    const char *p[] = {value};
    PGresult *res = PQexecParams(conn, "SELECT $1::timestamptz", 1, NULL, p, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *state = db_sqlstate(res);
        if (strncmp(state, "22", 2) == 0)
            rc = bad_option(option, value, "not a time PostgreSQL can read");
        else
            rc = db_check(conn, res, PGRES_TUPLES_OK, "checking a time") == DB_OK ? 0 : 1;
    }
    PQclear(res);
    return rc;
}

/* "name N, name N" of the non-zero counts, or nothing. */
static void put_counts(struct buf *b, const uint64_t *counts, uint64_t other)
{
    bool first = true;
    for (int i = 1; i < REJECT_CODE_COUNT; i++) {
        if (!counts[i])
            continue;
        buf_printf(b, "%s%s %" PRIu64, first ? " (" : ", ", reject_code_name((enum reject_code)i),
                   counts[i]);
        first = false;
    }
    if (other) {
        buf_printf(b, "%sother %" PRIu64, first ? " (" : ", ", other);
        first = false;
    }
    if (!first)
        buf_putc(b, ')');
}

static void print_summary(const struct config *cfg, const struct contract *contract,
                          const struct replay_counts *c)
{
    uint64_t refused = 0;
    for (int i = 0; i < REPLAY_REFUSED_COUNT; i++) {
        refused += c->refused[i];
        if (c->refused[i])
            log_warn("replay", "refused %" PRIu64 " dead letters %s", c->refused[i],
                     replay_refusal_text((enum replay_refusal)i));
    }
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "%s %" PRIu64, cfg->dry_run ? "dry run, nothing changed: would move" : "moved",
               c->moved);
    put_counts(&b, c->moved_from, c->moved_other);
    if (contract->on_conflict == LOADER_CONFLICT_UPDATE)
        buf_printf(&b, ", %s %" PRIu64, cfg->dry_run ? "replacing stored rows" : "updated",
                   c->updated);
    if (contract->on_conflict != LOADER_CONFLICT_REJECT)
        buf_printf(&b, ", %s %" PRIu64, cfg->dry_run ? "would skip" : "skipped", c->skipped);
    buf_printf(&b, ", %s %" PRIu64, cfg->dry_run ? "would still fail" : "still failing",
               c->failing);
    put_counts(&b, c->failing_as, 0);
    buf_printf(&b, ", refused %" PRIu64 "\n", refused);
    buf_putc(&b, '\0');
    fputs(b.data, stdout);
    buf_release(&b);
}

int cmd_replay(struct cmd_context *ctx)
{
    const struct config *cfg = &ctx->cfg;
    if (cfg->codes && check_codes(cfg->codes))
        return 2;
    int rc = check_time(ctx->conn, "since", cfg->since);
    if (rc == 0)
        rc = check_time(ctx->conn, "until", cfg->until);
    if (rc)
        return rc;
    struct contract contract;
    if (contract_load(&contract, ctx->conn, cfg) < 0)
        return 1;
    struct replay_options o = {
        .contract = &contract,
        .table = cfg->table,
        .column_map = cfg->column_map,
        .strict_columns = cfg->strict_columns,
        .max_row_bytes = (size_t)cfg->max_row_bytes,
        .codes = cfg->codes,
        .file = cfg->file,
        .since = cfg->since,
        .until = cfg->until,
        .where_raw = cfg->where_raw,
        .dry_run = cfg->dry_run,
        .batch_rows = cfg->batch_rows,
    };
    struct replay_counts counts;
    rc = replay_run(ctx->conn, &o, &counts, &signals_stop) == 0 ? 0 : 1;
    if (rc == 0)
        print_summary(cfg, &contract, &counts);
    contract_release(&contract);
    return rc;
}
