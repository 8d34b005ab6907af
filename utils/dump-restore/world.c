/*
 * world.c - the life of one restored world: a private MariaDB server tuned
 * for a bulk load (the copy is disposable), the dump loaded into it, an
 * analyst account, and the state that lets a later `up`, `status` and
 * `down` find it. See world.h.
 */
#include "world.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

#include "clock.h"
#include "cnf.h"
#include "errbuf.h"
#include "fileio.h"
#include "instance.h"
#include "process.h"
#include "kvfile.h"
#include "log.h"
#include "natsort.h"
#include "procs.h"
#include "xalloc.h"

#define STATE "world.state"

static const struct dbops_server_driver *const maria_only[] = { &dbops_mariadb,
								NULL };
#define SYSTEM_SCHEMAS \
	"'mysql', 'information_schema', 'performance_schema', 'sys'"

static const char *const status_names[] = {
	[DR_LOADING] = "loading",   [DR_RUNNING] = "running",
	[DR_STOPPED] = "stopped",   [DR_FAILED] = "failed",
	[DR_STARTING] = "starting",
};

const char *dr_status_name(enum dr_status s)
{
	return status_names[s];
}

/* --- the state file ------------------------------------------------------ */

static bool state_exists(const char *dir)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/" STATE, dir);
	return access(path, F_OK) == 0;
}

/*
 * Write the world's state. A failure becomes the world's error when it has
 * none yet (its up fails with it); it is logged when the world already
 * failed for another reason, which stays its error.
 */
static int state_write(struct dr_world *w)
{
	char path[PATH_MAX + 16];
	struct dbops_atomic_file af;

	snprintf(path, sizeof(path), "%s/" STATE, w->dir);
	/* It holds the analyst's password: 0600. */
	if (dbops_atomic_open(&af, path, 0600) != 0)
		goto fail;
	dbops_kv_put(af.f, "world", w->name);
	dbops_kv_put(af.f, "dump", w->dump);
	dbops_kv_putf(af.f, "dump_usec", "%lld", (long long)w->dump_usec);
	dbops_kv_putf(af.f, "dump_size", "%lld", (long long)w->dump_size);
	dbops_kv_putf(af.f, "dump_mtime", "%lld", (long long)w->dump_mtime);
	dbops_kv_put(af.f, "status", dr_status_name(w->status));
	dbops_kv_put(af.f, "error", w->error.msg);
	dbops_kv_put(af.f, "password", w->password);
	dbops_kv_put(af.f, "database", w->database);
	dbops_kv_put(af.f, "host", w->host);
	dbops_kv_putf(af.f, "port", "%d", w->port);
	dbops_kv_put(af.f, "socket", w->socket);
	dbops_kv_putf(af.f, "tables", "%lld", (long long)w->tables);
	dbops_kv_putf(af.f, "rows", "%lld", (long long)w->rows);
	dbops_kv_putf(af.f, "load_seconds", "%.3f", w->load_seconds);
	dbops_kv_putf(af.f, "started_at", "%lld", (long long)w->started_at);
	/* Who made it, and where its server works: procs.h finds a server
	 * an interrupted up left by this directory, not by a pid. */
	dbops_kv_putf(af.f, "up_pid", "%d", (int)getpid());
	dbops_kv_putf(af.f, "datadir", "%s/data", w->dir);
	if (dbops_atomic_commit(&af) == 0)
		return 0;
fail:
	if (dbops_err_isset(&w->error))
		dbops_log_error("could not write \"%s\": %s", path,
				strerror(errno));
	else
		dbops_err_set(&w->error, "could not write \"%s\": %s", path,
			      strerror(errno));
	return -1;
}

/* A text field of the state: it must fit. */
static int state_text(char *field, size_t size, const char *key, const char *v,
		      struct dbops_err *err)
{
	if (strlen(v) >= size)
		return dbops_err_set(err, "%s is too long", key);
	memcpy(field, v, strlen(v) + 1);
	return 0;
}

