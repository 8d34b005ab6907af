#!/bin/bash
# tests/data/gen-pitr.sh - a PostgreSQL base backup and WAL archive with
# known contents, for pitr-replay, made by the real tools: scratch servers
# started through the instance driver, pg_basebackup, tar, lz4 and zstd.
#
# Usage: tests/data/gen-pitr.sh [--build DIR] [--wal-mb N] OUTDIR
#
#   --build DIR  the build directory holding tests/instance-driver
#                (default: build/ at the top of the tree)
#   --wal-mb N   after the workload of timeline 1, write about N MB more WAL
#                on it (inserts and updates in a table `bulk`, truncated now
#                and then) before its last segment switch; default 0. For
#                the benchmark.
#
# OUTDIR must not exist or be empty. It is made 0755: run as root, the
# servers run as `postgres`, which must reach OUTDIR/archive (every parent
# directory searchable). A failed run leaves OUTDIR as it found it.
#
# The source cluster (PostgreSQL, the newest installed major; wal_level
# replica, track_commit_timestamp on, autovacuum off, TimeZone and
# log_timezone UTC, 16 MB segments) archives every segment with
#   test ! -f 'OUTDIR/archive/%f' && cp %p 'OUTDIR/archive/%f'
# Table ticks(id int primary key, tli int, note text) in database postgres
# is changed by 27 small transactions, numbered 1..27 and committed one at a
# time, 50 ms apart (inserts of one to three rows, updates, deletes; notes
# say which transaction wrote the row: "inserted by 4 on tl1"):
#
#   1-5    timeline 1, before the plain base backup; restore point rp_early
#          between 3 and 4
#   6-7    while the plain base backup runs (pg_basebackup --max-rate keeps
#          it open about a second); normally inside its start..stop window,
#          where a recovery from base-plain cannot stop (PLAIN_WINDOW_TXNS
#          says which)
#   8-23   after it: a ROLLBACK'd transaction after 8 (ABORTED_XID), rp_dup
#          after 9, a transaction failing on a duplicate key after 11
#          (FAILED_XID; 12 then inserts the same id), pg_switch_wal() after
#          12, rp_dup again after 14 (the first one wins), rp_fork after 16,
#          the tar base backup after 18, rp_late after 21
#   24-27  timeline 2: base-plain recovered to rp_fork (recovery_target_name,
#          recovery_target_timeline 1, action promote) in a scratch copy,
#          archiving into the same OUTDIR/archive; rows with tli 2, some of
#          the same ids as timeline 1 wrote after the fork; rp_tl2 after 26
#
# Timeline 1 goes on after rp_fork (17-23), so the timelines differ after
# the fork. Timeline 2's xids repeat those timeline 1 used after the fork.
# Each timeline ends with pg_switch_wal() and waits until everything is
# archived. Ids, notes, the order of transactions, restore points, switches
# and backups are the same on every run; times, xids, LSNs and the system
# identifier are not.
#
# What OUTDIR holds:
#
#   archive/          the WAL archive: timeline 1 segments from the first
#                     one, both backups' *.backup history files,
#                     00000002.history, timeline 2 segments from the one
#                     holding the fork (7 segments in all with PostgreSQL 15,
#                     which archives no .partial segment here: timeline 1's
#                     segment of the fork came from the archive)
#   base-plain/       pg_basebackup -Fp -X none -c fast (backup_label,
#                     backup_manifest, empty pg_wal/); label
#                     "dbops-gen-pitr plain"
#   base-plain.tar    the same files: tar -C base-plain -cf base-plain.tar .
#   base-plain.tar.lz4, base-plain.tar.zst   that tar through lz4 and zstd
#   base-tar/         pg_basebackup -Ft -z -X stream -c fast, later (after
#                     18): base.tar.gz, pg_wal.tar.gz, backup_manifest;
#                     label "dbops-gen-pitr tar"
#   other-archive/    two segments (000000010000000000000001 and ...02) of
#                     another, fresh cluster: another system identifier
#   transactions.txt  one line per transaction, in commit order:
#                       <n> <xid> <commit time> <commit LSN> <tli>
#                     the time as 2024-05-01T12:00:00.123456+00 (UTC,
#                     microseconds, what pg_xact_commit_timestamp says), the
#                     LSN where the commit record starts (pg_waldump's)
#   expected/         `psql -AtX -c "select id,tli,note from ticks order by id"`
#                     output (id|tli|note lines) for each target:
#     after-<n>.rows    right after transaction n commits: the content for
#                       an inclusive target at n's commit time, LSN or xid
#     before-<n>.rows   right before it, on its timeline: exclusive targets
#                       (after-<n-1>, but for 24, the first of timeline 2,
#                       it is fork.rows)
#     <rp>.rows         at restore point <rp> (rp_early, rp_dup (the first),
#                       rp_fork, rp_late, rp_tl2)
#     fork.rows         timeline 2's start (the same as rp_fork.rows)
#     end-tl1.rows, end-tl2.rows   the end of each timeline
#   points.env        shell assignments for the tests, commented there:
#                     system identifiers, the backups' start and stop LSNs
#                     and times, the fork LSN, last commit times, aborted
#                     and never-used xids, each restore point's LSNs, time
#                     and content, segment names
#
# All times are UTC. Every server started is stopped, and the scratch
# directory (a mktemp -d /tmp/dbops-gen.XXXXXX) removed, on exit. Run as
# root, the files the servers wrote into OUTDIR/archive are given to root
# at the end and made readable to all. Nothing goes to stdout; a summary
# goes to stderr. Exit status 0 on success, 1 on any failure (with one
# line saying what failed).
#
# Sizes and times: about 200 MB in OUTDIR (archive 113 MB, other-archive
# 32 MB: mostly the zeroed tails of switched segments), about 10 s on 2
# cores; --wal-mb N adds N MB of archive and about 2 s per 100 MB
# (--wal-mb 2048: 136 segments, 47 s).
set -euo pipefail

