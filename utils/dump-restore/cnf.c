/*
 * cnf.c - option files as the MariaDB clients read them, and the merge of
 * several hosts' worlds.cnf into one inventory. See cnf.h.
 */
#include "cnf.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "log.h"
#include "natsort.h"
#include "xalloc.h"

#define PREFIX "client_"

void dr_cnf_put(FILE *f, const char *key, const char *value)
{
	fprintf(f, "%s=\"", key);
	for (const char *p = value; *p; p++) {
		switch (*p) {
		case '"':
		case '\\':
			putc('\\', f);
			putc(*p, f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			putc(*p, f);
		}
	}
	fputs("\"\n", f);
}

/* Where the line's comment starts (rule 1), or its end. */
static const char *comment_start(const char *p)
{
	char quote = 0;
	bool escape = false;

	for (; *p; p++) {
		if ((*p == '\'' || *p == '"') && !escape) {
			if (!quote)
				quote = *p;
			else if (quote == *p)
				quote = 0;
		}
		if (!quote && *p == '#')
			return p;
		escape = quote && *p == '\\' && !escape;
	}
	return p;
}

static char unescape(char c)
{
	switch (c) {
	case 'n':
		return '\n';
	case 't':
		return '\t';
	case 'r':
		return '\r';
	case 'b':
		return '\b';
	case 's':
		return ' ';
	case '"':
	case '\'':
	case '\\':
		return c;
	}
	return 0;
}

char *dr_cnf_value(const char *raw, char *out, size_t len)
{
	const char *end = comment_start(raw);
	size_t n = 0;

	while (raw < end && isspace((unsigned char)*raw))
		raw++;
	while (end > raw && isspace((unsigned char)end[-1]))
		end--;
	if (end - raw > 1 && (*raw == '"' || *raw == '\'') && end[-1] == *raw) {
		raw++;
		end--;
	}
	for (const char *p = raw; p < end && n + 1 < len; p++) {
		char c = p + 1 < end && *p == '\\' ? unescape(p[1]) : 0;

		if (c) {
			out[n++] = c;
			p++;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	return out;
}

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

/* One line of PATH; GROUP the current group (empty before the first). */
static int read_line(char *s, char *group, size_t size, long line, dr_cnf_fn fn,
		     void *ctx, struct dbops_err *err)
{
	char *eq, *value = NULL;

	s = trim(s);
	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (*s == '!')
		return dbops_err_set(err, "line %ld: %s is not followed here",
				     line, s);
	if (*s == '[') {
		char *close = strchr(s, ']');

		if (close == NULL)
			return dbops_err_set(
				err, "line %ld: a group without \"]\"", line);
		*close = '\0';
		snprintf(group, size, "%s", trim(s + 1));
		return 0;
	}
	if (*group == '\0')
		return dbops_err_set(
			err, "line %ld: an option before any group", line);
	eq = strchr(s, '=');
	if (eq == NULL) {
		*(char *)comment_start(s) = '\0';
		return fn(ctx, group, trim(s), NULL, line, err);
	}
	*eq = '\0';
	value = dbops_xmalloc(strlen(eq + 1) + 1);
	dr_cnf_value(eq + 1, value, strlen(eq + 1) + 1);
	int rc = fn(ctx, group, trim(s), value, line, err);

	free(value);
	return rc;
}

int dr_cnf_read(const char *path, dr_cnf_fn fn, void *ctx,
		struct dbops_err *err)
{
	char *text = NULL, group[256] = "";
	size_t cap = 0;
	long line = 0;
	int rc = 0;
	FILE *f = fopen(path, "re");

	if (f == NULL)
		return dbops_err_set(err, "%s", strerror(errno));
	while (rc == 0 && getline(&text, &cap, f) > 0)
		rc = read_line(text, group, sizeof(group), ++line, fn, ctx,
			       err);
	if (rc == 0 && ferror(f))
		rc = dbops_err_set(err, "%s", strerror(errno));
	free(text);
	fclose(f);
	return rc;
}

/* --- inventory --merge --------------------------------------------------- */

struct merge_world {
	char *name; /* as its group writes it, less "client_" */
	const char *file;
	char **keys, **values; /* values[i] NULL: a bare option */
	size_t count;
};

struct merge {
	struct merge_world *worlds;
	size_t count;
	const char *file; /* the one being read */
};

static struct merge_world *merge_world(struct merge *m, const char *name,
				       struct dbops_err *err)
{
	for (size_t i = 0; i < m->count; i++) {
		struct merge_world *w = &m->worlds[i];

		if (strcasecmp(w->name, name) != 0)
			continue;
		if (w->file == m->file && strcmp(w->name, name) == 0)
			return w; /* the group again: the clients join them */
		dbops_err_set(
			err,
			"world \"%s\" is in both \"%s\" and \"%s\": one inventory cannot reach both",
			name, w->file, m->file);
		return NULL;
	}
	m->worlds = dbops_xreallocarray(m->worlds, m->count + 1,
					sizeof(*m->worlds));
	m->worlds[m->count] = (struct merge_world){ .name = dbops_xstrdup(name),
						    .file = m->file };
	return &m->worlds[m->count++];
}

static int merge_option(void *ctx, const char *group, const char *key,
			const char *value, long line, struct dbops_err *err)
{
	struct merge *m = ctx;
	struct merge_world *w;

	(void)line;
	if (strncmp(group, PREFIX, strlen(PREFIX)) != 0 ||
	    group[strlen(PREFIX)] == '\0')
		return 0; /* not a world's group */
	if (strpbrk(key, "\n\"=") != NULL || *key == '\0')
		return dbops_err_set(err, "line %ld: a bad option name", line);
	w = merge_world(m, group + strlen(PREFIX), err);
	if (w == NULL)
		return -1;
	w->keys = dbops_xreallocarray(w->keys, w->count + 1, sizeof(char *));
	w->values =
		dbops_xreallocarray(w->values, w->count + 1, sizeof(char *));
	w->keys[w->count] = dbops_xstrdup(key);
	w->values[w->count++] = value ? dbops_xstrdup(value) : NULL;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return dbops_natural_cmp(((const struct merge_world *)a)->name,
				 ((const struct merge_world *)b)->name);
}

static void merge_print(const struct merge *m, char **files, int n)
{
	printf("# One inventory of the worlds of several hosts, written by\n"
	       "# dump-restore inventory --merge from:\n");
	for (int i = 0; i < n; i++)
		printf("#   %s\n", files[i]);
	printf("# It holds passwords: keep it private (chmod 600).\n");
	for (size_t i = 0; i < m->count; i++) {
		const struct merge_world *w = &m->worlds[i];

		printf("\n[" PREFIX "%s]\n", w->name);
		for (size_t k = 0; k < w->count; k++)
			if (w->values[k])
				dr_cnf_put(stdout, w->keys[k], w->values[k]);
			else
				printf("%s\n", w->keys[k]);
	}
}

int dr_cnf_merge(char **files, int n)
{
	struct merge m = { 0 };
	struct dbops_err err = { "" };
	int rc = 0;

	if (n < 1)
		return dbops_cli_error(
			"inventory --merge needs the option files to merge");
	for (int i = 0; rc == 0 && i < n; i++) {
		m.file = files[i];
		if (dr_cnf_read(files[i], merge_option, &m, &err) != 0) {
			dbops_log_error("could not merge \"%s\": %s", files[i],
					err.msg);
			rc = -1;
		}
	}
	if (rc == 0 && m.count == 0) {
		dbops_log_error("could not merge: no [" PREFIX
				"<world>] group in the files");
		rc = -1;
	}
	if (rc == 0) {
		qsort(m.worlds, m.count, sizeof(*m.worlds), by_name);
		merge_print(&m, files, n);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			dbops_log_error("could not write the inventory: %s",
					strerror(errno));
			rc = -1;
		}
	}
	for (size_t i = 0; i < m.count; i++) {
		for (size_t k = 0; k < m.worlds[i].count; k++) {
			free(m.worlds[i].keys[k]);
			free(m.worlds[i].values[k]);
		}
		free(m.worlds[i].keys);
		free(m.worlds[i].values);
		free(m.worlds[i].name);
	}
	free(m.worlds);
	return rc == 0 ? 0 : 1;
}