/* A number field of the state: all of it a decimal integer. */
static int state_number(int64_t *field, const char *key, const char *v,
			struct dbops_err *err)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0)
		return dbops_err_set(err, "%s is not a number: \"%s\"", key, v);
	*field = n;
	return 0;
}

static int state_value(void *ctx, const char *key, const char *v,
		       struct dbops_err *err)
{
	struct dr_world *w = ctx;
	int64_t n = 0;
	char *end;

#define TEXT(field, name)           \
	if (strcmp(key, name) == 0) \
	return state_text(w->field, sizeof(w->field), key, v, err)
#define NUMBER(field, name)         \
	if (strcmp(key, name) == 0) \
	return state_number(&w->field, key, v, err)
	TEXT(dump, "dump");
	TEXT(error.msg, "error");
	TEXT(password, "password");
	TEXT(database, "database");
	TEXT(socket, "socket");
	TEXT(host, "host");
	NUMBER(dump_usec, "dump_usec");
	NUMBER(dump_size, "dump_size");
	NUMBER(dump_mtime, "dump_mtime");
	NUMBER(tables, "tables");
	NUMBER(rows, "rows");
	NUMBER(started_at, "started_at");
#undef TEXT
#undef NUMBER
	if (strcmp(key, "port") == 0) {
		if (state_number(&n, key, v, err) != 0 || n < 0 || n > 65535)
			return dbops_err_set(err, "port is not a port: \"%s\"",
					     v);
		w->port = (int)n;
	} else if (strcmp(key, "load_seconds") == 0) {
		errno = 0;
		w->load_seconds = strtod(v, &end);
		if (*v == '\0' || *end != '\0' || errno != 0)
			return dbops_err_set(
				err, "load_seconds is not a number: \"%s\"", v);
	} else if (strcmp(key, "status") == 0) {
		for (int s = 0; s <= DR_STARTING; s++)
			if (strcmp(v, status_names[s]) == 0) {
				w->status = (enum dr_status)s;
				return 0;
			}
		return dbops_err_set(err, "unknown status \"%s\"", v);
	}
	return 0; /* "world", and keys of a later version */
}

int dr_world_read(const char *root, const char *name, struct dr_world *w)
{
	char path[PATH_MAX + 160];
	struct dbops_err err = { "" };

	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", name);
	snprintf(w->dir, sizeof(w->dir), "%s/%s", root, name);
	snprintf(path, sizeof(path), "%s/" STATE, w->dir);
	if (dbops_kv_read(path, state_value, w, &err) == 0)
		return 0;
	if (errno == ENOENT)
		return -1;
	/* A state that cannot be trusted is no running world: failed, with
	 * the reason (never "stopped", never kept by the next up). */
	w->status = DR_FAILED;
	dbops_err_set(&w->error, "could not read world state \"%s\": %s", path,
		      err.msg);
	return 0;
}

/* --- the server ---------------------------------------------------------- */

/*
 * Settings for a disposable copy loaded in bulk: no binary log (the
 * instance module's default), no flush at each commit, no doublewrite, a
 * large redo log, room for large extended INSERTs, and a buffer pool sized
 * from the machine's memory shared among the worlds.
 */
struct tuning {
	char pool[64];
	char redo[64];
	char bind[80];
	const char *settings[10];
};

