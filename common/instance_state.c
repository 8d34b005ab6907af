/*
 * instance_state.c - DIR/instance.state, what a later process needs to
 * find and stop a server: kvfile.h's format, written atomically. See
 * instance.h.
 */
#include "instance_driver.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "kvfile.h"
#include "log.h"

int dbops_instance_write_state(const struct dbops_instance *inst)
{
	char path[PATH_MAX + 32];
	struct dbops_atomic_file af;

	snprintf(path, sizeof(path), "%s/" STATE_FILE, inst->dir);
	if (dbops_atomic_open(&af, path, 0644) != 0)
		goto fail;
	dbops_kv_put(af.f, "server", inst->driver->state_name);
	dbops_kv_put(af.f, "version", inst->version);
	dbops_kv_put(af.f, "datadir", inst->datadir);
	dbops_kv_put(af.f, "bindir", inst->bindir);
	dbops_kv_put(af.f, "socket_dir", inst->socket_dir);
	dbops_kv_put(af.f, "socket", inst->socket);
	dbops_kv_putf(af.f, "own_socket_dir", "%d", inst->own_socket_dir);
	dbops_kv_put(af.f, "log", inst->log);
	dbops_kv_putf(af.f, "port", "%d", inst->port);
	dbops_kv_putf(af.f, "pid", "%d", (int)inst->pid);
	dbops_kv_put(af.f, "user", inst->drop ? inst->user.name : "");
	dbops_kv_put(af.f, "admin_user", inst->admin_user);
	if (dbops_atomic_commit(&af) == 0)
		return 0;
fail:
	dbops_log_error("could not write \"%s\": %s", path, strerror(errno));
	return -1;
}

/* A decimal from 0 to MAX; -1 if it is not one. */
static long state_number(const char *value, long max)
{
	char *end;
	long n;

	if (value[0] < '0' || value[0] > '9')
		return -1;
	errno = 0;
	n = strtol(value, &end, 10);
	return errno || *end || n > max ? -1 : n;
}

struct state_load {
	struct dbops_instance *inst;
	const struct dbops_server_driver *const *drivers;
};

/* Copy VALUE into a field of INST named KEY; 1 if it was one. */
static int state_text(struct dbops_instance *inst, const char *key,
		      const char *value, struct dbops_err *err)
{
	static const struct {
		const char *key;
		size_t offset, size;
	} fields[] = {
#define FIELD(f)                                  \
	{ #f, offsetof(struct dbops_instance, f), \
	  sizeof(((struct dbops_instance *)0)->f) }
		FIELD(version),	   FIELD(datadir), FIELD(bindir),
		FIELD(socket_dir), FIELD(socket),  FIELD(log),
		FIELD(admin_user),
#undef FIELD
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcmp(key, fields[i].key) != 0)
			continue;
		if (strlen(value) >= fields[i].size)
			return dbops_err_set(err, "%s is too long", key);
		memcpy((char *)inst + fields[i].offset, value,
		       strlen(value) + 1);
		return 1;
	}
	return 0;
}

static int state_driver(struct state_load *l, const char *value,
			struct dbops_err *err)
{
	for (int i = 0; l->drivers[i] != NULL; i++)
		if (strcmp(value, l->drivers[i]->state_name) == 0) {
			l->inst->driver = l->drivers[i];
			return 0;
		}
	return dbops_err_set(err, "not a server this tool runs: \"%s\"", value);
}

static int state_value(void *ctx, const char *key, const char *value,
		       struct dbops_err *err)
{
	struct state_load *l = ctx;
	struct dbops_instance *inst = l->inst;
	long n;
	int rc = state_text(inst, key, value, err);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (strcmp(key, "server") == 0)
		return state_driver(l, value, err);
	if (strcmp(key, "user") == 0) {
		inst->drop = value[0] != '\0';
		if (inst->drop && dbops_user_lookup(value, &inst->user) != 0)
			return dbops_err_set(err, "no user \"%s\"", value);
		return 0;
	}
	if (strcmp(key, "port") != 0 && strcmp(key, "pid") != 0 &&
	    strcmp(key, "own_socket_dir") != 0)
		return 0; /* a key of a later version */
	n = state_number(value, strcmp(key, "port") == 0 ? 65535 : INT32_MAX);
	if (n < 0)
		return dbops_err_set(err, "%s is not a number: \"%s\"", key,
				     value);
	if (strcmp(key, "port") == 0)
		inst->port = (int)n;
	else if (strcmp(key, "pid") == 0)
		inst->pid = (pid_t)n;
	else
		inst->own_socket_dir = n != 0;
	return 0;
}

int dbops_instance_load(const char *dir,
			const struct dbops_server_driver *const *drivers,
			struct dbops_instance *inst)
{
	struct state_load l = { inst, drivers };
	struct dbops_err err;
	char path[PATH_MAX + 32];

	dbops_instance_clear(inst);
	snprintf(inst->dir, sizeof(inst->dir), "%s", dir);
	snprintf(path, sizeof(path), "%s/" STATE_FILE, dir);
	if (dbops_kv_read(path, state_value, &l, &err) != 0) {
		dbops_log_error("could not read instance state \"%s\": %s",
				path, err.msg);
		return -1;
	}
	if (inst->driver == NULL || inst->pid <= 0 || inst->socket[0] == '\0' ||
	    inst->datadir[0] == '\0') {
		dbops_log_error("instance state \"%s\" is incomplete", path);
		return -1;
	}
	return 0;
}
