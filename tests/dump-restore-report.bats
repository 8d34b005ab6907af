#!/usr/bin/env bats
# What dump-restore reports, checked message by message (QA LOW 8, 10, 11,
# 15, 17): a world newer than --at is skipped and named (--strict stops
# up), up's exit status and last line name every world not brought up;
# messages that named the wrong cause or argument; the summary's table
# total counts system-versioned tables and sequences (the oracle:
# information_schema of a server loaded with `zcat | mariadb`); a linked
# dump is shown by its own name; --help and the man page's up synopsis
# list the same options.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/helpers
	dbops_server_root
	export TZ=UTC
	export D=$DBOPS_SERVER_ROOT/dumps
	mkdir -p "$D/at" "$D/links"
	for w in old1 old2; do
		printf '%s\n' "CREATE DATABASE $w;" "USE $w;" 'CREATE TABLE t (i INT);' \
			'INSERT INTO t VALUES (1);' | gzip >"$D/at/$w-2024-03-01.sql.gz"
	done
	printf '%s\n' 'CREATE DATABASE newer;' | gzip >"$D/at/newer-2024-03-05.sql.gz"
	printf '%s\n' 'CREATE DATABASE broken;' 'USE broken;' 'SELECT * FROM nowhere;' |
		gzip >"$D/at/broken-2024-03-01.sql.gz"
}

teardown_file() {
	load lib/helpers
	for root in "$DBOPS_SERVER_ROOT"/report-root*; do
		[ -d "$root" ] && dump-restore down --root "$root" 2>/dev/null
	done
	stop_servers
}

setup() {
	load lib/helpers
	export TZ=UTC
	R=$DBOPS_SERVER_ROOT/report-root$BATS_TEST_NUMBER
}

@test "dump-restore: a world whose earliest dump is after --at is skipped and named; the others come up; exit 1" {
	run --separate-stderr dump-restore up --root "$R" --progress never --format csv --at 2024-03-02 "$D/at"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "dump-restore: error: world \"newer\" has no dump at or before 2024-03-02 00:00:00+00:00: its earliest is \"$D/at/newer-2024-03-05.sql.gz\" of 2024-03-05 00:00:00+00:00; skipped"
	assert_equal "${stderr_lines[1]}" "dump-restore: error: world \"broken\" from \"$D/at/broken-2024-03-01.sql.gz\": line 3: Table 'broken.nowhere' doesn't exist (statement: \"SELECT * FROM nowhere\")"
	assert_equal "${stderr_lines[2]}" 'dump-restore: error: 2 of 4 worlds not brought up: "newer" (skipped), "broken" (failed)'
	assert_equal "${#stderr_lines[@]}" 3
	assert_line --index 1 --regexp '^broken,failed,'
	assert_line --index 2 --regexp '^old1,running,'
	assert_line --index 3 --regexp '^old2,running,'
	run -0 mariadb --defaults-extra-file="$R/worlds.cnf" --defaults-group-suffix=_old2 -N -B -e 'SELECT i FROM old2.t'
	assert_output 1
	assert [ ! -e "$R/newer" ]
}

@test "dump-restore: --strict: a world without a dump early enough stops up before any world is touched" {
	run --separate-stderr dump-restore up --root "$R" --progress never --strict --at 2024-03-02 "$D/at"
	assert_failure 1
	assert_equal "$stderr" "dump-restore: error: world \"newer\" has no dump at or before 2024-03-02 00:00:00+00:00: its earliest is \"$D/at/newer-2024-03-05.sql.gz\" of 2024-03-05 00:00:00+00:00"
	assert_output ""
	assert [ ! -e "$R" ]
	# plan says the same, and also exits 1 for a skipped world.
	run --separate-stderr dump-restore plan --format csv --at 2024-03-02 "$D/at"
	assert_failure 1
	assert_equal "$stderr" "dump-restore: error: world \"newer\" has no dump at or before 2024-03-02 00:00:00+00:00: its earliest is \"$D/at/newer-2024-03-05.sql.gz\" of 2024-03-05 00:00:00+00:00; skipped"
	assert_equal "${#lines[@]}" 4
}

@test "dump-restore: the messages name the real cause: a directory named like a dump, garbage after the gzip data, an option in a world's place" {
	mkdir -p "$R.src/dir-2024-03-01.sql.gz"
	cp "$D/at/old1-2024-03-01.sql.gz" "$R.src/"
	run --separate-stderr dump-restore plan --format csv "$R.src"
	assert_success
	assert_equal "$stderr" "dump-restore: warning: skipping \"$R.src/dir-2024-03-01.sql.gz\": not a regular file"
	# A valid gzip member, then bytes that are none: gzip -t's own words.
	{ cat "$D/at/old1-2024-03-01.sql.gz" && printf 'garbage after the end'; } >"$D/tail-2024-03-01.sql.gz"
	run gzip -t "$D/tail-2024-03-01.sql.gz"
	assert_output --partial "trailing garbage ignored"
	size=$(stat -c %s "$D/at/old1-2024-03-01.sql.gz")
	run --separate-stderr dump-restore up --root "$R" --progress never "$D/tail-2024-03-01.sql.gz"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "dump-restore: error: world \"tail\" from \"$D/tail-2024-03-01.sql.gz\": trailing garbage after the gzip data, at byte $size (the dump before it was loaded; gzip -t says \"trailing garbage ignored\")"
	# "down -dash": the option is named, not the command before it.
	run --separate-stderr dump-restore down --root "$R" -dash
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'dump-restore: error: unknown option "-d"'
	run --separate-stderr dump-restore down --root "$R" -- -dash
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'dump-restore: error: invalid world name "-dash"'
}

