/*
 * binary.c - CSV records as COPY's binary format (binary.h).
 *
 * Records are cut and split as COPY's CSV mode does (csvhead.c says how):
 * the quote toggles anywhere in a field, "" inside quotes is one quote, a
 * field is NULL only when no quote opened in it and its bytes are the
 * NULL string. Each value is checked with the inference's own grammar
 * (snap_value_type) and encoded as the type's receive function reads it:
 *
 *	boolean		one byte, 1 or 0
 *	integer		int32, big-endian; bigint int64
 *	numeric		ndigits, weight, sign, dscale (int16 each), then
 *			ndigits base-10000 digits: numeric_in's result for
 *			the same text (dscale the digits after the point,
 *			trailing zeros too)
 *	date		int32 days since 2000-01-01
 *	timestamptz	int64 microseconds since 2000-01-01 00:00 UTC
 *	text		the bytes (the server checks their encoding)
 */
#include "binary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timestamp.h"
#include "xalloc.h"

/* Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch. */
#define PG_EPOCH_DAYS 10957
#define USEC_PER_DAY  86400000000LL

bool snap_bin_type(const char *sql, enum snap_type *t)
{
	static const struct {
		const char *name;
		enum snap_type type;
	} known[] = {
		{ "boolean", SNAP_TYPE_BOOLEAN },
		{ "integer", SNAP_TYPE_INTEGER },
		{ "bigint", SNAP_TYPE_BIGINT },
		{ "numeric", SNAP_TYPE_NUMERIC },
		{ "date", SNAP_TYPE_DATE },
		{ "timestamptz", SNAP_TYPE_TIMESTAMPTZ },
		{ "text", SNAP_TYPE_TEXT },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(sql, known[i].name) == 0) {
			*t = known[i].type;
			return true;
		}
	return false;
}

void snap_bin_init(struct snap_bin *b, const struct snap_dialect *d,
		   size_t ncols, const enum snap_type *types, bool zone_utc)
{
	memset(b, 0, sizeof(*b));
	b->dialect = d;
	b->ncols = ncols;
	b->types = dbops_xreallocarray(NULL, ncols ? ncols : 1, sizeof(*types));
	memcpy(b->types, types, ncols * sizeof(*types));
	b->zone_utc = zone_utc;
	b->header = d->header;
	b->special[(unsigned char)d->delimiter] = 1;
	b->special[(unsigned char)d->quote] = 1;
	b->special['\n'] = 1;
	b->special['\r'] = 1;
}

void snap_bin_free(struct snap_bin *b)
{
	free(b->types);
	free(b->carry);
	free(b->val);
	free(b->digits);
	free(b->out);
	free(b->bumps);
	memset(b, 0, sizeof(*b));
}

/* ---- output ------------------------------------------------------------- */

static unsigned char *room(struct snap_bin *b, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->out = dbops_xreallocarray(b->out, b->cap, 1);
	}
	b->len += n;
	return b->out + b->len - n;
}

static void put16(struct snap_bin *b, uint16_t v)
{
	unsigned char *p = room(b, 2);

	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void put32(struct snap_bin *b, uint32_t v)
{
	unsigned char *p = room(b, 4);

	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (24 - 8 * i));
}

static void put64(struct snap_bin *b, uint64_t v)
{
	unsigned char *p = room(b, 8);

	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (56 - 8 * i));
}

/* ---- values ------------------------------------------------------------- */

static int64_t parse_int(const char *s, size_t n)
{
	bool neg = s[0] == '-';
	uint64_t mag = 0;

	for (size_t i = neg; i < n; i++)
		mag = mag * 10 + (uint64_t)(s[i] - '0');
	/* snap_value_type() has checked the range. */
	return neg ? (int64_t)(0 - mag) : (int64_t)mag;
}

/* Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int num(const char *s, size_t i, size_t width)
{
	int v = 0;

	for (size_t k = i; k < i + width; k++)
		v = v * 10 + (s[k] - '0');
	return v;
}

static int64_t pg_days(const char *s)
{
	return days_from_civil(num(s, 0, 4), num(s, 5, 2), num(s, 8, 2)) -
	       PG_EPOCH_DAYS;
}

/*
 * A timestamptz in the form snap_value_type() accepts, as microseconds
 * since 2000-01-01 UTC. -1 when it has no offset and the zone is not UTC.
 */
static int timestamptz_usec(const struct snap_bin *b, const char *s, size_t n,
			    int64_t *out)
{
	int64_t usec = pg_days(s) * USEC_PER_DAY, off = 0;
	size_t i = 16;

	usec += ((int64_t)num(s, 11, 2) * 3600 + num(s, 14, 2) * 60) *
		1000000LL;
	if (i < n && s[i] == ':') {
		usec += num(s, i + 1, 2) * 1000000LL;
		i += 3;
		if (i < n && s[i] == '.') {
			int64_t f = 0, scale = 1000000;

			for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
				f = f * 10 + (s[i] - '0');
				scale /= 10;
			}
			usec += f * scale;
		}
	}
	if (i == n && !b->zone_utc)
		return -1;
	if (i < n && s[i] != 'Z') {
		size_t m = i + 3;

		off = num(s, i + 1, 2) * 3600;
		if (m < n && s[m] == ':')
			m++;
		if (m < n)
			off += num(s, m, 2) * 60;
		if (s[i] == '-')
			off = -off;
	}
	*out = usec - off * 1000000LL;
	return 0;
}

/* A numeric -?D+(.D+)? as numeric_in reads it. */
static void put_numeric(struct snap_bin *b, const char *s, size_t n)
{
	bool neg = s[0] == '-';
	const char *ip = s + neg, *dot = memchr(ip, '.', n - neg);
	size_t ni = dot ? (size_t)(dot - ip) : n - neg;
	size_t nf = dot ? n - neg - ni - 1 : 0;
	size_t gi = (ni + 3) / 4, gf = (nf + 3) / 4, first = 0, count;
	int weight = (int)gi - 1;

	if (gi + gf > b->digits_cap) {
		b->digits_cap = gi + gf;
		b->digits = dbops_xreallocarray(b->digits, b->digits_cap,
						sizeof(*b->digits));
	}
	for (size_t g = 0; g < gi + gf; g++) {
		unsigned v = 0;

		for (size_t k = 0; k < 4; k++) {
			/* The position of this decimal digit: before the
			 * point counted from its left end, padded. */
			ptrdiff_t pos = (ptrdiff_t)(g * 4 + k) -
					(ptrdiff_t)(gi * 4 - ni);
			char c = '0';

			if (g < gi) {
				if (pos >= 0)
					c = ip[pos];
			} else {
				size_t fpos = (g - gi) * 4 + k;

				if (fpos < nf)
					c = dot[1 + fpos];
			}
			v = v * 10 + (unsigned)(c - '0');
		}
		b->digits[g] = (uint16_t)v;
	}
	count = gi + gf;
	while (count > 0 && b->digits[first] == 0) {
		first++;
		count--;
		weight--;
	}
	while (count > 0 && b->digits[first + count - 1] == 0)
		count--;
	if (count == 0) {
		weight = 0;
		neg = false;
	}
	put32(b, (uint32_t)(8 + 2 * count));
	put16(b, (uint16_t)count);
	put16(b, (uint16_t)(int16_t)weight);
	put16(b, neg ? 0x4000 : 0);
	put16(b, (uint16_t)nf);
	for (size_t g = 0; g < count; g++)
		put16(b, b->digits[first + g]);
}

