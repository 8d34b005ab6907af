/*
 * scan.c - what recovery would do, worked out from the WAL alone.
 */
#include "scan.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "parallel.h"
#include "progress.h"
#include "xalloc.h"

/* Transaction info bits of xl_xact_xinfo (xact.h) that carry payload. */
#define XINFO_HAS_DBINFO	(1u << 0)
#define XINFO_HAS_SUBXACTS	(1u << 1)
#define XINFO_HAS_RELFILENODES	(1u << 2)
#define XINFO_HAS_INVALS	(1u << 3)
#define XINFO_HAS_TWOPHASE	(1u << 4)
#define XINFO_HAS_DROPPED_STATS (1u << 8)

#define CHECKPOINT_TIME_OFFSET 64 /* CheckPoint.time (pg_time_t), 13..17 */
#define CHECKPOINT_XID_OFFSET  24 /* CheckPoint.nextXid (FullTransactionId) */

struct xact {
	bool is_xact; /* a commit or abort (prepared or not) */
	bool is_commit;
	uint32_t xid;
	int64_t time;
};

static bool read_count(const unsigned char *data, uint32_t len, uint32_t *off,
		       uint32_t item_size)
{
	int32_t n;

	if (*off + 4 > len)
		return false;
	memcpy(&n, data + *off, 4);
	if (n < 0 || (uint64_t)*off + 4 + (uint64_t)n * item_size > len)
		return false;
	*off += 4 + (uint32_t)n * item_size;
	return true;
}

/*
 * The 2PC transaction id in a COMMIT_PREPARED / ABORT_PREPARED record,
 * found past the optional parts that come before it (ParseCommitRecord).
 */
static bool twophase_xid(const unsigned char *data, uint32_t len, uint8_t info,
			 bool commit, int major, uint32_t *xid)
{
	uint32_t xinfo, off = 8 + 4;

	if (!(info & XLOG_XACT_HAS_INFO) || len < off)
		return false;
	memcpy(&xinfo, data + 8, 4);
	if (xinfo & XINFO_HAS_DBINFO)
		off += 8;
	if ((xinfo & XINFO_HAS_SUBXACTS) && !read_count(data, len, &off, 4))
		return false;
	if ((xinfo & XINFO_HAS_RELFILENODES) &&
	    !read_count(data, len, &off, 12))
		return false;
	if (major >= 15 && (xinfo & XINFO_HAS_DROPPED_STATS) &&
	    !read_count(data, len, &off, 12))
		return false;
	if (commit && (xinfo & XINFO_HAS_INVALS) &&
	    !read_count(data, len, &off, 16))
		return false;
	if (!(xinfo & XINFO_HAS_TWOPHASE) || off + 4 > len)
		return false;
	memcpy(xid, data + off, 4);
	return true;
}

static void classify_xact(const struct wal_reader *r,
			  const struct wal_record *rec, struct xact *x)
{
	const unsigned char *data;
	uint32_t len;
	uint8_t op = rec->info & XLOG_XACT_OPMASK;
	bool prepared = op == XLOG_XACT_COMMIT_PREPARED ||
			op == XLOG_XACT_ABORT_PREPARED;

	memset(x, 0, sizeof(*x));
	if (rec->rmid != RM_XACT_ID ||
	    !(op == XLOG_XACT_COMMIT || op == XLOG_XACT_ABORT || prepared))
		return;
	if (pitr_wal_main_data(r, rec, &data, &len) != 0 || len < 8)
		return;
	x->is_commit =
		op == XLOG_XACT_COMMIT || op == XLOG_XACT_COMMIT_PREPARED;
	memcpy(&x->time, data, 8);
	x->xid = rec->xid;
	if (prepared && !twophase_xid(data, len, rec->info, x->is_commit,
				      r->major, &x->xid))
		return;
	x->is_xact = true;
}

