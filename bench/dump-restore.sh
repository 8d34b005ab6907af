#!/bin/bash
# bench/dump-restore.sh - dump-restore next to what a user would otherwise run
# to bring back every game world from its latest dump: `zcat | mariadb`.
#
# Usage: bench/dump-restore.sh BUILD   (bench/run.sh passes it; `make bench`)
#
# Three worlds, dumped by tests/data/gen-worlds.sh (mariadb-dump, gzip) at
# two times; each world's latest dump, at least 300 MB of SQL with the
# default size, is restored by each procedure in turn, in the same run:
#
#   (a) naive: for one world after the other, a new MariaDB server with
#       Debian's defaults (the instance driver's, untuned), then
#       `zcat dump | mariadb`;
#   (b) `dump-restore up --root R --jobs J DUMPDIR`, which starts a tuned
#       server per world and loads them in parallel; `dump-restore down`
#       after it is timed apart and not counted;
#   (c) the same by hand: per world a server started with the restore
#       settings of research §3 (innodb_flush_log_at_trx_commit=0,
#       innodb_doublewrite=0, innodb_buffer_pool_size=1G,
#       innodb_log_file_size=1G; the instance driver always writes
#       skip-log-bin), then `zcat dump | mariadb`, J worlds at a time.
#
# Each time covers the whole job: creating and starting the servers, then
# loading. After each procedure every world's rows and CHECKSUM TABLE values
# are checked against the generator's expected files, outside the timing,
# and its servers are stopped and removed. The Markdown section goes to
# stdout; progress and the loaders' own output go to stderr.
#
# Environment:
#   DUMP_RESTORE_BENCH_ROWS  players per world (default 800000: about 335 MB
#                            of SQL per latest dump, 110 MB gzipped)
#   DUMP_RESTORE_BENCH_JOBS  worlds loaded at once in (b) and (c) (default 3,
#                            every world: the loads are not CPU-bound alone,
#                            and with 2 jobs on 3 worlds the third world
#                            loads alone while a core idles)
#
# The dumps are made once and kept under BUILD/bench-data/, in a directory
# named after the parameters, the generator's and mariadb-dump's versions;
# a later run with the same ones reuses them.
#
# Fairness, what was decided and why:
# - All procedures read the same files, put in the page cache before each.
# - `sync` before each procedure, outside the timing, so none pays for the
#   writes of the one before it.
# - (b) and (c) run the same number of worlds at once (J), so (c) measures
#   what dump-restore adds over scripting the obvious by hand.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init dump-restore "${1:-build}"
tool=$build/bin/dump-restore
gen=$top/tests/data/gen-worlds.sh

worlds=3
rows=${DUMP_RESTORE_BENCH_ROWS:-800000}
jobs=${DUMP_RESTORE_BENCH_JOBS:-3}
case $rows in
'' | *[!0-9]* | 0*) die "DUMP_RESTORE_BENCH_ROWS must be a positive whole number, not \"$rows\"" ;;
esac
case $jobs in
'' | *[!0-9]* | 0*) die "DUMP_RESTORE_BENCH_JOBS must be a positive whole number, not \"$jobs\"" ;;
esac

[ -x "$tool" ] || die "dump-restore is not built: \"$tool\" is missing (make all)"
[ -x "$driver" ] || die "\"$driver\" is missing (make tests)"
[ -x "$gen" ] || die "\"$gen\" is missing or not executable"
for p in mariadb mariadb-dump zcat; do
	command -v "$p" >/dev/null || die "\"$p\" is not installed"
done

tuning=(
	--set innodb_flush_log_at_trx_commit=0
	--set innodb_doublewrite=0
	--set innodb_buffer_pool_size=1G
	--set innodb_log_file_size=1G
)

