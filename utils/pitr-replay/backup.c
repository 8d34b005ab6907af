/*
 * backup.c - find and check a base backup: backup_label, the tars of a
 * pg_basebackup -Ft directory, the files pitr_backup_open() looks into and its
 * checks. See backup.h. The manifest is read by manifest.c, tars by
 * tarread.c; pitr_backup_extract() is in extract.c.
 */
#include "backup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <archive_entry.h>

#include "backup_util.h"
#include "hex.h"
#include "log.h"
#include "manifest.h"
#include "pgconf.h"
#include "tablespace.h"
#include "tarread.h"
#include "xalloc.h"

/* Limits on the small files read into memory. */
#define LABEL_MAX    (64u << 10)
#define VERSION_MAX  64u
#define MANIFEST_MAX (1u << 30)

static const char *const tar_suffixes[] = { ".tar", ".tar.gz", ".tar.lz4",
					    ".tar.zst" };
#define NSUFFIXES (sizeof(tar_suffixes) / sizeof(tar_suffixes[0]))

/*
 * How a member of the backup is named in a message: "DIR/NAME" for a file
 * of a directory, "TAR": NAME for an entry of a tar.
 */
static const char *member(char *buf, size_t len, bool in_tar,
			  const char *container, const char *name)
{
	size_t n = strlen(container);

	while (n > 1 && container[n - 1] == '/')
		n--;
	if (in_tar)
		snprintf(buf, len, "\"%s\": %s", container, name);
	else
		snprintf(buf, len, "\"%.*s/%s\"", (int)n, container, name);
	return buf;
}

/*
 * Copy SRC (LEN bytes) into DST of size DSTLEN, cut if need be at a UTF-8
 * character boundary.
 */
static void copy_text(char *dst, size_t dstlen, const char *src, size_t len)
{
	if (len >= dstlen) {
		len = dstlen - 1;
		while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* A line quoted in a message: at most 100 bytes, control characters as ?. */
static const char *quote_line(char *buf, size_t buflen, const char *s,
			      size_t len)
{
	size_t n = len > 100 ? 100 : len, i;

	if (n >= buflen - 4)
		n = buflen - 4;
	for (i = 0; i < n; i++)
		buf[i] =
			(unsigned char)s[i] < 0x20 || s[i] == 0x7F ? '?' : s[i];
	if (n < len)
		memcpy(buf + n, "...", 3), n += 3;
	buf[n] = '\0';
	return buf;
}

static uint32_t hex8(const char *s)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		int c = (unsigned char)s[i];

		v = v << 4 | (uint32_t)dbops_hex_digit(c);
	}
	return v;
}

/* ---- backup_label ------------------------------------------------------ */

/* Whether the line LINE (LEN bytes) starts with KEY, then ": ". */
static const char *after_key(const char *line, size_t len, const char *key)
{
	size_t k = strlen(key);

	if (len < k + 2 || memcmp(line, key, k) != 0 || line[k] != ':' ||
	    line[k + 1] != ' ')
		return NULL;
	return line + k + 2;
}

static int parse_start_line(const char *line, size_t len,
			    struct backup_label *label, struct dbops_err *err)
{
	static const char key[] = "START WAL LOCATION: ";
	const char *end = line + len, *p, *sp, *name;
	char q[80];

	if (len < sizeof(key) - 1 || memcmp(line, key, sizeof(key) - 1) != 0)
		goto bad;
	p = line + sizeof(key) - 1;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (sp == NULL || pitr_backup_parse_lsn(p, sp, &label->start_lsn) != 0)
		goto bad;
	if ((size_t)(end - sp) != strlen(" (file ") + 24 + 1 ||
	    memcmp(sp, " (file ", 7) != 0 || end[-1] != ')')
		goto bad;
	name = sp + 7;
	for (int i = 0; i < 24; i++)
		if (!isxdigit((unsigned char)name[i]))
			goto bad;
	label->start_tli = hex8(name);
	if (label->start_tli == 0)
		return dbops_err_set(
			err, "line 1: WAL file %.24s has timeline 0", name);
	/* The second 8 digits of a segment name are the LSN's high half. */
	if (hex8(name + 8) != (uint32_t)(label->start_lsn >> 32))
		return dbops_err_set(
			err,
			"line 1: WAL file %.24s cannot hold the start WAL location %X/%X",
			name, (unsigned)(label->start_lsn >> 32),
			(unsigned)label->start_lsn);
	return 0;
bad:
	return dbops_err_set(
		err,
		"line 1: expected \"START WAL LOCATION: X/Y (file NAME)\", found \"%s\"",
		quote_line(q, sizeof(q), line, len));
}

