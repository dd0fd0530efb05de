#!/usr/bin/env bash
# bench-diff.sh — issue 16's delta-gate target, measured: a diff of two
# ~1 GiB images that share all but one 10 MiB layer, the old one already in
# the layer cache, against reading that 10 MiB layer alone (an image made of
# it, no cache). Target: the diff takes at most 1.2x the layer.
#
#   scripts/bench-diff.sh                  # 3 iterations
#   BENCHTIME=5x scripts/bench-diff.sh
#
# The Go benchmark (BenchmarkDiff in pkg/audit) generates the images once
# per run under its temporary directory (deterministic: 20,000 files, a
# tenth of them random bytes, the rest text-like; about 1 GiB each, streamed
# to disk), fills the cache with the old image, then times, per iteration,
# the layer alone and the diff (checks only, no SBOM). It needs ~0.8 GB of
# free space in $TMPDIR. CI never runs it: benchmarks run only with -bench.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
BENCHTIME=${BENCHTIME:-3x}
out=$(go test -run NONE -bench '^BenchmarkDiff$' -benchtime "$BENCHTIME" -count 1 -timeout 30m ./pkg/audit | tee /dev/stderr)
line=$(grep '^BenchmarkDiff' <<<"$out" | tail -1)
# metric value precedes its unit: "... 123 layer-ms 456 diff-ms 1.05 diff/layer"
metric() { awk -v u="$1" '{for (i = 2; i <= NF; i++) if ($i == u) print $(i-1)}' <<<"$line"; }
layer=$(metric layer-ms)
diff=$(metric diff-ms)
ratio=$(metric diff/layer)
printf 'layer alone: %s ms   diff (old cached): %s ms   ratio: %s (target <= 1.20)\n' "$layer" "$diff" "$ratio"
awk -v r="$ratio" 'BEGIN { exit !(r <= 1.2) }' && echo "within target" || echo "above target"
