/*
 * test_event_store_redisagg.c - unit tests for event-store's redisagg.c:
 * the URL parser, and the scripts against a real redis-server that the
 * test starts in a temporary directory (unix socket and a free loopback
 * port, no persistence): apply once, twice (counted once), with a gap,
 * before ready; rebuild, refused when ready; the rebuild lock; NOSCRIPT;
 * reconnect after the connection is lost; the command timeout; AUTH and
 * SELECT. Skipped when redis-server is not installed.
 */
#include "testutil.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "../../utils/event-store/redisagg.h"

/* ---- the URL parser ------------------------------------------------ */

static void url_refused(const char *url, const char *message)
{
	struct es_redis_url u;
	struct dbops_err err = { "" };

	assert_int_equal(es_redis_url_parse(url, &u, &err), -1);
	assert_string_equal(err.msg, message);
}

static void test_url_bad(void **state)
{
	url_refused("", "not a redis:// or unix: URL");
	url_refused("http://h", "not a redis:// or unix: URL");
	url_refused("rediss://h", "not a redis:// or unix: URL");
	url_refused("redis://", "the host is missing");
	url_refused("redis://:6379", "the host is missing");
	url_refused("redis://h:0", "the port is not a number from 1 to 65535");
	url_refused("redis://h:65536",
		    "the port is not a number from 1 to 65535");
	url_refused("redis://h:x", "the port is not a number from 1 to 65535");
	url_refused("redis://h:", "the port is not a number from 1 to 65535");
	url_refused("redis://h/x",
		    "the database after \"/\" is not a number from 0 to 65535");
	url_refused("redis://h/1/2",
		    "the database after \"/\" is not a number from 0 to 65535");
	url_refused("redis://pw@h", "the part before \"@\" must be "
				    "[USER]:PASSWORD");
	url_refused("redis://:p%4@h", "bad %XX escape in the password");
	url_refused("redis://:p%00@h",
		    "the password is too long or holds a NUL");
	url_refused("redis://[::1", "no \"]\" after \"[\" in the host");
	url_refused("redis://[::1]x", "text after \"]\" in the host");
	url_refused("unix:run/redis.sock",
		    "the socket path of a unix: URL must be absolute");
	url_refused("unix:/r.sock?database=1", "a unix: URL takes only ?db=N");
	url_refused("unix:/r.sock?db=",
		    "the database of ?db= is not a number from 0 to 65535");
	url_refused("unix:/r.sock?db=-1",
		    "the database of ?db= is not a number from 0 to 65535");
}

static void test_url_tcp(void **state)
{
	struct es_redis_url u;
	struct dbops_err err = { "" };
	char buf[300];

	assert_int_equal(es_redis_url_parse("redis://127.0.0.1", &u, &err), 0);
	assert_false(u.unix_socket);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 6379);
	assert_int_equal(u.db, 0);
	assert_string_equal(u.password, "");
	assert_int_equal(es_redis_url_parse("redis://h:7000/", &u, &err), 0);
	assert_int_equal(u.port, 7000);
	assert_int_equal(u.db, 0);
	assert_int_equal(
		es_redis_url_parse("redis://:s%40cret:x@db.example:6380/3", &u,
				   &err),
		0);
	assert_string_equal(u.user, "");
	assert_string_equal(u.password, "s@cret:x");
	assert_string_equal(u.host, "db.example");
	assert_int_equal(u.port, 6380);
	assert_int_equal(u.db, 3);
	es_redis_url_describe(&u, buf, sizeof(buf));
	assert_string_equal(buf, "redis://db.example:6380/3");
	assert_int_equal(
		es_redis_url_parse("redis://app:pw@[::1]:6390/2", &u, &err), 0);
	assert_string_equal(u.user, "app");
	assert_string_equal(u.password, "pw");
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 6390);
	es_redis_url_describe(&u, buf, sizeof(buf));
	assert_string_equal(buf, "redis://[::1]:6390/2");
}

static void test_url_unix(void **state)
{
	struct es_redis_url u;
	struct dbops_err err = { "" };
	char buf[300];

	assert_int_equal(
		es_redis_url_parse("unix:/run/redis/redis.sock", &u, &err), 0);
	assert_true(u.unix_socket);
	assert_string_equal(u.path, "/run/redis/redis.sock");
	assert_int_equal(u.db, 0);
	assert_int_equal(es_redis_url_parse("unix:/r.sock?db=12", &u, &err), 0);
	assert_string_equal(u.path, "/r.sock");
	assert_int_equal(u.db, 12);
	es_redis_url_describe(&u, buf, sizeof(buf));
	assert_string_equal(buf, "unix:/r.sock?db=12");
}

