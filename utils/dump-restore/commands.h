/*
 * commands.h - dump-restore's four commands, as main.c calls them once the
 * options are parsed: plan (commands.c), up (up.c), status and down
 * (commands.c), with the options they share.
 */
#ifndef DR_COMMANDS_H
#define DR_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "output.h"
#include "progress.h"

struct dr_opts {
	bool have_at;
	int64_t at; /* --at, microseconds since the epoch */
	const char *format;
	const char *root;
	const char *bindir;
	int jobs;
	int port_base;
	enum dbops_progress_mode progress;
	const char *database;	  /* --database: for dumps that choose none */
	bool allow_incomplete;	  /* --allow-incomplete */
	bool keep_definer;	  /* --definer keep */
	bool strict;		  /* --strict */
	const char *share;	  /* --share GROUP */
	char bind[64];		  /* --bind ADDR; "" for 127.0.0.1 */
	bool merge;		  /* inventory --merge */
	const char *metrics_file; /* --metrics-file */
};

/* --bind ADDR: an IPv4 or IPv6 address into o->bind. 0, or -1 after a
 * usage error. */
int dr_parse_bind(const char *arg, struct dr_opts *o);

/*
 * Each command: SOURCES or WORLDS are the operands after the command's
 * name. Returns the exit status (0, or 1 after reporting).
 */
int dr_cmd_plan(const struct dr_opts *o, char **sources, int n);
int dr_cmd_up(const struct dr_opts *o, char **sources, int n);
int dr_cmd_status(const struct dr_opts *o);
int dr_cmd_down(const struct dr_opts *o, char **worlds, int n);

/* --root, or the default: /var/lib/dbops/worlds for root,
 * ~/.local/state/dbops/worlds otherwise (in BUF). */
const char *dr_root(const struct dr_opts *o, char *buf, size_t len);

/* --format into *F (table without it). 0, or 1 after a usage error. */
int dr_parse_format(const struct dr_opts *o, enum dbops_output_format *f);

/*
 * Lock ROOT (flock on ROOT/.lock, which then holds our pid and COMMAND) so
 * that one up, down or status changes it at a time. When another process
 * holds it: with REPORT, an error naming that process's pid, else nothing;
 * -1 either way. Returns the lock's descriptor (close-on-exec; closing it,
 * or exiting, unlocks), or -1.
 */
int dr_root_lock(const char *root, const char *command, bool report);

/*
 * Scan SOURCES and choose each world's dump (at --at, or the latest):
 * *chosen (caller frees) points into CAT. 0, or 1 after reporting.
 */
int dr_choose(const struct dr_opts *o, char **sources, int n,
	      struct dr_catalog *cat, const struct dr_dump ***chosen,
	      size_t *count);

#endif
