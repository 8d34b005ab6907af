/*
 * catalog.c - find the dumps, read world and time from their names, and
 * choose one per world. See catalog.h.
 */
#include "catalog.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "log.h"
#include "natsort.h"
#include "timestamp.h"
#include "xalloc.h"

#define SUFFIX ".sql.gz"

bool dr_world_name_ok(const char *name)
{
	if (!isalnum((unsigned char)*name) || strlen(name) > DR_WORLD_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' &&
		    *p != '.')
			return false;
	return true;
}

static bool has_suffix(const char *name)
{
	size_t n = strlen(name), s = strlen(SUFFIX);

	return n > s && strcmp(name + n - s, SUFFIX) == 0;
}

int dr_dump_parse_name(const char *name, char **world, int64_t *usec,
		       struct dbops_err *err)
{
	size_t len = strlen(name);
	char *stem;

	if (!has_suffix(name))
		return dbops_err_set(err, "the name does not end in " SUFFIX);
	stem = dbops_xstrndup(name, len - strlen(SUFFIX));
	/* The first separator after which a time follows: the longest time,
	 * so "eu-world1-2024-03-01" is world "eu-world1". */
	for (size_t i = 1; stem[i] != '\0'; i++) {
		if (stem[i] != '-' && stem[i] != '_' && stem[i] != '.')
			continue;
		if (dbops_timestamp_parse(stem + i + 1, usec, NULL) != 0)
			continue;
		stem[i] = '\0';
		if (i > DR_WORLD_NAME_MAX) {
			dbops_err_set(
				err,
				"world name \"%.40s...\" is longer than %d bytes",
				stem, DR_WORLD_NAME_MAX);
			free(stem);
			return -2;
		}
		if (!dr_world_name_ok(stem)) {
			dbops_err_set(
				err,
				"world name \"%s\" must start with a letter or a digit and hold only letters, digits, '-', '_' and '.'",
				stem);
			free(stem);
			return -2;
		}
		*world = stem;
		return 0;
	}
	dbops_err_set(
		err, "it is not named <world>-<time>" SUFFIX
		     " (time such as 2024-03-01T02:00:00Z or 20240301_020000)");
	free(stem);
	return -1;
}

/* PATH made absolute, its directory resolved, its last name kept. */
static char *absolute_path(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? dbops_xstrndup(path, (size_t)(slash - path)) : NULL;
	char *real = realpath(slash == path ? "/" : dir ? dir : ".", NULL);
	char *out = NULL;
	size_t len;

	free(dir);
	if (real == NULL)
		return NULL;
	len = strlen(real) + strlen(path) + 2;
	if (len > PATH_MAX) {
		/* realpath() may give more than the kernel takes back. */
		free(real);
		errno = ENAMETOOLONG;
		return NULL;
	}
	out = dbops_xmalloc(len);
	snprintf(out, len, "%s%s%s", real, strcmp(real, "/") ? "/" : "",
		 slash ? slash + 1 : path);
	free(real);
	return out;
}

static int add_dump(struct dr_catalog *c, const char *path, const char *name,
		    bool warn_other_suffix)
{
	struct dbops_err err = { "" };
	struct dr_dump *d;
	struct stat st;
	char *world, *absolute;
	int64_t usec;

	if (!has_suffix(name) && !warn_other_suffix)
		return 0; /* other files in a dump folder are none of ours */
	switch (dr_dump_parse_name(name, &world, &usec, &err)) {
	case 0:
		break;
	case -2: /* a dump, surely, but of a world no command could name */
		dbops_log_error("could not use \"%s\": %s", path, err.msg);
		dbops_log_hint("rename the file");
		return -1;
	default:
		dbops_log_warning("skipping \"%s\": %s", path, err.msg);
		return 0;
	}
	if (stat(path, &st) != 0) {
		dbops_log_warning("skipping \"%s\": %s", path, strerror(errno));
		free(world);
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		dbops_log_warning("skipping \"%s\": not a regular file", path);
		free(world);
		return 0;
	}
	/* Absolute: a later `up` from elsewhere must see the same dump. A
	 * link keeps its own name, which says the world and time (the
	 * target's name may not). */
	absolute = absolute_path(path);
	if (absolute == NULL) {
		dbops_log_error("could not resolve the path of \"%s\": %s",
				path, strerror(errno));
		free(world);
		return -1;
	}
	c->dumps =
		dbops_xreallocarray(c->dumps, c->count + 1, sizeof(*c->dumps));
	d = &c->dumps[c->count++];
	d->path = absolute;
	d->world = world;
	d->usec = usec;
	d->size = st.st_size;
	d->mtime = st.st_mtime;
	return 0;
}

