/*
 * verify.c - everything recovery needs, checked before a server starts.
 */
#include "verify.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "instance.h"
#include "log.h"
#include "mfcheck.h"
#include "output.h"
#include "pgconf.h"
#include "timestamp.h"
#include "walbackup.h"

int pitr_find_server_binaries(int major, const char *given, char *bindir)
{
	char prog[PATH_MAX + 16];

	if (dbops_pg_bindir(major, given, bindir, PATH_MAX) == 0)
		return 0;
	snprintf(prog, sizeof(prog), "%s/postgres", bindir);
	if (given) {
		dbops_log_error(
			"\"%s\": no PostgreSQL server program there (--pg-bindir)",
			prog);
		return -1;
	}
	dbops_log_error(
		"the base backup is PostgreSQL %d, whose server binaries are not installed: no %s",
		major, prog);
	dbops_log_hint(
		"install the Debian package postgresql-%d (apt-get install postgresql-%d), or give --pg-bindir DIR",
		major, major);
	return -1;
}

/*
 * The history of TLI into P. The backup's own timeline needs no history
 * file: PostgreSQL starts on it from the backup's checkpoint and reads its
 * history, when missing, as having no parents (readTimeLineHistory()).
 */
static int load_history(struct plan *p, uint32_t tli)
{
	p->tli = tli;
	snprintf(p->tli_setting, sizeof(p->tli_setting), "%u", tli);
	if (tli != 1 && tli == p->start.tli &&
	    !pitr_walarc_has_history(&p->arc, tli)) {
		pitr_timeline_single(tli, &p->hist);
		snprintf(p->tli_setting, sizeof(p->tli_setting), "current");
		dbops_log_info(
			"no history file \"%s/%08X.history\" for the base backup's timeline %u: recovery starts on it from the backup and does not need its history, as in PostgreSQL",
			p->arc.dir, tli, tli);
		return 0;
	}
	return pitr_timeline_load(&p->arc, tli, &p->hist);
}

/* What the archive holds of timeline TLI, for messages. */
static const char *what_archive_has(const struct wal_archive *arc, uint32_t tli)
{
	bool wal = pitr_timeline_has_wal(arc, tli);
	bool history = pitr_walarc_has_history(arc, tli);

	return wal && history ? "WAL segments and a history file"
	       : wal	      ? "WAL segments"
			      : "a history file";
}

/*
 * recovery_target_timeline=latest stopped at NEWEST because the history
 * file of NEWEST + 1 is missing: say so when the archive knows of a later
 * timeline, and how to follow it.
 */
static void report_missing_history(const struct plan *p, uint32_t newest)
{
	uint32_t known = pitr_walarc_newest_tli(&p->arc);
	uint32_t missing = newest + 1;

	if (known <= newest)
		return;
	dbops_log_warning(
		"no history file \"%s/%08X.history\" in the archive: following timeline %u, as PostgreSQL's recovery_target_timeline=latest does (it looks for history files from the backup's timeline %u upward and stops at the first one missing), although the archive has %s of timeline %u",
		p->arc.dir, missing, newest, p->start.tli,
		what_archive_has(&p->arc, known), known);
	if (pitr_walarc_has_history(&p->arc, known))
		dbops_log_hint(
			"to follow timeline %u, put %08X.history back into the archive or give --timeline %u",
			known, missing, known);
	else if (missing == known)
		dbops_log_hint(
			"to follow timeline %u, put %08X.history back into the archive",
			known, missing);
	else
		dbops_log_hint(
			"to follow timeline %u, put the missing history files (%08X.history to %08X.history) back into the archive",
			known, missing, known);
}

/* Whether timeline TLI's path leaves the backup's timeline after START. */
static bool descends(const struct tl_history *h, const struct scan_start *start,
		     const struct tl_entry **entry)
{
	*entry = pitr_timeline_find(h, start->tli);
	return *entry && (*entry)->end > start->redo_lsn;
}

/*
 * recovery_target_timeline=latest. When the timeline PostgreSQL would
 * choose does not descend from the backup (PostgreSQL refuses to start
 * then), the next older one that does is followed, with a warning.
 */