@test "dump-restore: the summary counts system-versioned tables and sequences as tables, as information_schema does" {
	start_mariadb oracle
	printf '%s\n' 'CREATE DATABASE kinds;' 'USE kinds;' \
		'CREATE TABLE plain (i INT);' 'INSERT INTO plain VALUES (1), (2);' \
		'CREATE TABLE versioned (i INT) WITH SYSTEM VERSIONING;' \
		'INSERT INTO versioned VALUES (1), (2), (3);' 'DELETE FROM versioned WHERE i = 3;' \
		'CREATE SEQUENCE seq;' 'CREATE VIEW v AS SELECT i FROM plain;' |
		gzip >"$D/kinds-2024-03-01.sql.gz"
	zcat "$D/kinds-2024-03-01.sql.gz" | mariadb_admin oracle
	want_tables=$(mariadb_admin oracle -N -B -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='kinds' AND TABLE_TYPE <> 'VIEW'")
	want_rows=$(mariadb_admin oracle -N -B -e "SELECT (SELECT COUNT(*) FROM kinds.plain) + (SELECT COUNT(*) FROM kinds.versioned) + (SELECT COUNT(*) FROM kinds.seq)")
	assert_equal "$want_tables $want_rows" "3 5"
	run --separate-stderr dump-restore up --root "$R" --progress never --format json "$D/kinds-2024-03-01.sql.gz"
	assert_success
	run -0 python3 -c 'import json,sys; r=json.loads(sys.argv[1])[0]; print(r["tables"], r["rows"])' "$output"
	assert_output "$want_tables $want_rows"
}

@test "dump-restore: a linked dump is shown by its own name, which says its world and time, not by its target's" {
	cp "$D/at/old1-2024-03-01.sql.gz" "$D/links/ok-2024-03-01.sql.gz"
	ln -sf ok-2024-03-01.sql.gz "$D/links/new-2024-03-05.sql.gz"
	run --separate-stderr dump-restore plan --format csv "$D/links"
	assert_success
	assert_line --index 1 "new,$D/links/new-2024-03-05.sql.gz,2024-03-05 00:00:00+00:00,$(stat -L -c %s "$D/links/new-2024-03-05.sql.gz")"
	run --separate-stderr dump-restore up --root "$R" --progress never "$D/links/new-2024-03-05.sql.gz"
	assert_success
	run -0 dump-restore status --root "$R" --format csv
	assert_line --index 1 --regexp "^new,running,[0-9]+,[^,]*,$D/links/new-2024-03-05.sql.gz,2024-03-05 "
	# Kept by a second up (the same link, the same file behind it).
	run -0 dump-restore up --root "$R" --progress never --format csv "$D/links/new-2024-03-05.sql.gz"
	assert_line --index 1 --regexp '^new,kept,'
}

@test "dump-restore: --help and the man page's up synopsis list the same options" {
	run -0 dump-restore --help
	help=$(sed -n '/dump-restore up /,/dump-restore status/p' <<<"$output" |
		grep -o -- '--[a-z-]*' | sort -u)
	man=$(sed -n '/^\.Cm up$/,/^\.Nm$/p' "$DBOPS_TOP/man/dump-restore.1" |
		sed -n 's/^\.Op Fl -\{0,1\}\([a-z-]*\).*/--\1/p' | sed 's/^--j$/--jobs/' | sort -u)
	assert_equal "$man" "$help"
	for o in --server-bindir --progress --format --strict --bind --share --definer; do
		grep -qx -- "$o" <<<"$help" || fail "$o missing from up's synopsis"
	done
}

@test "world-query: a stopped world says its server does not answer; another user's worlds.cnf names --share" {
	run -0 dump-restore up --root "$R" --progress never "$D/at/old1-2024-03-01.sql.gz"
	pid=$(sed -n 's/^pid=//p' "$R/old1/instance.state")
	kill "$pid"
	for _ in $(seq 100); do process_gone "$pid" && break; sleep 0.1; done
	run --separate-stderr world-query --inventory "$R/worlds.cnf" 'SELECT 1'
	assert_failure 1
	# (115 is EINPROGRESS, the client's non-blocking connect's errno.)
	assert_regex "${stderr_lines[0]}" "^world-query: error: world \"old1\": Can't connect to server on '127\\.0\\.0\\.1' \\([0-9]+\\): nothing answers there; is the world's server stopped\\? \\(dump-restore status\\)\$"
	run -0 dump-restore status --root "$R" --format csv
	assert_line --index 1 --regexp '^old1,stopped,'
	# An inventory of another user's (0600 root): the hint names --share.
	run --separate-stderr runuser -u nobody -- "$DBOPS_BUILD/bin/world-query" --inventory "$R/worlds.cnf" 'SELECT 1'
	assert_failure 1
	assert_equal "$stderr" "world-query: error: could not read inventory \"$R/worlds.cnf\": Permission denied
world-query: hint: it is another user's: ask them to run dump-restore up --share GROUP for a group of yours"
}
