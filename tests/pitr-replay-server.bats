#!/usr/bin/env bats
# pitr-replay restore: how it runs the server. Status queries that cannot
# run, the server log line quoted for a failure, what is left in the data
# directory, signals before and during the extraction, the server user's
# access to the archive, binaries, port and settings checked before
# extraction.
#
# Made once for the file: the archive of tests/data/gen-pitr.sh, and from it
# a derived cluster (setup_file): base-plain restored by pitr-replay to
# transaction 10 and promoted, then run with archiving into a new archive,
# from which three base backups are taken:
#
#   base-m2     of the restored cluster as pitr-replay left it (M2), after
#               row 1 of table m (database postgres); then row 2, restore
#               point rp_m2, row 3
#   base-nopg   after DROP DATABASE postgres (H2) and row 1 of table n in
#               template1; then row 2, restore point rp_nopg, row 3
#   base-mc     after a restart with max_connections=150, without its
#               postgresql.conf (H5); then row 4, restore point rp_mc, row 5
#
# Each test works in a directory of its own ($W).

bats_require_minimum_version 1.5.0
load lib/pitr

# derive: the derived cluster above, in $DERIVED.
derive() {
	local d=$DERIVED srv=$DERIVED/srv xid10 archived current
	xid10=$(awk '$1 == 10 { print $2 }' "$PITR/transactions.txt")
	mkdir -p "$d/archive" && chmod 0755 "$d"
	pitr-replay restore -b "$PITR/base-plain" -a "$PITR/archive" -D "$d/data" \
		--target-xid "$xid10" --action promote >"$d/restore.out" 2>&1 || return 1
	# What pitr-replay left, for the M2 test.
	cp "$d/data/postgresql.auto.conf" "$d/restored-auto.conf"
	ls -A "$d/data" >"$d/restored-ls"
	cp "$d/data/pg_wal/"*.history "$d/archive/"
	[ "$(id -u)" != 0 ] || chown -R postgres: "$d/archive"
	local arch=(--set archive_mode=on --set "archive_command=cp %p $d/archive/%f")
	"$DBOPS_DRIVER" start postgres "$srv" --datadir "$d/data" "${arch[@]}" >"$d/srv.info" || return 1
	export PGHOST PGPORT PGUSER=postgres
	PGHOST=$(sed -n 's/^socket_dir=//p' "$d/srv.info")
	PGPORT=$(sed -n 's/^port=//p' "$d/srv.info")
	q() { psql -d "$1" -AtX -v ON_ERROR_STOP=1 -c "$2" >/dev/null; }
	bb() { pg_basebackup -d "dbname=$1" -D "$d/$2" -Fp -X none -c fast; }
	q postgres "create table m (id int)" &&
		q postgres "insert into m values (1)" &&
		bb postgres base-m2 &&
		q postgres "insert into m values (2)" &&
		q postgres "select pg_create_restore_point('rp_m2')" &&
		q postgres "insert into m values (3)" &&
		q template1 "drop database postgres" &&
		q template1 "create table n (id int)" &&
		q template1 "insert into n values (1)" &&
		bb template1 base-nopg &&
		q template1 "insert into n values (2)" &&
		q template1 "select pg_create_restore_point('rp_nopg')" &&
		q template1 "insert into n values (3)" || return 1
	"$DBOPS_DRIVER" stop "$srv" || return 1
	"$DBOPS_DRIVER" start postgres "$srv" --datadir "$d/data" "${arch[@]}" \
		--set max_connections=150 >"$d/srv.info" || return 1
	PGHOST=$(sed -n 's/^socket_dir=//p' "$d/srv.info")
	PGPORT=$(sed -n 's/^port=//p' "$d/srv.info")
	bb template1 base-mc && rm "$d/base-mc/postgresql.conf" &&
		q template1 "insert into n values (4)" &&
		q template1 "select pg_create_restore_point('rp_mc')" &&
		q template1 "insert into n values (5)" || return 1
	current=$(psql -d template1 -AtX -c "select pg_walfile_name(pg_switch_wal())") || return 1
	for ((i = 0; i < 600; i++)); do
		archived=$(psql -d template1 -AtX -c "select last_archived_wal from pg_stat_archiver")
		[ "$archived" \> "$current" ] || [ "$archived" = "$current" ] && break
		sleep 0.1
	done
	"$DBOPS_DRIVER" stop "$srv" || return 1
	[ "$(id -u)" != 0 ] || chmod -R a+rX "$d/archive"
}

