#!/usr/bin/env bats
# world-query against three real MariaDB servers started by the test
# helpers (not by dump-restore, so the two tools are tested apart), with an
# inventory written here; and once end to end through dump-restore's.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/helpers
	export INV=$BATS_FILE_TMPDIR/worlds.cnf
	: >"$INV"
	chmod 0600 "$INV"
	local n=0
	for w in world1 world2 world10; do
		n=$((n + 1))
		start_mariadb "$w"
		mariadb_admin "$w" -e "
			CREATE DATABASE game;
			CREATE TABLE game.players (id INT PRIMARY KEY, name VARCHAR(50),
				score INT, avatar VARBINARY(8), note TEXT);
			INSERT INTO game.players VALUES
				(1, 'ann of $w', 10 * $n, X'00FF27', NULL),
				(2, 'bob \"the\" builder', 20 * $n, NULL, 'a;b'),
				(3, 'émile', NULL, X'41', 'line1\nline2');
			CREATE TABLE game.extra (a INT, b INT);
			CREATE USER 'analyst'@'127.0.0.1' IDENTIFIED BY 'secret $w';
			GRANT ALL ON game.* TO 'analyst'@'127.0.0.1';"
		printf '[client_%s]\nhost=127.0.0.1\nport=%s\nuser=analyst\npassword="secret %s"\ndatabase=game\n\n' \
			"$w" "$(server_info "$w" port)" "$w" >>"$INV"
	done
	# world10's table has another shape.
	mariadb_admin world10 -e "ALTER TABLE game.extra ADD COLUMN c INT"
}

teardown_file() {
	load lib/helpers
	stop_servers
}

setup() {
	load lib/helpers
}

wq() { world-query --inventory "$INV" "$@"; }

@test "world-query: --help, --version and usage errors" {
	run --separate-stderr world-query --help
	assert_success
	assert_usage_screen
	run world-query --version
	assert_output "world-query $DBOPS_VERSION"
	run --separate-stderr wq
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "world-query: error: no SQL statement given"
	run --separate-stderr wq SELECT 1
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "world-query: error: give the SQL statement as one argument (quote it)"
	run --separate-stderr world-query --root /x --inventory "$INV" "SELECT 1"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "world-query: error: --root and --inventory cannot be used together"
	run --separate-stderr wq --list --shell world1
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "world-query: error: --list and --shell cannot be used together"
	run --separate-stderr wq --list "SELECT 1"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "world-query: error: --list and --shell take no SQL"
	run --separate-stderr world-query -zq --list
	assert_failure 1
	assert_equal "$stderr" 'world-query: error: unknown option "-z"
Try "world-query --help" for more information.'
	run --separate-stderr wq --timeout
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'world-query: error: option "--timeout" needs a value'
}

@test "world-query: --timeout takes a duration from 1s to 1d, --format one of four" {
	for bad in 0 500ms 1d1s 2d -5 5x ''; do
		run --separate-stderr wq --timeout "$bad" "SELECT 1"
		assert_failure 1
		assert_equal "$stderr" "world-query: error: invalid value \"$bad\" for --timeout: use a duration from 1s to 1d, such as 30 (seconds), 30s, 5m or 1h
Try \"world-query --help\" for more information."
		assert_equal "$output" ""
	done
	for good in 1 1s 90 1.5 2m 1h30m 1d; do
		run --separate-stderr wq --timeout "$good" --format csv "SELECT 1 AS one"
		assert_success
		assert_line --index 1 "world1,1"
	done
	run --separate-stderr wq --format xml "SELECT 1"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'world-query: error: invalid value "xml" for --format: use table, csv, tsv or json'
}

@test "world-query: a missing or empty inventory and an unknown world are clear errors" {
	run --separate-stderr world-query --inventory "$BATS_TEST_TMPDIR/none.cnf" "SELECT 1"
	assert_failure 1
	assert_equal "$stderr" "world-query: error: could not read inventory \"$BATS_TEST_TMPDIR/none.cnf\": No such file or directory"
	printf '[client]\nuser=x\n' >"$BATS_TEST_TMPDIR/empty.cnf"
	run --separate-stderr world-query --inventory "$BATS_TEST_TMPDIR/empty.cnf" "SELECT 1"
	assert_failure 1
	assert_equal "$stderr" "world-query: error: inventory \"$BATS_TEST_TMPDIR/empty.cnf\" has no world: no [client_<world>] group"
	run --separate-stderr wq -w world7 "SELECT 1"
	assert_failure 1
	assert_equal "$stderr" "world-query: error: no world \"world7\" in inventory \"$INV\""
	run --separate-stderr wq -w 'eu*' "SELECT 1"
	assert_equal "$stderr" "world-query: error: no world matches \"eu*\" in inventory \"$INV\""
	run --separate-stderr world-query --root "$BATS_TEST_TMPDIR/noroot" "SELECT 1"
	assert_equal "${stderr_lines[1]}" "world-query: hint: bring worlds up with dump-restore up, or name an inventory with --inventory"
}

