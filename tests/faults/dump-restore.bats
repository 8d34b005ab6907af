#!/usr/bin/env bats
# Faults for dump-restore (issue 19): up killed with -9 at FAULT_RUNS random
# moments (servers initialising and starting, dumps loading, old worlds
# being replaced), sometimes with the worlds' MariaDB servers killed at the
# same moment; then up again brings every world to its dump (the oracle:
# the rows and CHECKSUM TABLE of each table that gen-worlds.sh recorded from
# the server the dump was made from), and down leaves no server, no socket
# and no pid file. Then the server killed in the middle of a load, a full
# disk, a dump the user cannot read and a port taken: one precise error
# naming the world, exit 1, the world marked failed, never running.
#
# One data set for the file (gen-worlds.sh, 2 worlds, dumps at 02:00 and
# 14:00). FAULT_RUNS (default 1; make faults: 100) and FAULT_SEED as in
# tests/lib/faults-servers.bash.

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/helpers
	dbops_server_root
	export TZ=UTC
	export DUMPS=$DBOPS_SERVER_ROOT/dumps
	"$DBOPS_TOP/tests/data/gen-worlds.sh" --worlds 2 --rows 200 \
		--build "$DBOPS_BUILD" "$DUMPS" >/dev/null 2>"$DBOPS_SERVER_ROOT/gen.log" || {
		cat "$DBOPS_SERVER_ROOT/gen.log" >&2
		return 1
	}
}

teardown_file() {
	load ../lib/helpers
	load ../lib/faults-servers
	local root
	for root in "$DBOPS_SERVER_ROOT"/f* "$DBOPS_SERVER_ROOT"/full*/r; do
		[ -d "$root" ] && dump-restore down --root "$root" >/dev/null 2>&1
	done
	fault_umount_all
	stop_servers
}

setup() {
	load ../lib/helpers
	load ../lib/faults-servers
	export TZ=UTC
	R=$DBOPS_SERVER_ROOT/f$BATS_TEST_NUMBER
}

teardown() {
	[ -n "${HELD_PID:-}" ] && kill "$HELD_PID" 2>/dev/null
	if [ -d "$R" ]; then
		dump-restore down --root "$R" >/dev/null 2>&1 ||
			setpriv --reuid=nobody --regid=nogroup --clear-groups \
				dump-restore down --root "$R" >/dev/null 2>&1
	fi
	true
}

# world_sql ROOT WORLD SQL: as the analyst, through worlds.cnf.
world_sql() {
	mariadb --defaults-extra-file="$1/worlds.cnf" \
		--defaults-group-suffix="_$2" -N -B -e "$3"
}

# at_dump ROOT WORLD TIME: every table of the world holds the rows and the
# CHECKSUM TABLE value that gen-worlds.sh recorded for the dump of TIME.
at_dump() {
	local table rows sum got
	while read -r table rows sum; do
		got=$(world_sql "$1" "$2" "SELECT COUNT(*) FROM game.\`$table\`")
		assert_equal "$2.$table rows $got" "$2.$table rows $rows"
		got=$(world_sql "$1" "$2" "CHECKSUM TABLE game.\`$table\`" | cut -f2)
		assert_equal "$2.$table checksum $got" "$2.$table checksum $sum"
	done <"$DUMPS/expected-$2-$3.txt"
}

# nothing_left ROOT: no MariaDB server or install script works under ROOT,
# no socket, no pid file, no world directory.
nothing_left() {
	assert_equal "$(procs_named_under "$1" mariadbd mysqld mariadb-install-db mariadb-install)" ""
	assert_equal "$(find "$1" \( -name '*.sock' -o -name '*.pid' -o -name instance.state \) 2>/dev/null)" ""
	assert_equal "$(find "$1" -mindepth 1 -maxdepth 1 -type d 2>/dev/null)" ""
}

# assert_stderr_line ARGS: assert_line over $stderr.
# shellcheck disable=SC2034,SC2154 # bats sets stderr; assert_line reads output
assert_stderr_line() {
	local output=$stderr
	local -a lines=("${stderr_lines[@]}")
	assert_line "$@"
}

# dr_up ROOT AT: up of every world to AT, its table in CSV.
dr_up() {
	dump-restore up --root "$1" --progress never --format csv --at "$2" "$DUMPS"
}

