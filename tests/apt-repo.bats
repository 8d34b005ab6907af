#!/usr/bin/env bats
# scripts/apt-repo.sh and the apt repository it builds, checked by apt
# itself: the .deb is built from this tree (dpkg-buildpackage -b in a copy),
# put into a repository of the three releases signed by a throwaway gpg key,
# served on loopback by python3's http.server, and installed with apt-get in
# a bookworm chroot (debootstrap --variant=minbase, made once under
# $DBOPS_CACHE/chroots/bookworm as make deb-matrix makes it, copied for each
# run) whose only trust in the repository is a signed-by keyring. An unsigned
# repository, one signed by another key and one whose .deb changed after
# signing are refused there, with apt's own messages.
#
# The chroot tests need root (debootstrap, chroot) and the Debian archive
# (the chroot's apt fetches dbops's dependencies); as another user they are
# skipped and the rest runs. Not run against an installed package
# (DBOPS_INSTALLED=1): it tests the source tree's packaging.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/helpers
	[ "${DBOPS_INSTALLED:-0}" != 1 ] || return 0
	export APT_TMP=$BATS_FILE_TMPDIR
	# gpg-agent's socket lives in GNUPGHOME: a short path, for its 108 bytes.
	APT_GNUPG=$(mktemp -d /tmp/dbops-apt-gpg.XXXXXX)
	export APT_GNUPG
	chmod 700 "$APT_GNUPG"
	mkdir "$APT_GNUPG/test" "$APT_GNUPG/other"
	chmod 700 "$APT_GNUPG/test" "$APT_GNUPG/other"
	APT_KEY=$(make_key "$APT_GNUPG/test" 'dbops test archive <test@dbops.invalid>')
	APT_OTHER_KEY=$(make_key "$APT_GNUPG/other" 'someone else <other@dbops.invalid>')
	export APT_KEY APT_OTHER_KEY

	build_deb
	APT_DEB=$(ls "$APT_TMP"/deb/dbops_"$DBOPS_VERSION"_*.deb)
	export APT_DEB

	mkdir "$APT_TMP/www"
	GNUPGHOME=$APT_GNUPG/test "$DBOPS_TOP/scripts/apt-repo.sh" --key "$APT_KEY" \
		--out "$APT_TMP/www/good" bullseye:"$APT_DEB" bookworm:"$APT_TMP/deb" trixie:"$APT_DEB" \
		>"$APT_TMP/apt-repo.log" 2>&1 || {
		cat "$APT_TMP/apt-repo.log" >&2
		return 1
	}

	[ "$(id -u)" = 0 ] || return 0
	# The same repository unsigned, signed by another key, and with a .deb
	# changed after signing (one byte, so not its size: its hash).
	cp -a "$APT_TMP/www/good" "$APT_TMP/www/unsigned"
	rm "$APT_TMP"/www/unsigned/dists/*/InRelease "$APT_TMP"/www/unsigned/dists/*/Release.gpg
	GNUPGHOME=$APT_GNUPG/other "$DBOPS_TOP/scripts/apt-repo.sh" --key "$APT_OTHER_KEY" \
		--out "$APT_TMP/www/other" bookworm:"$APT_DEB" >>"$APT_TMP/apt-repo.log" 2>&1
	cp -a "$APT_TMP/www/good" "$APT_TMP/www/tampered"
	local deb
	deb=$(ls "$APT_TMP"/www/tampered/pool/bookworm/main/d/dbops/dbops_*.deb)
	printf 'X' | dd of="$deb" bs=1 seek=$(($(stat -c %s "$deb") - 100)) conv=notrunc status=none

	serve "$APT_TMP/www"
	make_root
}

teardown_file() {
	[ -n "${APT_HTTP_PID:-}" ] && kill "$APT_HTTP_PID" 2>/dev/null
	if [ -n "${APT_GNUPG:-}" ]; then
		GNUPGHOME=$APT_GNUPG/test gpgconf --kill gpg-agent 2>/dev/null
		GNUPGHOME=$APT_GNUPG/other gpgconf --kill gpg-agent 2>/dev/null
		rm -rf "$APT_GNUPG"
	fi
	return 0
}

