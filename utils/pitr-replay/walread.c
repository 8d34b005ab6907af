/*
 * walread.c - the WAL record reader: pages, records across pages and
 * segments, CRC-32C, fragment headers. The checks and their order follow
 * PostgreSQL's xlogreader.c (XLogReaderValidatePageHeader,
 * XLogDecodeNextRecord, ValidXLogRecord, DecodeXLogRecord).
 *
 * Where PostgreSQL's reader takes a failed check for the end of the WAL
 * (zeros where a record or page header should be, a page with another
 * address), we take it for the end only when nothing of the WAL follows:
 * no later segment on the path, and from the end of the last good record
 * to the end of its segment only zeros, or the older pages of a recycled
 * segment (each a whole number of segments back, the same number). That is
 * what a segment the server stopped writing in holds. Anything else after
 * it, or a record begun and not continued, is damage (end_or_damage()).
 */
#include "walread.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "log.h"

#define MAX_RECORD_SIZE (1020u * 1024 * 1024) /* XLogRecordMaxSize */

/* Where LSN is in its segment: arc->seg_size is a power of two
 * (pitr_walarc_open() checks), and a division costs ~40 cycles a record. */
static inline uint32_t in_segment(const struct wal_reader *r, lsn_t lsn)
{
	return (uint32_t)(lsn & (r->arc->seg_size - 1));
}

static inline uint64_t segment_of(const struct wal_reader *r, lsn_t lsn)
{
	return lsn >> __builtin_ctz(r->arc->seg_size);
}

struct page_header {
	uint16_t magic;
	uint16_t info;
	uint32_t tli;
	uint64_t pageaddr;
	uint32_t rem_len;
	uint32_t size; /* 24 or 40 */
};

int pitr_wal_reader_init(struct wal_reader *r, const struct wal_archive *arc,
			 const struct tl_history *hist, int major,
			 uint64_t sysid)
{
	memset(r, 0, sizeof(*r));
	r->arc = arc;
	r->hist = hist;
	r->major = major;
	r->magic = major ? pitr_wal_magic_for_major(major) : 0;
	r->sysid = sysid;
	r->segno = UINT64_MAX;
	r->checked_page = LSN_INFINITE;
	return 0;
}

static void drop_segment(struct wal_reader *r)
{
	if (r->mapped)
		pitr_walarc_unmap_segment(r->arc, r->seg);
	r->mapped = false;
	r->seg = NULL;
	r->segno = UINT64_MAX;
}

void pitr_wal_reader_free(struct wal_reader *r)
{
	drop_segment(r);
	free(r->buf);
	free(r->rec);
	r->buf = NULL;
	r->rec = NULL;
}

const char *pitr_wal_stop_name(enum wal_stop stop)
{
	switch (stop) {
	case WAL_STOP_NONE:
		return "none";
	case WAL_STOP_END:
		return "end of WAL";
	case WAL_STOP_GAP:
		return "missing segment";
	case WAL_STOP_CORRUPT:
		return "corrupt WAL";
	case WAL_STOP_FOREIGN:
		return "foreign WAL";
	case WAL_STOP_IO:
		return "read error";
	}
	return "?";
}

static int __attribute__((format(printf, 4, 5)))
stop(struct wal_reader *r, enum wal_stop why, lsn_t lsn, const char *fmt, ...)
{
	va_list ap;

	r->stop = why;
	r->stop_lsn = lsn;
	/* The file concerned is the one being read; load_segment() names a
	 * missing one itself. Set only here: messages are built on errors only. */
	if (r->segno != UINT64_MAX && r->segfile)
		snprintf(r->stop_file, sizeof(r->stop_file), "%s",
			 r->segfile->name);
	va_start(ap, fmt);
	dbops_err_setv(&r->error, fmt, ap);
	va_end(ap);
	return -1;
}

/* Whether the path has a segment after SEGNO in the archive (a .partial
 * one too: a segment before it must be complete). */
static bool later_segment_exists(const struct wal_reader *r, uint64_t segno)
{
	for (size_t i = 0; i < r->arc->nsegs; i++) {
		const struct archive_segment *s = &r->arc->segs[i];

		if (s->segno > segno &&
		    pitr_timeline_file_tli(r->hist, s->segno,
					   r->arc->seg_size) == s->tli)
			return true;
	}
	return false;
}

