#!/usr/bin/env bats
# pitr-replay's reports against a real PostgreSQL WAL archive
# (tests/data/gen-pitr.sh): verify holding a backup's files against its
# backup_manifest (M9), with pg_verifybackup as the oracle on the plain
# backups; verify --format json; -q for verify and restore (L3); and the
# info command.
#
# Each test works in a directory of its own ($W); what a test damages is a
# copy made there.

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
	local state
	[ -n "${W:-}" ] && [ -d "$W" ] || return 0
	while IFS= read -r state; do
		"$DBOPS_DRIVER" stop "$(dirname "$state")" || true
	done < <(find "$W" -name instance.state)
	[ -z "${BATS_TEST_COMPLETED:-}" ] || rm -rf "$W"
}

# assert_errors LINE...: exit 1, nothing on stdout, exactly these error
# lines on stderr in this order, then hints only.
assert_errors() {
	local line i=0
	assert_failure 1
	assert_equal "$output" ""
	for line in "$@"; do
		assert_equal "${stderr_lines[$i]}" "$line"
		i=$((i + 1))
	done
	for line in "${stderr_lines[@]:$i}"; do
		case $line in
		'pitr-replay: hint: '* | 'Try "pitr-replay --help" for more information.') ;;
		*) fail "unexpected stderr line: $line" ;;
		esac
	done
}

verify() {
	run --separate-stderr pitr-replay verify -a "$G/archive" --progress never "$@"
}

# The manifest's CRC32C of FILE of base-plain, as its hex.
manifest_sum() {
	jq -r --arg p "$1" '.Files[] | select(.Path == $p) | .Checksum' "$G/base-plain/backup_manifest"
}

# crc32c FILE: the CRC32C PostgreSQL's manifest would hold for it.
crc32c() {
	python3 - "$1" <<'PY'
import sys
t = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    t.append(c)
c = 0xFFFFFFFF
for b in open(sys.argv[1], 'rb').read():
    c = t[(c ^ b) & 0xFF] ^ (c >> 8)
print((c ^ 0xFFFFFFFF).to_bytes(4, 'little').hex())
PY
}

@test "pitr-replay verify: a clean backup's files agree with its manifest, as pg_verifybackup says, in every shape" {
	run "$PG_BIN/pg_verifybackup" -n "$G/base-plain"
	assert_success
	local n
	n=$(jq '[.Files[] | select(.Path | test("^(backup_manifest|postgresql.auto.conf|recovery.signal|standby.signal|pg_wal(/.*)?)$") | not)] | length' "$G/base-plain/backup_manifest")
	for b in base-plain base-plain.tar base-plain.tar.lz4 base-plain.tar.zst; do
		verify -b "$G/$b"
		assert_success
		assert_line --regexp "^backup files: $n files, [0-9]+ bytes, as the manifest lists them \(checksums: CRC32C\)$"
		assert_equal "$stderr" ""
	done
	verify -b "$G/base-tar"
	assert_success
	assert_line --regexp '^backup files: [0-9]+ files, [0-9]+ bytes, as the manifest lists them \(checksums: CRC32C\)$'
	verify -b "$G/base-tar/base.tar.gz"
	assert_success
	assert_line --partial 'as the manifest lists them'
}

