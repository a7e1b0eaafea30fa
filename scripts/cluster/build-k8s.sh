#!/usr/bin/env bash
# Builds upstream Kubernetes commands from the official k8s.io/kubernetes Go
# module (fetched through the Go module proxy by scripts/cluster/k8s-module)
# into a cache keyed by version, and installs etcd (Debian's etcd-server).
# Idempotent: a binary already in the cache is not built again.
#
#   scripts/cluster/build-k8s.sh [COMMAND...]
#
# Without arguments it builds kube-apiserver and kubectl first, then
# kube-scheduler, kube-controller-manager, kubelet and kube-proxy. Prints the cache's bin
# directory on its last line. Needs Go (>= 1.24) and, for etcd, root (apt).
set -euo pipefail

VERSION=v1.34.4
MINOR=34
CACHE=${BUNVIRT_K8S_CACHE:-/var/cache/bunvirt/k8s-$VERSION}
BIN=$CACHE/bin
MODULE=$(cd "$(dirname "$0")/k8s-module" && pwd)
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}

commands=("$@")
if [ ${#commands[@]} = 0 ]; then
  commands=(kube-apiserver kubectl kube-scheduler kube-controller-manager kubelet kube-proxy)
fi

[ -x "$GO" ] || { echo "Cannot build Kubernetes $VERSION: no Go toolchain found (set GO or put go on PATH)" >&2; exit 1; }
mkdir -p "$BIN"

# The version stamps `kubectl version` and /version report; a source build
# without them says v0.0.0-master.
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$MINOR"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=2026-01-01T00:00:00Z"
done

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
export GOCACHE=${GOCACHE:-/var/cache/bunvirt/go-build}

for cmd in "${commands[@]}"; do
  case $cmd in
    kube-apiserver|kubectl|kube-scheduler|kube-controller-manager|kubelet|kube-proxy) ;;
    *) echo "Cannot build \"$cmd\": not one of kube-apiserver, kubectl, kube-scheduler, kube-controller-manager, kubelet, kube-proxy" >&2; exit 1 ;;
  esac
  if [ -x "$BIN/$cmd" ]; then
    echo "have $BIN/$cmd"
    continue
  fi
  start=$SECONDS
  # Build beside the target and rename, so an interrupted build leaves no binary.
  (cd "$MODULE" && "$GO" build -trimpath -ldflags "$ldflags" -o "$BIN/.$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd")
  mv "$BIN/.$cmd.tmp" "$BIN/$cmd"
  echo "built $BIN/$cmd in $((SECONDS - start)) s, $(stat -c %s "$BIN/$cmd") bytes"
done

# etcd: the Debian package is enough as the API server's store.
if ! command -v etcd >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "Cannot install etcd: not root (apt-get install etcd-server needs root)" >&2; exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server >/dev/null
  echo "installed $(command -v etcd)"
fi

echo "$BIN"
