/*
 * import.c - one file into the table, as one transaction. See import.h and
 * the design notes in snap.h.
 *
 * The data rows are never parsed here: the first bytes are read to learn
 * the header (and, for a new table, the column types), then every byte of
 * the file goes to the server as it is, through the SHA-256 on the way.
 */
#include "import.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <pthread.h>

#include "clock.h"
#include "binary.h"
#include "compress.h"
#include "fileio.h"
#include "log.h"
#include "plan.h"
#include "progress.h"
#include "utf8.h"
#include "xalloc.h"

/* What is read to learn the header and the types. */
#define SAMPLE_BYTES   (4u << 20)
#define SAMPLE_RECORDS 10000
/* How much is read and sent at a time. */
#define CHUNK_BYTES (1u << 20)

static void to_hex(const unsigned char *md, char hex[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

int snap_hash_fd(int fd, char hex[65])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char digest[32];
	char *buf = dbops_xmalloc(CHUNK_BYTES);
	off_t off = 0;
	int rc = -1;

	if (md == NULL)
		dbops_xalloc_failed();
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	for (;;) {
		ssize_t n = pread(fd, buf, CHUNK_BYTES, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		EVP_DigestUpdate(md, buf, (size_t)n);
		off += n;
	}
	if (EVP_DigestFinal_ex(md, digest, NULL) == 1) {
		to_hex(digest, hex);
		rc = 0;
	}
out:
	free(buf);
	EVP_MD_CTX_free(md);
	return rc;
}

static void rollback(struct snap_db *db)
{
	snap_db_command(db, "ROLLBACK", 0, NULL, NULL);
	/* A table created in this transaction is gone with it. */
	if (db->create_pending)
		snap_db_forget_table(db);
}

/*
 * COPY's options after FORMAT csv for the dialect D, ", HEADER true" and
 * DELIMITER, QUOTE and NULL when they are not the defaults, into OUT.
 */
static void copy_options(PGconn *conn, const struct snap_dialect *d, char *out,
			 size_t cap)
{
	const char *words[] = { "DELIMITER", "QUOTE", "NULL" };
	char delim[2] = { d->delimiter, '\0' }, quote[2] = { d->quote, '\0' };
	const char *values[] = { delim, quote, d->null };
	bool given[] = { d->delimiter != ',', d->quote != '"',
			 d->null[0] != '\0' };
	size_t len = (size_t)snprintf(out, cap, ", HEADER %s",
				      d->header ? "true" : "false");

	for (int i = 0; i < 3; i++) {
		char *lit;

		if (!given[i])
			continue;
		lit = PQescapeLiteral(conn, values[i], strlen(values[i]));
		if (lit == NULL)
			dbops_xalloc_failed();
		len += (size_t)snprintf(out + len, cap - len, ", %s %s",
					words[i], lit);
		PQfreemem(lit);
	}
}

/*
 * "COPY t ("a", "b") FROM STDIN (FORMAT csv, HEADER true)"; caller frees.
 * NULL when a name cannot be quoted (its reason in ERR).
 */
static char *copy_statement(struct snap_db *db, const struct snap_header *h,
			    const struct snap_dialect *d, bool binary,
			    struct dbops_err *err)
{
	const char *tail = binary ? ") FROM STDIN (FORMAT binary"
				  : ") FROM STDIN (FORMAT csv";
	/* --null is at most SNAP_NULL_MAX bytes, each quoted as two at most. */
	char options[2 * SNAP_NULL_MAX + 100];
	size_t cap = strlen(db->qtable) + strlen(tail) + sizeof(options) + 80,
	       len;
	char *sql = dbops_xmalloc(cap);

	len = (size_t)snprintf(sql, cap, "COPY %s (", db->qtable);
	for (size_t i = 0; i < h->count; i++) {
		char *q = PQescapeIdentifier(db->conn, h->names[i],
					     strlen(h->names[i]));

		if (q == NULL) {
			const char *why = PQerrorMessage(db->conn);

			dbops_err_set(err, "invalid column name \"%s\": %.*s",
				      h->names[i], (int)strcspn(why, "\n"),
				      why);
			free(sql);
			return NULL;
		}
		cap += strlen(q) + 2;
		sql = dbops_xreallocarray(sql, cap, 1);
		len += (size_t)snprintf(sql + len, cap - len, "%s%s",
					i ? ", " : "", q);
		PQfreemem(q);
	}
	/* The name is PostgreSQL's own (db.c): letters, digits, '_'. */
	options[0] = '\0';
	if (!binary)
		copy_options(db->conn, d, options, sizeof(options));
	/* A table made in this transaction (its index still to come) takes
	 * its first rows frozen: COPY spends about a tenth less (measured on
	 * PostgreSQL 15), and no later reader or VACUUM rewrites every page
	 * to set hint bits or freeze them. */
	if (db->index_pending)
		strcat(options, ", FREEZE");
	snprintf(sql + len, cap - len, "%s%s%s%s%s)", tail, options,
		 db->encoding && !binary ? ", ENCODING '" : "",
		 db->encoding && !binary ? db->encoding : "",
		 db->encoding && !binary ? "'" : "");
	return sql;
}

/*
 * A first import of a file longer than the sample does not wait for the
 * inference over the whole file: the table is made with the sample's
 * types and the COPY starts, while a thread infers over the whole file
 * (the client has a core to spare while the server parses). Before the
 * commit the two are compared: the same, the import stands; different (a
 * column that turns text, or wider, after the sample), it is rolled back
 * and done again with the whole file's types.
 */
struct spec {
	pthread_t thread;
	bool running;
	int fd;
	off_t off; /* the data after the header */
	size_t ncols;
	int64_t first_line;
	const struct snap_dialect *dialect;
	struct snap_guess *guesses; /* the whole file's; NULL: see err */
	struct dbops_err err;
};

/* The state of one file's import. */
struct job {
	struct snap_db *db;
	const struct snap_import_opts *opts;
	struct snap_result *r;
	const char *name;
	int fd;
	bool regular;
	int64_t size; /* regular files: their size */
	char *buf;
	size_t sampled;	    /* bytes of the file in buf */
	bool sample_is_all; /* the whole file is in buf */
	struct snap_header header;
	struct snap_header columns; /* the header's names as column names */
	struct snap_plan plan;
	struct snap_scan scan;
	bool markers;	  /* look for \. lines (servers before 18) */
	char prehash[65]; /* when hashed before sending */
	size_t send_from; /* bytes of buf not sent: a BOM without a header */
	struct spec spec;
	struct snap_guess *full; /* the whole file's types, once known */
	bool redo;		 /* the sample's types did not hold */
	struct snap_bin bin;	 /* sending binary (see use_binary) */
	bool binary;		 /* ... this attempt */
	bool no_binary;		 /* the binary attempt failed: CSV */
};

/* Line ends in the N bytes of S: LF, CR, CR LF as one. */
static int64_t line_ends(const char *s, size_t n)
{
	int64_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (s[i] == '\n' ||
		    (s[i] == '\r' && (i + 1 == n || s[i + 1] != '\n')))
			k++;
	return k;
}

/*
 * Feed IN the LEN bytes in WB (of CAP), then FD from OFF to its end (unless
 * EOF already). Returns the guesses, or NULL with the reason in ERR. Frees
 * WB and IN. pread leaves the file's offset alone.
 */
static struct snap_guess *infer_rest(struct snap_infer *in, int fd, char *wb,
				     size_t len, size_t cap, off_t off,
				     bool eof, struct dbops_err *err)
{
	struct snap_guess *g = NULL;

	for (;;) {
		size_t used = snap_infer_feed(in, wb, len, eof);
		ssize_t n;

		memmove(wb, wb + used, len - used);
		len -= used;
		if (eof)
			break;
		if (len == cap) { /* one record longer than the buffer */
			cap *= 2;
			wb = dbops_xreallocarray(wb, cap, 1);
		}
		do
			n = pread(fd, wb + len, cap - len, off);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			dbops_err_set(err, "could not read the file: %s",
				      strerror(errno));
			goto out;
		}
		eof = n == 0;
		len += (size_t)n;
		off += n;
	}
	g = in->cols;
	in->cols = NULL;
out:
	free(wb);
	snap_infer_free(in);
	return g;
}

/*
 * Infer over the whole file from the data after the header (DATA_OFF in
 * buf). Standard input is read once, so only when all of it is in buf;
 * otherwise NULL, with the reason in *no_guess.
 */
static struct snap_guess *infer_file(struct job *j, size_t data_off,
				     const char **no_guess,
				     struct dbops_err *err)
{
	struct snap_infer in;
	size_t cap = SAMPLE_BYTES, len = j->sampled - data_off;
	char *wb;

	if (!j->sample_is_all && !j->regular) {
		*no_guess =
			"standard input longer than 4 MiB is not read twice to guess types";
		return NULL;
	}
	snap_infer_init(&in, j->header.count, 1 + line_ends(j->buf, data_off));
	in.dialect = &j->opts->dialect;
	wb = dbops_xmalloc(cap);
	memcpy(wb, j->buf + data_off, len);
	return infer_rest(&in, j->fd, wb, len, cap, (off_t)j->sampled,
			  j->sample_is_all, err);
}

static void *spec_thread(void *arg)
{
	struct spec *sp = arg;
	struct snap_infer in;

	snap_infer_init(&in, sp->ncols, sp->first_line);
	in.dialect = sp->dialect;
	sp->guesses = infer_rest(&in, sp->fd, dbops_xmalloc(SAMPLE_BYTES), 0,
				 SAMPLE_BYTES, sp->off, false, &sp->err);
	return NULL;
}

/* Wait for the thread, if one runs; whether one did. */
static bool spec_join(struct job *j)
{
	if (!j->spec.running)
		return false;
	pthread_join(j->spec.thread, NULL);
	j->spec.running = false;
	return true;
}

/*
 * The types of the sample's complete records, with the whole file's
 * inferred meanwhile by a thread (struct spec); NULL when no thread can be
 * started (the caller infers over the whole file itself).
 */
static struct snap_guess *speculate(struct job *j, size_t data_off)
{
	struct snap_infer in;
	struct snap_guess *g;
	int64_t first = 1 + line_ends(j->buf, data_off);

	j->spec = (struct spec){ .fd = j->fd,
				 .off = (off_t)data_off,
				 .ncols = j->header.count,
				 .first_line = first,
				 .dialect = &j->opts->dialect };
	if (pthread_create(&j->spec.thread, NULL, spec_thread, &j->spec) != 0)
		return NULL;
	j->spec.running = true;
	snap_infer_init(&in, j->header.count, first);
	in.dialect = &j->opts->dialect;
	snap_infer_feed(&in, j->buf + data_off, j->sampled - data_off, false);
	g = in.cols;
	in.cols = NULL;
	snap_infer_free(&in);
	return g;
}

/*
 * After the COPY of a speculating first import: 0 when the sample's types
 * are the whole file's (or there was no speculation), 1 when not (j->full
 * holds the whole file's: do it again), -1 when the thread could not read
 * the file (the reason in j->r->err).
 */
static int settle(struct job *j)
{
	struct snap_plan full;
	struct dbops_err ignored;
	bool same = true;

	if (!spec_join(j))
		return 0;
	if (j->spec.guesses == NULL)
		return dbops_err_set(&j->r->err, "%s", j->spec.err.msg);
	if (snap_plan_make(j->header.names, j->header.count, j->spec.guesses,
			   NULL, &j->opts->types, &full, &ignored) != 0)
		return dbops_err_set(&j->r->err, "%s", ignored.msg);
	for (size_t c = 0; c < full.count; c++)
		same &= strcmp(full.types[c], j->plan.types[c]) == 0;
	snap_plan_free(&full);
	if (same) {
		free(j->spec.guesses);
		j->spec.guesses = NULL;
		return 0;
	}
	j->full = j->spec.guesses;
	j->spec.guesses = NULL;
	return 1;
}

/*
 * Plan the columns: names always, types when the table is to be made
 * (CREATE; SPECULATE: it is a new table, see struct spec).
 */
static int plan_columns(struct job *j, size_t data_off, bool create,
			bool speculate_ok)
{
	struct dbops_err *err = &j->r->err;
	struct snap_guess *g = NULL;
	const char *no_guess = "the table exists";
	int rc;

	if (create && !j->opts->types.all_text) {
		if (j->full)
			g = j->full;
		else if (speculate_ok && j->regular && !j->sample_is_all)
			g = speculate(j, data_off);
		if (g == NULL)
			g = infer_file(j, data_off, &no_guess, err);
		if (g == NULL && dbops_err_isset(err))
			return -1;
	}
	rc = snap_plan_make(j->header.names, j->header.count, g, no_guess,
			    &j->opts->types, &j->plan, err);
	if (g != j->full)
		free(g);
	if (rc != 0)
		return -1;
	j->columns.names = j->plan.columns;
	j->columns.count = j->plan.count;
	j->columns.length = j->header.length;
	return 0;
}

/* Read the sample and parse the header. 0, or -1 with the reason. */
static int read_header(struct job *j, size_t *skip)
{
	struct dbops_err *err = &j->r->err;
	ssize_t n = dbops_read_full(j->fd, j->buf, SAMPLE_BYTES);
	int rc;

	*skip = 0;
	if (n < 0)
		return dbops_err_set(err, "could not read the file: %s",
				     strerror(errno));
	j->sampled = (size_t)n;
	j->sample_is_all = j->sampled < SAMPLE_BYTES;
	/* Files are decompressed when opened; standard input cannot be. */
	if (snap_compression_of((const unsigned char *)j->buf, j->sampled) !=
	    SNAP_COMP_NONE)
		return dbops_err_set(
			err,
			"it is %s-compressed: give the file itself, or decompress it into standard input",
			snap_compression_name(snap_compression_of(
				(const unsigned char *)j->buf, j->sampled)));
	/* A UTF-8 byte order mark is not part of the first column's name;
	 * the server skips the header line, mark and all. */
	if (j->sampled >= 3 && memcmp(j->buf, "\xef\xbb\xbf", 3) == 0)
		*skip = 3;
	if (!j->opts->dialect.header) {
		/* --header none: the names are --columns, the BOM not data. */
		const struct snap_header *c = j->opts->columns;

		j->header.names = dbops_xcalloc(c->count, sizeof(char *));
		for (size_t i = 0; i < c->count; i++)
			j->header.names[i] = dbops_xstrdup(c->names[i]);
		j->header.count = c->count;
		j->header.length = 0;
		j->send_from = *skip;
		return j->sampled == 0 ? dbops_err_set(err, "the file is empty")
				       : 0;
	}
	rc = snap_header_parse_dialect(&j->opts->dialect, j->buf + *skip,
				       j->sampled - *skip, j->sample_is_all,
				       &j->header, err);
	if (rc == 1)
		return dbops_err_set(err,
				     "the header line is longer than %u MiB",
				     SAMPLE_BYTES >> 20);
	return rc == 0 ? 0 : -1;
}

/* Header name C in the files' encoding turned into UTF-8 by the server. */
static int convert_name(struct job *j, size_t c)
{
	struct dbops_err *err = &j->r->err;
	const char *name = j->header.names[c];
	size_t n = strlen(name);
	char *hex = dbops_xmalloc(2 * n + 1);
	const char *params[] = { hex, j->db->encoding };
	PGresult *res;
	int rc = -1;

	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)name[i]);
	res = snap_db_exec(j->db, "SELECT convert_from(decode($1, 'hex'), $2)",
			   2, params, err);
	free(hex);
	if (res == NULL)
		return -1;
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		free(j->header.names[c]);
		j->header.names[c] = dbops_xstrdup(PQgetvalue(res, 0, 0));
		rc = 0;
	} else {
		snap_db_describe_error(res, err);
		dbops_err_prefix(err, "column %zu of the header: ", c + 1);
	}
	PQclear(res);
	return rc;
}

