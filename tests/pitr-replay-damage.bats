#!/usr/bin/env bats
# pitr-replay on a real archive (tests/data/gen-pitr.sh) whose last segment
# is damaged: zeros in the middle of its WAL, a bad page address, a torn
# record. PostgreSQL's reader takes each for the end of the WAL; verify and
# window must call it damage, name the segment and the LSN, and exit 1, and
# still take the zeroed tail of a segment the server stopped writing in for
# the end.
#
# The last segment of timeline 2 holds its WAL on its first page; segment
# 000000010000000000000001 holds 5 MB (the table's creation), so copied
# alone into an archive it is a last segment with WAL over many pages.

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
	SEG=$TL2_LAST_SEGMENT
	HINT='pitr-replay: hint: the segment is damaged; recovery would stop there. Restore a good copy of it into the archive'
}

teardown() {
	[ -n "${W:-}" ] && [ -d "$W" ] || return 0
	[ -z "${BATS_TEST_COMPLETED:-}" ] || rm -rf "$W"
}

# The first stderr line is MESSAGE, the only error line; the others are
# detail and hint lines; nothing on stdout; status 1.
assert_error() {
	local line
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "$1"
	for line in "${stderr_lines[@]:1}"; do
		case $line in
		'pitr-replay: hint: '* | 'pitr-replay: detail: '*) ;;
		*) fail "unexpected stderr line: $line" ;;
		esac
	done
}

# offset_of LSN: where LSN is in its segment file.
offset_of() {
	echo $(( $(lsn_num "$1") % WAL_SEGMENT_SIZE ))
}

# damage FILE OFFSET COUNT [BYTE]: COUNT bytes of FILE from OFFSET set to
# BYTE (octal escape, default zeros), in a new file put in FILE's place.
damage() {
	local file=$1 off=$2 count=$3 byte=${4:-}
	cp "$file" "$W/damaged"
	if [ -z "$byte" ]; then
		dd if=/dev/zero of="$W/damaged" bs=1 seek="$off" count="$count" \
			conv=notrunc status=none
	else
		# shellcheck disable=SC2059 # BYTE is an escape made by the caller
		printf "$byte" | dd of="$W/damaged" bs=1 seek="$off" conv=notrunc status=none
	fi
	rm -f "$file"
	mv "$W/damaged" "$file"
	run cmp "$G/archive/${file##*/}" "$file"
	assert_failure 1
}

# records SEGMENT_FILE: "LSN TOT_LEN" of each record, from pg_waldump, the
# LSN as PostgreSQL prints it (pg_waldump pads it with zeros).
records() {
	local lsn len
	"$PG_BIN/pg_waldump" "$1" 2>/dev/null |
		sed -nE 's/.*len \(rec\/tot\): +[0-9]+\/ +([0-9]+), .* lsn: ([0-9A-F]+\/[0-9A-F]+), .*/\2 \1/p' |
		while read -r lsn len; do
			echo "$(lsn_text "$(lsn_num "$lsn")") $len"
		done
}

# first_after LSN: the record after the one at LSN in the last segment.
first_after() {
	records "$G/archive/$SEG" | awk -v l="$1" 'found { print $1; exit } $1 == l { found = 1 }'
}

# one_segment DIR: an archive in $W/DIR of segment 000000010000000000000001
# alone (no backup history file: window reads it from its start).
one_segment() {
	A=$W/$1
	mkdir "$A"
	cp "$G/archive/$TL1_FIRST_SEGMENT" "$A/"
}

