/*
 * tablespace.h - the tablespaces of a base backup: read from tablespace_map
 * or from a plain backup's pg_tblspc links, matched with their <oid>.tar
 * files, and mapped to where a restore puts them. Private to the backup
 * modules (backup.c, extract.c); backup.h has what the rest of the tool
 * uses (pitr_backup_map_tablespaces, pitr_backup_remove_tablespaces).
 */
#ifndef PITR_TABLESPACE_H
#define PITR_TABLESPACE_H

#include <stdbool.h>
#include <stddef.h>

#include "backup.h"

/*
 * Add the lines "OID LOCATION" of a tablespace_map (TEXT, LEN bytes) to B,
 * undoing PostgreSQL's backslash escapes in LOCATION. WHERE names the file
 * in messages. Returns 0, or -1 after an error message naming the line.
 */
int pitr_ts_parse_map(const char *text, size_t len, const char *where,
		      struct base_backup *b);

/*
 * Add the tablespace OID at LOCATION to B, or fill in the location of one
 * already known without it. A second, different location for one OID is an
 * error (named with WHERE). Returns 0, or -1 after an error message.
 */
int pitr_ts_add(struct base_backup *b, unsigned oid, const char *location,
		const char *where);

/* Whether NAME is a tablespace's name in pg_tblspc/: its OID, digits only. */
bool pitr_ts_oid_of(const char *name, unsigned *oid);

/*
 * Give the tar PATH of tablespace OID to B's tablespace of that OID.
 * Returns 0, or -1 after an error message when tablespace_map does not
 * list it or two tars claim it.
 */
int pitr_ts_attach_tar(struct base_backup *b, unsigned oid, const char *path);

/*
 * The last checks once the whole backup was read: a tar backup has the tar
 * of every tablespace (CONTAINER names the base tar's directory), a plain
 * one the directory of every link. Returns 0, or -1 after an error message.
 */
int pitr_ts_check(const struct base_backup *b, const char *container);

#endif
