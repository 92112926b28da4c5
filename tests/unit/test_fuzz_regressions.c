/* test_fuzz_regressions.c - every input that once crashed the fuzzer (tests/data/fuzz-regressions)
 * replayed through the same harness, in every build (including ASan+UBSan and valgrind runs). */
#include "../fuzz/fuzz_ingest_row.c"
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(void)
{
    const char *dir = "tests/data/fuzz-regressions";
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    struct dirent *de;
    int replayed = 0;
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        CHECK(f != NULL);
        if (!f)
            continue;
        static uint8_t buf[1 << 16];
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        /* the harness aborts on a broken invariant; reaching the next line is the check */
        CHECK_EQ_LONG(LLVMFuzzerTestOneInput(buf, n), 0);
        /* and at every chunk size the first byte can choose */
        for (int c = 0; c < 64 && n > 0; c++) {
            buf[0] = (uint8_t)c;
            LLVMFuzzerTestOneInput(buf, n);
        }
        replayed++;
    }
    if (d)
        closedir(d);
    CHECK(replayed >= 2);
    return TEST_DONE();
}