/*
 * The header's names as UTF-8, for the SQL that names them: converted from
 * --encoding; with UTF-8 files, a name that is not UTF-8 is refused here,
 * naming the cure.
 */
static int convert_header(struct job *j)
{
	for (size_t c = 0; c < j->header.count; c++) {
		const char *name = j->header.names[c];

		if (j->db->encoding != NULL && j->opts->dialect.header) {
			if (convert_name(j, c) != 0)
				return -1;
		} else if (!dbops_utf8_valid(name, strlen(name))) {
			return dbops_err_set(
				&j->r->err,
				"column %zu of the header is not UTF-8; give the file's encoding with --encoding",
				c + 1);
		}
	}
	return 0;
}

/* Read the sample, parse the header, make sure the table fits it. */
static int learn_header(struct job *j)
{
	struct dbops_err *err = &j->r->err;
	size_t skip;
	int have = 1, rc;

	if (read_header(j, &skip) != 0 || convert_header(j) != 0)
		return -1;
	if (!j->db->table_known) {
		have = snap_db_table_exists(j->db, err);
		if (have < 0)
			return -1;
	}
	if (plan_columns(j, skip + j->header.length, !have, !have) != 0)
		return -1;
	rc = snap_db_prepare_table(j->db, &j->columns,
				   have ? NULL : j->plan.types, err);
	if (rc != 1)
		return rc;
	/* New columns (schema drift): their types inferred as for a new
	 * table, from this whole file. */
	snap_plan_free(&j->plan);
	if (plan_columns(j, skip + j->header.length, true, false) != 0)
		return -1;
	return snap_db_prepare_table(j->db, &j->columns, j->plan.types, err);
}

