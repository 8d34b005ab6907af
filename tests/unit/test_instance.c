/*
 * test_instance.c - unit tests for common/instance.c: choosing the log
 * lines that explain a failed start, the sun_path limit, and a real server
 * refused because its port is taken (so the sanitizer build runs the start
 * and failure paths too).
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "instance.h"
#include "log.h"

static const char pg_port_taken_log[] =
	"2024-03-01 12:00:00.000 UTC [11] LOG:  starting PostgreSQL 15.18\n"
	"2024-03-01 12:00:00.001 UTC [11] LOG:  could not bind IPv4 address \"127.0.0.1\": Address already in use\n"
	"2024-03-01 12:00:00.001 UTC [11] HINT:  Is another postmaster already running on port 5432?\n"
	"2024-03-01 12:00:00.001 UTC [11] WARNING:  could not create listen socket for \"127.0.0.1\"\n"
	"2024-03-01 12:00:00.001 UTC [11] FATAL:  could not create any TCP/IP sockets\n"
	"2024-03-01 12:00:00.002 UTC [11] LOG:  database system is shut down\n";

static void test_instance_excerpt_pg_port_taken(void **state)
{
	char lines[4][256];
	bool relevant;
	int n = dbops_instance_log_excerpt(&dbops_postgres, pg_port_taken_log,
					   lines, 4, &relevant);

	assert_true(relevant);
	assert_int_equal(n, 4);
	assert_string_equal(
		lines[0],
		"LOG:  could not bind IPv4 address \"127.0.0.1\": Address already in use");
	assert_string_equal(
		lines[1],
		"HINT:  Is another postmaster already running on port 5432?");
	assert_string_equal(
		lines[2],
		"WARNING:  could not create listen socket for \"127.0.0.1\"");
	assert_string_equal(lines[3],
			    "FATAL:  could not create any TCP/IP sockets");
}

static void test_instance_excerpt_keeps_the_last_lines(void **state)
{
	char lines[2][256];
	bool relevant;
	int n = dbops_instance_log_excerpt(&dbops_postgres, pg_port_taken_log,
					   lines, 2, &relevant);

	assert_int_equal(n, 2);
	assert_string_equal(
		lines[0],
		"WARNING:  could not create listen socket for \"127.0.0.1\"");
	assert_string_equal(lines[1],
			    "FATAL:  could not create any TCP/IP sockets");
}

static void test_instance_excerpt_pg_detail_follows_fatal(void **state)
{
	const char *log =
		"2024-03-01 12:00:00 UTC [7] FATAL:  database files are incompatible with server\n"
		"2024-03-01 12:00:00 UTC [7] DETAIL:  The data directory was initialized by PostgreSQL version 13, which is not compatible with this version 15.18.\n"
		"2024-03-01 12:00:00 UTC [7] LOG:  database system is shut down\n"
		"2024-03-01 12:00:00 UTC [7] DETAIL:  not after an unrelated line\n";
	char lines[4][256];
	bool relevant;
	int n = dbops_instance_log_excerpt(&dbops_postgres, log, lines, 4,
					   &relevant);

	assert_int_equal(n, 2);
	assert_string_equal(
		lines[0],
		"FATAL:  database files are incompatible with server");
	assert_string_equal(
		lines[1],
		"DETAIL:  The data directory was initialized by PostgreSQL version 13, which is not compatible with this version 15.18.");
}

static void test_instance_excerpt_pg_line_without_level(void **state)
{
	const char *log =
		"postgres: could not access the server configuration file \"/x/postgresql.conf\": No such file or directory\n";
	char lines[4][256];
	bool relevant;

	assert_int_equal(dbops_instance_log_excerpt(&dbops_postgres, log, lines,
						    4, &relevant),
			 1);
	assert_true(relevant);
	assert_string_equal(
		lines[0],
		"postgres: could not access the server configuration file \"/x/postgresql.conf\": No such file or directory");
}

static void test_instance_excerpt_mariadb_skips_aborting(void **state)
{
	const char *log =
		"2024-03-01 12:00:00 0 [Note] Starting MariaDB 10.11.19\n"
		"2024-03-01 12:00:00 0 [ERROR] Can't start server: Bind on TCP/IP port. Got error: 98: Address already in use\n"
		"2024-03-01 12:00:00 0 [ERROR] Do you already have another server running on port: 3306 ?\n"
		"2024-03-01 12:00:00 0 [ERROR] Aborting\n";
	char lines[4][256];
	bool relevant;
	int n = dbops_instance_log_excerpt(&dbops_mariadb, log, lines, 4,
					   &relevant);

	assert_int_equal(n, 2);
	assert_string_equal(
		lines[0],
		"[ERROR] Can't start server: Bind on TCP/IP port. Got error: 98: Address already in use");
	assert_string_equal(
		lines[1],
		"[ERROR] Do you already have another server running on port: 3306 ?");
}

static void test_instance_excerpt_falls_back_to_last_lines(void **state)
{
	const char *log = "one\n\ntwo\nthree\nfour\n";
	char lines[2][256];
	bool relevant = true;

	assert_int_equal(dbops_instance_log_excerpt(&dbops_mariadb, log, lines,
						    2, &relevant),
			 2);
	assert_false(relevant);
	assert_string_equal(lines[0], "three");
	assert_string_equal(lines[1], "four");
	assert_int_equal(dbops_instance_log_excerpt(&dbops_mariadb, "", lines,
						    2, &relevant),
			 0);
}

static void test_instance_excerpt_cuts_long_lines(void **state)
{
	char log[1000], lines[1][256];
	bool relevant;

	memset(log, 'x', sizeof(log));
	memcpy(log, "FATAL:  ", 8);
	log[sizeof(log) - 1] = '\0';
	assert_int_equal(dbops_instance_log_excerpt(&dbops_postgres, log, lines,
						    1, &relevant),
			 1);
	assert_int_equal(strlen(lines[0]), 255);
}

static void test_instance_socket_fits_sun_path(void **state)
{
	char dir[200];

	assert_true(dbops_instance_socket_fits("/tmp/x", ".s.PGSQL.5432"));
	memset(dir, 'd', sizeof(dir));
	dir[0] = '/';
	/* 96 + "/" + 11 = 108 bytes: no room left for the NUL. */
	dir[96] = '\0';
	assert_false(dbops_instance_socket_fits(dir, "mysqld.sock"));
	dir[95] = '\0';
	assert_true(dbops_instance_socket_fits(dir, "mysqld.sock"));
}

