/*
 * decimal.h - exact decimal numbers for world-query: the sums and averages
 * of --reduce, and the rule for which numbers JSON can carry bare.
 *
 * A decimal is an integer of up to 38 digits and a scale (the digits after
 * the point, 0 to 76), in a scaled __int128: every MariaDB DECIMAL up to
 * DECIMAL(38,s), every BIGINT, and their sums while they stay within 38
 * digits. Beyond that the functions fail; they never round, except
 * wq_decimal_divide, which rounds as the server's AVG does.
 */
#ifndef WQ_DECIMAL_H
#define WQ_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>

#define WQ_DECIMAL_DIGITS 38

struct wq_decimal {
	__int128 units; /* the value times 10^scale */
	int scale;
};

/*
 * Pure: parse the N bytes at S, a number as SQL and JSON write them
 * ("-12", "+3.50", ".5", "1e-3", "1.25E+2", no space): 0, or -1 when S is
 * not one, or needs more than WQ_DECIMAL_DIGITS digits (leading zeros and
 * trailing zeros after the point excepted: they are kept in the scale
 * only while they fit). The scale is the digits after the point less the
 * exponent (never below 0: "1e3" is 1000, scale 0).
 */
int wq_decimal_parse(const char *s, size_t n, struct wq_decimal *d);

/* Pure: *ACC += *X exactly: 0, or -1 (ACC unchanged) when it overflows. */
int wq_decimal_add(struct wq_decimal *acc, const struct wq_decimal *x);

/* Pure: *ACC -= *X exactly: 0, or -1 (ACC unchanged) when it overflows. */
int wq_decimal_sub(struct wq_decimal *acc, const struct wq_decimal *x);

/*
 * Pure: *OUT = *SUM / COUNT (COUNT > 0) to SCALE digits after the point,
 * rounded half away from zero (MariaDB's AVG of a DECIMAL, whose scale is
 * the argument's plus div_precision_increment, 4): 0, or -1 on overflow.
 */
int wq_decimal_divide(const struct wq_decimal *sum, long long count, int scale,
		      struct wq_decimal *out);

/* Pure: the significant digits of D (0 for zero). */
int wq_decimal_digits(const struct wq_decimal *d);

/*
 * Pure: D as text into BUF ("-0.05", "12.3400": every digit of its scale,
 * no exponent), NUL-terminated; LEN >= 2 * WQ_DECIMAL_DIGITS + 4 always
 * suffices. Returns the length.
 */
size_t wq_decimal_format(const struct wq_decimal *d, char *buf, size_t len);

/*
 * Pure: whether the number at S (N bytes) reads back unchanged through an
 * IEEE double, so JSON may write it bare: an integer of magnitude up to
 * 2^53 (9007199254740992), or a decimal of at most 15 significant digits
 * (DBL_DIG: what a double keeps of any decimal), or a number with an
 * exponent (a FLOAT or DOUBLE: a double already). False for anything that
 * is not a number.
 */
bool wq_number_fits_double(const char *s, size_t n);

#endif
