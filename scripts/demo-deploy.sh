#!/bin/bash
# `make demo-deploy`: ansible/site.yml deploys the .deb built from this tree
# to a booted bookworm container (systemd-nspawn, tests/lib/nspawn.sh), with
# a snap-import@game instance on the container's PostgreSQL, event-store with
# the container's Redis, and two worlds brought up from dumps, twice: the second run's recap shows changed=0. As
# root; the rootfs and the .deb are kept under BUILD/ansible.
#
#   scripts/demo-deploy.sh [BUILD]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(mkdir -p "${1:-build}" && cd "${1:-build}" && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "demo-deploy: error: must run as root (systemd-nspawn, debootstrap)" >&2
	exit 1
fi
run=$(mktemp -d "${TMPDIR:-/tmp}/dbops-deploy.XXXXXX")
cleanup() {
	"$top/tests/lib/nspawn.sh" stop "$run/ct"
	rm -rf "$run"
}
trap cleanup EXIT INT TERM
say() { printf '\n== %s\n' "$*"; }

say "the container's rootfs (bookworm, systemd, PostgreSQL, MariaDB, Redis) and the .deb"
"$top/tests/lib/nspawn.sh" rootfs "$build/ansible/rootfs-bookworm"
deb=$("$top/tests/lib/test-deb.sh" "$build/ansible/deb")
echo "$deb"

say "boot the container"
"$top/tests/lib/nspawn.sh" start "dbops-demo-$$" "$build/ansible/rootfs-bookworm" "$run/ct"
init=$(cat "$run/ct/init")
mkdir -p "/proc/$init/root/srv/dumps"
for w in world1 world2; do
	printf 'CREATE TABLE players (id INT PRIMARY KEY);\nINSERT INTO players VALUES (1),(2);\n' |
		gzip >"/proc/$init/root/srv/dumps/$w-2024-03-01T02:00:00Z.sql.gz"
done
cat >"$run/inventory.yml" <<EOI
dbops:
  hosts:
    demo:
      ansible_connection: nsenter_chroot
      ansible_host: /proc/$init/root
      ansible_chroot_exe: $top/tests/lib/nsenter-chroot
      ansible_python_interpreter: /usr/bin/python3
      dbops_install_source: deb
      dbops_deb_file: $deb
      dbops_snap_import_instances:
        - {name: game, dir: /srv/snapshots/game, database: game, listen: "127.0.0.1:9187",
           user: loader, create_dir: true, local_database: game}
      dbops_event_store_enabled: true
      dbops_event_store_local_database: true
      dbops_event_store_pg_database: events
      dbops_worlds_enabled: true
      dbops_worlds_sources: [/srv/dumps]
      dbops_worlds_at: "2024-03-01 12:00"
      dbops_worlds_inventory_host: demo
EOI
export ANSIBLE_CONFIG=$top/ansible/ansible.cfg ANSIBLE_HOME=$run/home ANSIBLE_LOCAL_TEMP=$run/tmp
export ANSIBLE_CONNECTION_PLUGINS=$top/tests/lib/ansible-plugins/connection
cd "$top/ansible"
say "first run: ansible-playbook -i inventory.yml site.yml"
ansible-playbook -i "$run/inventory.yml" site.yml >"$run/run1.log" 2>&1 || { cat "$run/run1.log"; exit 1; }
sed -n '/^PLAY RECAP/,$p' "$run/run1.log"
say "second run: nothing to change"
ansible-playbook -i "$run/inventory.yml" site.yml | sed -n '/^PLAY RECAP/,$p'
say "in the container"
nsenter -t "$init" -a systemctl --no-pager status snap-import@game.service | head -n 6
nsenter -t "$init" -a world-query --inventory /etc/dbops/worlds.cnf 'SELECT count(*) AS players FROM players'
nsenter -t "$init" -a systemctl --no-pager status event-store.service | head -n 6
# An event and the dashboard, by the container's python3 (no curl there).
nsenter -t "$init" -a python3 -c '
import json, urllib.request, uuid
def call(path, body=None):
    req = urllib.request.Request("http://127.0.0.1:8480" + path, method="POST" if body else "GET",
                                 data=json.dumps(body).encode() if body else None,
                                 headers={"Content-Type": "application/json"})
    text = urllib.request.urlopen(req).read().decode()
    print("$", "POST" if body else "GET", path, json.dumps(body) if body else "")
    print(text)
u = str(uuid.uuid4())
call("/initial", {"uuid": u, "symbol": "e"})
call("/followup", {"uuid": u})
call("/dashboard/symbol/e")
call("/health")
'
