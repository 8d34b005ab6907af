/*
 * csvhead.c - the header and the column types of a CSV snapshot, read the
 * way COPY's CSV mode reads it. See csvhead.h for the rules.
 *
 * Reading follows PostgreSQL's two steps (copyfromparse.c): first a record
 * is cut from the buffer at a line end outside quotes, the quote acting as
 * a plain toggle (CopyReadLineText ignores the escape when it is the quote
 * itself); then the record is split into fields, where inside quotes ""
 * is a literal quote (CopyReadAttributesCSV). Both steps agree on where
 * quotes open and close, so counting commas outside quotes in the first
 * gives the number of fields of the second.
 *
 * Classifying a value never copies it unless it is quoted in pieces
 * (a"b"c): a value wholly in quotes is read between them. Each value is
 * scanned once, left to right, by a checker chosen from its first byte;
 * a column already found to be text is not looked at again.
 */
#include "csvhead.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timestamp.h"
#include "xalloc.h"

const struct snap_dialect snap_csv_default = SNAP_DIALECT_DEFAULT;

/*
 * numeric's input limits, the strictest across the PostgreSQL releases we
 * meet: all reject more than NUMERIC_WEIGHT_MAX + 1 base-10000 digits before the
 * point and a display scale above NUMERIC_DSCALE_MAX.
 */
#define NUMERIC_MAX_INT_DIGITS 131072
#define NUMERIC_MAX_SCALE      16383

/* Where one record lies in a buffer. */
struct record {
	size_t end;  /* its line end, or the end of the buffer */
	size_t next; /* the first byte after its line end */
	size_t nfields;
	size_t lines;	/* line ends inside quotes */
	bool complete;	/* a line end was found */
	bool in_quote;	/* not complete, and the buffer ends in quotes */
	bool cr_at_end; /* complete by a CR that is the last byte */
};

/* One field of a record: its raw bytes, quotes and all. */
struct field {
	const char *raw;
	size_t len;
	bool quoted; /* a quote opened somewhere in it */
};

