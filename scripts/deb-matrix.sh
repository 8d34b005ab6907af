#!/bin/bash
# `make deb-matrix`: scripts/build-deb.sh for each Debian release, each in a
# chroot of that release, on this machine. Prints one line per release and
# exits 1 if any release failed.
#
#   scripts/deb-matrix.sh [--build DIR] [RELEASE...]   (default: bullseye bookworm trixie)
#
# Under DIR (default build):
#   chroots/<release>/            debootstrap --variant=minbase, made once and
#                                 kept (chroots/<release>.stamp marks it whole)
#   chroots/<release>.work/       a copy of it for one run, so every build starts
#                                 from a bare system and a missing Build-Depends
#                                 shows; removed after a passing run
#   chroots/<release>.apt/        the .debs apt downloaded, reused by later runs
#   deb/<release>/                the results (see scripts/build-deb.sh)
#   deb/<release>.log             everything the run printed
#
# The chroots use DEBIAN_MIRROR (default http://deb.debian.org/debian), the
# release and its -updates suite; DEBIAN_SECURITY_MIRROR (for instance
# http://deb.debian.org/debian-security) adds the -security suite. It is off
# by default: a package build does not need it, and the archive reachable here
# lists bullseye-security files it cannot serve (libarchive-dev +deb11u5: 404).
# Needs root and debootstrap.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=build
releases=()
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	-*) echo "deb-matrix: error: unknown option \"$1\"" >&2; exit 1 ;;
	*) releases+=("$1"); shift ;;
	esac
done
[ ${#releases[@]} -gt 0 ] || releases=(bullseye bookworm trixie)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-}

if [ "$(id -u)" -ne 0 ]; then
	echo "deb-matrix: error: must run as root (debootstrap, chroot, mount)" >&2
	exit 1
fi
if ! command -v debootstrap >/dev/null; then
	echo "deb-matrix: error: debootstrap is not installed" >&2
	echo "deb-matrix: hint: apt-get install debootstrap" >&2
	exit 1
fi

case $build in /*) ;; *) build=$top/$build ;; esac
mkdir -p "$build/chroots" "$build/deb"
build=$(cd "$build" && pwd)

duration() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# mounts_under DIR: the mount points at or below DIR, deepest first.
mounts_under() {
	awk -v d="$1" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r
}

# release_mounts DIR: unmounts everything below DIR; fails if any remains.
release_mounts() {
	local m
	for m in $(mounts_under "$1"); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
	[ -z "$(mounts_under "$1")" ]
}

# prepare RELEASE: the cached base chroot, made if missing.
prepare() {
	local r=$1 base=$build/chroots/$1
	[ -f "$base.stamp" ] && [ -x "$base/bin/sh" ] && return 0
	release_mounts "$base" || return 1
	rm -rf "$base"
	echo "deb-matrix: debootstrap $r into $base" >&2
	debootstrap --variant=minbase "$r" "$base" "$mirror" >"$base.debootstrap.log" 2>&1 || return 1
	echo "debootstrap --variant=minbase $r $mirror" >"$base.stamp"
}

# setup WORK RELEASE: what the run needs inside the copy: the archive (the
# release, its updates, its security suite if asked), no service starts,
# name resolution.
setup() {
	local w=$1 r=$2
	{
		echo "deb $mirror $r main"
		echo "deb $mirror $r-updates main"
		[ -z "$security" ] || echo "deb $security $r-security main"
	} >"$w/etc/apt/sources.list"
	printf '#!/bin/sh\nexit 101\n' >"$w/usr/sbin/policy-rc.d"
	chmod 755 "$w/usr/sbin/policy-rc.d"
	cp /etc/resolv.conf "$w/etc/resolv.conf"
	# The certificate authorities this host adds to Debian's (a TLS proxy's,
	# say): npm inside reaches its registry as the host does.
	if [ -d /usr/local/share/ca-certificates ]; then
		cp -a /usr/local/share/ca-certificates/. "$w/usr/local/share/ca-certificates/"
	fi
	printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$w/etc/hosts"
	mkdir -p "$w/src" "$w/out"
}

# run RELEASE: one release from a fresh copy of its chroot; prints its line.
run() {
	local r=$1 t0=$SECONDS base=$build/chroots/$1 work=$build/chroots/$1.work
	local out=$build/deb/$1 log=$build/deb/$1.log apt=$build/chroots/$1.apt rc=0 line
	mkdir -p "$out" "$apt/partial"
	rm -f "$out/summary"
	: >"$log"
	if ! prepare "$r" >>"$log" 2>&1; then
		echo "$r: FAILED at debootstrap (log: ${base#"$top"/}.debootstrap.log)"
		return 1
	fi
	if ! release_mounts "$work"; then
		echo "$r: FAILED at chroot: $work is still mounted"
		return 1
	fi
	rm -rf "$work"
	cp -a "$base" "$work"
	setup "$work" "$r"

	# /dev keeps debootstrap's device nodes, with the host's ptys and a
	# /dev/shm of its own for PostgreSQL's dynamic shared memory (nothing is
	# mounted below a bind mount, so nothing propagates back to the host).
	# Then the tree read-only (the build works on a copy), the results, and
	# apt's download cache.
	mount -t proc proc "$work/proc" &&
		mount -t sysfs -o ro sysfs "$work/sys" &&
		mount --bind /dev/pts "$work/dev/pts" &&
		mount -t tmpfs -o mode=1777,nosuid,nodev shm "$work/dev/shm" &&
		mount --bind "$top" "$work/src" &&
		mount -o remount,bind,ro "$work/src" &&
		mount --bind "$out" "$work/out" &&
		mount --bind "$apt" "$work/var/cache/apt/archives" || rc=1
	if [ "$rc" -eq 0 ]; then
		env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 TERM=dumb \
			chroot "$work" /bin/bash /src/scripts/build-deb.sh --out /out >>"$log" 2>&1 || rc=$?
	else
		echo "deb-matrix: mounting into $work failed" >>"$log"
	fi
	release_mounts "$work" || echo "deb-matrix: $work is still mounted" >>"$log"
	[ "$rc" -eq 0 ] && [ -z "$(mounts_under "$work")" ] && rm -rf "$work"

	line=$(cat "$out/summary" 2>/dev/null)
	if [ "$rc" -eq 0 ] && [ "${line%%,*}" = ok ]; then
		echo "$r: $line, wall $(duration $((SECONDS - t0)))"
		return 0
	fi
	[ -n "$line" ] || line="FAILED (status $rc)"
	echo "$r: $line (log: ${log#"$top"/})"
	return 1
}

work_now=
trap '[ -n "$work_now" ] && release_mounts "$work_now"; exit 1' INT TERM
failed=0
for r in "${releases[@]}"; do
	work_now=$build/chroots/$r.work
	run "$r" || failed=1
done
exit "$failed"
