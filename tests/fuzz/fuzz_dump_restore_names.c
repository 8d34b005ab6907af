/*
 * fuzz_dump_restore_names - libFuzzer target for the names dump-restore
 * reads from the file system (utils/dump-restore/catalog.c, world.c): a
 * dump's file name, <world><sep><time>.sql.gz, and world names.
 *
 * Properties: a name that parses gives a world that is its start, followed
 * by a separator, that dr_world_name_ok() takes, and a time that the name's
 * rest reads as again, and that fits a world's record (struct dr_world:
 * 127 bytes, or up would cut it); -2 only for a world name dr_world_name_ok() refuses;
 * a refusal says why; dr_world_index_of() is always 0 to 999.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "fuzzutil.h"

#include "../../utils/dump-restore/catalog.h"
#include "../../utils/dump-restore/world.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = fuzz_string(data, size), *world = NULL;
	struct dbops_err err = { "" };
	int64_t usec;
	int rc, index;
	size_t wlen;

	index = dr_world_index_of(name);
	if (index < 0 || index > 999)
		abort();
	(void)dr_world_name_ok(name);
	rc = dr_dump_parse_name(name, &world, &usec, &err);
	if (rc != 0) {
		if (err.msg[0] == '\0' || (rc != -1 && rc != -2))
			abort();
		free(name);
		free(world);
		return 0;
	}
	wlen = strlen(world);
	if (wlen == 0 || wlen >= sizeof(((struct dr_world *)0)->name) ||
	    strncmp(name, world, wlen) != 0 ||
	    strchr("-_.", name[wlen]) == NULL || !dr_world_name_ok(world)) {
		fprintf(stderr, "\"%s\" gave the world \"%s\"\n", name, world);
		abort();
	}
	free(world);
	free(name);
	return 0;
}
