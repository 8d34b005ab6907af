/*
 * walbackup.c - read the WAL segments of a base backup's own pg_wal.
 */
#include "walbackup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "log.h"
#include "tarread.h"
#include "xalloc.h"

#define DIR_LEN (PATH_MAX + 16)

/* Where B keeps pg_wal: a tar TAR (PATH_MAX) whose entries PREFIX+NAME are
 * the segments, or else the directory DIR (DIR_LEN). */
static bool wal_tar(const struct base_backup *b, char *tar, const char **prefix,
		    char *dir)
{
	*prefix = "";
	tar[0] = dir[0] = '\0';
	if (b->kind == BACKUP_DIR) {
		snprintf(dir, DIR_LEN, "%s/pg_wal", b->path);
		return false;
	}
	if (b->wal_tar[0] != '\0') {
		snprintf(tar, PATH_MAX, "%s", b->wal_tar);
		return true;
	}
	snprintf(tar, PATH_MAX, "%s", b->base_tar);
	*prefix = "pg_wal/";
	return true;
}

const char *pitr_walbackup_where(const struct base_backup *b, const char *name,
				 char *buf, size_t len)
{
	char tar[PATH_MAX], dir[DIR_LEN];
	const char *prefix;

	if (wal_tar(b, tar, &prefix, dir))
		snprintf(buf, len, "%s: %s%s", tar, prefix, name);
	else
		snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

/* NAME as a complete segment name: 24 upper-case hex digits. */
static bool parse_name(const char *name, uint32_t seg_size,
		       struct archive_segment *seg)
{
	char part[9] = "";
	uint32_t log, seg_in_log;

	if (strlen(name) != 24 || strspn(name, "0123456789ABCDEF") != 24)
		return false;
	memset(seg, 0, sizeof(*seg));
	memcpy(part, name, 8);
	seg->tli = (uint32_t)strtoul(part, NULL, 16);
	memcpy(part, name + 8, 8);
	log = (uint32_t)strtoul(part, NULL, 16);
	memcpy(part, name + 16, 8);
	seg_in_log = (uint32_t)strtoul(part, NULL, 16);
	if (seg->tli == 0 || seg_in_log >= 0x100000000ULL / seg_size)
		return false;
	seg->segno = (uint64_t)log * (0x100000000ULL / seg_size) + seg_in_log;
	snprintf(seg->name, sizeof(seg->name), "%s", name);
	seg->in_backup = true;
	return true;
}

struct found {
	struct archive_segment *segs;
	size_t n;
};

/* Keep NAME if it is a segment ARC lacks. */
static void consider(const struct wal_archive *arc, const char *name,
		     struct found *f)
{
	struct archive_segment seg;

	if (!parse_name(name, arc->seg_size, &seg) ||
	    pitr_walarc_find(arc, seg.tli, seg.segno) != NULL)
		return;
	f->segs = dbops_xreallocarray(f->segs, f->n + 1, sizeof(*f->segs));
	f->segs[f->n++] = seg;
}

static int list_dir(const struct wal_archive *arc, const char *dir,
		    struct found *f)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		dbops_log_error("could not open directory \"%s\": %s", dir,
				strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		consider(arc, de->d_name, f);
	closedir(d);
	return 0;
}

/* The current entry of T, normalised into t->name ("" when refused: the
 * base backup's own check names it). */
static void entry_name(struct tar *t)
{
	char name[PATH_MAX];

	if (pitr_normalise(pitr_entry_name(t->e), name, sizeof(name)) == 0)
		snprintf(t->name, sizeof(t->name), "%s", name);
	else
		t->name[0] = '\0';
}

/* The entries PREFIX<segment> of TAR, regular files. */
static int list_tar(const struct wal_archive *arc, const char *tar,
		    const char *prefix, struct found *f)
{
	struct tar t;
	size_t plen = strlen(prefix);
	int rc;

	if (pitr_tar_open(&t, tar) != 0) {
		if (t.unrecognized)
			dbops_log_error("\"%s\": not a tar", tar);
		return -1;
	}
	while ((rc = pitr_tar_next(&t)) == 1) {
		entry_name(&t);
		if (archive_entry_filetype(t.e) == AE_IFREG &&
		    strncmp(t.name, prefix, plen) == 0)
			consider(arc, t.name + plen, f);
		if (pitr_tar_skip(&t) != 0) {
			rc = -1;
			break;
		}
	}
	pitr_tar_close(&t);
	return rc;
}

static int read_dir_segment(const char *path, unsigned char *buf, uint32_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t done = 0;

	if (fd < 0 || fstat(fd, &st) != 0) {
		dbops_log_error("could not open \"%s\": %s", path,
				strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_size != (off_t)size) {
		dbops_log_error(
			"\"%s\": WAL segment of %lld bytes, expected %u", path,
			(long long)st.st_size, size);
		close(fd);
		return -1;
	}
	while (done < size) {
		ssize_t got = read(fd, buf + done, size - done);

		if (got <= 0) {
			dbops_log_error("could not read \"%s\": %s", path,
					got < 0 ? strerror(errno)
						: "unexpected end of file");
			close(fd);
			return -1;
		}
		done += (size_t)got;
	}
	close(fd);
	return 0;
}

static int read_tar_segment(const char *tar, const char *entry,
			    unsigned char *buf, uint32_t size)
{
	struct tar t;
	int rc;
	size_t len = 0;
	int64_t total = -1;

	if (pitr_tar_open(&t, tar) != 0)
		return -1;
	while ((rc = pitr_tar_next(&t)) == 1) {
		entry_name(&t);
		if (strcmp(t.name, entry) == 0) {
			/* pitr_tar_read() reads what is stored, at most SIZE */
			total = archive_entry_size(t.e);
			if (pitr_tar_read(&t, (char *)buf, size, &len) != 0)
				total = -2;
			break;
		}
		if (pitr_tar_skip(&t) != 0)
			break;
	}
	pitr_tar_close(&t);
	if (total < 0) {
		if (total == -1 && rc == 0)
			dbops_log_error("\"%s\": no entry %s", tar, entry);
		return -1;
	}
	if (total != (int64_t)size || len != size) {
		dbops_log_error(
			"\"%s\": %s: WAL segment of %lld bytes, expected %u",
			tar, entry, (long long)total, size);
		return -1;
	}
	return 0;
}

static int read_backup(const struct wal_archive *arc,
		       const struct archive_segment *seg, unsigned char *buf)
{
	const struct base_backup *b = arc->read_backup_ctx;
	char tar[PATH_MAX], dir[DIR_LEN], path[DIR_LEN + 80];
	const char *prefix;

	if (wal_tar(b, tar, &prefix, dir)) {
		snprintf(path, sizeof(path), "%s%s", prefix, seg->name);
		return read_tar_segment(tar, path, buf, arc->seg_size);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, seg->name);
	return read_dir_segment(path, buf, arc->seg_size);
}

static int compare_segments(const void *a, const void *b)
{
	const struct archive_segment *x = a, *y = b;

	if (x->tli != y->tli)
		return x->tli < y->tli ? -1 : 1;
	if (x->segno != y->segno)
		return x->segno < y->segno ? -1 : 1;
	if (x->partial != y->partial)
		return x->partial ? 1 : -1;
	return x->comp - y->comp; /* as walarchive.c sorts them */
}

/*
 * Whether ARC has every segment of B's own WAL, from its start to its end
 * (the manifest's, else the start segment alone): then the backup's pg_wal
 * has nothing to add, and a base tar is not read again to list it.
 */
static bool archive_has_backup_wal(const struct wal_archive *arc,
				   const struct base_backup *b)
{
	uint64_t first = lsn_segno(b->label.start_lsn, arc->seg_size);
	uint64_t last = first;

	if (b->manifest_end_lsn > b->label.start_lsn)
		last = lsn_segno(b->manifest_end_lsn - 1, arc->seg_size);
	for (uint64_t segno = first; segno <= last; segno++)
		if (pitr_walarc_find(arc, b->label.start_tli, segno) == NULL)
			return false;
	return true;
}

int pitr_walbackup_add(struct wal_archive *arc, const struct base_backup *b)
{
	char tar[PATH_MAX], dir[DIR_LEN], where[DIR_LEN + 80];
	struct found f = { NULL, 0 };
	const char *prefix;
	int rc;

	if (archive_has_backup_wal(arc, b))
		return 0;
	if (wal_tar(b, tar, &prefix, dir))
		rc = list_tar(arc, tar, prefix, &f);
	else
		rc = list_dir(arc, dir, &f);
	if (rc != 0 || f.n == 0) {
		free(f.segs);
		return rc;
	}
	qsort(f.segs, f.n, sizeof(*f.segs), compare_segments);
	if (wal_tar(b, tar, &prefix, dir))
		snprintf(where, sizeof(where), "%s%s%s", tar,
			 *prefix ? ": " : "", prefix);
	else
		snprintf(where, sizeof(where), "%s", dir);
	if (f.n == 1)
		dbops_log_info(
			"WAL segment %s is not in the archive: read from the base backup's pg_wal (\"%s\"), where the restored server finds it too, as PostgreSQL reads pg_wal when restore_command has nothing",
			f.segs[0].name, where);
	else
		dbops_log_info(
			"%zu WAL segments, %s to %s, are not in the archive: read from the base backup's pg_wal (\"%s\"), where the restored server finds them too, as PostgreSQL reads pg_wal when restore_command has nothing",
			f.n, f.segs[0].name, f.segs[f.n - 1].name, where);
	arc->segs = dbops_xreallocarray(arc->segs, arc->nsegs + f.n,
					sizeof(*arc->segs));
	memcpy(arc->segs + arc->nsegs, f.segs, f.n * sizeof(*f.segs));
	arc->nsegs += f.n;
	qsort(arc->segs, arc->nsegs, sizeof(*arc->segs), compare_segments);
	free(f.segs);
	arc->read_backup = read_backup;
	arc->read_backup_ctx = b;
	return 0;
}