/* ---- a real redis-server ------------------------------------------- */

static char dir[256], sock[300], url[320];
static int port;
static pid_t server = -1;

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), p;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	p = ntohs(a.sin_port);
	close(fd);
	return p;
}

/* A raw hiredis connection to the test server, for what the tests check. */
static redisContext *raw(void)
{
	redisContext *c = redisConnectUnix(sock);

	assert_non_null(c);
	assert_int_equal(c->err, 0);
	return c;
}

/* A raw command with a string or integer answer, as text (static). */
static const char *rawcmd(redisContext *c, const char *fmt, ...)
{
	static char out[256];
	redisReply *reply;
	va_list ap;

	va_start(ap, fmt);
	reply = redisvCommand(c, fmt, ap);
	va_end(ap);
	assert_non_null(reply);
	if (reply->type == REDIS_REPLY_INTEGER)
		snprintf(out, sizeof(out), "%lld", reply->integer);
	else if (reply->type == REDIS_REPLY_NIL)
		snprintf(out, sizeof(out), "(nil)");
	else if (reply->type == REDIS_REPLY_ARRAY)
		snprintf(out, sizeof(out), "(array %zu)", reply->elements);
	else
		snprintf(out, sizeof(out), "%s", reply->str);
	freeReplyObject(reply);
	return out;
}

static int start_server(void **state)
{
	char portbuf[16], log[300];
	redisContext *c = NULL;

	snprintf(dir, sizeof(dir), "%s/es-redisagg.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
	snprintf(log, sizeof(log), "%s/redis.log", dir);
	port = free_port();
	snprintf(portbuf, sizeof(portbuf), "%d", port);
	snprintf(url, sizeof(url), "unix:%s", sock);
	server = fork();
	if (server == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		/* Gone with the test, even a test that crashed. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		execlp("redis-server", "redis-server", "--port", portbuf,
		       "--bind", "127.0.0.1", "--unixsocket", sock,
		       "--unixsocketperm", "700", "--save", "", "--appendonly",
		       "no", "--daemonize", "no", "--dir", dir, "--logfile",
		       log, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		int status;

		if (waitpid(server, &status, WNOHANG) == server) {
			server = -1;
			return 0; /* no server: the tests skip */
		}
		c = redisConnectUnix(sock);
		if (c != NULL && c->err == 0)
			break;
		redisFree(c);
		c = NULL;
		usleep(10000);
	}
	if (c == NULL)
		return -1;
	redisFree(c);
	return 0;
}

