/*
 * test_pitr_replay_backup.c - unit tests for the base backup modules of
 * utils/pitr-replay (backup.c, manifest.c, tarread.c, extract.c), through
 * backup.h: backup_label parsed as PostgreSQL reads it, and small synthetic
 * base backups in every shape (plain directory, pg_basebackup -Ft directory,
 * one tar, each compression) opened and laid out in a data directory, with
 * the bad ones refused by their exact message: truncated and damaged tars,
 * entries that would leave the data directory, tablespaces, manifests of
 * another backup.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <archive.h>
#include <archive_entry.h>

#include "log.h"
#include "process.h"

#include "../../utils/pitr-replay/backup.h"
#include "../../utils/pitr-replay/manifest.h"
#include "data/manifest_backslash_nul.h"
#include "data/tar_dos_huge_realsize.h"

#define SYSID 7345012345678901234ULL
#define MTIME 1709294282

static const char label_pg15[] =
	"START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n"
	"CHECKPOINT LOCATION: 0/2000060\n"
	"BACKUP METHOD: streamed\n"
	"BACKUP FROM: primary\n"
	"START TIME: 2024-03-01 11:58:02 UTC\n"
	"LABEL: pg_basebackup base backup\n"
	"START TIMELINE: 1\n";

static const char manifest_v1[] =
	"{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n"
	"\"Files\": [\n"
	"{ \"Path\": \"backup_label\", \"Size\": 225, \"Last-Modified\": \"2024-03-01 11:58:02 GMT\", \"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"c7a5b3b4\" },\n"
	"{ \"Path\": \"a \\\"quoted\\\" \\u00e9 name\", \"Size\": 0, \"Last-Modified\": \"2024-03-01 11:58:02 GMT\" }\n"
	"],\n"
	"\"WAL-Ranges\": [\n"
	"{ \"Timeline\": 1, \"Start-LSN\": \"0/2000028\", \"End-LSN\": \"0/2000100\" }\n"
	"],\n"
	"\"Manifest-Checksum\": \"8b5ea0fe7e4be2a1d9bd1c0a0e50a1b95dbd8d2b0f5ba0fb6c8e5b7a6bd4cd1a\"}\n";

/* ---- building backups ---------------------------------------------------- */

/* The files of a synthetic data directory. */
static unsigned char control[8192];
/* Not a multiple of 512, and large enough for copy_file_range(2). */
static unsigned char bigfile[300001];
static unsigned char walseg[16384];

static int setup_group(void **state)
{
	uint64_t id = SYSID;

	dbops_log_init("pitr-replay");
	memcpy(control, &id, sizeof(id));
	for (size_t i = 8; i < sizeof(control); i++)
		control[i] = (unsigned char)(i * 7);
	for (size_t i = 0; i < sizeof(bigfile); i++)
		bigfile[i] = (unsigned char)(i * 31 + i / 977);
	for (size_t i = 0; i < sizeof(walseg); i++)
		walseg[i] = (unsigned char)(i ^ 0x5A);
	return 0;
}

/* A test's scratch directory: *state. */
static int setup(void **state)
{
	*state = make_scratch_dir("backup");
	return 0;
}

static int teardown(void **state)
{
	remove_scratch_dir(*state);
	free(*state);
	assert_int_equal(dbops_log_error_count(), 0);
	return 0;
}

static void make_dirs(const char *dir, const char *rel)
{
	char *p = path_join(dir, rel);

	for (char *s = p + strlen(dir) + 1; *s != '\0'; s++) {
		if (*s == '/') {
			*s = '\0';
			assert_true(mkdir(p, 0700) == 0 || errno == EEXIST);
			*s = '/';
		}
	}
	assert_true(mkdir(p, 0700) == 0 || errno == EEXIST);
	free(p);
}

static void put(const char *dir, const char *rel, const void *data, size_t len)
{
	char *p = path_join(dir, rel);

	write_bytes(p, data, len);
	free(p);
}

static void put_text(const char *dir, const char *rel, const char *text)
{
	put(dir, rel, text, strlen(text));
}

/* A plain backup (pg_basebackup -Fp) in DIR/REL; pg_wal a symlink if asked. */
static char *make_plain(const char *dir, const char *rel, bool wal_symlink)
{
	char *b = path_join(dir, rel);

	make_dirs(dir, rel);
	put_text(b, "backup_label", label_pg15);
	put_text(b, "PG_VERSION", "15\n");
	make_dirs(b, "global");
	put(b, "global/pg_control", control, sizeof(control));
	make_dirs(b, "base/1");
	put(b, "base/1/1234", bigfile, sizeof(bigfile));
	make_dirs(b, "pg_tblspc");
	put_text(b, "postgresql.auto.conf", "");
	{
		char *l = path_join(b, "version_link");

		assert_int_equal(symlink("PG_VERSION", l), 0);
		free(l);
	}
	if (wal_symlink) {
		char *w = path_join(dir, "walsrc"), *l = path_join(b, "pg_wal");

		make_dirs(dir, "walsrc/archive_status");
		put(w, "000000010000000000000002", walseg, sizeof(walseg));
		assert_int_equal(symlink(w, l), 0);
		free(w);
		free(l);
	} else {
		make_dirs(b, "pg_wal/archive_status");
		put(b, "pg_wal/000000010000000000000002", walseg,
		    sizeof(walseg));
	}
	return b;
}

/* One tar entry: 'f' file, 'd' directory, 'l' symlink, 'h' hard link. */
struct ent {
	const char *name;
	char type;
	const void *data;
	size_t len;
	const char *link;
};

enum { NONE, GZIP, ZSTD, LZ4 };

/*
 * Write a tar to PATH with FILTER. PAD: pad the last block to 10240 bytes
 * as tar does, else end right after the two zero blocks as pg_basebackup.
 */
static void write_tar(const char *path, int filter, bool pad,
		      const struct ent *e, size_t n)
{
	struct archive *a = archive_write_new();

	assert_non_null(a);
	assert_int_equal(archive_write_set_format_pax_restricted(a),
			 ARCHIVE_OK);
	switch (filter) {
	case GZIP:
		assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
		break;
	case ZSTD:
		assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
		break;
	case LZ4:
		assert_int_equal(archive_write_add_filter_lz4(a), ARCHIVE_OK);
		break;
	}
	if (!pad)
		assert_int_equal(archive_write_set_bytes_in_last_block(a, 1),
				 ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();

		archive_entry_set_pathname(ae, e[i].name);
		archive_entry_set_mtime(ae, MTIME, 0);
		switch (e[i].type) {
		case 'f':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, 0644);
			archive_entry_set_size(ae, (la_int64_t)e[i].len);
			break;
		case 'd':
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae, 0755);
			break;
		case 'l':
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_perm(ae, 0777);
			archive_entry_set_symlink(ae, e[i].link);
			break;
		case 'h':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, 0644);
			archive_entry_set_hardlink(ae, e[i].link);
			break;
		}
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (e[i].type == 'f' && e[i].len > 0)
			assert_int_equal(
				archive_write_data(a, e[i].data, e[i].len),
				(la_ssize_t)e[i].len);
		archive_entry_free(ae);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

#define DATA_ENTRIES(p)                                                      \
	{ p "backup_label", 'f', label_pg15, sizeof(label_pg15) - 1, NULL }, \
		{ p "PG_VERSION", 'f', "15\n", 3, NULL },                    \
		{ p "global", 'd', NULL, 0, NULL },                          \
		{ p "global/pg_control", 'f', control, sizeof(control),      \
		  NULL },                                                    \
		{ p "base", 'd', NULL, 0, NULL },                            \
		{ p "base/1", 'd', NULL, 0, NULL },                          \
		{ p "base/1/1234", 'f', bigfile, sizeof(bigfile), NULL },    \
		{ p "version_link", 'l', NULL, 0, "PG_VERSION" },            \
		{ p "pg_wal", 'd', NULL, 0, NULL },                          \
	{                                                                    \
		p "pg_wal/archive_status", 'd', NULL, 0, NULL                \
	}

static const struct ent data_entries[] = { DATA_ENTRIES("") };
static const struct ent dot_entries[] = { { "./", 'd', NULL, 0, NULL },
					  DATA_ENTRIES("./") };
