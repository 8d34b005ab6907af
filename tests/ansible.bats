#!/usr/bin/env bats
# The Ansible role and playbook of ansible/, for real: ansible-lint's
# production profile, then site.yml applied to booted bookworm containers
# (systemd-nspawn, tests/lib/nspawn.sh) through the community.general.chroot
# connection and an nsenter wrapper, with the .deb built from this tree.
# snap-import@ instances must really start and import into the container's
# PostgreSQL, event-store must answer events and dashboards with its Redis,
# worlds come up from dumps as of a time, a second run changes
# nothing, check mode changes nothing and fails nothing, handlers restart only
# the instance that changed, and an unprivileged user with sudo deploys a
# fresh container.
#
# As root (make check runs it so). The rootfs and the .deb are kept under
# $DBOPS_CACHE/ansible between runs.

load lib/helpers

# Why the container tests cannot run here, or nothing.
container_skip_reason() {
	[ "$(id -u)" -eq 0 ] || { echo "needs root (systemd-nspawn, debootstrap)"; return; }
	local c
	for c in systemd-nspawn debootstrap nsenter ansible-playbook dpkg-buildpackage; do
		command -v "$c" >/dev/null || { echo "$c is not installed (make deps installs it)"; return; }
	done
	# A container without CAP_SYS_ADMIN (Docker's default, as in the check
	# workflow) can make no mount namespace: nspawn cannot run there.
	unshare --mount --fork true 2>/dev/null ||
		{ echo "no mount namespace can be made here (an unprivileged container?): systemd-nspawn cannot run"; return; }
	[ -d /sys/fs/cgroup/systemd ] || [ -f /sys/fs/cgroup/cgroup.controllers ] ||
		{ echo "no cgroup hierarchy for systemd-nspawn"; return; }
	[ -w /sys/fs/cgroup ] || [ -w /sys/fs/cgroup/systemd ] ||
		{ echo "the cgroup hierarchy is read-only here: systemd-nspawn cannot run"; return; }
	ansible-doc -t connection community.general.chroot >/dev/null 2>&1 ||
		echo "the community.general collection is missing (Debian's ansible package has it)"
}

setup_file() {
	export ANS_DIR=$DBOPS_TOP/ansible
	export ANS_CACHE=$DBOPS_CACHE/ansible
	ANS_RUN=$(mktemp -d "${TMPDIR:-/tmp}/dbops-ansible.XXXXXX")
	export ANS_RUN
	export ANSIBLE_CONFIG=$ANS_DIR/ansible.cfg ANSIBLE_HOME=$ANS_RUN/home
	export ANSIBLE_CONNECTION_PLUGINS=$DBOPS_TOP/tests/lib/ansible-plugins/connection
	export ANSIBLE_LOCAL_TEMP=$ANS_RUN/tmp ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
	ANS_SKIP=$(container_skip_reason)
	export ANS_SKIP
	[ -z "$ANS_SKIP" ] || return 0
	"$DBOPS_TOP/tests/lib/nspawn.sh" rootfs "$ANS_CACHE/rootfs-bookworm"
	ANS_DEB=$("$DBOPS_TOP/tests/lib/test-deb.sh" "$ANS_CACHE/deb")
	export ANS_DEB
	ct_start ct1
	CT1_ROOT="/proc/$(cat "$ANS_RUN/ct1/init")/root"
	export CT1_ROOT
	make_dumps "$CT1_ROOT/srv/dumps"
	printf 'groups: []\n' >"$ANS_RUN/rules.yml"
	write_inventory ct1 "$ANS_RUN/ct1.yml"
}

teardown_file() {
	[ -n "${ANS_RUN:-}" ] || return 0
	local s
	for s in "$ANS_RUN"/ct*/; do
		[ -d "$s" ] && "$DBOPS_TOP/tests/lib/nspawn.sh" stop "$s"
	done
	[ -d "$ANS_RUN/gnupg" ] && GNUPGHOME=$ANS_RUN/gnupg gpgconf --kill gpg-agent
	rm -rf "$ANS_RUN"
}

need_containers() {
	[ -z "$ANS_SKIP" ] || skip "$ANS_SKIP"
}

