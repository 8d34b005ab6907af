/*
 * load.h - stream one .sql.gz dump into a server: zlib inflates it, the
 * splitter cuts it into statements, each goes to the server as it comes.
 * No zcat, no mysql client process.
 */
#ifndef DR_LOAD_H
#define DR_LOAD_H

#include <stdatomic.h>
#include <stdint.h>

#include <mysql.h>

#include "errbuf.h"

struct dr_load {
	const char *path;      /* the dump */
	MYSQL *conn;	       /* connected, as the admin account */
	_Atomic uint64_t read; /* compressed bytes read so far */
	uint64_t total;	       /* compressed size */
	int64_t statements;
	struct dbops_err err;	      /* why it failed: the first reason */
	struct dr_splitter *splitter; /* while loading */
};

/*
 * Load L->path through L->conn. Returns 0, or -1 with L->err saying what
 * went wrong and where: not gzip, corrupt or truncated compressed data, a
 * dump cut short (no "-- Dump completed" trailer), or an SQL error with the
 * statement's line, its first 80 characters and the server's message.
 */
int dr_load_run(struct dr_load *l);

#endif
