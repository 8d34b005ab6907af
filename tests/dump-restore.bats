#!/usr/bin/env bats
# dump-restore against real MariaDB servers: dumps made by mariadb-dump from
# a real server (tests/data/gen-worlds.sh), restored, compared table by
# table with CHECKSUM TABLE, and every bad input with its message.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/helpers
	dbops_server_root
	export TZ=UTC
	export DUMPS=$DBOPS_SERVER_ROOT/dumps
	"$DBOPS_TOP/tests/data/gen-worlds.sh" --worlds 3 --rows 200 \
		--build "$DBOPS_BUILD" "$DUMPS" 2>"$DBOPS_SERVER_ROOT/gen.log"
}

teardown_file() {
	load lib/helpers
	for root in "$DBOPS_SERVER_ROOT"/root* "$(odd_dir root)"; do
		[ -d "$root" ] && dump-restore down --root "$root" 2>/dev/null
	done
	stop_servers
}

setup() {
	load lib/helpers
	export TZ=UTC
	R=$DBOPS_SERVER_ROOT/root$BATS_TEST_NUMBER
	BEFORE='2024-03-01 11:59:00'
}

# world_sql ROOT WORLD SQL: as the analyst, through worlds.cnf.
world_sql() {
	mariadb --defaults-extra-file="$1/worlds.cnf" \
		--defaults-group-suffix="_$2" -N -B -e "$3"
}

# same_as_expected ROOT WORLD TIME: every table's rows and checksum match
# what the generator recorded for the dump of TIME.
same_as_expected() {
	local table rows sum got
	while read -r table rows sum; do
		got=$(world_sql "$1" "$2" "SELECT COUNT(*) FROM game.\`$table\`")
		assert_equal "$2.$table rows $got" "$2.$table rows $rows"
		got=$(world_sql "$1" "$2" "CHECKSUM TABLE game.\`$table\`" | cut -f2)
		assert_equal "$2.$table checksum $got" "$2.$table checksum $sum"
	done <"$DUMPS/expected-$2-$3.txt"
}

@test "dump-restore: --help, --version, and usage errors" {
	run --separate-stderr dump-restore --help
	assert_success
	assert_usage_screen
	run dump-restore --version
	assert_output "dump-restore $DBOPS_VERSION"
	run --separate-stderr dump-restore
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "dump-restore: error: no command: use plan, up, status, down or inventory"
	run --separate-stderr dump-restore frob
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'dump-restore: error: unknown command "frob": use plan, up, status, down or inventory'
	run --separate-stderr dump-restore up --jobs 0 x
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'dump-restore: error: invalid value "0" for --jobs: use a number from 1 to 64'
	assert_equal "${stderr_lines[1]}" 'Try "dump-restore --help" for more information.'
	# An unknown letter inside a cluster is named, not argv[0].
	run --separate-stderr dump-restore -zq status
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'dump-restore: error: unknown option "-z"'
	run --separate-stderr dump-restore status --progress sometimes
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'dump-restore: error: invalid value "sometimes" for --progress: use auto, always or never'
	run --separate-stderr dump-restore status --at 2024-03-01
	assert_failure 1
	assert_equal "${stderr_lines[0]}" 'dump-restore: error: --at belongs to plan and up'
	run --separate-stderr dump-restore plan --at yesterday "$DUMPS"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "dump-restore: error: invalid value \"yesterday\" for --at: unrecognised time \"yesterday\": expected a form such as 2024-03-01, 2024-03-01 12:00:00, 2024-03-01T12:00:00Z, 20240301T120000Z, Sat Dec 05 10:08:34 2026 UTC or @1709294400"
	assert_equal "${stderr_lines[1]}" 'Try "dump-restore --help" for more information.'
}

