/*
 * sluice.pml - the coordination protocol of the ingester (src/ledger.c: claims, the
 * compare-and-set UPDATE, ending stalled sessions; src/loader.c: one batch's transaction) and
 * of the archiver (src/archive.c), for spin. tests/model/run.sh checks it.
 *
 * What is modelled, step by step as the code does it (one atomic step = one SQL statement or one
 * file system call; anything may happen between two of them):
 *
 *   ingester  pick a file in the hot folder; open it and hash it (the descriptor keeps that
 *             content even if the name is replaced afterwards)
 *             BEGIN (connecting first if the session is gone)
 *             pg_try_advisory_xact_lock(name+hash); busy -> free_stalled_claims: end the
 *               holder's session if it is stalled, then COMMIT the empty batch and go on
 *             INSERT the ledger row ON CONFLICT DO NOTHING; read status and committed_offset
 *             COPY the next 1..ROWS-offset rows; UPDATE the ledger with compare-and-set on the
 *               old offset (status 'loading'); COMMIT (the UPDATE's row lock serialises
 *               writers, so CAS + rows + ledger are applied in the commit's one step)
 *   archiver  list ledger rows done and not archived (taken in turn); check the hot folder
 *             holds that content (hashed through a descriptor); rename the name, without
 *             replacing, to the hidden stage name of that content (whatever has the name by
 *             then); verify the staged entry is the file checked (same inode), else give it back
 *             under the name and archive nothing; durable move of the staged entry to the
 *             archive; mark archived_at. A pass that died after the set-aside resumes: a staged
 *             entry with the row's content is moved on, another one is given back. A file
 *             missing from the hot folder but found in the archive is marked (a crash between
 *             move and mark); a different file under the name is left in place. Ingesters never
 *             see the stage name
 *   writer    drops content 1 under the name, and later content 2 under the SAME name (with
 *             REDROP_OVER: renames it over the name at any moment, even while the archiver is
 *             between its check and its rename)
 *   chaos     SIGKILLs an ingester or the archiver at any step; the server ends one backend
 *             (idle_in_transaction_session_timeout, an admin); the database restarts (every
 *             backend ends, every uncommitted transaction is gone); SIGSTOPs an ingester
 *             (it stays stopped, holding what it holds, until its session has been ended)
 *
 * The database state is the committed state: ledger rows, loaded rows (user_activity and
 * user_activity_errors together: a duplicate event_id becomes a dead letter, so "exactly once"
 * means exactly one record of each input row across both tables), advisory locks per backend.
 * A transaction's own writes live in the ingester until its commit step.
 *
 * Properties: (1) no row ever has two records, and when everything is done every row of both
 * contents has exactly one; (2) a file is moved to the archive only while its ledger row is done
 * and only with the content that row describes, and archived_at is set only when that content is
 * in the archive; nothing is lost: after every file step the last content is in exactly one
 * place (name, stage name or archive), and a run that stops has loaded and archived it; (3)
 * `live`: under weak fairness, with finitely many faults, everything ends done and archived: no
 * ingester waits forever on a claim held by a stopped one.
 *
 * Variants (-D): NO_CAS (UPDATE without the offset check), NO_LOCK (no advisory lock),
 * NO_STALL_CHECK (busy claims are never freed), REDROP_OVER (the writer renames the new content
 * over the name at any time, not only once the old file has left the folder), NO_VERIFY (the
 * archiver moves the staged entry without checking it is the file checked: the archiver before
 * the set-aside step, which archived whatever had the name), NO_RESUME_CHECK (a resumed pass
 * moves a staged entry without hashing it).
 */

#ifndef NING
#define NING 2          /* ingesters */
#endif
#ifndef ROWS
#define ROWS 2          /* rows per file */
#endif
#ifndef FAULTS
#define FAULTS 2        /* faults of any kind in one run, each at any step */
#endif

#define NCONT 3         /* contents 1 and 2; 0 = none */
#define LOADING 1
#define DONE 2

