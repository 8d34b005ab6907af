#!/usr/bin/env bats
# world-query's time limit and write guard against a real MariaDB server: a
# statement past --timeout is cancelled on the server (KILL QUERY), and what
# the server did is what world-query says; without --write nothing changes
# data. The oracle is the real client on the server itself.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/helpers
	export INV=$BATS_FILE_TMPDIR/worlds.cnf
	: >"$INV"
	chmod 0600 "$INV"
	start_mariadb world1
	mariadb_admin world1 -e "
		CREATE DATABASE game;
		CREATE TABLE game.players (id INT PRIMARY KEY, level INT);
		INSERT INTO game.players VALUES (1, 1), (2, 1);
		CREATE PROCEDURE game.bump() UPDATE game.players SET level = level + 1;
		CREATE USER 'analyst'@'127.0.0.1' IDENTIFIED BY 'pw';
		GRANT ALL ON game.* TO 'analyst'@'127.0.0.1';"
	printf '[client_world1]\nhost=127.0.0.1\nport=%s\nuser=analyst\npassword=pw\ndatabase=game\n' \
		"$(server_info world1 port)" >"$INV"
}

teardown_file() {
	load lib/helpers
	stop_servers
}

setup() {
	load lib/helpers
	mariadb_admin world1 -e "UPDATE game.players SET level = 1"
}

wq() { world-query --inventory "$INV" "$@"; }

# level ID: the player's level, as the real client reads it on the server.
level() { mariadb_admin world1 -N -B -e "SELECT level FROM game.players WHERE id = $1"; }

# sleeping: the analyst's statements still running on the server.
sleeping() {
	mariadb_admin world1 -N -B -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'analyst' AND COMMAND = 'Query'"
}

@test "world-query: a DML past --timeout is cancelled on the server and did not commit" {
	run --separate-stderr wq --write --timeout 2 "UPDATE players SET level = level + 100 WHERE id = 2 AND SLEEP(5) = 0"
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" 'world-query: error: world "world1": no answer within 2 s: cancelled on the server (KILL QUERY) before it ended: it did not take effect, nothing was committed'
	sleep 4
	# Had it been abandoned only, the server would have committed by now.
	assert_equal "$(level 2)" 1
	assert_equal "$(sleeping)" 0
}

@test "world-query: a SELECT past --timeout does not keep running on the server" {
	run --separate-stderr wq --timeout 1 "SELECT SLEEP(30)"
	assert_failure 1
	assert_equal "$output" ""
	# SLEEP() cut short by the cancel answers 1: an answer dropped.
	assert_equal "${stderr_lines[0]}" 'world-query: error: world "world1": no answer within 1 s: cancelled on the server (KILL QUERY); what it sent after the cancel is dropped (read only: nothing was changed)'
	assert_equal "$(sleeping)" 0
	run --separate-stderr wq --timeout 1 "SELECT COUNT(*) FROM players WHERE SLEEP(1) = 0"
	assert_failure 1
	assert_regex "${stderr_lines[0]}" '^world-query: error: world "world1": no answer within 1 s: cancelled on the server \(KILL QUERY\)'
	assert_equal "$(sleeping)" 0
}

@test "world-query: a statement that ends within --timeout is reported as it is" {
	run --separate-stderr wq --write --timeout 5 --format csv "UPDATE players SET level = level + 1 WHERE id = 1 AND SLEEP(1) = 0"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$output" "world,affected_rows
world1,1"
	assert_equal "$(level 1)" 2
}

@test "world-query: without --write a statement that may change data is refused, on no world" {
	for sql in "UPDATE players SET level = 99" "delete from players" \
		"  /* x */ DROP TABLE players" "INSERT INTO players VALUES (3, 3)" \
		"SET @a = 1" "CREATE TABLE t (i INT)"; do
		run --separate-stderr wq "$sql"
		assert_failure 1
		assert_equal "$output" ""
		assert_equal "${stderr_lines[0]}" "world-query: error: statement \"$sql\" may change data or the schema: not run on any world"
		assert_equal "${stderr_lines[1]}" "world-query: hint: give --write to run it on the 1 world selected"
	done
	assert_equal "$(level 1)" 1
	assert_equal "$(mariadb_admin world1 -N -B -e 'SELECT COUNT(*) FROM game.players')" 2
}

@test "world-query: without --write a read runs in a read-only transaction: a CALL that writes fails" {
	run --separate-stderr wq "CALL bump()"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'world-query: error: world "world1": Cannot execute statement in a READ ONLY transaction (without --write, world-query runs a statement in a read-only transaction)'
	assert_equal "$(level 1)" 1
	run --separate-stderr wq --write "CALL bump()"
	assert_success
	assert_equal "$(level 1)" 2
	run --separate-stderr wq --format csv "  -- a note
		select level from players where id = 1"
	assert_success
	assert_equal "$output" "world,level
world1,2"
	run --separate-stderr wq --list --write
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "world-query: error: --write and --metrics-file belong to a SQL statement"
}

@test "world-query: with --write, a statement that ends after the cancel is a success, with a warning" {
	# SLEEP() cut short returns 1, and DO ends without error: the server
	# finished the statement (a writing one would have committed).
	run --separate-stderr wq --write --timeout 1 --format csv "DO SLEEP(3)"
	assert_success
	assert_equal "$output" "world,affected_rows
world1,0"
	assert_equal "$stderr" 'world-query: warning: world "world1": the statement ended after the time limit, before its cancel reached the server: it took effect'
	# A SELECT whose rows the cancel cut: interrupted, an error.
	run --separate-stderr wq --write --timeout 1 "SELECT SLEEP(3) AS s"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'world-query: error: world "world1": no answer within 1 s: cancelled on the server (KILL QUERY) before it ended: it did not take effect, nothing was committed'
}