/* A buffer for values quoted in pieces, grown as needed. */
struct scratch {
	char *data;
	size_t cap;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The index of the first byte from i on that is not a digit. */
static size_t skip_digits(const char *s, size_t n, size_t i)
{
	while (i < n && is_digit(s[i]))
		i++;
	return i;
}

/* ---- records and fields ------------------------------------------------- */

/* Line ends in buf[from..to): LF, CR, and CR LF as one. */
static size_t count_line_ends(const char *buf, size_t from, size_t to)
{
	size_t n = 0;

	for (size_t i = from; i < to; i++)
		if (buf[i] == '\n' ||
		    (buf[i] == '\r' && (i + 1 >= to || buf[i + 1] != '\n')))
			n++;
	return n;
}

/*
 * Finds the record starting at buf[pos]: up to the first CR or LF outside
 * quotes, CR LF being one line end.
 */
static void find_record(const struct snap_dialect *d, const char *buf,
			size_t len, size_t pos, struct record *r)
{
	bool in_quote = false;
	size_t i = pos;

	r->nfields = 1;
	r->lines = 0;
	r->complete = false;
	r->cr_at_end = false;
	while (i < len) {
		const char *q;

		if (in_quote) {
			/* Only a quote matters inside quotes: jump to it. */
			q = memchr(buf + i, d->quote, len - i);
			if (q == NULL) {
				i = len;
				break;
			}
			r->lines += count_line_ends(buf, i, (size_t)(q - buf));
			i = (size_t)(q - buf) + 1;
			in_quote = false;
			continue;
		}
		if (buf[i] == d->quote) {
			in_quote = true;
			i++;
			continue;
		}
		if (buf[i] == d->delimiter) {
			r->nfields++;
			i++;
			continue;
		}
		switch (buf[i]) {
		case '\n':
			r->end = i;
			r->next = i + 1;
			r->complete = true;
			r->in_quote = false;
			return;
		case '\r':
			r->end = i;
			r->next = i + 1;
			if (i + 1 < len && buf[i + 1] == '\n')
				r->next = i + 2;
			r->complete = true;
			r->cr_at_end = i + 1 == len;
			r->in_quote = false;
			return;
		default:
			break;
		}
		i++;
	}
	r->end = len;
	r->next = len;
	r->in_quote = in_quote;
}

/*
 * Reads the field at buf[*pos], in a record that ends at buf[end] outside
 * quotes, and moves *pos past it and its comma. Returns whether a comma
 * followed, that is whether another field does.
 */
static bool next_field(const struct snap_dialect *d, const char *buf,
		       size_t end, size_t *pos, struct field *f)
{
	bool in_quote = false;
	size_t i;

	f->raw = buf + *pos;
	f->quoted = false;
	for (i = *pos; i < end; i++) {
		if (buf[i] == d->quote) {
			in_quote = !in_quote;
			f->quoted = true;
		} else if (buf[i] == d->delimiter && !in_quote) {
			break;
		}
	}
	f->len = (size_t)(buf + i - f->raw);
	*pos = i < end ? i + 1 : end;
	return i < end;
}

/*
 * Writes the value of f to out (room for f->len bytes): the quotes
 * removed, "" inside quotes as one quote. Returns its length.
 */
static size_t unquote(const struct field *f, char quote, char *out)
{
	bool in_quote = false;
	size_t n = 0;

	for (size_t i = 0; i < f->len; i++) {
		char c = f->raw[i];

		if (c != quote) {
			out[n++] = c;
		} else if (in_quote && i + 1 < f->len &&
			   f->raw[i + 1] == quote) {
			out[n++] = quote;
			i++;
		} else {
			in_quote = !in_quote;
		}
	}
	return n;
}

/* ---- the type of one value ---------------------------------------------- */

/* Only what a boolean prints back as text: true and false, lower case. */
static bool is_boolean(const char *s, size_t n)
{
	return (n == 4 && memcmp(s, "true", 4) == 0) ||
	       (n == 5 && memcmp(s, "false", 5) == 0);
}

/*
 * Whether s[i..i+width) are digits making a number of at most max; the
 * number goes to *out.
 */
static bool digits_at(const char *s, size_t n, size_t i, size_t width, int max,
		      int *out)
{
	int v = 0;

	if (i > n || n - i < width)
		return false;
	for (size_t k = i; k < i + width; k++) {
		if (!is_digit(s[k]))
			return false;
		v = v * 10 + (s[k] - '0');
	}
	if (v > max)
		return false;
	if (out != NULL)
		*out = v;
	return true;
}

/* A date YYYY-MM-DD, or a date and time with an optional zone. */
static enum snap_type datetime_type(const char *s, size_t n)
{
	int year, month, day;
	size_t i;

	if (n < 10 || !digits_at(s, n, 0, 4, 9999, &year) || s[4] != '-' ||
	    !digits_at(s, n, 5, 2, 12, &month) || s[7] != '-' ||
	    !digits_at(s, n, 8, 2, 31, &day))
		return SNAP_TYPE_TEXT;
	if (year < 1 || month < 1 || day < 1 ||
	    day > dbops_timestamp_days_in_month(year, month))
		return SNAP_TYPE_TEXT;
	if (n == 10)
		return SNAP_TYPE_DATE;
	if (s[10] != 'T' && s[10] != ' ')
		return SNAP_TYPE_TEXT;

	/* HH:MM[:SS[.F]] */
	if (!digits_at(s, n, 11, 2, 23, NULL) || n < 14 || s[13] != ':' ||
	    !digits_at(s, n, 14, 2, 59, NULL))
		return SNAP_TYPE_TEXT;
	i = 16;
	if (i < n && s[i] == ':') {
		if (!digits_at(s, n, i + 1, 2, 59, NULL))
			return SNAP_TYPE_TEXT;
		i += 3;
		if (i < n && s[i] == '.') {
			size_t j = skip_digits(s, n, i + 1);

			if (j == i + 1 || j - (i + 1) > 6)
				return SNAP_TYPE_TEXT;
			i = j;
		}
	}

