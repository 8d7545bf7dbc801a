#!/usr/bin/env bash
# make demo: start the local control plane, show the plugin working against it, stop it.
# KEEP=1 leaves the control plane running afterwards (stop it with `make cluster-down`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=$root/_output
dir=$out/cluster
if [ "${KEEP:-0}" != 1 ]; then
  trap '"$out/bin/cluster" down --dir "$dir" >/dev/null 2>&1 || true' EXIT
fi
eval "$("$out/bin/cluster" up --dir "$dir" --bin "$out/tools")"
export KUBECONFIG
export PATH=$out/bin:$out/tools:$PATH
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step kubectl plugin list
step kubectl sherpack version
step kubectl get nodes
[ -f "$root/hack/demo-steps.sh" ] && source "$root/hack/demo-steps.sh"
echo
echo "demo done. KUBECONFIG=$KUBECONFIG"
