#!/usr/bin/env bash
# bigimage.sh — the resource-bound checks too slow for `go test ./...`.
#
#   scripts/bigimage.sh                  # all of it (several minutes, ~2 GB of disk)
#   SIZES="1024 4096" FILES=20000 scripts/bigimage.sh
#   BIG=2 scripts/bigimage.sh            # also a 5,000,001-entry layer (default limit)
#   ARGS=--no-sbom scripts/bigimage.sh   # checks only (ARGS go to every scan of part 1)
#
# 1. Peak RSS of `imgaudit scan -q -f json -o /dev/null` on generated images
#    of SIZES MiB (default 1 GiB and 4 GiB) holding the same FILES files:
#    memory must grow with entries, not bytes, so the ratio stays near 1.
# 2. Limits at the CLI on the biggest image: --max-layer-size and
#    --max-entries below what it holds must end in exit code 2 with a
#    one-line error naming the flag, quickly, never a partial report.
# 3. The indexer at the default limits on 1,000,000 tiny entries in one
#    layer (and with BIG=2 on 2,000,001, which must hit --max-entries),
#    with its time and live heap (go test -run TestMillionEntries).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
SIZES=${SIZES:-"1024 4096"}
FILES=${FILES:-20000}
LAYERS=${LAYERS:-6}
ARGS=${ARGS:-}
WORK=${WORK:-$(mktemp -d /tmp/imgaudit-big.XXXXXX)}
trap 'rm -rf "$WORK"' EXIT

go build -o "$WORK/imgaudit" ./cmd/imgaudit
go build -o "$WORK/benchgen" ./scripts/benchgen

fail=0
declare -A rss
printf '%-10s %8s %12s %10s %12s\n' "image" "files" "blobs MiB" "wall s" "peakRSS MiB"
last=""
for size in $SIZES; do
	img="$WORK/img-$size"
	"$WORK/benchgen" -out "$img" -size "$size" -layers "$LAYERS" -files "$FILES"
	blobs=$(du -sm "$img/blobs" | cut -f1)
	/usr/bin/time -f "%e %M" -o "$WORK/time" "$WORK/imgaudit" scan -q $ARGS -f json -o /dev/null "$img" >/dev/null 2>"$WORK/err" || {
		code=$?
		# Findings at or above --fail-on exit 1; anything else is a failure.
		if ((code != 1)); then
			echo "scan of ${size} MiB failed (exit $code): $(cat "$WORK/err")"
			fail=1
		fi
	}
	read -r wall kb <"$WORK/time"
	rss[$size]=$((kb / 1024))
	printf '%-10s %8s %12s %10s %12s\n' "${size}MiB" "$FILES" "$blobs" "$wall" "${rss[$size]}"
	[[ -n $last ]] && rm -rf "$WORK/img-$last"
	last=$size
done

read -r -a s <<<"$SIZES"
if ((${#s[@]} >= 2)); then
	lo=${rss[${s[0]}]} hi=${rss[${s[-1]}]}
	ratio=$(awk -v a="$hi" -v b="$lo" 'BEGIN{printf "%.2f", a/b}')
	bytes=$(awk -v a="${s[-1]}" -v b="${s[0]}" 'BEGIN{printf "%.1f", a/b}')
	echo "peak RSS ratio ${s[-1]}MiB/${s[0]}MiB: $ratio for ${bytes}x the bytes and the same entries"
	if awk -v r="$ratio" 'BEGIN{exit !(r > 1.5)}'; then
		echo "FAIL: peak RSS grows with bytes"
		fail=1
	fi
fi

# 2. Limits at the CLI, on the last (biggest) image.
img="$WORK/img-$last"
check_limit() { # check_limit FLAG VALUE
	local start end code=0
	start=$(date +%s.%N)
	"$WORK/imgaudit" scan -q -f json -o "$WORK/report.json" "$1=$2" "$img" >/dev/null 2>"$WORK/err" || code=$?
	end=$(date +%s.%N)
	local msg
	msg=$(cat "$WORK/err")
	printf '%-18s exit %d in %5.1fs: %s\n' "$1=$2" "$code" "$(awk -v a="$end" -v b="$start" 'BEGIN{print a-b}')" "$msg"
	if ((code != 2)) || ! grep -q -- "${1#--}" <<<"$msg" || (($(wc -l <"$WORK/err") != 1)); then
		echo "FAIL: want exit 2 and one line naming ${1#--}"
		fail=1
	fi
}
check_limit --max-layer-size $((64 << 20))
check_limit --max-entries 1000
check_limit --max-path-length 8

# 3. One layer of a million entries at the default limits.
IMGAUDIT_BIG=${BIG:-1} go test -count=1 -run '^TestMillionEntries$' -v ./pkg/layers 2>&1 | grep -E 'took|heap|PASS|FAIL|ok' || fail=1

exit $fail
