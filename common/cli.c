/*
 * cli.c - option parsing, typed values and usage screens for every tool.
 * See cli.h.
 *
 * getopt_long() runs with opterr = 0 and a leading ':' in the short option
 * string, so that every mistake comes back to us to word alike. Telling
 * which option a '?' is about needs care: glibc sets optopt to the short
 * option's letter, to 0 for an unknown or ambiguous long name, and to the
 * long option's id when a flag was given "=value". A short option's error
 * inside a cluster ("-zq") leaves optind on the cluster, so argv[optind -
 * 1] is not the culprit there; optopt is.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define MAX_OPTIONS	96
#define SCREEN_WIDTH	79
#define HELP_COLUMN_MAX 28

static const struct dbops_cli_option common_options[] = {
	{ 'q', "quiet", NULL, "only errors and warnings" },
	{ 'v', "verbose", NULL, "debugging messages too" },
	{ 'h', "help", NULL, "print this help and exit" },
	{ 'V', "version", NULL, "print the version and exit" },
	{ 0, NULL, NULL, NULL },
};

int dbops_cli_error(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	dbops_log_v(DBOPS_LOG_ERROR, fmt, ap);
	va_end(ap);
	n = snprintf(line, sizeof(line),
		     "Try \"%.200s --help\" for more information.\n",
		     dbops_log_progname());
	if (n > 0)
		dbops_log_write_raw(line, strlen(line));
	return 1;
}

int dbops_cli_invalid(const char *option, const char *text, const char *fmt,
		      ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	dbops_cli_error("invalid value \"%s\" for %s: %s", text, option, why);
	return -1;
}

/* --- the option table ---------------------------------------------------- */

/*
 * Every option of CLI into LIST (room for MAX_OPTIONS), the common ones
 * last. Returns how many.
 */
static size_t all_options(const struct dbops_cli *cli,
			  const struct dbops_cli_option **list)
{
	size_t n = 0;

	for (const struct dbops_cli_section *s = cli->sections;
	     s != NULL && s->options != NULL; s++)
		for (const struct dbops_cli_option *o = s->options; o->id; o++)
			if (n < MAX_OPTIONS - 5)
				list[n++] = o;
	for (const struct dbops_cli_option *o = common_options; o->id; o++)
		list[n++] = o;
	return n;
}

static bool has_short(int id)
{
	return id > 0 && id <= CHAR_MAX && isalnum(id);
}

static const struct dbops_cli_option *find_id(const struct dbops_cli *cli,
					      int id)
{
	const struct dbops_cli_option *list[MAX_OPTIONS];
	size_t n = all_options(cli, list);

	for (size_t i = 0; i < n; i++)
		if (list[i]->id == id)
			return list[i];
	return NULL;
}

/* getopt_long()'s tables from CLI's options. */
static void build_tables(const struct dbops_cli *cli, struct option *longopts,
			 char *shortopts)
{
	const struct dbops_cli_option *list[MAX_OPTIONS];
	size_t n = all_options(cli, list), k = 0;

	shortopts[k++] = ':';
	for (size_t i = 0; i < n; i++) {
		const struct dbops_cli_option *o = list[i];

		longopts[i] = (struct option){ o->name,
					       o->arg ? required_argument
						      : no_argument,
					       NULL, o->id };
		if (has_short(o->id)) {
			shortopts[k++] = (char)o->id;
			if (o->arg)
				shortopts[k++] = ':';
		}
	}
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	shortopts[k] = '\0';
}

/* --- the messages of getopt_long()'s errors ------------------------------ */

/* An argv element without its "=value": "--jobs=x" is "--jobs". */
static void option_word(const char *arg, char *buf, size_t len)
{
	snprintf(buf, len, "%.*s", (int)strcspn(arg, "="), arg);
}

/* The long options that start with PREFIX (the "--" left out). */
static void candidates(const struct dbops_cli *cli, const char *prefix,
		       char *buf, size_t len)
{
	const struct dbops_cli_option *list[MAX_OPTIONS];
	size_t count = all_options(cli, list), n = strlen(prefix), used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < count && used < len; i++)
		if (strncmp(list[i]->name, prefix, n) == 0)
			used += (size_t)snprintf(buf + used, len - used,
						 "%s--%s", used ? ", " : "",
						 list[i]->name);
}

