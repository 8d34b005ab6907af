/*
 * extract.c - pitr_backup_extract(): copy a plain base backup, or extract a tar
 * one, into a new data directory. See backup.h.
 *
 * Design notes:
 *
 *  1. Extraction never follows a symbolic link: every directory on the way
 *     to an entry is opened with O_NOFOLLOW from the data directory down,
 *     and files are created with O_NOFOLLOW, so with absolute paths and
 *     ".." refused nothing can land outside the data directory.
 *  2. The data of an entry of an uncompressed tar is contiguous in the
 *     file at the tar reader's position, so a large one is copied file to
 *     file with copy_file_range(2), in the kernel, and skipped by a seek;
 *     a plain backup's files too. Other data is written from libarchive's
 *     buffers as it hands them out, without another copy.
 */
#include "backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "backup_util.h"
#include "fileio.h"
#include "log.h"
#include "tarread.h"
#include "xalloc.h"

/*
 * Entries of an uncompressed tar from this size on are copied with
 * copy_file_range(2); smaller ones are mostly in libarchive's read-ahead
 * block already, and written from there.
 */
#define CFR_MIN (256u << 10)

/* Where files go: the data directory, and the directory last written to. */
struct writer {
	const char *datadir;
	int root;
	bool chown; /* give everything to uid:gid */
	uid_t uid;
	gid_t gid;
	char dir[PATH_MAX]; /* relative path of dirfd; "" for root */
	int dirfd;	    /* == root, or an fd of ours */
	char *buf;	    /* IO_BLOCK bytes for read/write copies */
	dev_t root_dev;
	ino_t root_ino;
	const volatile sig_atomic_t *stop; /* non-zero: stop, say nothing */
};

/* Whether a signal asked us to stop (see pitr_backup_extract()). */
static bool stopped(const struct writer *w)
{
	return w->stop != NULL && *w->stop != 0;
}

static const char *out_path(const struct writer *w, const char *rel, char *buf,
			    size_t len)
{
	if (rel[0] == '\0' || pitr_join(buf, len, w->datadir, rel) != 0)
		snprintf(buf, len, "%s", w->datadir);
	return buf;
}

static int owner_failed(const struct writer *w, const char *rel)
{
	char path[NAME_LEN];

	dbops_log_error("could not change the owner of \"%s\": %s",
			out_path(w, rel, path, sizeof(path)), strerror(errno));
	return -1;
}

/* Give the open file FD (REL in the data directory) to the owner, if any. */
static int give_fd(const struct writer *w, int fd, const char *rel)
{
	if (w->chown && fchown(fd, w->uid, w->gid) != 0)
		return owner_failed(w, rel);
	return 0;
}

/* Give NAME of DIRFD, not following a symbolic link, to the owner if any. */
static int give_at(const struct writer *w, int dirfd, const char *name,
		   const char *rel)
{
	if (w->chown &&
	    fchownat(dirfd, name, w->uid, w->gid, AT_SYMLINK_NOFOLLOW) != 0)
		return owner_failed(w, rel);
	return 0;
}

/*
 * Make the directory NAME in DIRFD (REL: its path in the data directory),
 * 0700 and ours; one that exists already must be a directory.
 */
static int make_dir_at(const struct writer *w, int dirfd, const char *name,
		       const char *rel)
{
	char path[NAME_LEN];
	struct stat st;

	if (mkdirat(dirfd, name, 0700) == 0)
		return give_at(w, dirfd, name, rel);
	if (errno == EEXIST &&
	    fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode))
		return 0;
	dbops_log_error("could not create directory \"%s\": %s",
			out_path(w, rel, path, sizeof(path)),
			errno == EEXIST ? "a file of that name exists"
					: strerror(errno));
	return -1;
}

/*
 * An fd for the directory REL of the data directory, made (0700) with the
 * directories leading to it if need be, reached without following a
 * symbolic link (design note 1). Returns -1 after an error message.
 */
