/*
 * batch.h - import the files of one command line, one at a time or
 * several at once (--jobs), each file in its own transaction on its own
 * connection.
 *
 * The order of the snapshot ids is the order of the files on the command
 * line, with --jobs too: the ids are drawn beforehand, one per file, in
 * that order (a file that is skipped or fails leaves its id unused). When
 * the table or the ledger does not exist yet, the first file is imported
 * alone first (it creates them), then the rest at once. Files of one table
 * run concurrently; only a file that adds columns (schema drift) holds the
 * table to itself until its commit, and the others' COPYs wait for it.
 */
#ifndef SNAP_BATCH_H
#define SNAP_BATCH_H

#include "import.h"
#include "snap.h"

/* Called for each file's outcome, one call at a time. */
typedef void (*snap_report_fn)(void *arg, const char *name,
			       enum snap_outcome out,
			       const struct snap_result *r);

struct snap_batch {
	const struct snap_opts *o;
	char **files; /* "-": standard input, named o->stdin_name */
	int nfiles;
	int jobs; /* files at once; 1 or less: one after the other */
	struct snap_import_opts iopts;
	snap_report_fn report;
	void *report_arg;
};

/*
 * Import every file; each outcome goes to b->report. Returns 0 when every
 * file was imported or skipped, 1 otherwise (a connection that could not
 * be opened fails every file, reported so).
 */
int snap_import_batch(const struct snap_batch *b);

#endif