	/* Z, +HH, +HH:MM, +HHMM */
	if (i == n)
		return SNAP_TYPE_TIMESTAMPTZ;
	if (s[i] == 'Z')
		return i + 1 == n ? SNAP_TYPE_TIMESTAMPTZ : SNAP_TYPE_TEXT;
	if (s[i] != '+' && s[i] != '-')
		return SNAP_TYPE_TEXT;
	if (!digits_at(s, n, i + 1, 2, DBOPS_TIMESTAMP_MAX_OFFSET_HOURS, NULL))
		return SNAP_TYPE_TEXT;
	i += 3;
	if (i == n)
		return SNAP_TYPE_TIMESTAMPTZ;
	if (s[i] == ':')
		i++;
	if (!digits_at(s, n, i, 2, 59, NULL) || i + 2 != n)
		return SNAP_TYPE_TEXT;
	return SNAP_TYPE_TIMESTAMPTZ;
}

/*
 * An integer, bigint or numeric in the form PostgreSQL prints it, or text:
 * -?(0|[1-9][0-9]*)(.[0-9]+)?, not a negative zero, no exponent, within
 * numeric's limits. Anything else would come back changed: 007 as 7, +1 as
 * 1, 1e3 as 1000, .5 as 0.5, -0 as 0.
 */
static enum snap_type number_type(const char *s, size_t n)
{
	size_t i = 0, int_start, int_digits, frac_digits = 0;
	uint64_t mag = 0;
	bool neg = false, wide = false, nonzero = false;

	if (s[0] == '-') {
		neg = true;
		i++;
	}
	int_start = i;
	for (; i < n && is_digit(s[i]); i++) {
		unsigned d = (unsigned)(s[i] - '0');

		nonzero |= d != 0;
		if (mag > (UINT64_MAX - d) / 10)
			wide = true;
		else
			mag = mag * 10 + d;
	}
	int_digits = i - int_start;
	if (int_digits == 0 || (int_digits > 1 && s[int_start] == '0'))
		return SNAP_TYPE_TEXT;
	if (i < n && s[i] == '.') {
		size_t j = skip_digits(s, n, i + 1);

		frac_digits = j - (i + 1);
		if (frac_digits == 0)
			return SNAP_TYPE_TEXT;
		for (size_t k = i + 1; k < j; k++)
			nonzero |= s[k] != '0';
		i = j;
	}
	if (i != n || (neg && !nonzero))
		return SNAP_TYPE_TEXT;
	if (int_digits > NUMERIC_MAX_INT_DIGITS ||
	    frac_digits > NUMERIC_MAX_SCALE)
		return SNAP_TYPE_TEXT;
	if (frac_digits > 0 || wide)
		return SNAP_TYPE_NUMERIC;
	if (mag <= (neg ? (uint64_t)INT32_MAX + 1 : INT32_MAX))
		return SNAP_TYPE_INTEGER;
	if (mag <= (neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX))
		return SNAP_TYPE_BIGINT;
	return SNAP_TYPE_NUMERIC;
}

enum snap_type snap_value_type(const char *s, size_t n)
{
	if (n == 0)
		return SNAP_TYPE_TEXT;
	if (is_digit(s[0])) {
		if (n >= 10 && s[4] == '-')
			return datetime_type(s, n);
		return number_type(s, n);
	}
	if (s[0] == '-')
		return number_type(s, n);
	return is_boolean(s, n) ? SNAP_TYPE_BOOLEAN : SNAP_TYPE_TEXT;
}

/*
 * The type of a field's value; NULL for an unquoted empty field. The value
 * itself, quotes removed, goes to *v and *vn.
 */
static enum snap_type field_type(const struct snap_dialect *d,
				 const struct field *f, struct scratch *sc,
				 const char **v, size_t *vn)
{
	char q = d->quote;

	*v = f->raw;
	*vn = f->len;
	/* Only an unquoted field is NULL: the NULL string, or empty. */
	if (!f->quoted)
		return f->len == strlen(d->null) &&
				       memcmp(f->raw, d->null, f->len) == 0
			       ? SNAP_TYPE_NULL
			       : snap_value_type(f->raw, f->len);
	/* Wholly in quotes, with no quote inside: read it in place. */
	if (f->len >= 2 && f->raw[0] == q && f->raw[f->len - 1] == q &&
	    memchr(f->raw + 1, q, f->len - 2) == NULL) {
		*v = f->raw + 1;
		*vn = f->len - 2;
		return snap_value_type(*v, *vn);
	}
	if (f->len > sc->cap) {
		sc->data = dbops_xreallocarray(sc->data, f->len, 1);
		sc->cap = f->len;
	}
	*vn = unquote(f, q, sc->data);
	*v = sc->data;
	return snap_value_type(*v, *vn);
}

/* The type of a column holding values of types a and b. */
static enum snap_type merge(enum snap_type a, enum snap_type b)
{
	if (a == b || b == SNAP_TYPE_NULL)
		return a;
	if (a == SNAP_TYPE_NULL)
		return b;
	if (a >= SNAP_TYPE_INTEGER && a <= SNAP_TYPE_NUMERIC &&
	    b >= SNAP_TYPE_INTEGER && b <= SNAP_TYPE_NUMERIC)
		return a > b ? a : b;
	return SNAP_TYPE_TEXT;
}

/* ---- the header --------------------------------------------------------- */

struct named {
	const char *name;
	size_t index;
};

static int cmp_named(const void *pa, const void *pb)
{
	const struct named *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);