static const struct ent wal_entries[] = {
	{ "000000010000000000000002", 'f', walseg, sizeof(walseg), NULL },
	{ "archive_status", 'd', NULL, 0, NULL },
	{ "archive_status/000000010000000000000002.done", 'f', "", 0, NULL },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void cut(const char *path, off_t size)
{
	assert_int_equal(truncate(path, size), 0);
}

/* ---- running the code under test ----------------------------------------- */

/* pitr_backup_open() on PATH must fail; returns what it printed (caller frees). */
static char *open_fails(const char *path)
{
	struct base_backup *b = malloc(sizeof(*b));
	struct capture cap;
	char *out;
	int rc;

	assert_non_null(b);
	capture_begin(&cap, STDERR_FILENO);
	rc = pitr_backup_open(path, b);
	out = capture_end(&cap);
	if (rc != -1)
		fail_msg("pitr_backup_open(\"%s\") succeeded", path);
	assert_true(dbops_log_error_count() > 0);
	dbops_log_reset_errors();
	free(b);
	return out;
}

static struct base_backup *open_ok(const char *path)
{
	struct base_backup *b = malloc(sizeof(*b));
	struct capture cap;
	char *out;
	int rc;

	assert_non_null(b);
	capture_begin(&cap, STDERR_FILENO);
	rc = pitr_backup_open(path, b);
	out = capture_end(&cap);
	if (rc != 0)
		fail_msg("pitr_backup_open(\"%s\") failed: %s", path, out);
	assert_string_equal(out, "");
	free(out);
	return b;
}

/* The message of a failed pitr_backup_open(PATH) must be WANT (printf format). */
__attribute__((format(printf, 2, 3))) static void
assert_open_error(const char *path, const char *want, ...)
{
	char *out = open_fails(path), *expected;
	va_list ap;

	va_start(ap, want);
	assert_true(vasprintf(&expected, want, ap) > 0);
	va_end(ap);
	assert_string_equal(out, expected);
	free(out);
	free(expected);
}

/* pitr_backup_extract() must fail; returns what it printed (caller frees). */
static char *extract_fails(const struct base_backup *b, const char *datadir)
{
	struct capture cap;
	char *out;
	int rc;

	capture_begin(&cap, STDERR_FILENO);
	rc = pitr_backup_extract(b, datadir, NULL, NULL);
	out = capture_end(&cap);
	assert_int_equal(rc, -1);
	assert_true(dbops_log_error_count() > 0);
	dbops_log_reset_errors();
	return out;
}

static void extract_ok(const struct base_backup *b, const char *datadir,
		       const struct dbops_user *owner)
{
	struct capture cap;
	char *out;
	int rc;

	capture_begin(&cap, STDERR_FILENO);
	rc = pitr_backup_extract(b, datadir, owner, NULL);
	out = capture_end(&cap);
	if (rc != 0)
		fail_msg("pitr_backup_extract into \"%s\" failed: %s", datadir,
			 out);
	assert_string_equal(out, "");
	free(out);
}

static void assert_file(const char *dir, const char *rel, const void *data,
			size_t len)
{
	char *p = path_join(dir, rel), *got = malloc(len + 1);
	struct stat st;
	int fd;

	assert_non_null(got);
	assert_int_equal(lstat(p, &st), 0);
	if (!S_ISREG(st.st_mode))
		fail_msg("\"%s\" is not a regular file", p);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, (off_t)len);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, got, len + 1), (ssize_t)len);
	close(fd);
	assert_memory_equal(got, data, len);
	free(got);
	free(p);
}

static void assert_dir(const char *dir, const char *rel)
{
	char *p = path_join(dir, rel);
	struct stat st;

	assert_int_equal(lstat(p, &st), 0);
	if (!S_ISDIR(st.st_mode))
		fail_msg("\"%s\" is not a directory", p);
	assert_int_equal(st.st_mode & 07777, 0700);
	free(p);
}

static void assert_symlink(const char *dir, const char *rel, const char *target)
{
	char *p = path_join(dir, rel), got[256];
	ssize_t n = readlink(p, got, sizeof(got) - 1);

	assert_true(n > 0);
	got[n] = '\0';
	assert_string_equal(got, target);
	free(p);
}

static bool exists(const char *dir, const char *rel)
{
	char *p = path_join(dir, rel);
	struct stat st;
	bool yes = lstat(p, &st) == 0;

	free(p);
	return yes;
}

