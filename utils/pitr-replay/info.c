/*
 * info.c - `pitr-replay info`. See info.h.
 *
 * A backup on disk and a .backup file of the archive that start at the same
 * LSN on the same timeline are one backup, one row: the .backup file gives
 * what the backup itself does not hold, its stop time and stop LSN.
 */
#include "info.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "backup_util.h"
#include "log.h"
#include "timeline.h"
#include "timestamp.h"
#include "walarchive.h"
#include "xalloc.h"

/* One row. */
struct info_row {
	char path[PATH_MAX]; /* "" for a backup known only from the archive */
	const char *kind;
	char label[256];
	int pg_major; /* 0: unknown */
	char start_time[64];
	char stop_time[64]; /* "" unknown */
	int64_t stop_us;    /* when stop_time parses */
	bool has_stop_us;
	lsn_t start_lsn, stop_lsn; /* stop 0: unknown */
	uint32_t start_tli, stop_tli;
	uint64_t size;
	bool has_size;
	char backup_file[64]; /* the archive's .backup file, or "" */
	bool chosen;
};

struct info {
	struct info_row *rows;
	size_t n, cap;
	int errors;
};

static struct info_row *new_row(struct info *in)
{
	if (in->n == in->cap) {
		in->cap = in->cap ? 2 * in->cap : 16;
		in->rows = dbops_xreallocarray(in->rows, in->cap,
					       sizeof(*in->rows));
	}
	memset(&in->rows[in->n], 0, sizeof(in->rows[0]));
	return &in->rows[in->n++];
}

/* The bytes of the regular files under NAME (a directory or a file);
 * symbolic links below it are not followed, NAME itself is if FOLLOW. */
static uint64_t size_of(int dfd, const char *name, bool follow)
{
	struct stat st;
	uint64_t total = 0;
	struct dirent *e;
	DIR *d;
	int fd;

	if (fstatat(dfd, name, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			total += size_of(dirfd(d), e->d_name, false);
	closedir(d);
	return total;
}

static const char *kind_name(enum backup_kind k)
{
	return k == BACKUP_DIR	     ? "plain"
	       : k == BACKUP_TAR_DIR ? "tar"
				     : "tar file";
}

/* The backup at PATH into a new row; an error is counted, not fatal. */
static void add_backup(struct info *in, const char *path)
{
	struct base_backup *b = dbops_xcalloc(1, sizeof(*b));
	struct info_row *r;

	if (pitr_backup_open(path, b) != 0) {
		in->errors++;
		free(b);
		return;
	}
	r = new_row(in);
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->kind = kind_name(b->kind);
	snprintf(r->label, sizeof(r->label), "%s", b->label.label);
	r->pg_major = b->pg_major;
	snprintf(r->start_time, sizeof(r->start_time), "%s",
		 b->label.start_time);
	r->start_lsn = b->label.start_lsn;
	r->start_tli = r->stop_tli = b->label.start_tli;
	if (b->has_manifest) {
		r->stop_lsn = b->manifest_end_lsn;
		r->stop_tli = b->manifest_tli;
	}
	r->size = size_of(AT_FDCWD, path, true);
	if (b->wal_tar[0] != '\0' && b->kind == BACKUP_TAR_FILE)
		r->size += size_of(AT_FDCWD, b->wal_tar, true);
	r->has_size = true;
	free(b);
}

/* Whether NAME of DFD looks like a backup: a directory with backup_label or
 * base.tar*, or a file named *.tar*. */
static bool looks_like_backup(int dfd, const char *name)
{
	struct stat st;
	char probe[NAME_MAX + 32];
	static const char *const in_dir[] = { "backup_label", "base.tar",
					      "base.tar.gz", "base.tar.lz4",
					      "base.tar.zst" };

	if (fstatat(dfd, name, &st, 0) != 0)
		return false;
	if (S_ISREG(st.st_mode))
		return strstr(name, ".tar") != NULL;
	if (!S_ISDIR(st.st_mode))
		return false;
	for (size_t i = 0; i < sizeof(in_dir) / sizeof(in_dir[0]); i++) {
		snprintf(probe, sizeof(probe), "%s/%s", name, in_dir[i]);
		if (faccessat(dfd, probe, F_OK, 0) == 0)
			return true;
	}
	return false;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* -b ARG: a backup, or a folder holding backups (each once, by name). */
static void add_given(struct info *in, const char *arg)
{
	struct dirent **names;
	struct stat st;
	char path[PATH_MAX];
	int n;

	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode) &&
	    !looks_like_backup(AT_FDCWD, arg)) {
		n = scandir(arg, &names, NULL, by_name);
		if (n < 0) {
			dbops_log_error("could not read directory \"%s\": %s",
					arg, strerror(errno));
			in->errors++;
			return;
		}
		size_t before = in->n;

		for (int i = 0; i < n; i++) {
			int dfd = open(arg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (names[i]->d_name[0] != '.' && dfd >= 0 &&
			    looks_like_backup(dfd, names[i]->d_name) &&
			    pitr_join(path, sizeof(path), arg,
				      names[i]->d_name) == 0)
				add_backup(in, path);
			if (dfd >= 0)
				close(dfd);
			free(names[i]);
		}
		free(names);
		if (in->n == before)
			dbops_log_warning(
				"\"%s\": no base backup in this folder (a directory with backup_label or base.tar*, or a tar file)",
				arg);
		return;
	}
	add_backup(in, arg);
}

/* The value of "KEY: " in the .backup file TEXT into OUT, "" if absent. */
static void field(const char *text, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);

	out[0] = '\0';
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);

		if (n > klen + 1 && strncmp(line, key, klen) == 0 &&
		    line[klen] == ':' && line[klen + 1] == ' ') {
			snprintf(out, len, "%.*s", (int)(n - klen - 2),
				 line + klen + 2);
			return;
		}
		line = nl ? nl + 1 : NULL;
	}
}

