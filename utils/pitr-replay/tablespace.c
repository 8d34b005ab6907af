/*
 * tablespace.c - the tablespaces of a base backup and where a restore puts
 * them. See tablespace.h and backup.h.
 *
 * pg_basebackup -Ft writes each tablespace as <oid>.tar beside base.tar and
 * lists "OID LOCATION" in base.tar's tablespace_map; PostgreSQL links
 * pg_tblspc/<oid> to LOCATION from that file when recovery starts. The
 * restore links the tablespace's new place itself and removes the map.
 */
#define _XOPEN_SOURCE 700
#include "tablespace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup_util.h"
#include "log.h"
#include "xalloc.h"

static struct backup_tablespace *find(const struct base_backup *b, unsigned oid)
{
	for (size_t i = 0; i < b->ntablespaces; i++)
		if (b->tablespaces[i].oid == oid)
			return &b->tablespaces[i];
	return NULL;
}

static struct backup_tablespace *add_new(struct base_backup *b, unsigned oid)
{
	struct backup_tablespace *ts;

	b->tablespaces = dbops_xreallocarray(
		b->tablespaces, b->ntablespaces + 1, sizeof(*b->tablespaces));
	ts = &b->tablespaces[b->ntablespaces++];
	memset(ts, 0, sizeof(*ts));
	ts->oid = oid;
	return ts;
}

bool pitr_ts_oid_of(const char *name, unsigned *oid)
{
	unsigned long v = 0;
	size_t n = strspn(name, "0123456789");

	if (n == 0 || n > 10 || name[n] != '\0' || name[0] == '0')
		return false;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned long)(name[i] - '0');
	if (v > 0xFFFFFFFFul)
		return false;
	*oid = (unsigned)v;
	return true;
}

int pitr_ts_add(struct base_backup *b, unsigned oid, const char *location,
		const char *where)
{
	struct backup_tablespace *ts = find(b, oid);

	if (ts == NULL)
		ts = add_new(b, oid);
	if (ts->location[0] != '\0' && location[0] != '\0' &&
	    strcmp(ts->location, location) != 0) {
		dbops_log_error(
			"%s: tablespace %u is both at \"%s\" and at \"%s\"",
			where, oid, ts->location, location);
		return -1;
	}
	if (location[0] != '\0' &&
	    snprintf(ts->location, sizeof(ts->location), "%s", location) >=
		    (int)sizeof(ts->location)) {
		dbops_log_error("%s: the location of tablespace %u is too long",
				where, oid);
		return -1;
	}
	return 0;
}

/* One line of tablespace_map: "OID LOCATION", LOCATION backslash-escaped. */
static int parse_map_line(const char *line, size_t len, const char *where,
			  int lineno, struct base_backup *b)
{
	char oid_text[16], location[PATH_MAX];
	size_t n = 0, i;
	unsigned oid;

	for (i = 0; i < len && line[i] != ' ' && n < sizeof(oid_text) - 1; i++)
		oid_text[n++] = line[i];
	oid_text[n] = '\0';
	if (i >= len || line[i] != ' ' || !pitr_ts_oid_of(oid_text, &oid)) {
		dbops_log_error(
			"%s: line %d: expected \"OID LOCATION\", found \"%.*s\"",
			where, lineno, (int)(len > 80 ? 80 : len), line);
		return -1;
	}
	n = 0;
	for (i++; i < len; i++) {
		if (line[i] == '\\' && i + 1 < len)
			i++;
		if (n == sizeof(location) - 1) {
			dbops_log_error("%s: line %d: location too long", where,
					lineno);
			return -1;
		}
		location[n++] = line[i];
	}
	location[n] = '\0';
	if (location[0] != '/') {
		dbops_log_error(
			"%s: line %d: tablespace %u has no absolute location: \"%s\"",
			where, lineno, oid, location);
		return -1;
	}
	return pitr_ts_add(b, oid, location, where);
}

int pitr_ts_parse_map(const char *text, size_t len, const char *where,
		      struct base_backup *b)
{
	size_t i = 0;
	int lineno = 0;

	while (i < len) {
		size_t start = i, n;

		/* A line ends at the first newline no backslash escapes. */
		while (i < len && text[i] != '\n')
			i += text[i] == '\\' && i + 1 < len ? 2 : 1;
		n = i - start;
		lineno++;
		if (n > 0 &&
		    parse_map_line(text + start, n, where, lineno, b) != 0)
			return -1;
		i++;
	}
	return 0;
}

int pitr_ts_attach_tar(struct base_backup *b, unsigned oid, const char *path)
{
	struct backup_tablespace *ts = find(b, oid);

	if (ts == NULL) {
		dbops_log_error(
			"\"%s\": a tablespace tar that tablespace_map does not list",
			path);
		return -1;
	}
	if (ts->tar[0] != '\0') {
		dbops_log_error(
			"both \"%s\" and \"%s\" hold tablespace %u: keep one",
			ts->tar, path, oid);
		return -1;
	}
	snprintf(ts->tar, sizeof(ts->tar), "%s", path);
	return 0;
}

