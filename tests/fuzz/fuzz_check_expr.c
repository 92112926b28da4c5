/*
 * fuzz_check_expr.c - libFuzzer harness for the CHECK compiler and its evaluator.
 *
 * The input's first line is a constraint definition; each further line is the value of one
 * column of a fixed table that has a column of every kind (in the order below; "\N", a value
 * the type parser refuses and, as the row validator guarantees the parsers, one with a NUL or
 * bytes that are not UTF-8 are NULL; missing lines are NULL). The definition is compiled against
 * the table (the smallint column stands for a domain's VALUE) and, when it compiles, evaluated
 * on the row. Asserted: compiling never reads past the text or recurses without bound (ASan and
 * the stack would say), a refusal always says why, compiling twice gives the same answer, the
 * evaluation is the same twice, and a failing row blames a column the expression reads.
 */
#include "check_expr.h"
#include "mem.h"
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    const char *typname;
    int32_t typmod;
    bool c_collation;
} table[] = {
    {"q", "int4", -1, false},
    {"b", "int8", -1, false},
    {"s", "int2", -1, false},
    {"price", "numeric", ((10 << 16) | 2) + 4, false},
    {"n", "numeric", -1, false},
    {"r", "float4", -1, false},
    {"f", "float8", -1, false},
    {"ok", "bool", -1, false},
    {"u", "uuid", -1, false},
    {"d", "date", -1, false},
    {"tm", "time", -1, false},
    {"ts", "timestamp", -1, false},
    {"tz", "timestamptz", -1, false},
    {"tx", "text", -1, false},
    {"event_type", "varchar", 24, true},
    {"c", "bpchar", 9, false},
    {"j", "json", -1, false},
    {"jb", "jsonb", -1, false},
    {"m", "mood", -1, false},
    {"iv", "interval", -1, false},
    {"Mixed Case", "int4", -1, false},
    {"code", "varchar", 14, false},
};
#define NCOLS (sizeof(table) / sizeof(table[0]))
#define VALUE_COLUMN 2

static struct table_column cols[NCOLS];

static void setup(void)
{
    for (size_t i = 0; i < NCOLS; i++) {
        cols[i].name = (char *)table[i].name;
        cols[i].type_name = (char *)table[i].typname;
        cols[i].c_collation = table[i].c_collation;
        cols[i].text_exact = true;
        pgtype_from_catalog(&cols[i].type, table[i].typname, table[i].typmod);
        if (strcmp(table[i].typname, "mood") == 0) {
            char **labels = xcalloc(3, sizeof(char *));
            labels[0] = xstrdup("sad");
            labels[1] = xstrdup("ok");
            labels[2] = xstrdup("happy");
            pgtype_set_labels(&cols[i].type, labels, 3);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        setup();
        ready = true;
    }
    /* A private copy, so the values' pointers and the definition's end are exactly the input's. */
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *nl = memchr(text, '\n', size);
    char *rest = nl ? nl + 1 : text + size;
    if (nl)
        *nl = '\0';
    char *def = malloc(strlen(text) + 1); /* exactly its length: a read past the end is caught */
    memcpy(def, text, strlen(text) + 1);

    struct pgtype_env env = {0};
    char why[200], why2[200];
    memset(why, 'x', sizeof(why));
    struct check_expr *c = check_compile(def, cols, NCOLS, VALUE_COLUMN, &env, why, sizeof(why));
    struct check_expr *again =
        check_compile(def, cols, NCOLS, VALUE_COLUMN, &env, why2, sizeof(why2));
    if (!c != !again)
        abort();
    if (!c && (memchr(why, '\0', sizeof(why)) == NULL || why[0] == '\0' || strcmp(why, why2)))
        abort();

    if (c) {
        struct pgvalue vals[NCOLS];
        struct buf out;
        buf_init(&out);
        char *line = rest, *end = text + size;
        for (size_t i = 0; i < NCOLS; i++) {
            memset(&vals[i], 0, sizeof(vals[i]));
            vals[i].null = true;
            if (line >= end)
                continue;
            char *eol = memchr(line, '\n', (size_t)(end - line));
            size_t n = eol ? (size_t)(eol - line) : (size_t)(end - line);
            if (n && !(n == 2 && line[0] == '\\' && line[1] == 'N') && utf8_check(line, n) == n) {
                buf_reset(&out);
                if (pgtype_parse(&cols[i].type, &env, line, n, &out, &vals[i], why, sizeof(why)))
                    vals[i].null = true;
            }
            line = eol ? eol + 1 : end;
        }
        buf_release(&out);
        size_t col = NCOLS, col2 = NCOLS;
        bool ok = check_eval(c, vals, &col);
        bool ok2 = check_eval(again, vals, &col2);
        if (ok != ok2 || (!ok && (col != col2 || col >= NCOLS || !check_uses(c, col))))
            abort();
    }
    check_free(c);
    check_free(again);
    free(def);
    free(text);
    return 0;
}
