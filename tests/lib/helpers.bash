# helpers.bash - loaded by every bats file of the suite:
#   load lib/helpers   (from tests/*.bats; tests/<tool>/*.bats use ../lib/helpers)
#
# It loads bats-support and bats-assert, puts the tools under test first on
# PATH (the build tree, or the installed system when DBOPS_INSTALLED=1, as
# autopkgtest runs it), and loads the server helpers (servers.bash).

DBOPS_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export DBOPS_TOP
export DBOPS_BUILD=${DBOPS_BUILD:-$DBOPS_TOP/build}
# Where the slow things a test makes once are kept between runs (ansible's
# rootfs and .deb, the debootstrapped chroots): the normal build's tree, as
# tests/run.sh sets it when the suites test another build.
export DBOPS_CACHE=${DBOPS_CACHE:-$DBOPS_BUILD}
# The version every tool's --version prints: the newest debian/changelog
# entry's, less an epoch and a Debian revision, read as the Makefile reads it.
DBOPS_VERSION=$(head -n 1 "$DBOPS_TOP/debian/changelog" | cut -d ' ' -f 2 | tr -d '()' |
	sed 's/^[0-9]*://; s/-[^-]*$//')
export DBOPS_VERSION

# bats-support and bats-assert: Debian's packages put them in /usr/lib/bats;
# where the release has none (bullseye), npm's copies are used.
dbops_load_bats_lib() {
	local name=$1 dir
	for dir in ${DBOPS_BATS_LIB:+"$DBOPS_BATS_LIB"} /usr/lib/bats \
		/usr/local/lib/bats "$DBOPS_TOP/node_modules" \
		/usr/local/lib/node_modules /usr/lib/node_modules; do
		if [ -f "$dir/$name/load.bash" ]; then
			load "$dir/$name/load"
			return 0
		fi
	done
	echo "helpers.bash: cannot find $name (install the Debian package $name)" >&2
	return 1
}
dbops_load_bats_lib bats-support
dbops_load_bats_lib bats-assert

if [ "${DBOPS_INSTALLED:-0}" != 1 ]; then
	PATH=$DBOPS_BUILD/bin:$PATH
fi
export PATH

# The test driver over common/instance.c, built by `make tests`.
export DBOPS_DRIVER=${DBOPS_DRIVER:-$DBOPS_BUILD/tests/instance-driver}

load "$DBOPS_TOP/tests/lib/servers"

# assert_usage_screen: $output (of `TOOL --help`) is a usage screen, every
# line under 80 columns (DESIGN: it must fit a terminal with room to spare).
assert_usage_screen() {
	local line
	assert_line --index 0 "Usage:"
	while IFS= read -r line; do
		[ "${#line}" -lt 80 ] || fail "help line of ${#line} columns (80 or more): $line"
	done <<<"$output"
}
