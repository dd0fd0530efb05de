#!/usr/bin/env bash
# release-snapshot.sh — the whole release, locally, without publishing:
#
#   1. `goreleaser release --snapshot --clean` (.goreleaser.yaml): binaries for
#      linux, darwin and windows on amd64 and arm64, archives, checksums, an
#      SPDX SBOM per archive (syft), the changelog;
#   2. imgaudit's container image from the linux binaries (scripts/buildimage,
#      no Docker), as an OCI layout in dist/image;
#   3. the image audited by the snapshot binary for this machine, failing on
#      any finding at medium or above (the dogfood test does the same in
#      `go test ./...`).
#
# GoReleaser and syft are built from source with the Go toolchain (syft at the
# version in go.mod, cached in ~/.cache/imgaudit-release). The whole run took
# 43.5 minutes on 2 busy CPUs, mostly cross-compiling six targets. Too slow
# for every CI run: .ci/run only runs `goreleaser check`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

GORELEASER_VERSION=${GORELEASER_VERSION:-v2.15.1}
start=$(date +%s)

# syft, which GoReleaser runs for the SBOMs, must be on PATH. It is built
# once per version into a cache outside the repository.
if ! command -v syft >/dev/null 2>&1; then
	syft_version=$(go list -m -f '{{.Version}}' github.com/anchore/syft 2>/dev/null || echo v1.57.1)
	tools="${XDG_CACHE_HOME:-$HOME/.cache}/imgaudit-release/syft-$syft_version"
	if [ ! -x "$tools/syft" ]; then
		echo "+ building syft $syft_version into $tools"
		mkdir -p "$tools"
		if ! go build -o "$tools/syft" github.com/anchore/syft/cmd/syft 2>/dev/null; then
			GOBIN="$tools" go install "github.com/anchore/syft/cmd/syft@$syft_version"
		fi
	fi
	export PATH="$tools:$PATH"
fi
syft version | sed -n '1,3p'

echo "+ goreleaser $GORELEASER_VERSION release --snapshot --clean"
go run "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION" release --snapshot --clean

version=$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' dist/metadata.json | head -1)
linux_bins=()
for arch in amd64 arm64; do
	bin=$(find dist -path "dist/imgaudit_linux_${arch}*/imgaudit" -type f | head -1)
	[ -n "$bin" ] || { echo "no linux/$arch binary in dist/" >&2; exit 1; }
	linux_bins+=(-binary "$bin")
done
echo "+ buildimage ${version:-snapshot}"
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) go run ./scripts/buildimage "${linux_bins[@]}" \
	-out dist/image -version "${version:-snapshot}" -revision "$(git rev-parse HEAD)"

host=$(find dist -path "dist/imgaudit_$(go env GOOS)_$(go env GOARCH)*/imgaudit*" -type f | head -1)
echo "+ $host scan --fail-on medium dist/image"
"$host" scan --fail-on medium dist/image

echo "+ artifacts"
ls -l dist/*.tar.gz dist/*.zip dist/*.sbom.json dist/*checksums.txt
echo "release snapshot done in $(($(date +%s) - start)) s"