static int dir_fd(struct writer *w, const char *rel)
{
	char sub[PATH_MAX], path[NAME_LEN];
	const char *p = rel;
	int fd = w->root;

	if (strcmp(rel, w->dir) == 0)
		return w->dirfd;
	if (w->dirfd != w->root)
		close(w->dirfd);
	w->dirfd = w->root;
	w->dir[0] = '\0';
	while (*p != '\0') {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		char name[NAME_MAX + 1];
		int next;

		if (len > NAME_MAX)
			len = NAME_MAX;
		memcpy(name, p, len);
		name[len] = '\0';
		snprintf(sub, sizeof(sub), "%.*s",
			 (int)(p - rel + (ptrdiff_t)len), rel);
		next = openat(fd, name,
			      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT) {
			if (make_dir_at(w, fd, name, sub) != 0)
				goto fail;
			next = openat(fd, name,
				      O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					      O_CLOEXEC);
		}
		if (next < 0) {
			dbops_log_error(
				"could not open directory \"%s\": %s",
				out_path(w, sub, path, sizeof(path)),
				errno == ELOOP || errno == ENOTDIR
					? "a symbolic link or a file is in the way"
					: strerror(errno));
			goto fail;
		}
		if (fd != w->root)
			close(fd);
		fd = next;
		p += slash ? (size_t)(slash - p) + 1 : strlen(p);
	}
	snprintf(w->dir, sizeof(w->dir), "%s", rel);
	w->dirfd = fd;
	return fd;
fail:
	if (fd != w->root)
		close(fd);
	return -1;
}

/* Split REL into its directory (into DIR) and its last component. */
static const char *split(const char *rel, char *dir, size_t len)
{
	const char *slash = strrchr(rel, '/');

	if (slash == NULL) {
		dir[0] = '\0';
		return rel;
	}
	snprintf(dir, len, "%.*s", (int)(slash - rel), rel);
	return slash + 1;
}

static bool cfr_unsupported(int err)
{
	return err == EXDEV || err == EINVAL || err == ENOSYS ||
	       err == EOPNOTSUPP || err == EBADF || err == EPERM;
}

/*
 * Copy LEN bytes from IN at *OFF (or its position when OFF is NULL) to OUT
 * with copy_file_range(2). Returns the bytes copied (short at the end of
 * IN), or -1 with errno; -2 when the kernel or file systems cannot, and
 * nothing was copied.
 */