/* ---- committed database state ---- */
bit  exists[NCONT];         /* ledger row (name, content) */
byte status[NCONT];
byte off[NCONT];            /* committed_offset, in rows */
bit  archived[NCONT];       /* archived_at set */
byte records[NCONT * ROWS]; /* records of each input row in user_activity + errors */
byte holder[NCONT];         /* advisory lock on (name, content): backend i+1, 0 = free */
bit  alive[NING];           /* ingester i has a session */

/* ---- the file system ---- */
byte folder;                /* content under the name in the hot folder, 0 = none */
byte inarch[NCONT];         /* copies of each content in the archive */
byte stage[NCONT];          /* content under the archiver's hidden stage name of content c */
bit  dropped2;              /* the writer has dropped content 2 */

/* ---- faults ---- */
bit  kill[NING];
bit  akill;
bit  stopped[NING];
byte faults;
byte sidx;                  /* the ingester stopped last */

/* Nothing lost: after every file system step, content 2 (once dropped) is in exactly one place:
 * under the name, under a stage name, or in the archive; content 1 is in at most one (the writer
 * may have renamed content 2 over it). */
#define in_places(k) ((folder == k) + (stage[1] == k) + (stage[2] == k) + inarch[k])
#define files_ok (in_places(2) == dropped2 && in_places(1) <= 1)

#define all_done (dropped2 && folder == 0 && exists[1] && status[1] == DONE && archived[1] && \
                  exists[2] && status[2] == DONE && archived[2])

/* End backend b's session: its transaction rolls back, its advisory locks are released. */
inline end_backend(b)
{
    alive[b] = 0;
    if
    :: holder[1] == b + 1 -> holder[1] = 0
    :: else -> skip
    fi;
    if
    :: holder[2] == b + 1 -> holder[2] = 0
    :: else -> skip
    fi
}

proctype ingester(byte me)
{
    byte h;        /* content the open descriptor reads */
    bit  ins;      /* this transaction inserted the ledger row */
    byte st, old;  /* ledger as read in this transaction */
    byte k, r;     /* rows in this batch */
    bit  got;

restart:
    h = 0; ins = 0; st = 0; old = 0; k = 0; r = 0; got = 0;
    {
end_idle:
        do
        :: atomic { folder != 0 -> h = folder } ->
            /* BEGIN, connecting first when the session is gone */
            if
            :: !alive[me] -> alive[me] = 1
            :: else -> skip
            fi;
            /* claim */
            atomic {
                if
                :: !alive[me] -> goto rollback
                :: else -> skip
                fi;
#ifdef NO_LOCK
                got = 1
#else
                if
                :: holder[h] == 0 -> holder[h] = me + 1; got = 1
                :: else -> got = 0
                fi
#endif
            }
            if
            :: !got ->
                /* free_stalled_claims: a holder stuck for over --lock-timeout loses its
                 * session (a stopped process; the model also lets a slow live one lose it) */
                atomic {
                    if
                    :: !alive[me] -> goto rollback
                    :: else -> skip
                    fi;
                    r = holder[h];
#ifndef NO_STALL_CHECK
                    if
                    :: r != 0 && stopped[r - 1] -> end_backend(r - 1)
#ifndef LIVENESS
                    :: r != 0 && !stopped[r - 1] -> end_backend(r - 1)
                    :: true -> skip
#endif
                    :: else -> skip
                    fi;
#endif
                    r = 0
                }
                goto rollback   /* COMMIT of the empty batch: nothing to lose */
            :: else -> skip
            fi;
            /* INSERT ... ON CONFLICT DO NOTHING, then read the ledger row */
            atomic {
                !stopped[me];
                if
                :: !alive[me] -> goto rollback
                :: else -> skip
                fi;
                if
                :: exists[h] -> ins = 0; st = status[h]; old = off[h]
                :: else -> ins = 1; st = LOADING; old = 0
                fi
            }
            if
            :: st == DONE -> goto rollback  /* skipped: finished already */
            :: else -> skip
            fi;
            /* COPY 1..ROWS-old rows of content h */
            atomic {
                !stopped[me];
                if
                :: !alive[me] -> goto rollback
                :: else -> skip
                fi;
                k = 1;
                do
                :: old + k < ROWS -> k++
                :: break
                od
            }
            /* UPDATE ingest_files ... WHERE committed_offset = old AND status = 'loading';
             * COMMIT. A row that moved makes the batch fail (rolled back). */
            atomic {
                !stopped[me];
                if
                :: !alive[me] -> goto rollback
                :: else -> skip
                fi;
#ifndef NO_CAS
                if
                :: exists[h] && (off[h] != old || status[h] != LOADING) -> goto rollback
                :: else -> skip
                fi;
#endif
                exists[h] = 1;
                if
                :: ins && status[h] == 0 -> status[h] = LOADING
                :: else -> skip
                fi;
                r = old;
                do
                :: r < old + k ->
                    records[(h - 1) * ROWS + r]++;
                    assert(records[(h - 1) * ROWS + r] == 1);   /* property 1 */
                    r++
                :: else -> break
                od;
                off[h] = old + k;
                if
                :: off[h] == ROWS -> status[h] = DONE
                :: else -> skip
                fi;
                if
                :: holder[h] == me + 1 -> holder[h] = 0
                :: else -> skip
                fi;
                h = 0; ins = 0; st = 0; old = 0; k = 0; r = 0; got = 0
            }
            goto end_idle;
rollback:
            atomic {
                if
                :: alive[me] && holder[h] == me + 1 -> holder[h] = 0
                :: else -> skip
                fi;
                h = 0; ins = 0; st = 0; old = 0; k = 0; r = 0; got = 0
            }
        od
    } unless {
        atomic {
            kill[me] ->
            end_backend(me);
            kill[me] = 0
        }
    };
    goto restart
}

