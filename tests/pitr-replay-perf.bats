#!/usr/bin/env bats
# pitr-replay --jobs: the WAL read on one thread or with chunks of the later
# segments read on others and taken over (scan.c) gives the same window, the
# same verify report and the same error, at the same LSN, on a real archive
# (tests/data/gen-pitr.sh), clean or damaged in segments the chunks read.

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

# damage FILE OFFSET: 8 bytes of FILE from OFFSET changed, in a new file
# put in FILE's place (the archive copy is made of hard links).
damage() {
	local file=$1 off=$2
	cp "$file" "$W/damaged"
	printf '\125\252\125\252\125\252\125\252' |
		dd of="$W/damaged" bs=1 seek="$off" conv=notrunc status=none
	rm -f "$file"
	mv "$W/damaged" "$file"
	run cmp "$G/archive/${file##*/}" "$file"
	assert_failure 1
}

# mid_record SEGMENT: the LSN of a record of over 64 bytes in the middle
# of the segment file (pg_waldump's list of it), as PostgreSQL prints it.
mid_record() {
	local all n
	all=$("$PG_BIN/pg_waldump" "$G/archive/$1" 2>/dev/null |
		sed -nE 's/.*len \(rec\/tot\): +[0-9]+\/ +([0-9]+), .* lsn: ([0-9A-F]+\/[0-9A-F]+), .*/\2 \1/p' |
		awk '$2 > 64 { print $1 }')
	n=$(wc -l <<<"$all")
	lsn_text "$(lsn_num "$(sed -n "$((n / 2 + 1))p" <<<"$all")")"
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

@test "pitr-replay-perf: window and verify give the same with --jobs 1, 2 and 4" {
	same_with_jobs window -a "$G/archive" -b "$G/base-plain" --format csv
	assert_success
	assert_line --partial ',latest commit,'
	refute_line --partial ',problem,'
	same_with_jobs window -a "$G/archive" --format csv
	assert_success
	same_with_jobs verify -b "$G/base-plain" -a "$G/archive" --progress never
	assert_success
	same_with_jobs verify -b "$G/base-plain" -a "$G/archive" --timeline 1 --progress never
	assert_success
	assert_line --regexp "^WAL checked: .* segments, every record's CRC good\$"
}

@test "pitr-replay-perf: damage in a segment ahead of the reader is reported at the same LSN whatever --jobs" {
	local seg=000000010000000000000004 lsn
	lsn=$(mid_record "$seg")
	[ -n "$lsn" ]
	archive_copy a
	damage "$A/$seg" $(($(lsn_num "$lsn") % WAL_SEGMENT_SIZE + 40))
	same_with_jobs verify -b "$G/base-plain" -a "$A" --timeline 1 --progress never
	assert_failure 1
	[[ $stderr == *"$lsn"* ]] || fail "the error does not name $lsn: $stderr"
	[[ $stderr == *"$seg"* ]] || fail "the error does not name $seg: $stderr"
	same_with_jobs window -a "$A" -b "$G/base-plain" --format csv
	assert_line --regexp "^1,problem,.*$seg.*$lsn"
	refute_line --regexp "^2,problem,"
}

@test "pitr-replay-perf: damage in two segments: the earliest is reported whatever --jobs" {
	local s1=000000010000000000000003 s2=000000010000000000000005 l1 l2
	l1=$(mid_record "$s1")
	l2=$(mid_record "$s2")
	[ -n "$l1" ] && [ -n "$l2" ]
	archive_copy a
	damage "$A/$s2" $(($(lsn_num "$l2") % WAL_SEGMENT_SIZE + 40))
	damage "$A/$s1" $(($(lsn_num "$l1") % WAL_SEGMENT_SIZE + 40))
	same_with_jobs verify -b "$G/base-plain" -a "$A" --timeline 1 --progress never
	assert_failure 1
	[[ $stderr == *"$l1"* ]] || fail "the error does not name $l1: $stderr"
	[[ $stderr != *"$l2"* ]] || fail "the error names the later damage: $stderr"
}

@test "pitr-replay-perf: --jobs takes 1 to 64" {
	run --separate-stderr pitr-replay window -a "$G/archive" --jobs 0
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'pitr-replay: error: invalid value "0" for --jobs: use a number from 1 to 64'
}