static void tune(struct tuning *t, int nworlds, const char *root,
		 const char *bind)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	int64_t mem = pages > 0 && page > 0 ? (int64_t)pages * page : 1LL << 31;
	int64_t chunk = 128LL << 20, pool, redo;
	struct statvfs fs;

	pool = mem / 2 / (nworlds > 0 ? nworlds : 1);
	if (pool > (4LL << 30))
		pool = 4LL << 30;
	pool = pool / chunk * chunk;
	if (pool < chunk)
		pool = chunk;
	snprintf(t->pool, sizeof(t->pool), "innodb_buffer_pool_size=%lldM",
		 (long long)(pool >> 20));
	/* A redo log as large as the pool (1 GiB at most) spares the load
	 * the checkpoint flushing that install-db's 96 MiB log forces; but
	 * never more than a quarter of the free disk, shared by the worlds. */
	redo = pool < (1LL << 30) ? pool : 1LL << 30;
	if (statvfs(root, &fs) == 0) {
		int64_t share = (int64_t)fs.f_bavail * (int64_t)fs.f_frsize /
				4 / (nworlds > 0 ? nworlds : 1);

		if (share < redo)
			redo = share;
	}
	if (redo < (32LL << 20))
		redo = 32LL << 20;
	snprintf(t->redo, sizeof(t->redo), "innodb_log_file_size=%lldM",
		 (long long)(redo >> 20));
	t->settings[0] = t->pool;
	t->settings[1] = t->redo;
	t->settings[2] = "innodb_log_buffer_size=64M";
	t->settings[3] = "innodb_flush_log_at_trx_commit=0";
	t->settings[4] = "innodb_doublewrite=0";
	t->settings[5] = "max_allowed_packet=1G";
	t->settings[6] = "performance_schema=OFF";
	t->settings[7] = "character-set-server=utf8mb4";
	/* After the instance module's bind-address=127.0.0.1: it wins. */
	if (bind)
		snprintf(t->bind, sizeof(t->bind), "bind-address=%s", bind);
	t->settings[8] = bind ? t->bind : NULL;
	t->settings[9] = NULL;
}

static int start_server(struct dr_world *w, const struct dr_up_opts *o,
			int world_index)
{
	struct dbops_instance_opts io = {
		.driver = &dbops_mariadb,
		.dir = w->dir,
		.bindir = o->bindir,
		.port_base = o->port_base > 0 ? o->port_base + world_index : 0,
		.timeout_s = 120,
	};
	struct dbops_instance inst;
	struct tuning t;

	tune(&t, o->nworlds, o->root, o->bind);
	io.settings = t.settings;
	if (dbops_instance_start(&io, &inst) != 0) {
		dbops_err_set(&w->error,
			      "its server did not start (see the error above)");
		return -1;
	}
	w->port = inst.port;
	snprintf(w->host, sizeof(w->host), "%s",
		 o->bind ? o->bind : "127.0.0.1");
	snprintf(w->socket, sizeof(w->socket), "%s", inst.socket);
	w->started_at = (int64_t)time(NULL);
	dbops_process_free(&inst.proc);
	return 0;
}

/*
 * The private socket directory of a world too deep for a socket path
 * (instance.h), when no instance.state names it any more (an up killed
 * while its server started): the socket="/tmp/dbops-XXXXXX/..." line of
 * DIR/my.cnf. Removed with what a killed server leaves in it.
 */
static void remove_private_socket_dir(const char *dir)
{
	char path[PATH_MAX + 16], line[PATH_MAX + 32], sock[PATH_MAX + 48];
	static const char key[] = "socket=\"/tmp/dbops-";
	FILE *f;

	snprintf(path, sizeof(path), "%s/my.cnf", dir);
	f = fopen(path, "re");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *slash, *end;

		if (strncmp(line, key, sizeof(key) - 1) != 0)
			continue;
		end = strchr(line + 8, '"');
		slash = strchr(line + sizeof(key) - 1, '/');
		/* Exactly /tmp/dbops-XXXXXX/<socket>, nothing to unquote. */
		if (end == NULL || slash == NULL || slash > end ||
		    slash - (line + sizeof(key) - 1) != 6 ||
		    memchr(line + 8, '\\', (size_t)(end - line - 8)))
			break;
		*end = '\0';
		unlink(line + 8);
		snprintf(sock, sizeof(sock), "%s.lock", line + 8);
		unlink(sock);
		*slash = '\0';
		rmdir(line + 8);
		break;
	}
	fclose(f);
}

