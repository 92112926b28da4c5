/*
 * pgcluster.h - the embedded PostgreSQL cluster: a throwaway or long-lived server in one folder,
 * reachable only through a unix socket inside that folder.
 */
#ifndef SLUICE_PGCLUSTER_H
#define SLUICE_PGCLUSTER_H

#include <stdbool.h>

struct config;

/* The two roles of the embedded cluster: the owner creates and upgrades the schema; the ingest
 * role holds only what ingest, archive and run need (grants.c's list). */
enum pgcluster_role { PGCLUSTER_ROLE_OWNER, PGCLUSTER_ROLE_INGEST };

/* Make sure the cluster in cfg->pg_dir exists (initdb), runs (pg_ctl start) and has the database
 * cfg->pg_dbname. Idempotent: a running cluster is left alone. On success *conninfo_out (when not
 * NULL) is a heap string "host=<abs dir> port=<port> dbname=<db> user=<user>" the caller frees.
 * 0, or -1 after logging. */
int pgcluster_start(const struct config *cfg, char **conninfo_out);

/* Stop the cluster: -m fast, or -m immediate (a crash, for chaos tests). Stopping a cluster that
 * is not running succeeds. 0, or -1 after logging. */
int pgcluster_stop(const struct config *cfg, bool immediate);

/* 1 when the cluster's postmaster is alive, 0 when not, -1 after logging (bad options). */
int pgcluster_running(const struct config *cfg);

/* The conninfo of the cluster for a role (heap string; caller frees), whether it runs or not; the
 * port of a running cluster wins over cfg->pg_port. NULL after logging (bad options, socket path
 * too long). */
char *pgcluster_conninfo(const struct config *cfg, enum pgcluster_role role);

#endif