ct_start() {
	local name=dbops-ans-$1-$$
	"$DBOPS_TOP/tests/lib/nspawn.sh" start "$name" "$ANS_CACHE/rootfs-bookworm" "$ANS_RUN/$1"
}

# in_ct NAME CMD...: run CMD in the container as root.
in_ct() {
	local init
	init=$(cat "$ANS_RUN/$1/init")
	shift
	nsenter -t "$init" -a "$@"
}

# Two worlds' dumps: world1 has 2 rows as of 2024-03-01 and 3 a day later,
# world2 5 rows.
make_dumps() {
	local d=$1
	mkdir -p "$d"
	dump "$d/world1-2024-03-01T02:00:00Z.sql.gz" 2
	dump "$d/world1-2024-03-02T02:00:00Z.sql.gz" 3
	dump "$d/world2-2024-03-01T01:00:00Z.sql.gz" 5
}

dump() {
	local i
	{
		echo 'CREATE TABLE players (id INT PRIMARY KEY, name VARCHAR(20));'
		for i in $(seq 1 "$2"); do echo "INSERT INTO players VALUES ($i, 'p$i');"; done
	} | gzip >"$1"
}

# write_inventory NAME FILE: the inventory of container NAME as host NAME.
write_inventory() {
	local init
	init=$(cat "$ANS_RUN/$1/init")
	cat >"$2" <<-EOF
		dbops:
		  hosts:
		    $1:
		      ansible_connection: nsenter_chroot
		      ansible_host: /proc/$init/root
		      ansible_chroot_exe: $DBOPS_TOP/tests/lib/nsenter-chroot
		      ansible_python_interpreter: /usr/bin/python3
		      dbops_install_source: deb
		      dbops_deb_file: $ANS_DEB
		      dbops_snap_import_instances:
		        - name: game
		          dir: /srv/snapshots/game
		          database: game
		          listen: 127.0.0.1:9187
		          user: loader
		          create_dir: true
		          local_database: game
		        - name: shop
		          dir: /srv/snapshots/shop
		          database: game
		          table: orders
		          user: loader
		          create_dir: true
		          local_database: game
		      dbops_event_store_enabled: true
		      dbops_event_store_local_database: true
		      dbops_event_store_pg_database: events
		      dbops_event_store_redis_password: $ES_REDIS_PASSWORD
		      dbops_event_store_options: [--threads, "2"]
		      dbops_worlds_enabled: true
		      dbops_worlds_sources: [/srv/dumps]
		      dbops_worlds_at: "2024-03-01 12:00"
		      dbops_worlds_inventory_host: $1
		      dbops_monitoring_files:
		        - src: $ANS_RUN/rules.yml
		          dest: /etc/prometheus/rules/dbops.yml
	EOF
}

# The Redis password of the inventories: it must show nowhere but in the
# root-only files.
ES_REDIS_PASSWORD=es-test-secret-4711

# es_http CT METHOD PATH [JSON]: "STATUS BODY" of a request to the
# container's event-store, by the container's own python3.
es_http() {
	local ct=$1
	shift
	in_ct "$ct" python3 -c '
import sys, urllib.request, urllib.error
m, p = sys.argv[1], sys.argv[2]
body = sys.argv[3].encode() if len(sys.argv) > 3 else None
req = urllib.request.Request("http://127.0.0.1:8480" + p, data=body, method=m,
                             headers={"Content-Type": "application/json"})
try:
    r = urllib.request.urlopen(req, timeout=10)
    print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
' "$@"
}

# play LOG [ansible-playbook options]: run site.yml, output in LOG.
play() {
	local log=$1
	shift
	(cd "$ANS_DIR" && ansible-playbook site.yml "$@") >"$log" 2>&1
}

# recap LOG HOST FIELD: the number after FIELD= in HOST's PLAY RECAP line.
recap() {
	sed -n "s/^$2 *:.* $3=\\([0-9]*\\).*/\\1/p" "$1" | tail -n 1
}

show() {
	echo "--- $1"
	grep -E '^(TASK|changed|fatal|failed|FAILED|ERROR|PLAY RECAP|[a-z0-9-]+ +:)|msg' "$1" | tail -n 80
}

