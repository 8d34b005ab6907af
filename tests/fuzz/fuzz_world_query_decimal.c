/*
 * fuzz_world_query_decimal - libFuzzer target for world-query's decimals
 * (utils/world-query/decimal.c): the numbers every world answers with,
 * which --reduce adds and JSON writes bare or quoted.
 *
 * The input is one or two numbers, split at the first '|'.
 *
 * Properties: a number that parses prints as the canonical text, which
 * parses back to the same units and scale and prints the same; its value
 * is the one an independent reading of the text (digits, point, exponent)
 * gives; a + b - b is a again; a number said to fit a double prints from
 * the double with the same value; nothing overflows or reads out of bounds.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../utils/world-query/decimal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BUF (2 * WQ_DECIMAL_DIGITS + 4)

/*
 * The value of TEXT as significant digits (no leading or trailing zeros)
 * into DIGITS and the power of ten of the last one into *EXP. Returns 0,
 * or -1 when TEXT is not a plain number or its exponent is very long.
 */
static int value_of(const char *t, size_t n, char *digits, size_t cap,
		    long *exp, int *sign)
{
	size_t i = 0, k = 0;
	long e = 0, point = 0;
	int seen = 0;

	*sign = 1;
	if (i < n && (t[i] == '+' || t[i] == '-'))
		*sign = t[i++] == '-' ? -1 : 1;
	for (; i < n && (isdigit((unsigned char)t[i]) || t[i] == '.'); i++) {
		if (t[i] == '.') {
			if (point++)
				return -1;
			continue;
		}
		seen = 1;
		if (k == 0 && t[i] == '0') {
			if (point)
				e--;
			continue;
		}
		if (k + 1 >= cap)
			return -1;
		digits[k++] = t[i];
		if (point)
			e--;
	}
	if (!seen)
		return -1;
	if (i < n && (t[i] == 'e' || t[i] == 'E')) {
		char num[12];
		size_t m = n - i - 1;

		if (m == 0 || m >= sizeof(num))
			return -1;
		memcpy(num, t + i + 1, m);
		num[m] = '\0';
		e += strtol(num, NULL, 10);
	} else if (i != n) {
		return -1;
	}
	while (k > 0 && digits[k - 1] == '0') {
		k--;
		e++;
	}
	digits[k] = '\0';
	*exp = k == 0 ? 0 : e;
	if (k == 0)
		*sign = 1;
	return 0;
}

static void same_value(const char *a, size_t an, const char *b)
{
	char da[256], db[256];
	long ea, eb;
	int sa, sb;

	if (value_of(a, an, da, sizeof(da), &ea, &sa) != 0)
		return;
	if (value_of(b, strlen(b), db, sizeof(db), &eb, &sb) != 0 ||
	    strcmp(da, db) != 0 || ea != eb || sa != sb) {
		fprintf(stderr, "\"%.*s\" printed as \"%s\"\n", (int)an, a, b);
		abort();
	}
}

/* Parse S (N bytes) and check it prints canonically. */
static int check_one(const char *s, size_t n, struct wq_decimal *d)
{
	struct wq_decimal again;
	char text[BUF], text2[BUF], dbl[BUF + 400];
	bool fits = wq_number_fits_double(s, n);

	if (wq_decimal_parse(s, n, d) != 0)
		return -1;
	if (d->scale < 0 || d->scale > 2 * WQ_DECIMAL_DIGITS ||
	    wq_decimal_digits(d) > WQ_DECIMAL_DIGITS)
		abort();
	wq_decimal_format(d, text, sizeof(text));
	if (wq_decimal_parse(text, strlen(text), &again) != 0 ||
	    again.units != d->units || again.scale != d->scale) {
		fprintf(stderr, "\"%s\" does not read back\n", text);
		abort();
	}
	wq_decimal_format(&again, text2, sizeof(text2));
	if (strcmp(text, text2) != 0)
		abort();
	same_value(s, n, text);
	if (fits && d->units != 0 && memchr(s, 'e', n) == NULL &&
	    memchr(s, 'E', n) == NULL) {
		char *copy = strndup(s, n);
		double v = strtod(copy, NULL);
		int kept = 0;

		free(copy);
		for (int digits = 15; digits <= 17 && !kept; digits++) {
			char dv[256], dt[256];
			long ev, et;
			int sv, st;

			snprintf(dbl, sizeof(dbl), "%.*g", digits, v);
			kept = value_of(dbl, strlen(dbl), dv, sizeof(dv), &ev,
					&sv) == 0 &&
			       value_of(text, strlen(text), dt, sizeof(dt), &et,
					&st) == 0 &&
			       strcmp(dv, dt) == 0 && ev == et && sv == st;
		}
		if (!kept) {
			fprintf(stderr,
				"\"%.*s\" fits a double, which holds "
				"%.17g\n",
				(int)n, s, v);
			abort();
		}
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *bar = memchr(s, '|', size);
	size_t an = bar ? (size_t)(bar - s) : size;
	struct wq_decimal a, b, acc, avg;
	char x[BUF], y[BUF];

	if (check_one(s, an, &a) != 0 || bar == NULL)
		return 0;
	if (check_one(bar + 1, size - an - 1, &b) != 0)
		return 0;
	acc = a;
	if (wq_decimal_add(&acc, &b) == 0) {
		if (wq_decimal_sub(&acc, &b) != 0)
			abort(); /* a was there before */
		wq_decimal_format(&a, x, sizeof(x));
		wq_decimal_format(&acc, y, sizeof(y));
		same_value(x, strlen(x), y);
	}
	if (wq_decimal_divide(&a, 1 + data[0] % 16,
			      a.scale + 4 > 76 ? 76 : a.scale + 4, &avg) == 0)
		wq_decimal_format(&avg, x, sizeof(x));
	return 0;
}
