#!/usr/bin/env bats
# Security (issue 19): names with quotes, backticks, semicolons, spaces,
# line ends, backslashes, % and bytes that are not UTF-8 where pitr-replay
# takes them into a path or an option file: the WAL archive's, the base
# backup's and the data directory's paths, and restore point names for
# --target-name (written into postgresql.auto.conf). Each either works
# exactly or is refused with one line naming it, exit 1.

bats_require_minimum_version 1.5.0

# The restore points, by key: every awkward character, alone and together.
rp_names() {
	printf '%s\0' "q'uote" 'd"ouble' 'back`tick' 'semi;colon' 'sp ace' \
		$'new\nline' 'back\slash' 'per%cent' $'not\xffutf8' \
		$'all \'"`;\\%\n\t%f%p'
}

setup_file() {
	load lib/helpers
	dbops_server_root
	export TZ=UTC
	local odd bin name i=0
	odd=$(odd_dir pitr)
	# The archive's and the backup's names hold % too, which PostgreSQL's
	# restore_command would take for %f or %p: the server archives into
	# a plain directory, renamed once it is done.
	export ARCH=$odd/arch\`\;%f BASE=$odd/base\`\;%p
	local plain=$DBOPS_SERVER_ROOT/plain-archive
	mkdir -m 0755 "$plain"
	[ "$(id -u)" = 0 ] && chown postgres: "$plain"
	start_server postgres src --set wal_level=replica --set archive_mode=on \
		--set "archive_command=cp %p $plain/%f" --set timezone=UTC
	PGHOST=$(server_info src socket_dir)
	PGPORT=$(server_info src port)
	export PGHOST PGPORT PGUSER=postgres PGDATABASE=postgres
	bin=/usr/lib/postgresql/$(server_info src version)/bin
	sql "CREATE TABLE t (id int)"
	sql "CREATE DATABASE raw ENCODING SQL_ASCII LOCALE 'C' TEMPLATE template0"
	"$bin/pg_basebackup" -D "$BASE" -Fp -X none -c fast --no-sync
	# One row before each restore point: the restore to point i sees i rows.
	while IFS= read -r -d '' name; do
		i=$((i + 1))
		sql "INSERT INTO t VALUES ($i)"
		# A SQL_ASCII database takes the bytes not UTF-8 as they are.
		psql -X -q -At -v ON_ERROR_STOP=1 -v n="$name" -d raw \
			<<<"SELECT pg_create_restore_point(:'n')" >/dev/null ||
			return 1
	done < <(rp_names)
	sql "INSERT INTO t VALUES (0)"
	sql "SELECT pg_switch_wal()" >/dev/null
	local ready=1
	for _ in $(seq 300); do
		ready=$(sql "SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'")
		[ "$ready" = 0 ] && break
		sleep 0.1
	done
	[ "$ready" = 0 ] || { echo "the archiver did not catch up" >&2; return 1; }
	"$DBOPS_DRIVER" stop "$DBOPS_SERVER_ROOT/src"
	mv "$plain" "$ARCH"
}

teardown_file() {
	load lib/helpers
	stop_servers
}

setup() {
	load lib/helpers
	export TZ=UTC
	W=$(odd_dir "t$BATS_TEST_NUMBER")
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

@test "security names: pitr-replay verify finds every restore point by its exact name, under odd paths" {
	local name k=0
	while IFS= read -r -d '' name; do
		k=$((k + 1))
		run --separate-stderr pitr-replay verify -b "$BASE" -a "$ARCH" --target-name "$name"
		[ "$status" = 0 ] || fail "restore point $k: $stderr"
	done < <(rp_names)
	# A name the archive lacks, one-line refusal naming it.
	run --separate-stderr pitr-replay verify -b "$BASE" -a "$ARCH" --target-name "q'uote;x"
	assert_failure 1
	[[ "${stderr_lines[0]}" == "pitr-replay: error: no restore point named \"q'uote;x\" in the WAL after the base backup's start "* ]] ||
		fail "unexpected: $stderr"
}

@test "security names: pitr-replay restore stops at the restore point of odd names, the option file read back exactly" {
	local name k=0 conn
	while IFS= read -r -d '' name; do
		k=$((k + 1))
		# A server start each: the bytes not UTF-8, and every other
		# awkward character together (a quote, a backslash, a line end,
		# % ...), which an option file could break on; verify above
		# finds each one alone.
		case $k in 9 | 10) ;; *) continue ;; esac
		run --separate-stderr pitr-replay restore -b "$BASE" -a "$ARCH" -D "$W/d$k" \
			--target-name "$name" --keep-running
		[ "$status" = 0 ] || fail "restore point $k: $stderr"
		conn=$output
		run psql "$conn" -X -A -t -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM t"
		assert_success
		[ "$output" = "$k" ] || fail "restore point $k: $output rows"
		run psql "$conn dbname=raw" -X -A -t -v ON_ERROR_STOP=1 -c "SHOW recovery_target_name"
		assert_success
		# The name as the server read it from the option file.
		[ "$output" = "$name" ] ||
			fail "restore point $k: the server read the name as: $output"
		find "$W/d$k" -name instance.state -exec sh -c \
			'"$1" stop "$(dirname "$2")"' sh "$DBOPS_DRIVER" {} \; >/dev/null
	done < <(rp_names)
}
