#!/usr/bin/env bats
# pitr-replay's choice of timeline and its target syntax, against a real
# PostgreSQL WAL archive (tests/data/gen-pitr.sh, made once for the file):
# recovery_target_timeline=latest as PostgreSQL follows it when history
# files are missing (said, never quiet), --timeline current, --target
# immediate, epoch-qualified xids and the server log's time forms.
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


# warning_tl1 DIR N: the warning that 0000000N.history is missing from DIR
# and timeline 1 followed, the archive knowing timeline N of WHAT.
missing_history_warning() {
	printf '%s\n' "pitr-replay: warning: no history file \"$1/$(printf %08X "$2").history\" in the archive: following timeline $(($2 - 1)), as PostgreSQL's recovery_target_timeline=latest does (it looks for history files from the backup's timeline 1 upward and stops at the first one missing), although the archive has $3 of timeline $4"
}

@test "pitr-replay timeline: a complete archive: latest follows timeline 2 and says nothing on stderr" {
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive"
	assert_success
	assert_line "timeline: 2 (1 until $FORK_LSN, then 2)"
	assert_equal "$stderr" ""
}

@test "pitr-replay timeline: 00000002.history missing: latest stops at timeline 1 as PostgreSQL does, and says so (H1, M8)" {
	archive_copy a
	rm "$A/00000002.history"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A"
	assert_success
	assert_line "timeline: 1 (1)"
	assert_equal "${stderr_lines[0]}" "$(missing_history_warning "$A" 2 "WAL segments" 2)"
	assert_equal "${stderr_lines[1]}" "pitr-replay: hint: to follow timeline 2, put 00000002.history back into the archive"
	assert_equal "${#stderr_lines[@]}" 2
	# Restored as PostgreSQL restores it: timeline 1 to its end.
	assert_differ "after-$LAST_TL2_TXN" "after-$LAST_TL1_TXN"
	# Paused, the recovery settings stay to be read (a promotion removes them).
	ARCH=$A restore_keep d --action pause
	assert_stderr_line "$(missing_history_warning "$A" 2 "WAL segments" 2)"
	assert_stderr_line "timeline: 1 (1)"
	assert_rows "$CONN" end-tl1
	run grep -c "^recovery_target_timeline = '1'\$" "$D/postgresql.auto.conf"
	assert_output 1
	stop_restored
}

@test "pitr-replay timeline: 00000003.history present, 00000002.history missing: latest stops at 1, and --timeline 3 is named (M8)" {
	archive_copy a
	rm "$A/00000002.history"
	local end
	# Timeline 3 leaves timeline 2 after its last segment.
	end=$(lsn_text $((($(segno "$TL2_LAST_SEGMENT") + 1) * WAL_SEGMENT_SIZE)))
	printf '1\t%s\tno recovery target specified\n\n2\t%s\tno recovery target specified\n' \
		"$FORK_LSN" "$end" >"$A/00000003.history"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A"
	assert_success
	assert_line "timeline: 1 (1)"
	assert_equal "${stderr_lines[0]}" "$(missing_history_warning "$A" 2 "a history file" 3)"
	assert_equal "${stderr_lines[1]}" "pitr-replay: hint: to follow timeline 3, put 00000002.history back into the archive or give --timeline 3"
	assert_equal "${#stderr_lines[@]}" 2
	# What the hint says works: timeline 3's history names the whole path.
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A" --timeline 3 --target-name rp_tl2
	assert_success
	assert_line "timeline: 3 (1 until $FORK_LSN, then 2 until $end, then 3)"
	assert_line --regexp '^recovery stops: at restore point "rp_tl2", '
	assert_equal "$stderr" ""
}

@test "pitr-replay timeline: WAL of timeline 3 without 00000003.history: latest follows timeline 2, and says why (M8)" {
	archive_copy a
	# A segment named for timeline 3 (its content is never read).
	cp "$G/archive/$TL2_LAST_SEGMENT" "$A/00000003${TL2_LAST_SEGMENT:8}"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A"
	assert_success
	assert_line "timeline: 2 (1 until $FORK_LSN, then 2)"
	assert_equal "${stderr_lines[0]}" "pitr-replay: warning: no history file \"$A/00000003.history\" in the archive: following timeline 2, as PostgreSQL's recovery_target_timeline=latest does (it looks for history files from the backup's timeline 1 upward and stops at the first one missing), although the archive has WAL segments of timeline 3"
	assert_equal "${stderr_lines[1]}" "pitr-replay: hint: to follow timeline 3, put 00000003.history back into the archive"
	assert_equal "${#stderr_lines[@]}" 2
}

