/*
 * fuzz_kvfile - libFuzzer target for the state files of the suite
 * (common/kvfile.c): world.state, instance.state and the others, which a
 * crash, a full disk or a hand can leave in any shape.
 *
 * Properties: a refusal says "line N: why"; an accepted file has each key
 * once, of 1 to 63 bytes of [a-z0-9_], and its pairs written again with
 * dbops_kv_put() read back as the same pairs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "kvfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct pairs {
	char *key[256];
	char *value[256];
	size_t n;
};

static int collect(void *ctx, const char *key, const char *value,
		   struct dbops_err *err)
{
	struct pairs *p = ctx;
	size_t klen = strlen(key);

	if (klen < 1 || klen > DBOPS_KV_KEY_MAX ||
	    strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_") != klen)
		abort();
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->key[i], key) == 0)
			abort(); /* twice */
	if (p->n == 256)
		return dbops_err_set(err, "too many keys for the harness");
	p->key[p->n] = strdup(key);
	p->value[p->n] = strdup(value);
	if (p->key[p->n] == NULL || p->value[p->n] == NULL)
		abort();
	p->n++;
	return 0;
}

static void pairs_free(struct pairs *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->key[i]);
		free(p->value[i]);
	}
	p->n = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pairs first = { .n = 0 }, again = { .n = 0 };
	struct dbops_err err = { "" };
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (dbops_kv_parse((const char *)data, size, collect, &first, &err) !=
	    0) {
		if (strncmp(err.msg, "line ", 5) != 0)
			abort();
		pairs_free(&first);
		return 0;
	}
	f = open_memstream(&text, &len);
	if (f == NULL)
		abort();
	for (size_t i = 0; i < first.n; i++)
		dbops_kv_put(f, first.key[i], first.value[i]);
	if (fclose(f) != 0)
		abort();
	if (dbops_kv_parse(text, len, collect, &again, &err) != 0 ||
	    again.n != first.n) {
		fprintf(stderr, "written again, does not read back: %s\n%s",
			err.msg, text);
		abort();
	}
	for (size_t i = 0; i < first.n; i++)
		if (strcmp(first.key[i], again.key[i]) != 0 ||
		    strcmp(first.value[i], again.value[i]) != 0)
			abort();
	pairs_free(&first);
	pairs_free(&again);
	free(text);
	return 0;
}
