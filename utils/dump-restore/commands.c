/*
 * commands.c - dump-restore's plan, status and down, and what the commands
 * share: the root, the output format and the choice of dumps. See
 * commands.h.
 */
#include "commands.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "paths.h"
#include "timestamp.h"
#include "world.h"

int dr_parse_bind(const char *arg, struct dr_opts *o)
{
	unsigned char addr[16];
	bool v4 = inet_pton(AF_INET, arg, addr) == 1;

	if (!v4 && inet_pton(AF_INET6, arg, addr) != 1)
		return dbops_cli_invalid("--bind", arg, "%s",
					 "give an IPv4 or IPv6 address");
	if (strcmp(arg, "0.0.0.0") == 0 || strcmp(arg, "::") == 0)
		return dbops_cli_invalid(
			"--bind", arg, "%s",
			"name the address the others reach: it goes into worlds.cnf");
	snprintf(o->bind, sizeof(o->bind), "%s", arg);
	return 0;
}

const char *dr_root(const struct dr_opts *o, char *buf, size_t len)
{
	return o->root ? o->root : dbops_state_dir("worlds", buf, len);
}

int dr_root_lock(const char *root, const char *command, bool report)
{
	char path[PATH_MAX + 8], holder[128] = "";
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/.lock", root);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		dbops_log_error("could not open \"%s\": %s", path,
				strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		char text[128];
		int len = snprintf(text, sizeof(text), "%d %s\n", (int)getpid(),
				   command);

		if (ftruncate(fd, 0) != 0 ||
		    pwrite(fd, text, (size_t)len, 0) != len)
			dbops_log_warning("could not write \"%s\": %s", path,
					  strerror(errno));
		return fd;
	}
	if (errno != EWOULDBLOCK) {
		dbops_log_error("could not lock \"%s\": %s", path,
				strerror(errno));
	} else if (report) {
		n = pread(fd, holder, sizeof(holder) - 1, 0);
		holder[n > 0 ? n : 0] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
		/* "PID COMMAND", written by the holder. */
		dbops_log_error(
			"could not lock \"%s\": dump-restore %s (pid %.*s) is working on this root",
			path,
			strchr(holder, ' ') ? strchr(holder, ' ') + 1 : "?",
			(int)strcspn(holder, " "), holder[0] ? holder : "?");
		dbops_log_hint(
			"wait until it ends, or stop it; status can be read meanwhile");
	}
	close(fd);
	return -1;
}

int dr_parse_format(const struct dr_opts *o, enum dbops_output_format *f)
{
	*f = DBOPS_FORMAT_TABLE;
	if (o->format && dbops_output_parse_format(o->format, f) != 0)
		return dbops_cli_error(
			"unknown format \"%s\": use table, csv, tsv or json",
			o->format);
	return 0;
}

int dr_choose(const struct dr_opts *o, char **sources, int n,
	      struct dr_catalog *cat, const struct dr_dump ***chosen,
	      size_t *count)
{
	if (n == 0)
		return dbops_cli_error(
			"no SOURCE: give directories of dumps or dump files");
	if (dr_catalog_scan(cat, sources, n) != 0 ||
	    dr_catalog_choose(cat, o->have_at, o->at, o->strict, chosen,
			      count) != 0)
		return 1;
	return 0;
}

int dr_cmd_plan(const struct dr_opts *o, char **sources, int n)
{
	struct dr_catalog cat = { 0 };
	const struct dr_dump **chosen = NULL;
	enum dbops_output_format format;
	struct dbops_output *w;
	size_t count;
	int rc;

	if (dr_parse_format(o, &format) != 0)
		return 1;
	rc = dr_choose(o, sources, n, &cat, &chosen, &count);
	if (rc == 0 && (w = dbops_output_new(stdout, format)) != NULL) {
		dbops_output_add_column(w, "world", DBOPS_COLUMN_TEXT);
		dbops_output_add_column(w, "dump", DBOPS_COLUMN_TEXT);
		dbops_output_add_column(w, "dump_time", DBOPS_COLUMN_TEXT);
		dbops_output_add_column(w, "bytes", DBOPS_COLUMN_NUMBER);
		for (size_t i = 0; i < count; i++) {
			char when[DBOPS_TIMESTAMP_LEN], size[32];

			dbops_timestamp_format(chosen[i]->usec, when,
					       sizeof(when));
			snprintf(size, sizeof(size), "%lld",
				 (long long)chosen[i]->size);
			dbops_output_row_strings(
				w, (const char *[]){ chosen[i]->world,
						     chosen[i]->path, when,
						     size });
		}
		if (dbops_output_finish(w) != 0)
			rc = 1;
		dbops_output_free(w);
	}
	free(chosen);
	dr_catalog_free(&cat);
	return rc;
}

