#!/usr/bin/env bats
# Faults for pitr-replay (issue 19): restore killed with -9 at FAULT_RUNS
# random moments (reading the backup and checking the WAL, extracting,
# while its server replays or is promoted), sometimes with its server
# killed at the same moment; then what the killed run left is cleaned as
# the man page says (pg_ctl stop of the server it may have left), no
# process is left on its directory, and a restore into a new directory
# succeeds with the right rows (expected/NAME.rows of gen-pitr.sh, which
# recorded them from the source cluster). Then the server killed during
# replay, the data directory's disk full (at the extraction, at the
# restore_command's copy), the archive on a full disk, a segment the
# server's user cannot read and a port taken: one precise error, exit 1.
#
# One data set for the file (gen-pitr.sh). FAULT_RUNS (default 3; make
# faults: 100) and FAULT_SEED as in tests/lib/faults-servers.bash.

bats_require_minimum_version 1.5.0
load ../lib/pitr

setup_file() {
	load ../lib/helpers
	pitr_generate || return 1
}

teardown_file() {
	load ../lib/helpers
	load ../lib/faults-servers
	fault_umount_all
	stop_servers
}

setup() {
	load ../lib/helpers
	load ../lib/faults-servers
	export TZ=UTC
	G=$PITR
	# shellcheck source=/dev/null
	. "$G/points.env"
	W=$(mktemp -d "$DBOPS_SERVER_ROOT/t$BATS_TEST_NUMBER.XXXXXX")
	chmod 0755 "$W"
	PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
}

teardown() {
	local state pid
	[ -n "${HELD_PID:-}" ] && kill "$HELD_PID" 2>/dev/null
	[ -n "${W:-}" ] && [ -d "$W" ] || return 0
	while IFS= read -r state; do
		"$DBOPS_DRIVER" stop "$(dirname "$state")" || true
	done < <(find "$W" -name instance.state)
	while IFS= read -r pid; do
		stop_left "$(dirname "$pid")" || true
	done < <(find "$W" -maxdepth 3 -name postmaster.pid)
	fault_umount_all
	[ -z "${BATS_TEST_COMPLETED:-}" ] || rm -rf "$W"
}

# as_server_user COMMAND...: as the user the restored server runs as.
as_server_user() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# stop_left DATADIR: what the man page says to do after a restore killed
# while its server ran: pg_ctl stop as the server's user (counted in
# LEFT_RUNNING). Nothing to do
# when no postmaster runs there; one already on its way out (the kill came
# as the restore was stopping it) is waited for.
stop_left() {
	local pid i
	pid=$(head -1 "$1/postmaster.pid" 2>/dev/null) || return 0
	[ -n "$pid" ] && ! process_gone "$pid" || return 0
	LEFT_RUNNING=$((${LEFT_RUNNING:-0} + 1))
	as_server_user "$PG_BIN/pg_ctl" stop -D "$1" -m fast -w -t 60 >/dev/null 2>&1 && return 0
	for ((i = 0; i < 100; i++)); do
		process_gone "$pid" && return 0
		sleep 0.1
	done
	echo "# pg_ctl stop -D $1 failed, and postmaster $pid runs" >&2
	return 1
}

# no_process_on DIR: no process names DIR in its command line or has its
# working directory there (fetch-wal's prefetchers end by themselves: 10 s
# at most).
no_process_on() {
	local i left
	for ((i = 0; i < 100; i++)); do
		left=$( (grep -laF -- "$1" /proc/[0-9]*/cmdline
			find /proc/[0-9]*/cwd -maxdepth 0 -lname "$1*") 2>/dev/null |
			grep -v "^/proc/$$/" | cut -d/ -f3 | sort -u)
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	fail "processes left on $1: $(ps -o pid=,args= -p "$(echo $left | tr ' ' ,)" | cut -c1-150)"
}

