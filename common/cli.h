/*
 * cli.h - the command line of every dbops tool: one table of options drives
 * getopt_long(), the --help screen and the checks, so that all the tools
 * parse, explain and complain alike.
 *
 *	static const struct dbops_cli_option opts[] = {
 *		{ 'j', "jobs", "N", "worlds loaded at once (default: the cores)" },
 *		{ OPT_AT, "at", "TIME", "each world's latest dump at or before TIME" },
 *		{ 0 },
 *	};
 *	static const struct dbops_cli cli = {
 *		.name = "dump-restore", .synopsis = synopsis, .about = "...",
 *		.sections = (const struct dbops_cli_section[]){
 *			{ "Options", opts }, { NULL, NULL } },
 *		.handle = set_option,
 *	};
 *	rc = dbops_cli_parse(&cli, &o, argc, argv, &first);
 *	if (rc == DBOPS_CLI_RUN)
 *		rc = run(&o, argc - first, argv + first);
 *	return dbops_log_exit_status(rc);
 *
 * What every tool gets from it:
 * 1. -q/--quiet, -v/--verbose, -h/--help and -V/--version, handled here.
 * 2. Options anywhere among the operands (GNU order), long names by any
 *    unambiguous prefix, "--" ending the options.
 * 3. One message for each kind of mistake, with the usage hint after it:
 *	tool: error: unknown option "-z"
 *	tool: error: option "--jobs" needs a value
 *	tool: error: option "--quiet" takes no value
 *	tool: error: option "--ta" is ambiguous: --target-time, --target-lsn, ...
 *	tool: error: --root and --inventory cannot be used together
 *	tool: error: invalid value "x" for --jobs: use a number from 1 to 64
 *	Try "tool --help" for more information.
 * 4. A usage screen under 80 columns: the synopsis, the paragraph, each
 *    section of options with its help aligned and wrapped, the common
 *    options, and "See tool(1).".
 */
#ifndef DBOPS_CLI_H
#define DBOPS_CLI_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

/* Ids for options without a short form: DBOPS_CLI_LONG_ID(0), (1), ... */
#define DBOPS_CLI_LONG_ID(n) (CHAR_MAX + 1 + (n))

/* Options in a group of the exclusive table, at most. */
#define DBOPS_CLI_GROUP_MAX 8

/* What dbops_cli_parse() returns when the tool should go on and run. */
#define DBOPS_CLI_RUN (-1)

struct dbops_cli_option {
	int id;		  /* a letter: also the short option;
				   DBOPS_CLI_LONG_ID(n): long only */
	const char *name; /* the long name, without "--" */
	const char *arg;  /* the value's name in --help; NULL: a flag */
	const char *help; /* its line in --help; NULL: not shown */
};

struct dbops_cli_section {
	const char *title; /* "Options", "Targets (none: the end)" */
	const struct dbops_cli_option *options; /* ends with an id of 0 */
};

struct dbops_cli {
	const char *name;	     /* the tool: --version, --help, man page */
	const char *const *synopsis; /* usage lines after the name; NULL ends */
	const char *about; /* what the tool does, lines ending in \n */
	const struct dbops_cli_section *sections; /* ends with options NULL */
	/* Groups of ids of which one option at most may be given, each
	   ending with 0 (or full); the list ends with an empty group. */
	const int (*exclusive)[DBOPS_CLI_GROUP_MAX];
	/* Store one of the tool's options; 0, or -1 after reporting (with
	   dbops_cli_invalid() or the typed parsers below). */
	int (*handle)(void *ctx, int id, const char *arg);
};

/*
 * Parse ARGV's options, calling cli->handle(CTX, id, value) for each of
 * the tool's own in the order given. Returns DBOPS_CLI_RUN with *FIRST the
 * index of the first operand (operands are moved after the options), or an
 * exit status for main() to return: 0 after --help or --version (printed
 * on stdout), 1 after a usage error (reported, with the hint).
 */
int dbops_cli_parse(const struct dbops_cli *cli, void *ctx, int argc,
		    char **argv, int *first);

/* Print the usage screen of CLI to OUT. */
void dbops_cli_usage(const struct dbops_cli *cli, FILE *out);

/*
 * Report a usage error: the formatted message, then the "Try" hint.
 * Returns 1, the exit status, so that "return dbops_cli_error(...)" works
 * in main() and in a command's checks.
 */
int dbops_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Report TEXT as a bad value for OPTION ("--jobs"): 'invalid value "TEXT"
 * for --jobs: WHY' and the hint. Returns -1.
 */
int dbops_cli_invalid(const char *option, const char *text, const char *fmt,
		      ...) __attribute__((format(printf, 3, 4)));

/*
 * Typed values of options. Each stores the value and returns 0, or reports
 * it with dbops_cli_invalid() (the message says what is accepted) and
 * returns -1, leaving *out alone.
 */

/* A decimal integer from MIN to MAX. */
int dbops_cli_int(const char *option, const char *text, int min, int max,
		  int *out);

/*
 * A size in bytes from MIN to MAX: a number, or a number with a binary
 * unit K, M, G or T (also KiB, MB, ...: powers of 1024 all).
 */
int dbops_cli_size(const char *option, const char *text, uint64_t min,
		   uint64_t max, uint64_t *out);

/*
 * A duration in milliseconds from MIN_MS to MAX_MS: a number of seconds, or
 * numbers with units ms, s, m, h and d ("90", "1.5s", "1h30m").
 */
int dbops_cli_duration(const char *option, const char *text, int64_t min_ms,
		       int64_t max_ms, int64_t *out);

/* One of the words of CHOICES (NULL-terminated): *out is its index. */
int dbops_cli_choice(const char *option, const char *text,
		     const char *const *choices, int *out);

/*
 * Pure parsers behind the typed options, for unit tests and fuzzers:
 * 0, or -1 (errno EINVAL for a malformed text, ERANGE out of the type).
 */
int dbops_cli_parse_int(const char *text, long long *out);
int dbops_cli_parse_size(const char *text, uint64_t *out);
int dbops_cli_parse_duration(const char *text, int64_t *out);

#endif
