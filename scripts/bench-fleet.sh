#!/usr/bin/env bash
# bench-fleet.sh — a registry audit by one process against N shards sharing
# a registry cache (--shard I/N --cache-repo), on a fleet in the real
# docker-registry: REPOS repositories x TAGS tags over BASES shared bases
# cut from the real-content image (scripts/realimage.sh: Debian packages),
# each tag with a small layer of its own.
#
#   scripts/bench-fleet.sh                        # 200 x 5 over 4 bases, 4 shards
#   REPOS=40 TAGS=5 SHARDS=4 scripts/bench-fleet.sh
#
# Every blob download goes through scripts/countproxy, so the figures are
# bytes fetched, not guesses: layer blobs (each distinct layer should be
# fetched once across all shards) and cache entries. Reported per run:
# wall time, CPU seconds (user+sys), peak RSS per process, images per
# CPU-hour; then the merge time, whether the merged report equals the
# single process's, the cache hit rate of a re-run with empty local caches,
# and a shard killed mid-run and rerun. Checks only (--no-sbom): the
# per-image SBOM is not what scales here. This machine has 2 cores, so N
# shards run side by side on them: compare CPU seconds and bytes, not wall.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
REPOS=${REPOS:-200}
TAGS=${TAGS:-5}
BASES=${BASES:-4}
SHARDS=${SHARDS:-4}
WORK=${WORK:-$(mktemp -d /tmp/imgaudit-bench-fleet.XXXXXX)}
for c in docker-registry mmdebstrap jq curl; do
	command -v $c >/dev/null || { echo "$c is needed" >&2; exit 2; }
done
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

# settle BIN... replaces each binary by a copy of itself. A binary the Go
# linker has just written maps some 37 MB more resident pages than the same
# bytes copied (imgaudit version: 95 MB against 58 MB on this machine), so
# every measured binary, the peer's too, is copied before it runs: peak RSS
# then compares processes, not how their files were written.
settle() { for b in "$@"; do cp "$b" "$b.settle" && mv "$b.settle" "$b"; done; }
go build -o "$WORK/imgaudit" ./cmd/imgaudit
settle "$WORK/imgaudit"
go build -o "$WORK/benchgen" ./scripts/benchgen
go build -o "$WORK/fleetpush" ./scripts/fleetpush
go build -o "$WORK/countproxy" ./scripts/countproxy
layout=$(scripts/realimage.sh "$WORK/real")
rootfs=$(ls -t "${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/imgaudit-bench}"/rootfs-*.tar | head -1)
"$WORK/benchgen" -out "$WORK/fleet" -rootfs "$rootfs" -images "$REPOS" -tags "$TAGS" -bases "$BASES"
# The layer digests (the rest of what is fetched is configs and cache entries).
jq -r '.manifests[].digest | sub("sha256:"; "")' "$WORK/fleet/index.json" |
	while read -r m; do jq -r '.layers[].digest' "$WORK/fleet/blobs/sha256/$m"; done | sort -u >"$WORK/layers.txt"
echo "fleet layers: $(wc -l <"$WORK/layers.txt") distinct" >&2
rm -rf "$WORK/real"

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(freeport)
mkdir -p "$WORK/registry"
printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:%s\n' \
	"$WORK/registry" "$port" >"$WORK/registry.yml"
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
"$WORK/fleetpush" -layout "$WORK/fleet" -registry "127.0.0.1:$port" -insecure -jobs 4
rm -rf "$WORK/fleet"
"$WORK/countproxy" -upstream "http://127.0.0.1:$port" -log "$WORK/blobs.log" -port-file "$WORK/proxyport" &
pids+=($!)
for _ in $(seq 100); do [ -s "$WORK/proxyport" ] && break; sleep 0.1; done
reg="127.0.0.1:$(cat "$WORK/proxyport")"
images=$((REPOS * TAGS))

# blobstats [cache-repo] -> "layer_gets distinct_layers layer_MB cache_gets cache_MB" from the log
blobstats() {
	awk -v cache="${1:-imgaudit-cache}" 'FNR == NR { layer[$1] = 1; next } $3 == 200 {
		if (index($1, cache) == 1) { cg++; cb += $4 } else if ($2 in layer) { lg++; lb += $4; d[$2] = 1 }
	} END { printf "%d %d %.1f %d %.1f\n", lg, length(d), lb / 1048576, cg, cb / 1048576 }' "$WORK/layers.txt" "$WORK/blobs.log"
}
# timed NAME CMD... : runs CMD, records "wall cpu rssMB" in $WORK/t-NAME
timed() {
	local name=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$WORK/t-$name" "$@" >/dev/null 2>"$WORK/err-$name" || true
	awk '{printf "%s %.2f %d\n", $1, $2 + $3, $4 / 1024}' "$WORK/t-$name" >"$WORK/t-$name.s"
}
row() { printf '%-44s %8s %8s %10s %12s %10s %8s\n' "$@"; }
perhour() { awk -v n="$1" -v c="$2" 'BEGIN { printf "%.0f", n * 3600 / c }'; }
audit=("$WORK/imgaudit" registry -q --no-sbom --insecure --fail-on none)

