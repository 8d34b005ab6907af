/*
 * fileio.c - atomic replacement of files, full reads and writes. See
 * fileio.h.
 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int dbops_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t dbops_read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int dbops_fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc, saved;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	/* Some file systems cannot sync a directory; nothing more to do. */
	if (rc != 0 && errno == EINVAL)
		rc = 0;
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int dbops_atomic_open(struct dbops_atomic_file *af, const char *path,
		      mode_t mode)
{
	size_t n = strlen(path);

	memset(af, 0, sizeof(*af));
	/* Room for the "." and ".XXXXXX" of the temporary file. */
	if (n == 0 || path[n - 1] == '/') {
		errno = EINVAL;
		return -1;
	}
	if (n + 9 > sizeof(af->path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(af->path, path, n + 1);
	af->mode = mode;
	af->f = open_memstream(&af->data, &af->len);
	return af->f != NULL ? 0 : -1;
}

void dbops_atomic_abort(struct dbops_atomic_file *af)
{
	int saved = errno;

	if (af->f != NULL)
		fclose(af->f);
	af->f = NULL;
	free(af->data);
	af->data = NULL;
	errno = saved;
}

void dbops_atomic_chown(struct dbops_atomic_file *af, uid_t uid, gid_t gid)
{
	af->chown = true;
	af->uid = uid;
	af->gid = gid;
}

/* AF's contents into a new file TMP (a mkostemp template). */
static int write_tmp(char *tmp, const struct dbops_atomic_file *af)
{
	int fd = mkostemp(tmp, O_CLOEXEC), saved;

	if (fd < 0)
		return -1;
	if (fchmod(fd, af->mode) != 0 ||
	    (af->chown && fchown(fd, af->uid, af->gid) != 0) ||
	    dbops_write_all(fd, af->data, af->len) != 0 || fsync(fd) != 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return -1;
	}
	if (close(fd) != 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
}

/*
 * "DIR/.NAME.XXXXXX" for PATH "DIR/NAME": hidden, and not matched by the
 * globs readers use ("*.prom" of node_exporter, "*.csv" of snap-import).
 */
static void temp_name(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;

	snprintf(buf, len, "%.*s.%s.XXXXXX", (int)(base - path), path, base);
}

int dbops_atomic_commit(struct dbops_atomic_file *af)
{
	char tmp[PATH_MAX + 16];
	int rc = -1, saved;

	if (fclose(af->f) != 0) {
		af->f = NULL;
		dbops_atomic_abort(af);
		return -1;
	}
	af->f = NULL;
	temp_name(af->path, tmp, sizeof(tmp));
	if (write_tmp(tmp, af) == 0) {
		if (rename(tmp, af->path) == 0)
			rc = dbops_fsync_parent(af->path);
		else {
			saved = errno;
			unlink(tmp);
			errno = saved;
		}
	}
	dbops_atomic_abort(af);
	return rc;
}

int dbops_atomic_write(const char *path, mode_t mode, const void *data,
		       size_t len)
{
	struct dbops_atomic_file af;

	if (dbops_atomic_open(&af, path, mode) != 0)
		return -1;
	if (len > 0 && fwrite(data, 1, len, af.f) != len) {
		dbops_atomic_abort(&af);
		errno = ENOMEM;
		return -1;
	}
	return dbops_atomic_commit(&af);
}
