#!/bin/sh
# `make demo`: the suite's main job on sample data.
#
# No tool exists yet, so the demo shows the ground they stand on: it starts
# one private PostgreSQL and one private MariaDB server through the common
# library (tests/driver/instance-driver), asks each for its version, and
# stops both. Each tool adds its own part here as it lands.
set -eu
build=${1:-build}
driver=$build/tests/instance-driver
root=$(mktemp -d "${TMPDIR:-/tmp}/dbops-demo.XXXXXX")
chmod 0755 "$root"
cleanup() {
	for d in "$root"/pg "$root"/mariadb; do
		[ -f "$d/instance.state" ] && "$driver" stop "$d"
	done
	rm -rf "$root"
}
trap cleanup EXIT INT TERM

say() { printf '\n== %s\n' "$*"; }

say "no dbops tool is built yet: showing the common library's private servers"
say "starting a private PostgreSQL in $root/pg"
"$driver" start postgres "$root/pg" | tee "$root/pg.info"
pg_sock=$(sed -n 's/^socket_dir=//p' "$root/pg.info")
pg_port=$(sed -n 's/^port=//p' "$root/pg.info")
psql -h "$pg_sock" -p "$pg_port" -U postgres -AtX -c 'SELECT version()'

say "starting a private MariaDB in $root/mariadb"
"$driver" start mariadb "$root/mariadb" | tee "$root/mariadb.info"
my_sock=$(sed -n 's/^socket=//p' "$root/mariadb.info")
my_admin=$(sed -n 's/^admin_user=//p' "$root/mariadb.info")
mariadb --no-defaults -S "$my_sock" -u "$my_admin" -N -e 'SELECT VERSION()'

say "stopping both"
"$driver" stop "$root/pg"
"$driver" stop "$root/mariadb"
echo "demo: done"
