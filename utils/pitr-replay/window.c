/*
 * window.c - the restorable window of every timeline in an archive.
 *
 * Rows (timeline, event, time, lsn, xid, name, detail):
 *	path           the timelines the path runs through
 *	backup         where replay starts (the base backup's redo LSN)
 *	earliest       the consistency point and the earliest target time
 *	restore point  one per XLOG_RESTORE_POINT record
 *	latest commit  the latest commit or abort time: targets end before it
 *	end            where the WAL of this path ends, and why; and when
 *	               its last part is only in a .partial segment
 *	gap            a missing segment (WAL after it cannot be replayed)
 *	problem        damaged or foreign WAL that stops replay
 */
#include "window.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "walarchive.h"
#include "backup.h"
#include "log.h"
#include "scan.h"
#include "timeline.h"
#include "xalloc.h"

struct row {
	uint32_t tli;
	const char *event;
	const char *time;
	const char *lsn;
	const char *xid;
	const char *name;
	const char *detail;
};

static int emit(struct dbops_output *w, const struct row *r)
{
	char tli[16];
	const char *values[7];

	snprintf(tli, sizeof(tli), "%u", r->tli);
	values[0] = tli;
	values[1] = r->event;
	values[2] = r->time;
	values[3] = r->lsn;
	values[4] = r->xid;
	values[5] = r->name;
	values[6] = r->detail;
	return dbops_output_row_strings(w, values);
}

/* The timelines of the archive, ascending. */
static size_t list_timelines(const struct wal_archive *arc, uint32_t *out,
			     size_t max)
{
	size_t n = 0;
	uint32_t newest = pitr_walarc_newest_tli(arc);

	for (uint32_t t = 1; t <= newest && n < max; t++) {
		bool has = pitr_walarc_has_history(arc, t);

		for (size_t i = 0; !has && i < arc->nsegs; i++)
			has = arc->segs[i].tli == t;
		if (has)
			out[n++] = t;
	}
	return n;
}

/* Where replay on path H starts: the base backup, else the oldest backup
 * history file on it, else the path's first segment. */
static bool choose_start(const struct wal_archive *arc,
			 const struct base_backup *b,
			 const struct tl_history *h, struct scan_start *start,
			 char *source, size_t len)
{
	const struct tl_entry *e;

	memset(start, 0, sizeof(*start));
	if (b) {
		start->redo_lsn = b->label.start_lsn;
		start->checkpoint_lsn = b->label.checkpoint_lsn;
		start->tli = b->label.start_tli;
		start->major = b->pg_major;
		start->sysid = b->system_id;
		start->from_standby = strcmp(b->label.from, "standby") == 0;
		start->end_lsn = b->manifest_end_lsn;
		snprintf(source, len, "%s", b->path);
		e = pitr_timeline_find(h, start->tli);
		return e && e->end > start->redo_lsn;
	}
	const struct archive_backup_file *best = NULL;
	for (size_t i = 0; i < arc->nbackups; i++) {
		const struct archive_backup_file *bk = &arc->backups[i];

		e = pitr_timeline_find(h, bk->tli);
		if (bk->start_lsn == 0 || !e || e->end <= bk->start_lsn)
			continue;
		if (!pitr_walarc_find_any(
			    arc,
			    pitr_timeline_file_tli(
				    h, lsn_segno(bk->start_lsn, arc->seg_size),
				    arc->seg_size),
			    lsn_segno(bk->start_lsn, arc->seg_size)))
			continue;
		if (best == NULL || bk->start_lsn < best->start_lsn)
			best = bk;
	}
	if (best == NULL)
		return false;
	start->redo_lsn = best->start_lsn;
	start->checkpoint_lsn = best->checkpoint_lsn;
	start->tli = best->tli;
	snprintf(source, len, "%s", best->name);
	return true;
}

/* The first segment of path H in the archive, for a scan without a backup. */
static bool first_segment(const struct wal_archive *arc,
			  const struct tl_history *h, uint64_t *segno)
{
	for (size_t i = 0; i < arc->nsegs; i++) {
		const struct archive_segment *s = &arc->segs[i];

		if (pitr_timeline_file_tli(h, s->segno, arc->seg_size) ==
			    s->tli &&
		    (*segno == UINT64_MAX || s->segno < *segno))
			*segno = s->segno;
	}
	return *segno != UINT64_MAX;
}