	if (c != 0)
		return c;
	return a->index < b->index ? -1 : a->index > b->index;
}

/*
 * Finds a name given twice: of all repeats, the one repeated first in
 * column order, so the message is the same whatever the sort does. Sorting
 * keeps a header of many columns from costing their square. Returns 0 and
 * sets *dup (SIZE_MAX: none).
 */
static void find_duplicate(char *const *names, size_t count, size_t *dup)
{
	struct named *v = dbops_xcalloc(count, sizeof(*v));
	size_t best = SIZE_MAX;

	for (size_t i = 0; i < count; i++) {
		v[i].name = names[i];
		v[i].index = i;
	}
	qsort(v, count, sizeof(*v), cmp_named);
	for (size_t i = 1; i < count; i++)
		if (strcmp(v[i - 1].name, v[i].name) == 0 &&
		    (best == SIZE_MAX || v[i].index < best))
			best = v[i].index;
	free(v);
	*dup = best;
}

int snap_header_parse(const char *buf, size_t len, bool at_eof,
		      struct snap_header *h, struct dbops_err *err)
{
	return snap_header_parse_dialect(&snap_csv_default, buf, len, at_eof, h,
					 err);
}

int snap_header_parse_dialect(const struct snap_dialect *d, const char *buf,
			      size_t len, bool at_eof, struct snap_header *h,
			      struct dbops_err *err)
{
	struct record r;
	size_t pos = 0, dup;

	memset(h, 0, sizeof(*h));
	if (len == 0)
		return at_eof ? dbops_err_set(err, "the file is empty") : 1;
	find_record(d, buf, len, 0, &r);
	if ((!r.complete || r.cr_at_end) && !at_eof)
		return 1;
	if (r.in_quote)
		return dbops_err_set(err,
				     "unterminated quoted field in the header");

