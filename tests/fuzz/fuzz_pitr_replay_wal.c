/*
 * fuzz_pitr_replay_wal - libFuzzer target for pitr-replay's WAL reader and
 * scan (utils/pitr-replay/walread.c, scan.c), from memory: the segments
 * are buffers given to pitr_walarc_open_memory(), no file is read.
 *
 * Input: a 16-byte header, then the WAL bytes.
 *
 *   [0]     flags: 1 fix the page headers (magic, info, timeline, address,
 *           the long header's fields), 2 fix every record's CRC-32C,
 *           4 fix the prev-links, 8 no backup (start at a segment's first
 *           record), 16 from a standby, 32 the last segment is a .partial
 *           one, 64 segment 2 is missing, 128 segment 3 is on timeline 2
 *   [1]     target kind (mod 6: end, time, lsn, xid, name, immediate);
 *           bit 3: exclusive
 *   [2]     major version: 13 + [2] mod 5; bit 7: learn it from the WAL;
 *           bit 6: one segment of zeros more than the bytes reach
 *   [3]     where the bytes go: mod 8 = 0: at segment 1's start (LSN
 *           0/100000), else that many pages before segment 2's start
 *   [4..5]  the redo LSN, 8-byte units after where the bytes go (with
 *           flag 8, the first segment start at or after them)
 *   [6..7]  the checkpoint LSN, likewise
 *   [8..15] the target's value (time, LSN, xid or name) and, with flag
 *           128, the timeline switch point in segment 3
 *
 * 1 MB segments, from 1 of timeline 1 to the last the bytes reach (3 at
 * most), zeros but for the bytes given. The fixes, done by this harness (with the tool's own CRC-32C:
 * what is tested is the reader, not the CRC), let the fuzzer past the
 * checks it could not otherwise pass: with flag 2 it walks the records
 * from the redo LSN as PostgreSQL lays them out and seals each one that
 * lies inside the bytes given, marking the pages it continues on.
 *
 * Then pitr_scan_path() as window and verify run it, and what they print
 * is formatted. Properties: no crash, no leak; a scan that is refused
 * says why, naming an LSN or a segment; a clean end lies inside the bytes
 * given (or at the next segment's start after an XLOG_SWITCH in them), and
 * every record it names (stop point, restore points) before it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"

#include "../../utils/pitr-replay/crc32c.h"
#include "../../utils/pitr-replay/scan.h"
#include "../../utils/pitr-replay/timeline.h"
#include "../../utils/pitr-replay/wal.h"
#include "../../utils/pitr-replay/walarchive.h"
#include "../../utils/pitr-replay/walread.h"

#define SEG	 (1u << 20)
#define NSEG	 3
#define PAGE	 WAL_PAGE_SIZE
#define HEAD	 16
#define SYSID	 7345012345678901234ULL
#define BASE_LSN ((lsn_t)SEG) /* segment 1's start: buf[0] */
#define REC_MAX	 (64u * 1024)

