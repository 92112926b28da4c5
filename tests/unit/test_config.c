/* test_config.c - option precedence (flag > environment > default), derived folders, bounds,
 * and the conninfo built from the original project's POSTGRES_* variables. */
#include "config.h"
#include "testutil.h"

#include <stdlib.h>

static int parse(struct config *cfg, enum config_cmd cmd, const char *name, int argc, char **argv)
{
    return config_parse(cfg, cmd, name, "test", argc, argv);
}

static void clear_env(void)
{
    const char *vars[] = {"DATA_DIR",      "INPUT_DIR",     "POSTGRES_DB",
                          "POSTGRES_HOST", "POSTGRES_USER", "POSTGRES_PASSWORD",
                          "POSTGRES_PORT", "DATABASE_URL",  "ARCHIVE_AGE_MINUTES",
                          "BATCH_BYTES",   "INGEST_WORKERS"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
}

static void test_defaults_and_derived_folders(void)
{
    struct config cfg;
    char *argv[] = {"ingest", NULL};
    CHECK_EQ_LONG(parse(&cfg, CMD_INGEST, "ingest", 1, argv), 0);
    CHECK_EQ_STR(cfg.data_dir, "data");
    CHECK_EQ_STR(cfg.input_dir, "data/input");
    CHECK_EQ_STR(cfg.error_dir, "data/error");
    CHECK_EQ_STR(cfg.checkpoint_dir, "data/checkpoints");
    CHECK_EQ_LONG(cfg.batch_bytes, 16777216);
    CHECK_EQ_LONG(cfg.workers, 2);
    CHECK(!cfg.once);
    char *ci = config_conninfo(&cfg);
    CHECK_EQ_STR(ci, "dbname='ecommerce_db'");
    free(ci);
    CHECK(!config_has_db(&cfg));
    config_release(&cfg);
}

static void test_env_beats_default_flag_beats_env(void)
{
    struct config cfg;
    setenv("DATA_DIR", "/srv/d", 1);
    setenv("INPUT_DIR", "/env/in", 1);
    setenv("BATCH_BYTES", "4096", 1);
    char *argv1[] = {"ingest", NULL};
    CHECK_EQ_LONG(parse(&cfg, CMD_INGEST, "ingest", 1, argv1), 0);
    CHECK_EQ_STR(cfg.input_dir, "/env/in");
    CHECK_EQ_STR(cfg.error_dir, "/srv/d/error");
    CHECK_EQ_LONG(cfg.batch_bytes, 4096);
    config_release(&cfg);

    char *argv2[] = {"ingest", "--input-dir", "/flag/in", "--batch-bytes=8192", "--once", NULL};
    CHECK_EQ_LONG(parse(&cfg, CMD_INGEST, "ingest", 5, argv2), 0);
    CHECK_EQ_STR(cfg.input_dir, "/flag/in");
    CHECK_EQ_LONG(cfg.batch_bytes, 8192);
    CHECK(cfg.once);
    config_release(&cfg);
    clear_env();
}

static void test_archive_age_minutes(void)
{
    struct config cfg;
    setenv("ARCHIVE_AGE_MINUTES", "2", 1);
    char *argv1[] = {"archive", NULL};
    CHECK_EQ_LONG(parse(&cfg, CMD_ARCHIVE, "archive", 1, argv1), 0);
    CHECK_EQ_LONG((long)cfg.min_age, 120);
    config_release(&cfg);
    char *argv2[] = {"archive", "--min-age", "0", NULL};
    CHECK_EQ_LONG(parse(&cfg, CMD_ARCHIVE, "archive", 3, argv2), 0);
    CHECK_EQ_LONG((long)cfg.min_age, 0);
    config_release(&cfg);
    clear_env();
}

static void test_conninfo(void)
{
    struct config cfg;
    setenv("POSTGRES_HOST", "db.example", 1);
    setenv("POSTGRES_USER", "myuser", 1);
    setenv("POSTGRES_PASSWORD", "it's", 1);
    char *argv[] = {"ingest", NULL};
    CHECK_EQ_LONG(parse(&cfg, CMD_INGEST, "ingest", 1, argv), 0);
    CHECK(config_has_db(&cfg));
    char *ci = config_conninfo(&cfg);
    CHECK_EQ_STR(ci, "host='db.example' dbname='ecommerce_db' user='myuser' password='it\\'s'");
    free(ci);
    config_release(&cfg);

    setenv("DATABASE_URL", "postgresql://u@h/x", 1);
    CHECK_EQ_LONG(parse(&cfg, CMD_INGEST, "ingest", 1, argv), 0);
    ci = config_conninfo(&cfg);
    CHECK_EQ_STR(ci, "postgresql://u@h/x");
    free(ci);
    config_release(&cfg);

    char *argv2[] = {"ingest", "--db", "host=/tmp", NULL};
    CHECK_EQ_LONG(parse(&cfg, CMD_INGEST, "ingest", 3, argv2), 0);
    ci = config_conninfo(&cfg);
    CHECK_EQ_STR(ci, "host=/tmp");
    free(ci);
    config_release(&cfg);
    clear_env();
}

static void test_bad_values_exit_2(void)
{
    struct config cfg;
    char *a1[] = {"ingest", "--batch-bytes", "12x", NULL};
    CHECK_EQ_LONG(parse(&cfg, CMD_INGEST, "ingest", 3, a1), 2);
    config_release(&cfg);
    char *a2[] = {"ingest", "--workers", "0", NULL};
    CHECK_EQ_LONG(parse(&cfg, CMD_INGEST, "ingest", 3, a2), 2);
    config_release(&cfg);
    char *a3[] = {"generate", "--rows-per-file", "9-3", NULL};
    CHECK_EQ_LONG(parse(&cfg, CMD_GENERATE, "generate", 3, a3), 2);
    config_release(&cfg);
    char *a4[] = {"generate", "--rows-per-file", "10-20", NULL};
    CHECK_EQ_LONG(parse(&cfg, CMD_GENERATE, "generate", 3, a4), 0);
    CHECK_EQ_LONG(cfg.rows_min, 10);
    CHECK_EQ_LONG(cfg.rows_max, 20);
    config_release(&cfg);
    char *a5[] = {"archive", "--rows-per-file", "10", NULL}; /* not an archive option */
    CHECK_EQ_LONG(parse(&cfg, CMD_ARCHIVE, "archive", 3, a5), 2);
    config_release(&cfg);
    char *a6[] = {"ingest", "stray", NULL};
    CHECK_EQ_LONG(parse(&cfg, CMD_INGEST, "ingest", 2, a6), 2);
    config_release(&cfg);
    setenv("BATCH_BYTES", "lots", 1);
    char *a7[] = {"ingest", NULL};
    CHECK_EQ_LONG(parse(&cfg, CMD_INGEST, "ingest", 1, a7), 2);
    config_release(&cfg);
    clear_env();
}

int main(void)
{
    clear_env();
    test_defaults_and_derived_folders();
    test_env_beats_default_flag_beats_env();
    test_archive_age_minutes();
    test_conninfo();
    test_bad_values_exit_2();
    return TEST_DONE();
}
