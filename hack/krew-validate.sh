#!/usr/bin/env bash
# Validates .krew.yaml with krew's own validator. krew pins an old client-go, so it is built on
# its own (go run pkg@version), never added to this module. The manifest must be named after the
# plugin, hence the copy.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$root/.krew.yaml" "$tmp/sherpack.yaml"
cd "$tmp"
GOFLAGS=-mod=mod go run sigs.k8s.io/krew/cmd/validate-krew-manifest@v0.4.3 -manifest "$tmp/sherpack.yaml" -skip-install
echo "krew manifest valid"