@test "pitr-replay verify: a changed byte, a truncated, a missing and an extra file are each named, as pg_verifybackup names them" {
	local b=$W/b
	cp -a "$G/base-plain" "$b"
	# One byte changed: the size agrees, the CRC32C does not.
	local want got
	want=$(manifest_sum global/1261)
	printf 'X' | dd of="$b/global/1261" bs=1 seek=100 conv=notrunc status=none
	got=$(crc32c "$b/global/1261")
	[ "$got" != "$want" ]
	verify -b "$b"
	assert_errors "pitr-replay: error: \"$b/global/1261\": CRC32C checksum $got, but the manifest says $want"
	run "$PG_BIN/pg_verifybackup" -n "$b"
	assert_failure
	assert_output --partial 'checksum mismatch for file "global/1261"'

	# Truncated.
	cp "$G/base-plain/global/1261" "$b/global/1261"
	truncate -s 4096 "$b/global/2396"
	verify -b "$b"
	assert_errors "pitr-replay: error: \"$b/global/2396\": 4096 bytes in the backup, 8192 in the manifest"
	run "$PG_BIN/pg_verifybackup" -n "$b"
	assert_failure
	assert_output --partial '"global/2396" has size 4096 on disk but size 8192 in the manifest'

	# Missing.
	cp "$G/base-plain/global/2396" "$b/global/2396"
	rm "$b/global/pg_filenode.map"
	verify -b "$b"
	assert_errors "pitr-replay: error: \"$b/global/pg_filenode.map\": listed in the manifest \"$b/backup_manifest\" but missing from the backup"
	run "$PG_BIN/pg_verifybackup" -n "$b"
	assert_failure
	assert_output --partial '"global/pg_filenode.map" is present in the manifest but not on disk'

	# Extra; what pg_verifybackup ignores is ignored.
	cp "$G/base-plain/global/pg_filenode.map" "$b/global/pg_filenode.map"
	echo stray >"$b/base/stray.txt"
	echo "work_mem = '8MB'" >>"$b/postgresql.auto.conf"
	touch "$b/standby.signal" "$b/pg_wal/000000010000000000000009"
	verify -b "$b"
	assert_errors "pitr-replay: error: \"$b/base/stray.txt\": in the backup but not in its manifest \"$b/backup_manifest\""
	assert_stderr_line --partial 'hint: 1 file(s) differ from the backup manifest'
	run "$PG_BIN/pg_verifybackup" -n "$b"
	assert_failure
	assert_output --partial '"base/stray.txt" is present on disk but not in the manifest'
	rm "$b/base/stray.txt"
	run "$PG_BIN/pg_verifybackup" -n "$b"
	assert_success
	verify -b "$b"
	assert_success
}

@test "pitr-replay verify: all four at once are all reported, one line each, and --no-manifest-check skips them" {
	local b=$W/b
	cp -a "$G/base-plain" "$b"
	printf 'X' | dd of="$b/global/1261" bs=1 seek=100 conv=notrunc status=none
	truncate -s 4096 "$b/global/2396"
	rm "$b/global/pg_filenode.map"
	echo stray >"$b/stray.txt"
	verify -b "$b"
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "$(grep -c '^pitr-replay: error: ' <<<"$stderr")" 4
	assert_stderr_line --partial "\"$b/global/1261\": CRC32C checksum"
	assert_stderr_line --partial "\"$b/global/2396\": 4096 bytes"
	assert_stderr_line --partial "\"$b/global/pg_filenode.map\": listed"
	assert_stderr_line --partial "\"$b/stray.txt\": in the backup"
	verify -b "$b" --no-manifest-check
	assert_success
	assert_line 'backup files: not checked (--no-manifest-check)'
	run --separate-stderr pitr-replay window -a "$G/archive" --no-manifest-check
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'pitr-replay: error: --no-manifest-check is for verify'
}

@test "pitr-replay verify: a tar backup's members are checked, named as the tar's entries" {
	local x=$W/x b=$W/b
	mkdir "$x" "$b"
	tar -xzf "$G/base-tar/base.tar.gz" -C "$x"
	printf 'X' | dd of="$x/global/1261" bs=1 seek=10 conv=notrunc status=none
	rm "$x/global/pg_filenode.map"
	echo stray >"$x/stray.txt"
	tar -C "$x" -cf - . | zstd -q -o "$b/base.tar.zst"
	cp "$G/base-tar/pg_wal.tar.gz" "$G/base-tar/backup_manifest" "$b/"
	verify -b "$b"
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "$(grep -c '^pitr-replay: error: ' <<<"$stderr")" 3
	assert_stderr_line --regexp "^pitr-replay: error: \"$b/base.tar.zst\": global/1261: CRC32C checksum [0-9a-f]{8}, but the manifest says [0-9a-f]{8}$"
	assert_stderr_line "pitr-replay: error: \"$b/base.tar.zst\": global/pg_filenode.map: listed in the manifest \"$b/backup_manifest\" but missing from the backup"
	assert_stderr_line "pitr-replay: error: \"$b/base.tar.zst\": stray.txt: in the backup but not in its manifest \"$b/backup_manifest\""

	# A tar of a plain backup, its manifest inside.
	cp -a "$G/base-plain" "$x.p"
	truncate -s 100 "$x.p/global/2396"
	tar -C "$x.p" -cf "$W/p.tar" .
	verify -b "$W/p.tar"
	assert_errors "pitr-replay: error: \"$W/p.tar\": global/2396: 100 bytes in the backup, 8192 in the manifest"
}

