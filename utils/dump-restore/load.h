/*
 * load.h - stream one .sql.gz dump into a server: zlib inflates it, the
 * splitter cuts it into statements, each goes to the server as it comes.
 * No zcat, no mysql client process.
 */
#ifndef DR_LOAD_H
#define DR_LOAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <mysql.h>

#include "errbuf.h"

struct dr_load {
	const char *path;      /* the dump */
	MYSQL *conn;	       /* connected, as the admin account */
	_Atomic uint64_t read; /* compressed bytes read so far */
	uint64_t total;	       /* compressed size */
	int64_t statements;
	const char *database;  /* for a dump that chooses none: made and
				  used before its first statement that may
				  need one (no USE before it) */
	bool allow_incomplete; /* run a dump that looks cut short */
	bool keep_definer;     /* run DEFINER clauses as they are; else
				  left out (definer.h): the loader defines */
	bool header;	       /* it has mysqldump's header comment */
	bool chosen;	       /* a database is the session's */
	uint64_t member_end;   /* where the last whole gzip member ended */
	struct dbops_err err;  /* why it failed: the first reason */
	struct dr_splitter *splitter; /* while loading */
};

/*
 * Load L->path through L->conn. Returns 0, or -1 with L->err saying what
 * went wrong and where: not gzip, corrupt or truncated compressed data, a
 * dump cut short, or an SQL error with the statement's line, its first 80
 * characters and the server's message (also for an error in a later
 * result of a CALL: every result of every statement is read).
 *
 * Cut short means: a dump with mysqldump's header comment that lacks its
 * "-- Dump completed" trailer, or any dump whose last statement lacks its
 * delimiter. A dump without the header (--skip-comments, --compact, by
 * hand) is whole when its gzip stream ended cleanly. With
 * L->allow_incomplete neither is an error (the last statement is run, as
 * the client would).
 *
 * Without L->keep_definer, the DEFINER clause of each CREATE or ALTER of a
 * view, routine, trigger or event is left out (definer.h). A valid gzip
 * stream followed by other bytes is an error naming the offset, as gzip
 * -t warns.
 */
int dr_load_run(struct dr_load *l);

#endif
