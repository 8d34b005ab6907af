#!/usr/bin/env bats
# snap-import sync as a service (issue 15): the watchdog fed while 50,000
# files are read at start (S1-5), SIGTERM in the middle of a COPY exits 0
# with the ledger and table consistent (S2-6), the last success read from
# the ledger at start (S2-13).

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
	T=s$BATS_TEST_NUMBER
	GEN=$DBOPS_BUILD/tests/gen-snapshot
}

teardown() {
	# shellcheck disable=SC2086 # lists of pids
	stop_all ${LISTENER:-} ${SYNC_PID:-}
}

# listen PATH OUT: systemd's notification socket, each message on a line
# after the monotonic time it came, until STOPPING=1 (or 300 s).
listen() {
	python3 - "$1" "$2" <<'EOF' &
import socket, sys, time
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(0.2)
end = time.monotonic() + 300
with open(out, "w", buffering=1) as f:
    while time.monotonic() < end:
        try:
            m = s.recv(65536)
        except socket.timeout:
            continue
        f.write("%.3f %s\n" % (time.monotonic(), m.decode(errors="replace").replace("\n", "|")))
        if m.startswith(b"STOPPING=1"):
            break
EOF
	LISTENER=$!
	for _ in $(seq 1 50); do
		[ -S "$1" ] && return 0
		sleep 0.1
	done
	fail "the notification socket $1 did not appear"
}

@test "snap-import sync: the watchdog is fed while 50,000 files already imported are read at start (S1-5)" {
	# 50,000 small files, and the ledger rows that say each is in.
	python3 - "$W/in" "$W/ledger.csv" "public.$T" <<'EOF'
import hashlib, os, sys
d, ledger, table = sys.argv[1], sys.argv[2], sys.argv[3]
with open(ledger, "w") as out:
    for i in range(50000):
        name = "f%05d.csv" % i
        data = b"id,name\n%d,file %d\n" % (i, i)
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        out.write("%s,%s,%s,1,%d,imported\n" % (table, name, hashlib.sha256(data).hexdigest(), len(data)))
EOF
	printf 'id,name\n-1,seed\n' >"$W/seed.csv"
	snap-import -t "$T" "$W/seed.csv" >/dev/null
	psql -X -q -v ON_ERROR_STOP=1 -c "\\copy snap_import_files (target_table, file_name, sha256, rows, bytes, status) FROM '$W/ledger.csv' (FORMAT csv)"
	# ... and each snapshot's row in the table: a known content whose rows
	# are gone would be a failure (S2-7).
	sql "INSERT INTO $T (id, name, snapshot_id) SELECT substr(file_name, 2, 5)::int, 'file ' || substr(file_name, 2, 5)::int, id FROM snap_import_files WHERE target_table = 'public.$T' AND file_name LIKE 'f%.csv'"
	listen "$W/notify" "$W/notify.out"
	# --settle 0: every file is read at start, none waits.
	NOTIFY_SOCKET=$W/notify WATCHDOG_USEC=2000000 snap-import sync -D "$W/in" -t "$T" --settle 0 2>"$W/sync.log" &
	SYNC_PID=$!
	# Each known file is looked up, and its snapshot's rows probed
	# (S2-7): several minutes on a loaded machine.
	wait_log 'info: watching ' 6000
	stop_sync
	wait "$LISTENER"
	LISTENER=
	assert_equal "$(grep -c 'info: skipped f' "$W/sync.log")" 50000
	# The pings: from the first message to STOPPING=1, none further
	# apart than the watchdog's 2 s, over a start that took longer.
	run python3 - "$W/notify.out" <<'EOF'
import sys
times, pings = [], 0
for line in open(sys.argv[1]):
    t, msg = line.split(" ", 1)
    if msg.startswith("WATCHDOG=1") or msg.startswith("READY=1") or msg.startswith("STOPPING=1"):
        times.append(float(t))
        pings += msg.startswith("WATCHDOG=1")
gaps = [b - a for a, b in zip(times, times[1:])]
print("pings %d span %.1f longest %.2f" % (pings, times[-1] - times[0], max(gaps)))
sys.exit(0 if max(gaps) < 2.0 and times[-1] - times[0] > 4 else 1)
EOF
	assert_success
}