int pitr_backup_parse_label(const char *text, struct backup_label *label,
			    struct dbops_err *err)
{
	const char *p = text, *v;
	unsigned lineno = 0;
	bool seen_time = false, seen_label = false, seen_tli = false;
	char q[80];

	memset(label, 0, sizeof(*label));
	while (*p != '\0' || lineno < 2) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		lineno++;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (lineno == 1) {
			if (parse_start_line(p, len, label, err) != 0)
				return -1;
		} else if (lineno == 2) {
			v = after_key(p, len, "CHECKPOINT LOCATION");
			if (v == NULL ||
			    pitr_backup_parse_lsn(v, p + len,
						  &label->checkpoint_lsn) != 0)
				return dbops_err_set(
					err,
					"line 2: expected \"CHECKPOINT LOCATION: X/Y\", found \"%s\"",
					quote_line(q, sizeof(q), p, len));
			if (label->checkpoint_lsn < label->start_lsn)
				return dbops_err_set(
					err,
					"line 2: checkpoint location %X/%X is before the start WAL location %X/%X",
					(unsigned)(label->checkpoint_lsn >> 32),
					(unsigned)label->checkpoint_lsn,
					(unsigned)(label->start_lsn >> 32),
					(unsigned)label->start_lsn);
		} else if (len == 0) {
			/* an empty line: nothing */
		} else if ((v = after_key(p, len, "BACKUP METHOD")) != NULL) {
			if (label->method[0] != '\0')
				goto twice;
			copy_text(label->method, sizeof(label->method), v,
				  (size_t)(p + len - v));
		} else if ((v = after_key(p, len, "BACKUP FROM")) != NULL) {
			if (label->from[0] != '\0')
				goto twice;
			copy_text(label->from, sizeof(label->from), v,
				  (size_t)(p + len - v));
		} else if ((v = after_key(p, len, "START TIME")) != NULL) {
			if (seen_time)
				goto twice;
			seen_time = true;
			copy_text(label->start_time, sizeof(label->start_time),
				  v, (size_t)(p + len - v));
		} else if ((v = after_key(p, len, "LABEL")) != NULL) {
			if (seen_label)
				goto twice;
			seen_label = true;
			copy_text(label->label, sizeof(label->label), v,
				  (size_t)(p + len - v));
		} else if ((v = after_key(p, len, "START TIMELINE")) != NULL) {
			unsigned long tli = 0;
			const char *d = v;

			if (seen_tli)
				goto twice;
			seen_tli = true;
			for (; d < p + len && isdigit((unsigned char)*d); d++)
				tli = tli * 10 + (unsigned long)(*d - '0');
			if (d == v || d != p + len || d - v > 10 ||
			    tli > UINT32_MAX)
				return dbops_err_set(
					err,
					"line %u: expected \"START TIMELINE: N\", found \"%s\"",
					lineno,
					quote_line(q, sizeof(q), p, len));
			if (tli != label->start_tli)
				return dbops_err_set(
					err,
					"line %u: START TIMELINE %lu does not match the timeline %u of the start WAL file",
					lineno, tli, label->start_tli);
		} else if (after_key(p, len, "INCREMENTAL FROM LSN") != NULL) {
			label->incremental = true;
		} else if (memchr(p, ':', len) == NULL) {
			return dbops_err_set(
				err,
				"line %u: expected \"KEY: value\", found \"%s\"",
				lineno, quote_line(q, sizeof(q), p, len));
		}
		/* Other "KEY: value" lines (later releases' fields): ignored. */
		if (nl == NULL) {
			/* a last line without its line end */
			p = strchr(p, '\0');
			if (lineno >= 2)
				break;
			continue;
		}
		p = nl + 1;
		continue;
twice:
		return dbops_err_set(err, "line %u: \"%.*s\" given twice",
				     lineno, (int)(strchr(p, ':') - p), p);
	}
	return 0;
}

/* ---- pitr_backup_open -------------------------------------------------------- */

