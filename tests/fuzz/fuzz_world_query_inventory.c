/*
 * fuzz_world_query_inventory - libFuzzer target for world-query's
 * inventory (utils/world-query/inventory.c): the [client_<world>] groups of
 * an option file, worlds.cnf or one written by hand, and the natural order
 * they come out in (common/natsort.c).
 *
 * Property: an independent reading of the groups (a line that starts,
 * after spaces, with "[", up to its "]", spaces cut, "client_" and a name)
 * finds as many distinct worlds as the inventory has, each under its full
 * name, in natural order (dbops_natural_cmp() antisymmetric on them); a
 * file without one is refused with a reason.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "fuzzutil.h"
#include "natsort.h"

#include "../../utils/world-query/inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The distinct world names of TEXT's groups, as the reference reads them. */
static size_t reference(char *text, char ***names)
{
	size_t n = 0;
	char *line = text, *next;

	*names = NULL;
	for (; line != NULL; line = next) {
		char *s = line, *close, *end;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		while (isspace((unsigned char)*s))
			s++;
		if (*s != '[' || (close = strchr(s, ']')) == NULL)
			continue;
		s++;
		while (isspace((unsigned char)*s))
			s++;
		end = close;
		while (end > s && isspace((unsigned char)end[-1]))
			end--;
		*end = '\0';
		if (strncmp(s, "client_", 7) != 0 || s[7] == '\0')
			continue;
		s += 7;
		size_t i = 0;

		while (i < n && strcmp((*names)[i], s) != 0)
			i++;
		if (i < n)
			continue;
		*names = realloc(*names, (n + 1) * sizeof(**names));
		if (*names == NULL)
			abort();
		(*names)[n++] = s;
	}
	return n;
}

/* dbops_natural_cmp(A, B), which must be antisymmetric. */
static int natural_cmp(const char *a, const char *b)
{
	int ab = dbops_natural_cmp(a, b), ba = dbops_natural_cmp(b, a);

	if ((ab > 0) != (ba < 0) || (ab == 0) != (ba == 0)) {
		fprintf(stderr, "\"%s\" and \"%s\" compare both ways\n", a, b);
		abort();
	}
	return ab;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wq_inventory inv;
	struct dbops_err err = { "" };
	char *text, **names;
	size_t n;
	int rc;

	/* A NUL ends a line for getline()'s reader: keep them out. */
	if (memchr(data, '\0', size) != NULL)
		return 0;
	text = fuzz_string(data, size);
	rc = wq_inventory_read(fuzz_memfile(data, size), &inv, &err);
	n = reference(text, &names);
	if (rc != 0) {
		if (n != 0 && strstr(err.msg, "longer") == NULL) {
			fprintf(stderr, "refused (%s), reference %zu\n",
				err.msg, n);
			abort();
		}
		if (err.msg[0] == '\0')
			abort();
		goto out;
	}
	if (inv.count != n) {
		fprintf(stderr, "%zu worlds, reference %zu\n", inv.count, n);
		abort();
	}
	for (size_t i = 0; i < inv.count; i++) {
		size_t j = 0;

		while (j < n && strcmp(names[j], inv.worlds[i].name) != 0)
			j++;
		if (j == n) {
			fprintf(stderr, "world \"%s\" not in the file\n",
				inv.worlds[i].name);
			abort();
		}
		if (wq_inventory_find(&inv, names[j]) != &inv.worlds[i])
			abort();
		if (i > 0 &&
		    natural_cmp(inv.worlds[i - 1].name, inv.worlds[i].name) > 0)
			abort();
	}
	wq_inventory_free(&inv);
out:
	free(names);
	free(text);
	return 0;
}
