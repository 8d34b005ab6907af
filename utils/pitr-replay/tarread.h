/*
 * tarread.h - read a tar, compressed in any way libarchive knows or not,
 * one entry at a time, so that a truncated or damaged tar or compressed
 * stream is always found: "X": incomplete or damaged tar: ... . backup.c
 * reads a base backup's tars through it to check them, extract.c to lay
 * them out.
 */
#ifndef PITR_TARREAD_H
#define PITR_TARREAD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct archive;
struct archive_entry;

/*
 * A tar being read: pitr_tar_open(), then pitr_tar_next() until it returns 0, each
 * entry's data read (pitr_tar_read()) or skipped (pitr_tar_skip()), then pitr_tar_close().
 */
struct tar {
	const char *path;    /* for messages */
	int fd;		     /* the file */
	struct archive *raw; /* decompressing reader (tarread.c note 1) */
	struct archive *a;   /* the tar reader */
	bool compressed;
	bool raw_failed;   /* the error is the raw reader's */
	bool unrecognized; /* pitr_tar_open(): not a tar libarchive knows */
	int64_t data_end;  /* stream offset after the last entry's data */
	int64_t file_size; /* of an uncompressed tar; -1 if compressed */
	struct archive_entry *e;
	char name[PATH_MAX]; /* the current entry, normalised, or "" */
	char last[PATH_MAX]; /* the entry before, or "" */
};

/*
 * Open the tar at PATH. Returns 0, or -1 after an error message; when
 * libarchive does not know the format, -1 without a message and
 * t->unrecognized set, so the caller words it.
 */
int pitr_tar_open(struct tar *t, const char *path);

/*
 * The next entry into t->e, its name (as stored) checked by the caller.
 * Returns 1, 0 at the end of a complete tar (compressed stream read to its
 * end), or -1 after an error message.
 */
int pitr_tar_next(struct tar *t);

/* Skip the current entry's data. Returns 0, or -1 after an error message. */
int pitr_tar_skip(struct tar *t);

/*
 * Read the current entry's data: the first MAX bytes into BUF (*len gets
 * how many), the rest skipped. Only the bytes stored are read, never the
 * zeros of a size the header claims beyond them: an entry that claims more
 * than it stores, or more than an uncompressed tar's whole file, is an
 * error. Returns 0, -1 after an error message.
 */
int pitr_tar_read(struct tar *t, char *buf, size_t max, size_t *len);

/*
 * Read the current entry's data into a new buffer (*buf, NUL-terminated,
 * *len bytes), which grows with the bytes stored, not with the size the
 * header claims, checked as by pitr_tar_read(). Returns 0, 1 when there
 * are more than MAX bytes (nothing said, *buf NULL), -1 after an error
 * message (*buf NULL).
 */
int pitr_tar_slurp(struct tar *t, size_t max, char **buf, size_t *len);

/*
 * The current entry's data is all read or skipped (by a caller reading
 * t->a itself): note where it ended.
 */
void pitr_tar_entry_done(struct tar *t);

/* Report the error of A (t->a or t->raw) as a damaged tar; returns -1. */
int pitr_tar_damaged(struct tar *t, struct archive *a);

/* Free the readers and close the file. */
void pitr_tar_close(struct tar *t);

/*
 * The stored name IN normalised into OUT: leading "./", "." components and
 * repeated slashes gone, no trailing slash. Returns 0, 1 for the top
 * directory itself ("." or "./"), -1 for an absolute path or one with a
 * ".." component, -2 for a name too long.
 */
int pitr_normalise(const char *in, char *out, size_t outlen);

/* Report the entry STORED of the tar PATH refused by pitr_normalise() (WHY < 0). */
void pitr_bad_entry(const char *path, const char *stored, int why);

/* The stored name of entry E. */
const char *pitr_entry_name(struct archive_entry *e);

#endif
