/*
 * fuzz_snap_import_names - libFuzzer target for --table-from-name
 * (utils/snap-import/names.c): a pattern given on the command line and the
 * names of the files it is matched against, which come from outside.
 *
 * The input is the pattern, a newline, and the file name.
 *
 * Properties: a pattern refused says why; a name that matches gives a
 * table that is not empty, has no '/' and is part of the name or the
 * pattern, and a date that is "" exactly when the pattern has none, else a
 * real YYYY-MM-DD; a table that snap_table_name_check() accepts (as the
 * import does before quoting it) quotes to an identifier PostgreSQL keeps
 * whole: schema and table of 1 to 63 bytes each.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "fuzzutil.h"
#include "timestamp.h"

#include "../../utils/snap-import/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_date(const char *date)
{
	unsigned y, m, d;
	char again[SNAP_DATE_LEN];

	if (strlen(date) != 10 || sscanf(date, "%4u-%2u-%2u", &y, &m, &d) != 3)
		abort();
	snprintf(again, sizeof(again), "%04u-%02u-%02u", y, m, d);
	if (strcmp(again, date) != 0 || y < 1 || m < 1 || m > 12 || d < 1 ||
	    (int)d > dbops_timestamp_days_in_month((int)y, (int)m))
		abort();
}

/* An accepted TABLE, "schema.table" or "table", quotes whole. */
static void check_identifier(const char *table)
{
	struct dbops_err err = { "" };
	const char *dot = strchr(table, '.');
	size_t first = dot ? (size_t)(dot - table) : strlen(table);
	size_t second = dot ? strlen(dot + 1) : 0;

	if (snap_table_name_check(table, &err) != 0) {
		if (err.msg[0] == '\0')
			abort();
		return;
	}
	if (first < 1 || first > 63 || (dot && (second < 1 || second > 63))) {
		fprintf(stderr, "table \"%s\" taken: PostgreSQL would cut it\n",
			table);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size), *name, *table = NULL;
	char date[SNAP_DATE_LEN];
	struct snap_name_pattern p;
	struct dbops_err err = { "" };

	name = strchr(text, '\n');
	if (name == NULL) {
		free(text);
		return 0;
	}
	*name++ = '\0';
	if (snap_name_pattern_parse(text, &p, &err) != 0) {
		if (err.msg[0] == '\0')
			abort();
		free(text);
		return 0;
	}
	if (snap_name_match(&p, name, &table, date) == 0) {
		if (table == NULL || table[0] == '\0' ||
		    strchr(table, '/') != NULL ||
		    (strstr(name, table) == NULL &&
		     strstr(text, table) == NULL)) {
			fprintf(stderr, "\"%s\" with \"%s\": table \"%s\"\n",
				name, text, table ? table : "(null)");
			abort();
		}
		check_identifier(table);
		if (p.has_date)
			check_date(date);
		else if (date[0] != '\0')
			abort();
		free(table);
	}
	snap_name_pattern_free(&p);
	free(text);
	return 0;
}