/* The data directory made from a DATA_ENTRIES backup, and WAL if asked. */
static void assert_data_dir(const char *d, bool wal)
{
	struct stat st;

	assert_int_equal(stat(d, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_file(d, "backup_label", label_pg15, sizeof(label_pg15) - 1);
	assert_file(d, "PG_VERSION", "15\n", 3);
	assert_dir(d, "global");
	assert_file(d, "global/pg_control", control, sizeof(control));
	assert_dir(d, "base/1");
	assert_file(d, "base/1/1234", bigfile, sizeof(bigfile));
	assert_symlink(d, "version_link", "PG_VERSION");
	assert_dir(d, "pg_wal");
	assert_dir(d, "pg_wal/archive_status");
	if (wal)
		assert_file(d, "pg_wal/000000010000000000000002", walseg,
			    sizeof(walseg));
}

static char *new_datadir(const char *dir)
{
	char *d = path_join(dir, "data");

	assert_int_equal(mkdir(d, 0755), 0);
	return d;
}

/* ---- backup_label: bad input --------------------------------------------- */

static void assert_label_error(const char *text, const char *want)
{
	struct backup_label l;
	struct dbops_err err = { "" };

	assert_int_equal(pitr_backup_parse_label(text, &l, &err), -1);
	assert_string_equal(err.msg, want);
}

static void test_label_malformed(void **state)
{
	assert_label_error(
		"",
		"line 1: expected \"START WAL LOCATION: X/Y (file NAME)\", found \"\"");
	assert_label_error(
		"hello\n",
		"line 1: expected \"START WAL LOCATION: X/Y (file NAME)\", found \"hello\"");
	/* 9 hex digits */
	assert_label_error(
		"START WAL LOCATION: 0/120000028 (file 000000010000000000000002)\n",
		"line 1: expected \"START WAL LOCATION: X/Y (file NAME)\", found \"START WAL LOCATION: 0/120000028 (file 000000010000000000000002)\"");
	assert_label_error(
		"START WAL LOCATION: 0/2000028 (file 000000010000000000000002) and some more text to make the line long\n",
		"line 1: expected \"START WAL LOCATION: X/Y (file NAME)\", found \"START WAL LOCATION: 0/2000028 (file 000000010000000000000002) and some more ...\"");
	/* a file name one digit short */
	assert_label_error(
		"START WAL LOCATION: 0/2000028 (file 00000001000000000000002)\n",
		"line 1: expected \"START WAL LOCATION: X/Y (file NAME)\", found \"START WAL LOCATION: 0/2000028 (file 00000001000000000000002)\"");
	assert_label_error(
		"START WAL LOCATION: 0/2000028 (file 00000001000000000000000Z)\n",
		"line 1: expected \"START WAL LOCATION: X/Y (file NAME)\", found \"START WAL LOCATION: 0/2000028 (file 00000001000000000000000Z)\"");
	assert_label_error(
		"START WAL LOCATION: 0/2000028 (file 000000000000000000000002)\n",
		"line 1: WAL file 000000000000000000000002 has timeline 0");
	assert_label_error(
		"START WAL LOCATION: 1/2000028 (file 000000010000000000000002)\n",
		"line 1: WAL file 000000010000000000000002 cannot hold the start WAL location 1/2000028");
	/* a tab is shown as ? */
	assert_label_error(
		"START WAL LOCATION:\t0/2000028 (file 000000010000000000000002)\n",
		"line 1: expected \"START WAL LOCATION: X/Y (file NAME)\", found \"START WAL LOCATION:?0/2000028 (file 000000010000000000000002)\"");
	assert_label_error(
		"START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n",
		"line 2: expected \"CHECKPOINT LOCATION: X/Y\", found \"\"");
	assert_label_error(
		"START WAL LOCATION: 0/2000028 (file 000000010000000000000002)",
		"line 2: expected \"CHECKPOINT LOCATION: X/Y\", found \"\"");
	assert_label_error(
		"START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n"
		"CHECKPOINT LOCATION: 0/2000060 \n",
		"line 2: expected \"CHECKPOINT LOCATION: X/Y\", found \"CHECKPOINT LOCATION: 0/2000060 \"");
	assert_label_error(
		"START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n"
		"CHECKPOINT LOCATION: 0/2000000\n",
		"line 2: checkpoint location 0/2000000 is before the start WAL location 0/2000028");
	assert_label_error(
		"START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n"
		"CHECKPOINT LOCATION: 0/2000060\n"
		"BACKUP METHOD: streamed\n"
		"this is not a field\n",
		"line 4: expected \"KEY: value\", found \"this is not a field\"");
	assert_label_error(
		"START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n"
		"CHECKPOINT LOCATION: 0/2000060\n"
		"START TIMELINE: one\n",
		"line 3: expected \"START TIMELINE: N\", found \"START TIMELINE: one\"");
	assert_label_error(
		"START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n"
		"CHECKPOINT LOCATION: 0/2000060\n"
		"LABEL: a\n"
		"LABEL: b\n",
		"line 4: \"LABEL\" given twice");
}

static void test_label_timeline_mismatch(void **state)
{
	assert_label_error(
		"START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n"
		"CHECKPOINT LOCATION: 0/2000060\n"
		"BACKUP METHOD: streamed\n"
		"BACKUP FROM: primary\n"
		"START TIME: 2024-03-01 11:58:02 UTC\n"
		"LABEL: pg_basebackup base backup\n"
		"START TIMELINE: 2\n",
		"line 7: START TIMELINE 2 does not match the timeline 1 of the start WAL file");
}

static void test_label_error_into_errbuf_or_null(void **state)
{
	struct backup_label l;
	struct dbops_err err = { "" };

	/* A control byte of the text is shown as ?; a caller that does not
	   want the reason passes NULL. */
	assert_int_equal(pitr_backup_parse_label("x\ry", &l, &err), -1);
	assert_string_equal(
		err.msg,
		"line 1: expected \"START WAL LOCATION: X/Y (file NAME)\", found \"x?y\"");
	assert_int_equal(pitr_backup_parse_label("x", &l, NULL), -1);
}

/* ---- backup_label: good input -------------------------------------------- */

static void test_label_pg15(void **state)
{
	struct backup_label l;
	struct dbops_err err = { "" };

	assert_int_equal(pitr_backup_parse_label(label_pg15, &l, &err), 0);
	assert_int_equal(l.start_lsn, 0x2000028);
	assert_int_equal(l.start_tli, 1);
	assert_int_equal(l.checkpoint_lsn, 0x2000060);
	assert_string_equal(l.method, "streamed");
	assert_string_equal(l.from, "primary");
	assert_string_equal(l.start_time, "2024-03-01 11:58:02 UTC");
	assert_string_equal(l.label, "pg_basebackup base backup");
	assert_false(l.incremental);
}

static void test_label_standby_high_lsn_no_timeline_line(void **state)
{
	/* PostgreSQL 13 on a standby, timeline 0x1A, LSNs above 4 GB. */
	struct backup_label l;
	struct dbops_err err = { "" };

	assert_int_equal(
		pitr_backup_parse_label(
			"START WAL LOCATION: 3A/C5000060 (file 0000001A0000003A000000C5)\r\n"
			"CHECKPOINT LOCATION: 3A/C5000098\r\n"
			"BACKUP METHOD: streamed\r\n"
			"BACKUP FROM: standby\r\n"
			"START TIME: 2023-11-02 03:00:01 CET\r\n"
			"LABEL: nightly\r\n"
			"SOME FUTURE FIELD: 42",
			&l, &err),
		0);
	assert_int_equal(l.start_lsn, 0x3AC5000060);
	assert_int_equal(l.start_tli, 0x1A);
	assert_int_equal(l.checkpoint_lsn, 0x3AC5000098);
	assert_string_equal(l.from, "standby");
	assert_string_equal(l.start_time, "2023-11-02 03:00:01 CET");
	assert_string_equal(l.label, "nightly");
}

static void test_label_pg17_incremental(void **state)
{
	struct backup_label l;
	struct dbops_err err = { "" };

	assert_int_equal(
		pitr_backup_parse_label(
			"START WAL LOCATION: 0/6000028 (file 000000010000000000000006)\n"
			"CHECKPOINT LOCATION: 0/6000080\n"
			"BACKUP METHOD: streamed\n"
			"BACKUP FROM: primary\n"
			"START TIME: 2024-10-01 10:00:00 UTC\n"
			"LABEL: incr\n"
			"START TIMELINE: 1\n"
			"INCREMENTAL FROM LSN: 0/2000028\n"
			"INCREMENTAL FROM TLI: 1\n",
			&l, &err),
		0);
	assert_true(l.incremental);
}

static void test_label_long_label_cut_at_a_character(void **state)
{
	struct backup_label l;
	char text[1024];
	struct dbops_err err = { "" };
	size_t n;

	/* 254 'a', then "é" (2 bytes) which does not fit in 255 */
	n = (size_t)snprintf(
		text, sizeof(text),
		"START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n"
		"CHECKPOINT LOCATION: 0/2000060\nLABEL: ");
	memset(text + n, 'a', 254);
	snprintf(text + n + 254, sizeof(text) - n - 254, "\xc3\xa9zzz\n");
	assert_int_equal(pitr_backup_parse_label(text, &l, &err), 0);
	assert_int_equal(strlen(l.label), 254);
}

/* ---- pitr_backup_open: bad input ---------------------------------------------- */

static void test_open_missing_path(void **state)
{
	char *p = path_join(*state, "nothing");

	assert_open_error(
		p,
		"pitr-replay: error: could not access \"%s\": No such file or directory\n",
		p);
	free(p);
}

static void test_open_not_a_backup(void **state)
{
	char *p = path_join(*state, "notes.txt");

	/* an empty directory, a text file */
	assert_open_error(
		*state,
		"pitr-replay: error: \"%s\": not a base backup: no backup_label, base.tar* or tar file\n",
		(char *)*state);
	put_text(*state, "notes.txt", "hello, this is not a tar file at all\n");
	assert_open_error(
		p,
		"pitr-replay: error: \"%s\": not a base backup: no backup_label, base.tar* or tar file\n",
		p);
	free(p);
	/* but a ".tar" that is none is a damaged tar */
	p = path_join(*state, "x.tar");
	put_text(*state, "x.tar", "hello, this is not a tar file at all\n");
	assert_open_error(
		p,
		"pitr-replay: error: \"%s\": incomplete or damaged tar: not a tar archive\n",
		p);
	put_text(*state, "x.tar", "");
	assert_open_error(
		p,
		"pitr-replay: error: \"%s\": incomplete or damaged tar: the file is empty\n",
		p);
	free(p);
}

static void test_open_data_dir_without_label(void **state)
{
	char *b = make_plain(*state, "copy", false),
	     *l = path_join(b, "backup_label");

	unlink(l);
	assert_open_error(
		b,
		"pitr-replay: error: \"%s\": no backup_label: not a base backup taken with pg_basebackup\n"
		"pitr-replay: hint: a copy of a data directory needs the backup_label pg_backup_stop() returns (or an atomic snapshot of the running cluster, which PostgreSQL recovers by crash recovery, not to a point in time); take a base backup with pg_basebackup\n",
		b);
	free(l);
	free(b);
}

static void test_open_plain_bad_files(void **state)
{
	char *b = make_plain(*state, "b", false);
	char *v = path_join(b, "PG_VERSION"),
	     *c = path_join(b, "global/pg_control");

	put_text(b, "backup_label", "START WAL LOCATION: 0/2000028\n");
	assert_open_error(
		b,
		"pitr-replay: error: \"%s/backup_label\" line 1: expected \"START WAL LOCATION: X/Y (file NAME)\", found \"START WAL LOCATION: 0/2000028\"\n",
		b);
	put_text(b, "backup_label", label_pg15);
	put_text(b, "PG_VERSION", "fifteen\n");
	assert_open_error(
		b,
		"pitr-replay: error: \"%s\": expected a PostgreSQL major version, found \"fifteen?\"\n",
		v);
	unlink(v);
	assert_open_error(
		b,
		"pitr-replay: error: \"%s\": missing: the backup is incomplete\n",
		v);
	put_text(b, "PG_VERSION", "9.6\n");
	put(b, "global/pg_control", "1234567", 7);
	assert_open_error(
		b,
		"pitr-replay: error: \"%s\": 7 bytes, too short for a pg_control file\n",
		c);
	unlink(c);
	assert_open_error(
		b,
		"pitr-replay: error: \"%s\": missing: the backup is incomplete\n",
		c);
	free(c);
	free(v);
	free(b);
}

static void test_open_incremental(void **state)
{
	char *b = make_plain(*state, "b", false);
	char label[1024];

	snprintf(label, sizeof(label),
		 "%sINCREMENTAL FROM LSN: 0/1000028\nINCREMENTAL FROM TLI: 1\n",
		 label_pg15);
	put_text(b, "backup_label", label);
	assert_open_error(
		b,
		"pitr-replay: error: \"%s/backup_label\": an incremental backup (INCREMENTAL FROM LSN): it must be combined with its full backup first\n"
		"pitr-replay: hint: run pg_combinebackup on the full backup and its incremental backups, and give its output\n",
		b);
	free(b);
}

/* A plain backup's tablespaces are where its pg_tblspc links point. */
static void test_open_plain_tablespaces(void **state)
{
	char *b = make_plain(*state, "b", false),
	     *t = path_join(b, "pg_tblspc/16385"),
	     *ts = path_join(*state, "ts");
	struct base_backup *bb;

	assert_int_equal(symlink("/nonexistent/ts", t), 0);
	assert_open_error(
		b,
		"pitr-replay: error: could not use tablespace 16385 of \"%s\" at \"/nonexistent/ts\": No such file or directory\n",
		b);
	unlink(t);
	make_dirs(*state, "ts");
	assert_int_equal(symlink(ts, t), 0);
	/* tablespace_map, if a copy has one, is not needed */
	put_text(b, "tablespace_map", "16385 /srv/elsewhere\n");
	bb = open_ok(b);
	assert_int_equal(bb->ntablespaces, 1);
	assert_int_equal(bb->tablespaces[0].oid, 16385);
	assert_string_equal(bb->tablespaces[0].location, ts);
	assert_string_equal(bb->tablespaces[0].tar, "");
	pitr_backup_free(bb);
	free(bb);
	/* an in-place tablespace is a directory, copied with the rest */
	unlink(t);
	make_dirs(b, "pg_tblspc/16386");
	bb = open_ok(b);
	assert_int_equal(bb->ntablespaces, 0);
	free(bb);
	free(ts);
	free(t);
	free(b);
}

/* pg_basebackup -Ft: base.tar lists them in tablespace_map, <oid>.tar hold them. */
static void test_open_tar_tablespaces(void **state)
{
	struct ent e[N(data_entries) + 1];
	char *tars = path_join(*state, "tars"),
	     *base = path_join(tars, "base.tar"),
	     *ts = path_join(tars, "16385.tar.gz"),
	     *lone = path_join(*state, "lone.tar");
	struct base_backup *bb;

	make_dirs(*state, "tars");
	memcpy(e, data_entries, sizeof(data_entries));
	write_tar(base, NONE, true, data_entries, N(data_entries));
	write_tar(ts, GZIP, false, data_entries, N(data_entries));
	assert_open_error(
		tars,
		"pitr-replay: error: \"%s\": a tablespace tar that tablespace_map does not list\n",
		ts);
	/* PostgreSQL escapes a newline and a backslash in a location */
	e[N(data_entries)] =
		(struct ent){ "tablespace_map", 'f', "16385 /srv/t\\\\s\\\nx\n",
			      19, NULL };
	write_tar(base, NONE, true, e, N(e));
	bb = open_ok(tars);
	assert_int_equal(bb->ntablespaces, 1);
	assert_int_equal(bb->tablespaces[0].oid, 16385);
	assert_string_equal(bb->tablespaces[0].location, "/srv/t\\s\nx");
	assert_string_equal(bb->tablespaces[0].tar, ts);
	pitr_backup_free(bb);
	free(bb);
	unlink(ts);
	assert_open_error(
		tars,
		"pitr-replay: error: \"%s\": tablespace 16385 (at \"/srv/t\\s x\") has no 16385.tar beside it: the backup is incomplete\n",
		tars);
	/* a lone tar of a data directory has no tablespace tars beside it */
	write_tar(lone, NONE, true, e, N(e));
	assert_open_error(
		lone,
		"pitr-replay: error: \"%s\": tablespace 16385 (at \"/srv/t\\s x\") has no 16385.tar beside it: the backup is incomplete\n",
		lone);
	e[N(data_entries)].data = "x /srv/ts\n";
	e[N(data_entries)].len = 10;
	write_tar(base, NONE, true, e, N(e));
	assert_open_error(
		tars,
		"pitr-replay: error: \"%s\": tablespace_map: line 1: expected \"OID LOCATION\", found \"x /srv/ts\"\n",
		base);
	free(lone);
	free(ts);
	free(base);
	free(tars);
}

/* The tablespace goes to its target, linked from pg_tblspc; no map is left. */
static void test_extract_tar_tablespace(void **state)
{
	struct ent e[N(data_entries) + 1];
	char *tars = path_join(*state, "tars"),
	     *base = path_join(tars, "base.tar"),
	     *ts = path_join(tars, "16385.tar"), *d = path_join(*state, "d"),
	     *target = path_join(*state, "new ts"),
	     *link = path_join(d, "pg_tblspc/16385"), *map, text[64];
	struct tablespace_mapping m = { "/srv/ts", target };
	struct base_backup *bb;
	struct stat st;
	ssize_t n;

	make_dirs(*state, "tars");
	memcpy(e, data_entries, sizeof(data_entries));
	e[N(data_entries)] = (struct ent){ "tablespace_map", 'f',
					   "16385 /srv/ts\n", 14, NULL };
	write_tar(base, NONE, true, e, N(e));
	write_tar(ts, NONE, true, data_entries, N(data_entries));
	bb = open_ok(tars);
	assert_int_equal(pitr_backup_map_tablespaces(bb, d, &m, 1), 0);
	assert_string_equal(bb->tablespaces[0].target, target);
	make_dirs(*state, "d");
	extract_ok(bb, d, NULL);
	n = readlink(link, text, sizeof(text) - 1);
	assert_true(n > 0);
	text[n] = '\0';
	assert_string_equal(text, target);
	map = path_join(d, "tablespace_map");
	assert_int_equal(lstat(map, &st), -1);
	free(map);
	map = path_join(target, "PG_VERSION");
	assert_int_equal(stat(map, &st), 0);
	free(map);
	assert_true(bb->tablespaces[0].created);
	pitr_backup_remove_tablespaces(bb);
	assert_int_equal(lstat(target, &st), -1);
	pitr_backup_free(bb);
	free(bb);
	free(link);
	free(target);
	free(d);
	free(ts);
	free(base);
	free(tars);
}

/* map_fails B DATADIR MAPS N: pitr_backup_map_tablespaces() fails; its message. */
static char *map_fails(struct base_backup *b, const char *datadir,
		       const struct tablespace_mapping *m, size_t n)
{
	struct capture cap;
	int rc;

	capture_begin(&cap, STDERR_FILENO);
	rc = pitr_backup_map_tablespaces(b, datadir, m, n);
	assert_int_equal(rc, -1);
	assert_true(dbops_log_error_count() > 0);
	dbops_log_reset_errors();
	return capture_end(&cap);
}

/* Where a tablespace may go, and mappings that match nothing. */
static void test_map_tablespaces_refusals(void **state)
{
	struct base_backup b = { .kind = BACKUP_TAR_DIR };
	struct backup_tablespace ts = { .oid = 16385, .location = "/srv/ts" };
	struct tablespace_mapping m = { "/srv/other", "/srv/new" };
	char *full = path_join(*state, "full"), *d = path_join(*state, "d");
	char *out, want[2 * PATH_MAX];

	b.tablespaces = &ts;
	b.ntablespaces = 1;
	make_dirs(*state, "full");
	put_text(full, "x", "");
	out = map_fails(&b, d, &m, 1);
	assert_string_equal(
		out,
		"pitr-replay: error: invalid value \"/srv/other=/srv/new\" for --tablespace-map: the backup has no tablespace at \"/srv/other\"\n");
	free(out);
	m = (struct tablespace_mapping){ "/srv/ts", full };
	out = map_fails(&b, d, &m, 1);
	snprintf(
		want, sizeof(want),
		"pitr-replay: error: could not put tablespace 16385 in \"%s\": not an empty directory\n"
		"pitr-replay: hint: the backed-up cluster had it at \"/srv/ts\"; give --tablespace-map \"/srv/ts=NEW_DIRECTORY\" for another place\n",
		full);
	assert_string_equal(out, want);
	free(out);
	m = (struct tablespace_mapping){ "/srv/ts", d };
	out = map_fails(&b, d, &m, 1);
	snprintf(
		want, sizeof(want),
		"pitr-replay: error: could not put tablespace 16385 in \"%s\": it overlaps the data directory\n",
		d);
	assert_string_equal(out, want);
	free(out);
	b.kind = BACKUP_DIR;
	out = map_fails(&b, d, NULL, 0);
	assert_string_equal(
		out,
		"pitr-replay: error: tablespace 16385 of \"\" is the backup's own copy \"/srv/ts\": it needs a new place\n"
		"pitr-replay: hint: give --tablespace-map \"/srv/ts=NEW_DIRECTORY\"\n");
	free(out);
	free(d);
	free(full);
}

static void test_open_manifest_bad(void **state)
{
	char *b = make_plain(*state, "b", false),
	     *m = path_join(b, "backup_manifest");

	put_text(
		b, "backup_manifest",
		"{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [ { \"Path\": \"x\" ]\n}");
	assert_open_error(
		b,
		"pitr-replay: error: \"%s\": could not parse the manifest: line 2: expected ',' or '}', found ']'\n",
		m);
	put_text(
		b, "backup_manifest",
		"{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"WAL-Ranges\": [ { \"Timeline\": 1, \"Start-LSN\": \"0/2000028\", \"End-LSN\": \"0/2000100\" } ] ");
	assert_open_error(
		b,
		"pitr-replay: error: \"%s\": could not parse the manifest: line 2: expected ',' or '}', found the end of the file\n",
		m);
	put_text(b, "backup_manifest", "{ \"Files\": [] }");
	assert_open_error(
		b,
		"pitr-replay: error: \"%s\": could not parse the manifest: not a backup manifest: no \"PostgreSQL-Backup-Manifest-Version\"\n",
		m);
	put_text(b, "backup_manifest",
		 "{ \"PostgreSQL-Backup-Manifest-Version\": 3 }");
	assert_open_error(
		b,
		"pitr-replay: error: \"%s\": could not parse the manifest: unsupported manifest version 3\n",
		m);
	put_text(
		b, "backup_manifest",
		"{ \"PostgreSQL-Backup-Manifest-Version\": 1, \"WAL-Ranges\": [ { \"Timeline\": 1, \"Start-LSN\": \"0/2000028\" } ] }");
	assert_open_error(
		b,
		"pitr-replay: error: \"%s\": could not parse the manifest: line 1: a WAL range without \"End-LSN\"\n",
		m);
	put_text(
		b, "backup_manifest",
		"{ \"PostgreSQL-Backup-Manifest-Version\": 1, \"WAL-Ranges\": [ { \"Timeline\": 1, \"Start-LSN\": \"0/2000028\", \"End-LSN\": \"0/20000G0\" } ] }");
	assert_open_error(
		b,
		"pitr-replay: error: \"%s\": could not parse the manifest: line 1: \"End-LSN\": expected an LSN \"X/Y\", found \"0/20000G0\"\n",
		m);
	put_text(
		b, "backup_manifest",
		"{ \"PostgreSQL-Backup-Manifest-Version\": 2, \"System-Identifier\": 18446744073709551616 }");
	assert_open_error(
		b,
		"pitr-replay: error: \"%s\": could not parse the manifest: line 1: \"System-Identifier\": expected an integer from 0 to 18446744073709551615\n",
		m);
	/* another backup's manifest */
	put_text(
		b, "backup_manifest",
		"{ \"PostgreSQL-Backup-Manifest-Version\": 2, \"System-Identifier\": 42, \"WAL-Ranges\": [] }");
	assert_open_error(
		b,
		"pitr-replay: error: \"%s\": system identifier 42 is not the 7345012345678901234 of pg_control: the manifest is another backup's\n",
		m);
	put_text(
		b, "backup_manifest",
		"{ \"PostgreSQL-Backup-Manifest-Version\": 1, \"WAL-Ranges\": [ { \"Timeline\": 1, \"Start-LSN\": \"0/3000028\", \"End-LSN\": \"0/3000100\" } ] }");
	assert_open_error(
		b,
		"pitr-replay: error: \"%s\": WAL starts at 0/3000028 on timeline 1, backup_label at 0/2000028 on timeline 1: the manifest is another backup's\n",
		m);
	free(m);
	free(b);
}

/* ---- pitr_backup_open and pitr_backup_extract: plain directories ------------------- */

static void test_plain_dir(void **state)
{
	char *b = make_plain(*state, "b", false), *d = new_datadir(*state);
	struct base_backup *bb = open_ok(b);

	assert_int_equal(bb->kind, BACKUP_DIR);
	assert_string_equal(bb->path, b);
	assert_string_equal(bb->base_tar, "");
	assert_string_equal(bb->wal_tar, "");
	assert_int_equal(bb->label.start_lsn, 0x2000028);
	assert_int_equal(bb->label.start_tli, 1);
	assert_true(bb->system_id == SYSID);
	assert_int_equal(bb->pg_major, 15);
	assert_false(bb->has_manifest);
	assert_int_equal(bb->manifest_end_lsn, 0);
	extract_ok(bb, d, NULL);
	assert_data_dir(d, true);
	assert_file(d, "postgresql.auto.conf", "", 0);
	free(bb);
	free(d);
	free(b);
}

static void test_plain_dir_symlinked_pg_wal_and_manifest(void **state)
{
	char *b = make_plain(*state, "b", true), *d = new_datadir(*state);
	struct base_backup *bb;
	struct stat st;

	/* PostgreSQL lists the newest timeline first */
	put_text(
		b, "backup_manifest",
		"{ \"PostgreSQL-Backup-Manifest-Version\": 2,\n"
		"\"System-Identifier\": 7345012345678901234,\n"
		"\"Files\": [],\n"
		"\"WAL-Ranges\": [\n"
		"{ \"Timeline\": 2, \"Start-LSN\": \"0/3000000\", \"End-LSN\": \"0/3000100\" },\n"
		"{ \"Timeline\": 1, \"Start-LSN\": \"0/2000028\", \"End-LSN\": \"0/3000000\" }\n"
		"],\n"
		"\"Manifest-Checksum\": \"00\"}\n");
	bb = open_ok(b);
	assert_true(bb->has_manifest);
	assert_int_equal(bb->manifest_end_lsn, 0x3000100);
	assert_int_equal(bb->manifest_tli, 2);
	assert_true(bb->manifest_system_id == SYSID);
	extract_ok(bb, d, NULL);
	assert_data_dir(d, true);
	assert_int_equal(lstat(d, &st), 0);
	free(bb);
	free(d);
	free(b);
}

static void test_plain_dir_manifest_v1(void **state)
{
	char *b = make_plain(*state, "b", false);
	struct base_backup *bb;

	put_text(b, "backup_manifest", manifest_v1);
	bb = open_ok(b);
	assert_true(bb->has_manifest);
	assert_int_equal(bb->manifest_end_lsn, 0x2000100);
	assert_int_equal(bb->manifest_tli, 1);
	assert_int_equal(bb->manifest_system_id, 0);
	free(bb);
	free(b);
}

static void test_extract_refuses_non_empty_or_inner_datadir(void **state)
{
	char *b = make_plain(*state, "b", false), *d = new_datadir(*state);
	char *inner = path_join(b, "restore"), *out;
	struct base_backup *bb = open_ok(b);

	put_text(d, "stray", "x");
	out = extract_fails(bb, d);
	free(d);
	d = path_join(*state, "data");
	{
		char *want;

		assert_true(
			asprintf(
				&want,
				"pitr-replay: error: \"%s\": the data directory is not empty\n",
				d) > 0);
		assert_string_equal(out, want);
		free(want);
	}
	free(out);
	assert_int_equal(mkdir(inner, 0700), 0);
	out = extract_fails(bb, inner);
	assert_non_null(strstr(out, "the data directory is inside the backup"));
	free(out);
	free(bb);
	free(inner);
	free(d);
	free(b);
}

static void test_extract_gives_files_to_owner(void **state)
{
	char *b = make_plain(*state, "b", false), *d = new_datadir(*state);
	struct dbops_user owner = { .uid = 65534, .gid = 65534 };
	struct base_backup *bb = open_ok(b);
	char *p;
	struct stat st;

	snprintf(owner.name, sizeof(owner.name), "nobody");
	if (geteuid() != 0) {
		/* not root: a no-op, as dbops_user_chown() */
		owner.uid = geteuid() + 1;
	}
	extract_ok(bb, d, &owner);
	p = path_join(d, "base/1/1234");
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_uid, geteuid() == 0 ? 65534 : geteuid());
	assert_int_equal(st.st_gid, geteuid() == 0 ? 65534 : getegid());
	free(p);
	p = path_join(d, "version_link");
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_uid, geteuid() == 0 ? 65534 : geteuid());
	free(p);
	assert_int_equal(lstat(d, &st), 0);
	assert_int_equal(st.st_uid, geteuid() == 0 ? 65534 : geteuid());
	free(bb);
	free(d);
	free(b);
}

