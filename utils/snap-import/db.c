/*
 * db.c - connecting to PostgreSQL, the target table and the ledger. See
 * db.h; the transaction design is in snap.h.
 */
#include "db.h"

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "names.h"
#include "timestamp.h"
#include "utf8.h"
#include "xalloc.h"

/*
 * Each data row takes its snapshot_id from the setting snap_import.snapshot_id,
 * set per file, through this function as the column's default. It is
 * declared IMMUTABLE, which it is not, on purpose: the planner then folds it
 * to a constant once when each COPY starts, instead of reading the setting
 * for every row (measured: 10% of the server's instructions for a COPY).
 * The value is fixed for the whole statement, which is what a file needs.
 */
#define SNAPSHOT_ID_FUNCTION "snap_import_snapshot_id"

/*
 * With --table-from-name and a date in the pattern, each row's
 * snapshot_date comes the same way from snap_import.snapshot_date. Unset,
 * it is NULL, so that rows inserted by hand need not say it.
 */
#define SNAPSHOT_DATE_FUNCTION "snap_import_snapshot_date"
#define SNAPSHOT_DATE_COLUMN   "snapshot_date"

/*
 * The length of libpq's message up to its first line end (the rest are
 * hints), for "%.*s".
 */
static int first_line(const char *msg)
{
	return (int)strcspn(msg, "\n");
}

static bool is_port(const char *s)
{
	if (*s == '\0' || strlen(s) > 5)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int snap_db_conn_params(const char *database, char *hostbuf, size_t hostlen,
			const char **keys, const char **values)
{
	const char *colon, *slash;
	char port[8];
	size_t plen;

	if (database == NULL || *database == '\0')
		return 0;
	if (strncmp(database, "postgresql://", 13) == 0 ||
	    strncmp(database, "postgres://", 11) == 0 ||
	    strchr(database, '=') != NULL) {
		keys[0] = "dbname"; /* expanded by libpq */
		values[0] = database;
		return 1;
	}
	/* host:port, or host:port/dbname: the port is the last colon's. */
	colon = strrchr(database, ':');
	slash = colon ? strchr(colon, '/') : NULL;
	plen = colon ? (slash ? (size_t)(slash - colon - 1) : strlen(colon + 1))
		     : 0;
	if (colon != NULL && plen < sizeof(port)) {
		snprintf(port, sizeof(port), "%.*s", (int)plen, colon + 1);
	} else {
		port[0] = '\0';
	}
	if (colon != NULL && is_port(port) && hostlen > sizeof(port) + 1) {
		const char *host = database;
		size_t n = (size_t)(colon - database);

		if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
			host++;
			n -= 2;
		}
		if (n > hostlen - sizeof(port) - 1)
			n = hostlen - sizeof(port) - 1;
		/* The host, then the port after its NUL. */
		memcpy(hostbuf, host, n);
		hostbuf[n] = '\0';
		memcpy(hostbuf + n + 1, port, strlen(port) + 1);
		keys[0] = "host";
		values[0] = hostbuf;
		keys[1] = "port";
		values[1] = hostbuf + n + 1;
		if (slash == NULL || slash[1] == '\0')
			return 2;
		keys[2] = "dbname";
		values[2] = slash + 1;
		return 3;
	}
	keys[0] = "dbname";
	values[0] = database;
	return 1;
}

/* "schema.table" or "table" into the parts and their quoted forms. */
static int describe_table(struct snap_db *db, const char *table,
			  struct dbops_err *err)
{
	const char *dot = strchr(table, '.');
	char *qschema = NULL, *qname = NULL, *qledger = NULL, *qfunc = NULL;
	int rc = -1;

	if (snap_table_name_check(table, err) != 0)
		return -1;
	db->schema = dot ? dbops_xstrndup(table, (size_t)(dot - table)) : NULL;
	db->table = dbops_xstrdup(dot ? dot + 1 : table);
	db->target = dbops_xstrdup(table);
	/* Each escape clears the connection's error: read it at once. */
	if (db->schema)
		qschema = PQescapeIdentifier(db->conn, db->schema,
					     strlen(db->schema));
	if (db->schema == NULL || qschema != NULL)
		qname = PQescapeIdentifier(db->conn, db->table,
					   strlen(db->table));
	if (qname == NULL) {
		const char *why = PQerrorMessage(db->conn);

		dbops_err_set(err, "invalid table name \"%s\": %.*s", table,
			      first_line(why), why);
		goto out;
	}
	qledger =
		PQescapeIdentifier(db->conn, SNAP_LEDGER, strlen(SNAP_LEDGER));
	qfunc = PQescapeIdentifier(db->conn, SNAPSHOT_ID_FUNCTION,
				   strlen(SNAPSHOT_ID_FUNCTION));
	if (qledger == NULL || qfunc == NULL)
		dbops_xalloc_failed();
	db->qtable = dbops_xasprintf("%s%s%s", qschema ? qschema : "",
				     qschema ? "." : "", qname);
	db->qledger = dbops_xasprintf("%s%s%s", qschema ? qschema : "",
				      qschema ? "." : "", qledger);
	db->qfunction = dbops_xasprintf("%s%s%s", qschema ? qschema : "",
					qschema ? "." : "", qfunc);
	rc = 0;
out:
	PQfreemem(qschema);
	PQfreemem(qname);
	PQfreemem(qledger);
	PQfreemem(qfunc);
	return rc;
}

