/*
 * test_dump_restore_world.c - unit tests for dump-restore's world state:
 * world.state read back exactly, a damaged one taken for a failed world,
 * the port spread of world names, the analyst password without a weak
 * fallback, the list of worlds, and which processes are a world's and
 * stopping them.
 */
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../utils/dump-restore/procs.h"
#include "../../utils/dump-restore/world.h"
#include "log.h"

/* getrandom() as the kernel answers, or failing when the test says so:
 * the definition here takes the place of the C library's. */
static int getrandom_errno;

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	if (getrandom_errno != 0) {
		errno = getrandom_errno;
		return -1;
	}
	return syscall(SYS_getrandom, buf, len, flags);
}

static int quiet(void **state)
{
	dbops_log_init("dump-restore");
	dbops_log_set_verbosity(DBOPS_LOG_QUIET);
	getrandom_errno = 0;
	return 0;
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* ROOT/NAME/world.state holding TEXT. */
static void world_state(const char *root, const char *name, const char *text)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	assert_int_equal(mkdir(dir, 0700), 0);
	write_text(dir, "world.state", text);
}

static void test_world_read_damaged_state_is_failed(void **state)
{
	char *root = make_scratch_dir("dr-world");
	struct dr_world w;

	/* What the unescaped writer left after a multi-line server error. */
	world_state(root, "world3",
		    "world=world3\nstatus=failed\n"
		    "error=line 3: near ')\nstatus=running\nx' at line 1\n");
	assert_int_equal(dr_world_read(root, "world3", &w), 0);
	assert_int_equal(w.status, DR_FAILED);
	assert_string_equal(w.name, "world3");
	assert_non_null(strstr(w.error.msg, "could not read world state \""));
	assert_non_null(strstr(w.error.msg, "/world3/world.state\": line 4: "));
	/* An unknown status is no guess either. */
	world_state(root, "world4", "status=runing\n");
	assert_int_equal(dr_world_read(root, "world4", &w), 0);
	assert_int_equal(w.status, DR_FAILED);
	assert_non_null(strstr(w.error.msg, "unknown status \"runing\""));
	/* A number that is not one. */
	world_state(root, "world5", "status=running\nport=12x\n");
	assert_int_equal(dr_world_read(root, "world5", &w), 0);
	assert_int_equal(w.status, DR_FAILED);
	/* No state at all: no such world. */
	assert_int_equal(dr_world_read(root, "world9", &w), -1);
	remove_scratch_dir(root);
	free(root);
}

static void test_world_read_escaped_state(void **state)
{
	char *root = make_scratch_dir("dr-world");
	struct dr_world w;

	world_state(root, "world1",
		    "world=world1\ndump=/d/world1.sql.gz\ndump_usec=17\n"
		    "status=running\nerror=a\\nstatus=stopped\npassword=pw\n"
		    "port=3307\nsocket=/r/world1/mysqld.sock\ntables=3\n"
		    "rows=600\nload_seconds=1.250\nstarted_at=1700000000\n");
	assert_int_equal(dr_world_read(root, "world1", &w), 0);
	assert_int_equal(w.status, DR_RUNNING);
	assert_string_equal(w.error.msg, "a\nstatus=stopped");
	assert_string_equal(w.dump, "/d/world1.sql.gz");
	assert_int_equal(w.dump_usec, 17);
	assert_int_equal(w.port, 3307);
	assert_int_equal(w.rows, 600);
	assert_string_equal(w.password, "pw");
	remove_scratch_dir(root);
	free(root);
}

static void test_world_index_of_is_bounded(void **state)
{
	assert_int_equal(dr_world_index_of("world"), 0);
	assert_int_equal(dr_world_index_of("world7"), 7);
	assert_int_equal(dr_world_index_of("world1234"), 234);
	assert_int_equal(dr_world_index_of("7"), 7);
	/* atoi() overflowed here, and its % 1000 could be negative. */
	assert_int_equal(dr_world_index_of("world99999999999999999999"), 999);
	assert_int_equal(dr_world_index_of("w2147483648"), 648);
	assert_int_equal(
		dr_world_index_of("w000000000000000000000000000000000000001"),
		1);
}

static void test_world_password_fails_without_random_bytes(void **state)
{
	struct dbops_err err = { "" };
	char pw[64] = "old";

	getrandom_errno = ENOSYS;
	assert_int_equal(dr_random_password(pw, sizeof(pw), &err), -1);
	assert_string_equal(pw, "");
	assert_string_equal(err.msg, "could not make the analyst's password: "
				     "Function not implemented");
	getrandom_errno = 0;
	assert_int_equal(dr_random_password(pw, sizeof(pw), &err), 0);
	assert_int_equal(strlen(pw), 24);
}

