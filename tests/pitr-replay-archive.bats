#!/usr/bin/env bats
# pitr-replay and the shapes of a WAL archive (tests/data/gen-pitr.sh's
# archive, made once for the file, then recompressed, renamed, cut in
# copies): segments and history files compressed with gzip, zstd, lz4, xz
# and bzip2 (issue 14, H1 and H4); files that are none of the archive's
# kinds, named in warnings (H4); a file in two forms; pg_receivewal's
# .partial segments (L6).
#
# Each test works in a directory of its own ($W); a server a test leaves
# running is stopped by teardown.

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
	TOOL=$(command -v pitr-replay)
}

teardown() {
	local state
	[ -n "${W:-}" ] && [ -d "$W" ] || return 0
	while IFS= read -r state; do
		"$DBOPS_DRIVER" stop "$(dirname "$state")" || true
	done < <(find "$W" -name instance.state)
	[ -z "${BATS_TEST_COMPLETED:-}" ] || rm -rf "$W"
}

# window_rows ARGS: `pitr-replay window --format json ARGS` as lines
# timeline|event|time|lsn|xid|name|detail (null as empty).
window_rows() {
	local json
	json=$(pitr-replay window --format json "$@") || return 1
	jq -r '.[] | [.timeline, .event, .time, .lsn, .xid, .name, .detail] | map(. // "" | tostring) | join("|")' <<<"$json"
}

# recompress DIR PROGRAM SUFFIX [FILES]: $W/DIR holds every file of the
# archive (or only those matching the glob FILES, the rest plain) as
# PROGRAM -c writes it, named with SUFFIX: what archive_command =
# 'PROGRAM -c %p > DIR/%f.SUFFIX' leaves.
recompress() {
	local dir=$W/$1 prog=$2 suffix=$3 glob=${4:-*} f name
	mkdir "$dir"
	for f in "$G"/archive/*; do
		name=${f##*/}
		# shellcheck disable=SC2254
		case $name in
		$glob) $prog -c <"$f" >"$dir/$name$suffix" ;;
		*) ln "$f" "$dir/$name" ;;
		esac
	done
}

# restore_keep DIR ARCHIVE [options]: restore base-plain from ARCHIVE into
# $W/DIR, leaving the server running: CONN is its connection string, D the
# data directory; the report is on stderr.
restore_keep() {
	D=$W/$1
	local a=$2
	shift 2
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$a" -D "$D" \
		--keep-running "$@"
	[ "$status" = 0 ] || echo "$stderr" >&2
	assert_success
	assert_equal "${#lines[@]}" 1
	CONN=$output
}

stop_restored() {
	"$DBOPS_DRIVER" stop "$D/pitr-replay"
}

