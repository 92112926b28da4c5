/*
 * archive.h - moving committed files out of the hot folder.
 */
#ifndef SLUICE_ARCHIVE_H
#define SLUICE_ARCHIVE_H

#include "db.h"

/* One pass: every file the ledger says is done for `table` ("schema.table" as the catalog names
 * it) and not yet archived, still in input_dir with the same content, and older than min_age_s,
 * is moved durably to archive_dir and its ledger row gets archived_at. *moved counts the files
 * moved. A move that fails (a full disk) leaves the file where it is for the next pass. */
enum db_status archive_pass(PGconn *conn, const char *table, const char *input_dir,
                            const char *archive_dir, double min_age_s, long *moved);

#endif