# The dumps, made once per set of parameters.
key=$(cat "$gen" <(mariadb-dump --version) | sha256sum | cut -c1-12)
data=$build/bench-data/w$worlds-r$rows-$key
if [ ! -e "$data/complete" ]; then
	log "generating $worlds worlds of $rows players into $data (once)"
	rm -rf "$data"
	mkdir -p "$data/gen" "$data/dumps"
	"$gen" --worlds "$worlds" --rows "$rows" --build "$build" "$data/gen" \
		>"$data/manifest" || die "could not generate the dumps"
	# dump-restore gets a directory of dumps alone.
	ln "$data"/gen/*.sql.gz "$data/dumps/"
	touch "$data/complete"
else
	log "reusing the dumps in $data"
fi

# Each world's latest dump, the one every procedure restores.
declare -A dump expected
names=()
while read -r w time file; do
	[ -z "${dump[$w]:-}" ] && names+=("$w")
	# The manifest lists each world's dumps oldest first.
	dump[$w]=$data/dumps/$file
	expected[$w]=$data/gen/expected-$w-$time.txt
done <"$data/manifest"
[ "${#names[@]}" = "$worlds" ] || die "the manifest $data/manifest names ${#names[@]} worlds, not $worlds"

run=
cleanup() {
	[ -n "$run" ] || return 0
	# Whatever a failed procedure left running.
	if [ -d "$run/dr" ]; then
		"$tool" down --root "$run/dr" >/dev/null 2>&1 || true
	fi
	stop_servers_under "$run"
	rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

run=$(bench_scratch)


# prepare: the dumps in the page cache, earlier writes on disk.
prepare() {
	cat "${dump[@]}" >/dev/null
	sync
}

# start_server DIR [driver options]: prints the info file's name.
start_server() {
	local d=$1
	shift
	"$driver" start mariadb "$d" "$@" >"$d.info" ||
		die "could not start MariaDB in $d (see $d/server.log)"
}

# load WORLD SOCKET USER: zcat | mariadb, the way the manual says.
load() {
	zcat "${dump[$1]}" | mariadb --no-defaults -S "$2" -u "$3" ||
		die "zcat | mariadb failed for $1"
}

# check WORLD SOCKET USER: the world's tables hold what its dump held.
check() {
	local w=$1 socket=$2 user=$3 t n sum want got=
	while read -r t want; do
		n=$(mariadb --no-defaults -S "$socket" -u "$user" -N -B \
			-e "SELECT COUNT(*) FROM game.\`$t\`") ||
			die "could not count the rows of game.$t of $w"
		sum=$(mariadb --no-defaults -S "$socket" -u "$user" -N -B \
			-e "CHECKSUM TABLE game.\`$t\`" | cut -f2) ||
			die "could not checksum game.$t of $w"
		[ "$n $sum" = "$want" ] ||
			die "$w: game.$t has $n rows, checksum $sum; expected ${want% *} rows, checksum ${want#* }"
		got="$got $t"
	done <"${expected[$w]}"
	[ -n "$got" ] || die "no expected tables for $w in ${expected[$w]}"
}

# stop_all DIR...: stop the servers and remove their directories.
stop_all() {
	local d
	for d in "$@"; do
		"$driver" stop "$d" >&2 || die "could not stop the server in $d"
		rm -rf "$d" "$d.info"
	done
}

info() { sed -n "s/^$2=//p" "$1"; }

# (a) naive, one world after another on default servers.
log "(a) naive: default servers, zcat | mariadb, one world after another"
prepare
t0=$(now)
for w in "${names[@]}"; do
	start_server "$run/naive-$w"
	load "$w" "$(info "$run/naive-$w.info" socket)" \
		"$(info "$run/naive-$w.info" admin_user)"
done
t_naive=$(elapsed "$t0" "$(now)")
log "(a) $t_naive s"
dirs=()
for w in "${names[@]}"; do
	check "$w" "$(info "$run/naive-$w.info" socket)" \
		"$(info "$run/naive-$w.info" admin_user)"
	dirs+=("$run/naive-$w")
done
stop_all "${dirs[@]}"

# (b) dump-restore up.
log "(b) dump-restore up --jobs $jobs"
prepare
t0=$(now)
"$tool" up --root "$run/dr" --jobs "$jobs" "$data/dumps" >&2 ||
	die "dump-restore up failed (exit status $?)"
t_tool=$(elapsed "$t0" "$(now)")
log "(b) $t_tool s"
for w in "${names[@]}"; do
	# The server of a world is the one under a directory named after it.
	state=$(find "$run/dr" -path "*/$w/*" -name instance.state)
	if [ -z "$state" ] || [ "$(echo "$state" | wc -l)" != 1 ]; then
		die "found no single server of $w under $run/dr (as */$w/*/instance.state)"
	fi
	check "$w" "$(info "$state" socket)" "$(info "$state" admin_user)"
done
t0=$(now)
"$tool" down --root "$run/dr" >&2 || die "dump-restore down failed (exit status $?)"
t_down=$(elapsed "$t0" "$(now)")
rm -rf "$run/dr"

# (c) by hand: tuned servers, J worlds at a time.
restore_tuned() {
	start_server "$run/tuned-$1" "${tuning[@]}"
	load "$1" "$(info "$run/tuned-$1.info" socket)" \
		"$(info "$run/tuned-$1.info" admin_user)"
}
log "(c) tuned servers, zcat | mariadb, $jobs worlds at a time"
prepare
t0=$(now)
running=0
for w in "${names[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n || die "a tuned restore failed"
		running=$((running - 1))
	fi
	restore_tuned "$w" &
	running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
	wait -n || die "a tuned restore failed"
	running=$((running - 1))
done
t_tuned=$(elapsed "$t0" "$(now)")
log "(c) $t_tuned s"
dirs=()
for w in "${names[@]}"; do
	check "$w" "$(info "$run/tuned-$w.info" socket)" \
		"$(info "$run/tuned-$w.info" admin_user)"
	dirs+=("$run/tuned-$w")
done
stop_all "${dirs[@]}"

version=$(mariadb --no-defaults --version | sed -n 's/.*Distrib \([^,-]*\).*/\1/p')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }

total_sql=0
dump_rows=
for w in "${names[@]}"; do
	sql=$(zcat "${dump[$w]}" | wc -c)
	total_sql=$((total_sql + sql))
	[ "$sql" -ge 300000000 ] || [ -n "${DUMP_RESTORE_BENCH_ROWS:-}" ] ||
		log "warning: the dump of $w has only $sql bytes of SQL, under 300 MB"
	dump_rows+="| $w | \`${dump[$w]##*/}\` | $(mb "$(wc -c <"${dump[$w]}")") | $(mb "$sql") | $(awk '{ n += $2 } END { print n }' "${expected[$w]}") |
"
done

cat <<EOF
## dump-restore

Bringing back $worlds game worlds from their latest dumps (\`mariadb-dump --databases game --routines --triggers --events --single-transaction | gzip\`, made by \`tests/data/gen-worlds.sh --worlds $worlds --rows $rows\`), $(mb "$total_sql") MB of SQL in all, each world into its own new MariaDB $version server on this host; one run of each procedure, the dumps in the page cache; each time covers creating and starting the servers and loading. Every world was checked afterwards (rows and CHECKSUM TABLE of each table).

| world | dump | MB gzipped | MB of SQL | rows |
|---|---|---:|---:|---:|
${dump_rows}
| procedure | seconds |
|---|---:|
| (a) naive: per world a default server, \`zcat \| mariadb\`, one world after another | $t_naive |
| (b) \`dump-restore up --jobs $jobs\` | $t_tool |
| (c) per world a tuned server (flush_log_at_trx_commit=0, doublewrite=0, 1G buffer pool, 1G redo log), \`zcat \| mariadb\`, $jobs worlds at a time | $t_tuned |

\`dump-restore down\` afterwards: $t_down s (not counted).

dump-restore up / naive sequential: $(ratio "$t_tool" "$t_naive") (goal <= 0.5)

dump-restore up / parallel zcat|mariadb on tuned servers: $(ratio "$t_tool" "$t_tuned")

EOF