/*
 * STOP TIME as PostgreSQL writes it, "2024-05-01 12:00:00 UTC": the zone is
 * an abbreviation, known here only when it is UTC or GMT, or that of the
 * local zone (TZ). Returns 0, or -1 when the time cannot be known.
 */
static int parse_stop_time(const char *text, int64_t *us)
{
	char buf[80];
	const char *sp = strrchr(text, ' ');
	const char *zone = sp ? sp + 1 : "";
	int n = sp ? (int)(sp - text) : 0;

	tzset();
	if (strcmp(zone, "UTC") == 0 || strcmp(zone, "GMT") == 0)
		snprintf(buf, sizeof(buf), "%.*s+00", n, text);
	else if (sp != NULL &&
		 (strcmp(zone, tzname[0]) == 0 || strcmp(zone, tzname[1]) == 0))
		snprintf(buf, sizeof(buf), "%.*s", n, text);
	else
		return -1;
	return dbops_timestamp_parse(buf, us, NULL);
}

/* What the archive's backup file F (TEXT) says into the row R. */
static void fill_archived(struct info_row *r,
			  const struct archive_backup_file *f, const char *text)
{
	char tli[32];

	snprintf(r->backup_file, sizeof(r->backup_file), "%s", f->name);
	if (f->stop_lsn != 0)
		r->stop_lsn = f->stop_lsn;
	snprintf(r->stop_time, sizeof(r->stop_time), "%s", f->stop_time);
	r->has_stop_us = parse_stop_time(r->stop_time, &r->stop_us) == 0;
	if (r->path[0] == '\0') {
		field(text, "LABEL", r->label, sizeof(r->label));
		field(text, "START TIME", r->start_time, sizeof(r->start_time));
	}
	field(text, "STOP TIMELINE", tli, sizeof(tli));
	if (tli[0] != '\0')
		r->stop_tli = (uint32_t)strtoul(tli, NULL, 10);
}

/* The row of the archive's backup file F: a backup's, or a new one. */
static void add_archived(struct info *in, const struct wal_archive *arc,
			 const struct archive_backup_file *f)
{
	char *text = NULL;
	bool matched = false;

	if (pitr_walarc_read_text(arc, f->name, &text) != 0) {
		in->errors++;
		return;
	}
	/* Every copy of the backup on disk (a directory and its tars). */
	for (size_t i = 0; i < in->n; i++) {
		struct info_row *r = &in->rows[i];

		if (r->path[0] != '\0' && r->backup_file[0] == '\0' &&
		    r->start_lsn == f->start_lsn && r->start_tli == f->tli) {
			fill_archived(r, f, text);
			matched = true;
		}
	}
	if (!matched) {
		struct info_row *r = new_row(in);

		r->kind = "archive";
		r->start_lsn = f->start_lsn;
		r->start_tli = r->stop_tli = f->tli;
		fill_archived(r, f, text);
	}
	free(text);
}

/*
 * --time: the newest backup on disk that ended before it, on a timeline of
 * the path to the archive's newest timeline (where recovery goes, as
 * recovery_target_timeline = latest) before that path left it.
 */
