/*
 * redisagg.c - the per-symbol aggregates in Redis (keys and invariants in
 * redisagg.h): the URL parser, the lazy connection, and the Lua scripts
 * that apply a batch, read, and rebuild.
 *
 * Each script is sent by EVALSHA with the SHA1 that SCRIPT LOAD gave on
 * first use; a NOSCRIPT answer (the server restarted, failed over or had
 * SCRIPT FLUSH) is followed by the same call as EVAL, which runs the
 * script once and caches it again. NOSCRIPT means the script did not run,
 * so the retry cannot apply a batch twice.
 *
 * Numbers pass to and from the scripts as decimal strings: the scripts
 * compare times with tonumber() (doubles, exact below 2^53 microseconds,
 * the year 2255) but store the caller's strings, and counts are added by
 * HINCRBY, so every stored value is an exact 64-bit integer.
 */
#include "redisagg.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "clock.h"
#include "hex.h"
#include "xalloc.h"

#define DEFAULT_PREFIX "{event-store}:"

enum script_id { SCRIPT_APPLY, SCRIPT_READ, SCRIPT_REBUILD, SCRIPT_UNLOCK };
#define N_SCRIPTS 4

static const char *const script_text[N_SCRIPTS] = {
	/* APPLY: KEYS ready, last, sym...; ARGV writer, seq, 4 per sym. */
	"if redis.call('EXISTS', KEYS[1]) == 0 then return 'NOTREADY' end\n"
	"local last = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')\n"
	"local seq = tonumber(ARGV[2])\n"
	"if seq <= last then return 'DUPLICATE' end\n"
	"if seq > last + 1 then return 'GAP' end\n"
	"for i = 3, #KEYS do\n"
	"  local k, a = KEYS[i], 3 + (i - 3) * 4\n"
	"  if ARGV[a] ~= '0' then\n"
	"    redis.call('HINCRBY', k, 'events', ARGV[a])\n"
	"  end\n"
	"  if ARGV[a + 1] ~= '0' then\n"
	"    redis.call('HINCRBY', k, 'followups', ARGV[a + 1])\n"
	"  end\n"
	"  if ARGV[a + 2] ~= '-' then\n"
	"    local t = redis.call('HMGET', k, 'earliest', 'latest')\n"
	"    local set = {}\n"
	"    if not t[1] or tonumber(ARGV[a + 2]) < tonumber(t[1]) then\n"
	"      set[#set + 1] = 'earliest'\n"
	"      set[#set + 1] = ARGV[a + 2]\n"
	"    end\n"
	"    if not t[2] or tonumber(ARGV[a + 3]) > tonumber(t[2]) then\n"
	"      set[#set + 1] = 'latest'\n"
	"      set[#set + 1] = ARGV[a + 3]\n"
	"    end\n"
	"    if #set > 0 then redis.call('HSET', k, unpack(set)) end\n"
	"  end\n"
	"end\n"
	"redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])\n"
	"return 'OK'\n",
	/* READ: KEYS ready, sym...: nil when not ready, else 4 per sym. */
	"if redis.call('EXISTS', KEYS[1]) == 0 then return false end\n"
	"local out = {}\n"
	"for i = 2, #KEYS do\n"
	"  local v = redis.call('HMGET', KEYS[i], 'events', 'followups',\n"
	"                       'earliest', 'latest')\n"
	"  for j = 1, 4 do out[#out + 1] = v[j] or '' end\n"
	"end\n"
	"return out\n",
	/* REBUILD: KEYS ready, last, sym:a..z; ARGV 4 per sym, then pairs. */
	"if redis.call('EXISTS', KEYS[1]) == 1 then return 'REFUSED' end\n"
	"redis.call('DEL', KEYS[2])\n"
	"for i = 3, 28 do\n"
	"  local a = (i - 3) * 4 + 1\n"
	"  redis.call('DEL', KEYS[i])\n"
	"  if ARGV[a] ~= '0' or ARGV[a + 1] ~= '0' then\n"
	"    redis.call('HSET', KEYS[i], 'events', ARGV[a],\n"
	"               'followups', ARGV[a + 1])\n"
	"  end\n"
	"  if ARGV[a + 2] ~= '-' then\n"
	"    redis.call('HSET', KEYS[i], 'earliest', ARGV[a + 2],\n"
	"               'latest', ARGV[a + 3])\n"
	"  end\n"
	"end\n"
	"for a = 105, #ARGV, 2 do\n"
	"  redis.call('HSET', KEYS[2], ARGV[a], ARGV[a + 1])\n"
	"end\n"
	"redis.call('SET', KEYS[1], '1')\n"
	"return 'OK'\n",
	/* UNLOCK: KEYS rebuild; ARGV token. */
	"if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
	"  return redis.call('DEL', KEYS[1])\n"
	"end\n"
	"return 0\n",
};

