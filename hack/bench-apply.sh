#!/usr/bin/env bash
# Side by side on the local control plane: sherpack, Helm 4.3.1 and kubectl (server-side apply +
# kubectl wait, the reference) on the same 300-object workload (200 ConfigMaps, 50 Deployments of
# 2 replicas, 50 Services): install with wait, no-op upgrade, image-change upgrade with wait,
# uninstall waiting until every object is gone.
# Needs KUBECONFIG (hack/bench.sh provides it). Helm is built into _output/tools on first use.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/_output
sherpack=$out/bin/kubectl-sherpack
kubectl=$out/tools/kubectl
helm=$out/tools/helm
if [ ! -x "$helm" ]; then
  echo ">> building helm v4.3.1 (hack/tools/helm)" >&2
  (cd "$root/hack/tools/helm" && CGO_ENABLED=0 go build -trimpath -o "$helm" helm.sh/helm/v4/cmd/helm)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

gen() { # $1 = image expression, $2 = the tag the first 10 ConfigMaps carry
  for i in $(seq 0 199); do
    tag=1
    [ "$i" -lt 10 ] && tag=$2
    printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\ndata:\n  key: "value-%d"\n  tag: "%s"\n  settings.json: "{\\"timeout\\": %d}"\n' "$i" "$i" "$tag" "$i"
  done
  for i in $(seq 0 49); do
    printf -- '---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-%d\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web-%d}\n  template:\n    metadata:\n      labels: {app: web-%d}\n    spec:\n      containers:\n      - name: web\n        image: "%s"\n        ports: [{containerPort: 8080}]\n' "$i" "$i" "$i" "$1"
    printf -- '---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web-%d\nspec:\n  selector: {app: web-%d}\n  ports: [{port: 80, targetPort: 8080}]\n' "$i" "$i"
  done
}
mkdir -p "$work/pack/templates" "$work/chart/templates" "$work/plain"
printf 'apiVersion: sherpack/v1\nmetadata: {name: bench, version: 1.0.0}\n' > "$work/pack/Pack.yaml"
printf 'image: registry.local/web:1\ntag: "1"\n' > "$work/pack/values.yaml"
gen '{{ values.image }}' '{{ values.tag }}' > "$work/pack/templates/all.yaml"
printf 'apiVersion: v2\nname: bench\nversion: 1.0.0\n' > "$work/chart/Chart.yaml"
printf 'image: registry.local/web:1\n' > "$work/chart/values.yaml"
gen '{{ .Values.image }}' 1 > "$work/chart/templates/all.yaml"
gen 'registry.local/web:1' 1 > "$work/plain/v1.yaml"
gen 'registry.local/web:2' 1 > "$work/plain/v2.yaml"

if [ -n "${BENCH_KEEP_WORK:-}" ]; then cp -r "$work/." "$BENCH_KEEP_WORK/"; fi
stamp=$(date +%s)
for t in s h k; do "$kubectl" create namespace "bench-$t-$stamp" >/dev/null; done
now() { date +%s.%N; }
declare -A T
run() { # name, command...
  local name=$1; shift
  local s e
  s=$(now)
  "$@" >"$work/$name.log" 2>&1 || { echo "!! $name failed:"; tail -20 "$work/$name.log"; exit 1; }
  e=$(now)
  T[$name]=$(awk -v a="$e" -v b="$s" 'BEGIN{printf "%.3f", a-b}')
}
ns=bench-s-$stamp
run sherpack-install   "$sherpack" install bench "$work/pack" -n "$ns" --wait --progress=none
run sherpack-noop      "$sherpack" upgrade bench "$work/pack" -n "$ns" --wait --progress=none
run sherpack-diff      "$sherpack" diff upgrade bench "$work/pack" -n "$ns" --set tag=2 -o name
run sherpack-dryrun    "$sherpack" upgrade bench "$work/pack" -n "$ns" --set tag=2 --dry-run=server
run sherpack-image     "$sherpack" upgrade bench "$work/pack" -n "$ns" --wait --progress=none --set image=registry.local/web:2
run sherpack-uninstall "$sherpack" uninstall bench -n "$ns" --wait --progress=none
ns=bench-h-$stamp
run helm-install "$helm" install bench "$work/chart" -n "$ns" --wait --timeout 5m
run helm-noop    "$helm" upgrade bench "$work/chart" -n "$ns" --wait --timeout 5m
run helm-image   "$helm" upgrade bench "$work/chart" -n "$ns" --wait --timeout 5m --set image=registry.local/web:2
run helm-uninstall "$helm" uninstall bench -n "$ns" --wait --timeout 5m
ns=bench-k-$stamp
kwait() { "$kubectl" wait --for=condition=Available deployment --all -n "$ns" --timeout 5m; }
kapply() { "$kubectl" apply --server-side -f "$1" -n "$ns" && kwait; }
krollout() { "$kubectl" apply --server-side -f "$1" -n "$ns" && "$kubectl" wait --for=jsonpath='{.status.updatedReplicas}'=2 deployment --all -n "$ns" --timeout 5m && kwait; }
run kubectl-install kapply "$work/plain/v1.yaml"
run kubectl-noop    kapply "$work/plain/v1.yaml"
run kubectl-image   krollout "$work/plain/v2.yaml"
run kubectl-uninstall "$kubectl" delete -f "$work/plain/v2.yaml" -n "$ns" --wait

printf '\n%-22s %10s %10s %10s\n' "300 objects" sherpack helm kubectl
for op in install noop image uninstall; do
  printf '%-22s %9.2fs %9.2fs %9.2fs\n' "$op" "${T[sherpack-$op]}" "${T[helm-$op]}" "${T[kubectl-$op]}"
done
div() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
printf '\nratios: install sherpack/kubectl %s (target <= 1.1), sherpack/helm %s; no-op upgrade %.2fs (target <= 0.5s), sherpack/helm %s; image upgrade sherpack/helm %s\n' \
  "$(div "${T[sherpack-install]}" "${T[kubectl-install]}")" "$(div "${T[sherpack-install]}" "${T[helm-install]}")" \
  "${T[sherpack-noop]}" "$(div "${T[sherpack-noop]}" "${T[helm-noop]}")" "$(div "${T[sherpack-image]}" "${T[helm-image]}")"
printf 'diff upgrade with 10 changes: %.2fs; server-side dry-run apply of the release: %.2fs; ratio %s (target <= 1.5); changed objects found: %s\n' \
  "${T[sherpack-diff]}" "${T[sherpack-dryrun]}" "$(div "${T[sherpack-diff]}" "${T[sherpack-dryrun]}")" "$(grep -c ConfigMap "$work/sherpack-diff.log" || true)"
for t in s h k; do "$kubectl" delete namespace "bench-$t-$stamp" --wait=false >/dev/null; done
