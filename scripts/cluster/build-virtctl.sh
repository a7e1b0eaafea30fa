#!/usr/bin/env bash
# Builds KubeVirt's virtctl (the reference client the cluster tier checks
# bunvirt's aggregated subresources with) from the official kubevirt.io/kubevirt
# Go module, fetched through the Go module proxy by scripts/cluster/virtctl-module,
# into a cache keyed by version. Idempotent: a cached binary is not built again.
#
#   scripts/cluster/build-virtctl.sh
#
# Prints the binary's path on its last line. Needs Go (>= 1.24); about 4 min
# cold (module download + build), seconds when cached.
set -euo pipefail

VERSION=v1.6.0
CACHE=${BUNVIRT_VIRTCTL_CACHE:-/var/cache/bunvirt/virtctl-$VERSION}
BIN=$CACHE/virtctl
MODULE=$(cd "$(dirname "$0")/virtctl-module" && pwd)
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}

if [ -x "$BIN" ]; then
  echo "have $BIN"
  echo "$BIN"
  exit 0
fi
[ -x "$GO" ] || { echo "Cannot build virtctl $VERSION: no Go toolchain found (set GO or put go on PATH)" >&2; exit 1; }
mkdir -p "$CACHE"

# `virtctl version` prints the client's version from these stamps.
ldflags="-s -w -X kubevirt.io/client-go/version.gitVersion=$VERSION -X kubevirt.io/client-go/version.gitTreeState=clean"
ldflags+=" -X kubevirt.io/client-go/version.buildDate=2026-01-01T00:00:00Z"

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
export GOCACHE=${GOCACHE:-/var/cache/bunvirt/go-build}

start=$SECONDS
# Build beside the target and rename, so an interrupted build leaves no binary.
(cd "$MODULE" && "$GO" build -trimpath -ldflags "$ldflags" -o "$BIN.tmp" kubevirt.io/kubevirt/cmd/virtctl)
mv "$BIN.tmp" "$BIN"
echo "built $BIN in $((SECONDS - start)) s, $(stat -c %s "$BIN") bytes"
echo "$BIN"
