/*
 * http.h - event-store's HTTP API on libmicrohttpd: epoll with a pool of
 * threads, bounded bodies and connections, POSTs suspended until their
 * batch committed, the dashboards, /metrics and /health.
 */
#ifndef ES_HTTP_H
#define ES_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "errbuf.h"
#include "store.h"

struct es_http_config {
	const struct sockaddr_storage *addr;
	socklen_t addr_len;
	const char *listen; /* the text of --listen, for messages */
	/* threads: as asked, 0 for the default; raised so that none serves
	   more than ES_HTTP_CONNECTIONS_PER_THREAD (the log says so) */
	unsigned threads, timeout_s, max_connections;
	size_t max_body;
	/* Tests only (EVENT_STORE_CLOCK_RATE): event times run this many
	   times faster than the clock from the start; <= 1: real time. */
	double clock_rate;
	/* The aggregate of a symbol from the fast source (Redis): 0, or -1
	   to fall back to PostgreSQL. NULL: PostgreSQL only. */
	int (*symbol)(void *arg, char symbol, struct es_aggregate *agg);
	/* Whether the fast source is up, for /health. NULL: false. */
	bool (*fast_up)(void *arg);
	void *arg;
};

struct es_http;

/*
 * libmicrohttpd (0.9.75 to 0.9.77 at least) takes at most 128 epoll
 * events at a time, and when it gets 128 it waits for more, with the
 * timeout of its earliest idle connection, before it serves the 128 it
 * has: a thread whose connections were all among them serves nothing
 * until another event comes, up to --timeout, and then closes them as
 * idle. A thread of at most 126 connections (with its listening socket
 * and its wake-up descriptor, 128 descriptors) never gets 128 events.
 */
#define ES_HTTP_CONNECTIONS_PER_THREAD 126

/*
 * The memory of a connection, for its request line, headers and read
 * buffer (libmicrohttpd's default is 32 KiB): libmicrohttpd zeroes all of
 * it after every request, which at 32 KiB was a twentieth of the whole
 * host's CPU under the benchmark's load (perf, 256 connections), at 8 KiB
 * under a fiftieth. Headers of up to about 7.5 KiB still fit, as they do
 * in Apache's and nginx's defaults; more are answered 431. The body is
 * not kept there (--max-body).
 */
#define ES_HTTP_CONNECTION_MEMORY 8192

/* A service not listening yet; CFG is copied (its pointers must live). */
struct es_http *es_http_new(const struct es_http_config *cfg);

/* The store's done() callback: resume the connection of EV. */
void es_http_done(struct es_event *ev, void *http);

/*
 * Bind and listen on the address of the configuration, before anything
 * else is started: a busy port then fails the start with nothing touched.
 * 0, or -1 with ERR set: "could not listen on ADDR:PORT: why".
 */
int es_http_bind(struct es_http *h, struct dbops_err *err);

/* Serve on the socket of es_http_bind (bound now if it was not), events
 * going to ST. 0, or -1 with ERR set. */
int es_http_start(struct es_http *h, struct es_store *st,
		  struct dbops_err *err);

/* Stop accepting connections (the open ones are still served). */
void es_http_quiesce(struct es_http *h);

/* Connections suspended, waiting for their batch. */
int es_http_waiting(struct es_http *h);

/* Close every connection, stop the threads, free H. NULL is accepted. */
void es_http_stop(struct es_http *h);

#endif
