/*
 * mfcheck.c - a base backup's files held against its backup_manifest. See
 * mfcheck.h. The manifest is read again here (pitr_backup_open() keeps only
 * what it checks of it): from the backup's directory, or from inside the
 * tar when the tar is the whole backup.
 */
#include "mfcheck.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup_util.h"
#include "crc32c.h"
#include "fileio.h"
#include "log.h"
#include "manifest.h"
#include "tarread.h"
#include "xalloc.h"

#define MANIFEST_READ_MAX (1u << 30)
#define CHUNK		  (256u << 10)

/* What pg_verifybackup ignores: they may change after the backup. */
static const char *const ignored[] = { "backup_manifest", "pg_wal",
				       "postgresql.auto.conf",
				       "recovery.signal", "standby.signal" };

static bool is_ignored(const char *rel)
{
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		size_t n = strlen(ignored[i]);

		if (strncmp(rel, ignored[i], n) == 0 &&
		    (rel[n] == '\0' || rel[n] == '/'))
			return true;
	}
	return false;
}

/* A running checksum of one of the manifest's kinds. */
struct sum {
	enum pitr_checksum_kind kind;
	uint32_t crc;
	EVP_MD_CTX *md;
};

static void sum_start(struct sum *s, enum pitr_checksum_kind kind)
{
	const EVP_MD *md = NULL;

	s->kind = kind;
	s->crc = CRC32C_INIT;
	s->md = NULL;
	switch (kind) {
	case PITR_CHECKSUM_SHA224:
		md = EVP_sha224();
		break;
	case PITR_CHECKSUM_SHA256:
		md = EVP_sha256();
		break;
	case PITR_CHECKSUM_SHA384:
		md = EVP_sha384();
		break;
	case PITR_CHECKSUM_SHA512:
		md = EVP_sha512();
		break;
	case PITR_CHECKSUM_NONE:
	case PITR_CHECKSUM_CRC32C:
		return;
	}
	s->md = EVP_MD_CTX_new();
	if (s->md == NULL || EVP_DigestInit_ex(s->md, md, NULL) != 1)
		dbops_log_fatal("could not start a %s checksum: out of memory",
				pitr_checksum_name(kind));
}

static void sum_add(struct sum *s, const void *data, size_t len)
{
	if (s->kind == PITR_CHECKSUM_CRC32C)
		s->crc = pitr_crc32c_update(s->crc, data, len);
	else if (s->md != NULL)
		EVP_DigestUpdate(s->md, data, len);
}

/* The checksum into OUT (PITR_CHECKSUM_MAX); returns its length. */
static size_t sum_end(struct sum *s, unsigned char *out)
{
	unsigned len = 0;

	if (s->kind == PITR_CHECKSUM_CRC32C) {
		/* PostgreSQL writes the uint32 as it lies in memory. */
		uint32_t crc = crc32c_finish(s->crc);

		memcpy(out, &crc, sizeof(crc));
		return sizeof(crc);
	}
	if (s->md != NULL) {
		EVP_DigestFinal_ex(s->md, out, &len);
		EVP_MD_CTX_free(s->md);
		s->md = NULL;
	}
	return len;
}

static void hex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = '\0';
}

/* Where we are: the manifest's files, the results, how to name a file. */
struct walk {
	struct manifest_files files;
	struct manifest_check *r;
	const char *top; /* the directory, or the tar */
	bool in_tar;
	char buf[CHUNK];
};

/* "DIR/REL" or "TAR": REL, as backup.c names members. */
static const char *name_of(const struct walk *w, const char *rel, char *out,
			   size_t len)
{
	size_t n = strlen(w->top);

	while (n > 1 && w->top[n - 1] == '/')
		n--;
	if (w->in_tar)
		snprintf(out, len, "\"%s\": %s", w->top, rel);
	else
		snprintf(out, len, "\"%.*s/%s\"", (int)n, w->top, rel);
	return out;
}

/* Report one file that differs. */
__attribute__((format(printf, 3, 4))) static void
differs(struct walk *w, const char *rel, const char *fmt, ...)
{
	char name[PATH_MAX + 64], why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	dbops_log_error("%s: %s", name_of(w, rel, name, sizeof(name)), why);
	w->r->problems++;
}

/*
 * The file REL of SIZE bytes was found: look it up, check its size. Returns
 * the manifest's entry when its checksum is to be computed, else NULL.
 */
static struct manifest_file *found(struct walk *w, const char *rel,
				   uint64_t size)
{
	struct manifest_file *m = pitr_manifest_file_find(&w->files, rel);

	if (m == NULL) {
		differs(w, rel, "in the backup but not in its manifest %s",
			w->r->manifest);
		return NULL;
	}
	m->seen = true;
	if (m->size != size) {
		differs(w, rel,
			"%" PRIu64 " bytes in the backup, %" PRIu64
			" in the manifest",
			size, m->size);
		return NULL;
	}
	w->r->files++;
	w->r->bytes += size;
	w->r->kinds |= 1u << m->kind;
	return m;
}