@test "dump-restore: plan picks each world's latest dump at or before --at" {
	run --separate-stderr dump-restore plan --at "$BEFORE" --format csv "$DUMPS"
	assert_success
	assert_equal "$stderr" ""
	assert_line --index 0 "world,dump,dump_time,bytes"
	assert_line --index 1 --regexp "^world1,$DUMPS/world1-2024-03-01T02:00:00Z.sql.gz,2024-03-01 02:00:00\+00:00,[0-9]+\$"
	assert_line --index 2 --regexp "^world2,$DUMPS/world2_20240301_020000.sql.gz,2024-03-01 02:00:00\+00:00,[0-9]+\$"
	assert_line --index 3 --regexp "^world3,$DUMPS/world3.2024-03-01_02-00-00.sql.gz,2024-03-01 02:00:00\+00:00,[0-9]+\$"
	assert_equal "${#lines[@]}" 4
	run dump-restore plan --format tsv "$DUMPS"
	assert_line --index 1 --regexp "^world1	$DUMPS/world1-2024-03-01T14:00:00Z.sql.gz	2024-03-01 14:00:00\+00:00	"
}

@test "dump-restore: a world with no dump early enough is an error naming its earliest" {
	run --separate-stderr dump-restore plan --at 2024-02-29 "$DUMPS"
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "dump-restore: error: world \"world1\" has no dump at or before 2024-02-29 00:00:00+00:00: its earliest is \"$DUMPS/world1-2024-03-01T02:00:00Z.sql.gz\" of 2024-03-01 02:00:00+00:00; skipped"
	assert_equal "${stderr_lines[3]}" "dump-restore: error: no world has a dump early enough"
	assert_equal "${#stderr_lines[@]}" 4
}

@test "dump-restore: a dump name that does not parse is skipped with a warning" {
	mkdir -p "$R.src"
	cp "$DUMPS/world1-2024-03-01T02:00:00Z.sql.gz" "$R.src/"
	cp "$DUMPS/world1-2024-03-01T02:00:00Z.sql.gz" "$R.src/world1-latest.sql.gz"
	echo notes >"$R.src/README"
	run --separate-stderr dump-restore plan "$R.src"
	assert_success
	assert_equal "$stderr" "dump-restore: warning: skipping \"$R.src/world1-latest.sql.gz\": it is not named <world>-<time>.sql.gz (time such as 2024-03-01T02:00:00Z or 20240301_020000)"
	assert_line --index 3 --regexp "^\| world1 \| $R.src/world1-2024-03-01T02:00:00Z.sql.gz \|"
}

@test "dump-restore: a dump name on something that is no regular file is skipped saying why" {
	mkdir -p "$R.src"
	ln -s /nonexistent "$R.src/world0-2024-03-01T02:00:00Z.sql.gz"
	mkfifo "$R.src/world1-2024-03-01T02:00:00Z.sql.gz"
	cp "$DUMPS/world2_20240301_020000.sql.gz" "$R.src/"
	run --separate-stderr dump-restore plan "$R.src"
	assert_success
	# The FIFO's line once carried the symbolic link's stale errno.
	assert_equal "${stderr_lines[0]}" "dump-restore: warning: skipping \"$R.src/world0-2024-03-01T02:00:00Z.sql.gz\": No such file or directory"
	assert_equal "${stderr_lines[1]}" "dump-restore: warning: skipping \"$R.src/world1-2024-03-01T02:00:00Z.sql.gz\": not a regular file"
	assert_equal "${#stderr_lines[@]}" 2
	assert_line --index 3 --regexp "^\| world2 \| $R.src/world2_20240301_020000.sql.gz \|"
}

@test "dump-restore: a dump whose absolute path cannot be found is an error that says why" {
	local name=world1-2024-03-01T02:00:00Z.sql.gz long
	long=$(printf 'd%.0s' {1..240})
	mkdir -p "$R.deep"
	cd "$R.deep"
	# Deeper than PATH_MAX: stat() reaches the dump, realpath() cannot.
	for _ in {1..20}; do
		mkdir "$long" && cd "$long"
	done
	cp "$DUMPS/$name" .
	run --separate-stderr dump-restore plan "$name"
	assert_failure 1
	assert_equal "$output" ""
	assert_regex "$stderr" "^dump-restore: error: could not resolve the path of \"$name\": [A-Z].+\$"
}