/* ---- tars: bad input ------------------------------------------------------ */

static void test_tar_truncated_mid_file(void **state)
{
	char *t = path_join(*state, "base.tar"), *out;

	write_tar(t, NONE, true, data_entries, N(data_entries));
	cut(t, file_size(t) / 2);
	out = open_fails(t);
	assert_non_null(strstr(out, "incomplete or damaged tar: "));
	assert_non_null(strstr(out, "(reading \"base/1/1234\")"));
	free(out);
	free(t);
}

static void test_tar_truncated_between_entries(void **state)
{
	char *t = path_join(*state, "base.tar");
	struct base_backup *b;

	write_tar(t, NONE, false, data_entries, N(data_entries));
	/* without the two zero blocks: stops cleanly after the last entry */
	cut(t, file_size(t) - 1024);
	assert_open_error(
		t,
		"pitr-replay: error: \"%s\": incomplete or damaged tar: it ends without an end-of-archive marker (after \"pg_wal/archive_status\")\n",
		t);
	/* one zero block is an end, as tar and libarchive take it */
	write_tar(t, NONE, false, data_entries, N(data_entries));
	cut(t, file_size(t) - 512);
	b = open_ok(t);
	free(b);
	/* cut inside the padding after the last file's data */
	write_tar(t, NONE, false, data_entries, N(data_entries) - 3);
	cut(t, file_size(t) - 1024 - 100);
	free(open_fails(t));
	free(t);
}

