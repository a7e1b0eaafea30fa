#!/usr/bin/env bash
# Installs, idempotently, the Debian packages the cluster tier's node and the
# launcher's image build need: containerd 1.6 (with ctr), runc, the CNI
# plugins, and the tools that build images without a container engine
# (umoci, skopeo, gcc for the pause program, busybox-static for a test image).
# Needs root (apt).
set -euo pipefail

PACKAGES=(containerd runc containernetworking-plugins umoci skopeo gcc libc6-dev busybox-static iproute2 util-linux)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0
[ "$(id -u)" = 0 ] || { echo "Cannot install the node's packages (${missing[*]}): not root" >&2; exit 1; }
echo "setup-node: installing Debian packages: ${missing[*]}"
apt-get update -qq
# containerd's package starts its service where an init system runs one; this
# machine has none, and the node starts its own containerd with its own config.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