static void set_by(struct snap_db *db)
{
	struct passwd *pw = getpwuid(geteuid());
	char host[256] = "localhost";

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(db->by, sizeof(db->by), "%s@%s", pw ? pw->pw_name : "unknown",
		 host);
}

/* Seconds to wait for a server to answer, unless the user says otherwise. */
#define SNAP_CONNECT_TIMEOUT "30"

/* The server's notices ("already exists, skipping") are for -v only. */
static void on_notice(void *arg, const char *message)
{
	(void)arg;
	dbops_log_debug("server: %.*s", (int)strcspn(message, "\n"), message);
}

/*
 * Timestamps without an offset are read in one zone, the same wherever the
 * import runs: UTC unless --timezone says otherwise; dates in ISO form.
 */
int snap_db_set_session(struct snap_db *db, struct dbops_err *err)
{
	const char *params[] = { db->timezone };
	struct dbops_err why = { "" };

	if (snap_db_command(db,
			    "SELECT set_config('TimeZone', $1, false),"
			    " set_config('DateStyle', 'ISO, YMD', false)",
			    1, params, &why) != 0)
		return dbops_err_set(err, "invalid --timezone \"%s\": %s",
				     params[0], why.msg);
	return 0;
}

/*
 * The table's one name for the ledger and the sync lock, whatever the
 * spelling of -t: schema-qualified as format('%I.%I') writes it, the
 * schema found through the search path (to_regclass) when the table exists,
 * current_schema() when it is still to be created there.
 */
static int resolve_key(struct snap_db *db, struct dbops_err *err)
{
	const char *params[] = { db->qtable, db->schema, db->table };
	PGresult *res = snap_db_exec(
		db,
		"SELECT coalesce((SELECT format('%I.%I', n.nspname, c.relname)"
		"  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
		"  WHERE c.oid = to_regclass($1::text)),"
		" format('%I.%I', coalesce($2::text, current_schema(), 'public'),"
		" $3::text))",
		3, params, err);
	int rc = -1;

	if (res == NULL)
		return -1;
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		free(db->key);
		db->key = dbops_xstrdup(PQgetvalue(res, 0, 0));
		rc = 0;
	} else {
		snap_db_describe_error(res, err);
	}
	PQclear(res);
	return rc;
}

/*
 * The encoding of the files (--encoding) as PostgreSQL names it; NULL in
 * db->encoding for UTF-8, which needs no conversion.
 */
static int set_encoding(struct snap_db *db, const char *encoding,
			struct dbops_err *err)
{
	const char *params[] = { encoding };
	PGresult *res;
	int rc = -1;

	if (encoding == NULL)
		return 0;
	res = snap_db_exec(
		db, "SELECT pg_encoding_to_char(pg_char_to_encoding($1))", 1,
		params, err);
	if (res == NULL)
		return -1;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snap_db_describe_error(res, err);
	} else if (PQgetvalue(res, 0, 0)[0] == '\0') {
		dbops_err_set(
			err,
			"invalid --encoding \"%s\": not an encoding PostgreSQL knows",
			encoding);
	} else {
		if (strcmp(PQgetvalue(res, 0, 0), "UTF8") != 0)
			db->encoding = dbops_xstrdup(PQgetvalue(res, 0, 0));
		rc = 0;
	}
	PQclear(res);
	return rc;
}

int snap_db_open(struct snap_db *db, const char *database, const char *table,
		 const char *timezone, const char *encoding,
		 struct dbops_err *err)
{
	const char *keys[8], *values[8];
	char hostbuf[256];
	int n, given, first;

	memset(db, 0, sizeof(*db));
	n = 0;
	/*
	 * libpq waits for ever for a server that does not answer. First, so
	 * that the user's conninfo, or PGCONNECT_TIMEOUT, may change it.
	 */
	if (getenv("PGCONNECT_TIMEOUT") == NULL) {
		keys[n] = "connect_timeout";
		values[n++] = SNAP_CONNECT_TIMEOUT;
	}
	first = n;
	given = snap_db_conn_params(database, hostbuf, sizeof(hostbuf),
				    keys + n, values + n);
	n += given;
	/* Ours come after the user's: a conninfo may not change them. */
	keys[n] = "application_name";
	values[n++] = "snap-import";
	keys[n] = "client_encoding";
	values[n++] = "UTF8";
	keys[n] = NULL;
	values[n] = NULL;
	db->conn = PQconnectdbParams(keys, values, 1);
	if (db->conn == NULL) /* libpq could not allocate its PGconn */
		dbops_xalloc_failed();
	if (PQstatus(db->conn) != CONNECTION_OK) {
		const char *why = PQerrorMessage(db->conn);

		/* host:port names no database: libpq took the user's name. */
		bool no_name = given == 2 && strcmp(keys[first], "host") == 0 &&
			       getenv("PGDATABASE") == NULL &&
			       strstr(why, "database \"") != NULL &&
			       strstr(why, "does not exist") != NULL;

		return dbops_err_set(
			err, "could not connect to the database: %.*s%s",
			first_line(why), why,
			no_name ? "; name the database as HOST:PORT/DBNAME"
				: "");
	}
	PQsetNoticeProcessor(db->conn, on_notice, NULL);
	set_by(db);
	db->timezone = dbops_xstrdup(timezone ? timezone : "UTC");
	if (describe_table(db, table, err) != 0 ||
	    snap_db_set_session(db, err) != 0 ||
	    set_encoding(db, encoding, err) != 0)
		return -1;
	return resolve_key(db, err);
}