/* The files of the data directory that pitr_backup_open() looks into. */
struct found {
	char *label;
	size_t label_len;
	bool has_label;
	char version[VERSION_MAX];
	size_t version_len;
	bool has_version;
	unsigned char control[PG_CONTROL_HEAD];
	size_t control_len;
	bool has_control;
	char *manifest;
	size_t manifest_len;
	bool has_manifest;
	char manifest_name[NAME_LEN]; /* how to name it in messages */
	char nested[NAME_MAX + 1];    /* "d" when "d/backup_label" was seen */
	struct pitr_conf_value tz_conf, tz_auto; /* `timezone` in a tar */
	char *tsmap; /* tablespace_map of a tar, if not empty */
	size_t tsmap_len;
	char tsmap_name[NAME_LEN];
};

static void found_free(struct found *f)
{
	free(f->label);
	free(f->manifest);
	free(f->tsmap);
}

static void no_backup_label(const char *where)
{
	dbops_log_error(
		"\"%s\": no backup_label: not a base backup taken with pg_basebackup",
		where);
	dbops_log_hint(
		"a copy of a data directory needs the backup_label pg_backup_stop() returns (or an atomic snapshot of the running cluster, which PostgreSQL recovers by crash recovery, not to a point in time); take a base backup with pg_basebackup");
}

static void not_a_backup(const char *path)
{
	dbops_log_error(
		"\"%s\": not a base backup: no backup_label, base.tar* or tar file",
		path);
}

static void tablespace_without_files(const char *what)
{
	dbops_log_error(
		"%s: a tablespace link without tablespace_map: the tablespace's files are not in the backup",
		what);
}

/* Read a whole entry into a new buffer, at most MAX bytes. */
static int tar_slurp(struct tar *t, const char *what, size_t max, char **buf,
		     size_t *len)
{
	int64_t size = archive_entry_size(t->e);
	int r;

	if (size < 0 || (uint64_t)size > max) {
		dbops_log_error("\"%s\": %s is too large (%" PRId64 " bytes)",
				t->path, what, size);
		return -1;
	}
	/* The buffer grows with the bytes stored, not the size claimed. */
	r = pitr_tar_slurp(t, max, buf, len);
	if (r > 0)
		dbops_log_error("\"%s\": %s is too large (over %zu bytes)",
				t->path, what, max);
	return r == 0 ? 0 : -1;
}

/* postgresql.conf or postgresql.auto.conf of a tar: its `timezone`. */
static int tar_conf(struct tar *t, const char *name, struct found *f)
{
	char *text = NULL, what[NAME_LEN];
	size_t len = 0;
	bool is_auto = strcmp(name, "postgresql.auto.conf") == 0;

	if (tar_slurp(t, name, 1u << 24, &text, &len) != 0)
		return -1;
	member(what, sizeof(what), true, t->path, name);
	pitr_conf_scan_text(text, len, what, NULL, "timezone", 0,
			    is_auto ? &f->tz_auto : &f->tz_conf);
	free(text);
	return 0;
}

/*
 * Read every entry of the tar PATH, checking each, and keep what F wants.
 * WAL: the pg_wal tar, whose entries are only checked.
 */
static int scan_tar(const char *path, bool wal, bool want_manifest,
		    struct found *f, bool quiet_unrecognized)
{
	struct tar t;
	char name[PATH_MAX], what[NAME_LEN];
	int r;

