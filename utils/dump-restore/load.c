/*
 * load.c - a dump into a server, streamed. See load.h.
 *
 * Checks catch a dump that is not whole: zlib's (the file ends inside the
 * compressed stream, or its CRC does not match), the last statement's
 * delimiter, and, for a dump with mysqldump's header comment, its trailer
 * line, which a dump killed before its end lacks even when gzip closed the
 * stream cleanly. A dump without the header (--skip-comments, --compact,
 * a script written by hand) has no trailer either: see load.h.
 */
#include "load.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "definer.h"
#include "errbuf.h"
#include "split.h"
#include "xalloc.h"

#define IN_BYTES  (256u << 10)
#define OUT_BYTES (1u << 20)

/*
 * The first 80 characters of a statement (UTF-8: a character is a lead byte
 * and its continuation bytes), on one line. BUF needs 80 * 4 + 1 bytes.
 */
static void statement_start(const char *stmt, size_t len, char *buf,
			    size_t size)
{
	size_t n = 0, chars = 0;

	for (size_t i = 0; i < len && n + 1 < size; i++) {
		unsigned char c = (unsigned char)stmt[i];

		if ((c & 0xc0) != 0x80 && chars++ == 80)
			break;
		buf[n++] =
			(c == '\n' || c == '\r' || c == '\t') ? ' ' : (char)c;
	}
	buf[n] = '\0';
}

/* The statement failed: its line, its start and the server's words. */
static int statement_failed(struct dr_load *l, const char *stmt, size_t len,
			    long line)
{
	char start[80 * 4 + 1];

	statement_start(stmt, len, start, sizeof(start));
	dbops_err_first(&l->err, "line %ld: %s (statement: \"%s\")", line,
			mysql_error(l->conn), start);
	return 1;
}

/*
 * Before a statement that may need a database when the dump chose none
 * yet: L->database, made when missing, becomes the session's, as
 * `mariadb NAME <dump` does. 0, or -1 with L->err.
 */
static int choose_database(struct dr_load *l, const char *stmt, size_t len)
{
	enum dr_stmt_kind kind = dr_split_kind(stmt, len);
	char sql[600], ident[520];
	size_t n = 0;

	if (l->chosen || kind == DR_STMT_ANY || l->database == NULL)
		return 0;
	l->chosen = true;
	if (kind == DR_STMT_USE)
		return 0;
	ident[n++] = '`';
	for (const char *p = l->database; *p && n + 3 < sizeof(ident); p++) {
		if (*p == '`')
			ident[n++] = '`';
		ident[n++] = *p;
	}
	ident[n++] = '`';
	ident[n] = '\0';
	snprintf(sql, sizeof(sql), "CREATE DATABASE IF NOT EXISTS %s", ident);
	if (mysql_query(l->conn, sql) != 0 ||
	    mysql_select_db(l->conn, l->database) != 0) {
		dbops_err_first(
			&l->err,
			"could not make database \"%s\" for a dump that chooses none: %s",
			l->database, mysql_error(l->conn));
		return -1;
	}
	return 0;
}

/* Run one statement and read all its results. */
static int run_one(struct dr_load *l, const char *stmt, size_t len, long line)
{
	MYSQL_RES *res;
	int more;

	if (choose_database(l, stmt, len) != 0)
		return 1;
	if (mysql_real_query(l->conn, stmt, (unsigned long)len) != 0)
		return statement_failed(l, stmt, len, line);
	/* A statement may answer with rows (a SELECT in a dump), a CALL
	 * with several results and then its status: read them all, or the
	 * next statement would be "out of sync". */
	do {
		res = mysql_store_result(l->conn);
		if (res != NULL)
			mysql_free_result(res);
		else if (mysql_field_count(l->conn) != 0)
			return statement_failed(l, stmt, len, line);
	} while ((more = mysql_next_result(l->conn)) == 0);
	if (more > 0)
		return statement_failed(l, stmt, len, line);
	l->statements++;
	/* Quotes and backslashes read as the session's sql_mode says, as the
	 * client does: the dump's own SET sql_mode can change them. */
	dr_split_set_modes(
		l->splitter,
		(l->conn->server_status & SERVER_STATUS_NO_BACKSLASH_ESCAPES
			 ? DR_SPLIT_NO_BACKSLASH_ESCAPES
			 : 0) |
			(l->conn->server_status & SERVER_STATUS_ANSI_QUOTES
				 ? DR_SPLIT_ANSI_QUOTES
				 : 0));
	return 0;
}

/* The splitter's callback: run one statement. */
static int run_statement(void *arg, const char *stmt, size_t len, long line)
{
	struct dr_load *l = arg;
	size_t from, to;

	if (!l->keep_definer && dr_definer_find(stmt, len, &from, &to)) {
		/* The clause left out: the loading account defines it. */
		char *copy = dbops_xmalloc(len - (to - from));
		int rc;

		memcpy(copy, stmt, from);
		memcpy(copy + from, stmt + to, len - to);
		rc = run_one(l, copy, len - (to - from), line);
		free(copy);
		return rc;
	}
	return run_one(l, stmt, len, line);
}

