/*
 * main.c - event-store: the event backend and dashboard service. Options,
 * start-up in order (listening socket, schema, writer, batcher, serving,
 * READY=1), the signals, and the drain on SIGTERM; the work is in http.c,
 * store.c and range.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "cli.h"
#include "clock.h"
#include "http.h"
#include "listen.h"
#include "log.h"
#include "redislink.h"
#include "store.h"
#include "telemetry.h"
#include "xalloc.h"

#define DEFAULT_LISTEN "127.0.0.1:8480"
#define DEFAULT_REDIS  "redis://127.0.0.1:6379/0"

enum {
	OPT_LISTEN = DBOPS_CLI_LONG_ID(0),
	OPT_SCHEMA,
	OPT_REDIS,
	OPT_REDIS_PREFIX,
	OPT_THREADS,
	OPT_MAX_BODY,
	OPT_TIMEOUT,
	OPT_MAX_CONNECTIONS,
	OPT_BATCH_EVENTS,
	OPT_BATCH_WAIT,
	OPT_BATCHERS,
	OPT_NO_REDIS,
};

struct es_opts {
	const char *listen, *dbname, *schema, *redis, *redis_prefix;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int threads, timeout_s, max_connections, batch_events, batch_wait_ms,
		batchers;
	uint64_t max_body;
	bool no_redis;
};

static const struct dbops_cli_option service_options[] = {
	{ OPT_LISTEN, "listen", "ADDR:PORT",
	  "the API and /metrics there (default " DEFAULT_LISTEN ")" },
	{ OPT_THREADS, "threads", "N",
	  "HTTP threads (default: one per 126 connections)" },
	{ OPT_MAX_BODY, "max-body", "BYTES",
	  "refuse request bodies over this (default 4096)" },
	{ OPT_TIMEOUT, "timeout", "SECONDS",
	  "close a connection idle this long (default 30)" },
	{ OPT_MAX_CONNECTIONS, "max-connections", "N",
	  "connections at once (default 1024)" },
	{ OPT_BATCH_EVENTS, "batch-events", "N",
	  "events per commit, at most (default 1000)" },
	{ OPT_BATCH_WAIT, "batch-wait", "MS",
	  "collect a batch this long after its first event (default 1)" },
	{ OPT_BATCHERS, "batchers", "N",
	  "batches committed at once, a connection each (default 1)" },
	{ 0, NULL, NULL, NULL },
};

static const struct dbops_cli_option storage_options[] = {
	{ 'd', "dbname", "CONNINFO",
	  "PostgreSQL conninfo or URI (default: the PG* environment)" },
	{ OPT_SCHEMA, "schema", "NAME",
	  "the tables' schema (default event_store)" },
	{ OPT_REDIS, "redis", "URL",
	  "redis://[:PASSWORD@]HOST[:PORT][/DB] or unix:PATH[?db=N] (default $REDIS_URL, else " DEFAULT_REDIS
	  ")" },
	{ OPT_REDIS_PREFIX, "redis-prefix", "P",
	  "the Redis keys' prefix (default {event-store}:)" },
	{ OPT_NO_REDIS, "no-redis", NULL,
	  "answer /dashboard/symbol from PostgreSQL only" },
	{ 0, NULL, NULL, NULL },
};

static const char *const synopsis[] = { "[options]", NULL };

static int set_option(void *ctx, int id, const char *arg)
{
	struct es_opts *o = ctx;

	switch (id) {
	case OPT_LISTEN:
		if (dbops_listen_parse(arg, &o->addr, &o->addr_len) != 0)
			return dbops_cli_invalid(
				"--listen", arg,
				"use ADDR:PORT (a port from 1 to 65535), such as " DEFAULT_LISTEN);
		o->listen = arg;
		return 0;
	case 'd':
		o->dbname = arg;
		return 0;
	case OPT_SCHEMA:
		if (arg[0] == '\0')
			return dbops_cli_invalid("--schema", arg,
						 "the name is empty");
		o->schema = arg;
		return 0;
	case OPT_REDIS:
		o->redis = arg;
		return 0;
	case OPT_REDIS_PREFIX:
		o->redis_prefix = arg;
		return 0;
	case OPT_NO_REDIS:
		o->no_redis = true;
		return 0;
	case OPT_THREADS:
		return dbops_cli_int("--threads", arg, 1, 1024, &o->threads);
	case OPT_MAX_BODY:
		return dbops_cli_size("--max-body", arg, 64, 64 << 20,
				      &o->max_body);
	case OPT_TIMEOUT:
		return dbops_cli_int("--timeout", arg, 1, 86400, &o->timeout_s);
	case OPT_MAX_CONNECTIONS:
		return dbops_cli_int("--max-connections", arg, 1,
				     1024 * ES_HTTP_CONNECTIONS_PER_THREAD,
				     &o->max_connections);
	case OPT_BATCH_EVENTS:
		return dbops_cli_int("--batch-events", arg, 1, 100000,
				     &o->batch_events);
	case OPT_BATCH_WAIT:
		return dbops_cli_int("--batch-wait", arg, 0, 10000,
				     &o->batch_wait_ms);
	case OPT_BATCHERS:
		return dbops_cli_int("--batchers", arg, 1, 16, &o->batchers);
	}
	return 0;
}

static const struct dbops_cli cli = {
	.name = "event-store",
	.synopsis = synopsis,
	.about = "An HTTP service: records a client application's events in "
		 "PostgreSQL, each\n"
		 "answered once committed, and answers dashboard aggregates "
		 "per symbol (from\n"
		 "Redis) and per time range (from rollups).\n",
	.sections =
		(const struct dbops_cli_section[]){
			{ "Service", service_options },
			{ "Storage", storage_options },
			{ NULL, NULL } },
	.handle = set_option,
};

/* The watchdog's period, in microseconds; 0 when off. */
static uint64_t watchdog_usec;

