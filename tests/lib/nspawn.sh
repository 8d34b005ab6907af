#!/bin/bash
# A booted systemd in a throwaway container, for the tests that need real
# units (tests/ansible.bats, make demo-deploy). As root; the facts behind it
# are in the project's research notes on systemd-nspawn: on a host whose PID 1
# is not systemd, nspawn boots only with --register=no --keep-unit, from a
# cgroup of its own.
#
#   tests/lib/nspawn.sh rootfs DIR          build the bookworm rootfs in DIR
#                                            once (DIR/.complete marks it and
#                                            names its packages: a rootfs of
#                                            an older list gets the new ones)
#   tests/lib/nspawn.sh start NAME DIR STATE boot DIR as container NAME
#                                            (--volatile=overlay: DIR stays
#                                            untouched); facts in STATE/
#   tests/lib/nspawn.sh stop STATE          power it off, clean up
#
# STATE/init holds the container's PID 1 (for nsenter -t), STATE/nspawn the
# pid of systemd-nspawn, STATE/console the boot log.
set -euo pipefail

# What the rootfs holds besides systemd: python3 for Ansible, sudo and acl for
# the unprivileged run, PostgreSQL for snap-import@, MariaDB for dump-restore,
# redis-server for event-store, and the libraries the dbops .deb links
# against, so that installing it needs no network (the container has a
# private one).
PACKAGES=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,acl,iproute2,ca-certificates
EXTRA="postgresql mariadb-server gzip libpq5 libmariadb3 libmicrohttpd12 libarchive13 libsqlite3-0 zlib1g libssl3 libsystemd0 redis-server libhiredis0.14 libjson-c5"
MIRROR=${DBOPS_DEBIAN_MIRROR:-http://deb.debian.org/debian}

die() {
	echo "nspawn.sh: error: $*" >&2
	exit 1
}

# install_extra DIR: the EXTRA packages into the rootfs DIR, servers not
# started; fails naming DIR's log.
install_extra() {
	local dir=$1
	# Package scripts must not start servers in the chroot: the container's
	# systemd starts them at boot.
	printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
	chmod 755 "$dir/usr/sbin/policy-rc.d"
	mount -t proc proc "$dir/proc"
	# shellcheck disable=SC2086 # the list is meant to split into words
	if ! { chroot "$dir" apt-get update -q && chroot "$dir" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends $EXTRA; } >>"$dir.log" 2>&1; then
		umount "$dir/proc"
		rm -f "$dir/usr/sbin/policy-rc.d"
		die "could not install the packages in \"$dir\": see $dir.log"
	fi
	umount "$dir/proc"
	rm -f "$dir/usr/sbin/policy-rc.d"
	chroot "$dir" apt-get clean
}

rootfs() {
	local dir=$1 want="$PACKAGES $EXTRA"
	if [ -f "$dir/.complete" ]; then
		[ "$(cat "$dir/.complete")" = "$want" ] && return 0
		# Made from an older list: add what it lacks, keep the rest.
		install_extra "$dir"
		chroot "$dir" apt-get -q -d install --reinstall acl >>"$dir.log" 2>&1 ||
			die "could not download acl into \"$dir\": see $dir.log"
		echo "$want" >"$dir/.complete"
		return 0
	fi
	rm -rf "$dir"
	mkdir -p "$(dirname "$dir")"
	debootstrap --variant=minbase --include="$PACKAGES" bookworm "$dir" "$MIRROR" >"$dir.log" 2>&1 ||
		die "could not debootstrap \"$dir\": see $dir.log"
	install_extra "$dir"
	# acl's .deb stays in apt's cache: tests/ansible.bats removes acl from a
	# container to see the role install it again, offline.
	chroot "$dir" apt-get -q -d install --reinstall acl >>"$dir.log" 2>&1 ||
		die "could not download acl into \"$dir\": see $dir.log"
	echo dbops-ct >"$dir/etc/hostname"
	# Timers that would only add noise to a short-lived container.
	local t
	for t in apt-daily apt-daily-upgrade dpkg-db-backup e2scrub_all fstrim; do
		ln -sf /dev/null "$dir/etc/systemd/system/$t.timer"
	done
	echo "$want" >"$dir/.complete"
}

# The cgroup hierarchies a container gets a cgroup of its own in: the
# named systemd one and the unified one on a hybrid host (this project's
# machines), the root on a pure cgroup2 host (not tried here).
cgroup_roots() {
	if [ -d /sys/fs/cgroup/systemd ]; then
		echo /sys/fs/cgroup/systemd
		[ -d /sys/fs/cgroup/unified ] && echo /sys/fs/cgroup/unified
	else
		echo /sys/fs/cgroup
	fi
}

start() {
	local name=$1 dir=$2 state=$3 pid init cg c
	[ -f "$dir/.complete" ] || die "no rootfs in \"$dir\" (run: $0 rootfs $dir)"
	mkdir -p "$state"
	for cg in $(cgroup_roots); do
		mkdir -p "$cg/ct-$name"
	done
	(
		for cg in $(cgroup_roots); do
			echo "$BASHPID" >"$cg/ct-$name/cgroup.procs"
		done
		exec systemd-nspawn -q -b -D "$dir" -M "$name" --register=no --keep-unit \
			--console=read-only --volatile=overlay --private-network \
			</dev/null >"$state/console" 2>&1 3>&- 4>&- 5>&-
	) &
	pid=$!
	echo "$pid" >"$state/nspawn"
	echo "$name" >"$state/name"
	init=
	for _ in $(seq 1 200); do
		for c in $(pgrep -P "$pid" 2>/dev/null); do
			[ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ] && init=$c
		done
		[ -n "$init" ] && break
		kill -0 "$pid" 2>/dev/null || die "systemd-nspawn exited: $(tail -5 "$state/console")"
		sleep 0.1
	done
	[ -n "$init" ] || die "no systemd in container \"$name\" after 20 s"
	echo "$init" >"$state/init"
	# The bus comes up a moment after systemd starts: until then systemctl
	# fails at once.
	local st=
	for _ in $(seq 1 300); do
		st=$(timeout 60 nsenter -t "$init" -a systemctl is-system-running --wait 2>/dev/null || true)
		case $st in running | degraded) break ;; esac
		sleep 0.2
	done
	case $st in
	running) ;;
	degraded) echo "nspawn.sh: warning: container \"$name\" is degraded:" \
		"$(nsenter -t "$init" -a systemctl --failed --plain --no-legend 2>&1 | tr '\n' ' ')" >&2 ;;
	*) die "container \"$name\" did not boot (is-system-running: ${st:-nothing}); see $state/console" ;;
	esac
}

stop() {
	local state=$1 pid init name cg
	[ -f "$state/nspawn" ] || return 0
	pid=$(cat "$state/nspawn")
	init=$(cat "$state/init" 2>/dev/null || true)
	name=$(cat "$state/name")
	if [ -n "$init" ] && kill -0 "$init" 2>/dev/null; then
		nsenter -t "$init" -a systemctl poweroff >/dev/null 2>&1 || true
	fi
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		sleep 1
		kill -9 "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	for cg in $(cgroup_roots); do
		find "$cg/ct-$name" -depth -type d -exec rmdir {} \; 2>/dev/null || true
	done
	rm -f "$state/nspawn"
}

case ${1:-} in
rootfs) rootfs "$2" ;;
start) start "$2" "$3" "$4" ;;
stop) stop "$2" ;;
*) die "usage: $0 rootfs DIR | start NAME DIR STATE | stop STATE" ;;
esac
