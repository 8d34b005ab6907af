# shellcheck shell=bash
# faults.bash - what the fault scripts of tests/faults/ share: faults at
# random moments that a seed repeats, their counts, small file systems,
# a PostgreSQL stopped hard.
#
#   load ../lib/faults        (from tests/faults/*.bats, after ../lib/helpers)
#
# FAULT_RUNS: how many faults a test injects (make faults: 100; make check
# runs the short default, 2). FAULT_SEED: the seed of the random moments;
# each test seeds bash's RANDOM with FAULT_SEED + its number, so
# FAULT_SEED=N bats -f NAME tests/faults/x.bats repeats one test's
# moments. The seed is printed as a TAP comment and in every failure.

FAULT_RUNS=${FAULT_RUNS:-2}
# One seed for the whole file (setup_file exports it), else a new one.
FAULT_SEED=${FAULT_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
export FAULT_RUNS FAULT_SEED

# fault_begin: seeds RANDOM for this test and says how to repeat it.
fault_begin() {
	RANDOM=$((FAULT_SEED + BATS_TEST_NUMBER))
	FAULTS=0
	fault_note "seed $FAULT_SEED (FAULT_SEED=$FAULT_SEED to repeat), $FAULT_RUNS runs"
}

# fault_note TEXT: a TAP comment, shown whether the test passes or fails.
fault_note() {
	echo "# $*" >&3
}

# fault_fail TEXT: fails the test, naming the seed.
fault_fail() {
	fail "$* (FAULT_SEED=$FAULT_SEED)"
}

# fault_ms MAX: a random whole number from 0 to MAX-1 (MAX up to 2^30).
fault_ms() {
	echo $(((RANDOM * 32768 + RANDOM) % $1))
}

# fault_sleep_ms MS: sleep that many milliseconds.
fault_sleep_ms() {
	sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"
}

# fault_kill_after PID MS: after MS milliseconds, kill -9 PID if it still
# runs (and count the fault in FAULTS); waits for it either way. Returns 0
# when it was killed, 1 when it had ended on its own first.
fault_kill_after() {
	local pid=$1 ms=$2
	fault_sleep_ms "$ms"
	if kill -KILL "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null || true
		FAULTS=$((FAULTS + 1))
		return 0
	fi
	wait "$pid" 2>/dev/null || true
	return 1
}

# fault_millis: the time now in milliseconds.
fault_millis() {
	echo $(($(date +%s%N) / 1000000))
}

# fault_tmpfs DIR SIZE: a tmpfs of SIZE (as mount takes it: 2m) on DIR,
# made if needed, searchable by the server users; fault_umount_all (in
# teardown) unmounts every one. Root only: the caller skips otherwise.
fault_tmpfs() {
	mkdir -p "$1" || return 1
	mount -t tmpfs -o "size=$2,mode=0755" tmpfs "$1" || return 1
	echo "$1" >>"$BATS_FILE_TMPDIR/fault-mounts"
}

fault_umount_all() {
	local m
	[ -f "$BATS_FILE_TMPDIR/fault-mounts" ] || return 0
	while IFS= read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done <"$BATS_FILE_TMPDIR/fault-mounts"
	rm -f "$BATS_FILE_TMPDIR/fault-mounts"
}

# fault_fill DIR: writes a file in DIR until its file system is full.
# fault_take_port: a TCP port of 127.0.0.1 held open by a helper process
# (its pid added to PIDS, for teardown to kill), in FAULT_PORT.
fault_take_port() {
	python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(120)' >"$W/port" 3>&- &
	PIDS+=("$!")
	for _ in $(seq 1 50); do [ -s "$W/port" ] && break; sleep 0.1; done
	# shellcheck disable=SC2034 # read by the tests
	FAULT_PORT=$(cat "$W/port")
}

fault_fill() {
	dd if=/dev/zero of="$1/fill" bs=64k status=none 2>/dev/null || true
}

# pg_ctl_server NAME ARGS...: pg_ctl of the scratch PostgreSQL NAME (pg),
# as the owner of its data directory; restart keeps its options.
pg_ctl_server() {
	local name=$1 data bin owner
	shift
	data=$(server_info "$name" datadir)
	bin=/usr/lib/postgresql/$(server_info "$name" version)/bin
	owner=$(stat -c %U "$data")
	if [ "$owner" = "$(id -un)" ]; then
		"$bin/pg_ctl" -D "$data" "$@"
	else
		runuser -u "$owner" -- "$bin/pg_ctl" -D "$data" "$@"
	fi
}

# pg_kill NAME: PostgreSQL NAME stopped at once, as a crash would (an
# immediate shutdown: no checkpoint, crash recovery at the next start).
pg_kill() {
	pg_ctl_server "$1" -m immediate -w stop >/dev/null
}

# pg_start NAME: started again with the options it had (pg_ctl restart
# of a server that is not running starts it with its postmaster.opts).
pg_start() {
	pg_ctl_server "$1" -w -l "$(server_info "$1" log)" restart >/dev/null 2>&1 3>&-
}

# fault_stop_servers: stop_servers, first stopping each PostgreSQL that
# pg_start started again (the instance driver knows only its first pid).
fault_stop_servers() {
	local info name
	[ -n "${DBOPS_SERVER_ROOT:-}" ] && [ -d "$DBOPS_SERVER_ROOT" ] || return 0
	for info in "$DBOPS_SERVER_ROOT"/*.info; do
		grep -qsx 'server=postgres' "$info" || continue
		name=$(basename "$info" .info)
		[ -f "$(server_info "$name" datadir)/postmaster.pid" ] &&
			pg_ctl_server "$name" -m fast -w stop >/dev/null 2>&1 3>&-
	done
	stop_servers
}