/* Whether a value of type VT is one a column of type CT reads as is. */
static bool fits(enum snap_type ct, enum snap_type vt)
{
	if (ct == SNAP_TYPE_BIGINT)
		return vt == SNAP_TYPE_INTEGER || vt == SNAP_TYPE_BIGINT;
	if (ct == SNAP_TYPE_NUMERIC)
		return vt >= SNAP_TYPE_INTEGER && vt <= SNAP_TYPE_NUMERIC;
	return ct == vt;
}

/* Encode field C's value V (N bytes). 0, or -1 with b->why. */
static int put_value(struct snap_bin *b, size_t c, const char *v, size_t n)
{
	enum snap_type ct = b->types[c], vt;
	int64_t usec;

	if (ct == SNAP_TYPE_TEXT) {
		put32(b, (uint32_t)n);
		if (n > 0)
			memcpy(room(b, n), v, n);
		return 0;
	}
	vt = snap_value_type(v, n);
	if (!fits(ct, vt)) {
		snprintf(
			b->why, sizeof(b->why),
			"record %lld, column %zu: \"%.*s\" is not how PostgreSQL prints type %s",
			(long long)b->records + 1, c + 1,
			(int)(n < 40 ? n : 40), v, snap_type_sql(ct));
		return -1;
	}
	switch (ct) {
	case SNAP_TYPE_BOOLEAN:
		put32(b, 1);
		*room(b, 1) = v[0] == 't';
		return 0;
	case SNAP_TYPE_INTEGER:
		put32(b, 4);
		put32(b, (uint32_t)(int32_t)parse_int(v, n));
		return 0;
	case SNAP_TYPE_BIGINT:
		put32(b, 8);
		put64(b, (uint64_t)parse_int(v, n));
		return 0;
	case SNAP_TYPE_NUMERIC:
		put_numeric(b, v, n);
		return 0;
	case SNAP_TYPE_DATE:
		put32(b, 4);
		put32(b, (uint32_t)(int32_t)pg_days(v));
		return 0;
	default: /* SNAP_TYPE_TIMESTAMPTZ */
		if (timestamptz_usec(b, v, n, &usec) != 0) {
			snprintf(
				b->why, sizeof(b->why),
				"record %lld, column %zu: \"%.*s\" has no offset and the time zone is not UTC",
				(long long)b->records + 1, c + 1,
				(int)(n < 40 ? n : 40), v);
			return -1;
		}
		put32(b, 8);
		put64(b, (uint64_t)usec);
		return 0;
	}
}

/* ---- records ------------------------------------------------------------ */

static void val_push(struct snap_bin *b, size_t *n, char c)
{
	if (*n == b->val_cap) {
		b->val_cap = b->val_cap ? b->val_cap * 2 : 256;
		b->val = dbops_xreallocarray(b->val, b->val_cap, 1);
	}
	b->val[(*n)++] = c;
}

/* One field's end: NULL or the value V (N bytes), unless the record is the
 * header. */
static int end_field(struct snap_bin *b, size_t c, const char *v, size_t n,
		     bool quoted)
{
	const char *null = b->dialect->null;

	if (b->header)
		return 0;
	if (c >= b->ncols) {
		snprintf(b->why, sizeof(b->why),
			 "record %lld has more than %zu fields",
			 (long long)b->records + 1, b->ncols);
		return -1;
	}
	if (!quoted && n == strlen(null) && memcmp(v, null, n) == 0) {
		put32(b, UINT32_MAX);
		return 0;
	}
	return put_value(b, c, v, n);
}

/* The line end at buf[i] (CR or LF): its kind, and its length in *n; 0
 * when a CR ends the buffer and the file goes on (half a CR LF?). */
static int line_end(const char *buf, size_t len, size_t i, bool at_eof,
		    size_t *n)
{
	*n = 1;
	if (buf[i] == '\n')
		return '\n';
	if (i + 1 < len) {
		if (buf[i + 1] != '\n')
			return '\r';
		*n = 2;
		return 'R';
	}
	return at_eof ? '\r' : 0;
}