@test "ansible-lint: the role and playbook pass the production profile" {
	command -v ansible-lint >/dev/null || skip "ansible-lint is not installed (make deps installs it)"
	local v
	v=$(ansible-lint --nocolor --version 2>/dev/null | sed -n 's/^ansible-lint \([0-9]*\)\..*/\1/p' | head -n 1)
	# bullseye's is 4.3: it has no profiles, and its rules predate the
	# fully qualified names the role uses.
	[ "${v:-0}" -ge 6 ] || skip "ansible-lint ${v:-?} has no production profile (needs 6 or later: bookworm, trixie)"
	cd "$ANS_DIR"
	run ansible-lint --nocolor --profile production site.yml roles/dbops
	echo "$output"
	assert_success
	assert_output --partial 'Passed with production profile'
}

@test "ansible: the argument specs refuse a wrongly typed variable before any task" {
	command -v ansible-playbook >/dev/null || skip "ansible is not installed (make deps installs it)"
	cd "$ANS_DIR"
	printf 'dbops:\n  hosts:\n    h1:\n      ansible_connection: local\n' >"$ANS_RUN/bad.yml"
	ANSIBLE_REMOTE_TEMP=$ANS_RUN/remote run ansible-playbook -i "$ANS_RUN/bad.yml" site.yml -e dbops_worlds_jobs=many -e '{"dbops_snap_import_instances": [{"dir": "/x"}]}'
	echo "$output"
	assert_failure
	assert_output --partial 'Validating arguments against arg spec'
	assert_output --regexp "dbops_worlds_jobs.*int|int.*dbops_worlds_jobs"
	assert_output --partial 'missing required arguments: name'
}