static int unknown_option(const struct dbops_cli *cli, char **argv)
{
	const char *arg = argv[optind - 1];
	char word[128], list[512];

	if (optopt != 0 && !has_short(optopt) && find_id(cli, optopt) == NULL)
		optopt = 0;
	if (optopt != 0 &&
	    (strncmp(arg, "--", 2) != 0 || find_id(cli, optopt) == NULL)) {
		/* A letter that is no option of ours. */
		return dbops_cli_error("unknown option \"-%c\"", optopt);
	}
	option_word(arg, word, sizeof(word));
	if (optopt != 0)
		return dbops_cli_error("option \"%s\" takes no value", word);
	candidates(cli, word + 2, list, sizeof(list));
	if (strchr(list, ',') != NULL)
		return dbops_cli_error("option \"%s\" is ambiguous: %s", word,
				       list);
	return dbops_cli_error("unknown option \"%s\"", word);
}

static int missing_value(const struct dbops_cli *cli, char **argv)
{
	const struct dbops_cli_option *o = find_id(cli, optopt);
	const char *arg = argv[optind - 1];

	if (o != NULL && (strncmp(arg, "--", 2) == 0 || !has_short(o->id)))
		return dbops_cli_error("option \"--%s\" needs a value",
				       o->name);
	return dbops_cli_error("option \"-%c\" needs a value", optopt);
}

/* --- exclusive options --------------------------------------------------- */

static bool in_group(const int *group, int id)
{
	for (int i = 0; i < DBOPS_CLI_GROUP_MAX && group[i] != 0; i++)
		if (group[i] == id)
			return true;
	return false;
}

/* SEEN[g]: the option of group g given so far, or 0. */
static int check_exclusive(const struct dbops_cli *cli, int *seen, int id)
{
	for (int g = 0; cli->exclusive && cli->exclusive[g][0] != 0; g++) {
		if (!in_group(cli->exclusive[g], id))
			continue;
		if (seen[g] != 0 && seen[g] != id)
			return dbops_cli_error(
				"--%s and --%s cannot be used together",
				find_id(cli, seen[g])->name,
				find_id(cli, id)->name);
		seen[g] = id;
	}
	return 0;
}

/* --- parsing ------------------------------------------------------------- */

/* The common options; 1 when handled, the exit status in *rc. */
static bool common_option(const struct dbops_cli *cli, int id, int *rc)
{
	switch (id) {
	case 'q':
		dbops_log_set_verbosity(DBOPS_LOG_QUIET);
		return true;
	case 'v':
		dbops_log_set_verbosity(DBOPS_LOG_VERBOSE);
		return true;
	case 'h':
		dbops_cli_usage(cli, stdout);
		*rc = 0;
		return true;
	case 'V':
		printf("%s %s\n", cli->name, DBOPS_VERSION);
		*rc = 0;
		return true;
	}
	return false;
}

int dbops_cli_parse(const struct dbops_cli *cli, void *ctx, int argc,
		    char **argv, int *first)
{
	struct option longopts[MAX_OPTIONS];
	char shortopts[2 * MAX_OPTIONS + 2];
	int seen[64] = { 0 }, id, rc = DBOPS_CLI_RUN;

	build_tables(cli, longopts, shortopts);
	optind = 0; /* 0, not 1: glibc re-initialises for a new argv */
	opterr = 0;
	while (rc == DBOPS_CLI_RUN &&
	       (id = getopt_long(argc, argv, shortopts, longopts, NULL)) !=
		       -1) {
		if (id == '?')
			return unknown_option(cli, argv);
		if (id == ':')
			return missing_value(cli, argv);
		if (check_exclusive(cli, seen, id) != 0)
			return 1;
		if (common_option(cli, id, &rc))
			continue;
		if (cli->handle(ctx, id, optarg) != 0)
			return 1;
	}
	*first = optind;
	return rc;
}

/* --- the usage screen ---------------------------------------------------- */

/* " -j, --jobs N" or "     --at TIME". */
static int flags_text(const struct dbops_cli_option *o, char *buf, size_t len)
{
	char head[8] = "   ";

	if (has_short(o->id))
		snprintf(head, sizeof(head), "-%c,", o->id);
	return snprintf(buf, len, " %s --%s%s%s", head, o->name,
			o->arg ? " " : "", o->arg ? o->arg : "");
}

/*
 * TEXT from column COL on, wrapped at SCREEN_WIDTH: each further line
 * starts at column INDENT.
 */
static void print_wrapped(FILE *out, const char *text, int col, int indent)
{
	while (*text) {
		int room = SCREEN_WIDTH - col, n = (int)strlen(text);

		if (n > room) {
			int cut = room;

			while (cut > 0 && text[cut] != ' ')
				cut--;
			n = cut > 0 ? cut : room;
		}
		fprintf(out, "%.*s\n", n, text);
		text += n;
		while (*text == ' ')
			text++;
		if (*text)
			fprintf(out, "%*s", indent, "");
		col = indent;
	}
}