/* Give the entry set aside for content c back under the name. The writer drops two contents, so
 * the name is free here (asserted); a third file would make give_back use a suffixed name. */
inline give_back(c)
{
    assert(folder == 0);
    folder = stage[c];
    stage[c] = 0;
    assert(files_ok)
}

/* The durable move of the entry staged for content c to the archive. */
inline move_staged(c)
{
    moved = stage[c];
    stage[c] = 0;
    inarch[moved]++;
    assert(moved == c && status[c] == DONE);   /* property 2 */
    assert(files_ok);
    moved = 0
}

proctype archiver()
{
    byte c, moved;
    byte last;     /* the row tried last (LIVENESS) */
restart:
    c = 0; moved = 0; last = 0;
    {
end_arch:
        do
        :: atomic {   /* the page of rows done and not archived */
                if
#ifdef LIVENESS
                /* taken in turn: a pass goes through every row of its page */
                :: exists[1] && status[1] == DONE && !archived[1] &&
                   (last != 1 || !(exists[2] && status[2] == DONE && !archived[2])) -> c = 1
                :: exists[2] && status[2] == DONE && !archived[2] &&
                   (last != 2 || !(exists[1] && status[1] == DONE && !archived[1])) -> c = 2
#else
                /* in any order (every order the real pass could take, and more) */
                :: exists[1] && status[1] == DONE && !archived[1] -> c = 1
                :: exists[2] && status[2] == DONE && !archived[2] -> c = 2
#endif
                fi;
#ifdef LIVENESS
                last = c
#endif
            } ->
            /* Only the archiver touches the stage names, so looking at c's stage name and then
             * at the name is one step here (nothing another process does can come between them
             * and matter). A staged entry is left by a pass that died after the set-aside: it is
             * hashed; the row's content is moved on, another one given back. */
            if
#ifdef NO_RESUME_CHECK
            :: atomic { stage[c] != 0 -> move_staged(c) } -> goto mark
#else
            :: atomic { stage[c] == c -> move_staged(c) } -> goto mark
            :: atomic { stage[c] != 0 && stage[c] != c -> give_back(c) } -> c = 0; goto next
#endif
            :: atomic { stage[c] == 0 && folder == c } -> skip   /* hashed: content c */
            :: atomic { stage[c] == 0 && folder != 0 && folder != c } -> c = 0; goto next  /* left */
            :: atomic { stage[c] == 0 && folder == 0 && inarch[c] == 0 } -> c = 0; goto next
            :: atomic { stage[c] == 0 && folder == 0 && inarch[c] > 0 } -> goto mark  /* moved, crash */
            fi;
            /* rename (no replace) of whatever has the name now to the stage name of c */
            if
            :: atomic { folder == 0 } -> c = 0; goto next
            :: atomic { folder != 0 -> stage[c] = folder; folder = 0; assert(files_ok) }
            fi;
            /* The staged entry must be the file checked (same inode), else it is given back and
             * nothing is archived; then the durable move to the archive. Only the archiver
             * touches the stage name, so the check and what follows it are one step here; a crash
             * after the check is a crash before it, which the resume above covers. */
#ifdef NO_VERIFY
            atomic { move_staged(c) };
#else
            if
            :: atomic { stage[c] != c -> give_back(c) } -> c = 0; goto next
            :: atomic { stage[c] == c -> move_staged(c) }
            fi;
#endif
mark:
            atomic {      /* UPDATE ... SET archived_at */
                assert(inarch[c] == 1 && status[c] == DONE);   /* property 2 */
                archived[c] = 1;
                c = 0
            };
next:       skip
        od
    } unless {
        atomic { akill -> akill = 0 }
    };
    goto restart
}