/*
 * Open PATH ("-": standard input) for a job: a compressed file is read
 * through its decompressed copy (compress.h), a directory refused. 0, or
 * -1 with the reason in err.
 */
static int open_input(struct job *j, const char *path)
{
	struct dbops_err *err = &j->r->err;
	struct stat st;

	j->fd = strcmp(path, "-") == 0 ? STDIN_FILENO
				       : open(path, O_RDONLY | O_CLOEXEC);
	if (j->fd < 0)
		return dbops_err_set(err, "could not open the file: %s",
				     strerror(errno));
	if (fstat(j->fd, &st) != 0)
		return dbops_err_set(err, "could not read the file: %s",
				     strerror(errno));
	if (S_ISDIR(st.st_mode))
		return dbops_err_set(err, "it is a directory");
	j->regular = S_ISREG(st.st_mode) && j->fd != STDIN_FILENO;
	j->size = st.st_size;
	if (!j->regular)
		return 0;
	j->fd = snap_plain_fd(j->fd, err);
	if (j->fd < 0)
		return -1;
	if (fstat(j->fd, &st) != 0)
		return dbops_err_set(err, "could not read the file: %s",
				     strerror(errno));
	j->size = st.st_size;
	return 0;
}

int snap_plan_file(const char *path, const char *qtable,
		   const struct snap_import_opts *opts, FILE *out,
		   struct dbops_err *err)
{
	struct snap_result r;
	struct snap_db nodb = { 0 };
	struct job j = { .db = &nodb, .opts = opts, .r = &r, .fd = -1 };
	size_t skip;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	if (open_input(&j, path) != 0) {
		dbops_err_set(err, "%s", r.err.msg);
		goto out;
	}
	j.buf = dbops_xmalloc(SAMPLE_BYTES);
	if (read_header(&j, &skip) == 0 &&
	    plan_columns(&j, skip + j.header.length, true, false) == 0) {
		snap_plan_print(out, qtable, j.header.names, &j.plan);
		rc = 0;
	} else {
		dbops_err_set(err, "%s", r.err.msg);
	}
out:
	free(j.buf);
	snap_header_free(&j.header);
	snap_plan_free(&j.plan);
	if (j.fd > STDIN_FILENO)
		close(j.fd);
	return rc;
}