/* Whether N bytes at P are zeros: compared a page at a time with zeros
 * (memcmp, vectorised), as the rest of a segment is checked at every end
 * of the WAL. */
static bool all_zero(const unsigned char *p, size_t n)
{
	static const unsigned char zeros[WAL_PAGE_SIZE];

	for (; n >= sizeof(zeros); p += sizeof(zeros), n -= sizeof(zeros))
		if (memcmp(p, zeros, sizeof(zeros)) != 0)
			return false;
	return n == 0 || memcmp(p, zeros, n) == 0;
}

/* Where the data of a .partial segment ends: after its last byte not zero
 * (pg_receivewal fills the rest with zeros). */
static uint32_t data_end_of(const unsigned char *seg, uint32_t size)
{
	while (size >= WAL_PAGE_SIZE &&
	       all_zero(seg + size - WAL_PAGE_SIZE, WAL_PAGE_SIZE))
		size -= WAL_PAGE_SIZE;
	while (size > 0 && seg[size - 1] == 0)
		size--;
	return size;
}

/* The name of the file segment SEGNO is read from on this path. */
static void expected_name(const struct wal_reader *r, uint64_t segno, char *buf)
{
	pitr_wal_segment_name(
		pitr_timeline_file_tli(r->hist, segno, r->arc->seg_size), segno,
		r->arc->seg_size, buf);
}

/* Put segment S into r->seg: mapped when it can be, else read into
 * r->buf. 0, or -1 after an error message. */
static int fill_segment(struct wal_reader *r, const struct archive_segment *s)
{
	const unsigned char *map;

	if (r->quiet) {
		if (pitr_walarc_map_segment(r->arc, s, &map, true) != 0 ||
		    map == NULL) {
			r->quiet_failed = true;
			return -1;
		}
		r->seg = map;
		r->mapped = true;
		return 0;
	}
	if (pitr_walarc_map_segment(r->arc, s, &map, false) != 0)
		return -1;
	if (map) {
		r->seg = map;
		r->mapped = true;
		return 0;
	}
	if (r->buf == NULL) {
		r->buf = malloc(r->arc->seg_size);
		if (r->buf == NULL) {
			dbops_log_error(
				"out of memory for a %u-byte WAL segment",
				r->arc->seg_size);
			return -1;
		}
	}
	if (pitr_walarc_read_segment(r->arc, s, r->buf) != 0)
		return -1;
	r->seg = r->buf;
	return 0;
}

/* Load segment SEGNO; -1 with r->stop set when it is missing or unreadable. */
static int load_segment(struct wal_reader *r, uint64_t segno, lsn_t need_lsn)
{
	uint32_t tli;
	const struct archive_segment *s;
	char name[25], lsn[LSN_TEXT];

	if (r->segno == segno)
		return 0;
	tli = pitr_timeline_file_tli(r->hist, segno, r->arc->seg_size);
	s = pitr_walarc_find_any(r->arc, tli, segno);
	expected_name(r, segno, name);
	if (s == NULL) {
		const struct archive_segment *u =
			pitr_walarc_find_unreadable(r->arc, tli, segno);

		if (u)
			stop(r, WAL_STOP_GAP, need_lsn,
			     "WAL segment %s (needed from LSN %s) is in the archive only in this form, which pitr-replay cannot read (it reads .gz, .zst, .lz4, .xz and .bz2), nor can restore_command",
			     name, pitr_lsn_format(need_lsn, lsn));
		else if (later_segment_exists(r, segno))
			stop(r, WAL_STOP_GAP, need_lsn,
			     "WAL segment %s is missing from the archive (needed from LSN %s; later segments exist)",
			     name, pitr_lsn_format(need_lsn, lsn));
		else
			stop(r, WAL_STOP_END, need_lsn,
			     "the archive ends before segment %s (LSN %s)",
			     name, pitr_lsn_format(need_lsn, lsn));
		snprintf(r->stop_file, sizeof(r->stop_file), "%s",
			 u ? u->name : name);
		return -1;
	}
	drop_segment(r);
	if (fill_segment(r, s) != 0) {
		stop(r, WAL_STOP_IO, need_lsn, "could not read %s", s->name);
		snprintf(r->stop_file, sizeof(r->stop_file), "%s", s->name);
		return -1;
	}
	r->segno = segno;
	r->segfile = s;
	r->data_end = s->partial ? data_end_of(r->seg, r->arc->seg_size)
				 : r->arc->seg_size;
	if (s->partial && r->partial_file[0] == '\0') {
		snprintf(r->partial_file, sizeof(r->partial_file), "%s",
			 s->name);
		r->partial_lsn = segno * r->arc->seg_size;
	}
	r->segments_read++;
	r->bytes_read += r->arc->seg_size;
	if (r->on_segment)
		r->on_segment(r->on_segment_arg, segno);
	return 0;
}

