#!/usr/bin/env bats
# snap-import sync tells failures apart (issue 15, S2-1, S2-2, S2-15): a
# bad row or a bad header is recorded once, with its line, and waits for
# the file to change; a passing failure (a query cancelled, a connection
# terminated, a lock timeout: real ones, on a real server) is tried again
# with backoff and the file imported in full (also across a server
# restart); sync --once fails while a file is failed; retry and forget let
# an operator act.

bats_require_minimum_version 1.5.0
load lib/snapsync

setup_file() {
	load lib/helpers
	start_postgres
}

teardown_file() {
	load lib/helpers
	stop_servers
}

setup() {
	load lib/helpers
	W=$(mktemp -d "$DBOPS_SERVER_ROOT/work.XXXXXX")
	chmod 0755 "$W"
	mkdir -m 0755 "$W/in"
	T=f$BATS_TEST_NUMBER
	GEN=$DBOPS_BUILD/tests/gen-snapshot
}

teardown() {
	# shellcheck disable=SC2086 # lists of pids
	stop_all ${LOCKER:-} ${SYNC_PID:-}
}

start_sync() {
	snap-import sync -D "$W/in" -t "$T" --settle 0 "$@" 2>"$W/sync.log" &
	SYNC_PID=$!
	wait_for "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted" 1
}

# copy_started: the server is storing the rows of a COPY (PostgreSQL 14+
# shows them; before, a COPY that has run for a second).
copy_started() {
	local q
	if [ "$(sql 'SHOW server_version_num')" -ge 140000 ]; then
		q="SELECT coalesce(sum(tuples_processed), 0) > 1000 FROM pg_stat_progress_copy"
	else
		q="SELECT count(*) > 0 FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'COPY %' AND now() - query_start > interval '1 second'"
	fi
	wait_for "$q" t
}

sync_backend() { echo "(SELECT pid FROM pg_stat_activity WHERE application_name = 'snap-import' AND query LIKE 'COPY %')"; }

imported_rows() { sql "SELECT coalesce(sum(rows), 0) || ' ' || count(*) FROM snap_import_files WHERE target_table = 'public.$T' AND status = 'imported'"; }

# big_file NAME: a file whose COPY takes seconds, moved in.
big_file() {
	"$GEN" --bytes 150000000 --seed 7 >"$W/$1"
	mv "$W/$1" "$W/in/$1"
}

@test "snap-import sync: a bad row and a bad header are recorded once with their line; --once fails naming them (S2-2, S2-15)" {
	sql "CREATE TABLE $T (id int, name text, snapshot_id bigint)"
	printf 'id,name\n1,a\nx,b\n' >"$W/in/bad_row.csv"
	printf 'id,name,name\n1,a,b\n' >"$W/in/dup_header.csv"
	printf 'id,name\n1,good\n' >"$W/in/good.csv"
	port=$((20000 + RANDOM % 20000))
	start_sync --listen "127.0.0.1:$port"
	wait_for "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T'" 3
	run snap-import list -t "$T" --all --format csv
	assert_line --regexp '^[0-9]+,bad_row.csv,.*,failed,"line 3, column id: invalid input syntax for type integer: ""x"""$'
	assert_line --regexp '^[0-9]+,dup_header.csv,.*,failed,"column ""name"" appears twice in the header"$'
	# SIGHUP reads the folder again: the failures are not counted again.
	kill -HUP "$SYNC_PID"
	wait_log 'again (SIGHUP)'
	sleep 1
	run scrape "$port"
	assert_line 'dbops_snap_import_files_total{result="failed"} 2'
	assert_line 'dbops_snap_import_files_failing 2'
	stop_sync
	assert_equal "$(grep -c 'could not import' "$W/sync.log")" 2
	# A restart neither: each is named once, and --once fails.
	run --separate-stderr snap-import sync -D "$W/in" -t "$T" --once
	assert_failure 1
	assert_equal "${#stderr_lines[@]}" 5
	assert_regex "${stderr_lines[0]}" '^snap-import: warning: skipped bad_row.csv: failed at .+ and unchanged since: line 3, column id: invalid input syntax for type integer: "x"$'
	assert_regex "${stderr_lines[1]}" '^snap-import: warning: skipped dup_header.csv: failed at .+ and unchanged since: column "name" appears twice in the header$'
	assert_regex "${stderr_lines[2]}" '^snap-import: info: skipped good.csv: already imported at '
	assert_equal "${stderr_lines[3]}" "snap-import: error: 2 files of \"$W/in\" failed and are not imported: \"bad_row.csv\", \"dup_header.csv\""
	assert_equal "${stderr_lines[4]}" 'snap-import: hint: fix the file (a changed file is tried again), or see snap-import retry and forget'
	assert_equal "$(sql "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T' AND status = 'failed'")" 2
	# Mended, the file goes in and its failure record goes.
	printf 'id,name\n1,a\n2,b\n' >"$W/in/bad_row.csv"
	rm "$W/in/dup_header.csv"
	run snap-import sync -D "$W/in" -t "$T" --once
	assert_success
	assert_equal "$(sql "SELECT string_agg(file_name || ':' || status, ' ' ORDER BY file_name) FROM snap_import_files WHERE target_table = 'public.$T'")" "bad_row.csv:imported dup_header.csv:failed good.csv:imported"
}