void snap_db_close(struct snap_db *db)
{
	if (db->conn)
		PQfinish(db->conn);
	free(db->schema);
	free(db->table);
	free(db->qtable);
	free(db->qledger);
	free(db->qfunction);
	free(db->target);
	free(db->key);
	free(db->timezone);
	free(db->encoding);
	free(db->added);
	for (int i = 0; i < db->ncolumns; i++)
		free(db->columns[i]);
	free(db->columns);
	memset(db, 0, sizeof(*db));
}

/* --- errors -------------------------------------------------------------- */

void snap_db_format_error(const char *primary, const char *context,
			  const struct snap_scan *scan, struct dbops_err *err)
{
	long long file_line;
	const char *line = context ? strstr(context, ", line ") : NULL;
	const char *p, *col, *name, *end;
	size_t digits, n;

	dbops_err_set(err, "%s", primary ? primary : "unknown error");
	if (line == NULL)
		return;
	p = line + 7;
	digits = strspn(p, "0123456789");
	col = p + digits;
	file_line = strtoll(p, NULL, 10);
	if (scan)
		file_line = snap_scan_file_line(scan, file_line);
	if (strncmp(col, ", column ", 9) != 0) {
		dbops_err_prefix(err, "line %lld: ", file_line);
		return;
	}
	/* "column name: value": the name ends at ": ". */
	name = col + 9;
	end = strstr(name, ": ");
	n = end ? (size_t)(end - name) : strcspn(name, "\n");
	dbops_err_prefix(err, "line %lld, column %.*s: ", file_line, (int)n,
			 name);
}

void snap_db_describe_error(const PGresult *res, struct dbops_err *err)
{
	snap_db_describe_copy_error(res, NULL, err);
}

/* The SQLSTATE of the last server error described in this thread. */
static _Thread_local char last_sqlstate[6];

const char *snap_db_last_sqlstate(void)
{
	return last_sqlstate;
}

void snap_db_clear_sqlstate(void)
{
	last_sqlstate[0] = '\0';
}

void snap_db_describe_copy_error(const PGresult *res,
				 const struct snap_scan *scan,
				 struct dbops_err *err)
{
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *context = PQresultErrorField(res, PG_DIAG_CONTEXT);
	const char *msg = PQresultErrorMessage(res);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	snprintf(last_sqlstate, sizeof(last_sqlstate), "%s",
		 state ? state : "");

	if (primary != NULL)
		snap_db_format_error(primary, context, scan, err);
	else if (first_line(msg) > 0)
		dbops_err_set(err, "%.*s", first_line(msg), msg);
	else
		dbops_err_set(err, "unknown error");
}

PGresult *snap_db_exec(struct snap_db *db, const char *sql, int nparams,
		       const char *const *params, struct dbops_err *err)
{
	/* Without parameters, PQexec: it takes several statements. */
	PGresult *res = nparams == 0
				? PQexec(db->conn, sql)
				: PQexecParams(db->conn, sql, nparams, NULL,
					       params, NULL, NULL, 0);
	const char *why = PQerrorMessage(db->conn);

	if (res == NULL)
		dbops_err_set(err, "lost the connection to the database: %.*s",
			      first_line(why), why);
	return res;
}

int snap_db_command(struct snap_db *db, const char *sql, int nparams,
		    const char *const *params, struct dbops_err *err)
{
	PGresult *res = snap_db_exec(db, sql, nparams, params, err);
	int rc = -1;

	if (res == NULL)
		return -1;
	if (PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK)
		rc = 0;
	else
		snap_db_describe_error(res, err);
	PQclear(res);
	return rc;
}

/* SQL with each "{ledger}" replaced by the ledger's quoted name; caller frees. */
static char *ledger_sql(const struct snap_db *db, const char *sql)
{
	const char *token = "{ledger}", *at = strstr(sql, token);
	char *head, *rest, *out;

	if (at == NULL)
		return dbops_xstrdup(sql);
	rest = ledger_sql(db, at + strlen(token));
	head = dbops_xasprintf("%.*s%s", (int)(at - sql), sql, db->qledger);
	out = dbops_xasprintf("%s%s", head, rest);
	free(head);
	free(rest);
	return out;
}

PGresult *snap_db_ledger_exec(struct snap_db *db, const char *sql, int nparams,
			      const char *const *params, struct dbops_err *err)
{
	char *full = ledger_sql(db, sql);
	PGresult *res;

	res = snap_db_exec(db, full, nparams, params, err);
	free(full);
	return res;
}

int snap_db_ledger_command(struct snap_db *db, const char *sql, int nparams,
			   const char *const *params, struct dbops_err *err)
{
	char *full = ledger_sql(db, sql);
	int rc;

	rc = snap_db_command(db, full, nparams, params, err);
	free(full);
	return rc;
}

/* --- the ledger and the table ------------------------------------------- */

static int exists(struct snap_db *db, const char *qname, struct dbops_err *err)
{
	const char *params[] = { qname };
	PGresult *res = snap_db_exec(db, "SELECT to_regclass($1) IS NOT NULL",
				     1, params, err);
	int rc = -1;

	if (res == NULL)
		return -1;
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		rc = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	else
		snap_db_describe_error(res, err);
	PQclear(res);
	return rc;
}

