/*
 * walarchive.c - list a WAL archive directory and read its files. See
 * walarchive.h for the design notes.
 */
#include "walarchive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include <archive.h>
#include <archive_entry.h>

#include "log.h"
#include "xalloc.h"

#define TEXT_MAX      (1 << 20) /* a history or backup history file */
#define IGNORED_NAMED 5		/* files named one by one in the warning */

static const struct {
	const char *suffix;
	const char *what;
	int filter; /* libarchive's ARCHIVE_FILTER_* */
} comps[PITR_NCOMP] = {
	[PITR_COMP_NONE] = { "", "plain", ARCHIVE_FILTER_NONE },
	[PITR_COMP_GZIP] = { ".gz", "gzip", ARCHIVE_FILTER_GZIP },
	[PITR_COMP_ZSTD] = { ".zst", "zstd", ARCHIVE_FILTER_ZSTD },
	[PITR_COMP_LZ4] = { ".lz4", "lz4", ARCHIVE_FILTER_LZ4 },
	[PITR_COMP_XZ] = { ".xz", "xz", ARCHIVE_FILTER_XZ },
	[PITR_COMP_BZIP2] = { ".bz2", "bzip2", ARCHIVE_FILTER_BZIP2 },
};

const char *pitr_comp_suffix(int comp)
{
	return comp >= 0 && comp < PITR_NCOMP ? comps[comp].suffix : "";
}

/* The compression whose suffix S is exactly, or -1. */
static int comp_of_suffix(const char *s)
{
	for (int c = 0; c < PITR_NCOMP; c++)
		if (strcmp(s, comps[c].suffix) == 0)
			return c;
	return -1;
}

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
	bool unreadable; /* a segment's name with a suffix not read here */
};

/* The files none of the kinds above, for the warning. */
struct ignored_list {
	size_t n;
	char names[IGNORED_NAMED][256];
	bool seglike[IGNORED_NAMED];
};

/* Keep the IGNORED_NAMED first names in byte order, for a stable warning. */
static void note_ignored(struct ignored_list *l, const char *name, bool seglike)
{
	size_t kept = l->n < IGNORED_NAMED ? l->n : IGNORED_NAMED, at = kept;

	l->n++;
	while (at > 0 && strcmp(name, l->names[at - 1]) < 0)
		at--;
	if (at == IGNORED_NAMED)
		return;
	if (kept == IGNORED_NAMED)
		kept--; /* the last one falls off */
	memmove(l->names[at + 1], l->names[at],
		(kept - at) * sizeof(l->names[0]));
	memmove(&l->seglike[at + 1], &l->seglike[at],
		(kept - at) * sizeof(l->seglike[0]));
	snprintf(l->names[at], sizeof(l->names[at]), "%s", name);
	l->seglike[at] = seglike;
}

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

enum file_kind { FILE_OTHER, FILE_SEGMENT, FILE_HISTORY, FILE_BACKUP };

/*
 * What REST, the part of a segment's name after its 24 hex digits, makes
 * of it: a segment (with *COMP and *PARTIAL), a backup history file (its
 * name without the compression suffix is the first BASE_LEN characters),
 * or FILE_OTHER.
 */
static enum file_kind classify_rest(const char *rest, int *comp, bool *partial,
				    size_t *base_len)
{
	size_t len = strlen(rest);

	*partial = false;
	if (len >= 16 && rest[0] == '.' && is_hex_upper(rest + 1, 8) &&
	    strncmp(rest + 9, ".backup", 7) == 0 &&
	    (*comp = comp_of_suffix(rest + 16)) >= 0) {
		*base_len = 24 + 16;
		return FILE_BACKUP;
	}
	if ((*comp = comp_of_suffix(rest)) >= 0)
		return FILE_SEGMENT;
	if (strncmp(rest, ".partial", 8) == 0 &&
	    (*comp = comp_of_suffix(rest + 8)) >= 0) {
		*partial = true;
		return FILE_SEGMENT;
	}
	/* pg_receivewal --compress: NAME.gz.partial, NAME.lz4.partial */
	if (len > 8 && strcmp(rest + len - 8, ".partial") == 0) {
		char head[16];

		snprintf(head, sizeof(head), "%.*s", (int)(len - 8), rest);
		if ((*comp = comp_of_suffix(head)) > 0) {
			*partial = true;
			return FILE_SEGMENT;
		}
	}
	return FILE_OTHER;
}