/*
 * The first place at or after FROM in the loaded segment that holds WAL:
 * a byte not zero on FROM's page, or a later page neither all zeros nor a
 * recycled segment's old page. LSN_INFINITE when there is none; FROM when
 * it is in an earlier segment (a record begun there goes on here).
 */
static lsn_t live_wal_after(const struct wal_reader *r, lsn_t from)
{
	uint32_t seg_size = r->arc->seg_size;
	lsn_t seg_start = r->segno * seg_size;
	lsn_t page = from - from % WAL_PAGE_SIZE;
	uint64_t back = 0; /* how far back a recycled page's address is */

	if (r->segno == UINT64_MAX || lsn_segno(from, seg_size) != r->segno)
		return from;
	if (from != page) {
		const unsigned char *p = r->seg + (from - seg_start);

		for (size_t i = 0; i < page + WAL_PAGE_SIZE - from; i++)
			if (p[i] != 0)
				return from + i;
		page += WAL_PAGE_SIZE;
	}
	for (; page < seg_start + seg_size; page += WAL_PAGE_SIZE) {
		const unsigned char *p = r->seg + (page - seg_start);
		uint16_t magic;
		uint64_t addr;

		if (all_zero(p, WAL_PAGE_SIZE))
			continue;
		memcpy(&magic, p, 2);
		memcpy(&addr, p + 8, 8);
		if (magic == r->magic && addr < page &&
		    (page - addr) % seg_size == 0 &&
		    (back == 0 || page - addr == back)) {
			back = page - addr;
			continue;
		}
		return page;
	}
	return LSN_INFINITE;
}

/*
 * A check at LSN failed where the WAL may simply end (design note above):
 * stop there for the end of the WAL, or for damage when WAL follows. FMT
 * says what was found.
 */
static int __attribute__((format(printf, 3, 4)))
end_or_damage(struct wal_reader *r, lsn_t lsn, const char *fmt, ...)
{
	char what[DBOPS_ERR_MAX], at[LSN_TEXT];
	lsn_t live;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* gather() says which record goes on here. */
	if (later_segment_exists(r, r->segno) || r->in_record)
		return stop(r, WAL_STOP_CORRUPT, lsn, "%s", what);
	live = live_wal_after(r, lsn < r->pos ? lsn : r->pos);
	if (live == LSN_INFINITE)
		return stop(r, WAL_STOP_END, lsn, "%s", what);
	if (live <= lsn)
		return stop(r, WAL_STOP_CORRUPT, lsn,
			    "%s: a damaged page, not the end of the WAL", what);
	return stop(
		r, WAL_STOP_CORRUPT, lsn,
		"%s, and WAL follows at %s in the same segment: damage, not the end of the WAL",
		what, pitr_lsn_format(live, at));
}

/* Check the header of the page at PAGE_LSN (its segment loaded). */
static int check_page(struct wal_reader *r, lsn_t page_lsn,
		      struct page_header *h)
{
	const unsigned char *p = r->seg + in_segment(r, page_lsn);
	uint32_t offset = in_segment(r, page_lsn);
	char lsn[LSN_TEXT], addr[LSN_TEXT];

	memcpy(&h->magic, p, 2);
	memcpy(&h->info, p + 2, 2);
	memcpy(&h->tli, p + 4, 4);
	memcpy(&h->pageaddr, p + 8, 8);
	memcpy(&h->rem_len, p + 16, 4);
	h->size = (h->info & XLP_LONG_HEADER) ? WAL_LONG_HEADER
					      : WAL_SHORT_HEADER;
	/* The common case, every check below passed, without the text. */
	if (h->magic == r->magic && r->magic != 0 &&
	    !(h->info & ~XLP_ALL_FLAGS) && offset != 0 &&
	    h->pageaddr == page_lsn && h->tli >= r->last_page_tli)
		goto good;
	pitr_lsn_format(page_lsn, lsn);

