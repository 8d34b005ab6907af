/*
 * fuzz_cli - libFuzzer target for the command line of every tool
 * (common/cli.c): getopt_long() through one table, the typed values
 * (numbers, sizes, durations, choices), exclusive options.
 *
 * The input is the arguments, separated by NUL bytes (at most 24), after
 * a program name; a table of options like the tools' own takes them.
 * stdout and stderr are closed by tests/fuzz/fuzz_cli.options.
 *
 * Properties: the result is "run", 0 or 1; on "run" the index of the first
 * operand is within argv and argv holds the same arguments, reordered;
 * every option reaches the tool with a value exactly when it takes one;
 * a size or duration accepted is within its bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { OPT_AT = DBOPS_CLI_LONG_ID(0), OPT_ROOT, OPT_INVENTORY, OPT_FORCE };

static const struct dbops_cli_option opts[] = {
	{ 'j', "jobs", "N", "at once" },
	{ 's', "size", "SIZE", "a size" },
	{ 't', "timeout", "DURATION", "a duration" },
	{ 'f', "format", "FORMAT", "table, csv, tsv or json" },
	{ 'n', "dry-run", NULL, "do nothing" },
	{ OPT_AT, "at", "TIME", "a time" },
	{ OPT_ROOT, "root", "DIR", "a root" },
	{ OPT_INVENTORY, "inventory", "FILE", "an inventory" },
	{ OPT_FORCE, "force", NULL, "force" },
	{ 0 },
};

static const int exclusive[][DBOPS_CLI_GROUP_MAX] = {
	{ OPT_ROOT, OPT_INVENTORY },
	{ 0 },
};

static const char *const synopsis[] = { "[options] FILE...", NULL };

static int handle(void *ctx, int id, const char *arg)
{
	static const char *const formats[] = { "table", "csv", "tsv", "json",
					       NULL };
	const struct dbops_cli_option *opt = NULL;
	uint64_t bytes = 0;
	int64_t ms = 0;
	int n = 0;

	for (const struct dbops_cli_option *o = opts; o->id; o++)
		if (o->id == id)
			opt = o;
	if (opt == NULL || (opt->arg == NULL) != (arg == NULL))
		abort(); /* a value for a flag, or none for an option */
	++*(int *)ctx;
	switch (id) {
	case 'j':
		return dbops_cli_int("--jobs", arg, 1, 64, &n);
	case 's':
		if (dbops_cli_size("--size", arg, 1, 1 << 30, &bytes) != 0)
			return -1;
		if (bytes < 1 || bytes > 1 << 30)
			abort();
		return 0;
	case 't':
		if (dbops_cli_duration("--timeout", arg, 1, 86400000, &ms) != 0)
			return -1;
		if (ms < 1 || ms > 86400000)
			abort();
		return 0;
	case 'f':
		return dbops_cli_choice("--format", arg, formats, &n);
	}
	return 0;
}

static const struct dbops_cli cli = {
	.name = "fuzz-cli",
	.synopsis = synopsis,
	.about = "The harness's tool.\n",
	.sections = (const struct dbops_cli_section[]){ { "Options", opts },
							{ NULL, NULL } },
	.exclusive = exclusive,
	.handle = handle,
};

static int by_pointer(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;

	return x < y ? -1 : x > y;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *argv[26], *before[26];
	int argc = 1, first = 0, handled = 0, rc;
	size_t at = 0;

	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[0] = "fuzz-cli";
	while (at <= size && size > 0 && argc < 25) {
		argv[argc++] = copy + at;
		at += strlen(copy + at) + 1;
	}
	argv[argc] = NULL;
	memcpy(before, argv, sizeof(argv));
	rc = dbops_cli_parse(&cli, &handled, argc, argv, &first);
	if (rc == DBOPS_CLI_RUN) {
		if (first < 1 || first > argc)
			abort();
		qsort(before, (size_t)argc, sizeof(*before), by_pointer);
		qsort(argv, (size_t)argc, sizeof(*argv), by_pointer);
		if (memcmp(before, argv, (size_t)argc * sizeof(*argv)) != 0)
			abort(); /* arguments lost or made up */
	} else if (rc != 0 && rc != 1) {
		abort();
	}
	dbops_log_set_verbosity(DBOPS_LOG_NORMAL);
	free(copy);
	return 0;
}