static int scan_dir(struct dr_catalog *c, const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort), rc = 0;

	if (n < 0) {
		dbops_log_error("could not read directory \"%s\": %s", dir,
				strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];

		if (rc == 0 && names[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s%s%s", dir,
				 dir[strlen(dir) - 1] == '/' ? "" : "/",
				 names[i]->d_name);
			rc = add_dump(c, path, names[i]->d_name, false);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int dr_catalog_scan(struct dr_catalog *c, char *const *sources, int n)
{
	for (int i = 0; i < n; i++) {
		struct stat st;
		const char *slash = strrchr(sources[i], '/');

		if (stat(sources[i], &st) != 0) {
			dbops_log_error("could not read \"%s\": %s", sources[i],
					strerror(errno));
			return -1;
		}
		if (S_ISDIR(st.st_mode)
			    ? scan_dir(c, sources[i]) != 0
			    : add_dump(c, sources[i],
				       slash ? slash + 1 : sources[i],
				       true) != 0)
			return -1;
	}
	return 0;
}

void dr_catalog_free(struct dr_catalog *c)
{
	for (size_t i = 0; i < c->count; i++) {
		free(c->dumps[i].path);
		free(c->dumps[i].world);
	}
	free(c->dumps);
	c->dumps = NULL;
	c->count = 0;
}

static int by_world(const void *x, const void *y)
{
	const struct dr_dump *a = *(const struct dr_dump *const *)x;
	const struct dr_dump *b = *(const struct dr_dump *const *)y;

	return dbops_natural_cmp(a->world, b->world);
}

/* Report each two worlds whose names differ only by case; -1 if any. */
static int case_clash(const struct dr_dump **best, size_t count)
{
	int rc = 0;

	for (size_t a = 0; a < count; a++)
		for (size_t b = a + 1; b < count; b++) {
			if (strcasecmp(best[a]->world, best[b]->world) != 0)
				continue;
			dbops_log_error(
				"worlds \"%s\" (\"%s\") and \"%s\" (\"%s\") differ only by case: their worlds.cnf groups would be one",
				best[a]->world, best[a]->path, best[b]->world,
				best[b]->path);
			rc = -1;
		}
	if (rc != 0)
		dbops_log_hint("rename one of the files");
	return rc;
}

int dr_catalog_choose(const struct dr_catalog *c, bool have_at, int64_t at,
		      bool strict, const struct dr_dump ***chosen, size_t *n)
{
	const struct dr_dump **best =
		dbops_xcalloc(c->count + 1, sizeof(*best));
	size_t count = 0, kept = 0;
	int rc = 0;

	*chosen = NULL;
	*n = 0;
	for (size_t i = 0; i < c->count; i++) {
		const struct dr_dump *d = &c->dumps[i];
		size_t w;

		for (w = 0; w < count; w++)
			if (strcmp(best[w]->world, d->world) == 0)
				break;
		if (w == count) {
			best[count++] = d; /* its first dump, chosen below */
			continue;
		}
		/* Keep the latest one that is early enough; if none is, the
		 * earliest, to name it in the error. */
		bool d_ok = !have_at || d->usec <= at;
		bool b_ok = !have_at || best[w]->usec <= at;

		if ((d_ok && (!b_ok || d->usec > best[w]->usec)) ||
		    (!d_ok && !b_ok && d->usec < best[w]->usec))
			best[w] = d;
	}
	qsort(best, count, sizeof(*best), by_world);
	if (case_clash(best, count) != 0)
		rc = -1;
	for (size_t w = 0; w < count; w++) {
		if (have_at && best[w]->usec > at) {
			char when[DBOPS_TIMESTAMP_LEN],
				first[DBOPS_TIMESTAMP_LEN];

			dbops_timestamp_format(at, when, sizeof(when));
			dbops_timestamp_format(best[w]->usec, first,
					       sizeof(first));
			dbops_log_error(
				"world \"%s\" has no dump at or before %s: its earliest is \"%s\" of %s%s",
				best[w]->world, when, best[w]->path, first,
				strict ? "" : "; skipped");
			if (strict)
				rc = -1;
			continue;
		}
		best[kept++] = best[w];
	}
	if (count == 0)
		dbops_log_error(
			"no dump found: no file named <world>-<time>" SUFFIX);
	else if (kept == 0 && rc == 0)
		dbops_log_error("no world has a dump early enough");
	if (rc != 0 || kept == 0) {
		free(best);
		return -1;
	}
	*chosen = best;
	*n = kept;
	return 0;
}
