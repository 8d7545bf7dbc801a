#!/usr/bin/env bash
# Builds the local control plane's binaries (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok) from the pinned tools modules into $BIN_DIR, only those missing.
# Versions are pinned in hack/tools/go.mod and hack/tools/kwok/go.mod.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
BIN_DIR=${BIN_DIR:-$root/_output/tools}
mkdir -p "$BIN_DIR"

need=()
declare -A pkg=(
  [etcd]=go.etcd.io/etcd/server/v3
  [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
  [kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager
  [kube-scheduler]=k8s.io/kubernetes/cmd/kube-scheduler
  [kubectl]=k8s.io/kubernetes/cmd/kubectl
)
# Stamp the binaries with the tools modules' content so a version bump rebuilds them.
stamp=$(cat "$root/hack/tools/go.mod" "$root/hack/tools/kwok/go.mod" "$0" | sha256sum | cut -c1-16)
if [ -f "$BIN_DIR/.stamp" ] && [ "$(cat "$BIN_DIR/.stamp")" != "$stamp" ]; then
  rm -rf "$BIN_DIR"/etcd "$BIN_DIR"/kube-* "$BIN_DIR"/kubectl "$BIN_DIR"/kwok "$BIN_DIR"/kwok-stages
fi
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  [ -x "$BIN_DIR/$b" ] || need+=("$b")
done
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
# The version the components report (discovery's /version), as a release build stamps it.
kver=$(cd "$root/hack/tools" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
kminor=$(echo "$kver" | cut -d. -f2)
vpkg=k8s.io/component-base/version
ldflags="-s -X $vpkg.gitVersion=$kver -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$kminor -X $vpkg.gitTreeState=clean -X $vpkg.gitCommit=release"
ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$kver -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$kminor"
for b in "${need[@]}"; do
  echo ">> building $b (${pkg[$b]})" >&2
  start=$SECONDS
  (cd "$root/hack/tools" && go build -trimpath -ldflags="$ldflags" -o "$BIN_DIR/$b" "${pkg[$b]}")
  echo "   $b built in $((SECONDS - start))s" >&2
done
if [ ! -x "$BIN_DIR/kwok" ]; then
  echo ">> building kwok (sigs.k8s.io/kwok/cmd/kwok)" >&2
  start=$SECONDS
  (cd "$root/hack/tools/kwok" && go build -trimpath -ldflags=-s -o "$BIN_DIR/kwok" sigs.k8s.io/kwok/cmd/kwok)
  echo "   kwok built in $((SECONDS - start))s" >&2
fi
# kwok's default stages ship in its module; the cluster harness adds the test stages to them.
if [ ! -d "$BIN_DIR/kwok-stages" ]; then
  kwokdir=$(cd "$root/hack/tools/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
  mkdir -p "$BIN_DIR/kwok-stages.tmp"
  cp "$kwokdir"/kustomize/stage/node/fast/node-initialize.yaml \
     "$kwokdir"/kustomize/stage/node/heartbeat/node-heartbeat.yaml \
     "$kwokdir"/kustomize/stage/pod/fast/pod-ready.yaml \
     "$kwokdir"/kustomize/stage/pod/fast/pod-complete.yaml \
     "$kwokdir"/kustomize/stage/pod/fast/pod-delete.yaml "$BIN_DIR/kwok-stages.tmp/"
  chmod 0644 "$BIN_DIR"/kwok-stages.tmp/*
  mv "$BIN_DIR/kwok-stages.tmp" "$BIN_DIR/kwok-stages"
fi
echo "$stamp" > "$BIN_DIR/.stamp"