/*
 * Stop the world's server: the one instance.state names (a clean stop,
 * which also removes a private socket directory), then whatever else
 * works on DIR (an interrupted up's install script or server, which no
 * state names). 0 when nothing runs there any more, else -1 with ERR.
 */
static int stop_server(const char *dir, struct dbops_err *err)
{
	struct dbops_instance inst;
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/instance.state", dir);
	if (access(path, F_OK) == 0 &&
	    dbops_instance_load(dir, maria_only, &inst) == 0)
		dbops_instance_stop(&inst, 60);
	if (dr_procs_stop(dir, 60, err) != 0)
		return -1;
	remove_private_socket_dir(dir);
	return 0;
}

/*
 * DIR made for a new world, 0700 and the server user's (as the instance
 * module would make it), so that the world is recorded before its server
 * starts. 0, or -1 with the reason in ERR.
 */
static int make_world_dir(const char *dir, struct dbops_err *err)
{
	struct dbops_user mysql;
	bool drop = false;

	if (mkdir(dir, 0700) != 0 || chmod(dir, 0700) != 0)
		return dbops_err_set(err,
				     "could not create directory \"%s\": %s",
				     dir, strerror(errno));
	if (dbops_user_for_server("mysql", &mysql, &drop) == 0 && drop &&
	    dbops_user_chown(&mysql, dir) != 0)
		return dbops_err_set(err,
				     "could not set the owner of \"%s\": %s",
				     dir, strerror(errno));
	return 0;
}

bool dr_world_running(const struct dr_world *w, int64_t *since)
{
	struct dbops_instance inst;
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/instance.state", w->dir);
	if (access(path, F_OK) != 0 ||
	    dbops_instance_load(w->dir, maria_only, &inst) != 0)
		return false;
	if (since)
		*since = w->started_at;
	return dbops_instance_running(&inst);
}

/* --- inside the server --------------------------------------------------- */

static MYSQL *connect_admin(struct dr_world *w)
{
	struct dbops_instance inst;
	unsigned long packet = 1UL << 30;
	MYSQL *conn = mysql_init(NULL);

	if (conn == NULL ||
	    dbops_instance_load(w->dir, maria_only, &inst) != 0) {
		dbops_err_set(&w->error, "could not reach its server");
		if (conn)
			mysql_close(conn);
		return NULL;
	}
	mysql_options(conn, MYSQL_OPT_MAX_ALLOWED_PACKET, &packet);
	mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (mysql_real_connect(conn, NULL, inst.admin_user, NULL, NULL, 0,
			       inst.socket, 0) == NULL) {
		dbops_err_set(&w->error, "could not connect to its server: %s",
			      mysql_error(conn));
		mysql_close(conn);
		return NULL;
	}
	return conn;
}

/*
 * Run SQL, reading any result. On failure the error names the statement as
 * SHOWN (NULL: SQL itself), so a password in SQL is never printed or kept.
 */
static int query_shown(struct dr_world *w, MYSQL *conn, const char *sql,
		       const char *shown)
{
	if (mysql_real_query(conn, sql, (unsigned long)strlen(sql)) == 0) {
		MYSQL_RES *res = mysql_store_result(conn);

		if (res)
			mysql_free_result(res);
		return 0;
	}
	dbops_err_set(&w->error, "%s: %s", shown ? shown : sql,
		      mysql_error(conn));
	return -1;
}

static int query(struct dr_world *w, MYSQL *conn, const char *sql)
{
	return query_shown(w, conn, sql, NULL);
}

/* `name` with backticks doubled, for an identifier in SQL. */
static void quote_ident(const char *name, char *buf, size_t len)
{
	size_t n = 0;

	if (len < 3)
		return;
	buf[n++] = '`';
	for (const char *p = name; *p && n + 3 < len; p++) {
		if (*p == '`')
			buf[n++] = '`';
		buf[n++] = *p;
	}
	buf[n++] = '`';
	buf[n] = '\0';
}

