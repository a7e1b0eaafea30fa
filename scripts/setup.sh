#!/usr/bin/env bash
# Installs what bunvirt needs on a fresh Debian 12 machine, idempotently:
# Debian packages, Bun from npm, node modules. Needs root (or sudo).
# Usage: scripts/setup.sh            # everything the tests and the demo need
set -euo pipefail
cd "$(dirname "$0")/.."

BUN_VERSION=1.4.4
PACKAGES=(
  # virtualization: QEMU, qemu-img, libvirt and its D-Bus binding, schemas;
  # swtpm for devices.tpm (libvirtd runs swtpm_setup and swtpm)
  qemu-system-x86 qemu-utils libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
  libvirt-dbus dbus libxml2-utils ovmf swtpm swtpm-tools
  # cloud-init ISO checks, registry, images
  xorriso genisoimage docker-registry skopeo umoci openssl util-linux mount
  # networking
  iproute2 nftables udhcpc
  # guest image build
  busybox-static cpio syslinux syslinux-common mtools dosfstools e2fsprogs kmod xz-utils
  build-essential bc flex bison libelf-dev
  # the Debian cloud-init guest (debootstrap) and the ssh login to it
  debootstrap openssh-client
  # setup itself
  curl ca-certificates
)
# Node.js and npm come with this kind of machine; Debian's are the fallback.
command -v npm >/dev/null || PACKAGES+=(npm)

SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "setup: needs root or sudo to install Debian packages" >&2; exit 1; }
  SUDO=sudo
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$(bun --version 2>/dev/null || true)" != "$BUN_VERSION" ]; then
  echo "setup: installing bun $BUN_VERSION from npm"
  $SUDO npm install -g --no-fund --no-audit "bun@$BUN_VERSION" >/dev/null
  hash -r
fi
bun --version | grep -qx "$BUN_VERSION" || { echo "setup: bun $BUN_VERSION did not install" >&2; exit 1; }

bun install --frozen-lockfile --silent
echo "setup: ready (bun $(bun --version), $(qemu-system-x86_64 --version | head -1))"
