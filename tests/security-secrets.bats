#!/usr/bin/env bats
# Security (issue 19): no secret in any process's command line or
# environment while the tools run, nor in a log they write. A watcher
# (tests/lib/secretwatch.py, run as root) reads /proc/*/cmdline and
# /proc/*/environ of every process every 20 ms during each run: a password
# given the documented way (PGPASSWORD, PGPASSFILE, REDIS_URL, worlds.cnf)
# must show in no command line, and in no environment but that of the tool
# it was given to: not in the servers, clients or restore_command it
# starts. Then every file the run wrote (stderr, server logs, metrics,
# status files) is searched for it, except the files documented to hold
# it, which must be 0600 (dump-restore's worlds.cnf and world.state).

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/helpers
	export TZ=UTC
	[ "$(id -u)" = 0 ] || skip "the watcher reads every process's environment: run as root"
	start_postgres
	start_redis
	# Kept in a file, not exported: the test's own processes would hold
	# them in their environments.
	local PW_PG=pgSecret4711xQ PW_REDIS=redisSecret0815zK
	printf 'PW_PG=%s\nPW_REDIS=%s\n' "$PW_PG" "$PW_REDIS" >"$DBOPS_SERVER_ROOT/secrets"
	psql -AtX -c "CREATE ROLE loader LOGIN SUPERUSER PASSWORD '$PW_PG'" >/dev/null
	redis-cli -s "$REDIS_SOCKET" CONFIG SET requirepass "$PW_REDIS" >/dev/null
}

teardown_file() {
	load lib/helpers
	[ -s "$DBOPS_SERVER_ROOT/dr_root" ] && dump-restore down --root "$(cat "$DBOPS_SERVER_ROOT/dr_root")" 2>/dev/null
	stop_servers
}

setup() {
	load lib/helpers
	export TZ=UTC
	W=$(mktemp -d "$DBOPS_SERVER_ROOT/work.XXXXXX")
	chmod 0755 "$W"
	PW_PG=$(sed -n 's/^PW_PG=//p' "$DBOPS_SERVER_ROOT/secrets")
	PW_REDIS=$(sed -n 's/^PW_REDIS=//p' "$DBOPS_SERVER_ROOT/secrets")
}

teardown() {
	watch_stop 2>/dev/null || true
	if [ -n "${ES_PID:-}" ]; then
		kill -TERM "$ES_PID" 2>/dev/null || true
		wait "$ES_PID" 2>/dev/null || true
	fi
}

# with_env NAME VALUE CMD...: CMD with NAME=VALUE in its environment and
# only in its: set inside run's subshell, so that what run itself starts
# before (mktemp, for --separate-stderr) does not hold a secret, and not
# on a command line (env NAME=VALUE), where the watcher would see it.
with_env() {
	export "$1=$2"
	shift 2
	"$@"
}

# watch_start ALLOWED SECRET...: the watcher in the background, until
# watch_stop; ALLOWED: the executables that may hold a secret in their
# environment (comma-separated).
watch_start() {
	rm -f "$W/hits" "$W/hits.ready" "$W/stop"
	python3 "$DBOPS_TOP/tests/lib/secretwatch.py" "$W/hits" "$W/stop" "$@" &
	WATCH_PID=$!
	for _ in $(seq 200); do [ -e "$W/hits.ready" ] && return 0; sleep 0.05; done
	fail "the watcher did not start"
}

# watch_stop: stop it; fails with what it saw, if anything.
watch_stop() {
	[ -n "${WATCH_PID:-}" ] || return 0
	touch "$W/stop"
	wait "$WATCH_PID" || true
	WATCH_PID=
	[ "$(cat "$W/hits.passes")" -gt 2 ] || fail "the watcher made too few passes"
	[ ! -s "$W/hits" ] || fail "a secret was seen: $(cat "$W/hits")"
}

# no_secret_in SECRET PATH...: no file under PATH holds SECRET, but for
# the option files documented to (worlds.cnf), which must be 0600.
no_secret_in() {
	local secret=$1 f
	shift
	while IFS= read -r -d '' f; do
		case $f in
		*/worlds.cnf | */world.state)
			[ "$(stat -c %a "$f")" = 600 ] || fail "$f holds a password and is not 0600"
			;;
		*) fail "the secret is in $f: $(grep -a -m1 -F -- "$secret" "$f")" ;;
		esac
	done < <(grep -r -l -a -Z -F -- "$secret" "$@" 2>/dev/null)
}

