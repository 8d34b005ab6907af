/*
 * fuzz_snap_import_csvhead - libFuzzer target for snap-import's reading of
 * a CSV file's head (utils/snap-import/csvhead.c): the header's names and
 * the column types inferred from the rows, for the CREATE TABLE of a first
 * import.
 *
 * The first byte picks the dialect (bit 0: ';' for ','; bit 1: the NULL
 * string \N; bit 2: the quote '\'') and the chunk size of the second
 * inference (bits 3-7); the rest is the file.
 *
 * Properties, against a small reader of COPY's CSV written here from
 * csvhead.h: the header has the reference's names; inference fed in
 * chunks gives the types of inference in one call; and each column's type
 * is exactly the one the documented grammar gives its values (csvhead.h:
 * a value is never altered, so "007", "-0", "1e3", " 1" are text and make
 * their column text).
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"

#include "../../utils/snap-import/csvhead.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One record of the reference reader: fields, NULL for a NULL field. */
struct rec {
	char *f[64];
	size_t n;
	bool too_many;
	bool complete; /* ended by a line end, or by the end outside quotes */
};

static void rec_free(struct rec *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->f[i]);
	r->n = 0;
}

static void end_field(const struct snap_dialect *d, struct rec *r, char *buf,
		      size_t len, bool quoted)
{
	bool is_null =
		!quoted &&
		(d->null[0] == '\0' ? len == 0
				    : strlen(d->null) == len &&
					      memcmp(buf, d->null, len) == 0);

	if (r->n == sizeof(r->f) / sizeof(r->f[0])) {
		r->too_many = true;
		return;
	}
	/* A NUL is data to COPY (and refused there): text for inference. */
	r->f[r->n] = is_null			      ? NULL
		     : memchr(buf, '\0', len) != NULL ? strdup("\x7f")
						      : strndup(buf, len);
	r->n++;
}

/*
 * Read the record at *AT of TEXT (LEN bytes) into R; *AT moves past it and
 * its line end. BUF has room for LEN bytes.
 */
static void read_rec(const struct snap_dialect *d, const char *text, size_t len,
		     size_t *at, struct rec *r, char *buf)
{
	size_t i = *at, n = 0;
	bool inq = false, quoted = false;

	memset(r, 0, sizeof(*r));
	for (; i < len; i++) {
		char c = text[i];

		if (inq) {
			if (c == d->quote && i + 1 < len &&
			    text[i + 1] == d->quote)
				buf[n++] = c, i++;
			else if (c == d->quote)
				inq = false;
			else
				buf[n++] = c;
		} else if (c == d->quote) {
			inq = quoted = true;
		} else if (c == d->delimiter) {
			end_field(d, r, buf, n, quoted);
			n = 0;
			quoted = false;
		} else if (c == '\r' || c == '\n') {
			break;
		} else {
			buf[n++] = c;
		}
	}
	end_field(d, r, buf, n, quoted);
	r->complete = !inq;
	if (i < len && text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
		i++;
	*at = i < len ? i + 1 : i;
}

/* Whether S is -?(0|[1-9][0-9]*): its digits in *NDIGITS. */
static bool integer_text(const char *s, size_t *ndigits)
{
	const char *p = s + (*s == '-');

	if (!isdigit((unsigned char)*p) || (*p == '0' && p[1] != '\0'))
		return false;
	for (*ndigits = 0; isdigit((unsigned char)p[*ndigits]); ++*ndigits)
		;
	return p[*ndigits] == '\0' && strcmp(s, "-0") != 0;
}

static enum snap_type integer_type(const char *s)
{
	long long v;

	errno = 0;
	v = strtoll(s, NULL, 10);
	if (errno == ERANGE)
		return SNAP_TYPE_NUMERIC;
	return v >= INT32_MIN && v <= INT32_MAX ? SNAP_TYPE_INTEGER
						: SNAP_TYPE_BIGINT;
}

static bool numeric_text(const char *s)
{
	const char *p = s + (*s == '-'), *dot = strchr(p, '.');
	bool nonzero = false;
	size_t n;

	if (dot == NULL || dot == p || dot[1] == '\0')
		return false;
	if (*p == '0' && p + 1 != dot)
		return false;
	for (n = 0; p + n < dot; n++) {
		if (!isdigit((unsigned char)p[n]))
			return false;
		nonzero |= p[n] != '0';
	}
	if (n > 131072 || strlen(dot + 1) > 16383)
		return false;
	for (p = dot + 1; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		nonzero |= *p != '0';
	}
	return *s != '-' || nonzero;
}

/* The number of the N digits at S, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = 10 * v + (s[i] - '0');
	}
	return v;
}

static bool date_text(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31 };
	int y = digits(s, 4), m, d;

	if (y < 1 || s[4] != '-' || (m = digits(s + 5, 2)) < 1 || m > 12 ||
	    s[7] != '-' || (d = digits(s + 8, 2)) < 1 || d > mdays[m - 1])
		return false;
	return m != 2 || d < 29 ||
	       (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
}

static bool offset_text(const char *p)
{
	int h, m = 0;

	if (*p == '\0')
		return true;
	if (strcmp(p, "Z") == 0)
		return true;
	if ((*p != '+' && *p != '-') || (h = digits(p + 1, 2)) < 0)
		return false;
	p += 3;
	if (*p == ':' && *++p == '\0') /* "+HH:" is none of the forms */
		return false;
	if (*p != '\0') {
		if (strlen(p) != 2 || (m = digits(p, 2)) < 0)
			return false;
		if (p[-1] != ':' && strlen(p - 2) != 4)
			return false;
	}
	return h <= 15 && m <= 59;
}