	if (h->magic == 0 && all_zero(p, WAL_SHORT_HEADER))
		return end_or_damage(
			r, page_lsn,
			"page at LSN %s (offset %u) is all zeros, where WAL was expected",
			lsn, offset);
	if (r->magic == 0 && pitr_wal_major_for_magic(h->magic) != 0) {
		r->magic = h->magic;
		r->major = pitr_wal_major_for_magic(h->magic);
	}
	if (h->magic != r->magic) {
		int found = pitr_wal_major_for_magic(h->magic);
		uint16_t swapped = (uint16_t)(h->magic << 8 | h->magic >> 8);

		if (found)
			return stop(
				r, WAL_STOP_FOREIGN, page_lsn,
				"page magic 0x%04X at LSN %s (offset %u) is PostgreSQL %d's, expected 0x%04X of PostgreSQL %d: WAL of another PostgreSQL version",
				h->magic, lsn, offset, found, r->magic,
				r->major);
		if (pitr_wal_major_for_magic(swapped))
			return stop(
				r, WAL_STOP_FOREIGN, page_lsn,
				"page magic 0x%04X at LSN %s (offset %u) is byte-swapped: WAL written by a machine of the other byte order",
				h->magic, lsn, offset);
		return stop(
			r, WAL_STOP_CORRUPT, page_lsn,
			"invalid page magic 0x%04X at LSN %s (offset %u), expected 0x%04X",
			h->magic, lsn, offset,
			r->magic ? r->magic : pitr_wal_magic_for_major(15));
	}
	if (h->info & ~XLP_ALL_FLAGS)
		return stop(r, WAL_STOP_CORRUPT, page_lsn,
			    "invalid page flags 0x%04X at LSN %s (offset %u)",
			    h->info, lsn, offset);
	if (offset == 0) {
		uint64_t sysid;
		uint32_t seg_size, blcksz;

		if (!(h->info & XLP_LONG_HEADER))
			return stop(r, WAL_STOP_CORRUPT, page_lsn,
				    "first page at LSN %s has no long header",
				    lsn);
		memcpy(&sysid, p + 24, 8);
		memcpy(&seg_size, p + 32, 4);
		memcpy(&blcksz, p + 36, 4);
		if (r->sysid == 0)
			r->sysid = sysid;
		if (sysid != r->sysid)
			return stop(
				r, WAL_STOP_FOREIGN, page_lsn,
				"WAL of another cluster at LSN %s: system identifier %" PRIu64
				", expected %" PRIu64 " (the base backup's)",
				lsn, sysid, r->sysid);
		if (seg_size != r->arc->seg_size || blcksz != WAL_PAGE_SIZE)
			return stop(
				r, WAL_STOP_FOREIGN, page_lsn,
				"segment size %u and page size %u in the header at LSN %s, expected %u and %u",
				seg_size, blcksz, lsn, r->arc->seg_size,
				WAL_PAGE_SIZE);
	}
	if (h->pageaddr != page_lsn) {
		/* A recycled segment's old pages carry an older address. */
		return end_or_damage(
			r, page_lsn,
			"unexpected page address %s at LSN %s (offset %u)",
			pitr_lsn_format(h->pageaddr, addr), lsn, offset);
	}
	if (h->tli < r->last_page_tli)
		return stop(
			r, WAL_STOP_CORRUPT, page_lsn,
			"out-of-sequence timeline ID %u (after %u) at LSN %s (offset %u)",
			h->tli, r->last_page_tli, lsn, offset);
good:
	r->last_page_tli = h->tli;
	if (!r->first_page_set) {
		r->first_page_set = true;
		r->first_page_tli = h->tli;
	}
	r->checked_page = page_lsn;
	return 0;
}

/* Make sure the page holding LSN is loaded and its header checked. */
static int enter_page(struct wal_reader *r, lsn_t lsn, struct page_header *h)
{
	lsn_t page_lsn = lsn - lsn % WAL_PAGE_SIZE;

	if (load_segment(r, segment_of(r, lsn), lsn) != 0)
		return -1;
	return check_page(r, page_lsn, h);
}