@test "faults dump-restore: up killed -9 at random moments (its servers killed too, at times): up again brings every world to its dump, down leaves nothing" {
	local runs run_no ms at t w killed=0 also=0 pids pid k start span
	fault_seed
	runs=$(fault_runs 1)
	# The moments fall within what an up takes here (measured once: the
	# worlds replaced, 14:00 to 02:00), plus a tenth.
	dr_up "$R" '2024-03-01 15:00' >/dev/null
	start=$(date +%s%N)
	dr_up "$R" '2024-03-01 03:00' >/dev/null
	span=$((($(date +%s%N) - start) / 1000000 * 11 / 10))
	echo "# an up takes about $span ms"
	for ((run_no = 1; run_no <= runs; run_no++)); do
		# Every up changes the worlds: 14:00 and 02:00 by turns.
		if ((run_no % 2)); then at='2024-03-01 15:00' t=2024-03-01T14:00:00Z; else at='2024-03-01 03:00' t=2024-03-01T02:00:00Z; fi
		fault_ms "$span"
		ms=$FAULT_MS
		fault_kill_at "$ms" "$R.log" dump-restore up --root "$R" --progress never --at "$at" "$DUMPS"
		killed=$((killed + FAULT_KILLED))
		echo "# run $run_no: kill after $ms ms (landed: $FAULT_KILLED)"
		# A third of the time the servers die with it (the host's OOM
		# killer, a power cut of the test bench).
		if ((RANDOM % 3 == 0)); then
			also=$((also + 1))
			# (one may end between the look and the kill). The next up
			# comes at once: a server still exiting passes /proc's look
			# as running, and up keeps a world only if it answers.
			pids=$(procs_named_under "$R" mariadbd mysqld mariadb-install-db | cut -d' ' -f1)
			for pid in $pids; do
				kill -9 "$pid" 2>/dev/null || true
			done
			echo "# run $run_no: the servers killed too"
		fi
		run --separate-stderr dr_up "$R" "$at"
		assert_success
		for w in world1 world2; do
			# kept: the killed up had brought it up already.
			assert_line --regexp "^$w,(running|kept),[0-9]+,"
			at_dump "$R" "$w" "$t"
		done
		# Down every other run, so that a killed up also meets running
		# worlds it replaces.
		if ((run_no % 2 == 0 || run_no == runs)); then
			run --separate-stderr dump-restore down --root "$R"
			assert_success
			nothing_left "$R"
		fi
	done
	echo "# $runs runs, $killed kills landed, servers killed too in $also" >&3
}

@test "faults dump-restore: the server killed -9 in the middle of a load: one error naming the world, exit 1, failed in status; the re-run completes" {
	local src=$DBOPS_SERVER_ROOT/slow up_pid pid i rc=0
	mkdir -p "$src"
	printf '%s\n' "CREATE DATABASE game;" "USE game;" "CREATE TABLE t (i INT PRIMARY KEY);" \
		"INSERT INTO t VALUES (1),(2),(3);" "SELECT SLEEP(2);" "INSERT INTO t VALUES (4);" \
		"-- Dump completed on 2024-03-01  2:00:00" | gzip >"$src/slow-2024-03-01T02:00:00Z.sql.gz"
	dump-restore up --root "$R" --progress never "$src" >"$R.out" 2>"$R.err" &
	up_pid=$!
	for ((i = 0; i < 3000; i++)); do
		grep -q '^status=loading' "$R/slow/world.state" 2>/dev/null && break
		sleep 0.01
	done
	sleep 0.3
	pid=$(sed -n 's/^pid=//p' "$R/slow/instance.state")
	kill -9 "$pid"
	wait "$up_pid" || rc=$?
	assert_equal "$rc" 1
	run cat "$R.err"
	assert_output "dump-restore: error: world \"slow\" from \"$src/slow-2024-03-01T02:00:00Z.sql.gz\": line 5: Lost connection to server during query (statement: \"SELECT SLEEP(2)\")"
	run dump-restore status --root "$R" --format csv
	assert_line --index 1 "slow,failed,,,$src/slow-2024-03-01T02:00:00Z.sql.gz,2024-03-01 02:00:00+00:00,,$(echo "$output" | sed -n '2s/.*00:00,,\([0-9]*\),.*/\1/p'),\"line 5: Lost connection to server during query (statement: \"\"SELECT SLEEP(2)\"\")\""
	run --separate-stderr dump-restore up --root "$R" --progress never --format csv "$src"
	assert_success
	assert_line --index 1 --regexp '^slow,running,'
	assert_equal "$(world_sql "$R" slow 'SELECT GROUP_CONCAT(i ORDER BY i) FROM game.t')" "1,2,3,4"
	run --separate-stderr dump-restore down --root "$R"
	assert_success
	nothing_left "$R"
}

@test "faults dump-restore: a full disk during the load: the error names the world, exit 1, failed, never running; down leaves nothing" {
	need_root "to mount a tmpfs"
	local src=$DBOPS_SERVER_ROOT/big full=$DBOPS_SERVER_ROOT/full$BATS_TEST_NUMBER
	mkdir -p "$src"
	# 400 MB of rows from a dump of a few hundred bytes.
	printf '%s\n' "CREATE DATABASE game;" "USE game;" "CREATE TABLE t (i INT PRIMARY KEY, s TEXT);" \
		"INSERT INTO t SELECT seq, REPEAT('x', 4000) FROM seq_1_to_100000;" \
		"-- Dump completed on 2024-03-01  2:00:00" | gzip >"$src/big-2024-03-01T02:00:00Z.sql.gz"
	fault_tmpfs "$full" 256m
	R=$full/r
	run --separate-stderr dump-restore up --root "$R" --progress never --format csv "$src"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "dump-restore: error: world \"big\" from \"$src/big-2024-03-01T02:00:00Z.sql.gz\": line 4: The table 't' is full (statement: \"INSERT INTO t SELECT seq, REPEAT('x', 4000) FROM seq_1_to_100000\")"
	assert_equal "${#stderr_lines[@]}" 1
	assert_line --index 1 "big,failed,,,$src/big-2024-03-01T02:00:00Z.sql.gz,2024-03-01 02:00:00+00:00,,,"
	run dump-restore status --root "$R" --format csv
	assert_line --index 1 --partial ",\"line 4: The table 't' is full (statement: "
	# The server of the failed world is stopped.
	assert_equal "$(procs_named_under "$R" mariadbd mysqld)" ""
	run --separate-stderr dump-restore down --root "$R"
	assert_success
	nothing_left "$R"
}

