/* test_log.c - one event is one line: control characters, C1 controls, line separators and
 * bytes that are not UTF-8 are escaped byte-exactly in every message; escaping never overflows;
 * the log file is created 0640 and never opened through a symlink or a hard link. */
#include "log.h"
#include "testutil.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void check_escape(const char *s, size_t n, const char *want)
{
    char out[256];
    size_t len = log_escape(out, sizeof(out), s, n);
    CHECK_EQ_MEM(out, len, want);
    CHECK_EQ_LONG(strlen(out), len);
}

#define ESCAPES(lit, want) check_escape((lit), sizeof(lit) - 1, (want))

static void test_escape(void)
{
    ESCAPES("plain 'a.csv': 12 rows", "plain 'a.csv': 12 rows");
    ESCAPES("a\nb\rc\td", "a\\nb\\rc\td"); /* a tab cannot forge a line */
    ESCAPES("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m");
    ESCAPES("nul\0bell\a del\x7f", "nul\\x00bell\\x07 del\\x7f");
    ESCAPES("caf\xc3\xa9", "caf\xc3\xa9");           /* UTF-8 text stays */
    ESCAPES("c1 \xc2\x9b csi", "c1 \\xc2\\x9b csi"); /* U+009B, a one-byte CSI */
    ESCAPES("nbsp \xc2\xa0", "nbsp \xc2\xa0");       /* U+00A0 is no control */
    ESCAPES("ls \xe2\x80\xa8 ps \xe2\x80\xa9", "ls \\xe2\\x80\\xa8 ps \\xe2\\x80\\xa9");
    ESCAPES("b\xfe"
            "1.csv",
            "b\\xfe1.csv");
    ESCAPES("back\\slash", "back\\slash");
}

static void test_escape_bounds(void)
{
    char out[8];
    /* "ab" fits, "\n" would need 2 more with the NUL: stops before it */
    CHECK_EQ_LONG(log_escape(out, 5, "ab\ncd", 5), 4);
    CHECK_EQ_STR(out, "ab\\n");
    CHECK_EQ_LONG(log_escape(out, 4, "ab\ncd", 5), 2);
    CHECK_EQ_STR(out, "ab");
    CHECK_EQ_LONG(log_escape(out, 1, "abc", 3), 0);
    CHECK_EQ_STR(out, "");
    CHECK_EQ_LONG(log_escape(out, 4, "\xc3\xa9\xc3\xa9", 4), 2); /* never half a character */
    CHECK_EQ_MEM(out, 2, "\xc3\xa9");
}

static char dir[] = "/tmp/sluice-test-log-XXXXXX";

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *text = calloc(1, 65536);
    size_t n = fread(text, 1, 65535, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static void test_file(void)
{
    char path[512], other[512];
    snprintf(path, sizeof(path), "%s/sluice.log", dir);
    snprintf(other, sizeof(other), "%s/victim", dir);
    FILE *v = fopen(other, "w");
    fputs("secret\n", v);
    fclose(v);

    /* a symlink planted where the log goes: refused, its target unchanged */
    CHECK(symlink(other, path) == 0);
    CHECK_EQ_LONG(log_open_dir(dir), -1);
    unlink(path);
    /* a hard link to another file: refused too */
    CHECK(link(other, path) == 0);
    CHECK_EQ_LONG(log_open_dir(dir), -1);
    unlink(path);
    char *victim = slurp(other);
    CHECK_EQ_STR(victim, "secret\n");
    free(victim);

    mode_t old = umask(0);
    CHECK_EQ_LONG(log_open_dir(dir), 0);
    umask(old);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640);
    enum log_level saved = log_min_level;
    log_min_level = LOG_LEVEL_ERROR; /* keep stderr quiet; errors still go through */
    log_error("test", "file '%s' rejected", "x.csv\n2026-01-01T00:00:00.000Z INFO  ingest: forged");
    log_min_level = saved;
    log_close();
    char *text = slurp(path);
    CHECK(text != NULL);
    if (text) {
        int lines = 0;
        for (char *p = text; *p; p++)
            lines += *p == '\n';
        CHECK_EQ_LONG(lines, 1);
        CHECK(strstr(text, " ERROR test: file 'x.csv\\n2026-01-01T00:00:00.000Z INFO  ingest: "
                           "forged' rejected\n") != NULL);
        free(text);
    }
    unlink(path);
    unlink(other);
}

int main(void)
{
    test_escape();
    test_escape_bounds();
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    test_file();
    rmdir(dir);
    return TEST_DONE();
}
