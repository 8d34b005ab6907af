/*
 * decimal.c - exact decimals in a scaled __int128. See decimal.h.
 */
#include "decimal.h"

#include <ctype.h>
#include <string.h>

#define MAX_SCALE (2 * WQ_DECIMAL_DIGITS)

/* 10^n for n <= 38. */
static __int128 pow10i(int n)
{
	__int128 p = 1;

	while (n-- > 0)
		p *= 10;
	return p;
}

/* The largest magnitude a decimal holds: 38 nines. */
static __int128 limit(void)
{
	return pow10i(WQ_DECIMAL_DIGITS) - 1;
}

/* The digits of a number's text, without leading zeros, and its shape. */
struct digits {
	char d[WQ_DECIMAL_DIGITS + 1];
	int n;	  /* significant digits kept in d */
	int frac; /* of them, or of the zeros dropped, after the point */
	bool negative;
	bool any;      /* a digit was seen */
	bool too_many; /* a non-zero digit beyond the 38 */
	long exponent;
};

/* Append digit C (after the point if FRAC). */
static void add_digit(struct digits *g, char c, bool frac)
{
	g->any = true;
	if (frac)
		g->frac++;
	if (g->n == 0 && c == '0' && !frac)
		return; /* a leading zero */
	if (g->n == 0 && c == '0') {
		/* 0.00x: a zero after the point only counts in the scale. */
		return;
	}
	if (g->n < WQ_DECIMAL_DIGITS) {
		g->d[g->n++] = c;
	} else if (frac && c == '0') {
		g->frac--; /* a trailing zero too many: dropped, value kept */
	} else {
		g->too_many = true;
	}
}

/* The exponent part at *I (after e or E): 0, or -1 if malformed. */
static int parse_exponent(const char *s, size_t n, size_t *i, long *exp)
{
	bool neg = false;
	long e = 0;
	size_t start;

	if (*i < n && (s[*i] == '+' || s[*i] == '-'))
		neg = s[(*i)++] == '-';
	start = *i;
	while (*i < n && isdigit((unsigned char)s[*i])) {
		if (e < 100000)
			e = e * 10 + (s[*i] - '0');
		(*i)++;
	}
	if (*i == start)
		return -1;
	*exp = neg ? -e : e;
	return 0;
}

static int scan(const char *s, size_t n, struct digits *g)
{
	size_t i = 0;
	bool point = false;

	memset(g, 0, sizeof(*g));
	if (i < n && (s[i] == '+' || s[i] == '-'))
		g->negative = s[i++] == '-';
	for (; i < n; i++) {
		if (isdigit((unsigned char)s[i]))
			add_digit(g, s[i], point);
		else if (s[i] == '.' && !point)
			point = true;
		else
			break;
	}
	if (!g->any)
		return -1;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (parse_exponent(s, n, &i, &g->exponent) != 0)
			return -1;
	}
	return i == n ? 0 : -1;
}

int wq_decimal_parse(const char *s, size_t n, struct wq_decimal *d)
{
	struct digits g;
	__int128 units = 0;
	long scale;

	if (scan(s, n, &g) != 0 || g.too_many)
		return -1;
	for (int i = 0; i < g.n; i++)
		units = units * 10 + (g.d[i] - '0');
	scale = (long)g.frac - g.exponent;
	if (units == 0)
		scale = scale < 0 ? 0 : scale > MAX_SCALE ? MAX_SCALE : scale;
	if (scale < 0) {
		if (-scale > WQ_DECIMAL_DIGITS - g.n)
			return -1;
		units *= pow10i((int)-scale);
		scale = 0;
	}
	/* Zeros after the point beyond the scale we keep: not a value. */
	while (scale > MAX_SCALE && units % 10 == 0) {
		units /= 10;
		scale--;
	}
	if (scale > MAX_SCALE)
		return -1;
	d->units = g.negative ? -units : units;
	d->scale = (int)scale;
	return 0;
}

