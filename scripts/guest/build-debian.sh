#!/usr/bin/env bash
# Builds a minimal Debian bookworm guest with cloud-init and openssh-server:
# a debootstrap root packed into an ext4 image with `mkfs.ext4 -d` (no mount,
# no loop device), booted with QEMU direct kernel boot (vmlinuz + initrd.img
# from the root, root=/dev/vda).
#
#   scripts/guest/build-debian.sh        build if needed; prints the directory
#   scripts/guest/build-debian.sh --dir  print the directory, build nothing
#
# Output: $BUNVIRT_CACHE/debian-<VERSION>/ with vmlinuz, initrd.img, cmdline,
# root.img (raw ext4, sparse), root.qcow2, guest.env, .done. Built in a
# temporary directory and renamed into place.
#
# Boot: qemu-system-x86_64 -machine q35,accel=tcg -m 512 \
#   -kernel vmlinuz -initrd initrd.img -append "$(cat cmdline)" \
#   -drive file=root.img,if=virtio,format=raw,snapshot=on  (+ a cidata ISO)
# cloud-init (NoCloud only) creates the user "debian" with the user-data's
# ssh-authorized-keys.
#
# Needs (Debian): debootstrap, e2fsprogs, qemu-utils.
set -euo pipefail

# debootstrap does not resolve virtual packages: python3-cffi-backend provides
# python3-cffi-backend-api-min/max, which python3-cryptography (cloud-init) needs.
# dbus: systemd-logind (ACPI power button -> poweroff) does not run without it.
DEBIAN_REV=1 # bump after changing the package list or the configuration below
SUITE=bookworm
VERSION="${SUITE}-${DEBIAN_REV}"
# The mirror this machine's apt uses (/etc/apt/sources.list.d/debian.sources).
MIRROR=${BUNVIRT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES=linux-image-amd64,python3-cffi-backend,systemd-sysv,udev,dbus,cloud-init,openssh-server,ifupdown,isc-dhcp-client,iproute2,netbase,ca-certificates
ROOT_SIZE=2G
CMDLINE="root=/dev/vda rw console=ttyS0,115200 net.ifnames=0"

CACHE_ROOT=${BUNVIRT_CACHE:-/var/cache/bunvirt}
DEST="$CACHE_ROOT/debian-$VERSION"

log() { echo "build-debian.sh: $(date +%T) $*" >&2; }
die() {
	echo "build-debian.sh: $*" >&2
	exit 1
}

if [[ ${1:-} == --dir ]]; then
	echo "$DEST"
	exit 0
fi
[[ $# -eq 0 ]] || die "Cannot parse arguments: '$*' (usage: build-debian.sh [--dir])"
if [[ -f "$DEST/.done" ]]; then
	echo "$DEST"
	exit 0
fi
[[ $(id -u) -eq 0 ]] || die "Cannot build the Debian guest: needs root (debootstrap), running as uid '$(id -u)'"
for tool in debootstrap mkfs.ext4 qemu-img flock; do
	command -v "$tool" >/dev/null || die "Cannot build the Debian guest: '$tool' is missing (apt-get install debootstrap e2fsprogs qemu-utils)"
done

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.debian.lock"
flock 9
if [[ -f "$DEST/.done" ]]; then
	echo "$DEST"
	exit 0
fi
rm -rf "$DEST" "$CACHE_ROOT"/.debian-build.*
WORK=$(mktemp -d "$CACHE_ROOT/.debian-build.XXXXXX")
R="$WORK/root"
unmount_root() { # debootstrap mounts proc/sys inside the root: never leave them behind
	local m
	awk -v r="$R" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r | while IFS= read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
}
cleanup() {
	unmount_root
	rm -rf "$WORK"
}
trap cleanup EXIT

log "debootstrap $SUITE from $MIRROR"
start=$(date +%s)
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$R" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
	cat "$WORK/debootstrap.log" "$R/debootstrap/debootstrap.log" >"$CACHE_ROOT/debian-$VERSION.failed.log" 2>/dev/null || true
	die "Cannot debootstrap '$SUITE' from '$MIRROR': $(tail -n 3 "$WORK/debootstrap.log" | tr '\n' ' ') (log: '$CACHE_ROOT/debian-$VERSION.failed.log')"
fi
log "debootstrap took $(($(date +%s) - start)) s"

# --- configuration -------------------------------------------------------------
echo "debian" >"$R/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$R/etc/hosts"
printf '/dev/vda / ext4 defaults,errors=remount-ro 0 1\n' >"$R/etc/fstab"
cat >"$R/etc/network/interfaces" <<'EOF'
source /etc/network/interfaces.d/*
auto lo
iface lo inet loopback
EOF
# Only NoCloud (the cidata disk) and nothing else: no metadata-server probing.
cat >"$R/etc/cloud/cloud.cfg.d/90-bunvirt.cfg" <<'EOF'
datasource_list: [ NoCloud, None ]
EOF
# Host keys are generated on first boot by cloud-init / ssh.service, not baked in.
rm -f "$R"/etc/ssh/ssh_host_*
# No root password; login is by the ssh key cloud-init installs.
chroot "$R" passwd -l root >/dev/null
printf 'bunvirt debian guest %s\n' "$VERSION" >"$R/etc/bunvirt-guest"
rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/lib/apt/lists/*

kver=$(basename "$(find "$R/boot" -name 'vmlinuz-*' | sort -V | tail -n 1)")
kver=${kver#vmlinuz-}
[[ -f "$R/boot/initrd.img-$kver" ]] || die "Cannot find '/boot/initrd.img-$kver' in the root: did update-initramfs run?"
mkdir -p "$WORK/out"
cp "$R/boot/vmlinuz-$kver" "$WORK/out/vmlinuz"
cp "$R/boot/initrd.img-$kver" "$WORK/out/initrd.img"
echo "$CMDLINE" >"$WORK/out/cmdline"

# Unmount what debootstrap left mounted before packing the tree.
unmount_root

log "mkfs.ext4 -d ($ROOT_SIZE, sparse)"
mkfs.ext4 -q -F -L root -d "$R" "$WORK/out/root.img" "$ROOT_SIZE"
qemu-img convert -f raw -O qcow2 "$WORK/out/root.img" "$WORK/out/root.qcow2"
cat >"$WORK/out/guest.env" <<EOF
DEBIAN_GUEST_VERSION=$VERSION
SUITE=$SUITE
MIRROR=$MIRROR
KERNEL_RELEASE=$kver
KERNEL_CMDLINE="$CMDLINE"
PACKAGES=$PACKAGES
EOF
# shellcheck disable=SC2016 # dpkg-query's own ${...} format
chroot "$R" dpkg-query -W -f '${Package} ${Version}\n' >"$WORK/out/packages.txt"
touch "$WORK/out/.done"
chmod 0755 "$WORK/out"
mv -T "$WORK/out" "$DEST"
log "built $DEST"
echo "$DEST"
