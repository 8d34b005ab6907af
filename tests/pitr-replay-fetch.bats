#!/usr/bin/env bats
# pitr-replay fetch-wal, the restore_command of a restored server, against
# the real WAL archive of tests/data/gen-pitr.sh (made once for the file):
# plain and compressed files, the exit statuses PostgreSQL reads (1: not in
# the archive, 126: stop), the prefetch spool; and restores whose
# restore_command is fetch-wal, with an archive path PostgreSQL's % escapes
# and the shell's quoting would both break if written as it is (L1).
#
# Each test works in a directory of its own ($W); what a test changes (an
# archive) is a copy made there.

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
	# The server's working directory: %p is relative to it.
	mkdir -p "$W/data/pg_wal"
	cd "$W/data"
}

teardown() {
	local state
	cd /
	[ -n "${W:-}" ] && [ -d "$W" ] || return 0
	# A prefetcher still at work is ended, as restore does.
	for s in "$W"/spool*; do
		[ -d "$s" ] || continue
		wait_prefetch "$s"
	done
	while IFS= read -r state; do
		"$DBOPS_DRIVER" stop "$(dirname "$state")" || true
	done < <(find "$W" -name instance.state)
	[ -z "${BATS_TEST_COMPLETED:-}" ] || rm -rf "$W"
}

seg_name() {
	local per=$((0x100000000 / WAL_SEGMENT_SIZE))
	printf '%08X%08X%08X\n' "$1" $(($2 / per)) $(($2 % per))
}

# next_seg NAME [N]: the segment N (1) after NAME on its timeline.
next_seg() {
	seg_name $((0x${1:0:8})) $(($(segno "$1") + ${2:-1}))
}

# wait_prefetch SPOOL: until no prefetcher holds SPOOL/.lock (10 s at most).
wait_prefetch() {
	local i
	[ -e "$1/.lock" ] || return 0
	for i in $(seq 1 1000); do
		flock -n -x "$1/.lock" true 2>/dev/null && return 0
		sleep 0.01
	done
	fail "a prefetcher still holds $1/.lock after 10 s"
}

# fetch ARGS: fetch-wal with stdout and stderr apart.
fetch() {
	run --separate-stderr pitr-replay fetch-wal "$@"
}

@test "pitr-replay fetch-wal: a plain segment is copied to DEST, a history file too, nothing printed" {
	fetch -a "$G/archive" "$MID_SEGMENT" pg_wal/RECOVERYXLOG
	assert_success
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	cmp "$G/archive/$MID_SEGMENT" pg_wal/RECOVERYXLOG
	fetch -a "$G/archive" 00000002.history pg_wal/RECOVERYHISTORY
	assert_success
	cmp "$G/archive/00000002.history" pg_wal/RECOVERYHISTORY
	# Written beside DEST and renamed: no temporary file left.
	assert_equal "$(ls -A pg_wal | sort | tr '\n' ' ')" "RECOVERYHISTORY RECOVERYXLOG "
}

@test "pitr-replay fetch-wal: .gz, .zst, .lz4, .xz and .bz2 segments and a .gz history file are decompressed" {
	local c ext
	archive_copy arc
	for c in "gzip -c" "zstd -q -c" "lz4 -q -c" "xz -c" "bzip2 -c"; do
		command -v "${c%% *}" >/dev/null || continue
		case $c in
		gzip*) ext=gz ;; zstd*) ext=zst ;; lz4*) ext=lz4 ;; xz*) ext=xz ;; bzip2*) ext=bz2 ;;
		esac
		rm -f "$A/$MID_SEGMENT"*
		$c "$G/archive/$MID_SEGMENT" >"$A/$MID_SEGMENT.$ext"
		rm -f pg_wal/RECOVERYXLOG
		fetch -a "$A" "$MID_SEGMENT" pg_wal/RECOVERYXLOG
		assert_success
		assert_equal "$stderr" ""
		cmp "$G/archive/$MID_SEGMENT" pg_wal/RECOVERYXLOG || fail "$ext: not the segment"
	done
	rm "$A/00000002.history"
	gzip -c "$G/archive/00000002.history" >"$A/00000002.history.gz"
	fetch -a "$A" 00000002.history pg_wal/RECOVERYHISTORY
	assert_success
	cmp "$G/archive/00000002.history" pg_wal/RECOVERYHISTORY
}