@test "security secrets: snap-import import and sync with PGPASSWORD and PGPASSFILE show it nowhere" {
	printf 'id,v\n1,a\n' >"$W/a.csv"
	printf '127.0.0.1:%s:*:loader:%s\n' "$PGPORT" "$PW_PG" >"$W/pgpass"
	chmod 0600 "$W/pgpass"
	watch_start snap-import "$PW_PG"
	run --separate-stderr with_env PGPASSWORD "$PW_PG" snap-import -d "host=127.0.0.1 port=$PGPORT user=loader dbname=postgres" \
		-t sec1 --metrics-file "$W/m.prom" "$W/a.csv"
	assert_success
	printf '%s\n%s\n' "$output" "$stderr" >"$W/import.log"
	mkdir -m 0755 "$W/in"
	printf 'id,v\n2,b\n' >"$W/in/b.csv"
	run --separate-stderr with_env PGPASSFILE "$W/pgpass" snap-import sync -d "host=127.0.0.1 port=$PGPORT user=loader dbname=postgres" \
		-D "$W/in" -t sec1 --once
	assert_success
	printf '%s\n%s\n' "$output" "$stderr" >"$W/sync.log"
	# A refused password: the message names no password.
	run --separate-stderr with_env PGPASSWORD "wrong$PW_PG" snap-import -d "host=127.0.0.1 port=$PGPORT user=nosuchrole dbname=postgres" \
		-t sec1 "$W/a.csv"
	assert_failure 1
	printf '%s\n' "$stderr" >"$W/fail.log"
	watch_stop
	no_secret_in "$PW_PG" "$W/import.log" "$W/sync.log" "$W/fail.log" "$W/m.prom" "$W/in"
	no_secret_in "$PW_PG" "$(server_info pg datadir)/../server.log" "$(server_info pg log)"
}

@test "security secrets: event-store with PGPASSWORD and a REDIS_URL password shows them nowhere" {
	local port
	port=$(free_port)
	# redis-cli, the test's own, gets its password in its environment
	# (REDISCLI_AUTH), not on its command line, which the watcher would
	# see.
	watch_start event-store,redis-cli "$PW_PG" "$PW_REDIS"
	PGPASSWORD=$PW_PG REDIS_URL="redis://:$PW_REDIS@127.0.0.1:$REDIS_PORT/0" \
		event-store --listen "127.0.0.1:$port" -d "host=127.0.0.1 port=$PGPORT user=loader dbname=postgres" \
		--schema sec_es 2>"$W/es.log" &
	ES_PID=$!
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.1; done
	curl -s -H 'Content-Type: application/json' \
		--data-binary '{"uuid":"6f8e2c1a-0d6b-4e8f-9a51-3c2b7d4e5f60","symbol":"e"}' \
		"http://127.0.0.1:$port/initial" >"$W/answers"
	curl -s "http://127.0.0.1:$port/dashboard/symbol/e" >>"$W/answers"
	curl -s "http://127.0.0.1:$port/metrics" >"$W/metrics"
	curl -s "http://127.0.0.1:$port/health" >"$W/health"
	grep -q '"redis":true' "$W/health" || fail "Redis not reached: $(cat "$W/health")"
	# Redis refusing the password: the message names no password.
	run -0 with_env REDISCLI_AUTH "$PW_REDIS" redis-cli -s "$REDIS_SOCKET" -x CONFIG SET requirepass < <(printf %s "x$PW_REDIS")
	assert_output OK
	sleep 1
	curl -s "http://127.0.0.1:$port/dashboard/symbol/e" >>"$W/answers"
	run -0 with_env REDISCLI_AUTH "x$PW_REDIS" redis-cli -s "$REDIS_SOCKET" -x CONFIG SET requirepass < <(printf %s "$PW_REDIS")
	assert_output OK
	kill -TERM "$ES_PID"
	wait "$ES_PID"
	ES_PID=
	watch_stop
	for s in "$PW_PG" "$PW_REDIS"; do
		no_secret_in "$s" "$W/es.log" "$W/answers" "$W/metrics" "$W/health" "$(server_info pg log)" \
			"$DBOPS_SERVER_ROOT/redis/redis.log"
	done
}

