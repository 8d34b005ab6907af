/*
 * fuzz_timestamp - libFuzzer target for the time parser of every --at,
 * --target-time, --from and --to (common/timestamp.c).
 *
 * Property: a text that parses (read in UTC when it has no zone) gives an
 * instant that, printed in ISO 8601 UTC, parses back to the same instant;
 * a refusal always says why. An "@" epoch reaches the years -9999 to 999,
 * which the text forms refuse (a year has four digits, from 1000): those
 * instants are printed, not read back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "timestamp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct dbops_err err = { "" };
	char printed[DBOPS_TIMESTAMP_LEN];
	int64_t usec, again;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (dbops_timestamp_parse_in(text, "UTC", &usec, NULL, &err) != 0) {
		if (err.msg[0] == '\0')
			abort(); /* a refusal without a reason */
		free(text);
		return 0;
	}
	if (dbops_timestamp_format_utc(usec, printed, sizeof(printed)) == 0)
		abort();
	if (printed[0] == '-' || strncmp(printed, "1000", 4) < 0) {
		free(text);
		return 0;
	}
	if (dbops_timestamp_parse_in(printed, "UTC", &again, NULL, &err) != 0 ||
	    again != usec) {
		fprintf(stderr, "\"%s\" -> %lld -> \"%s\" does not read back\n",
			text, (long long)usec, printed);
		abort();
	}
	free(text);
	return 0;
}