/*
 * The content is in the ledger (j->r->found): skipped, unless its rows are
 * gone from the table, which is said (a failure: the data the user expects
 * is not there); --force imports it again (record_rows replaces the old
 * snapshot). The outcome, or -1 to go on.
 */
static int known_content(struct job *j)
{
	const struct snap_found *f = &j->r->found;
	int gone;

	if (j->opts->force)
		return -1;
	gone = snap_db_rows_gone(j->db, f, &j->r->err);
	if (gone < 0)
		return SNAP_FAILED;
	if (gone == 0)
		return SNAP_SKIPPED;
	j->r->bytes =
		j->regular ? j->size : j->r->bytes; /* for sync's record */
	dbops_err_set(
		&j->r->err,
		"its content is snapshot %lld, imported at %s as \"%s\", whose %lld rows are no longer in table \"%s\" (deleted, truncated or the table dropped); give --force to import it again",
		(long long)f->id, f->at, f->name, (long long)f->rows,
		j->db->target);
	return SNAP_FAILED;
}

/*
 * Whether this content is known already. Hashing first costs a read of the
 * file, so it is done only when a file of the same size was imported (or
 * the caller asks, as sync does). Returns the outcome, or -1 to go on.
 */
static int check_known(struct job *j)
{
	struct dbops_err *err = &j->r->err;
	int rc;

	if (!j->regular)
		return -1;
	if (!j->opts->always_hash_first) {
		rc = snap_db_size_known(j->db, j->size, err);
		if (rc < 0)
			return SNAP_FAILED;
		if (rc == 0)
			return -1;
	}
	if (j->opts->sha256) {
		snprintf(j->prehash, sizeof(j->prehash), "%s", j->opts->sha256);
	} else if (snap_hash_fd(j->fd, j->prehash) != 0) {
		dbops_err_set(err, "could not read the file: %s",
			      strerror(errno));
		return SNAP_FAILED;
	}
	snprintf(j->r->sha256, sizeof(j->r->sha256), "%s", j->prehash);
	rc = snap_db_find(j->db, j->prehash, false, &j->r->found, err);
	if (rc == 1)
		return known_content(j);
	if (rc == 0 && j->opts->check_failed)
		rc = snap_db_find(j->db, j->prehash, true, &j->r->found, err);
	if (rc == 1)
		return SNAP_KNOWN_FAILED;
	if (rc < 0)
		return SNAP_FAILED;
	return -1;
}