setup() {
	load lib/helpers
	[ "${DBOPS_INSTALLED:-0}" != 1 ] ||
		skip "tests the packaging of the source tree, not an installed package"
	ROOT=$APT_TMP/root
	REPO=$APT_TMP/www/good
	ARCH=$(dpkg-deb -f "$APT_DEB" Architecture)
}

needs_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (debootstrap and chroot)"
}

# make_key GNUPGHOME UID: a new signing key without passphrase; prints its
# fingerprint.
make_key() {
	GNUPGHOME=$1 gpg --batch --passphrase '' --quick-gen-key "$2" ed25519 sign never >/dev/null 2>&1 || return 1
	GNUPGHOME=$1 gpg --batch --with-colons --list-secret-keys | awk -F: '$1 == "fpr" { print $10; exit }'
}

# build_deb: the binary packages of this tree, built in a copy of it into
# $APT_TMP/deb (no debug symbols package: it is not what is tested).
build_deb() {
	local tree=$APT_TMP/src/dbops-$DBOPS_VERSION
	mkdir -p "$tree" "$APT_TMP/deb"
	tar -C "$DBOPS_TOP" --exclude=./build --exclude=./.git --exclude=./node_modules \
		--exclude='*.o' -cf - . | tar -C "$tree" -xf -
	(cd "$tree" && dpkg-checkbuilddeps) 2>&1 ||
		{ echo "# hint: make deps (as root) installs the build dependencies" >&2; return 1; }
	if ! (cd "$tree" && DEB_BUILD_OPTIONS="noautodbgsym parallel=2" dpkg-buildpackage -b -uc -us) \
		>"$APT_TMP/build.log" 2>&1; then
		tail -n 30 "$APT_TMP/build.log" >&2
		return 1
	fi
	mv "$APT_TMP"/src/*.deb "$APT_TMP/deb/"
}

# serve DIR: an HTTP server for DIR on 127.0.0.1, on a port the kernel
# picks (no race for a free one); APT_URL is its address.
serve() {
	python3 -c '
import functools, http.server, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(server.server_port))
import os; os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
' "$1" "$APT_TMP/port" >"$APT_TMP/http.log" 2>&1 3>&- &
	APT_HTTP_PID=$!
	export APT_HTTP_PID
	local _
	for _ in $(seq 50); do
		[ -s "$APT_TMP/port" ] && break
		sleep 0.1
	done
	[ -s "$APT_TMP/port" ] || { cat "$APT_TMP/http.log" >&2; return 1; }
	APT_URL=http://127.0.0.1:$(cat "$APT_TMP/port")
	export APT_URL
}

# make_root: a bookworm system in $APT_TMP/root, a copy of the one cached
# under $DBOPS_CACHE/chroots (debootstrapped when missing, as make
# deb-matrix does: the same folder and stamp serve both). No file system is
# mounted in it: apt and dpkg need none of them here.
make_root() {
	local base=$DBOPS_CACHE/chroots/bookworm mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
	if [ ! -f "$base.stamp" ] || [ ! -x "$base/bin/sh" ]; then
		rm -rf "$base"
		mkdir -p "$(dirname "$base")"
		debootstrap --variant=minbase bookworm "$base" "$mirror" >"$base.debootstrap.log" 2>&1 ||
			{ tail -n 20 "$base.debootstrap.log" >&2; return 1; }
		echo "debootstrap --variant=minbase bookworm $mirror" >"$base.stamp"
	fi
	cp -a "$base" "$APT_TMP/root"
	cp /etc/resolv.conf "$APT_TMP/root/etc/resolv.conf"
	printf '#!/bin/sh\nexit 101\n' >"$APT_TMP/root/usr/sbin/policy-rc.d"
	chmod 755 "$APT_TMP/root/usr/sbin/policy-rc.d"
	mkdir -p "$APT_TMP/root/usr/share/keyrings"
	# The key as a host gets it: the published armored key, dearmored.
	gpg --batch --dearmor <"$APT_TMP/www/good/dbops-archive-keyring.asc" >"$APT_TMP/root/usr/share/keyrings/dbops.gpg"
}

# in_root COMMAND...: COMMAND in the chroot, with a clean environment.
in_root() {
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive chroot "$ROOT" "$@"
}

# source_file NAME PATH: /etc/apt/sources-NAME.d/dbops.sources in the
# chroot, the README's lines for the repository at $APT_URL/PATH.
source_file() {
	mkdir -p "$ROOT/etc/apt/sources-$1.d" "$ROOT/var/lib/apt/lists-$1/partial"
	cat >"$ROOT/etc/apt/sources-$1.d/dbops.sources" <<-EOF
		Types: deb
		URIs: $APT_URL/$2
		Suites: bookworm
		Components: main
		Signed-By: /usr/share/keyrings/dbops.gpg
	EOF
}

# apt_only NAME APT-GET-ARGS...: apt-get in the chroot with the one source
# NAME, lists of its own and no package installed, so one scenario sees
# nothing of another's.
apt_only() {
	local name=$1
	shift
	in_root apt-get -q -o Acquire::Languages=none -o Dir::State::status=/dev/null \
		-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="/etc/apt/sources-$name.d" \
		-o Dir::State::Lists="/var/lib/apt/lists-$name" "$@"
}

@test "apt-repo: one signed suite per release, each with its own pool, verified by gpgv with the published key alone" {
	local k=$BATS_TEST_TMPDIR/keyring.gpg codename
	gpg --batch --dearmor <"$REPO/dbops-archive-keyring.asc" >"$k"
	for codename in bullseye bookworm trixie; do
		run -0 gpgv --keyring "$k" "$REPO/dists/$codename/InRelease"
		assert_output --partial 'Good signature from "dbops test archive <test@dbops.invalid>"'
		run -0 gpgv --keyring "$k" "$REPO/dists/$codename/Release.gpg" "$REPO/dists/$codename/Release"
		run -0 grep -E '^(Origin|Suite|Codename|Components|Architectures):' "$REPO/dists/$codename/Release"
		assert_output "Architectures: $ARCH
Codename: $codename
Components: main
Origin: dbops
Suite: $codename"
		run -0 grep '^Filename: ' "$REPO/dists/$codename/main/binary-$ARCH/Packages"
		assert_output "Filename: pool/$codename/main/d/dbops/dbops_${DBOPS_VERSION}_$ARCH.deb"
		run -0 cmp "$APT_DEB" "$REPO/pool/$codename/main/d/dbops/dbops_${DBOPS_VERSION}_$ARCH.deb"
		# The index apt fetches is the one the signed Release describes.
		run -0 sha256sum "$REPO/dists/$codename/main/binary-$ARCH/Packages.gz"
		run -0 grep -F " ${output%% *} " "$REPO/dists/$codename/Release"
	done
	# The key published is the public key only.
	run -0 gpg --batch --with-colons --import-options show-only --import "$REPO/dbops-archive-keyring.asc"
	assert_line --regexp "^pub:"
	refute_line --regexp "^sec:"
	assert_line "fpr:::::::::$APT_KEY:"
}

@test "apt-repo: apt-get installs dbops from the repository in a bookworm chroot trusting only its signed-by key; every tool prints the version" {
	needs_root
	source_file good good
	# The chroot's Debian sources give the dependencies; this one dbops.
	cp "$ROOT/etc/apt/sources-good.d/dbops.sources" "$ROOT/etc/apt/sources.list.d/"
	run -0 in_root apt-get -q -o Acquire::Languages=none update
	refute_output --partial 'W: '
	run -0 in_root apt-cache policy dbops
	assert_line --regexp "^ +$DBOPS_VERSION 500\$"
	assert_line --regexp "^ +500 $APT_URL/good bookworm/main $ARCH Packages\$"
	run -0 in_root apt-get install -y -q --no-install-recommends dbops
	run -0 in_root dpkg-query -W -f='${Version} ${db:Status-Status}' dbops
	assert_output "$DBOPS_VERSION installed"
	run -0 in_root dpkg -L dbops
	local tools=() tool
	mapfile -t tools < <(grep -E '^/usr/bin/[^/]+$' <<<"$output")
	[ ${#tools[@]} -eq "$(ls "$DBOPS_TOP"/utils/*/main.c | wc -l)" ] ||
		fail "the package has ${#tools[@]} tools in /usr/bin: ${tools[*]}"
	for tool in "${tools[@]}"; do
		run -0 in_root "$tool" --version
		assert_output "$(basename "$tool") $DBOPS_VERSION"
	done
}

