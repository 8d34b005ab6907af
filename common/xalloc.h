/*
 * xalloc.h - allocation that cannot fail, for tool code.
 *
 * A command-line tool has nothing better to do when memory runs out than to
 * say so and stop, as PostgreSQL's pg_malloc() and util-linux's xmalloc()
 * do; call sites then stay straight-line. Each function here reports
 * "out of memory" through log.h and exits 1 when the C library's
 * allocator fails. Library-grade modules of common/ that promise ENOMEM to
 * their callers (output, metrics) use malloc() itself.
 */
#ifndef DBOPS_XALLOC_H
#define DBOPS_XALLOC_H

#include <stddef.h>

/* malloc(N); N 0 gives a valid pointer to free(). */
void *dbops_xmalloc(size_t n) __attribute__((malloc, returns_nonnull));

/* calloc(COUNT, SIZE), the product checked for overflow. */
void *dbops_xcalloc(size_t count, size_t size)
	__attribute__((malloc, returns_nonnull));

/* realloc(P, COUNT * SIZE), the product checked for overflow. */
void *dbops_xreallocarray(void *p, size_t count, size_t size)
	__attribute__((returns_nonnull));

/* strdup(S). */
char *dbops_xstrdup(const char *s) __attribute__((malloc, returns_nonnull));

/* strndup(S, N): at most N bytes of S, NUL-terminated. */
char *dbops_xstrndup(const char *s, size_t n)
	__attribute__((malloc, returns_nonnull));

/* A new string formatted as printf() would. */
char *dbops_xasprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), malloc, returns_nonnull));

/* Report "out of memory" and exit 1. */
__attribute__((noreturn)) void dbops_xalloc_failed(void);

#endif
