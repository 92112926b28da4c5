/* test_sqlstate.c - which server errors count as a row's data refused (the fallback routes the
 * row to the dead letters) and which stay what they are: a lost connection, a full disk, an
 * admin shutdown, a serialization failure, a missing privilege. Decided on the SQLSTATE only. */
#include "db.h"
#include "testutil.h"

static void test_row_refusals(void)
{
    static const char *const refused[] = {
        "22001", /* value too long */ "22003",       /* numeric out of range */
        "22P02", /* invalid text */ "22007",         /* bad datetime */
        "22012", /* division by zero */ "23502",     /* not null */
        "23503", /* foreign key */ "23514",          /* check */
        "23P01", /* exclusion */ "P0001",            /* RAISE EXCEPTION */
        "P0004", /* ASSERT */ "2F005",               /* function without RETURN */
        "38001", /* external routine */ "39P01",     /* trigger protocol */
        "21000", /* subquery cardinality */ "27000", /* triggered data change */
        "44000", /* WITH CHECK OPTION */ "09000",    /* triggered action */
        "54000",                                     /* index row too large */
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        CHECK(db_sqlstate_row_refused(refused[i]));
}

static void test_not_row_refusals(void)
{
    static const char *const not_refused[] = {
        "23505", /* unique: its own path */ "08006",   /* connection failure */
        "57P01", /* admin shutdown */ "57014",         /* query canceled, statement timeout */
        "53100", /* disk full */ "53200",              /* out of memory */
        "40001", /* serialization */ "40P01",          /* deadlock */
        "42501", /* insufficient privilege */ "42P01", /* undefined table */
        "25P02", /* transaction aborted */ "55P03",    /* lock not available */
        "54001", /* statement too complex */ "XX000",  /* internal */
        "58030", /* io error */ "0A000",               /* not supported */
        "",      "22",
        "P000",
    };
    for (size_t i = 0; i < sizeof(not_refused) / sizeof(not_refused[0]); i++)
        CHECK(!db_sqlstate_row_refused(not_refused[i]));
}

int main(void)
{
    test_row_refusals();
    test_not_row_refusals();
    return TEST_DONE();
}
