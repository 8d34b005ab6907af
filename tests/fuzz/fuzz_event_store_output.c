/*
 * fuzz_event_store_output - libFuzzer target for the record writer behind
 * every tool's --format (common/output.c), with its cells from the input:
 * rows come from servers and files, names from headers.
 *
 * (Under event-store's prefix for its json-c, which checks the JSON; the
 * writer is common/, linked from libdbops.a as in every tool.)
 *
 * The first byte picks the format (bits 0-1: table, csv, tsv, json) and
 * the number of columns (bits 2-3, 1 to 4); each column's kind is the
 * next byte's (text, number, binary). Then cells, each one byte N and N
 * bytes (N of 0xff: NULL); the first cells name the columns.
 *
 * Properties: JSON output parses with json-c and gives every cell back
 * (NULL as null, text as the string when it is UTF-8, a number bare only
 * when JSON's grammar takes it, binary as 0x and hex); CSV output read by
 * a strict reader of output.h's rules gives back every cell, NULL and ""
 * told apart; TSV output unescaped does too; the table is written.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "output.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXCELLS 64

struct table {
	enum dbops_output_format fmt;
	size_t ncols, nrows;
	enum dbops_column_kind kind[4];
	char names[4][64];
	struct dbops_value cells[MAXCELLS]; /* row-major */
};

/* Whether the N bytes at S are a number by RFC 8259. */
static bool json_number(const char *s, size_t n)
{
	size_t i = 0, d;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0') {
		i++;
	} else {
		for (d = i; i < n && isdigit((unsigned char)s[i]); i++)
			;
		if (i == d)
			return false;
	}
	if (i < n && s[i] == '.') {
		for (d = ++i; i < n && isdigit((unsigned char)s[i]); i++)
			;
		if (i == d)
			return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < n && isdigit((unsigned char)s[i]); i++)
			;
		if (i == d)
			return false;
	}
	return i == n;
}

static void hex(const struct dbops_value *v, char *out)
{
	out += sprintf(out, "0x");
	for (size_t i = 0; i < v->len; i++)
		out += sprintf(out, "%02x", (unsigned char)v->data[i]);
}

static void check_json_cell(const struct table *t, size_t c,
			    const struct dbops_value *v, struct json_object *j)
{
	char buf[2 * 256 + 3];

	if (v->data == NULL) {
		if (j != NULL)
			abort();
		return;
	}
	if (j == NULL)
		abort();
	if (t->kind[c] == DBOPS_COLUMN_BINARY) {
		hex(v, buf);
		if (strcmp(json_object_get_string(j), buf) != 0)
			abort();
	} else if (json_object_is_type(j, json_type_string)) {
		if (t->kind[c] == DBOPS_COLUMN_NUMBER &&
		    json_number(v->data, v->len))
			abort(); /* a number that could go bare */
		if (dbops_utf8_valid(v->data, v->len) &&
		    ((size_t)json_object_get_string_len(j) != v->len ||
		     memcmp(json_object_get_string(j), v->data, v->len) != 0))
			abort();
	} else if (t->kind[c] != DBOPS_COLUMN_NUMBER ||
		   !json_number(v->data, v->len)) {
		abort(); /* bare, and no number */
	}
}

static void check_json(const struct table *t, const char *out, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *a;
	bool dup = false;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	a = json_tokener_parse_ex(tok, out, (int)len);
	if (a == NULL || !json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) != t->nrows) {
		fprintf(stderr, "not a JSON array of %zu rows:\n%.*s\n",
			t->nrows, (int)len, out);
		abort();
	}
	for (size_t c = 0; c < t->ncols; c++) {
		dup |= !dbops_utf8_valid(t->names[c], strlen(t->names[c]));
		for (size_t d = 0; d < c; d++)
			dup |= strcmp(t->names[c], t->names[d]) == 0;
	}
	for (size_t r = 0; r < t->nrows && !dup; r++) {
		struct json_object *o = json_object_array_get_idx(a, r), *j;

		for (size_t c = 0; c < t->ncols; c++) {
			if (!json_object_object_get_ex(o, t->names[c], &j))
				abort();
			check_json_cell(t, c, &t->cells[r * t->ncols + c], j);
		}
	}
	json_object_put(a);
	json_tokener_free(tok);
}

/*
 * One field of a CSV line at *P (before END): into OUT (*N bytes), NULL
 * told by *IS_NULL. Returns the byte after it (',' or '\n'), or -1.
 */
static int csv_field(const char **p, const char *end, char *out, size_t *n,
		     bool *is_null)
{
	const char *s = *p;

	*n = 0;
	*is_null = false;
	if (s < end && *s == '"') {
		for (s++;; s++) {
			if (s >= end)
				return -1;
			if (*s == '"' && s + 1 < end && s[1] == '"')
				out[(*n)++] = *s++;
			else if (*s == '"')
				break;
			else
				out[(*n)++] = *s;
		}
		s++;
	} else {
		while (s < end && *s != ',' && *s != '\n') {
			if (*s == '"' || *s == '\r')
				return -1; /* output.h: those are quoted */
			out[(*n)++] = *s++;
		}
		*is_null = *n == 0;
	}
	*p = s + 1;
	return s < end ? (unsigned char)*s : -1;
}

