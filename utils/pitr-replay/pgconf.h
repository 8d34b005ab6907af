/*
 * pgconf.h - the value one setting has in PostgreSQL's configuration files,
 * read as the server reads them: the last assignment wins, include,
 * include_if_exists and include_dir are followed where the files are on
 * disk.
 */
#ifndef PITR_PGCONF_H
#define PITR_PGCONF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct pitr_conf_value {
	bool found;		     /* VALUE holds the setting */
	bool unknown;		     /* it cannot be told: WHY says why */
	char value[256];	     /* as the server takes it, unquoted */
	char source[PATH_MAX + 32];  /* "FILE line N" of the assignment */
	char why[PATH_MAX * 2 + 64]; /* when UNKNOWN */
};

/*
 * Apply the lines of TEXT (LEN bytes), the file called FILE in messages,
 * to V for the setting NAME (any case); FILE is quoted as messages
 * want it ("\"/etc/x.conf\""). DIR is the directory relative
 * include paths are taken from, or NULL when the files are not on disk
 * (a tar): an include line then leaves the value unknown unless a later
 * assignment sets it. A line the server would not parse leaves it unknown
 * too. DEPTH counts nested includes (0 at the top).
 */
void pitr_conf_scan_text(const char *text, size_t len, const char *file,
			 const char *dir, const char *name, int depth,
			 struct pitr_conf_value *v);

/*
 * pitr_conf_scan_text() on the file PATH, includes followed. A missing
 * file changes nothing when MISSING_OK, else leaves the value unknown.
 */
void pitr_conf_scan_file(const char *path, const char *name, bool missing_ok,
			 int depth, struct pitr_conf_value *v);

#endif