struct es_redis {
	struct es_redis_url url;
	char name[400];
	int timeout_ms;
	redisContext *c; /* NULL while not connected */
	bool up;
	char token[96];
	char sha[N_SCRIPTS][41]; /* "" until SCRIPT LOAD answered */
	char *key_ready, *key_last, *key_rebuild, *key_sym[ES_SYMBOLS];
};

/* The arguments of one command, each a copy. */
struct args {
	int n, cap;
	char **v;
	size_t *len;
};

static void args_add(struct args *a, const char *s)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 32;
		a->v = dbops_xreallocarray(a->v, (size_t)a->cap, sizeof(*a->v));
		a->len = dbops_xreallocarray(a->len, (size_t)a->cap,
					     sizeof(*a->len));
	}
	a->v[a->n] = dbops_xstrdup(s);
	a->len[a->n] = strlen(s);
	a->n++;
}

static void args_int(struct args *a, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	args_add(a, buf);
}

static void args_free(struct args *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	free(a->len);
	memset(a, 0, sizeof(*a));
}

/* ---- URLs ---------------------------------------------------------- */

/* Decimal S (whole string) into *V within [MIN, MAX]; 0 or -1. */
static int url_number(const char *s, size_t n, long min, long max, int *v)
{
	long x = 0;

	if (n == 0 || n > 6)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	if (x < min || x > max)
		return -1;
	*v = (int)x;
	return 0;
}

/* S of N bytes, %XX decoded, into OUT of SIZE bytes; 0 or -1 (ERR). */
static int url_decode(const char *s, size_t n, char *out, size_t size,
		      const char *what, struct dbops_err *err)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int h = i + 2 < n ? dbops_hex_digit(s[i + 1]) : -1;
			int l = i + 2 < n ? dbops_hex_digit(s[i + 2]) : -1;

			if (h < 0 || l < 0)
				return dbops_err_set(err,
						     "bad %%XX escape in the "
						     "%s",
						     what);
			c = h * 16 + l;
			i += 2;
		}
		if (c == '\0' || o + 1 >= size)
			return dbops_err_set(err,
					     "the %s is too long or holds "
					     "a NUL",
					     what);
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static int parse_unix(const char *s, struct es_redis_url *out,
		      struct dbops_err *err)
{
	size_t n = strcspn(s, "?");

	out->unix_socket = true;
	if (s[0] != '/')
		return dbops_err_set(err, "the socket path of a unix: URL must "
					  "be absolute");
	if (n >= sizeof(out->path))
		return dbops_err_set(err, "the socket path is over %zu bytes",
				     sizeof(out->path) - 1);
	memcpy(out->path, s, n);
	out->path[n] = '\0';
	if (s[n] == '\0')
		return 0;
	if (strncmp(s + n + 1, "db=", 3) != 0)
		return dbops_err_set(err, "a unix: URL takes only ?db=N");
	if (url_number(s + n + 4, strlen(s + n + 4), 0, 65535, &out->db) != 0)
		return dbops_err_set(err, "the database of ?db= is not a "
					  "number from 0 to 65535");
	return 0;
}

/* [USER]:PASSWORD of N bytes at S. */
static int parse_userinfo(const char *s, size_t n, struct es_redis_url *out,
			  struct dbops_err *err)
{
	const char *colon = memchr(s, ':', n);

	if (colon == NULL)
		return dbops_err_set(err, "the part before \"@\" must be "
					  "[USER]:PASSWORD");
	if (url_decode(s, (size_t)(colon - s), out->user, sizeof(out->user),
		       "user name", err) != 0)
		return -1;
	return url_decode(colon + 1, n - (size_t)(colon - s) - 1, out->password,
			  sizeof(out->password), "password", err);
}