void pitr_wal_reader_seek(struct wal_reader *r, lsn_t lsn)
{
	r->pos = lsn;
	r->prev = 0;
	r->checked_page = LSN_INFINITE;
	r->last_page_tli = 0; /* timelines only grow from here on */
	r->stop = WAL_STOP_NONE;
	r->first_page_set = false;
	r->read_any = false;
}

int pitr_wal_reader_seek_segment(struct wal_reader *r, uint64_t segno)
{
	lsn_t page_lsn = segno * r->arc->seg_size;
	struct page_header h;
	uint32_t left;

	pitr_wal_reader_seek(r, page_lsn);
	r->seek_segno = segno;
	r->seek_pos = LSN_INFINITE;
	if (enter_page(r, page_lsn, &h) != 0)
		return -1;
	r->seek_cont = (h.info & XLP_FIRST_IS_CONTRECORD) != 0;
	if (!(h.info & XLP_FIRST_IS_CONTRECORD)) {
		r->pos = r->seek_pos = page_lsn + h.size;
		return 0;
	}
	/* Skip the end of a record begun in the segment before, each page
	 * of it saying so and how much is left, as gather() checks. */
	left = h.rem_len;
	for (;;) {
		uint32_t room = WAL_PAGE_SIZE - h.size;
		char at[LSN_TEXT];
		int rc;

		if (left <= room) {
			r->pos = r->seek_pos =
				page_lsn + h.size + WAL_ALIGN(left);
			return 0;
		}
		left -= room;
		page_lsn += WAL_PAGE_SIZE;
		r->in_record = true;
		rc = enter_page(r, page_lsn, &h);
		r->in_record = false;
		if (rc != 0)
			return -1;
		if (!(h.info & XLP_FIRST_IS_CONTRECORD) || h.rem_len != left)
			return stop(
				r, WAL_STOP_CORRUPT, page_lsn,
				"invalid contrecord length %u (expected %u) at %s, in a record continued from the segment before",
				(h.info & XLP_FIRST_IS_CONTRECORD) ? h.rem_len
								   : 0,
				left, pitr_lsn_format(page_lsn, at));
	}
}

static int grow_rec(struct wal_reader *r, size_t need)
{
	if (need <= r->rec_cap)
		return 0;
	size_t cap = r->rec_cap ? r->rec_cap : 65536;
	while (cap < need)
		cap *= 2;
	unsigned char *p = realloc(r->rec, cap);
	if (p == NULL)
		return -1;
	r->rec = p;
	r->rec_cap = cap;
	return 0;
}

/*
 * Put the rest of a record that crosses pages into r->rec; sets *END. The
 * buffer grows with the pages that pass their checks, never to a length
 * the header claims (24 bytes of garbage would reserve 1 GB).
 */
static int gather_pages(struct wal_reader *r, lsn_t start,
			const unsigned char *first, uint32_t first_len,
			uint32_t tot_len, lsn_t *end, bool *restart)
{
	lsn_t page_lsn = start - start % WAL_PAGE_SIZE + WAL_PAGE_SIZE;
	uint32_t have = first_len;
	char lsn[LSN_TEXT], at[LSN_TEXT];

	if (grow_rec(r, first_len) != 0)
		return stop(r, WAL_STOP_IO, start,
			    "out of memory for a record of %u bytes", tot_len);
	memcpy(r->rec, first, first_len);
	while (have < tot_len) {
		struct page_header h;
		uint32_t need = tot_len - have, chunk;

		if (enter_page(r, page_lsn, &h) != 0) {
			char was[DBOPS_ERR_MAX];

			memcpy(was, r->error.msg, sizeof(was));
			if (r->stop == WAL_STOP_END || r->stop == WAL_STOP_GAP)
				/* A record cut off by the end of the archive. */
				dbops_err_set(
					&r->error,
					"%s; the record at %s continues there",
					was, pitr_lsn_format(start, lsn));
			else if (r->stop == WAL_STOP_CORRUPT)
				dbops_err_set(
					&r->error,
					"%s; the record at %s continues there: a torn record",
					was, pitr_lsn_format(start, lsn));
			return -1;
		}
		if (h.info & XLP_FIRST_IS_OVERWRITE_CONTRECORD) {
			/* The server crashed mid-record and wrote past it. */
			r->pos = page_lsn;
			*restart = true;
			return 0;
		}
		if (!(h.info & XLP_FIRST_IS_CONTRECORD))
			return stop(
				r, WAL_STOP_CORRUPT, page_lsn,
				"there is no contrecord flag at %s (the record at %s continues there)",
				pitr_lsn_format(page_lsn, at),
				pitr_lsn_format(start, lsn));
		if (h.rem_len != need)
			return stop(
				r, WAL_STOP_CORRUPT, page_lsn,
				"invalid contrecord length %u (expected %u) at %s",
				h.rem_len, need, pitr_lsn_format(page_lsn, at));
		chunk = need < WAL_PAGE_SIZE - h.size ? need
						      : WAL_PAGE_SIZE - h.size;
		if (grow_rec(r, (size_t)have + chunk) != 0)
			return stop(r, WAL_STOP_IO, start,
				    "out of memory for a record of %u bytes",
				    tot_len);
		memcpy(r->rec + have, r->seg + in_segment(r, page_lsn) + h.size,
		       chunk);
		have += chunk;
		*end = page_lsn + h.size + chunk;
		page_lsn += WAL_PAGE_SIZE;
	}
	return 0;
}