static void compare_sum(struct walk *w, const char *rel,
			const struct manifest_file *m, struct sum *s,
			uint64_t bytes)
{
	unsigned char got[PITR_CHECKSUM_MAX];
	char want_hex[2 * PITR_CHECKSUM_MAX + 1],
		got_hex[2 * PITR_CHECKSUM_MAX + 1];
	size_t n = sum_end(s, got);

	if (bytes != m->size) {
		differs(w, rel,
			"%" PRIu64 " bytes read, %" PRIu64
			" in the manifest (the file changed while being read?)",
			bytes, m->size);
		return;
	}
	if (m->kind == PITR_CHECKSUM_NONE ||
	    (n == m->checksum_len && memcmp(got, m->checksum, n) == 0))
		return;
	hex(m->checksum, m->checksum_len, want_hex);
	hex(got, n, got_hex);
	differs(w, rel, "%s checksum %s, but the manifest says %s",
		pitr_checksum_name(m->kind), got_hex, want_hex);
}

/* Files of the manifest that nothing matched. */
static void report_missing(struct walk *w)
{
	for (size_t i = 0; i < w->files.n; i++) {
		const struct manifest_file *m = &w->files.v[i];

		if (!m->seen && !is_ignored(m->path))
			differs(w, m->path,
				"listed in the manifest %s but missing from the backup",
				w->r->manifest);
	}
}

/* Read the file REL (NAME in DFD) through its checksum. */
static void checksum_file(struct walk *w, int dfd, const char *name,
			  const char *rel, const struct manifest_file *m)
{
	char shown[PATH_MAX + 64];
	struct sum s;
	uint64_t bytes = 0;
	ssize_t n;
	int fd;

	if (m->kind == PITR_CHECKSUM_NONE)
		return;
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		dbops_log_error("could not open %s: %s",
				name_of(w, rel, shown, sizeof(shown)),
				strerror(errno));
		w->r->problems++;
		return;
	}
	sum_start(&s, m->kind);
	while ((n = dbops_read_full(fd, w->buf, sizeof(w->buf))) > 0) {
		sum_add(&s, w->buf, (size_t)n);
		bytes += (uint64_t)n;
		if ((size_t)n < sizeof(w->buf))
			break;
	}
	if (n < 0) {
		dbops_log_error("could not read %s: %s",
				name_of(w, rel, shown, sizeof(shown)),
				strerror(errno));
		w->r->problems++;
		sum_end(&s, (unsigned char[PITR_CHECKSUM_MAX]){ 0 });
	} else {
		compare_sum(w, rel, m, &s, bytes);
	}
	close(fd);
}

static void walk_dir(struct walk *w, int dfd, const char *rel);

/* One entry NAME of the directory DFD, REL from the top. */
static void walk_entry(struct walk *w, int dfd, const char *name,
		       const char *rel)
{
	char shown[PATH_MAX + 64];
	struct manifest_file *m;
	struct stat st;
	int sub;

	/* Followed, as pg_verifybackup follows a symbolic link. */
	if (fstatat(dfd, name, &st, 0) != 0) {
		dbops_log_error("could not stat %s: %s",
				name_of(w, rel, shown, sizeof(shown)),
				strerror(errno));
		w->r->problems++;
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub < 0) {
			dbops_log_error("could not open directory %s: %s",
					name_of(w, rel, shown, sizeof(shown)),
					strerror(errno));
			w->r->problems++;
			return;
		}
		walk_dir(w, sub, rel);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		differs(w, rel, "neither a regular file nor a directory");
		return;
	}
	m = found(w, rel, (uint64_t)st.st_size);
	if (m != NULL)
		checksum_file(w, dfd, name, rel, m);
}

/* Every entry of the directory DFD (closed here), REL from the top. */
static void walk_dir(struct walk *w, int dfd, const char *rel)
{
	char child[PATH_MAX], shown[PATH_MAX + 64];
	DIR *d = fdopendir(dfd);
	struct dirent *e;

	if (d == NULL) {
		dbops_log_error(
			"could not read directory %s: %s",
			name_of(w, rel[0] ? rel : ".", shown, sizeof(shown)),
			strerror(errno));
		close(dfd);
		w->r->problems++;
		return;
	}
	while (errno = 0, (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(child, sizeof(child), "%s%s%s", rel,
				     rel[0] ? "/" : "",
				     e->d_name) >= sizeof(child)) {
			differs(w, rel, "a name in it is too long");
			continue;
		}
		if (!is_ignored(child))
			walk_entry(w, dirfd(d), e->d_name, child);
	}
	if (errno != 0) {
		dbops_log_error(
			"could not read directory %s: %s",
			name_of(w, rel[0] ? rel : ".", shown, sizeof(shown)),
			strerror(errno));
		w->r->problems++;
	}
	closedir(d);
}

