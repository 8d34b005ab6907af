#!/usr/bin/env bats
# Security (issue 19): every listening socket the suite opens is on
# loopback unless told otherwise, and what the tools write is private.
# During representative runs of each tool and service, `ss -ltnp` and
# `ss -lunp` show no socket off loopback (127.0.0.0/8, ::1) held by a
# process of ours: a tool, a server it started, or a server of the suite
# (anything whose command line names our scratch root). Secret files are
# 0600, data directories 0700, and nothing world-writable is created.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/helpers
	export TZ=UTC
	start_postgres
	start_mariadb
	start_redis
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
}

teardown() {
	local pid
	for pid in ${BG_PIDS:-}; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	find "$W" -name instance.state 2>/dev/null | while IFS= read -r s; do
		"$DBOPS_DRIVER" stop "$(dirname "$s")" >/dev/null 2>&1 || true
	done
}

# ours PID: the process is one of the tools, or runs from our scratch
# root: its command line names it, or (redis-server, which rewrites its
# command line to "redis-server ADDR") it works in a directory under it.
ours() {
	local exe cmd cwd
	exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
	case ${exe##*/} in
	snap-import | event-store | dump-restore | world-query | pitr-replay | pitr-replay-fetch-wal) return 0 ;;
	esac
	cwd=$(readlink "/proc/$1/cwd" 2>/dev/null) || return 1
	[[ "$cwd/" == "$DBOPS_SERVER_ROOT/"* ]] && return 0
	cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
	[[ "$cmd" == *"$DBOPS_SERVER_ROOT"* ]]
}

# loopback_only: no listening TCP or UDP socket of ours off loopback; each
# of ours on loopback is counted in $W/ours.
loopback_only() {
	local line addr pids pid bad=
	while IFS= read -r line; do
		addr=$(awk '{ print $5 }' <<<"$line")
		pids=$(grep -o 'pid=[0-9]*' <<<"$line" | cut -d= -f2 | sort -u)
		for pid in $pids; do
			ours "$pid" || continue
			case $addr in
			127.* | '[::1]':* | '[::ffff:127.'*) echo "$addr $pid" >>"$W/ours" ;;
			*) bad+="$line"$'\n' ;;
			esac
		done
	done < <(ss -H -ltnup)
	[ -z "$bad" ] || fail "listening off loopback: $bad"
}

# no_world_writable DIR...: nothing under DIR is writable by others, but
# sockets (guarded by a private directory, which private_dir checks).
no_world_writable() {
	local found
	found=$(find "$@" -perm -o+w ! -type s ! -type l 2>/dev/null)
	[ -z "$found" ] || fail "world-writable: $found"
}

# mode PATH: its permission bits, octal.
mode() { stat -c %a "$1"; }

# The suite's own servers (servers.bash), with nothing of the tools running.
@test "security sockets: the suite's PostgreSQL, MariaDB and Redis listen on loopback only" {
	: >"$W/ours"
	loopback_only
	[ "$(grep -c . "$W/ours")" -ge 3 ] || fail "fewer than 3 of our sockets seen: $(cat "$W/ours")"
	assert_equal "$(mode "$DBOPS_SERVER_ROOT/redis")" 700
}

@test "security sockets: dump-restore up's servers on loopback; worlds.cnf and world.state 0600, world directories 0700" {
	local dumps=$W/dumps root=$W/root
	echo "$root" >"$DBOPS_SERVER_ROOT/dr_root"
	mkdir -m 0755 "$dumps"
	printf 'CREATE TABLE t (a int);\n' | gzip >"$dumps/w1-2024-03-01T02:00:00Z.sql.gz"
	run --separate-stderr dump-restore up --root "$root" --allow-incomplete --metrics-file "$W/m.prom" "$dumps"
	assert_success
	: >"$W/ours"
	loopback_only
	grep -q . "$W/ours" || fail "the world's server not seen"
	assert_equal "$(mode "$root/worlds.cnf")" 600
	assert_equal "$(mode "$root/w1/world.state")" 600
	assert_equal "$(mode "$root/w1")" 700
	no_world_writable "$root" "$W/m.prom"
	run world-query --root "$root" 'SELECT 1'
	assert_success
	dump-restore down --root "$root" >/dev/null 2>&1
}