/*
 * A database name as GRANT reads it: a pattern where `_` and `%` match any
 * character and a backslash escapes; so each of those three escaped, then
 * quoted as an identifier. Not doing it grants `game_eu` to `gameXeu` too
 * and `a\b` to nothing of the name.
 */
static void grant_pattern(const char *name, char *buf, size_t len)
{
	char escaped[600];
	size_t n = 0;

	for (const char *p = name; *p && n + 3 < sizeof(escaped); p++) {
		if (*p == '_' || *p == '%' || *p == '\\')
			escaped[n++] = '\\';
		escaped[n++] = *p;
	}
	escaped[n] = '\0';
	quote_ident(escaped, buf, len);
}

int dr_random_password(char *buf, size_t len, struct dbops_err *err)
{
	static const char alphabet[] = "abcdefghijkmnopqrstuvwxyz"
				       "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	unsigned char bytes[32];
	size_t n = len - 1 < 24 ? len - 1 : 24;
	ssize_t got;

	/* No fallback: a password from a predictable generator would be
	 * worse than no world. */
	do
		got = getrandom(bytes, sizeof(bytes), 0);
	while (got < 0 && errno == EINTR);
	if (got != (ssize_t)sizeof(bytes)) {
		buf[0] = '\0';
		return dbops_err_set(
			err, "could not make the analyst's password: %s",
			got < 0 ? strerror(errno) : "too few random bytes");
	}
	for (size_t i = 0; i < n; i++)
		buf[i] = alphabet[bytes[i] % (sizeof(alphabet) - 1)];
	buf[n] = '\0';
	return 0;
}

/*
 * The analyst account: every right on the restored databases, from
 * 127.0.0.1 (TCP) and localhost (the socket, for whoever may reach it),
 * and from any host when the server listens on another address (--bind:
 * for the hosts of a fleet).
 */
static int make_analyst(struct dr_world *w, MYSQL *conn, bool any_host)
{
	static const char *const hosts[] = { "127.0.0.1", "localhost", "%" };
	char sql[1600], shown[128], ident[1300];
	MYSQL_RES *res;
	MYSQL_ROW row;
	int ndb = 0, nhosts = any_host ? 3 : 2;

	if (dr_random_password(w->password, sizeof(w->password), &w->error) !=
	    0)
		return -1;
	for (int h = 0; h < nhosts; h++) {
		const char *host = hosts[h];

		snprintf(
			sql, sizeof(sql),
			"CREATE OR REPLACE USER 'analyst'@'%s' IDENTIFIED BY '%s'",
			host, w->password);
		snprintf(
			shown, sizeof(shown),
			"CREATE OR REPLACE USER 'analyst'@'%s' IDENTIFIED BY ...",
			host);
		if (query_shown(w, conn, sql, shown) != 0)
			return -1;
	}
	if (mysql_query(conn,
			"SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"
			" WHERE SCHEMA_NAME NOT IN (" SYSTEM_SCHEMAS ")"
			" ORDER BY SCHEMA_NAME") != 0 ||
	    (res = mysql_store_result(conn)) == NULL) {
		dbops_err_set(&w->error, "could not list its databases: %s",
			      mysql_error(conn));
		return -1;
	}
	w->database[0] = '\0';
	while ((row = mysql_fetch_row(res)) != NULL) {
		grant_pattern(row[0], ident, sizeof(ident));
		for (int h = 0; h < nhosts && !dbops_err_isset(&w->error);
		     h++) {
			snprintf(
				sql, sizeof(sql),
				"GRANT ALL PRIVILEGES ON %s.* TO 'analyst'@'%s'",
				ident, hosts[h]);
			query(w, conn, sql);
		}
		if (ndb++ == 0)
			snprintf(w->database, sizeof(w->database), "%s",
				 row[0]);
	}
	mysql_free_result(res);
	if (ndb != 1)
		w->database[0] = '\0'; /* several: the analyst picks */
	return dbops_err_isset(&w->error) ? -1 : 0;
}

/*
 * Tables and their exact row counts, for the summary: every table but
 * views, so system-versioned tables and sequences (one row) count.
 */
