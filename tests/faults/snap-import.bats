#!/usr/bin/env bats
# snap-import under faults (issue 19): kill -9 at random moments of an
# import (one file, several with --jobs, sync as a service), PostgreSQL
# stopped hard in the middle, a disk full, permission denied, the --listen
# port taken. After each fault the ledger and the table agree (every
# imported file's rows are there exactly once, no row of a file the ledger
# does not have), and a re-run imports everything. FAULT_RUNS faults per
# test (tests/lib/faults.bash); each test names its counts in a TAP comment.

bats_require_minimum_version 1.5.0

setup_file() {
	load ../lib/helpers
	load ../lib/faults
	start_postgres
}

teardown_file() {
	load ../lib/helpers
	load ../lib/faults
	fault_umount_all
	fault_stop_servers
}

setup() {
	load ../lib/helpers
	load ../lib/faults
	W=$(mktemp -d "$DBOPS_SERVER_ROOT/work.XXXXXX")
	chmod 0755 "$W"
	T=f$BATS_TEST_NUMBER
	GEN=$DBOPS_BUILD/tests/gen-snapshot
	PIDS=()
	fault_begin
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	fault_umount_all
}

sql() { psql -AtX -v ON_ERROR_STOP=1 -c "$1"; }

# gen FILE ROWS SEED: a snapshot file; its name and rows go to
# $W/expected for consistent.
gen() {
	"$GEN" --rows "$2" --seed "$3" >"$1.tmp" && mv "$1.tmp" "$1"
	echo "$(basename "$1") $2" >>"$W/expected"
}