static int64_t copy_range(int in, off_t *off, int out, uint64_t len)
{
	uint64_t done = 0;

	while (done < len) {
		uint64_t want = len - done;
		ssize_t n = copy_file_range(
			in, off, out, NULL,
			want > (1u << 30) ? (1u << 30) : (size_t)want, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done == 0 && cfr_unsupported(errno) ? -2 : -1;
		if (n == 0)
			break;
		done += (uint64_t)n;
	}
	return (int64_t)done;
}

/* Write the current entry of T, a file, to REL. */
static int extract_file(struct writer *w, struct tar *t, const char *rel)
{
	struct archive_entry *e = t->e;
	int64_t size = archive_entry_size(e);
	char dir[PATH_MAX], path[NAME_LEN];
	const char *name = split(rel, dir, sizeof(dir));
	int dfd = dir_fd(w, dir), fd;
	int64_t pos = 0;
	bool done = false;

	if (dfd < 0)
		return -1;
	fd = openat(dfd, name,
		    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0) {
		dbops_log_error("could not create file \"%s\": %s",
				out_path(w, rel, path, sizeof(path)),
				errno == ELOOP ? "a symbolic link is in the way"
					       : strerror(errno));
		return -1;
	}
	if (give_fd(w, fd, rel) != 0)
		goto fail;
	/* Design note 2. */
	if (!t->compressed && size >= CFR_MIN &&
	    archive_entry_sparse_count(e) == 0) {
		off_t off = (off_t)archive_filter_bytes(t->a, 0);
		int64_t n = copy_range(t->fd, &off, fd, (uint64_t)size);

		if (n == -1) {
			dbops_log_error("could not copy \"%s\" from \"%s\": %s",
					out_path(w, rel, path, sizeof(path)),
					t->path, strerror(errno));
			goto fail;
		}
		if (n >= 0) {
			if (pitr_tar_skip(t) != 0)
				goto fail;
			if (n < size) {
				dbops_log_error(
					"\"%s\": incomplete or damaged tar: unexpected end of file (reading \"%s\")",
					t->path, t->name);
				goto fail;
			}
			pos = size;
			done = true;
		}
	}
	while (!done) {
		const void *block;
		size_t n;
		la_int64_t off;
		int r;

		if (stopped(w))
			goto fail;
		r = archive_read_data_block(t->a, &block, &n, &off);

		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			pitr_tar_damaged(t, t->a);
			goto fail;
		}
		if (n == 0)
			continue;
		if (off != pos ? pwrite(fd, block, n, off) != (ssize_t)n
			       : dbops_write_all(fd, block, n) != 0) {
			dbops_log_error("could not write file \"%s\": %s",
					out_path(w, rel, path, sizeof(path)),
					strerror(errno));
			goto fail;
		}
		if (off != pos && lseek(fd, off + (off_t)n, SEEK_SET) < 0)
			goto write_error;
		pos = off + (int64_t)n;
	}
	if (!done)
		pitr_tar_entry_done(t);
	if (pos < size && ftruncate(fd, (off_t)size) != 0)
		goto write_error;
	if (archive_entry_mtime_is_set(e)) {
		struct timespec ts[2] = {
			{ 0, UTIME_OMIT },
			{ archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
		};

		futimens(fd, ts);
	}
	if (close(fd) != 0) {
		fd = -1;
		goto write_error;
	}
	return 0;
write_error:
	dbops_log_error("could not write file \"%s\": %s",
			out_path(w, rel, path, sizeof(path)), strerror(errno));
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static int extract_symlink(struct writer *w, const char *rel,
			   const char *target)
{
	char dir[PATH_MAX], path[NAME_LEN];
	const char *name = split(rel, dir, sizeof(dir));
	int dfd = dir_fd(w, dir);

	if (dfd < 0)
		return -1;
	if (symlinkat(target, dfd, name) != 0) {
		dbops_log_error("could not create symbolic link \"%s\": %s",
				out_path(w, rel, path, sizeof(path)),
				strerror(errno));
		return -1;
	}
	return give_at(w, dfd, name, rel);
}

static int extract_dir(struct writer *w, const char *rel)
{
	char dir[PATH_MAX];
	const char *name = split(rel, dir, sizeof(dir));
	int dfd = dir_fd(w, dir);

	if (dfd < 0)
		return -1;
	return make_dir_at(w, dfd, name, rel);
}

/* Extract the tar PATH into the data directory, below PREFIX ("" or "pg_wal"). */
static int extract_tar(struct writer *w, const char *path, const char *prefix)
{
	struct tar t;
	char name[PATH_MAX], rel[PATH_MAX];
	int r;

	if (pitr_tar_open(&t, path) != 0) {
		if (t.unrecognized)
			dbops_log_error(
				"\"%s\": incomplete or damaged tar: not a tar archive",
				path);
		return -1;
	}
	if (prefix[0] != '\0' && extract_dir(w, prefix) != 0)
		goto fail;
	while (!stopped(w) && (r = pitr_tar_next(&t)) == 1) {
		const char *stored = pitr_entry_name(t.e);
		int n = pitr_normalise(stored, name, sizeof(name));
		mode_t type = archive_entry_filetype(t.e);

		if (n < 0) {
			pitr_bad_entry(path, stored, n);
			goto fail;
		}
		snprintf(t.name, sizeof(t.name), "%s", n == 1 ? "." : name);
		if (snprintf(rel, sizeof(rel), "%s%s%s", prefix,
			     prefix[0] && n == 0 ? "/" : "",
			     n == 1 ? "" : name) >= (int)sizeof(rel)) {
			dbops_log_error("\"%s\": entry \"%s\": name too long",
					path, t.name);
			goto fail;
		}
		if (archive_entry_hardlink(t.e) != NULL ||
		    (type != AE_IFREG && type != AE_IFDIR &&
		     type != AE_IFLNK)) {
			dbops_log_error(
				"\"%s\": entry \"%s\": neither a file, a directory nor a symbolic link",
				path, t.name);
			goto fail;
		}
		if (rel[0] == '\0') {
			/* the top directory: DATADIR itself */
		} else if (type == AE_IFREG) {
			if (extract_file(w, &t, rel) != 0)
				goto fail;
			continue;
		} else if (type == AE_IFDIR || strcmp(rel, "pg_wal") == 0) {
			/* a symbolic link pg_wal is made a directory */
			if (extract_dir(w, rel) != 0)
				goto fail;
		} else {
			const char *target = archive_entry_symlink(t.e);

			if (target == NULL)
				target = archive_entry_symlink_utf8(t.e);
			if (target == NULL || target[0] == '\0') {
				dbops_log_error(
					"\"%s\": entry \"%s\": a symbolic link without a target",
					path, t.name);
				goto fail;
			}
			if (extract_symlink(w, rel, target) != 0)
				goto fail;
		}
		if (pitr_tar_skip(&t) != 0)
			goto fail;
	}
	if (stopped(w) || r < 0)
		goto fail;
	pitr_tar_close(&t);
	return 0;
fail:
	pitr_tar_close(&t);
	return -1;
}

/* The path of REL in the backup directory ROOT, for messages. */
static const char *src_path(char *buf, size_t len, const char *root,
			    const char *rel)
{
	if (rel[0] == '\0' || pitr_join(buf, len, root, rel) != 0)
		snprintf(buf, len, "%s", root);
	return buf;
}

/* Copy the regular file NAME of SDIR to DDIR; REL names it in both trees. */
static int copy_file(struct writer *w, int sdir, int ddir, const char *name,
		     const char *src_root, const char *rel)
{
	char spath[NAME_LEN], dpath[NAME_LEN];
	struct stat st;
	int in, out;
	int64_t n;

	src_path(spath, sizeof(spath), src_root, rel);
	in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) != 0) {
		dbops_log_error("could not open file \"%s\": %s", spath,
				strerror(errno));
		if (in >= 0)
			close(in);
		return -1;
	}
	out = openat(ddir, name,
		     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     0600);
	if (out < 0) {
		dbops_log_error("could not create file \"%s\": %s",
				out_path(w, rel, dpath, sizeof(dpath)),
				strerror(errno));
		close(in);
		return -1;
	}
	if (give_fd(w, out, rel) != 0)
		goto fail;
	n = st.st_size > 0 ? copy_range(in, NULL, out, (uint64_t)st.st_size)
			   : 0;
	if (n == -1) {
		dbops_log_error("could not copy \"%s\" to \"%s\": %s", spath,
				out_path(w, rel, dpath, sizeof(dpath)),
				strerror(errno));
		goto fail;
	}
	/* Unsupported, or a file (of /proc, say) that says it is empty. */
	if (n == -2 || (n == 0 && st.st_size > 0)) {
		for (;;) {
			ssize_t got =
				stopped(w) ? 0 : read(in, w->buf, IO_BLOCK);

			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0) {
				dbops_log_error(
					"could not read file \"%s\": %s", spath,
					strerror(errno));
				goto fail;
			}
			if (got == 0)
				break;
			if (dbops_write_all(out, w->buf, (size_t)got) != 0) {
				dbops_log_error(
					"could not write file \"%s\": %s",
					out_path(w, rel, dpath, sizeof(dpath)),
					strerror(errno));
				goto fail;
			}
		}
	}
	if (stopped(w))
		goto fail;
	futimens(out, (struct timespec[]){ { 0, UTIME_OMIT }, st.st_mtim });
	close(in);
	if (close(out) != 0) {
		dbops_log_error("could not write file \"%s\": %s",
				out_path(w, rel, dpath, sizeof(dpath)),
				strerror(errno));
		return -1;
	}
	return 0;