@test "ansible: first run installs the .deb, starts snap-import@ instances that import, event-store with Redis, brings worlds up" {
	need_containers
	local t0=$SECONDS
	play "$ANS_RUN/run1.log" -i "$ANS_RUN/ct1.yml" || { show "$ANS_RUN/run1.log"; false; }
	show "$ANS_RUN/run1.log"
	echo "# first run: $((SECONDS - t0)) s" >&3
	[ "$(recap "$ANS_RUN/run1.log" ct1 failed)" = 0 ]
	[ "$(recap "$ANS_RUN/run1.log" ct1 changed)" -gt 0 ]

	run in_ct ct1 dpkg-query -W -f '${Version}' dbops
	assert_output "$DBOPS_VERSION"
	run in_ct ct1 cat /etc/dbops/snap-import/game.conf
	assert_output --partial 'SNAP_IMPORT_OPTS=-D /srv/snapshots/game -d game -t snapshots --listen 127.0.0.1:9187'
	for i in game shop; do
		run in_ct ct1 systemctl is-active "snap-import@$i.service"
		assert_output active
		run in_ct ct1 systemctl is-enabled "snap-import@$i.service"
		assert_output enabled
		run in_ct ct1 systemctl show -p User --value "snap-import@$i.service"
		assert_output loader
	done

	# A snapshot dropped into the folder is imported by the running service:
	# psql, as the database's superuser, is the oracle.
	printf 'id,name\n1,a\n2,b\n3,c\n' >"$CT1_ROOT/srv/snapshots/game/.s1.csv"
	in_ct ct1 sh -c 'chown loader: /srv/snapshots/game/.s1.csv && mv /srv/snapshots/game/.s1.csv /srv/snapshots/game/s1.csv'
	local n i
	for i in $(seq 1 50); do
		n=$(in_ct ct1 runuser -u postgres -- psql -XAtd game -c 'SELECT count(*) FROM snapshots' 2>/dev/null || true)
		[ "$n" = 3 ] && break
		sleep 0.2
	done
	[ "$n" = 3 ]
	run in_ct ct1 python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9187/metrics").read().decode())'
	assert_output --regexp 'dbops_snap_import_files_total\{result="imported"\} 1'

	# The worlds as of 2024-03-01 12:00: world1's first dump (2 rows),
	# world2's (5), read back by the mariadb client through the merged
	# inventory.
	run in_ct ct1 stat -c '%a %U' /etc/dbops/worlds.cnf
	assert_output '600 root'
	for i in world1:2 world2:5; do
		run in_ct ct1 mariadb --defaults-extra-file=/etc/dbops/worlds.cnf \
			--defaults-group-suffix="_${i%%:*}" -NBe 'SELECT count(*) FROM players'
		assert_output "${i#*:}"
	done
	run in_ct ct1 cat /etc/prometheus/rules/dbops.yml
	assert_output 'groups: []'

	# event-store: active, enabled, as its own user, with the role's
	# options; its environment file root's alone.
	run in_ct ct1 systemctl is-active event-store.service
	assert_output active
	run in_ct ct1 systemctl is-enabled event-store.service
	assert_output enabled
	local pid
	pid=$(in_ct ct1 systemctl show -p MainPID --value event-store.service)
	run in_ct ct1 ps -o user= -p "$pid"
	assert_output event-store
	run in_ct ct1 stat -c '%a %U' /etc/dbops/event-store.conf
	assert_output '600 root'
	local cmdline
	cmdline=$(in_ct ct1 cat "/proc/$pid/cmdline" | tr '\0' ' ')
	run echo "$cmdline"
	assert_output '/usr/bin/event-store --listen 127.0.0.1:8480 --schema event_store --threads 2 '
	# The password is in neither the command line nor the play's output.
	refute_output --partial "$ES_REDIS_PASSWORD"
	run grep -c "$ES_REDIS_PASSWORD" "$ANS_RUN/run1.log"
	assert_output 0
	# Its Redis: loopback, no persistence, no eviction, a password.
	run in_ct ct1 redis-cli PING
	assert_output --partial NOAUTH
	run in_ct ct1 redis-cli --no-auth-warning -a "$ES_REDIS_PASSWORD" CONFIG GET bind
	assert_output "$(printf 'bind\n127.0.0.1')"
	run in_ct ct1 redis-cli --no-auth-warning -a "$ES_REDIS_PASSWORD" CONFIG GET save
	assert_output "$(printf 'save\n')"
	run in_ct ct1 redis-cli --no-auth-warning -a "$ES_REDIS_PASSWORD" CONFIG GET maxmemory-policy
	assert_output "$(printf 'maxmemory-policy\nnoeviction')"
	# An event, its follow-up and the dashboards; psql, as the database's
	# superuser, counts the rows.
	local u=0b7e5c2a-1f3d-4a6b-8c9d-0e1f2a3b4c5d
	run es_http ct1 POST /initial "{\"uuid\":\"$u\",\"symbol\":\"e\"}"
	assert_output "200 {\"uuid\":\"$u\",\"symbol\":\"e\",\"vowel\":true}"
	run es_http ct1 POST /followup "{\"uuid\":\"$u\"}"
	assert_output "200 {\"uuid\":\"$u\",\"symbol\":\"e\",\"followup\":true}"
	run es_http ct1 POST /initial "{\"uuid\":\"$u\",\"symbol\":\"b\"}"
	assert_output "409 {\"error\":\"uuid $u already has an initial event\"}"
	run es_http ct1 GET /dashboard/symbol/e
	assert_output --regexp '^200 \{"count":1,"symbol":"e","earliest":"[0-9-]{10} [0-9:]{8}\.[0-9]{6}","latest":"[0-9-]{10} [0-9:]{8}\.[0-9]{6}","followups":1\}$'
	run es_http ct1 GET "/dashboard/range/2000-01-01/2100-01-01"
	assert_output --regexp '^200 \[\{"count":1,"symbol":"e",.*"followups":1\}\]$'
	run in_ct ct1 runuser -u postgres -- psql -XAtd events -c \
		'SELECT count(*), count(f.uuid) FROM event_store.initial_events i LEFT JOIN event_store.followups f USING (uuid)'
	assert_output '1|1'
	run es_http ct1 GET /health
	assert_output '200 {"postgresql":true,"redis":true}'
	# The unit as systemd runs it: notify, a 20 s watchdog; a stop is
	# SIGTERM, answered by a drain and exit 0.
	run in_ct ct1 systemctl show -p Type -p WatchdogUSec -p NotifyAccess event-store.service
	assert_output "$(printf 'Type=notify\nNotifyAccess=main\nWatchdogUSec=20s')"
	in_ct ct1 systemctl stop event-store.service
	run in_ct ct1 systemctl show -p Result -p ExecMainStatus event-store.service
	assert_output "$(printf 'Result=success\nExecMainStatus=0')"
	in_ct ct1 systemctl start event-store.service
	run es_http ct1 GET /dashboard/symbol/e
	assert_output --regexp '^200 \{"count":1,'
}