static void test_instance_server_names(void **state)
{
	assert_string_equal(dbops_server_name(&dbops_postgres), "PostgreSQL");
	assert_string_equal(dbops_server_name(&dbops_mariadb), "MariaDB");
}

/* Hold a TCP port on 127.0.0.1; returns the listening socket. */
static int hold_port(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void start_on_taken_port(const struct dbops_server_driver *server,
				const char *expect)
{
	char *root = make_scratch_dir("inst");
	char dir[512], want[1024];
	struct dbops_instance_opts opts = { .driver = server, .timeout_s = 60 };
	struct dbops_instance inst;
	struct capture c;
	char *err;
	int port, fd = hold_port(&port);

	chmod(root, 0755);
	snprintf(dir, sizeof(dir), "%s/server", root);
	opts.dir = dir;
	opts.port = port;
	dbops_log_init("test_instance");
	capture_begin(&c, STDERR_FILENO);
	assert_int_equal(dbops_instance_start(&opts, &inst), -1);
	err = capture_end(&c);
	snprintf(want, sizeof(want),
		 "test_instance: error: could not start %s %s in \"%s\": %s\n",
		 dbops_server_name(server), inst.version, dir, expect);
	assert_memory_equal(err, want, strlen(want));
	snprintf(
		want, sizeof(want),
		"test_instance: hint: port %d is in use; choose another port or stop the server that holds it\n",
		port);
	assert_non_null(strstr(err, want));
	assert_int_equal(access(inst.socket, F_OK), -1);
	free(err);
	close(fd);
	dbops_log_reset_errors();
	remove_scratch_dir(root);
	free(root);
}

static void test_instance_pg_refused_when_port_taken(void **state)
{
	start_on_taken_port(
		&dbops_postgres,
		"could not bind IPv4 address \"127.0.0.1\": Address already in use");
}

static void test_instance_mariadb_refused_when_port_taken(void **state)
{
	start_on_taken_port(
		&dbops_mariadb,
		"Can't start server: Bind on TCP/IP port. Got error: 98: Address already in use");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_instance_pg_refused_when_port_taken),
		cmocka_unit_test(test_instance_mariadb_refused_when_port_taken),
		cmocka_unit_test(test_instance_excerpt_pg_port_taken),
		cmocka_unit_test(test_instance_excerpt_keeps_the_last_lines),
		cmocka_unit_test(test_instance_excerpt_pg_detail_follows_fatal),
		cmocka_unit_test(test_instance_excerpt_pg_line_without_level),
		cmocka_unit_test(test_instance_excerpt_mariadb_skips_aborting),
		cmocka_unit_test(
			test_instance_excerpt_falls_back_to_last_lines),
		cmocka_unit_test(test_instance_excerpt_cuts_long_lines),
		cmocka_unit_test(test_instance_socket_fits_sun_path),
		cmocka_unit_test(test_instance_server_names),
	};

	return cmocka_run_group_tests_name("instance", tests, NULL, NULL);
}