int snap_db_table_exists(struct snap_db *db, struct dbops_err *err)
{
	return exists(db, db->qtable, err);
}

int snap_db_ledger_exists(struct snap_db *db, struct dbops_err *err)
{
	return exists(db, db->qledger, err);
}

/*
 * Ledgers of older releases lack the column "columns" (header names
 * shortened to 63 bytes, as {"header": "column"}): add it, only when
 * missing, as ALTER TABLE needs the ledger's owner.
 */
static int add_columns_column(struct snap_db *db, struct dbops_err *err)
{
	const char *params[] = { db->qledger };
	PGresult *res = snap_db_exec(
		db,
		"SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass"
		" AND attname = 'columns' AND NOT attisdropped",
		1, params, err);
	char *sql;
	int rc;

	if (res == NULL)
		return -1;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snap_db_describe_error(res, err);
		PQclear(res);
		return -1;
	}
	rc = PQntuples(res);
	PQclear(res);
	if (rc > 0)
		return 0;
	sql = dbops_xasprintf("ALTER TABLE %s ADD COLUMN columns jsonb",
			      db->qledger);
	rc = snap_db_command(db, sql, 0, NULL, err);
	free(sql);
	return rc;
}

static int create_ledger(struct snap_db *db, bool have_function,
			 struct dbops_err *err)
{
	char *sql = dbops_xasprintf(
		"CREATE FUNCTION %s() RETURNS bigint"
		" LANGUAGE sql IMMUTABLE PARALLEL SAFE"
		" AS $$SELECT current_setting('snap_import.snapshot_id')::bigint$$",
		db->qfunction);
	int rc;

	rc = have_function ? 0 : snap_db_command(db, sql, 0, NULL, err);
	free(sql);
	if (rc != 0)
		return -1;

	/* The partial unique indexes are what makes an import happen once
	 * (snap.h, note 2) and a failure be recorded once. */
	sql = dbops_xasprintf(
		"CREATE TABLE IF NOT EXISTS %s ("
		" id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
		" target_table text NOT NULL,"
		" file_name text NOT NULL,"
		" sha256 text NOT NULL,"
		" rows bigint,"
		" bytes bigint NOT NULL,"
		" started_at timestamptz,"
		" imported_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
		" duration_s double precision,"
		" imported_by text,"
		" status text NOT NULL DEFAULT 'imported'"
		"  CHECK (status IN ('imported', 'failed')),"
		" error text);"
		"CREATE UNIQUE INDEX IF NOT EXISTS snap_import_files_imported"
		" ON %s (target_table, sha256) WHERE status = 'imported';"
		"CREATE UNIQUE INDEX IF NOT EXISTS snap_import_files_failed"
		" ON %s (target_table, sha256) WHERE status = 'failed'",
		db->qledger, db->qledger, db->qledger);
	rc = snap_db_command(db, sql, 0, NULL, err);
	free(sql);
	return rc == 0 ? add_columns_column(db, err) : -1;
}

/* The date's function, quoted, beside snapshot_id's. Caller frees. */
static char *date_function(const struct snap_db *db)
{
	size_t n =
		strlen(db->qfunction) - strlen("\"" SNAPSHOT_ID_FUNCTION "\"");

	return dbops_xasprintf("%.*s\"" SNAPSHOT_DATE_FUNCTION "\"", (int)n,
			       db->qfunction);
}

/* One row of one column from SQL with PARAMS; NULL after an error. */
static char *query_value(struct snap_db *db, const char *sql, int nparams,
			 const char *const *params, bool *found,
			 struct dbops_err *err)
{
	PGresult *res = snap_db_exec(db, sql, nparams, params, err);
	char *v = NULL;

	if (res == NULL)
		return NULL;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snap_db_describe_error(res, err);
	} else {
		*found = PQntuples(res) > 0;
		v = dbops_xstrdup(*found ? PQgetvalue(res, 0, 0) : "");
	}
	PQclear(res);
	return v;
}

/* The date's function, made when missing (a loader may not replace it). */
static int create_date_function(struct snap_db *db, struct dbops_err *err)
{
	char *f = date_function(db), *sig = dbops_xasprintf("%s()", f), *sql;
	const char *params[] = { sig };
	bool found = false;
	char *missing = query_value(db, "SELECT to_regprocedure($1) IS NULL", 1,
				    params, &found, err);
	int rc = missing ? 0 : -1;

	if (missing && strcmp(missing, "t") == 0) {
		sql = dbops_xasprintf(
			"CREATE FUNCTION %s() RETURNS date"
			" LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$SELECT"
			" nullif(current_setting('snap_import.snapshot_date',"
			" true), '')::date$$",
			f);
		rc = snap_db_command(db, sql, 0, NULL, err);
		free(sql);
	}
	free(missing);
	free(sig);
	free(f);
	return rc;
}