/* gather_pages(), noting for end_or_damage() that a record is under way. */
static int gather(struct wal_reader *r, lsn_t start, const unsigned char *first,
		  uint32_t first_len, uint32_t tot_len, lsn_t *end,
		  bool *restart)
{
	int rc;

	r->in_record = true;
	rc = gather_pages(r, start, first, first_len, tot_len, end, restart);
	r->in_record = false;
	return rc;
}

static bool valid_rmid(const struct wal_reader *r, uint8_t rmid)
{
	if (rmid <= RM_MAX_BUILTIN)
		return true;
	return r->major >= 15 && rmid >= RM_MIN_CUSTOM;
}

/* Check the header fields of a record (ValidXLogRecordHeader). */
static int check_header(struct wal_reader *r, lsn_t start,
			const unsigned char *rec)
{
	uint64_t prev;
	char lsn[LSN_TEXT], p1[LSN_TEXT], p2[LSN_TEXT];

	memcpy(&prev, rec + 8, 8);
	if (!valid_rmid(r, rec[17]))
		return stop(r, WAL_STOP_CORRUPT, start,
			    "invalid resource manager ID %u in record at %s",
			    rec[17], pitr_lsn_format(start, lsn));
	if (r->prev != 0 && prev != r->prev)
		return stop(r, WAL_STOP_CORRUPT, start,
			    "record at %s has prev-link %s, expected %s",
			    pitr_lsn_format(start, lsn),
			    pitr_lsn_format(prev, p1),
			    pitr_lsn_format(r->prev, p2));
	return 0;
}

/* Check the header fields and the CRC of an assembled record. */
static int check_record(struct wal_reader *r, lsn_t start,
			const unsigned char *rec, uint32_t tot_len)
{
	uint32_t want, got;
	char lsn[LSN_TEXT];

	if (check_header(r, start, rec) != 0)
		return -1;
	memcpy(&want, rec + 20, 4);
	got = pitr_crc32c_update(CRC32C_INIT, rec + WAL_RECORD_HEADER,
				 tot_len - WAL_RECORD_HEADER);
	got = crc32c_finish(pitr_crc32c_update(got, rec, 20));
	if (got != want)
		return stop(
			r, WAL_STOP_CORRUPT, start,
			"record at %s fails its CRC: stored %08X, computed %08X (a torn or damaged record)",
			pitr_lsn_format(start, lsn), want, got);
	return 0;
}

/*
 * Whether a record of LEN bytes at IN_SEG, which fails a check, runs past
 * the data of the loaded .partial segment, the last one: pg_receivewal had
 * not received all of it, a clean end (data_end is where its last byte not
 * zero is: a whole record may end in zeros, so only a failed one is cut).
 */
static bool cut_by_partial(const struct wal_reader *r, uint32_t in_seg,
			   uint64_t len)
{
	return r->segfile->partial && in_seg + len > r->data_end &&
	       !later_segment_exists(r, r->segno);
}

static int stop_cut(struct wal_reader *r, lsn_t start)
{
	char lsn[LSN_TEXT];

	stop(r, WAL_STOP_END, start,
	     "the .partial segment's data ends inside the record at %s",
	     pitr_lsn_format(start, lsn));
	return 0;
}

