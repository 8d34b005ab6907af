/*
 * pgconf.c - one setting's value in PostgreSQL's configuration files, read
 * with the server's rules (guc-file.l): "name = value" or "name value", a
 * value bare or in single quotes ('' and backslash escapes inside), "#"
 * to the end of the line a comment, the last assignment the one in force.
 */
#include "pgconf.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "xalloc.h"

/* PostgreSQL stops at a depth of 10 too (CONF_FILE_MAX_DEPTH). */
#define MAX_DEPTH 10
#define MAX_FILE  (1u << 20)

/* One parsed line: NAME (may be empty: a blank line) and VALUE. */
struct conf_line {
	char name[64];
	char value[PATH_MAX];
};

static bool name_char(int c, bool first)
{
	return isalpha(c) || c == '_' || c >= 0x80 ||
	       (!first && (isdigit(c) || c == '$' || c == '.'));
}

/* A value in single quotes at *P, unescaped into OUT. */
static bool take_quoted(const char **p, const char *end, char *out,
			size_t outlen)
{
	const char *q = *p + 1;
	size_t n = 0;

	for (; q < end && *q != '\n'; q++) {
		char c = *q;

		if (c == '\'' && q + 1 < end && q[1] == '\'') {
			q++;
		} else if (c == '\'') {
			*p = q + 1;
			out[n] = '\0';
			return true;
		} else if (c == '\\' && q + 1 < end && q[1] != '\n') {
			static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
			const char *k = strchr(from, *++q);

			c = k && *q ? to[k - from] : *q;
		}
		if (n + 1 < outlen)
			out[n++] = c;
	}
	return false; /* no closing quote on the line */
}

/* Parse one line [P, END); false when the server would refuse it. */
static bool parse_line(const char *p, const char *end, struct conf_line *l)
{
	size_t n = 0;

	l->name[0] = l->value[0] = '\0';
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p == end || *p == '#')
		return true;
	while (p < end && name_char((unsigned char)*p, n == 0)) {
		if (n + 1 < sizeof(l->name))
			l->name[n++] = *p;
		p++;
	}
	l->name[n] = '\0';
	if (n == 0)
		return false;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p < end && *p == '=')
		p++;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p < end && *p == '\'') {
		if (!take_quoted(&p, end, l->value, sizeof(l->value)))
			return false;
	} else {
		n = 0;
		while (p < end && !isspace((unsigned char)*p) && *p != '#' &&
		       *p != '\'') {
			if (n + 1 < sizeof(l->value))
				l->value[n++] = *p;
			p++;
		}
		l->value[n] = '\0';
		if (n == 0)
			return false;
	}
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p == end || *p == '#';
}

static void set_unknown(struct pitr_conf_value *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_unknown(struct pitr_conf_value *v, const char *fmt, ...)
{
	va_list ap;

	v->found = false;
	v->unknown = true;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
}

/* Every "*.conf" of DIR, in the byte order of their names, as PostgreSQL. */
static void scan_dir(const char *dir, const char *name, int depth,
		     struct pitr_conf_value *v)
{
	struct dirent **list = NULL;
	int n = scandir(dir, &list, NULL, alphasort);

	if (n < 0) {
		set_unknown(v, "could not read the include_dir \"%s\"", dir);
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *f = list[i]->d_name;
		size_t len = strlen(f);
		char path[PATH_MAX];

		if (f[0] == '.' || len <= 5 ||
		    strcmp(f + len - 5, ".conf") != 0)
			;
		else if (snprintf(path, sizeof(path), "%s/%s", dir, f) >=
			 (int)sizeof(path))
			set_unknown(v, "a path in \"%s\" is too long", dir);
		else
			pitr_conf_scan_file(path, name, false, depth, v);
		free(list[i]);
	}
	free(list);
}

/* An include line of FILE (line LINE), followed when the files are on disk. */
static void include(const struct conf_line *l, const char *file, int line,
		    const char *dir, const char *name, int depth,
		    struct pitr_conf_value *v)
{
	char path[PATH_MAX];

	if (dir == NULL) {
		set_unknown(v, "%s line %d includes a file not read here", file,
			    line);
		return;
	}
	if (depth >= MAX_DEPTH) {
		set_unknown(v, "%s line %d: includes nested too deep", file,
			    line);
		return;
	}
	if (snprintf(path, sizeof(path), "%s%s%s",
		     l->value[0] == '/' ? "" : dir,
		     l->value[0] == '/' ? "" : "/",
		     l->value) >= (int)sizeof(path)) {
		set_unknown(v, "%s line %d: the included path is too long",
			    file, line);
		return;
	}
	if (strcasecmp(l->name, "include_dir") == 0)
		scan_dir(path, name, depth + 1, v);
	else
		pitr_conf_scan_file(path, name,
				    strcasecmp(l->name, "include_if_exists") ==
					    0,
				    depth + 1, v);
}

void pitr_conf_scan_text(const char *text, size_t len, const char *file,
			 const char *dir, const char *name, int depth,
			 struct pitr_conf_value *v)
{
	const char *p = text, *end = text + len;
	struct conf_line l;

	for (int line = 1; p < end; line++) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (eol == NULL)
			eol = end;
		if (!parse_line(p, eol, &l))
			set_unknown(v, "%s line %d is not a setting", file,
				    line);
		else if (strcasecmp(l.name, "include") == 0 ||
			 strcasecmp(l.name, "include_if_exists") == 0 ||
			 strcasecmp(l.name, "include_dir") == 0)
			include(&l, file, line, dir, name, depth, v);
		else if (strcasecmp(l.name, name) == 0) {
			v->found = true;
			v->unknown = false;
			snprintf(v->value, sizeof(v->value), "%s", l.value);
			snprintf(v->source, sizeof(v->source), "%s line %d",
				 file, line);
		}
		p = eol + 1;
	}
}

/* PATH's bytes, at most MAX_FILE; NULL with errno set when it cannot. */
static char *read_conf(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *text = NULL;
	ssize_t got;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (size_t)st.st_size <= MAX_FILE) {
		text = dbops_xmalloc((size_t)st.st_size + 1);
		got = dbops_read_full(fd, text, (size_t)st.st_size);
		if (got < 0) {
			free(text);
			text = NULL;
		} else {
			*len = (size_t)got;
		}
	} else {
		errno = EINVAL;
	}
	close(fd);
	return text;
}

void pitr_conf_scan_file(const char *path, const char *name, bool missing_ok,
			 int depth, struct pitr_conf_value *v)
{
	char *text, dir[PATH_MAX], shown[PATH_MAX + 2];
	const char *slash = strrchr(path, '/');
	size_t len = 0;

	if ((text = read_conf(path, &len)) == NULL) {
		if (!(missing_ok && errno == ENOENT))
			set_unknown(v, "could not read \"%s\"", path);
		return;
	}
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	snprintf(shown, sizeof(shown), "\"%s\"", path);
	pitr_conf_scan_text(text, len, shown, dir, name, depth, v);
	free(text);
}