static int choose_latest(struct plan *p)
{
	uint32_t newest = pitr_timeline_newest(&p->arc, p->start.tli);
	const struct tl_entry *e;

	report_missing_history(p, newest);
	for (uint32_t t = newest; t > p->start.tli; t--) {
		if (load_history(p, t) != 0)
			return -1;
		if (descends(&p->hist, &p->start, &e))
			return 0;
		dbops_log_warning(
			"timeline %u, which recovery_target_timeline=latest would follow, does not descend from the base backup's timeline %u after the backup (PostgreSQL would refuse to start); trying timeline %u",
			t, p->start.tli, t - 1);
	}
	return load_history(p, p->start.tli);
}

static int choose_numeric(const struct verify_opts *o, struct plan *p)
{
	uint32_t tli = o->timeline;

	if (tli != p->start.tli && tli != 1 &&
	    !pitr_walarc_has_history(&p->arc, tli) &&
	    pitr_walarc_newest_tli(&p->arc) < tli) {
		dbops_log_error(
			"recovery target timeline %u does not exist in %s: the newest timeline there is %u",
			tli, p->arc.dir, pitr_walarc_newest_tli(&p->arc));
		return -1;
	}
	return load_history(p, tli);
}

static int choose_timeline(const struct verify_opts *o, struct plan *p)
{
	const struct tl_entry *e;
	char path[512], lsn[LSN_TEXT], at[LSN_TEXT];
	int rc;

	if (o->timeline_goal == TIMELINE_NUMERIC)
		rc = choose_numeric(o, p);
	else if (o->timeline_goal == TIMELINE_CURRENT)
		rc = load_history(p, p->start.tli);
	else
		rc = choose_latest(p);
	if (rc != 0)
		return -1;
	if (!descends(&p->hist, &p->start, &e)) {
		pitr_lsn_format(p->start.redo_lsn, lsn);
		pitr_timeline_describe(&p->hist, path, sizeof(path));
		if (e == NULL)
			dbops_log_error(
				"timeline %u does not descend from the base backup's timeline %u: its history is %s",
				p->tli, p->start.tli, path);
		else
			dbops_log_error(
				"timeline %u forked from the base backup's timeline %u at %s, before the backup started at %s",
				p->tli, p->start.tli,
				pitr_lsn_format(e->end, at), lsn);
		dbops_log_hint(
			"choose a timeline whose history passes through timeline %u after %s (see pitr-replay window), or a base backup taken on the target timeline",
			p->start.tli, lsn);
		return -1;
	}
	return 0;
}

/* The WAL could not be read as far as needed: say where and why. */
static int report_read_stop(const struct plan *p)
{
	const struct wal_reader *r = &p->scan.reader;
	char where[PATH_MAX + 128];

	if (r->stop == WAL_STOP_IO)
		return -1; /* reported where it happened */
	if (r->segfile != NULL && r->segfile->in_backup &&
	    strcmp(r->segfile->name, r->stop_file) == 0)
		pitr_walbackup_where(&p->backup, r->stop_file, where,
				     sizeof(where));
	else
		snprintf(where, sizeof(where), "%s/%s", p->arc.dir,
			 r->stop_file);
	dbops_log_error("\"%s\": %s", where, r->error.msg);
	if (p->target.kind != TARGET_END) {
		char t[256], lsn[LSN_TEXT];

		/* Not "no such target": it may well be after the stop. */
		dbops_log_detail(
			"the target, %s, is not in the WAL before %s (%s), where recovery would stop: it cannot be reached",
			pitr_target_describe(&p->target, t, sizeof(t)),
			pitr_lsn_format(r->stop_lsn, lsn), r->stop_file);
	}
	if (r->stop == WAL_STOP_GAP && strlen(r->stop_file) > 24)
		dbops_log_hint(
			"recovery would stop there; decompress it into the archive as %.24s",
			r->stop_file);
	else if (r->stop == WAL_STOP_GAP)
		dbops_log_hint(
			"recovery would stop at the gap: the base backup's own pg_wal does not have the segment either; copy it into the archive");
	else if (r->stop == WAL_STOP_FOREIGN)
		dbops_log_hint(
			"this file does not belong to the base backup's cluster; remove it from the archive or use the matching base backup");
	else if (r->stop == WAL_STOP_CORRUPT)
		dbops_log_hint(
			"the segment is damaged; recovery would stop there. Restore a good copy of it into the archive");
	return -1;
}

