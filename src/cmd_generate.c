/*
 * cmd_generate.c - `sluice generate`: the producer in generator.c.
 *
 * The options come from the shared table in config.c (which also checks --seed). SIGINT/SIGTERM
 * stop the producer after the file in hand; the manifest is written either way. Exit 0 on success
 * or when stopped, 1 on an I/O failure, 2 on bad usage.
 */
#include "commands.h"

#include "generator.h"
#include "signals.h"

#include <stdlib.h>

const char cmd_generate_help[] =
    "Write e-commerce event CSV files (the original project's format) into the hot folder:\n"
    "each file is written and fsynced in --temp-dir, then renamed into --input-dir.";

int cmd_generate(struct cmd_context *ctx)
{
    const struct config *cfg = &ctx->cfg;
    struct generator_options o = {
        .input_dir = cfg->input_dir,
        .temp_dir = cfg->temp_dir,
        .files = cfg->files,
        .rows_min = cfg->rows_min,
        .rows_max = cfg->rows_max,
        .interval = cfg->interval,
        .rate = cfg->rate,
        .bad_ratio = cfg->bad_ratio,
        .seed = cfg->seed ? strtoull(cfg->seed, NULL, 10) : 0, /* checked by config_parse */
        .seed_set = cfg->seed != NULL,
        .manifest = cfg->manifest,
        .archive_dir = cfg->archive_dir,
    };
    struct generator_totals totals;
    return generator_run(&o, &signals_stop, &totals) == 0 ? 0 : 1;
}