	if (pitr_tar_open(&t, path) != 0) {
		if (t.unrecognized) {
			if (quiet_unrecognized)
				return 1;
			dbops_log_error(
				"\"%s\": incomplete or damaged tar: not a tar archive",
				path);
		}
		return -1;
	}
	while ((r = pitr_tar_next(&t)) == 1) {
		const char *stored = pitr_entry_name(t.e);
		mode_t type = archive_entry_filetype(t.e);
		int n = pitr_normalise(stored, name, sizeof(name));

		if (n < 0) {
			pitr_bad_entry(path, stored, n);
			goto fail;
		}
		snprintf(t.name, sizeof(t.name), "%s", n == 1 ? "." : name);
		if (archive_entry_hardlink(t.e) != NULL) {
			dbops_log_error(
				"\"%s\": entry \"%s\": a hard link, which a base backup does not have",
				path, t.name);
			goto fail;
		}
		if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
			dbops_log_error(
				"\"%s\": entry \"%s\": neither a file, a directory nor a symbolic link",
				path, t.name);
			goto fail;
		}
		/* pg_basebackup -Ft lists tablespaces in tablespace_map, and
		 * their <oid>.tar hold them; it sends no pg_tblspc links. A
		 * directory there is an in-place tablespace, in the tar. */
		if (!wal && strncmp(name, "pg_tblspc/", 10) == 0 &&
		    type == AE_IFLNK) {
			tablespace_without_files(
				member(what, sizeof(what), true, path, name));
			goto fail;
		}
		if (wal || n == 1 || type != AE_IFREG) {
			if (pitr_tar_skip(&t) != 0)
				goto fail;
			continue;
		}
		if (strcmp(name, "backup_label") == 0) {
			free(f->label);
			f->label = NULL;
			if (tar_slurp(&t, "backup_label", LABEL_MAX, &f->label,
				      &f->label_len) != 0)
				goto fail;
			f->has_label = true;
		} else if (strcmp(name, "PG_VERSION") == 0) {
			if (pitr_tar_read(&t, f->version,
					  sizeof(f->version) - 1,
					  &f->version_len) < 0)
				goto fail;
			f->version[f->version_len] = '\0';
			f->has_version = true;
		} else if (strcmp(name, "global/pg_control") == 0) {
			if (pitr_tar_read(&t, (char *)f->control,
					  sizeof(f->control),
					  &f->control_len) < 0)
				goto fail;
			f->has_control = true;
		} else if (!wal &&
			   (strcmp(name, "postgresql.conf") == 0 ||
			    strcmp(name, "postgresql.auto.conf") == 0)) {
			if (tar_conf(&t, name, f) != 0)
				goto fail;
		} else if (!wal && strcmp(name, "tablespace_map") == 0) {
			free(f->tsmap);
			f->tsmap = NULL;
			if (tar_slurp(&t, "tablespace_map", LABEL_MAX,
				      &f->tsmap, &f->tsmap_len) != 0)
				goto fail;
			member(f->tsmap_name, sizeof(f->tsmap_name), true, path,
			       "tablespace_map");
		} else if (want_manifest &&
			   strcmp(name, "backup_manifest") == 0) {
			free(f->manifest);
			f->manifest = NULL;
			if (tar_slurp(&t, "backup_manifest", MANIFEST_MAX,
				      &f->manifest, &f->manifest_len) != 0)
				goto fail;
			f->has_manifest = true;
			member(f->manifest_name, sizeof(f->manifest_name), true,
			       path, "backup_manifest");
		} else {
			const char *slash = strchr(name, '/');

			if (slash != NULL && f->nested[0] == '\0' &&
			    strcmp(slash + 1, "backup_label") == 0)
				snprintf(f->nested, sizeof(f->nested), "%.*s",
					 (int)(slash - name), name);
			if (pitr_tar_skip(&t) != 0)
				goto fail;
		}
	}
	if (r < 0)
		goto fail;
	pitr_tar_close(&t);
	return 0;
fail:
	pitr_tar_close(&t);
	return -1;
}

/*
 * Read the file NAME of the directory DFD (called DIR in messages) into a
 * new buffer, at most MAX bytes. Returns 0, 1 if there is no such file, -1
 * after an error message.
 */
