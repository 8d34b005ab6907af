#!/bin/bash
# bench/world-query.sh - world-query next to what a user would otherwise run
# to ask every game world the same question: a shell loop of `mariadb -e`.
#
# Usage: bench/world-query.sh BUILD   (bench/run.sh passes it; `make bench`)
#
# Sixteen worlds, dumped by tests/data/gen-worlds.sh and brought up on this
# host by `dump-restore up` from each world's latest dump, each in its own
# MariaDB server, with the analyst accounts of ROOT/worlds.cnf. One query,
# an aggregate over a join of scores and players, is then run on every
# world, in the same run, by:
#
#   (a) a shell loop, the worlds one after another in natural order:
#         mariadb --defaults-extra-file=ROOT/worlds.cnf \
#                 --defaults-group-suffix=_<world> -B -e "SQL" >>out
#   (b) world-query --root ROOT --format tsv "SQL" >out
#   (c) each world alone, `mariadb ... -B -e "SQL"` as in (a): the slowest
#       world's time is what a concurrent run of all of them is held to.
#       The same client on `DO 0` per world gives what starting it and
#       connecting cost; the rest, summed over the worlds and divided by
#       the cores, is printed for reference: about the least any
#       concurrent run can take on this host when the query is CPU-bound.
#
# Every output is checked against the rows each world returns alone:
# (a) must hold each world's rows under its header, (b) one header and the
# same rows, each led by its world's name. The Markdown section goes to
# stdout; progress goes to stderr.
#
# Environment:
#   WORLD_QUERY_BENCH_WORLDS  worlds (default 16)
#   WORLD_QUERY_BENCH_ROWS    players per world (default 20000; each world
#                             also has 4 times as many scores)
#   WORLD_QUERY_BENCH_ROUNDS  runs of (a) and (b), and of (c) per world; the
#                             best of each counted (default 3)
#   WORLD_QUERY_BENCH_SQL     the query (default: below)
#
# The dumps are made once and kept under BUILD/bench-data/, in a directory
# named after the parameters, the generator's and mariadb-dump's versions;
# a later run with the same ones reuses them.
#
# Fairness, what was decided and why:
# - Every client reaches the servers the same way: TCP to 127.0.0.1 as
#   analyst, from ROOT/worlds.cnf, and writes its output to a file.
# - Before any timing, the query runs once on every world, not counted, so
#   no procedure pays for reading pages into a buffer pool.
# - Rounds alternate the order of (a) and (b), so neither always runs first.
# - The times are of the whole commands: the loop pays for starting one
#   client per world, world-query for starting once and connecting to all.
# - The query is one an analyst would run and that does real work per
#   world (a join and a GROUP BY over every score): with a trivial one the
#   loop would measure nothing but starting clients.
set -eu

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init world-query "${1:-build}"
wq=$build/bin/world-query
dr=$build/bin/dump-restore
gen=$top/tests/data/gen-worlds.sh

worlds=${WORLD_QUERY_BENCH_WORLDS:-16}
rows=${WORLD_QUERY_BENCH_ROWS:-20000}
rounds=${WORLD_QUERY_BENCH_ROUNDS:-3}
# Two kinds of question, measured apart: a light one, as analysts ask most
# (the cost is starting clients and waiting for each world in turn), and a
# heavy aggregate (the cost is the servers' work, which 16 servers share
# the cores for). WORLD_QUERY_BENCH_SQL measures that one query instead.
light_sql="SELECT COUNT(*) AS unfinished FROM matches WHERE winner_id IS NULL"
heavy_sql="SELECT s.world_level, COUNT(DISTINCT s.player_id) AS players, COUNT(*) AS scores, SUM(s.points) AS total FROM scores s JOIN players p ON p.id = s.player_id WHERE p.joined >= '2022-01-01' GROUP BY s.world_level ORDER BY s.world_level"
sql=${WORLD_QUERY_BENCH_SQL:-$heavy_sql}
for v in WORLDS:"$worlds" ROWS:"$rows" ROUNDS:"$rounds"; do
	case ${v#*:} in
	'' | *[!0-9]* | 0*) die "WORLD_QUERY_BENCH_${v%%:*} must be a positive whole number, not \"${v#*:}\"" ;;
	esac
done
[ -n "$sql" ] || die "WORLD_QUERY_BENCH_SQL is empty"

