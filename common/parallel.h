/*
 * parallel.h - run the items of a list on a few threads at once.
 *
 *	struct dbops_parallel p = {
 *		.count = nworlds, .jobs = 4,
 *		.body = load_world, .arg = &job,
 *		.thread_start = mysql_thread_init, .thread_end = mysql_thread_end,
 *	};
 *	dbops_parallel_for(&p);
 *
 * Threads take the next item from a shared counter, so a slow item holds up
 * one thread, not the others. The calling thread waits; with a tick, it
 * wakes every tick_ms meanwhile (and once at the end) to draw progress.
 */
#ifndef DBOPS_PARALLEL_H
#define DBOPS_PARALLEL_H

#include <stddef.h>

/* Threads at most, whatever is asked. */
#define DBOPS_PARALLEL_MAX 64

struct dbops_parallel {
	size_t count;			   /* items 0 to count - 1 */
	int jobs;			   /* threads; below 1 counts as 1 */
	void (*body)(void *arg, size_t i); /* run once for each item */
	void *arg;
	void (*thread_start)(void); /* NULL, or run first in each thread */
	void (*thread_end)(void);   /* NULL, or run last in each thread */
	void (*tick)(void *arg, size_t done); /* NULL, or see above */
	int tick_ms;			      /* 0: 200 */
};

/*
 * Run P->body for every item and return once all have run. Uses up to
 * min(jobs, count, DBOPS_PARALLEL_MAX) threads; when not one thread can be
 * started, the items run in the calling thread, one after the other. Never
 * fails.
 */
void dbops_parallel_for(const struct dbops_parallel *p);

#endif
