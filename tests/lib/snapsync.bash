# shellcheck shell=bash
# snapsync.bash - what the snap-import sync suites share
# (tests/snap-import-sync-*.bats): psql in one line, waits on the server
# and on sync's log ($W/sync.log), a scrape of /metrics, stopping sync
# ($SYNC_PID) and the background processes a test started.

sql() { psql -AtX -v ON_ERROR_STOP=1 -c "$1"; }

# wait_for QUERY VALUE: until QUERY answers VALUE, at most 60 s.
wait_for() {
	for _ in $(seq 1 600); do
		[ "$(sql "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "waited in vain for [$1] = $2 (last: $(sql "$1"))"
}

# wait_log TEXT [TENTHS]: up to TENTHS tenths of a second (1200).
wait_log() {
	for _ in $(seq 1 "${2:-1200}"); do
		grep -q -- "$1" "$W/sync.log" && return 0
		sleep 0.1
	done
	fail "waited in vain for [$1] in the log: $(tail -n 5 "$W/sync.log")"
}

# scrape PORT: sync's /metrics (headers and body).
scrape() {
	local h
	exec {h}<>"/dev/tcp/127.0.0.1/$1"
	printf 'GET /metrics HTTP/1.0\r\n\r\n' >&"$h"
	cat <&"$h"
	exec {h}<&-
}

# stop_sync: SIGTERM, and sync must exit 0.
stop_sync() {
	kill -TERM "$SYNC_PID"
	wait "$SYNC_PID" || fail "sync exited with status $?: $(cat "$W/sync.log")"
	SYNC_PID=
}

# stop_all PID...: the processes a test left running (in teardown).
stop_all() {
	local p
	for p in "$@"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}
