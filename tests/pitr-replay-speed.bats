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

# helper_and_full ARGS...: pitr-replay-fetch-wal ARGS and pitr-replay
# ARGS (each writing its own DEST, the last argument, under $W/h and $W/f)
# give the same status and messages, and the same file.
helper_and_full() {
	local helper dest=${*: -1} hs he
	helper=$(dirname "$(command -v pitr-replay)")/../lib/dbops/pitr-replay-fetch-wal
	mkdir -p "$W/h" "$W/f"
	run --separate-stderr "$helper" "${@:1:$#-1}" "$W/h/$dest"
	hs=$status he=$stderr
	run --separate-stderr pitr-replay "${@:1:$#-1}" "$W/f/$dest"
	assert_equal "$hs" "$status"
	assert_equal "${he//$W\/h/}" "${stderr//$W\/f/}"
	if [ -e "$W/f/$dest" ]; then
		cmp "$W/h/$dest" "$W/f/$dest"
	else
		assert [ ! -e "$W/h/$dest" ]
	fi
}

@test "pitr-replay-speed: pitr-replay-fetch-wal does what pitr-replay fetch-wal does: plain, gzip, zstd (by pitr-replay), absent, damaged, usage" {
	local seg=000000010000000000000003 gz=000000010000000000000004
	local zst=000000010000000000000005 s
	archive_copy a
	gzip -c "$G/archive/$gz" >"$A/$gz.gz"
	rm "$A/$gz"
	zstd -q -c "$G/archive/$zst" >"$A/$zst.zst"
	rm "$A/$zst"
	for s in 0 1 2; do
		mkdir -p "$W/spool$s"
	done
	helper_and_full fetch-wal -a "$A" --spool "$W/spool0" --prefetch 0 "$seg" x1
	assert_success
	helper_and_full fetch-wal -a "$A" --spool "$W/spool1" --prefetch 0 "$gz" x2
	assert_success
	helper_and_full fetch-wal -a "$A" --spool "$W/spool2" --prefetch 0 "$zst" x3
	assert_success
	helper_and_full fetch-wal -a "$A" --spool "$W/spool0" --prefetch 0 00000001000000000000FFFF x4
	assert_failure 1
	assert_equal "$stderr" ""
	helper_and_full fetch-wal -a "$A" --spool "$W/spool0" --prefetch 0 00000009.history x5
	assert_failure 1
	helper_and_full fetch-wal -a "$W/none" --spool "$W/spool0" --prefetch 0 "$seg" x6
	assert_failure 126
	assert_equal "$stderr" "pitr-replay: error: could not open the WAL archive \"$W/none\": No such file or directory"
	head -c 1000 "$G/archive/$seg" >"$W/short"
	rm "$A/$seg"
	cp "$W/short" "$A/$seg"
	helper_and_full fetch-wal -a "$A" --spool "$W/spool0" --prefetch 0 "$seg" x7
	assert_failure 126
	[[ $stderr == *"could not restore \"$A/$seg\""* ]] || fail "$stderr"
	helper_and_full fetch-wal -a "$A" "$seg" x8
	assert_failure 126
	helper_and_full fetch-wal -a "$A" --spool "$W/spool0" --prefetch 99 "$seg" x9
	assert_failure 126
}

@test "pitr-replay-speed: restore runs pitr-replay-fetch-wal; a gzip archive and a zstd one restore to the end of timeline 1" {
	local f c
	for c in gz zst; do
		archive_copy "$c"
		for f in "$A"/0*; do
			rm "$f"
			if [ "$c" = gz ]; then
				gzip -c "$G/archive/${f##*/}" >"$f.gz"
			else
				zstd -q -c "$G/archive/${f##*/}" >"$f.zst"
			fi
		done
		D=$W/restored-$c
		run --separate-stderr timeout 600 pitr-replay restore -b "$G/base-plain" -a "$A" \
			-D "$D" --timeline 1 --keep-running --action pause
		assert_success
		run psql "$output" -AtX -v ON_ERROR_STOP=1 -c "select id,tli,note from ticks order by id"
		assert_success
		assert_output "$(cat "$G/expected/end-tl1.rows")"
		run grep -c "^restore_command = '''[^']*/lib/dbops/pitr-replay-fetch-wal'' fetch-wal -a " "$D/postgresql.auto.conf"
		assert_output 1
		"$DBOPS_DRIVER" stop "$D/pitr-replay"
	done
}
