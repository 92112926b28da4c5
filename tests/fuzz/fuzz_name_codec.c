/*
 * fuzz_name_codec.c - libFuzzer harness for file names: the ledger encoding and log escaping.
 *
 * The input is taken as a file name's bytes. Asserted: the encoding is strict UTF-8 without
 * NUL (the ledger column accepts it), decoding gives back the exact bytes, encoding is stable
 * (encode(decode(e)) == e), the input read as ledger text decodes without fault, and the name
 * escaped for a log line holds no control character but tab and no invalid UTF-8, so it cannot end or
 * forge a line.
 */
#include "log.h"
#include "name_codec.h"
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *name = (const char *)data;
    char *e = name_encode(name, size);
    size_t elen = strlen(e);
    if (utf8_check(e, elen) != elen)
        abort();
    size_t n;
    char *d = name_decode(e, &n);
    if (n != size || memcmp(d, name, size) != 0)
        abort();
    char *e2 = name_encode(d, n);
    if (strcmp(e, e2) != 0)
        abort();

    /* Arbitrary text from the ledger: decodes, and its bytes encode to text that decodes back. */
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    size_t tn;
    char *td = name_decode(text, &tn);
    char *te = name_encode(td, tn);
    size_t tn2;
    char *td2 = name_decode(te, &tn2);
    if (tn2 != tn || memcmp(td, td2, tn) != 0)
        abort();

    char line[512];
    size_t len = log_escape(line, sizeof(line), name, size);
    if (len >= sizeof(line) || line[len] != '\0' || utf8_check(line, len) != len)
        abort();
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            abort();
        if (c == 0xc2 && i + 1 < len && (unsigned char)line[i + 1] < 0xa0)
            abort(); /* a C1 control, U+0080..U+009F */
    }

    free(td2);
    free(te);
    free(td);
    free(text);
    free(e2);
    free(d);
    free(e);
    return 0;
}