proctype writer()
{
    folder = 1;
#ifdef REDROP_OVER
    true;
#else
    folder == 0;
#endif
    atomic { folder = 2; dropped2 = 1; assert(files_ok) }
}

proctype chaos()
{
    byte i;
end_chaos:
    do
    :: atomic { faults < FAULTS ->
            faults++;
            select(i : 0 .. NING - 1);
            stopped[i] = 0;   /* SIGKILL ends a stopped process too */
            kill[i] = 1;
            i = 0 }
    :: atomic { faults < FAULTS -> faults++; akill = 1 }
    :: atomic { faults < FAULTS ->
            faults++;
            select(i : 0 .. NING - 1);
            end_backend(i);
            i = 0 }
    :: atomic { faults < FAULTS ->
            faults++;
            for (i : 0 .. NING - 1) { end_backend(i) }
            i = 0 }
    :: atomic { faults < FAULTS && !stopped[sidx] ->   /* one stopped at a time */
            faults++;
            select(i : 0 .. NING - 1);
            stopped[i] = 1;
            sidx = i;
            i = 0 }
#ifdef LIVENESS
    /* a stopped ingester wakes up only after its session was ended (stopped "for longer
     * than --lock-timeout"); it may also never wake up */
    :: atomic { (stopped[sidx] && !alive[sidx]) -> stopped[sidx] = 0 }
#else
    :: atomic { stopped[sidx] -> stopped[sidx] = 0 }
#endif
    od
}

/* Property 1 at the end: every row of both contents has exactly one record. With REDROP_OVER
 * content 1 may be replaced before it was loaded (or finished), which is the writer's doing: the
 * end then is content 2 loaded and archived, content 1 at most once, archived only if marked. */
#ifdef REDROP_OVER
#define settled (dropped2 && folder == 0 && stage[1] == 0 && stage[2] == 0 && \
                 exists[2] && status[2] == DONE && archived[2])
#endif

active proctype monitor()
{
    byte r;
    atomic {
#ifdef REDROP_OVER
        settled ->
        for (r : ROWS .. 2 * ROWS - 1) { assert(records[r] == 1) }
        assert(inarch[2] == 1 && inarch[1] <= 1 && (!archived[1] || inarch[1] == 1))
#else
        all_done ->
        for (r : 0 .. 2 * ROWS - 1) { assert(records[r] == 1) }
        assert(inarch[1] == 1 && inarch[2] == 1)
#endif
    }
}

init
{
    byte i;
    atomic {
        for (i : 0 .. NING - 1) { run ingester(i) }
        run archiver();
        run writer();
        run chaos();
        i = 0
    }
}

#ifdef LIVENESS
ltl live { <> all_done }
#endif
