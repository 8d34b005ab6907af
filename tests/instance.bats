#!/usr/bin/env bats
# The instance module (common/instance.c) through its test driver: real
# PostgreSQL and MariaDB servers started, used, refused and stopped.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/helpers
	dbops_server_root
}

teardown_file() {
	load lib/helpers
	stop_servers
}

setup() {
	load lib/helpers
	ROOT=$DBOPS_SERVER_ROOT
	PGV=$(ls /usr/lib/postgresql | sort -n | tail -1)
}

owner_of() { stat -c %U "$1"; }
mode_of() { stat -c %a "$1"; }

@test "instance: PostgreSQL starts in a private directory and answers on socket and TCP" {
	run --separate-stderr "$DBOPS_DRIVER" start postgres "$ROOT/pg1"
	assert_success
	assert_equal "$stderr" ""
	assert_line "server=postgres"
	assert_line "version=$PGV"
	assert_line "socket_dir=$ROOT/pg1"
	port=$(sed -n 's/^port=//p' <<<"$output")
	assert_line "socket=$ROOT/pg1/.s.PGSQL.$port"
	assert_equal "$(mode_of "$ROOT/pg1")" 700
	run psql -h "$ROOT/pg1" -p "$port" -U postgres -AtX -c "SELECT 6*7"
	assert_output 42
	run psql -h 127.0.0.1 -p "$port" -U postgres -AtX -c "SHOW listen_addresses"
	assert_output 127.0.0.1
}

@test "instance: run as root, PostgreSQL runs as the postgres user" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	pid=$(sed -n 's/^pid=//p' "$ROOT/pg1/instance.state")
	assert_equal "$(ps -o user= -p "$pid")" postgres
	assert_equal "$(owner_of "$ROOT/pg1")" postgres
}

@test "instance: status reports a running PostgreSQL, stop stops it and keeps its data" {
	port=$(sed -n 's/^port=//p' "$ROOT/pg1/instance.state")
	psql -h "$ROOT/pg1" -p "$port" -U postgres -qX -c "CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)"
	run "$DBOPS_DRIVER" status "$ROOT/pg1"
	assert_success
	assert_line running
	pid=$(sed -n 's/^pid=//p' "$ROOT/pg1/instance.state")
	run --separate-stderr "$DBOPS_DRIVER" stop "$ROOT/pg1"
	assert_success
	assert_equal "$stderr" ""
	assert process_gone "$pid"
	assert [ ! -e "$ROOT/pg1/instance.state" ]
	run "$DBOPS_DRIVER" start postgres "$ROOT/pg1"
	assert_success
	port=$(sed -n 's/^port=//p' <<<"$output")
	run psql -h "$ROOT/pg1" -p "$port" -U postgres -AtX -c "SELECT n FROM kept"
	assert_output 7
}

@test "instance: PostgreSQL on a port already taken fails quoting the server log" {
	port=$(sed -n 's/^port=//p' "$ROOT/pg1/instance.state")
	run --separate-stderr "$DBOPS_DRIVER" start postgres "$ROOT/pg-taken" --port "$port"
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "instance-driver: error: could not start PostgreSQL $PGV in \"$ROOT/pg-taken\": could not bind IPv4 address \"127.0.0.1\": Address already in use"
	assert_equal "${stderr_lines[1]}" "instance-driver: detail: the server exited with status 1; server log \"$ROOT/pg-taken/server.log\":"
	assert_equal "${stderr_lines[-1]}" "instance-driver: hint: port $port is in use; choose another port or stop the server that holds it"
	assert [ ! -e "$ROOT/pg-taken/instance.state" ]
}

@test "instance: PostgreSQL with a bad setting fails with the server's FATAL line" {
	run --separate-stderr "$DBOPS_DRIVER" start postgres "$ROOT/pg-bad" --set shared_buffers=lots
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "instance-driver: error: could not start PostgreSQL $PGV in \"$ROOT/pg-bad\": invalid value for parameter \"shared_buffers\": \"lots\""
	assert_equal "${stderr_lines[2]}" "instance-driver: detail:   FATAL:  invalid value for parameter \"shared_buffers\": \"lots\""
}