/* *X at SCALE (>= its own): 0, or -1 when it no longer fits. */
static int rescale(const struct wq_decimal *x, int scale, __int128 *units)
{
	int up = scale - x->scale;
	__int128 mag = x->units < 0 ? -x->units : x->units;

	if (up > WQ_DECIMAL_DIGITS || (up > 0 && mag > limit() / pow10i(up)))
		return -1;
	*units = x->units * pow10i(up);
	return 0;
}

/* *ACC + SIGN * *X. */
static int add_signed(struct wq_decimal *acc, const struct wq_decimal *x,
		      int sign)
{
	int scale = acc->scale > x->scale ? acc->scale : x->scale;
	__int128 a, b, sum;

	if (rescale(acc, scale, &a) != 0 || rescale(x, scale, &b) != 0)
		return -1;
	if (sign < 0)
		b = -b;
	/*
	 * Both are within 38 nines, but two such add up beyond __int128
	 * (2 * 10^38 > 2^127): compare before adding.
	 */
	if ((b > 0 && a > limit() - b) || (b < 0 && a < -limit() - b))
		return -1;
	sum = a + b;
	acc->units = sum;
	acc->scale = scale;
	return 0;
}

int wq_decimal_add(struct wq_decimal *acc, const struct wq_decimal *x)
{
	return add_signed(acc, x, 1);
}

int wq_decimal_sub(struct wq_decimal *acc, const struct wq_decimal *x)
{
	return add_signed(acc, x, -1);
}

int wq_decimal_divide(const struct wq_decimal *sum, long long count, int scale,
		      struct wq_decimal *out)
{
	__int128 units, q, r;
	bool neg;

	if (count <= 0 || scale < sum->scale)
		return -1;
	if (rescale(sum, scale, &units) != 0)
		return -1;
	neg = units < 0;
	if (neg)
		units = -units;
	q = units / count;
	r = units % count;
	if (2 * r >= count) /* half away from zero */
		q++;
	out->units = neg ? -q : q;
	out->scale = scale;
	return 0;
}

int wq_decimal_digits(const struct wq_decimal *d)
{
	__int128 mag = d->units < 0 ? -d->units : d->units;
	int n = 0;

	/* Trailing zeros after the point are not significant. */
	for (int s = d->scale; s > 0 && mag != 0 && mag % 10 == 0; s--)
		mag /= 10;
	for (; mag != 0; mag /= 10)
		n++;
	return n;
}

size_t wq_decimal_format(const struct wq_decimal *d, char *buf, size_t len)
{
	char rev[2 * WQ_DECIMAL_DIGITS + 4];
	__int128 mag = d->units < 0 ? -d->units : d->units;
	size_t n = 0, out = 0;

	/* The digits, least significant first, at least scale + 1 of them. */
	do {
		rev[n++] = (char)('0' + (int)(mag % 10));
		mag /= 10;
	} while (mag != 0 || n < (size_t)d->scale + 1);
	if (d->units < 0 && out + 1 < len)
		buf[out++] = '-';
	while (n > 0 && out + 1 < len) {
		if (n == (size_t)d->scale && d->scale > 0) {
			buf[out++] = '.';
			if (out + 1 >= len)
				break;
		}
		buf[out++] = rev[--n];
	}
	if (len > 0)
		buf[out] = '\0';
	return out;
}

bool wq_number_fits_double(const char *s, size_t n)
{
	struct wq_decimal d;
	struct digits g;
	__int128 two53 = (__int128)1 << 53;

	if (memchr(s, 'e', n) || memchr(s, 'E', n))
		return scan(s, n, &g) == 0;
	if (wq_decimal_parse(s, n, &d) != 0)
		return false;
	if (d.scale == 0 && memchr(s, '.', n) == NULL)
		return d.units <= two53 && d.units >= -two53;
	return wq_decimal_digits(&d) <= 15;
}
