/*
 * mfcheck.h - the files of a base backup held against its backup_manifest,
 * as pg_verifybackup holds them: every file listed is there with its size
 * and checksum, and no file is there that the manifest does not list.
 * Plain directories and tars (any compression) alike.
 */
#ifndef PITR_MFCHECK_H
#define PITR_MFCHECK_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "backup.h"

struct manifest_check {
	bool checked; /* a manifest was there and was held against */
	char manifest[PATH_MAX + 32]; /* how it is named in messages */
	uint64_t files;		      /* files listed (and found) */
	uint64_t bytes;		      /* their bytes */
	unsigned kinds;		      /* 1 << enum pitr_checksum_kind seen */
	uint64_t problems;	      /* files missing, extra or different */
};

/*
 * Hold the backup B (opened by pitr_backup_open()) against its manifest.
 * Ignored as pg_verifybackup ignores them: backup_manifest,
 * postgresql.auto.conf, recovery.signal, standby.signal and pg_wal/ (and
 * the pg_wal tar), which may change or come apart from the backup.
 *
 * Returns 0 when every file agrees, or when there is no manifest (R says
 * checked false); -1 after one error per file that differs, each naming
 * it, or after an error reading the backup.
 */
int pitr_manifest_check(const struct base_backup *b, struct manifest_check *r);

/* "backup files: ..." for verify's report: what R found, or why nothing
 * (SKIPPED: --no-manifest-check). */
void pitr_manifest_report(const struct manifest_check *r, bool skipped,
			  FILE *out);

/* The checksum kinds of R as "CRC32C" or "CRC32C, SHA256" into BUF. */
const char *pitr_manifest_kinds(const struct manifest_check *r, char *buf,
				size_t len);

#endif
