/*
 * csvhead.h - the head of a CSV snapshot read as PostgreSQL's COPY reads
 * it: the header's column names, and a column type for each column guessed
 * from the data rows of a sample, for the CREATE TABLE of a first import.
 *
 * Pure: bytes in, results out. The rows themselves go to the server
 * untouched and COPY (FORMAT csv, HEADER) parses them there, so this
 * module reads CSV exactly as COPY's CSV mode does with its defaults:
 *
 *  1. Fields are separated by ',' and may be enclosed in '"'. Inside
 *     quotes "" is one literal quote, and ',', CR and LF are data. A quote
 *     may also open in the middle of a field: a"b,c"d is the one value
 *     ab,cd.
 *  2. A record ends at a CR or LF outside quotes; CR LF together is one
 *     line end. (COPY takes the kind of line end from the first line and
 *     fails on a line ending otherwise; we accept any mix and leave that
 *     error to COPY.)
 *  3. An unquoted empty field is NULL; a quoted empty field "" is the
 *     empty string. Nothing is trimmed: spaces are data.
 *  4. An empty line is a record of one NULL field.
 *
 * Those are the defaults; struct snap_dialect changes the delimiter, the
 * quote and the NULL string as COPY's DELIMITER, QUOTE and NULL do (the
 * escape is the quote, as COPY's default ESCAPE): with a NULL string, an
 * unquoted field equal to it is NULL and an unquoted empty field is the
 * empty string. Quoted fields are never NULL.
 *
 * A UTF-8 byte order mark is not this module's business: COPY would take
 * it as part of the first column's name, so the caller strips it from the
 * start of the file before calling snap_header_parse() (and before COPY).
 */
#ifndef SNAP_CSVHEAD_H
#define SNAP_CSVHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"

/*
 * The type of a column, narrowest first within each family (integer,
 * bigint, numeric; date, timestamptz). See snap_infer_types() for which
 * values belong to which type.
 */
enum snap_type {
	SNAP_TYPE_NULL, /* nothing but NULLs seen */
	SNAP_TYPE_BOOLEAN,
	SNAP_TYPE_INTEGER,
	SNAP_TYPE_BIGINT,
	SNAP_TYPE_NUMERIC,
	SNAP_TYPE_DATE,
	SNAP_TYPE_TIMESTAMPTZ,
	SNAP_TYPE_TEXT,
};

/* How a file is written: COPY's DELIMITER, QUOTE, NULL and HEADER. */
struct snap_dialect {
	char delimiter;	  /* ',' */
	char quote;	  /* '"' (also the escape) */
	const char *null; /* an unquoted field read as NULL: "" */
	bool header;	  /* the first record names the columns */
};

/* clang-format off */
#define SNAP_DIALECT_DEFAULT { ',', '"', "", true }
/* clang-format on */

/* The longest NULL string (--null). */
#define SNAP_NULL_MAX 64

/* COPY's CSV defaults, which the functions without a dialect use. */
extern const struct snap_dialect snap_csv_default;

/* The header record of a CSV file. */
struct snap_header {
	char **names; /* count NUL-terminated names, in file order */
	size_t count;
	size_t length; /* bytes of the header record, line end included */
};

/*
 * Parse the header: the first record of BUF (LEN bytes from the start of
 * the file, a byte order mark removed). AT_EOF says that BUF holds the rest
 * of the file, so a header without a line end ends there.
 *
 * Returns 0 with *h filled (free it with snap_header_free()); 1 when BUF
 * holds no complete header yet and !AT_EOF (the caller reads more and calls
 * again; one that cannot, for a header longer than it will read, reports
 * that itself); or -1 with a one-line reason in ERR (errbuf.h; ERR may be
 * NULL):
 *
 *	the file is empty
 *	unterminated quoted field in the header
 *	column 3 of the header has no name
 *	column 2 of the header contains a NUL byte
 *	column "a" appears twice in the header
 *
 * Running out of memory ends the process (xalloc.h).
 * A name may be neither NULL nor "" (a table column needs a name), and
 * names are compared byte for byte, as quoted identifiers are. A header
 * ending in a CR at the end of BUF is not complete until the next byte
 * tells whether it is a CR LF. On 1 and -1 *h is left empty.
 */
int snap_header_parse(const char *buf, size_t len, bool at_eof,
		      struct snap_header *h, struct dbops_err *err);

/* Release what snap_header_parse() allocated and empty *h; again is fine. */
void snap_header_free(struct snap_header *h);

/* The same with the dialect D (its header member is not looked at). */
int snap_header_parse_dialect(const struct snap_dialect *d, const char *buf,
			      size_t len, bool at_eof, struct snap_header *h,
			      struct dbops_err *err);