/* The batcher's heartbeat: WATCHDOG=1 at most every half period. */
static void watchdog(void *arg)
{
	static int64_t last;
	int64_t now = dbops_clock_us();

	if (watchdog_usec == 0 || now - last < (int64_t)watchdog_usec / 2)
		return;
	last = now;
	sd_notify(0, "WATCHDOG=1");
}

/* Wait for SIGTERM or SIGINT (blocked in every thread). */
static void wait_for_stop(const sigset_t *set)
{
	for (;;) {
		int sig = sigwaitinfo(set, NULL);

		if (sig == SIGTERM || sig == SIGINT)
			return;
		if (sig < 0 && errno != EINTR)
			return;
	}
}

/* Stop accepting, commit and answer what is queued, then stop. */
static void drain(struct es_http *http, struct es_store *st)
{
	int64_t until;

	es_http_quiesce(http);
	sd_notify(0, "STOPPING=1");
	dbops_log_info("stopping: committing %d queued events",
		       es_store_pending(st));
	es_store_drain(st);
	/* The answered connections resume on the pool threads. */
	until = dbops_clock_ms() + 5000;
	while (es_http_waiting(http) > 0 && !dbops_clock_passed(until))
		dbops_clock_sleep_ms(5);
}

/* Stop the threads in order: HTTP (its threads free their connections),
   the reconciler, the store. */
static void stop(struct es_http *http, struct es_redislink *link,
		 struct es_store *st)
{
	es_http_stop(http);
	es_redislink_free(link);
	es_store_close(st);
	es_tm_free();
}

/* The reconciler, told the batchers' writers. */
static int start_link(struct es_redislink *link, struct es_store *st,
		      struct dbops_err *err)
{
	int n = es_store_batchers(st), rc;
	int64_t *writers = dbops_xcalloc((size_t)n, sizeof(*writers));

	for (int i = 0; i < n; i++)
		writers[i] = es_store_writer(st, i);
	rc = es_redislink_start(link, writers, n, err);
	free(writers);
	return rc;
}

/* "listening on ADDR, writer W" (or "writers W1, W2"). */
static void log_listening(const char *listen, struct es_store *st)
{
	char text[512] = ""; /* 16 writers of 19 digits at most */
	size_t len = 0;

	for (int i = 0; i < es_store_batchers(st) && len < sizeof(text); i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"%s%lld", i > 0 ? ", " : "",
					(long long)es_store_writer(st, i));
	dbops_log_info("listening on %s, writer%s %s", listen,
		       es_store_batchers(st) > 1 ? "s" : "", text);
}

