/* test_batch.c - the batch planner's rules, without files or a database: planning by size and
 * count, where a file is cut, deferral, the ledger advance, each file's fate after COMMIT and
 * the batch's counts. */
#include "batch.h"
#include "testutil.h"

static struct file_entry entries[BATCH_MAX_FILES + 10];

/* Plan files of the given sizes while the batch wants more; returns how many were planned. */
static size_t plan(struct batch *b, const long long *sizes, size_t n)
{
    size_t i = 0;
    while (i < n && batch_wants_more(b)) {
        struct batch_file *bf = batch_slot(b);
        bf->e = &entries[i];
        bf->st.st_size = sizes[i];
        batch_plan_keep(b);
        i++;
    }
    return i;
}

static void test_planning_by_size(void)
{
    struct batch b;
    batch_init(&b, 1000, 0);
    long long sizes[] = {400, 400, 400, 400};
    /* whole files until their sizes reach the limit: 400+400 < 1000, +400 reaches it */
    CHECK_EQ_LONG(plan(&b, sizes, 4), 3);
    CHECK_EQ_LONG(b.planned_bytes, 1200);
    batch_close_files(&b);
    CHECK_EQ_LONG(b.n, 0);
    CHECK_EQ_LONG(b.planned_bytes, 0);
    /* one file larger than the limit is planned alone */
    long long big[] = {5000, 10};
    CHECK_EQ_LONG(plan(&b, big, 2), 1);
    batch_release(&b);
}

static void test_planning_by_count(void)
{
    struct batch b;
    batch_init(&b, 1ULL << 40, 0);
    static long long tiny[BATCH_MAX_FILES + 10];
    for (size_t i = 0; i < BATCH_MAX_FILES + 10; i++)
        tiny[i] = 1;
    CHECK_EQ_LONG(plan(&b, tiny, BATCH_MAX_FILES + 10), BATCH_MAX_FILES);
    batch_start_attempt(&b);
    CHECK(b.lf[BATCH_MAX_FILES - 1] == &b.files[BATCH_MAX_FILES - 1].lf);
    batch_release(&b);
}

static void test_where_a_file_is_cut(void)
{
    struct batch b;
    batch_init(&b, 1000, 0);
    long long sizes[] = {300, 5000};
    plan(&b, sizes, 2);
    batch_start_attempt(&b);
    struct batch_file *small = &b.files[0], *large = &b.files[1];
    small->lf.offset = 0;
    small->end_offset = 299;
    CHECK(!batch_full(&b, small, 0)); /* a small file is not cut */
    CHECK(batch_full(&b, small, BATCH_REJECT_CAP_BYTES)); /* dead letters close the batch */
    b.in_bytes = 300;
    large->lf.offset = 2000; /* resumes a chunk in */
    large->end_offset = 2999;
    CHECK(!batch_full(&b, large, 0));
    large->end_offset = 3000; /* this chunk alone fills a batch */
    CHECK(batch_full(&b, large, 0));
    /* a batch that has grown to twice its limit is cut, whatever the file */
    b.in_bytes = 1500;
    large->end_offset = 2500;
    CHECK(batch_full(&b, large, 0));
    batch_release(&b);
}

static void test_defer_and_fates(void)
{
    struct batch b;
    batch_init(&b, 1000, 0);
    long long sizes[] = {100, 100, 100, 100, 100};
    plan(&b, sizes, 5);
    batch_start_attempt(&b);
    b.files[0].action = BATCH_SKIP_BUSY;
    b.files[1].action = BATCH_LOAD; /* stops before its end */
    b.files[2].action = BATCH_LOAD;
    b.files[3].action = BATCH_QUARANTINE;
    b.files[4].action = BATCH_LOAD;
    batch_defer_rest(&b, &b.files[1]);
    CHECK_EQ_LONG(b.files[2].action, BATCH_DEFER);
    CHECK_EQ_LONG(b.files[3].action, BATCH_QUARANTINE); /* only loads are deferred */
    CHECK_EQ_LONG(b.files[4].action, BATCH_DEFER);

    CHECK_EQ_LONG(batch_fate(&b.files[0]), BATCH_FATE_AGAIN_LATER);
    CHECK_EQ_LONG(batch_fate(&b.files[1]), BATCH_FATE_AGAIN_NOW); /* next chunk */
    b.files[1].at_eof = true;
    CHECK_EQ_LONG(batch_fate(&b.files[1]), BATCH_FATE_NONE);
    CHECK_EQ_LONG(batch_fate(&b.files[2]), BATCH_FATE_AGAIN_NOW);
    CHECK_EQ_LONG(batch_fate(&b.files[3]), BATCH_FATE_TO_ERRORS);
    b.files[4].action = BATCH_SKIP_DONE;
    snprintf(b.files[4].lf.status, sizeof(b.files[4].lf.status), "done");
    CHECK_EQ_LONG(batch_fate(&b.files[4]), BATCH_FATE_NONE);
    snprintf(b.files[4].lf.status, sizeof(b.files[4].lf.status), "quarantined");
    CHECK_EQ_LONG(batch_fate(&b.files[4]), BATCH_FATE_TO_ERRORS);
    batch_release(&b);
}

static void test_ledger_advance_and_counts(void)
{
    struct batch b;
    batch_init(&b, 1000, 0);
    long long sizes[] = {100, 100, 100};
    plan(&b, sizes, 3);
    batch_start_attempt(&b);
    struct batch_file *f = b.files;
    f[0].action = BATCH_LOAD;
    f[0].lf.offset = 10;
    f[0].end_offset = 100;
    f[0].end_line = 7;
    f[0].at_eof = true;
    f[0].sent = 5;
    f[0].duplicates = 1;
    f[0].rejected = 2;
    f[1].action = BATCH_LOAD; /* a chunk: stays loading */
    f[1].end_offset = 50;
    f[1].sent = 3;
    f[2].action = BATCH_SKIP_BUSY;
    f[2].sent = 0;
    batch_to_ledger(&b);
    CHECK_EQ_STR(f[0].lf.new_status, "done");
    CHECK_EQ_LONG(f[0].lf.new_offset, 100);
    CHECK_EQ_LONG(f[0].lf.new_line, 7);
    CHECK_EQ_LONG(f[0].lf.loaded, 4);
    CHECK_EQ_LONG(f[0].lf.rejected, 3);
    CHECK_EQ_STR(f[1].lf.new_status, "loading");
    CHECK(f[2].lf.new_status == NULL);
    f[1].action = BATCH_QUARANTINE;
    batch_to_ledger(&b);
    CHECK_EQ_STR(f[1].lf.new_status, "quarantined");
    uint64_t loaded, rejected;
    batch_counts(&b, &loaded, &rejected);
    CHECK_EQ_LONG(loaded, 7);
    CHECK_EQ_LONG(rejected, 3);
    /* a new attempt starts from zero */
    batch_start_attempt(&b);
    batch_counts(&b, &loaded, &rejected);
    CHECK_EQ_LONG(loaded + rejected, 0);
    CHECK_EQ_LONG(b.files[2].action, BATCH_LOAD);
    batch_release(&b);
}

int main(void)
{
    test_planning_by_size();
    test_planning_by_count();
    test_where_a_file_is_cut();
    test_defer_and_fates();
    test_ledger_advance_and_counts();
    return TEST_DONE();
}
