/*
 * pgarray.c - PostgreSQL arrays in binary (see pgarray.h).
 */
#include "pgarray.h"

#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "xalloc.h"

/* Room for the header: ndim, flags, element type, length, lower bound. */
#define HEADER 20

/* Microseconds from 1970-01-01 to 2000-01-01, PostgreSQL's epoch. */
#define PG_EPOCH_US INT64_C(946684800000000)

static void reserve(struct es_pgarray *a, size_t more)
{
	if (a->len + more > a->cap) {
		a->cap = (a->len + more) * 2;
		a->buf = dbops_xreallocarray(a->buf, a->cap, 1);
	}
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* Append an element's byte count and room for its bytes; those bytes. */
static unsigned char *element(struct es_pgarray *a, int32_t size)
{
	unsigned char *p;

	reserve(a, 4 + (size > 0 ? (size_t)size : 0));
	p = a->buf + a->len;
	put32(p, (uint32_t)size);
	a->len += 4 + (size > 0 ? (size_t)size : 0);
	a->n++;
	return p + 4;
}

void es_pgarray_init(struct es_pgarray *a, uint32_t elem)
{
	*a = (struct es_pgarray){ .elem = elem };
	reserve(a, HEADER + 64);
	a->len = HEADER;
}

bool es_pgarray_uuid(struct es_pgarray *a, const char *text)
{
	unsigned char bytes[16];
	int k = 0;

	for (int i = 0; i < 36; i++) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (text[i] != '-')
				return false;
			continue;
		}
		hi = dbops_hex_digit(text[i]);
		lo = hi < 0 ? -1 : dbops_hex_digit(text[i + 1]);
		if (lo < 0)
			return false;
		bytes[k++] = (unsigned char)(hi << 4 | lo);
		i++;
	}
	if (text[36] != '\0')
		return false;
	memcpy(element(a, 16), bytes, 16);
	return true;
}

void es_pgarray_text(struct es_pgarray *a, const char *s, size_t n)
{
	memcpy(element(a, (int32_t)n), s, n);
}

void es_pgarray_time(struct es_pgarray *a, int64_t unix_us)
{
	put64(element(a, 8), (uint64_t)(unix_us - PG_EPOCH_US));
}

void es_pgarray_int8(struct es_pgarray *a, int64_t v)
{
	put64(element(a, 8), (uint64_t)v);
}

void es_pgarray_bool(struct es_pgarray *a, bool v)
{
	*element(a, 1) = v ? 1 : 0;
}

void es_pgarray_null(struct es_pgarray *a)
{
	element(a, -1);
	a->nulls = true;
}

const char *es_pgarray_bytes(struct es_pgarray *a, int *len)
{
	put32(a->buf, 1);
	put32(a->buf + 4, a->nulls ? 1 : 0);
	put32(a->buf + 8, a->elem);
	put32(a->buf + 12, (uint32_t)a->n);
	put32(a->buf + 16, 1);
	*len = (int)a->len;
	return (const char *)a->buf;
}

void es_pgarray_free(struct es_pgarray *a)
{
	free(a->buf);
	*a = (struct es_pgarray){ 0 };
}

void es_pgbinary_time(int64_t unix_us, unsigned char out[8])
{
	put64(out, (uint64_t)(unix_us - PG_EPOCH_US));
}

int64_t es_pgbinary_int8(const unsigned char *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return (int64_t)v;
}

int64_t es_pgbinary_to_time(const unsigned char *in)
{
	return es_pgbinary_int8(in) + PG_EPOCH_US;
}
