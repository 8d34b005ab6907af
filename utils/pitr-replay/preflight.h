/*
 * preflight.h - what `restore` checks before it writes anything, besides
 * the WAL and the backup themselves (verify.h): the server program's major
 * version, a free --port, the --conf file, and settings that let recovery
 * run (the limits the WAL's server had, from the backup's pg_control);
 * and, once the WAL check knows which segments recovery needs, that the
 * server's user can read each of them.
 */
#ifndef PITR_PREFLIGHT_H
#define PITR_PREFLIGHT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "process.h"
#include "restore.h"
#include "verify.h"

/*
 * The settings recovery cannot run below: a standby's must be at least the
 * primary's (PostgreSQL's "insufficient parameter settings").
 */
enum { PITR_LIMITS = 5 };

extern const char *const pitr_limit_names[PITR_LIMITS];

struct pitr_limits {
	int value[PITR_LIMITS]; /* in the order of pitr_limit_names */
};

/*
 * Pure: the limits in the first LEN bytes of a pg_control file of
 * PostgreSQL 13 to 17 (ControlFileData: MaxConnections and the four after
 * it, in the byte order of this machine). Returns 0, or -1 when CONTROL is
 * too short, of another pg_control version, or holds a value no server
 * takes.
 */
int pitr_control_limits(const unsigned char *control, size_t len,
			struct pitr_limits *out);

/* Server settings for the private run, as "name=value" strings. */
struct pitr_settings {
	char text[PITR_LIMITS + 4][PATH_MAX + 32];
	const char *list[PITR_LIMITS + 4 + PITR_SETS_MAX + 4]; /* NULL-ended */
	int n;
};

/*
 * Everything that can be found wrong before the extraction: the server
 * program is of the backup's major version, --port is free on 127.0.0.1,
 * USER (NULL: ourselves) can read --conf, and no --set lowers a limit
 * below the backup's pg_control (pitr_check_limits()). Returns 0, or -1
 * after reporting.
 */
int pitr_preflight(const struct restore_opts *o, const struct plan *plan,
		   const struct dbops_user *user);

/*
 * No --set gives a limit below what recovery needs: the backup's
 * pg_control's, raised by the parameter changes PLAN's WAL scan read up to
 * the target (none before the scan ran). Returns 0, or -1 after reporting
 * the limit and where it comes from.
 */
int pitr_check_limits(const struct restore_opts *o, const struct plan *plan);

/*
 * Fill S with the settings to add for the run: the data directory, --conf,
 * the limits pitr_check_limits() names, and --set.
 */
void pitr_settings_make(const struct restore_opts *o, const struct plan *plan,
			struct pitr_settings *s);

/*
 * Whether USER can read every archive file recovery along PLAN (a
 * verified one) may ask for: the target timeline's history file, and the
 * segments of its path from the first one verified to the first one the
 * archive lacks (the server reads ahead past the target, across segment
 * switches, and a copy that fails is fatal to it). Returns 0, or -1 after an error naming the first file
 * it cannot.
 */
int pitr_check_archive_access(const struct plan *plan,
			      const struct dbops_user *user);

#endif
