/*
 * walahead.c - the CRC checkers ahead of the WAL reader (walahead.h).
 */
#include "walahead.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "wal.h"

#define MAX_RECORD_SIZE (1020u * 1024 * 1024) /* XLogRecordMaxSize */
enum ahead_state {
	AHEAD_IDLE,
	AHEAD_RUNNING, /* a checker is at it */
	AHEAD_DONE,    /* checked: MAP and GOOD wait for the reader */
	AHEAD_TAKEN,   /* the reader's, or nobody's */
};

struct ahead_seg {
	const struct archive_segment *file;
	enum ahead_state state;
	const unsigned char *map;
	uint64_t *good;
};

struct wal_ahead {
	const struct wal_archive *arc;
	uint64_t first;
	size_t n;
	struct ahead_seg *segs;
	uint64_t reader_at; /* the last segment the reader loaded */
	uint64_t depth;	    /* how far checkers may run ahead of it */
	bool cancel;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static uint32_t header_size(const unsigned char *page)
{
	uint16_t info;

	memcpy(&info, page + 2, 2);
	return (info & XLP_LONG_HEADER) ? WAL_LONG_HEADER : WAL_SHORT_HEADER;
}

/* Where the first record that begins in SEG starts (as
 * pitr_wal_reader_seek_segment() finds it), or SEG_SIZE. */
static uint32_t first_record(const unsigned char *seg, uint32_t seg_size)
{
	uint32_t page = 0, left, rem;
	uint16_t info;

	memcpy(&info, seg + 2, 2);
	if (!(info & XLP_FIRST_IS_CONTRECORD))
		return header_size(seg);
	memcpy(&left, seg + 16, 4);
	for (;;) {
		uint32_t hs = header_size(seg + page);

		if (left <= WAL_PAGE_SIZE - hs)
			return page + hs + (uint32_t)WAL_ALIGN(left);
		left -= WAL_PAGE_SIZE - hs;
		page += WAL_PAGE_SIZE;
		if (page >= seg_size)
			return seg_size;
		memcpy(&info, seg + page + 2, 2);
		memcpy(&rem, seg + page + 16, 4);
		if (!(info & XLP_FIRST_IS_CONTRECORD) || rem != left)
			return seg_size;
	}
}

/*
 * The CRC of the record of TOT_LEN bytes at POS, gathered across pages as
 * the reader's gather_pages() does (bytes 24 to TOT_LEN, then 0 to 20, as
 * PostgreSQL sums them): 1 right, 0 wrong, -1 when the record cannot be
 * followed in this segment (it runs into the next one, or a page says it
 * does not go on there). *END: where its last byte ends.
 */
static int record_crc(const unsigned char *seg, uint32_t seg_size, uint32_t pos,
		      uint32_t tot_len, uint32_t *end)
{
	unsigned char head[WAL_RECORD_HEADER];
	uint32_t have = 0, at = pos, crc = CRC32C_INIT, want, rem;
	uint32_t len = WAL_PAGE_SIZE - pos % WAL_PAGE_SIZE;
	uint16_t info;

	for (;;) {
		uint32_t page, hs;

		if (len > tot_len - have)
			len = tot_len - have;
		if (have < WAL_RECORD_HEADER) {
			uint32_t h = WAL_RECORD_HEADER - have;

			h = h < len ? h : len;
			memcpy(head + have, seg + at, h);
			crc = pitr_crc32c_update(crc, seg + at + h, len - h);
		} else {
			crc = pitr_crc32c_update(crc, seg + at, len);
		}
		have += len;
		if (have == tot_len)
			break;
		page = at - at % WAL_PAGE_SIZE + WAL_PAGE_SIZE;
		if (page >= seg_size)
			return -1;
		memcpy(&info, seg + page + 2, 2);
		memcpy(&rem, seg + page + 16, 4);
		if ((info & XLP_FIRST_IS_OVERWRITE_CONTRECORD) ||
		    !(info & XLP_FIRST_IS_CONTRECORD) || rem != tot_len - have)
			return -1;
		hs = header_size(seg + page);
		at = page + hs;
		len = WAL_PAGE_SIZE - hs;
	}
	*end = at + len;
	memcpy(&want, head + 20, 4);
	crc = crc32c_finish(pitr_crc32c_update(crc, head, 20));
	return crc == want;
}

/* Records on one page, whose CRCs are summed together. */
#define BATCH 64

struct batch {
	uint32_t pos[BATCH];
	uint32_t crc[BATCH];
	const unsigned char *data[BATCH];
	size_t len[BATCH];
	size_t n;
};

static void mark(uint64_t *good, uint32_t pos)
{
	good[pos / 512] |= (uint64_t)1 << (pos / 8 % 64);
}

/* Sum the CRCs of the records of B (bytes 24 to the end, then 0 to 20,
 * as PostgreSQL does), several at a time, and mark the right ones. */
static void flush(struct batch *b, const unsigned char *seg, uint64_t *good)
{
	for (size_t k = 0; k < b->n; k++) {
		uint32_t tot_len;

		memcpy(&tot_len, seg + b->pos[k], 4);
		b->crc[k] = CRC32C_INIT;
		b->data[k] = seg + b->pos[k] + WAL_RECORD_HEADER;
		b->len[k] = tot_len - WAL_RECORD_HEADER;
	}
	pitr_crc32c_update_many(b->crc, b->data, b->len, b->n);
	for (size_t k = 0; k < b->n; k++) {
		b->data[k] = seg + b->pos[k];
		b->len[k] = 20;
	}
	pitr_crc32c_update_many(b->crc, b->data, b->len, b->n);
	for (size_t k = 0; k < b->n; k++) {
		uint32_t want;

		memcpy(&want, seg + b->pos[k] + 20, 4);
		if (crc32c_finish(b->crc[k]) == want)
			mark(good, b->pos[k]);
	}
	b->n = 0;
}

/*
 * The walk does not depend on the sums: a bit says something of the bytes
 * at its offset alone, and the reader looks only at the bits of records it
 * reached by its own checks.
 */
void pitr_wal_ahead_check(const unsigned char *seg, uint32_t seg_size,
			  uint64_t *good)
{
	struct batch b;
	uint32_t pos = first_record(seg, seg_size);

	b.n = 0;
	while (pos < seg_size) {
		uint32_t tot_len, end;
		uint16_t info;
		int rc;

		if (pos % WAL_PAGE_SIZE == 0) {
			memcpy(&info, seg + pos + 2, 2);
			if (info & XLP_FIRST_IS_CONTRECORD)
				break;
			pos += header_size(seg + pos);
		}
		memcpy(&tot_len, seg + pos, 4);
		if (tot_len < WAL_RECORD_HEADER || tot_len > MAX_RECORD_SIZE)
			break;
		if (tot_len <= WAL_PAGE_SIZE - pos % WAL_PAGE_SIZE) {
			b.pos[b.n++] = pos;
			if (b.n == BATCH)
				flush(&b, seg, good);
			end = pos + tot_len;
		} else {
			rc = record_crc(seg, seg_size, pos, tot_len, &end);
			if (rc < 0)
				break;
			if (rc == 1)
				mark(good, pos);
		}
		if (seg[pos + 17] == RM_XLOG_ID &&
		    (seg[pos + 16] & 0xF0) == XLOG_SWITCH)
			break;
		pos = (uint32_t)WAL_ALIGN(end);
	}
	flush(&b, seg, good);
}

/* Whether the reader may take a checker's mapping of FILE. */
static bool mappable(const struct archive_segment *file)
{
	return file && !file->in_backup && !file->partial &&
	       !file->has_other_forms && file->comp == PITR_COMP_NONE;
}

struct wal_ahead *pitr_wal_ahead_new(const struct wal_archive *arc,
				     const struct tl_history *hist,
				     uint64_t first, uint64_t last,
				     unsigned depth)
{
	struct wal_ahead *a;

	if (last < first)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->n = (size_t)(last - first + 1);
	a->segs = calloc(a->n, sizeof(*a->segs));
	if (a->segs == NULL) {
		free(a);
		return NULL;
	}
	a->arc = arc;
	a->first = a->reader_at = first;
	a->depth = depth ? depth : 1;
	for (size_t i = 0; i < a->n; i++) {
		uint64_t segno = first + i;
		uint32_t tli =
			pitr_timeline_file_tli(hist, segno, arc->seg_size);
		struct ahead_seg *s = &a->segs[i];

		s->file = pitr_walarc_find_any(arc, tli, segno);
		s->state = mappable(s->file) ? AHEAD_IDLE : AHEAD_TAKEN;
	}
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	return a;
}

size_t pitr_wal_ahead_count(const struct wal_ahead *a)
{
	return a ? a->n : 0;
}

void pitr_wal_ahead_run(struct wal_ahead *a, size_t i)
{
	struct ahead_seg *s = &a->segs[i];
	const unsigned char *map = NULL;
	uint64_t *good = NULL;

	pthread_mutex_lock(&a->mu);
	while (!a->cancel && s->state == AHEAD_IDLE &&
	       a->first + i > a->reader_at + a->depth)
		pthread_cond_wait(&a->cv, &a->mu);
	if (a->cancel || s->state != AHEAD_IDLE) {
		pthread_mutex_unlock(&a->mu);
		return;
	}
	s->state = AHEAD_RUNNING;
	pthread_mutex_unlock(&a->mu);

	/* Quietly: the reader says what is wrong with a file it cannot map. */
	if (pitr_walarc_map_segment(a->arc, s->file, &map, true) == 0 && map) {
		good = calloc(a->arc->seg_size / 512, sizeof(*good));
		if (good)
			pitr_wal_ahead_check(map, a->arc->seg_size, good);
		else
			pitr_walarc_unmap_segment(a->arc, map), map = NULL;
	}

	pthread_mutex_lock(&a->mu);
	s->map = map;
	s->good = good;
	s->state = AHEAD_DONE;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

int pitr_wal_ahead_take(struct wal_ahead *a, uint64_t segno,
			const struct archive_segment *file,
			const unsigned char **map, uint64_t **good)
{
	struct ahead_seg *s;
	int got = 0;

	if (a == NULL || segno < a->first || segno - a->first >= a->n)
		return 0;
	s = &a->segs[segno - a->first];
	pthread_mutex_lock(&a->mu);
	if (segno > a->reader_at) {
		a->reader_at = segno;
		pthread_cond_broadcast(&a->cv);
	}
	if (s->state == AHEAD_RUNNING) {
		/* The checkers are behind: the next segment is the reader's
		 * (it sums its CRCs itself, meanwhile they go on after it). */
		if (segno + 1 - a->first < a->n && s[1].state == AHEAD_IDLE)
			s[1].state = AHEAD_TAKEN;
		while (s->state == AHEAD_RUNNING)
			pthread_cond_wait(&a->cv, &a->mu);
	}
	if (s->state == AHEAD_DONE && s->file == file && s->map) {
		*map = s->map;
		*good = s->good;
		s->map = NULL;
		s->good = NULL;
		got = 1;
	}
	/* Not handed over: kept for pitr_wal_ahead_free(). */
	if (s->state != AHEAD_DONE || got)
		s->state = AHEAD_TAKEN;
	pthread_mutex_unlock(&a->mu);
	return got;
}

void pitr_wal_ahead_cancel(struct wal_ahead *a)
{
	if (a == NULL)
		return;
	pthread_mutex_lock(&a->mu);
	a->cancel = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

void pitr_wal_ahead_free(struct wal_ahead *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++) {
		pitr_walarc_unmap_segment(a->arc, a->segs[i].map);
		free(a->segs[i].good);
	}
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	free(a->segs);
	free(a);
}