prog=gen-pitr
die() {
	echo "$prog: error: $*" >&2
	exit 1
}
usage() {
	echo "usage: tests/data/gen-pitr.sh [--build DIR] [--wal-mb N] OUTDIR" >&2
	exit 1
}

build=$(dirname "$0")/../../build
wal_mb=0
outdir=

number() {
	case $2 in
	'' | *[!0-9]* | 0?*) die "$1 needs a whole number, not \"$2\"" ;;
	esac
}

while [ $# -gt 0 ]; do
	case $1 in
	--build | --wal-mb)
		[ $# -ge 2 ] || die "option $1 needs a value"
		case $1 in
		--build) build=$2 ;;
		--wal-mb) number "$1" "$2" && wal_mb=$2 ;;
		esac
		shift 2
		;;
	--build=*) build=${1#*=} && shift ;;
	--wal-mb=*) number --wal-mb "${1#*=}" && wal_mb=${1#*=} && shift ;;
	-h | --help)
		sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
		exit 0
		;;
	-*) echo "$prog: error: unknown option \"$1\"" >&2 && usage ;;
	*)
		[ -z "$outdir" ] || usage
		outdir=$1
		shift
		;;
	esac
done
[ -n "$outdir" ] || usage

driver=$build/tests/instance-driver
[ -x "$driver" ] || die "the instance driver \"$driver\" is missing (make build/tests/instance-driver, or --build DIR)"
for p in tar lz4 zstd od; do
	command -v "$p" >/dev/null || die "\"$p\" is not installed"
done

# OUTDIR: absolute (the servers do not run here), empty, reachable.
made_outdir=false
if [ -e "$outdir" ]; then
	[ -d "$outdir" ] || die "\"$outdir\" exists and is not a directory"
	[ -z "$(ls -A "$outdir")" ] || die "\"$outdir\" is not empty"
else
	mkdir -p "$outdir" || die "could not create \"$outdir\""
	made_outdir=true
fi
outdir=$(cd "$outdir" && pwd -P) || die "could not enter \"$outdir\""
case $outdir in
*[\'\"\\%$'\n']*) die "\"$outdir\": the archive command cannot quote a path holding ' \" \\ % or a newline" ;;
esac
archive=$outdir/archive
expected=$outdir/expected

# Run as root, the servers run as postgres.
as_root=false
[ "$(id -u)" != 0 ] || as_root=true

for v in $(compgen -e); do
	case $v in PG*) unset "$v" ;; esac
done
export PGUSER=postgres PGDATABASE=postgres PGTZ=UTC PGCONNECT_TIMEOUT=10