static int help_column(const struct dbops_cli *cli)
{
	const struct dbops_cli_option *list[MAX_OPTIONS];
	size_t count = all_options(cli, list);
	char buf[128];
	int widest = 0;

	for (size_t i = 0; i < count; i++) {
		int n = flags_text(list[i], buf, sizeof(buf));

		if (list[i]->help && n + 2 <= HELP_COLUMN_MAX && n > widest)
			widest = n;
	}
	return widest + 2;
}

static void print_options(FILE *out, const struct dbops_cli_option *opts,
			  int column)
{
	char buf[128];

	for (const struct dbops_cli_option *o = opts; o->id != 0; o++) {
		int n;

		if (o->help == NULL)
			continue;
		n = flags_text(o, buf, sizeof(buf));
		fputs(buf, out);
		if (n + 2 > column) {
			fprintf(out, "\n%*s", column, "");
			n = column;
		} else {
			fprintf(out, "%*s", column - n, "");
			n = column;
		}
		print_wrapped(out, o->help, n, column);
	}
}

void dbops_cli_usage(const struct dbops_cli *cli, FILE *out)
{
	int column = help_column(cli);

	fputs("Usage:\n", out);
	for (const char *const *s = cli->synopsis; s && *s; s++)
		fprintf(out, " %s %s\n", cli->name, *s);
	if (cli->about)
		fprintf(out, "\n%s", cli->about);
	for (const struct dbops_cli_section *s = cli->sections; s && s->options;
	     s++) {
		fprintf(out, "\n%s:\n", s->title);
		print_options(out, s->options, column);
	}
	fputs("\n", out);
	print_options(out, common_options, column);
	fprintf(out, "\nSee %s(1).\n", cli->name);
}

/* --- typed values -------------------------------------------------------- */

int dbops_cli_parse_int(const char *text, long long *out)
{
	char *end;
	long long v;

	/* strtoll() would skip leading white space and take "" as 0. */
	if (!isdigit((unsigned char)text[text[0] == '-' || text[0] == '+'])) {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno == ERANGE)
		return -1;
	if (*end != '\0') {
		errno = EINVAL;
		return -1;
	}
	*out = v;
	return 0;
}

/* The power of 1024 a size unit stands for, or -1. */
static int size_shift(const char *unit)
{
	static const char letters[] = "KMGT";
	const char *at;

	if (*unit == '\0' || strcmp(unit, "B") == 0)
		return 0;
	at = strchr(letters, toupper((unsigned char)unit[0]));
	if (at == NULL)
		return -1;
	unit++;
	if (*unit == 'i' && unit[1] == 'B')
		unit += 2;
	else if (*unit == 'B' || *unit == 'b')
		unit++;
	return *unit == '\0' ? 10 * (int)(at - letters + 1) : -1;
}

int dbops_cli_parse_size(const char *text, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = text;
	int shift;

	if (!isdigit((unsigned char)*p)) {
		errno = EINVAL;
		return -1;
	}
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - 9) / 10) {
			errno = ERANGE;
			return -1;
		}
		v = v * 10 + (uint64_t)(*p - '0');
	}
	shift = size_shift(p);
	if (shift < 0) {
		errno = EINVAL;
		return -1;
	}
	if (shift > 0 && v > UINT64_MAX >> shift) {
		errno = ERANGE;
		return -1;
	}
	*out = v << shift;
	return 0;
}

/* Milliseconds in a duration unit at *P (moved past it); 0 if none. */
static int64_t duration_unit(const char **p)
{
	static const struct {
		const char *word;
		int64_t ms;
	} units[] = { { "ms", 1 },
		      { "s", 1000 },
		      { "m", 60000 },
		      { "h", 3600000 },
		      { "d", 86400000 } };

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t n = strlen(units[i].word);

		if (strncmp(*p, units[i].word, n) == 0 &&
		    !isalpha((unsigned char)(*p)[n])) {
			*p += n;
			return units[i].ms;
		}
	}
	return 0;
}

/*
 * One "<number>[.<fraction>]" at *P (moved past it): WHOLE, and FRAC /
 * SCALE. 0, -1 when there is no number, -2 when it is too large.
 */