static int report_before_consistency(const struct plan *p)
{
	const struct path_scan *s = &p->scan;
	struct path_scan whole;
	char t[256], lsn[LSN_TEXT], when[PG_TIME_TEXT], at[LSN_TEXT];

	pitr_target_describe(&p->target, t, sizeof(t));
	/* A time target: read on to the consistency point to say which time
	 * is the earliest that works. */
	if (p->target.kind == TARGET_TIME && !s->has_min_time &&
	    pitr_scan_path(&p->arc, &p->hist, &p->start, NULL, NULL, NULL,
			   &whole) == 0) {
		if (whole.has_min_time) {
			dbops_log_error(
				"target %s is before the base backup's consistency point %s: the earliest reachable time is %s",
				t, pitr_lsn_format(whole.consistency_lsn, lsn),
				pitr_pg_time_format(whole.min_time, when));
			pitr_scan_free(&whole);
			return -1;
		}
		pitr_scan_free(&whole);
	}
	if (!s->consistent || !s->has_min_time) {
		dbops_log_error(
			"target %s is before the base backup's consistency point: recovery would stop %s, at %s, before the end-of-backup record",
			t, s->stop.what,
			pitr_lsn_format(s->stop.record_lsn, at));
		return -1;
	}
	dbops_log_error(
		"target %s is before the base backup's consistency point %s: the earliest reachable time is %s",
		t, pitr_lsn_format(s->consistency_lsn, lsn),
		pitr_pg_time_format(s->min_time, when));
	return -1;
}

/* Whether a restore point before the Ith of S has the same name. */
static bool restore_point_named_before(const struct path_scan *s, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(s->rps[j].name, s->rps[i].name) == 0)
			return true;
	return false;
}

/*
 * A name or xid target not found on the chosen path may be on another
 * timeline from the backup (a restore point made on timeline 1 after the
 * fork of the newest): hint at the newest one that reaches it. Read only on
 * this error path.
 */
static void hint_other_timeline(const struct plan *p)
{
	for (uint32_t t = pitr_walarc_newest_tli(&p->arc); t >= 1; t--) {
		const struct tl_entry *e;
		struct tl_history h;
		struct path_scan s;
		bool reached;

		if (t == p->tli ||
		    (t != 1 && !pitr_walarc_has_history(&p->arc, t)))
			continue;
		if (pitr_timeline_load(&p->arc, t, &h) != 0 ||
		    !descends(&h, &p->start, &e))
			continue;
		reached = pitr_scan_path(&p->arc, &h, &p->start, &p->target,
					 NULL, NULL, &s) == 0 &&
			  s.stop.found && s.stop.consistent;
		pitr_scan_free(&s);
		if (reached) {
			dbops_log_hint(
				"timeline %u reaches it from this backup: add --timeline %u",
				t, t);
			return;
		}
	}
}