/* The data of the current entry of T through its checksum. */
static int checksum_entry(struct walk *w, struct tar *t, const char *rel,
			  const struct manifest_file *m)
{
	struct sum s;
	uint64_t bytes = 0;
	la_ssize_t n;

	if (m->kind == PITR_CHECKSUM_NONE)
		return pitr_tar_skip(t);
	sum_start(&s, m->kind);
	while ((n = archive_read_data(t->a, w->buf, sizeof(w->buf))) > 0) {
		sum_add(&s, w->buf, (size_t)n);
		bytes += (uint64_t)n;
	}
	if (n < 0) {
		sum_end(&s, (unsigned char[PITR_CHECKSUM_MAX]){ 0 });
		return pitr_tar_damaged(t, t->a);
	}
	pitr_tar_entry_done(t);
	compare_sum(w, rel, m, &s, bytes);
	return 0;
}

/*
 * Every entry of the tar PATH, named PREFIX/entry in the manifest ("" for
 * the base tar, "pg_tblspc/OID" for a tablespace's). Returns 0, -1 when the
 * tar cannot be read.
 */
static int walk_tar(struct walk *w, const char *path, const char *prefix)
{
	char name[PATH_MAX], rel[PATH_MAX + 32];
	struct tar t;
	int r;

	if (pitr_tar_open(&t, path) != 0) {
		if (t.unrecognized)
			dbops_log_error(
				"\"%s\": incomplete or damaged tar: not a tar archive",
				path);
		return -1;
	}
	while ((r = pitr_tar_next(&t)) == 1) {
		const char *stored = pitr_entry_name(t.e);
		mode_t type = archive_entry_filetype(t.e);
		int n = pitr_normalise(stored, name, sizeof(name));
		struct manifest_file *m = NULL;

		if (n < 0) {
			pitr_bad_entry(path, stored, n);
			r = -1;
			break;
		}
		snprintf(rel, sizeof(rel), "%s%s%s", prefix,
			 prefix[0] ? "/" : "", name);
		if (n == 0 && !is_ignored(rel) && type != AE_IFDIR) {
			if (type != AE_IFREG)
				differs(w, rel,
					"neither a regular file nor a directory");
			else
				m = found(w, rel,
					  (uint64_t)archive_entry_size(t.e));
		}
		if ((m ? checksum_entry(w, &t, rel, m) : pitr_tar_skip(&t)) !=
		    0) {
			r = -1;
			break;
		}
	}
	pitr_tar_close(&t);
	return r < 0 ? -1 : 0;
}

/* The <oid>.tar of each tablespace, its files under pg_tblspc/OID/. A
 * plain backup's are walked through its pg_tblspc links. */
static int walk_tablespace_tars(struct walk *w, const struct base_backup *b)
{
	char prefix[32];

	for (size_t i = 0; i < b->ntablespaces; i++) {
		snprintf(prefix, sizeof(prefix), "pg_tblspc/%u",
			 b->tablespaces[i].oid);
		w->top = b->tablespaces[i].tar;
		if (walk_tar(w, b->tablespaces[i].tar, prefix) != 0)
			return -1;
	}
	w->top = b->base_tar;
	return 0;
}

