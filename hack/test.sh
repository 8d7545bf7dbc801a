#!/usr/bin/env bash
# make test: unit tests, then end-to-end tests against a local control plane started here and
# stopped on exit (also on failure or Ctrl-C). The logs of a failed run are kept in _output/logs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=$root/_output
dir=$(mktemp -d "${TMPDIR:-/tmp}/sherpack-test.XXXXXX")
status=1
cleanup() {
  "$out/bin/cluster" down --dir "$dir" >/dev/null 2>&1 || true
  if [ "$status" -ne 0 ] && [ -d "$dir/logs" ]; then
    keep=$out/logs/test-$(date +%Y%m%d-%H%M%S)
    mkdir -p "$keep" && cp -r "$dir/logs/." "$keep/" && cp "$dir"/supervisor.log "$keep/" 2>/dev/null || true
    echo "control plane logs of this failed run: $keep" >&2
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start=$SECONDS
eval "$("$out/bin/cluster" up --dir "$dir" --bin "$out/tools")"
echo ">> control plane up in $((SECONDS - start))s" >&2

export SHERPACK_TEST_KUBECONFIG=$KUBECONFIG
export SHERPACK_TEST_TOOLS=$out/tools
export SHERPACK_TEST_BIN=${SHERPACK_TEST_BIN:-$out/bin/kubectl-sherpack}
unset KUBECONFIG

pkgs=$(go list ./... | grep -v /hack/)
go test -count=1 -timeout 25m ${GOTESTFLAGS:-} $pkgs
status=0