@test "instance: a PostgreSQL data directory without its files fails naming what is missing" {
	mkdir -p "$ROOT/broken-data"
	echo "$PGV" >"$ROOT/broken-data/PG_VERSION"
	chmod 0700 "$ROOT/broken-data"
	[ "$(id -u)" = 0 ] && chown -R postgres: "$ROOT/broken-data"
	run --separate-stderr "$DBOPS_DRIVER" start postgres "$ROOT/pg-broken" --datadir "$ROOT/broken-data"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "instance-driver: error: could not start PostgreSQL $PGV in \"$ROOT/pg-broken\": postgres: could not access the server configuration file \"$ROOT/broken-data/postgresql.conf\": No such file or directory"
}

@test "instance: a data directory of a PostgreSQL version not installed names the package" {
	mkdir -p "$ROOT/old-data"
	echo 9 >"$ROOT/old-data/PG_VERSION"
	run --separate-stderr "$DBOPS_DRIVER" start postgres "$ROOT/pg-old" --datadir "$ROOT/old-data"
	assert_failure 1
	assert_equal "$stderr" "instance-driver: error: PostgreSQL 9 server binaries not found: no \"/usr/lib/postgresql/9/bin/postgres\"
instance-driver: hint: install the Debian package postgresql-9"
}

@test "instance: a directory that is no data directory is refused" {
	mkdir -p "$ROOT/empty-data"
	run --separate-stderr "$DBOPS_DRIVER" start postgres "$ROOT/pg-empty" --datadir "$ROOT/empty-data"
	assert_failure 1
	assert_equal "$stderr" "instance-driver: error: \"$ROOT/empty-data\" is not a PostgreSQL data directory: no PG_VERSION in it"
}

@test "instance: a directory the server user cannot reach is refused before starting" {
	[ "$(id -u)" = 0 ] || skip "needs root: an unprivileged run owns every directory it makes"
	mkdir -m 0700 "$ROOT/private"
	run --separate-stderr "$DBOPS_DRIVER" start postgres "$ROOT/private/pg"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "instance-driver: error: directory \"$ROOT/private/pg\" is not accessible to user \"postgres\": Permission denied"
	assert_equal "${stderr_lines[1]}" "instance-driver: hint: every parent directory must be searchable by \"postgres\" (chmod o+x), e.g. choose a directory under /var/tmp"
}

@test "instance: a directory that cannot be created is reported" {
	run --separate-stderr "$DBOPS_DRIVER" start postgres "$ROOT/no/such/parent"
	assert_failure 1
	assert_equal "$stderr" "instance-driver: error: could not create directory \"$ROOT/no/such/parent\": No such file or directory"
}

@test "instance: a deep directory gets a short socket directory, removed at stop" {
	deep=$ROOT/$(printf 'd%.0s' {1..70})/$(printf 'e%.0s' {1..70})
	mkdir -p "$deep"
	chmod -R 0755 "$ROOT/$(printf 'd%.0s' {1..70})"
	run "$DBOPS_DRIVER" start postgres "$deep/pg"
	assert_success
	sockdir=$(sed -n 's/^socket_dir=//p' <<<"$output")
	port=$(sed -n 's/^port=//p' <<<"$output")
	assert_regex "$sockdir" '^/tmp/dbops-......$'
	run psql -h "$sockdir" -p "$port" -U postgres -AtX -c "SELECT 1"
	assert_output 1
	run "$DBOPS_DRIVER" start mariadb "$deep/my"
	assert_success
	mysock=$(sed -n 's/^socket=//p' <<<"$output")
	assert_regex "$mysock" '^/tmp/dbops-....../mysqld.sock$'
	run mariadb --no-defaults -S "$mysock" -u "$(id -un)" -N -e "SELECT 2"
	assert_output 2
	"$DBOPS_DRIVER" stop "$deep/pg"
	"$DBOPS_DRIVER" stop "$deep/my"
	assert [ ! -e "$sockdir" ]
	assert [ ! -e "$(dirname "$mysock")" ]
}