int dr_cmd_status(const struct dr_opts *o)
{
	static const char *const names[] = {
		"world",     "status",	       "port",	     "socket", "dump",
		"dump_time", "uptime_seconds", "disk_bytes", "reason"
	};
	static const enum dbops_column_kind kinds[] = {
		DBOPS_COLUMN_TEXT,   DBOPS_COLUMN_TEXT,	  DBOPS_COLUMN_NUMBER,
		DBOPS_COLUMN_TEXT,   DBOPS_COLUMN_TEXT,	  DBOPS_COLUMN_TEXT,
		DBOPS_COLUMN_NUMBER, DBOPS_COLUMN_NUMBER, DBOPS_COLUMN_TEXT
	};
	enum dbops_output_format format;
	char rootbuf[PATH_MAX], **list;
	int lock;
	const char *root = dr_root(o, rootbuf, sizeof(rootbuf));
	struct dbops_output *w;
	int n;

	if (dr_parse_format(o, &format) != 0)
		return 1;
	if (dr_world_list(root, &list, &n) != 0) {
		dbops_log_error("could not read \"%s\": %s", root,
				strerror(errno));
		return 1;
	}
	/* Without an up at work, a world still starting or loading was
	 * interrupted: it is settled as failed. With one, shown as it is. */
	lock = n > 0 ? dr_root_lock(root, "status", false) : -1;
	w = dbops_output_new(stdout, format);
	for (int c = 0; w && c < 9; c++)
		dbops_output_add_column(w, names[c], kinds[c]);
	for (int i = 0; w && i < n; i++) {
		struct dr_world x;
		char port[16], when[DBOPS_TIMESTAMP_LEN], up[32], disk[32];
		int64_t since = 0;
		bool running;

		if (dr_world_read(root, list[i], &x) != 0)
			continue;
		if (lock >= 0)
			dr_world_settle(&x);
		running =
			x.status == DR_RUNNING && dr_world_running(&x, &since);
		if (x.status == DR_RUNNING && !running)
			x.status = DR_STOPPED;
		snprintf(port, sizeof(port), "%d", x.port);
		dbops_timestamp_format(x.dump_usec, when, sizeof(when));
		snprintf(up, sizeof(up), "%lld",
			 (long long)(time(NULL) - since));
		snprintf(disk, sizeof(disk), "%lld",
			 (long long)dr_world_disk_usage(&x));
		dbops_output_row_strings(
			w, (const char *[]){ x.name, dr_status_name(x.status),
					     running ? port : NULL,
					     running ? x.socket : NULL, x.dump,
					     when, running ? up : NULL, disk,
					     x.status == DR_FAILED ? x.error.msg
								   : NULL });
	}
	if (lock >= 0)
		close(lock);
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	if (w == NULL || dbops_output_finish(w) != 0) {
		dbops_output_free(w);
		return 1;
	}
	dbops_output_free(w);
	return 0;
}

int dr_cmd_down(const struct dr_opts *o, char **worlds, int n)
{
	char rootbuf[PATH_MAX], **list = NULL;
	const char *root = dr_root(o, rootbuf, sizeof(rootbuf));
	int count = 0, rc = 0, lock = -1;

	if (access(root, F_OK) == 0 &&
	    (lock = dr_root_lock(root, "down", true)) < 0)
		return 1;
	if (n == 0) {
		if (dr_world_list(root, &list, &count) != 0) {
			dbops_log_error("could not read \"%s\": %s", root,
					strerror(errno));
			if (lock >= 0)
				close(lock);
			return 1;
		}
		worlds = list;
		n = count;
	}
	for (int i = 0; i < n; i++) {
		if (dr_world_down(root, worlds[i]) != 0)
			rc = 1;
		else
			dbops_log_info("world \"%s\" stopped and removed",
				       worlds[i]);
	}
	for (int i = 0; i < count; i++)
		free(list[i]);
	free(list);
	if (access(root, F_OK) == 0 && dr_worlds_cnf_write(root, NULL) != 0)
		rc = 1;
	if (lock >= 0)
		close(lock);
	return rc;
}
