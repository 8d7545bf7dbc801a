#!/usr/bin/env bash
# The scale curve, side by side on the local control plane: sherpack, kubectl (server-side apply
# + kubectl wait) and Helm 4.3.1 on releases of 300, 3,000 and 10,000 objects (80% ConfigMaps,
# 18% Services, 2% Deployments of one replica). For each: install with wait, no-op upgrade,
# diff upgrade (10 ConfigMaps changed), drift, uninstall; wall time and peak RSS of the client.
# Helm runs at 300 and 3,000 only. The diff is compared with a server-side dry-run apply of the
# same change (sherpack --dry-run=server, and kubectl apply --server-side --dry-run=server).
# Needs KUBECONFIG (hack/bench.sh provides it). SIZES overrides the curve (e.g. SIZES="300 3000").
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
sizes=${SIZES:-300 3000 10000}

gen() { # $1 objects, $2 image expression, $3 tag of the first 10 ConfigMaps
  local n=$1 cms svcs deps i tag
  deps=$((n / 50)); svcs=$((n * 18 / 100)); cms=$((n - deps - svcs))
  for ((i = 0; i < cms; i++)); do
    tag=1; [ "$i" -lt 10 ] && tag=$3
    printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\ndata:\n  key: "value-%d"\n  tag: "%s"\n' "$i" "$i" "$tag"
  done
  for ((i = 0; i < svcs; i++)); do
    printf -- '---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc-%d\nspec:\n  selector: {app: web-%d}\n  ports: [{name: http, port: 80, targetPort: 8080}]\n' "$i" "$((i % (deps > 0 ? deps : 1)))"
  done
  for ((i = 0; i < deps; i++)); do
    printf -- '---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-%d\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web-%d}\n  template:\n    metadata:\n      labels: {app: web-%d}\n    spec:\n      containers:\n      - name: web\n        image: "%s"\n        ports: [{containerPort: 8080}]\n' "$i" "$i" "$i" "$2"
  done
}

now() { date +%s.%N; }
declare -A T M
run() { # key, command...: wall time and peak RSS (MB) of the command and its children
  local key=$1; shift
  local s e
  s=$(now)
  /usr/bin/time -o "$work/$key.rss" -f '%M' "$@" >"$work/$key.log" 2>&1 || { echo "!! $key failed:"; tail -20 "$work/$key.log"; exit 1; }
  e=$(now)
  T[$key]=$(awk -v a="$e" -v b="$s" 'BEGIN{printf "%.2f", a-b}')
  M[$key]=$(awk '{printf "%d", $1/1024}' "$work/$key.rss")
}
kwait() { "$kubectl" wait --for=condition=Available deployment --all -n "$1" --timeout 10m >/dev/null; }
kapply() { "$kubectl" apply --server-side -f "$2" -n "$1" >/dev/null && kwait "$1"; }
export -f kwait kapply
export kubectl