@test "faults dump-restore: a disk too small for the data directory: mariadb-install-db's error, each world failed, exit 1; down leaves nothing" {
	need_root "to mount a tmpfs"
	local full=$DBOPS_SERVER_ROOT/full$BATS_TEST_NUMBER w
	fault_tmpfs "$full" 1m
	R=$full/r
	run --separate-stderr dump-restore up --root "$R" --progress never --format csv --at '2024-03-01 03:00' "$DUMPS"
	assert_failure 1
	for w in world1 world2; do
		assert_line --index $((${w#world} + 0)) --regexp "^$w,failed,,,"
		assert_stderr_line "dump-restore: error: could not initialise MariaDB data directory \"$R/$w/data\": mariadb-install-db exited with status 1"
		assert_stderr_line --regexp "^dump-restore: error: world \"$w\" from \".*\": its server did not start \\(see the error above\\)\$"
	done
	assert_stderr_line --partial 'out of disk space'
	assert_equal "${stderr_lines[-1]}" 'dump-restore: error: 2 of 2 worlds not brought up: "world1" (failed), "world2" (failed)'
	run --separate-stderr dump-restore down --root "$R"
	assert_success
	nothing_left "$R"
}

@test "faults dump-restore: a dump its user cannot read: the error names the world and the reason, exit 1; the other world comes up" {
	need_root "to run up as another user"
	local src=$R.src as=(setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/nonexistent)
	mkdir -p "$src" "$R"
	cp "$DUMPS/world1-2024-03-01T02:00:00Z.sql.gz" "$DUMPS/world2_20240301_020000.sql.gz" "$src/"
	chmod 0755 "$src" && chmod 0644 "$src"/*
	chmod 0600 "$src/world2_20240301_020000.sql.gz"
	chown nobody: "$R"
	# As a user: root reads every file.
	run --separate-stderr "${as[@]}" dump-restore up --root "$R" --progress never --format csv "$src"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "dump-restore: error: world \"world2\" from \"$src/world2_20240301_020000.sql.gz\": could not open the dump: Permission denied"
	assert_equal "${stderr_lines[1]}" 'dump-restore: error: 1 of 2 worlds not brought up: "world2" (failed)'
	assert_line --index 1 --regexp '^world1,running,'
	assert_line --index 2 --regexp '^world2,failed,,,'
	at_dump "$R" world1 2024-03-01T02:00:00Z
	run --separate-stderr "${as[@]}" dump-restore down --root "$R"
	assert_success
	nothing_left "$R"
}

@test "faults dump-restore: the port of --port-base taken: the world runs on the next free one" {
	hold_port
	run --separate-stderr dump-restore up --root "$R" --progress never --format csv --port-base "$HELD_PORT" \
		"$DUMPS/world1-2024-03-01T02:00:00Z.sql.gz"
	assert_success
	assert_line --index 1 --regexp '^world1,running,[0-9]+,'
	port=$(cut -d, -f3 <<<"${lines[1]}")
	[ "$port" != "$HELD_PORT" ] || fail "world1 reported on the taken port $HELD_PORT"
	at_dump "$R" world1 2024-03-01T02:00:00Z
	run --separate-stderr dump-restore down --root "$R"
	assert_success
	nothing_left "$R"
}

@test "faults dump-restore: a root whose world directories root cannot write (root_squash, no CAP_DAC_OVERRIDE): each world's error names world.state and why, exit 1, none reported running" {
	need_root "root without CAP_DAC_OVERRIDE"
	local w
	# As root without the capability that passes over file modes, like
	# root on an NFS root_squash export: the world directories belong to
	# the server's user, 0700.
	run --separate-stderr no_dac dump-restore up --root "$R" --progress never --format csv --at '2024-03-01 03:00' "$DUMPS"
	assert_failure 1
	for w in world1 world2; do
		assert_line --regexp "^$w,failed,,,"
		assert_stderr_line --regexp "^dump-restore: error: world \"$w\" from \"[^\"]*\": could not write \"$R/$w/world.state\": Permission denied\$"
	done
	assert_equal "${stderr_lines[2]}" 'dump-restore: error: 2 of 2 worlds not brought up: "world1" (failed), "world2" (failed)'
	assert_equal "${#stderr_lines[@]}" 3
	# Nothing that status and down would not see.
	assert_equal "$(ls -A "$R")" $'.lock\nworlds.cnf'
	run --separate-stderr dump-restore down --root "$R"
	assert_success
	nothing_left "$R"
}
