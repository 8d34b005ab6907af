/*
 * pgarray.h - one-dimensional PostgreSQL arrays in the binary format of
 * array_recv(), built element by element: the batcher sends its batch's
 * uuids, times and counts so, and the server neither parses their text
 * nor the client prints it. Single values too (es_pgbinary_*()): the
 * range read's bounds and rows.
 *
 * The format (all integers big-endian): int32 ndim (1), int32 flags (1
 * when an element is NULL), uint32 element type OID, int32 length, int32
 * lower bound (1); then per element an int32 byte count (-1: NULL) and
 * the element's own binary form.
 */
#ifndef ES_PGARRAY_H
#define ES_PGARRAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Element types (pg_type.oid), the same in every PostgreSQL release. */
#define ES_OID_BOOL	   16
#define ES_OID_INT8	   20
#define ES_OID_TEXT	   25
#define ES_OID_TIMESTAMPTZ 1184
#define ES_OID_UUID	   2950

struct es_pgarray {
	unsigned char *buf;
	size_t len, cap;
	int32_t n;
	bool nulls;
	uint32_t elem;
};

/* An empty array of elements of type ELEM. */
void es_pgarray_init(struct es_pgarray *a, uint32_t elem);

/* Append a uuid given as its 36 characters (any case); false, and
   nothing appended, when it is not one. */
bool es_pgarray_uuid(struct es_pgarray *a, const char *text);
/* Append text (N bytes), a time (microseconds since 1970, UTC), an int8,
   a bool, or NULL. */
void es_pgarray_text(struct es_pgarray *a, const char *s, size_t n);
void es_pgarray_time(struct es_pgarray *a, int64_t unix_us);
void es_pgarray_int8(struct es_pgarray *a, int64_t v);
void es_pgarray_bool(struct es_pgarray *a, bool v);
void es_pgarray_null(struct es_pgarray *a);

/* The array's bytes (valid until the next append or free) and *LEN. */
const char *es_pgarray_bytes(struct es_pgarray *a, int *len);

void es_pgarray_free(struct es_pgarray *a);

/* One value in binary, as a parameter or in a row: a time (microseconds
   since 1970, UTC) as timestamptz's 8 bytes, and the 8 bytes of an int8
   or a timestamptz read back. */
void es_pgbinary_time(int64_t unix_us, unsigned char out[8]);
int64_t es_pgbinary_int8(const unsigned char *in);
int64_t es_pgbinary_to_time(const unsigned char *in);

#endif
