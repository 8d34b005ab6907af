/*
 * fuzz_event_store_request - libFuzzer target for what event-store reads
 * of a request (utils/event-store/request.c): the Content-Type, the JSON
 * or form body of a POST, the UUID and symbol in it, the range bounds of
 * the query string; and the JSON it writes back around those texts.
 *
 * The first byte picks the body's kind (bits 0-1) and whether a symbol is
 * wanted (bit 2); the rest is the body, also read as a header, a UUID, a
 * time and a string to echo.
 *
 * Properties: a JSON body taken as JSON (accepted, or refused for its
 * fields rather than as "malformed JSON body") is JSON by RFC 8259, as a
 * strict reader written here finds; an accepted body gives a lower-case
 * UUID that parses again, and a symbol a to z when one is wanted; a
 * refusal is 400 or 415 with a message; every string es_json_string() and
 * es_error_body() write parses with json-c and, for UTF-8 text, gives the
 * text back; a time that parses prints and parses back to the same
 * instant.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json.h>

#include "fuzzutil.h"
#include "utf8.h"

#include "../../utils/event-store/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A strict reader of RFC 8259: the end of the value at P, or NULL. */
static const char *value(const char *p, const char *end, int depth);

static const char *ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static const char *string(const char *p, const char *end)
{
	if (p >= end || *p++ != '"')
		return NULL;
	while (p < end && *p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p++ != '\\')
			continue;
		if (p >= end)
			return NULL;
		if (*p == 'u') {
			for (int i = 1; i <= 4; i++)
				if (p + i >= end ||
				    !isxdigit((unsigned char)p[i]))
					return NULL;
			p += 5;
		} else if (strchr("\"\\/bfnrt", *p) != NULL && *p != '\0') {
			p++;
		} else {
			return NULL;
		}
	}
	return p < end ? p + 1 : NULL;
}

static const char *digits(const char *p, const char *end)
{
	const char *s = p;

	while (p < end && isdigit((unsigned char)*p))
		p++;
	return p == s ? NULL : p;
}

static const char *number(const char *p, const char *end)
{
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if ((p = digits(p, end)) == NULL)
		return NULL;
	if (p < end && *p == '.' && (p = digits(p + 1, end)) == NULL)
		return NULL;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		p = digits(p, end);
	}
	return p;
}

static const char *members(const char *p, const char *end, int depth, char open,
			   char close)
{
	p = ws(p + 1, end);
	if (p < end && *p == close)
		return p + 1;
	for (;;) {
		if (open == '{') {
			if ((p = string(ws(p, end), end)) == NULL)
				return NULL;
			p = ws(p, end);
			if (p >= end || *p++ != ':')
				return NULL;
		}
		if ((p = value(p, end, depth + 1)) == NULL || p >= end)
			return NULL;
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *value(const char *p, const char *end, int depth)
{
	static const char *const words[] = { "true", "false", "null" };

	p = ws(p, end);
	if (p >= end || depth > 200)
		return NULL;
	if (*p == '{' || *p == '[')
		p = members(p, end, depth, *p, *p == '{' ? '}' : ']');
	else if (*p == '"')
		p = string(p, end);
	else if (*p == '-' || isdigit((unsigned char)*p))
		p = number(p, end);
	else {
		size_t i = 0;

		while (i < 3 && ((size_t)(end - p) < strlen(words[i]) ||
				 memcmp(p, words[i], strlen(words[i])) != 0))
			i++;
		p = i < 3 ? p + strlen(words[i]) : NULL;
	}
	return p == NULL ? NULL : ws(p, end);
}

/* TEXT written as a JSON string parses back to TEXT when it is UTF-8. */
static void echo(const char *text)
{
	char *json = es_json_string(text), *body;
	struct json_object *o = json_tokener_parse(json);

	if (o == NULL || !json_object_is_type(o, json_type_string))
		abort();
	if (dbops_utf8_valid(text, strlen(text)) &&
	    strcmp(json_object_get_string(o), text) != 0) {
		fprintf(stderr, "%s does not read back\n", json);
		abort();
	}
	json_object_put(o);
	free(json);
	body = es_error_body(text);
	o = json_tokener_parse(body);
	if (o == NULL || !json_object_is_type(o, json_type_object))
		abort();
	json_object_put(o);
	free(body);
}

static void check_time(const char *text)
{
	int64_t us, again;
	char buf[ES_TIME_LEN];

	if (es_time_parse(text, &us) != 0)
		return;
	es_time_format(us, buf);
	if (es_time_parse(buf, &again) != 0 || again != us) {
		fprintf(stderr, "\"%s\" printed as \"%s\"\n", text, buf);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum es_content kinds[] = { ES_CONTENT_JSON,
						 ES_CONTENT_FORM,
						 ES_CONTENT_OTHER,
						 ES_CONTENT_JSON };
	const char *body = (const char *)data + 1;
	char msg[ES_MSG_MAX], uuid[ES_UUID_LEN + 1], *text;
	struct es_fields out;
	enum es_content kind;
	bool want;
	size_t len;
	int rc;

	if (size == 0)
		return 0;
	len = size - 1;
	kind = kinds[data[0] & 3];
	want = data[0] & 4;
	memset(&out, 0, sizeof(out));
	msg[0] = '\0';
	rc = es_request_parse(kind, "text/x", body, len, want, &out, msg,
			      sizeof(msg));
	if (rc == 0) {
		if (!es_uuid_parse(out.uuid, uuid) || strcmp(uuid, out.uuid) ||
		    (want && (out.symbol < 'a' || out.symbol > 'z')))
			abort();
	} else if ((rc != 400 && rc != 415) || msg[0] == '\0') {
		abort();
	}
	if (kind == ES_CONTENT_JSON && strcmp(msg, "malformed JSON body") &&
	    value(body, body + len, 0) != body + len) {
		fprintf(stderr, "not JSON, taken for JSON (%d %s)\n", rc, msg);
		abort();
	}
	echo(msg);
	text = fuzz_string(data + 1, len);
	(void)es_content_kind(text);
	(void)es_symbol_ok(text);
	if (es_uuid_parse(text, uuid) && strcasecmp(uuid, text) != 0)
		abort();
	check_time(text);
	echo(text);
	free(text);
	return 0;
}
