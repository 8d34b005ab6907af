/*
 * fuzz_pitr_replay_pgconf - libFuzzer target for pitr-replay's reader of
 * postgresql.conf and postgresql.auto.conf (pitr_conf_scan_text(),
 * utils/pitr-replay/pgconf.c), which takes the server's timezone from the
 * files of a base backup. As for a tar, the includes are not followed
 * (DIR NULL): nothing is read from the file system.
 *
 * Input: one byte choosing the setting looked for (timezone, TimeZone,
 * log_timezone, port), then the text.
 *
 * Properties: found and unknown are never both set; an unknown value says
 * why, naming the file and a line; a found one names the line it was set
 * on, and that line starts with the setting's name (any case); the value
 * fits its buffer.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../utils/pitr-replay/pgconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const struct pitr_conf_value *v,
		 const char *text, size_t len)
{
	fprintf(stderr,
		"%s: found %d unknown %d value \"%s\" source \"%s\" why \"%s\"\n--- text ---\n%.*s\n",
		what, v->found, v->unknown, v->value, v->source, v->why,
		(int)len, text);
	abort();
}

/* Line N (from 1) of TEXT. */
static const char *line_of(const char *text, size_t len, long n)
{
	const char *p = text, *end = text + len;

	while (--n > 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == NULL)
			return NULL;
		p = nl + 1;
	}
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "timezone", "TimeZone",
					     "log_timezone", "port" };
	static const char file[] = "\"postgresql.conf\"";
	struct pitr_conf_value v;
	const char *name, *line;
	char *text;
	size_t len;

	if (size < 1)
		return 0;
	name = names[data[0] % 4];
	len = size - 1;
	text = malloc(len ? len : 1);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, len);
	memset(&v, 0, sizeof(v));
	pitr_conf_scan_text(text, len, file, NULL, name, 0, &v);
	if (v.found && v.unknown)
		fail("found and unknown", &v, text, len);
	if (v.unknown && strncmp(v.why, file, strlen(file)) != 0)
		fail("unknown, and the reason names no file", &v, text, len);
	if (v.found) {
		const char *n = v.source + strlen(file);
		long lineno;

		if (strncmp(v.source, file, strlen(file)) != 0 ||
		    strncmp(n, " line ", 6) != 0)
			fail("a source that is not FILE line N", &v, text, len);
		lineno = strtol(n + 6, NULL, 10);
		line = line_of(text, len, lineno);
		if (line == NULL)
			fail("a source line past the end", &v, text, len);
		while (line < text + len && isspace((unsigned char)*line))
			line++;
		if ((size_t)(text + len - line) < strlen(name) ||
		    strncasecmp(line, name, strlen(name)) != 0)
			fail("the source line does not set it", &v, text, len);
		if (strnlen(v.value, sizeof(v.value)) >= sizeof(v.value))
			fail("a value past its buffer", &v, text, len);
	}
	free(text);
	return 0;
}