fail:
	close(in);
	close(out);
	return -1;
}

static int copy_tree(struct writer *w, int sdir, int ddir, const char *src_root,
		     const char *rel);

/* Make the directory NAME in DDIR and copy the directory NAME of SDIR into
 * it; SUB names it in both trees. */
static int copy_subdir(struct writer *w, int sdir, int ddir, const char *name,
		       const char *src_root, const char *sub)
{
	char path[NAME_LEN];
	int s, t;

	if (make_dir_at(w, ddir, name, sub) != 0)
		return -1;
	/* A symbolic link pg_wal is copied as the directory it names. */
	s = openat(sdir, name,
		   O_RDONLY | O_DIRECTORY | O_CLOEXEC |
			   (strcmp(sub, "pg_wal") == 0 ? 0 : O_NOFOLLOW));
	if (s < 0) {
		dbops_log_error("could not open directory \"%s\": %s",
				src_path(path, sizeof(path), src_root, sub),
				strerror(errno));
		return -1;
	}
	t = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (t < 0) {
		dbops_log_error("could not open directory \"%s\": %s",
				out_path(w, sub, path, sizeof(path)),
				strerror(errno));
		close(s);
		return -1;
	}
	return copy_tree(w, s, t, src_root, sub);
}

/* Copy the symbolic link NAME of SDIR to DDIR as it is. */
static int copy_symlink(struct writer *w, int sdir, int ddir, const char *name,
			const char *src_root, const char *sub)
{
	char target[PATH_MAX], path[NAME_LEN];
	ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);

	if (n < 0) {
		dbops_log_error("could not read symbolic link \"%s\": %s",
				src_path(path, sizeof(path), src_root, sub),
				strerror(errno));
		return -1;
	}
	target[n] = '\0';
	if (symlinkat(target, ddir, name) != 0) {
		dbops_log_error("could not create symbolic link \"%s\": %s",
				out_path(w, sub, path, sizeof(path)),
				strerror(errno));
		return -1;
	}
	return give_at(w, ddir, name, sub);
}