@test "instance: MariaDB starts with its own tmpdir and config, on 127.0.0.1 only" {
	run --separate-stderr "$DBOPS_DRIVER" start mariadb "$ROOT/my1"
	assert_success
	assert_equal "$stderr" ""
	assert_line "server=mariadb"
	assert_line "socket=$ROOT/my1/mysqld.sock"
	assert_equal "$(mode_of "$ROOT/my1")" 700
	assert_equal "$(mode_of "$ROOT/my1/my.cnf")" 600
	assert_line "admin_user=$(id -un)"
	run mariadb --no-defaults -S "$ROOT/my1/mysqld.sock" -u "$(id -un)" -N -e "SELECT @@bind_address, @@tmpdir, @@log_bin"
	assert_output "$(printf '127.0.0.1\t%s\t0' "$ROOT/my1/tmp")"
	if [ "$(id -u)" = 0 ]; then
		pid=$(sed -n 's/^pid=//p' "$ROOT/my1/instance.state")
		assert_equal "$(ps -o user= -p "$pid")" mysql
	fi
}

@test "instance: MariaDB has no account reachable over TCP without a password" {
	port=$(sed -n 's/^port=//p' "$ROOT/my1/instance.state")
	run mariadb --no-defaults -S "$ROOT/my1/mysqld.sock" -u "$(id -un)" -N -e "SELECT COUNT(*) FROM mysql.user WHERE host <> 'localhost'"
	assert_output 0
	run --separate-stderr mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$port" -u root -e "SELECT 1"
	assert_failure
	assert_regex "$stderr" "Host '127.0.0.1' is not allowed to connect to this MariaDB server"
}

@test "instance: MariaDB on a port already taken fails quoting the server log" {
	port=$(sed -n 's/^port=//p' "$ROOT/my1/instance.state")
	run --separate-stderr "$DBOPS_DRIVER" start mariadb "$ROOT/my-taken" --port "$port"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "instance-driver: error: could not start MariaDB $(sed -n 's/^version=//p' "$ROOT/my1/instance.state") in \"$ROOT/my-taken\": Can't start server: Bind on TCP/IP port. Got error: 98: Address already in use"
	assert_equal "${stderr_lines[-1]}" "instance-driver: hint: port $port is in use; choose another port or stop the server that holds it"
}

@test "instance: MariaDB with an unknown setting fails with the server's error" {
	run --separate-stderr "$DBOPS_DRIVER" start mariadb "$ROOT/my-bad" --set no_such_variable=1
	assert_failure 1
	assert_regex "${stderr_lines[0]}" "^instance-driver: error: could not start MariaDB .* in \"$ROOT/my-bad\": .*mariadbd: unknown variable 'no_such_variable=1'\$"
}

@test "instance: four MariaDB servers started at once all come up" {
	for i in 1 2 3 4; do
		"$DBOPS_DRIVER" start mariadb "$ROOT/par$i" >"$ROOT/par$i.out" 2>&1 &
	done
	wait
	for i in 1 2 3 4; do
		run mariadb --no-defaults -S "$ROOT/par$i/mysqld.sock" -u "$(id -un)" -N -e "SELECT COUNT(*) FROM mysql.user"
		assert_success
	done
	for i in 1 2 3 4; do
		"$DBOPS_DRIVER" stop "$ROOT/par$i"
	done
}

@test "instance: stop of an instance that is already gone succeeds; a missing state fails" {
	run "$DBOPS_DRIVER" start mariadb "$ROOT/my-gone"
	assert_success
	pid=$(sed -n 's/^pid=//p' <<<"$output")
	kill -9 "$pid"
	while ! process_gone "$pid"; do sleep 0.1; done
	run "$DBOPS_DRIVER" status "$ROOT/my-gone"
	assert_failure 1
	assert_output stopped
	run "$DBOPS_DRIVER" stop "$ROOT/my-gone"
	assert_success
	run --separate-stderr "$DBOPS_DRIVER" stop "$ROOT/my-gone"
	assert_failure 1
	assert_equal "$stderr" "instance-driver: error: could not read instance state \"$ROOT/my-gone/instance.state\": No such file or directory"
}

