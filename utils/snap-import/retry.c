/*
 * retry.c - snap-import retry and forget. See retry.h.
 */
#include "retry.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "compress.h"
#include "db.h"
#include "import.h"
#include "ledger.h"
#include "log.h"

/* Forget FILE's failures; *N how many. 0, or -1 (reported). */
static int forget_one(struct snap_db *db, const char *file, int64_t *n)
{
	struct dbops_err err = { "" };
	const char *slash = strrchr(file, '/');
	char sha[65] = "";
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	/* A file gone from the folder is forgotten by its name; the ledger
	 * has the content of a compressed file (a damaged one: by name). */
	if (fd >= 0)
		fd = snap_plain_fd(fd, &err);
	if (fd >= 0) {
		if (snap_hash_fd(fd, sha) != 0)
			sha[0] = '\0';
		close(fd);
	}
	dbops_err_clear(&err);
	if (snap_ledger_forget(db, sha[0] ? sha : NULL, file,
			       slash ? slash + 1 : NULL, n, &err) != 0) {
		dbops_log_error("could not forget the failures of \"%s\": %s",
				file, err.msg);
		return -1;
	}
	return 0;
}

static int retry_one(struct snap_db *db, const struct snap_opts *o,
		     const char *file)
{
	struct snap_import_opts iopts = { .progress = o->progress,
					  .types = o->types,
					  .dialect = o->dialect,
					  .columns = &o->columns };
	struct snap_result r;
	int64_t n;

	if (forget_one(db, file, &n) != 0)
		return -1;
	switch (snap_import_file(db, file, file, &iopts, &r)) {
	case SNAP_IMPORTED:
		printf("imported %s: %lld rows, %lld bytes, %.3f s, snapshot %lld\n",
		       file, (long long)r.rows, (long long)r.bytes, r.seconds,
		       (long long)r.id);
		return 0;
	case SNAP_SKIPPED:
	case SNAP_KNOWN_FAILED:
		printf("skipped %s: already imported at %s as \"%s\", snapshot %lld\n",
		       file, r.found.at, r.found.name, (long long)r.found.id);
		return 0;
	case SNAP_INTERRUPTED:
		dbops_log_warning(
			"import of \"%s\" interrupted and rolled back", file);
		return -1;
	case SNAP_FAILED:
		break;
	}
	dbops_log_error("could not import \"%s\": %s", file, r.err.msg);
	return -1;
}

int snap_retry(const struct snap_opts *o, char **files, int nfiles, bool import)
{
	struct snap_db db;
	struct dbops_err err = { "" };
	int rc = 0;

	if (nfiles == 0)
		return dbops_cli_error("no file to %s",
				       import ? "retry" : "forget");
	if (snap_db_open(&db, o->database, o->table, o->timezone, o->encoding,
			 &err) != 0) {
		dbops_log_error("%s", err.msg);
		snap_db_close(&db);
		return 1;
	}
	for (int i = 0; i < nfiles; i++) {
		int64_t n = 0;

		if (import) {
			rc |= retry_one(&db, o, files[i]) != 0;
			fflush(stdout);
			continue;
		}
		if (forget_one(&db, files[i], &n) != 0) {
			rc = 1;
		} else if (n == 0) {
			dbops_log_error(
				"no failure of \"%s\" is recorded for table \"%s\"",
				files[i], db.target);
			rc = 1;
		} else {
			printf("forgot %lld failure%s of %s\n", (long long)n,
			       n == 1 ? "" : "s", files[i]);
		}
	}
	snap_db_close(&db);
	return rc;
}