static int count_rows(struct dr_world *w, MYSQL *conn)
{
	char sql[1024], schema[300], table[300];
	MYSQL_RES *res, *cnt;
	MYSQL_ROW row, c;

	if (mysql_query(conn,
			"SELECT TABLE_SCHEMA, TABLE_NAME"
			" FROM information_schema.TABLES"
			" WHERE TABLE_TYPE NOT IN ('VIEW', 'TEMPORARY')"
			" AND TABLE_SCHEMA NOT IN (" SYSTEM_SCHEMAS ")") != 0 ||
	    (res = mysql_store_result(conn)) == NULL) {
		dbops_err_set(&w->error, "could not list its tables: %s",
			      mysql_error(conn));
		return -1;
	}
	w->tables = w->rows = 0;
	while ((row = mysql_fetch_row(res)) != NULL) {
		quote_ident(row[0], schema, sizeof(schema));
		quote_ident(row[1], table, sizeof(table));
		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s.%s", schema,
			 table);
		if (mysql_query(conn, sql) != 0 ||
		    (cnt = mysql_store_result(conn)) == NULL) {
			dbops_err_set(&w->error,
				      "could not count the rows of %s.%s: %s",
				      schema, table, mysql_error(conn));
			mysql_free_result(res);
			return -1;
		}
		c = mysql_fetch_row(cnt);
		w->rows += c && c[0] ? strtoll(c[0], NULL, 10) : 0;
		w->tables++;
		mysql_free_result(cnt);
	}
	mysql_free_result(res);
	return 0;
}

/* A fresh server with the dump in it. */
static int restore(struct dr_world *w, const struct dr_dump *d,
		   const struct dr_up_opts *o, int world_index)
{
	double started;
	MYSQL *conn;
	int rc = -1;

	if (make_world_dir(w->dir, &w->error) != 0)
		return -1;
	w->status = DR_STARTING;
	if (state_write(w) != 0 || start_server(w, o, world_index) != 0)
		return -1;
	w->status = DR_LOADING;
	if (state_write(w) != 0 || (conn = connect_admin(w)) == NULL)
		return -1;
	started = dbops_clock_seconds();
	w->load.path = d->path;
	w->load.conn = conn;
	w->load.database = o->database;
	w->load.allow_incomplete = o->allow_incomplete;
	w->load.keep_definer = o->keep_definer;
	if (dr_load_run(&w->load) != 0) {
		dbops_err_set(&w->error, "%s", w->load.err.msg);
		goto out;
	}
	w->load_seconds = dbops_clock_seconds() - started;
	if (make_analyst(w, conn, o->bind != NULL) != 0 ||
	    count_rows(w, conn) != 0)
		goto out;
	rc = 0;
out:
	mysql_close(conn);
	return rc;
}

int dr_world_index_of(const char *name)
{
	const char *p = name + strlen(name);
	int index = 0;

	while (p > name && p[-1] >= '0' && p[-1] <= '9')
		p--;
	/* The number's last three digits, read so that no length of it can
	 * overflow. */
	for (; *p; p++)
		index = (index * 10 + (*p - '0')) % 1000;
	return index;
}

/*
 * Whether the kept world W's server answers a query, within seconds: a
 * server killed a moment ago (or stopped) may still be a process in /proc
 * with its socket open, yet answer nothing, and a world kept so would be
 * reported running with no server behind it.
 */
static bool server_answers(const struct dr_world *w)
{
	struct dbops_instance inst;
	unsigned int timeout = 10;
	MYSQL *conn = mysql_init(NULL);
	bool ok;

	if (conn == NULL)
		return false;
	mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(conn, MYSQL_OPT_READ_TIMEOUT, &timeout);
	ok = dbops_instance_load(w->dir, maria_only, &inst) == 0 &&
	     mysql_real_connect(conn, NULL, inst.admin_user, NULL, NULL, 0,
				inst.socket, 0) != NULL &&
	     mysql_query(conn, "SELECT 1") == 0;
	if (ok)
		mysql_free_result(mysql_store_result(conn));
	mysql_close(conn);
	return ok;
}

