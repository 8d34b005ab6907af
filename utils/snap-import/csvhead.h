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
 * A UTF-8 byte order mark is not this module's business: COPY would take
 * it as part of the first column's name, so the caller strips it from the
 * start of the file before calling snap_header_parse() (and before COPY).
 */
#ifndef SNAP_CSVHEAD_H
#define SNAP_CSVHEAD_H

#include <stdbool.h>
#include <stddef.h>

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

/*
 * Guess one type per column from the data records in BUF (LEN bytes that
 * start right after the header: the file from offset h.length on). A record
 * is used only when complete: one that runs to the end of BUF without a line
 * end is used only if AT_EOF, and never if it ends inside quotes. Records
 * whose number of fields is not NCOLS are skipped (COPY will reject them
 * with their line number). At most MAX_RECORDS records are used (SIZE_MAX:
 * no limit). Writes TYPES[0..NCOLS) and returns the number of records used.
 *
 * The type of one value (anything else, spaces around it too, is text):
 *
 *	NULL		no constraint
 *	""		text (COPY rejects an empty string for the others)
 *	boolean		true false t f yes no, in any case (not 1 and 0)
 *	integer		[+-]digits within int32, bigint within int64
 *	numeric		[+-](digits[.[digits]] | .digits)([eE][+-]digits),
 *			within the limits of numeric (|exponent| <= 1000,
 *			at most 131072 digits before the point and 16383
 *			after); no NaN, no Infinity
 *	date		YYYY-MM-DD, a real date of the years 1 to 9999
 *	timestamptz	a date, 'T' or ' ', HH:MM[:SS[.F]] with 1 to 6
 *			digits of fraction, hour 0-23, minute and second
 *			0-59, optionally Z or an offset +HH, +HH:MM or +HHMM
 *			('-' too) of at most 15:59
 *
 * A column's type is the narrowest that holds all its values: NULL joins
 * anything; integer, bigint and numeric widen to the widest seen; a date
 * widens to timestamptz; any other mix is text.
 */
size_t snap_infer_types(const char *buf, size_t len, bool at_eof, size_t ncols,
			size_t max_records, enum snap_type *types);

/*
 * The SQL name of T for CREATE TABLE: "boolean", "integer", "bigint",
 * "numeric", "date", "timestamptz" or "text". SNAP_TYPE_NULL (a column
 * with no value to go by) and unknown values give "text".
 */
const char *snap_type_sql(enum snap_type t);

#endif