echo "fleet: $REPOS repositories x $TAGS tags = $images images over $BASES bases (real content); $SHARDS shards; $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
row "run" "wall s" "CPU s" "peak RSS" "images/CPU-h" "layer GETs" "MB"

# 1. One process, no cache at all.
: >"$WORK/blobs.log"
timed single "${audit[@]}" --no-cache -f jsonl -o "$WORK/single.jsonl" "$reg/fleet"
read -r w c m <"$WORK/t-single.s"
read -r lg dl lb cg cb <<<"$(blobstats)"
row "1 process, no cache" "$w" "$c" "${m}MB" "$(perhour $images "$c")" "$lg ($dl distinct)" "$lb"

# 2. N shards side by side, each with an empty local cache, sharing the registry cache.
shards() {
	local tag=$1 repo=$2
	: >"$WORK/blobs.log"
	local start end
	start=$(date +%s.%N)
	local sp=()
	for i in $(seq 0 $((SHARDS - 1))); do
		timed "$tag-$i" "${audit[@]}" --shard "$i/$SHARDS" --cache-dir "$WORK/cache-$tag-$i" --cache-repo "$reg/$repo" \
			-f jsonl -o "$WORK/$tag-$i.jsonl" "$reg/fleet" &
		sp+=($!)
	done
	wait "${sp[@]}"
	end=$(date +%s.%N)
	local cpu=0 rss=0
	for i in $(seq 0 $((SHARDS - 1))); do
		read -r _ c m <"$WORK/t-$tag-$i.s"
		cpu=$(awk -v a="$cpu" -v b="$c" 'BEGIN{print a + b}')
		((m > rss)) && rss=$m
	done
	read -r lg dl lb cg cb <<<"$(blobstats "$repo")"
	row "$SHARDS shards, $3" "$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b - a}')" "$cpu" "${rss}MB max" "$(perhour $images "$cpu")" "$lg ($dl distinct)" "$lb"
	echo "    cache entries fetched: $cg ($cb MB)"
}
shards cold imgaudit-cache "empty registry cache"
distinct_cold=$dl
shards warm imgaudit-cache "re-run, empty local caches"
echo "    registry cache hit rate on the re-run: $(awk -v g="$lg" -v d="$distinct_cold" 'BEGIN { printf "%.1f%%", 100 * (1 - g / d) }') (layers fetched again: $lg of $distinct_cold)"

# 3. Merge the cold shards; compare with the single process's report.
/usr/bin/time -f "%e" -o "$WORK/t-merge" "$WORK/imgaudit" merge -f json -o "$WORK/merged.json" "$WORK"/cold-*.jsonl 2>"$WORK/err-merge" || true
"$WORK/imgaudit" merge -f json -o "$WORK/single.json" "$WORK/single.jsonl" 2>/dev/null || true
norm() { jq -S 'del(.. | .durationMs?, .startedAt?, .finishedAt?, .generatedAt?)' "$1"; }
same=$(cmp -s <(norm "$WORK/merged.json") <(norm "$WORK/single.json") && echo "identical" || echo "DIFFERENT")
echo "merge of $SHARDS shard outputs: $(cat "$WORK/t-merge") s; merged report vs the single process's: $same"

# 4. A shard killed mid-run, then rerun: the merge is complete, and nothing
# the killed run had cached is read again.
: >"$WORK/blobs.log"
for i in $(seq 0 $((SHARDS - 1))); do
	"${audit[@]}" --shard "$i/$SHARDS" --cache-dir "$WORK/cache-kill-$i" --cache-repo "$reg/imgaudit-cache-kill" \
		-f jsonl -o "$WORK/kill-$i.jsonl" "$reg/fleet" >/dev/null 2>&1 &
	kp[$i]=$!
done
sleep "${KILL_AFTER:-5}"
kill -9 "${kp[0]}" 2>/dev/null || true
wait "${kp[@]}" 2>/dev/null || true
cp "$WORK/blobs.log" "$WORK/blobs-before.log"
incomplete=$("$WORK/imgaudit" merge -f json -o /dev/null "$WORK"/kill-*.jsonl >/dev/null 2>&1; echo $?)
: >"$WORK/blobs.log"
rm -rf "$WORK/cache-kill-0"
"${audit[@]}" --shard "0/$SHARDS" --cache-dir "$WORK/cache-kill-0" --cache-repo "$reg/imgaudit-cache-kill" \
	-f jsonl -o "$WORK/kill-0.jsonl" "$reg/fleet" >/dev/null 2>&1 || true
layersin() { awk 'FNR == NR { layer[$1] = 1; next } $3 == 200 && ($2 in layer) {print $2}' "$WORK/layers.txt" "$1" | sort -u; }
again=$(comm -12 <(layersin "$WORK/blobs.log") <(layersin "$WORK/blobs-before.log") | wc -l)
before=$(layersin "$WORK/blobs-before.log" | wc -l)
complete=$("$WORK/imgaudit" merge -f json -o "$WORK/killmerged.json" "$WORK"/kill-*.jsonl >/dev/null 2>&1; echo $?)
echo "shard 0 killed after ${KILL_AFTER:-5} s: merge exit $incomplete before its rerun, $complete after;" \
	"the killed runs had fetched $before layers; the rerun fetched $again of them again (a layer whose analysis had not reached the cache when the shard died is read again)"
