#!/usr/bin/env bats
# dump-restore's lifecycle against real MariaDB servers: an up killed at
# any moment leaves nothing that status and down do not see and stop; one
# command changes a root at a time; a pid is trusted only when /proc shows
# this world's server. The oracle for "nothing left" is /proc itself.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/helpers
	dbops_server_root
	export TZ=UTC
	export SRC=$DBOPS_SERVER_ROOT/lifesrc
	mkdir -p "$SRC"
	# A dump whose load takes 30 s: the load phase is hit for sure.
	printf '%s\n' "CREATE DATABASE game;" "USE game;" \
		"CREATE TABLE t (i INT PRIMARY KEY);" \
		"INSERT INTO t VALUES (1),(2),(3);" "SELECT SLEEP(30);" \
		"-- Dump completed on 2024-03-01  2:00:00" |
		gzip >"$SRC/slow-2024-03-01T02:00:00Z.sql.gz"
	printf '%s\n' "CREATE DATABASE game;" "USE game;" \
		"CREATE TABLE t (i INT PRIMARY KEY);" \
		"INSERT INTO t VALUES (1),(2),(3);" \
		"-- Dump completed on 2024-03-01  2:00:00" |
		gzip >"$SRC/quick-2024-03-01T02:00:00Z.sql.gz"
	mkdir -p "$SRC/two"
	cp "$SRC/quick-2024-03-01T02:00:00Z.sql.gz" "$SRC/two/alpha-2024-03-01T02:00:00Z.sql.gz"
	cp "$SRC/quick-2024-03-01T02:00:00Z.sql.gz" "$SRC/two/beta-2024-03-01T02:00:00Z.sql.gz"
}

teardown_file() {
	load lib/helpers
	for root in "$DBOPS_SERVER_ROOT"/life*; do
		[ -d "$root" ] && dump-restore down --root "$root" 2>/dev/null
	done
	stop_servers
}

setup() {
	load lib/helpers
	export TZ=UTC
	R=$DBOPS_SERVER_ROOT/life$BATS_TEST_NUMBER
}

teardown() {
	# Whatever a failed test left: never a server for the next one.
	[ -n "${UP:-}" ] && kill -9 "$UP" 2>/dev/null
	[ -d "$R" ] && dump-restore down --root "$R" >/dev/null 2>&1
	true
}

# procs_under DIR: pid, program and cwd of every MariaDB server or install
# script whose cwd or command line names DIR, read from /proc directly.
procs_under() {
	local p comm cwd args
	for p in /proc/[0-9]*; do
		comm=$(cat "$p/comm" 2>/dev/null) || continue
		case $comm in mariadbd | mysqld | mariadb-install*) ;; *) continue ;; esac
		cwd=$(readlink "$p/cwd" 2>/dev/null)
		args=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)
		case "$cwd $args" in *"$1"*) echo "${p#/proc/} $comm $cwd" ;; esac
	done
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds, or fail.
wait_for() {
	local until=$((SECONDS + $1))
	shift
	while ! "$@"; do
		[ "$SECONDS" -lt "$until" ] || return 1
		sleep 0.01
	done
}

# Quick looks (one pgrep), to hit short moments.
install_runs() { pgrep -f -- "--datadir=$R/$1/data" >/dev/null; }
# The server proper, started with its my.cnf, not yet recorded by
# instance.c.
server_spawned() {
	pgrep -f -- "--defaults-file=$R/$1/my.cnf" >/dev/null &&
		[ ! -e "$R/$1/instance.state" ]
}
loading() { grep -q '^status=loading' "$R/$1/world.state" 2>/dev/null; }

# up_killed_when WORLD CONDITION...: start up of WORLD, kill -9 it the
# moment CONDITION holds, then status lists WORLD and down leaves nothing.
up_killed_when() {
	local world=$1
	shift
	dump-restore up --root "$R" --progress never "$SRC/$world-2024-03-01T02:00:00Z.sql.gz" >/dev/null 2>&1 &
	UP=$!
	wait_for 120 "$@" "$world"
	kill -9 "$UP"
	wait "$UP" || true
	UP=
	run --separate-stderr dump-restore status --root "$R" --format csv
	assert_success
	assert_line --index 1 --regexp "^$world,failed,,,.*,\"an up was interrupted while the world was (starting|loading); run up again, or down\"\$"
	run --separate-stderr dump-restore down --root "$R"
	assert_success
	assert_equal "$stderr" "dump-restore: info: world \"$world\" stopped and removed"
	assert_equal "$(procs_under "$R/$world")" ""
	assert [ ! -e "$R/$world" ]
}

@test "dump-restore: up killed during install-db: status lists the world, down leaves no process" {
	up_killed_when quick install_runs
}

@test "dump-restore: up killed while its server starts: status lists the world, down stops the server" {
	up_killed_when quick server_spawned
}

