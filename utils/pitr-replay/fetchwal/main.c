/*
 * pitr-replay-fetch-wal - `pitr-replay fetch-wal` as the restore_command
 * pitr-replay restore writes, without what the rest of pitr-replay links:
 * libarchive, libpq and libcrypto load some 35 shared libraries, about 6 ms
 * of dynamic linking a call, and the server calls restore_command once a
 * segment and waits for it. It runs fetch.c itself, built without
 * libarchive (PITR_FETCH_LIGHT), on the command line restore writes,
 *
 *	pitr-replay-fetch-wal fetch-wal -a ARCHIVE --spool DIR --prefetch N NAME DEST
 *
 * when NAME is in ARCHIVE as a plain or gzip-compressed file, or not at
 * all. For anything else (a segment in another compression, another
 * command line) it runs pitr-replay itself with the same arguments, from
 * BINDIR beside its own LIBEXEC directory (../../bin/pitr-replay), so the
 * outcome and the messages are always pitr-replay's.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../fetch.h"
#include "log.h"

/* The forms fetch.c looks for, in its order: the first there is read. */
static const char *const forms[] = { "", ".gz", ".zst", ".lz4", ".xz", ".bz2" };

/* Whether fetch.c built without libarchive reads NAME from ARCHIVE: its
 * first form there is plain or gzip, or it has none. */
static bool light_reads(const char *archive, const char *name)
{
	char path[PATH_MAX + 64];

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		int n = snprintf(path, sizeof(path), "%s/%s%s", archive, name,
				 forms[i]);

		if (n < 0 || (size_t)n >= sizeof(path))
			return false;
		if (access(path, F_OK) == 0)
			return i < 2;
		if (errno != ENOENT)
			return false;
	}
	return true;
}

/* The command line restore writes, into O; false for any other. */
static bool restore_form(int argc, char **argv, struct fetch_opts *o)
{
	char *end;
	long n;

	if (argc != 10 || strcmp(argv[1], "fetch-wal") != 0 ||
	    strcmp(argv[2], "-a") != 0 || strcmp(argv[4], "--spool") != 0 ||
	    strcmp(argv[6], "--prefetch") != 0 || argv[3][0] == '\0' ||
	    argv[5][0] == '\0' || argv[8][0] == '-' || argv[9][0] == '-')
		return false;
	errno = 0;
	n = strtol(argv[7], &end, 10);
	if (errno || *end || end == argv[7] || n < 0 ||
	    n > FETCH_PREFETCH_MAX || argv[7][0] < '0' || argv[7][0] > '9')
		return false;
	o->archive = argv[3];
	o->spool = argv[5];
	o->prefetch = (int)n;
	o->name = argv[8];
	o->dest = argv[9];
	return true;
}

/* Run pitr-replay with ARGV's arguments; returns only on failure. */
static int run_full(char **argv)
{
	char self[PATH_MAX], full[PATH_MAX + 32], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0 && (size_t)n < sizeof(self) - 1) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(full, sizeof(full), "%s/../../bin/pitr-replay",
				 self);
			argv[0] = full;
			execv(full, argv);
		}
	}
	dbops_log_error("could not run \"%s\": %s",
			n > 0 ? full : "pitr-replay", strerror(errno));
	return FETCH_FAILED;
}

int main(int argc, char **argv)
{
	struct fetch_opts o = { 0 };

	dbops_log_init("pitr-replay");
	if (!restore_form(argc, argv, &o) || !light_reads(o.archive, o.name))
		return run_full(argv);
	return pitr_fetch_wal_run(&o);
}