uint64_t pitr_full_xid(uint64_t next_full, uint32_t xid)
{
	int32_t diff = (int32_t)(xid - (uint32_t)next_full);

	/* Never below epoch 0: an xid "before" the first ones is of epoch 0. */
	if (diff < 0 && (uint64_t) - (int64_t)diff > next_full)
		return xid;
	return next_full + (uint64_t)(int64_t)diff;
}

const char *pitr_target_describe(const struct pitr_target *t, char *buf,
				 size_t len)
{
	char when[PG_TIME_TEXT], lsn[LSN_TEXT];
	const char *incl = t->exclusive ? "exclusive" : "inclusive";

	switch (t->kind) {
	case TARGET_END:
		snprintf(buf, len, "the end of the archive");
		break;
	case TARGET_TIME:
		snprintf(buf, len, "time %s (%s)",
			 pitr_pg_time_format(t->time, when), incl);
		break;
	case TARGET_LSN:
		snprintf(buf, len, "LSN %s (%s)", pitr_lsn_format(t->lsn, lsn),
			 incl);
		break;
	case TARGET_XID:
		if (t->has_epoch)
			snprintf(buf, len, "transaction %u of epoch %u (%s)",
				 t->xid, t->epoch, incl);
		else
			snprintf(buf, len, "transaction %u (%s)", t->xid, incl);
		break;
	case TARGET_NAME:
		snprintf(buf, len, "restore point \"%s\"", t->name);
		break;
	case TARGET_IMMEDIATE:
		snprintf(buf, len,
			 "immediate (as soon as the backup is consistent)");
		break;
	}
	return buf;
}

static void describe_xact_stop(struct stop_point *s, const char *how,
			       const struct xact *x)
{
	char when[PG_TIME_TEXT];

	snprintf(s->what, sizeof(s->what), "%s %s of transaction %u, time %s",
		 how, x->is_commit ? "commit" : "abort", x->xid,
		 pitr_pg_time_format(x->time, when));
}

/* Whether replay stops before REC (recoveryStopsBefore). */
static bool stops_before(const struct pitr_target *t,
			 const struct wal_record *rec, const struct xact *x,
			 struct stop_point *s)
{
	char lsn[LSN_TEXT];

	if (t->kind == TARGET_LSN && t->exclusive && rec->lsn >= t->lsn) {
		snprintf(s->what, sizeof(s->what),
			 "before WAL location (LSN) \"%s\"",
			 pitr_lsn_format(t->lsn, lsn));
		return true;
	}
	if (!x->is_xact)
		return false;
	if ((t->kind == TARGET_XID && t->exclusive && x->xid == t->xid) ||
	    (t->kind == TARGET_TIME &&
	     (t->exclusive ? x->time >= t->time : x->time > t->time))) {
		describe_xact_stop(s, "before", x);
		return true;
	}
	return false;
}

/* Whether replay stops after REC (recoveryStopsAfter). */
static bool stops_after(const struct pitr_target *t,
			const struct wal_record *rec, const struct xact *x,
			const struct restore_point *rp, struct stop_point *s)
{
	char lsn[LSN_TEXT], when[PG_TIME_TEXT];

	if (t->kind == TARGET_NAME && rp && strcmp(rp->name, t->name) == 0) {
		snprintf(s->what, sizeof(s->what),
			 "at restore point \"%s\", time %s", rp->name,
			 pitr_pg_time_format(rp->time, when));
		return true;
	}
	if (t->kind == TARGET_LSN && !t->exclusive && rec->lsn >= t->lsn) {
		snprintf(s->what, sizeof(s->what),
			 "after WAL location (LSN) \"%s\"",
			 pitr_lsn_format(t->lsn, lsn));
		return true;
	}
	if (t->kind == TARGET_XID && !t->exclusive && x->is_xact &&
	    x->xid == t->xid) {
		describe_xact_stop(s, "after", x);
		return true;
	}
	return false;
}