# good_accepted: the control of the refusals below: the same apt-get, on
# the repository as signed, succeeds without a warning.
good_accepted() {
	source_file good good
	run -0 apt_only good update
	refute_output --regexp '^(W|E): '
	run -0 apt_only good download --print-uris dbops
	assert_output --partial "$APT_URL/good/pool/bookworm/main/d/dbops/dbops_${DBOPS_VERSION}_$ARCH.deb"
}

@test "apt-repo: apt refuses the repository unsigned (a Release without InRelease or Release.gpg)" {
	needs_root
	good_accepted
	source_file unsigned unsigned
	run -100 apt_only unsigned update
	assert_line "E: The repository '$APT_URL/unsigned bookworm Release' is not signed."
	run -100 apt_only unsigned download dbops
	assert_line "E: Unable to locate package dbops"
}

@test "apt-repo: apt refuses the repository signed by a key other than its signed-by keyring" {
	needs_root
	good_accepted
	source_file other other
	run -100 apt_only other update
	assert_line --partial "The following signatures couldn't be verified because the public key is not available: NO_PUBKEY ${APT_OTHER_KEY: -16}"
	assert_line "E: The repository '$APT_URL/other bookworm InRelease' is not signed."
	run -100 apt_only other download dbops
	assert_line "E: Unable to locate package dbops"
}