@test "pitr-replay verify: a manifest changed after the backup fails its own checksum" {
	local b=$W/b
	cp -a "$G/base-plain" "$b"
	# The same length, so only the checksum can tell.
	sed -i 's/"Path": "PG_VERSION", "Size": 3,/"Path": "PG_VERSION", "Size": 4,/' "$b/backup_manifest"
	! cmp -s "$b/backup_manifest" "$G/base-plain/backup_manifest"
	verify -b "$b"
	assert_errors "pitr-replay: error: \"$b/backup_manifest\": could not check the backup against it: the manifest's checksum does not match its contents"
	run "$PG_BIN/pg_verifybackup" -n "$b"
	assert_failure
	assert_output --partial 'manifest checksum mismatch'
}

@test "pitr-replay verify: a backup without a manifest is verified, and says its files were not checked" {
	local b=$W/b
	cp -a "$G/base-plain" "$b"
	rm "$b/backup_manifest"
	verify -b "$b"
	assert_success
	assert_line 'backup files: not checked: the backup has no backup_manifest'
}

@test "pitr-replay verify --format json: one object with the plan and the manifest check" {
	verify -b "$G/base-plain" --format json
	assert_success
	assert_equal "$stderr" ""
	run jq -e 'length == 1' <<<"$output"
	assert_success
	run jq -r '.[0] | [.base_backup, .pg_major, .system_identifier, .backup_start_lsn, .timeline, .manifest, (.manifest_files > 900), .manifest_checksums, .segments] | @tsv' <<<"$(pitr-replay verify -b "$G/base-plain" -a "$G/archive" --format json)"
	assert_success
	assert_output "$G/base-plain	$PG_MAJOR	$SYSID	$PLAIN_START_LSN	2	checked	true	CRC32C	3"
	run pitr-replay verify -b "$G/base-plain" -a "$G/archive" --format json --no-manifest-check
	assert_success
	run jq -r '.[0] | [.manifest, .manifest_files] | @tsv' <<<"$output"
	assert_output "skipped	"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --format csv
	assert_errors 'pitr-replay: error: verify prints its report as text, or as JSON with --format json'
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --format json -q
	assert_errors 'pitr-replay: error: -q and --format json cannot be used together: -q leaves only errors and warnings'
}

@test "pitr-replay verify -q and restore -q print nothing but errors" {
	verify -b "$G/base-plain" -q
	assert_success
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	verify -b "$G/base-plain" -q --target-name no_such_point
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" 'pitr-replay: error: no restore point named "no_such_point" in the WAL after the base backup'"'"'s start '"$PLAIN_START_LSN"' (timeline 1 until '"$FORK_LSN"', then 2)'
	run --separate-stderr pitr-replay restore -q -b "$G/base-plain" -a "$G/archive" -D "$W/d" --progress never
	assert_success
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	assert [ -f "$W/d/PG_VERSION" ]
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$G/archive" -D "$W/d2" --progress never
	assert_success
	assert_line --partial 'promoted: the server left recovery'
}