static void test_world_list_natural_order(void **state)
{
	char *root = make_scratch_dir("dr-world");
	char dir[PATH_MAX], **names;
	int n;

	world_state(root, "world10", "status=running\n");
	world_state(root, "world9", "status=running\n");
	snprintf(dir, sizeof(dir), "%s/notes", root);
	assert_int_equal(mkdir(dir, 0700), 0); /* no state: not a world */
	write_text(root, "worlds.cnf", "");
	assert_int_equal(dr_world_list(root, &names, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "world9");
	assert_string_equal(names[1], "world10");
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	remove_scratch_dir(root);
	/* No root yet: no worlds, no error. */
	assert_int_equal(dr_world_list(root, &names, &n), 0);
	assert_int_equal(n, 0);
	assert_null(names);
	free(root);
}

static void test_procs_match_only_this_worlds_servers(void **state)
{
	const char *server[] = { "/usr/sbin/mariadbd",
				 "--defaults-file=/r/w1/my.cnf" };
	const char *install[] = { "/bin/sh", "/usr/bin/mariadb-install-db",
				  "--no-defaults", "--datadir=/r/w1/data" };
	const char *other[] = { "/usr/sbin/mariadbd",
				"--defaults-file=/r/w10/my.cnf" };
	const char *prefix[] = { "/usr/sbin/mariadbd",
				 "--defaults-file=/r/w1/my.cnf.bak" };

	/* Anything but a server or its install script: never. */
	assert_int_equal(
		dr_procs_match("/r/w1", "bash", "/r/w1/data", server, 2), 0);
	/* Another world's server, however close its name. */
	assert_int_equal(
		dr_procs_match("/r/w1", "mariadbd", "/r/w10/data", other, 2),
		0);
	assert_int_equal(dr_procs_match("/r/w1", "mariadbd", "/", prefix, 2),
			 0);
	/* Ours: by its working directory, or by its command line before
	 * it chdir()s. */
	assert_int_equal(
		dr_procs_match("/r/w1", "mariadbd", "/r/w1/data", other, 2), 1);
	assert_int_equal(dr_procs_match("/r/w1", "mariadbd", "/", server, 2),
			 1);
	assert_int_equal(dr_procs_match("/r/w1", "mysqld", "", server, 2), 1);
	/* The install script, its name cut at 15 bytes by /proc. */
	assert_int_equal(
		dr_procs_match("/r/w1", "mariadb-install", "/tmp", install, 4),
		2);
	assert_int_equal(
		dr_procs_match("/r/w10", "mariadb-install", "/tmp", install, 4),
		0);
}

/* A server that SIGTERM ends slowly, and that stops looking like the
 * world's server first (as one that SIGKILL ends no longer shows its
 * command line): stopping waits until it has exited, not only until no
 * process matches. The "server" is bash run by a link named mariadbd
 * (its process is named after the link), in the world's data directory;
 * on SIGTERM it leaves it, and exits a second later. */
static void test_procs_stop_waits_for_the_signalled_to_exit(void **state)
{
	char *root = make_scratch_dir("procs");
	char *data = path_join(root, "data"),
	     *prog = path_join(root, "mariadbd");
	struct dr_proc found[DR_PROCS_MAX];
	struct dbops_err err = { "" };
	int status;
	pid_t pid;

	assert_int_equal(mkdir(data, 0700), 0);
	assert_int_equal(symlink("/bin/bash", prog), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (chdir(data) == 0)
			execl(prog, "mariadbd", "-c",
			      "trap 'cd /; sleep 1; exit 0' TERM;"
			      " while :; do sleep 0.05; done",
			      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && dr_procs_find(root, found) == 0; i++)
		usleep(20000);
	assert_int_equal(dr_procs_find(root, found), 1);
	assert_int_equal(found[0].pid, pid);

	assert_int_equal(dr_procs_stop(root, 5, &err), 0);
	/* Exited: a zombie that is ours to reap, not a process still
	   running. */
	assert_int_equal(waitpid(pid, &status, WNOHANG), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	remove_scratch_dir(root);
	free(prog);
	free(data);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_world_read_damaged_state_is_failed,
				       quiet),
		cmocka_unit_test_setup(test_world_read_escaped_state, quiet),
		cmocka_unit_test_setup(test_world_index_of_is_bounded, quiet),
		cmocka_unit_test_setup(
			test_world_password_fails_without_random_bytes, quiet),
		cmocka_unit_test_setup(test_world_list_natural_order, quiet),
		cmocka_unit_test(test_procs_match_only_this_worlds_servers),
		cmocka_unit_test_setup(
			test_procs_stop_waits_for_the_signalled_to_exit, quiet),
	};

	return cmocka_run_group_tests_name("dump-restore world", tests, NULL,
					   NULL);
}