dir=
bb_pid=
failed=true
cleanup() {
	local state
	if [ -n "$bb_pid" ]; then
		kill "$bb_pid" 2>/dev/null || true
		wait "$bb_pid" 2>/dev/null || true
	fi
	if [ -n "$dir" ]; then
		while IFS= read -r state; do
			"$driver" stop "$(dirname "$state")" >&2 ||
				echo "$prog: warning: could not stop the server in $(dirname "$state")" >&2
		done < <(find "$dir" -name instance.state 2>/dev/null)
		rm -rf "$dir"
	fi
	if $failed; then
		if $made_outdir; then
			rm -rf "$outdir"
		else
			find "$outdir" -mindepth 1 -delete 2>/dev/null || true
		fi
	fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

chmod 755 "$outdir"
mkdir "$archive" "$expected" "$outdir/other-archive"
if $as_root; then
	chown postgres: "$archive"
	runuser -u postgres -- test -w "$archive" -a -x "$archive" ||
		die "user postgres cannot write in \"$archive\" (every parent directory must be searchable by postgres, chmod o+x)"
fi

# Searchable by postgres, who runs the servers when we are root.
dir=$(mktemp -d /tmp/dbops-gen.XXXXXX) || die "could not create a directory in /tmp"
chmod 755 "$dir"
start=$(date +%s)

archive_cmd() {
	echo "test ! -f '$1/%f' && cp %p '$1/%f'"
}
# Settings of every server here.
common_settings=(--set wal_level=replica --set archive_mode=on
	--set archive_timeout=0 --set max_wal_senders=4
	--set track_commit_timestamp=on --set timezone=UTC --set log_timezone=UTC
	--set autovacuum=off --set fsync=off)

# start_server NAME [driver options]: start it in $dir/NAME and use it.
start_server() {
	local name=$1
	shift
	"$driver" start postgres "$dir/$name" "$@" >"$dir/$name.info" ||
		die "could not start PostgreSQL in $dir/$name"
	use_server "$name"
}
# use_server NAME: psql, pg_basebackup... now go to that server.
use_server() {
	server=$1
	PGHOST=$(sed -n 's/^socket_dir=//p' "$dir/$server.info")
	PGPORT=$(sed -n 's/^port=//p' "$dir/$server.info")
	{ [ -n "$PGHOST" ] && [ -n "$PGPORT" ]; } || die "the instance driver printed no socket_dir or port"
	export PGHOST PGPORT
}
stop_server() {
	"$driver" stop "$dir/$1" >&2 || die "could not stop the server in $dir/$1"
}
# The log of the current server, for messages.
server_log_tail() {
	tail -n 5 "$dir/$server/server.log" 2>/dev/null | sed "s/^/$prog: log: /" >&2 || true
}

pg() {
	"$pgbin/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

# wait_archived: until no completed segment or history file waits for the
# archiver of the current server.
wait_archived() {
	local limit=$((600 + wal_mb / 2)) i out ready failed
	for ((i = 0; i < limit; i++)); do
		out=$(pg -c "SELECT (SELECT count(*) FROM pg_ls_archive_statusdir()
			WHERE name LIKE '%.ready'), failed_count, last_failed_wal
			FROM pg_stat_archiver") || die "could not ask $server for its archiver's state"
		IFS='|' read -r ready failed _ <<<"$out"
		if [ "$failed" != 0 ]; then
			server_log_tail
			die "the archive command failed on $server for ${out##*|}"
		fi
		[ "$ready" != 0 ] || return 0
		sleep 0.1
	done
	die "$server did not archive its WAL within $((limit / 10)) s"
}

switch_wal() {
	pg -c "SELECT pg_switch_wal()" >/dev/null || die "could not switch WAL segments on $server"
}

# txn OP...: commit transaction n+1 on the current server. An OP is +ID
# (insert row ID), ~ID (update it) or -ID (delete it).
tsfmt='YYYY-MM-DD"T"HH24:MI:SS.US"+00"'
n=0
txn() {
	local op sql="" out xid time
	n=$((n + 1))
	for op in "$@"; do
		case $op in
		+*) sql+="INSERT INTO ticks VALUES (${op:1}, $tli, 'inserted by $n on tl$tli');" ;;
		~*) sql+="UPDATE ticks SET tli = $tli, note = 'updated by $n on tl$tli' WHERE id = ${op:1};" ;;
		-*) sql+="DELETE FROM ticks WHERE id = ${op:1};" ;;
		esac
	done
	cp "$cur_rows" "$expected/before-$n.rows"
	out=$(pg <<-EOF
		BEGIN;
		$sql
		SELECT pg_current_xact_id() AS xid \gset
		COMMIT;
		\o '$expected/after-$n.rows'
		SELECT id, tli, note FROM ticks ORDER BY id;
		\o
		SELECT :'xid', to_char(pg_xact_commit_timestamp(:'xid'::xid), '$tsfmt');
	EOF
	) || die "could not commit transaction $n on $server"
	IFS='|' read -r xid time <<<"$out"
	[ -n "$time" ] || die "no commit time for transaction $n (xid $xid) on $server"
	! cmp -s "$cur_rows" "$expected/after-$n.rows" ||
		die "transaction $n changed nothing in ticks on $server"
	echo "$n $xid $time $tli" >>"$dir/txns"
	cur_rows=$expected/after-$n.rows
	sleep 0.05
}