/*
 * Classify NAME. A segment fills RAW (RAW->unreadable for a segment's name
 * with another suffix), a history file *TLI, a backup history file BASE
 * (its name without a compression suffix).
 */
static enum file_kind classify(const char *name, struct raw_segment *raw,
			       uint32_t *tli, char *base, size_t base_size)
{
	size_t len = strlen(name), base_len = 0;
	int comp;
	bool partial;
	enum file_kind kind;

	memset(raw, 0, sizeof(*raw));
	if (len >= 16 && is_hex_upper(name, 8) &&
	    strncmp(name + 8, ".history", 8) == 0 &&
	    (comp = comp_of_suffix(name + 16)) >= 0) {
		*tli = (uint32_t)strtoul(name, NULL, 16);
		raw->seg.comp = (uint8_t)comp;
		return FILE_HISTORY;
	}
	if (len < 24 || !is_hex_upper(name, 24) || len >= sizeof(raw->seg.name))
		return FILE_OTHER;
	kind = classify_rest(name + 24, &comp, &partial, &base_len);
	raw->seg.comp = (uint8_t)(comp > 0 ? comp : 0);
	if (kind == FILE_BACKUP) {
		snprintf(base, base_size, "%.*s", (int)base_len, name);
		return FILE_BACKUP;
	}
	if (kind == FILE_OTHER) {
		/* NAME.br, NAME.lzma...: a segment in a form not read here. */
		if (name[24] != '.' || strchr(name + 25, '.') != NULL)
			return FILE_OTHER;
		raw->unreadable = true;
	} else {
		raw->seg.comp = (uint8_t)comp;
		raw->seg.partial = partial;
	}
	snprintf(raw->seg.name, sizeof(raw->seg.name), "%s", name);
	char part[9] = "";
	memcpy(part, name, 8);
	raw->seg.tli = (uint32_t)strtoul(part, NULL, 16);
	memcpy(part, name + 8, 8);
	raw->log = (uint32_t)strtoul(part, NULL, 16);
	memcpy(part, name + 16, 8);
	raw->seg_in_log = (uint32_t)strtoul(part, NULL, 16);
	return FILE_SEGMENT;
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
	return x->comp - y->comp; /* restore_command's order: plain first */
}

/* Why reading a file failed, for the message the caller words. */
struct read_failure {
	int err;       /* errno of open() or read(), else 0 */
	char why[256]; /* otherwise: libarchive's or our words */
	bool cut;      /* the stream ended before its end marker */
};

/*
 * inflate_file() for gzip, through zlib's inflate(): libarchive's gzip
 * reader checks neither the CRC nor the length in the trailer, gzread()
 * takes a cut trailer for the end. Members one after the other (gzip's
 * concatenation) are one stream.
 */
