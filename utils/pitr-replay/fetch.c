/*
 * fetch.c - `pitr-replay fetch-wal`: one archive file to where PostgreSQL
 * wants it, and the next segments prefetched into a spool (fetch.h has
 * the spool's rules).
 */
#include "fetch.h"

#ifndef PITR_FETCH_LIGHT
#include <archive.h>
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "clock.h"
#include "fileio.h"
#include "log.h"
#include "parallel.h"
#include "wal.h"
#include "xalloc.h"

/* Tried in this order: a plain file wins, as in the archive listing. */
static const char *const suffixes[] = {
	"", ".gz", ".zst", ".lz4", ".xz", ".bz2"
};
#define NSUFFIXES (sizeof(suffixes) / sizeof(suffixes[0]))

/* How long a call waits for a segment a live prefetcher has claimed. */
#define CLAIM_WAIT_MS 120000

static bool is_hex_upper(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

static bool is_segment_name(const char *name)
{
	return strlen(name) == 24 && is_hex_upper(name, 24);
}

/* ---- copying and decompressing ------------------------------------------- */

static int write_out(int out_fd, const void *buf, size_t len, const char *path)
{
	if (dbops_write_all(out_fd, buf, len) == 0)
		return 0;
	dbops_log_error("could not write the copy of \"%s\": %s", path,
			strerror(errno));
	return -1;
}

/*
 * A plain file: in the kernel with copy_file_range() (no copy through user
 * space; a reflink where the file system has them), by read() and write()
 * where it cannot (another file system on an old kernel, a pipe). Never a
 * hard link: PostgreSQL recycles WAL files by writing over them.
 */
static long long copy_plain(int in_fd, const char *path, int out_fd,
			    unsigned char *buf, size_t cap)
{
	long long total = 0;
	ssize_t got;

	while ((got = copy_file_range(in_fd, NULL, out_fd, NULL, 1 << 30, 0)) >
	       0)
		total += got;
	if (got < 0 && total == 0 &&
	    (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
	     errno == EOPNOTSUPP))
		got = 0; /* not here: read and write */
	else if (got == 0)
		return total;
	if (got < 0) {
		dbops_log_error("could not copy \"%s\": %s", path,
				strerror(errno));
		return -1;
	}
	(void)posix_fadvise(in_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while ((got = dbops_read_full(in_fd, buf, cap)) > 0) {
		if (write_out(out_fd, buf, (size_t)got, path) != 0)
			return -1;
		total += got;
	}
	if (got < 0) {
		dbops_log_error("could not read \"%s\": %s", path,
				strerror(errno));
		return -1;
	}
	return total;
}

/* zlib, not libarchive, for gzip: libarchive does not check the CRC. */
static long long copy_gzip(int in_fd, const char *path, int out_fd,
			   unsigned char *buf, size_t cap)
{
	gzFile gz = gzdopen(in_fd, "rb");
	long long total = 0;
	int got, err;

	if (gz == NULL) {
		close(in_fd);
		dbops_log_error("could not read \"%s\": out of memory", path);
		return -1;
	}
	gzbuffer(gz, 1 << 17);
	while ((got = gzread(gz, buf, (unsigned)cap)) > 0) {
		if (write_out(out_fd, buf, (size_t)got, path) != 0) {
			gzclose(gz);
			return -1;
		}
		total += got;
	}
	if (got < 0) {
		dbops_log_error("could not decompress \"%s\": %s", path,
				gzerror(gz, &err));
		gzclose(gz);
		return -1;
	}
	if (gzclose(gz) != Z_OK) {
		dbops_log_error(
			"could not decompress \"%s\": damaged gzip data (bad checksum or truncated)",
			path);
		return -1;
	}
	return total;
}

#ifdef PITR_FETCH_LIGHT
/* pitr-replay-fetch-wal runs pitr-replay for these (fetchwal/main.c):
 * a file that changed its form since is refused. */
static long long copy_filtered(int in_fd, const char *path, int out_fd)
{
	(void)out_fd;
	close(in_fd);
	dbops_log_error(
		"could not decompress \"%s\": pitr-replay-fetch-wal reads plain and gzip files only",
		path);
	return -1;
}
#else
/* zstd, lz4, xz, bzip2: libarchive's raw format behind its filters. */
static long long copy_filtered(int in_fd, const char *path, int out_fd)
{
	struct archive *a = archive_read_new();
	struct archive_entry *entry;
	long long total = 0;
	const void *block;
	size_t size;
	int64_t offset;
	int r;

	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	r = archive_read_open_fd(a, in_fd, 1 << 17);
	if (r == ARCHIVE_OK)
		r = archive_read_next_header(a, &entry);
	while (r == ARCHIVE_OK &&
	       (r = archive_read_data_block(a, &block, &size, &offset)) ==
		       ARCHIVE_OK) {
		if (offset != total) {
			r = ARCHIVE_FATAL; /* a sparse hole: not from a filter */
			break;
		}
		if (write_out(out_fd, block, size, path) != 0) {
			total = -1;
			break;
		}
		total += (long long)size;
	}
	if (r != ARCHIVE_EOF && total >= 0) {
		dbops_log_error("could not decompress \"%s\": %s", path,
				archive_error_string(a)
					? archive_error_string(a)
					: "not a file of that compression");
		total = -1;
	}
	archive_read_free(a);
	close(in_fd);
	return total;
}
#endif

long long pitr_fetch_decompress(int in_fd, const char *compressed,
				const char *path, int out_fd)
{
	size_t cap = 1 << 18;
	unsigned char *buf;
	long long n;

	if (compressed[0] != '\0' && strcmp(compressed, ".gz") != 0)
		return copy_filtered(in_fd, path, out_fd);
	buf = dbops_xmalloc(cap);
	if (compressed[0] == '\0') {
		n = copy_plain(in_fd, path, out_fd, buf, cap);
		close(in_fd);
	} else {
		n = copy_gzip(in_fd, path, out_fd, buf, cap);
	}
	free(buf);
	return n;
}

/* ---- the archive ----------------------------------------------------------- */

/*
 * Open NAME in ARCHIVE under the first suffix there. 0 with *FD, *SUFFIX
 * and PATH set; 1 when there is none; -1 reported.
 */
static int open_in_archive(const char *archive, const char *name, int *fd,
			   const char **suffix, char *path, size_t len)
{
	for (size_t i = 0; i < NSUFFIXES; i++) {
		snprintf(path, len, "%s/%s%s", archive, name, suffixes[i]);
		*fd = open(path, O_RDONLY | O_CLOEXEC);
		if (*fd >= 0) {
			*suffix = suffixes[i];
			return 0;
		}
		if (errno != ENOENT) {
			dbops_log_error("could not open \"%s\": %s", path,
					strerror(errno));
			return -1;
		}
	}
	return 1;
}

/*
 * Whether NAME is in ARCHIVE in a form we may read, without a word: the
 * prefetcher's guess; the server's own call reports what is wrong.
 */
static bool readable_in_archive(const char *archive, const char *name)
{
	char path[8192];

	for (size_t i = 0; i < NSUFFIXES; i++) {
		snprintf(path, sizeof(path), "%s/%s%s", archive, name,
			 suffixes[i]);
		if (access(path, R_OK) == 0)
			return true;
		if (errno != ENOENT)
			return false;
	}
	return false;
}

/*
 * The segment size a segment's first page gives, checked against the
 * SIZE bytes it holds: the size, or 0 after dbops_log_error().
 */
static uint32_t check_segment(int fd, long long size, const char *path)
{
	unsigned char head[WAL_LONG_HEADER];
	uint32_t seg_size = 0;
	uint16_t info = 0;

	if (pread(fd, head, sizeof(head), 0) == (ssize_t)sizeof(head)) {
		memcpy(&info, head + 2, 2);
		memcpy(&seg_size, head + 32, 4);
	}
	if (!(info & XLP_LONG_HEADER) || !pitr_wal_valid_seg_size(seg_size)) {
		dbops_log_error(
			"could not restore \"%s\": not a WAL segment (no long page header with a valid segment size at its start)",
			path);
		return 0;
	}
	if (size != (long long)seg_size) {
		dbops_log_error(
			"could not restore \"%s\": it holds %lld bytes, but its first page says segments are %u bytes (a truncated file?)",
			path, size, seg_size);
		return 0;
	}
	return seg_size;
}

/*
 * Copy the archive file open on IN_FD to OUT_FD and check it when it is a
 * segment. Returns 0 with *SEG_SIZE (0 for other files), -1 reported.
 */
static int copy_checked(int in_fd, const char *suffix, const char *path,
			const char *name, int out_fd, uint32_t *seg_size)
{
	long long n = pitr_fetch_decompress(in_fd, suffix, path, out_fd);

	*seg_size = 0;
	if (n < 0)
		return -1;
	if (is_segment_name(name) &&
	    (*seg_size = check_segment(out_fd, n, path)) == 0)
		return -1;
	return 0;
}

/*
 * Write the archive file open on IN_FD to DEST: a temporary file in DEST's
 * directory, renamed over DEST once complete. 0, or -1 reported.
 */
static int restore_to(int in_fd, const char *suffix, const char *path,
		      const char *name, const char *dest, uint32_t *seg_size)
{
	const char *slash = strrchr(dest, '/');
	char *tmp;
	int fd, rc;

	if (slash)
		tmp = dbops_xasprintf("%.*s/.%s.pitr-XXXXXX",
				      (int)(slash - dest), dest, slash + 1);
	else
		tmp = dbops_xasprintf(".%s.pitr-XXXXXX", dest);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		dbops_log_error("could not create a file beside \"%s\": %s",
				dest, strerror(errno));
		close(in_fd);
		free(tmp);
		return -1;
	}
	rc = copy_checked(in_fd, suffix, path, name, fd, seg_size);
	if (close(fd) != 0 && rc == 0) {
		dbops_log_error("could not write \"%s\": %s", tmp,
				strerror(errno));
		rc = -1;
	}
	if (rc == 0 && rename(tmp, dest) != 0) {
		dbops_log_error("could not rename \"%s\" to \"%s\": %s", tmp,
				dest, strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* ---- the spool ----------------------------------------------------------- */

/* Whether a process holds SPOOL's lock: a prefetcher at work. */
static bool prefetcher_alive(const char *spool)
{
	char *path = dbops_xasprintf("%s/.lock", spool);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool alive = false;

	free(path);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) != 0)
		alive = errno == EWOULDBLOCK;
	close(fd);
	return alive;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/*
 * Take NAME from the spool to DEST, waiting for it while a live
 * prefetcher has it claimed. 0 with *SEG_SIZE, 1 when the spool has
 * nothing to give (read the archive), -1 reported.
 */
static int spool_take(const struct fetch_opts *o, const char *dest,
		      uint32_t *seg_size)
{
	char *done = dbops_xasprintf("%s/%s", o->spool, o->name);
	char *part = dbops_xasprintf("%s.part", done);
	int64_t give_up = dbops_clock_ms() + CLAIM_WAIT_MS;
	int rc = 1, fd;

	while (!exists(done) && exists(part) && prefetcher_alive(o->spool) &&
	       !dbops_clock_passed(give_up))
		dbops_clock_sleep_ms(2);
	if (rename(done, dest) == 0) {
		rc = 0;
	} else if (errno == EXDEV && (fd = open(done, O_RDONLY | O_CLOEXEC)) >=
					     0) { /* pg_wal elsewhere */
		rc = restore_to(fd, "", done, o->name, dest, seg_size);
		unlink(done);
		goto out;
	}
	if (rc == 0) {
		/* Checked when spooled: only the size is wanted here. */
		unsigned char head[WAL_LONG_HEADER];

		fd = open(dest, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 &&
		    pread(fd, head, sizeof(head), 0) == (ssize_t)sizeof(head))
			memcpy(seg_size, head + 32, 4);
		if (fd >= 0)
			close(fd);
	}
out:
	free(done);
	free(part);
	return rc;
}

/* The segment NAME's timeline and number, for segments of SEG_SIZE. */
static void segment_of(const char *name, uint32_t seg_size, uint32_t *tli,
		       uint64_t *segno)
{
	char part[9] = "";
	uint64_t per_log = 0x100000000ULL / seg_size;

	memcpy(part, name, 8);
	*tli = (uint32_t)strtoul(part, NULL, 16);
	memcpy(part, name + 8, 8);
	*segno = strtoull(part, NULL, 16) * per_log;
	memcpy(part, name + 16, 8);
	*segno += strtoull(part, NULL, 16);
}

struct prefetch {
	const struct fetch_opts *o;
	char (*names)[32]; /* the claimed segments */
	size_t count;
};

/* Make one claimed segment: NAME.part written, checked, renamed. */
static void prefetch_one(void *arg, size_t i)
{
	struct prefetch *p = arg;
	const char *name = p->names[i];
	char *done = dbops_xasprintf("%s/%s", p->o->spool, name);
	char *part = dbops_xasprintf("%s.part", done);
	char path[8192];
	const char *suffix;
	uint32_t seg_size;
	int in_fd, out_fd = open(part, O_RDWR | O_TRUNC | O_CLOEXEC);
	int rc = -1;

	if (out_fd >= 0 && open_in_archive(p->o->archive, name, &in_fd, &suffix,
					   path, sizeof(path)) == 0) {
		rc = copy_checked(in_fd, suffix, path, name, out_fd, &seg_size);
		if (close(out_fd) != 0)
			rc = -1;
		out_fd = -1;
		if (rc == 0)
			rc = rename(part, done);
	}
	if (out_fd >= 0)
		close(out_fd);
	if (rc != 0) /* the call for it reads the archive, and says why */
		unlink(part);
	free(done);
	free(part);
}

/*
 * Claim the next o->prefetch segments after FIRST that the archive has and
 * the spool has not: NAME.part, created while we hold the lock; their
 * names and count go to P.
 */
static void claim(struct prefetch *p, const char *first, uint32_t seg_size)
{
	const struct fetch_opts *o = p->o;
	uint64_t per_log = 0x100000000ULL / seg_size, segno;
	uint32_t tli;

	segment_of(first, seg_size, &tli, &segno);
	p->names = dbops_xcalloc((size_t)o->prefetch, sizeof(*p->names));
	for (int i = 1; i <= o->prefetch; i++) {
		char *name = p->names[p->count], *done, *part;
		int fd;

		snprintf(name, 32, "%08X%08X%08X", tli,
			 (uint32_t)((segno + (uint64_t)i) / per_log),
			 (uint32_t)((segno + (uint64_t)i) % per_log));
		if (!readable_in_archive(o->archive, name))
			continue; /* not (yet) archived: the call reports */
		done = dbops_xasprintf("%s/%s", o->spool, name);
		part = dbops_xasprintf("%s.part", done);
		/* A .part while we hold the lock is a dead prefetcher's. */
		unlink(part);
		fd = exists(done)
			     ? -1
			     : open(part,
				    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
				    0600);
		if (fd >= 0) {
			close(fd);
			p->count++;
		}
		free(done);
		free(part);
	}
}

/* The prefetcher: detached from the server's call, quiet, then gone. */
static void prefetch_child(struct prefetch *p, int lock_fd)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	char pid[32];
	int n;

	setsid();
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	(void)!pwrite(lock_fd, pid, (size_t)n, 0);
	struct dbops_parallel par = {
		.count = p->count,
		.jobs = cores > 1 ? (int)(cores < 4 ? cores : 4) : 1,
		.body = prefetch_one,
		.arg = p,
	};
	dbops_parallel_for(&par);
	_exit(0);
}

/* The absolute path of O->archive into BUF (PATH_MAX); -1 if unresolvable. */
static int archive_abs(const struct fetch_opts *o, char *buf)
{
	return realpath(o->archive, buf) ? 0 : -1;
}

/* Whether the spool was filled from O->archive: SPOOL/.archive says. */
static bool spool_matches(const struct fetch_opts *o)
{
	char abs[PATH_MAX], text[PATH_MAX + 1];
	char *path = dbops_xasprintf("%s/.archive", o->spool);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? dbops_read_full(fd, text, PATH_MAX) : -1;

	if (fd >= 0)
		close(fd);
	free(path);
	if (n <= 0 || archive_abs(o, abs) != 0)
		return false;
	text[n] = '\0';
	return strcmp(text, abs) == 0;
}

/*
 * Make the spool O->archive's, with the lock held: what another archive
 * left in it is removed (never served for this one), then .archive
 * written. 0, or -1: no prefetching.
 */
static int spool_adopt(const struct fetch_opts *o)
{
	char abs[PATH_MAX], *path;
	struct dirent *de;
	DIR *d;
	int rc;

	if (archive_abs(o, abs) != 0 || (d = opendir(o->spool)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		path = dbops_xasprintf("%s/%s", o->spool, de->d_name);
		unlink(path);
		free(path);
	}
	closedir(d);
	path = dbops_xasprintf("%s/.archive", o->spool);
	rc = dbops_atomic_write(path, 0600, abs, strlen(abs));
	free(path);
	return rc;
}

/*
 * After serving segment NAME: unless a prefetcher is at work, claim the
 * segments after it and start one in the background to make them.
 */
static void prefetch_start(const struct fetch_opts *o, uint32_t seg_size)
{
	char *path = dbops_xasprintf("%s/.lock", o->spool);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	struct prefetch p = { .o = o };
	pid_t pid;

	free(path);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0 || ftruncate(fd, 0) != 0 ||
	    (!spool_matches(o) && spool_adopt(o) != 0)) {
		close(fd);
		return;
	}
	claim(&p, o->name, seg_size);
	pid = p.count ? fork() : -1;
	if (pid == 0)
		prefetch_child(&p, fd);
	if (pid < 0) /* nothing to do, or no process: the calls read */
		for (size_t i = 0; i < p.count; i++) {
			char *part = dbops_xasprintf("%s/%s.part", o->spool,
						     p.names[i]);

			unlink(part);
			free(part);
		}
	close(fd); /* the child holds the lock now */
	free(p.names);
}

/* ---- the command ----------------------------------------------------------- */

static bool spool_usable(const struct fetch_opts *o)
{
	struct stat st;

	return o->spool && stat(o->spool, &st) == 0 && S_ISDIR(st.st_mode);
}

int pitr_fetch_wal_run(const struct fetch_opts *o)
{
	struct stat st;
	char path[8192];
	const char *suffix;
	uint32_t seg_size = 0;
	bool spool = spool_usable(o);
	int fd, err, rc = 1;

	if (o->name[0] == '\0' || o->name[0] == '.' || strchr(o->name, '/')) {
		dbops_log_error(
			"invalid file name \"%s\": expected a name in the archive, such as 000000010000000000000003",
			o->name);
		return FETCH_FAILED;
	}
	/* A missing archive is an error, never "no such file". */
	err = stat(o->archive, &st) != 0 ? errno
	      : S_ISDIR(st.st_mode)	 ? 0
					 : ENOTDIR;
	if (err != 0) {
		dbops_log_error("could not open the WAL archive \"%s\": %s",
				o->archive, strerror(err));
		return FETCH_FAILED;
	}
	if (spool && is_segment_name(o->name) && spool_matches(o))
		rc = spool_take(o, o->dest, &seg_size);
	if (rc == 1) {
		rc = open_in_archive(o->archive, o->name, &fd, &suffix, path,
				     sizeof(path));
		if (rc == 1)
			return FETCH_ABSENT;
		if (rc == 0)
			rc = restore_to(fd, suffix, path, o->name, o->dest,
					&seg_size);
	}
	if (rc != 0)
		return FETCH_FAILED;
	if (spool && o->prefetch > 0 && is_segment_name(o->name) &&
	    pitr_wal_valid_seg_size(seg_size))
		prefetch_start(o, seg_size);
	return FETCH_OK;
}

/* Wait until nobody holds FD's lock, SIGTERM-ing its holder once. */
static bool stop_prefetcher(int fd)
{
	int64_t give_up = dbops_clock_ms() + 10000;
	char text[32] = "";
	bool signalled = false;

	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK || dbops_clock_passed(give_up))
			return false;
		if (!signalled && pread(fd, text, sizeof(text) - 1, 0) > 0) {
			long pid = strtol(text, NULL, 10);

			if (pid > 1)
				kill((pid_t)pid, SIGTERM);
			signalled = true;
		}
		dbops_clock_sleep_ms(10);
	}
	return true;
}

int pitr_fetch_spool_remove(const char *spool)
{
	char *path = dbops_xasprintf("%s/.lock", spool);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct dirent *de;
	bool ok = true;
	DIR *d;

	free(path);
	if (fd >= 0) {
		ok = stop_prefetcher(fd);
		close(fd);
	}
	d = opendir(spool);
	if (d == NULL)
		return errno == ENOENT && ok ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		path = dbops_xasprintf("%s/%s", spool, de->d_name);
		if (unlink(path) != 0)
			ok = false;
		free(path);
	}
	closedir(d);
	if (rmdir(spool) != 0 || !ok) {
		dbops_log_warning(
			"could not remove the prefetch spool \"%s\" (a prefetcher still at work?)",
			spool);
		return -1;
	}
	return 0;
}