static int emit_gaps(struct dbops_output *w, const struct wal_archive *arc,
		     const struct tl_history *h, uint32_t tli, uint64_t from)
{
	uint64_t last = 0;
	bool any = false;

	for (size_t i = 0; i < arc->nsegs; i++) {
		const struct archive_segment *s = &arc->segs[i];

		if (s->segno >= from &&
		    pitr_timeline_file_tli(h, s->segno, arc->seg_size) ==
			    s->tli &&
		    s->segno > last) {
			last = s->segno;
			any = true;
		}
	}
	for (uint64_t n = from; any && n < last; n++) {
		uint32_t file_tli = pitr_timeline_file_tli(h, n, arc->seg_size);
		char name[25], lsn[LSN_TEXT];

		if (pitr_walarc_find_any(arc, file_tli, n))
			continue;
		pitr_wal_segment_name(file_tli, n, arc->seg_size, name);
		pitr_lsn_format(n * arc->seg_size, lsn);
		if (emit(w,
			 &(struct row){
				 tli, "gap", NULL, lsn, NULL, name,
				 "missing from the archive; WAL after it cannot be replayed" }) !=
		    0)
			return -1;
	}
	return 0;
}

/* Whether LSN is in the .partial segment S read (pg_receivewal's). */
static bool in_partial(const struct path_scan *s, lsn_t lsn)
{
	return s->reader.partial_file[0] != '\0' &&
	       lsn >= s->reader.partial_lsn;
}

/* The end row: where the WAL of the path ends and why, a problem when it
 * is not a clean end; and whether its last part is in a .partial file. */
static int emit_end(struct dbops_output *w, const struct wal_archive *arc,
		    uint32_t tli, const struct path_scan *s)
{
	const struct wal_reader *r = &s->reader;
	bool bad = r->stop != WAL_STOP_END && r->stop != WAL_STOP_NONE;
	char detail[DBOPS_ERR_MAX + 400], lsn[LSN_TEXT], from[LSN_TEXT];
	int n;

	n = snprintf(detail, sizeof(detail), "%s%s%s", bad ? r->stop_file : "",
		     bad ? ": " : "", r->error.msg);
	if (r->partial_file[0] != '\0' && n >= 0 && (size_t)n < sizeof(detail))
		snprintf(
			detail + n, sizeof(detail) - (size_t)n,
			"; the WAL from %s on is only in the .partial segment \"%s\" (pg_receivewal's unfinished segment): restore copies it into pg_wal under the segment's name",
			pitr_lsn_format(r->partial_lsn, from), r->partial_file);
	if (bad)
		dbops_log_warning("timeline %u: \"%s/%s\": %s", tli, arc->dir,
				  r->stop_file, r->error.msg);
	return emit(w, &(struct row){ tli, bad ? "problem" : "end", NULL,
				      pitr_lsn_format(s->end_lsn, lsn), NULL,
				      NULL, detail });
}

/* pitr_scan_path() with a progress line (--progress) counting the segments. */
static int scan_timeline(const struct window_opts *o,
			 const struct wal_archive *arc,
			 const struct tl_history *h,
			 const struct scan_start *start, uint32_t tli,
			 struct path_scan *s)
{
	char label[64];

	snprintf(label, sizeof(label), "timeline %u: segments", tli);
	return pitr_scan_path_shown(arc, h, start, NULL, label, o->progress, s);
}

/*
 * The rows of timeline TLI. *DAMAGED is set when its WAL stops before its
 * end (damage, a gap, another cluster's WAL): the window is printed, and
 * the exit status says so.
 */