static int inflate_gzip(int fd, unsigned char *buf, size_t cap, bool whole,
			size_t *len, bool *more, struct read_failure *f)
{
	unsigned char in[1 << 16], extra[4096];
	z_stream z = { 0 };
	ssize_t got = 0;
	int ret = Z_OK;

	if (inflateInit2(&z, 15 + 16) != Z_OK)
		dbops_xalloc_failed();
	for (;;) {
		if (z.avail_in == 0) {
			got = read(fd, in, sizeof(in));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				break;
			z.next_in = in;
			z.avail_in = (uInt)got;
		}
		if (ret == Z_STREAM_END) /* another member follows */
			inflateReset(&z);
		z.next_out = *len < cap ? buf + *len : extra;
		z.avail_out =
			*len < cap ? (uInt)(cap - *len < 1u << 30 ? cap - *len
								  : 1u << 30)
				   : sizeof(extra);
		ret = inflate(&z, Z_NO_FLUSH);
		if (*len < cap)
			*len = (size_t)(z.next_out - buf);
		else
			*more = *more || z.avail_out < sizeof(extra);
		if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR)
			break;
		if (!whole && *len == cap)
			break;
	}
	if (got < 0)
		f->err = errno;
	else if (*len == 0 && ret == Z_OK && z.total_in == 0)
		snprintf(f->why, sizeof(f->why), "the file is empty");
	else if (ret == Z_OK || ret == Z_BUF_ERROR)
		f->cut = true; /* the input ended inside a member */
	if ((ret == Z_STREAM_END || (!whole && *len == cap)) && got >= 0) {
		inflateEnd(&z);
		return 0;
	}
	if (!f->err && f->why[0] == '\0')
		snprintf(f->why, sizeof(f->why), "damaged gzip data: %s",
			 f->cut	 ? "unexpected end of file"
			 : z.msg ? z.msg
				 : "not gzip data");
	inflateEnd(&z);
	return -1;
}

/*
 * Read PATH, a file of compression COMP, into BUF (CAP bytes at most)
 * through libarchive's raw format on a close-on-exec descriptor. *LEN gets
 * the bytes stored, *MORE whether there was more than CAP. With WHOLE, the
 * stream is read to its end marker. Returns 0, or -1 with F filled.
 */
static int inflate_file(const char *path, int comp, unsigned char *buf,
			size_t cap, bool whole, size_t *len, bool *more,
			struct read_failure *f)
{
	struct archive *a;
	struct archive_entry *e;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;
	const void *block;
	size_t n;
	la_int64_t off;

	memset(f, 0, sizeof(*f));
	*len = 0;
	*more = false;
	if (fd < 0) {
		f->err = errno;
		return -1;
	}
	if (comp == PITR_COMP_GZIP) {
		r = inflate_gzip(fd, buf, cap, whole, len, more, f);
		close(fd);
		return r;
	}
	a = archive_read_new();
	if (a == NULL)
		dbops_xalloc_failed();
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	r = archive_read_open_fd(a, fd, 1 << 17);
	if (r == ARCHIVE_OK)
		r = archive_read_next_header(a, &e);
	if (r == ARCHIVE_OK &&
	    archive_filter_code(a, 0) != comps[comp].filter) {
		snprintf(f->why, sizeof(f->why),
			 "it holds %s data, not the %s data its name says",
			 archive_filter_code(a, 0) == ARCHIVE_FILTER_NONE
				 ? "uncompressed"
				 : archive_filter_name(a, 0),
			 comps[comp].what);
		goto fail;
	}
	/* Blocks, not archive_read_data(), which forgets what it copied
	 * before an error: how far a cut file inflates is worth saying. */
	while (r == ARCHIVE_OK &&
	       (r = archive_read_data_block(a, &block, &n, &off)) ==
		       ARCHIVE_OK) {
		size_t take = n < cap - *len ? n : cap - *len;

		memcpy(buf + *len, block, take);
		*len += take;
		*more = *more || take < n;
		if (*len == cap && !whole)
			break;
	}
	if (r == ARCHIVE_OK || r == ARCHIVE_EOF) {
		archive_read_free(a);
		close(fd);
		return 0;
	}
	const char *m = archive_error_string(a);
	if (r == ARCHIVE_EOF || m == NULL)
		m = *len == 0 && r != ARCHIVE_FATAL ? "the file is empty"
						    : "truncated stream";
	/* libarchive's readers say "truncated" for a cut stream, its gzip
	 * reader nothing at all, its xz reader "no progress" */
	f->cut = strstr(m, "runcated") != NULL ||
		 strstr(m, "No progress") != NULL ||
		 strstr(m, "premature") != NULL;
	snprintf(f->why, sizeof(f->why), "damaged %s data: %s",
		 comps[comp].what, m);
fail:
	archive_read_free(a);
	close(fd);
	return -1;
}