static int report_not_found(const struct plan *p)
{
	const struct path_scan *s = &p->scan;
	char lsn[LSN_TEXT], when[PG_TIME_TEXT], reach[PG_TIME_TEXT], path[512];

	pitr_timeline_describe(&p->hist, path, sizeof(path));
	switch (p->target.kind) {
	case TARGET_TIME:
		if (s->has_max_xact && s->max_xact_time == p->target.time) {
			dbops_log_error(
				"target time %s is the time of the last transaction in the archive, %u at %s (timeline %s): recovery stops at the first transaction after the target, and none follows",
				pitr_pg_time_format(p->target.time, when),
				s->max_xact_xid,
				pitr_lsn_format(s->max_xact_lsn, lsn), path);
			dbops_log_hint(
				"to recover up to and including it, give --target-xid %u, or no target to replay to the end",
				s->max_xact_xid);
		} else if (s->has_max_xact)
			dbops_log_error(
				"target time %s is beyond the last transaction in the archive: the archive reaches only to %s (timeline %s)",
				pitr_pg_time_format(p->target.time, when),
				pitr_pg_time_format(s->max_xact_time, reach),
				path);
		else
			dbops_log_error(
				"target time %s cannot be reached: no transaction commits or aborts in the archive after the base backup (timeline %s)",
				pitr_pg_time_format(p->target.time, when),
				path);
		break;
	case TARGET_XID:
		dbops_log_error(
			"transaction %s never committed or aborted in the WAL after the base backup's start %s (timeline %s)",
			p->target.text, pitr_lsn_format(p->start.redo_lsn, lsn),
			path);
		if (p->target.has_epoch && s->has_next_full_xid &&
		    (uint32_t)(s->next_full_xid >> 32) != p->target.epoch)
			dbops_log_detail(
				"it is ID %u of epoch %u; the WAL read is of epoch %u (next transaction ID %" PRIu64
				" at its last checkpoint)",
				p->target.xid, p->target.epoch,
				(uint32_t)(s->next_full_xid >> 32),
				s->next_full_xid);
		hint_other_timeline(p);
		break;
	case TARGET_NAME:
		dbops_log_error(
			"no restore point named \"%s\" in the WAL after the base backup's start %s (timeline %s)",
			p->target.name, pitr_lsn_format(p->start.redo_lsn, lsn),
			path);
		hint_other_timeline(p);
		if (s->nrps > 0) {
			char names[512] = "";
			size_t used = 0;

			/* Each name once: a name used twice stops at its first. */
			for (size_t i = 0;
			     i < s->nrps && used < sizeof(names) - 70; i++) {
				if (restore_point_named_before(s, i))
					continue;
				used += (size_t)snprintf(
					names + used, sizeof(names) - used,
					"%s\"%s\"", used ? ", " : "",
					s->rps[i].name);
			}
			dbops_log_hint("restore points there: %s", names);
		}
		break;
	case TARGET_LSN:
		dbops_log_error(
			"target LSN %s is beyond the end of the WAL in the archive, which ends at %s (timeline %s)",
			pitr_lsn_format(p->target.lsn, when),
			pitr_lsn_format(s->end_lsn, lsn), path);
		break;
	case TARGET_END:
	case TARGET_IMMEDIATE: /* found once consistent */
		break;
	}
	return -1;
}

/*
 * An xid given with its epoch: the transaction recovery stops at must be of
 * that epoch, by the nextXid of the last checkpoint before it (its full ID
 * is the one nearest that, as PostgreSQL's FullXidRelativeTo() reckons).
 * PostgreSQL itself drops the epoch and would stop at another transaction
 * with the same 32 bits.
 */
static int check_xid_epoch(const struct plan *p)
{
	const struct path_scan *s = &p->scan;
	uint64_t next = s->next_full_xid, full;
	char at[LSN_TEXT];

	if (p->target.kind != TARGET_XID || !p->target.has_epoch ||
	    !s->has_next_full_xid)
		return 0;
	full = pitr_full_xid(next, p->target.xid);
	if ((uint32_t)(full >> 32) == p->target.epoch)
		return 0;
	dbops_log_error(
		"transaction %s is ID %u of epoch %u, but transaction %u in this WAL (%s at %s) is of epoch %u: %" PRIu64
		" as txid_current() counts, by the next transaction ID %" PRIu64
		" of the checkpoint before it",
		p->target.text, p->target.xid, p->target.epoch, p->target.xid,
		s->stop.is_commit ? "committing" : "aborting",
		pitr_lsn_format(s->stop.record_lsn, at), (uint32_t)(full >> 32),
		full, next);
	dbops_log_hint(
		"PostgreSQL keeps only the low 32 bits and would stop at that transaction; check the ID, or give --target-xid %" PRIu64
		" to stop there",
		full);
	return -1;
}