/* Copy the entry NAME of SDIR (SUB in the backup) into DDIR, whatever it is. */
static int copy_entry(struct writer *w, int sdir, int ddir, const char *name,
		      const char *src_root, const char *sub)
{
	char spath[NAME_LEN];
	struct stat st;

	if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		dbops_log_error("could not stat \"%s\": %s",
				src_path(spath, sizeof(spath), src_root, sub),
				strerror(errno));
		return -1;
	}
	/* A symbolic link pg_wal is copied as the directory it names. */
	if (S_ISLNK(st.st_mode) && strcmp(sub, "pg_wal") == 0 &&
	    fstatat(sdir, name, &st, 0) != 0) {
		dbops_log_error("could not follow \"%s\": %s",
				src_path(spath, sizeof(spath), src_root, sub),
				strerror(errno));
		return -1;
	}
	if (S_ISREG(st.st_mode))
		return copy_file(w, sdir, ddir, name, src_root, sub);
	if (S_ISDIR(st.st_mode))
		return copy_subdir(w, sdir, ddir, name, src_root, sub);
	if (S_ISLNK(st.st_mode))
		return copy_symlink(w, sdir, ddir, name, src_root, sub);
	dbops_log_error(
		"\"%s\": neither a file, a directory nor a symbolic link",
		src_path(spath, sizeof(spath), src_root, sub));
	return -1;
}

/*
 * Copy the contents of the directory SDIR (REL in the backup, "" at the
 * top) into DDIR. Takes SDIR and DDIR and closes them.
 */
static int copy_tree(struct writer *w, int sdir, int ddir, const char *src_root,
		     const char *rel)
{
	char sub[PATH_MAX], spath[NAME_LEN];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rc = -1;

	src_path(spath, sizeof(spath), src_root, rel);
	if (fstat(sdir, &st) == 0 && st.st_dev == w->root_dev &&
	    st.st_ino == w->root_ino) {
		dbops_log_error(
			"\"%s\": the data directory is inside the backup",
			w->datadir);
		close(sdir);
		close(ddir);
		return -1;
	}
	d = fdopendir(sdir);
	if (d == NULL) {
		dbops_log_error("could not read directory \"%s\": %s", spath,
				strerror(errno));
		close(sdir);
		close(ddir);
		return -1;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;

		if (stopped(w))
			goto out;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "",
			     name) >= (int)sizeof(sub)) {
			dbops_log_error("\"%s/%s\": path too long", spath,
					name);
			goto out;
		}
		if (copy_entry(w, dirfd(d), ddir, name, src_root, sub) != 0)
			goto out;
		errno = 0;
	}
	if (errno != 0) {
		dbops_log_error("could not read directory \"%s\": %s", spath,
				strerror(errno));
		goto out;
	}
	rc = 0;
out:
	closedir(d);
	close(ddir);
	return rc;
}