static void test_tar_compressed_truncated(void **state)
{
	static const struct {
		int filter;
		const char *name;
	} kinds[] = { { GZIP, "base.tar.gz" },
		      { ZSTD, "base.tar.zst" },
		      { LZ4, "base.tar.lz4" } };

	for (size_t k = 0; k < N(kinds); k++) {
		char *t = path_join(*state, kinds[k].name);
		off_t size;

		/* the stream's last bytes (gzip: its trailer) */
		for (off_t c = 1; c <= 8; c++) {
			char *out;

			write_tar(t, kinds[k].filter, false, data_entries,
				  N(data_entries));
			size = file_size(t);
			cut(t, size - c);
			out = open_fails(t);
			if (strstr(out, "incomplete or damaged tar: ") == NULL)
				fail_msg("%s cut by %d bytes: %s",
					 kinds[k].name, (int)c, out);
			free(out);
		}
		/* the middle */
		write_tar(t, kinds[k].filter, false, data_entries,
			  N(data_entries));
		cut(t, file_size(t) / 2);
		free(open_fails(t));
		/*
		 * A damaged byte is not always found: libarchive checks
		 * neither gzip's CRC nor zstd's and lz4's checksums, and the
		 * writers of the tests leave them out. A damaged tar header
		 * is found, below.
		 */
		unlink(t);
		free(t);
	}
}

