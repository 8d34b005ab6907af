/*
 * output.h - the one record writer behind every tool's
 * --format table|csv|tsv|json.
 *
 * A tool declares its columns, hands over rows of values and finishes:
 *
 *	w = dbops_output_new(stdout, fmt);
 *	dbops_output_add_column(w, "name", DBOPS_COLUMN_TEXT);
 *	dbops_output_add_column(w, "size", DBOPS_COLUMN_NUMBER);
 *	for each record: dbops_output_row(w, values);
 *	rc = dbops_output_finish(w);
 *	dbops_output_free(w);
 *
 * csv, tsv and json stream: each row is written to the FILE as it comes
 * (one fwrite per row, buffered by stdio). table holds all rows until
 * finish, since every column is as wide as its widest cell.
 *
 * The formats, byte for byte:
 *
 *  1. table - a boxed table like the mysql client's:
 *
 *	+----+------+
 *	| id | name |
 *	+----+------+
 *	|  7 | NULL |
 *	+----+------+
 *
 *     One space of padding each side of a cell. Widths are terminal
 *     columns, whatever the locale (dbops_utf8_width, utf8.h: East Asian
 *     wide characters and most emoji count 2, combining marks and the
 *     zero width joiner 0), so CJK aligns as in the mariadb client, and
 *     emoji and accents written with combining marks align too (the
 *     client counts those 1 each). NUMBER cells are
 *     right-aligned, the others and all headers left-aligned. NULL prints
 *     as NULL. So that a row stays one aligned line, \n \t \r print as the
 *     two characters \n \t \r; other control bytes (below 0x20, 0x7f) and
 *     bytes that are not part of valid UTF-8 print as \xNN (lower-case
 *     hex); a backslash prints as itself. BINARY cells print as 0x and the
 *     lower-case hex of every byte. With columns but no rows, the header
 *     box alone is printed; with no columns, nothing.
 *
 *  2. csv - RFC 4180: a header line of the column names, then one line
 *     per row, fields separated by ",". A field is enclosed in double
 *     quotes (inner quotes doubled) when it contains "," '"' CR or LF,
 *     starts or ends with a space, or is empty. NULL is an unquoted empty
 *     field, so "" and NULL differ, as in PostgreSQL's COPY ... CSV.
 *     Lines end in LF, not the CRLF of RFC 4180: every tool that reads
 *     CSV accepts LF, and LF keeps the output diffable and greppable.
 *     Other bytes, binary ones included, pass through unchanged.
 *
 *  3. tsv - a header line, then one line per row, fields separated by a
 *     tab; a backslash, tab, LF and CR are written as \\ \t \n \r, NULL as
 *     \N (PostgreSQL's text COPY, mysql --batch). BINARY values pass raw
 *     with the same escapes.
 *
 *  4. json - an array with one object per row, one object per line:
 *
 *	[
 *	{"id":7,"name":null},
 *	{"id":8,"name":"x"}
 *	]
 *
 *     and "[]" alone when there is no row. Keys are the column names, in
 *     column order (duplicate names are written as they are). NULL is
 *     null. A NUMBER value is written bare if it matches the number
 *     grammar of RFC 8259, else as a string ("NaN", "1.", "+1", "").
 *     BINARY values are the string "0x" followed by lower-case hex.
 *     Strings escape '"' and '\' and the control bytes (\b \f \n \r \t,
 *     the others as \u00XX); valid UTF-8 passes unchanged; each byte that
 *     is not part of a valid UTF-8 sequence (strictly: no overlong forms,
 *     no surrogates, nothing above U+10FFFF, no truncated sequences)
 *     becomes \ufffd. The result is always valid JSON.
 *
 * Errors: functions return 0, or -1 with errno set. EINVAL for misuse
 * (a column after the first row, a row with no columns, anything after
 * finish), ENOMEM, or the errno of a failed write. A failed write is
 * sticky: the writer writes nothing more, and every later row and finish
 * fail with that errno. A row that fails for any other reason writes
 * nothing and leaves the writer as it was.
 */
#ifndef DBOPS_OUTPUT_H
#define DBOPS_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

enum dbops_output_format {
	DBOPS_FORMAT_TABLE,
	DBOPS_FORMAT_CSV,
	DBOPS_FORMAT_TSV,
	DBOPS_FORMAT_JSON,
};

enum dbops_column_kind {
	DBOPS_COLUMN_TEXT,
	DBOPS_COLUMN_NUMBER,
	DBOPS_COLUMN_BINARY,
};

/*
 * One cell: len bytes at data, which may contain NUL bytes. data == NULL
 * is SQL NULL (len is then ignored).
 */
struct dbops_value {
	const char *data;
	size_t len;
};

struct dbops_output;

/*
 * Turn a --format argument ("table", "csv", "tsv" or "json", exactly) into
 * *out. Returns 0, or -1 with errno EINVAL for any other name (or NULL),
 * leaving *out untouched.
 */
int dbops_output_parse_format(const char *name, enum dbops_output_format *out);

/*
 * A writer of format fmt to out. The caller keeps ownership of out and
 * must keep it open until dbops_output_free(). Returns NULL with errno
 * ENOMEM, or EINVAL if out is NULL or fmt unknown.
 */
struct dbops_output *dbops_output_new(FILE *out, enum dbops_output_format fmt);

/*
 * Append a column. name is copied. Only before the first row: afterwards,
 * and for a NULL name or unknown kind, -1 with errno EINVAL. ENOMEM.
 */
int dbops_output_add_column(struct dbops_output *w, const char *name,
			    enum dbops_column_kind kind);

/*
 * Write one row (table: store it). values holds exactly one value per
 * column, in column order; the bytes are copied or written before return.
 * The first row writes the header of csv, tsv and json. Returns 0, or -1
 * with errno: EINVAL without columns or after finish, ENOMEM, or the errno
 * of a failed write (see the header comment on sticky write errors).
 */
int dbops_output_row(struct dbops_output *w, const struct dbops_value *values);

/*
 * As dbops_output_row() for values given as NUL-terminated strings; a NULL
 * pointer is SQL NULL.
 */
int dbops_output_row_strings(struct dbops_output *w, const char *const *values);

/*
 * End the output: write what is still due (the header if no row came, the
 * whole table, json's closing bracket) and fflush the FILE. Returns 0, or
 * -1 with errno set if any write to the FILE failed, now or before
 * (ENOSPC, EPIPE...), ENOMEM (table: the output may then be cut short),
 * or EINVAL if already finished. The FILE is not closed; a caller that
 * closes it must still check fclose().
 */
int dbops_output_finish(struct dbops_output *w);

/*
 * Release w. Does not finish: rows a table still holds are dropped.
 * w may be NULL.
 */
void dbops_output_free(struct dbops_output *w);

#endif
