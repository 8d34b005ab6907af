#!/usr/bin/env bats
# dump-restore on the dumps users have: plain one-database dumps (no
# --databases, no USE), --skip-comments and --compact dumps, scripts written
# by hand, CALLs in a dump. Dumps made by the real mariadb-dump from a real
# server; the oracle is the real client, `zcat DUMP | mariadb`, into a
# separate server, compared table by table with CHECKSUM TABLE.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/helpers
	dbops_server_root
	export TZ=UTC
	start_mariadb src
	start_mariadb oracle
	mariadb_admin src -e "
		CREATE DATABASE game CHARACTER SET utf8mb4;
		USE game;
		CREATE TABLE players (id INT PRIMARY KEY, name VARCHAR(64),
			pic BLOB, gold DECIMAL(20,4));
		INSERT INTO players VALUES (1, 'Zoë 🐉 d''x', 0x00275c1a0a, 1234.5678),
			(2, 'a;b /* c */ -- d', NULL, NULL), (3, '山田', '', 0);
		CREATE TABLE scores (player INT, points INT, KEY (player));
		INSERT INTO scores SELECT seq % 3 + 1, seq * 7 FROM seq_1_to_500;
		DELIMITER //
		CREATE PROCEDURE top() BEGIN SELECT 1; SELECT 2; END //
		DELIMITER ;"
	export D=$DBOPS_SERVER_ROOT/dumps
	mkdir -p "$D"
}

teardown_file() {
	load lib/helpers
	for root in "$DBOPS_SERVER_ROOT"/dumps-root*; do
		[ -d "$root" ] && dump-restore down --root "$root" 2>/dev/null
	done
	stop_servers
}

setup() {
	load lib/helpers
	export TZ=UTC
	R=$DBOPS_SERVER_ROOT/dumps-root$BATS_TEST_NUMBER
}

# dump NAME [mariadb-dump options]: $D/NAME-2024-03-01.sql.gz of the source.
dump() {
	local name=$1
	shift
	mariadb-dump --no-defaults --default-character-set=utf8mb4 \
		-S "$(server_info src socket)" -u "$(server_info src admin_user)" \
		--routines "$@" | gzip >"$D/$name-2024-03-01.sql.gz"
}

# oracle_load DUMP [DB]: the oracle server wiped, then zcat DUMP | mariadb
# [DB] (DB made first), as a user would load it.
oracle_load() {
	mariadb_admin oracle -e "DROP DATABASE IF EXISTS game; DROP DATABASE IF EXISTS shop"
	[ -n "${2:-}" ] && mariadb_admin oracle -e "CREATE DATABASE \`$2\`"
	zcat "$1" | mariadb_admin oracle ${2:+"$2"}
}

# same_as_oracle ROOT WORLD DB: every table of DB in the oracle has the same
# rows and checksum in the world, and the world has no other table.
same_as_oracle() {
	local t want got
	want=$(mariadb_admin oracle -N -B -e "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA='$3' ORDER BY 1")
	got=$(mariadb --defaults-extra-file="$1/worlds.cnf" --defaults-group-suffix="_$2" -N -B \
		-e "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA='$3' ORDER BY 1")
	assert_equal "$got" "$want"
	assert [ -n "$want" ]
	for t in $want; do
		want=$(mariadb_admin oracle -N -B -e "CHECKSUM TABLE \`$3\`.\`$t\` EXTENDED" | cut -f2)
		got=$(mariadb --defaults-extra-file="$1/worlds.cnf" --defaults-group-suffix="_$2" -N -B \
			-e "CHECKSUM TABLE \`$3\`.\`$t\` EXTENDED" | cut -f2)
		assert_equal "$3.$t $got" "$3.$t $want"
	done
}

@test "dump-restore: a plain one-database dump (no --databases, no USE) restores into game" {
	dump plain game
	run zgrep -c -E '^(USE|CREATE DATABASE)' "$D/plain-2024-03-01.sql.gz"
	assert_output 0
	run --separate-stderr dump-restore up --root "$R" --progress never --format csv "$D/plain-2024-03-01.sql.gz"
	assert_success
	assert_equal "$stderr" ""
	assert_line --index 1 --regexp '^plain,running,'
	oracle_load "$D/plain-2024-03-01.sql.gz" game
	same_as_oracle "$R" plain game
	# worlds.cnf names the one database: the analyst lands in it.
	run mariadb --defaults-extra-file="$R/worlds.cnf" --defaults-group-suffix=_plain -N -B -e 'SELECT DATABASE(), COUNT(*) FROM players'
	assert_output "game	3"
}

@test "dump-restore: --database NAME chooses the database of a plain dump; a dump with USE keeps its own" {
	dump plain2 game
	dump named --databases game
	mkdir -p "$R.src"
	cp "$D/plain2-2024-03-01.sql.gz" "$D/named-2024-03-01.sql.gz" "$R.src/"
	run --separate-stderr dump-restore up --root "$R" --progress never --database shop "$R.src"
	assert_success
	oracle_load "$D/plain2-2024-03-01.sql.gz" shop
	same_as_oracle "$R" plain2 shop
	oracle_load "$D/named-2024-03-01.sql.gz"
	same_as_oracle "$R" named game
	run mariadb --defaults-extra-file="$R/worlds.cnf" --defaults-group-suffix=_named -N -B -e 'SHOW DATABASES LIKE "shop"'
	assert_output ""
	run --separate-stderr dump-restore up --database '' "$R.src"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'dump-restore: error: invalid value "" for --database: a database name has 1 to 64 characters'
}

