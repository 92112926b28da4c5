/* seed_table.h - the seed table user_activity as the catalog describes it (after sluice's
 * setup), built by hand for the tests that judge rows without a database: the columns with
 * their catalog types and NOT NULLs, the key, and the CHECK constraints in the exact text
 * pg_get_constraintdef() prints for sql/postgres_setup.sql. t_own_table.sh and t_differential.sh
 * read the real catalog instead. */
#ifndef SLUICE_TEST_SEED_TABLE_H
#define SLUICE_TEST_SEED_TABLE_H

#include "check_expr.h"
#include "mem.h"
#include "table_def.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void seed_column(struct table_def *t, const char *name, const char *typname,
                        int32_t typmod, bool not_null)
{
    struct table_column *c = &t->cols[t->ncols++];
    memset(c, 0, sizeof(*c));
    c->name = xstrdup(name);
    c->type_name = xstrdup(typname);
    pgtype_from_catalog(&c->type, typname, typmod);
    c->not_null = not_null;
    c->text_exact = true;
}

static const char *const seed_checks[][2] = {
    {"user_activity_event_type_check",
     "CHECK (((event_type)::text = ANY ((ARRAY['view'::character varying, "
     "'purchase'::character varying])::text[])))"},
    {"user_activity_price_check", "CHECK ((price > (0)::numeric))"},
    {"user_activity_product_id_check", "CHECK ((product_id > 0))"},
    {"user_activity_user_id_check", "CHECK ((user_id > 0))"},
};

/* Fill t; the CHECKs that do not compile are kept uncompiled (as the engine would). */
static inline void seed_table(struct table_def *t)
{
    memset(t, 0, sizeof(*t));
    t->name = xstrdup("user_activity");
    t->sql_name = xstrdup("\"user_activity\"");
    t->cols = xcalloc(7, sizeof(*t->cols));
    seed_column(t, "event_id", "varchar", 50 + 4, true);
    seed_column(t, "event_time", "timestamp", -1, true);
    seed_column(t, "event_type", "varchar", 20 + 4, true);
    seed_column(t, "product_id", "int4", -1, true);
    seed_column(t, "price", "numeric", ((10 << 16) | 2) + 4, true);
    seed_column(t, "user_id", "int4", -1, true);
    seed_column(t, "session_id", "varchar", 50 + 4, false);
    t->key = xcalloc(1, sizeof(*t->key));
    t->nkey = 1;
    size_t n = sizeof(seed_checks) / sizeof(seed_checks[0]);
    t->checks = xcalloc(n, sizeof(*t->checks));
    struct pgtype_env env = {0};
    for (size_t i = 0; i < n; i++) {
        char why[256];
        struct table_check *c = &t->checks[t->nchecks++];
        c->name = xstrdup(seed_checks[i][0]);
        c->def = xstrdup(seed_checks[i][1]);
        c->value_column = -1;
        c->compiled = check_compile(c->def, t->cols, t->ncols, -1, &env, why, sizeof(why));
    }
}

/* A schema over the seed table (t must outlive it). */
static inline struct schema *seed_schema(struct table_def *t)
{
    seed_table(t);
    struct schema_options o = {.table = t};
    char err[256];
    struct schema *s = schema_new(&o, err, sizeof(err));
    if (!s) {
        fprintf(stderr, "seed schema: %s\n", err);
        abort();
    }
    return s;
}

#endif
