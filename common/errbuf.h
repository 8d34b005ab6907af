/*
 * errbuf.h - the reason a function failed, left for its caller to report.
 *
 * Pure code (parsers, decoders, loaders that run in worker threads) does
 * not print: it describes what went wrong in a struct dbops_err and returns
 * -1, and the caller reports it with the context only it knows (the file,
 * the world, the option):
 *
 *	struct dbops_err err = { "" };
 *
 *	if (dbops_timestamp_parse(text, &usec, &err) != 0)
 *		dbops_log_error("invalid time \"%s\": %s", text, err.msg);
 *
 * A message follows log.h's dialect (lower case, no final period) and is
 * one line: the setters turn CR and LF into spaces, so a server's
 * multi-line error text cannot break a line-based file or log it is
 * written to. A message too long for the buffer is cut, ending in "...".
 */
#ifndef DBOPS_ERRBUF_H
#define DBOPS_ERRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define DBOPS_ERR_MAX 1024

struct dbops_err {
	char msg[DBOPS_ERR_MAX]; /* "" while no error was set */
};

/*
 * Format the message into ERR, replacing what it held. ERR may be NULL
 * (the caller does not want the reason). Returns -1, so that a failing
 * function can "return dbops_err_set(err, ...)".
 */
int dbops_err_set(struct dbops_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int dbops_err_setv(struct dbops_err *err, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/*
 * As dbops_err_set(), but only when ERR holds no message yet: the first
 * reason found is the one reported. Returns -1.
 */
int dbops_err_first(struct dbops_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Put the formatted context in front of the message ERR holds, as a caller
 * one level up adds what it knows: "line 3: " + "unterminated quote".
 * Returns -1.
 */
int dbops_err_prefix(struct dbops_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Forget the message. ERR may be NULL. */
void dbops_err_clear(struct dbops_err *err);

/* Whether ERR holds a message. */
static inline bool dbops_err_isset(const struct dbops_err *err)
{
	return err != NULL && err->msg[0] != '\0';
}

#endif
