# servers.bash - scratch PostgreSQL, MariaDB and Redis servers for a bats
# file.
#
#   setup_file()    { start_postgres; start_mariadb; start_redis; }
#   teardown_file() { stop_servers; }
#
# PostgreSQL and MariaDB are started through common/instance.c (the
# instance driver), each in a directory under one scratch root that the
# `postgres` and `mysql` users can reach: run as root, the servers run as
# those users. Redis runs as whoever runs the tests, from start_redis
# below. Ports are free ones on 127.0.0.1. stop_servers stops every server
# under the root and removes it, whatever state the tests left.

# The scratch root: made once per bats file, searchable by the server users.
dbops_server_root() {
	if [ -z "${DBOPS_SERVER_ROOT:-}" ] || [ ! -d "$DBOPS_SERVER_ROOT" ]; then
		DBOPS_SERVER_ROOT=$(mktemp -d "${DBOPS_TEST_TMP:-/tmp}/dbops-test.XXXXXX")
		chmod 0755 "$DBOPS_SERVER_ROOT"
		export DBOPS_SERVER_ROOT
	fi
}

# start_server KIND NAME [driver options]: start it, keep its facts in
# $DBOPS_SERVER_ROOT/NAME.info; fails the caller on error.
start_server() {
	local kind=$1 name=$2
	shift 2
	dbops_server_root
	if ! "$DBOPS_DRIVER" start "$kind" "$DBOPS_SERVER_ROOT/$name" "$@" \
		>"$DBOPS_SERVER_ROOT/$name.info"; then
		echo "servers.bash: could not start $kind server \"$name\"" >&2
		return 1
	fi
}

# odd_dir NAME: print the path of a new directory NAME under a parent whose
# name holds a space, single and double quotes and a dollar sign, made where
# the server users can reach it (removed with the servers): for the tests
# that a path a shell, a conninfo string or an option file would split
# still works.
odd_dir() {
	local parent
	dbops_server_root
	parent="$DBOPS_SERVER_ROOT/with space 'single' \"double\" \$dollar"
	mkdir -p "$parent/$1" && chmod 0755 "$parent" "$parent/$1" &&
		printf '%s\n' "$parent/$1"
}

# server_info NAME KEY: one fact of a started server (port, socket, ...).
server_info() {
	sed -n "s/^$2=//p" "$DBOPS_SERVER_ROOT/$1.info"
}

# start_postgres [NAME]: also exports PGHOST, PGPORT, PGUSER and PGDATABASE
# so psql and libpq programs reach it.
start_postgres() {
	local name=${1:-pg}
	start_server postgres "$name" || return 1
	PGHOST=$(server_info "$name" socket_dir)
	PGPORT=$(server_info "$name" port)
	export PGHOST PGPORT PGUSER=postgres PGDATABASE=postgres
}

# start_mariadb [NAME]: also exports MARIADB_SOCKET, MARIADB_PORT and
# MARIADB_ADMIN (the superuser account named after whoever runs the tests,
# reachable through the socket only, by unix_socket authentication).
start_mariadb() {
	local name=${1:-mariadb}
	start_server mariadb "$name" || return 1
	MARIADB_SOCKET=$(server_info "$name" socket)
	MARIADB_PORT=$(server_info "$name" port)
	MARIADB_ADMIN=$(server_info "$name" admin_user)
	export MARIADB_SOCKET MARIADB_PORT MARIADB_ADMIN
}

# mariadb_admin NAME [mariadb client args]: the client as superuser there.
mariadb_admin() {
	local name=$1
	shift
	# utf8mb4 whatever the locale: under POSIX the client would pick latin1.
	mariadb --no-defaults --default-character-set=utf8mb4 \
		-S "$(server_info "$name" socket)" \
		-u "$(server_info "$name" admin_user)" "$@"
}

