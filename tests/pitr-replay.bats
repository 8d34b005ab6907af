#!/usr/bin/env bats
# pitr-replay against a real PostgreSQL WAL archive (tests/data/gen-pitr.sh,
# made once for the file): restores to a time, an LSN, an xid, a restore
# point and the end, each compared row for row with what was committed by
# then; every refusal with its exact message; window against pg_waldump.
#
# Each test works in a directory of its own ($W); what a test damages (an
# archive, a base backup) is a copy made there. A server a test leaves
# running is stopped by teardown.

bats_require_minimum_version 1.5.0
load lib/pitr

setup_file() {
	load lib/helpers
	pitr_generate || return 1
}

teardown_file() {
	load lib/helpers
	# Every restored server left running has DATADIR/pitr-replay/instance.state.
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
	TOOL=$(command -v pitr-replay)
}

teardown() {
	local state
	[ -n "${W:-}" ] && [ -d "$W" ] || return 0
	while IFS= read -r state; do
		"$DBOPS_DRIVER" stop "$(dirname "$state")" || true
	done < <(find "$W" -name instance.state)
	# Kept for inspection when the test failed.
	[ -z "${BATS_TEST_COMPLETED:-}" ] || rm -rf "$W"
}

# as_nobody CMD...: run as nobody when root (root reads everything), else as
# we are.
as_nobody() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups "$@"
	else
		"$@"
	fi
}

# window_rows ARGS: `pitr-replay window --format json ARGS` as lines
# timeline|event|time|lsn|xid|name|detail (null as empty), parsed by jq or
# python3.
window_rows() {
	local json
	json=$(pitr-replay window --format json "$@") || return 1
	if command -v jq >/dev/null; then
		jq -r '.[] | [.timeline, .event, .time, .lsn, .xid, .name, .detail] | map(. // "" | tostring) | join("|")' <<<"$json"
	elif command -v python3 >/dev/null; then
		python3 -c '
import json, sys
for r in json.load(sys.stdin):
    print("|".join("" if r[k] is None else str(r[k]) for k in ("timeline", "event", "time", "lsn", "xid", "name", "detail")))
' <<<"$json"
	else
		echo "window_rows: needs jq or python3" >&2
		return 1
	fi
}

@test "pitr-replay: --help, --version, and usage errors exit 1 with one error line" {
	run --separate-stderr pitr-replay --help
	assert_success
	assert_line --index 0 "Usage:"
	assert_equal "$stderr" ""
	run pitr-replay --version
	assert_success
	assert_output "pitr-replay $DBOPS_VERSION"

	local b=(-b "$G/base-plain" -a "$G/archive")
	run --separate-stderr pitr-replay
	assert_error 'pitr-replay: error: no command given: use restore, verify, window, info or fetch-wal'
	run --separate-stderr pitr-replay frobnicate "${b[@]}"
	assert_error 'pitr-replay: error: unknown command "frobnicate": use restore, verify, window, info or fetch-wal'
	run --separate-stderr pitr-replay verify "${b[@]}" --bogus
	assert_error 'pitr-replay: error: unknown option "--bogus"'
	run --separate-stderr pitr-replay verify "${b[@]}" --target-time
	assert_error 'pitr-replay: error: option "--target-time" needs a value'
	run --separate-stderr pitr-replay verify "${b[@]}" --target-name rp_dup --target-xid 740
	assert_error 'pitr-replay: error: --target-name and --target-xid cannot be used together'
	run --separate-stderr pitr-replay restore "${b[@]}" -D "$W/d" --target-name rp_dup --target-exclusive
	assert_error 'pitr-replay: error: --target-exclusive needs --target-time, --target-lsn or --target-xid'
	run --separate-stderr pitr-replay verify "${b[@]}" --target-exclusive
	assert_error 'pitr-replay: error: --target-exclusive needs --target-time, --target-lsn or --target-xid'
	run --separate-stderr pitr-replay restore "${b[@]}"
	assert_error 'pitr-replay: error: no data directory given (-D DATADIR)'
	run --separate-stderr pitr-replay verify -a "$G/archive"
	assert_error 'pitr-replay: error: no base backup given (-b BASE)'
	run --separate-stderr pitr-replay verify "${b[@]}" -D "$W/d"
	assert_error 'pitr-replay: error: -D, --action, --keep-running, --port and --tablespace-map are for restore'
	run --separate-stderr pitr-replay window -a "$G/archive" --timeline 1
	assert_error 'pitr-replay: error: window takes no target or --timeline: it shows every timeline'
	run --separate-stderr pitr-replay restore "${b[@]}" -D "$W/d" --keep-running --action shutdown
	assert_error 'pitr-replay: error: --keep-running cannot be used with --action shutdown'
	run --separate-stderr pitr-replay verify "${b[@]}" --target-time yesterday
	assert_failure 1
	assert_regex "${stderr_lines[0]}" '^pitr-replay: error: invalid value "yesterday" for --target-time: '
	run --separate-stderr pitr-replay verify "${b[@]}" --target-lsn 12
	assert_error 'pitr-replay: error: invalid value "12" for --target-lsn: expected an LSN such as 0/16B3748'
	run --separate-stderr pitr-replay verify "${b[@]}" --target-xid 2
	assert_error 'pitr-replay: error: invalid value "2" for --target-xid: expected a transaction ID from 3 to 4294967295, or one with its epoch as txid_current() gives it'
	run --separate-stderr pitr-replay verify "${b[@]}" --timeline 0
	assert_error 'pitr-replay: error: invalid value "0" for --timeline: use a timeline number, "current" or "latest"'
	run --separate-stderr pitr-replay restore "${b[@]}" -D "$W/d" --action stop
	assert_error 'pitr-replay: error: invalid value "stop" for --action: use promote, pause or shutdown'
	# None of them made the data directory.
	assert [ ! -e "$W/d" ]
}

@test "pitr-replay: options on common/cli: unknown letters by optopt, one shape for bad values, one target" {
	local b=(-b "$G/base-plain" -a "$G/archive")
	# An unknown letter inside a cluster is named, not the command before it.
	run --separate-stderr pitr-replay window -zq
	assert_error 'pitr-replay: error: unknown option "-z"'
	run --separate-stderr pitr-replay verify "${b[@]}" --target-xid 740 --target-xid 741
	assert_error 'pitr-replay: error: option "--target-xid" given twice'
	run --separate-stderr pitr-replay verify "${b[@]}" --target-time 2024-03-01 --target-lsn 0/1
	assert_error 'pitr-replay: error: --target-time and --target-lsn cannot be used together'
	run --separate-stderr pitr-replay verify "${b[@]}" --target-xid 4294967296
	assert_error 'pitr-replay: error: invalid value "4294967296" for --target-xid: that is transaction ID 0 of epoch 1, which no transaction has (IDs start at 3)'
	run --separate-stderr pitr-replay verify "${b[@]}" --target-name ''
	assert_error 'pitr-replay: error: invalid value "" for --target-name: restore point names are 1 to 63 bytes'
	run --separate-stderr pitr-replay verify "${b[@]}" --timeline x1
	assert_error 'pitr-replay: error: invalid value "x1" for --timeline: use a timeline number, "current" or "latest"'
	run --separate-stderr pitr-replay restore "${b[@]}" -D "$W/d" --port 0
	assert_error 'pitr-replay: error: invalid value "0" for --port: use a number from 1 to 65535'
	run --separate-stderr pitr-replay restore "${b[@]}" -D "$W/d" --port 80x
	assert_error 'pitr-replay: error: invalid value "80x" for --port: use a number from 1 to 65535'
	run --separate-stderr pitr-replay window -a "$G/archive" --format xml
	assert_error 'pitr-replay: error: invalid value "xml" for --format: use table, csv, tsv or json'
	run --separate-stderr pitr-replay window -a "$G/archive" --progress sometimes
	assert_error 'pitr-replay: error: invalid value "sometimes" for --progress: use auto, always or never'
	run --separate-stderr pitr-replay window -a "$G/archive" --timeline latest
	assert_error 'pitr-replay: error: window takes no target or --timeline: it shows every timeline'
	run --separate-stderr pitr-replay verify "${b[@]}" extra
	assert_error 'pitr-replay: error: unexpected argument "extra"'
	assert [ ! -e "$W/d" ]
}