static int run(struct es_opts *o)
{
	struct dbops_err err = { "" };
	struct es_http_config hc = {
		.addr = &o->addr,
		.addr_len = o->addr_len,
		.listen = o->listen,
		.threads = (unsigned)o->threads,
		.timeout_s = (unsigned)o->timeout_s,
		.max_connections = (unsigned)o->max_connections,
		.max_body = (size_t)o->max_body,
	};
	struct es_redislink *link = NULL;
	struct es_http *http;
	struct es_store *st;
	struct es_store_config sc = {
		.conninfo = o->dbname,
		.schema = o->schema,
		.batchers = o->batchers,
		.batch_events = o->batch_events,
		.batch_wait_ms = o->batch_wait_ms,
		.done = es_http_done,
		.heartbeat = watchdog,
		.heartbeat_ms = 1000,
	};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (sd_watchdog_enabled(0, &watchdog_usec) > 0 &&
	    watchdog_usec / 4000 < (uint64_t)sc.heartbeat_ms)
		sc.heartbeat_ms = watchdog_usec / 4000 > 10
					  ? (int)(watchdog_usec / 4000)
					  : 10;
	if (getenv("EVENT_STORE_CLOCK_RATE") != NULL) {
		hc.clock_rate = atof(getenv("EVENT_STORE_CLOCK_RATE"));
		dbops_log_warning(
			"event times run %g times faster than the clock (EVENT_STORE_CLOCK_RATE, for tests)",
			hc.clock_rate);
	}
	if (es_tm_init() != 0) {
		dbops_log_error("could not set up the metrics: %s",
				strerror(errno));
		return 1;
	}
	if (!o->no_redis) {
		link = es_redislink_new(o->redis, o->redis_prefix, o->dbname,
					o->schema, &err);
		if (link == NULL) {
			dbops_log_error("%s", err.msg);
			return 1;
		}
		sc.committed = es_redislink_committed;
		sc.committed_arg = link;
		hc.symbol = es_redislink_symbol;
		hc.fast_up = es_redislink_up;
		hc.arg = link;
	}
	http = es_http_new(&hc);
	/* The port first: a busy one fails the start with nothing touched
	 * (no schema made, no writer registered, Redis left alone). */
	if (es_http_bind(http, &err) != 0) {
		dbops_log_error("%s", err.msg);
		stop(http, link, NULL);
		return 1;
	}
	sc.done_arg = http;
	st = es_store_open(&sc, &err);
	if (st == NULL || (link && start_link(link, st, &err) != 0) ||
	    es_http_start(http, st, &err) != 0) {
		dbops_log_error("%s", err.msg);
		stop(http, link, st);
		return 1;
	}
	log_listening(o->listen, st);
	sd_notifyf(0, "READY=1\nSTATUS=listening on %s", o->listen);
	wait_for_stop(&set);
	drain(http, st);
	stop(http, link, st);
	return 0;
}

int main(int argc, char **argv)
{
	struct es_opts o = {
		.listen = DEFAULT_LISTEN,
		.dbname = "",
		.schema = "event_store",
		.redis = getenv("REDIS_URL") && getenv("REDIS_URL")[0]
				 ? getenv("REDIS_URL")
				 : DEFAULT_REDIS,
		.redis_prefix = "{event-store}:",
		.threads = 0, /* one per 126 connections (http.h) */
		.timeout_s = 30,
		.max_connections = 1024,
		.batch_events = 1000,
		.batch_wait_ms = 1,
		.batchers = 1,
		.max_body = 4096,
	};
	int first, rc;

	dbops_log_init(argv[0]);
	dbops_listen_parse(DEFAULT_LISTEN, &o.addr, &o.addr_len);
	rc = dbops_cli_parse(&cli, &o, argc, argv, &first);
	if (rc != DBOPS_CLI_RUN)
		return rc;
	if (first < argc)
		return dbops_cli_error("unexpected argument \"%s\"",
				       argv[first]);
	return dbops_log_exit_status(run(&o));
}
