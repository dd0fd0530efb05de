#!/usr/bin/env bash
# bench-sbom.sh — `imgaudit scan` with its SBOM summary next to `syft scan`
# on the same generated image: wall time, peak RSS and peak temporary disk,
# and whether both list the same packages (names, versions, types).
#
#   scripts/bench-sbom.sh                       # 1400 MiB, 12500 files, 200 packages
#   SIZE=256 FILES=4000 PACKAGES=100 scripts/bench-sbom.sh
#   IMAGE=real scripts/bench-sbom.sh            # real content: scripts/realimage.sh
#
# The real-content image (Debian packages: executables, libraries, a dpkg
# database) is where syft's binary classifiers cost: their patterns run over
# real executables, which generated files never match by name.
#
# syft is built from the module version imgaudit links (go.mod), with
# `go install github.com/anchore/syft/cmd/syft@VERSION` (set SYFT=path to
# use a built one). Both tools get an empty TMPDIR whose size is sampled
# every 50 ms; syft's CLI reads images through stereoscope exactly as its
# library path (syft.GetSource + syft.CreateSBOM) does, so its temp figure
# is the library path's. The targets of issue 9: wall <= 0.4x, RSS <= 0.3x,
# temp disk <= 0.25x of syft's.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
SIZE=${SIZE:-1400}
FILES=${FILES:-12500}
LAYERS=${LAYERS:-6}
PACKAGES=${PACKAGES:-200}
RUNS=${RUNS:-3}
WORK=${WORK:-$(mktemp -d /tmp/imgaudit-bench-sbom.XXXXXX)}
trap 'rm -rf "$WORK"' EXIT
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)"; exit 2; }

# settle BIN... replaces each binary by a copy of itself. A binary the Go
# linker has just written maps some 37 MB more resident pages than the same
# bytes copied (imgaudit version: 95 MB against 58 MB on this machine), so
# every measured binary, the peer's too, is copied before it runs: peak RSS
# then compares processes, not how their files were written.
settle() { for b in "$@"; do cp "$b" "$b.settle" && mv "$b.settle" "$b"; done; }
go build -o "$WORK/imgaudit" ./cmd/imgaudit
go build -o "$WORK/benchgen" ./scripts/benchgen
if [[ -z "${SYFT:-}" ]]; then
	version=$(go list -m -f '{{.Version}}' github.com/anchore/syft)
	GOBIN="$WORK" GOFLAGS=-buildvcs=false go install "github.com/anchore/syft/cmd/syft@$version"
	SYFT="$WORK/syft"
fi
cp "$SYFT" "$WORK/syft-peer"
SYFT="$WORK/syft-peer"
settle "$WORK/imgaudit"
export SYFT_CHECK_FOR_APP_UPDATE=false

img="$WORK/image"
if [ "${IMAGE:-generated}" = real ]; then
	img=$(scripts/realimage.sh "$WORK/real")
	what="real content (scripts/realimage.sh: $(wc -l <"$WORK/real/packages.txt") Debian packages, $(du -sm "$img" | cut -f1) MiB of blobs)"
else
	"$WORK/benchgen" -out "$img" -size "$SIZE" -files "$FILES" -layers "$LAYERS" -packages "$PACKAGES"
	what="$SIZE MiB uncompressed, $FILES files, $LAYERS+1 layers, $PACKAGES packages"
fi

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure NAME CMD... -> appends "wall_s rss_kb tmp_bytes cpu_s" to $WORK/result-NAME;
# the command runs with TMPDIR an empty directory whose size is sampled.
measure() {
	local name=$1
	shift
	local tmp="$WORK/tmp-$name"
	rm -rf "$tmp" && mkdir -p "$tmp"
	TMPDIR="$tmp" /usr/bin/time -f "%e %M %U %S" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" &
	local pid=$! peak=0 cur
	while kill -0 "$pid" 2>/dev/null; do
		cur=$(du -sb "$tmp" 2>/dev/null | cut -f1)
		((cur > peak)) && peak=$cur
		sleep 0.05
	done
	wait "$pid" || true
	read -r wall rss user sys <"$WORK/time"
	echo "$wall $rss $peak $(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')" >>"$WORK/result-$name"
}

load=$(cut -d' ' -f1-3 /proc/loadavg)
for _ in $(seq "$RUNS"); do
	measure imgaudit "$WORK/imgaudit" scan -q --no-cache --fail-on none -f json -o /dev/null \
		--sbom-output "syft-json=$WORK/imgaudit.syft.json" "oci:$img"
	measure syft "$SYFT" scan -q "oci-dir:$img" -o "syft-json=$WORK/syft.syft.json"
done

col() { cut -d' ' -f"$2" "$WORK/result-$1" | median; }
ia_t=$(col imgaudit 1) ia_m=$(col imgaudit 2) ia_d=$(col imgaudit 3) ia_c=$(col imgaudit 4)
sy_t=$(col syft 1) sy_m=$(col syft 2) sy_d=$(col syft 3) sy_c=$(col syft 4)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a/b }'; }

packages() { jq -r '.artifacts[] | [.type, .name, .version] | @tsv' "$1" | sort -u; }
packages "$WORK/imgaudit.syft.json" >"$WORK/imgaudit.pkgs"
packages "$WORK/syft.syft.json" >"$WORK/syft.pkgs"

echo "image: $what; median of $RUNS runs"
echo "load average before: $load (wall times need an idle machine; CPU seconds are less sensitive to load)"
printf '%-30s %12s %12s %12s %14s\n' "" "wall s" "CPU s" "peak RSS MB" "peak temp MB"
printf '%-30s %12s %12s %12s %14s\n' "imgaudit scan (checks + SBOM)" "$ia_t" "$ia_c" "$((ia_m / 1024))" "$((ia_d / 1048576))"
printf '%-30s %12s %12s %12s %14s\n' "syft scan" "$sy_t" "$sy_c" "$((sy_m / 1024))" "$((sy_d / 1048576))"
printf '%-30s %12s %12s %12s %14s\n' "ratio imgaudit/syft (target)" "$(ratio "$ia_t" "$sy_t") (0.4)" "$(ratio "$ia_c" "$sy_c")" "$(ratio "$ia_m" "$sy_m") (0.3)" "$(ratio "$ia_d" "$sy_d") (0.25)"
if diff -q "$WORK/imgaudit.pkgs" "$WORK/syft.pkgs" >/dev/null; then
	echo "packages: the same $(wc -l <"$WORK/syft.pkgs") (type, name, version) in both"
else
	echo "packages differ (< imgaudit, > syft):"
	diff "$WORK/imgaudit.pkgs" "$WORK/syft.pkgs" | head -20
	exit 1
fi