/* Read the first COUNT bytes of a segment file. */
static int read_head(const struct wal_archive *arc,
		     const struct archive_segment *seg, unsigned char *buf,
		     size_t count, struct read_failure *f)
{
	char path[8192];
	size_t len;
	bool more;

	path_of(arc, seg->name, path, sizeof(path));
	if (inflate_file(path, seg->comp, buf, count, false, &len, &more, f) !=
	    0)
		return -1;
	if (len != count) {
		snprintf(f->why, sizeof(f->why), "file too short");
		return -1;
	}
	return 0;
}

static const char *failure_text(const struct read_failure *f)
{
	return f->err ? strerror(f->err) : f->why;
}

/* The segment size in the long header of the first readable segment. */
static int learn_seg_size(struct wal_archive *arc, struct raw_segment *raws,
			  size_t n)
{
	unsigned char head[WAL_LONG_HEADER];
	uint32_t size;
	uint16_t info;
	char path[8192];
	struct read_failure f = { 0 };
	const char *first = NULL;

	for (size_t i = 0; i < n; i++) {
		if (raws[i].unreadable)
			continue;
		path_of(arc, raws[i].seg.name, path, sizeof(path));
		if (read_head(arc, &raws[i].seg, head, sizeof(head), &f) != 0) {
			/* An empty or unreadable leftover: try the others. */
			dbops_log_debug(
				"could not read the first WAL page of \"%s\": %s",
				path, failure_text(&f));
			if (first == NULL)
				first = raws[i].seg.name;
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
	dbops_log_error(
		"\"%s\": no segment in the archive has a readable first WAL page (%s, for one, %s)",
		arc->dir, first ? first : "?", failure_text(&f));
	return -1;
}

static void add_backup(struct wal_archive *arc, size_t *cap, const char *base)
{
	struct archive_backup_file bk;

	for (size_t i = 0; i < arc->nbackups; i++)
		if (strcmp(arc->backups[i].name, base) == 0)
			return; /* another form of the same file */
	memset(&bk, 0, sizeof(bk));
	snprintf(bk.name, sizeof(bk.name), "%.63s", base);
	add_item((void **)&arc->backups, &arc->nbackups, cap, sizeof(bk), &bk);
}

static int list_dir(struct wal_archive *arc, DIR *d, struct raw_segment **raws,
		    size_t *nraw, struct ignored_list *ign)
{
	size_t cap_raw = 0, cap_hist = 0, cap_bk = 0;
	struct dirent *de;

	while ((errno = 0, de = readdir(d)) != NULL) {
		struct raw_segment raw;
		char base[64];
		uint32_t tli;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		enum file_kind kind =
			classify(de->d_name, &raw, &tli, base, sizeof(base));

		switch (kind) {
		case FILE_SEGMENT:
			add_item((void **)raws, nraw, &cap_raw, sizeof(raw),
				 &raw);
			break;
		case FILE_HISTORY:
			if (!pitr_walarc_has_history(arc, tli))
				add_item((void **)&arc->history_tlis,
					 &arc->nhistories, &cap_hist,
					 sizeof(tli), &tli);
			break;
		case FILE_BACKUP:
			add_backup(arc, &cap_bk, base);
			break;
		case FILE_OTHER:
			arc->nignored++;
			note_ignored(ign, de->d_name, false);
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

/* Name the files of the archive that are none of its kinds: each on a line
 * of its own, or, when many, their count and the first few. */
static void warn_ignored(const struct wal_archive *arc,
			 const struct ignored_list *l)
{
	if (l->n > IGNORED_NAMED) {
		dbops_log_warning(
			"\"%s\": %zu files are not WAL segments, timeline history files, backup history files or .partial segments; ignored: \"%s\", \"%s\", \"%s\", ...",
			arc->dir, l->n, l->names[0], l->names[1], l->names[2]);
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (l->seglike[i])
			dbops_log_warning(
				"\"%s/%s\": named like a WAL segment, but \"%s\" is not a compression pitr-replay reads (.gz, .zst, .lz4, .xz, .bz2); ignored",
				arc->dir, l->names[i],
				strchr(l->names[i] + 24, '.'));
		else
			dbops_log_warning(
				"\"%s/%s\": not a WAL segment, timeline history file, backup history file or .partial segment; ignored",
				arc->dir, l->names[i]);
	}
}

/* Sort RAWS into segs, others (second forms) and unreadable, now that the
 * segment size is known; names of another size go to the ignored. */
static void place_segments(struct wal_archive *arc, struct raw_segment *raws,
			   size_t nraw, struct ignored_list *ign)
{
	uint64_t per_log = 0x100000000ULL / arc->seg_size;
	size_t nall = 0, cap_un = 0, cap_oth = 0;

	arc->segs = dbops_xcalloc(nraw, sizeof(*arc->segs));
	for (size_t i = 0; i < nraw; i++) {
		struct archive_segment seg = raws[i].seg;

		if (raws[i].seg_in_log >= per_log) {
			/* not a segment of this size */
			arc->nignored++;
			note_ignored(ign, seg.name, false);
			continue;
		}
		seg.segno = raws[i].log * per_log + raws[i].seg_in_log;
		if (raws[i].unreadable) {
			arc->nignored++;
			note_ignored(ign, seg.name, true);
			add_item((void **)&arc->unreadable, &arc->nunreadable,
				 &cap_un, sizeof(seg), &seg);
			continue;
		}
		arc->segs[nall++] = seg;
	}
	qsort(arc->segs, nall, sizeof(*arc->segs), compare_segments);
	for (size_t i = 0; i < nall; i++) {
		struct archive_segment *kept =
			arc->nsegs ? &arc->segs[arc->nsegs - 1] : NULL;

		if (kept && kept->tli == arc->segs[i].tli &&
		    kept->segno == arc->segs[i].segno &&
		    kept->partial == arc->segs[i].partial) {
			kept->has_other_forms = true;
			add_item((void **)&arc->others, &arc->nothers, &cap_oth,
				 sizeof(arc->segs[i]), &arc->segs[i]);
			continue;
		}
		arc->segs[arc->nsegs++] = arc->segs[i];
	}
}

/* List DIR into ARC (0), or -1 after an error. */
static int list_archive(const char *dir, struct wal_archive *arc,
			struct raw_segment **raws, size_t *nraw,
			struct ignored_list *ign)
{
	DIR *d = opendir(dir);

	if (d == NULL) {
		dbops_log_error("could not open the WAL archive \"%s\": %s",
				dir, strerror(errno));
		return -1;
	}
	if (list_dir(arc, d, raws, nraw, ign) != 0) {
		dbops_log_error("could not list the WAL archive \"%s\": %s",
				dir, strerror(errno));
		closedir(d);
		return -1;
	}
	closedir(d);
	for (size_t i = 0; i < *nraw; i++)
		if (!(*raws)[i].unreadable)
			return 0;
	dbops_log_error(
		"\"%s\": no WAL segment files in the archive (names of 24 hex digits, plain or compressed: .gz, .zst, .lz4, .xz, .bz2)",
		dir);
	return -1;
}

int pitr_walarc_open(const char *dir, struct wal_archive *arc)
{
	struct raw_segment *raws = NULL;
	struct ignored_list ign = { 0 };
	size_t nraw = 0;

	memset(arc, 0, sizeof(*arc));
	if (strlen(dir) >= sizeof(arc->dir) - 128) {
		dbops_log_error("archive path too long: \"%.60s...\"", dir);
		return -1;
	}
	/* Absolute: the server runs restore_command in its data directory. */
	if (realpath(dir, arc->dir) == NULL)
		snprintf(arc->dir, sizeof(arc->dir), "%s", dir);
	if (list_archive(dir, arc, &raws, &nraw, &ign) != 0 ||
	    learn_seg_size(arc, raws, nraw) != 0) {
		free(raws);
		pitr_walarc_close(arc);
		return -1;
	}
	place_segments(arc, raws, nraw, &ign);
	free(raws);
	warn_ignored(arc, &ign);
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

int pitr_walarc_open_memory(struct wal_archive *arc, uint32_t seg_size,
			    const struct pitr_walarc_mem *segs, size_t n)
{
	memset(arc, 0, sizeof(*arc));
	if (!pitr_wal_valid_seg_size(seg_size)) {
		dbops_log_error(
			"%u bytes is not a WAL segment size (a power of two, 1 MB to 1 GB)",
			seg_size);
		return -1;
	}
	snprintf(arc->dir, sizeof(arc->dir), "(memory)");
	arc->seg_size = seg_size;
	arc->in_memory = true;
	arc->segs = dbops_xcalloc(n ? n : 1, sizeof(*arc->segs));
	for (size_t i = 0; i < n; i++) {
		struct archive_segment *s = &arc->segs[i];

		s->tli = segs[i].tli;
		s->segno = segs[i].segno;
		s->partial = segs[i].partial;
		s->mem = segs[i].data;
		pitr_wal_segment_name(s->tli, s->segno, seg_size, s->name);
		if (s->partial)
			strcat(s->name, ".partial");
	}
	qsort(arc->segs, n, sizeof(*arc->segs), compare_segments);
	/* One copy of each (tli, segno, partial): the first of equal ones. */
	for (size_t i = 0; i < n; i++) {
		struct archive_segment *kept =
			arc->nsegs ? &arc->segs[arc->nsegs - 1] : NULL;

		if (kept && kept->tli == arc->segs[i].tli &&
		    kept->segno == arc->segs[i].segno &&
		    kept->partial == arc->segs[i].partial)
			continue;
		arc->segs[arc->nsegs++] = arc->segs[i];
	}
	return 0;
}

void pitr_walarc_close(struct wal_archive *arc)
{
	free(arc->segs);
	free(arc->others);
	free(arc->unreadable);
	free(arc->history_tlis);
	free(arc->backups);
	arc->segs = arc->others = arc->unreadable = NULL;
	arc->history_tlis = NULL;
	arc->backups = NULL;
	arc->nsegs = arc->nothers = arc->nunreadable = 0;
	arc->nhistories = arc->nbackups = 0;
}

/* The first entry of SEGS (N of them, sorted) at or after (TLI, SEGNO). */
static size_t lower_bound(const struct archive_segment *segs, size_t n,
			  uint32_t tli, uint64_t segno)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct archive_segment *s = &segs[mid];

		if (s->tli < tli || (s->tli == tli && s->segno < segno))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct archive_segment *pitr_walarc_find(const struct wal_archive *arc,
					       uint32_t tli, uint64_t segno)
{
	size_t i = lower_bound(arc->segs, arc->nsegs, tli, segno);

	if (i < arc->nsegs && arc->segs[i].tli == tli &&
	    arc->segs[i].segno == segno && !arc->segs[i].partial)
		return &arc->segs[i];
	return NULL;
}

const struct archive_segment *
pitr_walarc_find_any(const struct wal_archive *arc, uint32_t tli,
		     uint64_t segno)
{
	size_t i = lower_bound(arc->segs, arc->nsegs, tli, segno);

	/* sorted: the complete one before the partial one */
	if (i < arc->nsegs && arc->segs[i].tli == tli &&
	    arc->segs[i].segno == segno)
		return &arc->segs[i];
	return NULL;
}

const struct archive_segment *
pitr_walarc_find_unreadable(const struct wal_archive *arc, uint32_t tli,
			    uint64_t segno)
{
	for (size_t i = 0; i < arc->nunreadable; i++)
		if (arc->unreadable[i].tli == tli &&
		    arc->unreadable[i].segno == segno)
			return &arc->unreadable[i];
	return NULL;
}

/* A plain segment file: exactly SIZE bytes, or up to SIZE when PARTIAL. */
static int read_plain(const char *path, unsigned char *buf, uint32_t size,
		      bool partial)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t done = 0, want = size;

	if (fd < 0) {
		dbops_log_error("could not open \"%s\": %s", path,
				strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && st.st_size != (off_t)size &&
	    !(partial && st.st_size < (off_t)size)) {
		dbops_log_error(
			"\"%s\": WAL segment is %lld bytes, expected %u", path,
			(long long)st.st_size, size);
		close(fd);
		return -1;
	}
	if (partial)
		want = (size_t)st.st_size;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while (done < want) {
		ssize_t got = read(fd, buf + done, want - done);

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
	memset(buf + done, 0, size - done);
	return 0;
}

/* A plain complete segment file, mapped: *DATA, or NULL to read it
 * instead (mmap refused). -1 after the messages read_plain() gives. */
static int map_plain(const char *path, uint32_t size,
		     const unsigned char **data, bool quiet)
{
	struct stat st;
	void *m;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*data = NULL;
	if (fd < 0) {
		if (!quiet)
			dbops_log_error("could not open \"%s\": %s", path,
					strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		close(fd);
		return 0; /* read() says what is wrong */
	}
	if (st.st_size != (off_t)size) {
		if (!quiet)
			dbops_log_error(
				"\"%s\": WAL segment is %lld bytes, expected %u",
				path, (long long)st.st_size, size);
		close(fd);
		return -1;
	}
	m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m != MAP_FAILED)
		*data = m;
	return 0;
}

/*
 * A compressed segment file: SIZE bytes. A partial one may be shorter and
 * its stream unfinished (pg_receivewal writes it as WAL comes): what it
 * holds is used, the WAL's own CRCs check it.
 */
static int read_compressed(const char *path, int comp, unsigned char *buf,
			   uint32_t size, bool partial)
{
	struct read_failure f;
	size_t len;
	bool more;
	int rc = inflate_file(path, comp, buf, size, true, &len, &more, &f);

	if (rc != 0 && partial && !f.err && len > 0) {
		dbops_log_debug("\"%s\": %s; the %zu bytes before are used",
				path, f.why, len);
		rc = 0;
	}
	if (rc != 0 && f.err) {
		dbops_log_error("could not open \"%s\": %s", path,
				strerror(f.err));
	} else if (rc != 0 && f.cut && len < size) {
		dbops_log_error(
			"\"%s\": WAL segment inflates to %zu bytes, expected %u (a truncated %s file?)",
			path, len, size, comps[comp].suffix);
	} else if (rc != 0) {
		dbops_log_error("\"%s\": %s", path, f.why);
	} else if (more) {
		dbops_log_error(
			"\"%s\": WAL segment inflates to more than %u bytes",
			path, size);
		rc = -1;
	} else if (len != size && !partial) {
		dbops_log_error(
			"\"%s\": WAL segment inflates to %zu bytes, expected %u (a truncated %s file?)",
			path, len, size, comps[comp].suffix);
		rc = -1;
	} else {
		memset(buf + len, 0, size - len);
	}
	return rc;
}

static int read_one_form(const struct wal_archive *arc,
			 const struct archive_segment *seg, unsigned char *buf)
{
	char path[8192];

	path_of(arc, seg->name, path, sizeof(path));
	return seg->comp == PITR_COMP_NONE
		       ? read_plain(path, buf, arc->seg_size, seg->partial)
		       : read_compressed(path, seg->comp, buf, arc->seg_size,
					 seg->partial);
}

/* SEG's other forms, read and held against BUF (SEG's content). */
static int compare_other_forms(const struct wal_archive *arc,
			       const struct archive_segment *seg,
			       const unsigned char *buf)
{
	unsigned char *other = dbops_xmalloc(arc->seg_size);
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < arc->nothers; i++) {
		const struct archive_segment *o = &arc->others[i];

		if (o->tli != seg->tli || o->segno != seg->segno ||
		    o->partial != seg->partial)
			continue;
		if (read_one_form(arc, o, other) != 0) {
			rc = -1;
		} else if (memcmp(buf, other, arc->seg_size) != 0) {
			dbops_log_error(
				"\"%s/%s\" and \"%s\" are two copies of one WAL segment that differ",
				arc->dir, seg->name, o->name);
			dbops_log_hint(
				"recovery would read the first; remove the wrong copy from the archive");
			rc = -1;
		}
	}
	free(other);
	return rc;
}

int pitr_walarc_map_segment(const struct wal_archive *arc,
			    const struct archive_segment *seg,
			    const unsigned char **data, bool quiet)
{
	char path[8192];

	*data = NULL;
	if (seg->mem) {
		*data = seg->mem;
		return 0;
	}
	if (seg->in_backup || seg->partial || seg->has_other_forms ||
	    seg->comp != PITR_COMP_NONE)
		return 0;
	path_of(arc, seg->name, path, sizeof(path));
	return map_plain(path, arc->seg_size, data, quiet);
}

void pitr_walarc_unmap_segment(const struct wal_archive *arc,
			       const unsigned char *data)
{
	if (data && !arc->in_memory)
		munmap((void *)(uintptr_t)data, arc->seg_size);
}

int pitr_walarc_read_segment(const struct wal_archive *arc,
			     const struct archive_segment *seg,
			     unsigned char *buf)
{
	if (seg->mem) {
		memcpy(buf, seg->mem, arc->seg_size);
		return 0;
	}
	if (seg->in_backup)
		return arc->read_backup(arc, seg, buf);
	if (read_one_form(arc, seg, buf) != 0)
		return -1;
	return seg->has_other_forms ? compare_other_forms(arc, seg, buf) : 0;
}

/* Read the text file PATH of compression COMP into a new *TEXT. Returns 0,
 * 1 when there is no such file, -1 after an error. */
static int read_text_form(const char *path, int comp, char **text)
{
	struct read_failure f;
	char *buf = dbops_xmalloc(TEXT_MAX);
	size_t len;
	bool more;

	if (inflate_file(path, comp, (unsigned char *)buf, TEXT_MAX - 1, true,
			 &len, &more, &f) != 0) {
		free(buf);
		if (f.err == ENOENT)
			return 1;
		if (f.err)
			dbops_log_error("could not open \"%s\": %s", path,
					strerror(f.err));
		else
			dbops_log_error("could not read \"%s\": %s", path,
					f.why);
		return -1;
	}
	if (more) {
		free(buf);
		dbops_log_error("could not read \"%s\": larger than %d bytes",
				path, TEXT_MAX - 1);
		return -1;
	}
	buf[len] = '\0';
	*text = buf;
	return 0;
}

int pitr_walarc_read_text(const struct wal_archive *arc, const char *name,
			  char **text)
{
	char path[8192], first[8192];
	char *found = NULL;

	if (arc->in_memory)
		return 1; /* segments only */
	for (int c = 0; c < PITR_NCOMP; c++) {
		char *t;
		int rc;

		snprintf(path, sizeof(path), "%s/%s%s", arc->dir, name,
			 comps[c].suffix);
		rc = read_text_form(path, c, &t);
		if (rc == 1)
			continue;
		if (rc != 0) {
			free(found);
			return -1;
		}
		if (found == NULL) {
			found = t;
			snprintf(first, sizeof(first), "%s", path);
			continue;
		}
		rc = strcmp(found, t);
		free(t);
		if (rc != 0) {
			dbops_log_error(
				"\"%s\" and \"%s\" are two copies of one file that differ",
				first, path);
			dbops_log_hint(
				"recovery would read the first; remove the wrong copy from the archive");
			free(found);
			return -1;
		}
	}
	if (found == NULL)
		return 1;
	*text = found;
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
