#!/usr/bin/env bats
# dump-restore's worlds.cnf as the real mariadb client reads it (QA LOW 5,
# 12, 13): values quoted by the option-file rules (a database named with a
# space, '#', both quotes and a backslash; a root under a directory with
# spaces, quotes and a dollar), utf8mb4 in every group (emoji come back as
# emoji), and --share GROUP so that a user other than the one who ran up
# connects with the README's command (runuser -u nobody).

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/helpers
	dbops_server_root
	export TZ=UTC
	export D=$DBOPS_SERVER_ROOT/dumps
	mkdir -p "$D"
	# A database name the option file would cut at '#' or misread at a
	# quote or backslash, unless quoted as the client reads it.
	export ODD_DB='odd #db "q" '"'x'"' \b'
	printf '%s\n' "CREATE DATABASE \`$ODD_DB\`;" "USE \`$ODD_DB\`;" \
		"CREATE TABLE t (name VARCHAR(20)) CHARACTER SET utf8mb4;" \
		"INSERT INTO t VALUES ('Zoë 🐉 山田');" |
		gzip >"$D/hashdb-2024-03-01.sql.gz"
	export R
	R=$(odd_dir root)/worlds
	run dump-restore up --root "$R" --progress never "$D/hashdb-2024-03-01.sql.gz"
	[ "$status" -eq 0 ] || {
		echo "$output" >&3
		return 1
	}
}

teardown_file() {
	load lib/helpers
	[ -n "${R:-}" ] && [ -d "$R" ] && dump-restore down --root "$R" 2>/dev/null
	stop_servers
}

setup() {
	load lib/helpers
	export TZ=UTC LC_ALL=C.UTF-8
}

@test "dump-restore: worlds.cnf quotes the database as the client reads it: the README's command lands in it" {
	run -0 grep '^database=' "$R/worlds.cnf"
	assert_output 'database="odd #db \"q\" '"'x'"' \\b"'
	run --separate-stderr mariadb --defaults-extra-file="$R/worlds.cnf" --defaults-group-suffix=_hashdb -N -B -e 'SELECT DATABASE(), COUNT(*) FROM t'
	assert_success
	assert_equal "$stderr" ""
	# -B escapes the backslash in its output.
	assert_output "$(printf '%s\t1' "${ODD_DB//\\/\\\\}")"
	# What the client reads, as it prints its options.
	run -0 mariadb --defaults-extra-file="$R/worlds.cnf" --defaults-group-suffix=_hashdb --print-defaults
	assert_output --partial "--database=$ODD_DB --default-character-set=utf8mb4"
}

@test "dump-restore: every world group sets utf8mb4: emoji come back as emoji, as the README connects" {
	run -0 grep -c '^default-character-set="utf8mb4"$' "$R/worlds.cnf"
	assert_output 1
	run -0 mariadb --defaults-extra-file="$R/worlds.cnf" --defaults-group-suffix=_hashdb -N -B -e 'SELECT name FROM t'
	assert_output 'Zoë 🐉 山田'
	run -0 mariadb --defaults-extra-file="$R/worlds.cnf" --defaults-group-suffix=_hashdb -N -B -e 'SELECT @@character_set_client'
	assert_output utf8mb4
	# world-query reads the same file through Connector/C.
	run -0 world-query --inventory "$R/worlds.cnf" --format tsv 'SELECT name FROM t'
	assert_line --index 1 'hashdb	Zoë 🐉 山田'
}

@test "dump-restore: worlds.cnf is 0600 without --share: another user cannot read it" {
	run -0 stat -c '%a %U' "$R/worlds.cnf"
	assert_output "600 $(id -un)"
	run --separate-stderr runuser -u nobody -- mariadb --defaults-extra-file="$R/worlds.cnf" --defaults-group-suffix=_hashdb -N -B -e 'SELECT 1'
	assert_failure
	assert_equal "${stderr_lines[0]}" "Could not open required defaults file: $R/worlds.cnf"
}

@test "dump-restore: --share GROUP: a member of GROUP connects with the README's command, as nobody" {
	run --separate-stderr dump-restore up --root "$R" --progress never --share nogroup "$D/hashdb-2024-03-01.sql.gz"
	assert_success
	# The command up prints is one the shell runs as it is, odd root or not.
	connect=${lines[-1]}
	assert_equal "${lines[-2]}" "Connect to a world with:"
	run --separate-stderr runuser -u nobody -g nogroup -- bash -c "$connect -N -B -e 'SELECT DATABASE()'"
	assert_success
	assert_output "${ODD_DB//\\/\\\\}"
	run -0 stat -c '%a %G' "$R/worlds.cnf"
	assert_output "640 nogroup"
	run --separate-stderr runuser -u nobody -g nogroup -- mariadb --defaults-extra-file="$R/worlds.cnf" --defaults-group-suffix=_hashdb -N -B -e 'SELECT CURRENT_USER(), name FROM t'
	assert_success
	assert_equal "$stderr" ""
	assert_output 'analyst@127.0.0.1	Zoë 🐉 山田'
	# down rewrites the file and keeps it shared.
	run dump-restore down --root "$R" nosuchworld
	assert_failure 1
	run -0 stat -c '%a %G' "$R/worlds.cnf"
	assert_output "640 nogroup"
	run --separate-stderr dump-restore up --root "$R" --share no-such-group "$D/hashdb-2024-03-01.sql.gz"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'dump-restore: error: --share: no group "no-such-group"'
}
