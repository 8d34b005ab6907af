/*
 * fetch.h - `pitr-replay fetch-wal`: the restore_command of a restored
 * server. It copies one file of a WAL archive (plain or compressed) to the
 * place PostgreSQL names, atomically, and meanwhile has the next segments
 * made ready in a spool directory so that the server's next calls are a
 * rename (pgBackRest's archive-get with archive-async, WAL-G's prefetch).
 *
 *	restore_command = '/usr/bin/pitr-replay fetch-wal -a /archive
 *			   --spool /data/pitr-replay/spool %f %p'
 *
 * The spool's rules, which keep it correct:
 * 1. A spooled file has the name of the archive file it was made from:
 *    000000020000000000000007 is timeline 2's segment 7 and nothing else,
 *    so a segment is never served for another timeline.
 * 2. A file is written as NAME.part and renamed to NAME once complete and
 *    checked (its size against its own page header), so a NAME in the
 *    spool is whole; a .part is never served.
 * 3. One prefetcher at a time: a background process holding an exclusive
 *    flock() on SPOOL/.lock (its pid written in it). It claims the names it
 *    will make (NAME.part) before the call that started it returns, so a
 *    later call finds the claim and waits for it instead of doing the same
 *    work again; a claim whose prefetcher is gone is ignored.
 * 4. A spool serves one archive: SPOOL/.archive holds its absolute path.
 *    A call with another archive does not read the spool, and the next
 *    prefetcher empties it before it makes it this archive's.
 * 5. The spool is optional: without the directory, every call reads the
 *    archive itself and nothing is prefetched.
 */
#ifndef PITR_FETCH_H
#define PITR_FETCH_H

#include <stdbool.h>

/* Exit statuses, as PostgreSQL reads a restore_command's. */
enum {
	FETCH_OK = 0,	    /* DEST written */
	FETCH_ABSENT = 1,   /* no such file in the archive: try elsewhere */
	FETCH_FAILED = 126, /* anything else: PostgreSQL stops, fatal */
	FETCH_PREFETCH_DEFAULT = 8,
	FETCH_PREFETCH_MAX = 64,
};

struct fetch_opts {
	const char *archive; /* the archive directory */
	const char *spool;   /* NULL: no spool, no prefetch */
	int prefetch;	     /* segments made ready ahead; 0: none */
	const char *name;    /* %f: the file PostgreSQL wants */
	const char *dest;    /* %p: where it goes (relative to the cwd) */
};

/*
 * Fetch O->name from O->archive into O->dest, from the spool when it is
 * there, then start prefetching after it. Returns FETCH_OK, FETCH_ABSENT
 * (nothing printed: PostgreSQL probes for files that need not exist) or
 * FETCH_FAILED after dbops_log_error().
 */
int pitr_fetch_wal_run(const struct fetch_opts *o);

/*
 * End any prefetcher still at work in SPOOL (SIGTERM, then waiting for its
 * lock, 10 s at most) and remove SPOOL with what it holds. 0, or -1 after
 * a warning. A SPOOL that does not exist is 0.
 */
int pitr_fetch_spool_remove(const char *spool);

/*
 * Copy or decompress the archive file open on IN_FD (always closed) into
 * OUT_FD; COMPRESSED is its suffix ("" for a plain file, ".gz", ".zst",
 * ".lz4", ".xz", ".bz2"); PATH names it in messages. Returns the bytes
 * written, or -1 after dbops_log_error(). The one place fetch-wal
 * decompresses: point it at the archive reader's once that reads all of
 * them.
 */
long long pitr_fetch_decompress(int in_fd, const char *compressed,
				const char *path, int out_fd);

#endif