@test "pitr-replay-damage: the undamaged archive, and a segment's zeroed tail, end cleanly" {
	local sw last
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive"
	assert_success
	sw=$(records "$G/archive/$SEG" | tail -n 1 | cut -d ' ' -f 1)
	last=$(records "$G/archive/$SEG" | tail -n 2 | head -n 1 | cut -d ' ' -f 1)
	assert_line "recovery stops: at the end of the archive, after the record at $sw"
	assert_line --regexp "^WAL checked: .* segments, every record's CRC good\$"
	run --separate-stderr pitr-replay window -a "$G/archive" -b "$G/base-plain" --format csv
	assert_success
	assert_equal "$stderr" ""
	assert_line "1,end,,0/7000000,,,the archive ends before segment 000000010000000000000007 (LSN 0/7000000)"
	refute_line --partial ',problem,'

	# The switch record zeroed: the segment ends as one the server
	# stopped writing in, zeros from the last record to its end.
	archive_copy zero-tail
	damage "$A/$SEG" "$(offset_of "$sw")" 24
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A"
	assert_success
	assert_line "recovery stops: at the end of the archive, after the record at $last"
	run --separate-stderr pitr-replay window -a "$A" -b "$G/base-plain" --format csv
	assert_success
	assert_line "2,end,,$sw,,,no record at $sw (zeros)"

	# 5 MB of WAL over many pages, ended by a switch.
	one_segment one
	run --separate-stderr pitr-replay window -a "$A" --format csv
	assert_success
	assert_line "1,restore point,$(sed -E 's/T/ /; s/0+\+/+/' <<<"$RP_EARLY_TIME"),$RP_EARLY_LSN,,rp_early,"
	assert_line "1,end,,0/2000000,,,the archive ends before segment 000000010000000000000002 (LSN 0/2000000)"
}

@test "pitr-replay-damage: zeros in the middle of the last segment's WAL: verify, restore and window name the segment and LSN, exit 1" {
	local z msg
	z=$(first_after "$FORK_LSN")
	archive_copy zeros
	damage "$A/$SEG" "$(offset_of "$z")" $(($(lsn_num "$RP_TL2_LSN") - $(lsn_num "$z")))
	msg="no record at $z (zeros), and WAL follows at $RP_TL2_LSN in the same segment: damage, not the end of the WAL"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A"
	assert_error "pitr-replay: error: \"$A/$SEG\": $msg"
	assert_equal "${stderr_lines[1]}" "$HINT"
	# A restore point after the damage: unreachable because of it.
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A" --target-name rp_tl2
	assert_error "pitr-replay: error: \"$A/$SEG\": $msg"
	assert_equal "${stderr_lines[1]}" "pitr-replay: detail: the target, restore point \"rp_tl2\", is not in the WAL before $z ($SEG), where recovery would stop: it cannot be reached"
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$A" -D "$W/d" --target-name rp_tl2
	assert_error "pitr-replay: error: \"$A/$SEG\": $msg"
	assert [ ! -e "$W/d" ]
	run --separate-stderr pitr-replay window -a "$A" -b "$G/base-plain" --format csv
	assert_failure 1
	assert_line "2,problem,,$z,,,\"$SEG: $msg\""
	refute_line --partial ',rp_tl2,'
	assert_stderr_line "pitr-replay: warning: timeline 2: \"$A/$SEG\": $msg"
	# Timeline 1 is whole.
	assert_line "1,end,,0/7000000,,,the archive ends before segment 000000010000000000000007 (LSN 0/7000000)"
}

@test "pitr-replay-damage: a bad page address in the last segment is damage, not the end of the WAL" {
	local start msg
	start=$(lsn_text $(( $(lsn_num "$FORK_LSN") / WAL_SEGMENT_SIZE * WAL_SEGMENT_SIZE )))
	archive_copy pageaddr
	# xlp_pageaddr's low byte, 0 on a segment's first page, made 1.
	damage "$A/$SEG" 8 1 '\001'
	msg="unexpected page address $(lsn_text $(( $(lsn_num "$start") + 1 ))) at LSN $start (offset 0): a damaged page, not the end of the WAL"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A"
	assert_error "pitr-replay: error: \"$A/$SEG\": $msg"
	assert_equal "${stderr_lines[1]}" "$HINT"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A" --target-name rp_tl2
	assert_error "pitr-replay: error: \"$A/$SEG\": $msg"
	assert_equal "${stderr_lines[1]}" "pitr-replay: detail: the target, restore point \"rp_tl2\", is not in the WAL before $start ($SEG), where recovery would stop: it cannot be reached"
	run --separate-stderr pitr-replay window -a "$A" -b "$G/base-plain" --format csv
	assert_failure 1
	assert_line --regexp "^2,problem,,[0-9A-F]+/[0-9A-F]+,,,\"$SEG: unexpected page address "
	assert_stderr_line "pitr-replay: warning: timeline 2: \"$A/$SEG\": $msg"

	# On a page after others of the same segment, in WAL over many pages.
	one_segment one-pageaddr
	damage "$A/$TL1_FIRST_SEGMENT" $((2 * 8192 + 8)) 1 '\001'
	run --separate-stderr pitr-replay window -a "$A" --format csv
	assert_failure 1
	assert_line --regexp "^1,problem,,0/1[0-9A-F]{6},,,\"?$TL1_FIRST_SEGMENT: unexpected page address 0/1004001 at LSN 0/1004000 \\(offset 16384\\)"
	refute_line --partial ',rp_early,'
}