setup_file() {
	load lib/helpers
	pitr_generate || return 1
	export DERIVED=$DBOPS_SERVER_ROOT/derived
	if ! derive 2>"$DBOPS_SERVER_ROOT/derive.log"; then
		cat "$DBOPS_SERVER_ROOT/derive.log" "$DERIVED/restore.out" >&2
		return 1
	fi
}

teardown_file() {
	load lib/helpers
	stop_servers
}

setup() {
	load lib/helpers
	export TZ=UTC
	G=$PITR
	# shellcheck source=/dev/null
	. "$G/points.env"
	W=$(mktemp -d "$DBOPS_SERVER_ROOT/t$BATS_TEST_NUMBER.XXXXXX")
	chmod 0755 "$W"
	PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
}

teardown() {
	local state
	[ -n "${W:-}" ] && [ -d "$W" ] || return 0
	while IFS= read -r state; do
		"$DBOPS_DRIVER" stop "$(dirname "$state")" || true
	done < <(find "$W" -name instance.state)
	[ -z "${BATS_TEST_COMPLETED:-}" ] || rm -rf "$W"
}

# restore_keep DIR [options]: restore with --keep-running into $W/DIR: D is
# the data directory, CONN the connection string.
restore_keep() {
	D=$W/$1
	shift
	run --separate-stderr timeout 300 pitr-replay restore -D "$D" --keep-running "$@"
	assert_success
	assert_equal "${#lines[@]}" 1
	CONN=$output
}

# sql CONN QUERY: one value.
sql() {
	psql "$1" -AtX -v ON_ERROR_STOP=1 -c "$2"
}

# assert_clean DIR: nothing of pitr-replay in the data directory DIR.
assert_clean() {
	assert [ ! -e "$1/pitr-replay" ]
	run grep -E 'pitr-replay|restore_command|recovery_target' "$1/postgresql.auto.conf"
	assert_failure 1
}

@test "pitr-replay-server: a promoted restore leaves no recovery settings and no work directory; a backup of it restores with another kind of target" {
	# The restore derive() made (--target-xid, --action promote).
	run cat "$DERIVED/restored-ls"
	refute_line pitr-replay
	assert_line PG_VERSION
	run grep -E 'restore_command|recovery_target' "$DERIVED/restored-auto.conf"
	assert_failure 1
	# What stays: the restored copy does not archive into the archive it
	# came from.
	run grep -x "archive_mode = 'off'" "$DERIVED/restored-auto.conf"
	assert_success
	# A backup of it, restored to a restore point: no "multiple recovery
	# targets specified", no server log of the earlier run.
	restore_keep d -b "$DERIVED/base-m2" -a "$DERIVED/archive" --target-name rp_m2
	assert_stderr_line "recovered: recovery stopping at restore point \"rp_m2\", time $(sed -n 's/^recovered: recovery stopping at restore point "rp_m2", time //p' <<<"$stderr")"
	run sql "$CONN" "select string_agg(id::text, ',' order by id) from m"
	assert_output "1,2"
	run sql "$CONN" "select id || '|' || tli || '|' || note from ticks order by id"
	assert_output "$(cat "$G/expected/after-10.rows")"
	stop_restored
}

@test "pitr-replay-server: recovery settings and a work directory an earlier recovery left in a backup are removed, with a warning" {
	cp -a "$G/base-plain" "$W/base"
	printf "recovery_target_xid = '740'\nrestore_command = 'false'\n" >>"$W/base/postgresql.auto.conf"
	# As pitr-replay 0.1.0 wrote its block.
	cat >>"$W/base/postgresql.auto.conf" <<-'CONF'

		# Recovery settings written by pitr-replay 0.1.0 at 2026-01-01 00:00:00 UTC:
		# transaction 741 on timeline 1.
		restore_command = 'cd /nonexistent || exit 126'
		recovery_target_xid = '741'
		recovery_target_inclusive = 'on'
		recovery_target_timeline = '1'
		recovery_target_action = 'promote'
		# A restored copy must not archive into the archive it came from;
		# remove this line once it is to become a primary of its own.
		archive_mode = 'off'
	CONF
	mkdir "$W/base/pitr-replay"
	echo "2020-01-01 00:00:00 UTC [1] FATAL:  an old failure" >"$W/base/pitr-replay/server.log"
	D=$W/d
	run --separate-stderr timeout 300 pitr-replay restore -b "$W/base" -a "$G/archive" -D "$D" \
		--target-name rp_dup --action shutdown
	assert_success
	assert_stderr_line "pitr-replay: warning: \"$D/pitr-replay\": removed: the work directory of an earlier pitr-replay, copied by the backup"
	assert_stderr_line "pitr-replay: warning: \"$D/postgresql.auto.conf\": removed 2 recovery setting(s) that an earlier recovery left there"
	assert_stderr_line "pitr-replay: warning: \"$D/postgresql.auto.conf\": removed the recovery settings an earlier pitr-replay left there"
	assert_line "shut down at the target (recovery.signal kept; a later start stops there again)"
	# Shut down at the target: the recovery settings stay for the next
	# start; the work directory goes.
	assert [ ! -e "$D/pitr-replay" ]
	run grep -cE "^(recovery_target_xid|restore_command = '(false|cd /nonexistent)|# Recovery settings written)" "$D/postgresql.auto.conf"
	assert_output 0
	run grep -c "^# BEGIN pitr-replay recovery settings" "$D/postgresql.auto.conf"
	assert_output 1
	run grep -c "^recovery_target_name = 'rp_dup'" "$D/postgresql.auto.conf"
	assert_output 1
}

