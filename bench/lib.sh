# shellcheck shell=bash
# bench/lib.sh - what every benchmark starts with. Sourced, not run (not
# executable, so bench/run.sh passes it over):
#
#   . "$(dirname "$0")/lib.sh"
#   bench_init snap-import "${1:-build}"
#
# bench_init NAME BUILD sets prog (for messages), build (absolute), top (the
# tree), driver (the instance driver), and checks the build exists.

log() { echo "$prog: $*" >&2; }
die() {
	echo "$prog: error: $*" >&2
	exit 1
}

# The variables are for the script that sources this.
# shellcheck disable=SC2034
bench_init() {
	prog=bench/$1
	build=$2
	[ -d "$build" ] ||
		die "build directory \"$build\" does not exist; run make first"
	build=$(cd "$build" && pwd)
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	driver=$build/tests/instance-driver
}

# A scratch directory for one run, on stdout. The servers run as the mysql
# or postgres user when we are root: they must reach into it.
bench_scratch() {
	local dir
	dir=$(mktemp -d /tmp/dbops-bench.XXXXXX) || return 1
	chmod 755 "$dir"
	echo "$dir"
}

# stop_servers_under DIR: stops every server the instance driver started
# below DIR (whatever a failed or interrupted run left running).
stop_servers_under() {
	local state
	while IFS= read -r state; do
		"$driver" stop "$(dirname "$state")" >&2 ||
			log "could not stop the server in $(dirname "$state")"
	done < <(find "$1" -name instance.state)
}

# Wall-clock seconds, and the seconds from $1 to $2 with three decimals.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