/* Draw a ledger id into *ID. 0, or -1 with the reason in err. */
static int draw_id(struct snap_db *db, int64_t *id, struct dbops_err *err)
{
	const char *params[] = { db->qledger };
	PGresult *res = snap_db_exec(
		db, "SELECT nextval(pg_get_serial_sequence($1, 'id'))", 1,
		params, err);
	int rc = -1;

	if (res == NULL)
		return -1;
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		rc = 0;
	} else {
		snap_db_describe_error(res, err);
	}
	PQclear(res);
	return rc;
}

/* Draw the ledger id (unless given) and make the rows take it as their
 * snapshot_id. */
static int begin(struct job *j)
{
	struct dbops_err *err = &j->r->err;
	char id[32];
	const char *set_params[] = { id };

	/* A table just created waits in its open transaction. */
	if (!j->db->create_pending &&
	    snap_db_command(j->db, "BEGIN", 0, NULL, err) != 0)
		return -1;
	/* --jobs draws the ids beforehand, in the order of the files. */
	j->r->id = j->opts->id;
	if (j->r->id <= 0 && draw_id(j->db, &j->r->id, err) != 0)
		return -1;
	snprintf(id, sizeof(id), "%lld", (long long)j->r->id);
	if (snap_db_command(
		    j->db,
		    "SELECT set_config('snap_import.snapshot_id', $1, true)", 1,
		    set_params, err) != 0)
		return -1;
	/* --table-from-name: the rows' snapshot_date, from the name. */
	set_params[0] = j->opts->snapshot_date;
	return set_params[0] == NULL
		       ? 0
		       : snap_db_command(
				 j->db,
				 "SELECT set_config('snap_import.snapshot_date', $1, true)",
				 1, set_params, err);
}

/*
 * Binary COPY's error (its "line" is a record) told as CSV's would be:
 * the line CSV would name, mapped to the file's.
 */
static void binary_copy_error(struct job *j, const PGresult *res,
			      struct dbops_err *msg)
{
	const char *context = PQresultErrorField(res, PG_DIAG_CONTEXT);
	const char *at = context ? strstr(context, ", line ") : NULL;
	char *fixed;
	char *end;
	long long record;

	if (at == NULL)
		return;
	record = strtoll(at + 7, &end, 10);
	fixed = dbops_xasprintf(
		"%.*s, line %lld%s", (int)(at - context), context,
		(long long)snap_bin_csv_line(&j->bin, record), end);
	snap_db_format_error(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
			     fixed, &j->scan, msg);
	free(fixed);
}

/* Whether the binary COPY's error is the data's (a value the server
 * refused: class 22), which COPY's CSV mode is to tell with its line. */
static bool binary_data_error(const struct job *j)
{
	const char *state = snap_db_last_sqlstate();

	return j->no_binary || strncmp(state, "22", 2) == 0 ||
	       strcmp(state, "08P01") == 0;
}

/* COPY's error; bytes that are not UTF-8 get the cure. */
static void copy_error(struct job *j, const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	struct dbops_err msg = { "" };

	snap_db_describe_copy_error(res, &j->scan, &msg);
	if (j->binary)
		binary_copy_error(j, res, &msg);
	if (j->db->encoding == NULL && state && strcmp(state, "22021") == 0)
		dbops_err_set(
			&j->r->err,
			"%s; if the file is not UTF-8, give its encoding with --encoding",
			msg.msg);
	else
		dbops_err_set(&j->r->err, "%s", msg.msg);
}

/*
 * Whether this attempt sends COPY's binary format (binary.h), and if so
 * j->bin made ready: only into a table created in this transaction (the
 * plan's types are its columns'), when every column's type has an exact
 * binary form, the file is UTF-8 (the session's encoding; --encoding
 * leaves the conversion to the server) and no binary attempt of this file
 * failed before. Timestamps without an offset are sent only when the
 * session's TimeZone is UTC.
 */
static bool use_binary(struct job *j)
{
	const char *tz = PQparameterStatus(j->db->conn, "TimeZone");
	size_t n = j->plan.count;
	enum snap_type *types;
	bool ok = !j->no_binary && !j->opts->types.copy_csv &&
		  j->db->index_pending && j->db->encoding == NULL && n > 0 &&
		  n == j->columns.count;

	if (!ok)
		return false;
	types = dbops_xreallocarray(NULL, n, sizeof(*types));
	for (size_t c = 0; c < n && ok; c++)
		ok = snap_bin_type(j->plan.types[c], &types[c]);
	if (ok)
		snap_bin_init(&j->bin, &j->opts->dialect, n, types,
			      tz && (strcmp(tz, "UTC") == 0 ||
				     strcmp(tz, "Etc/UTC") == 0));
	free(types);
	return ok;
}