@test "pitr-replay-server: a backup without a postgres database restores: the status queries go to template1" {
	restore_keep d -b "$DERIVED/base-nopg" -a "$DERIVED/archive" --target-name rp_nopg
	assert_regex "$CONN" " dbname=template1\$"
	run sql "$CONN" "select string_agg(id::text, ',' order by id) from n"
	assert_output "1,2"
	run sql "$CONN" "select count(*) from pg_database where datname = 'postgres'"
	assert_output 0
	stop_restored
}

@test "pitr-replay-server: a status query that cannot run (a catalog file missing from the backup) ends with the server's error quoted, exit 1" {
	cp -a "$G/base-plain" "$W/base"
	rm "$W/base/base/5/1255"
	D=$W/d
	run --separate-stderr timeout 120 pitr-replay restore -b "$W/base" -a "$G/archive" -D "$D" --target-name rp_dup
	assert_failure 1
	assert_regex "${stderr_lines[0]}" "^pitr-replay: error: could not follow the recovery of \"$(rx "$D")\": the server refuses the status query: \"ERROR:  could not open file \"base/5/1255\": No such file or directory( at character [0-9]+)?\"\$"
	assert_stderr_line "pitr-replay: hint: the base backup may lack files (compare it with its backup_manifest: pg_verifybackup); the data directory \"$D\" is left as it is for inspection; the server log is \"$D/pitr-replay/server.log\""
	# The server was stopped.
	assert [ ! -e "$D/postmaster.pid" ]
}

# catches PID SIG: the process PID has a handler for signal number SIG.
catches() {
	local mask
	mask=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$mask" ] && (((0x$mask >> ($2 - 1)) & 1))
}

# big_tar: $W/big.tar.gz, base-plain behind a first member of 1 GiB of
# zeros (a few MB of gzip): reading it takes seconds, both to verify the
# backup and to extract it.
big_tar() {
	mkdir "$W/big"
	truncate -s 1G "$W/big/zeros"
	tar -cf - -C "$W/big" zeros -C "$G/base-plain" . | gzip -1 >"$W/big.tar.gz"
	rm "$W/big/zeros"
}

@test "pitr-replay-server: SIGINT or SIGTERM while the backup is verified, before the extraction, ends restore (and verify) with one line; the next run works" {
	local tool rc sig i
	big_tar
	D=$W/d
	for sig in INT TERM; do
		pitr-replay restore -b "$W/big.tar.gz" -a "$G/archive" -D "$D" --target-name rp_dup \
			>"$W/out" 2>"$W/err" &
		tool=$!
		for ((i = 0; i < 6000; i++)); do
			catches "$tool" "$(kill -l "$sig")" && break
			sleep 0.01
		done
		# Reading the 1 GiB member takes a while: still verifying.
		assert [ ! -e "$D" ]
		kill -"$sig" "$tool"
		rc=0
		wait "$tool" || rc=$?
		assert_equal "$rc" 1
		run cat "$W/err"
		assert_output "pitr-replay: error: interrupted by signal $(kill -l "$sig") during verification: nothing was written"
		assert_equal "$(cat "$W/out")" ""
		assert [ ! -e "$D" ]
	done
	run --separate-stderr timeout 300 pitr-replay restore -b "$G/base-plain" -a "$G/archive" -D "$D" --target-name rp_dup
	assert_success
	assert_line --partial 'recovered: recovery stopping at restore point "rp_dup"'
	# verify says the same.
	pitr-replay verify -b "$W/big.tar.gz" -a "$G/archive" --target-name rp_dup >"$W/out" 2>"$W/err" &
	tool=$!
	for ((i = 0; i < 6000; i++)); do
		catches "$tool" 2 && break
		sleep 0.01
	done
	kill -INT "$tool"
	rc=0
	wait "$tool" || rc=$?
	assert_equal "$rc" 1
	run cat "$W/err"
	assert_output "pitr-replay: error: interrupted by signal 2 during verification: nothing was written"
}

