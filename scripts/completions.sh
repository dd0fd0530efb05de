#!/usr/bin/env bash
# completions.sh DIR — writes imgaudit's shell completion scripts to DIR
# (imgaudit.bash, _imgaudit for zsh, imgaudit.fish, imgaudit.ps1). The
# release (.goreleaser.yaml) runs it as a before hook and ships DIR in each
# archive as completions/.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: scripts/completions.sh DIR}
mkdir -p "$dir"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/imgaudit" ./cmd/imgaudit
"$bin/imgaudit" completion bash >"$dir/imgaudit.bash"
"$bin/imgaudit" completion zsh >"$dir/_imgaudit"
"$bin/imgaudit" completion fish >"$dir/imgaudit.fish"
"$bin/imgaudit" completion powershell >"$dir/imgaudit.ps1"
