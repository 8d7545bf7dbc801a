#!/usr/bin/env bash
# make bench: Go benchmarks of every package, with the local control plane for those that need it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=$root/_output
dir=$(mktemp -d "${TMPDIR:-/tmp}/sherpack-bench.XXXXXX")
trap '"$out/bin/cluster" down --dir "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
eval "$("$out/bin/cluster" up --dir "$dir" --bin "$out/tools")"
export SHERPACK_TEST_KUBECONFIG=$KUBECONFIG SHERPACK_TEST_TOOLS=$out/tools SHERPACK_TEST_BIN=$out/bin/kubectl-sherpack
unset KUBECONFIG
go test -run '^$' -bench "${BENCH:-.}" -benchmem -count=1 -timeout 30m $(go list ./... | grep -v /hack/)
KUBECONFIG=$SHERPACK_TEST_KUBECONFIG ./hack/bench-apply.sh
KUBECONFIG=$SHERPACK_TEST_KUBECONFIG ./hack/bench-scale.sh
