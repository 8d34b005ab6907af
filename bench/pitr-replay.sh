#!/bin/bash
# bench/pitr-replay.sh - pitr-replay next to what a user would otherwise run
# to check what a WAL archive holds (pg_waldump --quiet: decode and CRC, as
# window and verify do), to check a base backup against its manifest
# (pg_verifybackup) and to recover a base backup to the end of the archive
# (a copy, recovery.signal, restore_command, pg_ctl), like for like.
#
# Usage: bench/pitr-replay.sh BUILD   (bench/run.sh passes it; `make bench`)
#
# One base backup and WAL archive made by tests/data/gen-pitr.sh with
# --wal-mb N (default 2100: over 2 GB of WAL on timeline 1), in a scratch
# directory, then, in the same run:
#
#   (a) reading the whole archive, its output to /dev/null:
#         pitr-replay window -a ARCHIVE
#       next to
#         pg_waldump --quiet -p ARCHIVE FIRST LAST
#       from the first to the last segment of timeline 1 (the same records
#       window reads on timeline 1): both decode every record and check
#       its CRC, and print nothing. window also reads the path of timeline
#       2, which the generator makes tiny: the section says how much that
#       adds, in window's count only. Each ran once before any timing (the
#       archive in the page cache), then PITR_BENCH_RUNS times (3),
#       alternating; the best counted. Each was checked, outside the
#       timing, to reach the end of timeline 1 (window without a "problem"
#       row, its end where the last segment ends; pg_waldump, printing
#       every record once, its last record the closing segment switch).
#       Besides the elapsed time, the CPU time (user + system, all
#       threads: bash's times for the children it waited for) of each
#       run, the least counted: on a loaded machine the elapsed time of a
#       program on two threads says how much of the cores it got, its CPU
#       time what it costs.
#   (a2) checking a recovery of base-plain to the end of timeline 1:
#         pitr-replay verify -b BASE -a ARCHIVE --timeline 1
#       next to
#         pg_verifybackup -n BASE (the manifest: every file's size and
#           checksum; -n: its WAL is in the archive, not in BASE)
#         pg_waldump --quiet -p ARCHIVE START LAST (the WAL from the
#           backup's start segment to the end of timeline 1)
#       one after the other, their times added; runs as in (a).
#   (b) recovering base-plain to the end of timeline 1 and promoting, the
#       server stopped cleanly at the end (as root, it runs as postgres):
#         pitr-replay restore -b BASE -a ARCHIVE -D NEWDIR --timeline 1
#       (which checks every record of the WAL before it starts the server),
#       next to the manual procedure:
#         cp -a BASE NEWDIR2 (and chown -R postgres when root)
#         recovery.signal; in postgresql.auto.conf
#           restore_command = 'cp "ARCHIVE/%f" "%p"'
#           recovery_target_timeline = '1'
#         pg_ctl -D NEWDIR2 -w -t 3600 start -o "-c port=P
#           -c unix_socket_directories=DIR -c listen_addresses=''"
#         psql, one session asked every 50 ms, until pg_is_in_recovery()
#           is false (with no target the server promotes by itself at the
#           end of the WAL)
#         pg_ctl -D NEWDIR2 -w -m fast stop
#       Rounds alternate the order (pitr-replay first, then the manual one
#       first, pitr-replay --prefetch 0 between them); the best of each counted, each run listed. After each run,
#       untimed, the copy is started again and table ticks checked against
#       the generator's expected/end-tl1.rows, then removed. pitr-replay's
#       restore_command is its own fetch-wal, which prefetches the next 8
#       segments into a spool while the server replays; each round also
#       runs pitr-replay with --prefetch 0, to show what the prefetch is
#       worth.
#   (c) the same as (b) from a copy of the archive with every file
#       gzip-compressed (gzip -6, as archive_command = 'gzip < %p > ...'),
#       the manual restore_command 'gunzip < "ARCHIVE/%f.gz" > "%p"'.
#       PITR_BENCH_GZIP=0 leaves it out.
#
# The Markdown section goes to stdout; progress and the tools' own output go
# to stderr.
#
# Environment:
#   PITR_BENCH_WAL_MB  MB of extra WAL on timeline 1 (the generator's
#                      --wal-mb; default 2100)
#   PITR_BENCH_RUNS    timed runs of each reader in (a), the best counted
#                      (default 3)
#   PITR_BENCH_ROUNDS  rounds of the restores in (b) and (c) (default 2)
#   PITR_BENCH_GZIP    1 (default) to run (c), 0 not to
#   PITR_BENCH_TMPDIR  where the scratch directory goes (default /var/tmp:
#                      it needs about twice the WAL in free space, so not a
#                      small tmpfs)
#
# Fairness, what was decided and why:
# - Both procedures in (b) read the same archive, read again into the page
#   cache before each run (cat >/dev/null), after a sync, outside the
#   timing, so none pays for the writes of the one before it.
# - The manual procedure has no recovery target: at the end of the WAL the
#   server promotes by itself. pitr-replay pauses at the last record it
#   verified, checks where the server stopped, then promotes; both end on a
#   new timeline and both times include the clean stop.
# - The manual procedure waits for the promotion the way pitr-replay does:
#   one open session asked every 50 ms. A new psql every 50 ms (and
#   pg_ctl status beside it) took so much of the 2 cores from the replay
#   that the manual recovery of 2 GB ran about 10 s (near 50%) longer.
# - pitr-replay runs with --progress never (nothing on a terminal to draw);
#   its plan and result lines go to stderr.
# - The manual server listens on no TCP port (a private socket directory);
#   pitr-replay's on 127.0.0.1 as well. Neither is used by anything else.
# - The data is made anew for each run of the benchmark and removed at the
#   end (2 GB of WAL are made in well under a minute).
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init pitr-replay "${1:-build}"
tool=$build/bin/pitr-replay
gen=$top/tests/data/gen-pitr.sh