@test "pitr-replay fetch-wal: a file not in the archive is exit status 1 with nothing on stderr (PostgreSQL's probes)" {
	fetch -a "$G/archive" 00000003.history pg_wal/RECOVERYHISTORY
	assert_failure 1
	assert_equal "$stderr" ""
	assert_equal "$output" ""
	fetch -a "$G/archive" "$(next_seg "$TL1_LAST_SEGMENT" 5)" pg_wal/RECOVERYXLOG
	assert_failure 1
	assert_equal "$stderr" ""
	# A .partial is not the segment.
	archive_copy arc
	mv "$A/$MID_SEGMENT" "$A/$MID_SEGMENT.partial"
	fetch -a "$A" "$MID_SEGMENT" pg_wal/RECOVERYXLOG
	assert_failure 1
	assert [ ! -e pg_wal/RECOVERYXLOG ]
}

@test "pitr-replay fetch-wal: damaged, truncated and unreadable files and a missing archive are exit status 126, named" {
	archive_copy arc
	rm "$A/$MID_SEGMENT"
	gzip -c "$G/archive/$MID_SEGMENT" | head -c 3000 >"$A/$MID_SEGMENT.gz"
	fetch -a "$A" "$MID_SEGMENT" pg_wal/RECOVERYXLOG
	assert_failure 126
	assert_equal "${stderr_lines[0]}" "pitr-replay: error: could not decompress \"$A/$MID_SEGMENT.gz\": damaged gzip data (bad checksum or truncated)"
	assert_equal "${#stderr_lines[@]}" 1
	assert [ ! -e pg_wal/RECOVERYXLOG ]
	# Nothing half-written beside DEST either.
	assert_equal "$(ls -A pg_wal)" ""
	# A plain segment cut short: its size against its own first page.
	rm "$A/$MID_SEGMENT.gz"
	head -c 100000 "$G/archive/$MID_SEGMENT" >"$A/$MID_SEGMENT"
	fetch -a "$A" "$MID_SEGMENT" pg_wal/RECOVERYXLOG
	assert_failure 126
	assert_equal "${stderr_lines[0]}" "pitr-replay: error: could not restore \"$A/$MID_SEGMENT\": it holds 100000 bytes, but its first page says segments are $WAL_SEGMENT_SIZE bytes (a truncated file?)"
	# A .zst that is not zstd.
	rm "$A/$MID_SEGMENT"
	printf '\x28\xb5\x2f\xfdgarbage' >"$A/$MID_SEGMENT.zst"
	fetch -a "$A" "$MID_SEGMENT" pg_wal/RECOVERYXLOG
	assert_failure 126
	assert_regex "${stderr_lines[0]}" "^pitr-replay: error: could not decompress \"$A/$MID_SEGMENT\\.zst\": "
	# The archive is gone: never "not in the archive".
	fetch -a "$W/gone" 00000003.history pg_wal/RECOVERYHISTORY
	assert_failure 126
	assert_equal "${stderr_lines[0]}" "pitr-replay: error: could not open the WAL archive \"$W/gone\": No such file or directory"
	# DEST's directory does not exist.
	fetch -a "$G/archive" "$MID_SEGMENT" nodir/RECOVERYXLOG
	assert_failure 126
	assert_regex "${stderr_lines[0]}" "^pitr-replay: error: could not create a file beside \"nodir/RECOVERYXLOG\": No such file or directory\$"
	# A name that is not a file of the archive.
	fetch -a "$G/archive" ../archive/x pg_wal/RECOVERYXLOG
	assert_failure 126
	assert_regex "${stderr_lines[0]}" "^pitr-replay: error: invalid file name \"\\.\\./archive/x\": "
}