static int window_of(struct dbops_output *w, const struct window_opts *o,
		     const struct wal_archive *arc, const struct base_backup *b,
		     uint32_t tli, bool *damaged)
{
	struct tl_history h;
	struct scan_start start;
	struct path_scan s;
	char path[512], source[PATH_MAX], lsn[LSN_TEXT], when[PG_TIME_TEXT],
		xid[16];
	char detail[DBOPS_ERR_MAX + 80]; /* stop_file, ": ", reader.error */
	uint64_t first = UINT64_MAX;
	bool have_start;
	int rc = 0;

	if (pitr_timeline_load(arc, tli, &h) != 0)
		return emit(w, &(struct row){
				       tli, "problem", NULL, NULL, NULL, NULL,
				       "its history file cannot be read" });
	pitr_timeline_describe(&h, path, sizeof(path));
	if (emit(w, &(struct row){ tli, "path", NULL, NULL, NULL, NULL,
				   path }) != 0)
		return -1;
	have_start = choose_start(arc, b, &h, &start, source, sizeof(source));
	if (!have_start && b) {
		snprintf(
			detail, sizeof(detail),
			"not reachable from the base backup: timeline %u does not pass through its timeline %u after %s",
			tli, b->label.start_tli,
			pitr_lsn_format(b->label.start_lsn, lsn));
		return emit(w, &(struct row){ tli, "problem", NULL, NULL, NULL,
					      NULL, detail });
	}
	if (!have_start) {
		if (!first_segment(arc, &h, &first))
			return emit(
				w,
				&(struct row){
					tli, "problem", NULL, NULL, NULL, NULL,
					"no segment of this path in the archive" });
		start.redo_lsn = first * arc->seg_size;
		start.tli = h.e[0].tli;
		start.no_backup = true;
	}
	if (scan_timeline(o, arc, &h, &start, tli, &s) != 0)
		return -1;
	if (have_start &&
	    emit(w, &(struct row){ tli, "backup", NULL,
				   pitr_lsn_format(start.redo_lsn, lsn), NULL,
				   NULL, source }) != 0)
		rc = -1;
	if (rc == 0 && have_start && s.consistent)
		rc = emit(w,
			  &(struct row){
				  tli, "earliest",
				  s.has_min_time ? pitr_pg_time_format(
							   s.min_time, when)
						 : NULL,
				  pitr_lsn_format(s.consistency_lsn, lsn), NULL,
				  NULL,
				  "consistency point: the earliest target" });
	else if (rc == 0 && have_start)
		rc = emit(
			w,
			&(struct row){
				tli, "problem", NULL, NULL, NULL, NULL,
				s.reader.stop == WAL_STOP_END ||
						s.reader.stop == WAL_STOP_NONE
					? "the WAL ends before the base backup's end-of-backup record"
					: "the base backup's end-of-backup record is not reached: reading stopped on the problem below" });
	for (size_t i = 0; rc == 0 && i < s.nrps; i++)
		rc = emit(
			w,
			&(struct row){
				tli, "restore point",
				pitr_pg_time_format(s.rps[i].time, when),
				pitr_lsn_format(s.rps[i].lsn, lsn), NULL,
				s.rps[i].name,
				s.rps[i].before_consistency
					? "before the consistency point: not a usable target"
				: in_partial(&s, s.rps[i].lsn)
					? "only in the .partial segment (see the end row)"
					: NULL });
	if (rc == 0 && s.has_max_xact) {
		snprintf(xid, sizeof(xid), "%u", s.max_xact_xid);
		rc = emit(
			w,
			&(struct row){
				tli, "latest commit",
				pitr_pg_time_format(s.max_xact_time, when),
				pitr_lsn_format(s.max_xact_lsn, lsn), xid, NULL,
				in_partial(&s, s.max_xact_lsn)
					? "time targets must be before it; only in the .partial segment (see the end row)"
					: "time targets must be before it" });
	}
	if (rc == 0)
		rc = emit_end(w, arc, tli, &s);
	if (s.reader.stop != WAL_STOP_END && s.reader.stop != WAL_STOP_NONE)
		*damaged = true;
	if (rc == 0)
		rc = emit_gaps(w, arc, &h, tli,
			       lsn_segno(start.redo_lsn, arc->seg_size));
	pitr_scan_free(&s);
	return rc;
}

int pitr_window_run(const struct window_opts *o)
{
	struct wal_archive arc;
	struct base_backup backup;
	struct dbops_output *w;
	uint32_t tlis[1024];
	size_t n;
	int rc = 0;
	bool damaged = false;

	if (o->base && pitr_backup_open(o->base, &backup) != 0)
		return 1;
	if (pitr_walarc_open(o->archive, &arc) != 0) {
		if (o->base)
			pitr_backup_free(&backup);
		return 1;
	}
	w = dbops_output_new(stdout, o->format);
	if (w == NULL)
		dbops_xalloc_failed();
	static const char *const columns[] = { "timeline", "event", "time",
					       "lsn",	   "xid",   "name",
					       "detail" };
	for (size_t i = 0; i < 7; i++)
		dbops_output_add_column(w, columns[i],
					i == 0 || i == 4 ? DBOPS_COLUMN_NUMBER
							 : DBOPS_COLUMN_TEXT);
	n = list_timelines(&arc, tlis, 1024);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = window_of(w, o, &arc, o->base ? &backup : NULL, tlis[i],
			       &damaged);
	if (dbops_output_finish(w) != 0 && rc == 0) {
		dbops_log_error("could not write the window: %s",
				strerror(errno));
		rc = -1;
	}
	dbops_output_free(w);
	pitr_walarc_close(&arc);
	if (o->base)
		pitr_backup_free(&backup);
	return rc == 0 && !damaged ? 0 : 1;
}