@test "dump-restore: up restores every world exactly, as the analyst reaches it" {
	run --separate-stderr dump-restore up --root "$R" --at "$BEFORE" --progress never "$DUMPS"
	assert_success
	assert_line --index 1 --regexp '^\| world +\| status +\| port +\| socket +\| dump +\| dump_time +\| tables \| rows +\| load_seconds \|$'
	assert_line --index 3 --regexp "^\| world1 \| running \| +[0-9]+ \| $R/world1/mysqld.sock \| $DUMPS/world1-2024-03-01T02:00:00Z.sql.gz \| 2024-03-01 02:00:00\+00:00 \| +3 \| +[0-9]+ \| +[0-9.]+ \|\$"
	assert_line "  mariadb --defaults-extra-file=$R/worlds.cnf --defaults-group-suffix=_world1"
	assert_equal "$(stat -c %a "$R/worlds.cnf")" 600
	# The state holds the analyst's password too.
	assert_equal "$(stat -c %a "$R/world1/world.state")" 600
	assert_equal "$(sed -n 's/^status=//p' "$R/world1/world.state")" running
	for w in world1 world2 world3; do
		same_as_expected "$R" "$w" 2024-03-01T02:00:00Z
	done
	# The trigger, the procedure and the view came back too.
	run world_sql "$R" world2 "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'game'"
	assert_output 1
	run world_sql "$R" world2 "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'game'"
	assert_output 1
	run world_sql "$R" world2 "SELECT COUNT(*) > 0 FROM game.top_scores"
	assert_output 1
}

@test "dump-restore: --progress always draws one line per world" {
	run --separate-stderr dump-restore up --root "$R" --at "$BEFORE" --progress always "$DUMPS"
	assert_success
	# The last drawing: every world loaded, done, its bytes and rate.
	last=$(printf '%s' "$stderr" | tr '\r' '\n' | grep -a -E '^world[123]: ' | tail -3 | sed 's/\x1b\[K//; s/\x1b\[J//')
	for w in world1 world2 world3; do
		assert_regex "$last" "$w: done, [0-9.]+ [KM]iB, ([0-9.]+ [KM]iB/s|-- B/s), in [0-9.]+ s"
	done
}

@test "dump-restore: root is reachable only through the socket; the analyst over TCP" {
	dump-restore up --root "$R" --at "$BEFORE" --progress never "$DUMPS" >/dev/null
	port=$(sed -n 's/^port=//p' "$R/world1/world.state")
	run --separate-stderr mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$port" -u root -e "SELECT 1"
	assert_failure
	run world_sql "$R" world1 "SELECT CURRENT_USER()"
	assert_output "analyst@127.0.0.1"
	# innodb_doublewrite is OFF/ON/fast from MariaDB 11.x on, 0/1 before.
	run world_sql "$R" world1 "SELECT @@bind_address, @@log_bin, CONCAT(@@innodb_doublewrite) IN ('0', 'OFF'), @@innodb_flush_log_at_trx_commit"
	assert_output "$(printf '127.0.0.1\t0\t1\t0')"
}

@test "dump-restore: an existing --root keeps its mode, and one the servers cannot reach is an error" {
	[ "$(id -u)" = 0 ] || skip "needs root: the servers run as mysql then"
	mkdir -p "$R.src"
	cp "$DUMPS/world1-2024-03-01T02:00:00Z.sql.gz" "$R.src/"
	mkdir -m 0700 "$R"
	run --separate-stderr dump-restore up --root "$R" --progress never "$R.src"
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "dump-restore: error: could not use \"$R\" as the root: user \"mysql\" may not search it: Permission denied"
	assert_equal "${stderr_lines[1]}" "dump-restore: hint: the servers run as \"mysql\": let it search \"$R\" and every directory above it (chmod o+x), or choose another --root"
	assert_equal "$(stat -c %a "$R")" 700
	chmod 0755 "$R"
	run --separate-stderr dump-restore up --root "$R" --progress never --format csv "$R.src"
	assert_success
	assert_line --index 1 --regexp '^world1,running,'
	assert_equal "$(stat -c %a "$R")" 755
	dump-restore down --root "$R"
	# One it makes gets 0711, whatever the umask.
	run --separate-stderr bash -c 'umask 077 && dump-restore up --root "$1" --progress never --format csv "$2"' x "$R/new" "$R.src"
	assert_success
	assert_equal "$(stat -c %a "$R/new")" 711
	dump-restore down --root "$R/new"
}