static int check_empty(const struct writer *w)
{
	int fd = openat(w->root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *d;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		dbops_log_error("could not read directory \"%s\": %s",
				w->datadir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			dbops_log_error(
				"\"%s\": the data directory is not empty",
				w->datadir);
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

/*
 * Open DIR, an existing empty directory, as the root W writes below; make
 * it 0700 and OWNER's. Returns 0, or -1 after an error message.
 */
static int writer_open(struct writer *w, const char *dir,
		       const struct dbops_user *owner,
		       const volatile sig_atomic_t *stop)
{
	struct stat st;

	memset(w, 0, sizeof(*w));
	w->root = w->dirfd = -1;
	w->stop = stop;
	w->datadir = dir;
	w->root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->root < 0) {
		dbops_log_error("could not open directory \"%s\": %s", dir,
				strerror(errno));
		return -1;
	}
	w->dirfd = w->root;
	if (owner != NULL && geteuid() == 0) {
		w->chown = true;
		w->uid = owner->uid;
		w->gid = owner->gid;
	}
	w->buf = dbops_xmalloc(IO_BLOCK);
	if (fstat(w->root, &st) != 0 || check_empty(w) != 0)
		return -1;
	w->root_dev = st.st_dev;
	w->root_ino = st.st_ino;
	if (fchmod(w->root, 0700) != 0 || dbops_user_chown(owner, dir) != 0) {
		dbops_log_error(
			"could not set the mode and owner of \"%s\": %s", dir,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* Write what W wrote to disk. Returns 0, or -1 after an error message. */
static int writer_sync(const struct writer *w)
{
	if (syncfs(w->root) == 0)
		return 0;
	dbops_log_error("could not sync \"%s\": %s", w->datadir,
			strerror(errno));
	return -1;
}

static void writer_close(struct writer *w)
{
	free(w->buf);
	w->buf = NULL;
	if (w->dirfd != w->root && w->dirfd >= 0)
		close(w->dirfd);
	if (w->root >= 0)
		close(w->root);
	w->root = w->dirfd = -1;
}

/* Copy the directory SRC into W's root. */
static int copy_dir(struct writer *w, const char *src)
{
	int s = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int d = fcntl(w->root, F_DUPFD_CLOEXEC, 0);

	if (s < 0 || d < 0) {
		dbops_log_error("could not open directory \"%s\": %s",
				s < 0 ? src : w->datadir, strerror(errno));
		if (s >= 0)
			close(s);
		if (d >= 0)
			close(d);
		return -1;
	}
	return copy_tree(w, s, d, src, "");
}

/* Lay tablespace TS of B down in its target, made if need be. */
static int lay_down_tablespace(struct backup_tablespace *ts,
			       const struct base_backup *b,
			       const struct dbops_user *owner,
			       const volatile sig_atomic_t *stop)
{
	struct writer w;
	int rc = -1;

	if (mkdir(ts->target, 0700) == 0) {
		ts->created = true;
	} else if (errno != EEXIST) {
		dbops_log_error("could not create directory \"%s\": %s",
				ts->target, strerror(errno));
		return -1;
	}
	if (writer_open(&w, ts->target, owner, stop) == 0 &&
	    (b->kind == BACKUP_DIR ? copy_dir(&w, ts->location)
				   : extract_tar(&w, ts->tar, "")) == 0)
		rc = writer_sync(&w);
	writer_close(&w);
	return rc;
}

/*
 * Link pg_tblspc/<oid> to each tablespace's target, in place of the links
 * a plain backup had, and remove tablespace_map: PostgreSQL would link the
 * old locations again from it.
 */
static int link_tablespaces(struct writer *w, const struct base_backup *b)
{
	char name[16], rel[32];
	int dfd;

	if (unlinkat(w->root, "tablespace_map", 0) != 0 && errno != ENOENT) {
		dbops_log_error("could not remove \"%s/tablespace_map\": %s",
				w->datadir, strerror(errno));
		return -1;
	}
	if (b->ntablespaces == 0)
		return 0;
	dfd = dir_fd(w, "pg_tblspc");
	if (dfd < 0)
		return -1;
	for (size_t i = 0; i < b->ntablespaces; i++) {
		const struct backup_tablespace *ts = &b->tablespaces[i];

		snprintf(name, sizeof(name), "%u", ts->oid);
		snprintf(rel, sizeof(rel), "pg_tblspc/%u", ts->oid);
		if (unlinkat(dfd, name, 0) != 0 && errno != ENOENT) {
			dbops_log_error("could not remove \"%s/%s\": %s",
					w->datadir, rel, strerror(errno));
			return -1;
		}
		if (symlinkat(ts->target, dfd, name) != 0) {
			dbops_log_error(
				"could not create symbolic link \"%s/%s\": %s",
				w->datadir, rel, strerror(errno));
			return -1;
		}
		if (give_at(w, dfd, name, rel) != 0)
			return -1;
	}
	return 0;
}

/* The data directory's part of the backup: the copy, or the tars. */
static int lay_down_base(struct writer *w, const struct base_backup *b)
{
	if (b->kind == BACKUP_DIR)
		return copy_dir(w, b->path);
	if (extract_tar(w, b->base_tar, "") != 0)
		return -1;
	if (b->wal_tar[0] != '\0' && extract_tar(w, b->wal_tar, "pg_wal") != 0)
		return -1;
	return 0;
}

int pitr_backup_extract(const struct base_backup *b, const char *datadir,
			const struct dbops_user *owner,
			const volatile sig_atomic_t *stop)
{
	struct writer w;
	int rc = -1;

	if (writer_open(&w, datadir, owner, stop) != 0 ||
	    lay_down_base(&w, b) != 0)
		goto out;
	for (size_t i = 0; i < b->ntablespaces; i++)
		if (stopped(&w) || lay_down_tablespace(&b->tablespaces[i], b,
						       owner, stop) != 0)
			goto out;
	if (link_tablespaces(&w, b) == 0)
		rc = writer_sync(&w);
out:
	writer_close(&w);
	return rc;
}