@test "pitr-replay timeline: a timeline newer than the backup that forked before it is skipped with a warning, not quietly" {
	archive_copy a
	# Timeline 3, forked from timeline 1 before base-plain started.
	printf '1\t%s\tbefore the backup\n' "$(txn 3 4)" >"$A/00000003.history"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$A"
	assert_success
	assert_line "timeline: 2 (1 until $FORK_LSN, then 2)"
	assert_equal "${stderr_lines[0]}" "pitr-replay: warning: timeline 3, which recovery_target_timeline=latest would follow, does not descend from the base backup's timeline 1 after the backup (PostgreSQL would refuse to start); trying timeline 2"
	assert_equal "${#stderr_lines[@]}" 1
}

@test "pitr-replay timeline: --timeline current stays on the backup's timeline, as recovery_target_timeline=current (M6)" {
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --timeline current
	assert_success
	assert_line "timeline: 1 (1)"
	assert_line --regexp "^replayed up to: .* \\(last transaction $(rx "$(pgtime "$LAST_TL1_COMMIT_TIME")")\\)\$"
	assert_equal "$stderr" ""
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --timeline now
	assert_error 'pitr-replay: error: invalid value "now" for --timeline: use a timeline number, "current" or "latest"'
}

@test "pitr-replay timeline: --target immediate stops right after the backup becomes consistent (M6)" {
	local first=$((FIRST_CONSISTENT_TXN - 1))
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target immediate
	assert_success
	assert_line "target: immediate (as soon as the backup is consistent)"
	assert_line --regexp '^recovery stops: after reaching consistency, at [0-9A-F]+/[0-9A-F]+$'
	assert_line --regexp "^replayed up to: $PLAIN_STOP_LSN "
	assert_line --regexp "^consistent at: $PLAIN_STOP_LSN "
	assert_equal "$stderr" ""
	assert_differ "after-$first" "after-$FIRST_CONSISTENT_TXN"
	restore_keep d --target immediate --action pause
	assert_stderr_line "recovered: recovery stopping after reaching consistency"
	assert_rows "$CONN" "after-$first"
	run grep -c "^recovery_target = 'immediate'\$" "$D/postgresql.auto.conf"
	assert_output 1
	run psql "$CONN" -AtX -c "select pg_last_wal_replay_lsn()"
	assert_output "$PLAIN_STOP_LSN"
	stop_restored
	# One target, and no exclusive form.
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target now
	assert_error 'pitr-replay: error: invalid value "now" for --target: the only target given this way is "immediate"'
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target immediate --target-xid 800
	assert_error 'pitr-replay: error: --target and --target-xid cannot be used together'
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target immediate --target-exclusive
	assert_error 'pitr-replay: error: --target-exclusive needs --target-time, --target-lsn or --target-xid'
}

@test "pitr-replay timeline: an epoch-qualified xid (txid_current()) is checked against the WAL's epoch (M7)" {
	local xid full
	xid=$(txn 10 2)
	full=$(((1 << 32) | xid))
	# Epoch 0 written out is the xid itself.
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-xid "$xid"
	assert_success
	assert_line "target: transaction $xid (inclusive)"
	# This WAL is of epoch 0: transaction $xid there is not $full.
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-xid "$full"
	assert_failure 1
	assert_equal "$output" ""
	assert_regex "${stderr_lines[0]}" "^pitr-replay: error: transaction $full is ID $xid of epoch 1, but transaction $xid in this WAL \\(committing at $(rx "$(txn 10 4)")\\) is of epoch 0: $xid as txid_current\\(\\) counts, by the next transaction ID [0-9]+ of the checkpoint before it\$"
	assert_equal "${stderr_lines[1]}" "pitr-replay: hint: PostgreSQL keeps only the low 32 bits and would stop at that transaction; check the ID, or give --target-xid $xid to stop there"
	# Never committed in any epoch: said with the number as given.
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-xid $(((1 << 32) | NEVER_XID)) --timeline 1
	assert_error "pitr-replay: error: transaction $(((1 << 32) | NEVER_XID)) never committed or aborted in the WAL after the base backup's start $PLAIN_START_LSN (timeline 1)"
	assert_regex "${stderr_lines[1]}" "^pitr-replay: detail: it is ID $NEVER_XID of epoch 1; the WAL read is of epoch 0 \(next transaction ID [0-9]+ at its last checkpoint\)\$"
	# The low 32 bits must be a transaction ID.
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-xid 4294967298
	assert_error 'pitr-replay: error: invalid value "4294967298" for --target-xid: that is transaction ID 2 of epoch 1, which no transaction has (IDs start at 3)'
}

