#!/usr/bin/env bats
# A fleet: worlds on two private "hosts" (dump-restore up on each, its
# servers bound to 127.0.0.2 or 127.0.0.3), one inventory merged from the
# two worlds.cnf by `dump-restore inventory --merge`, one world-query over
# all of them. The oracles: the real mariadb client through the merged
# file, and the address each server listens on as /proc/net/tcp shows it.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/helpers
	dbops_server_root
	export TZ=UTC
	export D=$DBOPS_SERVER_ROOT/dumps
	mkdir -p "$D/a" "$D/b"
	# world_dump DIR WORLD N [DB]: a world whose players table has N rows.
	world_dump() {
		local db=${4:-game}
		printf '%s\n' "CREATE DATABASE \`$db\`;" "USE \`$db\`;" \
			'CREATE TABLE players (id INT PRIMARY KEY, name VARCHAR(20));' \
			"INSERT INTO players SELECT seq, CONCAT('$2-', seq) FROM seq_1_to_$3;" |
			gzip >"$D/$1/$2-2024-03-01.sql.gz"
	}
	world_dump a eu1 3
	world_dump a eu2 5 'odd #db "q"'
	world_dump b us1 7
	world_dump b us10 11
	export RA=$DBOPS_SERVER_ROOT/host-a RB
	# Host b's root (and so its sockets) under a path with a space, both
	# quotes and a dollar.
	RB=$(odd_dir host-b)/root
	dump-restore up --root "$RA" --bind 127.0.0.2 --progress never "$D/a" >/dev/null
	dump-restore up --root "$RB" --bind 127.0.0.3 --progress never "$D/b" >/dev/null
}

teardown_file() {
	load lib/helpers
	for root in "${RA:-}" "${RB:-}"; do
		[ -n "$root" ] && [ -d "$root" ] && dump-restore down --root "$root" 2>/dev/null
	done
	stop_servers
}

setup() {
	load lib/helpers
	export TZ=UTC LC_ALL=C.UTF-8
	cd "$BATS_TEST_TMPDIR"
}

# listens_on PORT: the IPv4 addresses listening on PORT, from /proc/net/tcp.
listens_on() {
	python3 - "$1" <<-'EOF'
		import socket, struct, sys
		port = int(sys.argv[1])
		for line in open('/proc/net/tcp').readlines()[1:]:
		    f = line.split()
		    addr, p = f[1].split(':')
		    if f[3] == '0A' and int(p, 16) == port:
		        print(socket.inet_ntoa(struct.pack('<I', int(addr, 16))))
	EOF
}

@test "dump-restore: --bind: each host's servers listen on its address only, and worlds.cnf names it" {
	run -0 sed -n '/^\[client_eu1\]/,/^$/p' "$RA/worlds.cnf"
	assert_line 'host="127.0.0.2"'
	port=$(sed -n '/^\[client_us10\]/,/^$/s/^port="\(.*\)"$/\1/p' "$RB/worlds.cnf")
	run -0 listens_on "$port"
	assert_output 127.0.0.3
	run -0 mariadb --defaults-extra-file="$RB/worlds.cnf" --defaults-group-suffix=_us10 -N -B -e 'SELECT COUNT(*) FROM players'
	assert_output 11
	# Not on 127.0.0.1: the "host" is private to its address.
	run mariadb --no-defaults -h 127.0.0.1 -P "$port" -u analyst -e 'SELECT 1'
	assert_failure
	assert_output --partial "Can't connect to server on '127.0.0.1'"
	run --separate-stderr dump-restore up --bind 0.0.0.0 "$D/a"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'dump-restore: error: invalid value "0.0.0.0" for --bind: name the address the others reach: it goes into worlds.cnf'
	run --separate-stderr dump-restore up --bind db.example "$D/a"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'dump-restore: error: invalid value "db.example" for --bind: give an IPv4 or IPv6 address'
}

@test "dump-restore: inventory --merge: one option file of both hosts' worlds, in natural order, quoted as worlds.cnf" {
	cp "$RA/worlds.cnf" a.cnf
	cp "$RB/worlds.cnf" b.cnf
	run --separate-stderr dump-restore inventory --merge a.cnf b.cnf
	assert_success
	assert_equal "$stderr" ""
	printf '%s\n' "$output" >fleet.cnf
	run -0 grep '^\[client_' fleet.cnf
	assert_output "$(printf '%s\n' '[client_eu1]' '[client_eu2]' '[client_us1]' '[client_us10]')"
	run -0 grep -c '^default-character-set="utf8mb4"$' fleet.cnf
	assert_output 4
	# The real client reads every group of it, odd database name and all.
	for w in eu1:3 eu2:5 us1:7 us10:11; do
		run -0 mariadb --defaults-extra-file=fleet.cnf --defaults-group-suffix="_${w%:*}" -N -B \
			-e 'SELECT @@bind_address, COUNT(*) FROM players'
		case $w in eu*) addr=127.0.0.2 ;; *) addr=127.0.0.3 ;; esac
		assert_output "$addr	${w#*:}"
	done
	run -0 mariadb --defaults-extra-file=fleet.cnf --defaults-group-suffix=_eu2 -N -B -e 'SELECT DATABASE()'
	assert_output 'odd #db "q"'
}