/* snapshot_date in an existing table, with its default: added if not. */
static int ensure_date_column(struct snap_db *db, struct dbops_err *err)
{
	const char *params[] = { db->qtable };
	char *f = date_function(db), *sql = NULL;
	bool found = false;
	char *def = query_value(
		db,
		"SELECT coalesce(pg_get_expr(d.adbin, d.adrelid), '')"
		" FROM pg_attribute a LEFT JOIN pg_attrdef d"
		"  ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
		" WHERE a.attrelid = $1::regclass AND NOT a.attisdropped"
		"  AND a.attname = '" SNAPSHOT_DATE_COLUMN "'",
		1, params, &found, err);
	int rc = def ? 0 : -1;

	if (def && !found)
		sql = dbops_xasprintf(
			"ALTER TABLE %s ADD COLUMN " SNAPSHOT_DATE_COLUMN
			" date DEFAULT %s()",
			db->qtable, f);
	else if (def && strstr(def, SNAPSHOT_DATE_FUNCTION "()") == NULL)
		sql = dbops_xasprintf(
			"ALTER TABLE %s ALTER COLUMN " SNAPSHOT_DATE_COLUMN
			" SET DEFAULT %s()",
			db->qtable, f);
	if (sql)
		rc = snap_db_command(db, sql, 0, NULL, err);
	free(sql);
	free(def);
	free(f);
	return rc;
}

/*
 * The ledger and the snapshot_id function, each made only when missing:
 * a loader that may not create anything in the schema (snap-import(1),
 * PRIVILEGES) finds them made by the owner.
 */
static int ensure_ledger(struct snap_db *db, struct dbops_err *err)
{
	char *func = dbops_xasprintf("%s()", db->qfunction);
	const char *params[] = { db->qledger, func };
	PGresult *res = snap_db_exec(db,
				     "SELECT to_regclass($1) IS NOT NULL,"
				     " to_regprocedure($2) IS NOT NULL",
				     2, params, err);
	bool ledger, function;

	free(func);
	if (res == NULL)
		return -1;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snap_db_describe_error(res, err);
		PQclear(res);
		return -1;
	}
	ledger = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	function = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	if (ledger && function)
		return add_columns_column(db, err);
	return create_ledger(db, function, err);
}

static int create_table(struct snap_db *db, const struct snap_header *h,
			const char *const *types, struct dbops_err *err)
{
	size_t cap = 256, len = 0;
	char *sql = dbops_xmalloc(cap);
	int rc;

	len = (size_t)snprintf(sql, cap, "CREATE TABLE %s (", db->qtable);
	for (size_t i = 0; i < h->count; i++) {
		char *q = PQescapeIdentifier(db->conn, h->names[i],
					     strlen(h->names[i]));
		const char *type = types ? types[i] : "text";
		size_t need = len + strlen(q ? q : "") + strlen(type) + 8;

		if (q == NULL) {
			dbops_err_set(err, "invalid column name \"%s\"",
				      h->names[i]);
			free(sql);
			return -1;
		}
		if (need + 256 > cap) {
			cap = (need + 256) * 2;
			sql = dbops_xreallocarray(sql, cap, 1);
		}
		len += (size_t)snprintf(sql + len, cap - len, "%s %s, ", q,
					type);
		PQfreemem(q);
	}
	if (db->date_column) {
		char *f = date_function(db);

		len += (size_t)snprintf(
			sql + len, cap - len,
			SNAPSHOT_DATE_COLUMN " date DEFAULT %s(), ", f);
		free(f);
	}
	/* No foreign key to the ledger: a check per row would cost the
	 * load its speed. The join is by value. */
	snprintf(sql + len, cap - len,
		 "snapshot_id bigint NOT NULL DEFAULT %s())", db->qfunction);
	rc = snap_db_command(db, sql, 0, NULL, err);
	free(sql);
	if (rc != 0) {
		dbops_err_prefix(err,
				 "could not create table \"%s\": ", db->target);
		return -1;
	}
	/* The index on snapshot_id comes after the first file's rows: built
	 * at once it costs the server less than kept row by row, even empty
	 * (on PostgreSQL 15 each row's insert reads the BRIN metapage and
	 * revmap: made before the COPY, 5% more server CPU, measured). */
	db->index_pending = true;
	return 0;
}

int snap_db_create_index(struct snap_db *db, struct dbops_err *err)
{
	char *sql;
	int rc;

	if (!db->index_pending)
		return 0;
	/*
	 * "The rows of snapshot N" (and the check that they are still there)
	 * without reading the whole history. BRIN: the rows of a snapshot are
	 * appended together, so block ranges find them; measured, it costs a
	 * load a third of what a B-tree does (10-15% more server CPU for a
	 * first import, 20% for a later one, against 30-50%), and it is tiny.
	 */
	sql = dbops_xasprintf("CREATE INDEX ON %s USING brin (snapshot_id)",
			      db->qtable);
	rc = snap_db_command(db, sql, 0, NULL, err);
	free(sql);
	if (rc == 0)
		db->index_pending = false;
	return rc;
}

/*
 * The key once the table exists, and the ledger rows that an older
 * snap-import wrote under the spelling of -t ("snapshots",
 * "public.snapshots") moved to it, unless that content is there already.
 */
/* The ledger rows of this table under an older spelling of -t. */
#define LEGACY_ROWS                                                         \
	" WHERE l.target_table <> $1::text"                                 \
	" AND (l.target_table = (SELECT n.nspname || '.' || c.relname"      \
	"   FROM pg_class c JOIN pg_namespace n"                            \
	"   ON n.oid = c.relnamespace WHERE c.oid = to_regclass($3::text))" \
	"  OR (l.target_table = $2::text"                                   \
	"   AND to_regclass(quote_ident($2::text)) = to_regclass($3::text)))"

