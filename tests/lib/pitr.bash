# shellcheck shell=bash
# pitr.bash - what the pitr-replay suites share (tests/pitr-replay*.bats):
#   load lib/pitr    (at the top of the file: a suite's own definition of
#                     one of these, after it, takes its place)
#
# pitr_generate makes the real archive of tests/data/gen-pitr.sh once per
# file, in $PITR; the rest are small helpers over its files
# (transactions.txt, expected/NAME.rows) and pitr-replay's output.

# pitr_generate: the archive and backups of gen-pitr.sh in $PITR (exported
# with TZ=UTC: initdb takes the base backup's time zone from TZ, so the
# server's "recovery stopping ... time" lines are in UTC).
pitr_generate() {
	dbops_server_root
	export TZ=UTC
	export PITR=$DBOPS_SERVER_ROOT/gen
	if ! "$DBOPS_TOP/tests/data/gen-pitr.sh" --build "$DBOPS_BUILD" "$PITR" \
		2>"$DBOPS_SERVER_ROOT/gen.log"; then
		cat "$DBOPS_SERVER_ROOT/gen.log" >&2
		return 1
	fi
}

# rx TEXT: TEXT as an extended regular expression matching only itself.
# shellcheck disable=SC2001 # a bracket expression, not a substitution
rx() {
	sed 's/[][\.*^$+?(){}|]/\\&/g' <<<"$1"
}

# txn N FIELD: a field of transaction N in transactions.txt (2 xid, 3 commit
# time, 4 commit record LSN, 5 timeline).
txn() {
	awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$G/transactions.txt"
}

# pgtime T: a points.env time as PostgreSQL and pitr-replay print it.
pgtime() {
	sed -E 's/T/ /; s/(\.[0-9]*[1-9])0+\+/\1+/; s/\.0+\+/+/' <<<"$1"
}

# lsn_text N: an LSN as PostgreSQL prints it.
lsn_text() {
	printf '%X/%X\n' $(($1 >> 32)) $(($1 & 0xFFFFFFFF))
}

# lsn_num X/Y: the LSN as a number.
lsn_num() {
	echo $(((0x${1%/*} << 32) | 0x${1#*/}))
}

# lsn_of_segment NAME: where a segment starts.
lsn_of_segment() {
	lsn_text $(( $(segno "$1") * WAL_SEGMENT_SIZE ))
}

# assert_stderr_line ARGS: assert_line over $stderr.
# shellcheck disable=SC2034,SC2154 # bats sets stderr; assert_line reads output
assert_stderr_line() {
	local output=$stderr
	local -a lines=("${stderr_lines[@]}")
	assert_line "$@"
}

# assert_rows CONN NAME: the ticks table is exactly expected/NAME.rows.
assert_rows() {
	local want
	want=$(cat "$G/expected/$2.rows")
	run psql "$1" -AtX -v ON_ERROR_STOP=1 -c "select id,tli,note from ticks order by id"
	assert_success
	assert_output "$want"
}

# assert_differ A B: two expected contents differ, so a test telling them
# apart means something.
assert_differ() {
	if cmp -s "$G/expected/$1.rows" "$G/expected/$2.rows"; then
		fail "expected/$1.rows and expected/$2.rows are the same: the data cannot tell them apart"
	fi
}

# archive_copy DIR: a copy of the archive in $W/DIR, made of hard links:
# remove a file before writing one in its place, never write into one.
archive_copy() {
	A=$W/$1
	cp -al "$G/archive" "$A"
}

# The server of $D is ours (postgres as root, else us), the directory 0700.
assert_server_owner() {
	local who pid
	who=$(id -un)
	[ "$(id -u)" = 0 ] && who=postgres
	assert_equal "$(stat -c '%U %a' "$D")" "$who 700"
	pid=$(head -1 "$D/postmaster.pid")
	assert_equal "$(ps -o user= -p "$pid")" "$who"
}

# The first stderr line is MESSAGE, the only error line; every other line is
# the tool's detail, hint or usage pointer; nothing on stdout; status 1.
# Call after `run --separate-stderr`.
assert_error() {
	local line
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "$1"
	for line in "${stderr_lines[@]:1}"; do
		case $line in
		'pitr-replay: hint: '* | 'pitr-replay: detail: '* | 'Try "pitr-replay --help" for more information.') ;;
		*) fail "unexpected stderr line: $line" ;;
		esac
	done
}

stop_restored() {
	"$DBOPS_DRIVER" stop "$D/pitr-replay"
	assert [ ! -e "$D/postmaster.pid" ]
}

# segno NAME: a segment's number (any segment size).
segno() {
	echo $(( (0x${1:8:8} << 32) / WAL_SEGMENT_SIZE + 0x${1:16:8} ))
}

# restore_keep DIR [options]: restore base-plain (unless -b is given) from the
# archive ($ARCH if set) into $W/DIR, leaving the server running: CONN is its connection
# string, D the data directory. The report is on stderr then.
restore_keep() {
	D=$W/$1
	shift
	local base=(-b "$G/base-plain")
	case " $* " in *' -b '*) base=() ;; esac
	run --separate-stderr pitr-replay restore "${base[@]}" -a "${ARCH:-$G/archive}" -D "$D" \
		--keep-running "$@"
	assert_success
	assert_equal "${#lines[@]}" 1
	CONN=$output
	assert_regex "$CONN" "^host='$D/pitr-replay' port=[0-9]+ user=postgres dbname=postgres\$"
}
