/*
 * fileio.h - files written so that a crash or a full disk never leaves half
 * of one, and descriptors that never leak into the programs we start.
 *
 * Atomic replace. A file that other processes read (a state file, an option
 * file, a metrics file for node_exporter) is written to a temporary file
 * beside it, flushed and fsync'ed, renamed over the old one, and then the
 * directory is fsync'ed so that the rename itself survives a crash. A
 * reader sees the old file or the new one, never a mix; after a failure
 * (ENOSPC, EIO) the old file is untouched and no temporary file is left.
 *
 *	struct dbops_atomic_file af;
 *
 *	if (dbops_atomic_open(&af, path, 0600) != 0)
 *		return report(path, errno);
 *	fprintf(af.f, ...);
 *	if (dbops_atomic_commit(&af) != 0)
 *		return report(path, errno);
 *
 * Close-on-exec. The tools start servers (postgres, mariadbd) that outlive
 * them, some from worker threads while other threads open files, so every
 * descriptor the suite opens is close-on-exec from the moment it exists:
 * open(O_CLOEXEC), fopen(path, "re"), pipe2/socket/accept4 with the CLOEXEC
 * flag, fcntl(F_DUPFD_CLOEXEC) instead of dup(), and gzdopen() on a
 * descriptor opened that way instead of gzopen(). scripts/check-cloexec.sh
 * (run by make check) finds a call that forgets.
 */
#ifndef DBOPS_FILEIO_H
#define DBOPS_FILEIO_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

struct dbops_atomic_file {
	FILE *f;	     /* write the new contents here */
	char path[PATH_MAX]; /* the file to replace */
	mode_t mode;
	bool chown; /* give the new file to uid:gid */
	uid_t uid;
	gid_t gid;
	char *data; /* af->f's buffer (open_memstream) */
	size_t len;
};

/*
 * Start replacing PATH with a file of MODE (exactly, whatever the umask):
 * af->f collects the contents in memory, so that every error of the
 * writing shows at commit with its real errno (these are small files).
 * Returns 0, or -1 with errno set (ENAMETOOLONG, EINVAL for a PATH that
 * ends in "/", ENOMEM).
 */
int dbops_atomic_open(struct dbops_atomic_file *af, const char *path,
		      mode_t mode);

/*
 * Finish: write the contents to a temporary file beside PATH (".NAME.XXXXXX"
 * in PATH's directory: hidden, and no match for a reader's "*.prom"),
 * fsync it, rename it over PATH and fsync the directory. af->f is closed
 * whatever happens. Returns 0, or -1 with errno of the first step that
 * failed, the temporary file removed and PATH untouched.
 */
int dbops_atomic_commit(struct dbops_atomic_file *af);

/*
 * Have the new file owned by UID:GID (root only; for a file a server that
 * runs as another user must own). Call before commit.
 */
void dbops_atomic_chown(struct dbops_atomic_file *af, uid_t uid, gid_t gid);

/* Give up: close af->f; PATH stays as it was. */
void dbops_atomic_abort(struct dbops_atomic_file *af);

/*
 * Replace PATH with the LEN bytes of DATA, atomically as above. Returns 0,
 * or -1 with errno.
 */
int dbops_atomic_write(const char *path, mode_t mode, const void *data,
		       size_t len);

/*
 * Write all LEN bytes of BUF to FD, retrying short writes and EINTR.
 * Returns 0, or -1 with errno (ENOSPC when the file system took nothing
 * and said no more).
 */
int dbops_write_all(int fd, const void *buf, size_t len);

/*
 * Read up to LEN bytes from FD into BUF, retrying short reads and EINTR
 * until LEN bytes or the end of the file. Returns the bytes read (less than
 * LEN only at the end of the file), or -1 with errno.
 */
ssize_t dbops_read_full(int fd, void *buf, size_t len);

/*
 * fsync the directory that holds PATH, so that a file just created or
 * renamed there survives a crash. Returns 0, or -1 with errno.
 */
int dbops_fsync_parent(const char *path);

#endif
