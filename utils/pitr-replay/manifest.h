/*
 * manifest.h - the backup_manifest of a base backup, as far as pitr_backup_open()
 * checks it: valid JSON, a version we know, and the system identifier and
 * WAL ranges, which must agree with pg_control and backup_label. The
 * list of files and their checksums is walked over, not checked.
 */
#ifndef PITR_MANIFEST_H
#define PITR_MANIFEST_H

#include <stdbool.h>
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

/* The checksum of one file of the manifest, as "Checksum-Algorithm" names it. */
enum pitr_checksum_kind {
	PITR_CHECKSUM_NONE,
	PITR_CHECKSUM_CRC32C,
	PITR_CHECKSUM_SHA224,
	PITR_CHECKSUM_SHA256,
	PITR_CHECKSUM_SHA384,
	PITR_CHECKSUM_SHA512,
};

#define PITR_CHECKSUM_MAX 64 /* bytes of the longest, SHA-512 */

/* One entry of the manifest's "Files". */
struct manifest_file {
	char *path; /* relative to the data directory, decoded */
	uint64_t size;
	enum pitr_checksum_kind kind;
	unsigned char checksum[PITR_CHECKSUM_MAX];
	size_t checksum_len;
	bool seen; /* for the caller: found in the backup */
};

struct manifest_files {
	struct manifest_file *v; /* sorted by path */
	size_t n;
};

/*
 * The "Files" of a manifest that pitr_parse_manifest() accepted, each path
 * decoded ("Path" with its JSON escapes, or the hex of "Encoded-Path"),
 * sorted by path, plus the check of "Manifest-Checksum": the SHA-256 of
 * the text up to and including the newline before its line, as
 * pg_verifybackup checks it. Returns 0, or -1 with a one-line reason in
 * ERR, e.g.
 *
 *	line 12: "Checksum": expected 8 hex digits for CRC32C, found "12"
 *	the manifest's checksum does not match its contents
 */
int pitr_manifest_files(const char *text, size_t len,
			struct manifest_files *out, struct dbops_err *err);

/* The entry for PATH, or NULL. */
struct manifest_file *pitr_manifest_file_find(const struct manifest_files *f,
					      const char *path);

void pitr_manifest_files_free(struct manifest_files *f);

/* The name of KIND as the manifest writes it ("CRC32C", "SHA256"...). */
const char *pitr_checksum_name(enum pitr_checksum_kind kind);

#endif
