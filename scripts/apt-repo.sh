#!/bin/bash
# Build a signed apt repository of the dbops .debs, one suite per Debian
# release, with Debian's own tools: apt-ftparchive (apt-utils) writes the
# indexes and the Release files, gpg signs them. As any user; nothing is
# installed, nothing outside DIR is written.
#
#   scripts/apt-repo.sh --key KEY --out DIR CODENAME:PATH [CODENAME:PATH...]
#
#   --key KEY     the signing key: a fingerprint or key id whose secret key is
#                 in gpg's keyring (GNUPGHOME, else ~/.gnupg). It must sign
#                 without a prompt (no passphrase, or one the agent holds).
#                 Never a key from the source tree: the caller brings it.
#   --out DIR     where the repository goes; made if missing, must be empty
#   --origin NAME the Release files' Origin and Label (default dbops)
#   CODENAME:PATH the .debs of one release (bullseye, bookworm, trixie...):
#                 PATH is a .deb, or a folder whose *.deb are all taken
#                 (build/deb/<release>/ of make deb-matrix, for instance).
#                 Repeat a codename to add more files to it.
#
# DIR then holds, for each CODENAME:
#   pool/CODENAME/main/<p>/<package>/<package>_<version>_<arch>.deb
#   dists/CODENAME/main/binary-<arch>/Packages, Packages.gz
#   dists/CODENAME/Release, InRelease (clear-signed), Release.gpg (detached)
# and dbops-archive-keyring.asc, the armored public key. Each release has
# its own pool: the three releases build the same version of dbops, whose
# .debs share a file name but not their contents (they link different
# library versions), and a shared pool would hold only one of them.
#
# A host then trusts that key for that repository only (signed-by):
#   curl -fsSL URL/dbops-archive-keyring.asc | gpg --dearmor >/usr/share/keyrings/dbops.gpg
#   echo "deb [signed-by=/usr/share/keyrings/dbops.gpg] URL $(. /etc/os-release && echo "$VERSION_CODENAME") main" \
#       >/etc/apt/sources.list.d/dbops.list
#   apt-get update && apt-get install dbops
#
# Before it ends, the script checks each InRelease and Release.gpg with gpgv
# against the exported public key alone, as apt will. Exit status 0 when the
# repository is whole, signed and verified; 1 otherwise, when DIR may hold a
# part of it: remove DIR before running again.
set -euo pipefail

prog=apt-repo
key=
out=
origin=dbops
inputs=()

die() {
	echo "$prog: error: $1" >&2
	[ $# -lt 2 ] || echo "$prog: hint: $2" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	--key) [ $# -ge 2 ] || die "--key needs a value"; key=$2; shift 2 ;;
	--out) [ $# -ge 2 ] || die "--out needs a value"; out=$2; shift 2 ;;
	--origin) [ $# -ge 2 ] || die "--origin needs a value"; origin=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	-*) die "unknown option \"$1\"" "scripts/apt-repo.sh --help" ;;
	*) inputs+=("$1"); shift ;;
	esac
done

[ -n "$key" ] || die "no signing key given" "--key FINGERPRINT, a key whose secret part is in GNUPGHOME"
[ -n "$out" ] || die "no output folder given" "--out DIR"
[ ${#inputs[@]} -gt 0 ] || die "no .deb given" "CODENAME:PATH, for instance bookworm:build/deb/bookworm"
case $origin in *[!A-Za-z0-9.+_-]* | '') die "--origin \"$origin\": only letters, digits and . + _ -" ;; esac
for tool in apt-ftparchive gpg gpgv dpkg-deb gzip; do
	command -v "$tool" >/dev/null || die "$tool is not installed" "apt-get install apt-utils gnupg gpgv dpkg gzip"
done

gnupghome=${GNUPGHOME:-$HOME/.gnupg}
if ! gpg --batch --list-secret-keys -- "$key" >/dev/null 2>&1; then
	die "no secret key \"$key\" in \"$gnupghome\"" "import it first (gpg --batch --import) or set GNUPGHOME"
fi

if [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
	die "could not use \"$out\": not an empty folder" "remove it, or give another --out"
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

# add CODENAME DEB: the .deb into CODENAME's pool, under its canonical name.
declare -A seen archs
codenames=()
add() {
	local codename=$1 deb=$2 fields pkg version arch prefix dir file
	fields=$(dpkg-deb -f "$deb" Package Version Architecture 2>/dev/null) ||
		die "could not read \"$deb\": not a Debian package"
	pkg=$(sed -n 's/^Package: //p' <<<"$fields")
	version=$(sed -n 's/^Version: //p' <<<"$fields")
	arch=$(sed -n 's/^Architecture: //p' <<<"$fields")
	if [ -z "$pkg" ] || [ -z "$version" ] || [ -z "$arch" ]; then
		die "could not read \"$deb\": no Package, Version or Architecture field"
	fi
	if [ -n "${seen[$codename/$pkg/$arch]:-}" ]; then
		die "could not add \"$deb\" to $codename: it already has $pkg for $arch (from \"${seen[$codename/$pkg/$arch]}\")" \
			"give each release one .deb per package and architecture"
	fi
	seen[$codename/$pkg/$arch]=$deb
	case $pkg in lib?*) prefix=${pkg:0:4} ;; *) prefix=${pkg:0:1} ;; esac
	dir=pool/$codename/main/$prefix/$pkg
	file=${pkg}_${version#*:}_$arch.deb
	mkdir -p "$out/$dir"
	cp -- "$deb" "$out/$dir/$file"
	[ "$arch" = all ] || archs[$codename]="${archs[$codename]:-} $arch"
	case " ${codenames[*]} " in *" $codename "*) ;; *) codenames+=("$codename") ;; esac
}

