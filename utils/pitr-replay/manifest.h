/*
 * manifest.h - the backup_manifest of a base backup, as far as pitr_backup_open()
 * checks it: valid JSON, a version we know, and the system identifier and
 * WAL ranges, which must agree with pg_control and backup_label. The
 * list of files and their checksums is walked over, not checked.
 */
#ifndef PITR_MANIFEST_H
#define PITR_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"
/* What the manifest says that we use. */
struct manifest {
	int version;
	uint64_t system_id;
	size_t nranges;
	uint64_t start_lsn; /* the lowest Start-LSN */
	uint32_t start_tli;
	uint64_t end_lsn; /* the highest End-LSN */
	uint32_t end_tli;
};

/*
 * Parse a backup manifest (LEN bytes of TEXT): the JSON must be valid as a
 * whole, its top-level object must name a version we know (1 or 2), and
 * System-Identifier and WAL-Ranges are taken out. Returns 0, or -1 with a
 * one-line reason in ERR (may be NULL), e.g.
 *
 *	line 12: "End-LSN": expected an LSN "X/Y", found "0/zz"
 */
int pitr_parse_manifest(const char *text, size_t len, struct manifest *m,
			struct dbops_err *err);

#endif
