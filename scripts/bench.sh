#!/usr/bin/env bash
# bench.sh — imgaudit's wall time and peak RSS next to the decompression floor
# on deterministic generated images, all measured in the same run.
#
#   scripts/bench.sh                 # 1 GiB image and a 256 MiB one
#   SIZES="256 1024 4096" scripts/bench.sh
#
# For each image it prints: pigz -dc over all layer blobs one after another
# and all at once (the parallel floor), gzip -dc, and `imgaudit scan`
# (median of RUNS runs), with peak RSS from /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
SIZES=${SIZES:-"256 1024"}
RUNS=${RUNS:-3}
WORK=${WORK:-$(mktemp -d /tmp/imgaudit-bench.XXXXXX)}
trap 'rm -rf "$WORK"' EXIT

command -v pigz >/dev/null || { echo "pigz is needed (apt-get install pigz)"; exit 2; }
go build -o "$WORK/imgaudit" ./cmd/imgaudit
go build -o "$WORK/benchgen" ./scripts/benchgen

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# timeit CMD... -> prints "seconds maxrss_kb"
timeit() { /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >/dev/null 2>&1 || true; cat "$WORK/time"; }

blobs() { find "$1/blobs/sha256" -type f -size +64k; }

printf '%-8s %-30s %9s %10s %8s\n' "image" "what" "wall s" "peakRSS MB" "ratio"
for size in $SIZES; do
	img="$WORK/img-$size"
	files=${FILES:-20000}
	"$WORK/benchgen" -out "$img" -size "$size" -layers 6 -files "$files"
	mapfile -t bl < <(blobs "$img")
	seq_t=$(for _ in $(seq "$RUNS"); do timeit bash -c 'for f in "$@"; do pigz -dc "$f" >/dev/null; done' _ "${bl[@]}" | cut -d' ' -f1; done | median)
	par_t=$(for _ in $(seq "$RUNS"); do timeit bash -c 'for f in "$@"; do pigz -dc "$f" >/dev/null & done; wait' _ "${bl[@]}" | cut -d' ' -f1; done | median)
	gz_t=$(for _ in $(seq "$RUNS"); do timeit bash -c 'for f in "$@"; do gzip -dc "$f" >/dev/null; done' _ "${bl[@]}" | cut -d' ' -f1; done | median)
	rm -f "$WORK/ia"
	for _ in $(seq "$RUNS"); do timeit "$WORK/imgaudit" scan -q -f json -o /dev/null "$img" >>"$WORK/ia"; done
	ia_t=$(cut -d' ' -f1 "$WORK/ia" | median)
	ia_m=$(cut -d' ' -f2 "$WORK/ia" | median)
	label="${size}MiB"
	printf '%-8s %-30s %9s %10s %8s\n' "$label" "pigz -dc, layers in sequence" "$seq_t" "-" "-"
	printf '%-8s %-30s %9s %10s %8s\n' "$label" "pigz -dc, layers in parallel" "$par_t" "-" "1.00"
	printf '%-8s %-30s %9s %10s %8s\n' "$label" "gzip -dc, layers in sequence" "$gz_t" "-" "$(awk -v a="$gz_t" -v b="$par_t" 'BEGIN{printf "%.2f", a/b}')"
	printf '%-8s %-30s %9s %10s %8s\n' "$label" "imgaudit scan (checks)" "$ia_t" "$((ia_m / 1024))" "$(awk -v a="$ia_t" -v b="$par_t" 'BEGIN{printf "%.2f", a/b}')"
	rm -rf "$img"
done
