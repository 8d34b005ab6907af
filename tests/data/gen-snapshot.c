/*
 * gen-snapshot.c - realistic player snapshot CSV files for snap-import's
 * tests, demo and benchmark, fast and the same bytes for the same seed.
 *
 *   gen-snapshot [--rows N | --bytes N] [--seed S] [--day YYYY-MM-DD]
 *                [--bad KIND] >file.csv
 *
 * The file (RFC 4180, "\n" line ends) has a header line, then one row per
 * player:
 *
 *	player_id,name,world,score,level,active,joined,last_seen
 *	1,Blackfang,world9,42341.79,46,false,2016-07-27,2023-09-27 13:47:58+00
 *
 * player_id counts from 1; name is a handle of letters (a prefix and a
 * suffix from two lists), and about 1 row in 50 has a name with a comma or
 * a double quote, quoted ("O""Ironfox, Jr", "Ironfox, Sr"); world is
 * world1 to world16; score has two decimals; level is 1 to 100; active is
 * true or false; joined is a date in the ten years up to --day; last_seen
 * is a UTC time between joined and the end of --day.
 *
 * Numbers are our own (splitmix64), not rand(), so a seed gives the same
 * file on every libc. Rows are formatted by hand into a buffer written out
 * in 1 MiB chunks: printf would cap the rate well below what the loaders
 * under test can take (this makes 1 GB/s; writing a file, the kernel is
 * the limit).
 *
 * --bad KIND writes a small file (10 rows unless --rows says more) with
 * exactly one defect, rows numbered from 1 after the header; its other
 * names need no quoting, so the defect is the only thing unusual in it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define CHUNK (1024 * 1024)
/* Longer than any row we format, so a row never needs a bounds check. */
#define ROW_MAX 512
/* How far back joined dates go from --day. */
#define HISTORY_DAYS	 3650
#define DEFAULT_ROWS	 1000
#define DEFAULT_BAD_ROWS 10
#define DEFAULT_DAY	 "2024-03-01"

enum gen_bad {
	GEN_BAD_NONE,
	GEN_BAD_RAGGED, /* row 3: one field too many */
	GEN_BAD_QUOTE,	/* row 4: a quoted name that never closes */
	GEN_BAD_UTF8,	/* row 2: byte 0xFF inside the name */
	GEN_BAD_TYPE,	/* row 5: level is "high" */
	GEN_BAD_BOM,	/* a UTF-8 BOM before the header, otherwise valid */
};

static const char *const bad_names[] = {
	[GEN_BAD_NONE] = "",	   [GEN_BAD_RAGGED] = "ragged",
	[GEN_BAD_QUOTE] = "quote", [GEN_BAD_UTF8] = "utf8",
	[GEN_BAD_TYPE] = "type",   [GEN_BAD_BOM] = "bom",
};

struct gen_opts {
	uint64_t rows;
	uint64_t bytes; /* 0: --rows decides */
	bool rows_set;
	uint64_t seed;
	long day; /* days since 1970-01-01 */
	enum gen_bad bad;
};

/* Name parts: a handle is one prefix and one suffix, 48 x 48 of them. */
static const char *const prefixes[] = {
	"Iron",	  "Shadow",  "Storm", "Frost", "Night",	  "Silver", "Dark",
	"Bright", "Wild",    "Stone", "Fire",  "Swift",	  "Grim",   "Moon",
	"Sun",	  "Thunder", "Red",   "Blue",  "Ash",	  "Raven",  "Wolf",
	"Star",	  "Ember",   "Gold",  "Steel", "Crimson", "Ghost",  "Rune",
	"Mist",	  "Oak",     "Thorn", "Dusk",  "Dawn",	  "Hollow", "Cold",
	"Quick",  "Lone",    "High",  "Deep",  "Black",	  "White",  "Green",
	"Sky",	  "Sea",     "Bold",  "Sly",   "Kaz",	  "Zor",
};
static const char *const suffixes[] = {
	"fox",	  "blade",  "wolf",   "hawk",	"mage",	  "born",  "heart",
	"fang",	  "strike", "walker", "rider",	"smith",  "claw",  "shade",
	"song",	  "bane",   "storm",  "crow",	"wind",	  "bear",  "forge",
	"shield", "arrow",  "keeper", "drake",	"hunter", "spark", "thorn",
	"vale",	  "stone",  "lance",  "mancer", "weaver", "scale", "wing",
	"step",	  "brook",  "field",  "gard",	"mir",	  "dor",   "ina",
	"ella",	  "ric",    "wyn",    "ak",	"os",	  "ix",
};
#define NPREFIX (sizeof(prefixes) / sizeof(prefixes[0]))
#define NSUFFIX (sizeof(suffixes) / sizeof(suffixes[0]))

