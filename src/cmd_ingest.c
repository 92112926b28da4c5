/*
 * cmd_ingest.c - `sluice ingest`: the engine in ingest.c over the checked setup (cmd_setup.c:
 * folders, a database that accepts us with the privileges an ingester needs).
 */
#include "commands.h"

#include "contract.h"
#include "ingest.h"
#include "signals.h"

#include <stdlib.h>

const char cmd_ingest_help[] =
    "Load CSV files from the hot folder into PostgreSQL, exactly once: valid rows into the\n"
    "target table (--table, default user_activity), checked against its own definition; rejected\n"
    "rows into its dead-letter table; one ledger row per file in ingest_files; all committed\n"
    "together. Runs until SIGTERM/SIGINT, or with --once until the\n"
    "folder is drained. Errors that retrying cannot fix (authentication, a missing database,\n"
    "missing privileges) end it at once with exit 1; an outage is waited out, up to --max-wait.";

void cmd_ingest_options(const struct config *cfg, const char *conninfo,
                        const struct contract *contract, struct ingest_options *o)
{
    *o = (struct ingest_options){
        .conninfo = conninfo,
        .input_dir = cfg->input_dir,
        .error_dir = cfg->error_dir,
        .checkpoint_dir = cfg->checkpoint_dir,
        .contract = contract,
        .column_map = cfg->column_map,
        .strict_columns = cfg->strict_columns,
        .max_row_bytes = (size_t)cfg->max_row_bytes,
        .max_file_bytes = (uint64_t)cfg->max_file_bytes,
        .batch_bytes = (size_t)cfg->batch_bytes,
        .rescan_interval = cfg->rescan_interval,
        .lock_timeout = cfg->lock_timeout,
        .settle_time = cfg->settle_time,
        .producer_uid = cfg->producer_uid,
        .once = cfg->once,
        .workers = (unsigned)cfg->workers,
    };
}

int cmd_ingest(struct cmd_context *ctx)
{
    /* the setup's connection reads the contract; every worker then opens its own */
    struct contract contract;
    int rc = contract_load(&contract, ctx->conn, &ctx->cfg);
    PQfinish(ctx->conn);
    ctx->conn = NULL;
    if (rc == 0) {
        struct ingest_options o;
        cmd_ingest_options(&ctx->cfg, ctx->conninfo, &contract, &o);
        struct ingest_stats stats;
        rc = ingest_run(&o, &signals_stop, &stats) == 0 ? 0 : 1;
    }
    contract_release(&contract);
    return rc == 0 ? 0 : 1;
}