/* TSV field: unescaped into OUT; \N is NULL. */
static int tsv_field(const char **p, const char *end, char *out, size_t *n,
		     bool *is_null)
{
	const char *s = *p;

	*n = 0;
	*is_null = end - s >= 2 && s[0] == '\\' && s[1] == 'N' &&
		   (end - s == 2 || s[2] == '\t' || s[2] == '\n');
	if (*is_null)
		s += 2;
	while (!*is_null && s < end && *s != '\t' && *s != '\n') {
		if (*s == '\\') {
			const char *m = s + 1 < end ? strchr("\\tnr", s[1]) : 0;

			if (m == NULL || *m == '\0')
				return -1;
			out[(*n)++] = "\\\t\n\r"[m - "\\tnr"];
			s += 2;
		} else {
			out[(*n)++] = *s++;
		}
	}
	*p = s + 1;
	return s < end ? (unsigned char)*s : -1;
}

static bool same(const struct dbops_value *v, const char *got, size_t n,
		 bool is_null, bool nulls)
{
	if (v->data == NULL)
		return nulls ? is_null : n == 0;
	return !is_null && n == v->len && memcmp(got, v->data, n) == 0;
}

/* CSV or TSV output read back: the names, then every cell. */
static void check_lines(const struct table *t, const char *out, size_t len)
{
	bool tsv = t->fmt == DBOPS_FORMAT_TSV;
	const char *p = out, *end = out + len;
	char *buf = malloc(len + 1);
	char sep = tsv ? '\t' : ',';

	if (buf == NULL)
		abort();
	for (size_t r = 0; r <= t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			struct dbops_value name = { t->names[c],
						    strlen(t->names[c]) };
			const struct dbops_value *v =
				r == 0 ? &name
				       : &t->cells[(r - 1) * t->ncols + c];
			size_t n;
			bool is_null;
			int after = tsv ? tsv_field(&p, end, buf, &n, &is_null)
					: csv_field(&p, end, buf, &n, &is_null);

			if (after != (c + 1 < t->ncols ? sep : '\n') ||
			    !same(v, buf, n, is_null, r > 0)) {
				fprintf(stderr, "row %zu column %zu differs\n",
					r, c + 1);
				abort();
			}
		}
	}
	if (p != end)
		abort(); /* more than the rows */
	free(buf);
}

/* The table of the input; false when the input is too short. */
static bool read_table(const uint8_t *data, size_t size, struct table *t)
{
	static const enum dbops_output_format fmts[] = { DBOPS_FORMAT_TABLE,
							 DBOPS_FORMAT_CSV,
							 DBOPS_FORMAT_TSV,
							 DBOPS_FORMAT_JSON };
	size_t i = 2, ncells = 0;

	if (size < 2)
		return false;
	t->fmt = fmts[data[0] & 3];
	t->ncols = 1 + ((data[0] >> 2) & 3);
	for (size_t c = 0; c < t->ncols; c++)
		t->kind[c] = (enum dbops_column_kind)((data[1] >> (2 * c)) % 3);
	for (size_t c = 0; c < t->ncols; c++) {
		size_t n = i < size ? data[i++] % 16 : 0;

		n = n < size - i ? n : size - i;
		memcpy(t->names[c], data + i, n);
		t->names[c][n] = '\0';
		i += n;
	}
	while (i < size && ncells < MAXCELLS) {
		size_t n = data[i++];

		if (n == 0xff) {
			t->cells[ncells++] = (struct dbops_value){ NULL, 0 };
			continue;
		}
		n = n < size - i ? n : size - i;
		t->cells[ncells++] =
			(struct dbops_value){ (const char *)data + i, n };
		i += n;
	}
	t->nrows = ncells / t->ncols;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct table t;
	struct dbops_output *w;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	memset(&t, 0, sizeof(t));
	if (!read_table(data, size, &t))
		return 0;
	f = open_memstream(&out, &len);
	if (f == NULL || (w = dbops_output_new(f, t.fmt)) == NULL)
		abort();
	for (size_t c = 0; c < t.ncols; c++)
		if (dbops_output_add_column(w, t.names[c], t.kind[c]) != 0)
			abort();
	for (size_t r = 0; r < t.nrows; r++)
		if (dbops_output_row(w, &t.cells[r * t.ncols]) != 0)
			abort();
	if (dbops_output_finish(w) != 0)
		abort();
	dbops_output_free(w);
	if (fclose(f) != 0)
		abort();
	if (t.fmt == DBOPS_FORMAT_JSON)
		check_json(&t, out, len);
	else if (t.fmt != DBOPS_FORMAT_TABLE)
		check_lines(&t, out, len);
	free(out);
	return 0;
}
