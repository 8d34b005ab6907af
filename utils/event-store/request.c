/*
 * request.c - parse and check what clients send to event-store, and write
 * the pieces of its answers (see request.h). Pure functions.
 *
 * Design notes:
 * 1. A JSON body is parsed by json-c in strict mode and must be one
 *    object with nothing but white space after it; a NUL byte anywhere
 *    makes it malformed, and so do the extensions json-c takes even when
 *    strict (single quotes, NaN, Infinity). Unknown fields are ignored.
 * 2. A form body is name=value pairs joined by "&", "+" for a space and
 *    %XX escapes; a pair without "=" or a bad escape makes it malformed.
 *    The first pair of a name counts, as with a JSON object's last.
 * 3. Checks run in a fixed order, so one body gets one answer: the body,
 *    then "uuid" (missing, then its form), then "symbol".
 * 4. Pure but for one json-c tokener per thread, made at the thread's
 *    first JSON body and reset for each next one: json_tokener_new()
 *    callocs a 1 KiB stack, and a block that size made glibc's malloc
 *    consolidate its free lists at every request (perf, benchmark load
 *    at 256 connections: malloc_consolidate in the HTTP threads took 0.5
 *    to 0.9% of the host's CPU, 0.2% since). It is freed when the thread
 *    ends.
 */
#include "request.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "hex.h"
#include "utf8.h"
#include "xalloc.h"

enum es_content es_content_kind(const char *header)
{
	size_t n;

	if (header == NULL)
		return ES_CONTENT_JSON;
	n = strcspn(header, ";");
	while (n > 0 && (header[n - 1] == ' ' || header[n - 1] == '\t'))
		n--;
	if (n == strlen("application/json") &&
	    strncasecmp(header, "application/json", n) == 0)
		return ES_CONTENT_JSON;
	if (n == strlen("application/x-www-form-urlencoded") &&
	    strncasecmp(header, "application/x-www-form-urlencoded", n) == 0)
		return ES_CONTENT_FORM;
	return ES_CONTENT_OTHER;
}

bool es_uuid_parse(const char *text, char *out)
{
	for (int i = 0; i < ES_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? text[i] != '-' : !isxdigit((unsigned char)text[i]))
			return false;
	}
	if (text[ES_UUID_LEN] != '\0')
		return false;
	for (int i = 0; i < ES_UUID_LEN; i++)
		out[i] = (char)tolower((unsigned char)text[i]);
	out[ES_UUID_LEN] = '\0';
	return true;
}

bool es_symbol_ok(const char *text)
{
	return text[0] >= 'a' && text[0] <= 'z' && text[1] == '\0';
}

bool es_symbol_vowel(char c)
{
	return c != '\0' && strchr("aeiou", c) != NULL;
}

/* The fields as found: given or not, NULL when not a string. */
struct raw_fields {
	const char *uuid, *symbol;
	bool uuid_given, symbol_given;
};

static int check_fields(const struct raw_fields *r, bool want_symbol,
			struct es_fields *out, char *msg, size_t msglen)
{
	if (!r->uuid_given)
		return snprintf(msg, msglen, "missing field \"uuid\""), 400;
	if (r->uuid == NULL || !es_uuid_parse(r->uuid, out->uuid))
		return snprintf(msg, msglen, "field \"uuid\" is not a UUID"),
		       400;
	out->symbol = '\0';
	if (!want_symbol)
		return 0;
	if (!r->symbol_given)
		return snprintf(msg, msglen, "missing field \"symbol\""), 400;
	if (r->symbol == NULL || !es_symbol_ok(r->symbol))
		return snprintf(msg, msglen,
				"field \"symbol\" is not one letter a-z"),
		       400;
	out->symbol = r->symbol[0];
	return 0;
}

/* The string value of KEY in OBJ: *given whether present, NULL if not a
   string. */