/* DIR/backup_manifest into *TEXT: 0, 1 when there is none, -1 after an error. */
static int read_manifest_file(const char *dir, char **text, size_t *len,
			      struct manifest_check *r)
{
	char path[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	if (pitr_join(path, sizeof(path), dir, "backup_manifest") != 0) {
		dbops_log_error("\"%s\": path too long", dir);
		return -1;
	}
	snprintf(r->manifest, sizeof(r->manifest), "\"%s\"", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0 || fstat(fd, &st) != 0) {
		dbops_log_error("could not open \"%s\": %s", path,
				strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > MANIFEST_READ_MAX) {
		dbops_log_error("\"%s\": too large (%jd bytes)", path,
				(intmax_t)st.st_size);
		close(fd);
		return -1;
	}
	*text = dbops_xmalloc((size_t)st.st_size + 1);
	n = dbops_read_full(fd, *text, (size_t)st.st_size);
	close(fd);
	if (n < 0) {
		dbops_log_error("could not read \"%s\": %s", path,
				strerror(errno));
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

/* The backup_manifest entry of the tar PATH into *TEXT. */
static int read_manifest_in_tar(const char *path, char **text, size_t *len,
				struct manifest_check *r)
{
	char name[PATH_MAX];
	struct tar t;
	int rc;

	snprintf(r->manifest, sizeof(r->manifest), "\"%s\": backup_manifest",
		 path);
	if (pitr_tar_open(&t, path) != 0)
		return -1;
	while ((rc = pitr_tar_next(&t)) == 1) {
		int64_t size = archive_entry_size(t.e);

		if (pitr_normalise(pitr_entry_name(t.e), name, sizeof(name)) !=
			    0 ||
		    strcmp(name, "backup_manifest") != 0 ||
		    archive_entry_filetype(t.e) != AE_IFREG) {
			if (pitr_tar_skip(&t) != 0)
				break;
			continue;
		}
		if (size < 0 || (uint64_t)size > MANIFEST_READ_MAX) {
			dbops_log_error("%s: too large", r->manifest);
			break;
		}
		free(*text);
		*text = dbops_xmalloc((size_t)size + 1);
		if (pitr_tar_read(&t, *text, (size_t)size, len) < 0)
			break;
	}
	pitr_tar_close(&t);
	if (rc != 0)
		return -1;
	if (*text == NULL) {
		dbops_log_error("%s: not found on a second reading",
				r->manifest);
		return -1;
	}
	return 0;
}

/* The manifest of B, where pitr_backup_open() found it. */
static int read_manifest(const struct base_backup *b, char **text, size_t *len,
			 struct manifest_check *r)
{
	char dir[PATH_MAX];
	const char *slash;
	int rc;

	*text = NULL;
	if (b->kind != BACKUP_TAR_FILE) {
		rc = read_manifest_file(b->path, text, len, r);
		if (rc == 1)
			dbops_log_error("could not open %s: %s", r->manifest,
					strerror(ENOENT));
		return rc == 0 ? 0 : -1;
	}
	/* A base.tar* of pg_basebackup -Ft has it beside, if anywhere. */
	slash = strrchr(b->path, '/');
	if (strncmp(slash ? slash + 1 : b->path, "base.tar", 8) == 0) {
		snprintf(dir, sizeof(dir), "%.*s",
			 slash ? (int)(slash - b->path) : 1,
			 slash ? b->path : ".");
		if (dir[0] == '\0')
			snprintf(dir, sizeof(dir), "/");
		rc = read_manifest_file(dir, text, len, r);
		if (rc <= 0)
			return rc;
	}
	return read_manifest_in_tar(b->base_tar, text, len, r);
}

int pitr_manifest_check(const struct base_backup *b, struct manifest_check *r)
{
	struct dbops_err err = { "" };
	struct walk *w;
	char *text = NULL;
	size_t len = 0;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (!b->has_manifest)
		return 0;
	if (read_manifest(b, &text, &len, r) != 0) {
		free(text);
		return -1;
	}
	w = dbops_xcalloc(1, sizeof(*w));
	w->r = r;
	if (pitr_manifest_files(text, len, &w->files, &err) != 0) {
		dbops_log_error("%s: could not check the backup against it: %s",
				r->manifest, err.msg);
		goto out;
	}
	r->checked = true;
	w->in_tar = b->kind != BACKUP_DIR;
	w->top = w->in_tar ? b->base_tar : b->path;
	if (w->in_tar) {
		if (walk_tar(w, b->base_tar, "") != 0 ||
		    walk_tablespace_tars(w, b) != 0)
			goto out;
	} else {
		int dfd = open(b->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd < 0) {
			dbops_log_error("could not open directory \"%s\": %s",
					b->path, strerror(errno));
			goto out;
		}
		walk_dir(w, dfd, "");
	}
	report_missing(w);
	if (r->problems == 0) {
		rc = 0;
	} else {
		dbops_log_hint(
			"%" PRIu64
			" file(s) differ from the backup manifest: the backup is damaged or was changed after it was taken; use another backup (--no-manifest-check skips this check)",
			r->problems);
	}
out:
	pitr_manifest_files_free(&w->files);
	free(w);
	free(text);
	return rc;
}

const char *pitr_manifest_kinds(const struct manifest_check *r, char *buf,
				size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int k = PITR_CHECKSUM_NONE; k <= PITR_CHECKSUM_SHA512; k++)
		if (r->kinds & (1u << k) && used < len)
			used += (size_t)snprintf(
				buf + used, len - used, "%s%s",
				used ? ", " : "",
				pitr_checksum_name((enum pitr_checksum_kind)k));
	return buf;
}

void pitr_manifest_report(const struct manifest_check *r, bool skipped,
			  FILE *out)
{
	char kinds[80];

	if (skipped)
		fprintf(out,
			"backup files: not checked (--no-manifest-check)\n");
	else if (!r->checked)
		fprintf(out,
			"backup files: not checked: the backup has no backup_manifest\n");
	else
		fprintf(out,
			"backup files: %" PRIu64 " files, %" PRIu64
			" bytes, as the manifest lists them (checksums: %s)\n",
			r->files, r->bytes,
			pitr_manifest_kinds(r, kinds, sizeof(kinds)));
}