[ -x "$wq" ] || die "world-query is not built: \"$wq\" is missing (make all)"
[ -x "$dr" ] || die "dump-restore is not built: \"$dr\" is missing (make all)"
[ -x "$driver" ] || die "\"$driver\" is missing (make tests)"
[ -x "$gen" ] || die "\"$gen\" is missing or not executable"
for p in mariadb mariadb-dump gzip; do
	command -v "$p" >/dev/null || die "\"$p\" is not installed"
done

# The dumps, made once per set of parameters.
key=$(cat "$gen" <(mariadb-dump --version) | sha256sum | cut -c1-12)
data=$build/bench-data/world-query-w$worlds-r$rows-$key
if [ ! -e "$data/complete" ]; then
	log "generating $worlds worlds of $rows players into $data (once)"
	rm -rf "$data"
	mkdir -p "$data/gen" "$data/dumps"
	TZ=UTC "$gen" --worlds "$worlds" --rows "$rows" --build "$build" \
		"$data/gen" >"$data/manifest" || die "could not generate the dumps"
	# dump-restore gets each world's latest dump alone; the manifest lists
	# each world's dumps oldest first.
	declare -A latest
	while read -r w _ file; do
		latest[$w]=$file
	done <"$data/manifest"
	for file in "${latest[@]}"; do
		ln "$data/gen/$file" "$data/dumps/" ||
			die "could not link \"$file\" into $data/dumps"
	done
	touch "$data/complete"
else
	log "reusing the dumps in $data"
fi