static int stop_server(void **state)
{
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	nftw(dir, remove_entry_, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* Each test: a server without a key, and a handle on it. */
static struct es_redis *fresh(const char *prefix)
{
	struct dbops_err err = { "" };
	redisContext *c;
	struct es_redis *r;

	if (server <= 0)
		skip();
	c = raw();
	assert_string_equal(rawcmd(c, "FLUSHALL"), "OK");
	redisFree(c);
	r = es_redis_new(url, prefix, 1000, &err);
	assert_non_null(r);
	return r;
}

static void empty_aggs(struct es_aggregate aggs[ES_SYMBOLS])
{
	es_aggregates_clear(aggs);
}

/* Make R ready with empty aggregates (what a rebuild of nothing does). */
static void make_ready(struct es_redis *r)
{
	struct es_aggregate aggs[ES_SYMBOLS];
	struct dbops_err err = { "" };

	empty_aggs(aggs);
	assert_int_equal(es_redis_rebuild(r, aggs, NULL, 0, &err),
			 ES_REBUILD_OK);
}

static void test_apply_not_ready(void **state)
{
	struct es_redis *r = fresh(NULL);
	struct es_aggregate d[ES_SYMBOLS], g;
	struct dbops_err err = { "" };
	redisContext *c = raw();

	empty_aggs(d);
	es_aggregate_add_initial(d, 0, 100);
	assert_int_equal(es_redis_ready(r, &err), 0);
	assert_int_equal(es_redis_apply(r, 1, 1, d, &err), ES_APPLY_NOTREADY);
	assert_int_equal(es_redis_read(r, 0, &g, &err), 0);
	assert_string_equal(rawcmd(c, "EXISTS {event-store}:sym:a"), "0");
	assert_string_equal(rawcmd(c, "EXISTS {event-store}:last"), "0");
	assert_true(es_redis_up(r));
	redisFree(c);
	es_redis_free(r);
}

static void test_apply_once_twice_gap(void **state)
{
	struct es_redis *r = fresh(NULL);
	struct es_aggregate d[ES_SYMBOLS], all[ES_SYMBOLS], g;
	struct es_writer_seq *last;
	struct dbops_err err = { "" };
	size_t n;

	make_ready(r);
	assert_int_equal(es_redis_ready(r, &err), 1);
	empty_aggs(d);
	es_aggregate_add_initial(d, 4, 1498678454486693);
	es_aggregate_add_initial(d, 4, 1498678454499012);
	es_aggregate_add_followup(d, 4);
	es_aggregate_add_followup(d, 1);
	assert_int_equal(es_redis_apply(r, 7, 1, d, &err), ES_APPLY_OK);
	assert_int_equal(es_redis_apply(r, 7, 1, d, &err), ES_APPLY_DUPLICATE);
	assert_int_equal(es_redis_apply(r, 7, 3, d, &err), ES_APPLY_GAP);
	assert_int_equal(es_redis_read(r, 4, &g, &err), 1);
	assert_int_equal(g.events, 2);
	assert_int_equal(g.followups, 1);
	assert_true(g.earliest_us == 1498678454486693);
	assert_true(g.latest_us == 1498678454499012);
	/* The second batch, as text, moves earliest back. */
	assert_int_equal(es_redis_apply_text(r, 7, 2,
					     "e 1 0 1498678454000001 "
					     "1498678454000001",
					     &err),
			 ES_APPLY_OK);
	/* Another writer counts apart. */
	assert_int_equal(es_redis_apply_text(r, 8, 1, "a 1 1 5 5", &err),
			 ES_APPLY_OK);
	assert_int_equal(es_redis_read_all(r, all, &err), 1);
	assert_int_equal(all[4].events, 3);
	assert_true(all[4].earliest_us == 1498678454000001);
	assert_true(all[4].latest_us == 1498678454499012);
	assert_int_equal(all[1].events, 0);
	assert_int_equal(all[1].followups, 1);
	assert_true(all[1].earliest_us == ES_TIME_NONE);
	assert_int_equal(all[0].events, 1);
	assert_int_equal(all[25].events, 0);
	assert_int_equal(es_redis_last_all(r, &last, &n, &err), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		assert_true(last[i].writer == 7
				    ? last[i].seq == 2
				    : last[i].writer == 8 && last[i].seq == 1);
	free(last);
	es_redis_free(r);
}

static void test_apply_bad_text_sends_nothing(void **state)
{
	struct es_redis *r = fresh(NULL);
	struct dbops_err err = { "" };
	struct es_aggregate g;

	make_ready(r);
	assert_int_equal(es_redis_apply_text(r, 3, 1, "a 1 0 5", &err),
			 ES_APPLY_ERROR);
	assert_string_equal(err.msg, "deltas of batch 1 of writer 3: line 1: "
				     "latest time is missing");
	assert_int_equal(es_redis_apply_text(r, 3, 1, "", &err), ES_APPLY_OK);
	assert_int_equal(es_redis_read(r, 0, &g, &err), 1);
	assert_int_equal(g.events, 0);
	es_redis_free(r);
}

static void test_rebuild_refused_when_ready(void **state)
{
	struct es_redis *r = fresh(NULL);
	struct es_aggregate aggs[ES_SYMBOLS], g;
	struct es_writer_seq last[2] = { { 1, 10 }, { 2, 20 } };
	struct dbops_err err = { "" };

	empty_aggs(aggs);
	es_aggregate_add_initial(aggs, 2, 50);
	es_aggregate_add_initial(aggs, 2, 40);
	assert_int_equal(es_redis_apply_text(r, 9, 1, "c 5 0 1 2", &err),
			 ES_APPLY_NOTREADY);
	assert_int_equal(es_redis_rebuild(r, aggs, last, 2, &err),
			 ES_REBUILD_OK);
	assert_int_equal(es_redis_read(r, 2, &g, &err), 1);
	assert_int_equal(g.events, 2);
	assert_true(g.earliest_us == 40 && g.latest_us == 50);
	aggs[2].events = 99;
	assert_int_equal(es_redis_rebuild(r, aggs, last, 1, &err),
			 ES_REBUILD_REFUSED);
	assert_int_equal(es_redis_read(r, 2, &g, &err), 1);
	assert_int_equal(g.events, 2);
	/* last came with the rebuild: seq 10 of writer 1 was counted. */
	assert_int_equal(es_redis_apply_text(r, 1, 10, "c 1 0 1 1", &err),
			 ES_APPLY_DUPLICATE);
	assert_int_equal(es_redis_apply_text(r, 2, 21, "c 1 0 1 1", &err),
			 ES_APPLY_OK);
	assert_int_equal(es_redis_read(r, 2, &g, &err), 1);
	assert_int_equal(g.events, 3);
	assert_true(g.earliest_us == 1);
	/* Once ready is gone, a rebuild replaces everything. */
	assert_int_equal(es_redis_drop_ready(r, &err), 0);
	assert_int_equal(es_redis_read(r, 2, &g, &err), 0);
	empty_aggs(aggs);
	assert_int_equal(es_redis_rebuild(r, aggs, NULL, 0, &err),
			 ES_REBUILD_OK);
	assert_int_equal(es_redis_read(r, 2, &g, &err), 1);
	assert_int_equal(g.events, 0);
	assert_true(g.earliest_us == ES_TIME_NONE);
	assert_int_equal(es_redis_apply_text(r, 2, 1, "c 1 0 1 1", &err),
			 ES_APPLY_OK);
	es_redis_free(r);
}

static void test_rebuild_lock(void **state)
{
	struct es_redis *r1 = fresh(NULL), *r2;
	struct dbops_err err = { "" };
	redisContext *c = raw();
	long ttl;

	r2 = es_redis_new(url, NULL, 1000, &err);
	assert_int_equal(es_redis_lock(r1, 30, &err), 1);
	assert_int_equal(es_redis_lock(r2, 30, &err), 0);
	ttl = atol(rawcmd(c, "TTL {event-store}:rebuild"));
	assert_true(ttl > 25 && ttl <= 30);
	/* Not its lock: r2 leaves it. */
	assert_int_equal(es_redis_unlock(r2, &err), 0);
	assert_int_equal(es_redis_lock(r2, 30, &err), 0);
	assert_int_equal(es_redis_unlock(r1, &err), 0);
	assert_string_equal(rawcmd(c, "EXISTS {event-store}:rebuild"), "0");
	assert_int_equal(es_redis_lock(r2, 30, &err), 1);
	redisFree(c);
	es_redis_free(r1);
	es_redis_free(r2);
}

static void test_keys_under_prefix(void **state)
{
	struct es_redis *r = fresh("t{x}:");
	struct dbops_err err = { "" };
	redisContext *c = raw();

	make_ready(r);
	assert_int_equal(es_redis_apply_text(r, 1, 1, "q 2 1 3 4", &err),
			 ES_APPLY_OK);
	assert_string_equal(rawcmd(c, "EXISTS t{x}:ready"), "1");
	assert_string_equal(rawcmd(c, "HGET t{x}:sym:q events"), "2");
	assert_string_equal(rawcmd(c, "HGET t{x}:sym:q earliest"), "3");
	assert_string_equal(rawcmd(c, "HGET t{x}:last 1"), "1");
	assert_string_equal(rawcmd(c, "EXISTS {event-store}:ready"), "0");
	redisFree(c);
	es_redis_free(r);
}

static void test_noscript_falls_back_to_eval(void **state)
{
	struct es_redis *r = fresh(NULL);
	struct dbops_err err = { "" };
	redisContext *c = raw();
	struct es_aggregate g;

	make_ready(r);
	assert_int_equal(es_redis_apply_text(r, 1, 1, "a 1 0 3 3", &err),
			 ES_APPLY_OK);
	assert_string_equal(rawcmd(c, "SCRIPT FLUSH"), "OK");
	assert_int_equal(es_redis_apply_text(r, 1, 2, "a 1 0 3 3", &err),
			 ES_APPLY_OK);
	assert_int_equal(es_redis_read(r, 0, &g, &err), 1);
	assert_int_equal(g.events, 2);
	redisFree(c);
	es_redis_free(r);
}

static void test_reconnects_after_lost_connection(void **state)
{
	struct es_redis *r = fresh(NULL);
	struct dbops_err err = { "" };
	redisContext *c = raw();

	make_ready(r);
	assert_string_equal(rawcmd(c, "CLIENT KILL TYPE normal SKIPME yes"),
			    "1");
	assert_int_equal(es_redis_ready(r, &err), -1);
	assert_false(es_redis_up(r));
	assert_non_null(strstr(err.msg, "redis unix:"));
	assert_int_equal(es_redis_ready(r, &err), 1);
	assert_true(es_redis_up(r));
	redisFree(c);
	es_redis_free(r);
}

static void test_command_timeout(void **state)
{
	struct es_redis *r = fresh(NULL), *slow;
	struct dbops_err err = { "" };
	redisContext *c = raw();
	struct timespec t0, t1;
	double s;

	slow = es_redis_new(url, NULL, 200, &err);
	assert_int_equal(es_redis_ready(slow, &err), 0);
	assert_string_equal(rawcmd(c, "CLIENT PAUSE 1500"), "OK");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(es_redis_ready(slow, &err), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(s >= 0.15 && s < 1.2);
	assert_false(es_redis_up(slow));
	usleep(1600000);
	assert_int_equal(es_redis_ready(slow, &err), 0);
	assert_true(es_redis_up(slow));
	redisFree(c);
	es_redis_free(slow);
	es_redis_free(r);
}

static void test_refused_connection(void **state)
{
	struct dbops_err err = { "" };
	char bad[400];
	struct es_redis *r;

	snprintf(bad, sizeof(bad), "unix:%s/none.sock", dir);
	r = es_redis_new(bad, NULL, 500, &err);
	assert_non_null(r);
	assert_int_equal(es_redis_ready(r, &err), -1);
	assert_false(es_redis_up(r));
	assert_non_null(strstr(err.msg, "could not connect to redis unix:"));
	es_redis_free(r);
	assert_null(es_redis_new("http://x", NULL, 500, &err));
	assert_string_equal(err.msg, "not a redis:// or unix: URL");
}

static void test_auth_and_select(void **state)
{
	struct es_redis *r = fresh(NULL);
	struct dbops_err err = { "" };
	redisContext *c = raw();
	char tcp[200];

	es_redis_free(r);
	assert_string_equal(rawcmd(c, "CONFIG SET requirepass s3cr@t"), "OK");
	snprintf(tcp, sizeof(tcp), "redis://:wrong@127.0.0.1:%d/3", port);
	r = es_redis_new(tcp, NULL, 1000, &err);
	assert_int_equal(es_redis_ready(r, &err), -1);
	assert_non_null(strstr(err.msg, "AUTH failed"));
	assert_null(strstr(err.msg, "wrong"));
	es_redis_free(r);
	snprintf(tcp, sizeof(tcp), "redis://:s3cr%%40t@127.0.0.1:%d/3", port);
	r = es_redis_new(tcp, NULL, 1000, &err);
	make_ready(r);
	assert_string_equal(rawcmd(c, "AUTH s3cr@t"), "OK");
	assert_string_equal(rawcmd(c, "EXISTS {event-store}:ready"), "0");
	assert_string_equal(rawcmd(c, "SELECT 3"), "OK");
	assert_string_equal(rawcmd(c, "EXISTS {event-store}:ready"), "1");
	assert_string_equal(rawcmd(c, "CONFIG SET requirepass %s", ""), "OK");
	redisFree(c);
	es_redis_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_bad),
		cmocka_unit_test(test_url_tcp),
		cmocka_unit_test(test_url_unix),
		cmocka_unit_test(test_apply_not_ready),
		cmocka_unit_test(test_apply_once_twice_gap),
		cmocka_unit_test(test_apply_bad_text_sends_nothing),
		cmocka_unit_test(test_rebuild_refused_when_ready),
		cmocka_unit_test(test_rebuild_lock),
		cmocka_unit_test(test_keys_under_prefix),
		cmocka_unit_test(test_noscript_falls_back_to_eval),
		cmocka_unit_test(test_reconnects_after_lost_connection),
		cmocka_unit_test(test_command_timeout),
		cmocka_unit_test(test_refused_connection),
		cmocka_unit_test(test_auth_and_select),
	};

	return cmocka_run_group_tests(tests, start_server, stop_server);
}