@test "pitr-replay-server: SIGINT during the extraction removes the data directory it was filling, with one line; the next run works" {
	local tool rc=0 i
	big_tar
	D=$W/d
	pitr-replay restore -b "$W/big.tar.gz" -a "$G/archive" -D "$D" --target-name rp_dup \
		>"$W/out" 2>"$W/err" &
	tool=$!
	for ((i = 0; i < 12000; i++)); do
		[ -e "$D/zeros" ] && break
		sleep 0.01
	done
	[ -e "$D/zeros" ] || fail "the extraction never started"
	kill -INT "$tool"
	wait "$tool" || rc=$?
	assert_equal "$rc" 1
	run cat "$W/err"
	assert_output "pitr-replay: error: interrupted by signal 2: removed the data directory \"$D\" it was filling"
	assert [ ! -e "$D" ]
	run --separate-stderr timeout 300 pitr-replay restore -b "$G/base-plain" -a "$G/archive" -D "$D" --target-name rp_dup
	assert_success
	assert_line --partial 'recovered: recovery stopping at restore point "rp_dup"'
}

@test "pitr-replay-server: a backup without postgresql.conf of a server with max_connections=150 restores: the limits come from its pg_control" {
	restore_keep d -b "$DERIVED/base-mc" -a "$DERIVED/archive" --target-name rp_mc
	run sql "$CONN" "show max_connections"
	assert_output 150
	run sql "$CONN" "select string_agg(id::text, ',' order by id) from n"
	assert_output "1,2,3,4"
	stop_restored
}

@test "pitr-replay-server: --set gives the restored server settings; one below the backup's pg_control, or one pitr-replay sets, is refused before the extraction" {
	local b=(-b "$DERIVED/base-mc" -a "$DERIVED/archive" --target-name rp_mc)
	D=$W/d
	run --separate-stderr pitr-replay restore "${b[@]}" -D "$D" --set max_connections=100
	assert_error 'pitr-replay: error: --set max_connections=100 is below the 150 of the server that wrote the WAL (the backup'"'"'s pg_control): recovery would stop on "insufficient parameter settings"'
	assert_stderr_line 'pitr-replay: hint: give max_connections=150 or more, or leave it out'
	assert [ ! -e "$D" ]
	run --separate-stderr pitr-replay restore "${b[@]}" -D "$D" --set port=5999
	assert_error 'pitr-replay: error: invalid value "port=5999" for --set: pitr-replay sets port itself for its run'
	run --separate-stderr pitr-replay restore "${b[@]}" -D "$D" --set recovery_target_xid=5
	assert_error 'pitr-replay: error: invalid value "recovery_target_xid=5" for --set: pitr-replay sets recovery_target_xid itself for its run'
	run --separate-stderr pitr-replay restore "${b[@]}" -D "$D" --set work_mem
	assert_error 'pitr-replay: error: invalid value "work_mem" for --set: expected NAME=VALUE, such as work_mem=64MB'
	run --separate-stderr pitr-replay window -a "$G/archive" --set work_mem=1MB
	assert_error 'pitr-replay: error: --set and --conf are for restore and verify'
	assert [ ! -e "$D" ]
	restore_keep d "${b[@]}" --set max_connections=200 --set work_mem=7MB
	run sql "$CONN" "select current_setting('max_connections') || ' ' || current_setting('work_mem')"
	assert_output "200 7MB"
	stop_restored
}