/*
 * Send OUT (SENT bytes of the file as COPY's CSV would get them; EOF: the
 * last) as they are or, binary, encoded. NULL, or why not.
 */
static const char *send_data(struct job *j, const char *out, size_t sent,
			     bool eof)
{
	PGconn *conn = j->db->conn;

	if (!j->binary)
		return sent > 0 && PQputCopyData(conn, out, (int)sent) != 1
			       ? "lost the connection to the database"
			       : NULL;
	if (snap_bin_feed(&j->bin, out, sent, eof) != 0) {
		j->no_binary = true;
		dbops_log_debug("\"%s\": sent as CSV instead of binary: %s",
				j->name, j->bin.why);
		return "a value has no exact binary form";
	}
	if (j->bin.len > 0 &&
	    PQputCopyData(conn, (const char *)j->bin.out, (int)j->bin.len) != 1)
		return "lost the connection to the database";
	j->bin.len = 0;
	return NULL;
}

/* Send the file through COPY, hashing it. 0, -1 failed, 1 interrupted. */
static int stream(struct job *j, EVP_MD_CTX *md)
{
	PGconn *conn = j->db->conn;
	const char *why;
	struct dbops_progress *progress =
		dbops_progress_new(j->name, j->regular ? (uint64_t)j->size : 0,
				   DBOPS_PROGRESS_BYTES, j->opts->progress);
	const char *abort_reason = NULL;
	struct dbops_err read_error = { "" };
	size_t len = j->sampled;
	bool eof =
		j->sample_is_all; /* dbops_read_full() is short only at the end */
	char *out = dbops_xmalloc(SAMPLE_BYTES + 2);
	size_t sent;
	int rc = 0;

	for (;;) {
		sent = snap_scan_chunk(&j->scan, j->buf + j->send_from,
				       len - j->send_from, eof, out);
		j->send_from = 0;
		if (j->scan.marker_line > 0) {
			dbops_err_set(
				&read_error,
				"line %lld: a line holding only \\. ends COPY data early; quote the value to keep it",
				(long long)j->scan.marker_line);
			abort_reason = read_error.msg;
			break;
		}
		if (len > 0 || eof) {
			EVP_DigestUpdate(md, j->buf, len);
			why = send_data(j, out, sent, eof);
			if (why != NULL) {
				abort_reason = why;
				break;
			}
			j->r->bytes += (int64_t)len;
			if (progress)
				dbops_progress_update(progress,
						      (uint64_t)j->r->bytes);
			if (j->opts->tick)
				j->opts->tick(j->opts->tick_arg);
		}
		if (j->opts->stop && *j->opts->stop) {
			abort_reason = "interrupted by a signal";
			rc = 1;
			break;
		}
		if (eof)
			break;
		ssize_t n = dbops_read_full(j->fd, j->buf, CHUNK_BYTES);

		if (n < 0) {
			dbops_err_set(&read_error,
				      "could not read the file: %s",
				      strerror(errno));
			abort_reason = read_error.msg;
			break;
		}
		len = (size_t)n;
		eof = len < CHUNK_BYTES;
	}
	free(out);
	if (progress)
		dbops_progress_finish(progress);
	/* An aborted COPY makes the server fail the statement: rollback. */
	if (PQputCopyEnd(conn, abort_reason) != 1 && abort_reason == NULL) {
		dbops_err_set(&j->r->err,
			      "could not finish sending the file: %s",
			      PQerrorMessage(conn));
		return -1;
	}
	for (PGresult *res; (res = PQgetResult(conn)) != NULL; PQclear(res)) {
		if (PQresultStatus(res) == PGRES_COMMAND_OK) {
			j->r->rows = strtoll(PQcmdTuples(res), NULL, 10);
		} else if (rc == 0 && !dbops_err_isset(&j->r->err)) {
			if (abort_reason)
				dbops_err_set(&j->r->err, "%s", abort_reason);
			else
				copy_error(j, res);
			rc = -1;
		}
	}
	return rc;
}

/* S as a JSON string, quotes and all, appended to *out. */
static void json_string(char **out, const char *s)
{
	size_t n = strlen(*out), cap = n + 6 * strlen(s) + 3;
	char *o = dbops_xreallocarray(*out, cap, 1);

	o[n++] = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			o[n++] = '\\';
			o[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(o + n, cap - n, "\\u%04x", c);
		} else {
			o[n++] = (char)c;
		}
	}
	o[n++] = '"';
	o[n] = '\0';
	*out = o;
}

/*
 * The header names that were shortened, as a JSON object of header name to
 * column name; NULL when none was. Caller frees.
 */
static char *column_map(const struct job *j)
{
	char *json;

	if (!j->plan.renamed)
		return NULL;
	json = dbops_xstrdup("{");
	for (size_t c = 0; c < j->plan.count; c++) {
		if (strcmp(j->header.names[c], j->plan.columns[c]) == 0)
			continue;
		if (json[1] != '\0') {
			json = dbops_xreallocarray(json, strlen(json) + 3, 1);
			strcat(json, ", ");
		}
		json_string(&json, j->header.names[c]);
		json = dbops_xreallocarray(json, strlen(json) + 3, 1);
		strcat(json, ": ");
		json_string(&json, j->plan.columns[c]);
	}
	json = dbops_xreallocarray(json, strlen(json) + 2, 1);
	strcat(json, "}");
	return json;
}