/* recoveryStopsAfter(): 'immediate' ends replay after the record that
 * made the backup consistent. */
static bool stops_immediate(const struct pitr_target *t, struct path_scan *s)
{
	if (t->kind != TARGET_IMMEDIATE || !s->consistent)
		return false;
	snprintf(s->stop.what, sizeof(s->stop.what),
		 "after reaching consistency");
	return true;
}

static int add_restore_point(struct path_scan *s,
			     const struct restore_point *rp)
{
	s->rps = dbops_xreallocarray(s->rps, s->nrps + 1, sizeof(*s->rps));
	s->rps[s->nrps++] = *rp;
	return 0;
}

/*
 * A parameter change: the server that wrote the WAL was restarted with
 * other limits. A standby replaying it stops when its own are lower, so
 * the highest of each is kept.
 */
static void note_parameter_change(struct path_scan *s, lsn_t lsn,
				  const unsigned char *data, uint32_t len)
{
	enum { LIMITS = sizeof(s->wal_limit) / sizeof(s->wal_limit[0]) };

	if (len < 4 * LIMITS)
		return;
	for (int i = 0; i < LIMITS; i++) {
		int32_t v;

		memcpy(&v, data + 4 * i, 4);
		if (!s->has_wal_limits || v > s->wal_limit[i]) {
			s->wal_limit[i] = v;
			s->wal_limit_lsn[i] = lsn;
		}
	}
	s->has_wal_limits = true;
}

/* Whether REC is an XLOG record note_xlog_record() takes facts from. */
static bool xlog_noted(const struct wal_record *rec)
{
	uint8_t op = rec->info & 0xF0;

	return rec->rmid == RM_XLOG_ID &&
	       (op == XLOG_RESTORE_POINT || op == XLOG_BACKUP_END ||
		op == XLOG_CHECKPOINT_SHUTDOWN ||
		op == XLOG_CHECKPOINT_ONLINE || op == XLOG_END_OF_RECOVERY ||
		op == XLOG_PARAMETER_CHANGE);
}

/* Facts of XLOG records: restore points, end of backup, checkpoints, timeline switches. */
static int note_xlog_record(struct path_scan *s, const struct wal_record *rec,
			    struct restore_point *rp, bool *is_rp,
			    int64_t *checkpoint_time, uint32_t *replay_tli)
{
	const unsigned char *data;
	uint32_t len;
	uint8_t op = rec->info & 0xF0;

	*is_rp = false;
	if (!xlog_noted(rec))
		return 0;
	if (pitr_wal_main_data(&s->reader, rec, &data, &len) != 0)
		return 0;
	if (op == XLOG_PARAMETER_CHANGE) {
		note_parameter_change(s, rec->lsn, data, len);
		return 0;
	}
	if (op == XLOG_RESTORE_POINT && len >= 8 + RESTORE_POINT_NAME_MAX) {
		memset(rp, 0, sizeof(*rp));
		memcpy(&rp->time, data, 8);
		memcpy(rp->name, data + 8, RESTORE_POINT_NAME_MAX - 1);
		rp->lsn = rec->lsn;
		rp->end = rec->end;
		rp->before_consistency = !s->consistent;
		*is_rp = true;
		return add_restore_point(s, rp);
	}
	if (op == XLOG_BACKUP_END && len >= 8 && !s->start.from_standby) {
		lsn_t backup_start;

		memcpy(&backup_start, data, 8);
		if (backup_start == s->start.redo_lsn && !s->consistent) {
			s->consistent = true;
			s->consistency_lsn = rec->end;
		}
		return 0;
	}
	if ((op == XLOG_CHECKPOINT_ONLINE || op == XLOG_CHECKPOINT_SHUTDOWN) &&
	    len >= CHECKPOINT_XID_OFFSET + 8) {
		memcpy(&s->next_full_xid, data + CHECKPOINT_XID_OFFSET, 8);
		s->has_next_full_xid = true;
	}
	if ((op == XLOG_CHECKPOINT_ONLINE || op == XLOG_CHECKPOINT_SHUTDOWN) &&
	    rec->lsn == s->start.checkpoint_lsn &&
	    len >= CHECKPOINT_TIME_OFFSET + 8) {
		int64_t unix_s, pg_s, pg_us;

		/* 8 bytes of WAL: a time that does not fit is none. */
		memcpy(&unix_s, data + CHECKPOINT_TIME_OFFSET, 8);
		if (!__builtin_sub_overflow(unix_s, PG_EPOCH_UNIX_SECONDS,
					    &pg_s) &&
		    !__builtin_mul_overflow(pg_s, 1000000LL, &pg_us))
			*checkpoint_time = pg_us;
	}
	if ((op == XLOG_CHECKPOINT_SHUTDOWN || op == XLOG_END_OF_RECOVERY) &&
	    len >= 12) {
		uint32_t tli;

		memcpy(&tli, data + 8, 4);
		if (tli != *replay_tli)
			*replay_tli = tli;
	}
	return 0;
}

