/*
 * catalog.h - the dumps dump-restore can use: found in the sources, named
 * <world><sep><timestamp>.sql.gz, and the one each world uses.
 */
#ifndef DR_CATALOG_H
#define DR_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "errbuf.h"

struct dr_dump {
	char *path;
	char *world;
	int64_t usec; /* the time in its name */
	int64_t size;
	int64_t mtime; /* seconds; with size, tells a changed file */
};

struct dr_catalog {
	struct dr_dump *dumps;
	size_t count;
};

/*
 * Split a file name (no directory) into world and time: the world is all
 * before the first separator (-, _ or .) after which the rest, less
 * ".sql.gz", reads as a time (common/timestamp.h). Returns 0 with *world
 * malloc'd, -1 with the reason in ERR when it is not such a name, or -2
 * when it is but the world's name is no valid one (dr_world_name_ok()).
 */
int dr_dump_parse_name(const char *name, char **world, int64_t *usec,
		       struct dbops_err *err);

/*
 * Add the dumps of each source (a directory: its *.sql.gz files; or a
 * file). Names that do not parse, and files that are not regular files,
 * are warned about and skipped. Returns 0, or -1 after reporting a source
 * that cannot be read or a dump whose absolute path cannot be found.
 */
int dr_catalog_scan(struct dr_catalog *c, char *const *sources, int n);

/* Free the dumps of C and leave it empty. */
void dr_catalog_free(struct dr_catalog *c);

/*
 * The dump of each world: its latest at or before AT (no AT: its latest),
 * worlds in natural order (world2 before world10). *chosen is an array of
 * pointers into C, caller frees the array. A world that has no dump
 * early enough is reported as an error and left out ("; skipped"), or
 * with STRICT makes the choice fail. Returns 0, or -1 after reporting:
 * with STRICT such a world; each two worlds whose names differ only by
 * case (MariaDB's option groups, and so worlds.cnf, match names
 * case-insensitively); no dump, or no world left.
 */
int dr_catalog_choose(const struct dr_catalog *c, bool have_at, int64_t at,
		      bool strict, const struct dr_dump ***chosen, size_t *n);

/* The longest world name: struct dr_world and the inventories keep 127. */
#define DR_WORLD_NAME_MAX 127

/*
 * Whether NAME can be a world, the one rule of every command: letters,
 * digits, '-', '_' and '.', starting with a letter or a digit (a leading
 * dot hides it, a leading dash reads as an option), at most
 * DR_WORLD_NAME_MAX bytes (a longer one would be cut).
 */
bool dr_world_name_ok(const char *name);

#endif