int dr_world_up(struct dr_world *w, const struct dr_dump *d,
		const struct dr_up_opts *o)
{
	struct dbops_err stop_err = { "" };
	struct dr_world old;
	int idx = dr_world_index_of(w->name);

	if (dr_world_read(o->root, w->name, &old) == 0 &&
	    old.status == DR_RUNNING && strcmp(old.dump, d->path) == 0 &&
	    old.dump_size == d->size && old.dump_mtime == d->mtime) {
		bool running = dr_world_running(&old, NULL);

		if (running && server_answers(&old)) {
			*w = old;
			w->kept = true;
			return 0;
		}
		/* Its server stopped (a crash, a reboot) or does not answer
		 * (dying, hung). It runs without a flush at each commit (see
		 * tune()), so its data may have lost rows: the world is loaded
		 * again, its server killed first (no shutdown to wait for). */
		if (running)
			dr_procs_stop(old.dir, 0, &stop_err);
	}
	if (access(w->dir, F_OK) == 0 && dr_world_down(o->root, w->name) != 0) {
		dbops_err_set(&w->error,
			      "could not remove the world it replaces");
		return -1;
	}
	snprintf(w->dir, sizeof(w->dir), "%s/%s", o->root, w->name);
	snprintf(w->dump, sizeof(w->dump), "%s", d->path);
	w->dump_usec = d->usec;
	w->dump_size = d->size;
	w->dump_mtime = d->mtime;
	dbops_err_clear(&w->error);
	if (restore(w, d, o, idx) == 0) {
		w->status = DR_RUNNING;
		if (state_write(w) == 0)
			return 0;
		/* Not recorded as running: not left running either. */
	}
	/* A failed world keeps its state and log, but not a running server. */
	if (stop_server(w->dir, &stop_err) != 0) {
		struct dbops_err why = w->error;

		dbops_err_set(&w->error, "%s; and %s", why.msg, stop_err.msg);
	}
	w->status = DR_FAILED;
	/* A directory in which not even the state could be written is
	 * removed, when empty: status and down would never see it. */
	if (access(w->dir, F_OK) == 0 && !state_exists(w->dir) &&
	    rmdir(w->dir) == 0)
		return -1;
	if (access(w->dir, F_OK) == 0)
		state_write(w);
	return -1;
}

bool dr_world_settle(struct dr_world *w)
{
	if (w->status != DR_STARTING && w->status != DR_LOADING)
		return false;
	dbops_err_set(
		&w->error,
		"an up was interrupted while the world was %s; run up again, or down",
		dr_status_name(w->status));
	w->status = DR_FAILED;
	state_write(w);
	return true;
}

/* --- removing ------------------------------------------------------------ */

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) == 0 || errno == ENOENT ? 0 : -1;
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

int dr_world_down(const char *root, const char *name)
{
	struct dbops_err err = { "" };
	char dir[PATH_MAX];
	struct stat st;

	if (!dr_world_name_ok(name)) {
		dbops_log_error("invalid world name \"%s\"", name);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	/* Never follow a link out of ROOT. */
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		dbops_log_error("no world \"%s\" in \"%s\"", name, root);
		return -1;
	}
	if (stop_server(dir, &err) != 0) {
		dbops_log_error("could not stop world \"%s\": %s", name,
				err.msg);
		dbops_log_hint(
			"its directory \"%s\" is kept; stop the process, then run down again",
			dir);
		return -1;
	}
	if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) !=
	    0) {
		dbops_log_error("could not remove \"%s\": %s", dir,
				strerror(errno));
		return -1;
	}
	return 0;
}

static int64_t usage_total;

static int add_usage(const char *path, const struct stat *st, int flag,
		     struct FTW *ftw)
{
	(void)path;
	(void)flag;
	(void)ftw;
	usage_total += (int64_t)st->st_blocks * 512;
	return 0;
}