@test "pitr-replay-server: --conf FILE is the server's configuration, includes and all; its data_directory and external_pid_file never apply" {
	mkdir -p "$W/etc/conf.d"
	cat >"$W/etc/postgresql.conf" <<-CONF
		data_directory = '/var/lib/postgresql/nonexistent'
		external_pid_file = '$W/etc/other.pid'
		work_mem = '9MB'
		include_dir = 'conf.d'
	CONF
	echo "temp_buffers = '3MB'" >"$W/etc/conf.d/x.conf"
	chmod -R a+rX "$W/etc"
	restore_keep d -b "$G/base-plain" -a "$G/archive" --target-name rp_dup --conf "$W/etc/postgresql.conf"
	run sql "$CONN" "select current_setting('work_mem') || ' ' || current_setting('temp_buffers') || ' ' || current_setting('data_directory')"
	assert_output "9MB 3MB $D"
	assert [ ! -e "$W/etc/other.pid" ]
	stop_restored
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$G/archive" -D "$W/d2" --conf "$W/etc/nothing.conf"
	assert_error "pitr-replay: error: could not use \"$W/etc/nothing.conf\" as --conf: No such file or directory"
	assert [ ! -e "$W/d2" ]
}

@test "pitr-replay-server: a server program of another major version, or none, is refused before the extraction, naming the Debian package" {
	mkdir "$W/bin"
	printf '#!/bin/sh\necho "postgres (PostgreSQL) 14.9 (Debian 14.9-1)"\n' >"$W/bin/postgres"
	chmod 0755 "$W/bin/postgres"
	D=$W/d
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$G/archive" -D "$D" --pg-bindir "$W/bin"
	assert_error "pitr-replay: error: \"$W/bin/postgres\" is PostgreSQL 14, but the base backup is PostgreSQL $PG_MAJOR"
	assert_stderr_line "pitr-replay: hint: install the Debian package postgresql-$PG_MAJOR (apt-get install postgresql-$PG_MAJOR) and give --pg-bindir its directory, or leave --pg-bindir out"
	assert [ ! -e "$D" ]
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$G/archive" -D "$D" --pg-bindir "$W/nothing"
	assert_error "pitr-replay: error: \"$W/nothing/postgres\": no PostgreSQL server program there (--pg-bindir)"
	assert [ ! -e "$D" ]
}

@test "pitr-replay-server: a busy --port is refused before the extraction" {
	local port listener
	command -v python3 >/dev/null || skip "needs python3 to hold a port"
	python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
time.sleep(120)' >"$W/port" &
	listener=$!
	for ((i = 0; i < 500; i++)); do
		[ -s "$W/port" ] && break
		sleep 0.01
	done
	port=$(cat "$W/port")
	D=$W/d
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$G/archive" -D "$D" --port "$port"
	kill "$listener"
	assert_error "pitr-replay: error: could not use port $port on 127.0.0.1: Address already in use"
	assert_stderr_line "pitr-replay: hint: another program listens there: choose another --port, or leave --port out for a free one"
	assert [ ! -e "$D" ]
}

@test "pitr-replay-server: a segment recovery needs that the server's user cannot read is named before the server starts; the data directory is left as found" {
	[ "$(id -u)" = 0 ] || skip "the server runs as us: we read what it reads"
	cp -al "$G/archive" "$W/a"
	rm "$W/a/000000010000000000000003"
	cp "$G/archive/000000010000000000000003" "$W/a/"
	chmod 0600 "$W/a/000000010000000000000003"
	D=$W/d
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$W/a" -D "$D" --target-name rp_dup
	assert_error "pitr-replay: error: the server's user postgres could not read \"$W/a/000000010000000000000003\": Permission denied"
	assert_stderr_line "pitr-replay: hint: recovery may read it (the server reads ahead past the target): make the archive's files readable by postgres (chmod o+r, or its group)"
	assert [ ! -e "$D" ]
	# The server reads ahead past the target, across segment switches
	# (PostgreSQL 15 reads 000000010000000000000005 for rp_dup on timeline
	# 1, in segment 3): a segment after the target is named too. A segment
	# after a gap in the archive is never asked for.
	rm "$W/a/000000010000000000000003" "$W/a/000000020000000000000004"
	cp "$G/archive/000000010000000000000003" "$G/archive/000000020000000000000004" "$W/a/"
	rm "$W/a/000000010000000000000005"
	cp "$G/archive/000000010000000000000005" "$W/a/"
	chmod 0600 "$W/a/000000010000000000000005"
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$W/a" -D "$D" --target-name rp_dup --timeline 1
	assert_error "pitr-replay: error: the server's user postgres could not read \"$W/a/000000010000000000000005\": Permission denied"
	assert [ ! -e "$D" ]
	rm "$W/a/000000010000000000000004"
	run --separate-stderr timeout 300 pitr-replay restore -b "$G/base-plain" -a "$W/a" -D "$D" --target-name rp_dup \
		--timeline 1 --action shutdown
	assert_success
}

