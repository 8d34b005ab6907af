/*
 * fuzz_dump_restore_cnf - libFuzzer target for dump-restore's reading of
 * MariaDB option files (utils/dump-restore/cnf.c): worlds.cnf and every
 * file inventory --merge is given, line by line, and one value as the
 * clients read it.
 *
 * The input is read three ways: as an option file (dr_cnf_read(), from a
 * file in memory); its first line as the text after a "=" (dr_cnf_value());
 * and its first line as a value that dr_cnf_put() writes and dr_cnf_value()
 * must read back unchanged (cnf.h: values written so that they read back).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "fuzzutil.h"

#include "../../utils/dump-restore/cnf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int option(void *ctx, const char *group, const char *key,
		  const char *value, long line, struct dbops_err *err)
{
	long *last = ctx;

	if (group == NULL || key == NULL || line <= *last)
		abort();
	*last = line;
	if (value != NULL)
		(void)strlen(value);
	return 0;
}

/* VALUE written by dr_cnf_put() reads back the same through dr_cnf_value(). */
static void put_reads_back(const char *value)
{
	char *text = NULL, *out, *eq;
	size_t len = 0, outlen = strlen(value) + 1;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		abort();
	dr_cnf_put(f, "k", value);
	if (fclose(f) != 0 || len < 4 || text[len - 1] != '\n' ||
	    memchr(text, '\n', len - 1) != NULL)
		abort(); /* one line */
	text[len - 1] = '\0';
	eq = strchr(text, '=');
	out = malloc(outlen + 1);
	if (eq == NULL || out == NULL)
		abort();
	dr_cnf_value(eq + 1, out, outlen + 1);
	if (strcmp(out, value) != 0) {
		fprintf(stderr, "\"%s\" written as %s reads back as \"%s\"\n",
			value, text, out);
		abort();
	}
	free(out);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dbops_err err = { "" };
	char *first = fuzz_string(data, size), out[256];
	long last = 0;

	if (dr_cnf_read(fuzz_memfile(data, size), option, &last, &err) != 0 &&
	    err.msg[0] == '\0')
		abort();
	first[strcspn(first, "\n")] = '\0';
	dr_cnf_value(first, out, sizeof(out));
	if (strlen(out) >= sizeof(out))
		abort();
	put_reads_back(first);
	free(first);
	return 0;
}