@test "dump-restore: --skip-comments and --compact dumps restore (no trailer to ask for)" {
	dump skipcom --skip-comments --databases game
	dump compact --compact --databases game
	run zgrep -c -- '-- Dump completed' "$D/skipcom-2024-03-01.sql.gz"
	assert_output 0
	mkdir -p "$R.src"
	cp "$D/skipcom-2024-03-01.sql.gz" "$D/compact-2024-03-01.sql.gz" "$R.src/"
	run --separate-stderr dump-restore up --root "$R" --progress never --format csv "$R.src"
	assert_success
	assert_equal "$stderr" ""
	oracle_load "$D/skipcom-2024-03-01.sql.gz"
	same_as_oracle "$R" skipcom game
	oracle_load "$D/compact-2024-03-01.sql.gz"
	same_as_oracle "$R" compact game
}

@test "dump-restore: a script written by hand, without trailer, restores; one whose last statement is cut is refused" {
	printf '%s\n' 'CREATE DATABASE hand;' 'USE hand;' 'CREATE TABLE t (i INT);' \
		'INSERT INTO t VALUES (1),(2);' | gzip >"$D/hand-2024-03-01.sql.gz"
	printf '%s\n' 'CREATE DATABASE cut;' 'USE cut;' 'CREATE TABLE t (i INT);' \
		'INSERT INTO t VALUES (1),(2)' | gzip >"$D/cut-2024-03-01.sql.gz"
	run --separate-stderr dump-restore up --root "$R" --progress never "$D/hand-2024-03-01.sql.gz"
	assert_success
	run mariadb --defaults-extra-file="$R/worlds.cnf" --defaults-group-suffix=_hand -N -B -e 'SELECT SUM(i) FROM hand.t'
	assert_output 3
	run --separate-stderr dump-restore up --root "$R" --progress never "$D/cut-2024-03-01.sql.gz"
	assert_failure 1
	assert_equal "$stderr" "dump-restore: error: world \"cut\" from \"$D/cut-2024-03-01.sql.gz\": the dump is cut short: its last statement, at line 4, lacks its delimiter (--allow-incomplete runs it)"
	# The client runs it; so does --allow-incomplete.
	run --separate-stderr dump-restore up --root "$R" --progress never --allow-incomplete "$D/cut-2024-03-01.sql.gz"
	assert_success
	run mariadb --defaults-extra-file="$R/worlds.cnf" --defaults-group-suffix=_cut -N -B -e 'SELECT SUM(i) FROM cut.t'
	assert_output 3
}

@test "dump-restore: a mariadb-dump without its trailer is cut short; --allow-incomplete loads it" {
	dump trail --databases game
	zcat "$D/trail-2024-03-01.sql.gz" | grep -a -v '^-- Dump completed' | gzip >"$D/notrail-2024-03-01.sql.gz"
	run --separate-stderr dump-restore up --root "$R" --progress never "$D/notrail-2024-03-01.sql.gz"
	assert_failure 1
	assert_equal "$stderr" "dump-restore: error: world \"notrail\" from \"$D/notrail-2024-03-01.sql.gz\": the dump is cut short: it has mysqldump's header but lacks its \"-- Dump completed\" last line (--allow-incomplete accepts it)"
	run --separate-stderr dump-restore up --root "$R" --progress never --allow-incomplete --format csv "$D/notrail-2024-03-01.sql.gz"
	assert_success
	assert_line --index 1 --regexp '^notrail,running,'
}

@test "dump-restore: CALLs in a dump: every result read, the next statement runs" {
	printf '%s\n' 'CREATE DATABASE c;' 'USE c;' 'CREATE PROCEDURE p() SELECT 1;' \
		'DELIMITER //' 'CREATE PROCEDURE two() BEGIN SELECT 1; SELECT 2, 3; END //' \
		'DELIMITER ;' 'CALL p();' 'CALL two();' 'SELECT 4;' 'CREATE TABLE t (i INT);' \
		'INSERT INTO t VALUES (7);' | gzip >"$D/call-2024-03-01.sql.gz"
	zcat "$D/call-2024-03-01.sql.gz" | mariadb_admin oracle >/dev/null
	run --separate-stderr dump-restore up --root "$R" --progress never "$D/call-2024-03-01.sql.gz"
	assert_success
	assert_equal "$stderr" ""
	run mariadb --defaults-extra-file="$R/worlds.cnf" --defaults-group-suffix=_call -N -B -e 'SELECT i FROM c.t'
	assert_output 7
	mariadb_admin oracle -e "DROP DATABASE c"
}

@test "dump-restore: a CALL that fails after its first result: the error names the CALL" {
	printf '%s\n' 'CREATE DATABASE c;' 'USE c;' 'DELIMITER //' \
		'CREATE PROCEDURE bad() BEGIN SELECT 1; SELECT * FROM nowhere; END //' \
		'DELIMITER ;' 'CALL bad();' 'CREATE TABLE t (i INT);' |
		gzip >"$D/callbad-2024-03-01.sql.gz"
	run --separate-stderr dump-restore up --root "$R" --progress never "$D/callbad-2024-03-01.sql.gz"
	assert_failure 1
	assert_equal "$stderr" "dump-restore: error: world \"callbad\" from \"$D/callbad-2024-03-01.sql.gz\": line 6: Table 'c.nowhere' doesn't exist (statement: \"CALL bad()\")"
}