@test "pitr-replay fetch-wal: usage errors are exit status 126, so that a mistyped restore_command stops the server" {
	fetch -a "$G/archive" "$MID_SEGMENT"
	assert_failure 126
	assert_equal "${stderr_lines[0]}" "pitr-replay: error: fetch-wal takes two operands, NAME and DEST (%f and %p), not 1"
	fetch "$MID_SEGMENT" pg_wal/RECOVERYXLOG
	assert_failure 126
	assert_equal "${stderr_lines[0]}" "pitr-replay: error: no WAL archive given (-a ARCHIVE)"
	fetch -a "$G/archive" --prefetch 65 "$MID_SEGMENT" pg_wal/RECOVERYXLOG
	assert_failure 126
	fetch -a "$G/archive" -b "$G/base-plain" "$MID_SEGMENT" pg_wal/RECOVERYXLOG
	assert_failure 126
	assert_equal "${stderr_lines[0]}" "pitr-replay: error: fetch-wal takes -a, --spool, --prefetch, NAME and DEST only"
	# And the other commands refuse fetch-wal's options.
	run --separate-stderr pitr-replay window -a "$G/archive" --spool "$W"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "pitr-replay: error: --spool is for fetch-wal, --prefetch for fetch-wal and restore"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --prefetch 2
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "pitr-replay: error: --spool is for fetch-wal, --prefetch for fetch-wal and restore"
}

@test "pitr-replay fetch-wal: the next segments are prefetched into the spool and then served from it by a rename" {
	local first=$TL1_FIRST_SEGMENT s=$W/spool n i name
	mkdir "$s"
	fetch -a "$G/archive" --spool "$s" --prefetch 3 "$first" pg_wal/RECOVERYXLOG
	assert_success
	assert_equal "$stderr" ""
	cmp "$G/archive/$first" pg_wal/RECOVERYXLOG
	wait_prefetch "$s"
	# Exactly the 3 after it, complete, and no .part left.
	assert_equal "$(cd "$s" && ls | tr '\n' ' ')" "$(next_seg "$first" 1) $(next_seg "$first" 2) $(next_seg "$first" 3) "
	for i in 1 2 3; do
		cmp "$G/archive/$(next_seg "$first" "$i")" "$s/$(next_seg "$first" "$i")"
	done
	# The next call takes its segment out of the spool: the same inode.
	name=$(next_seg "$first")
	n=$(stat -c %i "$s/$name")
	fetch -a "$G/archive" --spool "$s" --prefetch 3 "$name" pg_wal/RECOVERYXLOG
	assert_success
	assert_equal "$(stat -c %i pg_wal/RECOVERYXLOG)" "$n"
	cmp "$G/archive/$name" pg_wal/RECOVERYXLOG
	assert [ ! -e "$s/$name" ]
	wait_prefetch "$s"
	# ... and it topped the spool up to 3 ahead again.
	assert_equal "$(cd "$s" && ls | tr '\n' ' ')" "$(next_seg "$first" 2) $(next_seg "$first" 3) $(next_seg "$first" 4) "
	# Without --spool, or --prefetch 0, nothing is prefetched.
	rm "$s"/0*
	fetch -a "$G/archive" --spool "$s" --prefetch 0 "$first" pg_wal/RECOVERYXLOG
	assert_success
	assert_equal "$(ls "$s")" ""
}

@test "pitr-replay fetch-wal: a spooled segment serves only its own name (never another timeline), a .part never" {
	local s=$W/spool seg=$MID_SEGMENT tl2
	mkdir "$s"
	tl2=$(seg_name 2 "$(segno "$seg")")
	# Timeline 1's segment in the spool does not answer for timeline 2's,
	# which the archive does not have.
	cp "$G/archive/$seg" "$s/$seg"
	assert [ ! -e "$G/archive/$tl2" ]
	fetch -a "$G/archive" --spool "$s" "$tl2" pg_wal/RECOVERYXLOG
	assert_failure 1
	assert [ -e "$s/$seg" ]
	assert [ ! -e pg_wal/RECOVERYXLOG ]
	# A .part that no prefetcher is writing (one killed half-way) is not
	# served: the archive is read.
	rm "$s/$seg"
	head -c 8192 "$G/archive/$seg" >"$s/$seg.part"
	fetch -a "$G/archive" --spool "$s" --prefetch 0 "$seg" pg_wal/RECOVERYXLOG
	assert_success
	cmp "$G/archive/$seg" pg_wal/RECOVERYXLOG
}