static void finish_window(struct path_scan *s, int64_t pre_max,
			  bool has_pre_max, int64_t checkpoint_time)
{
	if (!s->consistent)
		return;
	s->has_min_time = true;
	s->min_time = checkpoint_time;
	if (has_pre_max && pre_max > s->min_time)
		s->min_time = pre_max;
}

/* What a scan carries from one record to the next. */
struct scan_state {
	const struct scan_start *start;
	const struct pitr_target *target;
	bool want_stop;
	int64_t pre_max, checkpoint_time;
	bool has_pre_max;
	uint32_t replay_tli;
	lsn_t applied_end;
	struct wal_record rec; /* the record replay stops at, if it does */
};

/* The time of a transaction record REC, X, after the others. */
static void note_xact(struct path_scan *out, struct scan_state *st,
		      const struct wal_record *rec, const struct xact *x)
{
	out->prev_xact_time = out->last_xact_time;
	out->has_prev_xact = out->has_last_xact;
	out->last_xact_lsn = rec->lsn;
	out->last_xact_time = x->time;
	out->has_last_xact = true;
	if (!out->consistent) {
		if (!st->has_pre_max || x->time > st->pre_max)
			st->pre_max = x->time;
		st->has_pre_max = true;
	} else if (!out->has_max_xact || x->time > out->max_xact_time) {
		out->max_xact_time = x->time;
		out->max_xact_lsn = rec->lsn;
		out->max_xact_xid = x->xid;
		out->has_max_xact = true;
	}
}

/*
 * Look at REC as recovery would: 1 when replay stops at it (out->stop
 * says how), -1 on error, 0 to go on.
 */
static int scan_record(struct path_scan *out, struct scan_state *st,
		       const struct wal_record *next)
{
	const struct pitr_target *target = st->target;
	const struct wal_record *rec = next;
	struct xact x;
	struct restore_point rp;
	bool is_rp;

	classify_xact(&out->reader, rec, &x);
	if (st->want_stop && stops_before(target, rec, &x, &out->stop)) {
		out->stop.found = out->stop.before = true;
		out->stop.record_lsn = rec->lsn;
		st->rec = *rec;
		return 1;
	}
	if (note_xlog_record(out, rec, &rp, &is_rp, &st->checkpoint_time,
			     &st->replay_tli) != 0)
		return -1;
	if (st->start->from_standby && st->start->end_lsn && !out->consistent &&
	    rec->end >= st->start->end_lsn) {
		out->consistent = true;
		out->consistency_lsn = rec->end;
	}
	st->applied_end = rec->end;
	out->last_record_lsn = rec->lsn;
	out->end_lsn = rec->end;
	/* The server notes a transaction's time in recoveryStopsAfter(),
	 * after its LSN check: a record that ends replay by LSN leaves the
	 * time of the transaction before. */
	bool lsn_stop = st->want_stop && target->kind == TARGET_LSN &&
			!target->exclusive && rec->lsn >= target->lsn;
	if (x.is_xact && !lsn_stop)
		note_xact(out, st, rec, &x);
	if (st->want_stop &&
	    (stops_immediate(target, out) ||
	     stops_after(target, rec, &x, is_rp ? &rp : NULL, &out->stop))) {
		out->stop.found = true;
		out->stop.record_lsn = rec->lsn;
		st->rec = *rec;
		return 1;
	}
	return 0;
}

