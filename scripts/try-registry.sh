#!/usr/bin/env bash
# Try `imgaudit registry` on the example images: starts the CNCF
# distribution registry (Debian's docker-registry) on 127.0.0.1:PORT with its
# storage in a temporary directory, pushes the images under testdata/images
# into it (with crane, built from the module proxy on first use), audits the
# whole registry, and stops the registry again.
#
#   scripts/try-registry.sh [PORT] [-- imgaudit registry flags...]
#
# Needs docker-registry (as root: apt-get install -y docker-registry).
set -euo pipefail
cd "$(dirname "$0")/.."

port=5055
if [[ $# -gt 0 && $1 != -- ]]; then port=$1; shift; fi
[[ ${1:-} == -- ]] && shift

registry=$(command -v docker-registry || true)
if [[ -z $registry ]]; then
	echo "try-registry: docker-registry is not installed (as root: apt-get install -y docker-registry)" >&2
	exit 2
fi

tmp=$(mktemp -d)
cleanup() {
	[[ -n ${pid:-} ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

cat >"$tmp/config.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $tmp/storage}}
http: {addr: 127.0.0.1:$port}
YAML
"$registry" serve "$tmp/config.yml" >"$tmp/registry.log" 2>&1 &
pid=$!
for _ in $(seq 50); do
	curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
	sleep 0.1
done

ggcr=$(go list -m -f '{{.Version}}' github.com/google/go-containerregistry)
crane=(go run "github.com/google/go-containerregistry/cmd/crane@$ggcr")
for dir in testdata/images/*/; do
	name=$(basename "$dir")
	echo "+ crane push $dir 127.0.0.1:$port/examples/$name:1.0"
	"${crane[@]}" push --insecure "$dir" "127.0.0.1:$port/examples/$name:1.0" >/dev/null
done
# A second tag of the same digest: the report lists both.
"${crane[@]}" tag --insecure "127.0.0.1:$port/examples/demo:1.0" latest

echo "+ imgaudit registry 127.0.0.1:$port $*"
go run ./cmd/imgaudit registry "127.0.0.1:$port" "$@" || echo "(imgaudit exited $?)"
