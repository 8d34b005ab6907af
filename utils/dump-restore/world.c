/*
 * world.c - the life of one restored world: a private MariaDB server tuned
 * for a bulk load (the copy is disposable), the dump loaded into it, an
 * analyst account, and the state that lets a later `up`, `status` and
 * `down` find it. See world.h.
 */
#include "world.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

#include "instance.h"
#include "log.h"
#include "natsort.h"

#define STATE "world.state"

static const struct dbops_server_driver *const maria_only[] = { &dbops_mariadb,
								NULL };
#define SYSTEM_SCHEMAS \
	"'mysql', 'information_schema', 'performance_schema', 'sys'"

static const char *const status_names[] = {
	[DR_LOADING] = "loading",
	[DR_RUNNING] = "running",
	[DR_STOPPED] = "stopped",
	[DR_FAILED] = "failed",
};

const char *dr_status_name(enum dr_status s)
{
	return status_names[s];
}

static void werr(struct dr_world *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void werr(struct dr_world *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->error, sizeof(w->error), fmt, ap);
	va_end(ap);
}

/* --- the state file ------------------------------------------------------ */

static int state_write(const struct dr_world *w)
{
	char path[PATH_MAX + 16], tmp[PATH_MAX + 32];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/" STATE, w->dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* It holds the analyst's password: 0600. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f == NULL) {
		if (fd >= 0)
			close(fd);
		dbops_log_error("could not write \"%s\": %s", path,
				strerror(errno));
		return -1;
	}
	fprintf(f,
		"world=%s\ndump=%s\ndump_usec=%lld\ndump_size=%lld\n"
		"dump_mtime=%lld\nstatus=%s\nerror=%s\npassword=%s\n"
		"database=%s\nport=%d\nsocket=%s\ntables=%lld\nrows=%lld\n"
		"load_seconds=%.3f\nstarted_at=%lld\n",
		w->name, w->dump, (long long)w->dump_usec,
		(long long)w->dump_size, (long long)w->dump_mtime,
		dr_status_name(w->status), w->error, w->password, w->database,
		w->port, w->socket, (long long)w->tables, (long long)w->rows,
		w->load_seconds, (long long)w->started_at);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0 ||
	    rename(tmp, path) != 0) {
		dbops_log_error("could not write \"%s\": %s", path,
				strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void state_set(struct dr_world *w, const char *key, const char *v)
{
#define STR(field, name)            \
	if (strcmp(key, name) == 0) \
	snprintf(w->field, sizeof(w->field), "%s", v)
#define NUM(field, name)            \
	if (strcmp(key, name) == 0) \
	w->field = strtoll(v, NULL, 10)
	STR(dump, "dump");
	STR(error, "error");
	STR(password, "password");
	STR(database, "database");
	STR(socket, "socket");
	NUM(dump_usec, "dump_usec");
	NUM(dump_size, "dump_size");
	NUM(dump_mtime, "dump_mtime");
	NUM(tables, "tables");
	NUM(rows, "rows");
	NUM(started_at, "started_at");
#undef STR
#undef NUM
	if (strcmp(key, "port") == 0)
		w->port = atoi(v);
	else if (strcmp(key, "load_seconds") == 0)
		w->load_seconds = strtod(v, NULL);
	else if (strcmp(key, "status") == 0)
		for (int s = 0; s <= DR_FAILED; s++)
			if (strcmp(v, status_names[s]) == 0)
				w->status = (enum dr_status)s;
}

int dr_world_read(const char *root, const char *name, struct dr_world *w)
{
	char path[PATH_MAX + 160], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", name);
	snprintf(w->dir, sizeof(w->dir), "%s/%s", root, name);
	snprintf(path, sizeof(path), "%s/" STATE, w->dir);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while ((n = getline(&line, &cap, f)) > 0) {
		char *eq = strchr(line, '=');

		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (eq == NULL)
			continue;
		*eq = '\0';
		state_set(w, line, eq + 1);
	}
	free(line);
	fclose(f);
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
	const char *settings[10];
};

static void tune(struct tuning *t, int nworlds, const char *root)
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
	t->settings[8] = NULL;
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

	tune(&t, o->nworlds, o->root);
	io.settings = t.settings;
	if (dbops_instance_start(&io, &inst) != 0) {
		werr(w, "its server did not start (see the error above)");
		return -1;
	}
	w->port = inst.port;
	snprintf(w->socket, sizeof(w->socket), "%s", inst.socket);
	w->started_at = (int64_t)time(NULL);
	dbops_process_free(&inst.proc);
	return 0;
}

static void stop_server(const char *dir)
{
	struct dbops_instance inst;
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/instance.state", dir);
	if (access(path, F_OK) != 0)
		return;
	if (dbops_instance_load(dir, maria_only, &inst) == 0)
		dbops_instance_stop(&inst, 60);
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
		werr(w, "could not reach its server");
		if (conn)
			mysql_close(conn);
		return NULL;
	}
	mysql_options(conn, MYSQL_OPT_MAX_ALLOWED_PACKET, &packet);
	mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (mysql_real_connect(conn, NULL, inst.admin_user, NULL, NULL, 0,
			       inst.socket, 0) == NULL) {
		werr(w, "could not connect to its server: %s",
		     mysql_error(conn));
		mysql_close(conn);
		return NULL;
	}
	return conn;
}