/* HOST[:PORT] or [V6]:PORT of N bytes at S. */
static int parse_hostport(const char *s, size_t n, struct es_redis_url *out,
			  struct dbops_err *err)
{
	const char *host = s, *end = s + n, *port = NULL;
	size_t hn;

	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (close == NULL)
			return dbops_err_set(err, "no \"]\" after \"[\" in "
						  "the host");
		host = s + 1;
		hn = (size_t)(close - host);
		if (close + 1 < end && close[1] != ':')
			return dbops_err_set(err, "text after \"]\" in the "
						  "host");
		port = close + 1 < end ? close + 2 : NULL;
	} else {
		const char *colon = memchr(s, ':', n);

		hn = colon ? (size_t)(colon - s) : n;
		port = colon ? colon + 1 : NULL;
	}
	if (hn == 0)
		return dbops_err_set(err, "the host is missing");
	if (hn >= sizeof(out->host))
		return dbops_err_set(err, "the host is over %zu bytes",
				     sizeof(out->host) - 1);
	memcpy(out->host, host, hn);
	out->host[hn] = '\0';
	if (port != NULL &&
	    url_number(port, (size_t)(end - port), 1, 65535, &out->port) != 0)
		return dbops_err_set(err, "the port is not a number from 1 to "
					  "65535");
	return 0;
}

static int parse_tcp(const char *s, struct es_redis_url *out,
		     struct dbops_err *err)
{
	size_t an = strcspn(s, "/");
	const char *at = NULL;

	for (size_t i = 0; i < an; i++)
		if (s[i] == '@')
			at = s + i;
	if (at != NULL && parse_userinfo(s, (size_t)(at - s), out, err) != 0)
		return -1;
	if (at != NULL) {
		an -= (size_t)(at + 1 - s);
		s = at + 1;
	}
	if (parse_hostport(s, an, out, err) != 0)
		return -1;
	if (s[an] == '\0' || s[an + 1] == '\0')
		return 0;
	if (url_number(s + an + 1, strlen(s + an + 1), 0, 65535, &out->db) != 0)
		return dbops_err_set(err, "the database after \"/\" is not a "
					  "number from 0 to 65535");
	return 0;
}

int es_redis_url_parse(const char *url, struct es_redis_url *out,
		       struct dbops_err *err)
{
	memset(out, 0, sizeof(*out));
	out->port = 6379;
	if (strncmp(url, "unix:", 5) == 0)
		return parse_unix(url + 5, out, err);
	if (strncmp(url, "redis://", 8) == 0)
		return parse_tcp(url + 8, out, err);
	return dbops_err_set(err, "not a redis:// or unix: URL");
}

void es_redis_url_describe(const struct es_redis_url *u, char *buf, size_t size)
{
	if (u->unix_socket)
		snprintf(buf, size, "unix:%s?db=%d", u->path, u->db);
	else if (strchr(u->host, ':') != NULL)
		snprintf(buf, size, "redis://[%s]:%d/%d", u->host, u->port,
			 u->db);
	else
		snprintf(buf, size, "redis://%s:%d/%d", u->host, u->port,
			 u->db);
}

/* ---- the connection ------------------------------------------------ */

static void disconnect(struct es_redis *r)
{
	if (r->c != NULL)
		redisFree(r->c);
	r->c = NULL;
	r->up = false;
}

/* One command on the connection C; an error reply becomes -1 too. */
static int setup_command(struct es_redis *r, redisContext *c, const char *what,
			 int argc, const char **argv, struct dbops_err *err)
{
	redisReply *reply = redisCommandArgv(c, argc, argv, NULL);
	int rc = 0;

	if (reply == NULL)
		return dbops_err_set(err, "redis %s: %s failed: %s", r->name,
				     what, c->errstr);
	if (reply->type == REDIS_REPLY_ERROR)
		rc = dbops_err_set(err, "redis %s: %s failed: %s", r->name,
				   what, reply->str);
	freeReplyObject(reply);
	return rc;
}

/* AUTH and SELECT as the URL says, on the new connection C. */
static int setup(struct es_redis *r, redisContext *c, struct dbops_err *err)
{
	char db[16];

	if (r->url.password[0] != '\0' && r->url.user[0] != '\0' &&
	    setup_command(
		    r, c, "AUTH", 3,
		    (const char *[]){ "AUTH", r->url.user, r->url.password },
		    err) != 0)
		return -1;
	if (r->url.password[0] != '\0' && r->url.user[0] == '\0' &&
	    setup_command(r, c, "AUTH", 2,
			  (const char *[]){ "AUTH", r->url.password },
			  err) != 0)
		return -1;
	snprintf(db, sizeof(db), "%d", r->url.db);
	if (r->url.db != 0 &&
	    setup_command(r, c, "SELECT", 2, (const char *[]){ "SELECT", db },
			  err) != 0)
		return -1;
	return 0;
}