@test "snap-import sync: a query cancelled mid-COPY is a passing failure: tried again, imported whole, nothing recorded as failed (S2-1)" {
	start_sync
	big_file big.csv
	copy_started
	sql "SELECT pg_cancel_backend($(sync_backend))"
	wait_log 'a passing failure, trying again in 1 s'
	wait_for "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T'" 1
	stop_sync
	run cat "$W/sync.log"
	assert_line --regexp '^snap-import: warning: could not import "big.csv": line [0-9]+: canceling statement due to user request; a passing failure, trying again in 1 s$'
	assert_line --regexp '^snap-import: info: imported big.csv: '
	assert_equal "$(imported_rows)" "$(($(wc -l <"$W/in/big.csv") - 1)) 1"
	assert_equal "$(sql "SELECT count(*) FROM $T")" "$(($(wc -l <"$W/in/big.csv") - 1))"
}

@test "snap-import sync: a backend terminated mid-COPY: sync reconnects and imports the file whole (S2-1)" {
	start_sync
	big_file big.csv
	copy_started
	sql "SELECT pg_terminate_backend($(sync_backend))"
	wait_log 'connected to the database again'
	wait_for "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T'" 1
	stop_sync
	assert_equal "$(imported_rows)" "$(($(wc -l <"$W/in/big.csv") - 1)) 1"
	assert_equal "$(sql "SELECT count(*) FROM snap_import_files WHERE status = 'failed' AND target_table = 'public.$T'")" 0
}

@test "snap-import sync: the server restarted mid-COPY: sync reconnects with backoff and imports the file whole (S2-1)" {
	local data pid bin owner
	data=$DBOPS_SERVER_ROOT/pg/data
	pid=$(head -n 1 "$data/postmaster.pid")
	bin=$(dirname "$(readlink -f "/proc/$pid/exe")")
	owner=$(stat -c %U "$data")
	start_sync
	big_file big.csv
	copy_started
	if [ "$owner" = "$(id -un)" ]; then
		"$bin/pg_ctl" -D "$data" -m fast -w restart >/dev/null
	else
		runuser -u "$owner" -- "$bin/pg_ctl" -D "$data" -m fast -w restart >/dev/null
	fi
	wait_log 'connected to the database again'
	wait_for "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T'" 1
	stop_sync
	assert_equal "$(imported_rows)" "$(($(wc -l <"$W/in/big.csv") - 1)) 1"
	assert_equal "$(sql "SELECT count(*) FROM $T")" "$(($(wc -l <"$W/in/big.csv") - 1))"
}

@test "snap-import sync: a lock held by another session past lock_timeout is a passing failure, retried with backoff (S2-1)" {
	sql "CREATE TABLE $T (id int, name text, snapshot_id bigint)"
	printf 'id,name\n1,a\n' >"$W/in/one.csv"
	psql -X -q -c "BEGIN" -c "LOCK TABLE $T IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(5)" -c "COMMIT" >/dev/null &
	LOCKER=$!
	wait_for "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = '$T' AND l.mode = 'AccessExclusiveLock' AND l.granted" 1
	PGOPTIONS='-c lock_timeout=300ms' start_sync
	wait_log 'canceling statement due to lock timeout; a passing failure, trying again in 2 s'
	wait "$LOCKER"
	LOCKER=
	wait_for "SELECT count(*) FROM $T" 1
	stop_sync
	run cat "$W/sync.log"
	assert_line 'snap-import: warning: could not import "one.csv": canceling statement due to lock timeout; a passing failure, trying again in 1 s'
	assert_equal "$(sql "SELECT count(*) FROM snap_import_files WHERE status = 'failed' AND target_table = 'public.$T'")" 0
}

