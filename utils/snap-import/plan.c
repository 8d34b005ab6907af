/*
 * plan.c - the columns of a table to create, and why each type. See plan.h.
 */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "utf8.h"
#include "xalloc.h"

static const char *const known_types[] = {
	"text",	  "boolean",   "smallint",    "integer",
	"bigint", "numeric",   "real",	      "double precision",
	"date",	  "timestamp", "timestamptz", "time",
	"uuid",	  "json",      "jsonb",	      NULL,
};

static void add_override(struct snap_type_opts *o, const char *col, size_t n,
			 const char *type)
{
	o->overrides = dbops_xreallocarray(o->overrides, o->count + 1,
					   sizeof(*o->overrides));
	o->overrides[o->count].column = dbops_xstrndup(col, n);
	o->overrides[o->count].type = type;
	o->count++;
}

int snap_types_parse(const char *spec, struct snap_type_opts *o,
		     struct dbops_err *err)
{
	const char *p = spec;

	while (*p) {
		size_t n = strcspn(p, ","), k;
		const char *eq = memchr(p, '=', n);
		const char *type = NULL;

		if (eq == NULL || eq == p)
			return dbops_err_set(err, "\"%.*s\" is not COLUMN=TYPE",
					     (int)n, p);
		for (k = 0; known_types[k]; k++)
			if (strlen(known_types[k]) ==
				    (size_t)(p + n - eq - 1) &&
			    strncmp(known_types[k], eq + 1,
				    (size_t)(p + n - eq - 1)) == 0)
				type = known_types[k];
		if (type == NULL)
			return dbops_err_set(
				err,
				"unknown type \"%.*s\"; use text, boolean, smallint, integer, bigint, numeric, real, double precision, date, timestamp, timestamptz, time, uuid, json or jsonb",
				(int)(p + n - eq - 1), eq + 1);
		add_override(o, p, (size_t)(eq - p), type);
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

void snap_types_free(struct snap_type_opts *o)
{
	for (size_t i = 0; i < o->count; i++)
		free(o->overrides[i].column);
	free(o->overrides);
	o->overrides = NULL;
	o->count = 0;
}

void snap_column_name(const char *name, char *out)
{
	size_t n = strlen(name), keep;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (n <= SNAP_NAME_MAX) {
		memcpy(out, name, n + 1);
		return;
	}
	keep = dbops_utf8_cut(name, SNAP_NAME_MAX - 9);
	if (EVP_Digest(name, n, md, &mdlen, EVP_sha256(), NULL) != 1)
		dbops_xalloc_failed();
	snprintf(out, SNAP_NAME_MAX + 1, "%.*s_%02x%02x%02x%02x", (int)keep,
		 name, md[0], md[1], md[2], md[3]);
}

/* Why a guessed type; caller frees. */
static char *guess_reason(const struct snap_guess *g)
{
	switch (g->type) {
	case SNAP_TYPE_NULL:
		return dbops_xstrdup("no value but NULL");
	case SNAP_TYPE_BOOLEAN:
		return dbops_xstrdup("every value is true or false");
	case SNAP_TYPE_INTEGER:
		return dbops_xstrdup(
			"every value is an integer within integer's range, written as PostgreSQL prints it");
	case SNAP_TYPE_BIGINT:
		return dbops_xstrdup(
			"integers written as PostgreSQL prints them, some beyond integer's range");
	case SNAP_TYPE_NUMERIC:
		return dbops_xstrdup(
			"decimals (or integers beyond bigint) written as PostgreSQL prints them");
	case SNAP_TYPE_DATE:
		return dbops_xstrdup("every value is a date YYYY-MM-DD");
	case SNAP_TYPE_TIMESTAMPTZ:
		return dbops_xstrdup(
			"every value is an ISO 8601 date and time (without an offset: read in the import's time zone)");
	case SNAP_TYPE_TEXT:
	default:
		break;
	}
	if (g->line == 0)
		return dbops_xstrdup("no value to go by");
	if (g->value_type == SNAP_TYPE_TEXT)
		return dbops_xasprintf(
			"line %lld has \"%s%s\", which no other type prints back unchanged",
			(long long)g->line, g->value,
			g->value_cut ? "..." : "");
	return dbops_xasprintf(
		"line %lld has \"%s%s\" (%s) after %s values",
		(long long)g->line, g->value, g->value_cut ? "..." : "",
		snap_type_sql(g->value_type), snap_type_sql(g->was));
}

/* The --types entry for header name NAME, or NULL. */
static const struct snap_override *find_override(const struct snap_type_opts *o,
						 const char *name)
{
	for (size_t i = 0; o && i < o->count; i++)
		if (strcmp(o->overrides[i].column, name) == 0)
			return &o->overrides[i];
	return NULL;
}

static int check_plan(char *const *names, size_t count,
		      const struct snap_type_opts *o, const struct snap_plan *p,
		      struct dbops_err *err)
{
	for (size_t i = 0; o && i < o->count; i++) {
		size_t c;

		for (c = 0; c < count; c++)
			if (strcmp(names[c], o->overrides[i].column) == 0)
				break;
		if (c == count)
			return dbops_err_set(
				err,
				"column \"%s\" of --types is not in the header",
				o->overrides[i].column);
	}
	for (size_t a = 0; a < count; a++)
		for (size_t b = a + 1; b < count; b++)
			if (strcmp(p->columns[a], p->columns[b]) == 0)
				return dbops_err_set(
					err,
					"columns %zu and %zu of the header both become column \"%s\"",
					a + 1, b + 1, p->columns[a]);
	return 0;
}

int snap_plan_make(char *const *names, size_t count,
		   const struct snap_guess *guesses, const char *no_guess,
		   const struct snap_type_opts *o, struct snap_plan *p,
		   struct dbops_err *err)
{
	memset(p, 0, sizeof(*p));
	p->count = count;
	p->columns = dbops_xcalloc(count + 1, sizeof(*p->columns));
	p->types = dbops_xcalloc(count + 1, sizeof(*p->types));
	p->why = dbops_xcalloc(count + 1, sizeof(*p->why));
	for (size_t c = 0; c < count; c++) {
		const struct snap_override *ov = find_override(o, names[c]);

		p->columns[c] = dbops_xmalloc(SNAP_NAME_MAX + 1);
		snap_column_name(names[c], p->columns[c]);
		p->renamed |= strcmp(p->columns[c], names[c]) != 0;
		if (ov) {
			p->types[c] = ov->type;
			p->why[c] = dbops_xstrdup("given by --types");
		} else if (o && o->all_text) {
			p->types[c] = "text";
			p->why[c] = dbops_xstrdup("--all-text");
		} else if (guesses == NULL) {
			p->types[c] = "text";
			p->why[c] = dbops_xstrdup(no_guess);
		} else {
			p->types[c] = snap_type_sql(guesses[c].type);
			p->why[c] = guess_reason(&guesses[c]);
		}
	}
	if (check_plan(names, count, o, p, err) != 0) {
		snap_plan_free(p);
		return -1;
	}
	return 0;
}

void snap_plan_free(struct snap_plan *p)
{
	for (size_t c = 0; c < p->count; c++) {
		free(p->columns[c]);
		free(p->why[c]);
	}
	free(p->columns);
	free(p->types);
	free(p->why);
	memset(p, 0, sizeof(*p));
}

/* NAME as a quoted identifier. */
static void print_ident(FILE *f, const char *name)
{
	fputc('"', f);
	for (const char *s = name; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* S in a comment line: a control byte as \n, \r, \t or \xNN, so that a
 * line end in a name or a value cannot end the comment. */
static void print_comment(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			fputs("\\n", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02X", c);
		else
			fputc(c, f);
	}
}

/* NAME as a quoted identifier in a comment line. */
static void print_comment_ident(FILE *f, const char *name)
{
	char *q = dbops_xmalloc(2 * strlen(name) + 3), *o = q;

	*o++ = '"';
	for (const char *s = name; *s; s++) {
		if (*s == '"')
			*o++ = '"';
		*o++ = *s;
	}
	*o++ = '"';
	*o = '\0';
	print_comment(f, q);
	free(q);
}

void snap_plan_print(FILE *f, const char *qtable, char *const *names,
		     const struct snap_plan *p)
{
	fprintf(f, "CREATE TABLE %s (\n", qtable);
	for (size_t c = 0; c < p->count; c++) {
		fputs("    ", f);
		print_ident(f, p->columns[c]);
		fprintf(f, " %s,\n", p->types[c]);
	}
	fputs("    snapshot_id bigint NOT NULL\n);\n", f);
	for (size_t c = 0; c < p->count; c++) {
		fputs("-- ", f);
		print_comment_ident(f, p->columns[c]);
		fprintf(f, " %s: ", p->types[c]);
		print_comment(f, p->why[c]);
		if (strcmp(p->columns[c], names[c]) != 0) {
			fputs("; header name ", f);
			print_comment_ident(f, names[c]);
			fputs(" shortened to 63 bytes", f);
		}
		fputc('\n', f);
	}
}