run=
root=
cleanup() {
	[ -n "$run" ] || return 0
	if [ -e "$root" ]; then
		"$dr" down --root "$root" >/dev/null 2>&1 ||
			log "dump-restore down --root $root failed"
	fi
	# Whatever down left running.
	stop_servers_under "$run"
	rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

run=$(bench_scratch)
root=$run/worlds

log "dump-restore up: $worlds worlds"
TZ=UTC "$dr" up --root "$root" --progress never "$data/dumps" >&2 ||
	die "dump-restore up failed (exit status $?)"
cnf=$root/worlds.cnf
[ -r "$cnf" ] || die "dump-restore up wrote no \"$cnf\""

# The worlds, in natural order (world2 before world10).
mapfile -t names < <(sed -n 's/^\[client_\(.*\)\]$/\1/p' "$cnf" | sort -V)
[ "${#names[@]}" = "$worlds" ] ||
	die "$cnf names ${#names[@]} worlds, not $worlds"

client() {
	local w=$1
	shift
	mariadb --defaults-extra-file="$cnf" --defaults-group-suffix="_$w" "$@"
}

# best OLD NEW: the smaller, OLD empty at first.
best() {
	if [ -z "$1" ]; then
		echo "$2"
	else
		awk -v a="$1" -v b="$2" 'BEGIN { print (b < a) ? b : a }'
	fi
}

# measure LABEL: time $sql the three ways and print its section.
measure() {
label=$1
# The warm-up, not timed: each world's rows, as it answers alone, are what
# every procedure must print. $want holds them led by the world, sorted.
log "warm-up: the query once on every world, not counted"
want=$run/want.tsv
: >"$want"
want_rows=0
headers=0
for w in "${names[@]}"; do
	client "$w" -N -B -e "$sql" >"$run/alone.tsv" ||
		die "the query failed on $w: $sql"
	n=$(wc -l <"$run/alone.tsv")
	want_rows=$((want_rows + n))
	# mariadb -B prints no header for an empty result.
	[ "$n" = 0 ] || headers=$((headers + 1))
	awk -v w="$w" '{ print w "\t" $0 }' "$run/alone.tsv" >>"$want"
done
sort -o "$want" "$want"
[ "$want_rows" -gt 0 ] || die "the query returns no row on any world: $sql"
log "$want_rows rows from $worlds worlds"
"$wq" --root "$root" --format tsv "$sql" >/dev/null ||
	die "world-query failed (exit status $?)"

t_loop=
t_wq=
took=

loop() {
	local out=$run/loop.tsv t0 w n
	: >"$out"
	t0=$(now)
	for w in "${names[@]}"; do
		client "$w" -B -e "$sql" >>"$out" ||
			die "mariadb -e failed on $w"
	done
	took=$(elapsed "$t0" "$(now)")
	log "(a) shell loop: $took s"
	n=$(wc -l <"$out")
	[ "$n" = $((want_rows + headers)) ] ||
		die "the shell loop printed $n lines, expected $want_rows rows and $headers headers"
	t_loop=$(best "$t_loop" "$took")
}

world_query() {
	local out=$run/wq.tsv t0 n
	t0=$(now)
	"$wq" --root "$root" --format tsv "$sql" >"$out" ||
		die "world-query failed (exit status $?)"
	took=$(elapsed "$t0" "$(now)")
	log "(b) world-query: $took s"
	n=$(wc -l <"$out")
	[ "$n" = $((want_rows + 1)) ] ||
		die "world-query printed $n lines, expected a header and $want_rows rows"
	tail -n +2 "$out" | sort | cmp -s - "$want" ||
		die "world-query's rows differ from those of each world alone (led by the world): see $out and $want"
	t_wq=$(best "$t_wq" "$took")
}

for r in $(seq 1 "$rounds"); do
	log "round $r of $rounds"
	if [ $((r % 2)) = 1 ]; then
		loop
		world_query
	else
		world_query
		loop
	fi
done

# (c) each world alone, the best of its runs; the slowest world counts.
# The same client on `DO 0` gives what starting it and connecting cost
# there: the rest is the query's own work, which the servers share the
# cores for when run at once.
log "(c) each world alone, $rounds runs each"
t_slowest=
slowest=
work=0
for w in "${names[@]}"; do
	t_w=
	t_client=
	for r in $(seq 1 "$rounds"); do
		t0=$(now)
		client "$w" -B -e "$sql" >"$run/alone.tsv" ||
			die "mariadb -e failed on $w"
		t_w=$(best "$t_w" "$(elapsed "$t0" "$(now)")")
		t0=$(now)
		client "$w" -B -e "DO 0" >"$run/alone.tsv" ||
			die "mariadb -e failed on $w"
		t_client=$(best "$t_client" "$(elapsed "$t0" "$(now)")")
	done
	log "(c) $w: $t_w s (the client on DO 0: $t_client s)"
	work=$(awk -v a="$work" -v b="$t_w" -v c="$t_client" \
		'BEGIN { print a + (b > c ? b - c : 0) }')
	if [ -z "$t_slowest" ] ||
		awk -v a="$t_slowest" -v b="$t_w" 'BEGIN { exit !(b > a) }'; then
		t_slowest=$t_w
		slowest=$w
	fi
done

version=$(mariadb --no-defaults --version | sed -n 's/.*Distrib \([^,-]*\).*/\1/p')
cores=$(nproc)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
secs() { awk -v t="$1" 'BEGIN { printf "%.3f", t }'; }

cat <<EOF
### $label

One query on each of $worlds game worlds, each restored by \`dump-restore up\` into its own MariaDB $version server on this host ($cores cores), from its latest dump made by \`tests/data/gen-worlds.sh --worlds $worlds --rows $rows\`: $rows players, $((rows * 4)) scores and $rows matches per world before the "bad update" of the latest dump. Every client connects over TCP to 127.0.0.1 as analyst, from the \`worlds.cnf\` dump-restore writes, and writes its output to a file; the query ran once on every world before any timing. Best of $rounds runs of each, (a) and (b) alternating; each output checked ($want_rows rows in all).

\`\`\`sql
$sql
\`\`\`

| procedure | seconds |
|---|---:|
| (a) shell loop, one world after another: \`mariadb --defaults-extra-file=worlds.cnf --defaults-group-suffix=_<world> -B -e SQL\` | $(secs "$t_loop") |
| (b) \`world-query --root ROOT --format tsv SQL\` | $(secs "$t_wq") |
| (c) the slowest single world ($slowest), \`mariadb -e\` alone | $(secs "$t_slowest") |

For reference: each world's time alone less that of the same client on \`DO 0\` there (starting, connecting) leaves the query's own work; it adds up to $(secs "$work") s, which over $cores cores is $(ratio "$work" "$cores") s, about the least any concurrent run can take on this host while that work is CPU-bound. world-query's wall time is $(awk -v t="$t_wq" -v w="$work" -v c="$cores" 'BEGIN { if (w > 0) printf "%.2f times", t / (w / c); else printf "(no work measured)" }') that.

world-query vs shell loop of mariadb -e: $(ratio "$t_loop" "$t_wq") times faster (goal >= 5)

world-query wall time / slowest single world: $(ratio "$t_wq" "$t_slowest") (goal <= 1.5)

EOF
}

echo "## world-query"
echo
if [ -n "${WORLD_QUERY_BENCH_SQL:-}" ]; then
	measure "the query given"
else
	sql=$light_sql
	measure "a light question (what analysts ask most)"
	sql=$heavy_sql
	measure "a heavy aggregate (CPU-bound: $(nproc) cores for all the servers)"
fi