static void test_extract_finds_a_tar_cut_after_open(void **state)
{
	static const struct {
		int filter;
		const char *name;
	} kinds[] = { { NONE, "base.tar" }, { GZIP, "base.tar.gz" } };

	for (size_t k = 0; k < N(kinds); k++) {
		char *t = path_join(*state, kinds[k].name), *d, *out;
		struct base_backup *b;

		assert_true(asprintf(&d, "%s.data", t) > 0);
		assert_int_equal(mkdir(d, 0700), 0);
		write_tar(t, kinds[k].filter, true, data_entries,
			  N(data_entries));
		b = open_ok(t);
		cut(t, file_size(t) / 2);
		out = extract_fails(b, d);
		/* the numbers of libarchive's message are its own business */
		if (strstr(out,
			   kinds[k].filter == NONE
				   ? "incomplete or damaged tar: Truncated input file (needed "
				   : "incomplete or damaged tar: truncated gzip input (reading \"base/1/1234\")") ==
			    NULL ||
		    strstr(out, "(reading \"base/1/1234\")\n") == NULL)
			fail_msg("%s", out);
		free(out);
		free(b);
		free(d);
		free(t);
	}
}

static void test_tar_damaged_header(void **state)
{
	char *t = path_join(*state, "base.tar");
	unsigned char byte;
	int fd;

	write_tar(t, NONE, true, data_entries, N(data_entries));
	/* the header of "global", after PG_VERSION's header and data */
	fd = open(t, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &byte, 1, 2048 + 3), 1);
	byte ^= 0x01;
	assert_int_equal(pwrite(fd, &byte, 1, 2048 + 3), 1);
	close(fd);
	assert_open_error(
		t,
		"pitr-replay: error: \"%s\": incomplete or damaged tar: Damaged tar archive (after \"PG_VERSION\")\n",
		t);
	free(t);
}

static void test_tar_gz_message(void **state)
{
	char *dir = path_join(*state, "ft"), *t;

	make_dirs(*state, "ft");
	t = path_join(dir, "base.tar.gz");
	write_tar(t, GZIP, false, data_entries, N(data_entries));
	cut(t, file_size(t) / 2);
	assert_open_error(
		dir,
		"pitr-replay: error: \"%s\": incomplete or damaged tar: truncated gzip input (reading \"base/1/1234\")\n",
		t);
	free(t);
	free(dir);
}

static void test_tar_evil_entries_refused(void **state)
{
	static const struct ent dotdot[] = { DATA_ENTRIES(""),
					     { "../evil", 'f', "x", 1, NULL } };
	static const struct ent inner[] = {
		DATA_ENTRIES(""), { "base/../../evil", 'f', "x", 1, NULL }
	};
	static const struct ent absolute[] = {
		DATA_ENTRIES(""), { "/tmp/evil", 'f', "x", 1, NULL }
	};
	static const struct ent hard[] = {
		DATA_ENTRIES(""), { "hard", 'h', NULL, 0, "PG_VERSION" }
	};
	char *t = path_join(*state, "evil.tar"), *d = new_datadir(*state), *out;
	struct base_backup b = { .kind = BACKUP_TAR_FILE };

	write_tar(t, NONE, true, dotdot, N(dotdot));
	assert_open_error(
		t,
		"pitr-replay: error: \"%s\": entry \"../evil\": an absolute path or one with \"..\" would leave the data directory\n",
		t);
	/* extracting without pitr_backup_open() first refuses it too */
	snprintf(b.path, sizeof(b.path), "%s", t);
	snprintf(b.base_tar, sizeof(b.base_tar), "%s", t);
	out = extract_fails(&b, d);
	assert_non_null(strstr(out, "entry \"../evil\": an absolute path"));
	free(out);
	assert_false(exists(*state, "evil"));
	write_tar(t, NONE, true, inner, N(inner));
	free(open_fails(t));
	write_tar(t, NONE, true, absolute, N(absolute));
	assert_open_error(
		t,
		"pitr-replay: error: \"%s\": entry \"/tmp/evil\": an absolute path or one with \"..\" would leave the data directory\n",
		t);
	write_tar(t, NONE, true, hard, N(hard));
	assert_open_error(
		t,
		"pitr-replay: error: \"%s\": entry \"hard\": a hard link, which a base backup does not have\n",
		t);
	free(d);
	free(t);
}

static void test_tar_symlink_is_never_followed(void **state)
{
	char *outside = path_join(*state, "outside");
	struct ent e[] = { DATA_ENTRIES(""),
			   { "escape", 'l', NULL, 0, outside },
			   { "escape/pwned", 'f', "x", 1, NULL },
			   { "PG_VERSION_link", 'l', NULL, 0, "/etc/passwd" } };
	struct ent e2[] = { DATA_ENTRIES(""),
			    { "escape", 'l', NULL, 0, outside },
			    { "escape", 'f', "x", 1, NULL } };
	char *t = path_join(*state, "b.tar"), *d = new_datadir(*state), *out,
	     *want;
	struct base_backup *b;

	make_dirs(*state, "outside");
	write_tar(t, NONE, true, e, N(e));
	b = open_ok(t);
	out = extract_fails(b, d);
	assert_true(
		asprintf(
			&want,
			"pitr-replay: error: could not open directory \"%s/escape\": a symbolic link or a file is in the way\n",
			d) > 0);
	assert_string_equal(out, want);
	free(want);
	free(out);
	free(b);
	assert_false(exists(outside, "pwned"));
	/* a file written over a symbolic link */
	write_tar(t, NONE, true, e2, N(e2));
	b = open_ok(t);
	free(d);
	d = path_join(*state, "data2");
	assert_int_equal(mkdir(d, 0700), 0);
	out = extract_fails(b, d);
	assert_true(
		asprintf(
			&want,
			"pitr-replay: error: could not create file \"%s/escape\": a symbolic link is in the way\n",
			d) > 0);
	assert_string_equal(out, want);
	free(want);
	free(out);
	free(b);
	assert_false(exists(outside, "escape"));
	free(d);
	free(t);
	free(outside);
}

