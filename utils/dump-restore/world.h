/*
 * world.h - one restored world: its private server under ROOT/<world>/,
 * what was loaded into it (ROOT/<world>/world.state) and the option file
 * ROOT/worlds.cnf through which developers and world-query reach it.
 */
#ifndef DR_WORLD_H
#define DR_WORLD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "errbuf.h"
#include "load.h"

enum dr_status {
	DR_LOADING,
	DR_RUNNING,
	DR_STOPPED,
	DR_FAILED,
	DR_STARTING, /* recorded before its server starts */
};

struct dr_world {
	char name[128];
	char dir[PATH_MAX];
	char dump[PATH_MAX];
	int64_t dump_usec, dump_size, dump_mtime;
	enum dr_status status;
	struct dbops_err error; /* why it failed */
	char password[64];	/* the analyst account's */
	char database[128];	/* the restored database, when there is one */
	char host[64];		/* the address its server listens on */
	int port;
	char socket[PATH_MAX];
	int64_t tables, rows;
	double load_seconds;
	int64_t started_at;  /* when the server was started, epoch seconds */
	bool kept;	     /* up left it as it was */
	struct dr_load load; /* progress while loading */
};

struct dr_up_opts {
	const char *root;
	int port_base;
	int nworlds;	       /* for sizing each server's memory */
	const char *bindir;    /* where mariadbd is, when given */
	const char *database;  /* for dumps that choose none */
	bool allow_incomplete; /* load dumps that look cut short */
	bool keep_definer;     /* DEFINER clauses as the dump has them */
	const char *bind;      /* the servers' address; NULL: 127.0.0.1 */
};

/*
 * "loading", "running", "stopped", "failed" or "starting": as status and up
 * print it.
 */
const char *dr_status_name(enum dr_status s);

/*
 * Read ROOT/<name>/world.state into W. Returns 0, or -1 when there is no
 * such world. A state file that cannot be read or does not parse gives a
 * world with status DR_FAILED and the reason in w->error: a damaged state
 * is never taken for a stopped or running world.
 */
int dr_world_read(const char *root, const char *name, struct dr_world *w);

/*
 * Bring world W (name set) up from DUMP: keep it when it already runs
 * that very dump (restarting its server if it stopped), else replace it:
 * a fresh server, the dump loaded, the analyst account made. On failure
 * the world's server is stopped and the world marked failed, with the
 * reason in w->error. Returns 0, or -1.
 */
int dr_world_up(struct dr_world *w, const struct dr_dump *dump,
		const struct dr_up_opts *opts);

/*
 * Stop the world's server and remove ROOT/<name>: the server its
 * instance.state names, and every other process working on its directory
 * (procs.h: one an interrupted up left before that state was written).
 * When one of them cannot be stopped, the directory is kept. 0, or -1
 * (reported).
 */
int dr_world_down(const char *root, const char *name);

/*
 * For a caller holding the root's lock (so no up is at work): a world
 * W left "starting" or "loading" was interrupted; it becomes "failed" with
 * that reason, written to its state. Returns whether it changed.
 */
bool dr_world_settle(struct dr_world *w);

/* Whether the world's server answers, and since when (epoch seconds). */
bool dr_world_running(const struct dr_world *w, int64_t *since);

/* Bytes the world's directory takes on disk. */
int64_t dr_world_disk_usage(const struct dr_world *w);

/*
 * The names of the worlds under ROOT (those with a state file), in natural
 * order, into *NAMES (the caller frees each and the array) and *N. Returns
 * 0 (no ROOT: none), or -1 with errno when ROOT cannot be read.
 */
int dr_world_list(const char *root, char ***names, int *n);

/*
 * Rewrite ROOT/worlds.cnf atomically from the running worlds' states,
 * every value quoted as the clients read it (cnf.h), utf8mb4 in every
 * group. It is 0600, or 0640 and group SHARE's when SHARE is given; with
 * SHARE NULL an existing file's sharing (group and mode 0640) is kept.
 * 0, or -1 (reported).
 */
int dr_worlds_cnf_write(const char *root, const char *share);

/*
 * Where a world's first port try goes from --port-base: the number its
 * name ends in, modulo 1000 (world7: 7), 0 without one. Always 0 to 999,
 * whatever the length of the number.
 */
int dr_world_index_of(const char *name);

/*
 * Fill BUF (LEN > 1 bytes) with a random password of up to 24 letters and
 * digits from getrandom(). Returns 0, or -1 with ERR set (and BUF empty)
 * when the kernel gives no random bytes: never a weaker fallback.
 */
int dr_random_password(char *buf, size_t len, struct dbops_err *err);

#endif