@test "security secrets: dump-restore up, world-query and its --shell show the worlds' passwords nowhere" {
	local dumps
	dumps=$W/dumps
	mkdir -m 0755 "$dumps"
	printf 'CREATE TABLE t (a int);\nINSERT INTO t VALUES (7);\n' |
		gzip >"$dumps/w1-2024-03-01T02:00:00Z.sql.gz"
	DR_ROOT=$W/root
	echo "$DR_ROOT" >"$DBOPS_SERVER_ROOT/dr_root"
	watch_start dump-restore,world-query "@$DR_ROOT/worlds.cnf"
	run --separate-stderr dump-restore up --root "$DR_ROOT" --allow-incomplete \
		--metrics-file "$W/m.prom" "$dumps"
	assert_success
	printf '%s\n%s\n' "$output" "$stderr" >"$W/up.log"
	grep -q '^password=' "$DR_ROOT/worlds.cnf" || fail "no password in worlds.cnf"
	run --separate-stderr world-query --root "$DR_ROOT" --metrics-file "$W/wq.prom" 'SELECT a FROM t'
	assert_success
	printf '%s\n%s\n' "$output" "$stderr" >"$W/wq.log"
	run world-query --root "$DR_ROOT" --shell w1 <<<'SELECT a FROM t; SELECT SLEEP(0.5);'
	assert_success
	printf '%s\n' "$output" >"$W/shell.log"
	run --separate-stderr dump-restore status --root "$DR_ROOT"
	printf '%s\n%s\n' "$output" "$stderr" >"$W/status.log"
	watch_stop
	local pw
	pw=$(sed -n 's/^password="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$DR_ROOT/worlds.cnf" | head -1)
	no_secret_in "$pw" "$W" "$DR_ROOT"
}

@test "security secrets: MYSQL_PWD given to dump-restore and world-query reaches none of their children (mariadbd, install-db, the mariadb client)" {
	local dumps root=$W/mroot pw=mysqlPwd9090Zq
	dumps=$W/dumps
	mkdir -m 0755 "$dumps"
	printf 'CREATE TABLE t (a int);\nINSERT INTO t VALUES (7);\n' |
		gzip >"$dumps/w1-2024-03-01T02:00:00Z.sql.gz"
	watch_start dump-restore,world-query "$pw"
	run --separate-stderr with_env MYSQL_PWD "$pw" dump-restore up --root "$root" --allow-incomplete "$dumps"
	[ "$status" = 0 ] || { watch_stop; fail "$stderr"; }
	run with_env MYSQL_PWD "$pw" world-query --root "$root" --shell w1 <<<'SELECT a FROM t; SELECT SLEEP(0.5);'
	printf '%s\n' "$output" >"$W/shell.log"
	assert_line --index 1 7
	run --separate-stderr with_env MYSQL_PWD "$pw" dump-restore down --root "$root"
	watch_stop
	assert_success
	no_secret_in "$pw" "$W"
}

@test "security secrets: pitr-replay restore keeps PGPASSWORD out of the server and restore_command it starts" {
	# A small archive: a backup, a restore point, its WAL archived.
	local arch=$W/arch bin
	mkdir -m 0755 "$arch"
	chown postgres: "$arch"
	start_server postgres src --set wal_level=replica --set archive_mode=on \
		--set "archive_command=cp %p $arch/%f"
	bin=/usr/lib/postgresql/$(server_info src version)/bin
	local conn=(-h "$(server_info src socket_dir)" -p "$(server_info src port)" -U postgres)
	psql "${conn[@]}" -AtX -c "CREATE TABLE t AS SELECT 1 AS a" postgres >/dev/null
	"$bin/pg_basebackup" "${conn[@]}" -D "$W/base" -Fp -X none -c fast --no-sync
	psql "${conn[@]}" -AtX -c "SELECT pg_create_restore_point('rp')" -c "SELECT pg_switch_wal()" postgres >/dev/null
	for _ in $(seq 300); do
		[ "$(psql "${conn[@]}" -AtX -c "SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'" postgres)" = 0 ] && break
		sleep 0.1
	done
	"$DBOPS_DRIVER" stop "$DBOPS_SERVER_ROOT/src"
	watch_start pitr-replay "$PW_PG"
	run --separate-stderr with_env PGPASSWORD "$PW_PG" pitr-replay restore -b "$W/base" -a "$arch" \
		-D "$W/d" --target-name rp --metrics-file "$W/m.prom"
	printf '%s\n%s\n' "$output" "$stderr" >"$W/restore.log"
	watch_stop
	[ "$status" = 0 ] || fail "$stderr"
	no_secret_in "$PW_PG" "$W"
}
