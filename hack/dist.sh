#!/usr/bin/env bash
# make dist: static binaries for linux/darwin x amd64/arm64 as tar.gz (binary + LICENSE), their
# sha256, and .krew.yaml rewritten with this version and those checksums.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
version=${1:?version}
ldflags=${2:-}
case "$version" in v*) ;; *) version=v$version ;; esac
dist=$root/dist
rm -rf "$dist" && mkdir -p "$dist"
declare -A sums
for platform in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64; do
  os=${platform%/*} arch=${platform#*/}
  work=$(mktemp -d)
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -ldflags "$ldflags" -o "$work/kubectl-sherpack" ./cmd/kubectl-sherpack
  cp LICENSE "$work/"
  tarball=kubectl-sherpack_${version}_${os}_${arch}.tar.gz
  tar -C "$work" --owner=0 --group=0 --mtime='2026-01-01 00:00:00' -czf "$dist/$tarball" kubectl-sherpack LICENSE
  rm -rf "$work"
  sums[$platform]=$(sha256sum "$dist/$tarball" | cut -d' ' -f1)
  echo "${sums[$platform]}  $tarball" >> "$dist/sha256sums.txt"
  echo "built $tarball" >&2
done
# Fill the krew manifest: version, and each platform's sha256 (the line after its uri).
tmp=$(mktemp)
awk -v v="$version" -v la="${sums[linux/amd64]}" -v lr="${sums[linux/arm64]}" -v da="${sums[darwin/amd64]}" -v dr="${sums[darwin/arm64]}" '
  /^  version:/ { print "  version: " v; next }
  /uri:/ { uri=$0; sub(/download\/v[^/]*\//, "download/" v "/", uri); sub(/kubectl-sherpack_v[^_]*_/, "kubectl-sherpack_" v "_", uri); print uri
           if (uri ~ /linux_amd64/) s=la; else if (uri ~ /linux_arm64/) s=lr; else if (uri ~ /darwin_amd64/) s=da; else s=dr; next }
  /sha256:/ { sub(/sha256:.*/, "sha256: \"" s "\""); print; next }
  { print }' .krew.yaml > "$tmp"
mv "$tmp" .krew.yaml
cp .krew.yaml "$dist/sherpack.yaml"
cat "$dist/sha256sums.txt"