# restore_point NAME KEY: pg_create_restore_point(NAME), known as RP_KEY_*.
restore_point() {
	local end
	end=$(pg -c "SELECT pg_create_restore_point('$1')") ||
		die "could not create restore point $1 on $server"
	echo "$2 $1 $end $n $tli" >>"$dir/rps"
	[ -e "$expected/$1.rows" ] || cp "$cur_rows" "$expected/$1.rows"
}

# --- timeline 1 -------------------------------------------------------------

start_server tl1 "${common_settings[@]}" --set "archive_command=$(archive_cmd "$archive")"
pgbin=$(sed -n 's/^bindir=//p' "$dir/tl1/instance.state" 2>/dev/null || true)
[ -n "$pgbin" ] || pgbin=/usr/lib/postgresql/$(sed -n 's/^version=//p' "$dir/tl1.info")/bin
for p in psql pg_basebackup pg_waldump; do
	[ -x "$pgbin/$p" ] || die "\"$pgbin/$p\" is missing (install postgresql-client)"
done
sysid=$(pg -c "SELECT system_identifier FROM pg_control_system()") ||
	die "could not read the system identifier"
segsize=$(pg -c "SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'")
pg_major=$(sed -n 's/^version=//p' "$dir/tl1.info")

tli=1
pg -c "CREATE TABLE ticks (id int PRIMARY KEY, tli int, note text)" ||
	die "could not create table ticks"
tl1_begin=$(pg -c "SELECT pg_current_wal_insert_lsn()")
cur_rows=$dir/empty.rows
: >"$cur_rows"

txn +1 +2 +3
txn +4
txn ~2
restore_point rp_early EARLY
txn +5 +6
txn -3

# The plain base backup, slowed down so that 6 and 7 commit while it runs.
"$pgbin/pg_basebackup" -D "$outdir/base-plain" -Fp -X none -c fast \
	-l "dbops-gen-pitr plain" --no-sync --max-rate=24M \
	>"$dir/plain.log" 2>&1 &
bb_pid=$!
for ((i = 0; i < 300; i++)); do
	phase=$(pg -c "SELECT phase FROM pg_stat_progress_basebackup") ||
		die "could not follow the base backup"
	[ "$phase" != "streaming database files" ] || break
	kill -0 "$bb_pid" 2>/dev/null || break
	sleep 0.02
done
txn +7
txn ~1
wait "$bb_pid" || {
	bb_pid=
	sed "s/^/$prog: pg_basebackup: /" "$dir/plain.log" >&2
	die "pg_basebackup of the plain base backup failed"
}
bb_pid=

