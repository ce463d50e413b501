#!/bin/bash
# sendmail-unpack.sh - unpack Sendmail from Debian packages into a private tree
#
# SYNOPSIS
#	t/integration/sendmail-unpack.sh DEST
#
# DESCRIPTION
#	The Sendmail integration tests (t/integration/sendmail.sh) need a
#	Sendmail binary, but sendmail-bin conflicts with the installed postfix
#	(both provide mail-transport-agent), so it is never apt-get installed.
#	This script fetches sendmail-bin, sendmail-base and sendmail-cf with
#	"apt-get download" into a temporary directory and extracts them with
#	"dpkg-deb -x" into DEST. Library packages that sendmail-bin depends on
#	and that are not installed (on Debian 12: libwrap0) are fetched and
#	extracted into DEST as well, so nothing on the system changes; run the
#	binary with LD_LIBRARY_PATH=DEST/usr/lib/<multiarch> (sendmail.sh does).
#
#	The set-user-ID and set-group-ID bits are removed from the extracted
#	files: the tree is for tests run as root, a setgid-mail binary has no
#	business lying around in a cache folder, and the dynamic loader ignores
#	LD_LIBRARY_PATH for setgid programs.
#
#	Idempotent: when DEST/usr/libexec/sendmail/sendmail exists, the script
#	does nothing. The tree is built in a sibling directory and moved to
#	DEST in one step, so an interrupted run leaves no half-made DEST.
#	If apt-get download fails, the package lists are refreshed once with
#	"apt-get update" and the download is retried.
#
#	Files used in DEST afterwards:
#	  usr/libexec/sendmail/sendmail   the MTA (8.17.1.9 on Debian 12)
#	  usr/share/sendmail/cf/m4/cf.m4  the m4 front end for .mc files
#
# DIAGNOSTICS
#	Progress lines go to stdout. On failure the script prints
#	"sendmail-unpack: <reason>" on stderr and exits 1 (2 for bad usage).

set -u

PKGS=(sendmail-bin sendmail-base sendmail-cf)
BIN=usr/libexec/sendmail/sendmail

# die - print the reason on stderr and exit 1
die() {
	echo "sendmail-unpack: $*" >&2
	exit 1
}

# download - apt-get download PKG... into the current directory
download() {
	apt-get download -q "$@" >>apt.log 2>&1
}

# missing_lib_deps - print the lib* packages that DEB depends on and that are not installed
missing_lib_deps() {
	local p st
	dpkg-deb -f "$1" Depends | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*\)//; s/:any//; s/[[:space:]]//g' |
	while read -r p; do
		case $p in lib*) ;; *) continue ;; esac
		st=$(dpkg-query -W -f '${Status}' "$p" 2>/dev/null)
		case $st in *" installed") ;; *) echo "$p" ;; esac
	done
}

# lib_path - print DEST's library directories joined with ":"
lib_path() {
	local d out=
	for d in "$1"/usr/lib/*-linux-gnu* "$1"/lib/*-linux-gnu*; do
		[ -d "$d" ] && out=${out:+$out:}$d
	done
	echo "$out"
}

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: sendmail-unpack.sh DEST" >&2
	exit 2
fi
DEST=${1%/}
case $DEST in /*) ;; *) DEST=$PWD/$DEST ;; esac

if [ -x "$DEST/$BIN" ]; then
	echo "sendmail-unpack: $DEST already holds $BIN"
	exit 0
fi

for tool in apt-get dpkg-deb dpkg-query ldd; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found (Debian tools needed)"
done
[ "$(id -u)" = 0 ] || die "must run as root (apt-get download, and the tests run Sendmail as root)"

mkdir -p "$(dirname "$DEST")" || die "cannot create $(dirname "$DEST")"
WORK=$(mktemp -d "$(dirname "$DEST")/.sendmail-unpack.XXXXXX") || die "mktemp failed"
trap 'rm -rf -- "$WORK"' EXIT
mkdir "$WORK/debs" "$WORK/root" || die "cannot populate $WORK"
# apt-get download drops privileges to _apt; let it write here (else a warning)
chmod 755 "$WORK" && chown _apt "$WORK/debs" 2>/dev/null
cd "$WORK/debs" || die "cannot enter $WORK/debs"

echo "sendmail-unpack: apt-get download ${PKGS[*]}"
if ! download "${PKGS[@]}"; then
	echo "sendmail-unpack: download failed, running apt-get update once"
	apt-get update -q >>apt.log 2>&1
	download "${PKGS[@]}" ||
		die "apt-get download ${PKGS[*]} failed: $(tail -n 5 apt.log | tr '\n' ' ')"
fi

mapfile -t DEPS < <(missing_lib_deps sendmail-bin_*.deb)
if [ ${#DEPS[@]} -gt 0 ]; then
	echo "sendmail-unpack: apt-get download ${DEPS[*]} (needed by sendmail-bin, not installed)"
	download "${DEPS[@]}" ||
		die "apt-get download ${DEPS[*]} failed: $(tail -n 5 apt.log | tr '\n' ' ')"
fi

for deb in ./*.deb; do
	dpkg-deb -x "$deb" "$WORK/root" || die "dpkg-deb -x $deb failed"
done
[ -x "$WORK/root/$BIN" ] || die "no $BIN in the extracted packages"
[ -f "$WORK/root/usr/share/sendmail/cf/m4/cf.m4" ] || die "no cf.m4 in the extracted packages"
find "$WORK/root" -type f -perm /6000 -exec chmod ug-s {} + || die "chmod ug-s failed"

NOTFOUND=$(LD_LIBRARY_PATH=$(lib_path "$WORK/root") ldd "$WORK/root/$BIN" 2>&1 | grep 'not found')
[ -z "$NOTFOUND" ] || die "$BIN still lacks libraries (apt-get install the packages providing them):" \
	"$(echo "$NOTFOUND" | tr -s ' \t\n' ' ')"

chmod 755 "$WORK/root"
if [ -d "$DEST" ]; then
	# DEST exists (empty, or left over without the binary): fill it in place
	cp -a "$WORK/root/." "$DEST/" || die "cannot copy the tree into $DEST"
else
	mv -T "$WORK/root" "$DEST" 2>/dev/null || [ -x "$DEST/$BIN" ] ||
		die "cannot move the tree to $DEST"
fi
[ -x "$DEST/$BIN" ] || die "$DEST/$BIN missing after unpacking"
echo "sendmail-unpack: unpacked" *.deb "into $DEST"