int64_t dr_world_disk_usage(const struct dr_world *w)
{
	usage_total = 0;
	nftw(w->dir, add_usage, 16, FTW_PHYS | FTW_MOUNT);
	return usage_total;
}

static int by_name(const void *a, const void *b)
{
	return dbops_natural_cmp(*(char *const *)a, *(char *const *)b);
}

int dr_world_list(const char *root, char ***names, int *n)
{
	DIR *d = opendir(root);
	struct dirent *e;
	char **list = NULL;
	int count = 0;

	*names = NULL;
	*n = 0;
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX];

		if (!dr_world_name_ok(e->d_name) || e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/" STATE, root, e->d_name);
		if (access(path, F_OK) != 0)
			continue;
		list = dbops_xreallocarray(list, (size_t)count + 1,
					   sizeof(*list));
		list[count++] = dbops_xstrdup(e->d_name);
	}
	closedir(d);
	if (count > 1)
		qsort(list, (size_t)count, sizeof(*list), by_name);
	*names = list;
	*n = count;
	return 0;
}

/*
 * Who may read worlds.cnf: group SHARE (0640), or without SHARE, as the
 * existing file is shared. *GID -1 and 0600 for no one else. 0, or -1
 * (reported) for a group that does not exist.
 */
static int cnf_sharing(const char *path, const char *share, gid_t *gid,
		       mode_t *mode)
{
	struct stat st;

	*gid = (gid_t)-1;
	*mode = 0600;
	if (share != NULL) {
		struct group *g = getgrnam(share);

		if (g == NULL) {
			dbops_log_error(
				"could not share \"%s\": no group \"%s\"", path,
				share);
			return -1;
		}
		*gid = g->gr_gid;
		*mode = 0640;
	} else if (stat(path, &st) == 0 && (st.st_mode & 0040)) {
		*gid = st.st_gid;
		*mode = 0640;
	}
	return 0;
}

static void cnf_world(FILE *f, const struct dr_world *w)
{
	char port[16];

	snprintf(port, sizeof(port), "%d", w->port);
	fprintf(f, "\n[client_%s]\n", w->name);
	dr_cnf_put(f, "host", w->host[0] ? w->host : "127.0.0.1");
	dr_cnf_put(f, "port", port);
	dr_cnf_put(f, "user", "analyst");
	dr_cnf_put(f, "password", w->password);
	if (w->database[0])
		dr_cnf_put(f, "database", w->database);
	/* The client's default would be utf8mb3 under C.UTF-8: no emoji. */
	dr_cnf_put(f, "default-character-set", "utf8mb4");
}

int dr_worlds_cnf_write(const char *root, const char *share)
{
	struct dbops_atomic_file af;
	char path[PATH_MAX], **names;
	int n, rc = -1;
	gid_t gid;
	mode_t mode;

	if (dr_world_list(root, &names, &n) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/worlds.cnf", root);
	if (cnf_sharing(path, share, &gid, &mode) != 0) {
		errno = 0;
		goto out;
	}
	if (dbops_atomic_open(&af, path, mode) != 0)
		goto out;
	if (gid != (gid_t)-1)
		dbops_atomic_chown(&af, (uid_t)-1, gid);
	fprintf(af.f,
		"# The restored worlds, written by dump-restore; %s: it holds passwords.\n"
		"# mariadb --defaults-extra-file=%s --defaults-group-suffix=_<world>\n",
		mode == 0600 ? "0600" : "0640", path);
	for (int i = 0; i < n; i++) {
		struct dr_world w;

		if (dr_world_read(root, names[i], &w) == 0 &&
		    w.status == DR_RUNNING)
			cnf_world(af.f, &w);
	}
	if (dbops_atomic_commit(&af) == 0)
		rc = 0;
out:
	if (rc != 0 && errno != 0)
		dbops_log_error("could not write \"%s\": %s", path,
				strerror(errno));
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}