@test "world-query: the merged table, worlds in natural order, NULL shown as NULL" {
	run --separate-stderr wq "SELECT id, score FROM players WHERE id < 3 ORDER BY id"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$output" "+---------+----+-------+
| world   | id | score |
+---------+----+-------+
| world1  |  1 |    10 |
| world1  |  2 |    20 |
| world2  |  1 |    20 |
| world2  |  2 |    40 |
| world10 |  1 |    30 |
| world10 |  2 |    60 |
+---------+----+-------+"
	run wq -w 'world1*' "SELECT score FROM players WHERE id = 3"
	assert_line --index 3 "| world1  |  NULL |"
	assert_line --index 4 "| world10 |  NULL |"
}

@test "world-query: csv and tsv with a header, json with numbers, NULL and binary in hex" {
	run wq -w world1 --format csv "SELECT id, name, avatar, note FROM players ORDER BY id"
	assert_success
	assert_equal "$output" 'world,id,name,avatar,note
world1,1,ann of world1,'"$(printf '\000\377'"'")"',
world1,2,"bob ""the"" builder",,a;b
world1,3,émile,A,"line1
line2"'
	run wq -w world2 --format tsv "SELECT id, score, note FROM players ORDER BY id"
	assert_equal "$output" "$(printf 'world\tid\tscore\tnote\nworld2\t1\t20\t\\N\nworld2\t2\t40\ta;b\nworld2\t3\t\\N\tline1\\nline2')"
	run wq -w world10 --format json "SELECT id, name, score, avatar FROM players ORDER BY id"
	assert_equal "$output" '[
{"world":"world10","id":1,"name":"ann of world10","score":30,"avatar":"0x00ff27"},
{"world":"world10","id":2,"name":"bob \"the\" builder","score":60,"avatar":null},
{"world":"world10","id":3,"name":"émile","score":null,"avatar":"0x41"}
]'
	run wq -w world1 "SELECT avatar FROM players WHERE id = 1"
	assert_line --index 3 "| world1 | 0x00ff27 |"
}

@test "world-query: a world that rejects the statement is reported; the others print" {
	mariadb_admin world2 -e "CREATE TABLE game.only_here (x INT); INSERT INTO game.only_here VALUES (5)"
	run --separate-stderr wq --format csv "SELECT x FROM only_here"
	assert_failure 1
	assert_equal "$output" "world,x
world2,5"
	assert_equal "${stderr_lines[0]}" "world-query: error: world \"world1\": Table 'game.only_here' doesn't exist"
	assert_equal "${stderr_lines[1]}" "world-query: error: world \"world10\": Table 'game.only_here' doesn't exist"
}

@test "world-query: a server's multi-line error is reported on one line" {
	run --separate-stderr wq -w world1 $'SELECT )\nFROM players'
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "${#stderr_lines[@]}" 2
	assert_regex "${stderr_lines[0]}" "^world-query: error: world \"world1\": You have an error in your SQL syntax; .* near '\) FROM players' at line 1$"
	assert_equal "${stderr_lines[1]}" "world-query: error: no world answered"
}

@test "world-query: worlds whose columns differ are errors, not merged" {
	run --separate-stderr wq --format csv "SELECT * FROM extra"
	assert_failure 1
	assert_equal "$output" "world,a,b"
	assert_equal "$stderr" "world-query: error: world \"world10\": its columns (a, b, c) differ from world \"world1\"'s (a, b)"
}

@test "world-query: a hanging world times out alone" {
	pid=$(sed -n 's/^pid=//p' "$(dirname "$(server_info world2 socket)")/instance.state")
	kill -STOP "$pid"
	run --separate-stderr wq --timeout 2 --format csv "SELECT COUNT(*) AS n FROM players"
	kill -CONT "$pid"
	assert_failure 1
	assert_equal "$output" "world,n
world1,3
world10,3"
	assert_regex "$stderr" "^world-query: error: world \"world2\": no answer within 2 s: "
	# Connector/C waits whole seconds: a part of one counts as a whole one.
	kill -STOP "$pid"
	run --separate-stderr wq --timeout 1500ms --format csv "SELECT COUNT(*) AS n FROM players"
	kill -CONT "$pid"
	assert_failure 1
	assert_regex "$stderr" "^world-query: error: world \"world2\": no answer within 2 s: "
}

@test "world-query: --reduce runs SQL over the merged rows" {
	run --separate-stderr wq --format csv --reduce "SELECT count(DISTINCT world) AS worlds, sum(score) AS total FROM rows" "SELECT score FROM players"
	assert_success
	assert_equal "$output" "worlds,total
3,180"
	run --separate-stderr wq --reduce "SELECT nosuch FROM rows" "SELECT score FROM players"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "world-query: error: --reduce: no such column: nosuch"
}