/*
 * Delete the ledger's failed rows of this content or name (DONE: key,
 * sha256, name), looked for first: DELETE needs a privilege that a loader
 * importing with INSERT and SELECT only may lack (snap-import(1),
 * PRIVILEGES), and there are seldom any.
 */
static int clear_failures(struct job *j, const char *const *done)
{
	static const char where[] = " WHERE target_table = $1"
				    " AND status = 'failed'"
				    " AND (sha256 = $2 OR file_name = $3)";
	char *sql = dbops_xasprintf("SELECT 1 FROM {ledger}%s LIMIT 1", where);
	PGresult *res = snap_db_ledger_exec(j->db, sql, 3, done, &j->r->err);
	int n;

	free(sql);
	if (res == NULL)
		return -1;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snap_db_describe_error(res, &j->r->err);
		PQclear(res);
		return -1;
	}
	n = PQntuples(res);
	PQclear(res);
	if (n == 0)
		return 0;
	sql = dbops_xasprintf("DELETE FROM {ledger}%s", where);
	n = snap_db_ledger_command(j->db, sql, 3, done, &j->r->err);
	free(sql);
	return n;
}

/*
 * --force: the earlier import of this content, if any, is replaced in
 * this transaction: what is left of its rows deleted, its ledger row too.
 */
static int replace_old(struct job *j)
{
	const char *params[] = { j->db->key, j->r->sha256 };
	char id[32], *sql;
	const char *idp[] = { id };
	PGresult *res = snap_db_ledger_exec(
		j->db,
		"SELECT id FROM {ledger} WHERE target_table = $1"
		" AND sha256 = $2 AND status = 'imported'",
		2, params, &j->r->err);
	int rc;

	if (res == NULL)
		return -1;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snap_db_describe_error(res, &j->r->err);
		PQclear(res);
		return -1;
	}
	rc = PQntuples(res);
	if (rc > 0)
		snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (rc == 0)
		return 0;
	j->r->replaced = strtoll(id, NULL, 10);
	sql = dbops_xasprintf("DELETE FROM %s WHERE snapshot_id = $1",
			      j->db->qtable);
	rc = snap_db_command(j->db, sql, 1, idp, &j->r->err);
	free(sql);
	if (rc == 0)
		rc = snap_db_ledger_command(
			j->db, "DELETE FROM {ledger} WHERE id = $1", 1, idp,
			&j->r->err);
	if (rc != 0)
		dbops_err_prefix(
			&j->r->err,
			"could not replace snapshot %s (--force): ", id);
	return rc;
}

/* Insert the ledger row (LNAME the file's name, MAP its shortened
 * header names) and commit. The outcome. */
static enum snap_outcome record_rows(struct job *j, double started,
				     const char *map, const char *lname)
{
	struct dbops_err *err = &j->r->err, ignored;
	char id[32], rows[32], bytes[32], secs[32];
	const char *params[] = { j->db->key, lname, j->r->sha256,
				 rows,	     bytes, secs,
				 j->db->by,  id,    map };
	const char *done[] = { j->db->key, j->r->sha256, lname };
	PGresult *res;

	snprintf(id, sizeof(id), "%lld", (long long)j->r->id);
	snprintf(rows, sizeof(rows), "%lld", (long long)j->r->rows);
	snprintf(bytes, sizeof(bytes), "%lld", (long long)j->r->bytes);
	j->r->seconds = dbops_clock_seconds() - started;
	snprintf(secs, sizeof(secs), "%.6f", j->r->seconds);
	if ((j->opts->force && replace_old(j) != 0) ||
	    snap_db_create_index(j->db, err) != 0) {
		rollback(j->db);
		return SNAP_FAILED;
	}
	res = snap_db_ledger_exec(
		j->db,
		"INSERT INTO {ledger} (id, target_table, file_name, sha256, rows,"
		" bytes, started_at, duration_s, imported_by, status, columns)"
		" VALUES ($8, $1, $2, $3, $4, $5,"
		" clock_timestamp() - make_interval(secs => $6), $6, $7,"
		" 'imported', $9::jsonb)",
		9, params, err);
	if (res == NULL)
		return SNAP_FAILED;
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		bool duplicate = state && strcmp(state, "23505") == 0;

		snap_db_describe_error(res, err);
		PQclear(res);
		rollback(j->db);
		/* Another importer committed this content first. */
		if (duplicate && snap_db_find(j->db, j->r->sha256, false,
					      &j->r->found, &ignored) == 1) {
			int known;

			dbops_err_clear(err);
			known = known_content(j);
			return known < 0 ? SNAP_SKIPPED
					 : (enum snap_outcome)known;
		}
		return SNAP_FAILED;
	}
	PQclear(res);
	/* Failures of this content, or of an older content of this name,
	 * are over. */
	if (clear_failures(j, done) != 0 ||
	    snap_db_command(j->db, "COMMIT", 0, NULL, err) != 0) {
		rollback(j->db);
		return SNAP_FAILED;
	}
	snap_db_committed(j->db);
	return SNAP_IMPORTED;
}

/* Insert the ledger row and commit. The outcome. */
static enum snap_outcome record_and_commit(struct job *j, double started)
{
	char *map = column_map(j), *lname = snap_db_ledger_name(j->name);
	enum snap_outcome out = record_rows(j, started, map, lname);