txn +8 +9 +10
aborted=$(pg <<-EOF
	BEGIN;
	INSERT INTO ticks VALUES (100, $tli, 'rolled back'), (101, $tli, 'rolled back');
	SELECT pg_current_xact_id();
	ROLLBACK;
EOF
) || die "could not roll back a transaction"
aborted_after=$n
txn ~8
restore_point rp_dup DUP
txn -4 -5
txn +11
# Fails on the duplicate key: the server aborts it there and then.
failed_xid=$(pg -v ON_ERROR_STOP=0 2>"$dir/failed.err" <<-EOF
	BEGIN;
	INSERT INTO ticks VALUES (12, $tli, 'never committed');
	SELECT pg_current_xact_id();
	INSERT INTO ticks VALUES (1, $tli, 'duplicate');
	ROLLBACK;
EOF
) || die "could not run the failing transaction"
grep -q 'duplicate key' "$dir/failed.err" || die "the failing transaction did not fail: $(cat "$dir/failed.err")"
failed_after=$n
txn +12
switch_wal
txn ~11 ~12
txn +13 +14
restore_point rp_dup DUP_SECOND
txn -13
txn +15
restore_point rp_fork FORK
fork_after=$n
cp "$cur_rows" "$expected/fork.rows"
txn ~15
txn +16 +17
"$pgbin/pg_basebackup" -D "$outdir/base-tar" -Ft -z -X stream -c fast \
	-l "dbops-gen-pitr tar" --no-sync >"$dir/tar.log" 2>&1 || {
	sed "s/^/$prog: pg_basebackup: /" "$dir/tar.log" >&2
	die "pg_basebackup of the tar base backup failed"
}
txn -1
txn +18
txn ~6
restore_point rp_late LATE
txn +19 +20
txn -2
tl1_end=$(pg -c "SELECT pg_current_wal_insert_lsn()")
last_tl1_txn=$n
cp "$cur_rows" "$expected/end-tl1.rows"

bulk_mb=0
if [ "$wal_mb" -gt 0 ]; then
	pg <<-EOF || die "could not write $wal_mb MB of WAL into table bulk"
		CREATE TABLE bulk (id int, v int, pad text);
		DO \$\$
		DECLARE
			first pg_lsn := pg_current_wal_insert_lsn();
			i int := 0;
		BEGIN
			WHILE pg_current_wal_insert_lsn() - first < $wal_mb * 1048576.0 LOOP
				i := i + 1;
				IF i % 16 = 0 THEN
					TRUNCATE bulk;
				END IF;
				INSERT INTO bulk SELECT g, 0, repeat(md5(g::text), 4)
					FROM generate_series(1, 20000) g;
				UPDATE bulk SET v = v + 1 WHERE id % 3 = 0;
				COMMIT;
			END LOOP;
		END
		\$\$;
	EOF
	bulk_mb=$(pg -c "SELECT ((pg_current_wal_insert_lsn() - '$tl1_end') / 1048576)::bigint")
fi
last_tl1_time=$(pg -c "SELECT to_char(timestamp, '$tsfmt') FROM pg_last_committed_xact()")
switch_wal
wait_archived
stop_server tl1

# --- timeline 2 -------------------------------------------------------------

cp -a "$outdir/base-plain" "$dir/tl2-data"
: >"$dir/tl2-data/recovery.signal"
if $as_root; then
	chown -R postgres: "$dir/tl2-data"
fi
chmod 700 "$dir/tl2-data"
start_server tl2 --datadir "$dir/tl2-data" "${common_settings[@]}" \
	--set "archive_command=$(archive_cmd "$archive")" \
	--set "restore_command=cp '$archive/%f' %p" \
	--set recovery_target_name=rp_fork --set recovery_target_timeline=1 \
	--set recovery_target_action=promote
for ((i = 0; ; i++)); do
	[ "$(pg -c "SELECT pg_is_in_recovery()")" != f ] || break
	[ "$i" -lt 600 ] || {
		server_log_tail
		die "the recovered copy of base-plain was not promoted within 60 s"
	}
	sleep 0.1
done
tli=2
pg -c "SELECT id, tli, note FROM ticks ORDER BY id" >"$dir/tl2-start.rows" ||
	die "could not read ticks on timeline 2"
cmp -s "$dir/tl2-start.rows" "$expected/fork.rows" ||
	die "timeline 2 does not start with the content at rp_fork"
cur_rows=$expected/fork.rows
txn +16 +17
txn ~15
txn -6
restore_point rp_tl2 TL2
txn +18
cp "$cur_rows" "$expected/end-tl2.rows"
tl2_end=$(pg -c "SELECT pg_current_wal_insert_lsn()")
last_tl2_time=$(pg -c "SELECT to_char(timestamp, '$tsfmt') FROM pg_last_committed_xact()")
switch_wal
wait_archived
stop_server tl2