static void fill_start(struct plan *p)
{
	const struct backup_label *l = &p->backup.label;

	memset(&p->start, 0, sizeof(p->start));
	p->start.redo_lsn = l->start_lsn;
	p->start.checkpoint_lsn = l->checkpoint_lsn;
	p->start.tli = l->start_tli;
	p->start.major = p->backup.pg_major;
	p->start.sysid = p->backup.system_id;
	p->start.from_standby = strcmp(l->from, "standby") == 0;
	p->start.end_lsn = p->backup.manifest_end_lsn;
}

/*
 * Where the server's `timezone` comes from: --set, else the backup's
 * postgresql.auto.conf, else --conf or the backup's postgresql.conf. NULL:
 * none sets it. *CONF holds what --conf says.
 */
static const struct pitr_conf_value *zone_setting(const struct verify_opts *o,
						  const struct plan *p,
						  struct pitr_conf_value *conf)
{
	if (o->conf)
		pitr_conf_scan_file(o->conf, "timezone", false, 0, conf);
	else
		*conf = p->backup.tz_conf;
	if (p->backup.tz_auto.found || p->backup.tz_auto.unknown)
		return &p->backup.tz_auto;
	return conf->found || conf->unknown ? conf : NULL;
}

/*
 * A --target-time without a zone is the server's local time, as
 * recovery_target_time reads it: read it again in the `timezone` the
 * restored server has (PostgreSQL's default, GMT, when nothing sets it).
 */
static int resolve_target_zone(const struct verify_opts *o, struct plan *p)
{
	struct pitr_target *t = &p->target;
	struct pitr_conf_value conf = { 0 };
	const struct pitr_conf_value *v = NULL;
	struct dbops_err err = { "" };
	int64_t usec;

	if (t->kind != TARGET_TIME || t->zone_given)
		return 0;
	if (o->timezone == NULL)
		v = zone_setting(o, p, &conf);
	if (v && v->unknown) {
		dbops_log_error(
			"--target-time \"%s\" has no time zone, and the server's timezone setting cannot be told: %s",
			t->text, v->why);
		dbops_log_hint(
			"give the time with its zone (\"%s UTC\", \"%s Europe/Paris\"), or --set timezone=NAME",
			t->text, t->text);
		return -1;
	}
	snprintf(t->zone, sizeof(t->zone), "%s",
		 o->timezone ? o->timezone
		 : v	     ? v->value
			     : "GMT");
	snprintf(t->zone_from, sizeof(t->zone_from), "%s",
		 o->timezone ? "--set timezone"
		 : v	     ? v->source
			     : "PostgreSQL's default: no timezone setting in "
			       "the server's configuration");
	if (dbops_timestamp_parse_in(t->text, t->zone, &usec, NULL, &err) !=
	    0) {
		dbops_log_error(
			"--target-time \"%s\", read in the server's time zone %s (%s): %s",
			t->text, t->zone, t->zone_from, err.msg);
		return -1;
	}
	t->time = unix_us_to_pg_time(usec);
	return 0;
}

int pitr_verify_prepare(const struct verify_opts *o, struct plan *p)
{
	memset(p, 0, sizeof(*p));
	p->target = o->target;
	if (pitr_backup_open(o->base, &p->backup) != 0 ||
	    resolve_target_zone(o, p) != 0)
		return -1;
	if (!pitr_wal_magic_for_major(p->backup.pg_major)) {
		dbops_log_error(
			"\"%s\": PostgreSQL %d: pitr-replay reads the WAL of PostgreSQL 13 to 17",
			o->base, p->backup.pg_major);
		return -1;
	}
	fill_start(p);
	if (p->start.from_standby && p->start.end_lsn == 0) {
		dbops_log_error(
			"\"%s\": a backup taken from a standby needs its backup_manifest to tell where it becomes consistent",
			o->base);
		return -1;
	}
	if (pitr_walarc_open(o->archive, &p->arc) != 0 ||
	    pitr_walbackup_add(&p->arc, &p->backup) != 0)
		return -1;
	return choose_timeline(o, p);
}