@test "apt-repo: apt refuses a .deb changed after the repository was signed (its hash is in the signed index)" {
	needs_root
	source_file tampered tampered
	run -0 apt_only tampered update
	mkdir "$ROOT/tmp/download" && chmod 777 "$ROOT/tmp/download"
	run -100 in_root sh -c 'cd /tmp/download && apt-get -q -o Acquire::Languages=none \
		-o Dir::State::status=/dev/null -o Dir::Etc::SourceList=/dev/null \
		-o Dir::Etc::SourceParts=/etc/apt/sources-tampered.d \
		-o Dir::State::Lists=/var/lib/apt/lists-tampered download dbops'
	assert_output --partial "Hash Sum mismatch"
	# apt keeps what it fetched aside, under a name no tool installs.
	run -0 ls "$ROOT/tmp/download"
	assert_output "dbops_${DBOPS_VERSION}_$ARCH.deb.FAILED"
}

@test "apt-repo.sh: refuses to work without a key, with a key not in GNUPGHOME, into a folder not empty, on what is no .deb, with one package twice for a release" {
	local out=$BATS_TEST_TMPDIR/out script=$DBOPS_TOP/scripts/apt-repo.sh
	export GNUPGHOME=$APT_GNUPG/test
	run -1 "$script" --out "$out" bookworm:"$APT_DEB"
	assert_line "apt-repo: error: no signing key given"
	run -1 "$script" --key "$APT_OTHER_KEY" --out "$out" bookworm:"$APT_DEB"
	assert_line "apt-repo: error: no secret key \"$APT_OTHER_KEY\" in \"$GNUPGHOME\""
	mkdir "$out" && touch "$out/stale"
	run -1 "$script" --key "$APT_KEY" --out "$out" bookworm:"$APT_DEB"
	assert_line "apt-repo: error: could not use \"$out\": not an empty folder"
	rm "$out/stale"
	echo 'not a package' >"$BATS_TEST_TMPDIR/x.deb"
	run -1 "$script" --key "$APT_KEY" --out "$out" bookworm:"$BATS_TEST_TMPDIR/x.deb"
	assert_line "apt-repo: error: could not read \"$BATS_TEST_TMPDIR/x.deb\": not a Debian package"
	rm -rf "$out"
	run -1 "$script" --key "$APT_KEY" --out "$out" bookworm:"$APT_DEB" bookworm:"$APT_DEB"
	assert_line "apt-repo: error: could not add \"$APT_DEB\" to bookworm: it already has dbops for $ARCH (from \"$APT_DEB\")"
	rm -rf "$out"
	run -1 "$script" --key "$APT_KEY" --out "$out" "$APT_DEB"
	assert_line "apt-repo: error: \"$APT_DEB\" is not CODENAME:PATH"
}