wal_mb=${PITR_BENCH_WAL_MB:-2100}
runs=${PITR_BENCH_RUNS:-3}
rounds=${PITR_BENCH_ROUNDS:-2}
gzip_too=${PITR_BENCH_GZIP:-1}
tmpbase=${PITR_BENCH_TMPDIR:-/var/tmp}
whole() { # NAME VALUE
	case $2 in
	'' | *[!0-9]* | 0*) die "$1 must be a positive whole number, not \"$2\"" ;;
	esac
}
whole PITR_BENCH_WAL_MB "$wal_mb"
whole PITR_BENCH_RUNS "$runs"
whole PITR_BENCH_ROUNDS "$rounds"
case $gzip_too in 0 | 1) ;; *) die "PITR_BENCH_GZIP must be 0 or 1, not \"$gzip_too\"" ;; esac

[ -x "$tool" ] || die "pitr-replay is not built: \"$tool\" is missing (make all)"
[ -x "$driver" ] || die "\"$driver\" is missing (make tests)"
[ -x "$gen" ] || die "\"$gen\" is missing or not executable"
for p in psql tar lz4 zstd gzip; do
	command -v "$p" >/dev/null || die "\"$p\" is not installed"
done
[ -d "$tmpbase" ] || die "PITR_BENCH_TMPDIR: \"$tmpbase\" is not a directory"

# Free space: the archive (and its gzip copy, a fraction of it), and one
# restored copy at a time (its pg_wal up to max_wal_size, 1 GB, and more
# while a restartpoint runs).
need_mb=$((wal_mb * 5 / 2 + 2048))
free_mb=$(df -Pm "$tmpbase" | awk 'NR == 2 { print $4 }')
[ "$free_mb" -ge "$need_mb" ] ||
	die "$tmpbase has $free_mb MB free, the benchmark needs about $need_mb MB (PITR_BENCH_TMPDIR)"

as_root=false
[ "$(id -u)" != 0 ] || as_root=true
# as_pg COMMAND...: as the server's user (postgres when we are root).
as_pg() {
	if $as_root; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

for v in $(compgen -e); do
	case $v in PG*) unset "$v" ;; esac