static int resolve_target(struct snap_db *db, struct dbops_err *err)
{
	const char *params[3];
	PGresult *res;
	int rc = -1;

	if (resolve_key(db, err) != 0)
		return -1;
	params[0] = db->key;
	params[1] = db->table;
	params[2] = db->qtable;
	/* Look first: the UPDATE needs a privilege a loader may lack. */
	res = snap_db_ledger_exec(
		db, "SELECT 1 FROM {ledger} l" LEGACY_ROWS " LIMIT 1", 3,
		params, err);
	if (res == NULL)
		return -1;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snap_db_describe_error(res, err);
		PQclear(res);
		return -1;
	}
	rc = PQntuples(res);
	PQclear(res);
	if (rc == 0)
		return 0;
	return snap_db_ledger_command(
		db,
		"UPDATE {ledger} l SET target_table = $1::text" LEGACY_ROWS
		" AND NOT EXISTS (SELECT 1 FROM {ledger} m"
		"  WHERE m.target_table = $1 AND m.sha256 = l.sha256"
		"  AND m.status = l.status)",
		3, params, err);
}

/* The lock under which a table is created or altered, and the ledger made. */
#define SCHEMA_LOCK \
	"SELECT pg_advisory_xact_lock(hashtext('snap-import schema ' || $1))"

/* Read the table's columns into db->columns; check snapshot_id's default. */
static int load_columns(struct snap_db *db, struct dbops_err *err)
{
	const char *params[] = { db->qtable };
	PGresult *res = snap_db_exec(
		db,
		"SELECT a.attname, pg_get_expr(d.adbin, d.adrelid)"
		" FROM pg_attribute a LEFT JOIN pg_attrdef d"
		"  ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
		" WHERE a.attrelid = $1::regclass AND a.attnum > 0"
		"  AND NOT a.attisdropped ORDER BY a.attnum",
		1, params, err);
	bool has_id = false, id_default = false;
	int n;

	if (res == NULL)
		return -1;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snap_db_describe_error(res, err);
		PQclear(res);
		return -1;
	}
	n = PQntuples(res);
	db->columns = dbops_xcalloc((size_t)n + 1, sizeof(char *));
	for (int i = 0; i < n; i++) {
		db->columns[i] = dbops_xstrdup(PQgetvalue(res, i, 0));
		if (strcmp(PQgetvalue(res, i, 0), "snapshot_id") == 0) {
			has_id = true;
			id_default = strstr(PQgetvalue(res, i, 1),
					    SNAPSHOT_ID_FUNCTION "()") != NULL;
		}
	}
	db->ncolumns = n;
	PQclear(res);
	if (!has_id)
		return dbops_err_set(
			err,
			"table \"%s\" has no snapshot_id column; add it with: ALTER TABLE %s ADD COLUMN snapshot_id bigint",
			db->target, db->qtable);
	if (!id_default) {
		char *sql = dbops_xasprintf(
			"ALTER TABLE %s ALTER COLUMN snapshot_id SET DEFAULT %s()",
			db->qtable, db->qfunction);
		int rc = snap_db_command(db, sql, 0, NULL, err);

		free(sql);
		return rc;
	}
	return 0;
}

/* The columns snap-import fills itself may not come from the file. */
static int check_reserved(const struct snap_db *db, const struct snap_header *h,
			  struct dbops_err *err)
{
	for (size_t i = 0; i < h->count; i++) {
		if (strcmp(h->names[i], "snapshot_id") == 0)
			return dbops_err_set(
				err,
				"the header has a column \"snapshot_id\", which snap-import sets itself");
		if (db->date_column &&
		    strcmp(h->names[i], SNAPSHOT_DATE_COLUMN) == 0)
			return dbops_err_set(
				err,
				"the header has a column \"" SNAPSHOT_DATE_COLUMN
				"\", which --table-from-name sets from the file's name");
	}
	return 0;
}

static bool has_column(const struct snap_db *db, const char *name)
{
	for (int c = 0; c < db->ncolumns; c++)
		if (strcmp(db->columns[c], name) == 0)
			return true;
	return false;
}

/* How many header columns the table lacks; -1 for a header naming
 * snapshot_id, or snapshot_date with --table-from-name (reason in err). */
static int check_header(struct snap_db *db, const struct snap_header *h,
			struct dbops_err *err)
{
	int missing = 0;

	if (check_reserved(db, h, err) != 0)
		return -1;
	for (size_t i = 0; i < h->count; i++)
		if (!has_column(db, h->names[i]))
			missing++;
	return missing;
}

/* ALTER TABLE ADD COLUMN for header column I, in the open transaction. */
static int add_column(struct snap_db *db, const struct snap_header *h, size_t i,
		      const char *type, struct dbops_err *err)
{
	char *q =
		PQescapeIdentifier(db->conn, h->names[i], strlen(h->names[i]));
	struct dbops_err why = { "" };
	char *sql;
	int rc;

	if (q == NULL)
		return dbops_err_set(err, "invalid column name \"%s\"",
				     h->names[i]);
	sql = dbops_xasprintf("ALTER TABLE %s ADD COLUMN %s %s", db->qtable, q,
			      type);
	PQfreemem(q);
	rc = snap_db_command(db, sql, 0, NULL, &why);
	free(sql);
	if (rc != 0)
		return dbops_err_set(
			err,
			"column \"%s\" of the header is not in table \"%s\" and could not be added: %s",
			h->names[i], db->target, why.msg);
	db->columns = dbops_xreallocarray(db->columns, (size_t)db->ncolumns + 2,
					  sizeof(char *));
	db->columns[db->ncolumns++] = dbops_xstrdup(h->names[i]);
	db->columns[db->ncolumns] = NULL;
	/* Said once the file's transaction commits (snap_db_committed). */
	sql = dbops_xasprintf("%s%s\"%s\" %s", db->added ? db->added : "",
			      db->added ? ", " : "", h->names[i], type);
	free(db->added);
	db->added = sql;
	return 0;
}