@test "dump-restore: up killed during the load: down stops the server" {
	up_killed_when slow loading
}

@test "dump-restore: up killed at ten moments: down leaves no mariadbd each time" {
	local delay
	for delay in 0.1 0.3 0.5 0.8 1.2 1.6 2.2 3 4 6; do
		dump-restore up --root "$R" --progress never "$SRC/quick-2024-03-01T02:00:00Z.sql.gz" >/dev/null 2>&1 &
		UP=$!
		sleep "$delay"
		kill -9 "$UP" 2>/dev/null || true
		wait "$UP" || true
		UP=
		run --separate-stderr dump-restore down --root "$R"
		assert_success
		assert_equal "$(procs_under "$R/quick")" ""
		assert [ ! -e "$R/quick" ]
	done
}

@test "dump-restore: a second up after a killed one replaces the world, one server only" {
	dump-restore up --root "$R" --progress never "$SRC/slow-2024-03-01T02:00:00Z.sql.gz" >/dev/null 2>&1 &
	UP=$!
	wait_for 120 loading slow
	kill -9 "$UP"
	wait "$UP" || true
	UP=
	old=$(procs_under "$R/slow" | cut -d' ' -f1)
	assert [ -n "$old" ]
	cp "$SRC/quick-2024-03-01T02:00:00Z.sql.gz" "$SRC/slow-2024-03-01T03:00:00Z.sql.gz"
	run --separate-stderr dump-restore up --root "$R" --progress never --format csv "$SRC/slow-2024-03-01T03:00:00Z.sql.gz"
	rm "$SRC/slow-2024-03-01T03:00:00Z.sql.gz"
	assert_success
	assert_line --index 1 --regexp '^slow,running,'
	# Gone, or a zombie of the killed up that PID 1 here may never reap.
	assert process_gone "$old"
	assert_equal "$(procs_under "$R/slow" | wc -l)" 1
}

@test "dump-restore: up keeps a world only when its server answers: one that does not is loaded again, its rows all there" {
	local old new
	run --separate-stderr dump-restore up --root "$R" --progress never --format csv "$SRC/quick-2024-03-01T02:00:00Z.sql.gz"
	assert_success
	old=$(procs_under "$R/quick" | cut -d' ' -f1)
	assert [ -n "$old" ]
	# Alive in /proc, its socket there, but answering nothing: as a
	# server killed a moment ago, or hung.
	kill -STOP "$old"
	run --separate-stderr dump-restore up --root "$R" --progress never --format csv "$SRC/quick-2024-03-01T02:00:00Z.sql.gz"
	assert_success
	# Not kept: a server that did not answer may have lost rows (it runs
	# without a flush at each commit), so the world is loaded again.
	assert_line --index 1 --regexp '^quick,running,'
	assert process_gone "$old"
	new=$(procs_under "$R/quick" | cut -d' ' -f1)
	assert [ -n "$new" ] && assert [ "$new" != "$old" ]
	run mariadb --defaults-extra-file="$R/worlds.cnf" --defaults-group-suffix=_quick -N -B -e 'SELECT COUNT(*) FROM game.t'
	assert_output 3
}

@test "dump-restore: a second up, down or status while an up runs: refused naming its pid" {
	dump-restore up --root "$R" --progress never "$SRC/slow-2024-03-01T02:00:00Z.sql.gz" >/dev/null 2>&1 &
	UP=$!
	wait_for 120 loading slow
	run --separate-stderr dump-restore up --root "$R" --progress never "$SRC/slow-2024-03-01T02:00:00Z.sql.gz"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "dump-restore: error: could not lock \"$R/.lock\": dump-restore up (pid $UP) is working on this root"
	assert_equal "${stderr_lines[1]}" "dump-restore: hint: wait until it ends, or stop it; status can be read meanwhile"
	run --separate-stderr dump-restore down --root "$R"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "dump-restore: error: could not lock \"$R/.lock\": dump-restore up (pid $UP) is working on this root"
	# status reads, and changes nothing: the world is loading, truly.
	run --separate-stderr dump-restore status --root "$R" --format csv
	assert_success
	assert_line --index 1 --regexp '^slow,loading,'
	kill -9 "$UP"
	wait "$UP" || true
	UP=
}

@test "dump-restore: two ups at once on one root: one works, the other is refused, the world runs" {
	dump-restore up --root "$R" --progress never "$SRC/quick-2024-03-01T02:00:00Z.sql.gz" >"$R.1" 2>&1 &
	a=$!
	dump-restore up --root "$R" --progress never "$SRC/quick-2024-03-01T02:00:00Z.sql.gz" >"$R.2" 2>&1 &
	b=$!
	ra=0 rb=0
	wait "$a" || ra=$?
	wait "$b" || rb=$?
	assert_equal "$((ra + rb))" 1
	grep -q 'is working on this root' "$R.1" "$R.2"
	run dump-restore status --root "$R" --format csv
	assert_line --index 1 --regexp '^quick,running,'
}

