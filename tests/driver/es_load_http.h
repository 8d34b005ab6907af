/*
 * es_load_http.h - the HTTP/1.x answer parser of es-load (es-load.c), apart
 * so that tests/unit/test_es_load_http.c can feed it bytes. Pure: bytes in,
 * the answer's status, extent and connection fate out. Static functions in a
 * header because tests/driver programs are one file each; included by those
 * two files only.
 *
 * What it accepts, and why so little: es-load sends one request at a time
 * on a connection, so an answer is whole when its head and its body are;
 * bytes after it are a protocol error. The body is framed by
 * Content-Length, by chunked transfer coding, or, without either, by the
 * end of the connection. 1xx, 204 and 304 answers have no body.
 */
#ifndef ES_LOAD_HTTP_H
#define ES_LOAD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

/* A head longer than this is refused (a sane server's is a few hundred). */
#define ES_HTTP_HEAD_MAX 16384

enum es_http_result {
	ES_HTTP_MORE, /* not whole yet: read more */
	ES_HTTP_DONE, /* whole: see struct es_http_answer */
	ES_HTTP_BAD,  /* not an HTTP/1.x answer es-load understands */
};

struct es_http_answer {
	int status;	   /* 100 to 999 */
	bool keep_alive;   /* the connection may carry the next request */
	size_t length;	   /* bytes of the whole answer, head and body */
	size_t body;	   /* offset of the body (of its first chunk line
			      when chunked) */
	size_t body_bytes; /* the body's bytes as framed (chunked: with the
			      chunk lines) */
};

/* Whether the LEN bytes at P, case aside, are the word WORD. */
static bool es_http_word(const char *p, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(p, word, len) == 0;
}

/* Whether the comma-separated list at P (LEN bytes) has the token WORD. */
static bool es_http_has_token(const char *p, size_t len, const char *word)
{
	size_t i = 0;

	while (i < len) {
		size_t start, end;

		while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
			i++;
		start = i;
		while (i < len && p[i] != ',')
			i++;
		end = i;
		while (end > start && (p[end - 1] == ' ' || p[end - 1] == '\t'))
			end--;
		if (end > start && es_http_word(p + start, end - start, word))
			return true;
	}
	return false;
}

/* A decimal Content-Length at P (LEN bytes, trimmed); -1 if malformed. */
static long long es_http_length(const char *p, size_t len)
{
	long long n = 0;

	while (len > 0 && (*p == ' ' || *p == '\t'))
		p++, len--;
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len == 0 || len > 15)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		n = n * 10 + (p[i] - '0');
	}
	return n;
}

/* What the head's header lines say about the body and the connection. */
struct es_http_head {
	long long content_length; /* -1: none */
	bool chunked;
	bool close;
	bool keep_alive;
};

/*
 * Read the header lines from P to END (each ending in CRLF, END just after
 * the last one's). Returns false on a malformed line or a conflict.
 */
static bool es_http_headers(const char *p, const char *end,
			    struct es_http_head *h)
{
	while (p < end) {
		const char *eol = memchr(p, '\r', (size_t)(end - p));
		const char *colon;

		if (eol == NULL || eol + 1 >= end || eol[1] != '\n')
			return false;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL || colon == p)
			return false;
		if (es_http_word(p, (size_t)(colon - p), "content-length")) {
			long long n = es_http_length(colon + 1,
						     (size_t)(eol - colon - 1));

			if (n < 0 ||
			    (h->content_length >= 0 && h->content_length != n))
				return false;
			h->content_length = n;
		} else if (es_http_word(p, (size_t)(colon - p),
					"transfer-encoding")) {
			h->chunked = es_http_has_token(
				colon + 1, (size_t)(eol - colon - 1),
				"chunked");
		} else if (es_http_word(p, (size_t)(colon - p), "connection")) {
			size_t n = (size_t)(eol - colon - 1);

			h->close |= es_http_has_token(colon + 1, n, "close");
			h->keep_alive |=
				es_http_has_token(colon + 1, n, "keep-alive");
		}
		p = eol + 2;
	}
	return !(h->chunked && h->content_length >= 0);
}

/*
 * The extent of a chunked body at P (LEN bytes): its bytes, up to the end
 * of the trailer section, in *OUT. ES_HTTP_MORE when not whole.
 */
