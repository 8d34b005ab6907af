/*
 * names.c - the table and the date from a file's name. See names.h.
 */
#include "names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timestamp.h"
#include "xalloc.h"

/* What one match found so far. */
struct found {
	int year, month, day;
	const char *table;
	size_t table_len;
};

static bool is_separator(char c)
{
	return c == '_' || c == '-' || c == '.' || c == ' ';
}

int snap_name_pattern_parse(const char *pattern, struct snap_name_pattern *p,
			    struct dbops_err *err)
{
	int seen[3] = { 0, 0, 0 }; /* Y m d */
	bool has_table = false;
	const char *first = NULL;
	size_t n;

	memset(p, 0, sizeof(*p));
	p->pattern = pattern;
	for (const char *s = pattern; *s; s++) {
		const char *which;

		if (*s != '%')
			continue;
		if (s[1] == '\0')
			return dbops_err_set(
				err, "a lone %% at the end of the pattern");
		if (s[1] == '%') {
			s++;
			continue;
		}
		which = strchr("Ymd", s[1]);
		if (which == NULL && s[1] != 't')
			return dbops_err_set(
				err,
				"%%%c is not a conversion: use %%Y, %%m, %%d, %%t or %%%%",
				s[1]);
		if ((which && seen[which - "Ymd"]++) ||
		    (s[1] == 't' && has_table))
			return dbops_err_set(err, "%%%c appears twice", s[1]);
		has_table |= s[1] == 't';
		if (first == NULL)
			first = s;
		s++;
	}
	if (seen[0] + seen[1] + seen[2] != 0 &&
	    seen[0] + seen[1] + seen[2] != 3)
		return dbops_err_set(
			err,
			"%%Y, %%m and %%d go together: the date needs all three");
	p->has_date = seen[0] == 1;
	if (has_table)
		return 0;
	n = first ? (size_t)(first - pattern) : strlen(pattern);
	while (n > 0 && is_separator(pattern[n - 1]))
		n--;
	if (n == 0 || first == NULL)
		return dbops_err_set(
			err,
			"no table: put %%t where its name is, or a name before the date");
	p->table = dbops_xstrndup(pattern, n);
	/* "%%" in the name is one '%'. */
	char *w = p->table;

	for (const char *r = p->table; *r; r++) {
		*w++ = *r;
		if (r[0] == '%' && r[1] == '%')
			r++;
	}
	*w = '\0';
	return 0;
}

void snap_name_pattern_free(struct snap_name_pattern *p)
{
	free(p->table);
	memset(p, 0, sizeof(*p));
}

/* N digits at S, as a number; -1 when they are not all digits. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Whether S matches P from here on, filling F. */
static bool match(const char *p, const char *s, struct found *f)
{
	for (; *p; p++) {
		int width, v;

		if (*p != '%' || p[1] == '%') {
			if (*s != *p)
				return false;
			p += *p == '%';
			s++;
			continue;
		}
		p++;
		if (*p == 't') {
			/* The shortest name that lets the rest match. */
			for (size_t n = 1; s[n - 1] != '\0'; n++) {
				f->table = s;
				f->table_len = n;
				if (match(p + 1, s + n, f))
					return true;
			}
			return false;
		}
		width = *p == 'Y' ? 4 : 2;
		if (strnlen(s, (size_t)width) < (size_t)width ||
		    (v = digits(s, width)) < 0)
			return false;
		*(*p == 'Y' ? &f->year : *p == 'm' ? &f->month : &f->day) = v;
		s += width;
	}
	return *s == '\0';
}

/* The name without a compression suffix, or NULL when it has none. */
static char *uncompressed(const char *name)
{
	static const char *const suffixes[] = { ".gz", ".zst", ".xz", ".bz2",
						NULL };
	size_t len = strlen(name);

	for (int i = 0; suffixes[i]; i++) {
		size_t n = strlen(suffixes[i]);

		if (len > n && strcmp(name + len - n, suffixes[i]) == 0)
			return dbops_xstrndup(name, len - n);
	}
	return NULL;
}

static bool match_date(const struct snap_name_pattern *p, const char *name,
		       struct found *f)
{
	memset(f, 0, sizeof(*f));
	if (!match(p->pattern, name, f))
		return false;
	return !p->has_date ||
	       (f->year >= 1 && f->month >= 1 && f->month <= 12 &&
		f->day >= 1 &&
		f->day <= dbops_timestamp_days_in_month(f->year, f->month));
}

int snap_name_match(const struct snap_name_pattern *p, const char *name,
		    char **table, char date[SNAP_DATE_LEN])
{
	const char *base = strrchr(name, '/');
	struct found f;
	char *plain = NULL;
	bool ok;

	base = base ? base + 1 : name;
	ok = match_date(p, base, &f);
	if (!ok && (plain = uncompressed(base)) != NULL)
		ok = match_date(p, plain, &f);
	if (ok) {
		*table = p->table ? dbops_xstrdup(p->table)
				  : dbops_xstrndup(f.table, f.table_len);
		date[0] = '\0';
		if (p->has_date)
			snprintf(date, SNAP_DATE_LEN, "%04u-%02u-%02u",
				 (unsigned)f.year % 10000u,
				 (unsigned)f.month % 100u,
				 (unsigned)f.day % 100u);
	}
	free(plain);
	return ok ? 0 : -1;
}

int snap_table_name_check(const char *table, struct dbops_err *err)
{
	const char *dot = strchr(table, '.');
	size_t first = dot ? (size_t)(dot - table) : strlen(table);
	size_t second = dot ? strlen(dot + 1) : 0;

	if (*table == '\0' || (dot && (dot == table || dot[1] == '\0')))
		return dbops_err_set(err, "invalid table name \"%s\"", table);
	if (first > SNAP_NAME_MAX || second > SNAP_NAME_MAX)
		return dbops_err_set(
			err,
			"invalid table name \"%s\": \"%.*s\" is longer than %d bytes, which PostgreSQL would cut",
			table, (int)(first > SNAP_NAME_MAX ? first : second),
			first > SNAP_NAME_MAX ? table : dot + 1, SNAP_NAME_MAX);
	return 0;
}
