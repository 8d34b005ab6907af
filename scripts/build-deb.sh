#!/bin/bash
# Build, lint, install and test the dbops .deb for the Debian release this
# runs on. It runs inside that release's own environment, as root: a
# debootstrap chroot (`make deb-matrix`), a debian:<release> container (the
# GitHub workflow), or a throwaway machine. It installs what it needs with
# apt-get and leaves the source tree untouched: the build happens in a copy.
#
#   scripts/build-deb.sh [--out DIR]
#
# Steps, each stopping the script on failure:
#   deps        apt-get update; dpkg-dev, lintian, blhc, autopkgtest and
#               the Build-Depends of debian/control (apt-get build-dep)
#   build       dpkg-buildpackage -us -uc -b in a copy of the tree
#   hardening   blhc on the build log: every compiler and linker line has
#               the hardening flags of dpkg-buildflags (hardening=+all)
#   lintian     on the .changes; any E: or W: line fails
#   install     apt-get install the .deb (after purging an installed dbops)
#   version     every /usr/bin tool of the package: --version ends with the
#               changelog's version
#   autopkgtest the debian/tests suite against the installed package
#               (autopkgtest, null runner: this environment is the testbed)
#
# DIR (default build/deb/<release>) receives the .debs, the .changes and
# .buildinfo, build.log, lintian.txt, autopkgtest/ and `summary`, the one-line result
# that is also the last line printed. Exit status 0 when every step passed,
# 1 otherwise.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=/dev/null
release=$(. /etc/os-release && echo "${VERSION_CODENAME:-unknown}")
out=
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) echo "build-deb: error: unknown argument \"$1\"" >&2; exit 1 ;;
	esac
done
out=${out:-$src/build/deb/$release}

if [ "$(id -u)" -ne 0 ]; then
	echo "build-deb: error: must run as root (it installs packages with apt-get)" >&2
	exit 1