static int query(struct dr_world *w, MYSQL *conn, const char *sql)
{
	if (mysql_real_query(conn, sql, (unsigned long)strlen(sql)) == 0) {
		MYSQL_RES *res = mysql_store_result(conn);

		if (res)
			mysql_free_result(res);
		return 0;
	}
	werr(w, "%s: %s", sql, mysql_error(conn));
	return -1;
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

static void random_password(char *buf, size_t len)
{
	static const char alphabet[] = "abcdefghijkmnopqrstuvwxyz"
				       "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	unsigned char bytes[32];
	size_t n = len - 1 < 24 ? len - 1 : 24;

	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes))
		for (size_t i = 0; i < sizeof(bytes); i++)
			bytes[i] = (unsigned char)rand();
	for (size_t i = 0; i < n; i++)
		buf[i] = alphabet[bytes[i] % (sizeof(alphabet) - 1)];
	buf[n] = '\0';
}

/*
 * The analyst account: every right on the restored databases, from
 * 127.0.0.1 (TCP) and localhost (the socket, for whoever may reach it).
 */
static int make_analyst(struct dr_world *w, MYSQL *conn)
{
	char sql[1024], ident[300];
	MYSQL_RES *res;
	MYSQL_ROW row;
	int ndb = 0;

	random_password(w->password, sizeof(w->password));
	for (int h = 0; h < 2; h++) {
		const char *host = h ? "localhost" : "127.0.0.1";

		snprintf(
			sql, sizeof(sql),
			"CREATE OR REPLACE USER 'analyst'@'%s' IDENTIFIED BY '%s'",
			host, w->password);
		if (query(w, conn, sql) != 0)
			return -1;
	}
	if (mysql_query(conn,
			"SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"
			" WHERE SCHEMA_NAME NOT IN (" SYSTEM_SCHEMAS ")"
			" ORDER BY SCHEMA_NAME") != 0 ||
	    (res = mysql_store_result(conn)) == NULL) {
		werr(w, "could not list its databases: %s", mysql_error(conn));
		return -1;
	}
	w->database[0] = '\0';
	while ((row = mysql_fetch_row(res)) != NULL) {
		quote_ident(row[0], ident, sizeof(ident));
		for (int h = 0; h < 2 && w->error[0] == '\0'; h++) {
			snprintf(
				sql, sizeof(sql),
				"GRANT ALL PRIVILEGES ON %s.* TO 'analyst'@'%s'",
				ident, h ? "localhost" : "127.0.0.1");
			query(w, conn, sql);
		}
		if (ndb++ == 0)
			snprintf(w->database, sizeof(w->database), "%s",
				 row[0]);
	}
	mysql_free_result(res);
	if (ndb != 1)
		w->database[0] = '\0'; /* several: the analyst picks */
	return w->error[0] ? -1 : 0;
}