# --- another cluster ---------------------------------------------------------

mkdir "$dir/other-wal"
if $as_root; then
	chown postgres: "$dir/other-wal"
fi
start_server other "${common_settings[@]}" --set "archive_command=$(archive_cmd "$dir/other-wal")"
other_sysid=$(pg -c "SELECT system_identifier FROM pg_control_system()")
pg -c "CREATE TABLE other (id int)" -c "SELECT pg_switch_wal()" \
	-c "INSERT INTO other VALUES (1)" -c "SELECT pg_switch_wal()" >/dev/null ||
	die "could not write WAL on the other cluster"
wait_archived
stop_server other
cp "$dir/other-wal/000000010000000000000001" "$dir/other-wal/000000010000000000000002" \
	"$outdir/other-archive/" || die "could not copy the other cluster's segments"

# --- what the WAL says ---------------------------------------------------------

# lsn_num LSN: as a number; lsn_fmt HI LO: as PostgreSQL prints it.
lsn_num() {
	echo $(((16#${1%/*} << 32) | 16#${1#*/}))
}
seg_name() { # TLI LSN
	local v per
	v=$(lsn_num "$2")
	per=$((0x100000000 / segsize))
	printf '%08X%08X%08X' "$1" $((v / segsize / per)) $((v / segsize % per))
}
# waldump TLI START END: "<kind> <xid or name> <lsn>" per commit, abort and
# restore point record.
waldump() {
	"$pgbin/pg_waldump" -p "$archive" -t "$1" -s "$2" -e "$3" >"$dir/waldump.out" 2>&1 ||
		die "pg_waldump could not read timeline $1 from $2 to $3 in $archive: $(tail -n 1 "$dir/waldump.out")"
	sed -n -e 's/.* tx: *\([0-9]*\), lsn: \([0-9A-F]*\)\/\([0-9A-F]*\),.* desc: \(COMMIT\|ABORT\) .*/\4 \1 \2 \3/p' \
		-e 's/.* lsn: \([0-9A-F]*\)\/\([0-9A-F]*\),.* desc: RESTORE_POINT \(.*\)/RP \3 \1 \2/p' \
		"$dir/waldump.out" |
		while read -r kind what hi lo; do
			printf '%s %s %X/%X %s\n' "$kind" "$what" $((16#$hi)) $((16#$lo)) "$1"
		done
}

# The plain backup from its history file in the archive.
backup_file() { # LABEL
	local f
	for f in "$archive"/*.backup; do
		! grep -qx "LABEL: $1" "$f" || {
			echo "$f"
			return 0
		}
	done
	die "no backup history file labelled \"$1\" in $archive"
}
backup_field() { # FILE FIELD: its value, the LSN alone for locations
	sed -n "s/^$2: //p" "$1" | sed 's/ (file .*//'
}
plain_file=$(backup_file "dbops-gen-pitr plain")
tar_file=$(backup_file "dbops-gen-pitr tar")
plain_start=$(backup_field "$plain_file" "START WAL LOCATION")
plain_stop=$(backup_field "$plain_file" "STOP WAL LOCATION")
tar_stop=$(backup_field "$tar_file" "STOP WAL LOCATION")
fork_lsn=$(awk '$1 == 1 { print $2 }' "$archive/00000002.history")
[ -n "$fork_lsn" ] || die "no switch point in $archive/00000002.history"

waldump 1 "$tl1_begin" "$tl1_end" >"$dir/records"
waldump 2 "$fork_lsn" "$tl2_end" >>"$dir/records"

# transactions.txt: the commit record of each transaction, on its timeline.
while read -r t xid time tl; do
	lsn=$(awk -v x="$xid" -v t="$tl" '$1 == "COMMIT" && $2 == x && $4 == t { print $3; exit }' "$dir/records")
	[ -n "$lsn" ] || die "no commit record of transaction $t (xid $xid) on timeline $tl in $archive"
	echo "$t $xid $time $lsn $tl"
done <"$dir/txns" >"$outdir/transactions.txt"
grep -q "^ABORT $aborted .* 1\$" "$dir/records" || die "no abort record of xid $aborted in $archive"
grep -q "^ABORT $failed_xid .* 1\$" "$dir/records" || die "no abort record of xid $failed_xid in $archive"

txn_field() { # N FIELD (1-5)
	awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$outdir/transactions.txt"
}
# Transactions of timeline 1 inside the plain backup's window, and the
# first after it (the first a target can stop at).
window=
first_consistent=
while read -r t _ _ lsn tl; do
	[ "$tl" = 1 ] || continue
	if [ "$(lsn_num "$lsn")" -ge "$(lsn_num "$plain_stop")" ]; then
		[ -n "$first_consistent" ] || first_consistent=$t
	elif [ "$(lsn_num "$lsn")" -ge "$(lsn_num "$plain_start")" ]; then
		window+=${window:+ }$t
	fi
done <"$outdir/transactions.txt"
first_after_tar=
while read -r t _ _ lsn tl; do
	{ [ "$tl" = 1 ] && [ "$(lsn_num "$lsn")" -ge "$(lsn_num "$tar_stop")" ]; } || continue
	first_after_tar=$t
	break
done <"$outdir/transactions.txt"

# rp_time TLI LSN NAME: the time in the restore point record (after the
# 24-byte record header and the 2-byte short data header: rp_time, then
# rp_name), when the record does not cross a page.
rp_time() {
	local file off usec
	file=$archive/$(seg_name "$1" "$2")
	off=$(($(lsn_num "$2") % segsize))
	[ $((off % 8192 + 34 + ${#3})) -le 8192 ] || return 0
	[ "$(tail -c +$((off + 35)) "$file" | head -c ${#3})" = "$3" ] || return 0
	usec=$(od -An -t d8 -j $((off + 26)) -N 8 "$file" | tr -d ' ')
	usec=$((usec + 946684800000000))
	printf '%s.%06d+00\n' "$(date -u -d "@$((usec / 1000000))" +%Y-%m-%dT%H:%M:%S)" $((usec % 1000000))
}

# point KEY VALUE [COMMENT]
point() {
	[ -z "${3:-}" ] || printf '# %s\n' "$3"
	case $2 in
	*[!A-Za-z0-9_./:+-]*) printf "%s='%s'\n" "$1" "$2" ;;
	*) printf '%s=%s\n' "$1" "$2" ;;
	esac
}

mid_segment=$(seg_name 1 "$(txn_field 8 4)")
{
	echo "# points.env - made by tests/data/gen-pitr.sh; all times UTC"
	echo "# (YYYY-MM-DDTHH:MM:SS.ffffff+00 unless said), LSNs as PostgreSQL prints them."
	echo "# Transaction N: the line N of transactions.txt; the content after it:"
	echo "# expected/after-N.rows."
	point PG_MAJOR "$pg_major" "PostgreSQL major version of the clusters"
	point SYSID "$sysid" "system identifier of the source (timelines 1 and 2)"
	point OTHER_SYSID "$other_sysid" "system identifier of the cluster of other-archive/"
	point WAL_SEGMENT_SIZE "$segsize" "bytes"
	point TXNS "$n" "transactions in transactions.txt"
	point PLAIN_BACKUP_FILE "${plain_file##*/}" "the plain backup: its history file in archive/"
	point PLAIN_START_LSN "$plain_start"
	point PLAIN_STOP_LSN "$plain_stop" "no target before this LSN can be reached from base-plain"
	point PLAIN_CHECKPOINT_LSN "$(backup_field "$plain_file" "CHECKPOINT LOCATION")"
	point PLAIN_START_SEGMENT "$(seg_name 1 "$plain_start")"
	point PLAIN_STOP_SEGMENT "$(seg_name 1 "$plain_stop")"
	point PLAIN_START_TIME "$(backup_field "$plain_file" "START TIME")" "as in the history file (whole seconds)"
	point PLAIN_STOP_TIME "$(backup_field "$plain_file" "STOP TIME")"
	point PLAIN_WINDOW_TXNS "$window" "transactions committed between PLAIN_START_LSN and PLAIN_STOP_LSN: from base-plain, PostgreSQL refuses an xid, LSN or exclusive time target at them (an inclusive time target stops at the next commit, after the window)"
	point FIRST_CONSISTENT_TXN "$first_consistent" "the first transaction after PLAIN_STOP_LSN"
	point TAR_BACKUP_FILE "${tar_file##*/}" "the tar backup (base-tar/)"
	point TAR_START_LSN "$(backup_field "$tar_file" "START WAL LOCATION")"
	point TAR_STOP_LSN "$tar_stop"
	point TAR_STOP_TIME "$(backup_field "$tar_file" "STOP TIME")"
	point FIRST_AFTER_TAR_TXN "$first_after_tar" "the first transaction after TAR_STOP_LSN"
	point MID_SEGMENT "$mid_segment" "a timeline 1 segment every recovery from base-plain needs (after its stop, before the fork)"
	point TL1_FIRST_SEGMENT "$(seg_name 1 "$tl1_begin")" "the segment where table ticks was created"
	point TL1_LAST_SEGMENT "$(cd "$archive" && find . -name '00000001????????????????' | sort | tail -n 1 | cut -c3-)"
	point TL2_FIRST_SEGMENT "$(seg_name 2 "$fork_lsn")"
	point TL2_LAST_SEGMENT "$(cd "$archive" && find . -name '00000002????????????????' | sort | tail -n 1 | cut -c3-)"
	point FORK_LSN "$fork_lsn" "where timeline 2 leaves timeline 1 (00000002.history)"
	point FORK_AFTER "$fork_after" "timeline 2 starts with the content after this transaction (expected/fork.rows)"
	point LAST_TL1_TXN "$last_tl1_txn"
	point LAST_TL1_COMMIT_TIME "$last_tl1_time" "the last commit on timeline 1 (with --wal-mb, one of table bulk)"
	point LAST_TL2_TXN "$n"
	point LAST_TL2_COMMIT_TIME "$last_tl2_time"
	point ABORTED_XID "$aborted" "rolled back (ROLLBACK) on timeline 1 after transaction ABORTED_AFTER"
	point ABORTED_AFTER "$aborted_after"
	point FAILED_XID "$failed_xid" "aborted by a duplicate key error on timeline 1 after FAILED_AFTER"
	point FAILED_AFTER "$failed_after"
	point NEVER_XID "$(($(txn_field "$last_tl1_txn" 2) + 1000000))" "an xid no transaction in the archive had"
	point BULK_MB "$bulk_mb" "MB of WAL written into table bulk (--wal-mb)"
	echo "# Restore points: RP_<KEY>_LSN where the record starts, _END_LSN what"
	echo "# pg_create_restore_point returned, _TIME the time in the record, _TLI,"
	echo "# _AFTER the transaction whose content a recovery to it gives. DUP_SECOND"
	echo "# is the second rp_dup (a recovery to rp_dup stops at the first)."
	i=0
	while read -r key name end after tl; do
		i=$((i + 1))
		lsn=$(awk -v i="$i" '$1 == "RP" && ++k == i { print $2, $3, $4 }' "$dir/records")
		{ [ "${lsn%% *}" = "$name" ] && [ "${lsn##* }" = "$tl" ]; } ||
			die "restore point $name is not where it should be in $archive"
		lsn=${lsn#* }
		lsn=${lsn% *}
		point "RP_${key}_NAME" "$name"
		point "RP_${key}_LSN" "$lsn"
		point "RP_${key}_END_LSN" "$end"
		point "RP_${key}_TIME" "$(rp_time "$tl" "$lsn" "$name")"
		point "RP_${key}_TLI" "$tl"
		point "RP_${key}_AFTER" "$after"
	done <"$dir/rps"
} >"$outdir/points.env"

# --- the tar forms of base-plain ---------------------------------------------

tar -C "$outdir/base-plain" -cf "$outdir/base-plain.tar" . ||
	die "could not write $outdir/base-plain.tar"
lz4 -q -c "$outdir/base-plain.tar" >"$outdir/base-plain.tar.lz4" ||
	die "could not write $outdir/base-plain.tar.lz4"
zstd -q -c "$outdir/base-plain.tar" >"$outdir/base-plain.tar.zst" ||
	die "could not write $outdir/base-plain.tar.zst"

if $as_root; then
	chown -R 0:0 "$archive"
fi
chmod -R a+rX "$archive" "$outdir/other-archive"

failed=false
segments=$(find "$archive" -name '????????????????????????' | wc -l)
echo "$prog: $n transactions on 2 timelines, $segments WAL segments ($(du -sm "$archive" | cut -f1) MB) in $outdir/archive, in $(($(date +%s) - start)) s" >&2
