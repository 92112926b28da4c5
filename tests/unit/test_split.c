/* test_split.c - the board of split files, without a database: the cuts fall on row boundaries
 * (as the CSV reader finds them, quoted newlines included) and cover the file end to end with
 * exact line numbers; segments are handed out in file order, a segment waits for the one before
 * it, one that came out of turn waits until that one commits, one that stopped early is taken
 * again from where it stopped, and anything unexpected abandons the split. */
#include "csv_reader.h"
#include "ledger.h"
#include "split.h"
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROWS 400
#define MAX_ENDS (ROWS + 2)

static char path[] = "/tmp/sluice-test-split.XXXXXX";
static int fd = -1;
static struct stat st;
/* every row's end offset and the line after it, as the reader sees the whole file */
static uint64_t ends[MAX_ENDS], end_lines[MAX_ENDS];
static size_t nends;

static void make_file(void)
{
    fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(dup(fd), "w");
    fprintf(f, "id,note\n");
    for (int i = 0; i < ROWS; i++) {
        if (i % 7 == 0)
            fprintf(f, "%d,\"two\nlines, and \"\"quotes\"\"\"\n", i);
        else if (i % 11 == 0)
            fprintf(f, "%d,%0*d\r\n", i, 30 + i % 50, 0);
        else
            fprintf(f, "%d,plain\n", i);
    }
    fprintf(f, "%d,last row without a newline", ROWS);
    fclose(f);
    CHECK(fstat(fd, &st) == 0);

    struct csv_reader *r = csv_reader_new(1 << 20);
    char *all = malloc((size_t)st.st_size);
    CHECK(pread(fd, all, (size_t)st.st_size, 0) == st.st_size);
    csv_reader_reset(r, 0, 1);
    csv_reader_feed(r, all, (size_t)st.st_size);
    csv_reader_finish(r);
    struct csv_row row;
    while (csv_reader_next(r, &row) == CSV_ROW && nends < MAX_ENDS) {
        ends[nends] = row.end_offset;
        end_lines[nends++] = row.next_line;
    }
    free(all);
    csv_reader_free(r);
    CHECK_EQ_LONG(nends, ROWS + 2); /* the header, the rows, the last one */
}

/* The line after the row ending at off, or 0 when no row ends there. */
static uint64_t line_at(uint64_t off)
{
    for (size_t i = 0; i < nends; i++)
        if (ends[i] == off)
            return end_lines[i];
    return 0;
}

static void test_cuts_cover_the_file(void)
{
    struct split_board b;
    split_board_init(&b, "public.t", 1 << 20, 2);
    struct split *sp = split_offer(&b, "f.csv", "abc", fd, &st, 0, 1, 500);
    struct split_job j;
    uint64_t at = 0, line = 1;
    size_t segs = 0, shrunk = 0;
    while (split_take(&b, sp, &j)) {
        CHECK_EQ_LONG(j.off, at);
        CHECK_EQ_LONG(j.line, line);
        CHECK(!j.wait); /* the one before it is committed */
        if (j.end == UINT64_MAX) {
            split_done(&b, &j, SPLIT_COMMITTED, UINT64_MAX, 0);
            at = (uint64_t)st.st_size;
            segs++;
            break;
        }
        CHECK(j.end - j.off >= 500 / 8);
        shrunk += j.end - j.off < 500;
        line = line_at(j.end);
        CHECK(line != 0); /* a row boundary */
        split_done(&b, &j, SPLIT_COMMITTED, j.end, line);
        at = j.end;
        segs++;
    }
    CHECK_EQ_LONG(at, st.st_size);
    CHECK(segs > 10);
    CHECK(shrunk >= 1); /* the last segments are smaller, spread over the workers */
    CHECK(!split_take(&b, sp, &j));
    CHECK(split_wait(&b, sp));
    CHECK(split_close(&b, sp));
    split_board_destroy(&b);
}

static void test_turns(void)
{
    struct split_board b;
    split_board_init(&b, "public.t", 1 << 20, 2);
    struct split *sp = split_offer(&b, "f.csv", "abc", fd, &st, 0, 1, 1000);
    struct split_job a, c, d;
    CHECK(split_take(&b, NULL, &a));
    CHECK(!a.wait);
    CHECK(split_take(&b, NULL, &c));
    CHECK_EQ_LONG(c.off, a.end);
    CHECK(c.wait);
    CHECK_EQ_LONG(c.wait_key, ledger_segment_key("public.t", "f.csv", "abc", a.off));

    /* c out of turn while a runs: c waits for a; nothing else can be taken before it */
    split_done(&b, &c, SPLIT_AGAIN, 0, 0);
    CHECK(!split_take(&b, NULL, &d));

    /* a stops early (its dead letters filled the batch): the rest of a is taken next */
    uint64_t mid = 0;
    for (size_t i = 0; i < nends && !mid; i++)
        if (ends[i] > a.off && ends[i] < a.end)
            mid = ends[i];
    CHECK(mid != 0);
    split_done(&b, &a, SPLIT_COMMITTED, mid, line_at(mid));
    CHECK(split_take(&b, NULL, &d));
    CHECK_EQ_LONG(d.seg, a.seg);
    CHECK_EQ_LONG(d.off, mid);
    CHECK_EQ_LONG(d.line, line_at(mid));
    CHECK_EQ_LONG(d.end, a.end);
    CHECK(!split_take(&b, NULL, &c)); /* c still waits for its turn */
    split_done(&b, &d, SPLIT_COMMITTED, d.end, line_at(d.end));
    CHECK(split_take(&b, NULL, &c)); /* now c, with nothing to wait for */
    CHECK_EQ_LONG(c.off, a.end);
    CHECK(!c.wait);

    /* out of turn with nothing ahead of it: the ledger moved elsewhere; the split ends */
    split_done(&b, &c, SPLIT_AGAIN, 0, 0);
    CHECK(!split_take(&b, NULL, &c));
    CHECK(split_wait(&b, sp));
    CHECK(!split_close(&b, sp));
    split_board_destroy(&b);
}

static void test_abandon(void)
{
    struct split_board b;
    split_board_init(&b, "public.t", 1 << 20, 3);
    struct split *sp = split_offer(&b, "f.csv", "abc", fd, &st, 0, 1, 400);
    struct split_job a, c;
    CHECK(split_take(&b, sp, &a));
    CHECK(split_take(&b, sp, &c));
    split_abandon(&b, sp);
    CHECK(!split_take(&b, NULL, &a)); /* nothing more is handed out */
    split_done(&b, &c, SPLIT_COMMITTED, c.end, line_at(c.end));
    split_done(&b, &a, SPLIT_ABANDON, 0, 0);
    CHECK(split_wait(&b, sp));
    CHECK(!split_close(&b, sp));
    split_board_destroy(&b);
}

int main(void)
{
    make_file();
    test_cuts_cover_the_file();
    test_turns();
    test_abandon();
    close(fd);
    unlink(path);
    return TEST_DONE();
}
