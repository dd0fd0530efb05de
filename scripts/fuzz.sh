#!/usr/bin/env bash
# fuzz.sh — run imgaudit's fuzz targets one at a time and keep what they learn.
#
#   scripts/fuzz.sh                        # every target, 3 minutes each
#   FUZZTIME=30s scripts/fuzz.sh FuzzPasswd FuzzIndex
#   KEEP=0 scripts/fuzz.sh                 # do not copy the corpus into testdata/
#   MINIMIZE=60s scripts/fuzz.sh           # Go's default minimization time
#   LOGDIR=/tmp/fuzzlogs scripts/fuzz.sh   # keep each target's progress log
#
# Each target runs with `go test -fuzz` until FUZZTIME (long enough to plateau
# on a 2-core machine). The new interesting inputs Go keeps in its cache are
# then copied (up to 64 KiB each) into the package's testdata/fuzz/<Target>/,
# where `go test ./...` replays them as ordinary tests. A crash stops the
# script; its input is in testdata/fuzz/<Target>/ already (Go writes it
# there) and `go test -run '<Target>/<file>' ./pkg/...` replays it.
#
# The summary gives, per target: the executions, the new interesting inputs
# of this run, and the corpus size Go reports.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
FUZZTIME=${FUZZTIME:-3m}
# Go minimizes each new interesting input for up to 60 s by default, during
# which the exec counter stands still; large inputs (archives) make that
# most of the run.
MINIMIZE=${MINIMIZE:-5s}
KEEP=${KEEP:-1}
PARALLEL=${PARALLEL:-$(nproc)}

targets=(
	"pkg/layers FuzzIndex"
	"pkg/checks FuzzPasswd"
	"pkg/checks FuzzOSRelease"
	"pkg/checks FuzzPackageDB"
	"pkg/fetch FuzzParsePlatform"
	"pkg/fetch FuzzOpenReference"
	"pkg/fetch FuzzOpenArchive"
	"pkg/output FuzzEscape"
	# Differential: the audit against containerd's applier (needs root and
	# overlayfs, as this script has when run as root).
	"internal/runtimediff FuzzRuntimeDiff"
)
module=$(go list -m)
cache="$(go env GOCACHE)/fuzz/$module"
if [[ -n ${LOGDIR:-} ]]; then # keep the full logs (progress every 3 s)
	logs=$LOGDIR
	mkdir -p "$logs"
else
	logs=$(mktemp -d /tmp/imgaudit-fuzz.XXXXXX)
	trap 'rm -rf "$logs"' EXIT
fi

want() { # want NAME: true when NAME was asked for (or nothing was)
	(($# == 1)) && return 0
	local n=$1
	shift
	for a in "$@"; do [[ $a == "$n" ]] && return 0; done
	return 1
}

summary=()
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	want "$name" "$@" || continue
	echo "+ $name ($pkg) for $FUZZTIME"
	log="$logs/$name.log"
	if ! go test -run='^$' -fuzz="^${name}\$" -fuzztime="$FUZZTIME" -fuzzminimizetime="$MINIMIZE" -parallel="$PARALLEL" "./$pkg" >"$log" 2>&1; then
		tail -n 40 "$log"
		echo "fuzz.sh: $name failed; the failing input is under $pkg/testdata/fuzz/$name/" >&2
		exit 1
	fi
	last=$(grep -E '^fuzz: elapsed' "$log" | tail -n 1)
	echo "  $last"
	kept=0
	if [[ $KEEP == 1 && -d "$cache/$pkg/$name" ]]; then
		dst="$pkg/testdata/fuzz/$name"
		mkdir -p "$dst"
		for f in "$cache/$pkg/$name"/*; do
			[[ -f $f ]] || continue
			(($(stat -c %s "$f") <= 65536)) || continue
			[[ -e "$dst/$(basename "$f")" ]] && continue
			cp "$f" "$dst/"
			kept=$((kept + 1))
		done
	fi
	execs=$(sed -E 's/.*execs: ([0-9]+).*/\1/' <<<"$last")
	newi=$(sed -E 's/.*new interesting: ([0-9]+).*/\1/' <<<"$last")
	total=$(sed -E 's/.*\(total: ([0-9]+)\).*/\1/' <<<"$last")
	summary+=("$(printf '%-20s %-12s %8s %12s %16s %10s' "$name" "$pkg" "$FUZZTIME" "$execs" "$newi (total $total)" "$kept")")
done

printf '\n%-20s %-12s %8s %12s %16s %10s\n' target package time execs "new interesting" "kept"
printf '%s\n' "${summary[@]}"