for n in $sizes; do
  d=$work/$n
  mkdir -p "$d/pack/templates" "$d/chart/templates"
  printf 'apiVersion: sherpack/v1\nmetadata: {name: scale, version: 1.0.0}\n' >"$d/pack/Pack.yaml"
  printf 'image: registry.local/web:1\ntag: "1"\n' >"$d/pack/values.yaml"
  gen "$n" '{{ values.image }}' '{{ values.tag }}' >"$d/pack/templates/all.yaml"
  printf 'apiVersion: v2\nname: scale\nversion: 1.0.0\n' >"$d/chart/Chart.yaml"
  printf 'image: registry.local/web:1\n' >"$d/chart/values.yaml"
  gen "$n" '{{ .Values.image }}' 1 >"$d/chart/templates/all.yaml"
  gen "$n" 'registry.local/web:1' 1 >"$d/v1.yaml"
  gen "$n" 'registry.local/web:1' 2 >"$d/v2.yaml"
  stamp=$(date +%s)
  ns=scale-s-$n-$stamp
  "$kubectl" create namespace "$ns" >/dev/null
  run "s-install-$n"   "$sherpack" install scale "$d/pack" -n "$ns" --wait --timeout 15m --progress=none
  run "s-noop-$n"      "$sherpack" upgrade scale "$d/pack" -n "$ns" --wait --timeout 15m --progress=none
  run "s-diff-$n"      "$sherpack" diff upgrade scale "$d/pack" -n "$ns" --set tag=2 -o name
  run "s-dryrun-$n"    "$sherpack" upgrade scale "$d/pack" -n "$ns" --set tag=2 --dry-run=server --progress=none
  run "s-drift-$n"     "$sherpack" diff drift scale -n "$ns" -o name
  run "s-uninstall-$n" "$sherpack" uninstall scale -n "$ns" --wait --timeout 15m --progress=none
  grep -q "ConfigMap" "$work/s-diff-$n.log" || { echo "!! diff upgrade at $n found no change"; exit 1; }
  ns=scale-k-$n-$stamp
  "$kubectl" create namespace "$ns" >/dev/null
  run "k-install-$n"   bash -c 'kapply "$0" "$1"' "$ns" "$d/v1.yaml"
  run "k-noop-$n"      bash -c 'kapply "$0" "$1"' "$ns" "$d/v1.yaml"
  run "k-dryrun-$n"    "$kubectl" apply --server-side --dry-run=server -f "$d/v2.yaml" -n "$ns"
  run "k-diff-$n"      bash -c '"$kubectl" diff --server-side -f "$1" -n "$0"; [ $? -le 1 ]' "$ns" "$d/v2.yaml"
  run "k-drift-$n"     bash -c '"$kubectl" diff --server-side -f "$1" -n "$0"; [ $? -le 1 ]' "$ns" "$d/v1.yaml"
  # kubectl delete --wait waits for one object after another (about 0.2 s each: 613 s at 3,000),
  # so at 10,000 it is not run: the namespace goes instead.
  if [ "$n" -le 3000 ]; then
    run "k-uninstall-$n" "$kubectl" delete -f "$d/v1.yaml" -n "$ns" --wait
  fi
  if [ "$n" -le 3000 ]; then
    ns=scale-h-$n-$stamp
    "$kubectl" create namespace "$ns" >/dev/null
    run "h-install-$n"   "$helm" install scale "$d/chart" -n "$ns" --wait --timeout 15m
    run "h-noop-$n"      "$helm" upgrade scale "$d/chart" -n "$ns" --wait --timeout 15m
    run "h-uninstall-$n" "$helm" uninstall scale -n "$ns" --wait --timeout 15m
  fi
  for t in s k h; do "$kubectl" delete namespace "scale-$t-$n-$stamp" --wait=false >/dev/null 2>&1 || true; done
done

cell() { if [ -n "${T[$1]:-}" ]; then printf '%7.2fs %5sMB' "${T[$1]}" "${M[$1]}"; else printf '%15s' '-'; fi; }
printf '\n%-16s' "objects / op"
for tool in sherpack kubectl helm; do printf ' | %-15s' "$tool"; done
printf '\n'
for n in $sizes; do
  for op in install noop diff dryrun drift uninstall; do
    printf '%-16s' "$n $op"
    for t in s k h; do printf ' | %s' "$(cell "$t-$op-$n")"; done
    printf '\n'
  done
done
div() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
printf '\n'
for n in $sizes; do
  printf '%6d objects: diff upgrade / sherpack dry-run %s, / kubectl dry-run %s (target <= 1.1); no-op upgrade %.2fs; drift %.2fs; install peak RSS %s MB\n' \
    "$n" "$(div "${T[s-diff-$n]}" "${T[s-dryrun-$n]}")" "$(div "${T[s-diff-$n]}" "${T[k-dryrun-$n]}")" "${T[s-noop-$n]}" "${T[s-drift-$n]}" "${M[s-install-$n]}"
done
echo "kubectl uninstall is not run above 3,000 objects (kubectl delete --wait waits for each object in turn)"
echo "targets: no-op upgrade of 3,000 <= 1 s; drift of 3,000 <= 2 s; 10,000-object install peak RSS <= 400 MB"
