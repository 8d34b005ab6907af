/*
 * paths.c - default places for the tools' state. See paths.h.
 */
#include "paths.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *dbops_state_dir(const char *what, char *buf, size_t len)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (geteuid() == 0) {
		snprintf(buf, len, "/var/lib/dbops/%s", what);
		return buf;
	}
	if (home == NULL || *home == '\0') {
		pw = getpwuid(geteuid());
		home = pw ? pw->pw_dir : "/tmp";
	}
	snprintf(buf, len, "%s/.local/state/dbops/%s", home, what);
	return buf;
}