/* The record's end: its line end's kind and the number of fields. */
static int end_record(struct snap_bin *b, int eol, size_t nfields)
{
	if (eol != 0) {
		if (b->eol == 0)
			b->eol = eol;
		if (eol != b->eol) {
			snprintf(b->why, sizeof(b->why),
				 "record %lld ends its line differently",
				 (long long)b->records + 1);
			return -1;
		}
	}
	if (b->header) {
		b->header = false;
		b->header_lines = 1 + b->extra;
		b->extra = 0;
		return 0;
	}
	if (nfields != b->ncols) {
		snprintf(b->why, sizeof(b->why),
			 "record %lld has %zu fields, not %zu",
			 (long long)b->records + 1, nfields, b->ncols);
		return -1;
	}
	b->records++;
	if (b->extra > 0) {
		int64_t total = b->nbumps ? b->bumps[b->nbumps - 1] : 0;

		if (b->nbumps + 2 > b->bumps_cap) {
			b->bumps_cap = b->bumps_cap ? b->bumps_cap * 2 : 64;
			b->bumps = dbops_xreallocarray(b->bumps, b->bumps_cap,
						       sizeof(*b->bumps));
		}
		b->bumps[b->nbumps++] = b->records;
		b->bumps[b->nbumps++] = total + b->extra;
		b->extra = 0;
	}
	return 0;
}