@test "ansible: the second run changes nothing" {
	need_containers
	local t0=$SECONDS
	play "$ANS_RUN/run2.log" -i "$ANS_RUN/ct1.yml" || { show "$ANS_RUN/run2.log"; false; }
	show "$ANS_RUN/run2.log"
	echo "# second run: $((SECONDS - t0)) s; $(grep -E '^ct1 +:' "$ANS_RUN/run2.log")" >&3
	[ "$(recap "$ANS_RUN/run2.log" ct1 failed)" = 0 ]
	[ "$(recap "$ANS_RUN/run2.log" ct1 changed)" = 0 ]
	# event-store, once it has run longer than its WatchdogSec (20 s), is
	# still the same process, never killed: the batcher pings systemd.
	local since ran
	since=$(in_ct ct1 systemctl show -p ActiveEnterTimestamp --value event-store.service)
	ran=$(($(date +%s) - $(date -d "$since" +%s)))
	[ "$ran" -ge 25 ] || sleep $((25 - ran))
	run in_ct ct1 systemctl show -p NRestarts -p ActiveState -p ActiveEnterTimestamp event-store.service
	assert_output "$(printf 'NRestarts=0\nActiveState=active\nActiveEnterTimestamp=%s' "$since")"
}

@test "ansible: --check --diff on the configured host reports no change and fails no task" {
	need_containers
	play "$ANS_RUN/check.log" -i "$ANS_RUN/ct1.yml" --check --diff || { show "$ANS_RUN/check.log"; false; }
	show "$ANS_RUN/check.log"
	[ "$(recap "$ANS_RUN/check.log" ct1 failed)" = 0 ]
	[ "$(recap "$ANS_RUN/check.log" ct1 changed)" = 0 ]
}

@test "ansible: a changed instance is restarted, the other is not" {
	need_containers
	local game shop
	game=$(in_ct ct1 systemctl show -p MainPID --value snap-import@game.service)
	shop=$(in_ct ct1 systemctl show -p MainPID --value snap-import@shop.service)
	sed 's/table: orders/table: orders\n          pattern: "*.txt"/' "$ANS_RUN/ct1.yml" >"$ANS_RUN/ct1-changed.yml"
	grep -q 'pattern: "\*.txt"' "$ANS_RUN/ct1-changed.yml"
	play "$ANS_RUN/run3.log" -i "$ANS_RUN/ct1-changed.yml" --diff || { show "$ANS_RUN/run3.log"; false; }
	show "$ANS_RUN/run3.log"
	# The handler's own lines: shop restarted, game not.
	sed -n '/^RUNNING HANDLER \[dbops : Dbops restart changed snap-import instances\]/,/^$/p' \
		"$ANS_RUN/run3.log" >"$ANS_RUN/handler.log"
	cat "$ANS_RUN/handler.log"
	grep -q 'changed: \[ct1\] => (item=shop)' "$ANS_RUN/handler.log"
	run grep -c 'item=game' "$ANS_RUN/handler.log"
	assert_output 0
	[ "$(in_ct ct1 systemctl show -p MainPID --value snap-import@game.service)" = "$game" ]
	[ "$(in_ct ct1 systemctl show -p MainPID --value snap-import@shop.service)" != "$shop" ]
	run in_ct ct1 systemctl is-active snap-import@shop.service
	assert_output active
	[ "$(recap "$ANS_RUN/run3.log" ct1 changed)" = 2 ]
}

