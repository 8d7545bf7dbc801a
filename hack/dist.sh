#!/usr/bin/env bash
# make dist: static binaries for linux, darwin and windows x amd64/arm64, each as a tar.gz with
# the completion helper and LICENSE, their sha256, and dist/sherpack.yaml: the krew manifest
# filled in from the .krew.yaml template (which is left as it is). Compiling is CPU-heavy: it
# runs under nice.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
version=${1:?version}
ldflags=${2:-}
case "$version" in v*) ;; *) version=v$version ;; esac
dist=$root/dist
rm -rf "$dist" && mkdir -p "$dist"
platforms=()
for platform in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64; do
  os=${platform%/*} arch=${platform#*/}
  exe=kubectl-sherpack helper=kubectl_complete-sherpack
  if [ "$os" = windows ]; then exe=$exe.exe helper=$helper.cmd; fi
  work=$(mktemp -d)
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch nice -n 10 go build -trimpath -ldflags "$ldflags" -o "$work/$exe" ./cmd/kubectl-sherpack
  cp LICENSE "$work/"
  cp "hack/completion/$helper" "$work/" && chmod 0755 "$work/$helper"
  tarball=kubectl-sherpack_${version}_${os}_${arch}.tar.gz
  tar -C "$work" --owner=0 --group=0 --mtime='2026-01-01 00:00:00' --sort=name -cf - "$exe" "$helper" LICENSE | gzip -n > "$dist/$tarball"
  rm -rf "$work"
  sum=$(sha256sum "$dist/$tarball" | cut -d' ' -f1)
  echo "$sum  $tarball" >> "$dist/sha256sums.txt"
  platforms+=("$(cat <<ENTRY
  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: https://github.com/sherpack/kubectl-sherpack/releases/download/$version/$tarball
    sha256: "$sum"
    bin: $exe
    files:
    - from: $exe
      to: .
    - from: $helper
      to: .
    - from: LICENSE
      to: .
ENTRY
)")
  echo "built $tarball" >&2
done
entries=$(printf '%s\n' "${platforms[@]}")
# The template's placeholders: @VERSION@ and the @PLATFORMS@ line.
awk -v v="$version" -v entries="$entries" '
  /^#/ && !started { next }
  { started = 1 }
  /^@PLATFORMS@$/ { print entries; next }
  { gsub(/@VERSION@/, v); print }' .krew.yaml > "$dist/sherpack.yaml"
cat "$dist/sha256sums.txt"
echo "wrote $dist/sherpack.yaml (krew manifest of $version)" >&2