@test "pitr-replay fetch-wal: a spool filled from one archive is not read for another" {
	local s=$W/spool first=$TL1_FIRST_SEGMENT next
	next=$(next_seg "$first")
	assert [ -e "$G/other-archive/$next" ]
	mkdir "$s"
	fetch -a "$G/archive" --spool "$s" --prefetch 2 "$first" pg_wal/RECOVERYXLOG
	assert_success
	wait_prefetch "$s"
	assert [ -e "$s/$next" ]
	# Another cluster's archive, with the same names: its own file.
	fetch -a "$G/other-archive" --spool "$s" --prefetch 2 "$next" pg_wal/RECOVERYXLOG
	assert_success
	cmp "$G/other-archive/$next" pg_wal/RECOVERYXLOG
	wait_prefetch "$s"
	# ... and the spool is that archive's now: the first one's files gone.
	assert_equal "$(cat "$s/.archive")" "$(realpath "$G/other-archive")"
	for f in "$s"/0*; do
		[ -e "$f" ] || continue
		cmp "$G/other-archive/$(basename "$f")" "$f"
	done
}

@test "pitr-replay fetch-wal: a damaged segment ahead is not spooled; its own call reports it" {
	local s=$W/spool first=$TL1_FIRST_SEGMENT bad
	archive_copy arc
	bad=$(next_seg "$first" 2)
	rm "$A/$bad"
	gzip -c "$G/archive/$bad" | head -c 3000 >"$A/$bad.gz"
	mkdir "$s"
	fetch -a "$A" --spool "$s" --prefetch 3 "$first" pg_wal/RECOVERYXLOG
	assert_success
	wait_prefetch "$s"
	assert [ ! -e "$s/$bad" ]
	assert [ ! -e "$s/$bad.part" ]
	fetch -a "$A" --spool "$s" --prefetch 3 "$bad" pg_wal/RECOVERYXLOG
	assert_failure 126
	assert_equal "${stderr_lines[0]}" "pitr-replay: error: could not decompress \"$A/$bad.gz\": damaged gzip data (bad checksum or truncated)"
}

@test "pitr-replay: restore from an archive whose path has %, spaces and quotes (L1): restore_command is fetch-wal, its spool removed at the end" {
	local a
	a="$(odd_dir l1)/100% %p %f it's"
	mkdir "$a"
	chmod 0755 "$a"
	# gzip-compressed: fetch-wal inflates and prefetches.
	for f in "$G/archive"/*; do
		gzip -c "$f" >"$a/$(basename "$f").gz"
	done
	D=$W/restored
	run --separate-stderr timeout 600 pitr-replay restore -b "$G/base-plain" -a "$a" \
		-D "$D" --timeline 1 --keep-running --action pause
	assert_success
	CONN=$output
	run psql "$CONN" -AtX -v ON_ERROR_STOP=1 -c "select id,tli,note from ticks order by id"
	assert_success
	assert_output "$(cat "$G/expected/end-tl1.rows")"
	# The server ran this pitr-replay's fetch-wal (pitr-replay-fetch-wal,
	# in ../lib/dbops beside it), with the spool.
	local prog
	prog=$(realpath "$(dirname "$(command -v pitr-replay)")/../lib/dbops/pitr-replay-fetch-wal")
	run grep -c "^restore_command = '''$prog'' fetch-wal -a .* --spool ''$D/pitr-replay/spool'' --prefetch 8 %f %p'\$" "$D/postgresql.auto.conf"
	assert_output 1
	assert [ ! -e "$D/pitr-replay/spool" ]
	"$DBOPS_DRIVER" stop "$D/pitr-replay"
}

@test "pitr-replay: restore --prefetch N is passed to fetch-wal; 0 prefetches nothing" {
	D=$W/restored
	run --separate-stderr timeout 600 pitr-replay restore -b "$G/base-plain" -a "$G/archive" \
		-D "$D" --target-name rp_dup --prefetch 0 --action shutdown
	assert_success
	run grep -c -- " --prefetch 0 %f %p'\$" "$D/postgresql.auto.conf"
	assert_output 1
	assert [ ! -e "$D/pitr-replay/spool" ]
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$G/archive" -D "$W/x" --prefetch 65
	assert_failure 1
	assert_regex "${stderr_lines[0]}" '^pitr-replay: error: invalid value "65" for --prefetch: '
}
