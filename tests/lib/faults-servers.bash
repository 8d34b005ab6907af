# shellcheck shell=bash disable=SC2034 # FAULT_*, HELD_* are for the callers
# faults-servers.bash - what the fault scripts of the server tools share
# (tests/faults/dump-restore.bats, tests/faults/pitr-replay.bats):
#   load ../lib/faults-servers   (after ../lib/helpers)
#
# A fault is a kill -9 at a random moment. The moments come from bash's
# RANDOM seeded by FAULT_SEED (new each run unless given), printed by
# fault_seed so that a failed test names the seed that reruns it:
#   FAULT_SEED=123 FAULT_RUNS=5 bats tests/faults/pitr-replay.bats
# FAULT_RUNS is how many kills a test makes (make faults: 100); each test
# gives its own short default for make check.

# fault_seed: seed RANDOM from FAULT_SEED (set if unset) and say so.
fault_seed() {
	FAULT_SEED=${FAULT_SEED:-$(($(date +%s%N) / 1000 % 1000000007))}
	RANDOM=$FAULT_SEED
	echo "# fault seed: FAULT_SEED=$FAULT_SEED reruns these moments"
}

# fault_runs DEFAULT: the number of runs (FAULT_RUNS, or DEFAULT).
fault_runs() {
	echo "${FAULT_RUNS:-$1}"
}

# fault_ms MAX: FAULT_MS, a random number of milliseconds from 0 to MAX - 1
# (set, not printed: a $(...) subshell would draw from a reseeded RANDOM).
fault_ms() {
	FAULT_MS=$(((RANDOM * 32768 + RANDOM) % $1))
}

# fault_kill_at MS LOG COMMAND...: run COMMAND in a session of its own
# (so its pid is its process group), output to LOG; MS milliseconds later
# kill -9 that process group: the tool and whatever it runs in its group,
# as a crash leaves it (a server started in a group of its own survives,
# as it would). FAULT_KILLED is 1 when the kill landed, 0 when COMMAND had
# ended before (FAULT_RC its status then).
fault_kill_at() {
	local ms=$1 log=$2 pid
	shift 2
	setsid "$@" </dev/null >"$log" 2>&1 3>&- &
	pid=$!
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	FAULT_KILLED=0
	if kill -9 -- "-$pid" 2>/dev/null; then
		FAULT_KILLED=1
	fi
	FAULT_RC=0
	wait "$pid" || FAULT_RC=$?
	[ "$FAULT_RC" = 137 ] && FAULT_KILLED=1
	return 0
}

# procs_named_under DIR NAME...: "pid comm" of every process called one of
# NAMEs whose working directory or command line names DIR (read from /proc).
procs_named_under() {
	local dir=$1 p comm cwd args n
	shift
	for p in /proc/[0-9]*; do
		comm=$(cat "$p/comm" 2>/dev/null) || continue
		for n in "$@"; do
			[ "$comm" = "$n" ] || continue
			cwd=$(readlink "$p/cwd" 2>/dev/null)
			args=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)
			grep -q '^State:.*Z' "$p/status" 2>/dev/null && continue
			case "$cwd $args" in *"$dir"*) echo "${p#/proc/} $comm" ;; esac
		done
	done
}

# need_root WHAT: skip the test unless run as root (mount, setpriv).
need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root: $1"
}

# fault_tmpfs DIR SIZE: a tmpfs of SIZE (mount's size=) on DIR, made
# searchable by the server users; fault_umount_all in teardown.
fault_tmpfs() {
	mkdir -p "$1" && mount -t tmpfs -o "size=$2,mode=0755" tmpfs "$1" &&
		echo "$1" >>"$DBOPS_SERVER_ROOT/fault-mounts"
}

# fault_umount_all: every tmpfs of fault_tmpfs, unmounted (lazily, should
# anything still hold it).
fault_umount_all() {
	local m
	[ -f "${DBOPS_SERVER_ROOT:-}/fault-mounts" ] || return 0
	while IFS= read -r m; do
		mountpoint -q "$m" && umount -l "$m"
	done <"$DBOPS_SERVER_ROOT/fault-mounts"
	rm -f "$DBOPS_SERVER_ROOT/fault-mounts"
}

# hold_port: start a listener on a free port of 127.0.0.1 for 300 s; sets
# HELD_PORT and HELD_PID (kill it when done).
hold_port() {
	local f i
	f=$(mktemp "$DBOPS_SERVER_ROOT/port.XXXXXX")
	python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
time.sleep(300)' >"$f" &
	HELD_PID=$!
	for ((i = 0; i < 500; i++)); do
		[ -s "$f" ] && break
		sleep 0.01
	done
	HELD_PORT=$(cat "$f")
	rm -f "$f"
	[ -n "$HELD_PORT" ]
}

# no_dac COMMAND...: COMMAND as root without CAP_DAC_OVERRIDE and
# CAP_DAC_READ_SEARCH, so file modes apply to it as to any user.
no_dac() {
	setpriv --inh-caps=-dac_override,-dac_read_search \
		--bounding-set=-dac_override,-dac_read_search -- "$@"
}