static bool timestamptz_text(const char *s)
{
	const char *p = s + 11;
	int h, mi, sec = 0;

	if (strlen(s) < 16 || !date_text(s) || (s[10] != 'T' && s[10] != ' ') ||
	    (h = digits(p, 2)) < 0 || h > 23 || p[2] != ':' ||
	    (mi = digits(p + 3, 2)) < 0 || mi > 59)
		return false;
	p += 5;
	if (*p == ':') {
		if ((sec = digits(p + 1, 2)) < 0 || sec > 59)
			return false;
		p += 3;
		if (*p == '.') {
			int n = 0;

			while (isdigit((unsigned char)p[1 + n]))
				n++;
			if (n < 1 || n > 6)
				return false;
			p += 1 + n;
		}
	}
	return offset_text(p);
}

/* The type of one value by csvhead.h's table. */
static enum snap_type value_type(const char *v)
{
	size_t n;

	if (v == NULL)
		return SNAP_TYPE_NULL;
	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
		return SNAP_TYPE_BOOLEAN;
	if (integer_text(v, &n))
		return n > 131072 ? SNAP_TYPE_TEXT : integer_type(v);
	if (numeric_text(v))
		return SNAP_TYPE_NUMERIC;
	if (strlen(v) == 10 && date_text(v))
		return SNAP_TYPE_DATE;
	if (timestamptz_text(v))
		return SNAP_TYPE_TIMESTAMPTZ;
	return SNAP_TYPE_TEXT;
}

static enum snap_type join(enum snap_type a, enum snap_type b)
{
	bool na = a >= SNAP_TYPE_INTEGER && a <= SNAP_TYPE_NUMERIC,
	     nb = b >= SNAP_TYPE_INTEGER && b <= SNAP_TYPE_NUMERIC;

	if (a == SNAP_TYPE_NULL)
		return b;
	if (b == SNAP_TYPE_NULL || a == b)
		return a;
	if (na && nb)
		return a > b ? a : b;
	return SNAP_TYPE_TEXT;
}