/* What is left to work out once reading is over. */
static void scan_finish(struct path_scan *out, struct scan_state *st)
{
	if (out->stop.found) {
		struct stop_point *sp = &out->stop;
		struct xact x;

		classify_xact(&out->reader, &st->rec, &x);
		sp->xid = x.xid;
		sp->time = x.time;
		sp->has_time = x.is_xact;
		sp->is_commit = x.is_commit;
		sp->replay_end = sp->before ? st->applied_end : st->rec.end;
		sp->consistent = out->consistent;
		sp->tli = st->replay_tli;
		sp->last_xact_time = out->last_xact_time;
		sp->has_last_xact = out->has_last_xact;
		if (st->target->kind == TARGET_NAME) {
			sp->has_time = true;
			sp->time = out->rps[out->nrps - 1].time;
		}
	}
	out->last_segno = out->reader.segno == UINT64_MAX ? out->first_segno
							  : out->reader.segno;
	out->segments = out->reader.segments_read;
	out->major = out->reader.major;
	out->sysid = out->reader.sysid;
	finish_window(out, st->pre_max, st->has_pre_max,
		      st->checkpoint_time == INT64_MIN ? INT64_MIN
						       : st->checkpoint_time);
	if (out->has_min_time && out->min_time == INT64_MIN)
		out->has_min_time = st->has_pre_max,
		out->min_time = st->pre_max;
}

/*
 * Chunks: while the reader reads the path from its start, other threads
 * read it, each with a reader of its own, from the first record of a
 * later segment (CHUNK_SEGMENTS of them, the last chunk first), quietly,
 * with every check, keeping only the records the scan looks at besides
 * taking them for the last one read (scan_wants()). When the reader comes
 * to a chunk, it takes the chunk's reader over if that one started where
 * it would read next and made there the checks it would make
 * (pitr_wal_reader_join()); then it looks at the chunk's records and is
 * where the chunk's reader stopped, as if it had read them all itself:
 * same records, same stop, same message. Otherwise (a chunk no thread
 * took, or a join refused) it reads the chunk's segments itself.
 */
#define CHUNK_SEGMENTS 2

enum chunk_state {
	CHUNK_IDLE,
	CHUNK_RUNNING, /* a thread reads it */
	CHUNK_DONE,
	CHUNK_TAKEN, /* the reader came to it first: nobody reads it */
};

struct chunk_rec {
	struct wal_record rec; /* its data in the chunk's DATA at OFF */
	size_t off;
	lsn_t prev_end; /* where the record before it ended; 0: in no chunk */
};

struct scan_chunk {
	uint64_t first, end; /* the records that start in segments FIRST to
				END - 1 (and on to the end of the WAL, for the
				last chunk) */
	enum chunk_state state;
	struct wal_reader r;
	bool any;		  /* it read a record: */
	lsn_t last_lsn, last_end; /* the last one */
	bool standby_seen;
	struct chunk_rec *recs;
	size_t nrecs, recs_cap;
	unsigned char *data;
	size_t len, cap;
};

struct scan_job {
	const struct wal_archive *arc;
	const struct tl_history *hist;
	const struct scan_start *start;
	const struct pitr_target *target;
	struct path_scan *out;
	bool want_stop;
	struct scan_chunk *chunks;
	size_t nchunks, next; /* NEXT: the first the reader has not come to */
	atomic_bool cancel;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int rc;
};

