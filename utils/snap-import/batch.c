/*
 * batch.c - the files of one command line, one after the other or several
 * at once (--jobs). See batch.h.
 */
#include "batch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "parallel.h"
#include "xalloc.h"

struct run {
	const struct snap_batch *b;
	struct snap_db *dbs; /* one connection per job */
	bool *busy;	     /* ... and whether a file holds it */
	int ndbs;
	int64_t *ids; /* per file, drawn beforehand; NULL: each draws */
	size_t first; /* item 0 of the parallel loop is this file */
	pthread_mutex_t lock;
	int rc;
};

static const char *file_name(const struct snap_batch *b, size_t i)
{
	return strcmp(b->files[i], "-") == 0 ? b->o->stdin_name : b->files[i];
}

/* Import file I on a free connection (there is one per thread). */
static void import_one(void *arg, size_t i)
{
	struct run *run = arg;
	const struct snap_batch *b = run->b;
	struct snap_import_opts io = b->iopts;
	struct snap_result *r = dbops_xmalloc(sizeof(*r));
	enum snap_outcome out;
	int k;

	i += run->first;
	pthread_mutex_lock(&run->lock);
	for (k = 0; k < run->ndbs && run->busy[k]; k++)
		;
	run->busy[k] = true;
	pthread_mutex_unlock(&run->lock);

	io.id = run->ids ? run->ids[i] : 0;
	out = snap_import_file(&run->dbs[k], b->files[i], file_name(b, i), &io,
			       r);

	pthread_mutex_lock(&run->lock);
	b->report(b->report_arg, file_name(b, i), out, r);
	if (out == SNAP_FAILED || out == SNAP_INTERRUPTED)
		run->rc = 1;
	run->busy[k] = false;
	pthread_mutex_unlock(&run->lock);
	free(r);
}

/* Fail every file with the reason a connection could not be opened. */
static int fail_all(const struct snap_batch *b, const struct dbops_err *why)
{
	struct snap_result *r = dbops_xcalloc(1, sizeof(*r));

	r->err = *why;
	for (int i = 0; i < b->nfiles; i++)
		b->report(b->report_arg, file_name(b, (size_t)i), SNAP_FAILED,
			  r);
	free(r);
	return 1;
}

/* Whether the table and the ledger both exist: 1, 0, or -1. */
static int ready(struct snap_db *db, struct dbops_err *err)
{
	int rc = snap_db_table_exists(db, err);

	if (rc == 1)
		rc = snap_db_ledger_exists(db, err);
	return rc;
}

/*
 * The ids of files FIRST.. drawn now, ascending in the files' order, so
 * that the latest file on the command line is the latest snapshot. NULL
 * (each file then draws its own) when they cannot be.
 */
static int64_t *draw_ids(struct snap_db *db, int first, int nfiles)
{
	char n[32];
	const char *params[] = { db->qledger, n };
	struct dbops_err err = { "" };
	int64_t *ids;
	PGresult *res;

	snprintf(n, sizeof(n), "%d", nfiles - first);
	res = snap_db_exec(db,
			   "SELECT nextval(pg_get_serial_sequence($1, 'id'))"
			   " FROM generate_series(1, $2::int) ORDER BY 1",
			   2, params, &err);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQntuples(res) != nfiles - first) {
		if (res)
			snap_db_describe_error(res, &err);
		dbops_log_debug("snapshot ids drawn per file: %s", err.msg);
		PQclear(res);
		return NULL;
	}
	ids = dbops_xcalloc((size_t)nfiles, sizeof(*ids));
	for (int i = first; i < nfiles; i++)
		ids[i] = strtoll(PQgetvalue(res, i - first, 0), NULL, 10);
	PQclear(res);
	return ids;
}

/* The files from run->first on, run->ndbs at once. */
static void run_parallel(struct run *run)
{
	struct dbops_parallel p = { 0 };

	p.count = (size_t)run->b->nfiles - run->first;
	p.jobs = run->ndbs;
	p.body = import_one;
	p.arg = run;
	dbops_parallel_for(&p);
}

static void close_all(struct run *run)
{
	for (int k = 0; k < run->ndbs; k++)
		snap_db_close(&run->dbs[k]);
	free(run->dbs);
	free(run->busy);
	free(run->ids);
	pthread_mutex_destroy(&run->lock);
}

int snap_import_batch(const struct snap_batch *b)
{
	const struct snap_opts *o = b->o;
	struct run run = { .b = b, .lock = PTHREAD_MUTEX_INITIALIZER };
	struct dbops_err err = { "" };

	run.ndbs = b->jobs < 1 ? 1 : b->jobs;
	if (run.ndbs > b->nfiles)
		run.ndbs = b->nfiles;
	if (run.ndbs > DBOPS_PARALLEL_MAX)
		run.ndbs = DBOPS_PARALLEL_MAX;
	run.dbs = dbops_xcalloc((size_t)run.ndbs, sizeof(*run.dbs));
	run.busy = dbops_xcalloc((size_t)run.ndbs, sizeof(*run.busy));
	for (int k = 0; k < run.ndbs; k++)
		if (snap_db_open(&run.dbs[k], o->database, o->table,
				 o->timezone, o->encoding, &err) != 0) {
			close_all(&run);
			return fail_all(b, &err);
		}
	if (run.ndbs == 1) {
		for (int i = 0; i < b->nfiles; i++)
			import_one(&run, (size_t)i);
		close_all(&run);
		return run.rc;
	}
	/* The first file makes the table and the ledger, alone. */
	if (ready(&run.dbs[0], &err) != 1) {
		import_one(&run, 0);
		run.first = 1;
	}
	run.ids = draw_ids(&run.dbs[0], (int)run.first, b->nfiles);
	run_parallel(&run);
	close_all(&run);
	return run.rc;
}
