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
