/*
 * walbackup.h - the WAL segments a base backup carries in its own pg_wal
 * (pg_basebackup -X stream or fetch): pg_wal/ of a plain backup, pg_wal.tar*
 * of a -Ft one, pg_wal/ inside a single tar. PostgreSQL reads a segment
 * from pg_wal when restore_command does not have it, so verification reads
 * those the archive lacks from there too.
 */
#ifndef PITR_WALBACKUP_H
#define PITR_WALBACKUP_H

#include <stddef.h>

#include "backup.h"
#include "walarchive.h"

/*
 * When ARC lacks a segment of B's own WAL (from its start to the end its
 * manifest names), add to ARC's listing the complete segments of B's pg_wal
 * that ARC lacks, marked in_backup and read from B (which must outlive
 * ARC), and say so in one info line. Returns 0, or -1 after an error
 * message (an unreadable pg_wal, a damaged tar).
 */
int pitr_walbackup_add(struct wal_archive *arc, const struct base_backup *b);

/*
 * Where segment NAME of B's pg_wal is, for messages:
 * "BASE/pg_wal/NAME" or "BASE/pg_wal.tar.gz: pg_wal/NAME". BUF of LEN.
 */
const char *pitr_walbackup_where(const struct base_backup *b, const char *name,
				 char *buf, size_t len);

#endif
