/*
 * kvfile.h - the one format of the suite's state files: "key=value" lines.
 *
 *	# written by dump-restore; do not edit while it runs
 *	world=world3
 *	error=line 3: You have an error in your SQL syntax near ')\nstatus=x'
 *
 * 1. A key is 1 to 63 bytes of [a-z0-9_]; a key appears at most once.
 * 2. A value is any bytes but NUL. It is written escaped so that it stays
 *    on its line: a backslash as \\, LF as \n, CR as \r, tab as \t, every
 *    other byte below 0x20 and 0x7f as \xNN (two lower-case hex digits).
 *    All other bytes, UTF-8 or not, are written as they are.
 * 3. Lines end in LF. Empty lines and lines starting with "#" are
 *    comments. Anything else without "=" is an error, as are a bad key, a
 *    repeated key, an unknown escape, and "\x" without two hex digits: a
 *    reader never guesses at a damaged file.
 *
 * Files are written through fileio.h's atomic replace, so a reader sees a
 * whole file or none.
 */
#ifndef DBOPS_KVFILE_H
#define DBOPS_KVFILE_H

#include <stddef.h>
#include <stdio.h>

#include "errbuf.h"

#define DBOPS_KV_KEY_MAX 63

/* Write "KEY=VALUE\n" to F, VALUE escaped (NULL is written as empty). */
void dbops_kv_put(FILE *f, const char *key, const char *value);

/* Write KEY with a printf-formatted value, escaped. */
void dbops_kv_putf(FILE *f, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Called for each pair, in file order, with the unescaped value. Returns 0
 * to go on, or -1 to stop the read (after setting ERR, which the reader
 * prefixes with the line number).
 */
typedef int (*dbops_kv_fn)(void *ctx, const char *key, const char *value,
			   struct dbops_err *err);

/*
 * Pure: parse LEN bytes of TEXT (need not be NUL-terminated), calling FN
 * for each pair. Returns 0, or -1 with ERR set to "line N: <why>".
 */
int dbops_kv_parse(const char *text, size_t len, dbops_kv_fn fn, void *ctx,
		   struct dbops_err *err);

/*
 * Read the file PATH and parse it as above. Returns 0; or -1 with ERR set
 * to the reason, errno ENOENT when there is no such file (so a caller can
 * tell "no state" from "damaged state") and EINVAL when it does not parse.
 */
int dbops_kv_read(const char *path, dbops_kv_fn fn, void *ctx,
		  struct dbops_err *err);

#endif
