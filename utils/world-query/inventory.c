/*
 * inventory.c - the [client_<world>] groups of an option file. See
 * inventory.h. Option-file syntax kept to what the MySQL clients read:
 * "[group]" lines, "key=value" or "key = value" lines (values may be
 * quoted), comments starting with # or ;, !include lines (not followed:
 * a world's group must be in the file itself).
 */
#include "inventory.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "natsort.h"
#include "xalloc.h"

#define PREFIX "client_"

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static void unquote(char *v)
{
	size_t n = strlen(v);

	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		memmove(v, v + 1, n - 2);
		v[n - 2] = '\0';
	}
}

static void keep_value(struct wq_world *w, const char *key, const char *value)
{
	if (strcmp(key, "host") == 0)
		snprintf(w->host, sizeof(w->host), "%s", value);
	else if (strcmp(key, "port") == 0)
		snprintf(w->port, sizeof(w->port), "%s", value);
	else if (strcmp(key, "socket") == 0)
		snprintf(w->socket, sizeof(w->socket), "%s", value);
	else if (strcmp(key, "database") == 0)
		snprintf(w->database, sizeof(w->database), "%s", value);
}

static struct wq_world *add_world(struct wq_inventory *inv, const char *name)
{
	struct wq_world *w;

	for (size_t i = 0; i < inv->count; i++)
		if (strcmp(inv->worlds[i].name, name) == 0)
			return &inv->worlds[i]; /* a group may come twice */
	inv->worlds = dbops_xreallocarray(inv->worlds, inv->count + 1,
					  sizeof(*inv->worlds));
	w = &inv->worlds[inv->count];
	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", name);
	return &inv->worlds[inv->count++];
}

static int by_name(const void *a, const void *b)
{
	return dbops_natural_cmp(((const struct wq_world *)a)->name,
				 ((const struct wq_world *)b)->name);
}

int wq_inventory_read(const char *path, struct wq_inventory *inv,
		      struct dbops_err *err)
{
	struct wq_world *current = NULL;
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	FILE *f;

	memset(inv, 0, sizeof(*inv));
	f = fopen(path, "re");
	if (f == NULL)
		return dbops_err_set(err, "could not read inventory \"%s\": %s",
				     path, strerror(errno));
	inv->path = dbops_xstrdup(path);
	while (getline(&line, &cap, f) > 0) {
		char *s = trim(line), *eq;

		lineno++;

		if (*s == '\0' || *s == '#' || *s == ';' || *s == '!')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');

			current = NULL;
			if (close == NULL)
				continue;
			*close = '\0';
			s = trim(s + 1);
			if (strncmp(s, PREFIX, strlen(PREFIX)) != 0 ||
			    s[strlen(PREFIX)] == '\0')
				continue;
			s += strlen(PREFIX);
			if (strlen(s) >= sizeof(current->name)) {
				/* Cut, it would name a group not in the file. */
				dbops_err_set(
					err,
					"could not read inventory \"%s\": line %ld: the world name \"%.40s...\" is longer than %zu bytes",
					path, lineno, s,
					sizeof(current->name) - 1);
				free(line);
				fclose(f);
				wq_inventory_free(inv);
				return -1;
			}
			current = add_world(inv, s);
			continue;
		}
		if (current == NULL || (eq = strchr(s, '=')) == NULL)
			continue;
		*eq = '\0';
		char *value = trim(eq + 1);

		unquote(value);
		keep_value(current, trim(s), value);
	}
	free(line);
	fclose(f);
	if (inv->count == 0) {
		dbops_err_set(
			err,
			"inventory \"%s\" has no world: no [client_<world>] group",
			path);
		wq_inventory_free(inv);
		return -1;
	}
	qsort(inv->worlds, inv->count, sizeof(*inv->worlds), by_name);
	return 0;
}

void wq_inventory_free(struct wq_inventory *inv)
{
	free(inv->path);
	free(inv->worlds);
	memset(inv, 0, sizeof(*inv));
}

int wq_inventory_select(struct wq_inventory *inv, const char *const *patterns,
			int npatterns, struct dbops_err *err)
{
	bool *keep;
	size_t kept = 0;

	if (npatterns == 0)
		return 0;
	keep = dbops_xcalloc(inv->count, sizeof(*keep));
	for (int p = 0; p < npatterns; p++) {
		bool glob = strpbrk(patterns[p], "*?[") != NULL, any = false;

		for (size_t i = 0; i < inv->count; i++)
			if (fnmatch(patterns[p], inv->worlds[i].name, 0) == 0)
				keep[i] = any = true;
		if (!any) {
			dbops_err_set(
				err,
				glob ? "no world matches \"%s\" in inventory \"%s\""
				     : "no world \"%s\" in inventory \"%s\"",
				patterns[p], inv->path);
			free(keep);
			return -1;
		}
	}
	for (size_t i = 0; i < inv->count; i++)
		if (keep[i])
			inv->worlds[kept++] = inv->worlds[i];
	inv->count = kept;
	free(keep);
	return 0;
}

const struct wq_world *wq_inventory_find(const struct wq_inventory *inv,
					 const char *name)
{
	for (size_t i = 0; i < inv->count; i++)
		if (strcmp(inv->worlds[i].name, name) == 0)
			return &inv->worlds[i];
	return NULL;
}