static void test_tar_without_label(void **state)
{
	char *t = path_join(*state, "b.tar.zst");
	struct ent nested[N(data_entries)];
	char names[N(data_entries)][64];

	write_tar(t, ZSTD, true, data_entries + 1, N(data_entries) - 1);
	assert_open_error(
		t,
		"pitr-replay: error: \"%s\": no backup_label: not a base backup taken with pg_basebackup\n"
		"pitr-replay: hint: a copy of a data directory needs the backup_label pg_backup_stop() returns (or an atomic snapshot of the running cluster, which PostgreSQL recovers by crash recovery, not to a point in time); take a base backup with pg_basebackup\n",
		t);
	/* the data directory itself in the tar, not its contents */
	for (size_t i = 0; i < N(data_entries); i++) {
		nested[i] = data_entries[i];
		snprintf(names[i], sizeof(names[i]), "main/%s",
			 data_entries[i].name);
		nested[i].name = names[i];
	}
	write_tar(t, ZSTD, true, nested, N(nested));
	assert_open_error(
		t,
		"pitr-replay: error: \"%s\": no backup_label at the top: the tar holds a directory \"main\" with one\n"
		"pitr-replay: hint: give a tar of the data directory's contents: tar -C DATADIR -cf FILE .\n",
		t);
	free(t);
}

static void test_tar_bad_label_and_missing_files(void **state)
{
	struct ent e[N(data_entries)];
	char *t = path_join(*state, "b.tar");

	memcpy(e, data_entries, sizeof(e));
	e[0].data =
		"START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\nCHECKPOINT LOCATION: 0/x\n";
	e[0].len = strlen(e[0].data);
	write_tar(t, NONE, true, e, N(e));
	assert_open_error(
		t,
		"pitr-replay: error: \"%s\": backup_label line 2: expected \"CHECKPOINT LOCATION: X/Y\", found \"CHECKPOINT LOCATION: 0/x\"\n",
		t);
	memcpy(e, data_entries, sizeof(e));
	e[3].name = "global/pg_control.old";
	write_tar(t, NONE, true, e, N(e));
	assert_open_error(
		t,
		"pitr-replay: error: \"%s\": global/pg_control: missing: the backup is incomplete\n",
		t);
	memcpy(e, data_entries, sizeof(e));
	e[3].len = 4;
	write_tar(t, NONE, true, e, N(e));
	assert_open_error(
		t,
		"pitr-replay: error: \"%s\": global/pg_control: 4 bytes, too short for a pg_control file\n",
		t);
	free(t);
}

static void test_tar_dir_ambiguous(void **state)
{
	char *dir = path_join(*state, "ft"), *t1, *t2;

	make_dirs(*state, "ft");
	t1 = path_join(dir, "base.tar");
	t2 = path_join(dir, "base.tar.gz");
	write_tar(t1, NONE, false, data_entries, N(data_entries));
	write_tar(t2, GZIP, false, data_entries, N(data_entries));
	assert_open_error(
		dir,
		"pitr-replay: error: \"%s\": both \"base.tar\" and \"base.tar.gz\": keep one\n",
		dir);
	unlink(t1);
	free(t1);
	free(t2);
	/* two pg_wal tars, neither compressed as the base tar */
	t1 = path_join(dir, "pg_wal.tar.zst");
	t2 = path_join(dir, "pg_wal.tar.lz4");
	write_tar(t1, ZSTD, false, wal_entries, N(wal_entries));
	write_tar(t2, LZ4, false, wal_entries, N(wal_entries));
	assert_open_error(
		dir,
		"pitr-replay: error: \"%s\": both \"pg_wal.tar.lz4\" and \"pg_wal.tar.zst\": keep one\n",
		dir);
	free(t1);
	free(t2);
	free(dir);
}

static void test_tar_given_file_chooses_its_siblings(void **state)
{
	char *dir = path_join(*state, "ft"), *gz, *plain, *wgz, *wplain;
	struct base_backup *b;

	make_dirs(*state, "ft");
	gz = path_join(dir, "base.tar.gz");
	plain = path_join(dir, "base.tar");
	wgz = path_join(dir, "pg_wal.tar.gz");
	wplain = path_join(dir, "pg_wal.tar");
	write_tar(gz, GZIP, false, data_entries, N(data_entries));
	write_tar(plain, NONE, false, data_entries, N(data_entries));
	write_tar(wgz, GZIP, false, wal_entries, N(wal_entries));
	write_tar(wplain, NONE, false, wal_entries, N(wal_entries));
	/* the file given is the base tar; the pg_wal tar is its kind */
	b = open_ok(gz);
	assert_string_equal(b->base_tar, gz);
	assert_string_equal(b->wal_tar, wgz);
	free(b);
	b = open_ok(plain);
	assert_string_equal(b->wal_tar, wplain);
	free(b);
	/* the only pg_wal tar, whatever its kind */
	unlink(wgz);
	b = open_ok(gz);
	assert_string_equal(b->wal_tar, wplain);
	free(b);
	free(wplain);
	free(wgz);
	free(plain);
	free(gz);
	free(dir);
}

/* ---- tars: good input ------------------------------------------------------ */

static void test_tar_file_each_compression(void **state)
{
	static const struct {
		int filter;
		const char *name;
		bool dot;
		bool pad;
	} kinds[] = {
		{ NONE, "plain.tar", false, true },
		{ NONE, "dot.tar", true, false },
		{ GZIP, "b.tar.gz", true, true },
		{ ZSTD, "b.tar.zst", false, false },
		{ LZ4, "b.tar.lz4", true, false },
		{ GZIP, "backup-no-suffix", false, false },
	};

	for (size_t k = 0; k < N(kinds); k++) {
		char *t = path_join(*state, kinds[k].name);
		char *d = path_join(*state, kinds[k].name), *dd;
		struct base_backup *b;
		struct stat st;

		assert_true(asprintf(&dd, "%s.data", d) > 0);
		assert_int_equal(mkdir(dd, 0750), 0);
		if (kinds[k].dot)
			write_tar(t, kinds[k].filter, kinds[k].pad, dot_entries,
				  N(dot_entries));
		else
			write_tar(t, kinds[k].filter, kinds[k].pad,
				  data_entries, N(data_entries));
		b = open_ok(t);
		assert_int_equal(b->kind, BACKUP_TAR_FILE);
		assert_string_equal(b->base_tar, t);
		assert_string_equal(b->wal_tar, "");
		assert_int_equal(b->label.checkpoint_lsn, 0x2000060);
		assert_true(b->system_id == SYSID);
		assert_int_equal(b->pg_major, 15);
		assert_false(b->has_manifest);
		extract_ok(b, dd, NULL);
		assert_data_dir(dd, false);
		/* files keep their modification time */
		{
			char *f = path_join(dd, "base/1/1234");

			assert_int_equal(stat(f, &st), 0);
			assert_int_equal(st.st_mtime, MTIME);
			free(f);
		}
		free(b);
		free(dd);
		free(d);
		free(t);
	}
}

static void test_tar_dir_layout(void **state)
{
	char *dir = path_join(*state, "ft"), *base, *wal,
	     *d = new_datadir(*state);
	struct base_backup *b;

	make_dirs(*state, "ft");
	base = path_join(dir, "base.tar.gz");
	wal = path_join(dir, "pg_wal.tar.gz");
	write_tar(base, GZIP, false, data_entries, N(data_entries));
	write_tar(wal, GZIP, false, wal_entries, N(wal_entries));
	put_text(dir, "backup_manifest", manifest_v1);
	b = open_ok(dir);
	assert_int_equal(b->kind, BACKUP_TAR_DIR);
	assert_string_equal(b->path, dir);
	assert_string_equal(b->base_tar, base);
	assert_string_equal(b->wal_tar, wal);
	assert_true(b->has_manifest);
	assert_int_equal(b->manifest_end_lsn, 0x2000100);
	extract_ok(b, d, NULL);
	assert_data_dir(d, true);
	assert_file(d, "pg_wal/archive_status/000000010000000000000002.done",
		    "", 0);
	assert_false(exists(d, "backup_manifest"));
	free(b);
	/* base.tar.gz given by itself brings its pg_wal tar and manifest */
	b = open_ok(base);
	assert_int_equal(b->kind, BACKUP_TAR_FILE);
	assert_string_equal(b->wal_tar, wal);
	assert_true(b->has_manifest);
	free(b);
	/* a truncated pg_wal tar is found by pitr_backup_open() */
	cut(wal, file_size(wal) - 3);
	free(open_fails(dir));
	free(d);
	free(wal);
	free(base);
	free(dir);
}