static int choose(struct info *in, const struct wal_archive *arc,
		  const struct info_opts *o)
{
	struct tl_history h;
	struct info_row *best = NULL;
	uint32_t newest = pitr_walarc_newest_tli(arc);
	char path[512];
	bool unknown = false;

	if (pitr_timeline_load(arc, newest, &h) != 0)
		return -1;
	for (size_t i = 0; i < in->n; i++) {
		struct info_row *r = &in->rows[i];
		const struct tl_entry *e = pitr_timeline_find(&h, r->stop_tli);

		if (r->path[0] == '\0')
			continue;
		if (!r->has_stop_us || r->stop_lsn == 0) {
			unknown = true;
			continue;
		}
		if (r->stop_us >= o->time_us || e == NULL ||
		    e->end <= r->stop_lsn)
			continue;
		if (best == NULL || r->stop_us > best->stop_us ||
		    (r->stop_us == best->stop_us &&
		     r->stop_lsn > best->stop_lsn))
			best = r;
	}
	if (best == NULL) {
		dbops_log_error(
			"no base backup given ended before %s on the path to timeline %u (%s)",
			o->time, newest,
			pitr_timeline_describe(&h, path, sizeof(path)));
		if (unknown)
			dbops_log_hint(
				"a backup whose .backup file is not in the archive has no known stop time and was not considered");
		return -1;
	}
	best->chosen = true;
	dbops_log_info(
		"for %s: restore from \"%s\" (pitr-replay restore -b \"%s\" -a \"%s\" --target-time \"%s\" -D DATADIR)",
		o->time, best->path, best->path, o->archive, o->time);
	return 0;
}

static const struct {
	const char *name;
	enum dbops_column_kind kind;
} columns[] = {
	{ "backup", DBOPS_COLUMN_TEXT },
	{ "kind", DBOPS_COLUMN_TEXT },
	{ "label", DBOPS_COLUMN_TEXT },
	{ "pg_major", DBOPS_COLUMN_NUMBER },
	{ "start_time", DBOPS_COLUMN_TEXT },
	{ "stop_time", DBOPS_COLUMN_TEXT },
	{ "start_lsn", DBOPS_COLUMN_TEXT },
	{ "stop_lsn", DBOPS_COLUMN_TEXT },
	{ "timeline", DBOPS_COLUMN_NUMBER },
	{ "stop_timeline", DBOPS_COLUMN_NUMBER },
	{ "size_bytes", DBOPS_COLUMN_NUMBER },
	{ "backup_file", DBOPS_COLUMN_TEXT },
	{ "use_for_time", DBOPS_COLUMN_TEXT },
};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

/* One row; the last value is left out with the column when there is no --time. */
static int write_row(struct dbops_output *w, const struct info_row *r)
{
	char major[16], start[LSN_TEXT], stop[LSN_TEXT], tli[16], stli[16],
		size[32];
	const char *v[NCOLUMNS];

	snprintf(major, sizeof(major), "%d", r->pg_major);
	snprintf(tli, sizeof(tli), "%u", r->start_tli);
	snprintf(stli, sizeof(stli), "%u", r->stop_tli);
	snprintf(size, sizeof(size), "%" PRIu64, r->size);
	v[0] = r->path[0] ? r->path : NULL;
	v[1] = r->kind;
	v[2] = r->label[0] ? r->label : NULL;
	v[3] = r->pg_major ? major : NULL;
	v[4] = r->start_time[0] ? r->start_time : NULL;
	v[5] = r->stop_time[0] ? r->stop_time : NULL;
	v[6] = pitr_lsn_format(r->start_lsn, start);
	v[7] = r->stop_lsn ? pitr_lsn_format(r->stop_lsn, stop) : NULL;
	v[8] = tli;
	v[9] = r->stop_lsn ? stli : NULL;
	v[10] = r->has_size ? size : NULL;
	v[11] = r->backup_file[0] ? r->backup_file : NULL;
	v[12] = r->chosen ? "yes" : NULL;
	return dbops_output_row_strings(w, v);
}

static int print(const struct info *in, const struct info_opts *o)
{
	struct dbops_output *w = dbops_output_new(stdout, o->format);
	size_t ncols = o->time ? NCOLUMNS : NCOLUMNS - 1;
	int rc = w ? 0 : -1;

	for (size_t i = 0; rc == 0 && i < ncols; i++)
		rc = dbops_output_add_column(w, columns[i].name,
					     columns[i].kind);
	for (size_t i = 0; rc == 0 && i < in->n; i++)
		rc = write_row(w, &in->rows[i]);
	if (rc == 0)
		rc = dbops_output_finish(w);
	if (rc != 0)
		dbops_log_error("could not write the list of backups: %s",
				strerror(errno));
	dbops_output_free(w);
	return rc;
}

int pitr_info_run(const struct info_opts *o)
{
	struct info in = { 0 };
	struct wal_archive arc = { 0 };
	int rc = 1;

	for (size_t i = 0; i < o->nbases; i++)
		add_given(&in, o->bases[i]);
	if (o->archive != NULL) {
		if (pitr_walarc_open(o->archive, &arc) != 0)
			goto out;
		for (size_t i = 0; i < arc.nbackups; i++)
			add_archived(&in, &arc, &arc.backups[i]);
		if (o->time != NULL && choose(&in, &arc, o) != 0)
			in.errors++;
	}
	if (print(&in, o) == 0 && in.errors == 0)
		rc = 0;
out:
	pitr_walarc_close(&arc);
	free(in.rows);
	return rc;
}