int pitr_ts_check(const struct base_backup *b, const char *container)
{
	for (size_t i = 0; i < b->ntablespaces; i++) {
		const struct backup_tablespace *ts = &b->tablespaces[i];
		const char *why;
		struct stat st;

		if (b->kind != BACKUP_DIR && ts->tar[0] == '\0') {
			dbops_log_error(
				"\"%s\": tablespace %u (at \"%s\") has no %u.tar beside it: the backup is incomplete",
				container, ts->oid, ts->location, ts->oid);
			return -1;
		}
		if (b->kind != BACKUP_DIR)
			continue;
		if (stat(ts->location, &st) != 0)
			why = strerror(errno);
		else if (!S_ISDIR(st.st_mode))
			why = "not a directory";
		else
			continue;
		dbops_log_error(
			"could not use tablespace %u of \"%s\" at \"%s\": %s",
			ts->oid, container, ts->location, why);
		return -1;
	}
	return 0;
}

void pitr_backup_free(struct base_backup *b)
{
	free(b->tablespaces);
	b->tablespaces = NULL;
	b->ntablespaces = 0;
}

/* 1 if DIR does not exist, 0 if it is an empty directory, -1 otherwise. */
static int absent_or_empty(const char *dir)
{
	struct stat st;
	int fd;
	DIR *d;

	if (lstat(dir, &st) != 0)
		return errno == ENOENT ? 1 : -1;
	if (!S_ISDIR(st.st_mode))
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (struct dirent *de; (de = readdir(d)) != NULL;)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			closedir(d);
			errno = ENOTEMPTY;
			return -1;
		}
	closedir(d);
	return 0;
}

/* Whether PATH is DIR or below it (both absolute, as typed). */
static bool inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 &&
	       (path[n] == '\0' || path[n] == '/');
}

static const char *mapped(const struct backup_tablespace *ts,
			  const struct tablespace_mapping *maps, size_t nmaps,
			  bool *used)
{
	for (size_t i = 0; i < nmaps; i++) {
		if (strcmp(maps[i].old_dir, ts->location) == 0) {
			used[i] = true;
			return maps[i].new_dir;
		}
	}
	return NULL;
}

static int map_one(struct backup_tablespace *ts, const struct base_backup *b,
		   const char *datadir, const char *to)
{
	int state;

	if (to == NULL && b->kind == BACKUP_DIR) {
		dbops_log_error(
			"tablespace %u of \"%s\" is the backup's own copy \"%s\": it needs a new place",
			ts->oid, b->path, ts->location);
		dbops_log_hint("give --tablespace-map \"%s=NEW_DIRECTORY\"",
			       ts->location);
		return -1;
	}
	if (to == NULL)
		to = ts->location;
	if (to[0] != '/' || inside(to, datadir) || inside(datadir, to)) {
		dbops_log_error("could not put tablespace %u in \"%s\": %s",
				ts->oid, to,
				to[0] != '/'
					? "not an absolute path"
					: "it overlaps the data directory");
		return -1;
	}
	state = absent_or_empty(to);
	if (state < 0) {
		dbops_log_error("could not put tablespace %u in \"%s\": %s",
				ts->oid, to,
				errno == ENOTEMPTY || errno == 0
					? "not an empty directory"
					: strerror(errno));
		dbops_log_hint(
			"the backed-up cluster had it at \"%s\"; give --tablespace-map \"%s=NEW_DIRECTORY\" for another place",
			ts->location, ts->location);
		return -1;
	}
	snprintf(ts->target, sizeof(ts->target), "%s", to);
	return 0;
}

int pitr_backup_map_tablespaces(struct base_backup *b, const char *datadir,
				const struct tablespace_mapping *maps,
				size_t nmaps)
{
	bool *used = dbops_xcalloc(nmaps ? nmaps : 1, sizeof(*used));
	char cwd[PATH_MAX], absolute[2 * PATH_MAX];
	int rc = 0;

	if (datadir[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL) {
		snprintf(absolute, sizeof(absolute), "%s/%s", cwd, datadir);
		datadir = absolute;
	}

	/* A mapping that matches nothing is a typing mistake: say it first. */
	for (size_t i = 0; i < b->ntablespaces; i++)
		mapped(&b->tablespaces[i], maps, nmaps, used);
	for (size_t i = 0; i < nmaps && rc == 0; i++)
		if (!used[i]) {
			dbops_log_error(
				"invalid value \"%s=%s\" for --tablespace-map: the backup has no tablespace at \"%s\"",
				maps[i].old_dir, maps[i].new_dir,
				maps[i].old_dir);
			rc = -1;
		}
	for (size_t i = 0; i < b->ntablespaces && rc == 0; i++) {
		struct backup_tablespace *ts = &b->tablespaces[i];

		rc = map_one(ts, b, datadir, mapped(ts, maps, nmaps, used));
		for (size_t j = 0; j < i && rc == 0; j++)
			if (strcmp(b->tablespaces[j].target, ts->target) == 0) {
				dbops_log_error(
					"could not put tablespaces %u and %u both in \"%s\"",
					b->tablespaces[j].oid, ts->oid,
					ts->target);
				rc = -1;
			}
	}
	free(used);
	return rc;
}

void pitr_backup_remove_tablespaces(const struct base_backup *b)
{
	for (size_t i = 0; i < b->ntablespaces; i++) {
		const struct backup_tablespace *ts = &b->tablespaces[i];

		if (ts->target[0] == '\0')
			continue;
		pitr_empty_dir(ts->target);
		if (ts->created)
			rmdir(ts->target);
	}
}