	h->names = dbops_xcalloc(r.nfields, sizeof(*h->names));
	h->count = r.nfields;
	for (size_t c = 0; c < r.nfields; c++) {
		struct field f;
		size_t n;

		next_field(d, buf, r.end, &pos, &f);
		h->names[c] = dbops_xmalloc(f.len + 1);
		n = unquote(&f, d->quote, h->names[c]);
		h->names[c][n] = '\0';
		if (n == 0) {
			snap_header_free(h);
			return dbops_err_set(
				err, "column %zu of the header has no name",
				c + 1);
		}
		if (memchr(h->names[c], '\0', n) != NULL) {
			snap_header_free(h);
			return dbops_err_set(
				err,
				"column %zu of the header contains a NUL byte",
				c + 1);
		}
	}
	find_duplicate(h->names, h->count, &dup);
	if (dup != SIZE_MAX) {
		dbops_err_set(err, "column \"%s\" appears twice in the header",
			      h->names[dup]);
		snap_header_free(h);
		return -1;
	}
	h->length = r.next;
	return 0;
}

void snap_header_free(struct snap_header *h)
{
	if (h->names != NULL)
		for (size_t i = 0; i < h->count; i++)
			free(h->names[i]);
	free(h->names);
	memset(h, 0, sizeof(*h));
}

/* ---- the types of the columns ------------------------------------------- */

void snap_infer_init(struct snap_infer *in, size_t ncols, int64_t first_line)
{
	memset(in, 0, sizeof(*in));
	in->ncols = ncols;
	in->line = first_line;
	in->dialect = &snap_csv_default;
	in->cols = dbops_xcalloc(ncols ? ncols : 1, sizeof(*in->cols));
	for (size_t c = 0; c < ncols; c++)
		in->cols[c].type = SNAP_TYPE_NULL;
}

void snap_infer_free(struct snap_infer *in)
{
	free(in->scratch);
	free(in->cols);
	memset(in, 0, sizeof(*in));
}

/* Fold one value into its column; note the one that makes it text. */
static void infer_value(struct snap_infer *in, size_t c, enum snap_type vt,
			const char *v, size_t vn)
{
	struct snap_guess *g = &in->cols[c];
	enum snap_type t = merge(g->type, vt);

	if (t == SNAP_TYPE_TEXT) {
		g->line = in->line;
		g->was = g->type;
		g->value_type = vt;
		snprintf(g->value, sizeof(g->value), "%.*s",
			 (int)(vn < sizeof(g->value) - 1
				       ? vn
				       : sizeof(g->value) - 1),
			 v);
		g->value_cut = vn >= sizeof(g->value);
	}
	g->type = t;
}

size_t snap_infer_feed(struct snap_infer *in, const char *buf, size_t len,
		       bool at_eof)
{
	struct scratch sc = { in->scratch, in->scratch_cap };
	size_t pos = 0;

	while (pos < len) {
		struct record r;
		size_t fpos = pos;

		find_record(in->dialect, buf, len, pos, &r);
		if (!r.complete && (!at_eof || r.in_quote))
			break;
		/* A CR at the end may be the first half of a CR LF. */
		if (r.cr_at_end && !at_eof)
			break;
		if (r.nfields == in->ncols) {
			for (size_t c = 0; c < in->ncols; c++) {
				struct field f;
				const char *v;
				size_t vn;
				enum snap_type vt;

				next_field(in->dialect, buf, r.end, &fpos, &f);
				if (in->cols[c].type == SNAP_TYPE_TEXT)
					continue;
				vt = field_type(in->dialect, &f, &sc, &v, &vn);
				infer_value(in, c, vt, v, vn);
			}
			in->records++;
		}
		in->line += (int64_t)r.lines + (r.complete ? 1 : 0);
		pos = r.next;
	}
	in->scratch = sc.data;
	in->scratch_cap = sc.cap;
	return pos;
}

size_t snap_infer_types(const char *buf, size_t len, bool at_eof, size_t ncols,
			size_t max_records, enum snap_type *types)
{
	struct snap_infer in;
	size_t pos = 0, used;

	snap_infer_init(&in, ncols, 2);
	/* One record at a time while a limit applies. */
	while (pos < len && in.records < max_records) {
		struct record r;
		size_t got;

		if (max_records == SIZE_MAX) {
			snap_infer_feed(&in, buf + pos, len - pos, at_eof);
			break;
		}
		find_record(in.dialect, buf, len, pos, &r);
		got = snap_infer_feed(&in, buf + pos, r.next - pos,
				      at_eof || r.next < len);
		if (got == 0)
			break;
		pos += got;
	}
	for (size_t c = 0; c < ncols; c++)
		types[c] = in.cols[c].type;
	used = in.records;
	snap_infer_free(&in);
	return used;
}

