/*
 * fuzz_ingest_row.c - libFuzzer harness for the reader and the validator together.
 *
 * The input is fed to the CSV reader in chunks whose size comes from the first byte, the first
 * row is bound as the header, and every further row is validated and encoded, as the ingester
 * does. Besides the sanitizers' checks it asserts what the rest of sluice relies on: rows come
 * out in order inside the input, an accepted row is one COPY line of exactly seven fields, and a
 * reject line is one COPY line of thirteen fields, neither able to end a COPY early.
 */
#include "csv_reader.h"
#include "validate.h"
#include "../unit/seed_table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A COPY text line: no raw newline but the last byte, `tabs` tabs, and no "\." data line. */
static void check_copy_line(const char *p, size_t n, int tabs)
{
    if (n == 0 || p[n - 1] != '\n')
        abort();
    int seen = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] == '\n' || p[i] == '\r')
            abort();
        if (p[i] == '\t')
            seen++;
    }
    if (seen != tabs)
        abort();
    if (n >= 3 && p[0] == '\\' && p[1] == '.' && p[2] == '\n')
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t chunk = (size_t)(data[0] % 64) + 1;
    data++;
    size--;
    struct csv_reader *r = csv_reader_new(256);
    struct table_def seed;
    struct schema *s = seed_schema(&seed);
    struct buf copy, rej;
    buf_init(&copy);
    buf_init(&rej);
    bool bound = false;
    uint64_t last_end = 0;
    size_t fed = 0;
    for (;;) {
        struct csv_row row;
        enum csv_next n = csv_reader_next(r, &row);
        if (n == CSV_END)
            break;
        if (n == CSV_NEED_MORE) {
            if (fed == size) {
                csv_reader_finish(r);
                continue;
            }
            size_t k = size - fed < chunk ? size - fed : chunk;
            csv_reader_feed(r, (const char *)data + fed, k);
            fed += k;
            continue;
        }
        if (row.offset < last_end || row.end_offset < row.offset || row.end_offset > size)
            abort();
        last_end = row.end_offset;
        struct verdict v;
        if (!bound) {
            bound = schema_bind_header(s, &row, &v) == 0;
            if (!bound) {
                buf_reset(&rej);
                schema_encode_reject(s, &row, &v, "fuzz.csv", &rej);
                check_copy_line(rej.data, rej.len, 12);
                break;
            }
            continue;
        }
        buf_reset(&copy);
        if (schema_validate_row(s, &row, &copy, &v)) {
            /* one field per column the header bound: as many tabs as the list has commas */
            int commas = 0;
            for (const char *c = schema_copy_columns(s); *c; c++)
                commas += *c == ',';
            check_copy_line(copy.data, copy.len, commas);
        } else {
            if (copy.len != 0 || v.code == REJECT_NONE)
                abort();
            buf_reset(&rej);
            schema_encode_reject(s, &row, &v, "fuzz.csv", &rej);
            check_copy_line(rej.data, rej.len, 12);
        }
    }
    buf_release(&copy);
    buf_release(&rej);
    schema_free(s);
    table_def_release(&seed);
    csv_reader_free(r);
    return 0;
}
