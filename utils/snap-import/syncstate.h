/*
 * syncstate.h - what snap-import sync knows of each file of its folder, and
 * its two rules: when a file is complete, and which failures pass. Pure
 * (the caller stats the files and reads the clocks), for the unit tests.
 *
 * The completion rule: a file is taken when it was renamed into the folder
 * (IN_MOVED_TO) and has not changed since, or when it has been quiet for
 * the settle period: its size, times and inode the same for that long, by
 * sync's own observation or by its status-change time (ctime, which no
 * program can set back). A read lease, where one can be had, adds a
 * check: a file still open for writing waits for its close.
 */
#ifndef SNAP_SYNCSTATE_H
#define SNAP_SYNCSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The facts of a file that tell a change. */
struct snap_fstat {
	dev_t dev;
	ino_t ino;
	int64_t size;
	int64_t mtime_ns;
	int64_t ctime_ns;
};

void snap_fstat_from(struct snap_fstat *f, const struct stat *st);

/* Whether two looks at a file see the same file, unchanged. */
bool snap_fstat_same(const struct snap_fstat *a, const struct snap_fstat *b);

/* Whether the content changed (same inode, other size or mtime). */
bool snap_fstat_content_changed(const struct snap_fstat *a,
				const struct snap_fstat *b);

enum snap_fstate {
	SNAP_F_WAITING, /* to be imported once complete */
	SNAP_F_DONE,	/* its content is in the table */
	SNAP_F_FAILED,	/* failed for its content: tried when it changes */
	SNAP_F_RETRY,	/* a passing failure: tried again at retry_at_us */
	SNAP_F_CHANGED, /* changed after its import: not imported again */
};

struct snap_fentry {
	char *name;
	enum snap_fstate state;
	struct snap_fstat seen; /* as last looked at */
	bool looked;		/* seen is filled */
	int64_t since_us;	/* monotonic: seen unchanged since */
	bool moved;		/* renamed in, unchanged since */
	struct snap_fstat done; /* DONE, CHANGED: as imported */
	int64_t id;		/* DONE, CHANGED: the snapshot */
	int64_t retry_at_us;	/* RETRY */
	int retry_delay_s;	/* RETRY: the next delay */
	char *error;		/* FAILED, RETRY: why */
	char sha256[65];	/* FAILED, CHANGED: the content, once hashed */
	bool gone;		/* no longer a file of the folder */
	struct snap_fentry *next; /* the table's chain */
};

/* Files by name: a hash table of chains. */
struct snap_ftable {
	struct snap_fentry **buckets;
	size_t nbuckets, count;
};

void snap_ftable_init(struct snap_ftable *t);
void snap_ftable_free(struct snap_ftable *t);
struct snap_fentry *snap_ftable_get(const struct snap_ftable *t,
				    const char *name);
/* The entry of NAME, a new WAITING one if it had none. */
struct snap_fentry *snap_ftable_add(struct snap_ftable *t, const char *name);
void snap_ftable_remove(struct snap_ftable *t, const char *name);

/*
 * The entries in the states of MASK (bit 1 << state; 0: every entry),
 * sorted by name, in a new array (caller frees the array, not the
 * entries); *n their count.
 */
struct snap_fentry **snap_ftable_list(const struct snap_ftable *t,
				      unsigned mask, size_t *n);
size_t snap_ftable_count(const struct snap_ftable *t, enum snap_fstate state);

/*
 * Record a look at the file: when it differs from the last one, it is
 * quiet from NOW_US on and no longer counts as renamed in. Returns whether
 * it changed.
 */
bool snap_fentry_observe(struct snap_fentry *e, const struct snap_fstat *f,
			 int64_t now_us);

/*
 * The completion rule (above), for a WAITING entry looked at just now:
 * true when it is complete; otherwise *WAIT_US says how long at most
 * before it may be. WALL_NS is the real time, SETTLE_US the quiet period.
 */
bool snap_fentry_settled(const struct snap_fentry *e, int64_t now_us,
			 int64_t wall_ns, int64_t settle_us, int64_t *wait_us);

/*
 * Whether a failure passes (retried with backoff) rather than being the
 * content's (retried when the file changes): the connection is lost, or
 * the server's SQLSTATE is of class 08 (connection), 40 (transaction
 * rollback: deadlock, serialization), 53 (insufficient resources: disk
 * full, out of memory, too many connections), 57 (operator intervention:
 * query cancelled, server shutting down), 58 (system error: I/O), or is
 * 55P03 (lock not available: lock_timeout) or 55006 (object in use).
 * SQLSTATE NULL or "": the tool's own finding, the content's.
 */
bool snap_failure_passes(const char *sqlstate, bool connection_ok);

/* The backoff after a passing failure: 1, 2, 4 ... 60 seconds. */
int snap_backoff_next(int delay_s);

#endif