int pitr_verify_wal(const struct verify_opts *o, struct plan *p)
{
	if (pitr_scan_path_shown(&p->arc, &p->hist, &p->start, &p->target,
				 "verifying WAL: segments", o->progress,
				 &p->scan) != 0)
		return -1;

	const struct path_scan *s = &p->scan;
	bool read_ok = s->reader.stop == WAL_STOP_NONE ||
		       s->reader.stop == WAL_STOP_END;

	if (s->consistent && !p->start.from_standby &&
	    p->backup.manifest_end_lsn &&
	    p->backup.manifest_end_lsn != s->consistency_lsn) {
		char a[LSN_TEXT], b[LSN_TEXT];

		dbops_log_error(
			"\"%s\": backup_manifest says the backup ends at %s, but its end-of-backup record in the WAL ends at %s",
			o->base, pitr_lsn_format(p->backup.manifest_end_lsn, a),
			pitr_lsn_format(s->consistency_lsn, b));
		return -1;
	}

	if (p->target.kind == TARGET_END || !s->stop.found) {
		if (!read_ok)
			return report_read_stop(p);
		if (!s->consistent) {
			char lsn[LSN_TEXT], end[LSN_TEXT];

			dbops_log_error(
				"\"%s/%s\": the WAL ends at %s, before the base backup's consistency point (no end-of-backup record for the backup started at %s)",
				p->arc.dir, s->reader.stop_file,
				pitr_lsn_format(s->end_lsn, end),
				pitr_lsn_format(p->start.redo_lsn, lsn));
			return -1;
		}
		if (p->target.kind != TARGET_END)
			return report_not_found(p);
		p->end_record_lsn = s->last_record_lsn;
		return 0;
	}
	if (check_xid_epoch(p) != 0)
		return -1;
	if (!s->stop.consistent)
		return report_before_consistency(p);
	if (p->target.kind == TARGET_TIME && s->has_min_time &&
	    (p->target.exclusive ? p->target.time <= s->min_time
				 : p->target.time < s->min_time))
		return report_before_consistency(p);
	return 0;
}

int pitr_verify_plan(const struct verify_opts *o, struct plan *p)
{
	if (pitr_verify_prepare(o, p) != 0)
		return -1;
	return pitr_verify_wal(o, p);
}

void pitr_plan_free(struct plan *p)
{
	pitr_scan_free(&p->scan);
	pitr_walarc_close(&p->arc);
	pitr_backup_free(&p->backup);
}

void pitr_plan_report(const struct plan *p, FILE *out)
{
	const struct path_scan *s = &p->scan;
	char a[LSN_TEXT], b[LSN_TEXT], t[256], path[512], when[PG_TIME_TEXT];
	char first[25], last[25];

	fprintf(out,
		"base backup: %s (PostgreSQL %d, system identifier %" PRIu64
		")\n",
		p->backup.path, p->backup.pg_major, p->backup.system_id);
	fprintf(out, "backup start: %s on timeline %u\n",
		pitr_lsn_format(p->start.redo_lsn, a), p->start.tli);
	fprintf(out, "consistent at: %s",
		pitr_lsn_format(s->consistency_lsn, a));
	if (s->has_min_time)
		fprintf(out, " (earliest target time %s)",
			pitr_pg_time_format(s->min_time, when));
	fputc('\n', out);
	fprintf(out, "timeline: %u (%s)\n", p->tli,
		pitr_timeline_describe(&p->hist, path, sizeof(path)));
	fprintf(out, "target: %s\n",
		pitr_target_describe(&p->target, t, sizeof(t)));
	if (p->target.zone[0])
		fprintf(out, "target time zone: %s (the server's, from %s)\n",
			p->target.zone, p->target.zone_from);
	if (p->target.kind == TARGET_END) {
		fprintf(out,
			"recovery stops: at the end of the archive, after the record at %s\n",
			pitr_lsn_format(p->end_record_lsn, a));
		fprintf(out, "replayed up to: %s",
			pitr_lsn_format(s->end_lsn, b));
		if (s->has_last_xact)
			fprintf(out, " (last transaction %s)",
				pitr_pg_time_format(s->last_xact_time, when));
	} else {
		fprintf(out, "recovery stops: %s, at %s\n", s->stop.what,
			pitr_lsn_format(s->stop.record_lsn, a));
		fprintf(out, "replayed up to: %s",
			pitr_lsn_format(s->stop.replay_end, b));
		if (s->stop.has_last_xact)
			fprintf(out, " (last transaction %s)",
				pitr_pg_time_format(s->stop.last_xact_time,
						    when));
	}
	fputc('\n', out);
	pitr_wal_segment_name(pitr_timeline_file_tli(&p->hist, s->first_segno,
						     p->arc.seg_size),
			      s->first_segno, p->arc.seg_size, first);
	pitr_wal_segment_name(pitr_timeline_file_tli(&p->hist, s->last_segno,
						     p->arc.seg_size),
			      s->last_segno, p->arc.seg_size, last);
	fprintf(out,
		"WAL checked: %s to %s, %" PRIu64
		" segments, every record's CRC good\n",
		first, last, s->segments);
	if (s->reader.partial_file[0] != '\0')
		fprintf(out,
			"partial segment: %s: the WAL from %s on is only in this unfinished segment (pg_receivewal's); restore copies it into pg_wal\n",
			s->reader.partial_file,
			pitr_lsn_format(s->reader.partial_lsn, a));
}

