#!/usr/bin/env bats
# pitr-replay with a tablespace: a real cluster with a table in a tablespace
# of its own, backed up with pg_basebackup -Ft (tablespace_map and <oid>.tar)
# and -Fp --tablespace-mapping (a pg_tblspc link to the backup's copy),
# restored to a restore point and compared with what was committed then.

bats_require_minimum_version 1.5.0
load lib/pitr

setup_file() {
	load lib/helpers
	dbops_server_root
	export TZ=UTC
	local r=$DBOPS_SERVER_ROOT bin
	export ARCH=$r/archive TS=$r/ts1 BASE_TAR=$r/base-tar BASE_PLAIN=$r/base-plain \
		PLAIN_TS=$r/plain-ts
	mkdir -p "$ARCH" "$TS"
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$ARCH" "$TS"
	fi
	start_server postgres src --set wal_level=replica --set archive_mode=on \
		--set "archive_command=test ! -f '$ARCH/%f' && cp %p '$ARCH/%f'" \
		--set max_wal_senders=4 --set timezone=UTC
	PGHOST=$(server_info src socket_dir)
	PGPORT=$(server_info src port)
	export PGHOST PGPORT PGUSER=postgres PGDATABASE=postgres
	bin=/usr/lib/postgresql/$(server_info src version)/bin
	sql "CREATE TABLESPACE ts1 LOCATION '$TS'"
	sql "CREATE TABLE t (id int PRIMARY KEY, note text) TABLESPACE ts1"
	sql "INSERT INTO t SELECT g, 'before' FROM generate_series(1, 100) g"
	"$bin/pg_basebackup" -D "$BASE_TAR" -Ft -X none -c fast --no-sync
	"$bin/pg_basebackup" -D "$BASE_PLAIN" -Fp -X none -c fast --no-sync \
		--tablespace-mapping="$TS=$PLAIN_TS"
	sql "INSERT INTO t SELECT g, 'after' FROM generate_series(101, 150) g"
	sql "SELECT pg_create_restore_point('rp')" >/dev/null
	sql "INSERT INTO t SELECT g, 'later' FROM generate_series(151, 160) g"
	sql "SELECT pg_switch_wal()" >/dev/null
	local ready=1
	for _ in $(seq 300); do
		ready=$(sql "SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'")
		[ "$ready" = 0 ] && break
		sleep 0.1
	done
	[ "$ready" = 0 ] || { echo "the archiver did not catch up" >&2; return 1; }
	export TS_OID
	TS_OID=$(sql "SELECT oid FROM pg_tablespace WHERE spcname = 'ts1'")
	"$DBOPS_DRIVER" stop "$r/src"
}

teardown_file() {
	load lib/helpers
	stop_servers
}

setup() {
	load lib/helpers
	export TZ=UTC
	W=$(mktemp -d "$DBOPS_SERVER_ROOT/t$BATS_TEST_NUMBER.XXXXXX")
	chmod 0755 "$W"
}

teardown() {
	local state
	[ -n "${W:-}" ] && [ -d "$W" ] || return 0
	while IFS= read -r state; do
		"$DBOPS_DRIVER" stop "$(dirname "$state")" || true
	done < <(find "$W" -name instance.state)
	[ -z "${BATS_TEST_COMPLETED:-}" ] || rm -rf "$W"
}

sql() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"
}

# restored CONN: the rows of t and where its tablespace is, as the restored
# server sees them.
restored() {
	psql "$1" -X -A -t -v ON_ERROR_STOP=1 \
		-c "SELECT note, count(*) FROM t GROUP BY note ORDER BY note" \
		-c "SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = 'ts1'"
}

@test "pitr-replay: a -Ft backup with a tablespace restores it where --tablespace-map says" {
	local new D=$W/d
	new="$(odd_dir tsnew)/ts"
	run --separate-stderr pitr-replay restore -b "$BASE_TAR" -a "$ARCH" -D "$D" \
		--target-name rp --tablespace-map "$TS=$new" --keep-running
	assert_success
	run restored "$output"
	assert_success
	assert_output "after|50
before|100
$new"
	assert [ "$(readlink "$D/pg_tblspc/$TS_OID")" = "$new" ]
	assert [ ! -e "$D/tablespace_map" ]
	# The backed-up cluster's own tablespace is left alone.
	assert [ -d "$TS" ]
}

@test "pitr-replay: a tablespace's old place in use is refused before anything is written" {
	run --separate-stderr pitr-replay restore -b "$BASE_TAR" -a "$ARCH" -D "$W/d" --target-name rp
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "pitr-replay: error: could not put tablespace $TS_OID in \"$TS\": not an empty directory"
	assert_equal "${stderr_lines[1]}" "pitr-replay: hint: the backed-up cluster had it at \"$TS\"; give --tablespace-map \"$TS=NEW_DIRECTORY\" for another place"
	assert [ ! -e "$W/d" ]
	run --separate-stderr pitr-replay restore -b "$BASE_TAR" -a "$ARCH" -D "$W/d" --target-name rp \
		--tablespace-map "/srv/nothing=$W/x"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "pitr-replay: error: invalid value \"/srv/nothing=$W/x\" for --tablespace-map: the backup has no tablespace at \"/srv/nothing\""
	run --separate-stderr pitr-replay restore -b "$BASE_TAR" -a "$ARCH" -D "$W/d" --tablespace-map "relative=$W/x"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "pitr-replay: error: invalid value \"relative=$W/x\" for --tablespace-map: use OLD=NEW, two absolute paths"
}