@test "ansible: an unprivileged user with sudo deploys a fresh host; become only where the role says" {
	need_containers
	ct_start ct2
	in_ct ct2 useradd -m -s /bin/bash deployer
	# Without acl, becoming postgres from the deployer fails (chmod: invalid
	# mode: 'A+user:postgres:rx:allow'): the role installs it first.
	in_ct ct2 dpkg -r acl >/dev/null
	echo 'deployer ALL=(ALL:ALL) NOPASSWD: ALL' >"/proc/$(cat "$ANS_RUN/ct2/init")/root/etc/sudoers.d/deployer"
	make_dumps "/proc/$(cat "$ANS_RUN/ct2/init")/root/srv/dumps"
	write_inventory ct2 "$ANS_RUN/ct2.yml"
	# Without pipelining, a module run as postgres is a file the deployer
	# writes: becoming another unprivileged user needs acl (setfacl).
	# The chroot connection expands ~ on the controller (root's home): the
	# deployer's temporary files go under /tmp instead, as the message of
	# Ansible advises.
	export DBOPS_CT_USER=deployer ANSIBLE_PIPELINING=0 ANSIBLE_REMOTE_TEMP=/tmp/.ansible-deployer
	# Check mode on the fresh host: no task fails (the unit that the package
	# would bring is not asked about).
	play "$ANS_RUN/user-check.log" -i "$ANS_RUN/ct2.yml" --check || { show "$ANS_RUN/user-check.log"; false; }
	show "$ANS_RUN/user-check.log"
	[ "$(recap "$ANS_RUN/user-check.log" ct2 failed)" = 0 ]
	run in_ct ct2 dpkg-query -W -f '${db:Status-Status}' dbops
	refute_output installed
	# Then with privilege escalation turned off: facts and the preflight
	# checks pass as the deployer; the first task that changes the system is
	# refused, and nothing after it runs.
	play "$ANS_RUN/user0.log" -i "$ANS_RUN/ct2.yml" -e ansible_become=false || true
	show "$ANS_RUN/user0.log"
	[ "$(recap "$ANS_RUN/user0.log" ct2 failed)" = 1 ]
	grep -A2 "^TASK \[dbops : Install | Create the .deb's folder\]" "$ANS_RUN/user0.log" |
		grep -q 'fatal: \[ct2\]: FAILED.*Permission denied'
	[ "$(recap "$ANS_RUN/user0.log" ct2 changed)" = 0 ]
	play "$ANS_RUN/user1.log" -i "$ANS_RUN/ct2.yml" || { show "$ANS_RUN/user1.log"; false; }
	show "$ANS_RUN/user1.log"
	[ "$(recap "$ANS_RUN/user1.log" ct2 failed)" = 0 ]
	run in_ct ct2 systemctl is-active snap-import@game.service
	assert_output active
	run in_ct ct2 dpkg-query -W -f '${db:Status-Status}' acl
	assert_output installed
	play "$ANS_RUN/user2.log" -i "$ANS_RUN/ct2.yml" || { show "$ANS_RUN/user2.log"; false; }
	echo "# as deployer, second run: $(grep -E '^ct2 +:' "$ANS_RUN/user2.log")" >&3
	[ "$(recap "$ANS_RUN/user2.log" ct2 changed)" = 0 ]
	# The deployer's sudo log: every command ran through sudo.
	run in_ct ct2 journalctl -q --no-pager _COMM=sudo
	assert_output --partial 'deployer : PWD='
}

# make_repo DIR KEYNAME: a signed apt repository of the .deb (bookworm main),
# apt-ftparchive and gpg being the tools, signed with KEYNAME's key; its
# armored public key in DIR.key.asc.
make_repo() {
	local dir=$1 key=$2 rel=$1/dists/bookworm
	export GNUPGHOME=$ANS_RUN/gnupg
	mkdir -p "$GNUPGHOME"
	chmod 0700 "$GNUPGHOME"
	gpg -q --list-keys "$key@dbops.test" >/dev/null 2>&1 ||
		gpg -q --batch --passphrase '' --quick-gen-key "$key <$key@dbops.test>" ed25519 sign never
	gpg -q --armor --export "$key@dbops.test" >"$dir.key.asc"
	mkdir -p "$dir/pool" "$rel/main/binary-amd64"
	cp "$ANS_DEB" "$dir/pool/"
	(cd "$dir" && apt-ftparchive packages pool >dists/bookworm/main/binary-amd64/Packages)
	apt-ftparchive -o APT::FTPArchive::Release::Suite=bookworm -o APT::FTPArchive::Release::Codename=bookworm \
		-o APT::FTPArchive::Release::Components=main -o APT::FTPArchive::Release::Architectures=amd64 \
		release "$rel" >"$rel/Release.new"
	mv "$rel/Release.new" "$rel/Release"
	gpg -q --batch --yes --local-user "$key@dbops.test" --clearsign -o "$rel/InRelease" "$rel/Release"
}