/* Tables and their exact row counts, for the summary. */
static int count_rows(struct dr_world *w, MYSQL *conn)
{
	char sql[1024], schema[300], table[300];
	MYSQL_RES *res, *cnt;
	MYSQL_ROW row, c;

	if (mysql_query(conn,
			"SELECT TABLE_SCHEMA, TABLE_NAME"
			" FROM information_schema.TABLES"
			" WHERE TABLE_TYPE = 'BASE TABLE'"
			" AND TABLE_SCHEMA NOT IN (" SYSTEM_SCHEMAS ")") != 0 ||
	    (res = mysql_store_result(conn)) == NULL) {
		werr(w, "could not list its tables: %s", mysql_error(conn));
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
			werr(w, "could not count the rows of %s.%s: %s", schema,
			     table, mysql_error(conn));
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

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A fresh server with the dump in it. */
static int restore(struct dr_world *w, const struct dr_dump *d,
		   const struct dr_up_opts *o, int world_index)
{
	double started;
	MYSQL *conn;
	int rc = -1;

	if (start_server(w, o, world_index) != 0)
		return -1;
	w->status = DR_LOADING;
	if (state_write(w) != 0 || (conn = connect_admin(w)) == NULL)
		return -1;
	started = now_seconds();
	w->load.path = d->path;
	w->load.conn = conn;
	if (dr_load_run(&w->load) != 0) {
		werr(w, "%s", w->load.error);
		goto out;
	}
	w->load_seconds = now_seconds() - started;
	if (make_analyst(w, conn) != 0 || count_rows(w, conn) != 0)
		goto out;
	rc = 0;
out:
	mysql_close(conn);
	return rc;
}

static int world_index_of(const char *name)
{
	/* Spread the worlds' first port tries: world7 starts at base + 7. */
	const char *p = name + strlen(name);

	while (p > name && p[-1] >= '0' && p[-1] <= '9')
		p--;
	return *p ? atoi(p) % 1000 : 0;
}

int dr_world_up(struct dr_world *w, const struct dr_dump *d,
		const struct dr_up_opts *o)
{
	struct dr_world old;
	int idx = world_index_of(w->name);

	if (dr_world_read(o->root, w->name, &old) == 0 &&
	    old.status == DR_RUNNING && strcmp(old.dump, d->path) == 0 &&
	    old.dump_size == d->size && old.dump_mtime == d->mtime) {
		*w = old;
		w->kept = true;
		if (dr_world_running(w, NULL))
			return 0;
		/* Its server stopped (a reboot): start it on its data. */
		if (start_server(w, o, idx) != 0) {
			w->status = DR_FAILED;
			state_write(w);
			return -1;
		}
		return state_write(w);
	}
	if (access(w->dir, F_OK) == 0 && dr_world_down(o->root, w->name) != 0) {
		werr(w, "could not remove the world it replaces");
		return -1;
	}
	snprintf(w->dir, sizeof(w->dir), "%s/%s", o->root, w->name);
	snprintf(w->dump, sizeof(w->dump), "%s", d->path);
	w->dump_usec = d->usec;
	w->dump_size = d->size;
	w->dump_mtime = d->mtime;
	w->error[0] = '\0';
	if (restore(w, d, o, idx) == 0) {
		w->status = DR_RUNNING;
		return state_write(w);
	}
	/* A failed world keeps its state and log, but not a running server. */
	stop_server(w->dir);
	w->status = DR_FAILED;
	if (access(w->dir, F_OK) == 0)
		state_write(w);
	return -1;
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
	stop_server(dir);
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
		char **grown;

		if (!dr_world_name_ok(e->d_name) || e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/" STATE, root, e->d_name);
		if (access(path, F_OK) != 0)
			continue;
		grown = realloc(list, (size_t)(count + 1) * sizeof(*grown));
		if (grown == NULL)
			break;
		list = grown;
		list[count++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(list, (size_t)count, sizeof(*list), by_name);
	*names = list;
	*n = count;
	return 0;
}

int dr_worlds_cnf_write(const char *root)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], **names;
	int n, fd;
	FILE *f;

	if (dr_world_list(root, &names, &n) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/worlds.cnf", root);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f == NULL) {
		dbops_log_error("could not write \"%s\": %s", path,
				strerror(errno));
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	fprintf(f,
		"# The restored worlds, written by dump-restore; 0600: it holds passwords.\n"
		"# mariadb --defaults-extra-file=%s --defaults-group-suffix=_<world>\n",
		path);
	for (int i = 0; i < n; i++) {
		struct dr_world w;

		if (dr_world_read(root, names[i], &w) != 0 ||
		    w.status != DR_RUNNING)
			continue;
		fprintf(f,
			"\n[client_%s]\nhost=127.0.0.1\nport=%d\nuser=analyst\n"
			"password=%s\n",
			w.name, w.port, w.password);
		if (w.database[0])
			fprintf(f, "database=%s\n", w.database);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0 ||
	    rename(tmp, path) != 0) {
		dbops_log_error("could not write \"%s\": %s", path,
				strerror(errno));
		unlink(tmp);
		goto fail;
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return 0;
fail:
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return -1;
}
