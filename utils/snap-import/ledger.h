/*
 * ledger.h - what sync, retry and forget ask of the ledger beyond an
 * import's own rows: one look-up per file (its content, and the last
 * import under its name), failures forgotten, the last success.
 */
#ifndef SNAP_LEDGER_H
#define SNAP_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"

/* What the ledger says of one file. */
struct snap_ledger_match {
	bool imported; /* this content is imported: in .found */
	bool failed;   /* this content failed: in .found */
	struct snap_found found;
	bool by_name;	      /* another content was imported under the name */
	int64_t name_id;      /* ... as this snapshot */
	int64_t name_bytes;   /* ... of this size */
	char name_sha256[65]; /* ... and hash */
};

/*
 * Look up the content SHA256 and the file NAME (as given; escaped as the
 * ledger stores names) among the table's ledger rows; a ledger not yet
 * made knows nothing. 0, or -1 with the reason in err.
 */
int snap_ledger_lookup(struct snap_db *db, const char *sha256, const char *name,
		       struct snap_ledger_match *m, struct dbops_err *err);

/*
 * Remove the recorded failures of the content SHA256 (NULL: none) and of
 * the names NAME and BASE (either NULL), for the table. *N how many. 0, or
 * -1 with the reason in err.
 */
int snap_ledger_forget(struct snap_db *db, const char *sha256, const char *name,
		       const char *base, int64_t *n, struct dbops_err *err);

/*
 * When the last file was imported into the table, in seconds since the
 * epoch (0: never). 0, or -1 with the reason in err.
 */
int snap_ledger_last_success(struct snap_db *db, double *at,
			     struct dbops_err *err);

/*
 * An index on the ledger's (target_table, file_name), for sync's look-up
 * by name, made when missing and allowed (the ledger's owner): without
 * it, the look-up reads the ledger. Quietly nothing otherwise.
 */
void snap_ledger_name_index(struct snap_db *db);

#endif