static int connect_redis(struct es_redis *r, struct dbops_err *err)
{
	struct timeval tv = { r->timeout_ms / 1000,
			      (r->timeout_ms % 1000) * 1000 };
	redisContext *c;

	if (r->url.unix_socket)
		c = redisConnectUnixWithTimeout(r->url.path, tv);
	else
		c = redisConnectWithTimeout(r->url.host, r->url.port, tv);
	if (c == NULL)
		return dbops_err_set(err, "redis %s: out of memory", r->name);
	if (c->err) {
		dbops_err_set(err, "could not connect to redis %s: %s", r->name,
			      c->errstr);
		redisFree(c);
		return -1;
	}
	/* hiredis 0.14 opens its socket without SOCK_CLOEXEC. */
	(void)fcntl(c->fd, F_SETFD, FD_CLOEXEC);
	if (redisSetTimeout(c, tv) != REDIS_OK) {
		redisFree(c);
		return dbops_err_set(err, "redis %s: cannot set the timeout",
				     r->name);
	}
	if (setup(r, c, err) != 0) {
		redisFree(c);
		return -1;
	}
	r->c = c;
	return 0;
}

/*
 * Send the command A, connecting first if need be. Returns the reply
 * (an error reply too: the connection is fine), or NULL with ERR set when
 * the connection failed (then dropped).
 */
static redisReply *command(struct es_redis *r, const struct args *a,
			   struct dbops_err *err)
{
	redisReply *reply;

	dbops_err_clear(err);
	if (r->c == NULL && connect_redis(r, err) != 0) {
		r->up = false;
		return NULL;
	}
	reply = redisCommandArgv(r->c, a->n, (const char **)a->v, a->len);
	if (reply == NULL) {
		dbops_err_set(err, "redis %s: %s: %s", r->name, a->v[0],
			      r->c->errstr[0] ? r->c->errstr
					      : "connection lost");
		disconnect(r);
		return NULL;
	}
	r->up = true;
	return reply;
}

/* As command(), an error reply turned into NULL and ERR too. */
static redisReply *command_ok(struct es_redis *r, const struct args *a,
			      struct dbops_err *err)
{
	redisReply *reply = command(r, a, err);

	if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
		dbops_err_set(err, "redis %s: %s: %s", r->name, a->v[0],
			      reply->str);
		freeReplyObject(reply);
		return NULL;
	}
	return reply;
}

static int load_script(struct es_redis *r, enum script_id id,
		       struct dbops_err *err)
{
	struct args a = { 0 };
	redisReply *reply;

	args_add(&a, "SCRIPT");
	args_add(&a, "LOAD");
	args_add(&a, script_text[id]);
	reply = command_ok(r, &a, err);
	args_free(&a);
	if (reply == NULL)
		return -1;
	if (reply->type != REDIS_REPLY_STRING || reply->len != 40) {
		freeReplyObject(reply);
		return dbops_err_set(err,
				     "redis %s: SCRIPT LOAD: unexpected "
				     "answer",
				     r->name);
	}
	memcpy(r->sha[id], reply->str, 41);
	freeReplyObject(reply);
	return 0;
}

/*
 * Run script ID with KEYS (NKEYS of the arguments A, first) and the rest
 * of A as ARGV. A is consumed. Returns the reply, NULL on error (ERR).
 */
static redisReply *run_script(struct es_redis *r, enum script_id id, int nkeys,
			      struct args *a, struct dbops_err *err)
{
	struct args call = { 0 };
	redisReply *reply = NULL;

	if (r->sha[id][0] == '\0' && load_script(r, id, err) != 0)
		goto out;
	for (int attempt = 0; attempt < 2; attempt++) {
		args_free(&call);
		args_add(&call, attempt == 0 ? "EVALSHA" : "EVAL");
		args_add(&call, attempt == 0 ? r->sha[id] : script_text[id]);
		args_int(&call, nkeys);
		for (int i = 0; i < a->n; i++)
			args_add(&call, a->v[i]);
		reply = command(r, &call, err);
		if (reply == NULL || reply->type != REDIS_REPLY_ERROR ||
		    strncmp(reply->str, "NOSCRIPT", 8) != 0)
			break;
		freeReplyObject(reply);
		reply = NULL;
	}
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
		dbops_err_set(err, "redis %s: script: %s", r->name, reply->str);
		freeReplyObject(reply);
		reply = NULL;
	}