const char *snap_type_sql(enum snap_type t)
{
	switch (t) {
	case SNAP_TYPE_BOOLEAN:
		return "boolean";
	case SNAP_TYPE_INTEGER:
		return "integer";
	case SNAP_TYPE_BIGINT:
		return "bigint";
	case SNAP_TYPE_NUMERIC:
		return "numeric";
	case SNAP_TYPE_DATE:
		return "date";
	case SNAP_TYPE_TIMESTAMPTZ:
		return "timestamptz";
	case SNAP_TYPE_NULL:
	case SNAP_TYPE_TEXT:
	default:
		return "text";
	}
}

/* ---- the bytes sent to COPY ---------------------------------------------- */

void snap_scan_init(struct snap_scan *s)
{
	memset(s, 0, sizeof(*s));
	s->line = 1;
	s->record_start = true;
	s->markers = true;
	s->quote = '"';
}

void snap_scan_free(struct snap_scan *s)
{
	free(s->skipped);
	memset(s, 0, sizeof(*s));
}

static void note_skipped(struct snap_scan *s)
{
	if (s->nskipped == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->skipped = dbops_xreallocarray(s->skipped, s->cap,
						 sizeof(*s->skipped));
	}
	s->skipped[s->nskipped++] = s->line;
}

/*
 * A byte at the start of a record, outside quotes. Returns true when it was
 * taken care of (dropped or held back), false when it is to be copied and
 * looked at as any other byte.
 */
static bool record_start_byte(struct snap_scan *s, char c, char *out, size_t *o)
{
	if (s->held == 2 && (c == '\r' || c == '\n')) {
		s->marker_line = s->line;
		return true;
	}
	if (s->held == 1 && c == '.') {
		s->held = 2;
		return true;
	}
	if (s->held > 0) {
		/* Not an end marker: the held bytes are data. */
		out[(*o)++] = '\\';
		if (s->held == 2)
			out[(*o)++] = '.';
		s->held = 0;
		s->record_start = false;
		return false;
	}
	if (c == '\\' && s->markers) {
		s->held = 1;
		return true;
	}
	if (c == '\r' || c == '\n') {
		/* An empty line: not a record, not sent. */
		note_skipped(s);
		s->line++;
		s->cr_state = c == '\r' ? 2 : 0;
		return true;
	}
	s->record_start = false;
	return false;
}

size_t snap_scan_chunk(struct snap_scan *s, const char *in, size_t len,
		       bool at_eof, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len && s->marker_line == 0; i++) {
		char c = in[i];

		/* The LF of a CR LF belongs with its CR. */
		if (s->cr_state != 0 && c == '\n') {
			if (s->cr_state == 1)
				out[o++] = c;
			s->cr_state = 0;
			continue;
		}
		s->cr_state = 0;
		if (s->record_start && !s->in_quote &&
		    record_start_byte(s, c, out, &o))
			continue;
		out[o++] = c;
		if (c == s->quote) {
			s->in_quote = !s->in_quote;
		} else if (c == '\r' || c == '\n') {
			s->line++;
			s->cr_state = c == '\r' ? 1 : 0;
			if (!s->in_quote)
				s->record_start = true;
		}
	}
	if (at_eof && s->marker_line == 0 && s->held > 0) {
		/* "\" or "\." ending the file without a line end is data. */
		out[o++] = '\\';
		if (s->held == 2)
			out[o++] = '.';
		s->held = 0;
	}
	return o;
}

int64_t snap_scan_file_line(const struct snap_scan *s, int64_t sent_line)
{
	int64_t line = sent_line;

	for (size_t k = 0; k < s->nskipped && s->skipped[k] <= line; k++)
		line++;
	return line;
}
