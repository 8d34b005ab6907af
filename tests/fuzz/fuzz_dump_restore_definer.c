/*
 * fuzz_dump_restore_definer - libFuzzer target for dump-restore's DEFINER
 * finder (utils/dump-restore/definer.c), which reads the head of every
 * CREATE statement of a dump.
 *
 * Property: a clause found lies within the statement, is not empty and
 * starts with the word DEFINER (any case); the statement with the clause
 * left out is still looked at without harm.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../utils/dump-restore/definer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *stmt = (const char *)data;
	size_t from, to;
	char *rest;

	if (!dr_definer_find(stmt, size, &from, &to))
		return 0;
	if (from >= to || to > size || to - from < 7 ||
	    strncasecmp(stmt + from, "DEFINER", 7) != 0) {
		fprintf(stderr, "bad clause [%zu, %zu) of %zu bytes\n", from,
			to, size);
		abort();
	}
	rest = malloc(size - (to - from) + 1);
	if (rest == NULL)
		abort();
	memcpy(rest, stmt, from);
	memcpy(rest + from, stmt + to, size - to);
	(void)dr_definer_find(rest, size - (to - from), &from, &to);
	free(rest);
	return 0;
}