@test "dump-restore: up again with the same dumps keeps the worlds; another --at replaces them" {
	dump-restore up --root "$R" --at "$BEFORE" --progress never "$DUMPS" >/dev/null
	pid=$(sed -n 's/^pid=//p' "$R/world2/instance.state")
	run --separate-stderr dump-restore up --root "$R" --at "$BEFORE" --progress never --format csv "$DUMPS"
	assert_success
	assert_line --index 1 --regexp '^world1,kept,'
	assert_line --index 2 --regexp '^world2,kept,'
	assert_equal "$(sed -n 's/^pid=//p' "$R/world2/instance.state")" "$pid"
	run --separate-stderr dump-restore up --root "$R" --progress never --format csv "$DUMPS"
	assert_success
	assert_line --index 2 --regexp "^world2,running,[0-9]+,[^,]+,$DUMPS/world2_20240301_140000.sql.gz,"
	for w in world1 world2 world3; do
		same_as_expected "$R" "$w" 2024-03-01T14:00:00Z
	done
}

@test "dump-restore: status lists the worlds; down removes one, then all" {
	dump-restore up --root "$R" --at "$BEFORE" --progress never "$DUMPS" >/dev/null
	run --separate-stderr dump-restore status --root "$R" --format csv
	assert_success
	assert_line --index 0 "world,status,port,socket,dump,dump_time,uptime_seconds,disk_bytes,reason"
	assert_line --index 2 --regexp "^world2,running,[0-9]+,$R/world2/mysqld.sock,$DUMPS/world2_20240301_020000.sql.gz,2024-03-01 02:00:00\+00:00,[0-9]+,[0-9]+,\$"
	run dump-restore down --root "$R" world2
	assert_success
	assert [ ! -e "$R/world2" ]
	run grep -c '^\[client_' "$R/worlds.cnf"
	assert_output 2
	run dump-restore status --root "$R" --format csv
	assert_equal "${#lines[@]}" 3
	# A world stopped from outside shows as stopped.
	"$DBOPS_DRIVER" stop "$R/world3"
	run dump-restore status --root "$R" --format csv
	assert_line --index 2 --regexp '^world3,stopped,,,'
	run dump-restore down --root "$R"
	assert_success
	assert_equal "$(ls "$R")" worlds.cnf
	run --separate-stderr dump-restore down --root "$R" world9
	assert_failure 1
	assert_equal "$stderr" "dump-restore: error: no world \"world9\" in \"$R\""
}

@test "dump-restore: dumps and root under a path with a space, quotes and a dollar" {
	local src root
	src=$(odd_dir dumps)
	root=$(odd_dir root)
	cp "$DUMPS/world1-2024-03-01T02:00:00Z.sql.gz" "$DUMPS/world2_20240301_020000.sql.gz" "$src/"
	run --separate-stderr dump-restore plan --format tsv "$src"
	assert_success
	assert_line --index 1 "$(printf 'world1\t%s\t2024-03-01 02:00:00+00:00\t%s' \
		"$src/world1-2024-03-01T02:00:00Z.sql.gz" "$(stat -c %s "$src/world1-2024-03-01T02:00:00Z.sql.gz")")"
	run --separate-stderr dump-restore up --root "$root" --progress never "$src"
	assert_success
	assert_equal "$stderr" ""
	# The command is quoted for the shell, and runs as printed.
	assert_line "  mariadb --defaults-extra-file='${root//\'/\'\\\'\'}/worlds.cnf' --defaults-group-suffix=_world1"
	run -0 bash -c "${lines[-1]} -N -B -e 'SELECT COUNT(*) FROM players'"
	assert_output 200
	same_as_expected "$root" world1 2024-03-01T02:00:00Z
	same_as_expected "$root" world2 2024-03-01T02:00:00Z
	# Again: both kept, their states read back whole.
	run --separate-stderr dump-restore up --root "$root" --progress never --format tsv "$src"
	assert_success
	assert_line --index 1 --regexp '^world1	kept	'
	assert_line --index 2 --regexp '^world2	kept	'
	run --separate-stderr dump-restore status --root "$root" --format tsv
	assert_success
	assert_line --index 1 --partial "$(printf 'world1\trunning\t%s\t%s\t%s\t2024-03-01 02:00:00+00:00\t' \
		"$(sed -n 's/^port=//p' "$root/world1/world.state")" "$root/world1/mysqld.sock" \
		"$src/world1-2024-03-01T02:00:00Z.sql.gz")"
	run --separate-stderr dump-restore down --root "$root" world1
	assert_success
	assert [ ! -e "$root/world1" ]
	run dump-restore down --root "$root"
	assert_success
	assert_equal "$(ls "$root")" worlds.cnf
}

