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

# The template conformance suite compares with Python's Jinja2 (Debian's python3-jinja2, run by
# /usr/bin/python3, never a package index): install it when it is missing.
if ! /usr/bin/python3 -c 'import jinja2' >/dev/null 2>&1; then
  echo ">> installing python3-jinja2 (the reference for the template conformance suite)" >&2
  if ! apt-get install -y -qq python3-jinja2 >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq python3-jinja2 >/dev/null 2>&1 ||
      echo ">> could not install python3-jinja2: the conformance tests will be skipped" >&2
  fi
fi

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