static int read_small(int dfd, const char *dir, const char *name, size_t max,
		      char **buf, size_t *len)
{
	char path[NAME_LEN];
	struct stat st;
	size_t got = 0;
	int fd;

	pitr_join(path, sizeof(path), dir, name);
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		dbops_log_error("could not open file \"%s\": %s", path,
				strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		dbops_log_error("\"%s\": not a regular file", path);
		goto fail;
	}
	if ((uint64_t)st.st_size > max) {
		dbops_log_error("\"%s\": too large (%lld bytes)", path,
				(long long)st.st_size);
		goto fail;
	}
	*buf = dbops_xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			dbops_log_error("could not read file \"%s\": %s", path,
					strerror(errno));
			free(*buf);
			*buf = NULL;
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	(*buf)[got] = '\0';
	*len = got;
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

/*
 * The tablespaces of the plain backup in directory DFD: where its
 * pg_tblspc/<oid> links point (pg_basebackup -Fp --tablespace-mapping put
 * the files there). A directory there is an in-place tablespace, copied
 * with the rest. tablespace_map, if any, is not needed.
 */
static int plain_tablespaces(int dfd, const char *path, struct base_backup *b)
{
	char what[NAME_LEN], target[PATH_MAX], name[NAME_MAX + 16];
	int tfd = openat(dfd, "pg_tblspc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	int rc = 0;
	DIR *d;

	if (tfd < 0)
		return 0;
	d = fdopendir(tfd);
	if (d == NULL) {
		close(tfd);
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		struct stat st;
		unsigned oid;
		ssize_t n;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(name, sizeof(name), "pg_tblspc/%s", de->d_name);
		member(what, sizeof(what), false, path, name);
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
			    0 &&
		    S_ISDIR(st.st_mode))
			continue;
		n = readlinkat(dirfd(d), de->d_name, target,
			       sizeof(target) - 1);
		if (!pitr_ts_oid_of(de->d_name, &oid) || n <= 0) {
			dbops_log_error(
				"%s: not a tablespace (a link named by an OID)",
				what);
			rc = -1;
			break;
		}
		target[n] = '\0';
		if (target[0] != '/') {
			dbops_log_error("%s: links to the relative path \"%s\"",
					what, target);
			rc = -1;
			break;
		}
		rc = pitr_ts_add(b, oid, target, what);
	}
	closedir(d);
	return rc;
}

/* The `timezone` of a plain backup's configuration, includes followed. */
static void plain_zone(const char *path, struct base_backup *b)
{
	char conf[PATH_MAX + 32];

	snprintf(conf, sizeof(conf), "%s/postgresql.conf", path);
	pitr_conf_scan_file(conf, "timezone", true, 0, &b->tz_conf);
	snprintf(conf, sizeof(conf), "%s/postgresql.auto.conf", path);
	pitr_conf_scan_file(conf, "timezone", true, 0, &b->tz_auto);
}

/* Read what F wants from the plain backup B in directory DFD. */
static int scan_dir(int dfd, const char *path, struct found *f,
		    struct base_backup *b)
{
	char *buf = NULL;
	size_t len;
	int r;

	r = read_small(dfd, path, "backup_label", LABEL_MAX, &f->label,
		       &f->label_len);
	if (r < 0)
		return -1;
	f->has_label = r == 0;
	r = read_small(dfd, path, "PG_VERSION", VERSION_MAX - 1, &buf, &len);
	if (r < 0)
		return -1;
	if (r == 0) {
		memcpy(f->version, buf, len + 1);
		f->version_len = len;
		f->has_version = true;
		free(buf);
	}
	r = read_small(dfd, path, "global/pg_control", 1u << 20, &buf, &len);
	if (r < 0)
		return -1;
	if (r == 0) {
		f->control_len = len < PG_CONTROL_HEAD ? len : PG_CONTROL_HEAD;
		memcpy(f->control, buf, f->control_len);
		f->has_control = true;
		free(buf);
	}
	if (plain_tablespaces(dfd, path, b) != 0)
		return -1;
	plain_zone(path, b);
	r = read_small(dfd, path, "backup_manifest", MANIFEST_MAX, &f->manifest,
		       &f->manifest_len);
	if (r < 0)
		return -1;
	f->has_manifest = r == 0;
	member(f->manifest_name, sizeof(f->manifest_name), false, path,
	       "backup_manifest");
	return 0;
}

/*
 * Check what was found and fill B. CONTAINER names where the files are
 * (the directory, or the base tar when IN_TAR).
 */
static int check_found(struct base_backup *b, struct found *f,
		       const char *container, bool in_tar)
{
	char what[NAME_LEN];
	struct dbops_err err = { "" };
	struct manifest m;
	long major = 0;
	const char *p;

	if (!f->has_label && f->nested[0] != '\0') {
		dbops_log_error(
			"\"%s\": no backup_label at the top: the tar holds a directory \"%s\" with one",
			container, f->nested);
		dbops_log_hint(
			"give a tar of the data directory's contents: tar -C DATADIR -cf FILE .");
		return -1;
	}
	if (!f->has_label) {
		no_backup_label(container);
		return -1;
	}
	member(what, sizeof(what), in_tar, container, "backup_label");
	if (strlen(f->label) != f->label_len) {
		dbops_log_error(
			"%s: contains a NUL byte: not a backup_label file",
			what);
		return -1;
	}
	if (pitr_backup_parse_label(f->label, &b->label, &err) != 0) {
		dbops_log_error("%s %s", what, err.msg);
		return -1;
	}
	if (b->label.incremental) {
		dbops_log_error(
			"%s: an incremental backup (INCREMENTAL FROM LSN): it must be combined with its full backup first",
			what);
		dbops_log_hint(
			"run pg_combinebackup on the full backup and its incremental backups, and give its output");
		return -1;
	}
	if (!f->has_version) {
		dbops_log_error("%s: missing: the backup is incomplete",
				member(what, sizeof(what), in_tar, container,
				       "PG_VERSION"));
		return -1;
	}
	p = f->version;
	while (isdigit((unsigned char)*p) && major < 1000)
		major = major * 10 + (*p++ - '0');
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (p == f->version || major == 0 || major >= 1000 ||
	    !(*p == '\0' || (*p == '\n' && p[1] == '\0'))) {
		char q[80];

		dbops_log_error(
			"%s: expected a PostgreSQL major version, found \"%s\"",
			member(what, sizeof(what), in_tar, container,
			       "PG_VERSION"),
			quote_line(q, sizeof(q), f->version, f->version_len));
		return -1;
	}
	b->pg_major = (int)major;
	member(what, sizeof(what), in_tar, container, "global/pg_control");
	if (!f->has_control) {
		dbops_log_error("%s: missing: the backup is incomplete", what);
		return -1;
	}
	if (f->control_len < 8) {
		dbops_log_error(
			"%s: %zu bytes, too short for a pg_control file", what,
			f->control_len);
		return -1;
	}
	memcpy(&b->system_id, f->control, 8);
	memcpy(b->control, f->control, f->control_len);
	b->control_len = f->control_len;
	if (!f->has_manifest)
		return 0;
	if (pitr_parse_manifest(f->manifest, f->manifest_len, &m, &err) != 0) {
		dbops_log_error("%s: could not parse the manifest: %s",
				f->manifest_name, err.msg);
		return -1;
	}
	if (m.system_id != 0 && m.system_id != b->system_id) {
		dbops_log_error(
			"%s: system identifier %" PRIu64 " is not the %" PRIu64
			" of pg_control: the manifest is another backup's",
			f->manifest_name, m.system_id, b->system_id);
		return -1;
	}
	if (m.nranges > 0 && (m.start_lsn != b->label.start_lsn ||
			      m.start_tli != b->label.start_tli)) {
		dbops_log_error(
			"%s: WAL starts at %X/%X on timeline %u, backup_label at %X/%X on timeline %u: the manifest is another backup's",
			f->manifest_name, (unsigned)(m.start_lsn >> 32),
			(unsigned)m.start_lsn, m.start_tli,
			(unsigned)(b->label.start_lsn >> 32),
			(unsigned)b->label.start_lsn, b->label.start_tli);
		return -1;
	}
	b->has_manifest = true;
	b->manifest_end_lsn = m.end_lsn;
	b->manifest_tli = m.end_tli;
	b->manifest_system_id = m.system_id;
	return 0;
}

/* Which of the tar suffixes NAME (STEM + suffix) has, or -1. */
static int tar_suffix(const char *name, const char *stem, size_t stemlen)
{
	if (strncmp(name, stem, stemlen) != 0)
		return -1;
	for (size_t i = 0; i < NSUFFIXES; i++)
		if (strcmp(name + stemlen, tar_suffixes[i]) == 0)
			return (int)i;
	return -1;
}

/* Whether PATH is named like a tar: "x.tar", "x.tar.gz", "x.tgz"... */
static bool looks_like_tar(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	size_t n = strlen(name);

	return strstr(name, ".tar") != NULL ||
	       (n > 4 && strcmp(name + n - 4, ".tgz") == 0);
}

static bool is_tablespace_tar(const char *name)
{
	size_t n = strspn(name, "0123456789");

	return n > 0 && tar_suffix(name + n, "", 0) >= 0;
}

/* Complain that both of the tars STEM+suffix I and J are in DIR. */
static int two_tars(const char *dir, const char *stem, int i, int j)
{
	dbops_log_error("\"%s\": both \"%s%s\" and \"%s%s\": keep one", dir,
			stem, tar_suffixes[i], stem, tar_suffixes[j]);
	return -1;
}

/*
 * The tars of a pg_basebackup -Ft directory DIR: the base tar, the one
 * named GIVEN if not NULL, else the only base.tar* of DIR, or "" if none;
 * the pg_wal tar, the one compressed as the base tar or else the only one,
 * or "". Returns 0, or -1 after an error message (two base tars or two
 * pg_wal tars to choose from). Tablespace tars are for tar_tablespaces().
 */
static int find_tars(const char *dir, const char *given,
		     char base[NAME_MAX + 1], char wal[NAME_MAX + 1])
{
	bool has_base[NSUFFIXES] = { false }, has_wal[NSUFFIXES] = { false };
	struct dirent *de;
	int b = -1, w = -1, nwal = 0;
	DIR *d = opendir(dir);

	base[0] = wal[0] = '\0';
	if (d == NULL) {
		dbops_log_error("could not open directory \"%s\": %s", dir,
				strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		int i;

		if ((i = tar_suffix(de->d_name, "base", 4)) >= 0)
			has_base[i] = true;
		else if ((i = tar_suffix(de->d_name, "pg_wal", 6)) >= 0)
			has_wal[i] = true;
	}
	closedir(d);
	if (given != NULL) {
		b = tar_suffix(given, "base", 4);
	} else {
		for (int i = 0; i < (int)NSUFFIXES; i++) {
			if (!has_base[i])
				continue;
			if (b >= 0)
				return two_tars(dir, "base", b, i);
			b = i;
		}
	}
	for (int i = 0; i < (int)NSUFFIXES; i++) {
		if (has_wal[i]) {
			nwal++;
			if (w < 0 || i == b)
				w = i;
		}
	}
	if (nwal > 1 && w != b) {
		int other = w;

		for (int i = 0; i < (int)NSUFFIXES; i++)
			if (has_wal[i] && i != w)
				other = i;
		return two_tars(dir, "pg_wal", w < other ? w : other,
				w < other ? other : w);
	}
	if (b >= 0)
		snprintf(base, NAME_MAX + 1, "base%s", tar_suffixes[b]);
	if (w >= 0)
		snprintf(wal, NAME_MAX + 1, "pg_wal%s", tar_suffixes[w]);
	return 0;
}

/* Give each <oid>.tar* of DIR to its tablespace of B. */
static int attach_tablespace_tars(struct base_backup *b, const char *dir)
{
	char path[NAME_LEN], digits[16];
	struct dirent *de;
	int rc = 0;
	DIR *d = opendir(dir);

	if (d == NULL) {
		dbops_log_error("could not open directory \"%s\": %s", dir,
				strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		size_t n = strspn(de->d_name, "0123456789");
		unsigned oid;

		if (!is_tablespace_tar(de->d_name) || n >= sizeof(digits))
			continue;
		snprintf(digits, sizeof(digits), "%.*s", (int)n, de->d_name);
		pitr_join(path, sizeof(path), dir, de->d_name);
		if (!pitr_ts_oid_of(digits, &oid)) {
			dbops_log_error("\"%s\": not a tablespace OID", path);
			rc = -1;
		} else {
			rc = pitr_ts_attach_tar(b, oid, path);
		}
	}
	closedir(d);
	return rc;
}

/*
 * The tablespaces of a tar backup: tablespace_map's lines, each with its
 * <oid>.tar* from DIR (NULL: a lone tar, with nothing beside it), each tar
 * read to its end as the base tar was.
 */
static int tar_tablespaces(struct base_backup *b, const struct found *f,
			   const char *dir)
{
	if (f->tsmap != NULL &&
	    pitr_ts_parse_map(f->tsmap, f->tsmap_len, f->tsmap_name, b) != 0)
		return -1;
	if (dir != NULL && attach_tablespace_tars(b, dir) != 0)
		return -1;
	if (pitr_ts_check(b, dir != NULL ? dir : b->base_tar) != 0)
		return -1;
	for (size_t i = 0; i < b->ntablespaces; i++) {
		struct found g = { 0 };
		int r = scan_tar(b->tablespaces[i].tar, true, false, &g, false);

		found_free(&g);
		if (r != 0)
			return -1;
	}
	return 0;
}

/* Scan the base tar (and pg_wal tar), then the manifest file MANIFEST if any. */
static int scan_tars(struct base_backup *b, struct found *f,
		     const char *manifest_dir)
{
	int r;

	if (manifest_dir != NULL) {
		int dfd =
			open(manifest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd < 0) {
			dbops_log_error("could not open directory \"%s\": %s",
					manifest_dir, strerror(errno));
			return -1;
		}
		r = read_small(dfd, manifest_dir, "backup_manifest",
			       MANIFEST_MAX, &f->manifest, &f->manifest_len);
		close(dfd);
		if (r < 0)
			return -1;
		f->has_manifest = r == 0;
		member(f->manifest_name, sizeof(f->manifest_name), false,
		       manifest_dir, "backup_manifest");
	}
	r = scan_tar(b->base_tar, false, !f->has_manifest, f,
		     b->kind == BACKUP_TAR_FILE && !looks_like_tar(b->path));
	if (r == 1) {
		not_a_backup(b->path);
		return -1;
	}
	if (r != 0)
		return -1;
	if (b->wal_tar[0] != '\0' &&
	    scan_tar(b->wal_tar, true, false, f, false) != 0)
		return -1;
	return 0;
}

static int open_directory(struct base_backup *b)
{
	struct found f = { 0 };
	char base[NAME_MAX + 1], wal[NAME_MAX + 1];
	int dfd, rc = -1;

	dfd = open(b->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		dbops_log_error("could not open directory \"%s\": %s", b->path,
				strerror(errno));
		return -1;
	}
	if (faccessat(dfd, "backup_label", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		b->kind = BACKUP_DIR;
		if (scan_dir(dfd, b->path, &f, b) == 0 &&
		    check_found(b, &f, b->path, false) == 0)
			rc = pitr_ts_check(b, b->path);
		goto out;
	}
	if (find_tars(b->path, NULL, base, wal) != 0)
		goto out;
	if (base[0] == '\0') {
		if (faccessat(dfd, "PG_VERSION", F_OK, 0) == 0 ||
		    faccessat(dfd, "global/pg_control", F_OK, 0) == 0)
			no_backup_label(b->path);
		else
			not_a_backup(b->path);
		goto out;
	}
	b->kind = BACKUP_TAR_DIR;
	if (pitr_join(b->base_tar, sizeof(b->base_tar), b->path, base) != 0 ||
	    (wal[0] != '\0' &&
	     pitr_join(b->wal_tar, sizeof(b->wal_tar), b->path, wal) != 0)) {
		dbops_log_error("\"%s\": path too long", b->path);
		goto out;
	}
	if (scan_tars(b, &f, b->path) == 0 &&
	    check_found(b, &f, b->base_tar, true) == 0)
		rc = tar_tablespaces(b, &f, b->path);
	b->tz_conf = f.tz_conf;
	b->tz_auto = f.tz_auto;
out:
	found_free(&f);
	close(dfd);
	return rc;
}

static int open_tar_file(struct base_backup *b)
{
	struct found f = { 0 };
	char dir[PATH_MAX], base[NAME_MAX + 1], wal[NAME_MAX + 1];
	const char *slash = strrchr(b->path, '/');
	const char *name = slash ? slash + 1 : b->path;
	bool layout2 = tar_suffix(name, "base", 4) >= 0;
	int rc = -1;

	b->kind = BACKUP_TAR_FILE;
	snprintf(b->base_tar, sizeof(b->base_tar), "%s", b->path);
	if (layout2) {
		/* base.tar* of pg_basebackup -Ft: its pg_wal tar and manifest */
		if (slash == NULL)
			snprintf(dir, sizeof(dir), ".");
		else if (slash == b->path)
			snprintf(dir, sizeof(dir), "/");
		else
			snprintf(dir, sizeof(dir), "%.*s",
				 (int)(slash - b->path), b->path);
		if (find_tars(dir, name, base, wal) != 0)
			return -1;
		if (wal[0] != '\0' &&
		    pitr_join(b->wal_tar, sizeof(b->wal_tar), dir, wal) != 0) {
			dbops_log_error("\"%s\": path too long", dir);
			return -1;
		}
	}
	if (scan_tars(b, &f, layout2 ? dir : NULL) == 0 &&
	    check_found(b, &f, b->base_tar, true) == 0)
		rc = tar_tablespaces(b, &f, layout2 ? dir : NULL);
	b->tz_conf = f.tz_conf;
	b->tz_auto = f.tz_auto;
	found_free(&f);
	return rc;
}

int pitr_backup_open(const char *path, struct base_backup *b)
{
	struct stat st;
	int rc = -1;

	memset(b, 0, sizeof(*b));
	if (strlen(path) >= sizeof(b->path) - NAME_MAX - 2) {
		dbops_log_error("\"%s\": path too long", path);
		return -1;
	}
	snprintf(b->path, sizeof(b->path), "%s", path);
	if (stat(path, &st) != 0) {
		dbops_log_error("could not access \"%s\": %s", path,
				strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		rc = open_directory(b);
	else if (S_ISREG(st.st_mode))
		rc = open_tar_file(b);
	else
		not_a_backup(path);
	if (rc != 0)
		pitr_backup_free(b);
	return rc;
}