# restore_killed MS DIR TARGET BASE: restore BASE into $W/DIR to TARGET in
# a session of its own, kill -9 its process group MS ms after it started
# (or, when MS is negative, -MS ms after its server wrote its pid file).
restore_killed() {
	local ms=$1 d=$W/$2 target=$3 base=$4 pid i
	if [ "$ms" -ge 0 ]; then
		fault_kill_at "$ms" "$W/$2.log" pitr-replay restore -b "$base" -a "$G/archive" -D "$d" --target-name "$target"
		return 0
	fi
	setsid pitr-replay restore -b "$base" -a "$G/archive" -D "$d" --target-name "$target" \
		</dev/null >"$W/$2.log" 2>&1 3>&- &
	pid=$!
	for ((i = 0; i < 3000; i++)); do
		[ -s "$d/postmaster.pid" ] || process_gone "$pid" && break
		sleep 0.01
	done
	sleep "$(printf '%d.%03d' $((-ms / 1000)) $((-ms % 1000)))"
	FAULT_KILLED=0
	kill -9 -- "-$pid" 2>/dev/null && FAULT_KILLED=1
	FAULT_RC=0
	wait "$pid" || FAULT_RC=$?
	[ "$FAULT_RC" = 137 ] && FAULT_KILLED=1
	return 0
}