# free_port: a TCP port of 127.0.0.1 free now (the kernel's pick).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_redis [NAME [redis-server options]]: redis-server in the private
# directory $DBOPS_SERVER_ROOT/NAME (default redis), listening on
# NAME/redis.sock and on a free port of 127.0.0.1, with no persistence (no
# RDB snapshot, no AOF) unless the options ask for it (start_redis r2
# --appendonly yes). It runs with --daemonize no as a background job whose
# pid is kept in NAME/redis.pid for stop_servers. Returns once it answers
# PING; exports REDIS_URL (unix:...?db=0), REDIS_SOCKET and REDIS_PORT, and
# keeps them in NAME.info for server_info.
start_redis() {
	local name=${1:-redis} dir port pid try i
	[ $# -gt 0 ] && shift
	dbops_server_root
	dir=$DBOPS_SERVER_ROOT/$name
	mkdir -m 0700 "$dir" || return 1
	# The free port may be taken before the server binds it: try again.
	for try in 1 2 3; do
		port=$(free_port) || return 1
		redis-server --bind 127.0.0.1 --port "$port" \
			--unixsocket "$dir/redis.sock" --unixsocketperm 700 \
			--dir "$dir" --logfile "$dir/redis.log" \
			--save '' --appendonly no --daemonize no "$@" \
			</dev/null >/dev/null 2>&1 3>&- &
		pid=$!
		echo "$pid" >"$dir/redis.pid"
		for i in $(seq 100); do
			if [ "$(redis-cli -s "$dir/redis.sock" ping 2>/dev/null)" = PONG ]; then
				printf 'socket=%s\nport=%s\npid=%s\n' "$dir/redis.sock" "$port" "$pid" \
					>"$DBOPS_SERVER_ROOT/$name.info"
				REDIS_SOCKET=$dir/redis.sock REDIS_PORT=$port
				REDIS_URL="unix:$REDIS_SOCKET?db=0"
				export REDIS_SOCKET REDIS_PORT REDIS_URL
				return 0
			fi
			process_gone "$pid" && break
			sleep 0.1
		done
		stop_redis_dir "$dir"
	done
	echo "servers.bash: could not start redis-server \"$name\"" >&2
	tail -n 5 "$dir/redis.log" 2>/dev/null | sed 's/^/servers.bash: /' >&2
	return 1
}

# stop_redis_dir DIR: stop the redis-server whose pid DIR/redis.pid keeps
# (SIGTERM, then SIGKILL after 10 s) and forget the pid.
stop_redis_dir() {
	local pid i
	pid=$(cat "$1/redis.pid" 2>/dev/null) || return 0
	if [ -n "$pid" ] && ! process_gone "$pid"; then
		kill "$pid" 2>/dev/null
		for i in $(seq 100); do
			process_gone "$pid" && break
			sleep 0.1
		done
		process_gone "$pid" || kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$1/redis.pid"
}

# process_gone PID: it no longer runs (a zombie left to a PID 1 that does
# not reap counts as gone).
process_gone() {
	! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# stop_postmaster PIDFILE: the PostgreSQL whose postmaster.pid this is,
# if it still runs there (one restarted with pg_ctl restart has a pid that
# instance.state does not know): an immediate shutdown, then SIGKILL.
stop_postmaster() {
	local data pid i
	data=$(dirname "$1")
	pid=$(head -n 1 "$1" 2>/dev/null)
	case $pid in '' | *[!0-9]*) return 0 ;; esac
	[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$(readlink -f "$data")" ] || return 0
	kill -QUIT "$pid" 2>/dev/null
	for i in $(seq 100); do
		process_gone "$pid" && return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
}

stop_servers() {
	local state dir
	[ -n "${DBOPS_SERVER_ROOT:-}" ] && [ -d "$DBOPS_SERVER_ROOT" ] || return 0
	while IFS= read -r state; do
		dir=$(dirname "$state")
		"$DBOPS_DRIVER" stop "$dir" || echo "servers.bash: could not stop $dir" >&2
	done < <(find "$DBOPS_SERVER_ROOT" -name instance.state)
	while IFS= read -r state; do
		stop_postmaster "$state"
	done < <(find "$DBOPS_SERVER_ROOT" -name postmaster.pid)
	while IFS= read -r state; do
		stop_redis_dir "$(dirname "$state")"
	done < <(find "$DBOPS_SERVER_ROOT" -name redis.pid)
	rm -rf "$DBOPS_SERVER_ROOT"
}
