#!/usr/bin/env bash
# make demo: start the local control plane, then install, inspect, upgrade, roll back and list
# the example web app with the plugin, as a user would; then import a release real Helm
# installed, and upgrade it from the same chart. KEEP=1 leaves the control plane running
# afterwards (stop it with `make cluster-down`).
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
ns=demo-$(date +%H%M%S)

step kubectl plugin list
step kubectl sherpack version
step kubectl sherpack template shop ./examples/webapp --show-only templates/deployment.yaml
step kubectl sherpack install shop ./examples/webapp -n "$ns" --create-namespace
step kubectl sherpack status shop -n "$ns" --show-resources
step kubectl sherpack upgrade shop ./examples/webapp -n "$ns" --set replicas=3 --set config.logLevel=debug
step kubectl get deployment shop-webapp -n "$ns"
step kubectl sherpack get values shop -n "$ns" --all --show-sources
step kubectl sherpack history shop -n "$ns"
step kubectl sherpack diff upgrade shop ./examples/webapp -n "$ns" --set replicas=4
step kubectl scale deployment shop-webapp -n "$ns" --replicas=5
step kubectl sherpack diff drift shop -n "$ns" || true
step kubectl sherpack rollback shop -n "$ns" --force-conflicts
step kubectl get deployment shop-webapp -n "$ns"
step kubectl sherpack install platform ./examples/platform -n "$ns"
step kubectl sherpack list -n "$ns"
step kubectl sherpack uninstall platform -n "$ns" --wait
step kubectl sherpack list -A -o wide

# Coming from Helm: a release Helm installed and upgraded is taken over in place (no restart,
# history kept), then upgraded by sherpack from the same chart.
export HELM_CACHE_HOME=$dir/helm/cache HELM_CONFIG_HOME=$dir/helm/config HELM_DATA_HOME=$dir/helm/data
hns=$ns-helm
step helm install guestbook ./examples/helm-guestbook -n "$hns" --create-namespace --wait
step helm upgrade guestbook ./examples/helm-guestbook -n "$hns" --set config.greeting="Hello from Helm" --wait
step helm history guestbook -n "$hns"
step kubectl sherpack import helm guestbook -n "$hns" --dry-run
step kubectl sherpack import helm guestbook -n "$hns"
step kubectl sherpack upgrade guestbook ./examples/helm-guestbook -n "$hns"
step kubectl sherpack upgrade guestbook ./examples/helm-guestbook -n "$hns" --reuse-values --set replicaCount=3
step kubectl sherpack history guestbook -n "$hns"
step kubectl sherpack diff drift guestbook -n "$hns"
echo
echo "demo done. KUBECONFIG=$KUBECONFIG"