@test "dump-restore: a reused pid in instance.state is never signalled" {
	dump-restore up --root "$R" --progress never "$SRC/two" >/dev/null
	pa=$(sed -n 's/^pid=//p' "$R/alpha/instance.state")
	pb=$(sed -n 's/^pid=//p' "$R/beta/instance.state")
	# alpha's server dies; its pid "is reused" by beta's server.
	kill -9 "$pa"
	wait_for 10 eval '! [ -e /proc/'"$pa"' ]'
	sed -i "s/^pid=$pa\$/pid=$pb/" "$R/alpha/instance.state"
	run dump-restore status --root "$R" --format csv
	assert_line --index 1 --regexp '^alpha,stopped,'
	assert_line --index 2 --regexp '^beta,running,'
	run --separate-stderr dump-restore down --root "$R" alpha
	assert_success
	assert [ -e "/proc/$pb" ]
	run mariadb --defaults-extra-file="$R/worlds.cnf" --defaults-group-suffix=_beta -N -B -e 'SELECT COUNT(*) FROM game.t'
	assert_output 3
}

@test "dump-restore: a world name with a leading dot or dash is refused naming the file, by plan and up alike" {
	mkdir -p "$R.src"
	cp "$SRC/quick-2024-03-01T02:00:00Z.sql.gz" "$R.src/.hidden-2024-03-01.sql.gz"
	cp "$SRC/quick-2024-03-01T02:00:00Z.sql.gz" "$R.src/-dash-2024-03-01.sql.gz"
	for cmd in plan up; do
		run --separate-stderr dump-restore "$cmd" --root "$R" --progress never "$R.src/.hidden-2024-03-01.sql.gz"
		assert_failure 1
		assert_equal "${stderr_lines[0]}" "dump-restore: error: could not use \"$R.src/.hidden-2024-03-01.sql.gz\": world name \".hidden\" must start with a letter or a digit and hold only letters, digits, '-', '_' and '.'"
		assert_equal "${stderr_lines[1]}" "dump-restore: hint: rename the file"
	done
	run --separate-stderr dump-restore plan "$R.src/-dash-2024-03-01.sql.gz"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "dump-restore: error: could not use \"$R.src/-dash-2024-03-01.sql.gz\": world name \"-dash\" must start with a letter or a digit and hold only letters, digits, '-', '_' and '.'"
	assert [ ! -e "$R/.hidden" ]
}

@test "dump-restore: two worlds that differ only by case are refused, in the sources and against the root" {
	mkdir -p "$R.src" "$R.src2"
	cp "$SRC/quick-2024-03-01T02:00:00Z.sql.gz" "$R.src/World7-2024-03-01.sql.gz"
	cp "$SRC/quick-2024-03-01T02:00:00Z.sql.gz" "$R.src/world7-2024-03-01.sql.gz"
	run --separate-stderr dump-restore up --root "$R" --progress never "$R.src"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "dump-restore: error: worlds \"World7\" (\"$R.src/World7-2024-03-01.sql.gz\") and \"world7\" (\"$R.src/world7-2024-03-01.sql.gz\") differ only by case: their worlds.cnf groups would be one"
	assert [ ! -e "$R/world7" ]
	dump-restore up --root "$R" --progress never "$R.src/world7-2024-03-01.sql.gz" >/dev/null
	run --separate-stderr dump-restore up --root "$R" --progress never "$R.src/World7-2024-03-01.sql.gz"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "dump-restore: error: could not use \"$R.src/World7-2024-03-01.sql.gz\": world \"World7\" differs only by case from world \"world7\" in \"$R\""
	assert [ ! -e "$R/World7" ]
}

@test "dump-restore: up killed while the server of a deep root starts: down removes its socket directory in /tmp too" {
	R=$DBOPS_SERVER_ROOT/life-$(printf 'd%.0s' {1..100})
	dump-restore up --root "$R" --progress never "$SRC/quick-2024-03-01T02:00:00Z.sql.gz" >/dev/null 2>&1 &
	UP=$!
	wait_for 120 server_spawned quick
	kill -9 "$UP"
	wait "$UP" || true
	UP=
	sock=$(sed -n 's/^socket="\(.*\)"$/\1/p' "$R/quick/my.cnf")
	assert_regex "$sock" '^/tmp/dbops-[A-Za-z0-9]{6}/mysqld.sock$'
	run --separate-stderr dump-restore down --root "$R"
	assert_success
	assert_equal "$(procs_under "$R/quick")" ""
	assert [ ! -e "$(dirname "$sock")" ]
}