@test "security sockets: pitr-replay restore's server listens on loopback; the data directory 0700" {
	local arch=$W/arch bin
	mkdir -m 0755 "$arch"
	[ "$(id -u)" = 0 ] && chown postgres: "$arch"
	start_server postgres "src$BATS_TEST_NUMBER" --set wal_level=replica --set archive_mode=on \
		--set "archive_command=cp %p $arch/%f"
	bin=/usr/lib/postgresql/$(server_info "src$BATS_TEST_NUMBER" version)/bin
	local conn=(-h "$(server_info "src$BATS_TEST_NUMBER" socket_dir)" -p "$(server_info "src$BATS_TEST_NUMBER" port)" -U postgres)
	"$bin/pg_basebackup" "${conn[@]}" -D "$W/base" -Fp -X none -c fast --no-sync
	psql "${conn[@]}" -AtX -c "SELECT pg_create_restore_point('rp')" -c "SELECT pg_switch_wal()" postgres >/dev/null
	for _ in $(seq 300); do
		[ "$(psql "${conn[@]}" -AtX -c "SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'" postgres)" = 0 ] && break
		sleep 0.1
	done
	"$DBOPS_DRIVER" stop "$DBOPS_SERVER_ROOT/src$BATS_TEST_NUMBER"
	run --separate-stderr pitr-replay restore -b "$W/base" -a "$arch" -D "$W/d" --target-name rp \
		--keep-running --metrics-file "$W/m.prom"
	assert_success
	: >"$W/ours"
	loopback_only
	grep -q . "$W/ours" || fail "the restored server not seen"
	assert_equal "$(mode "$W/d")" 700
	no_world_writable "$W/d" "$W/m.prom"
}

# start_bg LOG CMD...: CMD in the background, its pid kept for teardown.
start_bg() {
	local log=$1
	shift
	"$@" 2>"$log" &
	BG_PIDS+=" $!"
}

# wait_http URL: until it answers (5 s).
wait_http() {
	for _ in $(seq 50); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
	fail "nothing answers at $1: $(cat "$W"/*.log)"
}

@test "security sockets: snap-import sync --listen and event-store listen where told, loopback by default" {
	local p1 p2 p3
	mkdir -m 0755 "$W/in" "$W/in6"
	p1=$(free_port) p2=$(free_port) p3=$(free_port)
	start_bg "$W/sync.log" snap-import sync -D "$W/in" -t sec_sync --listen "127.0.0.1:$p1"
	start_bg "$W/sync6.log" snap-import sync -D "$W/in6" -t sec_sync6 --listen "[::1]:$p2"
	start_bg "$W/es.log" event-store --listen "127.0.0.1:$p3" --schema sec_es --redis "$REDIS_URL"
	wait_http "http://127.0.0.1:$p1/metrics"
	wait_http "http://[::1]:$p2/metrics"
	wait_http "http://127.0.0.1:$p3/health"
	# event-store's default address, when its port is free here.
	if ! ss -H -ltn "sport = :8480" | grep -q .; then
		start_bg "$W/es-default.log" event-store --schema sec_es --no-redis
		wait_http "http://127.0.0.1:8480/health"
		ss -H -ltn "sport = :8480" >"$W/default"
		assert_equal "$(awk '{ print $4 }' "$W/default")" "127.0.0.1:8480"
	fi
	: >"$W/ours"
	loopback_only
	[ "$(grep -c . "$W/ours")" -ge 3 ] || fail "the listeners not seen: $(cat "$W/ours")"
	no_world_writable "$W"
	# Told otherwise (":PORT", every address): the check sees it.
	local p4
	p4=$(free_port)
	mkdir -m 0755 "$W/in4"
	start_bg "$W/sync4.log" snap-import sync -D "$W/in4" -t sec_sync4 --listen ":$p4"
	wait_http "http://127.0.0.1:$p4/metrics"
	run loopback_only
	assert_failure
	assert_output --partial ":$p4 "
}