done

run=
pgbin=
cleanup() {
	local d
	[ -n "$run" ] || return 0
	# Whatever a failed run left running.
	if [ -n "$pgbin" ]; then
		for d in "$run"/restore-*; do
			[ -e "$d/postmaster.pid" ] || continue
			as_pg "$pgbin/pg_ctl" -D "$d" -w -m immediate stop >&2 ||
				log "could not stop the server in $d"
		done
	fi
	rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# The servers run as postgres when we are root: it must reach here.
run=$(mktemp -d "$tmpbase/dbops-bench.XXXXXX")
chmod 755 "$run"
data=$run/data
archive=$data/archive
base=$data/base-plain

load_start=$(cut -d ' ' -f 1-3 /proc/loadavg)
log "generating a base backup and about $wal_mb MB of WAL in $data"
t0=$(date +%s)
"$gen" --build "$build" --wal-mb "$wal_mb" "$data" >&2 ||
	die "tests/data/gen-pitr.sh failed"
log "generated in $(($(date +%s) - t0)) s"

# shellcheck source=/dev/null
. "$data/points.env"
pgbin=/usr/lib/postgresql/$PG_MAJOR/bin
for p in pg_waldump pg_ctl pg_verifybackup; do
	[ -x "$pgbin/$p" ] || die "\"$pgbin/$p\" is missing (install postgresql-$PG_MAJOR)"
done
server_version=$("$pgbin/postgres" --version | sed 's/.* \([0-9][0-9.]*\).*/\1/')

# best OLD NEW: the smaller, OLD empty at first.
best() {
	if [ -z "$1" ]; then
		echo "$2"
	else
		awk -v a="$1" -v b="$2" 'BEGIN { print (b < a) ? b : a }'
	fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }

# segno NAME: the segment number of a segment file name.
segno() {
	echo $((16#${1:8:8} * (0x100000000 / WAL_SEGMENT_SIZE) + 16#${1:16:8}))
}
lsn_num() { echo $(((16#${1%/*} << 32) | 16#${1#*/})); }
lsn_fmt() { printf '%X/%X' $(($1 >> 32)) $(($1 & 0xFFFFFFFF)); }

# The segments of each timeline (no .partial, no history or backup files).
tl1_segs=$(cd "$archive" && find . -maxdepth 1 -name '00000001????????????????' | cut -c3- | sort)
tl2_segs=$(cd "$archive" && find . -maxdepth 1 -name '00000002????????????????' | cut -c3- | sort)
first_seg=$(head -n 1 <<<"$tl1_segs")
last_seg=$(tail -n 1 <<<"$tl1_segs")
[ "$last_seg" = "$TL1_LAST_SEGMENT" ] ||
	die "the last segment of timeline 1 is $last_seg, points.env says $TL1_LAST_SEGMENT"
n_tl1=$(wc -l <<<"$tl1_segs")
n_tl2=$(grep -c . <<<"$tl2_segs" || true)
[ $(($(segno "$last_seg") - $(segno "$first_seg") + 1)) = "$n_tl1" ] ||
	die "timeline 1 has gaps in $archive"
tl1_bytes=$((n_tl1 * WAL_SEGMENT_SIZE))
# Timeline 2's path, which window reads too: timeline 1's segments before
# the fork's, again, then timeline 2's own.
fork_seg=$(($(lsn_num "$FORK_LSN") / WAL_SEGMENT_SIZE))
tl2_path_segs=$((fork_seg - $(segno "$first_seg") + n_tl2))
end_lsn=$(lsn_fmt $((($(segno "$last_seg") + 1) * WAL_SEGMENT_SIZE)))
log "timeline 1: $n_tl1 segments ($(mb "$tl1_bytes") MB, $first_seg to $last_seg, ends at $end_lsn), timeline 2's path: $tl2_path_segs more"
[ "$tl1_bytes" -ge 2000000000 ] || [ -n "${PITR_BENCH_WAL_MB:-}" ] ||
	log "warning: timeline 1 has only $tl1_bytes bytes of WAL, under 2 GB"

# --- (a) window next to pg_waldump --quiet ----------------------------------

window() { "$tool" window -a "$archive" "$@"; }
waldump() { "$pgbin/pg_waldump" -p "$archive" "$first_seg" "$last_seg"; }
waldump_quiet() { "$pgbin/pg_waldump" --quiet -p "$archive" "$first_seg" "$last_seg"; }

# The checks, not timed: both read to the end of timeline 1.
window --format tsv >"$run/window.tsv" || die "pitr-replay window failed (exit status $?)"
if grep -q "$(printf '\tproblem\t')" "$run/window.tsv"; then
	sed "s|^|$prog: window: |" "$run/window.tsv" >&2
	die "pitr-replay window reports a problem in an archive pg_waldump reads to the end: its time would not be of the whole archive"
fi
got=$(awk -F '\t' '$1 == 1 && $2 == "end" { print $4 }' "$run/window.tsv")
[ "$got" = "$end_lsn" ] ||
	die "pitr-replay window ends timeline 1 at ${got:-nothing}, not at $end_lsn where its last segment ends"
{ waldump || true; } 2>"$run/waldump.err" |
	awk 'END { print NR; print }' >"$run/waldump.last"
records=$(head -n 1 "$run/waldump.last")
last=$(tail -n 1 "$run/waldump.last")
case $last in
*"desc: SWITCH"*) ;;
*)
	cat "$run/waldump.err" >&2
	die "pg_waldump's last record is not the closing segment switch: $last"
	;;
esac
last_lsn=$(sed 's/.* lsn: \([0-9A-F]*\/[0-9A-F]*\),.*/\1/' <<<"$last")
[ $(($(lsn_num "$last_lsn") / WAL_SEGMENT_SIZE)) = "$(segno "$last_seg")" ] ||
	die "pg_waldump's last record, at $last_lsn, is not in $last_seg"
log "checked: window reaches $end_lsn, pg_waldump reads $records records to $last_lsn"

# cpu_now: sets $cpu_val to the CPU seconds (user + system) of the
# children this shell has waited for so far (bash's times, run in this
# shell: in a subshell it would count the subshell's children).
cpu_val=
cpu_now() {
	times >"$run/times"
	cpu_val=$(awk 'NR == 2 {
		for (i = 1; i <= NF; i++) {
			split($i, a, "m")
			sub("s", "", a[2])
			s += a[1] * 60 + a[2]
		}
		printf "%.3f", s
	}' "$run/times")
}

# time_cmd NAME COMMAND...: run it, its output to /dev/null, its messages
# to a file; sets $elapsed, and $cpu to the CPU seconds it used (user +
# system, all its threads). A failure (pg_waldump --quiet's too: it reads
# to the end of the last segment given) ends the benchmark.
elapsed=
cpu=
time_cmd() {
	local name=$1 t0 t1 c0 rc=0
	shift
	cpu_now
	c0=$cpu_val
	t0=$(now)
	"$@" >/dev/null 2>"$run/$name.err" || rc=$?
	t1=$(now)
	cpu_now
	elapsed=$(elapsed "$t0" "$t1")
	cpu=$(awk -v a="$c0" -v b="$cpu_val" 'BEGIN { printf "%.2f", b - a }')
	if [ "$rc" != 0 ]; then
		cat "$run/$name.err" >&2
		die "$name failed (exit status $rc)"
	fi
	log "$name: $elapsed s (CPU $cpu s)"
}

# add A B: seconds A + B, three decimals.
add() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'; }

log "(a) one untimed run of each, then $runs of each, alternating"
time_cmd window window
time_cmd pg_waldump waldump_quiet
t_window=
t_waldump=
runs_window=
runs_waldump=
cpu_window=
cpu_waldump=
for r in $(seq 1 "$runs"); do
	time_cmd window window
	t_window=$(best "$t_window" "$elapsed")
	runs_window+=${runs_window:+, }$elapsed
	cpu_window=$(best "$cpu_window" "$cpu")
	time_cmd pg_waldump waldump_quiet
	t_waldump=$(best "$t_waldump" "$elapsed")
	runs_waldump+=${runs_waldump:+, }$elapsed
	cpu_waldump=$(best "$cpu_waldump" "$cpu")
done

# --- (a2) verify next to pg_verifybackup and pg_waldump --quiet -------------

start_seg=$PLAIN_START_SEGMENT
verify() { "$tool" verify -b "$base" -a "$archive" --timeline 1 --progress never; }
verifybackup() { "$pgbin/pg_verifybackup" -n -q "$base"; }
waldump_backup() { "$pgbin/pg_waldump" --quiet -p "$archive" "$start_seg" "$last_seg"; }

log "(a2) one untimed run of each, then $runs of each, alternating"
time_cmd verify verify
time_cmd pg_verifybackup verifybackup
time_cmd pg_waldump-backup waldump_backup
t_verify=
t_pgcheck=
runs_verify=
runs_pgcheck=
cpu_verify=
cpu_pgcheck=
for r in $(seq 1 "$runs"); do
	time_cmd verify verify
	t_verify=$(best "$t_verify" "$elapsed")
	runs_verify+=${runs_verify:+, }$elapsed
	cpu_verify=$(best "$cpu_verify" "$cpu")
	time_cmd pg_verifybackup verifybackup
	pair=$elapsed
	cpair=$cpu
	time_cmd pg_waldump-backup waldump_backup
	pair=$(add "$pair" "$elapsed")
	cpair=$(awk -v a="$cpair" -v b="$cpu" 'BEGIN { printf "%.2f", a + b }')
	t_pgcheck=$(best "$t_pgcheck" "$pair")
	runs_pgcheck+=${runs_pgcheck:+, }$pair
	cpu_pgcheck=$(best "$cpu_pgcheck" "$cpair")
done

# --- (b) pitr-replay restore next to the manual procedure ------------------------

sql_on() { # SOCKETDIR SQL
	psql -X -q -A -t -h "$1" -p 5432 -U postgres -d postgres -c "$2"
}
server_opts() { # SOCKETDIR
	echo "-c port=5432 -c unix_socket_directories=$1 -c listen_addresses=''"
}

# prepare ARCHIVE: earlier writes on disk, the archive and the backup in
# the page cache.
prepare() {
	sync
	cat "$1"/* >/dev/null
	find "$base" -type f -exec cat {} + >/dev/null
}

# check DATADIR WHO: start the copy again, untimed, and compare table ticks
# with the generator's; then remove it.
check() {
	local d=$1 who=$2 sock=$run/check-sock rows in_rec tli
	rm -rf "$sock"
	mkdir -m 700 "$sock"
	! $as_root || chown postgres: "$sock"
	[ ! -e "$d/recovery.signal" ] || die "$who left $d/recovery.signal: the copy was not promoted"
	as_pg "$pgbin/pg_ctl" -D "$d" -l "$sock/server.log" -w -t 600 start \
		-o "$(server_opts "$sock")" >&2 || {
		tail -n 20 "$sock/server.log" >&2 || true
		die "the copy $who made does not start again"
	}
	in_rec=$(sql_on "$sock" "SELECT pg_is_in_recovery()") || die "could not ask the copy $who made"
	tli=$(sql_on "$sock" "SELECT timeline_id FROM pg_control_checkpoint()")
	rows=$(psql -X -A -t -h "$sock" -p 5432 -U postgres -d postgres \
		-c "SELECT id, tli, note FROM ticks ORDER BY id") || die "could not read ticks in the copy $who made"
	as_pg "$pgbin/pg_ctl" -D "$d" -w -m fast stop >&2 || die "could not stop the copy $who made"
	[ "$in_rec" = f ] || die "the copy $who made is still in recovery"
	[ "$rows" = "$(cat "$data/expected/end-tl1.rows")" ] ||
		die "table ticks in the copy $who made is not what timeline 1 ends with (expected/end-tl1.rows)"
	log "$who: checked (ticks as at the end of timeline 1, promoted to timeline $tli)"
	rm -rf "$d" "$sock"
}

# restore_tool ARCHIVE PREFETCH
restore_tool() {
	local d=$run/restore-tool
	prepare "$1"
	log "pitr-replay restore --prefetch $2 from $1"
	t0=$(now)
	"$tool" restore -b "$base" -a "$1" -D "$d" --timeline 1 --progress never \
		--prefetch "$2" >&2 ||
		die "pitr-replay restore failed (exit status $?)"
	elapsed=$(elapsed "$t0" "$(now)")
	log "pitr-replay restore: $elapsed s"
	check "$d" "pitr-replay restore"
}

# restore_manual ARCHIVE RESTORE_COMMAND
restore_manual() {
	local d=$run/restore-manual sock=$run/manual-sock in_rec
	rm -rf "$sock"
	mkdir -m 700 "$sock"
	! $as_root || chown postgres: "$sock"
	prepare "$1"
	log "manual: cp -a, recovery.signal, restore_command = '$2', pg_ctl start, wait for promotion, pg_ctl stop"
	t0=$(now)
	cp -a "$base" "$d"
	! $as_root || chown -R postgres: "$d"
	chmod 700 "$d"
	: >"$d/recovery.signal"
	cat >>"$d/postgresql.auto.conf" <<-EOF
		restore_command = '$2'
		recovery_target_timeline = '1'
	EOF
	as_pg "$pgbin/pg_ctl" -D "$d" -l "$sock/server.log" -w -t 3600 start \
		-o "$(server_opts "$sock")" >&2 || {
		tail -n 20 "$sock/server.log" >&2 || true
		die "the manual recovery's server did not start"
	}
	# One psql session, asked every 50 ms (as pitr-replay does): a new
	# psql (and server backend) each time would take a good part of a core
	# from the recovery.
	coproc PSQL { psql -X -q -A -t -h "$sock" -p 5432 -U postgres -d postgres 2>&1; }
	while :; do
		in_rec=
		{
			echo "SELECT pg_is_in_recovery();" >&"${PSQL[1]}" &&
				read -r -t 600 in_rec <&"${PSQL[0]}"
		} || true
		case $in_rec in
		f) break ;;
		t) sleep 0.05 ;;
		*)
			tail -n 20 "$sock/server.log" >&2 || true
			die "the manual recovery's server stopped answering before the end of recovery: ${in_rec:-no answer}"
			;;
		esac
	done
	echo '\q' >&"${PSQL[1]}"
	wait "$PSQL_PID" || true
	as_pg "$pgbin/pg_ctl" -D "$d" -w -t 600 -m fast stop >&2 ||
		die "could not stop the manual recovery's server"
	elapsed=$(elapsed "$t0" "$(now)")
	log "manual: $elapsed s"
	grep -q "redo done at" "$sock/server.log" || die "the manual recovery's server log has no \"redo done\" line"
	check "$d" "the manual procedure"
}

# restore_trio ARCHIVE RESTORE_COMMAND: the rounds of (b) or (c): pitr-replay
# with fetch-wal prefetching 8 segments, with --prefetch 0, and the manual
# procedure, the order reversed every other round; sets t_tool, t_tool0,
# t_manual (the best) and runs_tool, runs_tool0, runs_manual (every run).
restore_trio() {
	local r order f
	t_tool=''
	t_tool0=''
	t_manual=''
	runs_tool=''
	runs_tool0=''
	runs_manual=''
	for r in $(seq 1 "$rounds"); do
		log "round $r of $rounds from $1"
		if [ $((r % 2)) = 1 ]; then
			order="tool tool0 manual"
		else
			order="manual tool0 tool"
		fi
		for f in $order; do
			case $f in
			tool)
				restore_tool "$1" 8
				t_tool=$(best "$t_tool" "$elapsed")
				runs_tool+=${runs_tool:+, }$elapsed
				;;
			tool0)
				restore_tool "$1" 0
				t_tool0=$(best "$t_tool0" "$elapsed")
				runs_tool0+=${runs_tool0:+, }$elapsed
				;;
			manual)
				restore_manual "$1" "$2"
				t_manual=$(best "$t_manual" "$elapsed")
				runs_manual+=${runs_manual:+, }$elapsed
				;;
			esac
		done
	done
}

log "(b) the plain archive"
restore_trio "$archive" "cp \"$archive/%f\" \"%p\""
t_tool_plain=$t_tool t_tool0_plain=$t_tool0 t_manual_plain=$t_manual
runs_tool_plain=$runs_tool runs_tool0_plain=$runs_tool0 runs_manual_plain=$runs_manual

# --- (c) the same from a gzip-compressed copy of the archive -----------------

if [ "$gzip_too" = 1 ]; then
	archive_gz=$data/archive-gz
	mkdir "$archive_gz"
	log "(c) compressing the archive with gzip -6 into $archive_gz"
	t0=$(now)
	# shellcheck disable=SC2016 # the inner shell expands them
	(cd "$archive" && find . -maxdepth 1 -type f -printf '%f\n') |
		xargs -P "$(nproc)" -I{} sh -c 'gzip -6 -c "$1/$3" >"$2/$3.gz"' sh "$archive" "$archive_gz" {} ||
		die "could not compress the archive"
	gz_mb=$(du -sm "$archive_gz" | cut -f1)
	log "compressed in $(elapsed "$t0" "$(now)") s: $gz_mb MB"
	restore_trio "$archive_gz" "gunzip < \"$archive_gz/%f.gz\" > \"%p\""
	t_tool_gz=$t_tool t_tool0_gz=$t_tool0 t_manual_gz=$t_manual
	runs_tool_gz=$runs_tool runs_tool0_gz=$runs_tool0 runs_manual_gz=$runs_manual
fi

# --- the section ------------------------------------------------------------

load_end=$(cut -d ' ' -f 1-3 /proc/loadavg)
tl2_share=$(awk -v a="$tl2_path_segs" -v b="$n_tl1" 'BEGIN { printf "%.1f", 100 * a / b }')
if [ "$rounds" = 1 ]; then
	rhow="one run of each"
else
	rhow="best of $rounds runs of each, alternating which goes first"
fi
restore_row() { # WHAT MANUAL_COMMAND T_MANUAL RUNS_MANUAL T_TOOL RUNS_TOOL T_TOOL0 RUNS_TOOL0
	cat <<EOF
| manual: \`cp -a\`, recovery.signal, \`restore_command = '$2'\`, \`recovery_target_timeline = '1'\`, \`pg_ctl start\`, psql until \`pg_is_in_recovery()\` is false, \`pg_ctl stop\` | $3 | $4 |
| \`pitr-replay restore -b BASE -a $1 -D NEWDIR --timeline 1 --prefetch 0\` (restore_command: its fetch-wal, by pitr-replay-fetch-wal, no prefetch) | $7 | $8 |
| \`pitr-replay restore -b BASE -a $1 -D NEWDIR --timeline 1\` (restore_command: its fetch-wal, by pitr-replay-fetch-wal, prefetching 8 segments) | $5 | $6 |
EOF
}

cat <<EOF
## pitr-replay

On $(nproc) cores; pitr-replay with its default \`--jobs\` (one thread per core: its WAL reader from the start, and readers of chunks of the later segments, two at a time from the last, which it takes over). One base backup and WAL archive made by \`tests/data/gen-pitr.sh --wal-mb $wal_mb\` with PostgreSQL $server_version: timeline 1 is $n_tl1 segments of $((WAL_SEGMENT_SIZE / 1048576)) MB ($(mb "$tl1_bytes") MB, $BULK_MB MB of it inserts and updates into one table, $records records), timeline 2 a few transactions after a fork. The archive in the page cache. Load average (1, 5, 15 minutes) at the start of the run: $load_start; at the end: $load_end.

### reading the whole archive

Output to /dev/null; both decode every record and check its CRC; one untimed run of each, then the best of $runs, alternating. CPU seconds: user + system time of all the program's threads, the least of the runs (on a loaded machine the elapsed time of a program on two threads depends on how much of the two cores it gets; its CPU time much less).

| reader | seconds | runs | CPU seconds |
|---|---:|---|---:|
| \`pg_waldump --quiet -p ARCHIVE $first_seg $last_seg\` (timeline 1) | $t_waldump | $runs_waldump | $cpu_waldump |
| \`pitr-replay window -a ARCHIVE\` (every timeline) | $t_window | $runs_window | $cpu_window |

window reads every timeline's path: besides timeline 1's $n_tl1 segments, $tl2_path_segs more for timeline 2 (timeline 1's first ones up to the fork again, mostly the zeroed tails of switched segments, and timeline 2's $n_tl2), $tl2_share% more files than pg_waldump reads; pg_waldump reads timeline 1 alone. Both were checked to read to the end of timeline 1 ($end_lsn).

pitr-replay window vs pg_waldump --quiet: $(ratio "$t_waldump" "$t_window") times faster (goal >= 3); in CPU time (user + system, the least of the runs): $(ratio "$cpu_waldump" "$cpu_window") times less

### checking a recovery before it runs

base-plain to the end of timeline 1; one untimed run of each, then the best of $runs, alternating. The PostgreSQL tools' time is the sum of the two, run one after the other.

| check | seconds | runs | CPU seconds |
|---|---:|---|---:|
| \`pg_verifybackup -n BASE\` + \`pg_waldump --quiet -p ARCHIVE $start_seg $last_seg\` | $t_pgcheck | $runs_pgcheck | $cpu_pgcheck |
| \`pitr-replay verify -b BASE -a ARCHIVE --timeline 1\` | $t_verify | $runs_verify | $cpu_verify |

pitr-replay verify vs pg_verifybackup + pg_waldump --quiet: $(ratio "$t_pgcheck" "$t_verify") times faster (goal >= 3); in CPU time: $(ratio "$cpu_pgcheck" "$cpu_verify") times less

### recovering to the end of timeline 1

From base-plain to the end of timeline 1, promoted, the server stopped (\`pg_ctl stop -m fast\`), $rhow, the archive in the page cache, each copy checked afterwards (untimed: started again, table ticks compared with the generator's). pitr-replay checks every record of the WAL (CRCs, links, the target) before it starts the server; that is in its time.

| procedure | seconds | runs |
|---|---:|---|
$(restore_row ARCHIVE 'cp "ARCHIVE/%f" "%p"' "$t_manual_plain" "$runs_manual_plain" "$t_tool_plain" "$runs_tool_plain" "$t_tool0_plain" "$runs_tool0_plain")

pitr-replay restore / manual recovery: $(ratio "$t_tool_plain" "$t_manual_plain") (goal <= 0.9)

pitr-replay restore, prefetching 8 / not prefetching: $(ratio "$t_tool_plain" "$t_tool0_plain")

EOF
if [ "$gzip_too" = 1 ]; then
	cat <<EOF
### recovering to the end of timeline 1 from a gzip archive

The same from a copy of the archive with every file compressed by \`gzip -6\` ($gz_mb MB), $rhow.

| procedure | seconds | runs |
|---|---:|---|
$(restore_row ARCHIVE-GZ 'gunzip < "ARCHIVE-GZ/%f.gz" > "%p"' "$t_manual_gz" "$runs_manual_gz" "$t_tool_gz" "$runs_tool_gz" "$t_tool0_gz" "$runs_tool0_gz")

pitr-replay restore / manual recovery, gzip: $(ratio "$t_tool_gz" "$t_manual_gz") (goal <= 0.9)

pitr-replay restore, prefetching 8 / not prefetching, gzip: $(ratio "$t_tool_gz" "$t_tool0_gz")

EOF
fi