@test "snap-import sync --once: a passing failure that does not pass fails the run, naming the file (S2-1, S2-15)" {
	sql "CREATE TABLE $T (id int, name text, snapshot_id bigint)"
	printf 'id,name\n1,a\n' >"$W/in/one.csv"
	psql -X -q -c "BEGIN" -c "LOCK TABLE $T IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(20)" -c "COMMIT" >/dev/null &
	LOCKER=$!
	wait_for "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = '$T' AND l.mode = 'AccessExclusiveLock' AND l.granted" 1
	PGOPTIONS='-c lock_timeout=300ms' run --separate-stderr snap-import sync -D "$W/in" -t "$T" --once --settle 0
	assert_failure 1
	assert_equal "${stderr_lines[-2]}" "snap-import: error: 1 file of \"$W/in\" failed and is not imported: \"one.csv\""
	assert_equal "$(sql "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T'")" 0
}

@test "snap-import retry and forget: the operator's answer to a failed file; a running sync follows (S2-1)" {
	sql "CREATE TABLE $T (id int, name text, snapshot_id bigint)"
	printf 'id,name\n1,a\nx,b\n' >"$W/in/bad.csv"
	port=$((20000 + RANDOM % 20000))
	start_sync --listen "127.0.0.1:$port"
	wait_for "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T' AND status = 'failed'" 1
	# Nothing to forget for a file that did not fail.
	printf 'id,name\n1,a\n' >"$W/fine.csv"
	run --separate-stderr snap-import forget -t "$T" "$W/fine.csv"
	assert_failure 1
	assert_equal "$stderr" "snap-import: error: no failure of \"$W/fine.csv\" is recorded for table \"$T\""
	# forget: the record goes; sync tries the file again (SIGHUP), and
	# it fails again.
	run snap-import forget -t "$T" "$W/in/bad.csv"
	assert_success
	assert_output "forgot 1 failure of $W/in/bad.csv"
	assert_equal "$(sql "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T'")" 0
	kill -HUP "$SYNC_PID"
	wait_for "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T' AND status = 'failed'" 1
	assert_equal "$(grep -c 'could not import "bad.csv"' "$W/sync.log")" 2
	# The table changes to take the file: retry imports it now.
	sql "ALTER TABLE $T ALTER COLUMN id TYPE text"
	run snap-import retry -t "$T" "$W/in/bad.csv"
	assert_success
	assert_regex "$output" "^imported $W/in/bad.csv: 2 rows"
	assert_equal "$(sql "SELECT string_agg(status, ' ') FROM snap_import_files WHERE target_table = 'public.$T'")" imported
	# The running sync learns it from the ledger.
	kill -HUP "$SYNC_PID"
	sleep 1
	run scrape "$port"
	assert_line 'dbops_snap_import_files_failing 0'
	stop_sync
	assert_equal "$(sql "SELECT count(*) FROM $T")" 2
}

@test "snap-import sync: a bad header before any import made the ledger is recorded all the same (S2-2)" {
	sql "CREATE SCHEMA ${T}s"
	printf 'a,a\n1,2\n' >"$W/in/dup.csv"
	: >"$W/in/empty.csv"
	run --separate-stderr snap-import sync -D "$W/in" -t "${T}s.t" --once --settle 0
	assert_failure 1
	refute_regex "$stderr" 'could not record'
	assert_equal "$(sql "SELECT string_agg(file_name || ': ' || error, ' | ' ORDER BY file_name) FROM ${T}s.snap_import_files WHERE status = 'failed'")" 'dup.csv: column "a" appears twice in the header | empty.csv: the file is empty'
	# No table was left behind.
	assert_equal "$(sql "SELECT to_regclass('${T}s.t') IS NULL")" t
}