@test "world-query: one query over the merged inventory answers for every world of both hosts" {
	dump-restore inventory --merge "$RA/worlds.cnf" "$RB/worlds.cnf" >fleet.cnf
	run --separate-stderr world-query --inventory fleet.cnf --format tsv \
		'SELECT COUNT(*) AS players, MAX(name) AS last FROM players'
	assert_success
	assert_equal "$stderr" ""
	assert_output "$(printf '%s\n' 'world	players	last' 'eu1	3	eu1-3' 'eu2	5	eu2-5' \
		'us1	7	us1-7' 'us10	11	us10-9')"
	run -0 world-query --inventory fleet.cnf --list --format tsv
	assert_line --index 0 --regexp '^world	host	'
	assert_line --index 1 --regexp '^eu1	127\.0\.0\.2	'
	assert_line --index 4 --regexp '^us10	127\.0\.0\.3	'
}

@test "dump-restore: inventory --merge refuses a world in two files, naming both" {
	cp "$RA/worlds.cnf" a.cnf
	# Option groups match without case: EU1 on host b is eu1 to a client.
	sed 's/^\[client_us1\]/[client_EU1]/' "$RB/worlds.cnf" >b.cnf
	run --separate-stderr dump-restore inventory --merge a.cnf b.cnf
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" 'dump-restore: error: could not merge "b.cnf": world "EU1" is in both "a.cnf" and "b.cnf": one inventory cannot reach both'
	printf '!include /etc/mysql/my.cnf\n' >inc.cnf
	run --separate-stderr dump-restore inventory --merge a.cnf inc.cnf
	assert_failure 1
	assert_equal "$stderr" 'dump-restore: error: could not merge "inc.cnf": line 1: !include /etc/mysql/my.cnf is not followed here'
	run --separate-stderr dump-restore inventory --merge a.cnf missing.cnf
	assert_failure 1
	assert_equal "$stderr" 'dump-restore: error: could not merge "missing.cnf": No such file or directory'
	run --separate-stderr dump-restore inventory a.cnf
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'dump-restore: error: inventory needs --merge'
	run --separate-stderr dump-restore plan --merge a.cnf
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'dump-restore: error: --merge belongs to inventory'
	run --separate-stderr dump-restore inventory --merge
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'dump-restore: error: inventory --merge needs the option files to merge'
	printf 'host=x\n' >nogroup.cnf
	run --separate-stderr dump-restore inventory --merge nogroup.cnf
	assert_failure 1
	assert_equal "$stderr" 'dump-restore: error: could not merge "nogroup.cnf": line 1: an option before any group'
	printf '# mine\n[client_x\n' >open.cnf
	run --separate-stderr dump-restore inventory --merge open.cnf
	assert_failure 1
	assert_equal "$stderr" 'dump-restore: error: could not merge "open.cnf": line 2: a group without "]"'
	printf '[mysqld]\nport=1\n' >noworld.cnf
	run --separate-stderr dump-restore inventory --merge noworld.cnf
	assert_failure 1
	assert_equal "$stderr" 'dump-restore: error: could not merge: no [client_<world>] group in the files'
}

@test "dump-restore: inventory --merge keeps a hand-written group's socket path with a space, quotes and a dollar" {
	sock=$(sed -n 's/^socket=//p' "$RB/us1/world.state")
	assert [ -S "$sock" ]
	pass=$(sed -n 's/^password=//p' "$RB/us1/world.state")
	# Written by hand: the path double-quoted with the client's escapes,
	# a comment after an unquoted value.
	esc=${sock//\\/\\\\}
	printf '[client_local1]\nsocket="%s"\nuser=analyst\npassword=%s\ndatabase=game # the usual\n' \
		"${esc//\"/\\\"}" "$pass" >mine.cnf
	run -0 mariadb --defaults-extra-file=mine.cnf --defaults-group-suffix=_local1 -N -B -e 'SELECT COUNT(*) FROM players'
	assert_output 7
	dump-restore inventory --merge "$RA/worlds.cnf" mine.cnf >fleet.cnf
	run -0 sed -n '/^\[client_local1\]/,$p' fleet.cnf
	assert_line "database=\"game\""
	run -0 mariadb --defaults-extra-file=fleet.cnf --defaults-group-suffix=_local1 -N -B -e 'SELECT COUNT(*), CURRENT_USER() FROM players'
	assert_output "7	analyst@localhost"
	run -0 world-query --inventory fleet.cnf --format tsv -w local1 -w eu1 'SELECT COUNT(*) AS n FROM players'
	assert_output "$(printf '%s\n' 'world	n' 'eu1	3' 'local1	7')"
}