/*
 * Column types are lossless: a column gets a type other than text only if
 * every value's text is exactly what PostgreSQL prints back for it, read
 * back with col::text (DateStyle ISO). The type of one value (anything
 * else, spaces around it too, is text):
 *
 *	NULL		no constraint
 *	""		text (COPY rejects an empty string for the others)
 *	boolean		true false, lower case: what boolean::text prints
 *			(boolout's t and f, yes, no, 1, 0 ... are text)
 *	integer		-?(0|[1-9][0-9]*) within int32; bigint within
 *			int64; numeric beyond. No leading zero, no '+',
 *			no "-0".
 *	numeric		-?(0|[1-9][0-9]*).[0-9]+, not a negative zero, at
 *			most 131072 digits before the point and 16383
 *			after. No exponent, no NaN, no Infinity, no ".5",
 *			no "5."
 *	date		YYYY-MM-DD, a real date of the years 1 to 9999
 *	timestamptz	a date, 'T' or ' ', HH:MM[:SS[.F]] with 1 to 6
 *			digits of fraction, hour 0-23, minute and second
 *			0-59, optionally Z or an offset +HH, +HH:MM or +HHMM
 *			('-' too) of at most 15:59. The one type kept for
 *			the instant rather than the text: a value without
 *			an offset is read in the import's time zone.
 *
 * A column's type is the narrowest that holds all its values: NULL joins
 * anything; integer, bigint and numeric widen to the widest seen (an
 * integer prints the same as a numeric); any other mix is text.
 */

/* The type of one value that is not NULL (the empty string is text), by
 * the rules above: integer, bigint or numeric by its magnitude. */
enum snap_type snap_value_type(const char *s, size_t n);

/* What inference found for one column. */
struct snap_guess {
	enum snap_type type;
	int64_t line;		   /* the line that made it text; 0: none */
	enum snap_type was;	   /* the column's type before that line */
	enum snap_type value_type; /* the type of that line's value */
	char value[41];		   /* the start of that value */
	bool value_cut;		   /* ... which is longer */
};

/* Inference over a whole file, fed in pieces. */
struct snap_infer {
	size_t ncols;
	struct snap_guess *cols;
	const struct snap_dialect *dialect; /* snap_csv_default after init */
	int64_t line;	/* the file's line of the next record */
	size_t records; /* records used */
	char *scratch;
	size_t scratch_cap;
};

/* Start inference of NCOLS columns at line FIRST_LINE of the file. */
void snap_infer_init(struct snap_infer *in, size_t ncols, int64_t first_line);
void snap_infer_free(struct snap_infer *in);

/*
 * Fold the complete records at the start of BUF (LEN bytes, the file from
 * right after the header or the last byte consumed) into the guesses.
 * A record is used only when complete: one that runs to the end of BUF
 * without a line end (or with a CR that may be half a CR LF) is left for
 * the next call unless AT_EOF, and never used if it ends inside quotes.
 * Records whose number of fields is not NCOLS are skipped (COPY will
 * reject them with their line number). Returns the bytes consumed: the
 * caller keeps the rest and feeds it again with more after it.
 */
size_t snap_infer_feed(struct snap_infer *in, const char *buf, size_t len,
		       bool at_eof);

/*
 * The same in one call, for a buffer: at most MAX_RECORDS records are used
 * (SIZE_MAX: no limit). Writes TYPES[0..NCOLS) and returns the number of
 * records used.
 */
size_t snap_infer_types(const char *buf, size_t len, bool at_eof, size_t ncols,
			size_t max_records, enum snap_type *types);

/*
 * The bytes of a file on their way to COPY (FORMAT csv), a chunk at a time,
 * read as COPY reads them (quotes as a toggle, CR, LF and CR LF as line
 * ends):
 *
 *  - An empty line outside quotes is not a record: it is dropped (COPY
 *    would take it as a row of one NULL). Its line number is kept so that
 *    COPY's line numbers can be turned back into the file's.
 *  - A record that is only \. followed by a line end (CR or LF) is what
 *    COPY before PostgreSQL 18 takes for the end of the data, dropping the
 *    rest of the file without a word: its line goes to marker_line and
 *    scanning stops. A \. inside quotes, or with more on its line, or
 *    ending the file without a line end, is data.
 *
 * Either may straddle chunks: a held-back "\" or "\." is written with
 * the next chunk.
 */
struct snap_scan {
	bool markers; /* look for \. lines (servers before 18) */
	char quote;   /* '"' after init */
	bool in_quote;
	bool record_start; /* the next byte starts a record */
	int held;	   /* 1: "\" held back; 2: "\." */
	int cr_state;	   /* 1: a CR sent; 2: a CR dropped; 0: neither */
	int64_t line;	   /* the file's line of the next byte */
	int64_t marker_line;
	int64_t *skipped; /* lines dropped, ascending */
	size_t nskipped, cap;
};

void snap_scan_init(struct snap_scan *s);
void snap_scan_free(struct snap_scan *s);

/*
 * Scan LEN bytes of IN (AT_EOF: the last of the file), writing what COPY
 * is to get to OUT (room for LEN + 2 bytes). Returns the bytes written.
 * Stops at an end marker (s->marker_line set).
 */
size_t snap_scan_chunk(struct snap_scan *s, const char *in, size_t len,
		       bool at_eof, char *out);

/* The file's line of COPY's line SENT_LINE, dropped lines counted back. */
int64_t snap_scan_file_line(const struct snap_scan *s, int64_t sent_line);

/*
 * The SQL name of T for CREATE TABLE: "boolean", "integer", "bigint",
 * "numeric", "date", "timestamptz" or "text". SNAP_TYPE_NULL (a column
 * with no value to go by) and unknown values give "text".
 */
const char *snap_type_sql(enum snap_type t);

#endif
