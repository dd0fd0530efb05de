#!/usr/bin/env bash
# realimage.sh — the real-content benchmark image: Debian packages installed
# with mmdebstrap (real executables, shared libraries, a dpkg database and
# documentation), split into layers of very different sizes by
# scripts/benchgen -rootfs, written as an OCI layout.
#
#   scripts/realimage.sh OUT_DIR          # prints the layout's path
#   PACKAGES="python3,perl" SUITE=bookworm scripts/realimage.sh OUT_DIR
#
# Layers (bottom to top): the base (everything below), /usr/lib,
# /usr/bin + /usr/sbin + /usr/libexec, /var/lib/dpkg, /usr/share/doc.
# With the default package set: about 1.6 GB uncompressed, 550 MB gzip.
#
# Deterministic for a given package set: mmdebstrap runs with a fixed
# SOURCE_DATE_EPOCH, and benchgen copies the tar stream entry by entry, so
# the same package versions give the same image, byte for byte. Debian
# point releases change versions; the installed versions are written to
# OUT_DIR/packages.txt (and their hash printed) so runs can be compared.
# The root filesystem tar is kept in the cache directory (CACHE, default
# ~/.cache/imgaudit-bench) keyed by suite and package set: later runs skip
# the download (about 500 MB of packages; 2-3 minutes here).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
out=${1:?usage: scripts/realimage.sh OUT_DIR}
SUITE=${SUITE:-bookworm}
PACKAGES=${PACKAGES:-gcc,g++,gdb,python3,perl,openssl,curl,git,vim-nox,golang-1.19-go,clang-14,default-jre-headless}
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/imgaudit-bench}
command -v mmdebstrap >/dev/null || { echo "mmdebstrap is needed (apt-get install mmdebstrap)" >&2; exit 2; }

key=$(printf '%s %s' "$SUITE" "$PACKAGES" | sha256sum | cut -c1-16)
rootfs="$CACHE/rootfs-$SUITE-$key.tar"
mkdir -p "$CACHE" "$out"
if [ ! -s "$rootfs" ]; then
	echo "realimage: mmdebstrap $SUITE with $PACKAGES" >&2
	SOURCE_DATE_EPOCH=1700000000 mmdebstrap --quiet --variant=minbase --include="$PACKAGES" \
		--format=tar "$SUITE" "$rootfs.tmp" >&2
	mv "$rootfs.tmp" "$rootfs"
fi
# The package versions, read from the tar's dpkg status.
tar -xOf "$rootfs" ./var/lib/dpkg/status | awk '/^Package:/{p=$2} /^Version:/{print p, $2}' | sort >"$out/packages.txt"
echo "realimage: $(wc -l <"$out/packages.txt") packages, set $(sha256sum <"$out/packages.txt" | cut -c1-12)" >&2
go build -o "$out/benchgen" ./scripts/benchgen
rm -rf "$out/layout"
"$out/benchgen" -out "$out/layout" -rootfs "$rootfs"
rm -f "$out/benchgen"
echo "$out/layout"
