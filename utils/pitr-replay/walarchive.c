/*
 * walarchive.c - list a WAL archive directory and read its files.
 */
#include "walarchive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "log.h"
#include "xalloc.h"

static bool is_hex_upper(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

static void path_of(const struct wal_archive *arc, const char *name, char *buf,
		    size_t len)
{
	snprintf(buf, len, "%s/%s", arc->dir, name);
}

/* Segment names before the segment size is known: TLI, log, seg as parsed. */
struct raw_segment {
	struct archive_segment seg;
	uint32_t log, seg_in_log;
};

static void add_item(void **items, size_t *n, size_t *cap, size_t size,
		     const void *item)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*items = dbops_xreallocarray(*items, *cap, size);
	}
	memcpy((char *)*items + *n * size, item, size);
	(*n)++;
}

/* Classify NAME; 1 segment, 2 history, 3 backup history, 0 other. */
static int classify(const char *name, struct raw_segment *raw, uint32_t *tli)
{
	size_t len = strlen(name);
	const char *rest = name + 24;

	if (len == 16 && is_hex_upper(name, 8) &&
	    strcmp(name + 8, ".history") == 0) {
		*tli = (uint32_t)strtoul(name, NULL, 16);
		return 2;
	}
	if (len < 24 || !is_hex_upper(name, 24) || len >= sizeof(raw->seg.name))
		return 0;
	memset(raw, 0, sizeof(*raw));
	if (*rest == '.' && len == 24 + 1 + 8 + 7 &&
	    is_hex_upper(rest + 1, 8) && strcmp(rest + 9, ".backup") == 0)
		return 3;
	if (strcmp(rest, ".gz") == 0) {
		raw->seg.gz = true;
	} else if (strcmp(rest, ".partial") == 0) {
		raw->seg.partial = true;
	} else if (strcmp(rest, ".partial.gz") == 0) {
		raw->seg.partial = raw->seg.gz = true;
	} else if (*rest != '\0') {
		return 0;
	}
	snprintf(raw->seg.name, sizeof(raw->seg.name), "%s", name);
	char part[9] = "";
	memcpy(part, name, 8);
	raw->seg.tli = (uint32_t)strtoul(part, NULL, 16);
	memcpy(part, name + 8, 8);
	raw->log = (uint32_t)strtoul(part, NULL, 16);
	memcpy(part, name + 16, 8);
	raw->seg_in_log = (uint32_t)strtoul(part, NULL, 16);
	return 1;
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
	return x->gz - y->gz; /* plain before .gz: the plain one is read */
}

/*
 * Open PATH, a gzip file, for reading, with a close-on-exec descriptor
 * (gzopen() has none). NULL with errno on failure.
 */
static gzFile gz_open_read(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	gzFile gz;

	if (fd < 0)
		return NULL;
	gz = gzdopen(fd, "rb");
	if (gz == NULL) {
		close(fd);
		errno = ENOMEM; /* gzdopen fails only to allocate */
	}
	return gz;
}

/* Read the first COUNT bytes of a segment file (plain or .gz). */
static int read_head(const struct wal_archive *arc,
		     const struct archive_segment *seg, unsigned char *buf,
		     size_t count)
{
	char path[8192];
	ssize_t got;

	path_of(arc, seg->name, path, sizeof(path));
	if (seg->gz) {
		gzFile gz = gz_open_read(path);

		if (gz == NULL)
			return -1;
		got = gzread(gz, buf, (unsigned)count);
		gzclose(gz);
	} else {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return -1;
		got = read(fd, buf, count);
		close(fd);
	}
	return got == (ssize_t)count ? 0 : -1;
}

/* The segment size in the long header of the first readable segment. */
static int learn_seg_size(struct wal_archive *arc, struct raw_segment *raws,
			  size_t n)
{
	unsigned char head[WAL_LONG_HEADER];
	uint32_t size;
	uint16_t info;
	char path[8192];

	for (size_t i = 0; i < n; i++) {
		path_of(arc, raws[i].seg.name, path, sizeof(path));
		errno = 0;
		if (read_head(arc, &raws[i].seg, head, sizeof(head)) != 0) {
			/* An empty or unreadable leftover: try the others. */
			dbops_log_debug(
				"could not read the first WAL page of \"%s\": %s",
				path,
				errno ? strerror(errno) : "file too short");
			continue;
		}
		memcpy(&info, head + 2, 2);
		memcpy(&size, head + 32, 4);
		if (!(info & XLP_LONG_HEADER)) {
			dbops_log_error(
				"\"%s\": not a WAL segment: its first page has no long header (flags 0x%04X)",
				path, info);
			return -1;
		}
		if (!pitr_wal_valid_seg_size(size)) {
			dbops_log_error(
				"\"%s\": WAL segment size must be a power of two between 1 MB and 1 GB, but the header says %u bytes",
				path, size);
			return -1;
		}
		arc->seg_size = size;
		return 0;
	}
	path_of(arc, raws[0].seg.name, path, sizeof(path));
	dbops_log_error(
		"\"%s\": no segment in the archive has a readable first WAL page (%s, for one, %s)",
		arc->dir, raws[0].seg.name,
		errno ? strerror(errno) : "is too short");
	return -1;
}

