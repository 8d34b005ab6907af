/*
 * errbuf.c - error messages left for the caller. See errbuf.h.
 */
#include "errbuf.h"

#include <stdio.h>
#include <string.h>

/* One line, and a visible cut when the text did not fit. */
static void tidy(struct dbops_err *err, int wanted)
{
	for (char *p = err->msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (wanted >= (int)sizeof(err->msg))
		memcpy(err->msg + sizeof(err->msg) - 4, "...", 4);
}

int dbops_err_setv(struct dbops_err *err, const char *fmt, va_list ap)
{
	int n;

	if (err == NULL)
		return -1;
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (n < 0)
		snprintf(err->msg, sizeof(err->msg), "(unprintable message)");
	tidy(err, n);
	return -1;
}

int dbops_err_set(struct dbops_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dbops_err_setv(err, fmt, ap);
	va_end(ap);
	return -1;
}

int dbops_err_first(struct dbops_err *err, const char *fmt, ...)
{
	va_list ap;

	if (dbops_err_isset(err))
		return -1;
	va_start(ap, fmt);
	dbops_err_setv(err, fmt, ap);
	va_end(ap);
	return -1;
}

int dbops_err_prefix(struct dbops_err *err, const char *fmt, ...)
{
	struct dbops_err old;
	char head[DBOPS_ERR_MAX];
	va_list ap;

	if (err == NULL)
		return -1;
	memcpy(&old, err, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	return dbops_err_set(err, "%s%s", head, old.msg);
}

void dbops_err_clear(struct dbops_err *err)
{
	if (err != NULL)
		err->msg[0] = '\0';
}
