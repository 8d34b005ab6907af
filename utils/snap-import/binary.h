/*
 * binary.h - CSV records as COPY's binary format, for the columns whose
 * values can be sent exactly as PostgreSQL's input functions would read
 * their text: the client parses, the server does not.
 *
 * Only the forms that type inference accepts are encoded (csvhead.h: the
 * text PostgreSQL prints back for the type), so nothing is rounded or
 * read two ways. Any other value, a record with the wrong number of
 * fields, line ends of two kinds, an unterminated quote: the feed fails
 * with a reason, and the caller sends the file as CSV instead (where COPY
 * accepts it or reports it with its line).
 */
#ifndef SNAP_BINARY_H
#define SNAP_BINARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "csvhead.h"

struct snap_bin {
	const struct snap_dialect *dialect;
	size_t ncols;
	enum snap_type *types; /* per column, from snap_bin_type() */
	bool zone_utc; /* the session's TimeZone is UTC: values without an
			  offset can be sent */
	bool header;   /* the next record is the header: skipped */
	bool started;  /* the format's signature written */
	int eol;       /* the records' line end: 0 unknown, '\n', '\r', 'R'
			  (CR LF) */
	char *carry;   /* the start of a record cut by the end of a chunk */
	size_t ncarry, carry_cap;
	unsigned char special[256]; /* the bytes that end an unquoted run */
	char *val;		    /* a field's value, quotes removed */
	size_t val_cap;
	uint16_t *digits; /* a numeric's base-10000 digits */
	size_t digits_cap;
	unsigned char *out; /* what to send; the caller empties it (len 0) */
	size_t len, cap;
	int64_t records; /* records encoded, the header not counted */
	char why[200];	 /* why the feed failed */
	/* COPY's CSV mode counts the line ends inside quotes (those of the
	 * kind that ends the first line); binary COPY counts records. */
	int64_t header_lines;
	int64_t extra;	/* in the record being read */
	int64_t *bumps; /* pairs: a record with some, the total so far */
	size_t nbumps, bumps_cap;
};

/*
 * Whether the SQL type name SQL (as CREATE TABLE gets it: "integer",
 * "timestamptz", ...) can be sent in binary, and as what (*T).
 */
bool snap_bin_type(const char *sql, enum snap_type *t);

/* Start encoding NCOLS columns of TYPES (copied) written in dialect D. */
void snap_bin_init(struct snap_bin *b, const struct snap_dialect *d,
		   size_t ncols, const enum snap_type *types, bool zone_utc);
void snap_bin_free(struct snap_bin *b);

/*
 * Encode the complete records of IN (LEN bytes of the file as COPY would
 * get them, after snap_scan_chunk; AT_EOF: the last), appending to b->out;
 * a record cut at the end is kept for the next call. At the end of the
 * file the trailer is appended too. 0, or -1 with the reason in b->why.
 */
int snap_bin_feed(struct snap_bin *b, const char *in, size_t len, bool at_eof);

/*
 * The line COPY's CSV mode would name for record RECORD (binary COPY's
 * "line", counted from 1 without the header): the header's lines, and
 * each record's last line, line ends inside quotes counted.
 */
int64_t snap_bin_csv_line(const struct snap_bin *b, int64_t record);

#endif