static const char *json_field(struct json_object *obj, const char *key,
			      bool *given)
{
	struct json_object *v;

	*given = json_object_object_get_ex(obj, key, &v);
	if (!*given || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The digits at *I: whether there is one; *I moves past them. */
static bool json_digits(const char *s, size_t n, size_t *i)
{
	size_t start = *i;

	while (*i < n && isdigit((unsigned char)s[*i]))
		++*i;
	return *i > start;
}

/*
 * The number at *I by RFC 8259, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
 * (json-c takes 00, 1. and others): whether it is one; *I moves past what
 * looks like a number.
 */
static bool json_number(const char *s, size_t n, size_t *i)
{
	size_t start = *i;
	bool ok = true;

	if (s[*i] == '-')
		++*i;
	if (*i < n && s[*i] == '0')
		ok = !(++*i < n && isdigit((unsigned char)s[*i]));
	else
		ok = json_digits(s, n, i);
	if (ok && *i < n && s[*i] == '.') {
		++*i;
		ok = json_digits(s, n, i);
	}
	if (ok && *i < n && (s[*i] == 'e' || s[*i] == 'E')) {
		++*i;
		if (*i < n && (s[*i] == '+' || s[*i] == '-'))
			++*i;
		ok = json_digits(s, n, i);
	}
	/* Glued to more of a number (1-2, 1.2.3): not one. */
	if (ok && *i < n && strchr("0123456789+-.eE", s[*i]) != NULL)
		ok = false;
	return ok && *i > start;
}

/*
 * Whether the tokens outside strings are JSON's: json-c, even strict,
 * takes single quotes, NaN and Infinity, control bytes inside strings and
 * numbers such as 00 or 1. Words must be true, false or null; a quote
 * outside a string must be a double one; a string holds no byte below 0x20
 * (JSON escapes them); numbers are JSON's.
 */
static bool json_words_ok(const char *body, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t n = 0;

		if (body[i] == '"') {
			for (i++; i < len && body[i] != '"'; i++) {
				if ((unsigned char)body[i] < 0x20)
					return false;
				i += body[i] == '\\';
			}
			i++;
			continue;
		}
		if (body[i] == '\'')
			return false;
		if (body[i] == '-' || isdigit((unsigned char)body[i])) {
			if (!json_number(body, len, &i))
				return false;
			continue;
		}
		while (i + n < len && isalpha((unsigned char)body[i + n]))
			n++;
		if (n > 0 && !(n == 4 && strncmp(body + i, "true", 4) == 0) &&
		    !(n == 5 && strncmp(body + i, "false", 5) == 0) &&
		    !(n == 4 && strncmp(body + i, "null", 4) == 0))
			return false;
		i += n > 0 ? n : 1;
	}
	return true;
}

static pthread_key_t tokener_key;
static pthread_once_t tokener_once = PTHREAD_ONCE_INIT;

static void tokener_free(void *tok)
{
	json_tokener_free(tok);
}

static void tokener_key_make(void)
{
	if (pthread_key_create(&tokener_key, tokener_free) != 0)
		abort(); /* only when the process is out of keys */
}

/* This thread's tokener, strict and ready for a new text (note 4); NULL
   when out of memory. */
static struct json_tokener *thread_tokener(void)
{
	struct json_tokener *tok;

	pthread_once(&tokener_once, tokener_key_make);
	tok = pthread_getspecific(tokener_key);
	if (tok != NULL) {
		json_tokener_reset(tok);
		return tok;
	}
	tok = json_tokener_new();
	if (tok == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	if (pthread_setspecific(tokener_key, tok) != 0) {
		json_tokener_free(tok);
		return NULL;
	}
	return tok;
}

static int parse_json(const char *body, size_t len, bool want_symbol,
		      struct es_fields *out, char *msg, size_t msglen)
{
	struct json_tokener *tok;
	struct json_object *obj = NULL;
	struct raw_fields r;
	size_t end;
	int rc;

	if (len == 0 || memchr(body, '\0', len) != NULL ||
	    !json_words_ok(body, len) || (tok = thread_tokener()) == NULL)
		return snprintf(msg, msglen, "malformed JSON body"), 400;
	obj = json_tokener_parse_ex(tok, body, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (obj != NULL && json_tokener_get_error(tok) != json_tokener_success)
		obj = (json_object_put(obj), NULL);
	while (obj != NULL && end < len && strchr(" \t\r\n", body[end]))
		end++;
	if (obj == NULL || end != len ||
	    !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return snprintf(msg, msglen, "malformed JSON body"), 400;
	}
	r.uuid = json_field(obj, "uuid", &r.uuid_given);
	r.symbol = json_field(obj, "symbol", &r.symbol_given);
	rc = check_fields(&r, want_symbol, out, msg, msglen);
	json_object_put(obj);
	return rc;
}

/* Decode [S, S+N) of a form in place into OUT (room for N + 1); -1 for a
   bad escape. */
static int form_decode(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%') {
			if (i + 2 >= n)
				return -1;
			int hi = dbops_hex_digit(s[i + 1]),
			    lo = dbops_hex_digit(s[i + 2]);

			if (hi < 0 || lo < 0)
				return -1;
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return (int)o;
}

static int parse_form(const char *body, size_t len, bool want_symbol,
		      struct es_fields *out, char *msg, size_t msglen)
{
	char *name = dbops_xmalloc(len + 1), *value = dbops_xmalloc(len + 1);
	char *uuid = NULL, *symbol = NULL;
	struct raw_fields r = { 0 };
	size_t i = 0;
	int rc = 0;

	while (i < len && rc == 0) {
		const char *p = body + i, *amp = memchr(p, '&', len - i);
		size_t n = amp ? (size_t)(amp - p) : len - i;
		const char *eq = memchr(p, '=', n);

		i += n + 1;
		if (n == 0)
			continue;
		if (eq == NULL || form_decode(p, (size_t)(eq - p), name) < 0 ||
		    form_decode(eq + 1, n - (size_t)(eq - p) - 1, value) < 0) {
			rc = 400;
			break;
		}
		if (strcmp(name, "uuid") == 0 && uuid == NULL)
			uuid = dbops_xstrdup(value);
		else if (strcmp(name, "symbol") == 0 && symbol == NULL)
			symbol = dbops_xstrdup(value);
	}
	if (rc != 0) {
		snprintf(msg, msglen, "malformed form body");
	} else {
		r = (struct raw_fields){ uuid, symbol, uuid != NULL,
					 symbol != NULL };
		rc = check_fields(&r, want_symbol, out, msg, msglen);
	}
	free(name);
	free(value);
	free(uuid);
	free(symbol);
	return rc;
}

int es_request_parse(enum es_content kind, const char *ctype, const char *body,
		     size_t len, bool want_symbol, struct es_fields *out,
		     char *msg, size_t msglen)
{
	switch (kind) {
	case ES_CONTENT_JSON:
		return parse_json(body, len, want_symbol, out, msg, msglen);
	case ES_CONTENT_FORM:
		return parse_form(body, len, want_symbol, out, msg, msglen);
	default:
		snprintf(msg, msglen, "unsupported content type \"%.200s\"",
			 ctype ? ctype : "");
		return 415;
	}
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* N digits at *P as a number, advancing *P; -1 if not N digits. */
static int digits(const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

static const char *parse_date(const char *p, int64_t *days)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31 };
	int y, m, d;

	if ((y = digits(&p, 4)) < 1 || *p++ != '-' || (m = digits(&p, 2)) < 1 ||
	    m > 12 || *p++ != '-' || (d = digits(&p, 2)) < 1 ||
	    d > mdays[m - 1] + (m == 2 && leap(y)))
		return NULL;
	*days = days_from_civil(y, m, d);
	return p;
}

int es_time_parse(const char *text, int64_t *us)
{
	int64_t days = 0, t = 0;
	const char *p = parse_date(text, &days);
	int h, mi, s = 0, frac = 0, nfrac = 0;

	if (p == NULL)
		return -1;
	if (*p == '\0')
		return *us = days * 86400 * INT64_C(1000000), 0;
	if (*p != ' ' && *p != 'T' && *p != 't')
		return -1;
	p++;
	if ((h = digits(&p, 2)) < 0 || h > 23 || *p++ != ':' ||
	    (mi = digits(&p, 2)) < 0 || mi > 59)
		return -1;
	if (*p == ':') {
		p++;
		if ((s = digits(&p, 2)) < 0 || s > 59)
			return -1;
		if (*p == '.') {
			for (p++; isdigit((unsigned char)*p) && nfrac < 6;
			     p++, nfrac++)
				frac = frac * 10 + (*p - '0');
			if (nfrac == 0)
				return -1;
			for (int i = nfrac; i < 6; i++)
				frac *= 10;
		}
	}
	if (*p != '\0')
		return -1;
	t = ((days * 24 + h) * 60 + mi) * 60 + s;
	*us = t * INT64_C(1000000) + frac;
	return 0;
}

void es_time_format(int64_t us, char buf[ES_TIME_LEN])
{
	int64_t secs = us / 1000000, frac = us % 1000000;
	int64_t days, sod, z, era, doe, yoe, y, doy, mp, d, m;

	if (frac < 0)
		frac += 1000000, secs--;
	days = secs / 86400;
	sod = secs % 86400;
	if (sod < 0)
		sod += 86400, days--;
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	char tmp[96];

	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d %02d:%02d:%02d.%06d",
		 (int)(y % 10000), (int)m, (int)d, (int)(sod / 3600),
		 (int)(sod / 60 % 60), (int)(sod % 60), (int)frac);
	memcpy(buf, tmp, ES_TIME_LEN - 1);
	buf[ES_TIME_LEN - 1] = '\0';
}

char *es_json_string(const char *text)
{
	size_t n = strlen(text), o = 0;
	char *out = dbops_xmalloc(n * 6 + 3);

	out[o++] = '"';
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)text[i];
		size_t k = c < 0x80 ? 1
				    : dbops_utf8_seq_len(
					      (const unsigned char *)text + i,
					      n - i);

		if (c >= 0x80) {
			if (k == 0) {
				memcpy(out + o, "\\ufffd", 6), o += 6, i++;
			} else {
				memcpy(out + o, text + i, k), o += k, i += k;
			}
			continue;
		}
		if (c == '"' || c == '\\')
			out[o++] = '\\', out[o++] = (char)c;
		else if (c == '\n')
			out[o++] = '\\', out[o++] = 'n';
		else if (c < 0x20 || c == 0x7f)
			o += (size_t)sprintf(out + o, "\\u%04x", c);
		else
			out[o++] = (char)c;
		i++;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

char *es_error_body(const char *msg)
{
	char *s = es_json_string(msg);
	char *body = dbops_xasprintf("{\"error\":%s}", s);

	free(s);
	return body;
}
