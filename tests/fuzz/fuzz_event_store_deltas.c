/*
 * fuzz_event_store_deltas - libFuzzer target for the texts event-store
 * reads back from outside itself (utils/event-store/deltas.c,
 * redisagg.c): a batch's deltas text, from PostgreSQL's batches.deltas,
 * and the Redis URL of its configuration.
 *
 * The first byte picks which; the rest is the text.
 *
 * Properties: deltas text is strict (deltas.h: one form), so a text that
 * parses is the very text es_deltas_format() writes of what it gave; a
 * refusal names its line. A Redis URL that parses has a port 1 to 65535
 * and a database 0 to 65535, and its description is the same without its
 * password; a refusal says why.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "fuzzutil.h"

#include "../../utils/event-store/deltas.h"
#include "../../utils/event-store/redisagg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void deltas(const char *text)
{
	struct es_aggregate aggs[ES_SYMBOLS], again[ES_SYMBOLS];
	struct dbops_err err = { "" };
	char buf[ES_DELTAS_MAX];
	size_t n;

	if (es_deltas_parse(text, aggs, &err) != 0) {
		if (strncmp(err.msg, "line ", 5) != 0)
			abort();
		return;
	}
	n = es_deltas_format(aggs, buf, sizeof(buf));
	if (n >= sizeof(buf) || strcmp(buf, text) != 0) {
		fprintf(stderr, "\"%s\" is written \"%s\"\n", text, buf);
		abort();
	}
	if (es_deltas_parse(buf, again, &err) != 0)
		abort();
	for (int s = 0; s < ES_SYMBOLS; s++)
		if (!es_aggregate_equal(&aggs[s], &again[s]))
			abort();
}

static void redis_url(const char *url)
{
	struct es_redis_url u;
	struct dbops_err err = { "" };
	char described[1024], without[1024];

	/* (Its messages are fixed words: none quotes the URL.) */
	if (es_redis_url_parse(url, &u, &err) != 0) {
		if (err.msg[0] == '\0')
			abort();
		return;
	}
	if ((!u.unix_socket && (u.port < 1 || u.port > 65535)) || u.db < 0 ||
	    u.db > 65535)
		abort();
	/* The description is the same whatever the password. */
	es_redis_url_describe(&u, described, sizeof(described));
	u.password[0] = '\0';
	es_redis_url_describe(&u, without, sizeof(without));
	if (strcmp(described, without) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size == 0)
		return 0;
	text = fuzz_string(data + 1, size - 1);
	if (data[0] & 1)
		redis_url(text);
	else
		deltas(text);
	free(text);
	return 0;
}
