/*
 * contract.c - loads an ingester's contract at start: the target table's definition (its
 * types, NOT NULL, key and compiled CHECK constraints, table_def.c), plus the rules of sluice's
 * own options. --event-types, when given, becomes one more CHECK of the same form as the
 * table's, compiled by the same code, so there is one mechanism for every rule. --on-conflict
 * skip and update need the table's key; update mode's statement, with its --update-if guard, is
 * tried once with EXPLAIN (planned, never run), so a guard that does not parse, names a column
 * the table lacks, or a missing UPDATE privilege stops the start rather than every batch.
 *
 * Promises: a contract that loads describes the table as the server has it at start; any
 * problem is one ERROR line and -1, before a file is touched.
 */
#include "contract.h"

#include "log.h"
#include "mem.h"
#include "table_name.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

char *contract_event_types_check(const struct table_column *col, const char *list)
{
    bool varchar = col->type.kind == PGT_VARCHAR || col->type.kind == PGT_BPCHAR;
    if (!varchar && col->type.kind != PGT_TEXT)
        return NULL;
    struct buf b;
    buf_init(&b);
    buf_printf(&b, varchar ? "CHECK (((%s)::text = ANY ((ARRAY[" : "CHECK ((%s = ANY (ARRAY[",
               col->name);
    const char *p = list;
    size_t items = 0;
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *a = p, *e = end; /* spaces around an item are separators */
        while (a < e && *a == ' ')
            a++;
        while (e > a && e[-1] == ' ')
            e--;
        size_t n = (size_t)(e - a);
        bool ok = n > 0 && utf8_check(a, n) == n;
        for (size_t i = 0; ok && i < n; i++)
            ok = (unsigned char)a[i] >= 0x20 && a[i] != 0x7f;
        if (!ok) {
            buf_release(&b);
            return NULL;
        }
        buf_append(&b, items ? ", '" : "'", items ? 3 : 1);
        items++;
        for (size_t i = 0; i < n; i++) {
            if (a[i] == '\'')
                buf_putc(&b, '\'');
            buf_putc(&b, a[i]);
        }
        buf_append(&b, "'::text", 7);
        if (!comma)
            break;
        p = comma + 1;
    }
    buf_printf(&b, varchar ? "])::text[])))" : "])))");
    buf_putc(&b, '\0');
    return b.data;
}

/* Plan the upsert of update mode over every column of the table, with the guard. 0, or -1
 * after logging what the server said. */
static int try_upsert(PGconn *conn, const struct contract *c)
{
    const struct table_def *t = &c->table;
    struct buf cols;
    buf_init(&cols);
    buf_putc(&cols, '(');
    for (size_t i = 0; i < t->ncols; i++) {
        buf_append(&cols, ", ", i ? 2 : 0);
        sql_append_ident(&cols, t->cols[i].name);
    }
    buf_append(&cols, ")", 2);
    char *source = xasprintf("(SELECT * FROM %s LIMIT 0) AS sluice_stage", t->sql_name);
    char *upsert = loader_upsert_sql(t, cols.data, source, c->update_if);
    char *sql = xasprintf("EXPLAIN %s", upsert);
    /* the extended protocol takes one statement only: a guard cannot end the upsert early */
    PGresult *res = PQexecParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        bool denied = state && strcmp(state, "42501") == 0;
        if (!msg)
            msg = PQerrorMessage(conn);
        if (!state)
            state = "?";
        if (c->update_if && !denied)
            log_error("ingest", "--update-if '%s' does not work in the upsert of %s: %s "
                                "(SQLSTATE %s)", c->update_if, t->name, msg, state);
        else
            log_error("ingest", "--on-conflict update cannot upsert into %s: %s (SQLSTATE %s)%s",
                      t->name, msg, state,
                      denied ? " hint=update mode needs SELECT, INSERT and UPDATE on the table"
                             : "");
        rc = -1;
    }
    PQclear(res);
    free(sql);
    free(upsert);
    free(source);
    buf_release(&cols);
    return rc;
}

int contract_load(struct contract *c, PGconn *conn, const struct config *cfg)
{
    memset(c, 0, sizeof(*c));
    char err[512];
    if (pgtype_env_set_zone(&c->env, cfg->time_zone) < 0) {
        log_error("ingest", "--time-zone '%s' is not understood (use UTC or a fixed offset such "
                            "as +02:00)", cfg->time_zone);
        return -1;
    }
    if (table_def_read(conn, cfg->table, &c->env, &c->table, err, sizeof(err)) < 0) {
        log_error("ingest", "%s", err);
        return -1;
    }
    if (config_given(cfg, "event-types")) {
        long col = table_def_column(&c->table, "event_type");
        char *def = col < 0 ? NULL
                            : contract_event_types_check(&c->table.cols[col], cfg->event_types);
        if (!def) {
            log_error("ingest", "--event-types '%s': %s", cfg->event_types,
                      col < 0 ? "the table has no text column event_type" : "not a list of values");
            return -1;
        }
        int rc = table_def_add_check(&c->table, "--event-types", def, &c->env, err, sizeof(err));
        free(def);
        if (rc < 0) {
            log_error("ingest", "--event-types: %s", err);
            return -1;
        }
    }
    c->dlq_sql_name = table_name_quote(conn, cfg->dlq_table);
    if (!c->dlq_sql_name) {
        log_error("ingest", "--dlq-table '%s' is not a table name ([schema.]name)",
                  cfg->dlq_table);
        return -1;
    }
    int mode = loader_conflict_parse(cfg->on_conflict ? cfg->on_conflict : "reject");
    if (mode < 0) {
        log_error("ingest", "--on-conflict '%s': use reject, skip or update", cfg->on_conflict);
        return -1;
    }
    c->on_conflict = (enum loader_conflict)mode;
    c->update_if = c->on_conflict == LOADER_CONFLICT_UPDATE ? cfg->update_if : NULL;
    if (c->on_conflict != LOADER_CONFLICT_REJECT && c->table.nkey == 0) {
        log_error("ingest", "--on-conflict %s needs a key, and %s has no primary key or unique "
                            "constraint", cfg->on_conflict, c->table.name);
        return -1;
    }
    if (c->on_conflict == LOADER_CONFLICT_UPDATE && try_upsert(conn, c) < 0)
        return -1;
    size_t checked = 0;
    for (size_t i = 0; i < c->table.nchecks; i++)
        checked += c->table.checks[i].compiled != NULL;
    log_info("ingest", "contract of %s: %zu columns, key of %zu, %zu of %zu constraints checked "
                       "in C", c->table.name, c->table.ncols, c->table.nkey, checked,
             c->table.nchecks);
    return 0;
}

void contract_release(struct contract *c)
{
    table_def_release(&c->table);
    free(c->dlq_sql_name);
    c->dlq_sql_name = NULL;
}