# bad_world NAME: a source dir with good world1 and world2 and a bad dump
# for world3 made by the command given; up fails on world3 only.
bad_world() {
	mkdir -p "$R.src"
	cp "$DUMPS/world1-2024-03-01T02:00:00Z.sql.gz" "$DUMPS/world2_20240301_020000.sql.gz" "$R.src/"
	BAD=$R.src/world3-2024-03-01T02:00:00Z.sql.gz
}

up_fails_on_world3_with() {
	run --separate-stderr dump-restore up --root "$R" --progress never --format csv "$R.src"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "dump-restore: error: world \"world3\" from \"$BAD\": $1"
	assert_equal "${stderr_lines[1]}" 'dump-restore: error: 1 of 3 worlds not brought up: "world3" (failed)'
	assert_equal "${#stderr_lines[@]}" 2
	assert_line --index 1 --regexp '^world1,running,'
	assert_line --index 2 --regexp '^world2,running,'
	assert_line --index 3 --regexp '^world3,failed,,,'
	run dump-restore status --root "$R" --format csv
	assert_line --index 3 --regexp '^world3,failed,'
	run grep -c '^\[client_' "$R/worlds.cnf"
	assert_output 2
	assert [ ! -e "$R/world3/mysqld.sock" ]
}

@test "dump-restore: a dump that is not gzip fails its world only" {
	bad_world
	echo "CREATE TABLE t (a int);" >"$BAD"
	up_fails_on_world3_with "not a gzip file"
}

@test "dump-restore: a truncated gzip fails its world" {
	bad_world
	src=$DUMPS/world3.2024-03-01_02-00-00.sql.gz
	head -c $(( $(stat -c %s "$src") / 2 )) "$src" >"$BAD"
	up_fails_on_world3_with "truncated gzip: the file ends inside the compressed data (at byte $(stat -c %s "$BAD"))"
}

@test "dump-restore: a gzip CRC error fails its world" {
	bad_world
	src=$DUMPS/world3.2024-03-01_02-00-00.sql.gz
	cp "$src" "$BAD"
	# The CRC-32 is in the last 8 bytes but 4: flip one of its bits.
	size=$(stat -c %s "$BAD")
	byte=$(od -An -tu1 -j $((size - 8)) -N1 "$BAD" | tr -d ' ')
	printf "$(printf '\\%03o' $(( byte ^ 1 )))" | dd of="$BAD" bs=1 seek=$((size - 8)) conv=notrunc 2>/dev/null
	up_fails_on_world3_with "gzip CRC error: the data is corrupt"
}

@test "dump-restore: a dump cut short before its trailer fails its world" {
	bad_world
	zcat "$DUMPS/world3.2024-03-01_02-00-00.sql.gz" | grep -a -v '^-- Dump completed' | gzip >"$BAD"
	up_fails_on_world3_with "the dump is cut short: it has mysqldump's header but lacks its \"-- Dump completed\" last line (--allow-incomplete accepts it)"
}

@test "dump-restore: an SQL error names the line, the statement and the server's message" {
	bad_world
	zcat "$DUMPS/world3.2024-03-01_02-00-00.sql.gz" >"$R.sql"
	# The players' INSERT (several lines) twice: the copy fails on the key.
	first=$(grep -an '^INSERT INTO `players`' "$R.sql" | head -1 | cut -d: -f1)
	last=$(awk -v f="$first" 'NR >= f && /\);$/ { print NR; exit }' "$R.sql")
	sed -n "${first},${last}p" "$R.sql" >"$R.stmt"
	sed -i "${last}r $R.stmt" "$R.sql"
	gzip -c "$R.sql" >"$BAD"
	start=$(tr '\n\t\r' '   ' <"$R.stmt" | LC_ALL=C.UTF-8 grep -aoE '^.{0,80}')
	up_fails_on_world3_with "line $((last + 1)): Duplicate entry '1' for key 'PRIMARY' (statement: \"$start\")"
}