# consistent: the ledger and table $T agree: each imported file's rows
# are in the table exactly once (as many as its ledger row says, each
# player once), and no row has a snapshot_id the ledger lacks; each
# imported file has the rows it was made with. Prints the number of
# imported files.
consistent() {
	local ledger table bad name rows want
	ledger=$(sql "SELECT to_regclass('public.snap_import_files') IS NOT NULL")
	table=$(sql "SELECT to_regclass('public.$T') IS NOT NULL")
	if [ "$ledger" = f ]; then
		[ "$table" = f ] || [ "$(sql "SELECT count(*) FROM $T")" = 0 ] ||
			fault_fail "rows in $T and no ledger"
		echo 0
		return 0
	fi
	if [ "$table" = f ]; then
		if [ "$(sql "SELECT count(*) FROM snap_import_files
			WHERE target_table = 'public.$T' AND status = 'imported'")" != 0 ]; then
			fault_fail "the ledger has imports into $T, which does not exist"
		fi
		echo 0
		return 0
	fi
	bad=$(sql "WITH l AS (SELECT id, rows FROM snap_import_files
			WHERE target_table = 'public.$T' AND status = 'imported'),
		   t AS (SELECT snapshot_id, count(*) AS n, count(DISTINCT player_id) AS d
			FROM $T GROUP BY 1)
		SELECT coalesce(string_agg(coalesce(l.id, t.snapshot_id) || ':' ||
			coalesce(l.rows::text, 'unrecorded') || '/' || coalesce(t.n::text, 'none') ||
			'/' || coalesce(t.d::text, 'none'), ' '), '')
		FROM l FULL JOIN t ON t.snapshot_id = l.id
		WHERE l.id IS NULL OR t.snapshot_id IS NULL OR t.n <> l.rows OR t.d <> t.n")
	[ -z "$bad" ] || fault_fail "ledger and table $T disagree (id:ledger/table/distinct): $bad"
	while IFS='|' read -r name rows; do
		want=$(awk -v n="$(basename "$name")" '$1 == n { print $2 }' "$W/expected" | tail -n 1)
		[ "$rows" = "$want" ] || fault_fail "$name imported with $rows rows, made with $want"
	done < <(sql "SELECT file_name, rows FROM snap_import_files
		WHERE target_table = 'public.$T' AND status = 'imported'")
	sql "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T' AND status = 'imported'"
}

# imported NAME: whether the ledger has NAME (a path, or a name in a
# folder) imported into $T.
imported() {
	[ "$(sql "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T'
		AND status = 'imported' AND (file_name = '$1' OR file_name LIKE '%/$1')")" = 1 ]
}

# duration_ms COMMAND...: how long COMMAND took (it must succeed).
duration_ms() {
	local t0
	t0=$(fault_millis)
	"$@" >/dev/null 2>&1 3>&- || fault_fail "calibration failed: $*"
	echo $(($(fault_millis) - t0))
}

@test "kill -9 of snap-import at random moments of a one-file import, then a re-run: no partial snapshot, everything imported" {
	local cal run f ms killed=0 ended=0 checked=0
	gen "$W/cal.csv" 40000 999
	cal=$(duration_ms snap-import -t cal "$W/cal.csv")
	for run in $(seq 1 "$FAULT_RUNS"); do
		f=$W/run$run.csv
		gen "$f" 40000 "$run"
		ms=$(fault_ms $((cal + 200)))
		snap-import -t "$T" "$f" >"$W/out" 2>&1 3>&- &
		if fault_kill_after "$!" "$ms"; then killed=$((killed + 1)); else ended=$((ended + 1)); fi
		consistent >/dev/null
		run -0 snap-import -t "$T" "$f"
		assert_output --regexp "^(imported|skipped) $f: "
		imported "$f" || fault_fail "run $run (kill at $ms ms): $f not imported by the re-run"
		checked=$(consistent)
		rm -f "$f"
	done
	[ "$checked" = "$FAULT_RUNS" ] || fault_fail "$checked files imported of $FAULT_RUNS"
	fault_note "snap-import one file: runs $FAULT_RUNS, faults $FAULTS (ended first $ended), files checked $checked, lost 0"
}

@test "kill -9 of snap-import --jobs 3 at random moments over four files, then a re-run: no partial snapshot, everything imported" {
	local cal run i ms ended=0 files checked=0
	for i in 1 2 3 4; do gen "$W/cal$i.csv" 20000 "9$i"; done
	cal=$(duration_ms snap-import -t cal_jobs --jobs 3 "$W"/cal[1-4].csv)
	for run in $(seq 1 "$FAULT_RUNS"); do
		files=()
		for i in 1 2 3 4; do
			gen "$W/r${run}_$i.csv" 20000 "$((run * 10 + i))"
			files+=("$W/r${run}_$i.csv")
		done
		ms=$(fault_ms $((cal + 200)))
		snap-import -t "$T" --jobs 3 "${files[@]}" >"$W/out" 2>&1 3>&- &
		fault_kill_after "$!" "$ms" || ended=$((ended + 1))
		consistent >/dev/null
		run -0 snap-import -t "$T" --jobs 3 "${files[@]}"
		for f in "${files[@]}"; do
			imported "$f" || fault_fail "run $run (kill at $ms ms): $f not imported by the re-run"
		done
		checked=$(consistent)
		rm -f "${files[@]}"
	done
	[ "$checked" = $((FAULT_RUNS * 4)) ] || fault_fail "$checked files imported of $((FAULT_RUNS * 4))"
	fault_note "snap-import --jobs 3: runs $FAULT_RUNS, faults $FAULTS (ended first $ended), files checked $checked, lost 0"
}

# sync_lock_free: the advisory lock of a killed sync is released (its
# backend saw the connection close); prints how long that took, in ms.
sync_lock_free() {
	local t0
	t0=$(fault_millis)
	for _ in $(seq 1 100); do
		[ "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" = 0 ] && {
			echo $(($(fault_millis) - t0))
			return 0
		}
		sleep 0.1
	done
	fault_fail "the advisory lock of a killed sync is still held after 10 s"
}

@test "kill -9 of snap-import sync (a service on a folder) at random moments, then a restart: no partial snapshot, everything imported" {
	local cal run ms f ended=0 checked=0 lock_ms max_lock=0
	mkdir -m 0755 "$W/cal" "$W/in"
	gen "$W/cal/a.csv" 20000 91
	gen "$W/cal/b.csv" 20000 92
	cal=$(duration_ms snap-import sync -D "$W/cal" -t cal_sync --settle 0 --once)
	for run in $(seq 1 "$FAULT_RUNS"); do
		# Two files handed over by rename, a third already there.
		gen "$W/in/r${run}_a.csv" 20000 "$((run * 10 + 1))"
		snap-import sync -D "$W/in" -t "$T" --settle 0 >"$W/sync.log" 2>&1 3>&- &
		local pid=$!
		for f in b c; do
			gen "$W/r${run}_$f.csv" 20000 "$((run * 10 + $([ "$f" = b ] && echo 2 || echo 3)))"
			mv "$W/r${run}_$f.csv" "$W/in/"
		done
		ms=$(fault_ms $((cal * 2 + 300)))
		fault_kill_after "$pid" "$ms" || ended=$((ended + 1))
		consistent >/dev/null
		lock_ms=$(sync_lock_free)
		[ "$lock_ms" -gt "$max_lock" ] && max_lock=$lock_ms
		run -0 snap-import sync -D "$W/in" -t "$T" --settle 0 --once
		for f in a b c; do
			imported "r${run}_$f.csv" || fault_fail "run $run (kill at $ms ms): r${run}_$f.csv not imported by the restart: $output"
		done
		checked=$(consistent)
		rm -f "$W"/in/r"$run"_*.csv
	done
	[ "$checked" = $((FAULT_RUNS * 3)) ] || fault_fail "$checked files imported of $((FAULT_RUNS * 3))"
	fault_note "snap-import sync: runs $FAULT_RUNS, faults $FAULTS (ended first $ended), files checked $checked, lost 0; a killed sync's lock was free after at most $max_lock ms"
}

@test "PostgreSQL stopped hard (immediate) at random moments of an import: one line, exit 1, nothing half-written; after the restart the re-run imports the file" {
	local cal run f ms st faults=0 ended=0 checked=0
	gen "$W/cal.csv" 100000 999
	cal=$(duration_ms snap-import -t cal_pg "$W/cal.csv")
	for run in $(seq 1 "$FAULT_RUNS"); do
		f=$W/run$run.csv
		gen "$f" 100000 "$run"
		ms=$(fault_ms $((cal + 300)))
		snap-import -t "$T" "$f" >"$W/out" 2>"$W/err" 3>&- &
		local pid=$!
		fault_sleep_ms "$ms"
		if kill -0 "$pid" 2>/dev/null; then
			pg_kill pg
			faults=$((faults + 1))
			st=0
			wait "$pid" || st=$?
			if [ "$st" = 1 ]; then
				[ "$(wc -l <"$W/err")" = 1 ] || fault_fail "run $run ($ms ms): not one line: $(cat "$W/err")"
				# libpq's reason, as the moment of the stop gives it.
				grep -Eqx "snap-import: error: could not import \"$f\": (could not finish sending the file: |line [0-9]+: )?(lost the connection to the database|could not connect to the database: .+|.*terminating connection due to administrator command.*|server closed the connection unexpectedly.*)" "$W/err" ||
					fault_fail "run $run ($ms ms): unexpected error: $(cat "$W/err")"
			else
				# The commit came first: the import says so.
				[ "$st" = 0 ] || fault_fail "run $run ($ms ms): exit status $st: $(cat "$W/err")"
				grep -q "^imported $f: " "$W/out" || fault_fail "run $run: exit 0 without an import: $(cat "$W/out")"
			fi
			pg_start pg || fault_fail "run $run: PostgreSQL did not start again"
		else
			wait "$pid" || fault_fail "run $run: failed without a fault: $(cat "$W/err")"
			ended=$((ended + 1))
		fi
		consistent >/dev/null
		run -0 snap-import -t "$T" "$f"
		imported "$f" || fault_fail "run $run ($ms ms): $f not imported after the restart"
		checked=$(consistent)
		rm -f "$f"
	done
	fault_note "snap-import, PostgreSQL stopped: runs $FAULT_RUNS, faults $faults (ended first $ended), files checked $checked, lost 0"
}

@test "a full disk under the table (its tablespace on a small tmpfs): one precise line, exit 1, nothing imported; with room the re-run imports" {
	[ "$(id -u)" = 0 ] || skip "mount needs root"
	fault_tmpfs "$W/ts" 3m
	chown postgres "$W/ts" 2>/dev/null || true
	sql "CREATE TABLESPACE small_$T LOCATION '$W/ts'"
	sql "CREATE TABLE $T (player_id int, name text, world text, score numeric, level int,
		active boolean, joined date, last_seen timestamptz, snapshot_id bigint) TABLESPACE small_$T"
	gen "$W/a.csv" 100000 1
	run -1 --separate-stderr snap-import -t "$T" "$W/a.csv"
	assert_regex "$stderr" "^snap-import: error: could not import \"$W/a.csv\": line [0-9]+: could not extend file \"pg_tblspc/[0-9/_A-Z]+\": No space left on device$"
	assert_equal "${#stderr_lines[@]}" 1
	[ "$(consistent)" = 0 ]
	[ "$(sql "SELECT count(*) FROM $T")" = 0 ]
	# sync takes it as a passing failure: tried again until there is room.
	mkdir -m 0755 "$W/in"
	mv "$W/a.csv" "$W/in/"
	snap-import sync -D "$W/in" -t "$T" --settle 0 2>"$W/sync.log" 3>&- &
	PIDS+=("$!")
	for _ in $(seq 1 100); do
		grep -q 'a passing failure' "$W/sync.log" && break
		sleep 0.1
	done
	grep -Eq '^snap-import: warning: could not import "a.csv": line [0-9]+: could not extend file .*: No space left on device; a passing failure, trying again in [0-9]+ s$' "$W/sync.log" ||
		fault_fail "no passing failure: $(cat "$W/sync.log")"
	mount -o remount,size=64m "$W/ts"
	for _ in $(seq 1 100); do
		imported a.csv && break
		sleep 0.1
	done
	imported a.csv || fault_fail "a.csv not imported once there was room: $(cat "$W/sync.log")"
	[ "$(sql "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T' AND status = 'failed'")" = 0 ]
	[ "$(consistent)" = 1 ]
	kill -TERM "${PIDS[0]}"
	wait "${PIDS[0]}"
	PIDS=()
	sql "DROP TABLE $T"
	sql "DROP TABLESPACE small_$T"
	fault_note "snap-import, table's disk full: faults 2 (import, sync), files checked 1, lost 0"
}

@test "a full disk for the decompressed copy (TMPDIR on a small tmpfs): one precise line, exit 1; with room the re-run imports" {
	[ "$(id -u)" = 0 ] || skip "mount needs root"
	fault_tmpfs "$W/tmp" 1m
	gen "$W/a.csv" 100000 1
	gzip "$W/a.csv"
	echo "a.csv.gz 100000" >>"$W/expected"
	run -1 --separate-stderr env TMPDIR="$W/tmp" snap-import -t "$T" "$W/a.csv.gz"
	assert_equal "$stderr" "snap-import: error: could not import \"$W/a.csv.gz\": could not write the decompressed data to \"$W/tmp\": No space left on device"
	[ "$(consistent)" = 0 ]
	run -0 snap-import -t "$T" "$W/a.csv.gz"
	[ "$(consistent)" = 1 ]
	fault_note "snap-import, TMPDIR full: faults 1, files checked 1, lost 0"
}

# wait_sync_log TEXT: TEXT (a grep -E pattern) in $W/sync.log, 20 s at most.
wait_sync_log() {
	for _ in $(seq 1 200); do
		grep -Eq -- "$1" "$W/sync.log" && return 0
		sleep 0.1
	done
	fault_fail "waited in vain for [$1] in the log: $(cat "$W/sync.log")"
}

@test "sync with a full TMPDIR: a passing failure, tried again, never recorded as failed; with room the file is imported" {
	[ "$(id -u)" = 0 ] || skip "mount needs root"
	fault_tmpfs "$W/tmp" 1m
	mkdir -m 0755 "$W/in"
	gen "$W/a.csv" 100000 1
	gzip "$W/a.csv"
	echo "a.csv.gz 100000" >>"$W/expected"
	TMPDIR="$W/tmp" snap-import sync -D "$W/in" -t "$T" --settle 0 2>"$W/sync.log" 3>&- &
	PIDS+=("$!")
	mv "$W/a.csv.gz" "$W/in/"
	# No room for one decompressed copy: the hash cannot be made.
	wait_sync_log "^snap-import: warning: could not import \"a.csv.gz\": could not write the decompressed data to \"$W/tmp\": No space left on device; a passing failure, trying again in 1 s$"
	# Room for one copy (the hash) but not for the import's own: the
	# import fails in passing too, and nothing is recorded as failed.
	mount -o remount,size=11m "$W/tmp"
	wait_sync_log 'a passing failure, trying again in [2-9] s$'
	[ "$(sql "SELECT count(*) FROM snap_import_files WHERE status = 'failed'" 2>/dev/null || echo 0)" = 0 ] ||
		fault_fail "recorded as failed: $(snap-import list -t "$T" --all)"
	mount -o remount,size=64m "$W/tmp"
	for _ in $(seq 1 200); do
		imported a.csv.gz 2>/dev/null && break
		sleep 0.1
	done
	imported a.csv.gz || fault_fail "not imported once there was room: $(cat "$W/sync.log")"
	[ "$(consistent)" = 1 ]
	[ "$(sql "SELECT count(*) FROM snap_import_files WHERE status = 'failed'")" = 0 ]
	fault_note "snap-import sync, TMPDIR full: faults 2 (no room for the hash, none for the import), files checked 1, lost 0"
}

@test "permission denied on a file or on the folder: one precise line, exit 1, the other files imported; once readable, everything" {
	[ "$(id -u)" = 0 ] || skip "root reads every file: the tool runs as nobody"
	mkdir -m 0755 "$W/in"
	gen "$W/in/a.csv" 1000 1
	gen "$W/in/b.csv" 1000 2
	chmod 0600 "$W/in/a.csv"
	chmod 0644 "$W/in/b.csv"
	as_nobody() { runuser -u nobody -- env PATH="$PATH" PGHOST=127.0.0.1 PGPORT="$PGPORT" PGUSER=postgres "$@"; }
	run -1 --separate-stderr as_nobody snap-import -t "$T" "$W/in/a.csv" "$W/in/b.csv"
	assert_equal "$stderr" "snap-import: error: could not import \"$W/in/a.csv\": could not open the file: Permission denied"
	assert_output --regexp "^imported $W/in/b.csv: 1000 rows"
	[ "$(consistent)" = 1 ]
	chmod 0644 "$W/in/a.csv"
	chmod 0311 "$W/in"
	run -1 --separate-stderr as_nobody snap-import sync -D "$W/in" -t "${T}s" --once
	assert_equal "$stderr" "snap-import: error: could not read directory \"$W/in\": Permission denied"
	chmod 0755 "$W/in"
	run -0 as_nobody snap-import sync -D "$W/in" -t "${T}s" --once
	run -0 as_nobody snap-import -t "$T" "$W/in/a.csv" "$W/in/b.csv"
	[ "$(consistent)" = 2 ]
	[ "$(T=${T}s consistent)" = 2 ]
	fault_note "snap-import, permission denied: faults 2 (file, folder), files checked 4, lost 0"
}

@test "sync --listen on a port taken: one precise line, exit 1, nothing imported; on a free port, everything" {
	local port
	fault_take_port
	port=$FAULT_PORT
	mkdir -m 0755 "$W/in"
	gen "$W/in/a.csv" 1000 1
	run -1 --separate-stderr snap-import sync -D "$W/in" -t "$T" --settle 0 --listen "127.0.0.1:$port"
	assert_equal "$stderr" "snap-import: error: could not listen on 127.0.0.1:$port for /metrics: Address already in use"
	[ "$(consistent)" = 0 ]
	run -0 snap-import sync -D "$W/in" -t "$T" --settle 0 --once --listen "127.0.0.1:$(free_port)"
	[ "$(consistent)" = 1 ]
	fault_note "snap-import sync, port taken: faults 1, files checked 1, lost 0"
}