/*
 * Schema drift: add the header columns the table lacks, with TYPES, in a
 * transaction left open for the file's COPY and ledger row (a file that
 * fails takes its columns with it). Under the schema lock, the columns read
 * again: another importer may have added them meanwhile.
 */
static int add_missing_columns(struct snap_db *db, const struct snap_header *h,
			       const char *const *types, struct dbops_err *err)
{
	const char *params[] = { db->key };

	if (!db->create_pending) {
		snap_db_forget_table(db);
		if (snap_db_command(db, "BEGIN", 0, NULL, err) != 0 ||
		    snap_db_command(db, SCHEMA_LOCK, 1, params, err) != 0 ||
		    load_columns(db, err) != 0)
			goto fail;
		db->table_known = true;
		db->create_pending = true;
	}
	for (size_t i = 0; i < h->count; i++)
		if (!has_column(db, h->names[i]) &&
		    add_column(db, h, i, types[i], err) != 0)
			goto fail;
	return 0;
fail:
	snap_db_command(db, "ROLLBACK", 0, NULL, NULL);
	snap_db_forget_table(db);
	return -1;
}

/* Header columns the table lacks: added with TYPES, or 1 to ask for them. */
static int drift(struct snap_db *db, const struct snap_header *h,
		 const char *const *types, struct dbops_err *err)
{
	int missing = check_header(db, h, err);

	if (missing <= 0) {
		if (missing < 0)
			snap_db_end_pending(db);
		return missing;
	}
	if (types == NULL)
		return 1;
	return add_missing_columns(db, h, types, err);
}

int snap_db_prepare_table(struct snap_db *db, const struct snap_header *h,
			  const char *const *types, struct dbops_err *err)
{
	const char *params[] = { db->key };
	int have = 1;

	if (db->table_known)
		return drift(db, h, types, err);
	if (check_reserved(db, h, err) != 0 ||
	    snap_db_command(db, "BEGIN", 0, NULL, err) != 0)
		return -1;
	/* Importers starting at once: one creates, the others wait. */
	if (snap_db_command(db, SCHEMA_LOCK, 1, params, err) != 0 ||
	    ensure_ledger(db, err) != 0 ||
	    (db->date_column && create_date_function(db, err) != 0) ||
	    (have = snap_db_table_exists(db, err)) < 0 ||
	    (!have && create_table(db, h, types, err) != 0) ||
	    load_columns(db, err) != 0 ||
	    (db->date_column && ensure_date_column(db, err) != 0) ||
	    resolve_target(db, err) != 0 ||
	    (have && snap_db_command(db, "COMMIT", 0, NULL, err) != 0)) {
		snap_db_command(db, "ROLLBACK", 0, NULL, NULL);
		snap_db_forget_table(db);
		return -1;
	}
	/* A new table stays in this transaction: the first file's COPY and
	 * ledger row commit it, or it is gone with them. */
	db->create_pending = !have;
	db->table_known = true;
	return drift(db, h, types, err);
}

void snap_db_committed(struct snap_db *db)
{
	if (db->added)
		dbops_log_info("added to table \"%s\": %s", db->target,
			       db->added);
	free(db->added);
	db->added = NULL;
	db->create_pending = false;
}

void snap_db_forget_table(struct snap_db *db)
{
	free(db->added);
	db->added = NULL;
	db->index_pending = false;
	for (int i = 0; i < db->ncolumns; i++)
		free(db->columns[i]);
	free(db->columns);
	db->columns = NULL;
	db->ncolumns = 0;
	db->table_known = false;
	db->create_pending = false;
}

void snap_db_end_pending(struct snap_db *db)
{
	if (!db->create_pending)
		return;
	snap_db_command(db, "ROLLBACK", 0, NULL, NULL);
	snap_db_forget_table(db);
}

int snap_db_ensure_ledger(struct snap_db *db, struct dbops_err *err)
{
	const char *params[] = { db->key };

	if (snap_db_command(db, "BEGIN", 0, NULL, err) != 0)
		return -1;
	/* The schema lock, as snap_db_prepare_table takes it; the ledger
	 * and the function only when missing (a loader may not create). */
	if (snap_db_command(db, SCHEMA_LOCK, 1, params, err) != 0 ||
	    ensure_ledger(db, err) != 0 ||
	    snap_db_command(db, "COMMIT", 0, NULL, err) != 0) {
		snap_db_command(db, "ROLLBACK", 0, NULL, NULL);
		return -1;
	}
	return 0;
}