@test "pitr-replay-server: a recovery that fails quotes the server's line that explains it, never the polling's FATALs; libpq's warnings stay off stderr" {
	local tool pm startup="" rc=0 i line
	cp -al "$G/archive" "$W/a"
	D=$W/d
	pitr-replay restore -b "$G/base-plain" -a "$W/a" -D "$D" --target-name rp_late --timeline 1 \
		>"$W/out" 2>"$W/err" &
	tool=$!
	# Between the checks and the server's start, a segment recovery needs
	# becomes unreadable to the server (an archive job changed it).
	for ((i = 0; i < 12000; i++)); do
		[ -e "$D/recovery.signal" ] && break
		sleep 0.01
	done
	kill -STOP "$tool"
	rm "$W/a/000000010000000000000006"
	cp "$G/archive/000000010000000000000006" "$W/a/"
	if [ "$(id -u)" = 0 ]; then
		chmod 0600 "$W/a/000000010000000000000006"
	else
		chmod 0000 "$W/a/000000010000000000000006"
	fi
	kill -CONT "$tool"
	# Hold the startup process until the polling was turned away: the
	# server log then has "FATAL: the database system is ..." lines first.
	for ((i = 0; i < 6000; i++)); do
		pm=$(head -1 "$D/postmaster.pid" 2>/dev/null) && [ -n "$pm" ] &&
			startup=$(pgrep -P "$pm" -f 'startup') && break
		sleep 0.01
	done
	if [ -n "$startup" ] && kill -STOP "$startup" 2>/dev/null; then
		for ((i = 0; i < 3000; i++)); do
			grep -qE 'FATAL:  the database system is (starting up|not yet accepting connections)' \
				"$D/pitr-replay/server.log" && break
			sleep 0.01
		done
		kill -CONT "$startup"
	fi
	wait "$tool" || rc=$?
	assert_equal "$rc" 1
	run grep -cE 'FATAL:  the database system is (starting up|not yet accepting connections)' "$D/pitr-replay/server.log"
	assert [ "$output" -ge 1 ]
	run cat "$W/err"
	assert_line --index 0 'pitr-replay: error: recovery failed: the server said "FATAL:  could not restore file "000000010000000000000006" from archive: command not executable"'
	assert_line --index 1 'pitr-replay: detail: copying a file from the archive failed (see the restore_command'"'"'s message in the server log)'
	assert_line --index 2 --regexp '^pitr-replay: detail: the restore_command said ".*000000010000000000000006.*: Permission denied"$'
	assert_line --index 3 "pitr-replay: hint: the data directory \"$D\" is left as it is for inspection; the server log is \"$D/pitr-replay/server.log\""
	for line in "${lines[@]}"; do
		[[ $line == 'pitr-replay: '* ]] || fail "not one of pitr-replay's lines: $line"
	done
}

@test "pitr-replay-server: a limit the WAL raises after the backup (a restart with max_connections=150) is set before extraction; a lower --set is refused naming the record" {
	# base-nopg's pg_control says max_connections=100; the restart before
	# rp_mc wrote 150 into the WAL (a parameter-change record) on timeline 3.
	D=$W/d
	run --separate-stderr pitr-replay restore -b "$DERIVED/base-nopg" -a "$DERIVED/archive" -D "$D" \
		--target-name rp_mc --set max_connections=120
	assert_failure 1
	assert_regex "${stderr_lines[0]}" '^pitr-replay: error: --set max_connections=120 is below the 150 of the server that wrote the WAL \(a parameter change in the WAL at [0-9A-F]+/[0-9A-F]+\): recovery would stop on "insufficient parameter settings"$'
	assert_equal "${stderr_lines[1]}" 'pitr-replay: hint: give max_connections=150 or more, or leave it out'
	assert [ ! -e "$D" ]
	# The record's LSN is the one pg_waldump shows.
	lsn=$(sed -E 's/.* at ([0-9A-F]+\/[0-9A-F]+)\).*/\1/' <<<"${stderr_lines[0]}")
	run bash -c "/usr/lib/postgresql/$PG_MAJOR/bin/pg_waldump -p '$DERIVED/archive' -t 3 -r XLOG -s '$lsn' 2>/dev/null | head -1"
	assert_output --partial "PARAMETER_CHANGE max_connections=150"
	restore_keep d2 -b "$DERIVED/base-nopg" -a "$DERIVED/archive" --target-name rp_mc
	run sql "$CONN" "select string_agg(id::text, ',' order by id) from n"
	assert_output "1,2,3,4"
	run sql "$CONN" "show max_connections"
	assert_output "150"
	stop_restored
}
