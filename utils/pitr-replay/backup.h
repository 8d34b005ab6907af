/*
 * backup.h - a PostgreSQL base backup as pg_basebackup writes it: found,
 * checked, and copied or extracted into a new data directory.
 *
 * Three shapes are recognised:
 *
 *  1. A plain directory (pg_basebackup -Fp): backup_label, PG_VERSION,
 *     global/pg_control and the rest of a data directory, maybe a
 *     backup_manifest.
 *  2. The directory of pg_basebackup -Ft: base.tar (or .tar.gz, .tar.lz4,
 *     .tar.zst) holding the data directory, maybe pg_wal.tar(.gz, ...)
 *     holding pg_wal/, and backup_manifest beside them. A tablespace comes
 *     as <oid>.tar (same compression), listed with its location in the
 *     base tar's tablespace_map.
 *  3. One tar file (any compression libarchive reads) of a data directory's
 *     contents, whose entries may start with "./". When it is a base.tar*
 *     of layout 2 given by itself, the pg_wal.tar* and backup_manifest
 *     beside it belong to it; otherwise a backup_manifest inside the tar is
 *     read. Such a tar may have no tablespaces unless it is a base.tar*.
 *
 * A plain backup's tablespaces are the directories its pg_tblspc/<oid>
 * symbolic links point to (pg_basebackup -Fp --tablespace-mapping).
 *
 * pitr_backup_open() only reads; pitr_backup_extract() writes only below the data
 * directory it is given. Errors are reported with dbops_log_error(), one
 * line naming the file: "X/base.tar.gz": incomplete or damaged tar: ...
 */
#ifndef PITR_BACKUP_H
#define PITR_BACKUP_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"
#include "pgconf.h"
#include "process.h"

/* What backup_label says. */
struct backup_label {
	uint64_t start_lsn; /* START WAL LOCATION */
	uint32_t
		start_tli; /* from the file name in that line; must equal START TIMELINE when present */
	uint64_t checkpoint_lsn; /* CHECKPOINT LOCATION */
	char method[32];	 /* BACKUP METHOD, "" if absent */
	char from[32];		 /* BACKUP FROM, "" if absent */
	char start_time[64];	 /* START TIME, as written */
	char label[256];  /* LABEL (cut at a character boundary if longer) */
	bool incremental; /* PG17 INCREMENTAL FROM LSN present */
};

/* One tablespace of a backup. */
struct backup_tablespace {
	unsigned oid;
	/* Where the backed-up cluster had it (tablespace_map), or for a plain
	 * backup where pg_tblspc/<oid> points: the backup's copy of it. */
	char location[PATH_MAX];
	char tar[PATH_MAX]; /* <oid>.tar* of a tar backup, "" for a plain one */
	char target[PATH_MAX]; /* where the restore puts it, "" until mapped */
	bool created;	       /* the restore made target (so may remove it) */
};

/* --tablespace-map OLD=NEW */
struct tablespace_mapping {
	const char *old_dir;
	const char *new_dir;
};

enum backup_kind {
	BACKUP_DIR,	 /* shape 1 */
	BACKUP_TAR_DIR,	 /* shape 2 */
	BACKUP_TAR_FILE, /* shape 3 */
};

/* How much of global/pg_control is kept: up to the settings recovery
 * needs (restore.c reads them). */
#define PG_CONTROL_HEAD 256

struct base_backup {
	enum backup_kind kind;
	char path[PATH_MAX]; /* as given */
	char base_tar
		[PATH_MAX]; /* the tar holding the data directory (tar kinds) */
	char wal_tar[PATH_MAX]; /* pg_wal.tar* next to it, or "" */
	struct backup_label label;
	uint64_t system_id; /* first 8 bytes of global/pg_control */
	unsigned char control[PG_CONTROL_HEAD]; /* its first bytes */
	size_t control_len;
	int pg_major; /* from PG_VERSION ("15\n" -> 15) */
	bool has_manifest;
	/*
	 * The WAL range of the manifest that ends the backup: the one with the
	 * highest End-LSN (PostgreSQL lists the newest timeline first), so
	 * End-LSN is where the backup becomes consistent. 0 if no manifest.
	 */
	uint64_t manifest_end_lsn;
	uint32_t manifest_tli;
	uint64_t manifest_system_id; /* manifest version 2 only, else 0 */
	struct backup_tablespace *tablespaces; /* by OID; pitr_backup_free() */
	size_t ntablespaces;
	/* The server's `timezone` in the backup's postgresql.conf (includes
	 * followed in a plain backup) and postgresql.auto.conf. */
	struct pitr_conf_value tz_conf, tz_auto;
};