static int duration_part(const char **p, int64_t *whole, int64_t *frac,
			 int64_t *scale)
{
	*whole = 0;
	*frac = 0;
	*scale = 1;
	if (!isdigit((unsigned char)**p))
		return -1;
	for (; isdigit((unsigned char)**p); (*p)++) {
		if (*whole > (INT64_MAX - 9) / 10)
			return -2;
		*whole = *whole * 10 + (**p - '0');
	}
	if (**p != '.')
		return 0;
	(*p)++;
	if (!isdigit((unsigned char)**p))
		return -1;
	for (; isdigit((unsigned char)**p); (*p)++)
		if (*scale < 1000000) {
			*frac = *frac * 10 + (**p - '0');
			*scale *= 10;
		}
	return 0;
}

int dbops_cli_parse_duration(const char *text, int64_t *out)
{
	const char *p = text;
	int64_t total = 0;
	int parts = 0;

	while (*p != '\0') {
		int64_t whole, frac, scale, unit;
		int rc = duration_part(&p, &whole, &frac, &scale);

		if (rc != 0) {
			errno = rc == -2 ? ERANGE : EINVAL;
			return -1;
		}
		unit = duration_unit(&p);
		/* A bare number is seconds, when it is all there is. */
		if (unit == 0 && parts == 0 && *p == '\0')
			unit = 1000;
		if (unit == 0) {
			errno = EINVAL;
			return -1;
		}
		if (whole > (INT64_MAX - total) / unit - 1) {
			errno = ERANGE;
			return -1;
		}
		total += whole * unit + frac * unit / scale;
		parts++;
	}
	if (parts == 0) {
		errno = EINVAL;
		return -1;
	}
	*out = total;
	return 0;
}

int dbops_cli_int(const char *option, const char *text, int min, int max,
		  int *out)
{
	long long v;

	if (dbops_cli_parse_int(text, &v) != 0 || v < min || v > max)
		return dbops_cli_invalid(
			option, text, "use a number from %d to %d", min, max);
	*out = (int)v;
	return 0;
}

/* BYTES as the largest unit that divides it: "64M", "1G", "1000". */
static const char *size_text(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "TGMK";
	int shift = 40;

	for (const char *u = units; *u; u++, shift -= 10)
		if (bytes != 0 && bytes % (1ULL << shift) == 0) {
			snprintf(buf, len, "%llu%c",
				 (unsigned long long)(bytes >> shift), *u);
			return buf;
		}
	snprintf(buf, len, "%llu", (unsigned long long)bytes);
	return buf;
}

int dbops_cli_size(const char *option, const char *text, uint64_t min,
		   uint64_t max, uint64_t *out)
{
	char lo[32], hi[32];
	uint64_t v;

	if (dbops_cli_parse_size(text, &v) != 0 || v < min || v > max)
		return dbops_cli_invalid(
			option, text,
			"use a size from %s to %s bytes, such as 512K, 64M or 1G",
			size_text(min, lo, sizeof(lo)),
			size_text(max, hi, sizeof(hi)));
	*out = v;
	return 0;
}

/* MS as the largest unit that divides it: "1d", "90s", "500ms". */
static const char *duration_text(int64_t ms, char *buf, size_t len)
{
	static const struct {
		const char *word;
		int64_t ms;
	} units[] = { { "d", 86400000 },
		      { "h", 3600000 },
		      { "m", 60000 },
		      { "s", 1000 } };

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ms != 0 && ms % units[i].ms == 0) {
			snprintf(buf, len, "%lld%s",
				 (long long)(ms / units[i].ms), units[i].word);
			return buf;
		}
	snprintf(buf, len, "%lldms", (long long)ms);
	return buf;
}

int dbops_cli_duration(const char *option, const char *text, int64_t min_ms,
		       int64_t max_ms, int64_t *out)
{
	char lo[32], hi[32];
	int64_t v;

	if (dbops_cli_parse_duration(text, &v) != 0 || v < min_ms || v > max_ms)
		return dbops_cli_invalid(
			option, text,
			"use a duration from %s to %s, such as 30 (seconds), 30s, 5m or 1h",
			duration_text(min_ms, lo, sizeof(lo)),
			duration_text(max_ms, hi, sizeof(hi)));
	*out = v;
	return 0;
}

int dbops_cli_choice(const char *option, const char *text,
		     const char *const *choices, int *out)
{
	char list[256];
	size_t used = 0;
	int n = 0;

	for (int i = 0; choices[i] != NULL; i++, n++)
		if (strcmp(text, choices[i]) == 0) {
			*out = i;
			return 0;
		}
	/* "a, b or c" */
	list[0] = '\0';
	for (int i = 0; i < n && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used,
					 "%s%s",
					 i == 0	      ? ""
					 : i == n - 1 ? " or "
						      : ", ",
					 choices[i]);
	return dbops_cli_invalid(option, text, "use %s", list);
}