static enum es_http_result es_http_chunked(const char *p, size_t len,
					   size_t *out)
{
	size_t i = 0;

	for (;;) {
		size_t size = 0, digits = 0;
		const char *eol;

		while (i < len && digits < 16) {
			char c = p[i];
			int v = c >= '0' && c <= '9'   ? c - '0'
				: c >= 'a' && c <= 'f' ? c - 'a' + 10
				: c >= 'A' && c <= 'F' ? c - 'A' + 10
						       : -1;
			if (v < 0)
				break;
			size = size * 16 + (size_t)v;
			digits++, i++;
		}
		if (i == len)
			return ES_HTTP_MORE;
		if (digits == 0 || (p[i] != '\r' && p[i] != ';'))
			return ES_HTTP_BAD;
		eol = memchr(p + i, '\n', len - i);
		if (eol == NULL)
			return len - i > 256 ? ES_HTTP_BAD : ES_HTTP_MORE;
		if (eol[-1] != '\r')
			return ES_HTTP_BAD;
		i = (size_t)(eol - p) + 1;
		if (size == 0)
			break;
		if (len - i < size + 2)
			return ES_HTTP_MORE;
		if (p[i + size] != '\r' || p[i + size + 1] != '\n')
			return ES_HTTP_BAD;
		i += size + 2;
	}
	/* Trailer lines, then the empty line. */
	for (;;) {
		const char *eol;

		if (len - i < 2)
			return ES_HTTP_MORE;
		if (p[i] == '\r' && p[i + 1] == '\n') {
			*out = i + 2;
			return ES_HTTP_DONE;
		}
		eol = memchr(p + i, '\n', len - i);
		if (eol == NULL)
			return ES_HTTP_MORE;
		i = (size_t)(eol - p) + 1;
	}
}

/*
 * The status line at BUF (up to its CRLF at EOL): "HTTP/1.x SSS ...".
 * Sets *STATUS and *HTTP11; returns false when it is not one.
 */
static bool es_http_status_line(const char *buf, const char *eol, int *status,
				bool *http11)
{
	size_t n = (size_t)(eol - buf);

	if (n < 12 || memcmp(buf, "HTTP/1.", 7) != 0 ||
	    (buf[7] != '0' && buf[7] != '1') || buf[8] != ' ')
		return false;
	for (int i = 9; i < 12; i++)
		if (buf[i] < '0' || buf[i] > '9')
			return false;
	if (buf[9] == '0' || (n > 12 && buf[12] != ' '))
		return false;
	*status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	*http11 = buf[7] == '1';
	return true;
}

/*
 * Parse the answer at the start of BUF (LEN bytes read so far; EOF: the
 * server closed the connection after them). ES_HTTP_DONE fills *A;
 * ES_HTTP_MORE asks for more bytes (never when EOF); ES_HTTP_BAD is a
 * malformed or truncated answer. Bytes after the answer are the caller's
 * to judge (A->length < LEN).
 */
static enum es_http_result es_http_parse(const char *buf, size_t len, bool eof,
					 struct es_http_answer *a)
{
	struct es_http_head h = { .content_length = -1 };
	const char *head_end, *eol;
	bool http11;
	size_t body;

	head_end = memmem(buf, len, "\r\n\r\n", 4);
	if (head_end == NULL)
		return eof || len > ES_HTTP_HEAD_MAX ? ES_HTTP_BAD
						     : ES_HTTP_MORE;
	body = (size_t)(head_end - buf) + 4;
	if (body > ES_HTTP_HEAD_MAX)
		return ES_HTTP_BAD;
	eol = memmem(buf, len, "\r\n", 2);
	if (!es_http_status_line(buf, eol, &a->status, &http11))
		return ES_HTTP_BAD;
	if (!es_http_headers(eol + 2, head_end + 2, &h))
		return ES_HTTP_BAD;
	a->keep_alive = http11 ? !h.close : h.keep_alive && !h.close;
	a->body = body;
	if (a->status < 200 || a->status == 204 || a->status == 304) {
		a->body_bytes = 0;
	} else if (h.chunked) {
		enum es_http_result r =
			es_http_chunked(buf + body, len - body, &a->body_bytes);

		if (r != ES_HTTP_DONE)
			return r == ES_HTTP_MORE && !eof ? ES_HTTP_MORE
							 : ES_HTTP_BAD;
	} else if (h.content_length >= 0) {
		if (len - body < (size_t)h.content_length)
			return eof ? ES_HTTP_BAD : ES_HTTP_MORE;
		a->body_bytes = (size_t)h.content_length;
	} else {
		/* Framed by the end of the connection. */
		if (!eof)
			return ES_HTTP_MORE;
		a->body_bytes = len - body;
		a->keep_alive = false;
	}
	a->length = body + a->body_bytes;
	return ES_HTTP_DONE;
}

#endif