int64_t snap_bin_csv_line(const struct snap_bin *b, int64_t record)
{
	size_t lo = 0, hi = b->nbumps / 2;
	int64_t extra = 0;

	/* The last record with line ends inside quotes at or before it. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (b->bumps[2 * mid] <= record) {
			extra = b->bumps[2 * mid + 1];
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return b->header_lines + record + extra;
}

/*
 * A field from buf[FS] in which a quote opens at buf[*i]: its value, quotes
 * removed, into b->val (*n bytes); *i moves to the delimiter or line end
 * after it, or to LEN. 1, 0 when it may go on past BUF, -1 (b->why).
 */
static int quoted_field(struct snap_bin *b, const char *buf, size_t len,
			bool at_eof, size_t fs, size_t *i, size_t *n)
{
	const char q = b->dialect->quote, delim = b->dialect->delimiter;
	bool in_quote = false;
	size_t k = *i;

	*n = 0;
	for (size_t p = fs; p < k; p++)
		val_push(b, n, buf[p]);
	for (; k < len; k++) {
		char ch = buf[k];

		if (in_quote) {
			if (ch != q) {
				val_push(b, n, ch);
				b->extra +=
					ch == (b->eol == '\n' ? '\n' : '\r');
			} else if (k + 1 == len && !at_eof) {
				return 0; /* "" cut in two? */
			} else if (k + 1 < len && buf[k + 1] == q) {
				val_push(b, n, q);
				k++;
			} else {
				in_quote = false;
			}
		} else if (ch == q) {
			in_quote = true;
		} else if (ch == delim || ch == '\n' || ch == '\r') {
			break;
		} else {
			val_push(b, n, ch);
		}
	}
	*i = k;
	if (!in_quote)
		return 1;
	if (!at_eof)
		return 0;
	snprintf(b->why, sizeof(b->why), "record %lld ends inside quotes",
		 (long long)b->records + 1);
	return -1;
}

/*
 * Encode one record from the start of BUF. 1 (its bytes in *used), 0 when
 * it does not end in BUF (nothing written), -1 (b->why). An unquoted
 * field is read in place; only one with quotes is copied.
 */
static int one_record(struct snap_bin *b, const char *buf, size_t len,
		      bool at_eof, size_t *used)
{
	const unsigned char *special = b->special;
	size_t start = b->len, i = 0, c = 0, n, fs, eol_len = 0;
	const char *v;
	bool quoted;
	int eol = 0, rc;

	b->extra = 0;
	if (!b->header)
		put16(b, (uint16_t)b->ncols);
	for (;; i++) {
		fs = i;
		while (i < len && !special[(unsigned char)buf[i]])
			i++;
		quoted = i < len && buf[i] == b->dialect->quote;
		v = buf + fs;
		n = i - fs;
		if (quoted) {
			rc = quoted_field(b, buf, len, at_eof, fs, &i, &n);
			if (rc <= 0) {
				b->len = start;
				return rc;
			}
			v = b->val;
		}
		if (i == len && !at_eof) {
			b->len = start;
			return 0;
		}
		if (i == len || buf[i] != b->dialect->delimiter)
			break;
		if (end_field(b, c++, v, n, quoted) != 0)
			return -1;
	}
	if (i < len) {
		eol = line_end(buf, len, i, at_eof, &eol_len);
		if (eol == 0) {
			b->len = start;
			return 0;
		}
	}
	/* A record of one unquoted "\." would end COPY's CSV data. */
	if (c == 0 && !quoted && n == 2 && v[0] == '\\' && v[1] == '.') {
		snprintf(b->why, sizeof(b->why), "record %lld is \\.",
			 (long long)b->records + 1);
		return -1;
	}
	if (end_field(b, c++, v, n, quoted) != 0 || end_record(b, eol, c) != 0)
		return -1;
	*used = i + eol_len;
	return 1;
}

/* Encode the complete records of BUF; the bytes used in *used. */
static int all_records(struct snap_bin *b, const char *buf, size_t len,
		       bool at_eof, size_t *used)
{
	size_t off = 0, n;
	int rc = 1;

	while (off < len &&
	       (rc = one_record(b, buf + off, len - off, at_eof, &n)) == 1)
		off += n;
	*used = off;
	return rc < 0 ? -1 : 0;
}

static void carry_append(struct snap_bin *b, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (b->ncarry + n > b->carry_cap) {
		b->carry_cap = (b->ncarry + n) * 2;
		b->carry = dbops_xreallocarray(b->carry, b->carry_cap, 1);
	}
	memcpy(b->carry + b->ncarry, p, n);
	b->ncarry += n;
}

/* Records from the carried bytes and the start of IN; the bytes of IN
 * used in *pos. */
static int feed_carry(struct snap_bin *b, const char *in, size_t len,
		      bool at_eof, size_t *pos)
{
	size_t used;

	while (b->ncarry > 0 && (*pos < len || at_eof)) {
		const char *nl = memchr(in + *pos, '\n', len - *pos);
		size_t take = nl ? (size_t)(nl - (in + *pos)) + 1 : len - *pos;

		carry_append(b, in + *pos, take);
		*pos += take;
		if (all_records(b, b->carry, b->ncarry, at_eof && *pos == len,
				&used) != 0)
			return -1;
		b->ncarry -= used;
		memmove(b->carry, b->carry + used, b->ncarry);
		if (*pos == len)
			break;
	}
	return 0;
}

int snap_bin_feed(struct snap_bin *b, const char *in, size_t len, bool at_eof)
{
	static const unsigned char signature[11] = "PGCOPY\n\377\r\n";
	size_t pos = 0, used;

	if (!b->started) {
		memcpy(room(b, 11), signature, 11);
		put32(b, 0); /* flags */
		put32(b, 0); /* header extension */
		b->started = true;
	}
	if (feed_carry(b, in, len, at_eof, &pos) != 0)
		return -1;
	if (b->ncarry == 0 && pos < len) {
		if (all_records(b, in + pos, len - pos, at_eof, &used) != 0)
			return -1;
		carry_append(b, in + pos + used, len - pos - used);
	}
	if (!at_eof)
		return 0;
	if (b->ncarry > 0) {
		snprintf(b->why, sizeof(b->why), "record %lld is incomplete",
			 (long long)b->records + 1);
		return -1;
	}
	put16(b, UINT16_MAX); /* the trailer: -1 */
	return 0;
}