static int list_dir(struct wal_archive *arc, DIR *d, struct raw_segment **raws,
		    size_t *nraw)
{
	size_t cap_raw = 0, cap_hist = 0, cap_bk = 0;
	struct dirent *de;

	while ((errno = 0, de = readdir(d)) != NULL) {
		struct raw_segment raw;
		struct archive_backup_file bk;
		uint32_t tli;

		if (de->d_name[0] == '.')
			continue;
		switch (classify(de->d_name, &raw, &tli)) {
		case 1:
			add_item((void **)raws, nraw, &cap_raw, sizeof(raw),
				 &raw);
			break;
		case 2:
			add_item((void **)&arc->history_tlis, &arc->nhistories,
				 &cap_hist, sizeof(tli), &tli);
			break;
		case 3:
			memset(&bk, 0, sizeof(bk));
			snprintf(bk.name, sizeof(bk.name), "%.63s", de->d_name);
			add_item((void **)&arc->backups, &arc->nbackups,
				 &cap_bk, sizeof(bk), &bk);
			break;
		default:
			arc->nignored++;
		}
	}
	return errno ? -1 : 0;
}

/* Fill a backup history file's facts from its text (what we use of it). */
static void parse_backup_file(const char *text, struct archive_backup_file *bk)
{
	const char *line = text;

	while (line && *line) {
		char lsn[32], file[64];
		unsigned tli;

		if (sscanf(line, "START WAL LOCATION: %31s (file %24[0-9A-F])",
			   lsn, file) == 2 &&
		    pitr_lsn_parse(lsn, &bk->start_lsn) == 0 &&
		    sscanf(file, "%8x", &tli) == 1)
			bk->tli = tli;
		else if (sscanf(line, "STOP WAL LOCATION: %31s", lsn) == 1)
			(void)pitr_lsn_parse(lsn, &bk->stop_lsn);
		else if (sscanf(line, "CHECKPOINT LOCATION: %31s", lsn) == 1)
			(void)pitr_lsn_parse(lsn, &bk->checkpoint_lsn);
		else if (strncmp(line, "STOP TIME: ", 11) == 0)
			sscanf(line + 11, "%63[^\n]", bk->stop_time);
		line = strchr(line, '\n');
		if (line)
			line++;
	}
}

int pitr_walarc_open(const char *dir, struct wal_archive *arc)
{
	struct raw_segment *raws = NULL;
	size_t nraw = 0;
	DIR *d;

	memset(arc, 0, sizeof(*arc));
	if (strlen(dir) >= sizeof(arc->dir) - 128) {
		dbops_log_error("archive path too long: \"%.60s...\"", dir);
		return -1;
	}
	/* Absolute: the server runs restore_command in its data directory. */
	if (realpath(dir, arc->dir) == NULL)
		snprintf(arc->dir, sizeof(arc->dir), "%s", dir);
	d = opendir(dir);
	if (d == NULL) {
		dbops_log_error("could not open the WAL archive \"%s\": %s",
				dir, strerror(errno));
		return -1;
	}
	if (list_dir(arc, d, &raws, &nraw) != 0) {
		dbops_log_error("could not list the WAL archive \"%s\": %s",
				dir, strerror(errno));
		closedir(d);
		free(raws);
		pitr_walarc_close(arc);
		return -1;
	}
	closedir(d);
	if (nraw == 0) {
		dbops_log_error(
			"\"%s\": no WAL segment files in the archive (names of 24 hex digits, plain or .gz)",
			dir);
		free(raws);
		pitr_walarc_close(arc);
		return -1;
	}
	if (learn_seg_size(arc, raws, nraw) != 0) {
		free(raws);
		pitr_walarc_close(arc);
		return -1;
	}
	arc->segs = dbops_xcalloc(nraw, sizeof(*arc->segs));
	uint64_t per_log = 0x100000000ULL / arc->seg_size;
	for (size_t i = 0; i < nraw; i++) {
		if (raws[i].seg_in_log >= per_log)
			continue; /* not a segment of this size: count it as other */
		arc->segs[arc->nsegs] = raws[i].seg;
		arc->segs[arc->nsegs].segno =
			raws[i].log * per_log + raws[i].seg_in_log;
		arc->nsegs++;
	}
	arc->nignored += nraw - arc->nsegs;
	free(raws);
	qsort(arc->segs, arc->nsegs, sizeof(*arc->segs), compare_segments);
	for (size_t i = 0; i < arc->nbackups; i++) {
		char *text;

		if (pitr_walarc_read_text(arc, arc->backups[i].name, &text) ==
		    0) {
			parse_backup_file(text, &arc->backups[i]);
			free(text);
		}
	}
	return 0;
}