/*
 * Inspect PATH without changing anything and fill *b. A tar is read once,
 * to its end, every entry's data included, so a truncated or damaged tar or
 * compressed stream (and a tar without its end-of-archive marker) is found
 * here rather than halfway through pitr_backup_extract(). pg_wal.tar is read
 * too.
 *
 * Besides the shape, it checks: backup_label parses and is not that of an
 * incremental backup (pg_combinebackup must run first); PG_VERSION holds a
 * major version; global/pg_control has at least 8 bytes; each tablespace
 * has its contents: the <oid>.tar of every tablespace_map line (and no
 * other <oid>.tar), or for a plain backup the directory of its link;
 * every tar entry is a
 * relative path without ".." that is a file, a directory or a symbolic
 * link; backup_manifest, if any, parses, and its system identifier and
 * first WAL range agree with pg_control and backup_label.
 *
 * Returns 0, or -1 after dbops_log_error() (and maybe dbops_log_hint()).
 */
int pitr_backup_open(const char *path, struct base_backup *b);

/* Free what pitr_backup_open() allocated in B (its tablespaces). */
void pitr_backup_free(struct base_backup *b);

/*
 * Choose where each tablespace of B goes: the NEW of the mapping whose OLD
 * is its location, else its location itself (a tar backup only: a plain
 * backup's location is the backup's own copy). Every target must be an
 * absolute path, outside DATADIR, not yet there or an empty directory, and
 * each mapping must match a tablespace. Returns 0, or -1 after an error
 * message naming the tablespace (and a hint).
 */
int pitr_backup_map_tablespaces(struct base_backup *b, const char *datadir,
				const struct tablespace_mapping *maps,
				size_t nmaps);

/*
 * Empty the target of every tablespace of B, and remove those the restore
 * created: after a failed or interrupted extraction.
 */
void pitr_backup_remove_tablespaces(const struct base_backup *b);

/*
 * Parse the text of a backup_label file (NUL-terminated) into *label,
 * as PostgreSQL's read_backup_label() does: the first line must be
 * "START WAL LOCATION: X/Y (file NAME)", the second "CHECKPOINT LOCATION:
 * X/Y"; the lines after are "KEY: value", unknown keys ignored. START
 * TIMELINE must equal the timeline of NAME. Returns 0, or -1 with a
 * one-line reason in ERR (may be NULL), e.g.
 *
 *	line 1: expected "START WAL LOCATION: X/Y (file NAME)", found "..."
 *	line 7: START TIMELINE 2 does not match the timeline 1 of the start WAL file 000000010000000000000002
 */
int pitr_backup_parse_label(const char *text, struct backup_label *label,
			    struct dbops_err *err);

/*
 * Copy (BACKUP_DIR) or extract (tar kinds) the backup B opened by
 * pitr_backup_open() into DATADIR, an existing empty directory: for tars the
 * base tar, then the entries of the pg_wal tar into DATADIR/pg_wal/. Each
 * tablespace goes into its target (pitr_backup_map_tablespaces() first),
 * made if need be, and DATADIR/pg_tblspc/<oid> links to it; tablespace_map
 * is removed (PostgreSQL would link the old locations again from it).
 *
 * Nothing is written outside DATADIR and the tablespace targets: tar
 * entries with an absolute path or a ".." component are refused, a
 * symbolic link is never followed while writing (a symlink pg_wal of a
 * plain backup is copied as the directory it points to).
 * Directories are made 0700 (DATADIR too) and files 0600, as initdb makes
 * them; symbolic links are kept; files keep their modification times. When
 * OWNER is non-NULL and we are root, everything is given to OWNER.
 * Files are written without fsync; syncfs(2) on DATADIR ends the work.
 *
 * STOP (NULL: never) is looked at between blocks and entries: once it is
 * non-zero (a signal handler sets it) the copy stops.
 *
 * Returns 0, or -1 after dbops_log_error() naming the file, or -1 without a
 * message when *STOP stopped it. On failure DATADIR and the targets hold a
 * partial copy, which the caller removes (pitr_backup_remove_tablespaces).
 */
int pitr_backup_extract(const struct base_backup *b, const char *datadir,
			const struct dbops_user *owner,
			const volatile sig_atomic_t *stop);

#endif