/* The header of TEXT is the reference's first record. */
static void check_header(const struct snap_dialect *d, const char *text,
			 size_t len, const struct snap_header *h, char *buf)
{
	struct rec r;
	size_t at = 0;

	read_rec(d, text, len, &at, &r, buf);
	if (r.too_many) {
		rec_free(&r);
		return;
	}
	if (r.n != h->count || at != h->length) {
		fprintf(stderr,
			"header: %zu names, %zu bytes; reference %zu, "
			"%zu\n",
			h->count, h->length, r.n, at);
		abort();
	}
	/* A header has names, not NULLs: the NULL string is a name there. */
	for (size_t i = 0; i < r.n; i++)
		if (strcmp(r.f[i] ? r.f[i] : d->null, h->names[i]) != 0)
			abort();
	rec_free(&r);
}

/* The types of the records of TEXT with NCOLS fields, by the reference. */
static void reference_types(const struct snap_dialect *d, const char *text,
			    size_t len, size_t ncols, enum snap_type *types,
			    char *buf)
{
	size_t at = 0;

	for (size_t c = 0; c < ncols; c++)
		types[c] = SNAP_TYPE_NULL;
	while (at < len) {
		struct rec r;

		read_rec(d, text, len, &at, &r, buf);
		if (r.complete && !r.too_many && r.n == ncols)
			for (size_t c = 0; c < ncols; c++)
				types[c] = join(types[c], value_type(r.f[c]));
		rec_free(&r);
	}
}

/* Inference fed in chunks of STEP bytes, as import.c feeds it. */
static void infer_chunked(const struct snap_dialect *d, const char *text,
			  size_t len, size_t ncols, size_t step,
			  enum snap_type *types)
{
	struct snap_infer in;
	size_t done = 0, end = 0;

	snap_infer_init(&in, ncols, 2);
	in.dialect = d;
	do {
		end = end + step < len ? end + step : len;
		done += snap_infer_feed(&in, text + done, end - done,
					end == len);
		if (done > end)
			abort();
	} while (end < len);
	for (size_t c = 0; c < ncols; c++)
		types[c] = in.cols[c].type;
	snap_infer_free(&in);
}

static void check_types(const struct snap_dialect *d, const char *text,
			size_t len, size_t ncols, size_t step, char *buf)
{
	enum snap_type whole[64], cut[64], ref[64];
	struct snap_infer in;

	snap_infer_init(&in, ncols, 2);
	in.dialect = d;
	snap_infer_feed(&in, text, len, true);
	for (size_t c = 0; c < ncols; c++)
		whole[c] = in.cols[c].type;
	snap_infer_free(&in);
	infer_chunked(d, text, len, ncols, step, cut);
	reference_types(d, text, len, ncols, ref, buf);
	for (size_t c = 0; c < ncols; c++) {
		if (whole[c] != cut[c] || whole[c] != ref[c]) {
			fprintf(stderr,
				"column %zu: %s whole, %s in chunks "
				"of %zu, %s by the grammar\n",
				c + 1, snap_type_sql(whole[c]),
				snap_type_sql(cut[c]), step,
				snap_type_sql(ref[c]));
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_dialect d = SNAP_DIALECT_DEFAULT;
	struct snap_header h, part;
	const char *text = (const char *)data + 1;
	size_t len, step;
	char *buf;

	if (size == 0)
		return 0;
	len = size - 1;
	d.delimiter = data[0] & 1 ? ';' : ',';
	d.null = data[0] & 2 ? "\\N" : "";
	d.quote = data[0] & 4 ? '\'' : '"';
	step = 1 + (data[0] >> 3);
	if (snap_header_parse_dialect(&d, text, len, true, &h, NULL) != 0)
		return 0;
	if (snap_header_parse_dialect(&d, text, len / 2, false, &part, NULL) ==
	    0) {
		if (part.length != h.length || part.count != h.count)
			abort(); /* a header complete in a part is the same */
		snap_header_free(&part);
	}
	buf = malloc(len + 1);
	if (buf == NULL)
		abort();
	check_header(&d, text, len, &h, buf);
	if (h.count <= 64)
		check_types(&d, text + h.length, len - h.length, h.count, step,
			    buf);
	free(buf);
	snap_header_free(&h);
	return 0;
}
