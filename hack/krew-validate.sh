#!/usr/bin/env bash
# Validates the krew manifest that `make dist` wrote (dist/sherpack.yaml, or the file given) with
# krew's own validator. krew pins an old client-go, so the validator is built on its own
# (go run pkg@version), never added to this module. It then checks what the validator does not:
# the shortDescription length krew-index asks for, and that each archive's sha256 is the one
# listed when the archive is at hand.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
manifest=${1:-$root/dist/sherpack.yaml}
if [ ! -f "$manifest" ]; then
  echo "$manifest not found: run make dist first (it fills the .krew.yaml template)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The validator wants the file named after the plugin.
cp "$manifest" "$tmp/sherpack.yaml"
(cd "$tmp" && GOFLAGS=-mod=mod nice -n 10 go run sigs.k8s.io/krew/cmd/validate-krew-manifest@v0.4.3 -manifest "$tmp/sherpack.yaml" -skip-install)
short=$(sed -n 's/^  shortDescription: //p' "$manifest")
if [ ${#short} -gt 50 ]; then
  echo "shortDescription has ${#short} characters; krew-index asks for at most 50: $short" >&2
  exit 1
fi
dir=$(dirname "$manifest")
while read -r sum file; do
  [ -f "$dir/$file" ] || continue
  grep -q "sha256: \"$sum\"" "$manifest" || { echo "$file: sha256 $sum is not the one in $manifest" >&2; exit 1; }
done < <(cat "$dir/sha256sums.txt" 2>/dev/null || true)
echo "krew manifest valid: $manifest"