@test "pitr-replay timeline: target times as the server log writes them, and in a named zone (L2)" {
	local r paris
	# Transaction 10's commit time, 2024-05-01T12:00:00.123456+00.
	r=$(txn 10 3)
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-time "${r:0:10} ${r:11:15} UTC"
	assert_success
	assert_line "target: time $(pgtime "$r") (inclusive)"
	assert_line --regexp "^recovery stops: before commit of transaction $(txn 11 2), "
	# The server log's %m: milliseconds, then " UTC".
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-time "${r:0:10} ${r:11:12} UTC" --target-exclusive
	assert_success
	assert_line --regexp "^recovery stops: before commit of transaction $(txn 10 2), "
	# The same instant in Paris, whatever TZ says.
	paris=$(TZ=Europe/Paris date -d "${r:0:19}Z" '+%Y-%m-%d %H:%M:%S').${r:20:6}
	run --separate-stderr env TZ=America/New_York pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-time "$paris Europe/Paris"
	assert_success
	assert_line "target: time $(pgtime "$r") (inclusive)"
	# An offset after a space, as psql writes it.
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-time "${r:0:10} ${r:11:15} +00"
	assert_success
	assert_line "target: time $(pgtime "$r") (inclusive)"
	# The backup history file's STOP TIME, as written there, is read.
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-time "$PLAIN_STOP_TIME" --timeline 1
	[[ $stderr != *'invalid value'* ]] || fail "STOP TIME refused: $stderr"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-time "${r:0:10} ${r:11:8} EST"
	assert_error "pitr-replay: error: invalid value \"${r:0:10} ${r:11:8} EST\" for --target-time: time zone abbreviation \"EST\" is ambiguous (abbreviations other than UTC, GMT and Z mean different offsets in different places: IST is India, Ireland or Israel): give a zone name such as Europe/Paris or an offset such as +01:00"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-time "${r:0:10} ${r:11:8} Europe/Pariss"
	assert_error "pitr-replay: error: invalid value \"${r:0:10} ${r:11:8} Europe/Pariss\" for --target-time: unknown time zone \"Europe/Pariss\": no such zone in the tz database (a name such as Europe/Paris or America/New_York)"
}