@test "world-query: a statement without rows prints the affected rows per world" {
	run --separate-stderr wq --write --format csv "UPDATE players SET note = note WHERE id <= 2"
	assert_success
	assert_equal "$output" "world,affected_rows
world1,0
world2,0
world10,0"
	run wq --write --format csv "UPDATE extra SET a = 1"
	assert_line --index 1 "world1,0"
}

@test "world-query: --list says whether each world answers" {
	run --separate-stderr wq --list --format csv
	assert_success
	assert_line --index 0 "world,host,port,socket,database,answers"
	assert_line --index 1 --regexp '^world1,127\.0\.0\.1,[0-9]+,,game,yes$'
	assert_line --index 3 --regexp '^world10,127\.0\.0\.1,[0-9]+,,game,yes$'
	pid=$(sed -n 's/^pid=//p' "$(dirname "$(server_info world10 socket)")/instance.state")
	kill -STOP "$pid"
	run --separate-stderr wq --list --timeout 1 --format csv
	kill -CONT "$pid"
	assert_failure 1
	assert_line --index 3 --regexp '^world10,.*,no$'
}

@test "world-query: --shell starts the mariadb client on that world" {
	run --separate-stderr world-query --inventory "$INV" --shell world2 <<<"SELECT name FROM players WHERE id = 1"
	assert_success
	assert_equal "$output" "name
ann of world2"
	run --separate-stderr world-query --inventory "$INV" --shell world5
	assert_failure 1
	assert_equal "$stderr" "world-query: error: no world \"world5\" in inventory \"$INV\""
}

@test "world-query: end to end on the worlds dump-restore brought up" {
	export TZ=UTC
	dumps=$BATS_TEST_TMPDIR/dumps
	root=$DBOPS_SERVER_ROOT/e2e
	"$DBOPS_TOP/tests/data/gen-worlds.sh" --worlds 2 --rows 50 --build "$DBOPS_BUILD" "$dumps" >/dev/null 2>&1
	dump-restore up --root "$root" --progress never --at '2024-03-01 11:59:00' "$dumps" >/dev/null
	run --separate-stderr world-query --root "$root" --format csv "SELECT COUNT(*) AS players FROM players"
	dump-restore down --root "$root" -q
	assert_success
	assert_equal "$output" "world,players
world1,50
world2,50"
}

@test "world-query: --inventory and --root in a directory with a space, quotes and a dollar" {
	dir=$(odd_dir wq)
	cp "$INV" "$dir/worlds.cnf"
	run --separate-stderr world-query --inventory "$dir/worlds.cnf" -w 'world1*' --format csv "SELECT COUNT(*) AS n FROM players"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$output" "world,n
world1,3
world10,3"
	run --separate-stderr world-query --root "$dir" --format csv "SELECT SUM(score) AS total FROM players"
	assert_success
	assert_equal "$output" "world,total
world1,30
world2,60
world10,90"
	run --separate-stderr world-query --root "$dir" --list --format csv
	assert_success
	assert_line --index 2 --regexp '^world2,127\.0\.0\.1,[0-9]+,,game,yes$'
	run --separate-stderr world-query --root "$dir" --shell world10 <<<"SELECT name FROM players WHERE id = 1"
	assert_success
	assert_equal "$output" "name
ann of world10"
	run --separate-stderr world-query --root "$dir" -w world7 "SELECT 1"
	assert_failure 1
	assert_equal "$stderr" "world-query: error: no world \"world7\" in inventory \"$dir/worlds.cnf\""
	rm "$dir/worlds.cnf"
	run --separate-stderr world-query --root "$dir" "SELECT 1"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "world-query: error: could not read inventory \"$dir/worlds.cnf\": No such file or directory"
}

@test "world-query: end to end on dump-restore's worlds under a path with a space, quotes and a dollar" {
	export TZ=UTC
	dumps=$BATS_TEST_TMPDIR/dumps
	root=$(odd_dir wq-e2e)/worlds
	"$DBOPS_TOP/tests/data/gen-worlds.sh" --worlds 2 --rows 50 --build "$DBOPS_BUILD" "$dumps" >/dev/null 2>&1
	dump-restore up --root "$root" --progress never --at '2024-03-01 11:59:00' "$dumps" >/dev/null
	run --separate-stderr world-query --root "$root" --format csv "SELECT COUNT(*) AS players FROM players"
	query_status=$status query_output=$output query_stderr=$stderr
	run --separate-stderr world-query --root "$root" --list --format csv
	list_status=$status list_output=$output
	run --separate-stderr world-query --root "$root" --shell world2 <<<"SELECT COUNT(*) AS players FROM players"
	dump-restore down --root "$root" -q
	assert_success
	assert_equal "$output" "players
50"
	assert_equal "$query_status" 0
	assert_equal "$query_stderr" ""
	assert_equal "$query_output" "world,players
world1,50
world2,50"
	assert_equal "$list_status" 0
	assert_equal "$(sed -n 1p <<<"$list_output")" "world,host,port,socket,database,answers"
	assert_regex "$(sed -n 3p <<<"$list_output")" '^world2,127\.0\.0\.1,[0-9]+,,[^,]+,yes$'
}
