/*
 * backup_util.h - small helpers shared by the base backup modules:
 * backup.c (backup_label, pitr_backup_open), manifest.c (backup_manifest),
 * tarread.c (reading tars) and extract.c (pitr_backup_extract). Private to
 * them; see backup.h for what the rest of the tool uses.
 */
#ifndef PITR_BACKUP_UTIL_H
#define PITR_BACKUP_UTIL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

/* The read block of libarchive, and of the read/write copy fallback. */
#define IO_BLOCK (1u << 20)

/* Room for a path in a message: a path, a member name and quotes. */
#define NAME_LEN (2 * PATH_MAX + 16)

/* DIR/NAME into BUF, without doubling a slash DIR ends with. 0, or -1 if cut. */
int pitr_join(char *buf, size_t len, const char *dir, const char *name);

/*
 * Parse an LSN "X/Y", each part 1 to 8 hex digits, from S to END. Returns
 * 0, or -1. Not the WAL modules' pitr_lsn_parse(): this one, stricter, reads
 * backup_label and backup_manifest as PostgreSQL writes them.
 */
int pitr_backup_parse_lsn(const char *s, const char *end, uint64_t *lsn);

/* Remove everything below DIR, keeping DIR itself; best effort, links
 * never followed: to undo a partial copy. */
void pitr_empty_dir(const char *dir);

#endif