static unsigned char prefix_len[NPREFIX];
static unsigned char suffix_len[NSUFFIX];

/* splitmix64 (Steele, Lea, Flood 2014): one add, three mixes a number. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A number below n (n < 2^32) from 32 bits of r, by multiply and shift. */
static uint32_t below(uint32_t r, uint32_t n)
{
	return (uint32_t)(((uint64_t)r * n) >> 32);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
	long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

static void civil_from_days(long z, long *y, unsigned *m, unsigned *d)
{
	long era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long)yoe + era * 400 + (*m <= 2);
}

/* Parse exactly YYYY-MM-DD, a real date from 1900 to 9999. */
static int parse_day(const char *text, long *day)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30,
					  31, 31, 30, 31, 30, 31 };
	unsigned y = 0, m, d;

	for (int i = 0; i < 10; i++) {
		bool dash = i == 4 || i == 7;

		if (dash ? text[i] != '-' : (text[i] < '0' || text[i] > '9'))
			return -1;
	}
	if (text[10] != '\0')
		return -1;
	for (int i = 0; i < 4; i++)
		y = y * 10 + (unsigned)(text[i] - '0');
	m = (unsigned)(text[5] - '0') * 10 + (unsigned)(text[6] - '0');
	d = (unsigned)(text[8] - '0') * 10 + (unsigned)(text[9] - '0');
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -1;
	if (m == 2 && d == 29 &&
	    !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	*day = days_from_civil((long)y, m, d);
	return 0;
}

/*
 * Parse a count: digits, optionally followed by k, M or G (powers of 1024).
 * Returns 0, or -1 for anything else, a sign included, or an overflow.
 */
static int parse_count(const char *text, uint64_t *out)
{
	uint64_t v = 0, mult = 1;
	const char *p = text;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	switch (*p) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = 1ULL << 10;
		p++;
		break;
	case 'M':
		mult = 1ULL << 20;
		p++;
		break;
	case 'G':
		mult = 1ULL << 30;
		p++;
		break;
	default:
		return -1;
	}
	if (*p != '\0' || (v != 0 && mult > UINT64_MAX / v))
		return -1;
	*out = v * mult;
	return 0;
}