@test "pitr-replay: an archive recompressed with gzip, zstd, lz4, xz or bzip2 verifies and windows exactly like the plain one" {
	local plain_window plain_nobackup plain_verify plain_tl1 c prog suffix
	plain_window=$(window_rows -a "$G/archive" -b "$G/base-plain")
	plain_nobackup=$(window_rows -a "$G/archive")
	plain_verify=$(pitr-replay verify -b "$G/base-plain" -a "$G/archive")
	plain_tl1=$(pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-name rp_late --timeline 1)
	# Timeline 2 and the backup rows come from the history and backup
	# history files: compressed too.
	assert_equal "$(grep -c '^2|restore point|' <<<"$plain_window")" 4
	assert_equal "$(grep -c '^[12]|backup|' <<<"$plain_nobackup")" 2
	for c in "gzip -1:.gz" "zstd -q:.zst" "lz4 -q:.lz4" "xz -0:.xz" "bzip2 -1:.bz2"; do
		prog=${c%%:*} suffix=${c#*:}
		recompress "a$suffix" "$prog" "$suffix"
		assert [ -e "$W/a$suffix/00000002.history$suffix" ]
		assert [ -e "$W/a$suffix/$PLAIN_BACKUP_FILE$suffix" ]
		run --separate-stderr window_rows -a "$W/a$suffix" -b "$G/base-plain"
		assert_success
		assert_equal "$stderr" ""
		assert_equal "$output" "$plain_window"
		run --separate-stderr window_rows -a "$W/a$suffix"
		assert_success
		assert_equal "$output" "$plain_nobackup"
		run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$W/a$suffix"
		assert_success
		assert_equal "$stderr" ""
		assert_equal "$output" "$plain_verify"
		run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$W/a$suffix" --target-name rp_late --timeline 1
		assert_success
		assert_equal "$output" "$plain_tl1"
	done
}

@test "pitr-replay: restore from a zstd archive reaches the end of timeline 2; restore_command decompresses it" {
	recompress a-zst "zstd -q" .zst
	# Paused, the recovery settings stay to be read (a promotion removes them).
	restore_keep d "$W/a-zst" --action pause
	assert_stderr_line "timeline: 2 (1 until $FORK_LSN, then 2)"
	assert_rows "$CONN" end-tl2
	grep -q "restore_command = .*fetch-wal" "$D/postgresql.auto.conf"
	stop_restored
}

@test "pitr-replay: an xz archive restores with no decompressor program on PATH (fetch-wal reads it)" {
	recompress a-xz "xz -0" .xz
	mkdir "$W/empty-path"
	D=$W/d
	run --separate-stderr env PATH="$W/empty-path" "$TOOL" restore -b "$G/base-plain" -a "$W/a-xz" -D "$D" \
		--target-name rp_tl2 --action shutdown
	assert_success
	assert_equal "$stderr" ""
}

@test "pitr-replay: gzip'd history files (00000002.history.gz): window, verify and restore follow timeline 2 as with plain ones" {
	recompress a-hist "gzip -1" .gz '*.history'
	assert [ -e "$W/a-hist/00000002.history.gz" ]
	assert [ ! -e "$W/a-hist/00000002.history" ]
	assert_equal "$(window_rows -a "$W/a-hist" -b "$G/base-plain")" "$(window_rows -a "$G/archive" -b "$G/base-plain")"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$W/a-hist"
	assert_success
	assert_line --index 3 "timeline: 2 (1 until $FORK_LSN, then 2)"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$W/a-hist" --target-name rp_tl2
	assert_success
	assert_line "recovery stops: at restore point \"rp_tl2\", time $(pgtime "$RP_TL2_TIME"), at $RP_TL2_LSN"
	# Every file gzip'd, as archive_command = 'gzip < %p > .../%f.gz' does.
	recompress a-gz "gzip -1" .gz
	restore_keep d "$W/a-gz"
	assert_stderr_line "timeline: 2 (1 until $FORK_LSN, then 2)"
	assert_rows "$CONN" end-tl2
	stop_restored
}

@test "pitr-replay: damaged or cut compressed segments are refused, naming the file and the compression" {
	local c prog suffix f size
	for c in "zstd -q:.zst:zstd" "lz4 -q:.lz4:lz4" "xz -0:.xz:xz" "bzip2 -1:.bz2:bzip2"; do
		prog=${c%%:*} suffix=${c#*:} suffix=${suffix%:*}
		recompress "a$suffix" "$prog" "$suffix" "$MID_SEGMENT"
		f=$W/a$suffix/$MID_SEGMENT$suffix
		size=$(stat -c %s "$f")
		truncate -s $((size / 2)) "$f"
		run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$W/a$suffix" --timeline 1
		assert_failure 1
		assert_regex "${stderr_lines[0]}" "^pitr-replay: error: \"$(rx "$f")\": (WAL segment inflates to [0-9]+ bytes, expected $WAL_SEGMENT_SIZE \\(a truncated $(rx "$suffix") file\\?\\)|damaged ${c##*:} data: .*)\$"
		# Its checksum at the end changed: the data no longer matches.
		rm "$f"
		$prog -c <"$G/archive/$MID_SEGMENT" >"$f"
		printf '\377\377' | dd of="$f" bs=1 seek=$((size - 2)) conv=notrunc status=none
		run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$W/a$suffix" --timeline 1
		assert_failure 1
		assert_regex "${stderr_lines[0]}" "^pitr-replay: error: \"$(rx "$f")\": damaged ${c##*:} data: .+\$"
	done
	# gzip's trailer holds a CRC and the length, which zlib checks.
	recompress a.gz "gzip -1" .gz "$MID_SEGMENT"
	f=$W/a.gz/$MID_SEGMENT.gz
	size=$(stat -c %s "$f")
	printf '\0\0' | dd of="$f" bs=1 seek=$((size - 8)) conv=notrunc status=none
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$W/a.gz" --timeline 1
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "pitr-replay: error: \"$f\": damaged gzip data: incorrect data check"
	# A .zst that holds plain data.
	rm "$W/a.zst/$MID_SEGMENT.zst"
	cp "$G/archive/$MID_SEGMENT" "$W/a.zst/$MID_SEGMENT.zst"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$W/a.zst" --timeline 1
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "pitr-replay: error: \"$W/a.zst/$MID_SEGMENT.zst\": it holds uncompressed data, not the zstd data its name says"
}

@test "pitr-replay: files of the archive that are none of its kinds are named in warnings, one a line, or counted when many" {
	archive_copy a
	echo notes >"$A/README"
	mkdir "$A/archive_status"
	: >"$A/.000000010000000000000007.tmp"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A" --timeline 1
	assert_success
	assert_equal "${#stderr_lines[@]}" 3
	assert_equal "${stderr_lines[0]}" "pitr-replay: warning: \"$A/.000000010000000000000007.tmp\": not a WAL segment, timeline history file, backup history file or .partial segment; ignored"
	assert_equal "${stderr_lines[1]}" "pitr-replay: warning: \"$A/README\": not a WAL segment, timeline history file, backup history file or .partial segment; ignored"
	assert_equal "${stderr_lines[2]}" "pitr-replay: warning: \"$A/archive_status\": not a WAL segment, timeline history file, backup history file or .partial segment; ignored"
	run --separate-stderr pitr-replay window -a "$A"
	assert_success
	assert_equal "${#stderr_lines[@]}" 3
	# Many: one line, their count and the first three.
	touch "$A/a1" "$A/a2" "$A/a3"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A" --timeline 1
	assert_success
	assert_equal "$stderr" "pitr-replay: warning: \"$A\": 6 files are not WAL segments, timeline history files, backup history files or .partial segments; ignored: \".000000010000000000000007.tmp\", \"README\", \"a1\", ..."
}

@test "pitr-replay: a segment in a compression not read (.lzma) is named, and the archive does not end there quietly" {
	archive_copy a
	rm "$A/$TL1_LAST_SEGMENT"
	xz --format=lzma -0 -c <"$G/archive/$TL1_LAST_SEGMENT" >"$A/$TL1_LAST_SEGMENT.lzma"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A" --timeline 1
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "pitr-replay: warning: \"$A/$TL1_LAST_SEGMENT.lzma\": named like a WAL segment, but \".lzma\" is not a compression pitr-replay reads (.gz, .zst, .lz4, .xz, .bz2); ignored"
	assert_equal "${stderr_lines[1]}" "pitr-replay: error: \"$A/$TL1_LAST_SEGMENT.lzma\": WAL segment $TL1_LAST_SEGMENT (needed from LSN $(printf '%X/%X' 0 $(( 0x${TL1_LAST_SEGMENT:16:8} * WAL_SEGMENT_SIZE )))) is in the archive only in this form, which pitr-replay cannot read (it reads .gz, .zst, .lz4, .xz and .bz2), nor can restore_command"
	assert_equal "${stderr_lines[2]}" "pitr-replay: hint: recovery would stop there; decompress it into the archive as $TL1_LAST_SEGMENT"
	assert_equal "$output" ""
}

@test "pitr-replay: a segment in two forms is read once when they agree, refused naming both when they differ" {
	archive_copy a
	gzip -1 -c <"$G/archive/$MID_SEGMENT" >"$A/$MID_SEGMENT.gz"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A" --timeline 1
	assert_success
	assert_equal "$stderr" ""
	# The .gz from another history: a record changed.
	rm "$A/$MID_SEGMENT.gz"
	cp "$G/archive/$MID_SEGMENT" "$W/changed"
	printf '\1' | dd of="$W/changed" bs=1 seek=9000 conv=notrunc status=none
	gzip -1 -c <"$W/changed" >"$A/$MID_SEGMENT.gz"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A" --timeline 1
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "pitr-replay: error: \"$A/$MID_SEGMENT\" and \"$MID_SEGMENT.gz\" are two copies of one WAL segment that differ"
	assert_equal "${stderr_lines[1]}" "pitr-replay: hint: recovery would read the first; remove the wrong copy from the archive"
	# A history file in two forms that differ.
	archive_copy b
	printf '1\t0/1000000\tno recovery target specified\n' | gzip -c >"$W/b/00000002.history.gz"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$W/b"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "pitr-replay: error: \"$W/b/00000002.history\" and \"$W/b/00000002.history.gz\" are two copies of one file that differ"
}

# partial_archive DIR: the archive with timeline 1's last segment only as
# pg_receivewal leaves its unfinished segment: NAME.partial.
partial_archive() {
	archive_copy "$1"
	P=$A/$TL1_LAST_SEGMENT.partial
	rm "$A/$TL1_LAST_SEGMENT"
	cp "$G/archive/$TL1_LAST_SEGMENT" "$P"
	PARTIAL_LSN=$(printf '%X/%X' 0 $(( 0x${TL1_LAST_SEGMENT:16:8} * WAL_SEGMENT_SIZE )))
}

@test "pitr-replay: a .partial segment is read for verify and window, which says the last commits are only there" {
	partial_archive a
	run --separate-stderr window_rows -a "$A" -b "$G/base-plain"
	assert_success
	assert_equal "$stderr" ""
	assert_line "1|restore point|$(pgtime "$RP_LATE_TIME")|$RP_LATE_LSN||rp_late|only in the .partial segment (see the end row)"
	assert_line "1|latest commit|$(pgtime "$LAST_TL1_COMMIT_TIME")|$(txn "$LAST_TL1_TXN" 4)|$(txn "$LAST_TL1_TXN" 2)||time targets must be before it; only in the .partial segment (see the end row)"
	assert_line --regexp "^1\\|end\\|\\|[0-9A-F/]+\\|\\|\\|the archive ends before segment [0-9A-F]{24} \\(LSN [0-9A-F/]+\\); the WAL from $PARTIAL_LSN on is only in the .partial segment \"$TL1_LAST_SEGMENT.partial\" \\(pg_receivewal's unfinished segment\\): restore copies it into pg_wal under the segment's name\$"
	# Timeline 2 does not need it: no note there.
	assert_line "2|latest commit|$(pgtime "$LAST_TL2_COMMIT_TIME")|$(txn "$LAST_TL2_TXN" 4)|$(txn "$LAST_TL2_TXN" 2)||time targets must be before it"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A" --timeline 1
	assert_success
	assert_line "partial segment: $TL1_LAST_SEGMENT.partial: the WAL from $PARTIAL_LSN on is only in this unfinished segment (pg_receivewal's); restore copies it into pg_wal"
	assert_line --regexp " \\(last transaction $(rx "$(pgtime "$LAST_TL1_COMMIT_TIME")")\\)\$"
}

@test "pitr-replay: restore to a restore point only in a .partial segment copies it into pg_wal, as Barman's get-wal --partial" {
	partial_archive a
	restore_keep d "$A" --timeline 1 --target-name rp_late
	assert_stderr_line "partial segment: $TL1_LAST_SEGMENT.partial: the WAL from $PARTIAL_LSN on is only in this unfinished segment (pg_receivewal's); restore copies it into pg_wal"
	assert_stderr_line "recovered: recovery stopping at restore point \"rp_late\", time $(pgtime "$RP_LATE_TIME")"
	assert_rows "$CONN" rp_late
	stop_restored
}

@test "pitr-replay: a .partial segment cut inside a record ends there cleanly; restore to its end" {
	local cut xid22
	partial_archive a
	# pg_receivewal had the first 8 bytes of the last commit record: zeros
	# after them, as in its preallocated file.
	cut=$(( $(lsn_num "$(txn "$LAST_TL1_TXN" 4)") % WAL_SEGMENT_SIZE + 8 ))
	rm "$P"
	head -c "$cut" "$G/archive/$TL1_LAST_SEGMENT" >"$P"
	truncate -s "$WAL_SEGMENT_SIZE" "$P"
	xid22=$(txn $((LAST_TL1_TXN - 1)) 2)
	run --separate-stderr window_rows -a "$A" -b "$G/base-plain"
	assert_success
	assert_line "1|latest commit|$(pgtime "$(txn $((LAST_TL1_TXN - 1)) 3)")|$(txn $((LAST_TL1_TXN - 1)) 4)|$xid22||time targets must be before it; only in the .partial segment (see the end row)"
	assert_line "1|end||$(txn "$LAST_TL1_TXN" 4)|||the .partial segment's data ends inside the record at $(txn "$LAST_TL1_TXN" 4); the WAL from $PARTIAL_LSN on is only in the .partial segment \"$TL1_LAST_SEGMENT.partial\" (pg_receivewal's unfinished segment): restore copies it into pg_wal under the segment's name"
	# Compressed, as pg_receivewal --compress names it, its gzip stream
	# unfinished (no trailer), ending right after the commit of 22.
	local lsn22 len22
	lsn22=$(txn $((LAST_TL1_TXN - 1)) 4)
	len22=$(/usr/lib/postgresql/"$PG_MAJOR"/bin/pg_waldump -p "$G/archive" -s "$lsn22" -n 1 |
		sed -nE 's|.*len \(rec/tot\): +[0-9]+/ *([0-9]+),.*|\1|p')
	archive_copy b
	rm "$W/b/$TL1_LAST_SEGMENT"
	head -c $(( $(lsn_num "$lsn22") % WAL_SEGMENT_SIZE + len22 )) "$G/archive/$TL1_LAST_SEGMENT" |
		gzip -c | head -c -8 >"$W/b/$TL1_LAST_SEGMENT.gz.partial"
	run --separate-stderr window_rows -a "$W/b" -b "$G/base-plain"
	assert_success
	assert_line --regexp "^1\\|end\\|\\|[0-9A-F/]+\\|\\|\\|.*; the WAL from $PARTIAL_LSN on is only in the .partial segment \"$TL1_LAST_SEGMENT.gz.partial\""
	# Restore to the end of timeline 1: the last whole commit, from either.
	restore_keep d "$W/a" --timeline 1
	assert_rows "$CONN" "after-$((LAST_TL1_TXN - 1))"
	stop_restored
	# Here the last whole record is that commit: the server keeps the time
	# of the transaction before it, which restore expects.
	restore_keep d2 "$W/b" --timeline 1
	assert_stderr_line "recovery stops: at the end of the archive, after the record at $lsn22"
	assert_rows "$CONN" "after-$((LAST_TL1_TXN - 1))"
	stop_restored
}