@test "pitr-replay: a plain backup's tablespace is copied to its new place, the backup's copy untouched" {
	local D=$W/d before
	before=$(find "$PLAIN_TS" -type f -exec md5sum {} + | sort)
	run --separate-stderr pitr-replay restore -b "$BASE_PLAIN" -a "$ARCH" -D "$D"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "pitr-replay: error: tablespace $TS_OID of \"$BASE_PLAIN\" is the backup's own copy \"$PLAIN_TS\": it needs a new place"
	run --separate-stderr pitr-replay restore -b "$BASE_PLAIN" -a "$ARCH" -D "$D" \
		--target-name rp --tablespace-map "$PLAIN_TS=$W/ts2" --keep-running
	assert_success
	run restored "$output"
	assert_success
	assert_output "after|50
before|100
$W/ts2"
	assert_equal "$(find "$PLAIN_TS" -type f -exec md5sum {} + | sort)" "$before"
}

@test "pitr-replay: a -Ft backup whose tablespace tar is missing is refused by verify" {
	run pitr-replay verify -b "$BASE_TAR" -a "$ARCH" --target-name rp
	assert_success
	mkdir "$W/b"
	cp "$BASE_TAR/base.tar" "$W/b/"
	run --separate-stderr pitr-replay verify -b "$W/b" -a "$ARCH"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "pitr-replay: error: \"$W/b\": tablespace $TS_OID (at \"$TS\") has no $TS_OID.tar beside it: the backup is incomplete"
}

@test "pitr-replay: a restore that fails removes the tablespace directory it made" {
	local D=$W/d
	# The WAL check fails (a segment missing) while the backup is laid down.
	cp -a "$ARCH" "$W/arch"
	rm "$W/arch/000000010000000000000003"
	run --separate-stderr pitr-replay restore -b "$BASE_TAR" -a "$W/arch" -D "$D" \
		--tablespace-map "$TS=$W/ts4"
	assert_failure 1
	assert [ ! -e "$W/ts4" ]
	assert [ ! -e "$D" ]
}

@test "pitr-replay: a damaged tablespace tar is refused before anything is written" {
	local D=$W/d
	# A damaged tablespace tar: its second half cut off.
	mkdir "$W/b"
	cp "$BASE_TAR/base.tar" "$W/b/"
	head -c $(($(stat -c %s "$BASE_TAR/$TS_OID.tar") / 2)) "$BASE_TAR/$TS_OID.tar" >"$W/b/$TS_OID.tar"
	run --separate-stderr pitr-replay restore -b "$W/b" -a "$ARCH" -D "$D" \
		--tablespace-map "$TS=$W/ts3"
	assert_failure 1
	assert_regex "${stderr_lines[0]}" "^pitr-replay: error: \"$W/b/$TS_OID.tar\": incomplete or damaged tar"
	assert [ ! -e "$W/ts3" ]
	assert [ ! -e "$D" ]
}

@test "pitr-replay: verify holds a tablespace's files against the manifest, in -Ft and plain backups" {
	run pitr-replay verify -b "$BASE_PLAIN" -a "$ARCH"
	assert_success
	# A copy of the plain backup whose tablespace copy has one byte changed.
	cp -a "$BASE_PLAIN" "$W/b"
	cp -a "$PLAIN_TS" "$W/ts"
	ln -sfn "$W/ts" "$W/b/pg_tblspc/$TS_OID"
	local f
	f=$(find "$W/ts" -type f -name '[0-9]*' -size +0 | sort | head -1)
	printf 'X' | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null
	run --separate-stderr pitr-replay verify -b "$W/b" -a "$ARCH"
	assert_failure 1
	assert_regex "${stderr_lines[0]}" "^pitr-replay: error: \"$W/b/pg_tblspc/$TS_OID/.*\": CRC32C checksum [0-9a-f]+, but the manifest says [0-9a-f]+\$"
	# The same in a -Ft backup: the tablespace tar with a changed file.
	mkdir "$W/t" "$W/x"
	cp "$BASE_TAR"/* "$W/t/"
	tar -C "$W/x" -xf "$BASE_TAR/$TS_OID.tar"
	f=$(find "$W/x" -type f -name '[0-9]*' -size +0 | sort | head -1)
	printf 'X' | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null
	tar -C "$W/x" -cf "$W/t/$TS_OID.tar" .
	run --separate-stderr pitr-replay verify -b "$W/t" -a "$ARCH"
	assert_failure 1
	assert_regex "${stderr_lines[0]}" "^pitr-replay: error: \"$W/t/$TS_OID.tar\": pg_tblspc/$TS_OID/.*: CRC32C checksum [0-9a-f]+, but the manifest says [0-9a-f]+\$"
}
