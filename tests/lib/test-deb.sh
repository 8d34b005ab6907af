#!/bin/bash
# Print the path of a dbops .deb built from this tree, building it first when
# there is none newer than every file of the tree (dpkg-buildpackage -b -uc
# -us in a copy under DIR, on this host's release: for the tests that install
# the package, such as tests/ansible.bats). Needs debhelper and the
# Build-Depends of debian/control (make deps installs them).
#
#   tests/lib/test-deb.sh DIR
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$1
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
deb=$(ls "$dir"/dbops_"$version"_*.deb 2>/dev/null | head -n 1 || true)
if [ -n "$deb" ]; then
	newer=$(cd "$top" && find common utils debian man completions Makefile -newer "$deb" -type f -print -quit)
	[ -z "$newer" ] && { echo "$deb"; exit 0; }
fi
rm -rf "$dir/src" "$dir"/*.deb "$dir"/*.changes "$dir"/*.buildinfo
mkdir -p "$dir/src/dbops-$version"
tar -C "$top" --exclude=./build --exclude=./.git --exclude='*.o' -cf - . | tar -C "$dir/src/dbops-$version" -xf -
if ! (cd "$dir/src/dbops-$version" && DEB_BUILD_OPTIONS="parallel=$(nproc) nocheck" \
	dpkg-buildpackage -us -uc -b) >"$dir/build.log" 2>&1; then
	echo "test-deb: error: dpkg-buildpackage failed: see $dir/build.log" >&2
	exit 1
fi
mv "$dir"/src/dbops_"$version"_*.deb "$dir"/
rm -rf "$dir/src"
ls "$dir"/dbops_"$version"_*.deb | head -n 1