static bool is_restore_point(const struct wal_record *rec)
{
	return rec->rmid == RM_XLOG_ID &&
	       (rec->info & 0xF0) == XLOG_RESTORE_POINT;
}

/*
 * Whether scan_record() does more with REC, read by chunk C's reader,
 * than note it as the last record read; *STOPS: whether replay may stop
 * at it, whatever came before (stops_before() and stops_after() depend
 * on the record alone; every restore point for a name target).
 */
static bool scan_wants(const struct scan_job *j, struct scan_chunk *c,
		       const struct wal_record *rec, bool *stops)
{
	struct xact x;
	struct stop_point scratch;

	classify_xact(&c->r, rec, &x);
	*stops = j->want_stop &&
		 (stops_before(j->target, rec, &x, &scratch) ||
		  stops_after(j->target, rec, &x, NULL, &scratch) ||
		  (j->target->kind == TARGET_NAME && is_restore_point(rec)));
	if (*stops || x.is_xact || xlog_noted(rec))
		return true;
	if (j->start->from_standby && j->start->end_lsn && !c->standby_seen &&
	    rec->end >= j->start->end_lsn) {
		c->standby_seen = true;
		return true;
	}
	return false;
}

static void chunk_keep(struct scan_chunk *c, const struct wal_record *rec,
		       lsn_t prev_end)
{
	struct chunk_rec *cr;

	if (c->nrecs == c->recs_cap) {
		c->recs_cap = c->recs_cap ? 2 * c->recs_cap : 64;
		c->recs = dbops_xreallocarray(c->recs, c->recs_cap,
					      sizeof(*c->recs));
	}
	if (c->cap - c->len < rec->tot_len) {
		while (c->cap - c->len < rec->tot_len)
			c->cap = c->cap ? 2 * c->cap : 65536;
		c->data = dbops_xreallocarray(c->data, c->cap, 1);
	}
	cr = &c->recs[c->nrecs++];
	cr->rec = *rec;
	cr->rec.data = NULL;
	cr->off = c->len;
	cr->prev_end = prev_end;
	memcpy(c->data + c->len, rec->data, rec->tot_len);
	c->len += rec->tot_len;
}

/* Read chunk C (in a thread of its own). */
static void chunk_read(struct scan_job *j, struct scan_chunk *c)
{
	lsn_t limit = c->end * j->arc->seg_size, prev_end = 0;
	struct wal_record rec;
	unsigned n = 0;

	pitr_wal_reader_init(&c->r, j->arc, &j->out->hist, j->start->major,
			     j->start->sysid);
	c->r.quiet = true;
	if (pitr_wal_reader_seek_segment(&c->r, c->first) != 0)
		return;
	while (c->r.pos < limit && pitr_wal_next(&c->r, &rec) == 1) {
		bool stops;

		if (scan_wants(j, c, &rec, &stops))
			chunk_keep(c, &rec, prev_end);
		prev_end = rec.end;
		c->any = true;
		c->last_lsn = rec.lsn;
		c->last_end = rec.end;
		if (stops || (++n % 4096 == 0 && atomic_load(&j->cancel)))
			break;
	}
}