@test "pitr-replay info: the backups under a folder and in the archive, one row each, in every format" {
	local d=$W/backups
	mkdir "$d"
	ln -s "$G/base-plain" "$d/a-plain"
	ln -s "$G/base-plain.tar.zst" "$d/b-plain.tar.zst"
	ln -s "$G/base-tar" "$d/c-tar"
	mkdir "$d/not-a-backup"
	run --separate-stderr pitr-replay info -b "$d" -a "$G/archive" --format tsv
	assert_success
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 4
	assert_line --index 0 "$(printf '%s\t' backup kind label pg_major start_time stop_time start_lsn stop_lsn timeline stop_timeline size_bytes | sed 's/\t$//')	backup_file"
	assert_line --index 1 --regexp "^$d/a-plain	plain	dbops-gen-pitr plain	$PG_MAJOR	$PLAIN_START_TIME	$PLAIN_STOP_TIME	$PLAIN_START_LSN	$PLAIN_STOP_LSN	1	1	[0-9]+	$PLAIN_BACKUP_FILE\$"
	assert_line --index 2 --regexp "^$d/b-plain.tar.zst	tar file	dbops-gen-pitr plain	$PG_MAJOR	$PLAIN_START_TIME	$PLAIN_STOP_TIME	$PLAIN_START_LSN	$PLAIN_STOP_LSN	1	1	$(stat -Lc %s "$G/base-plain.tar.zst")	$PLAIN_BACKUP_FILE\$"
	assert_line --index 3 --regexp "^$d/c-tar	tar	dbops-gen-pitr tar	$PG_MAJOR	[^	]+	$TAR_STOP_TIME	$TAR_START_LSN	$TAR_STOP_LSN	1	1	[0-9]+	$TAR_BACKUP_FILE\$"

	# The archive alone: its .backup files.
	run --separate-stderr pitr-replay info -a "$G/archive" --format json
	assert_success
	run jq -r '.[] | [.backup, .kind, .label, .start_lsn, .stop_lsn, .stop_time, .backup_file] | @tsv' <<<"$output"
	assert_success
	assert_line --index 0 "	archive	dbops-gen-pitr plain	$PLAIN_START_LSN	$PLAIN_STOP_LSN	$PLAIN_STOP_TIME	$PLAIN_BACKUP_FILE"
	assert_line --index 1 "	archive	dbops-gen-pitr tar	$TAR_START_LSN	$TAR_STOP_LSN	$TAR_STOP_TIME	$TAR_BACKUP_FILE"

	# Backups given one by one, no archive; table and csv.
	run --separate-stderr pitr-replay info -b "$G/base-plain" -b "$G/base-tar"
	assert_success
	assert_line --index 1 --regexp '^\| backup +\| kind +\| label '
	assert_line --partial '| plain | dbops-gen-pitr plain |'
	run --separate-stderr pitr-replay info -b "$G/base-plain" --format csv
	assert_success
	assert_line --index 1 --regexp "^$G/base-plain,plain,dbops-gen-pitr plain,$PG_MAJOR,$PLAIN_START_TIME,,$PLAIN_START_LSN,$PLAIN_STOP_LSN,1,1,[0-9]+,\$"
}

