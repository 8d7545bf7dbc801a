#!/usr/bin/env bash
# Builds Helm v4.3.1 (pinned in hack/tools/helm/go.mod) into $BIN_DIR when missing. The tests
# compare chart rendering against it and drive real Helm releases to import; the benchmarks race it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
BIN_DIR=${BIN_DIR:-$root/_output/tools}
mkdir -p "$BIN_DIR"
want=$(cd "$root/hack/tools/helm" && go list -m -f '{{.Version}}' helm.sh/helm/v4)
if [ -x "$BIN_DIR/helm" ] && [ "$(cat "$BIN_DIR/.helm-version" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
echo ">> building helm $want (hack/tools/helm)" >&2
start=$SECONDS
(cd "$root/hack/tools/helm" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath \
  -ldflags="-s -X helm.sh/helm/v4/internal/version.version=$want" -o "$BIN_DIR/helm" helm.sh/helm/v4/cmd/helm)
echo "$want" > "$BIN_DIR/.helm-version"
echo "   helm built in $((SECONDS - start))s" >&2