out:
	args_free(&call);
	args_free(a);
	return reply;
}

/* ---- the handle ---------------------------------------------------- */

struct es_redis *es_redis_new(const char *url, const char *prefix,
			      int timeout_ms, struct dbops_err *err)
{
	static unsigned counter;
	struct es_redis *r = dbops_xcalloc(1, sizeof(*r));
	struct sigaction sa;

	/*
	 * hiredis writes with write(): a connection the server closed would
	 * kill the process by SIGPIPE instead of failing the call.
	 */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	if (es_redis_url_parse(url, &r->url, err) != 0) {
		free(r);
		return NULL;
	}
	es_redis_url_describe(&r->url, r->name, sizeof(r->name));
	r->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
	if (prefix == NULL)
		prefix = DEFAULT_PREFIX;
	r->key_ready = dbops_xasprintf("%sready", prefix);
	r->key_last = dbops_xasprintf("%slast", prefix);
	r->key_rebuild = dbops_xasprintf("%srebuild", prefix);
	for (int i = 0; i < ES_SYMBOLS; i++)
		r->key_sym[i] = dbops_xasprintf("%ssym:%c", prefix, 'a' + i);
	snprintf(r->token, sizeof(r->token), "%ld:%" PRId64 ":%u:%p",
		 (long)getpid(), dbops_clock_us(),
		 __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED), (void *)r);
	return r;
}

void es_redis_free(struct es_redis *r)
{
	if (r == NULL)
		return;
	disconnect(r);
	free(r->key_ready);
	free(r->key_last);
	free(r->key_rebuild);
	for (int i = 0; i < ES_SYMBOLS; i++)
		free(r->key_sym[i]);
	free(r);
}

bool es_redis_up(const struct es_redis *r)
{
	return r->up;
}

const char *es_redis_name(const struct es_redis *r)
{
	return r->name;
}

/* ---- apply --------------------------------------------------------- */

const char *es_apply_result_name(enum es_apply_result result)
{
	switch (result) {
	case ES_APPLY_OK:
		return "ok";
	case ES_APPLY_DUPLICATE:
		return "duplicate";
	case ES_APPLY_GAP:
		return "gap";
	case ES_APPLY_NOTREADY:
		return "notready";
	default:
		return "error";
	}
}

/* Add the 4 script arguments of aggregate A (times "-" when none). */
static void args_aggregate(struct args *a, const struct es_aggregate *g)
{
	args_int(a, g->events);
	args_int(a, g->followups);
	if (g->events == 0) {
		args_add(a, "-");
		args_add(a, "-");
	} else {
		args_int(a, g->earliest_us);
		args_int(a, g->latest_us);
	}
}

enum es_apply_result
es_redis_apply(struct es_redis *r, int64_t writer, int64_t seq,
	       const struct es_aggregate deltas[ES_SYMBOLS],
	       struct dbops_err *err)
{
	struct args a = { 0 };
	redisReply *reply;
	int nkeys = 2;
	enum es_apply_result result = ES_APPLY_ERROR;
	static const char *const names[] = { "OK", "DUPLICATE", "GAP",
					     "NOTREADY" };

	args_add(&a, r->key_ready);
	args_add(&a, r->key_last);
	for (int i = 0; i < ES_SYMBOLS; i++)
		if (deltas[i].events != 0 || deltas[i].followups != 0) {
			args_add(&a, r->key_sym[i]);
			nkeys++;
		}
	args_int(&a, writer);
	args_int(&a, seq);
	for (int i = 0; i < ES_SYMBOLS; i++)
		if (deltas[i].events != 0 || deltas[i].followups != 0)
			args_aggregate(&a, &deltas[i]);
	reply = run_script(r, SCRIPT_APPLY, nkeys, &a, err);
	if (reply == NULL)
		return ES_APPLY_ERROR;
	for (int i = 0; i < 4; i++)
		if ((reply->type == REDIS_REPLY_STRING ||
		     reply->type == REDIS_REPLY_STATUS) &&
		    strcmp(reply->str, names[i]) == 0)
			result = (enum es_apply_result)i;
	if (result == ES_APPLY_ERROR)
		dbops_err_set(err, "redis %s: apply: unexpected answer",
			      r->name);
	freeReplyObject(reply);
	return result;
}