for input in "${inputs[@]}"; do
	codename=${input%%:*}
	path=${input#*:}
	if [ "$codename" = "$input" ] || [ -z "$codename" ] || [ -z "$path" ]; then
		die "\"$input\" is not CODENAME:PATH" "for instance bookworm:build/deb/bookworm"
	fi
	case $codename in *[!a-z0-9-]*) die "\"$codename\" is not a release codename (lower-case letters, digits, -)" ;; esac
	if [ -d "$path" ]; then
		shopt -s nullglob
		debs=("$path"/*.deb)
		shopt -u nullglob
		[ ${#debs[@]} -gt 0 ] || die "could not find a .deb in \"$path\""
		for deb in "${debs[@]}"; do add "$codename" "$deb"; done
	elif [ -f "$path" ]; then
		add "$codename" "$path"
	else
		die "could not read \"$path\": no such file or folder"
	fi
done

# The indexes and the Release file of each release.
cd "$out"
for codename in "${codenames[@]}"; do
	list=$(tr ' ' '\n' <<<"${archs[$codename]:-}" | sed '/^$/d' | sort -u | tr '\n' ' ')
	list=${list% }
	[ -n "$list" ] || die "could not index $codename: it has only Architecture: all packages" \
		"add the architecture-specific .deb as well"
	for arch in $list; do
		dir=dists/$codename/main/binary-$arch
		mkdir -p "$dir"
		# --arch: the packages of ARCH and those of Architecture: all.
		apt-ftparchive --arch "$arch" packages "pool/$codename" >"$dir/Packages"
		gzip -9nc "$dir/Packages" >"$dir/Packages.gz"
	done
	# Written beside, then moved in: apt-ftparchive release hashes every
	# file under the folder, and must not see a Release of its own.
	apt-ftparchive \
		-o APT::FTPArchive::Release::Origin="$origin" \
		-o APT::FTPArchive::Release::Label="$origin" \
		-o APT::FTPArchive::Release::Suite="$codename" \
		-o APT::FTPArchive::Release::Codename="$codename" \
		-o APT::FTPArchive::Release::Architectures="$list" \
		-o APT::FTPArchive::Release::Components=main \
		-o APT::FTPArchive::Release::Description="$origin packages for Debian $codename" \
		release "dists/$codename" >"dists/$codename.Release.tmp"
	mv "dists/$codename.Release.tmp" "dists/$codename/Release"
done

# Signing, then the public key, then gpgv with that key alone.
sign=(gpg --batch --yes --no-tty --digest-algo SHA512 --local-user "$key")
for codename in "${codenames[@]}"; do
	d=dists/$codename
	"${sign[@]}" --clearsign --output "$d/InRelease" "$d/Release" ||
		die "could not sign \"$out/$d/Release\" with key \"$key\"" "a key with a passphrase must be unlocked in gpg-agent first"
	"${sign[@]}" --armor --detach-sign --output "$d/Release.gpg" "$d/Release" ||
		die "could not sign \"$out/$d/Release\" with key \"$key\""
done
gpg --batch --armor --export-options export-minimal --export -- "$key" >dbops-archive-keyring.asc
[ -s dbops-archive-keyring.asc ] || die "could not export the public key \"$key\""

check=$(mktemp -d)
trap 'rm -rf "$check"' EXIT
gpg --batch --dearmor <dbops-archive-keyring.asc >"$check/keyring.gpg"
for codename in "${codenames[@]}"; do
	d=dists/$codename
	if ! gpgv --keyring "$check/keyring.gpg" "$d/InRelease" >"$check/log" 2>&1 ||
		! gpgv --keyring "$check/keyring.gpg" "$d/Release.gpg" "$d/Release" >>"$check/log" 2>&1; then
		die "could not verify \"$out/$d/InRelease\" with the exported key: $(tr '\n' ' ' <"$check/log")"
	fi
	echo "$prog: $codename: $(find "pool/$codename" -name '*.deb' | wc -l) .deb files, $(sed -n 's/^Architectures: //p' "$d/Release"), signed and verified"
done
echo "$prog: public key: $out/dbops-archive-keyring.asc ($(gpg --batch --with-colons --import-options show-only --import dbops-archive-keyring.asc 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }'))"