@test "pitr-replay timeline: a target time without a zone is read in the server's timezone setting, as recovery_target_time is (L2)" {
	local r paris tokyo b=$W/b
	# Transaction 10's commit time, 2024-05-01T12:00:00.123456+00.
	r=$(txn 10 3)
	paris=$(TZ=Europe/Paris date -d "${r:0:19}Z" '+%Y-%m-%d %H:%M:%S').${r:20:6}
	tokyo=$(TZ=Asia/Tokyo date -d "${r:0:19}Z" '+%Y-%m-%d %H:%M:%S').${r:20:6}
	cp -a "$G/base-plain" "$b"
	# The backup's own setting (timezone = 'UTC'), whatever TZ says.
	run --separate-stderr env TZ=America/New_York pitr-replay verify -b "$b" -a "$G/archive" --target-time "${r:0:10} ${r:11:15}"
	assert_success
	assert_line "target: time $(pgtime "$r") (inclusive)"
	assert_line --regexp "^target time zone: UTC \(the server's, from \"$b/postgresql.conf\" line [0-9]+\)\$"
	echo "timezone = 'Europe/Paris'" >>"$b/postgresql.conf"
	run --separate-stderr env TZ=America/New_York pitr-replay verify -b "$b" -a "$G/archive" --target-time "$paris" --no-manifest-check
	assert_success
	assert_line "target: time $(pgtime "$r") (inclusive)"
	assert_line --regexp "^target time zone: Europe/Paris \(the server's, from \"$b/postgresql.conf\" line [0-9]+\)\$"
	assert_line --regexp "^recovery stops: before commit of transaction $(txn 11 2), "
	# postgresql.auto.conf (ALTER SYSTEM) wins over postgresql.conf.
	echo "TimeZone = 'Asia/Tokyo'" >>"$b/postgresql.auto.conf"
	run --separate-stderr pitr-replay verify -b "$b" -a "$G/archive" --target-time "$tokyo" --no-manifest-check
	assert_success
	assert_line "target: time $(pgtime "$r") (inclusive)"
	assert_line "target time zone: Asia/Tokyo (the server's, from \"$b/postgresql.auto.conf\" line $(wc -l <"$b/postgresql.auto.conf"))"
	# --set timezone wins over both, for verify as for restore.
	run --separate-stderr pitr-replay verify -b "$b" -a "$G/archive" --target-time "${r:0:10} ${r:11:15}" --no-manifest-check --set timezone=UTC
	assert_success
	assert_line "target time zone: UTC (the server's, from --set timezone)"
	# A zone in the text is kept; no zone line then.
	run --separate-stderr pitr-replay verify -b "$b" -a "$G/archive" --target-time "${r:0:10} ${r:11:15} UTC" --no-manifest-check
	assert_success
	refute_line --partial "target time zone:"
	# No setting anywhere: PostgreSQL's default, GMT.
	sed -i '/^[Tt]ime[Zz]one/d' "$b/postgresql.conf" "$b/postgresql.auto.conf"
	run --separate-stderr env TZ=Asia/Tokyo pitr-replay verify -b "$b" -a "$G/archive" --target-time "${r:0:10} ${r:11:15}" --no-manifest-check
	assert_success
	assert_line "target: time $(pgtime "$r") (inclusive)"
	assert_line "target time zone: GMT (the server's, from PostgreSQL's default: no timezone setting in the server's configuration)"
	# A time that does not exist there is named with the zone.
	echo "timezone = 'Europe/Paris'" >>"$b/postgresql.conf"
	run --separate-stderr pitr-replay verify -b "$b" -a "$G/archive" --target-time "2024-03-31 02:30:00" --no-manifest-check
	assert_error "pitr-replay: error: --target-time \"2024-03-31 02:30:00\", read in the server's time zone Europe/Paris (\"$b/postgresql.conf\" line $(wc -l <"$b/postgresql.conf")): 2024-03-31 02:30:00 does not exist in time zone Europe/Paris"
	# In a tar, an include the setting may come from cannot be read.
	echo "include_dir = 'conf.d'" >>"$b/postgresql.conf"
	mkdir "$W/t" && tar -C "$b" -cf "$W/t/base.tar" .
	run --separate-stderr pitr-replay verify -b "$W/t/base.tar" -a "$G/archive" --target-time "$paris" --no-manifest-check
	assert_error "pitr-replay: error: --target-time \"$paris\" has no time zone, and the server's timezone setting cannot be told: \"$W/t/base.tar\": postgresql.conf line $(wc -l <"$b/postgresql.conf") includes a file not read here"
	assert_equal "${stderr_lines[1]}" "pitr-replay: hint: give the time with its zone (\"$paris UTC\", \"$paris Europe/Paris\"), or --set timezone=NAME"
	run --separate-stderr pitr-replay verify -b "$W/t/base.tar" -a "$G/archive" --target-time "$paris" --no-manifest-check --set timezone=Europe/Paris
	assert_success
	assert_line "target: time $(pgtime "$r") (inclusive)"
	# PostgreSQL's own "Postgres" date style, as psql prints it.
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --target-time "$(TZ=UTC date -d "${r:0:19}Z" '+%a %b %d %H:%M:%S').${r:20:6} ${r:0:4} UTC"
	assert_success
	assert_line "target: time $(pgtime "$r") (inclusive)"
}