@test "pitr-replay-damage: a zeroed page in the middle of the last segment's WAL is damage" {
	one_segment one-zero
	# As pitr.md's H3: dd if=/dev/zero bs=8192 seek=2 count=1.
	damage "$A/$TL1_FIRST_SEGMENT" $((2 * 8192)) 8192
	run --separate-stderr pitr-replay window -a "$A" --format csv
	assert_failure 1
	assert_line --regexp "^1,problem,,0/1[0-9A-F]{6},,,\"$TL1_FIRST_SEGMENT: page at LSN 0/1004000 \\(offset 16384\\) is all zeros, where WAL was expected"
	assert_stderr_line --regexp "^pitr-replay: warning: timeline 1: \"$A/$TL1_FIRST_SEGMENT\": page at LSN 0/1004000 \\(offset 16384\\) is all zeros, where WAL was expected(, and WAL follows at 0/1006000 in the same segment: damage, not the end of the WAL|; the record at 0/1[0-9A-F]{6} continues there: a torn record)\$"
	refute_line --partial ',rp_early,'
	refute_line --partial ',end,'
}

@test "pitr-replay-damage: a torn record in the last segment is damage: its continuation zeroed or cut" {
	local rec lsn len off page n
	one_segment one-torn
	# The first record from page 2 on that goes on into the next page.
	while read -r lsn len; do
		off=$(offset_of "$lsn")
		if [ "$off" -ge $((2 * 8192)) ] && [ $((off % 8192 + len)) -gt 8192 ]; then
			rec=$lsn
			break
		fi
	done < <(records "$A/$TL1_FIRST_SEGMENT")
	[ -n "${rec:-}" ] || fail "no record crosses a page in $TL1_FIRST_SEGMENT"
	page=$(( (off / 8192 + 1) * 8192 ))
	damage "$A/$TL1_FIRST_SEGMENT" "$page" 8192
	n=$(lsn_text $(( $(lsn_num "$rec") - off + page )))
	run --separate-stderr pitr-replay window -a "$A" --format csv
	assert_failure 1
	assert_line "1,problem,,$rec,,,\"$TL1_FIRST_SEGMENT: page at LSN $n (offset $page) is all zeros, where WAL was expected; the record at $rec continues there: a torn record\""

	# The last segment of timeline 2 cut in the middle of a record: a
	# record's second half and all after it zeros.
	rec=$(first_after "$FORK_LSN")
	len=$(records "$G/archive/$SEG" | awk -v l="$rec" '$1 == l { print $2 }')
	off=$(offset_of "$rec")
	archive_copy torn
	damage "$A/$SEG" $((off + len / 2)) $((WAL_SEGMENT_SIZE - off - len / 2))
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A" --target-name rp_tl2
	assert_failure 1
	assert_regex "${stderr_lines[0]}" "^pitr-replay: error: \"$A/$SEG\": record at $rec fails its CRC: stored [0-9A-F]{8}, computed [0-9A-F]{8} \\(a torn or damaged record\\)\$"
	assert_equal "${stderr_lines[1]}" "pitr-replay: detail: the target, restore point \"rp_tl2\", is not in the WAL before $rec ($SEG), where recovery would stop: it cannot be reached"
	run --separate-stderr pitr-replay window -a "$A" -b "$G/base-plain" --format csv
	assert_failure 1
	assert_line --regexp "^2,problem,,[0-9A-F]+/[0-9A-F]+,,,\"$SEG: record at $rec fails its CRC"
}