@test "ansible: installs from a signed apt repository (Signed-By); another key's repository is refused" {
	need_containers
	command -v apt-ftparchive >/dev/null && command -v gpg >/dev/null || skip "apt-ftparchive or gpg is missing"
	ct_start ct3
	local root
	root="/proc/$(cat "$ANS_RUN/ct3/init")/root"
	make_repo "$ANS_RUN/repo" good
	make_repo "$ANS_RUN/other" other
	cp -a "$ANS_RUN/repo" "$root/srv/repo"
	# The container has no network: Debian's own source would fail every
	# apt update (what it needs is installed already).
	rm -f "$root/etc/apt/sources.list"
	cat >"$ANS_RUN/ct3.yml" <<-EOF
		dbops:
		  hosts:
		    ct3:
		      ansible_connection: nsenter_chroot
		      ansible_host: $root
		      ansible_chroot_exe: $DBOPS_TOP/tests/lib/nsenter-chroot
		      ansible_python_interpreter: /usr/bin/python3
		      dbops_install_source: apt
		      dbops_apt_repo_url: file:///srv/repo
		      dbops_apt_key_file: $ANS_RUN/repo.key.asc
	EOF
	# Check mode on the fresh host: the package of a source not yet added is
	# not looked for, nothing fails, nothing is written.
	play "$ANS_RUN/apt-check.log" -i "$ANS_RUN/ct3.yml" --check || { show "$ANS_RUN/apt-check.log"; false; }
	[ "$(recap "$ANS_RUN/apt-check.log" ct3 failed)" = 0 ]
	[ "$(recap "$ANS_RUN/apt-check.log" ct3 changed)" -gt 0 ]
	[ ! -e "$root/etc/apt/sources.list.d/dbops.sources" ]
	play "$ANS_RUN/apt1.log" -i "$ANS_RUN/ct3.yml" || { show "$ANS_RUN/apt1.log"; false; }
	show "$ANS_RUN/apt1.log"
	run in_ct ct3 dpkg-query -W -f '${Version}' dbops
	assert_output "$DBOPS_VERSION"
	run in_ct ct3 cat /etc/apt/sources.list.d/dbops.sources
	assert_output --partial 'Signed-By: /etc/apt/keyrings/dbops.asc'
	play "$ANS_RUN/apt2.log" -i "$ANS_RUN/ct3.yml" || { show "$ANS_RUN/apt2.log"; false; }
	[ "$(recap "$ANS_RUN/apt2.log" ct3 changed)" = 0 ]
	# The same repository with another key given: apt refuses it.
	in_ct ct3 apt-get -q purge -y dbops >/dev/null
	play "$ANS_RUN/apt3.log" -i "$ANS_RUN/ct3.yml" -e dbops_apt_key_file="$ANS_RUN/other.key.asc" && false
	show "$ANS_RUN/apt3.log"
	[ "$(recap "$ANS_RUN/apt3.log" ct3 failed)" = 1 ]
	grep -q 'Failed to update apt cache' "$ANS_RUN/apt3.log"
	# apt itself says why (the module does not), the oracle: the
	# signature is not verified and the index is not updated.
	run in_ct ct3 apt-get update
	assert_output --partial "GPG error: file:/srv/repo bookworm InRelease"
	assert_output --partial 'NO_PUBKEY'
	run in_ct ct3 dpkg-query -W -f '${db:Status-Status}' dbops
	refute_output installed
}