/* The columns of verify --format json, in order. */
enum {
	J_BASE,
	J_MAJOR,
	J_SYSID,
	J_START_LSN,
	J_START_TLI,
	J_CONSISTENT,
	J_EARLIEST,
	J_TLI,
	J_PATH,
	J_TARGET,
	J_TARGET_ZONE,
	J_STOP,
	J_STOP_LSN,
	J_REPLAYED,
	J_LAST_XACT,
	J_FIRST_SEG,
	J_LAST_SEG,
	J_SEGMENTS,
	J_MANIFEST,
	J_FILES,
	J_BYTES,
	J_CHECKSUMS,
	J_NCOLUMNS
};

static const struct {
	const char *name;
	enum dbops_column_kind kind;
} json_columns[J_NCOLUMNS] = {
	{ "base_backup", DBOPS_COLUMN_TEXT },
	{ "pg_major", DBOPS_COLUMN_NUMBER },
	{ "system_identifier", DBOPS_COLUMN_TEXT },
	{ "backup_start_lsn", DBOPS_COLUMN_TEXT },
	{ "backup_timeline", DBOPS_COLUMN_NUMBER },
	{ "consistent_lsn", DBOPS_COLUMN_TEXT },
	{ "earliest_target_time", DBOPS_COLUMN_TEXT },
	{ "timeline", DBOPS_COLUMN_NUMBER },
	{ "timeline_path", DBOPS_COLUMN_TEXT },
	{ "target", DBOPS_COLUMN_TEXT },
	{ "target_time_zone", DBOPS_COLUMN_TEXT },
	{ "stop", DBOPS_COLUMN_TEXT },
	{ "stop_lsn", DBOPS_COLUMN_TEXT },
	{ "replayed_up_to", DBOPS_COLUMN_TEXT },
	{ "last_transaction", DBOPS_COLUMN_TEXT },
	{ "first_segment", DBOPS_COLUMN_TEXT },
	{ "last_segment", DBOPS_COLUMN_TEXT },
	{ "segments", DBOPS_COLUMN_NUMBER },
	{ "manifest", DBOPS_COLUMN_TEXT },
	{ "manifest_files", DBOPS_COLUMN_NUMBER },
	{ "manifest_bytes", DBOPS_COLUMN_NUMBER },
	{ "manifest_checksums", DBOPS_COLUMN_TEXT },
};