/* zlib's complaint in words a user can act on. */
static void gzip_error(struct dr_load *l, z_stream *zs, int ret)
{
	uint64_t at = atomic_load(&l->read) - zs->avail_in;

	if (ret == Z_DATA_ERROR && zs->total_out == 0 && zs->msg &&
	    strcmp(zs->msg, "incorrect header check") == 0 && l->member_end > 0)
		/* inflateReset() zeroed total_out: after a whole member. */
		dbops_err_first(
			&l->err,
			"trailing garbage after the gzip data, at byte %llu (the dump before it was loaded; gzip -t says \"trailing garbage ignored\")",
			(unsigned long long)l->member_end);
	else if (ret == Z_DATA_ERROR && zs->total_out == 0 && zs->msg &&
		 strcmp(zs->msg, "incorrect header check") == 0)
		dbops_err_first(&l->err, "not a gzip file");
	else if (ret == Z_DATA_ERROR && zs->msg &&
		 strcmp(zs->msg, "incorrect data check") == 0)
		dbops_err_first(&l->err, "gzip CRC error: the data is corrupt");
	else if (ret == Z_MEM_ERROR)
		dbops_xalloc_failed();
	else
		dbops_err_first(&l->err, "corrupt gzip data at byte %llu: %s",
				(unsigned long long)at,
				zs->msg ? zs->msg : "unknown error");
}

/*
 * Inflate everything in zs's input and feed it to the splitter. Returns 0,
 * 1 when the compressed stream ended, -1 on an error (in l->err).
 */
static int inflate_some(struct dr_load *l, z_stream *zs, char *out,
			struct dr_splitter *sp, bool *started)
{
	int ended = 0;

	do {
		int ret;

		zs->next_out = (Bytef *)out;
		zs->avail_out = OUT_BYTES;
		ret = inflate(zs, Z_NO_FLUSH);
		if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
			gzip_error(l, zs, ret);
			return -1;
		}
		if (OUT_BYTES - zs->avail_out > 0) {
			if (!*started)
				l->header = dr_split_dump_header(
					out, OUT_BYTES - zs->avail_out);
			*started = true;
			int rc = dr_split_feed(sp, out,
					       OUT_BYTES - zs->avail_out,
					       run_statement, l);

			if (rc != 0) {
				if (rc < 0)
					dbops_err_first(&l->err, "line %ld: %s",
							dr_split_error_line(sp),
							dr_split_strerror(rc));
				return -1;
			}
		}
		if (ret == Z_STREAM_END) {
			/* gzip files may hold several members in a row. */
			ended = 1;
			l->member_end = atomic_load(&l->read) - zs->avail_in;
			if (zs->avail_in == 0)
				break;
			inflateReset(zs);
			ended = 0;
		} else if (ret == Z_BUF_ERROR) {
			break; /* it needs more input */
		}
	} while (zs->avail_in > 0 || zs->avail_out == 0);
	return ended;
}

static int finish(struct dr_load *l, struct dr_splitter *sp)
{
	long line = 0;
	int rc = dr_split_finish(sp, run_statement, l, &line);

	if (dbops_err_isset(&l->err))
		return -1;
	if (rc == DR_SPLIT_UNTERMINATED && l->allow_incomplete) {
		size_t len;
		const char *stmt = dr_split_pending(sp, &len);

		return run_statement(l, stmt, len, line) == 0 ? 0 : -1;
	}
	if (rc == DR_SPLIT_UNTERMINATED) {
		dbops_err_first(
			&l->err,
			"the dump is cut short: its last statement, at line %ld, lacks its delimiter (--allow-incomplete runs it)",
			line);
		return -1;
	}
	if (rc == 0 && l->header && !dr_split_saw_trailer(sp) &&
	    !l->allow_incomplete) {
		dbops_err_first(
			&l->err,
			"the dump is cut short: it has mysqldump's header but lacks its \"-- Dump completed\" last line (--allow-incomplete accepts it)");
		return -1;
	}
	if (rc != 0) {
		dbops_err_first(&l->err, "line %ld: %s", line,
				dr_split_strerror(rc));
		return -1;
	}
	return 0;
}

int dr_load_run(struct dr_load *l)
{
	struct dr_splitter *sp = dr_split_new();
	char *in = dbops_xmalloc(IN_BYTES), *out = dbops_xmalloc(OUT_BYTES);
	z_stream zs = { 0 };
	bool started = false, ended = false;
	struct stat st;
	int fd = -1, rc = -1, z;

	if (sp == NULL)
		dbops_xalloc_failed();
	dbops_err_clear(&l->err);
	l->splitter = sp;
	l->header = false;
	l->chosen = false;
	l->member_end = 0;
	atomic_store(&l->read, 0);
	z = inflateInit2(&zs, 15 + 16);
	if (z == Z_MEM_ERROR)
		dbops_xalloc_failed();
	if (z != Z_OK) {
		dbops_err_first(&l->err, "could not start zlib: %s",
				zs.msg ? zs.msg : zError(z));
		goto out;
	}
	fd = open(l->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		dbops_err_first(&l->err, "could not open the dump: %s",
				strerror(errno));
		goto out;
	}
	l->total = (uint64_t)st.st_size;
	for (;;) {
		ssize_t n = read(fd, in, IN_BYTES);
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			dbops_err_first(&l->err, "could not read the dump: %s",
					strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		atomic_fetch_add(&l->read, (uint64_t)n);
		zs.next_in = (Bytef *)in;
		zs.avail_in = (uInt)n;
		r = inflate_some(l, &zs, out, sp, &started);
		if (r < 0)
			goto out;
		ended = r == 1;
	}
	if (!started && l->total == 0) {
		dbops_err_first(&l->err, "the dump is empty");
		goto out;
	}
	if (!ended) {
		dbops_err_first(
			&l->err,
			"truncated gzip: the file ends inside the compressed data (at byte %llu)",
			(unsigned long long)l->total);
		goto out;
	}
	rc = finish(l, sp);
out:
	if (fd >= 0)
		close(fd);
	inflateEnd(&zs);
	dr_split_free(sp);
	l->splitter = NULL;
	free(in);
	free(out);
	return rc;
}