enum {
	FIX_PAGES = 1,
	FIX_CRC = 2,
	FIX_PREV = 4,
	NO_BACKUP = 8,
	STANDBY = 16,
	PARTIAL = 32,
	GAP = 64,
	TLI2 = 128,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char *buf; /* NSEG segments, LSN BASE_LSN on */
static size_t dirty;	   /* bytes of BUF not zero since the last input */
static unsigned char rec[REC_MAX];

static unsigned char *at(lsn_t lsn)
{
	return buf + (lsn - BASE_LSN);
}

static uint32_t header_size(lsn_t page)
{
	return page % SEG == 0 ? WAL_LONG_HEADER : WAL_SHORT_HEADER;
}

/* Copy N record bytes from (OUT) or to (IN) the WAL at *POS, skipping page
 * headers, not past LIMIT: 0, or -1 when they do not fit. */
static int move_bytes(lsn_t *pos, unsigned char *mem, size_t n, lsn_t limit,
		      bool out, uint32_t rem_from)
{
	size_t done = 0;

	while (done < n) {
		size_t room, take;

		if (*pos % PAGE == 0) {
			if (!out && rem_from) {
				/* a page this record continues on */
				uint16_t info;

				memcpy(&info, at(*pos) + 2, 2);
				info |= XLP_FIRST_IS_CONTRECORD;
				memcpy(at(*pos) + 2, &info, 2);
				uint32_t rem = rem_from - (uint32_t)done;
				memcpy(at(*pos) + 16, &rem, 4);
			}
			*pos += header_size(*pos);
		}
		room = PAGE - *pos % PAGE;
		take = n - done < room ? n - done : room;
		if (*pos + take > limit)
			return -1;
		if (out)
			memcpy(mem + done, at(*pos), take);
		else
			memcpy(at(*pos), mem + done, take);
		*pos += take;
		done += take;
	}
	return 0;
}

/* Page headers of the pages from FIRST to LIMIT, as the reader wants them. */
static void fix_pages(lsn_t first, lsn_t limit, int major, uint32_t tli2_seg)
{
	uint16_t magic = pitr_wal_magic_for_major(major);

	for (lsn_t page = first; page < limit; page += PAGE) {
		unsigned char *p = at(page);
		uint16_t info = (uint16_t)(p[2] & XLP_BKP_REMOVABLE);
		uint32_t tli = tli2_seg && page / SEG >= tli2_seg ? 2 : 1,
			 rem = 0, size = SEG, blck = PAGE;
		uint64_t sysid = SYSID;

		if (page % SEG == 0)
			info |= XLP_LONG_HEADER;
		memcpy(p, &magic, 2);
		memcpy(p + 2, &info, 2);
		memcpy(p + 4, &tli, 4);
		memcpy(p + 8, &page, 8);
		memcpy(p + 16, &rem, 4);
		if (page % SEG == 0) {
			memcpy(p + 24, &sysid, 8);
			memcpy(p + 32, &size, 4);
			memcpy(p + 36, &blck, 4);
		}
	}
}

/* Seal the records from POS on that lie before LIMIT: CRC, prev-link, and
 * the continuation marks of the pages they run on to. */
static void fix_records(lsn_t pos, lsn_t limit, unsigned flags)
{
	lsn_t prev = 0;

	while (pos < limit) {
		lsn_t start = pos, p;
		uint32_t tot_len, crc;

		if (pos % PAGE == 0)
			pos += header_size(pos);
		start = pos;
		p = pos;
		if (move_bytes(&p, rec, 4, limit, true, 0) != 0)
			return;
		memcpy(&tot_len, rec, 4);
		if (tot_len < WAL_RECORD_HEADER || tot_len > REC_MAX)
			return;
		p = pos;
		if (move_bytes(&p, rec, tot_len, limit, true, 0) != 0)
			return;
		if ((flags & FIX_PREV) && prev)
			memcpy(rec + 8, &prev, 8);
		if (flags & FIX_CRC) {
			crc = pitr_crc32c_update(CRC32C_INIT,
						 rec + WAL_RECORD_HEADER,
						 tot_len - WAL_RECORD_HEADER);
			crc = crc32c_finish(pitr_crc32c_update(crc, rec, 20));
			memcpy(rec + 20, &crc, 4);
		}
		p = pos;
		move_bytes(&p, rec, tot_len, limit, false,
			   (flags & FIX_PAGES) ? tot_len : 0);
		prev = start;
		pos = WAL_ALIGN(p);
		if (rec[17] == RM_XLOG_ID && (rec[16] & 0xF0) == XLOG_SWITCH)
			pos = (pos + SEG - 1) / SEG * SEG;
	}
}

static void target_of(const uint8_t *h, struct pitr_target *t)
{
	uint64_t v;

	memset(t, 0, sizeof(*t));
	memcpy(&v, h + 8, 8);
	t->kind = (enum target_kind)(h[1] % 6);
	t->exclusive = (h[1] & 8) != 0;
	snprintf(t->text, sizeof(t->text), "fuzz");
	snprintf(t->zone, sizeof(t->zone), "UTC");
	switch (t->kind) {
	case TARGET_TIME:
		/* the years main.c reads: 1000 to 9999 */
		t->time = (int64_t)(v % 284012524800000000ULL) -
			  31536000000000000LL;
		break;
	case TARGET_LSN:
		t->lsn = BASE_LSN + v % ((lsn_t)NSEG * SEG);
		break;
	case TARGET_XID:
		t->xid = (uint32_t)v;
		t->has_epoch = (v >> 63) != 0;
		t->epoch = (uint32_t)(v >> 32) & 0x7FFFFFFF;
		break;
	case TARGET_NAME:
		for (int i = 0; i < 8; i++) /* printable */
			t->name[i] = h[8 + i] >= ' ' && h[8 + i] < 127
					     ? (char)h[8 + i]
					     : (char)(' ' + h[8 + i] % 95);
		break;
	default:
		break;
	}
}

/* Whether TEXT names an LSN ("X/Y") or a segment (24 hex digits). */
static bool names_place(const char *text)
{
	size_t hex = 0;

	for (const char *p = text; *p; p++) {
		bool is_hex =
			(*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'F');

		if (*p == '/' && hex > 0 && p[1] &&
		    strchr("0123456789ABCDEF", p[1]))
			return true;
		hex = is_hex ? hex + 1 : 0;
		if (hex == 24)
			return true;
	}
	return false;
}

/* FUZZ_PITR_WAL_SHOW set: what each input's scan found, on stderr (to
 * see that the seeds reach what they are meant to). */
static bool show;

static void show_scan(const struct path_scan *s)
{
	char a[LSN_TEXT], b[LSN_TEXT];

	fprintf(stderr,
		"stop %s at %s: \"%s\" (%s); end %s, consistent %d, %zu restore points, target %s: %s\n",
		pitr_wal_stop_name(s->reader.stop),
		pitr_lsn_format(s->reader.stop_lsn, a), s->reader.error.msg,
		s->reader.stop_file, pitr_lsn_format(s->end_lsn, b),
		s->consistent, s->nrps, s->stop.found ? "found" : "not found",
		s->stop.what);
}

/* Format everything window and verify print of S. */
static void print_all(const struct path_scan *s, const struct pitr_target *t)
{
	char text[512], l[LSN_TEXT], tm[PG_TIME_TEXT];

	pitr_target_describe(t, text, sizeof(text));
	pitr_timeline_describe(&s->hist, text, sizeof(text));
	pitr_pg_time_format(s->min_time, tm);
	pitr_pg_time_format(s->max_xact_time, tm);
	pitr_pg_time_format(s->last_xact_time, tm);
	pitr_pg_time_format(s->prev_xact_time, tm);
	pitr_pg_time_format(s->stop.time, tm);
	pitr_pg_time_format(s->stop.last_xact_time, tm);
	pitr_lsn_format(s->end_lsn, l);
	pitr_lsn_format(s->consistency_lsn, l);
	for (size_t i = 0; i < s->nrps; i++)
		pitr_pg_time_format(s->rps[i].time, tm);
	(void)pitr_wal_stop_name(s->reader.stop);
}

static void check(const struct path_scan *s, lsn_t data_end)
{
	const struct wal_reader *r = &s->reader;
	lsn_t limit = WAL_ALIGN(data_end);

	if (r->stop != WAL_STOP_END && r->stop != WAL_STOP_NONE) {
		if (r->error.msg[0] == '\0' ||
		    !(names_place(r->error.msg) || names_place(r->stop_file))) {
			fprintf(stderr,
				"refusal (%s) without a place: \"%s\" (%s)\n",
				pitr_wal_stop_name(r->stop), r->error.msg,
				r->stop_file);
			abort();
		}
		return;
	}
	/* An XLOG_SWITCH ends where the next segment starts. */
	bool switched = s->end_lsn % SEG == 0 && s->last_record_lsn < limit;

	if ((s->end_lsn > limit && !switched) ||
	    (s->stop.found && s->stop.record_lsn >= limit)) {
		fprintf(stderr, "clean end %llx past the bytes given (%llx)\n",
			(unsigned long long)s->end_lsn,
			(unsigned long long)limit);
		abort();
	}
	for (size_t i = 0; i < s->nrps; i++)
		if (s->rps[i].end > limit || s->rps[i].lsn >= s->rps[i].end) {
			fprintf(stderr, "restore point %zu at %llx..%llx\n", i,
				(unsigned long long)s->rps[i].lsn,
				(unsigned long long)s->rps[i].end);
			abort();
		}
}

static void history_of(const uint8_t *h, struct tl_history *hist)
{
	uint64_t v;
	char text[64];
	struct dbops_err err = { "" };

	pitr_timeline_single(1, hist);
	if (!(h[0] & TLI2))
		return;
	memcpy(&v, h + 8, 8);
	snprintf(text, sizeof(text), "1\t0/%llX\tfuzz\n",
		 (unsigned long long)(3 * (lsn_t)SEG + (v >> 44) % SEG));
	if (pitr_timeline_parse(text, 2, hist, &err) != 0)
		abort();
}

static void scan(const uint8_t *h, lsn_t place, lsn_t data_end)
{
	struct pitr_walarc_mem mem[NSEG];
	struct wal_archive arc;
	struct tl_history hist;
	struct scan_start start = { 0 };
	struct pitr_target target;
	struct path_scan s;
	size_t n = 0;
	uint16_t redo, ckpt;

	/* the segments the bytes reach, and with [2] bit 6 one more */
	uint64_t nseg = (data_end - 1) / SEG + ((h[2] & 64) ? 1 : 0);

	if (nseg > NSEG)
		nseg = NSEG;
	for (uint64_t i = 0; i < nseg; i++) {
		if ((h[0] & GAP) && i == 1)
			continue;
		mem[n++] = (struct pitr_walarc_mem){
			.tli = (h[0] & TLI2) && i == 2 ? 2 : 1,
			.segno = 1 + i,
			.partial = (h[0] & PARTIAL) && i == nseg - 1,
			.data = buf + i * SEG,
		};
	}
	if (pitr_walarc_open_memory(&arc, SEG, mem, n) != 0)
		abort();
	history_of(h, &hist);
	memcpy(&redo, h + 4, 2);
	memcpy(&ckpt, h + 6, 2);
	start.redo_lsn = place + 8 * (lsn_t)redo;
	start.checkpoint_lsn = place + 8 * (lsn_t)ckpt;
	start.tli = 1;
	start.from_standby = (h[0] & STANDBY) != 0;
	start.major = (h[2] & 128) ? 0 : 13 + h[2] % 5;
	start.no_backup = (h[0] & NO_BACKUP) != 0;
	if (start.no_backup) /* the first segment start in the bytes */
		start.redo_lsn = (place + SEG - 1) / SEG * SEG;
	target_of(h, &target);
	if (pitr_scan_path(&arc, &hist, &start, &target, NULL, NULL, &s) != 0)
		abort(); /* out of memory */
	print_all(&s, &target);
	if (show)
		show_scan(&s);
	check(&s, data_end);
	pitr_scan_free(&s);
	pitr_walarc_close(&arc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *h = data;
	lsn_t place, data_end;
	size_t len;

	if (size < HEAD)
		return 0;
	if (buf == NULL) {
		buf = calloc(NSEG, SEG);
		if (buf == NULL)
			abort();
		pitr_scan_jobs = 1; /* deterministic */
		show = getenv("FUZZ_PITR_WAL_SHOW") != NULL;
	}
	memset(buf, 0, dirty);
	place = h[3] % 8 ? 2 * (lsn_t)SEG - (h[3] % 8) * PAGE : BASE_LSN;
	len = size - HEAD;
	if (len > 2 * (size_t)SEG)
		len = 2 * (size_t)SEG;
	memcpy(at(place), data + HEAD, len);
	data_end = place + len;
	/* and the page headers the fixes write past the end */
	dirty = (size_t)((data_end + 2 * PAGE - 1) / PAGE * PAGE - BASE_LSN);
	if (dirty > (size_t)NSEG * SEG)
		dirty = (size_t)NSEG * SEG;
	if (h[0] & FIX_PAGES)
		fix_pages(place, data_end, 13 + h[2] % 5,
			  (h[0] & TLI2) ? 3 : 0);
	if (h[0] & (FIX_CRC | FIX_PREV | FIX_PAGES)) {
		uint16_t redo;

		memcpy(&redo, h + 4, 2);
		fix_records(place + 8 * (lsn_t)redo, data_end, h[0]);
	}
	scan(h, place, data_end);
	return 0;
}
