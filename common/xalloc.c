/*
 * xalloc.c - allocation that exits on failure. See xalloc.h.
 */
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void dbops_xalloc_failed(void)
{
	dbops_log_fatal("out of memory");
}

void *dbops_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		dbops_xalloc_failed();
	return p;
}

void *dbops_xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (p == NULL)
		dbops_xalloc_failed();
	return p;
}

void *dbops_xreallocarray(void *p, size_t count, size_t size)
{
	size_t bytes;
	void *grown;

	if (size != 0 && count > (size_t)-1 / size)
		dbops_xalloc_failed();
	bytes = count * size;
	grown = realloc(p, bytes > 0 ? bytes : 1);
	if (grown == NULL)
		dbops_xalloc_failed();
	return grown;
}

char *dbops_xstrdup(const char *s)
{
	char *copy = strdup(s);

	if (copy == NULL)
		dbops_xalloc_failed();
	return copy;
}

char *dbops_xstrndup(const char *s, size_t n)
{
	char *copy = strndup(s, n);

	if (copy == NULL)
		dbops_xalloc_failed();
	return copy;
}

char *dbops_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		dbops_xalloc_failed();
	return s;
}