@test "dump-restore: a failed analyst account never shows its password" {
	bad_world
	# Without the accounts table CREATE USER fails, after the load.
	zcat "$DUMPS/world3.2024-03-01_02-00-00.sql.gz" |
		awk '/^-- Dump completed/ { print "DROP TABLE mysql.global_priv;" } { print }' |
		gzip >"$BAD"
	run --separate-stderr dump-restore up --root "$R" --progress never --format csv "$R.src"
	assert_failure 1
	assert_regex "$stderr" "^dump-restore: error: world \"world3\" from \"$BAD\": CREATE OR REPLACE USER 'analyst'@'127.0.0.1' IDENTIFIED BY \.\.\.: .+$"
	refute_regex "$stderr" "IDENTIFIED BY '"
	run grep -c "IDENTIFIED BY '" "$R/world3/world.state"
	assert_output 0
}

@test "dump-restore: a server error of several lines leaves its world failed, never stopped or kept" {
	bad_world
	# The failing statement's text comes back in the server's message.
	zcat "$DUMPS/world3.2024-03-01_02-00-00.sql.gz" |
		awk '/^-- Dump completed/ { printf "SELECT )\nstatus=running\nx;\n" } { print }' |
		gzip >"$BAD"
	run --separate-stderr dump-restore up --root "$R" --progress never --format csv "$R.src"
	assert_failure 1
	assert_regex "${stderr_lines[0]}" "^dump-restore: error: world \"world3\" from \"$BAD\": line [0-9]+: You have an error in your SQL syntax; .* near '\) status=running x' at line 1 \(statement: \"SELECT \) status=running x\"\)\$"
	assert_line --index 3 --regexp '^world3,failed,,,'
	assert_equal "$(grep -c '^status=' "$R/world3/world.state")" 1
	run dump-restore status --root "$R" --format csv
	assert_line --index 3 --regexp '^world3,failed,'
	run --separate-stderr dump-restore up --root "$R" --progress never --format csv "$R.src"
	assert_failure 1
	assert_line --index 1 --regexp '^world1,kept,'
	assert_line --index 3 --regexp '^world3,failed,,,'
	run grep -c '^\[client_' "$R/worlds.cnf"
	assert_output 2
}

@test "dump-restore: no server binary fails every world with the reason" {
	mkdir -p "$R.empty"
	run --separate-stderr dump-restore up --root "$R" --server-bindir "$R.empty" --progress never "$DUMPS"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "dump-restore: error: no MariaDB server in \"$R.empty\""
	assert_equal "${stderr_lines[3]}" "dump-restore: error: world \"world1\" from \"$DUMPS/world1-2024-03-01T14:00:00Z.sql.gz\": its server did not start (see the error above)"
}

@test "dump-restore: an exhausted port range fails the world naming it" {
	mkdir -p "$R.src"
	cp "$DUMPS/world1-2024-03-01T02:00:00Z.sql.gz" "$R.src/"
	run --separate-stderr dump-restore up --root "$R" --port-base 65535 --progress never "$R.src"
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "dump-restore: error: no free TCP port on 127.0.0.1 from 65536 up"
}

@test "dump-restore: a full disk fails the world with the server's message" {
	[ "$(id -u)" = 0 ] || skip "needs root, to mount a small tmpfs"
	"$DBOPS_TOP/tests/data/gen-worlds.sh" --worlds 1 --rows 150000 \
		--build "$DBOPS_BUILD" "$R.src" >/dev/null 2>&1
	mkdir -p "$R"
	mount -t tmpfs -o size=160m,mode=0755 tmpfs "$R" || skip "cannot mount a tmpfs here"
	run --separate-stderr dump-restore up --root "$R" --progress never --format csv --at "$BEFORE" "$R.src"
	dump-restore down --root "$R" -q || true
	umount "$R"
	assert_failure 1
	assert_regex "$stderr" "^dump-restore: error: world \"world1\" from \"$R.src/world1-2024-03-01T02:00:00Z.sql.gz\": line [0-9]+: The table '[a-z_]+' is full \(statement: \"INSERT INTO \`[a-z_]+\` VALUES \("
	assert_line --index 1 --regexp '^world1,failed,'
}