@test "faults pitr-replay: restore killed -9 at random moments (its server killed too, at times): cleaned as the man page says, nothing left running, a restore into a new directory has the right rows" {
	local runs run_no ms target base start span killed=0 also=0 inserver=0 targets=(rp_dup rp_fork rp_tl2)
	local bases=("$G/base-plain" "$G/base-plain.tar.zst" "$G/base-plain.tar.lz4")
	fault_seed
	runs=$(fault_runs 3)
	# The moments fall within what a restore takes here (measured once),
	# plus a tenth; those aimed at the server's run within half of it.
	start=$(date +%s%N)
	pitr-replay restore -q -b "$G/base-plain" -a "$G/archive" -D "$W/cal" --target-name rp_tl2
	span=$((($(date +%s%N) - start) / 1000000 * 11 / 10))
	rm -rf "$W/cal"
	echo "# a restore takes about $span ms"
	for ((run_no = 1; run_no <= runs; run_no++)); do
		target=${targets[RANDOM % 3]}
		base=${bases[RANDOM % 3]}
		# Half the kills at any moment of the whole run, half while the
		# server runs (from its pid file on).
		if ((RANDOM % 2)); then
			fault_ms "$span"
			ms=$FAULT_MS
		else
			fault_ms $((span / 2))
			ms=-$FAULT_MS
			inserver=$((inserver + 1))
		fi
		restore_killed "$ms" "k$run_no" "$target" "$base"
		killed=$((killed + FAULT_KILLED))
		echo "# run $run_no: $target from ${base##*/}, kill at $ms ms (negative: after the server's start), landed: $FAULT_KILLED"
		if ((RANDOM % 3 == 0)); then
			pid=$(head -1 "$W/k$run_no/postmaster.pid" 2>/dev/null) && [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null &&
				also=$((also + 1)) && echo "# run $run_no: its server killed too"
		fi
		stop_left "$W/k$run_no"
		no_process_on "$W/k$run_no"
		restore_keep "n$run_no" --target-name "$target" || { echo "$stderr"; false; }
		assert_rows "$CONN" "$target"
		stop_restored
		no_process_on "$W/n$run_no"
		rm -rf "$W/k$run_no" "$W/n$run_no"
	done
	echo "# $runs runs, $killed kills landed ($inserver aimed at the server's run), servers killed too in $also; a server left running (stopped by pg_ctl) by ${LEFT_RUNNING:-0}" >&3
}

@test "faults pitr-replay: the server killed -9 while it replays: one error naming the signal, exit 1, the data directory left for inspection; nothing left running" {
	local tool rc=0 i pm
	D=$W/d
	pitr-replay restore -b "$G/base-plain" -a "$G/archive" -D "$D" --target-name rp_tl2 >"$W/out" 2>"$W/err" 3>&- &
	tool=$!
	for ((i = 0; i < 3000; i++)); do
		pm=$(head -1 "$D/postmaster.pid" 2>/dev/null) && [ -n "$pm" ] && break
		sleep 0.01
	done
	[ -n "$pm" ] || fail "the server never started"
	# The tool held while its server dies: it finds it dead, whatever the
	# moment.
	kill -STOP "$tool"
	kill -9 "$pm"
	kill -CONT "$tool"
	wait "$tool" || rc=$?
	assert_equal "$rc" 1
	run cat "$W/err"
	assert_line --index 0 'pitr-replay: error: recovery failed: the server was killed by signal 9 (Killed)'
	assert_line --index 1 "pitr-replay: hint: the data directory \"$D\" is left as it is for inspection; the server log is \"$D/pitr-replay/server.log\""
	assert_equal "${#lines[@]}" 2
	no_process_on "$D"
	restore_keep n --target-name rp_tl2
	assert_rows "$CONN" rp_tl2
	stop_restored
}

@test "faults pitr-replay: the data directory's disk full: at the extraction (the directory removed) and at the restore_command's copy (its own error quoted); exit 1, nothing left running" {
	need_root "to mount a tmpfs"
	local full=$W/full
	fault_tmpfs "$full" 20m
	run --separate-stderr pitr-replay restore -q -b "$G/base-plain" -a "$G/archive" -D "$full/d" --target-name rp_tl2
	assert_error "pitr-replay: error: could not write file \"$full/d/base/1/1247\": No space left on device"
	assert [ ! -e "$full/d" ]
	umount "$full"
	# Room for the backup, none for a segment restored for recovery.
	fault_tmpfs "$full" 34m
	run --separate-stderr pitr-replay restore -q -b "$G/base-plain" -a "$G/archive" -D "$full/d" --target-name rp_tl2
	assert_error 'pitr-replay: error: recovery failed: the server said "FATAL:  could not restore file "000000010000000000000002" from archive: command not executable"'
	assert_equal "${stderr_lines[1]}" "pitr-replay: detail: copying a file from the archive failed (see the restore_command's message in the server log)"
	assert_equal "${stderr_lines[2]}" "pitr-replay: detail: the restore_command said \"could not write the copy of \"$G/archive/000000010000000000000002\": No space left on device\""
	assert_equal "${stderr_lines[3]}" "pitr-replay: hint: the data directory \"$full/d\" is left as it is for inspection; the server log is \"$full/d/pitr-replay/server.log\""
	no_process_on "$full/d"
}

@test "faults pitr-replay: the archive on a full disk: restore reads it and succeeds, writing nothing there" {
	need_root "to mount a tmpfs"
	local a=$W/arch
	fault_tmpfs "$a" 160m
	cp -a "$G/archive/." "$a/"
	# Fill what is left.
	dd if=/dev/zero of="$a/.fill" bs=1M status=none 2>/dev/null || true
	assert_equal "$(df --output=avail "$a" | tail -1 | tr -d ' ')" 0
	(cd "$a" && find . -type f ! -name .fill -exec sha256sum {} + | sort -k 2) >"$W/before"
	ARCH=$a restore_keep d --target-name rp_tl2
	assert_rows "$CONN" rp_tl2
	stop_restored
	(cd "$a" && find . -type f ! -name .fill -exec sha256sum {} + | sort -k 2) >"$W/after"
	run diff "$W/before" "$W/after"
	assert_success
}

@test "faults pitr-replay: a segment the server's user cannot read, a port taken: one error each before anything is written, exit 1" {
	[ "$(id -u)" = 0 ] || skip "the server runs as us: we read what it reads"
	cp -al "$G/archive" "$W/a"
	rm "$W/a/000000010000000000000003"
	cp "$G/archive/000000010000000000000003" "$W/a/"
	chmod 0600 "$W/a/000000010000000000000003"
	D=$W/d
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$W/a" -D "$D" --target-name rp_tl2
	assert_error "pitr-replay: error: the server's user postgres could not read \"$W/a/000000010000000000000003\": Permission denied"
	assert [ ! -e "$D" ]
	hold_port
	run --separate-stderr pitr-replay restore -b "$G/base-plain" -a "$G/archive" -D "$D" --target-name rp_tl2 --port "$HELD_PORT"
	assert_error "pitr-replay: error: could not use port $HELD_PORT on 127.0.0.1: Address already in use"
	assert [ ! -e "$D" ]
}
