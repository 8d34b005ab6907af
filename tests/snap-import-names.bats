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

@test "snap-import names: --table-from-name snapshot_%Y%m%d.csv loads into snapshot, each row with its file's date" {
	local t=${T}snap
	mkdir -m 0755 "$W/d"
	printf 'id,v\n1,a\n2,b\n' >"$W/d/${t}_20230101.csv"
	printf 'id,v\n3,c\n' | gzip >"$W/d/${t}_20240229.csv.gz"
	printf 'id,v\n4,d\n' >"$W/d/other.csv"
	run --separate-stderr snap-import --table-from-name "${t}_%Y%m%d.csv" "$W/d/${t}_20230101.csv" "$W/d/${t}_20240229.csv.gz" "$W/d/other.csv"
	assert_failure
	assert_line --index 0 --regexp "^imported $W/d/${t}_20230101.csv: 2 rows"
	assert_line --index 1 --regexp "^imported $W/d/${t}_20240229.csv.gz: 1 rows"
	assert_equal "$stderr" "snap-import: error: could not import \"$W/d/other.csv\": its name does not match --table-from-name \"${t}_%Y%m%d.csv\""
	assert_equal "$(sql "SELECT string_agg(id || ' ' || v || ' ' || snapshot_date, ', ' ORDER BY id) FROM $t")" "1 a 2023-01-01, 2 b 2023-01-01, 3 c 2024-02-29"
	assert_equal "$(sql "SELECT data_type FROM information_schema.columns WHERE table_name = '$t' AND column_name = 'snapshot_date'")" date
	# Rows inserted by hand need not give it.
	sql "INSERT INTO $t (id, v, snapshot_id) VALUES (9, 'z', 0)"
	assert_equal "$(sql "SELECT snapshot_date IS NULL FROM $t WHERE id = 9")" t
	# A table made without it gets the column, older rows NULL.
	sql "CREATE TABLE ${t}old (id int, snapshot_id bigint); INSERT INTO ${t}old VALUES (0, 0)"
	printf 'id\n5\n' >"$W/d/${t}old_20230105.csv"
	run --separate-stderr snap-import --table-from-name '%t_%Y%m%d.csv' "$W/d/${t}old_20230105.csv"
	assert_success
	assert_equal "$(sql "SELECT string_agg(id || ' ' || coalesce(snapshot_date::text, '-'), ', ' ORDER BY id) FROM ${t}old")" "0 -, 5 2023-01-05"
	# plan says which table and which date.
	run --separate-stderr snap-import plan --table-from-name "${t}_%Y%m%d.csv" "$W/d/${t}_20230101.csv"
	assert_success
	assert_line --index 0 "CREATE TABLE \"$t\" ("
	assert_line "-- and snapshot_date date: 2023-01-01 for every row, from the file's name"
}

@test "snap-import names: --table-from-name %t routes each file to its table; a header column snapshot_date is refused" {
	printf 'id\n1\n' >"$W/${T}a.csv"
	printf 'id\n2\n' >"$W/${T}b.csv"
	printf 'id\n3\n' >"$W/${T}a_again.csv"
	run --separate-stderr snap-import --table-from-name '%t.csv' "$W/${T}a.csv" "$W/${T}b.csv"
	assert_success
	assert_equal "$(sql "SELECT id FROM ${T}a")" 1
	assert_equal "$(sql "SELECT id FROM ${T}b")" 2
	# No date in the pattern: no snapshot_date column.
	assert_equal "$(sql "SELECT count(*) FROM information_schema.columns WHERE table_name = '${T}a' AND column_name = 'snapshot_date'")" 0
	printf 'id,snapshot_date\n1,2020-01-01\n' >"$W/${T}c_20240101.csv"
	run --separate-stderr snap-import --table-from-name '%t_%Y%m%d.csv' "$W/${T}c_20240101.csv"
	assert_failure
	assert_equal "$stderr" "snap-import: error: could not import \"$W/${T}c_20240101.csv\": the header has a column \"snapshot_date\", which --table-from-name sets from the file's name"
	assert_equal "$(sql "SELECT to_regclass('${T}c') IS NULL")" t
	# snapshot_id too, in a new table: the tool's message, not the
	# server's "specified more than once" (S3-11).
	printf 'id,snapshot_id
1,2
' >"$W/${T}d.csv"
	run --separate-stderr snap-import --table-from-name '%t.csv' "$W/${T}d.csv"
	assert_failure
	assert_equal "$stderr" "snap-import: error: could not import \"$W/${T}d.csv\": the header has a column \"snapshot_id\", which snap-import sets itself"
	assert_equal "$(sql "SELECT to_regclass('${T}d') IS NULL")" t
}

@test "snap-import names: --table-from-name mistakes are usage errors naming them" {
	printf 'id\n1\n' >"$W/a.csv"
	check() {
		local want=$1
		shift
		run --separate-stderr snap-import "$@"
		assert_failure
		assert_output ""
		assert_equal "$stderr" "snap-import: error: $want
Try \"snap-import --help\" for more information."
	}
	check 'invalid value "s_%Y%m.csv" for --table-from-name: %Y, %m and %d go together: the date needs all three' --table-from-name 's_%Y%m.csv' "$W/a.csv"
	check 'invalid value "s_%H.csv" for --table-from-name: %H is not a conversion: use %Y, %m, %d, %t or %%' --table-from-name 's_%H.csv' "$W/a.csv"
	check 'invalid value "%Y%m%d.csv" for --table-from-name: no table: put %t where its name is, or a name before the date' --table-from-name '%Y%m%d.csv' "$W/a.csv"
	check '-t and --table-from-name cannot be used together' -t x --table-from-name '%t.csv' "$W/a.csv"
	check '--table-from-name belongs to import and plan: sync loads into one table (-t)' sync -D "$W" --table-from-name '%t.csv'
}

@test "snap-import names: a table name over 63 bytes is refused, not cut to 63 by PostgreSQL" {
	long=$(printf 'l%.0s' {1..64})
	printf 'id\n1\n' >"$W/a.csv"
	run --separate-stderr snap-import -t "$long" "$W/a.csv"
	assert_failure
	[[ "$stderr" == *'could not import "'"$W"'/a.csv": invalid table name "'"$long"'": "'"$long"'" is longer than 63 bytes, which PostgreSQL would cut'* ]] ||
		fail "unexpected: $stderr"
	# Two files whose names share their first 63 bytes: never one table.
	printf 'id\n2\n' >"$W/${long}x_20240301.csv"
	run --separate-stderr snap-import --table-from-name '%t_%Y%m%d.csv' "$W/${long}x_20240301.csv"
	assert_failure
	[[ "$stderr" == *'is longer than 63 bytes, which PostgreSQL would cut'* ]] ||
		fail "unexpected: $stderr"
	assert_equal "$(sql "SELECT count(*) FROM pg_class WHERE relname LIKE 'lllll%'")" 0
}
