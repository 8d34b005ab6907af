/*
 * request.h - the pure parts of event-store's HTTP API: what a request
 * body, a UUID, a symbol and a range bound are, and how answers are
 * written (times, JSON strings, error bodies). No I/O, no globals: unit
 * tests and fuzzers feed them bytes.
 */
#ifndef ES_REQUEST_H
#define ES_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A UUID in its 8-4-4-4-12 form, without the NUL. */
#define ES_UUID_LEN 36

/* "YYYY-MM-DD HH:MM:SS.ffffff" and its NUL (years up to 9999). */
#define ES_TIME_LEN 27

/* Room for an error message of the API (the texts it echoes are cut). */
#define ES_MSG_MAX 512

enum es_content {
	ES_CONTENT_JSON, /* application/json (or no Content-Type) */
	ES_CONTENT_FORM, /* application/x-www-form-urlencoded */
	ES_CONTENT_OTHER,
};

/* The fields of a POST body, checked. */
struct es_fields {
	char uuid[ES_UUID_LEN + 1]; /* lower case */
	char symbol;		    /* 'a' to 'z'; 0 when not wanted */
};

/*
 * The kind of a Content-Type header value (NULL: none, read as JSON).
 * Parameters such as "; charset=utf-8" are ignored; the type is matched
 * without regard to case.
 */
enum es_content es_content_kind(const char *header);

/*
 * Whether TEXT (NUL-terminated) is a UUID: 8-4-4-4-12 hex digits, any case,
 * any version. When it is, OUT (ES_UUID_LEN + 1 bytes) holds it lower case.
 */
bool es_uuid_parse(const char *text, char *out);

/* Whether TEXT is one lower-case letter a to z. */
bool es_symbol_ok(const char *text);

/* Whether the symbol C is a vowel (a e i o u): the API's "best guess". */
bool es_symbol_vowel(char c);

/*
 * Parse the body (LEN bytes, not NUL-terminated) of a POST of kind KIND
 * into OUT: "uuid" always, "symbol" when WANT_SYMBOL. Returns 0, or the
 * HTTP status of the error (400, 415) with its message in MSG (MSGLEN
 * bytes), unescaped, as the API words it: "malformed JSON body",
 * "missing field \"uuid\"", ... CTYPE is the header, for the 415 message.
 */
int es_request_parse(enum es_content kind, const char *ctype, const char *body,
		     size_t len, bool want_symbol, struct es_fields *out,
		     char *msg, size_t msglen);

/*
 * A range bound, UTC: "YYYY-MM-DD", "YYYY-MM-DD HH:MM", "YYYY-MM-DD
 * HH:MM:SS", the last with ".f" to ".ffffff"; "T" (or "t") or one space
 * between date and time. Into microseconds since the epoch. Returns 0, or
 * -1 for anything else (an impossible date or time included).
 */
int es_time_parse(const char *text, int64_t *us);

/* US as "YYYY-MM-DD HH:MM:SS.ffffff" (UTC, always 6 digits) into BUF. */
void es_time_format(int64_t us, char buf[ES_TIME_LEN]);

/*
 * TEXT as a JSON string, quotes included, in a malloc'd string: quote,
 * backslash and control characters escaped; bytes that are not UTF-8
 * become U+FFFD, so the answer is always valid JSON.
 */
char *es_json_string(const char *text);

/* The error body {"error":"MSG"} in a malloc'd string. */
char *es_error_body(const char *msg);

#endif
