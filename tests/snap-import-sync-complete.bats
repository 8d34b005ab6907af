#!/usr/bin/env bats
# snap-import sync imports a file once, when it is complete (issue 15,
# S1-2): renamed in, or closed and then quiet for --settle, whether or not
# a lease can be had (sync as root, and as nobody on root's files). Rows
# are counted against the files themselves (wc -l) and psql \copy into
# text columns; a file that changes after its import is reported.

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
	T=c$BATS_TEST_NUMBER
}

teardown() {
	# shellcheck disable=SC2086 # lists of pids
	stop_all ${WRITERS:-} ${SYNC_PID:-}
}

# start_sync USER [sync options]: sync on $W/in into $T, as USER (root
# when "-"), its log in $W/sync.log; returns once it holds its lock.
start_sync() {
	local user=$1
	shift
	if [ "$user" = - ]; then
		snap-import sync -D "$W/in" -t "$T" "$@" 2>"$W/sync.log" &
	else
		# setpriv execs (runuser would fork and keep the signals).
		setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups \
			env PGHOST=127.0.0.1 PGPORT="$PGPORT" \
			PGUSER=postgres PGDATABASE=postgres \
			"$(command -v snap-import)" sync -D "$W/in" -t "$T" "$@" 2>"$W/sync.log" &
	fi
	SYNC_PID=$!
	wait_for "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted" 1
}

# one_open FILE ROWS GAP: one open() for the whole file, a row every GAP s.
one_open() {
	python3 - "$@" <<'EOF'
import sys, time
path, rows, gap = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
with open(path, "w") as f:
    f.write("id,name\n")
    f.flush()
    for i in range(1, rows + 1):
        time.sleep(gap)
        f.write("%d,one open %d\n" % (i, i))
        f.flush()
EOF
}

# reopen FILE ROWS GAP: open, append one row, close, every GAP s (>>).
reopen() {
	local i
	echo 'id,name' >"$1"
	for i in $(seq 1 "$2"); do
		sleep "$3"
		echo "$i,reopened $i" >>"$1"
	done
}

# oracle FILE...: the files' rows (psql \copy into text columns) are the
# table's rows, as multisets; and as many as wc -l says.
oracle() {
	local f lines=0
	sql "CREATE TABLE ${T}_o (id text, name text)"
	for f in "$@"; do
		psql -X -v ON_ERROR_STOP=1 -q -c "\\copy ${T}_o FROM '$f' (FORMAT csv, HEADER true)"
		lines=$((lines + $(wc -l <"$f") - 1))
	done
	assert_equal "$(sql "SELECT count(*) FROM $T")" "$lines"
	assert_equal "$(sql "SELECT count(*) FROM (SELECT id::text, name FROM $T EXCEPT ALL SELECT * FROM ${T}_o) d")" 0
	assert_equal "$(sql "SELECT count(*) FROM (SELECT * FROM ${T}_o EXCEPT ALL SELECT id::text, name FROM $T) d")" 0
}

# writers USER: both kinds of slow writers, as root, into a sync run by
# USER with --settle 2s; gaps of 0.7 s, shorter than the settle period.
writers() {
	sql "CREATE TABLE $T (id int, name text, snapshot_id bigint)"
	# Already being written when sync starts: its first scan sees half.
	one_open "$W/in/held.csv" 8 0.7 &
	WRITERS=$!
	sleep 1.5
	start_sync "$1" --settle 2s
	reopen "$W/in/reopened.csv" 8 0.7 &
	WRITERS="$WRITERS $!"
	wait $WRITERS
	WRITERS=
	wait_for "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T'" 2
	# And nothing more comes.
	sleep 3
	stop_sync
	assert_equal "$(sql "SELECT string_agg(file_name || ':' || rows, ' ' ORDER BY file_name) FROM snap_import_files WHERE target_table = 'public.$T'")" "held.csv:8 reopened.csv:8"
	oracle "$W/in/held.csv" "$W/in/reopened.csv"
}

@test "snap-import sync: slow writers, one open or reopening per row, as root: each file once, complete (S1-2)" {
	writers -
}