/* Chunk K, in a thread of dbops_parallel_for(). */
static void chunk_item(struct scan_job *j, size_t k)
{
	struct scan_chunk *c = &j->chunks[k];

	pthread_mutex_lock(&j->mu);
	if (atomic_load(&j->cancel) || c->state != CHUNK_IDLE) {
		pthread_mutex_unlock(&j->mu);
		return;
	}
	c->state = CHUNK_RUNNING;
	pthread_mutex_unlock(&j->mu);
	chunk_read(j, c);
	pthread_mutex_lock(&j->mu);
	c->state = CHUNK_DONE;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

/*
 * The chunk the reader R has come to, read (waiting for the thread at
 * it), or NULL when it has come to none (those no thread took are left
 * to it).
 */
static struct scan_chunk *chunk_reached(struct scan_job *j,
					const struct wal_reader *r)
{
	uint64_t seg = lsn_segno(r->pos, j->arc->seg_size);

	while (j->next < j->nchunks && seg >= j->chunks[j->next].first) {
		struct scan_chunk *c = &j->chunks[j->next++];

		pthread_mutex_lock(&j->mu);
		if (c->state == CHUNK_IDLE)
			c->state = CHUNK_TAKEN;
		while (c->state == CHUNK_RUNNING)
			pthread_cond_wait(&j->cv, &j->mu);
		pthread_mutex_unlock(&j->mu);
		if (c->state == CHUNK_DONE)
			return c;
	}
	return NULL;
}

/* The reader takes chunk C over when it can, and the scan looks at its
 * records: as scan_record(). */
static int chunk_join(struct scan_chunk *c, struct scan_state *st,
		      struct path_scan *out)
{
	lsn_t before = st->applied_end;

	if (!pitr_wal_reader_join(&out->reader, &c->r))
		return 0;
	for (size_t i = 0; i < c->nrecs; i++) {
		struct wal_record rec = c->recs[i].rec;
		int rc;

		rec.data = c->data + c->recs[i].off;
		st->applied_end =
			c->recs[i].prev_end ? c->recs[i].prev_end : before;
		rc = scan_record(out, st, &rec);
		if (rc != 0)
			return rc;
	}
	if (c->any) {
		st->applied_end = c->last_end;
		out->last_record_lsn = c->last_lsn;
		out->end_lsn = c->last_end;
	}
	return 0;
}

/* Read the path from the start, taking chunks over on the way. */
static int scan_serial(struct scan_job *j)
{
	struct path_scan *out = j->out;
	struct scan_state st = {
		.start = j->start,
		.target = j->target,
		.want_stop = j->want_stop,
		.checkpoint_time = INT64_MIN,
		.replay_tli = j->start->tli,
		.applied_end = j->start->redo_lsn,
	};
	struct wal_record rec;
	struct scan_chunk *c;
	int rc = 0;

	if (j->start->no_backup) {
		out->consistent = true;
		if (pitr_wal_reader_seek_segment(&out->reader,
						 out->first_segno) != 0)
			goto done;
	} else {
		pitr_wal_reader_seek(&out->reader, j->start->redo_lsn);
	}
	for (;;) {
		while (rc == 0 && (c = chunk_reached(j, &out->reader)) != NULL)
			rc = chunk_join(c, &st, out);
		if (rc == 0 && pitr_wal_next(&out->reader, &rec) == 1)
			rc = scan_record(out, &st, &rec);
		else if (rc == 0)
			break;
		if (rc < 0)
			return -1;
		if (rc > 0)
			break;
	}
done:
	scan_finish(out, &st);
	return 0;
}

int pitr_scan_jobs;

/* Item 0 is the reader; item I chunk NCHUNKS - I: the last first. */
static void scan_item(void *arg, size_t i)
{
	struct scan_job *j = arg;

	if (i > 0) {
		chunk_item(j, j->nchunks - i);
		return;
	}
	j->rc = scan_serial(j);
	atomic_store(&j->cancel, true);
}

static int scan_jobs(void)
{
	long n = pitr_scan_jobs;

	if (n <= 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > DBOPS_PARALLEL_MAX ? DBOPS_PARALLEL_MAX : (int)n;
}

/* The last segment of path HIST in ARC, or 0. */
static uint64_t last_path_segment(const struct wal_archive *arc,
				  const struct tl_history *hist)
{
	uint64_t last = 0;

	for (size_t i = 0; i < arc->nsegs; i++) {
		const struct archive_segment *s = &arc->segs[i];

		if (s->segno > last &&
		    pitr_timeline_file_tli(hist, s->segno, arc->seg_size) ==
			    s->tli)
			last = s->segno;
	}
	return last;
}

/* The chunks of segments FIRST to LAST in J. */
static void chunks_new(struct scan_job *j, uint64_t first, uint64_t last)
{
	j->nchunks = (size_t)((last - first + CHUNK_SEGMENTS) / CHUNK_SEGMENTS);
	j->chunks = dbops_xcalloc(j->nchunks, sizeof(*j->chunks));
	for (size_t k = 0; k < j->nchunks; k++) {
		struct scan_chunk *c = &j->chunks[k];

		c->first = first + k * CHUNK_SEGMENTS;
		c->end = c->first + CHUNK_SEGMENTS;
		if (c->end > last)
			c->end = last + 1;
		c->r.segno = UINT64_MAX;
	}
}

static void chunks_free(struct scan_job *j)
{
	for (size_t k = 0; k < j->nchunks; k++) {
		pitr_wal_reader_free(&j->chunks[k].r);
		free(j->chunks[k].recs);
		free(j->chunks[k].data);
	}
	free(j->chunks);
}

int pitr_scan_path(const struct wal_archive *arc, const struct tl_history *hist,
		   const struct scan_start *start,
		   const struct pitr_target *target,
		   void (*on_segment)(void *, uint64_t), void *arg,
		   struct path_scan *out)
{
	static const struct pitr_target to_end = { .kind = TARGET_END };
	struct scan_job j = { .arc = arc,
			      .hist = hist,
			      .start = start,
			      .target = target ? target : &to_end,
			      .out = out };
	uint64_t first = lsn_segno(start->redo_lsn, arc->seg_size);
	uint64_t last = last_path_segment(arc, hist);
	int jobs = scan_jobs();

	memset(out, 0, sizeof(*out));
	out->hist = *hist;
	out->start = *start;
	out->first_segno = first;
	if (pitr_wal_reader_init(&out->reader, arc, &out->hist, start->major,
				 start->sysid) != 0)
		return -1;
	out->reader.on_segment = on_segment;
	out->reader.on_segment_arg = arg;
	j.want_stop = j.target->kind != TARGET_END;
	atomic_init(&j.cancel, false);
	if (jobs == 1 || last <= first || j.target->kind == TARGET_IMMEDIATE)
		return scan_serial(&j);
	chunks_new(&j, first + 1, last);
	pthread_mutex_init(&j.mu, NULL);
	pthread_cond_init(&j.cv, NULL);
	dbops_parallel_for(&(struct dbops_parallel){
		.count = 1 + j.nchunks,
		.jobs = jobs,
		.body = scan_item,
		.arg = &j,
	});
	pthread_mutex_destroy(&j.mu);
	pthread_cond_destroy(&j.cv);
	chunks_free(&j);
	return j.rc;
}

void pitr_scan_free(struct path_scan *s)
{
	pitr_wal_reader_free(&s->reader);
	free(s->rps);
	s->rps = NULL;
	s->nrps = 0;
}

struct segment_count {
	struct dbops_progress *progress;
	uint64_t n;
};

static void count_segment(void *arg, uint64_t segno)
{
	struct segment_count *count = arg;

	(void)segno;
	dbops_progress_update(count->progress, ++count->n);
}

int pitr_scan_path_shown(const struct wal_archive *arc,
			 const struct tl_history *hist,
			 const struct scan_start *start,
			 const struct pitr_target *target, const char *label,
			 enum dbops_progress_mode when, struct path_scan *out)
{
	struct segment_count count = { 0 };
	int rc;

	count.progress =
		dbops_progress_new(label, 0, DBOPS_PROGRESS_ITEMS, when);
	rc = pitr_scan_path(arc, hist, start, target, count_segment, &count,
			    out);
	dbops_progress_finish(count.progress);
	return rc;
}