static void test_tar_manifest_inside_and_pg_wal_symlink(void **state)
{
	static const struct ent e[] = {
		{ "backup_label", 'f', label_pg15, sizeof(label_pg15) - 1,
		  NULL },
		{ "backup_manifest", 'f', manifest_v1, sizeof(manifest_v1) - 1,
		  NULL },
		{ "PG_VERSION", 'f', "15\n", 3, NULL },
		{ "global/pg_control", 'f', control, sizeof(control), NULL },
		{ "base/1/1234", 'f', bigfile, sizeof(bigfile), NULL },
		{ "version_link", 'l', NULL, 0, "PG_VERSION" },
		{ "pg_wal", 'l', NULL, 0, "/var/lib/postgresql/wal" },
		{ "pg_wal/archive_status", 'd', NULL, 0, NULL },
	};
	char *t = path_join(*state, "data.tar"), *d = new_datadir(*state);
	struct base_backup *b;

	write_tar(t, NONE, true, e, N(e));
	b = open_ok(t);
	assert_true(b->has_manifest);
	assert_int_equal(b->manifest_end_lsn, 0x2000100);
	extract_ok(b, d, NULL);
	/* no directory entries: made on the way; pg_wal a directory */
	assert_data_dir(d, false);
	free(b);
	free(d);
	free(t);
}

/* ---- pitr_parse_manifest ------------------------------------------------- */

static void test_manifest_fuzz_backslash_nul_is_no_escape(void **state)
{
	static const char small[] =
		"{ \"PostgreSQL-Backup-Manifest-Version\": 1, \"a\\\0\": 1 }";
	struct manifest m;
	struct dbops_err err = { "" };

	/* strchr("\"\\/bfnrt", '\0') finds the terminator: the escape once
	 * passed, and the manifest with it. */
	assert_int_equal(
		pitr_parse_manifest(small, sizeof(small) - 1, &m, &err), -1);
	assert_string_equal(err.msg, "line 1: bad escape in a string");
	err.msg[0] = '\0';
	assert_int_equal(pitr_parse_manifest(manifest_backslash_nul,
					     MANIFEST_BACKSLASH_NUL_SIZE, &m,
					     &err),
			 -1);
	assert_string_equal(err.msg, "line 6: bad escape in a string");
	/* The same manifest with "\\" as its escape is valid. */
	{
		char *fixed = malloc(MANIFEST_BACKSLASH_NUL_SIZE);
		char *nul;

		assert_non_null(fixed);
		memcpy(fixed, manifest_backslash_nul,
		       MANIFEST_BACKSLASH_NUL_SIZE);
		nul = memchr(fixed, '\0', MANIFEST_BACKSLASH_NUL_SIZE);
		assert_non_null(nul);
		assert_int_equal(nul[-1], '\\');
		*nul = '\\';
		err.msg[0] = '\0';
		assert_int_equal(
			pitr_parse_manifest(fixed, MANIFEST_BACKSLASH_NUL_SIZE,
					    &m, &err),
			0);
		free(fixed);
	}
}

/* ---- sizes a tar header claims ------------------------------------------- */

/*
 * The tar at PATH (LEN bytes read into a new buffer) with the entry NAME's
 * header made a GNU one claiming CLAIMED bytes through "realsize", as
 * GNU tar writes it for a sparse file (base-256), its checksum redone.
 */
static void claim_size(const char *path, const char *name, uint64_t claimed,
		       const char *out, bool gz)
{
	off_t size = file_size(path);
	unsigned char *buf = malloc((size_t)size);
	unsigned sum = 0;
	size_t at = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_non_null(buf);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, (size_t)size), size);
	close(fd);
	/* The entry's header: walk the headers and their data. */
	while (strncmp((char *)buf + at, name, 100) != 0) {
		unsigned long len = strtoul((char *)buf + at + 124, NULL, 8);

		at += 512 + (len + 511) / 512 * 512;
		assert_true(at + 512 <= (size_t)size);
	}
	memcpy(buf + at + 257, "ustar  ", 8);
	buf[at + 483] = 0x80;
	for (int i = 0; i < 8; i++)
		buf[at + 494 - i] = (unsigned char)(claimed >> (8 * i));
	memset(buf + at + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += buf[at + i];
	snprintf((char *)buf + at + 148, 8, "%06o", sum);
	if (gz)
		write_gz(out, buf, (size_t)size);
	else
		write_bytes(out, buf, (size_t)size);
	free(buf);
}

static void test_tar_fuzz_huge_claimed_size_refused(void **state)
{
	char *t = path_join(*state, "dos.tar"), *gz = path_join(*state, "x");
	unsigned char *buf = malloc(TAR_DOS_SIZE);

	assert_non_null(buf);
	tar_dos_bytes(buf);
	write_bytes(t, buf, TAR_DOS_SIZE);
	/* It once made pitr_backup_open() spin for ever: the alarm fails
	 * the test by killing it. */
	alarm(60);
	assert_open_error(
		t,
		"pitr-replay: error: \"%s\": incomplete or damaged tar: entry \"PG_VERSION\" claims 9223372036854775807 bytes, more than the whole file's 6837\n",
		t);
	/* Compressed, the file's size tells nothing: what is stored does. */
	free(gz);
	gz = path_join(*state, "dos.tar.gz");
	write_gz(gz, buf, TAR_DOS_SIZE);
	assert_open_error(
		gz,
		"pitr-replay: error: \"%s\": incomplete or damaged tar: entry \"PG_VERSION\" claims 9223372036854775807 bytes but stores 3\n",
		gz);
	alarm(0);
	free(buf);
	free(gz);
	free(t);
}

static void test_tar_manifest_claiming_1gb_is_not_allocated(void **state)
{
	static const struct ent e[] = {
		{ "backup_label", 'f', label_pg15, sizeof(label_pg15) - 1,
		  NULL },
		{ "backup_manifest", 'f', manifest_v1, sizeof(manifest_v1) - 1,
		  NULL },
		{ "PG_VERSION", 'f', "15\n", 3, NULL },
		{ "global/pg_control", 'f', control, sizeof(control), NULL },
	};
	char *t = path_join(*state, "good.tar"),
	     *bad = path_join(*state, "base.tar"),
	     *gz = path_join(*state, "base.tar.gz");
	uint64_t claim = 1000u << 20; /* under MANIFEST_MAX */

	write_tar(t, NONE, true, e, N(e));
	claim_size(t, "backup_manifest", claim, bad, false);
	assert_open_error(
		bad,
		"pitr-replay: error: \"%s\": incomplete or damaged tar: entry \"backup_manifest\" claims %" PRIu64
		" bytes, more than the whole file's %jd\n",
		bad, claim, (intmax_t)file_size(bad));
	/* Compressed: read as stored, never 1000 MB of zeros into a buffer
	 * of that size. */
	claim_size(t, "backup_manifest", claim, gz, true);
	alarm(60);
	assert_open_error(
		gz,
		"pitr-replay: error: \"%s\": incomplete or damaged tar: entry \"backup_manifest\" claims %" PRIu64
		" bytes but stores %zu\n",
		gz, claim, sizeof(manifest_v1) - 1);
	alarm(0);
	free(gz);
	free(bad);
	free(t);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_malformed),
		cmocka_unit_test(test_label_timeline_mismatch),
		cmocka_unit_test(test_label_error_into_errbuf_or_null),
		cmocka_unit_test(test_label_pg15),
		cmocka_unit_test(test_label_standby_high_lsn_no_timeline_line),
		cmocka_unit_test(test_label_pg17_incremental),
		cmocka_unit_test(test_label_long_label_cut_at_a_character),
		T(test_open_missing_path),
		T(test_open_not_a_backup),
		T(test_open_data_dir_without_label),
		T(test_open_plain_bad_files),
		T(test_open_incremental),
		T(test_open_plain_tablespaces),
		T(test_open_tar_tablespaces),
		T(test_extract_tar_tablespace),
		T(test_map_tablespaces_refusals),
		T(test_open_manifest_bad),
		T(test_plain_dir),
		T(test_plain_dir_symlinked_pg_wal_and_manifest),
		T(test_plain_dir_manifest_v1),
		T(test_extract_refuses_non_empty_or_inner_datadir),
		T(test_extract_gives_files_to_owner),
		T(test_tar_truncated_mid_file),
		T(test_tar_truncated_between_entries),
		T(test_tar_compressed_truncated),
		T(test_extract_finds_a_tar_cut_after_open),
		T(test_tar_damaged_header),
		T(test_tar_gz_message),
		T(test_tar_evil_entries_refused),
		T(test_tar_symlink_is_never_followed),
		T(test_tar_without_label),
		T(test_tar_bad_label_and_missing_files),
		T(test_tar_dir_ambiguous),
		T(test_tar_given_file_chooses_its_siblings),
		T(test_tar_file_each_compression),
		T(test_tar_dir_layout),
		T(test_tar_manifest_inside_and_pg_wal_symlink),
		cmocka_unit_test(test_manifest_fuzz_backslash_nul_is_no_escape),
		T(test_tar_fuzz_huge_claimed_size_refused),
		T(test_tar_manifest_claiming_1gb_is_not_allocated),
	};
#undef T

	return cmocka_run_group_tests_name("pitr-replay backup", tests,
					   setup_group, NULL);
}
