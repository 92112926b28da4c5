/* test_config.c - option precedence (flag > environment > default), derived folders, bounds,
 * the conninfo built from the original project's POSTGRES_* variables (also filling what --db
 * leaves unset), conninfo checks before connecting, --max-wait defaults, password sources and
 * the scrubbing of passwords from argv. */
#include "config.h"
#include "db.h"
#include "testutil.h"

#include <stdlib.h>
#include <unistd.h>

static int parse(struct config *cfg, enum config_cmd cmd, const char *name, int argc, char **argv)
{
    return config_parse(cfg, cmd, name, "test", argc, argv);
}

static void clear_env(void)
{
    const char *vars[] = {"DATA_DIR",
                          "INPUT_DIR",
                          "POSTGRES_DB",
                          "POSTGRES_HOST",
                          "POSTGRES_USER",
                          "POSTGRES_PASSWORD",
                          "POSTGRES_PORT",
                          "DATABASE_URL",
                          "ARCHIVE_AGE_MINUTES",
                          "BATCH_BYTES",
                          "INGEST_WORKERS",
                          "DB_MAX_WAIT",
                          "POSTGRES_PASSWORD_FILE"};
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

    /* POSTGRES_* given by the user fill what the URI leaves unset: here only the password */
    setenv("DATABASE_URL", "postgresql://u@h/x", 1);
    CHECK_EQ_LONG(parse(&cfg, CMD_INGEST, "ingest", 1, argv), 0);
    ci = config_conninfo(&cfg);
    CHECK_EQ_STR(ci, "user='u' password='it\\'s' dbname='x' host='h'");
    free(ci);
    config_release(&cfg);

    /* --db beats DATABASE_URL; user and password come from POSTGRES_*, the default dbname not */
    char *argv2[] = {"ingest", "--db", "host=/tmp", NULL};
    CHECK_EQ_LONG(parse(&cfg, CMD_INGEST, "ingest", 3, argv2), 0);
    ci = config_conninfo(&cfg);
    CHECK_EQ_STR(ci, "user='myuser' password='it\\'s' host='/tmp'");
    free(ci);
    config_release(&cfg);
    clear_env();

    /* nothing given: --db alone */
    CHECK_EQ_LONG(parse(&cfg, CMD_INGEST, "ingest", 3, argv2), 0);
    ci = config_conninfo(&cfg);
    CHECK_EQ_STR(ci, "host='/tmp'");
    free(ci);
    config_release(&cfg);
}

static void test_conninfo_check(void)
{
    char err[256];
    CHECK_EQ_LONG(db_conninfo_check("host=/tmp dbname=x", err, sizeof(err)), 0);
    CHECK_EQ_LONG(db_conninfo_check("postgresql://u:pw@h:5432/x", err, sizeof(err)), 0);
    CHECK_EQ_LONG(db_conninfo_check("", err, sizeof(err)), 0);
    /* libpq would take this for a database name */
    CHECK_EQ_LONG(db_conninfo_check("this is not a conninfo", err, sizeof(err)), -1);
    CHECK(strstr(err, "neither key=value pairs nor a postgresql:// URI") != NULL);
    CHECK_EQ_LONG(db_conninfo_check("host=/tmp port=notaport", err, sizeof(err)), -1);
    CHECK(strstr(err, "invalid port 'notaport'") != NULL);
    CHECK_EQ_LONG(db_conninfo_check("host=a,b port=5432,99999", err, sizeof(err)), -1);
    CHECK_EQ_LONG(db_conninfo_check("host=/tmp sslmode=requir", err, sizeof(err)), -1);
    /* a malformed one is never quoted: it may hold the password */
    CHECK_EQ_LONG(db_conninfo_check("postgresql://u:s3cret@h:54x2/db?bogus=1", err, sizeof(err)),
                  -1);
    CHECK(strstr(err, "s3cret") == NULL);
    CHECK_EQ_LONG(db_conninfo_check("password='s3cret host=x", err, sizeof(err)), -1);
    CHECK(strstr(err, "s3cret") == NULL);
    char *shown = db_redact("password='s3cret host=x");
    CHECK_EQ_STR(shown, "(unparsable conninfo)");
    free(shown);
    shown = db_redact("host=x password=s3cret");
    CHECK_EQ_STR(shown, "password=******** host=x");
    free(shown);
}

static void test_max_wait_default(void)
{
    struct config cfg;
    char *a1[] = {"ingest", NULL};
    CHECK_EQ_LONG(parse(&cfg, CMD_INGEST, "ingest", 1, a1), 0);
    CHECK_EQ_LONG((long)cfg.max_wait, 0); /* a service waits forever */
    config_release(&cfg);
    char *a2[] = {"ingest", "--once", NULL};
    CHECK_EQ_LONG(parse(&cfg, CMD_INGEST, "ingest", 2, a2), 0);
    CHECK_EQ_LONG((long)cfg.max_wait, 300); /* a batch job does not */
    config_release(&cfg);
    char *a3[] = {"ingest", "--once", "--max-wait", "0", NULL};
    CHECK_EQ_LONG(parse(&cfg, CMD_INGEST, "ingest", 4, a3), 0);
    CHECK_EQ_LONG((long)cfg.max_wait, 0);
    config_release(&cfg);
    setenv("DB_MAX_WAIT", "7", 1);
    CHECK_EQ_LONG(parse(&cfg, CMD_INGEST, "ingest", 2, a2), 0);
    CHECK_EQ_LONG((long)cfg.max_wait, 7);
    config_release(&cfg);
    unsetenv("DB_MAX_WAIT");
    char *a4[] = {"run", NULL};
    CHECK_EQ_LONG(parse(&cfg, CMD_RUN, "run", 1, a4), 0);
    CHECK(cfg.create_dirs); /* run makes its folders */
    config_release(&cfg);
}

static void test_password_file_and_argv(void)
{
    char path[] = "/tmp/sluice-test-pw.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK_EQ_LONG(write(fd, "from-file\nsecond line\n", 22), 22);
    close(fd);
    struct config cfg;
    setenv("POSTGRES_PASSWORD", "from-env", 1);
    setenv("POSTGRES_PASSWORD_FILE", path, 1);
    char *a1[] = {"ingest", NULL};
    CHECK_EQ_LONG(parse(&cfg, CMD_INGEST, "ingest", 1, a1), 0);
    CHECK_EQ_STR(cfg.pg_password, "from-file");
    CHECK(config_has_password(&cfg));
    config_release(&cfg);
    unlink(path);
    CHECK_EQ_LONG(parse(&cfg, CMD_INGEST, "ingest", 1, a1), 2); /* a missing file is an error */
    config_release(&cfg);
    clear_env();
    unsetenv("POSTGRES_PASSWORD_FILE");

    char pw[] = "hunter2", db[] = "host=h password=s3cret", plain[] = "host=h",
         db2[] = "--db=host=h2";
    char abbrev[] = "--pg-passw=abc";
    char *argv[] = {"ingest", "--pg-password", pw, "--db", db, "--db", plain, db2, abbrev, NULL};
    CHECK_EQ_LONG(config_scrub_argv(9, argv), 3);
    CHECK_EQ_STR(pw, "*******");
    CHECK_EQ_STR(db, "**********************");
    CHECK_EQ_STR(plain, "host=h"); /* no password: left as it is */
    CHECK_EQ_STR(db2, "--db=host=h2");
    CHECK_EQ_STR(abbrev, "--pg-passw=***");
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
    test_conninfo_check();
    test_max_wait_default();
    test_password_file_and_argv();
    return TEST_DONE();
}