/* Append the decimal digits of v at p; returns the new end. */
static char *put_u64(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

static char *put_2digits(char *p, unsigned v)
{
	*p++ = (char)('0' + v / 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

static char *put_str(char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	return p + len;
}

/* Append a handle, prefix index i, suffix index j. */
static char *put_handle(char *p, unsigned i, unsigned j)
{
	p = put_str(p, prefixes[i], prefix_len[i]);
	return put_str(p, suffixes[j], suffix_len[j]);
}

/*
 * Append a name that needs quoting, quoted per RFC 4180: the raw name is
 * built first, then copied with its quotes doubled.
 */
static char *put_odd_name(char *p, uint64_t r)
{
	char raw[128], *q = raw;
	unsigned i = (unsigned)(r % NPREFIX),
		 j = (unsigned)((r >> 8) % NSUFFIX);
	unsigned k = (unsigned)((r >> 16) % NPREFIX);
	unsigned l = (unsigned)((r >> 24) % NSUFFIX);

	switch ((r >> 32) % 5) {
	case 0: /* O"Ironfox, Jr */
		q = put_str(q, "O\"", 2);
		q = put_handle(q, i, j);
		q = put_str(q, ", Jr", 4);
		break;
	case 1: /* Ironfox, Stormblade */
		q = put_handle(q, i, j);
		q = put_str(q, ", ", 2);
		q = put_handle(q, k, l);
		break;
	case 2: /* Ironfox "Stormblade" */
		q = put_handle(q, i, j);
		q = put_str(q, " \"", 2);
		q = put_handle(q, k, l);
		*q++ = '"';
		break;
	case 3: /* O"Ironfox */
		q = put_str(q, "O\"", 2);
		q = put_handle(q, i, j);
		break;
	default: /* Ironfox, Sr */
		q = put_handle(q, i, j);
		q = put_str(q, ", Sr", 4);
		break;
	}
	*p++ = '"';
	for (const char *s = raw; s < q; s++) {
		if (*s == '"')
			*p++ = '"';
		*p++ = *s;
	}
	*p++ = '"';
	return p;
}

struct gen_state {
	const struct gen_opts *opts;
	uint64_t rng;
	char *dates;	/* "YYYY-MM-DD" for each of HISTORY_DAYS + 1 days */
	char *buf;	/* CHUNK + ROW_MAX */
	size_t used;	/* bytes in buf */
	uint64_t total; /* bytes written out or in buf */
};

/*
 * Write out the full chunks in buf (all of it if `all`), keeping the tail.
 * write(2), not stdio: after a failed write nothing is left buffered for
 * the exit handler to fail on and report a second time. Returns 0 or -1.
 */
static int flush_chunks(struct gen_state *st, bool all)
{
	size_t n = all ? st->used : st->used - st->used % CHUNK;

	for (size_t done = 0; done < n;) {
		ssize_t w = write(STDOUT_FILENO, st->buf + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			dbops_log_error(
				"could not write to standard output: %s",
				strerror(errno));
			return -1;
		}
		done += (size_t)w;
	}
	memmove(st->buf, st->buf + n, st->used - n);
	st->used -= n;
	return 0;
}

/* Format data row `id` (from 1) at the end of buf. */
static void put_row(struct gen_state *st, uint64_t id)
{
	enum gen_bad bad = st->opts->bad;
	char *start = st->buf + st->used, *p = start;
	uint64_t r1 = next_random(&st->rng), r2 = next_random(&st->rng);
	uint64_t r3 = next_random(&st->rng), r4 = next_random(&st->rng);
	unsigned level = 1 + below((uint32_t)r1, 100);
	uint64_t cents = below((uint32_t)(r1 >> 32), level * 250000u);
	unsigned joined = below((uint32_t)r2, HISTORY_DAYS + 1);
	unsigned seen =
		joined + below((uint32_t)(r2 >> 32), HISTORY_DAYS + 1 - joined);
	unsigned world = 1 + (unsigned)(r3 & 15);
	unsigned pre = (unsigned)((r3 >> 4) & 0xffff) % NPREFIX;
	unsigned suf = (unsigned)((r3 >> 20) & 0xffff) % NSUFFIX;
	unsigned secs = below((uint32_t)r4, 86400);
	/* Seven players in ten are active; one name in 50 needs quotes. */
	bool active = below((uint32_t)(r4 >> 32), 10) < 7;
	bool odd = ((r4 >> 32) & 0xffff) % 50 == 0;

	p = put_u64(p, id);
	*p++ = ',';
	if (bad == GEN_BAD_QUOTE && id == 4) {
		*p++ = '"';
		p = put_handle(p, pre, suf);
	} else if (bad == GEN_BAD_UTF8 && id == 2) {
		p = put_str(p, prefixes[pre], prefix_len[pre]);
		*p++ = (char)0xff;
		p = put_str(p, suffixes[suf], suffix_len[suf]);
	} else if (bad == GEN_BAD_NONE && odd) {
		p = put_odd_name(p, next_random(&st->rng));
	} else {
		p = put_handle(p, pre, suf);
	}
	p = put_str(p, ",world", 6);
	p = put_u64(p, world);
	*p++ = ',';
	p = put_u64(p, cents / 100);
	*p++ = '.';
	p = put_2digits(p, (unsigned)(cents % 100));
	*p++ = ',';
	if (bad == GEN_BAD_TYPE && id == 5)
		p = put_str(p, "high", 4);
	else
		p = put_u64(p, level);
	if (active)
		p = put_str(p, ",true,", 6);
	else
		p = put_str(p, ",false,", 7);
	p = put_str(p, st->dates + (size_t)joined * 10, 10);
	*p++ = ',';
	p = put_str(p, st->dates + (size_t)seen * 10, 10);
	*p++ = ' ';
	p = put_2digits(p, secs / 3600);
	*p++ = ':';
	p = put_2digits(p, secs / 60 % 60);
	*p++ = ':';
	p = put_2digits(p, secs % 60);
	p = put_str(p, "+00", 3);
	if (bad == GEN_BAD_RAGGED && id == 3)
		p = put_str(p, ",extra", 6);
	*p++ = '\n';
	st->used += (size_t)(p - start);
	st->total += (uint64_t)(p - start);
}

/* Write the whole file to stdout. Returns 0, or -1 after an error. */
static int gen_run(const struct gen_opts *opts)
{
	static const char header[] =
		"player_id,name,world,score,level,active,joined,last_seen\n";
	struct gen_state st = { .opts = opts };
	int rc = -1;

	for (size_t i = 0; i < NPREFIX; i++)
		prefix_len[i] = (unsigned char)strlen(prefixes[i]);
	for (size_t i = 0; i < NSUFFIX; i++)
		suffix_len[i] = (unsigned char)strlen(suffixes[i]);
	/* Seeds 0, 1, 2 should not give neighbouring streams: mix first. */
	st.rng = opts->seed;
	st.rng = next_random(&st.rng);

	st.dates = malloc((HISTORY_DAYS + 1) * 10 + 1);
	st.buf = malloc(CHUNK + ROW_MAX);
	if (st.dates == NULL || st.buf == NULL) {
		dbops_log_error("out of memory");
		goto out;
	}
	for (long i = 0; i <= HISTORY_DAYS; i++) {
		char *p = st.dates + i * 10;
		unsigned m, d;
		long y;

		/* parse_day() keeps years to 1900..9999: four digits. */
		civil_from_days(opts->day - HISTORY_DAYS + i, &y, &m, &d);
		p = put_2digits(p, (unsigned)(y / 100));
		p = put_2digits(p, (unsigned)(y % 100));
		*p++ = '-';
		p = put_2digits(p, m);
		*p++ = '-';
		put_2digits(p, d);
	}

	if (opts->bad == GEN_BAD_BOM) {
		st.used = put_str(st.buf, "\xef\xbb\xbf", 3) - st.buf;
		st.total = 3;
	}
	memcpy(st.buf + st.used, header, sizeof(header) - 1);
	st.used += sizeof(header) - 1;
	st.total += sizeof(header) - 1;

	for (uint64_t id = 1;; id++) {
		if (opts->bytes != 0 ? st.total >= opts->bytes
				     : id > opts->rows)
			break;
		put_row(&st, id);
		if (st.used >= CHUNK && flush_chunks(&st, false) != 0)
			goto out;
	}
	if (flush_chunks(&st, true) != 0)
		goto out;
	rc = 0;
out:
	free(st.dates);
	free(st.buf);
	return rc;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage:\n"
		" gen-snapshot [options] >file.csv\n"
		"\n"
		"Write a player snapshot CSV file to standard output,\n"
		"the same bytes for the same options.\n"
		"\n"
		"Options:\n"
		"     --bad KIND        one defect, in a small file:\n"
		"                         ragged  row 3 has a field too many\n"
		"                         quote   row 4's name is never "
		"closed\n"
		"                         utf8    row 2's name has byte 0xFF\n"
		"                         type    row 5's level is \"high\"\n"
		"                         bom     a UTF-8 BOM, else valid\n"
		"     --bytes N         stop at the first row ending at or\n"
		"                         past N bytes (k, M, G: 1024s)\n"
		"     --day DATE        the snapshot's day, YYYY-MM-DD\n"
		"                         (default %s)\n"
		"     --rows N          rows after the header (default\n"
		"                         %d, or %d with --bad)\n"
		"     --seed S          seed of the numbers (default 1)\n"
		" -h, --help            this text\n",
		DEFAULT_DAY, DEFAULT_ROWS, DEFAULT_BAD_ROWS);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bad", required_argument, NULL, 'B' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "day", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "rows", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct gen_opts opts = { .rows = DEFAULT_ROWS, .seed = 1 };
	bool bytes_set = false;
	int c;

	dbops_log_init(argv[0]);
	parse_day(DEFAULT_DAY, &opts.day);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'B':
			opts.bad = GEN_BAD_NONE;
			for (int k = GEN_BAD_RAGGED; k <= GEN_BAD_BOM; k++)
				if (strcmp(optarg, bad_names[k]) == 0)
					opts.bad = (enum gen_bad)k;
			if (opts.bad == GEN_BAD_NONE) {
				dbops_log_error(
					"unknown defect \"%s\" for --bad "
					"(ragged, quote, utf8, type, bom)",
					optarg);
				return 1;
			}
			break;
		case 'b':
			if (parse_count(optarg, &opts.bytes) != 0 ||
			    opts.bytes == 0) {
				dbops_log_error(
					"invalid value \"%s\" for option "
					"--bytes",
					optarg);
				return 1;
			}
			bytes_set = true;
			break;
		case 'd':
			if (parse_day(optarg, &opts.day) != 0) {
				dbops_log_error(
					"invalid date \"%s\" for option "
					"--day (YYYY-MM-DD, 1900 to 9999)",
					optarg);
				return 1;
			}
			break;
		case 'h':
			usage(stdout);
			return dbops_log_exit_status(0);
		case 'r':
			if (parse_count(optarg, &opts.rows) != 0) {
				dbops_log_error(
					"invalid value \"%s\" for option "
					"--rows",
					optarg);
				return 1;
			}
			opts.rows_set = true;
			break;
		case 's':
			if (parse_count(optarg, &opts.seed) != 0) {
				dbops_log_error(
					"invalid value \"%s\" for option "
					"--seed",
					optarg);
				return 1;
			}
			break;
		case ':':
			dbops_log_error("option \"%s\" needs a value",
					argv[optind - 1]);
			return 1;
		default:
			if (optopt != 0)
				dbops_log_error("unrecognized option \"-%c\"",
						optopt);
			else
				dbops_log_error("unrecognized option \"%s\"",
						argv[optind - 1]);
			return 1;
		}
	}
	if (optind < argc) {
		dbops_log_error("unexpected argument \"%s\"", argv[optind]);
		return 1;
	}
	if (bytes_set && opts.rows_set) {
		dbops_log_error("--rows and --bytes cannot be used together");
		return 1;
	}
	if (opts.bad != GEN_BAD_NONE) {
		if (bytes_set) {
			dbops_log_error(
				"--bad writes a small file and cannot be "
				"used with --bytes");
			return 1;
		}
		if (!opts.rows_set)
			opts.rows = DEFAULT_BAD_ROWS;
		else if (opts.rows < 5) {
			dbops_log_error("--bad needs at least 5 rows");
			return 1;
		}
	}
	return dbops_log_exit_status(gen_run(&opts));
}