void pitr_walarc_close(struct wal_archive *arc)
{
	free(arc->segs);
	free(arc->history_tlis);
	free(arc->backups);
	arc->segs = NULL;
	arc->history_tlis = NULL;
	arc->backups = NULL;
	arc->nsegs = arc->nhistories = arc->nbackups = 0;
}

const struct archive_segment *pitr_walarc_find(const struct wal_archive *arc,
					       uint32_t tli, uint64_t segno)
{
	size_t lo = 0, hi = arc->nsegs;

	while (lo < hi) { /* the first entry >= (tli, segno) */
		size_t mid = lo + (hi - lo) / 2;
		const struct archive_segment *s = &arc->segs[mid];

		if (s->tli < tli || (s->tli == tli && s->segno < segno))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < arc->nsegs && arc->segs[lo].tli == tli &&
	    arc->segs[lo].segno == segno && !arc->segs[lo].partial)
		return &arc->segs[lo];
	return NULL;
}

static int read_plain(const char *path, unsigned char *buf, uint32_t size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t done = 0;

	if (fd < 0) {
		dbops_log_error("could not open \"%s\": %s", path,
				strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && st.st_size != (off_t)size) {
		dbops_log_error(
			"\"%s\": WAL segment is %lld bytes, expected %u", path,
			(long long)st.st_size, size);
		close(fd);
		return -1;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while (done < size) {
		ssize_t got = read(fd, buf + done, size - done);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			dbops_log_error("could not read \"%s\": %s", path,
					got < 0 ? strerror(errno)
						: "file shrank while read");
			close(fd);
			return -1;
		}
		done += (size_t)got;
	}
	close(fd);
	return 0;
}

static int read_gz(const char *path, unsigned char *buf, uint32_t size)
{
	gzFile gz = gz_open_read(path);
	unsigned char extra;
	int got, err, rc = -1;

	if (gz == NULL) {
		dbops_log_error("could not open \"%s\": %s", path,
				strerror(errno));
		return -1;
	}
	gzbuffer(gz, 1 << 17);
	got = gzread(gz, buf, size);
	if (got < 0) {
		dbops_log_error("\"%s\": damaged gzip data: %s", path,
				gzerror(gz, &err));
	} else if ((uint32_t)got != size) {
		dbops_log_error(
			"\"%s\": WAL segment inflates to %d bytes, expected %u (a truncated .gz file?)",
			path, got, size);
	} else if (gzread(gz, &extra, 1) != 0) {
		dbops_log_error(
			"\"%s\": WAL segment inflates to more than %u bytes",
			path, size);
	} else {
		rc = 0;
	}
	if (gzclose(gz) != Z_OK && rc == 0) {
		dbops_log_error(
			"\"%s\": damaged gzip data (bad checksum or truncated)",
			path);
		rc = -1;
	}
	return rc;
}

int pitr_walarc_read_segment(const struct wal_archive *arc,
			     const struct archive_segment *seg,
			     unsigned char *buf)
{
	char path[8192];

	if (seg->in_backup)
		return arc->read_backup(arc, seg, buf);
	path_of(arc, seg->name, path, sizeof(path));
	return seg->gz ? read_gz(path, buf, arc->seg_size)
		       : read_plain(path, buf, arc->seg_size);
}

int pitr_walarc_read_text(const struct wal_archive *arc, const char *name,
			  char **text)
{
	char path[8192];
	FILE *f;
	size_t len;
	char *buf;

	path_of(arc, name, path, sizeof(path));
	f = fopen(path, "re");
	if (f == NULL) {
		if (errno == ENOENT)
			return 1;
		dbops_log_error("could not open \"%s\": %s", path,
				strerror(errno));
		return -1;
	}
	buf = dbops_xmalloc(1 << 20);
	len = fread(buf, 1, (1 << 20) - 1, f);
	if (ferror(f)) {
		dbops_log_error("could not read \"%s\": %s", path,
				strerror(errno));
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	buf[len] = '\0';
	*text = buf;
	return 0;
}

bool pitr_walarc_has_history(const struct wal_archive *arc, uint32_t tli)
{
	for (size_t i = 0; i < arc->nhistories; i++)
		if (arc->history_tlis[i] == tli)
			return true;
	return false;
}

uint32_t pitr_walarc_newest_tli(const struct wal_archive *arc)
{
	uint32_t newest = 0;

	for (size_t i = 0; i < arc->nsegs; i++)
		if (arc->segs[i].tli > newest)
			newest = arc->segs[i].tli;
	for (size_t i = 0; i < arc->nhistories; i++)
		if (arc->history_tlis[i] > newest)
			newest = arc->history_tlis[i];
	return newest;
}