	free(map);
	free(lname);
	return out;
}

/* The import once the file is open and the table known. */
static enum snap_outcome run(struct job *j)
{
	double started = dbops_clock_seconds();
	unsigned char digest[32];
	EVP_MD_CTX *md;
	char *copy;
	PGresult *res;
	int known, rc;

	known = check_known(j);
	if (known >= 0)
		return (enum snap_outcome)known;
	copy = NULL;
	j->binary = false;
	if (begin(j) == 0) {
		j->binary = use_binary(j);
		if (j->binary)
			dbops_log_debug("\"%s\": COPY in binary format",
					j->name);
		copy = copy_statement(j->db, &j->columns, &j->opts->dialect,
				      j->binary, &j->r->err);
	}
	if (copy == NULL) {
		rollback(j->db);
		return SNAP_FAILED;
	}
	md = EVP_MD_CTX_new();
	if (md == NULL)
		dbops_xalloc_failed();
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		free(copy);
		EVP_MD_CTX_free(md);
		rollback(j->db);
		dbops_err_set(&j->r->err, "could not start the SHA-256 digest");
		return SNAP_FAILED;
	}
	res = PQexec(j->db->conn, copy);
	free(copy);
	if (res == NULL || PQresultStatus(res) != PGRES_COPY_IN) {
		if (res)
			snap_db_describe_error(res, &j->r->err);
		else
			dbops_err_set(&j->r->err, "%s",
				      PQerrorMessage(j->db->conn));
		PQclear(res);
		EVP_MD_CTX_free(md);
		rollback(j->db);
		return SNAP_FAILED;
	}
	PQclear(res);
	snap_db_clear_sqlstate();
	rc = stream(j, md);
	EVP_DigestFinal_ex(md, digest, NULL);
	EVP_MD_CTX_free(md);
	if (rc == 1) {
		rollback(j->db);
		return SNAP_INTERRUPTED;
	}
	/* The sample's types against the whole file's (struct spec): a
	 * COPY that failed on the sample's types may be done again. */
	known = settle(j);
	/* A binary COPY that failed on the data is done again as CSV: the
	 * file is accepted, or refused with COPY's own line. Other failures
	 * (cancelled, connection lost, disk full) are told as they are. */
	if (known == 1 ||
	    (rc == -1 && known == 0 && j->binary && binary_data_error(j))) {
		if (j->binary && rc == -1 && !j->no_binary)
			dbops_log_debug("\"%s\": sent as CSV after: %s",
					j->name, j->r->err.msg);
		j->no_binary |= j->binary && rc == -1;
		dbops_err_clear(&j->r->err);
		j->redo = true;
	}
	if (rc != 0 || known != 0) {
		rollback(j->db);
		return SNAP_FAILED;
	}
	to_hex(digest, j->r->sha256);
	if (j->prehash[0] && strcmp(j->prehash, j->r->sha256) != 0) {
		rollback(j->db);
		dbops_err_set(&j->r->err,
			      "the file changed while it was being imported");
		return SNAP_FAILED;
	}
	return record_and_commit(j, started);
}

/* Read the header, make the table fit, import. */
static enum snap_outcome attempt(struct job *j)
{
	enum snap_outcome out = SNAP_FAILED;

	snap_scan_init(&j->scan);
	j->scan.markers = j->markers;
	j->scan.quote = j->opts->dialect.quote;
	if (learn_header(j) == 0)
		out = run(j);
	snap_bin_free(&j->bin);
	/* A first import that stopped short (skipped, or failed before its
	 * COPY) leaves no table. */
	snap_db_end_pending(j->db);
	spec_join(j);
	free(j->spec.guesses);
	j->spec.guesses = NULL;
	return out;
}

/* The sample's types did not hold: from the start again, with the whole
 * file's (j->full). */
static enum snap_outcome again(struct job *j)
{
	snap_scan_free(&j->scan);
	snap_header_free(&j->header);
	snap_plan_free(&j->plan);
	memset(j->r, 0, sizeof(*j->r));
	j->prehash[0] = '\0';
	j->redo = false;
	if (lseek(j->fd, 0, SEEK_SET) != 0) {
		dbops_err_set(&j->r->err, "could not read the file: %s",
			      strerror(errno));
		return SNAP_FAILED;
	}
	return attempt(j);
}

enum snap_outcome snap_import_file(struct snap_db *db, const char *path,
				   const char *name,
				   const struct snap_import_opts *opts,
				   struct snap_result *r)
{
	struct job j = {
		.db = db, .opts = opts, .r = r, .name = name, .fd = -1
	};
	enum snap_outcome out = SNAP_FAILED;

	memset(r, 0, sizeof(*r));
	if (open_input(&j, path) != 0)
		goto out;
	j.buf = dbops_xmalloc(SAMPLE_BYTES);
	/* PostgreSQL 18 no longer ends CSV data at a \. line. */
	j.markers = PQserverVersion(db->conn) < 180000;
	out = attempt(&j);
	/* Again with the whole file's types (struct spec), or as CSV
	 * after a binary COPY that failed (use_binary): at most both. */
	for (int i = 0; i < 2 && j.redo; i++)
		out = again(&j);
	free(j.full);
out:
	free(j.buf);
	snap_scan_free(&j.scan);
	snap_header_free(&j.header);
	snap_plan_free(&j.plan);
	if (j.fd > STDIN_FILENO)
		close(j.fd);
	return out;
}
