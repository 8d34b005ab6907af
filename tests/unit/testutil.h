/*
 * testutil.h - small helpers shared by the cmocka unit tests: capture what a
 * piece of code writes to a file descriptor, make scratch directories.
 * Header-only so every test stays one C file.
 */
#ifndef DBOPS_TESTUTIL_H
#define DBOPS_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* Redirects fd to a temporary file until capture_end(). */
struct capture {
	int fd;
	int saved;
	FILE *tmp;
};

static inline void capture_begin(struct capture *c, int fd)
{
	c->fd = fd;
	c->tmp = tmpfile();
	assert_non_null(c->tmp);
	if (fd == STDOUT_FILENO)
		fflush(stdout);
	else
		fflush(stderr);
	c->saved = dup(fd);
	assert_true(c->saved >= 0);
	assert_true(dup2(fileno(c->tmp), fd) >= 0);
}

/* Restores fd and returns what was written to it (caller frees). */
static inline char *capture_end(struct capture *c)
{
	long len;
	char *text;

	if (c->fd == STDOUT_FILENO)
		fflush(stdout);
	else
		fflush(stderr);
	assert_true(dup2(c->saved, c->fd) >= 0);
	close(c->saved);
	len = ftell(c->tmp);
	if (len < 0)
		len = lseek(fileno(c->tmp), 0, SEEK_END);
	assert_true(len >= 0);
	text = malloc((size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(pread(fileno(c->tmp), text, (size_t)len, 0), len);
	text[len] = '\0';
	fclose(c->tmp);
	return text;
}

/* A fresh directory under $TMPDIR (or /tmp); caller removes it. */
static inline char *make_scratch_dir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	assert_true(asprintf(&path, "%s/dbops-%s-XXXXXX", base, tag) > 0);
	assert_non_null(mkdtemp(path));
	return path;
}

static inline int remove_entry_(const char *path, const struct stat *st,
				int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static inline int open_up_(const char *path, const struct stat *st, int flag,
			   struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D || flag == FTW_DNR)
		chmod(path, (st->st_mode & 07777) | S_IRWXU);
	return 0;
}

/*
 * Remove PATH and everything under it, directories a test made unreadable
 * included; fails the test if something stays. No shell.
 */
static inline void remove_scratch_dir(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return;
	/* Pre-order: each directory is opened up before it is read. */
	nftw(path, open_up_, 16, FTW_PHYS);
	assert_int_equal(nftw(path, remove_entry_, 16, FTW_DEPTH | FTW_PHYS),
			 0);
}

/* Files for a test to read: a path, plain bytes, gzip. */

/* "A/B" (caller frees). */
static inline char *path_join(const char *a, const char *b)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", a, b) > 0);
	return p;
}

/* Create or replace PATH with the LEN bytes of DATA; fails the test if not. */
static inline void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* As write_bytes(), gzip-compressed (zlib's default level). */
static inline void write_gz(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	gzFile gz;

	assert_true(fd >= 0);
	gz = gzdopen(fd, "wb");
	assert_non_null(gz);
	assert_int_equal(gzwrite(gz, data, (unsigned)len), (int)len);
	assert_int_equal(gzclose(gz), Z_OK);
}

#endif
