/*
 * natsort.c - natural order of names. See natsort.h.
 */
#include "natsort.h"

#include <ctype.h>
#include <string.h>

int dbops_natural_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			const char *a0, *b0;
			size_t na, nb;
			int c;

			while (*a == '0' && isdigit((unsigned char)a[1]))
				a++;
			while (*b == '0' && isdigit((unsigned char)b[1]))
				b++;
			a0 = a;
			b0 = b;
			while (isdigit((unsigned char)*a))
				a++;
			while (isdigit((unsigned char)*b))
				b++;
			na = (size_t)(a - a0);
			nb = (size_t)(b - b0);
			if (na != nb)
				return na < nb ? -1 : 1;
			c = memcmp(a0, b0, na);
			if (c != 0)
				return c;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return *a ? 1 : *b ? -1 : 0;
}