/* The text of each column into T (J_NCOLUMNS cells of 512), NULL in V for none. */
static void json_cells(const struct plan *p, const struct manifest_check *mc,
		       bool skipped, char (*t)[512], const char **v)
{
	const struct path_scan *s = &p->scan;
	bool end = p->target.kind == TARGET_END;
	bool xact = end ? s->has_last_xact : s->stop.has_last_xact;
	char lsn[LSN_TEXT], when[PG_TIME_TEXT];

	for (int i = 0; i < J_NCOLUMNS; i++)
		v[i] = t[i];
	v[J_BASE] = p->backup.path;
	snprintf(t[J_MAJOR], 512, "%d", p->backup.pg_major);
	snprintf(t[J_SYSID], 512, "%" PRIu64, p->backup.system_id);
	snprintf(t[J_START_LSN], 512, "%s",
		 pitr_lsn_format(p->start.redo_lsn, lsn));
	snprintf(t[J_START_TLI], 512, "%u", p->start.tli);
	snprintf(t[J_CONSISTENT], 512, "%s",
		 pitr_lsn_format(s->consistency_lsn, lsn));
	snprintf(t[J_EARLIEST], 512, "%s",
		 pitr_pg_time_format(s->min_time, when));
	v[J_EARLIEST] = s->has_min_time ? t[J_EARLIEST] : NULL;
	snprintf(t[J_TLI], 512, "%u", p->tli);
	pitr_timeline_describe(&p->hist, t[J_PATH], 512);
	pitr_target_describe(&p->target, t[J_TARGET], 512);
	v[J_TARGET_ZONE] = p->target.zone[0] ? p->target.zone : NULL;
	snprintf(t[J_STOP], 512, "%s",
		 end ? "at the end of the archive" : s->stop.what);
	snprintf(t[J_STOP_LSN], 512, "%s",
		 pitr_lsn_format(end ? p->end_record_lsn : s->stop.record_lsn,
				 lsn));
	snprintf(t[J_REPLAYED], 512, "%s",
		 pitr_lsn_format(end ? s->end_lsn : s->stop.replay_end, lsn));
	snprintf(t[J_LAST_XACT], 512, "%s",
		 pitr_pg_time_format(end ? s->last_xact_time
					 : s->stop.last_xact_time,
				     when));
	v[J_LAST_XACT] = xact ? t[J_LAST_XACT] : NULL;
	pitr_wal_segment_name(pitr_timeline_file_tli(&p->hist, s->first_segno,
						     p->arc.seg_size),
			      s->first_segno, p->arc.seg_size, t[J_FIRST_SEG]);
	pitr_wal_segment_name(pitr_timeline_file_tli(&p->hist, s->last_segno,
						     p->arc.seg_size),
			      s->last_segno, p->arc.seg_size, t[J_LAST_SEG]);
	snprintf(t[J_SEGMENTS], 512, "%" PRIu64, s->segments);
	snprintf(t[J_MANIFEST], 512, "%s",
		 skipped       ? "skipped"
		 : mc->checked ? "checked"
			       : "none");
	snprintf(t[J_FILES], 512, "%" PRIu64, mc->files);
	snprintf(t[J_BYTES], 512, "%" PRIu64, mc->bytes);
	pitr_manifest_kinds(mc, t[J_CHECKSUMS], 512);
	if (!mc->checked)
		v[J_FILES] = v[J_BYTES] = v[J_CHECKSUMS] = NULL;
}

int pitr_plan_report_json(const struct plan *p, const struct manifest_check *mc,
			  bool skipped, FILE *out)
{
	static char cells[J_NCOLUMNS][512];
	const char *values[J_NCOLUMNS];
	struct dbops_output *w = dbops_output_new(out, DBOPS_FORMAT_JSON);
	int rc = w ? 0 : -1;

	for (int i = 0; rc == 0 && i < J_NCOLUMNS; i++)
		rc = dbops_output_add_column(w, json_columns[i].name,
					     json_columns[i].kind);
	json_cells(p, mc, skipped, cells, values);
	if (rc == 0)
		rc = dbops_output_row_strings(w, values);
	if (rc == 0)
		rc = dbops_output_finish(w);
	if (rc != 0)
		dbops_log_error("could not write the report: %s",
				strerror(errno));
	dbops_output_free(w);
	return rc;
}