@test "pitr-replay info --time: the newest backup that ended before it on the path to the newest timeline" {
	local d=$W/backups t
	mkdir "$d"
	ln -s "$G/base-plain" "$d/a-plain"
	ln -s "$G/base-tar" "$d/c-tar"
	# After both backups: base-tar is newer but on timeline 1 after the
	# fork, which timeline 2 (where recovery goes) never sees.
	t=$(date -u -d "$TAR_STOP_TIME 10 seconds" '+%Y-%m-%d %H:%M:%S+00')
	run --separate-stderr pitr-replay info -b "$d" -a "$G/archive" --time "$t" --format csv
	assert_success
	assert_line --index 0 --partial ',backup_file,use_for_time'
	assert_line --index 1 --regexp "^$d/a-plain,.*,yes\$"
	assert_line --index 2 --regexp "^$d/c-tar,.*,\$"
	assert_equal "${stderr_lines[0]}" "pitr-replay: info: for $t: restore from \"$d/a-plain\" (pitr-replay restore -b \"$d/a-plain\" -a \"$G/archive\" --target-time \"$t\" -D DATADIR)"
	run --separate-stderr pitr-replay -q info -b "$d" -a "$G/archive" --time "$t" --format csv
	assert_success
	assert_equal "$stderr" ""

	# Before base-plain ended: nothing.
	t=$(date -u -d "$PLAIN_STOP_TIME 1 second ago" '+%Y-%m-%d %H:%M:%S+00')
	run --separate-stderr pitr-replay info -b "$d" -a "$G/archive" --time "$t" --format csv
	assert_failure 1
	assert_stderr_line "pitr-replay: error: no base backup given ended before $t on the path to timeline 2 (1 until $FORK_LSN, then 2)"

	run --separate-stderr pitr-replay info -b "$d" --time "$t"
	assert_errors 'pitr-replay: error: --time needs the WAL archive (-a ARCHIVE): the backups'"'"' stop times and the timelines are there'
	run --separate-stderr pitr-replay info -b "$d" -a "$G/archive" --target-lsn 0/1
	assert_errors 'pitr-replay: error: info takes only -b, -a, --time and --format'
	run --separate-stderr pitr-replay info
	assert_errors 'pitr-replay: error: info needs backups (-b BASE) or a WAL archive (-a ARCHIVE)'
	run --separate-stderr pitr-replay verify -b "$d/a-plain" -b "$d/c-tar" -a "$G/archive"
	assert_errors 'pitr-replay: error: -b given 2 times: only info takes several backups'
	run --separate-stderr pitr-replay verify -b "$d/a-plain" -a "$G/archive" --time "$t"
	assert_errors 'pitr-replay: error: --time is for info; restore and verify take --target-time'
}

@test "pitr-replay info: a damaged backup in the folder is an error naming it; the others are still listed" {
	local d=$W/backups
	mkdir "$d"
	ln -s "$G/base-plain" "$d/a-plain"
	head -c 100000 "$G/base-plain.tar" >"$d/b-cut.tar"
	run --separate-stderr pitr-replay info -b "$d" --format csv
	assert_failure 1
	assert_line --index 1 --regexp "^$d/a-plain,plain,"
	assert_stderr_line --regexp "^pitr-replay: error: \"$d/b-cut.tar\": incomplete or damaged tar"
	mkdir "$W/empty"
	run --separate-stderr pitr-replay info -b "$W/empty" --format csv
	assert_success
	assert_equal "${stderr_lines[0]}" "pitr-replay: warning: \"$W/empty\": no base backup in this folder (a directory with backup_label or base.tar*, or a tar file)"
}

@test "pitr-replay info: verify --metrics-file writes what it found for the textfile collector, also when it fails; promtool takes it" {
	local last
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$G/archive" --metrics-file "$W/verify.prom"
	assert_success
	last=$(sed -nE 's/^replayed up to: .* \(last transaction (.*)\)$/\1/p' <<<"$output")
	run promtool check metrics <"$W/verify.prom"
	assert_success
	run grep -v '^#' "$W/verify.prom"
	assert_line 'dbops_pitr_replay_success{command="verify"} 1'
	assert_line --regexp '^dbops_pitr_replay_last_run_timestamp_seconds\{command="verify"\} [0-9.]+$'
	assert_line --regexp '^dbops_pitr_replay_duration_seconds\{command="verify"\} [0-9.]+$'
	assert_line "dbops_pitr_replay_wal_checked_bytes{command=\"verify\"} $((3 * 16 * 1024 * 1024))"
	# The recovery point: the last transaction the report names, to the microsecond.
	assert_line "dbops_pitr_replay_last_recoverable_timestamp_seconds $(date -u -d "$last" +%s).$(printf %s "${last:20:6}" | sed "s/[^0-9].*//")"
	run --separate-stderr pitr-replay verify -b "$G/base-plain" -a "$W/none" --metrics-file "$W/verify.prom"
	assert_failure 1
	run grep -v '^#' "$W/verify.prom"
	assert_line 'dbops_pitr_replay_success{command="verify"} 0'
	refute_line --partial 'last_recoverable'
	run --separate-stderr pitr-replay window -a "$G/archive" --metrics-file "$W/x.prom"
	assert_error 'pitr-replay: error: --metrics-file is for restore and verify'
}

