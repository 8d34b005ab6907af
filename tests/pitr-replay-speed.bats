#!/usr/bin/env bats
# pitr-replay reads the WAL in chunks on several threads (scan.c): each
# chunk from the first record of a later segment, with a reader of its own,
# taken over by the reader from the start only when it begins where that
# one reads next and made the checks it would make there. On a real archive
# (tests/data/gen-pitr.sh), clean or damaged where a chunk begins, and with
# a target in a later chunk: the same output, the same error at the same
# LSN, whatever --jobs.

bats_require_minimum_version 1.5.0
load lib/pitr

setup_file() {
	load lib/helpers
	pitr_generate || return 1
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
	[ -n "${W:-}" ] && [ -d "$W" ] || return 0
	[ -z "${BATS_TEST_COMPLETED:-}" ] || rm -rf "$W"
}

lsn_num() {
	echo $(((0x${1%/*} << 32) | 0x${1#*/}))
}

# poke FILE OFFSET BYTES: BYTES (printf escapes) written at OFFSET of FILE,
# in a new file put in FILE's place (the archive copy is made of hard links).
poke() {
	cp "$1" "$W/poked"
	# shellcheck disable=SC2059
	printf "$3" | dd of="$W/poked" bs=1 seek="$2" conv=notrunc status=none
	rm -f "$1"
	mv "$W/poked" "$1"
	run cmp "$G/archive/${1##*/}" "$1"
	assert_failure 1
}

# first_record SEGMENT: the LSN of the first record that begins in it.
first_record() {
	"$PG_BIN/pg_waldump" -p "$G/archive" "$1" "$1" 2>/dev/null |
		sed -nE '1s/.* lsn: ([0-9A-F]+\/[0-9A-F]+), .*/\1/p'
}

# same_with_jobs COMMAND...: COMMAND with --jobs 1, 2 and 4 gives the same
# status, output and messages; they are left in $status, $output, $stderr.
same_with_jobs() {
	local s1 o1 e1 j
	run --separate-stderr pitr-replay "$@" --jobs 1
	s1=$status o1=$output e1=$stderr
	for j in 2 4; do
		run --separate-stderr pitr-replay "$@" --jobs "$j"
		assert_equal "$status" "$s1"
		assert_equal "$output" "$o1"
		assert_equal "$stderr" "$e1"
	done
}

# same_everywhere ARCHIVE: window (from the backup and without) and verify
# to the end of timeline 1 give the same whatever --jobs; verify's status,
# output and messages are left as same_with_jobs leaves them.
same_everywhere() {
	same_with_jobs window -a "$1" --format csv
	same_with_jobs window -a "$1" -b "$G/base-plain" --format csv
	same_with_jobs verify -b "$G/base-plain" -a "$1" --timeline 1 --progress never
}

@test "pitr-replay-speed: a target in a later segment: the same stop whatever --jobs" {
	local b=(-b "$G/base-plain" -a "$G/archive" --timeline 1 --progress never)
	local late_xid late_time
	late_xid=$(txn "$RP_LATE_AFTER" 2)
	late_time=$(txn "$RP_LATE_AFTER" 3)
	same_with_jobs verify "${b[@]}" --target-name "$RP_LATE_NAME"
	assert_success
	assert_line "recovery stops: at restore point \"$RP_LATE_NAME\", time $(pgtime "$RP_LATE_TIME"), at $RP_LATE_LSN"
	same_with_jobs verify "${b[@]}" --target-xid "$late_xid"
	assert_success
	assert_line --partial "recovery stops: after commit of transaction $late_xid,"
	same_with_jobs verify "${b[@]}" --target-xid "$late_xid" --target-exclusive
	assert_success
	assert_line --partial "recovery stops: before commit of transaction $late_xid,"
	same_with_jobs verify "${b[@]}" --target-time "$late_time"
	assert_success
	same_with_jobs verify "${b[@]}" --target-time "$late_time" --target-exclusive
	assert_success
	same_with_jobs verify "${b[@]}" --target-lsn "$RP_LATE_LSN"
	assert_success
	assert_line --partial "recovery stops: after WAL location (LSN) \"$RP_LATE_LSN\""
	same_with_jobs verify "${b[@]}" --target-lsn "$RP_LATE_LSN" --target-exclusive
	assert_success
	assert_line --partial "recovery stops: before WAL location (LSN) \"$RP_LATE_LSN\""
	same_with_jobs verify "${b[@]}" --target immediate
	assert_success
}

@test "pitr-replay-speed: a bad prev-link on the first record of a segment is reported whatever --jobs" {
	local seg lsn
	for seg in 000000010000000000000003 000000010000000000000004 000000010000000000000005; do
		lsn=$(first_record "$seg")
		[ -n "$lsn" ]
		lsn=$(lsn_text "$(lsn_num "$lsn")")
		rm -rf "$W/a"
		archive_copy a
		poke "$A/$seg" $(($(lsn_num "$lsn") % WAL_SEGMENT_SIZE + 8)) '\021\042\063\104'
		same_everywhere "$A"
		assert_failure 1
		[[ $stderr == *"record at $lsn has prev-link 0/44332211"* ]] ||
			fail "$seg: the error is not the prev-link of $lsn: $stderr"
	done
}

@test "pitr-replay-speed: a segment's first page of an earlier timeline or said to continue a record is reported whatever --jobs" {
	local seg=000000010000000000000005 info
	archive_copy a
	poke "$A/$seg" 4 '\000\000\000\000'
	same_everywhere "$A"
	assert_failure 1
	[[ $stderr == *"out-of-sequence timeline ID 0 (after 1) at LSN $(lsn_of_segment "$seg") (offset 0)"* ]] ||
		fail "not the timeline of $seg: $stderr"
	rm -rf "$A"
	archive_copy a
	# XLP_FIRST_IS_CONTRECORD on a page a new record begins on (the
	# segment before ends with a switch): its remaining length 0.
	info=$(od -An -tu1 -j2 -N1 "$A/$seg" | tr -d ' ')
	poke "$A/$seg" 2 "\\$(printf %03o $((info | 1)))"
	same_everywhere "$A"
	assert_failure 1
	[[ $stderr == *"page at $(lsn_of_segment "$seg") continues a record, where a new record was expected"* ]] ||
		fail "not the continued record of $seg: $stderr"
}

@test "pitr-replay-speed: a compressed or missing segment between plain ones: the same whatever --jobs" {
	local seg=000000010000000000000004
	archive_copy a
	gzip -c "$G/archive/$seg" >"$A/$seg.gz"
	rm "$A/$seg"
	same_everywhere "$A"
	assert_success
	assert_line --regexp "^WAL checked: .* segments, every record's CRC good\$"
	rm "$A/$seg.gz"
	same_everywhere "$A"
	assert_failure 1
	[[ $stderr == *"WAL segment $seg is missing from the archive"* ]] ||
		fail "not the missing $seg: $stderr"
}