@test "pitr-replay: paths in messages are quoted: could not <verb> \"PATH\": why" {
	run --separate-stderr pitr-replay window -a "$W/no such"
	assert_error "pitr-replay: error: could not open the WAL archive \"$W/no such\": No such file or directory"
	mkdir "$W/empty archive"
	run --separate-stderr pitr-replay window -a "$W/empty archive"
	assert_error "pitr-replay: error: \"$W/empty archive\": no WAL segment files in the archive (names of 24 hex digits, plain or compressed: .gz, .zst, .lz4, .xz, .bz2)"
}

@test "pitr-replay: the usage screen is under 80 columns" {
	run pitr-replay --help
	assert_success
	assert_usage_screen
	assert_line --partial '--target-time T'
	assert_line 'See pitr-replay(1).'
}

@test "pitr-replay: window --progress always draws the segments read per timeline" {
	run --separate-stderr pitr-replay window -a "$G/archive" --progress always
	assert_success
	assert_stderr_line --regexp '^timeline 1: segments: [0-9]+, '
	assert_stderr_line --regexp '^timeline 2: segments: [0-9]+, '
	run --separate-stderr pitr-replay window -a "$G/archive" --progress never
	assert_success
	assert_equal "$stderr" ""
}

@test "pitr-replay: verify plans the end of the latest timeline, or of timeline 1" {
	local first=${PLAIN_WINDOW_TXNS##* }
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive"
	assert_success
	assert_equal "$stderr" ""
	assert_line --index 0 "base backup: $G/base-plain (PostgreSQL $PG_MAJOR, system identifier $SYSID)"
	assert_line --index 1 "backup start: $PLAIN_START_LSN on timeline 1"
	if [ -n "$first" ]; then
		assert_line --index 2 "consistent at: $PLAIN_STOP_LSN (earliest target time $(pgtime "$(txn "$first" 3)"))"
	fi
	assert_line --index 3 "timeline: 2 (1 until $FORK_LSN, then 2)"
	assert_line --index 4 "target: the end of the archive"
	assert_line --index 5 --regexp '^recovery stops: at the end of the archive, after the record at [0-9A-F]+/[0-9A-F]+$'
	assert_line --index 6 --regexp " \\(last transaction $(rx "$(pgtime "$LAST_TL2_COMMIT_TIME")")\\)\$"
	# Timeline 1 from the backup's first segment, then timeline 2 from the
	# fork's: one file for each segment number.
	assert_line --index 7 "WAL checked: $PLAIN_START_SEGMENT to $TL2_LAST_SEGMENT, $(($(segno "$TL2_LAST_SEGMENT") - $(segno "$PLAIN_START_SEGMENT") + 1)) segments, every record's CRC good"

	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --timeline 1
	assert_success
	assert_line --index 3 "timeline: 1 (1)"
	assert_line --index 6 --regexp " \\(last transaction $(rx "$(pgtime "$LAST_TL1_COMMIT_TIME")")\\)\$"
	assert_line --index 7 "WAL checked: $PLAIN_START_SEGMENT to $TL1_LAST_SEGMENT, $(($(segno "$TL1_LAST_SEGMENT") - $(segno "$PLAIN_START_SEGMENT") + 1)) segments, every record's CRC good"
}

@test "pitr-replay: restore to a time, inclusive, gives what was committed by then (as root the server runs as postgres)" {
	assert_differ after-20 after-19
	restore_keep d --target-time "$(txn 20 3)" --timeline 1
	assert_stderr_line "target: time $(pgtime "$(txn 20 3)") (inclusive)"
	assert_stderr_line "recovered: recovery stopping before commit of transaction $(txn 21 2), time $(pgtime "$(txn 21 3)")"
	assert_stderr_line "promoted: the server left recovery on a new timeline"
	assert_rows "$CONN" after-20
	assert_server_owner
	run psql "$CONN" -AtX -c "select pg_is_in_recovery()"
	assert_output f
	stop_restored
}

@test "pitr-replay: restore to a time, exclusive, stops before the transaction of that time" {
	restore_keep d --target-time "$(txn 20 3)" --timeline 1 --target-exclusive
	assert_stderr_line "target: time $(pgtime "$(txn 20 3)") (exclusive)"
	assert_stderr_line "recovered: recovery stopping before commit of transaction $(txn 20 2), time $(pgtime "$(txn 20 3)")"
	assert_rows "$CONN" after-19
	assert_rows "$CONN" before-20
	stop_restored
}

@test "pitr-replay: a time of timeline 1 after the fork, along timeline 2, gives timeline 2 at that time: the fork" {
	# Timeline 2's first transaction is later than 20 on timeline 1.
	assert_differ after-20 fork
	restore_keep d --target-time "$(txn 20 3)"
	assert_stderr_line "timeline: 2 (1 until $FORK_LSN, then 2)"
	assert_stderr_line "recovered: recovery stopping before commit of transaction $(txn 24 2), time $(pgtime "$(txn 24 3)")"
	assert_rows "$CONN" fork
	assert_rows "$CONN" "after-$FORK_AFTER"
	stop_restored
}

@test "pitr-replay: restore to an LSN on timeline 2, inclusive: up to the end of the record there" {
	# rp_tl2's record starts at this LSN, on timeline 2, after transaction 26.
	assert_equal "$RP_TL2_TLI" 2
	assert_differ "after-$RP_TL2_AFTER" "after-$((RP_TL2_AFTER + 1))"
	restore_keep d --target-lsn "$RP_TL2_LSN"
	assert_stderr_line "target: LSN $RP_TL2_LSN (inclusive)"
	assert_stderr_line "recovery stops: after WAL location (LSN) \"$RP_TL2_LSN\", at $RP_TL2_LSN"
	assert_stderr_line "recovered: recovery stopping after WAL location (LSN) \"$RP_TL2_LSN\""
	assert_stderr_line "replayed up to: $RP_TL2_END_LSN (last transaction $(pgtime "$(txn "$RP_TL2_AFTER" 3)"))"
	assert_rows "$CONN" "after-$RP_TL2_AFTER"
	stop_restored
}

@test "pitr-replay: restore to the LSN of a commit record, inclusive: up to that commit" {
	# Transaction 25's commit record starts at this LSN, on timeline 2.
	local lsn
	lsn=$(txn 25 4)
	assert_equal "$(txn 25 5)" 2
	assert_differ after-25 after-24
	restore_keep d --target-lsn "$lsn"
	assert_stderr_line "target: LSN $lsn (inclusive)"
	assert_stderr_line "recovered: recovery stopping after WAL location (LSN) \"$lsn\""
	assert_rows "$CONN" after-25
	stop_restored
}

@test "pitr-replay: restore to an LSN, exclusive: just before that commit record" {
	local lsn
	lsn=$(txn 25 4)
	restore_keep d --target-lsn "$lsn" --target-exclusive
	assert_stderr_line "target: LSN $lsn (exclusive)"
	assert_stderr_line "recovered: recovery stopping before WAL location (LSN) \"$lsn\""
	assert_rows "$CONN" after-24
	stop_restored
}

@test "pitr-replay: restore to an xid, inclusive, includes that transaction" {
	local xid
	xid=$(txn 13 2)
	assert_differ after-13 after-12
	restore_keep d --target-xid "$xid"
	assert_stderr_line "target: transaction $xid (inclusive)"
	assert_stderr_line "recovered: recovery stopping after commit of transaction $xid, time $(pgtime "$(txn 13 3)")"
	assert_rows "$CONN" after-13
	stop_restored
}

@test "pitr-replay: restore to an xid, exclusive, without --keep-running: promoted, stopped, and it starts again" {
	local xid
	xid=$(txn 13 2)
	D=$W/d
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$G/archive" -D "$D" \
		--target-xid "$xid" --target-exclusive
	assert_success
	assert_equal "$stderr" ""
	assert_line "target: transaction $xid (exclusive)"
	assert_line "recovery stops: before commit of transaction $xid, time $(pgtime "$(txn 13 3)"), at $(txn 13 4)"
	assert_line "recovered: recovery stopping before commit of transaction $xid, time $(pgtime "$(txn 13 3)")"
	assert_line --index $((${#lines[@]} - 1)) "promoted: the server left recovery on a new timeline"
	# Stopped: no server, and nothing left of the private run: no work
	# directory, no recovery settings.
	assert [ ! -e "$D/postmaster.pid" ]
	assert [ ! -e "$D/pitr-replay" ]
	assert [ ! -e "$D/recovery.signal" ]
	run grep -cE "^(restore_command|recovery_target)" "$D/postgresql.auto.conf"
	assert_output 0
	# The promoted copy is a data directory PostgreSQL starts again, with
	# the same content, out of recovery.
	run "$DBOPS_DRIVER" start postgres "$W/again" --datadir "$D"
	assert_success
	local sock port
	sock=$(sed -n 's/^socket_dir=//p' <<<"$output")
	port=$(sed -n 's/^port=//p' <<<"$output")
	assert_rows "host=$sock port=$port user=postgres dbname=postgres" after-12
	run psql "host=$sock port=$port user=postgres dbname=postgres" -AtX -c "select pg_is_in_recovery()"
	assert_output f
	run "$DBOPS_DRIVER" stop "$W/again"
	assert_success
}

@test "pitr-replay: restore to a restore point stops at the first of that name; --action pause stays in recovery" {
	assert_differ "after-$RP_DUP_AFTER" "after-$RP_DUP_SECOND_AFTER"
	restore_keep d --target-name rp_dup --action pause
	assert_stderr_line "target: restore point \"rp_dup\""
	assert_stderr_line "recovery stops: at restore point \"rp_dup\", time $(pgtime "$RP_DUP_TIME"), at $RP_DUP_LSN"
	assert_stderr_line "replayed up to: $RP_DUP_END_LSN (last transaction $(pgtime "$(txn "$RP_DUP_AFTER" 3)"))"
	assert_stderr_line "recovered: recovery stopping at restore point \"rp_dup\", time $(pgtime "$RP_DUP_TIME")"
	assert_stderr_line "paused at the target (recovery.signal kept)"
	assert_rows "$CONN" "after-$RP_DUP_AFTER"
	assert_rows "$CONN" rp_dup
	run psql "$CONN" -AtX -c "select pg_is_in_recovery(), pg_is_wal_replay_paused(), pg_last_wal_replay_lsn()"
	assert_output "t|t|$RP_DUP_END_LSN"
	assert [ -f "$D/recovery.signal" ]
	stop_restored
}

@test "pitr-replay: --action shutdown leaves a stopped copy that stops at the target again" {
	D=$W/d
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$G/archive" -D "$D" \
		--target-name rp_late --timeline 1 --action shutdown
	assert_success
	assert_equal "$stderr" ""
	assert_line "timeline: 1 (1)"
	assert_line "recovered: recovery stopping at restore point \"rp_late\", time $(pgtime "$RP_LATE_TIME")"
	assert_line --index $((${#lines[@]} - 1)) "shut down at the target (recovery.signal kept; a later start stops there again)"
	assert [ ! -e "$D/postmaster.pid" ]
	assert [ -f "$D/recovery.signal" ]
	# The last recovery_target_action set is shutdown, and the file is still
	# one PostgreSQL reads: comments and name = value lines only.
	run sed -n "s/^recovery_target_action = //p" "$D/postgresql.auto.conf"
	assert_output "'shutdown'"
	run grep -vE "^(#.*|[a-z_]+ = '.*'|)\$" "$D/postgresql.auto.conf"
	assert_output ""
	run grep -c "^recovery_target_name = 'rp_late'\$" "$D/postgresql.auto.conf"
	assert_output 1
}

@test "pitr-replay: restore to the end follows the latest timeline, 2, to its last transaction" {
	assert_differ "after-$LAST_TL2_TXN" "after-$LAST_TL1_TXN"
	restore_keep d
	assert_stderr_line "target: the end of the archive"
	assert_stderr_line --regexp '^recovered: recovery stopping after WAL location \(LSN\) "[0-9A-F]+/[0-9A-F]+"$'
	assert_stderr_line --regexp " \\(last transaction $(rx "$(pgtime "$LAST_TL2_COMMIT_TIME")")\\)\$"
	assert_rows "$CONN" "after-$LAST_TL2_TXN"
	assert_rows "$CONN" end-tl2
	stop_restored
}

@test "pitr-replay: restore to the end of timeline 1, from the base backup as a tar through zstd" {
	restore_keep d -b "$G/base-plain.tar.zst" --timeline 1
	assert_stderr_line "base backup: $G/base-plain.tar.zst (PostgreSQL $PG_MAJOR, system identifier $SYSID)"
	assert_stderr_line "timeline: 1 (1)"
	assert_rows "$CONN" "after-$LAST_TL1_TXN"
	assert_rows "$CONN" end-tl1
	assert_server_owner
	stop_restored
}

@test "pitr-replay: the tar forms of the base backup verify alike" {
	local b
	for b in base-plain base-plain.tar base-plain.tar.lz4 base-plain.tar.zst; do
		run --separate-stderr pitr-replay verify -b "$G/$b" -a "$G/archive" --target-name rp_late --timeline 1
		assert_success
		assert_line --index 0 "base backup: $G/$b (PostgreSQL $PG_MAJOR, system identifier $SYSID)"
		assert_line "recovery stops: at restore point \"rp_late\", time $(pgtime "$RP_LATE_TIME"), at $RP_LATE_LSN"
		assert_line "replayed up to: $RP_LATE_END_LSN (last transaction $(pgtime "$(txn "$RP_LATE_AFTER" 3)"))"
	done
}

@test "pitr-replay: restore from pg_basebackup -Ft output (base.tar.gz, pg_wal.tar.gz)" {
	restore_keep d -b "$G/base-tar" --target-name rp_late --timeline 1
	assert_stderr_line "backup start: $TAR_START_LSN on timeline 1"
	assert_rows "$CONN" rp_late
	stop_restored
}

@test "pitr-replay: relative -b, -a and -D are taken from the working directory" {
	cd "$W"
	ln -s "$G/archive" arc
	cp -a "$G/base-plain" base
	run --separate-stderr pitr-replay restore -b base -a arc -D d --target-name rp_dup --keep-running
	assert_success
	D=$W/d
	assert_rows "$output" rp_dup
	stop_restored
}

@test "pitr-replay: an aborted transaction is a target: its abort record" {
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-xid "$ABORTED_XID" --timeline 1
	assert_success
	assert_line "target: transaction $ABORTED_XID (inclusive)"
	assert_line --regexp "^recovery stops: after abort of transaction $ABORTED_XID, time [0-9: .-]+\\+00, at [0-9A-F]+/[0-9A-F]+\$"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-xid "$FAILED_XID" --target-exclusive
	assert_success
	assert_line "target: transaction $FAILED_XID (exclusive)"
	assert_line --regexp "^recovery stops: before abort of transaction $FAILED_XID, "
}

@test "pitr-replay: a target before the base backup's consistency point is refused, saying the earliest" {
	local first=${PLAIN_WINDOW_TXNS##* } xid lsn
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-time "$(txn 1 3)"
	if [ -n "$first" ]; then
		assert_error "pitr-replay: error: target time $(pgtime "$(txn 1 3)") (inclusive) is before the base backup's consistency point $PLAIN_STOP_LSN: the earliest reachable time is $(pgtime "$(txn "$first" 3)")"
	else
		assert_failure 1
		assert_regex "${stderr_lines[0]}" "before the base backup's consistency point"
	fi
	# A transaction committed while the backup ran.
	if [ -n "$first" ]; then
		xid=$(txn "$first" 2)
		lsn=$(txn "$first" 4)
		run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-xid "$xid"
		assert_error "pitr-replay: error: target transaction $xid (inclusive) is before the base backup's consistency point: recovery would stop after commit of transaction $xid, time $(pgtime "$(txn "$first" 3)"), at $lsn, before the end-of-backup record"
	fi
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-lsn "$PLAIN_START_LSN"
	assert_failure 1
	assert_regex "${stderr_lines[0]}" "^pitr-replay: error: target LSN $PLAIN_START_LSN \\(inclusive\\) is before the base backup's consistency point: recovery would stop after WAL location \\(LSN\\) \"$PLAIN_START_LSN\", at [0-9A-F/]+, before the end-of-backup record\$"
	# rp_early is older than the backup: not in the WAL replayed from it.
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-name rp_early
	assert_error "pitr-replay: error: no restore point named \"rp_early\" in the WAL after the base backup's start $PLAIN_START_LSN (timeline 1 until $FORK_LSN, then 2)"
	assert_equal "${stderr_lines[1]}" 'pitr-replay: hint: restore points there: "rp_dup", "rp_fork", "rp_tl2"'
	# restore refuses the same way, before making the data directory.
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$G/archive" -D "$W/d" --target-time "$(txn 1 3)"
	assert_failure 1
	assert_regex "${stderr_lines[0]}" "^pitr-replay: error: target time .* is before the base backup's consistency point"
	assert [ ! -e "$W/d" ]
}

@test "pitr-replay: a target after the end of the archive is refused, saying where it ends" {
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-time 2099-01-01T00:00:00Z
	assert_error "pitr-replay: error: target time 2099-01-01 00:00:00+00 is beyond the last transaction in the archive: the archive reaches only to $(pgtime "$LAST_TL2_COMMIT_TIME") (timeline 1 until $FORK_LSN, then 2)"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-time 2099-01-01T00:00:00Z --timeline 1
	assert_error "pitr-replay: error: target time 2099-01-01 00:00:00+00 is beyond the last transaction in the archive: the archive reaches only to $(pgtime "$LAST_TL1_COMMIT_TIME") (timeline 1)"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-lsn FF/0
	assert_failure 1
	assert_regex "${stderr_lines[0]}" "^pitr-replay: error: target LSN FF/0 is beyond the end of the WAL in the archive, which ends at [0-9A-F/]+ \\(timeline 1 until $FORK_LSN, then 2\\)\$"
	# A transaction of timeline 1 after the fork is not on timeline 2.
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-xid "$(txn "$LAST_TL1_TXN" 2)"
	assert_error "pitr-replay: error: transaction $(txn "$LAST_TL1_TXN" 2) never committed or aborted in the WAL after the base backup's start $PLAIN_START_LSN (timeline 1 until $FORK_LSN, then 2)"
	assert_equal "${stderr_lines[1]}" "pitr-replay: hint: timeline 1 reaches it from this backup: add --timeline 1"
}

@test "pitr-replay: an xid that never ended and an unknown restore point are refused" {
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-xid "$NEVER_XID"
	assert_error "pitr-replay: error: transaction $NEVER_XID never committed or aborted in the WAL after the base backup's start $PLAIN_START_LSN (timeline 1 until $FORK_LSN, then 2)"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-name no_such_point --timeline 1
	assert_error "pitr-replay: error: no restore point named \"no_such_point\" in the WAL after the base backup's start $PLAIN_START_LSN (timeline 1)"
	assert_equal "${stderr_lines[1]}" 'pitr-replay: hint: restore points there: "rp_dup", "rp_fork", "rp_late"'
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-name rp_late
	assert_error "pitr-replay: error: no restore point named \"rp_late\" in the WAL after the base backup's start $PLAIN_START_LSN (timeline 1 until $FORK_LSN, then 2)"
	assert_equal "${stderr_lines[1]}" "pitr-replay: hint: timeline 1 reaches it from this backup: add --timeline 1"
	assert_equal "${stderr_lines[2]}" 'pitr-replay: hint: restore points there: "rp_dup", "rp_fork", "rp_tl2"'
	# and the other way round: rp_tl2 is on timeline 2 only.
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-name rp_tl2 --timeline 1
	assert_error "pitr-replay: error: no restore point named \"rp_tl2\" in the WAL after the base backup's start $PLAIN_START_LSN (timeline 1)"
	assert_equal "${stderr_lines[1]}" "pitr-replay: hint: timeline 2 reaches it from this backup: add --timeline 2"
}

@test "pitr-replay: a segment deleted from the archive: verify and restore refuse, window shows the gap" {
	local mid_lsn
	mid_lsn=$(lsn_of_segment "$MID_SEGMENT")
	archive_copy arc
	rm "$A/$MID_SEGMENT"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A"
	assert_error "pitr-replay: error: \"$A/$MID_SEGMENT\": WAL segment $MID_SEGMENT is missing from the archive (needed from LSN $mid_lsn; later segments exist)"
	assert_equal "${stderr_lines[1]}" "pitr-replay: hint: recovery would stop at the gap: the base backup's own pg_wal does not have the segment either; copy it into the archive"
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$A" -D "$W/d" --target-name rp_dup
	assert_error "pitr-replay: error: \"$A/$MID_SEGMENT\": WAL segment $MID_SEGMENT is missing from the archive (needed from LSN $mid_lsn; later segments exist)"
	assert [ ! -e "$W/d" ]
	# The window is printed; the exit status says the WAL stops early.
	run --separate-stderr pitr-replay window -a "$A" --format csv
	assert_failure 1
	assert_line "1,gap,,$mid_lsn,,$MID_SEGMENT,missing from the archive; WAL after it cannot be replayed"
	assert_line "2,gap,,$mid_lsn,,$MID_SEGMENT,missing from the archive; WAL after it cannot be replayed"
	assert_line --regexp "^1,problem,,$mid_lsn,,,\"?$MID_SEGMENT: WAL segment $MID_SEGMENT is missing from the archive"
	assert_stderr_line "pitr-replay: warning: timeline 1: \"$A/$MID_SEGMENT\": WAL segment $MID_SEGMENT is missing from the archive (needed from LSN $mid_lsn; later segments exist)"
	# Nothing is reported after the gap: no restore point, no latest commit.
	refute_line --regexp '^1,(restore point|latest commit),'
}

@test "pitr-replay: a segment with one flipped byte inside a record fails its CRC" {
	local off lsn
	archive_copy arc
	# The first record of the segment (40 bytes or more) that does not cross
	# a page: flip its 31st byte (past the 24-byte header: in its data).
	rm "$A/$MID_SEGMENT"
	cp "$G/archive/$MID_SEGMENT" "$A/$MID_SEGMENT"
	local line n hi lo byte
	lsn=
	while IFS= read -r line; do
		[[ $line =~ len\ \(rec/tot\):\ +[0-9]+/\ +([0-9]+),.*\ lsn:\ ([0-9A-F]+)/([0-9A-F]+), ]] || continue
		n=${BASH_REMATCH[1]} hi=${BASH_REMATCH[2]}
		lo=$((0x${BASH_REMATCH[3]} % WAL_SEGMENT_SIZE))
		if [ "$n" -ge 40 ] && [ $((lo % 8192 + n)) -le 8192 ]; then
			lsn=$(lsn_text $(( (0x$hi << 32) | 0x${BASH_REMATCH[3]} )))
			break
		fi
	done < <("$PG_BIN/pg_waldump" "$A/$MID_SEGMENT" 2>/dev/null)
	[ -n "$lsn" ] || fail "pg_waldump found no record in $MID_SEGMENT"
	off=$((lo + 30))
	byte=$(od -An -tu1 -j "$off" -N1 "$A/$MID_SEGMENT" | tr -d ' ')
	# shellcheck disable=SC2059 # an octal escape made here
	printf "\\$(printf '%03o' $((byte ^ 0x55)))" |
		dd of="$A/$MID_SEGMENT" bs=1 seek="$off" conv=notrunc status=none
	run cmp -l "$G/archive/$MID_SEGMENT" "$A/$MID_SEGMENT"
	assert_equal "${#lines[@]}" 1
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A"
	assert_failure 1
	assert_equal "$output" ""
	assert_regex "${stderr_lines[0]}" "^pitr-replay: error: \"$A/$MID_SEGMENT\": record at $lsn fails its CRC: stored [0-9A-F]{8}, computed [0-9A-F]{8} \\(a torn or damaged record\\)\$"
	assert_equal "${stderr_lines[1]}" "pitr-replay: hint: the segment is damaged; recovery would stop there. Restore a good copy of it into the archive"
	run pitr-replay window -a "$A" --format csv
	assert_failure 1
	assert_line --regexp "^1,problem,,[0-9A-F]+/[0-9A-F]+,,,\"$MID_SEGMENT: record at $lsn fails its CRC: "
}

@test "pitr-replay: a segment of another cluster in the archive is refused" {
	archive_copy arc
	rm "$A/$MID_SEGMENT"
	cp "$G/other-archive/000000010000000000000002" "$A/$MID_SEGMENT"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A"
	assert_failure 1
	assert_equal "$output" ""
	assert_regex "${stderr_lines[0]}" "^pitr-replay: error: \"$A/$MID_SEGMENT\": WAL of another cluster( at LSN $(lsn_of_segment "$MID_SEGMENT"))?: system identifier $OTHER_SYSID, expected $SYSID \\(the base backup's\\)\$"
	assert_equal "${stderr_lines[1]}" "pitr-replay: hint: this file does not belong to the base backup's cluster; remove it from the archive or use the matching base backup"
	assert_equal "${#stderr_lines[@]}" 2
}

@test "pitr-replay: a segment of another PostgreSQL version (page magic) is refused" {
	local other magic
	# Page magic of another major than the archive's (wal.c: 13 to 17).
	case $PG_MAJOR in 14) other=15 magic='\x10\xd1' ;; *) other=14 magic='\x0d\xd1' ;; esac
	archive_copy arc
	rm "$A/$MID_SEGMENT"
	cp "$G/archive/$MID_SEGMENT" "$A/$MID_SEGMENT"
	# shellcheck disable=SC2059 # the escapes are the two bytes to write
	printf "$magic" | dd of="$A/$MID_SEGMENT" bs=1 seek=0 conv=notrunc status=none
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A"
	assert_error "pitr-replay: error: \"$A/$MID_SEGMENT\": page magic $(printf '0x%X' "$(od -An -tu2 -N2 "$A/$MID_SEGMENT")") at LSN $(lsn_of_segment "$MID_SEGMENT") (offset 0) is PostgreSQL $other's, expected $(printf '0x%X' "$(od -An -tu2 -N2 "$G/archive/$MID_SEGMENT")") of PostgreSQL $PG_MAJOR: WAL of another PostgreSQL version"
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$A" -D "$W/d"
	assert_failure 1
	assert_regex "${stderr_lines[0]}" "WAL of another PostgreSQL version\$"
	assert [ ! -e "$W/d" ]
}

@test "pitr-replay: --progress always reports verified and replayed segments, ending at all of them" {
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$G/archive" -D "$W/d" \
		--timeline 1 --progress always
	assert_success
	local n
	n=$(sed -n 's/^WAL checked: .*, \([0-9]*\) segments, .*/\1/p' <<<"$output")
	[ -n "$n" ] || fail "no \"WAL checked\" line on stdout: $output"
	assert_stderr_line --regexp "^verifying WAL: segments: [0-9]+, "
	# The last line drawn: every segment needed replayed.
	assert_equal "$(grep -a '^replaying WAL: ' <<<"$stderr" | tail -1 | sed 's/,.*//')" \
		"replaying WAL: segments: $n / $n (100%)"
}

@test "pitr-replay: a base backup without backup_label, and a truncated tar, are refused" {
	cp -a "$G/base-plain" "$W/nolabel"
	rm "$W/nolabel/backup_label"
	run --separate-stderr pitr-replay verify -b "$W/nolabel" -a "$G/archive"
	assert_error "pitr-replay: error: \"$W/nolabel\": no backup_label: not a base backup taken with pg_basebackup"
	head -c $(($(stat -c %s "$G/base-plain.tar") / 2)) "$G/base-plain.tar" >"$W/half.tar"
	run --separate-stderr pitr-replay verify -b "$W/half.tar" -a "$G/archive"
	assert_failure 1
	assert_equal "$output" ""
	assert_regex "${stderr_lines[0]}" "^pitr-replay: error: \"$W/half.tar\": incomplete or damaged tar: "
	run --separate-stderr pitr-replay restore -b "$W/half.tar" -a "$G/archive" -D "$W/d"
	assert_failure 1
	assert_regex "${stderr_lines[0]}" "^pitr-replay: error: \"$W/half.tar\": incomplete or damaged tar: "
}

@test "pitr-replay: missing PostgreSQL server binaries are named, with the package" {
	local v=
	for n in 13 14 16 17; do
		[ "$n" != "$PG_MAJOR" ] && [ ! -x "/usr/lib/postgresql/$n/bin/postgres" ] && { v=$n; break; }
	done
	[ -n "$v" ] || skip "PostgreSQL 13, 14, 16 and 17 are all installed"
	cp -a "$G/base-plain" "$W/old"
	echo "$v" >"$W/old/PG_VERSION"
	run --separate-stderr pitr-replay restore -b "$W/old" -a "$G/archive" -D "$W/d"
	assert_error "pitr-replay: error: the base backup is PostgreSQL $v, whose server binaries are not installed: no /usr/lib/postgresql/$v/bin/postgres"
	assert_equal "${stderr_lines[1]}" "pitr-replay: hint: install the Debian package postgresql-$v (apt-get install postgresql-$v), or give --pg-bindir DIR"
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$G/archive" -D "$W/d" --pg-bindir /nonexistent
	assert_error "pitr-replay: error: \"/nonexistent/postgres\": no PostgreSQL server program there (--pg-bindir)"
	assert [ ! -e "$W/d" ]
}

@test "pitr-replay: verify needs no server binaries; restore names the package (L4)" {
	# The server binaries hidden in a mount namespace of the test's own.
	unshare -m true 2>/dev/null || skip "no mount namespaces here"
	run --separate-stderr unshare -m sh -c 'mount -t tmpfs none /usr/lib/postgresql && exec "$@"' sh \
		pitr-replay verify -q -b "$G/base-plain" -a "$G/archive" --pg-bindir /nonexistent
	assert_success
	assert_equal "$output$stderr" ""
	run --separate-stderr unshare -m sh -c 'mount -t tmpfs none /usr/lib/postgresql && exec "$@"' sh \
		pitr-replay restore -b "$G/base-plain" -a "$G/archive" -D "$W/d"
	assert_error "pitr-replay: error: the base backup is PostgreSQL $PG_MAJOR, whose server binaries are not installed: no /usr/lib/postgresql/$PG_MAJOR/bin/postgres"
	assert_equal "${stderr_lines[1]}" "pitr-replay: hint: install the Debian package postgresql-$PG_MAJOR (apt-get install postgresql-$PG_MAJOR), or give --pg-bindir DIR"
	assert [ ! -e "$W/d" ]
}

@test "pitr-replay: a timeline that does not exist, or forked before the backup, is refused" {
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --timeline 9
	assert_error "pitr-replay: error: recovery target timeline 9 does not exist in $G/archive: the newest timeline there is 2"
	# The tar backup, as a directory, was taken on timeline 1 after the fork.
	# (pg_basebackup -Ft always writes an empty tablespace_map; -Ft output
	# itself is the test "restore from pg_basebackup -Ft output".)
	mkdir -m 0700 "$W/tarbase"
	tar -xzf "$G/base-tar/base.tar.gz" -C "$W/tarbase"
	rm -f "$W/tarbase/tablespace_map"
	run --separate-stderr pitr-replay verify -b "$W/tarbase" -a "$G/archive" --timeline 2
	assert_error "pitr-replay: error: timeline 2 forked from the base backup's timeline 1 at $FORK_LSN, before the backup started at $TAR_START_LSN"
	assert_regex "${stderr_lines[1]}" '^pitr-replay: hint: choose a timeline whose history passes through timeline 1 after '
	# Latest: timeline 2 is passed over for timeline 1.
	run --separate-stderr pitr-replay verify -b "$W/tarbase" -a "$G/archive" --target-name rp_late
	assert_success
	assert_line "backup start: $TAR_START_LSN on timeline 1"
	assert_line --regexp "^consistent at: $TAR_STOP_LSN( \\(earliest target time [^)]+\\))?\$"
	assert_line "timeline: 1 (1)"
	assert_line "recovery stops: at restore point \"rp_late\", time $(pgtime "$RP_LATE_TIME"), at $RP_LATE_LSN"
}

@test "pitr-replay: a data directory that is not empty is refused, and nothing is written into it" {
	mkdir "$W/d"
	echo keep >"$W/d/keep"
	touch -d '2024-01-01 00:00:00' "$W/d/keep" "$W/d"
	local before
	before=$(ls -la --time-style=full-iso "$W/d")
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$G/archive" -D "$W/d"
	assert_error "pitr-replay: error: \"$W/d\": the data directory exists and is not empty: pitr-replay never writes over data"
	assert_equal "${stderr_lines[1]}" "pitr-replay: hint: give a new or empty directory"
	assert_equal "$(ls -la --time-style=full-iso "$W/d")" "$before"
	assert_equal "$(cat "$W/d/keep")" keep
}

@test "pitr-replay: messages say what is wrong: a dangling -D link, a tar of the directory, a target at the last commit, a foreign archive (L5)" {
	local last xid lsn
	ln -s "$W/nowhere/d" "$W/link"
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$G/archive" -D "$W/link"
	assert_error "pitr-replay: error: \"$W/link\" is a symbolic link to \"$W/nowhere/d\", which does not exist"
	assert_equal "${stderr_lines[1]}" "pitr-replay: hint: create the directory it points to, or give another -D"
	assert [ ! -e "$W/nowhere" ]
	# tar czf x.tgz pgdata/: one message, the right one.
	cp -a "$G/base-plain" "$W/pgdata"
	tar -C "$W" -czf "$W/x.tgz" pgdata
	run --separate-stderr pitr-replay verify -b "$W/x.tgz" -a "$G/archive"
	assert_error "pitr-replay: error: \"$W/x.tgz\": no backup_label at the top: the tar holds a directory \"pgdata\" with one"
	assert_equal "${stderr_lines[1]}" "pitr-replay: hint: give a tar of the data directory's contents: tar -C DATADIR -cf FILE ."
	assert_equal "${#stderr_lines[@]}" 2
	# A target time equal to the last commit's: nothing after it to stop at.
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --timeline 1
	assert_success
	last=$(sed -nE 's/^replayed up to: .* \(last transaction (.*)\)$/\1/p' <<<"$output")
	[ -n "$last" ] || fail "no last transaction in: $output"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --timeline 1 --target-time "$last"
	assert_failure 1
	assert_regex "${stderr_lines[0]}" "^pitr-replay: error: target time $(sed 's/[.+]/\\&/g' <<<"$last") is the time of the last transaction in the archive, ([0-9]+) at [0-9A-F]+/[0-9A-F]+ \(timeline 1\): recovery stops at the first transaction after the target, and none follows\$"
	xid=$(sed -E 's/.*archive, ([0-9]+) at .*/\1/' <<<"${stderr_lines[0]}")
	assert_equal "${stderr_lines[1]}" "pitr-replay: hint: to recover up to and including it, give --target-xid $xid, or no target to replay to the end"
	# The oracle: the commit of that transaction has that time.
	run bash -c "/usr/lib/postgresql/$PG_MAJOR/bin/pg_waldump -p '$G/archive' -t 1 -r Transaction -s '$PLAIN_START_LSN' 2>/dev/null | grep 'tx: *$xid,'"
	assert_output --partial "COMMIT ${last%+00}"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --timeline 1 --target-xid "$xid"
	assert_success
	# window on another cluster's archive: the cause first, not a consequence.
	run --separate-stderr pitr-replay window -b "$G/base-plain" -a "$G/other-archive" --format csv
	assert_failure 1
	assert_line --index 3 '1,problem,,,,,the base backup'"'"'s end-of-backup record is not reached: reading stopped on the problem below'
	assert_line --index 4 --regexp '^1,problem,,0/0,,,"000000010000000000000002: WAL of another cluster at LSN 0/2000000: '
}

@test "pitr-replay: window lists each timeline's restore points and latest commit, as table and json" {
	run --separate-stderr pitr-replay window -a "$G/archive"
	assert_success
	assert_line --index 1 --regexp '^\| timeline \| event +\| time +\| lsn +\| xid +\| name +\| detail +\|$'
	assert_line --regexp "^\\| +1 \\| backup +\\| NULL +\\| $PLAIN_START_LSN +\\| NULL \\| NULL +\\| $PLAIN_BACKUP_FILE +\\|\$"
	assert_line --regexp "^\\| +1 \\| latest commit +\\| $(rx "$(pgtime "$LAST_TL1_COMMIT_TIME")") +\\| $(txn "$LAST_TL1_TXN" 4) +\\| +$(txn "$LAST_TL1_TXN" 2) \\| NULL +\\| time targets must be before it +\\|\$"
	assert_line --regexp "^\\| +2 \\| latest commit +\\| $(rx "$(pgtime "$LAST_TL2_COMMIT_TIME")") +\\| $(txn "$LAST_TL2_TXN" 4) +\\| +$(txn "$LAST_TL2_TXN" 2) \\| NULL +\\|"
	assert_line --regexp "^\\| +1 \\| restore point +\\| $(rx "$(pgtime "$RP_LATE_TIME")") +\\| $RP_LATE_LSN +\\| NULL \\| rp_late +\\| NULL +\\|\$"

	run window_rows -a "$G/archive" -b "$G/base-plain"
	assert_success
	local first=${PLAIN_WINDOW_TXNS##* } earliest=
	[ -n "$first" ] && earliest=$(pgtime "$(txn "$first" 3)")
	local want
	want="1|path|||||1
1|backup||$PLAIN_START_LSN|||$G/base-plain
1|earliest|$earliest|$PLAIN_STOP_LSN|||consistency point: the earliest target
1|restore point|$(pgtime "$RP_DUP_TIME")|$RP_DUP_LSN||rp_dup|
1|restore point|$(pgtime "$RP_DUP_SECOND_TIME")|$RP_DUP_SECOND_LSN||rp_dup|
1|restore point|$(pgtime "$RP_FORK_TIME")|$RP_FORK_LSN||rp_fork|
1|restore point|$(pgtime "$RP_LATE_TIME")|$RP_LATE_LSN||rp_late|
1|latest commit|$(pgtime "$LAST_TL1_COMMIT_TIME")|$(txn "$LAST_TL1_TXN" 4)|$(txn "$LAST_TL1_TXN" 2)||time targets must be before it
2|path|||||1 until $FORK_LSN, then 2
2|backup||$PLAIN_START_LSN|||$G/base-plain
2|earliest|$earliest|$PLAIN_STOP_LSN|||consistency point: the earliest target
2|restore point|$(pgtime "$RP_DUP_TIME")|$RP_DUP_LSN||rp_dup|
2|restore point|$(pgtime "$RP_DUP_SECOND_TIME")|$RP_DUP_SECOND_LSN||rp_dup|
2|restore point|$(pgtime "$RP_FORK_TIME")|$RP_FORK_LSN||rp_fork|
2|restore point|$(pgtime "$RP_TL2_TIME")|$RP_TL2_LSN||rp_tl2|
2|latest commit|$(pgtime "$LAST_TL2_COMMIT_TIME")|$(txn "$LAST_TL2_TXN" 4)|$(txn "$LAST_TL2_TXN" 2)||time targets must be before it"
	[ -n "$first" ] || output=$(sed -E 's/^([12]\|earliest\|)[^|]*/\1/' <<<"$output")
	# Every row but the ends, then the ends: where the last segment stops.
	assert_equal "$(grep -v '^[12]|end|' <<<"$output")" "$want"
	local end
	end=$(lsn_text $(( ($(segno "$TL1_LAST_SEGMENT") + 1) * WAL_SEGMENT_SIZE )))
	assert_line --regexp "^1\\|end\\|\\|$end\\|\\|\\|the archive ends before segment [0-9A-F]{24} \\(LSN $end\\)\$"
	end=$(lsn_text $(( ($(segno "$TL2_LAST_SEGMENT") + 1) * WAL_SEGMENT_SIZE )))
	assert_line --regexp "^2\\|end\\|\\|$end\\|\\|\\|the archive ends before segment [0-9A-F]{24} \\(LSN $end\\)\$"
}

@test "pitr-replay: window agrees with pg_waldump on the same archive: last commit time, restore points" {
	[ -x "$PG_BIN/pg_waldump" ] || skip "no $PG_BIN/pg_waldump"
	# pg_waldump stops with an error at the end of the WAL: its status is
	# not the point. It prints times in TZ (UTC here) with six digits.
	"$PG_BIN/pg_waldump" -p "$G/archive" -t 1 -s "$PLAIN_START_LSN" >"$W/waldump" 2>/dev/null || true
	local dump_commit dump_rps win
	dump_commit=$(grep -E 'desc: (COMMIT|ABORT) ' "$W/waldump" | tail -1 |
		sed -E 's/.*desc: (COMMIT|ABORT) ([0-9-]+ [0-9:.]+) UTC.*/\2+00/')
	[ -n "$dump_commit" ] || fail "pg_waldump found no commit"
	dump_commit=$(pgtime "$dump_commit")
	dump_rps=$(grep 'desc: RESTORE_POINT ' "$W/waldump" |
		sed -E 's/.*lsn: ([0-9A-F]+)\/([0-9A-F]+),.*desc: RESTORE_POINT (.*)$/\3 \1 \2/' |
		while read -r name hi lo; do echo "$name $(lsn_text $(( (0x$hi << 32) | 0x$lo )))"; done)
	[ -n "$dump_rps" ] || fail "pg_waldump found no restore point"

	run window_rows -a "$G/archive" -b "$G/base-plain"
	assert_success
	win=$(awk -F'|' '$1 == 1 && $2 == "latest commit" { print $3 }' <<<"$output")
	assert_equal "$win" "$dump_commit"
	win=$(awk -F'|' '$1 == 1 && $2 == "restore point" { print $6 " " $4 }' <<<"$output")
	assert_equal "$win" "$dump_rps"
	# And both agree with what the generator recorded.
	assert_equal "$dump_commit" "$(pgtime "$LAST_TL1_COMMIT_TIME")"
	assert_equal "$dump_rps" "rp_dup $RP_DUP_LSN
rp_dup $RP_DUP_SECOND_LSN
rp_fork $RP_FORK_LSN
rp_late $RP_LATE_LSN"
}

@test "pitr-replay: an unprivileged user verifies and restores (the server runs as that user)" {
	local who
	who=$(id -un)
	[ "$(id -u)" = 0 ] && who=nobody
	mkdir "$W/mine"
	[ "$(id -u)" = 0 ] && chown nobody: "$W/mine"
	D=$W/mine/d
	run --separate-stderr as_nobody "$TOOL" verify -b "$G/base-plain.tar.lz4" -a "$G/archive" --target-name rp_fork
	assert_success
	assert_line "recovery stops: at restore point \"rp_fork\", time $(pgtime "$RP_FORK_TIME"), at $RP_FORK_LSN"
	run --separate-stderr as_nobody "$TOOL" restore -b "$G/base-plain.tar.lz4" -a "$G/archive" -D "$D" \
		--target-name rp_fork --keep-running
	assert_success
	CONN=$output
	assert_stderr_line "recovered: recovery stopping at restore point \"rp_fork\", time $(pgtime "$RP_FORK_TIME")"
	assert_equal "$(stat -c '%U %a' "$D")" "$who 700"
	assert_equal "$(ps -o user= -p "$(head -1 "$D/postmaster.pid")")" "$who"
	assert_rows "$CONN" rp_fork
	assert_rows "$CONN" "after-$RP_FORK_AFTER"
	stop_restored
	if [ "$(id -u)" = 0 ]; then
		# What nobody cannot read is refused, naming it.
		run --separate-stderr as_nobody "$TOOL" verify -b "$G/base-plain" -a "$G/archive"
		assert_failure 1
		assert_regex "${stderr_lines[0]}" "^pitr-replay: error: .*$G/base-plain.*Permission denied"
	fi
}

@test "pitr-replay: an archive of gzip-compressed segments verifies and restores alike" {
	local a=$W/archive-gz xid
	cp -a "$G/archive" "$a"
	gzip "$a"/[0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F]
	assert [ -e "$a/$MID_SEGMENT.gz" ] && assert [ ! -e "$a/$MID_SEGMENT" ]
	xid=$(txn 13 2)
	D=$W/gz
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$a" -D "$D" \
		--target-xid "$xid" --timeline 1 --keep-running
	assert_success
	CONN=$output
	assert_rows "$CONN" after-13
	stop_restored
}

@test "pitr-replay: a truncated .gz segment is refused, naming it" {
	local a=$W/archive-gz
	cp -a "$G/archive" "$a"
	gzip "$a/$MID_SEGMENT"
	truncate -s 2000 "$a/$MID_SEGMENT.gz"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$a" --timeline 1
	assert_failure 1
	assert_regex "${stderr_lines[0]}" "^pitr-replay: error: \"$(rx "$a/$MID_SEGMENT.gz")\": WAL segment inflates to [0-9]+ bytes, expected $WAL_SEGMENT_SIZE \\(a truncated \\.gz file\\?\\)\$"
}

@test "pitr-replay: a server that fails during recovery is quoted and explained; the data directory is left" {
	local b=$W/base
	cp -a "$G/base-plain" "$b"
	echo "shared_preload_libraries = 'no_such_library'" >>"$b/postgresql.auto.conf"
	D=$W/failed
	run --separate-stderr pitr-replay restore -b "$b" -a "$G/archive" -D "$D" --timeline 1
	assert_failure 1
	assert_stderr_line "pitr-replay: error: recovery failed: the server said \"FATAL:  could not access file \"no_such_library\": No such file or directory\""
	assert_stderr_line "pitr-replay: detail: the backup's configuration names a library or file that is not on this host (shared_preload_libraries?)"
	assert_stderr_line "pitr-replay: hint: the data directory \"$D\" is left as it is for inspection; the server log is \"$D/pitr-replay/server.log\""
	assert [ -f "$D/PG_VERSION" ]
	assert [ ! -e "$D/postmaster.pid" ]
}

@test "pitr-replay: restore -D and -a with a space, quotes and a dollar in the path; the printed conninfo works with psql" {
	local host
	D=$(odd_dir r)
	cp -al "$G/archive" "$(odd_dir ra)/archive"
	run --separate-stderr timeout 300 pitr-replay restore -b "$G/base-plain" -a "$(dirname "$D")/ra/archive" \
		-D "$D" --target-name rp_dup --keep-running
	assert_success
	assert_equal "${#lines[@]}" 1
	# The socket is in $D/pitr-replay when the path fits a socket's 107
	# bytes (it does under /tmp), in libpq's quoting: in single quotes,
	# ' and \ escaped by a backslash.
	host=$D/pitr-replay
	((${#host} + 18 <= 107)) || host=$(sed -n 's/^socket_dir=//p' "$D/pitr-replay/instance.state")
	host=${host//\\/\\\\}
	host=${host//\'/\\\'}
	[[ $output == "host='$host' port="[0-9]*" user=postgres dbname=postgres" ]] ||
		fail "conninfo not quoted the libpq way: $output"
	assert_rows "$output" rp_dup
	stop_restored
}

@test "pitr-replay: a server that makes no progress during recovery ends the restore with exit 1, naming the wait and quoting its log" {
	local tool pid="" rc=0 i
	D=$W/d
	PITR_REPLAY_STALL_TIMEOUT=3 timeout 120 pitr-replay restore -b "$G/base-plain" -a "$G/archive" -D "$D" \
		--target-name rp_dup >"$W/out" 2>"$W/err" &
	tool=$!
	# Stop the postmaster as soon as it runs: replay and connections stall.
	for ((i = 0; i < 6000; i++)); do
		pid=$(head -1 "$D/postmaster.pid" 2>/dev/null) && [ -n "$pid" ] && break
		sleep 0.01
	done
	[ -n "$pid" ] || fail "the server never started"
	kill -STOP "$pid"
	wait "$tool" || rc=$?
	kill -CONT "$pid" 2>/dev/null || true
	assert_equal "$rc" 1
	run cat "$W/err"
	assert_line --index 0 "pitr-replay: error: could not restore \"$D\": the server made no progress for 3 s while waiting for recovery to reach the target"
	assert_line --index 1 --regexp "^pitr-replay: detail: (last line of server log \"$(rx "$D")/pitr-replay/server\.log\": .|server log \"$(rx "$D")/pitr-replay/server\.log\" is empty\$)"
	assert_line --index 2 "pitr-replay: hint: PITR_REPLAY_STALL_TIMEOUT sets the seconds without progress to allow (now 3); the data directory \"$D\" is left as it is for inspection"
	# The hung server was killed, and its data directory is left.
	assert_line --regexp "^pitr-replay: error: PostgreSQL in \"$(rx "$D")/pitr-replay\" \(pid $pid\) did not stop within 3 s; killed it\$"
	assert [ -f "$D/PG_VERSION" ]
	run kill -0 "$pid"
	assert_failure
}

@test "pitr-replay: a signal during the extraction removes the data directory it was filling; the next run is not refused" {
	local tool rc=0 i
	# A base tar whose first member is 1 GiB of zeros (a few MB of gzip):
	# its extraction takes seconds.
	mkdir "$W/big"
	truncate -s 1G "$W/big/zeros"
	tar -cf - -C "$W/big" zeros -C "$G/base-plain" . | gzip -1 >"$W/big.tar.gz"
	rm "$W/big/zeros"
	D=$W/d
	pitr-replay restore -b "$W/big.tar.gz" -a "$G/archive" -D "$D" --target-name rp_dup \
		>"$W/out" 2>"$W/err" &
	tool=$!
	for ((i = 0; i < 6000; i++)); do
		[ -e "$D/zeros" ] && break
		sleep 0.01
	done
	[ -e "$D/zeros" ] || fail "the extraction never started"
	kill -TERM "$tool"
	wait "$tool" || rc=$?
	assert_equal "$rc" 1
	run cat "$W/err"
	assert_line "pitr-replay: error: interrupted by signal 15: removed the data directory \"$D\" it was filling"
	assert [ ! -e "$D" ]
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$G/archive" -D "$D" --target-name rp_dup
	assert_success
	assert_line "recovered: recovery stopping at restore point \"rp_dup\", time $(pgtime "$RP_DUP_TIME")"
}

@test "pitr-replay: verify with the base backup and the archive under paths with a space, quotes and a dollar" {
	local odd b want
	odd=$(odd_dir verify)
	cp -al "$G/archive" "$odd/archive"
	for b in base-plain base-plain.tar.zst base-tar; do
		cp -a "$G/$b" "$odd/$b"
		run --separate-stderr pitr-replay verify -b "$G/$b" -a "$G/archive" --target-name rp_late --timeline 1
		assert_success
		want=${output//"$G/"/"$odd/"}
		run --separate-stderr pitr-replay verify -b "$odd/$b" -a "$odd/archive" --target-name rp_late --timeline 1
		assert_success
		assert_equal "$stderr" ""
		assert_line --index 0 --partial "base backup: $odd/$b "
		assert_output "$want"
	done
}

@test "pitr-replay: window with the base backup and the archive under paths with a space, quotes and a dollar" {
	local odd want
	odd=$(odd_dir window)
	cp -al "$G/archive" "$odd/archive"
	cp -a "$G/base-plain" "$odd/base"
	run --separate-stderr pitr-replay window -a "$G/archive"
	assert_success
	want=$output
	run --separate-stderr pitr-replay window -a "$odd/archive"
	assert_success
	assert_equal "$stderr" ""
	assert_output "$want"
	# The backup's path comes back intact through the json.
	run window_rows -a "$G/archive" -b "$G/base-plain"
	assert_success
	want=${output//"$G/base-plain"/"$odd/base"}
	run window_rows -a "$odd/archive" -b "$odd/base"
	assert_success
	assert_line "1|backup||$PLAIN_START_LSN|||$odd/base"
	assert_output "$want"
}