# wait_archived: until the server of PGHOST has archived every completed
# segment.
wait_archived() {
	local i ready
	for ((i = 0; i < 300; i++)); do
		ready=$(psql -AtX -c "select count(*) from pg_ls_archive_statusdir() where name like '%.ready'") || return 1
		[ "$ready" != 0 ] || return 0
		sleep 0.1
	done
	return 1
}

@test "pitr-replay timeline: a backup on timeline 3 without 00000003.history restores as PostgreSQL restores it (M3)" {
	local inst=$W/inst bin=/usr/lib/postgresql/$PG_MAJOR/bin
	# Timeline 3: base-plain restored to the end of timeline 2 and promoted,
	# with archive_mode off, so 00000003.history is never archived.
	restore_keep d
	stop_restored
	archive_copy a
	[ "$(id -u)" != 0 ] || chown postgres: "$A"
	"$DBOPS_DRIVER" start postgres "$inst" --datadir "$D" --set archive_mode=on \
		--set "archive_command=test ! -f '$A/%f' && cp %p '$A/%f'" >"$W/inst.info"
	export PGHOST=$inst PGPORT PGUSER=postgres PGDATABASE=postgres
	PGPORT=$(sed -n 's/^port=//p' "$W/inst.info")
	run psql -AtX -c "select timeline_id from pg_control_checkpoint()"
	assert_output 3
	# A clean configuration (the restore's recovery block is another matter),
	# a plain backup, then a restore point on timeline 3.
	psql -AtX -c "alter system reset all" -c "select pg_reload_conf()" >/dev/null
	"$bin/pg_basebackup" -D "$W/base3" -Fp -X none -c fast 2>"$W/basebackup.err"
	psql -AtX -c "insert into ticks values (100, 3, 'on tl3')" \
		-c "select pg_create_restore_point('rp_tl3')" \
		-c "insert into ticks values (101, 3, 'after rp_tl3')" >/dev/null
	psql -AtX -c "select id, tli, note from ticks where id <> 101 order by id" >"$W/rp_tl3.rows"
	psql -AtX -c "select pg_switch_wal()" >/dev/null
	wait_archived
	"$DBOPS_DRIVER" stop "$inst"
	assert [ ! -e "$A/00000003.history" ]

	run --separate-stderr pitr-replay verify -b "$W/base3" -a "$A" --target-name rp_tl3
	assert_success
	assert_line "timeline: 3 (3)"
	assert_line --regexp '^recovery stops: at restore point "rp_tl3", '
	assert_equal "$stderr" "pitr-replay: info: no history file \"$A/00000003.history\" for the base backup's timeline 3: recovery starts on it from the backup and does not need its history, as in PostgreSQL"
	# PostgreSQL refuses recovery_target_timeline = '3' without the file:
	# the settings say 'current'.
	ARCH=$A restore_keep d3 -b "$W/base3" --target-name rp_tl3 --action pause
	assert_stderr_line "timeline: 3 (3)"
	run psql "$CONN" -AtX -v ON_ERROR_STOP=1 -c "select id,tli,note from ticks order by id"
	assert_success
	assert_output "$(cat "$W/rp_tl3.rows")"
	run grep -c "^recovery_target_timeline = 'current'\$" "$D/postgresql.auto.conf"
	assert_output 1
	stop_restored
	# --timeline 3 means the same here.
	run --separate-stderr pitr-replay verify -b "$W/base3" -a "$A" --target-name rp_tl3 --timeline 3
	assert_success
	assert_line "timeline: 3 (3)"
}