/* Whether AHEAD, read on from its seek, starts where R reads next and
 * made there the checks R would make (pitr_wal_reader_join()). */
static bool joins(const struct wal_reader *r, const struct wal_reader *ahead)
{
	lsn_t at = r->pos;

	if (ahead->quiet_failed || r->stop != WAL_STOP_NONE ||
	    ahead->seek_pos == LSN_INFINITE || !ahead->first_page_set)
		return false;
	/* Stopped at its first record: R finds out why, in its own words
	 * (it checks the prev-link first). */
	if (!ahead->read_any && ahead->stop != WAL_STOP_NONE)
		return false;
	/* At the segment's first page R checks it, then reads after it. */
	if (at == ahead->seek_segno * r->arc->seg_size && !ahead->seek_cont)
		at += WAL_LONG_HEADER;
	if (at != ahead->seek_pos)
		return false;
	if (ahead->read_any && r->prev != 0 && ahead->first_prev != r->prev)
		return false;
	return ahead->first_page_tli >= r->last_page_tli &&
	       ahead->magic == r->magic && ahead->major == r->major &&
	       ahead->sysid == r->sysid && ahead->arc == r->arc &&
	       ahead->hist == r->hist;
}

int pitr_wal_reader_join(struct wal_reader *r, struct wal_reader *ahead)
{
	struct wal_reader mine = *r;
	uint64_t overlap, from;

	if (!joins(r, ahead))
		return 0;
	/* The segment R is in is the one AHEAD began with: loaded once. */
	overlap = r->segno == ahead->seek_segno ? 1 : 0;
	drop_segment(r);
	free(r->buf);
	free(r->rec);
	*r = *ahead;
	memset(ahead, 0, sizeof(*ahead));
	ahead->segno = UINT64_MAX;
	r->on_segment = mine.on_segment;
	r->on_segment_arg = mine.on_segment_arg;
	r->quiet = mine.quiet;
	if (!r->read_any)
		r->prev = mine.prev;
	if (mine.partial_file[0] != '\0') {
		memcpy(r->partial_file, mine.partial_file,
		       sizeof(r->partial_file));
		r->partial_lsn = mine.partial_lsn;
	}
	r->segments_read += mine.segments_read - overlap;
	r->bytes_read += mine.bytes_read - overlap * r->arc->seg_size;
	from = r->seek_segno + overlap;
	if (r->on_segment && r->segno != UINT64_MAX)
		for (uint64_t s = from; s <= r->segno; s++)
			r->on_segment(r->on_segment_arg, s);
	return 1;
}