@test "snap-import sync: SIGTERM in the middle of a COPY exits 0, after an earlier failure too; a later sync completes the file (S2-6)" {
	sql "CREATE TABLE $T (player_id int, name text, world text, score numeric, level int, active boolean, joined date, last_seen timestamptz, snapshot_id bigint)"
	printf 'player_id,name\n1,ok\nx,bad\n' >"$W/in/bad.csv"
	snap-import sync -D "$W/in" -t "$T" --settle 0 2>"$W/sync.log" &
	SYNC_PID=$!
	wait_log 'could not import "bad.csv"'
	"$GEN" --bytes 150000000 --seed 9 >"$W/big.csv"
	mv "$W/big.csv" "$W/in/big.csv"
	if [ "$(sql 'SHOW server_version_num')" -ge 140000 ]; then
		wait_for "SELECT coalesce(sum(tuples_processed), 0) > 1000 FROM pg_stat_progress_copy" t
	else
		wait_for "SELECT count(*) > 0 FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'COPY %' AND now() - query_start > interval '1 second'" t
	fi
	kill -TERM "$SYNC_PID"
	rc=0
	wait "$SYNC_PID" || rc=$?
	SYNC_PID=
	assert_equal "$rc" 0
	grep -q 'import of big.csv interrupted and rolled back' "$W/sync.log"
	# Nothing of it: no ledger row, no row.
	assert_equal "$(sql "SELECT count(*) FROM snap_import_files WHERE target_table = 'public.$T' AND file_name = 'big.csv'")" 0
	assert_equal "$(sql "SELECT count(*) FROM $T")" 0
	# A later run imports it whole.
	run snap-import sync -D "$W/in" -t "$T" --once --settle 0
	assert_failure 1 # bad.csv is still failed
	assert_equal "$(sql "SELECT rows FROM snap_import_files WHERE target_table = 'public.$T' AND file_name = 'big.csv'")" "$(($(wc -l <"$W/in/big.csv") - 1))"
	assert_equal "$(sql "SELECT count(*) FROM $T")" "$(($(wc -l <"$W/in/big.csv") - 1))"
}

@test "snap-import sync: the last success comes from the ledger at start, and survives a restart (S2-13)" {
	printf 'id,name\n1,a\n' >"$W/in/a.csv"
	snap-import sync -D "$W/in" -t "$T" --once --settle 0
	want=$(sql "SELECT floor(extract(epoch FROM max(imported_at)))::bigint FROM snap_import_files WHERE target_table = 'public.$T'")
	sleep 1.1
	port=$((20000 + RANDOM % 20000))
	snap-import sync -D "$W/in" -t "$T" --settle 0 --listen "127.0.0.1:$port" 2>"$W/sync.log" &
	SYNC_PID=$!
	wait_log 'info: watching '
	grep -q 'info: skipped a.csv' "$W/sync.log"
	run scrape "$port"
	assert_success
	line=$(printf '%s\n' "$output" | grep '^dbops_snap_import_last_success_timestamp_seconds ')
	got=${line#* }
	[ "${got%.*}" = "$want" ] || fail "last success $got, the ledger says $want"
	assert_line 'dbops_snap_import_files_total{result="skipped"} 1'
	assert_line 'dbops_snap_import_database_up 1'
	assert_line 'dbops_snap_import_files_failing 0'
	if command -v promtool >/dev/null; then
		printf '%s\n' "$output" | sed '1,/^\r*$/d' | promtool check metrics
	fi
	stop_sync
	# An import run that only skips says it too.
	run snap-import -t "$T" --metrics-file "$W/import.prom" "$W/in/a.csv"
	assert_success
	run grep '^dbops_snap_import_last_success_timestamp_seconds ' "$W/import.prom"
	got=${output#* }
	[ "${got%.*}" = "$want" ] || fail "import's last success $got, the ledger says $want"
}