enum es_apply_result es_redis_apply_text(struct es_redis *r, int64_t writer,
					 int64_t seq, const char *deltas,
					 struct dbops_err *err)
{
	struct es_aggregate aggs[ES_SYMBOLS];

	if (es_deltas_parse(deltas, aggs, err) != 0) {
		dbops_err_prefix(err,
				 "deltas of batch %" PRId64
				 " of writer %" PRId64 ": ",
				 seq, writer);
		return ES_APPLY_ERROR;
	}
	return es_redis_apply(r, writer, seq, aggs, err);
}

/* ---- read ---------------------------------------------------------- */

/* The decimal integer of string element E into *V; "" leaves *V. */
static int element_int(const redisReply *e, int64_t *v)
{
	char *end;
	long long x;

	if (e->type != REDIS_REPLY_STRING)
		return -1;
	if (e->len == 0)
		return 0;
	errno = 0;
	x = strtoll(e->str, &end, 10);
	if (errno != 0 || *end != '\0' || end == e->str)
		return -1;
	*v = x;
	return 0;
}

/* Read N symbols from FIRST into OUT[0..N-1]; as es_redis_read(). */
static int read_symbols(struct es_redis *r, int first, int n,
			struct es_aggregate *out, struct dbops_err *err)
{
	struct args a = { 0 };
	redisReply *reply;
	int rc = -1;

	args_add(&a, r->key_ready);
	for (int i = 0; i < n; i++)
		args_add(&a, r->key_sym[first + i]);
	reply = run_script(r, SCRIPT_READ, n + 1, &a, err);
	if (reply == NULL)
		return -1;
	if (reply->type == REDIS_REPLY_NIL) {
		rc = 0;
	} else if (reply->type == REDIS_REPLY_ARRAY &&
		   reply->elements == (size_t)n * 4) {
		rc = 1;
		for (int i = 0; i < n && rc == 1; i++) {
			struct es_aggregate g = { 0, 0, ES_TIME_NONE,
						  ES_TIME_NONE };
			redisReply **e = reply->element + i * 4;

			if (element_int(e[0], &g.events) != 0 ||
			    element_int(e[1], &g.followups) != 0 ||
			    element_int(e[2], &g.earliest_us) != 0 ||
			    element_int(e[3], &g.latest_us) != 0)
				rc = -1;
			if (g.events == 0)
				g.earliest_us = g.latest_us = ES_TIME_NONE;
			out[i] = g;
		}
	}
	if (rc < 0)
		dbops_err_set(err, "redis %s: read: unexpected answer",
			      r->name);
	freeReplyObject(reply);
	return rc;
}

int es_redis_read(struct es_redis *r, int sym, struct es_aggregate *out,
		  struct dbops_err *err)
{
	struct es_aggregate g;
	int rc = read_symbols(r, sym, 1, &g, err);

	if (rc == 1)
		*out = g;
	return rc;
}

int es_redis_read_all(struct es_redis *r, struct es_aggregate out[ES_SYMBOLS],
		      struct dbops_err *err)
{
	struct es_aggregate g[ES_SYMBOLS];
	int rc = read_symbols(r, 0, ES_SYMBOLS, g, err);

	if (rc == 1)
		memcpy(out, g, sizeof(g));
	return rc;
}

int es_redis_last_all(struct es_redis *r, struct es_writer_seq **out, size_t *n,
		      struct dbops_err *err)
{
	struct args a = { 0 };
	redisReply *reply;
	size_t count;

	*out = NULL;
	*n = 0;
	args_add(&a, "HGETALL");
	args_add(&a, r->key_last);
	reply = command_ok(r, &a, err);
	args_free(&a);
	if (reply == NULL)
		return -1;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2 != 0) {
		freeReplyObject(reply);
		return dbops_err_set(err,
				     "redis %s: HGETALL: unexpected "
				     "answer",
				     r->name);
	}
	count = reply->elements / 2;
	*out = count ? dbops_xcalloc(count, sizeof(**out)) : NULL;
	for (size_t i = 0; i < count; i++)
		if (element_int(reply->element[2 * i], &(*out)[i].writer) !=
			    0 ||
		    element_int(reply->element[2 * i + 1], &(*out)[i].seq) !=
			    0) {
			freeReplyObject(reply);
			free(*out);
			*out = NULL;
			return dbops_err_set(err,
					     "redis %s: %s holds a "
					     "field that is not a number",
					     r->name, r->key_last);
		}
	*n = count;
	freeReplyObject(reply);
	return 0;
}