@test "instance: both servers run under a path with a space, quotes and a dollar" {
	dir=$(odd_dir inst)
	run --separate-stderr "$DBOPS_DRIVER" start postgres "$dir/pg"
	assert_success
	run psql -h "$(sed -n 's/^socket_dir=//p' <<<"$output")" \
		-p "$(sed -n 's/^port=//p' <<<"$output")" -U postgres -AtX \
		-c "SELECT current_setting('data_directory')"
	assert_output "$dir/pg/data"
	run --separate-stderr "$DBOPS_DRIVER" start mariadb "$dir/my"
	assert_success
	run mariadb --no-defaults -S "$(sed -n 's/^socket=//p' <<<"$output")" \
		-u "$(id -un)" -N -e "SELECT @@datadir, @@tmpdir"
	assert_output "$dir/my/data/	$dir/my/tmp"
	run "$DBOPS_DRIVER" status "$dir/my"
	assert_success
	"$DBOPS_DRIVER" stop "$dir/pg"
	"$DBOPS_DRIVER" stop "$dir/my"
	# mariadb-install-db's alias of the path is gone too.
	run find /tmp -maxdepth 2 -lname "$dir/my"
	assert_output ""
}

@test "instance: an existing directory keeps its mode and owner" {
	mkdir -m 0751 "$ROOT/mine"
	[ "$(id -u)" != 0 ] || chown postgres "$ROOT/mine"
	before=$(stat -c '%a %U' "$ROOT/mine")
	run "$DBOPS_DRIVER" start postgres "$ROOT/mine"
	assert_success
	assert_equal "$(stat -c '%a %U' "$ROOT/mine")" "$before"
	"$DBOPS_DRIVER" stop "$ROOT/mine"
}

@test "instance: a pid now of another program is neither reported running nor signalled" {
	run "$DBOPS_DRIVER" start mariadb "$ROOT/my-reused"
	assert_success
	pid=$(sed -n 's/^pid=//p' <<<"$output")
	"$DBOPS_DRIVER" stop "$ROOT/my-reused"
	# The state of a server whose pid another process named mariadbd now
	# holds, working elsewhere: as after a crash and a reboot.
	run "$DBOPS_DRIVER" start mariadb "$ROOT/my-reused"
	assert_success
	real=$(sed -n 's/^pid=//p' <<<"$output")
	cp "$(command -v sleep)" "$ROOT/mariadbd"
	(cd / && exec "$ROOT/mariadbd" 300) &
	impostor=$!
	sed -i "s/^pid=.*/pid=$impostor/" "$ROOT/my-reused/instance.state"
	run "$DBOPS_DRIVER" status "$ROOT/my-reused"
	assert_failure 1
	assert_output stopped
	run "$DBOPS_DRIVER" stop "$ROOT/my-reused"
	assert_success
	kill -0 "$impostor"
	kill "$impostor" "$real"
}

@test "instance: a damaged state file is refused naming the line" {
	mkdir -p "$ROOT/damaged"
	printf 'server=mariadb\npid=12\nsocket=/x\ndatadir=/y\npid=13\n' >"$ROOT/damaged/instance.state"
	run --separate-stderr "$DBOPS_DRIVER" stop "$ROOT/damaged"
	assert_failure 1
	assert_equal "$stderr" "instance-driver: error: could not read instance state \"$ROOT/damaged/instance.state\": line 5: key \"pid\" appears twice"
	printf 'server=oracle\n' >"$ROOT/damaged/instance.state"
	run --separate-stderr "$DBOPS_DRIVER" stop "$ROOT/damaged"
	assert_equal "$stderr" "instance-driver: error: could not read instance state \"$ROOT/damaged/instance.state\": line 1: not a server this tool runs: \"oracle\""
}

@test "instance: the tests' stop_servers also stops a PostgreSQL restarted with pg_ctl restart (a pid instance.state does not know)" {
	local sub=$ROOT/restarted pid
	mkdir -p "$sub"
	run -0 "$DBOPS_DRIVER" start postgres "$sub/pg"
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "/usr/lib/postgresql/$PGV/bin/pg_ctl" -D "$sub/pg/data" -w -m fast restart >/dev/null
	else
		"/usr/lib/postgresql/$PGV/bin/pg_ctl" -D "$sub/pg/data" -w -m fast restart >/dev/null
	fi
	pid=$(head -n 1 "$sub/pg/data/postmaster.pid")
	assert [ -n "$pid" ] && kill -0 "$pid"
	(DBOPS_SERVER_ROOT=$sub stop_servers) 2>/dev/null
	assert process_gone "$pid"
	assert [ ! -e "$sub" ]
}