int pitr_wal_next(struct wal_reader *r, struct wal_record *rec)
{
	for (;;) {
		struct page_header h;
		lsn_t start = r->pos, end = start;
		uint32_t in_seg, room, tot_len;
		const unsigned char *p;
		bool restart = false;
		char lsn[LSN_TEXT];

		if (r->stop != WAL_STOP_NONE)
			return 0;
		if (start % WAL_PAGE_SIZE == 0) {
			if (enter_page(r, start, &h) != 0)
				return 0;
			if (h.info & XLP_FIRST_IS_CONTRECORD) {
				stop(r, WAL_STOP_CORRUPT, start,
				     "page at %s continues a record, where a new record was expected",
				     pitr_lsn_format(start, lsn));
				return 0;
			}
			start += h.size;
			r->pos = start;
		} else if (r->checked_page != start - start % WAL_PAGE_SIZE) {
			if (enter_page(r, start, &h) != 0)
				return 0;
		}
		in_seg = in_segment(r, start);
		p = r->seg + in_seg;
		/* The records ahead, while this one is checked: the next
		 * header is a load that waits for this one's length. */
		__builtin_prefetch(p + 256);
		room = WAL_PAGE_SIZE - in_seg % WAL_PAGE_SIZE;
		memcpy(&tot_len, p, 4);
		if (tot_len == 0) {
			/* PostgreSQL's "invalid record length at X/Y: expected
			 * at least 24, got 0": the end, or damage. */
			end_or_damage(r, start, "no record at %s (zeros)",
				      pitr_lsn_format(start, lsn));
			return 0;
		}
		if (tot_len < WAL_RECORD_HEADER || tot_len > MAX_RECORD_SIZE) {
			if (cut_by_partial(r, in_seg, WAL_RECORD_HEADER))
				return stop_cut(r, start);
			stop(r, WAL_STOP_CORRUPT, start,
			     "invalid record length at %s: expected at least %u, got %u",
			     pitr_lsn_format(start, lsn), WAL_RECORD_HEADER,
			     tot_len);
			return 0;
		}
		const char *segname = r->segfile->name;
		if (tot_len <= room) {
			end = start + tot_len;
		} else {
			/* As PostgreSQL, check a header on the first page
			 * before reading on for the rest of the record. */
			if (room >= WAL_RECORD_HEADER &&
			    check_header(r, start, p) != 0)
				return 0;
			if (gather(r, start, p, room, tot_len, &end,
				   &restart) != 0)
				return 0;
			if (restart)
				continue;
			p = r->rec;
		}
		if (check_record(r, start, p, tot_len) != 0) {
			if (r->stop == WAL_STOP_CORRUPT &&
			    cut_by_partial(r, in_seg, tot_len))
				return stop_cut(r, start);
			return 0;
		}
		rec->lsn = start;
		/* PostgreSQL's EndRecPtr is where the next record starts. */
		rec->end = WAL_ALIGN(end);
		rec->tot_len = tot_len;
		memcpy(&rec->xid, p + 4, 4);
		rec->info = p[16];
		rec->rmid = p[17];
		rec->page_tli = r->last_page_tli;
		rec->data = p;
		rec->segment = segname;
		if (!r->read_any) {
			r->read_any = true;
			memcpy(&r->first_prev, p + 8, 8);
		}
		r->prev = start;
		r->pos = WAL_ALIGN(end);
		if (rec->rmid == RM_XLOG_ID &&
		    (rec->info & 0xF0) == XLOG_SWITCH &&
		    in_segment(r, r->pos) != 0) {
			/* The rest of the segment is padding. */
			r->pos += r->arc->seg_size - in_segment(r, r->pos);
			rec->end = r->pos;
		}
		return 1;
	}
}

int pitr_wal_main_data(const struct wal_reader *r, const struct wal_record *rec,
		       const unsigned char **data, uint32_t *len)
{
	const unsigned char *p = rec->data + WAL_RECORD_HEADER;
	const unsigned char *limit = rec->data + rec->tot_len;
	uint32_t datatotal = 0, main_len = 0;
	uint8_t compressed = r->major >= 15 ? 0x1C : 0x02;
	int last_block = -1;

#define NEED(n)                                        \
	do {                                           \
		if ((size_t)(limit - p) < (size_t)(n)) \
			return -1;                     \
	} while (0)
	while ((size_t)(limit - p) > datatotal) {
		uint8_t id;

		NEED(1);
		id = *p++;
		if (id == XLR_BLOCK_ID_DATA_SHORT) {
			NEED(1);
			main_len = *p++;
			datatotal += main_len;
			break;
		} else if (id == XLR_BLOCK_ID_DATA_LONG) {
			NEED(4);
			memcpy(&main_len, p, 4);
			p += 4;
			datatotal += main_len;
			break;
		} else if (id == XLR_BLOCK_ID_ORIGIN) {
			NEED(2);
			p += 2;
		} else if (id == XLR_BLOCK_ID_TOPLEVEL_XID) {
			NEED(4);
			p += 4;
		} else if (id <= XLR_MAX_BLOCK_ID && id > last_block) {
			uint8_t fork_flags, bimg_info;
			uint16_t data_len, img_len;

			last_block = id;
			NEED(3);
			fork_flags = p[0];
			memcpy(&data_len, p + 1, 2);
			p += 3;
			datatotal += data_len;
			if (fork_flags & BKPBLOCK_HAS_IMAGE) {
				NEED(5);
				memcpy(&img_len, p, 2);
				bimg_info = p[4];
				p += 5;
				if ((bimg_info & 0x01) &&
				    (bimg_info & compressed)) {
					NEED(2);
					p += 2;
				}
				datatotal += img_len;
			}
			if (!(fork_flags & BKPBLOCK_SAME_REL)) {
				NEED(12);
				p += 12;
			}
			NEED(4);
			p += 4;
		} else {
			return -1;
		}
	}
#undef NEED
	if (p > limit || (size_t)(limit - p) != datatotal ||
	    main_len > datatotal)
		return -1;
	*data = limit - main_len;
	*len = main_len;
	return 0;
}