fi
if [ ! -f "$src/debian/control" ] || [ ! -f "$src/debian/changelog" ]; then
	echo "build-deb: error: no debian/control or debian/changelog in $src" >&2
	exit 1
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
(cd "$out" && rm -rf ./*.deb ./*.changes ./*.buildinfo build.log lintian.txt summary autopkgtest)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/dbops-deb.XXXXXX")

export DEBIAN_FRONTEND=noninteractive
# Package scripts must not start the system's servers (postgresql and
# mariadb-server come in as test dependencies); a container has no init.
policy=/usr/sbin/policy-rc.d
added_policy=
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	added_policy=1
fi

step=start
step_start=$SECONDS
start=$SECONDS
declare -A took

# step NAME: a new step begins; the previous one's time is recorded.
step() {
	took[$step]=$((SECONDS - step_start))
	step=$1
	step_start=$SECONDS
	printf '\n==== build-deb (%s): %s\n' "$release" "$step"
}

duration() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

finish() {
	local rc=$? line
	[ -n "$added_policy" ] && rm -f "$policy"
	rm -rf "$scratch"
	if [ "$rc" -ne 0 ] && [ "$step" != passed ]; then
		line="FAILED at $step"
		[ -n "${why:-}" ] && line="$line: $why"
		echo "$line" >"$out/summary"
		printf '\n%s: %s\n' "$release" "$line"
	fi
	exit "$rc"
}
trap finish EXIT
why=

# copy DEST: the source tree without build products and VCS data.
copy() {
	mkdir -p "$1"
	tar -C "$src" --exclude=./build --exclude=./.git --exclude=./node_modules \
		--exclude='*.o' -cf - . | tar -C "$1" -xf -
}

step deps
apt-get update -q
apt-get install -y -q --no-install-recommends dpkg-dev lintian blhc autopkgtest
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
tree=$scratch/build/dbops-$version
copy "$tree"
apt-get build-dep -y -q --no-install-recommends "$tree"

step build
(cd "$tree" && dpkg-buildpackage -us -uc -b) 2>&1 | tee "$out/build.log"
changes=$(ls "$scratch"/build/dbops_"$version"_*.changes)
cp "$scratch"/build/*.deb "$scratch"/build/*.changes "$scratch"/build/*.buildinfo "$out"/
deb=$(ls "$out"/dbops_"$version"_*.deb)

step hardening
# --debian: PIE is the compiler's default, not a flag on the command line;
# --all: the rest of hardening=+all (bindnow) is required, not guessed.
hardening=$(blhc --all --debian "$out/build.log" || echo "blhc exited with status $?")
if [ -n "$hardening" ]; then
	printf '%s\n' "$hardening"
	why="hardening flags missing from the build ($(printf '%s\n' "$hardening" | wc -l) lines, see build.log)"
	exit 1
fi

step lintian
# -I and --show-overrides: informational tags and overridden ones are kept
# in lintian.txt for the record; only errors and warnings fail.
lintian_rc=0
lintian -I --show-overrides "$changes" >"$out/lintian.txt" 2>&1 || lintian_rc=$?
cat "$out/lintian.txt"
bad=$(grep -cE '^[EW]: ' "$out/lintian.txt" || true)
overridden=$(grep -cE '^O: ' "$out/lintian.txt" || true)
if [ "$bad" -gt 0 ]; then
	why="$bad errors and warnings"
	exit 1
fi
if [ "$lintian_rc" -ne 0 ]; then
	why="lintian exited with status $lintian_rc"
	exit 1
fi

step install
if dpkg-query -W -f='${db:Status-Status}' dbops 2>/dev/null | grep -q installed; then
	apt-get purge -y -q dbops
fi
apt-get install -y -q --no-install-recommends "$deb"

step version
ntools=0
for tool in $(dpkg -L dbops | grep -E '^/usr/bin/[^/]+$'); do
	got=$("$tool" --version | head -n 1)
	echo "$tool --version: $got"
	if [ "${got##* }" != "$version" ]; then
		why="$tool --version printed \"$got\", not version $version"
		exit 1
	fi
	ntools=$((ntools + 1))
done
if [ "$ntools" -eq 0 ]; then
	why="the package has no tool in /usr/bin"
	exit 1
fi

step autopkgtest
# The null runner: the chroot or container this runs in is the disposable
# testbed, so the tests' dependencies are installed right here, as apt
# would for a user. A fresh copy of the tree is the test source, as
# autopkgtest gets it from a source package; -B: test the .deb just built,
# do not build the tree again.
testsrc=$scratch/test/dbops-$version
copy "$testsrc"
# The null runner of trixie's autopkgtest no longer claims isolation: a test
# marked isolation-container (one that starts servers or opens ports) would
# be skipped, though this chroot or container is exactly that isolation.
atp_rc=0
autopkgtest -B --ignore-restrictions=isolation-container --output-dir "$out/autopkgtest" \
	"$testsrc" "$deb" -- null || atp_rc=$?
npassed=$(grep -cE '^[^ ]+ +PASS' "$out/autopkgtest/summary" 2>/dev/null || true)
if [ "$atp_rc" -ne 0 ] || [ "$npassed" -eq 0 ]; then
	why="autopkgtest exited with status $atp_rc"
	[ -f "$out/autopkgtest/summary" ] && why="$why ($(sort -u "$out/autopkgtest/summary" | tr -s ' \n' ' ;' | sed 's/;$//'))"
	exit 1
fi
# The test cases inside, when the suite speaks TAP (bats --tap).
cases=$(cat "$out"/autopkgtest/*-stdout 2>/dev/null | grep -cE '^ok [0-9]+' || true)
skips=$(cat "$out"/autopkgtest/*-stdout 2>/dev/null | grep -ciE '^ok [0-9]+ .*# skip' || true)
counts=
[ "$cases" -gt 0 ] && counts="$((cases - skips)) TAP cases ok, $skips skipped"

step passed
total=$((SECONDS - start))
size=$(( ($(stat -c %s "$deb") + 1023) / 1024 ))
line="ok, $(basename "$deb") $size KiB, blhc clean, lintian clean"
[ "$overridden" -gt 0 ] && line="$line ($overridden overridden)"
line="$line, $ntools tools --version ok, autopkgtest $npassed passed${counts:+ ($counts)}"
line="$line, build $(duration "${took[build]}"), total $(duration "$total")"
echo "$line" >"$out/summary"
printf '\n%s: %s\n' "$release" "$line"