@test "snap-import sync: slow writers as root, sync as nobody (no lease): each file once, complete (S1-2)" {
	[ "$(id -u)" = 0 ] || skip "needs root to run sync as nobody"
	writers nobody
	grep -q 'imported held.csv: 8 rows' "$W/sync.log"
}

@test "snap-import sync: a file renamed in is taken at once, without waiting for --settle (S1-2)" {
	sql "CREATE TABLE $T (id int, name text, snapshot_id bigint)"
	start_sync - --settle 1h
	printf 'id,name\n1,a\n2,b\n' >"$W/staged.csv"
	mv "$W/staged.csv" "$W/in/moved.csv"
	wait_for "SELECT count(*) FROM $T" 2
	# Written in place: waits for the hour.
	printf 'id,name\n3,c\n' >"$W/in/written.csv"
	sleep 2
	assert_equal "$(sql "SELECT count(*) FROM $T")" 2
	stop_sync
	oracle "$W/in/moved.csv"
}

@test "snap-import sync: a file that changes after its import is reported, counted and not imported again; retry imports it (S1-2)" {
	sql "CREATE TABLE $T (id int, name text, snapshot_id bigint)"
	port=$((20000 + RANDOM % 20000))
	printf 'id,name\n1,a\n2,b\n' >"$W/in/grows.csv"
	start_sync - --settle 1s --listen "127.0.0.1:$port"
	wait_for "SELECT count(*) FROM $T" 2
	echo '3,late' >>"$W/in/grows.csv"
	for _ in $(seq 1 50); do
		grep -q 'changed after its import' "$W/sync.log" && break
		sleep 0.1
	done
	sleep 2
	run cat "$W/sync.log"
	assert_line --regexp '^snap-import: warning: file "grows.csv" changed after its import as snapshot [0-9]+ \(its size or time changed\): not imported again$'
	assert_line "snap-import: hint: to import it as it is now, as a new snapshot: snap-import retry \"$W/in/grows.csv\" (with this sync's -d and -t)"
	run scrape "$port"
	assert_line 'dbops_snap_import_files_changed_total 1'
	assert_equal "$(sql "SELECT count(*) FROM $T")" 2
	stop_sync
	# A later sync knows it from the ledger: it grew.
	run --separate-stderr snap-import sync -D "$W/in" -t "$T" --once --settle 0
	assert_success
	assert_regex "$stderr" 'warning: file "grows.csv" changed after its import as snapshot [0-9]+ \(it grew from 16 to 23 bytes\): not imported again'
	assert_equal "$(sql "SELECT count(*) FROM $T")" 2
	# The operator says so: the whole file as a new snapshot.
	run snap-import retry -t "$T" "$W/in/grows.csv"
	assert_success
	assert_regex "$output" "^imported $W/in/grows.csv: 3 rows"
	assert_equal "$(sql "SELECT count(*) FROM $T")" 5
	# Its content is in now: skipped, no warning.
	run --separate-stderr snap-import sync -D "$W/in" -t "$T" --once --settle 0
	assert_success
	refute_regex "$stderr" 'changed after'
}

@test "snap-import sync: --once waits for a file still being written, up to --settle, then leaves it (S1-2)" {
	sql "CREATE TABLE $T (id int, name text, snapshot_id bigint)"
	reopen "$W/in/slow.csv" 40 0.5 &
	WRITERS=$!
	sleep 1
	run --separate-stderr snap-import sync -D "$W/in" -t "$T" --once --settle 2s
	assert_success
	assert_regex "$stderr" 'info: left slow.csv: still being written; the next run takes it'
	assert_equal "$(sql "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T'")" 0
	wait $WRITERS
	WRITERS=
	run snap-import sync -D "$W/in" -t "$T" --once --settle 2s
	assert_success
	oracle "$W/in/slow.csv"
}

@test "snap-import sync: --settle takes a duration; it belongs to sync" {
	run --separate-stderr snap-import sync -D "$W/in" --settle soon
	assert_failure 1
	assert_regex "${stderr_lines[0]}" 'invalid value "soon" for --settle'
	run --separate-stderr snap-import --settle 3s "$W/x.csv"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "snap-import: error: --dir, --pattern, --listen, --once and --settle belong to sync"
}