/* ---- ready, lock, rebuild ------------------------------------------ */

/* A command on KEY whose integer answer is returned (-1 on error). */
static long long key_command(struct es_redis *r, const char *cmd,
			     const char *key, struct dbops_err *err)
{
	struct args a = { 0 };
	redisReply *reply;
	long long v = -1;

	args_add(&a, cmd);
	args_add(&a, key);
	reply = command_ok(r, &a, err);
	args_free(&a);
	if (reply == NULL)
		return -1;
	if (reply->type == REDIS_REPLY_INTEGER)
		v = reply->integer;
	else
		dbops_err_set(err, "redis %s: %s: unexpected answer", r->name,
			      cmd);
	freeReplyObject(reply);
	return v;
}

int es_redis_ready(struct es_redis *r, struct dbops_err *err)
{
	long long v = key_command(r, "EXISTS", r->key_ready, err);

	return v < 0 ? -1 : v > 0;
}

int es_redis_drop_ready(struct es_redis *r, struct dbops_err *err)
{
	return key_command(r, "DEL", r->key_ready, err) < 0 ? -1 : 0;
}

int es_redis_lock(struct es_redis *r, int ttl_s, struct dbops_err *err)
{
	struct args a = { 0 };
	redisReply *reply;
	int rc;

	args_add(&a, "SET");
	args_add(&a, r->key_rebuild);
	args_add(&a, r->token);
	args_add(&a, "NX");
	args_add(&a, "EX");
	args_int(&a, ttl_s);
	reply = command_ok(r, &a, err);
	args_free(&a);
	if (reply == NULL)
		return -1;
	rc = reply->type == REDIS_REPLY_STATUS ? 1 : 0;
	if (reply->type != REDIS_REPLY_STATUS && reply->type != REDIS_REPLY_NIL)
		rc = dbops_err_set(err, "redis %s: SET NX: unexpected answer",
				   r->name);
	freeReplyObject(reply);
	return rc;
}

int es_redis_unlock(struct es_redis *r, struct dbops_err *err)
{
	struct args a = { 0 };
	redisReply *reply;

	args_add(&a, r->key_rebuild);
	args_add(&a, r->token);
	reply = run_script(r, SCRIPT_UNLOCK, 1, &a, err);
	if (reply == NULL)
		return -1;
	freeReplyObject(reply);
	return 0;
}

enum es_rebuild_result
es_redis_rebuild(struct es_redis *r, const struct es_aggregate aggs[ES_SYMBOLS],
		 const struct es_writer_seq *last, size_t n,
		 struct dbops_err *err)
{
	struct args a = { 0 };
	redisReply *reply;
	enum es_rebuild_result result = ES_REBUILD_ERROR;

	args_add(&a, r->key_ready);
	args_add(&a, r->key_last);
	for (int i = 0; i < ES_SYMBOLS; i++)
		args_add(&a, r->key_sym[i]);
	for (int i = 0; i < ES_SYMBOLS; i++)
		args_aggregate(&a, &aggs[i]);
	for (size_t i = 0; i < n; i++) {
		args_int(&a, last[i].writer);
		args_int(&a, last[i].seq);
	}
	reply = run_script(r, SCRIPT_REBUILD, 2 + ES_SYMBOLS, &a, err);
	if (reply == NULL)
		return ES_REBUILD_ERROR;
	if ((reply->type == REDIS_REPLY_STRING ||
	     reply->type == REDIS_REPLY_STATUS) &&
	    strcmp(reply->str, "OK") == 0)
		result = ES_REBUILD_OK;
	else if ((reply->type == REDIS_REPLY_STRING ||
		  reply->type == REDIS_REPLY_STATUS) &&
		 strcmp(reply->str, "REFUSED") == 0)
		result = ES_REBUILD_REFUSED;
	else
		dbops_err_set(err, "redis %s: rebuild: unexpected answer",
			      r->name);
	freeReplyObject(reply);
	return result;
}
