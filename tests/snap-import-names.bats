#!/usr/bin/env bats
# snap-import (issue 15): the original task's spellings, --database
# host:port[/dbname] and sync --data-dir, against the test server's TCP
# port.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/helpers
	start_postgres
}

teardown_file() {
	load lib/helpers
	stop_servers
}

setup() {
	load lib/helpers
	W=$(mktemp -d "$DBOPS_SERVER_ROOT/work.XXXXXX")
	chmod 0755 "$W"
	T=n$BATS_TEST_NUMBER
}

sql() { psql -AtX -v ON_ERROR_STOP=1 -c "$1"; }

@test "snap-import names: --database host:port FILE... imports over TCP" {
	printf 'id,name\n1,a\n2,b\n' >"$W/a.csv"
	run --separate-stderr snap-import --database "127.0.0.1:$PGPORT" -t "$T" "$W/a.csv"
	assert_success
	assert_output --regexp "^imported $W/a.csv: 2 rows"
	assert_equal "$(sql "SELECT string_agg(name, ',' ORDER BY id) FROM $T")" "a,b"
}

@test "snap-import names: --database host:port/dbname names the database, whatever PGDATABASE says" {
	sql "CREATE DATABASE names_db"
	printf 'id,name\n1,a\n' >"$W/a.csv"
	PGDATABASE=nosuchdb run --separate-stderr snap-import --database "127.0.0.1:$PGPORT/names_db" -t "$T" "$W/a.csv"
	assert_success
	assert_equal "$(psql -AtX -d names_db -c "SELECT name FROM $T")" "a"
	sql "DROP DATABASE names_db"
}

@test "snap-import names: host:port without a database, and none in PGDATABASE, names the cure" {
	printf 'id,name\n1,a\n' >"$W/a.csv"
	sql "DROP ROLE IF EXISTS names_u; CREATE ROLE names_u LOGIN"
	run --separate-stderr env -u PGDATABASE PGUSER=names_u snap-import --database "127.0.0.1:$PGPORT" -t "$T" "$W/a.csv"
	assert_failure
	assert_output ""
	[[ "$stderr" == *'could not import "'"$W"'/a.csv": could not connect to the database: '*'database "names_u" does not exist; name the database as HOST:PORT/DBNAME' ]] ||
		fail "unexpected: $stderr"
	sql "DROP ROLE names_u"
}

@test "snap-import names: sync --database host:port --data-dir DIR, the task's spelling" {
	mkdir -m 0755 "$W/in"
	printf 'id,name\n1,a\n' >"$W/in/s1.csv"
	run --separate-stderr snap-import sync --database "127.0.0.1:$PGPORT" --data-dir "$W/in" -t "$T" --once
	assert_success
	assert_equal "$(sql "SELECT count(*) FROM $T")" 1
	# --data is now ambiguous, never --database by abbreviation.
	run --separate-stderr snap-import sync --database "127.0.0.1:$PGPORT" --data "$W/in" -t "$T" --once
	assert_failure
	[[ "$stderr" == *'option "--data" is ambiguous'* ]] || fail "unexpected: $stderr"
}