int snap_db_find(struct snap_db *db, const char *sha256, bool failed,
		 struct snap_found *f, struct dbops_err *err)
{
	const char *params[] = { db->key, sha256,
				 failed ? "failed" : "imported" };
	PGresult *res = snap_db_ledger_exec(
		db,
		"SELECT id, file_name,"
		" (extract(epoch FROM imported_at) * 1000000)::bigint,"
		" coalesce(error, ''), coalesce(rows, 0)"
		" FROM {ledger} WHERE target_table = $1 AND sha256 = $2"
		" AND status = $3",
		3, params, err);
	int rc = -1;

	if (res == NULL)
		return -1;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snap_db_describe_error(res, err);
	} else if (PQntuples(res) == 0) {
		rc = 0;
	} else {
		f->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		snprintf(f->name, sizeof(f->name), "%s", PQgetvalue(res, 0, 1));
		dbops_timestamp_format(strtoll(PQgetvalue(res, 0, 2), NULL, 10),
				       f->at, sizeof(f->at));
		snprintf(f->error, sizeof(f->error), "%s",
			 PQgetvalue(res, 0, 3));
		f->rows = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
		rc = 1;
	}
	PQclear(res);
	return rc;
}

int snap_db_table_readable(struct snap_db *db, struct dbops_err *err)
{
	const char *params[] = { db->qtable };
	PGresult *res =
		snap_db_exec(db,
			     "SELECT to_regclass($1) IS NOT NULL,"
			     " has_table_privilege(to_regclass($1), 'SELECT')",
			     1, params, err);
	int rc = -1;

	if (res == NULL)
		return -1;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		snap_db_describe_error(res, err);
	else if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
		rc = 0;
	else
		rc = strcmp(PQgetvalue(res, 0, 1), "t") == 0 ? 1 : 2;
	PQclear(res);
	return rc;
}

int snap_db_rows_gone(struct snap_db *db, const struct snap_found *f,
		      struct dbops_err *err)
{
	char id[32], *sql;
	const char *params[] = { id };
	PGresult *res;
	bool own;
	int rc;

	if (f->rows == 0)
		return 0;
	rc = snap_db_table_readable(db, err);
	if (rc != 1) {
		if (rc == 2)
			dbops_log_debug(
				"cannot tell whether the rows of snapshot %lld are still in table \"%s\" without SELECT on it",
				(long long)f->id, db->target);
		return rc < 0 ? -1 : rc == 0;
	}
	snprintf(id, sizeof(id), "%lld", (long long)f->id);
	own = PQtransactionStatus(db->conn) == PQTRANS_IDLE;
	if ((own && snap_db_command(db, "BEGIN", 0, NULL, err) != 0) ||
	    snap_db_command(db, SNAPSHOT_PROBE_SETTINGS, 0, NULL, err) != 0)
		return -1;
	sql = dbops_xasprintf(
		"SELECT EXISTS (SELECT 1 FROM %s WHERE snapshot_id = $1)",
		db->qtable);
	res = snap_db_exec(db, sql, 1, params, err);
	free(sql);
	if (res == NULL)
		return -1;
	rc = -1;
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		rc = strcmp(PQgetvalue(res, 0, 0), "t") != 0;
	else
		snap_db_describe_error(res, err);
	PQclear(res);
	if (own && snap_db_command(db, rc < 0 ? "ROLLBACK" : "COMMIT", 0, NULL,
				   rc < 0 ? NULL : err) != 0)
		return -1;
	return rc;
}

int snap_db_size_known(struct snap_db *db, int64_t bytes, struct dbops_err *err)
{
	char size[32];
	const char *params[] = { db->key, size };
	PGresult *res;
	int rc = -1;

	snprintf(size, sizeof(size), "%lld", (long long)bytes);
	res = snap_db_ledger_exec(
		db,
		"SELECT 1 FROM {ledger} WHERE target_table = $1"
		" AND bytes = $2 LIMIT 1",
		2, params, err);
	if (res == NULL)
		return -1;
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		rc = PQntuples(res) > 0;
	else
		snap_db_describe_error(res, err);
	PQclear(res);
	return rc;
}

char *snap_db_ledger_name(const char *name)
{
	size_t n = strlen(name), o = 0;
	char *out = dbops_xmalloc(4 * n + 1);

	for (size_t i = 0; i < n;) {
		size_t k = dbops_utf8_seq_len((const unsigned char *)name + i,
					      n - i);

		if (k == 0) {
			o += (size_t)snprintf(out + o, 5, "\\x%02X",
					      (unsigned char)name[i]);
			i++;
			continue;
		}
		memcpy(out + o, name + i, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
	return out;
}

int snap_db_record_failure(struct snap_db *db, const char *name,
			   const char *sha256, int64_t bytes, const char *why,
			   struct dbops_err *err)
{
	char size[32];
	char *lname = snap_db_ledger_name(name);
	const char *params[] = { db->key, lname, sha256, size, why, db->by };
	int rc;

	snprintf(size, sizeof(size), "%lld", (long long)bytes);
	rc = snap_db_ledger_command(
		db,
		"INSERT INTO {ledger} (target_table, file_name, sha256, bytes,"
		" error, imported_by, status)"
		" VALUES ($1, $2, $3, $4, $5, $6, 'failed')"
		" ON CONFLICT (target_table, sha256) WHERE status = 'failed'"
		" DO UPDATE SET file_name = EXCLUDED.file_name,"
		" error = EXCLUDED.error, imported_at = clock_timestamp(),"
		" imported_by = EXCLUDED.imported_by",
		6, params, err);
	free(lname);
	return rc;
}