# segment_of TLI LSN: the name of the segment holding LSN on timeline TLI.
segment_of() {
	local n=$(((16#${2%/*} << 32) | 16#${2#*/})) per=$((0x100000000 / WAL_SEGMENT_SIZE))
	printf '%08X%08X%08X\n' "$1" $((n / WAL_SEGMENT_SIZE / per)) $((n / WAL_SEGMENT_SIZE % per))
}

@test "pitr-replay timeline: a -X stream backup whose first segment is only in its own pg_wal verifies and restores, as PostgreSQL restores it (M4)" {
	local seg xid info
	seg=$(segment_of 1 "$TAR_START_LSN")
	xid=$(txn "$FIRST_AFTER_TAR_TXN" 2)
	run tar -tzf "$G/base-tar/pg_wal.tar.gz"
	assert_line "$seg"
	archive_copy a
	rm "$A/$seg"
	info="pitr-replay: info: WAL segment $seg is not in the archive: read from the base backup's pg_wal (\"$G/base-tar/pg_wal.tar.gz\"), where the restored server finds it too, as PostgreSQL reads pg_wal when restore_command has nothing"
	run --separate-stderr pitr-replay verify -b "$G/base-tar" -a "$A" --timeline 1 --target-xid "$xid"
	assert_success
	assert_line "WAL checked: $seg to $(segment_of 1 "$(txn "$FIRST_AFTER_TAR_TXN" 4)"), 2 segments, every record's CRC good"
	assert_equal "$stderr" "$info"
	ARCH=$A restore_keep d -b "$G/base-tar" --timeline 1 --target-xid "$xid" --action pause
	assert_stderr_line "$info"
	assert_rows "$CONN" "after-$FIRST_AFTER_TAR_TXN"
	stop_restored

	# Damage in that segment names the tar it was read from.
	mkdir "$W/b" "$W/w"
	cp "$G/base-tar/base.tar.gz" "$G/base-tar/backup_manifest" "$W/b/"
	tar -C "$W/w" -xzf "$G/base-tar/pg_wal.tar.gz"
	printf '\x77' | dd of="$W/w/$seg" bs=1 seek=$((0x50)) conv=notrunc 2>/dev/null
	tar -C "$W/w" -czf "$W/b/pg_wal.tar.gz" "$seg"
	run --separate-stderr pitr-replay verify -b "$W/b" -a "$A" --timeline 1
	assert_failure 1
	assert_regex "${stderr_lines[1]}" "^pitr-replay: error: \"$W/b/pg_wal.tar.gz: $seg\": record at $TAR_START_LSN fails its CRC: "

	# Without the pg_wal tar the segment is missing indeed, and the hint
	# says the backup does not have it either.
	rm "$W/b/pg_wal.tar.gz"
	run --separate-stderr pitr-replay verify -b "$W/b" -a "$A" --timeline 1
	assert_error "pitr-replay: error: \"$A/$seg\": WAL segment $seg is missing from the archive (needed from LSN $TAR_START_LSN; later segments exist)"
	assert_equal "${stderr_lines[1]}" "pitr-replay: hint: recovery would stop at the gap: the base backup's own pg_wal does not have the segment either; copy it into the archive"
}

@test "pitr-replay timeline: the first segment read from pg_wal/ of a plain backup and from pg_wal/ inside a single tar (M4)" {
	local seg xid
	seg=$(segment_of 1 "$TAR_START_LSN")
	xid=$(txn "$FIRST_AFTER_TAR_TXN" 2)
	archive_copy a
	rm "$A/$seg"
	# base-tar laid out as pg_basebackup -Fp -X stream writes it.
	mkdir -m 0700 "$W/plain"
	tar -xzf "$G/base-tar/base.tar.gz" -C "$W/plain"
	tar -xzf "$G/base-tar/pg_wal.tar.gz" -C "$W/plain/pg_wal"
	cp "$G/base-tar/backup_manifest" "$W/plain/"
	run --separate-stderr pitr-replay verify -b "$W/plain" -a "$A" --timeline 1 --target-xid "$xid"
	assert_success
	assert_line --regexp "^recovery stops: after commit of transaction $xid, "
	assert_equal "$stderr" "pitr-replay: info: WAL segment $seg is not in the archive: read from the base backup's pg_wal (\"$W/plain/pg_wal\"), where the restored server finds it too, as PostgreSQL reads pg_wal when restore_command has nothing"
	# The same directory as one tar.
	tar -C "$W/plain" -cf "$W/single.tar" .
	run --separate-stderr pitr-replay verify -b "$W/single.tar" -a "$A" --timeline 1 --target-xid "$xid"
	assert_success
	assert_line --regexp "^recovery stops: after commit of transaction $xid, "
	assert_equal "$stderr" "pitr-replay: info: WAL segment $seg is not in the archive: read from the base backup's pg_wal (\"$W/single.tar: pg_wal/\"), where the restored server finds it too, as PostgreSQL reads pg_wal when restore_command has nothing"
}
