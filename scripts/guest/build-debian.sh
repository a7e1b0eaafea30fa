#!/usr/bin/env bash
# Builds a minimal Debian bookworm guest with real cloud-init and
# openssh-server: a debootstrap root on a BIOS-bootable raw disk, made without
# mounting anything and without a loop device:
#
#   MBR (syslinux mbr.bin), partition table written by hand
#   partition 1  1 MiB .. 129 MiB  FAT16 (type 0x0e, active): syslinux
#                (`syslinux --offset --install`), vmlinuz, initrd.img,
#                syslinux.cfg (`mkfs.vfat --offset`, `mcopy`)
#   partition 2  129 MiB .. end    ext4 (type 0x83) filled from the debootstrap
#                tree: `mkfs.ext4 -d ROOT -E offset=BYTES`
#
# The kernel finds its root by the ext4 UUID (root=UUID=..., Debian's
# initramfs with MODULES=most has virtio_blk, ahci, virtio_scsi, ext4), so the
# disk boots on any bus.
#
#   scripts/guest/build-debian.sh        build if needed; prints the directory
#   scripts/guest/build-debian.sh --dir  print the directory, build nothing
#
# Output: $BUNVIRT_CACHE/debian-<VERSION>/ with disk.img (raw, sparse; a
# persistentVolumeClaim directory as it is: `--claim NAME=DIR`), vmlinuz,
# initrd.img, cmdline, syslinux.cfg (copies of what is on the disk, for
# direct kernel boot), packages.txt, guest.env, SHA256SUMS, .done. Built in a
# temporary directory and renamed into place; a directory with .done is
# never touched again.
#
# Boot: qemu-system-x86_64 -machine q35,accel=tcg -m 512 \
#   -drive file=disk.img,if=virtio,format=raw,snapshot=on  (+ a cidata ISO)
# or with direct kernel boot: -kernel vmlinuz -initrd initrd.img -append "$(cat cmdline)".
# cloud-init (NoCloud, then None) creates the user "debian" with the
# user-data's ssh_authorized_keys; network by DHCP on eth0 (cloud-init's
# fallback configuration, written for ifupdown); ssh host keys are made on
# first boot; the ACPI power button powers off (systemd-logind).
#
# Needs (Debian): debootstrap, e2fsprogs, syslinux, syslinux-common, mtools,
# dosfstools, util-linux (flock).
set -euo pipefail

# debootstrap does not resolve virtual packages: python3-cffi-backend provides
# python3-cffi-backend-api-min/max, which python3-cryptography (cloud-init) needs.
# dbus: systemd-logind (ACPI power button -> poweroff) does not run without it.
DEBIAN_REV=3 # bump after changing the package list or the configuration below
SUITE=bookworm
VERSION="${SUITE}-${DEBIAN_REV}"
# The mirror this machine's apt uses (/etc/apt/sources.list.d/debian.sources).
MIRROR=${BUNVIRT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES=linux-image-amd64,python3-cffi-backend,systemd-sysv,udev,dbus,cloud-init,openssh-server,ifupdown,isc-dhcp-client,iproute2,netbase,ca-certificates
# The disk (sparse: ~850 MB allocated): 128 MiB boot partition, the rest ext4.
DISK_MIB=3072
BOOT_START=2048               # sectors: partition 1 starts at 1 MiB
BOOT_SECTORS=$((128 * 2048))  # 128 MiB FAT16
ROOT_START=$((BOOT_START + BOOT_SECTORS))
MBR_ID=$((0x62766464))        # disk signature "ddvb"

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
for tool in debootstrap mkfs.ext4 syslinux mcopy mkfs.vfat flock sha256sum; do
	command -v "$tool" >/dev/null || die "Cannot build the Debian guest: '$tool' is missing (apt-get install debootstrap e2fsprogs syslinux mtools dosfstools)"
done
MBR_BIN=/usr/lib/syslinux/mbr/mbr.bin
[[ -f $MBR_BIN ]] || die "Cannot build the Debian guest: '$MBR_BIN' is missing (apt-get install syslinux-common)"

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.debian.lock"
flock 9
if [[ -f "$DEST/.done" ]]; then
	echo "$DEST"
	exit 0
fi
unmount_under() { # $1 path prefix: debootstrap mounts proc/sys inside the root; never leave them behind
	local m
	awk -v r="$1" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r | while IFS= read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
}
# Under the lock, any build directory is a leftover of a killed build.
unmount_under "$CACHE_ROOT/.debian-build."
rm -rf "$DEST" "$CACHE_ROOT"/.debian-build.*
WORK=$(mktemp -d "$CACHE_ROOT/.debian-build.XXXXXX")
R="$WORK/root"
unmount_root() { unmount_under "$R/"; }
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
# The root file system is found by this UUID (any bus: vda, sda, ...).
ROOT_UUID=$(cat /proc/sys/kernel/random/uuid)
CMDLINE="root=UUID=$ROOT_UUID rw console=ttyS0,115200 net.ifnames=0"
echo "debian" >"$R/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$R/etc/hosts"
printf 'UUID=%s / ext4 defaults,errors=remount-ro 0 1\n' "$ROOT_UUID" >"$R/etc/fstab"
cat >"$R/etc/network/interfaces" <<'EOF'
source /etc/network/interfaces.d/*
auto lo
iface lo inet loopback
EOF
# Only NoCloud (the cidata disk), then None: no metadata-server probing. No
# network configuration in the datasource: cloud-init's fallback (DHCP on the
# first NIC, eth0 with net.ifnames=0) is written for ifupdown to
# /etc/network/interfaces.d/50-cloud-init before networking.service starts.
cat >"$R/etc/cloud/cloud.cfg.d/90-bunvirt.cfg" <<'EOF'
datasource_list: [ NoCloud, None ]
EOF
# cloud-init's locale module asks for the system locale, else en_US.UTF-8,
# which Debian's locale-gen (it ignores its arguments) never generates:
# "update-locale: Error: invalid locale settings", status: error. C.UTF-8 is
# built into glibc and needs no generation.
printf 'LANG=C.UTF-8\n' >"$R/etc/default/locale"
# Host keys are generated on first boot by cloud-init (module ssh), not baked in.
rm -f "$R"/etc/ssh/ssh_host_*
# No root password; login is by the ssh key cloud-init installs.
chroot "$R" passwd -l root >/dev/null
printf 'bunvirt debian guest %s\n' "$VERSION" >"$R/etc/bunvirt-guest"
rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/lib/apt/lists/*

kver=$(basename "$(find "$R/boot" -name 'vmlinuz-*' | sort -V | tail -n 1)")
kver=${kver#vmlinuz-}
[[ -f "$R/boot/initrd.img-$kver" ]] || die "Cannot find '/boot/initrd.img-$kver' in the root: did update-initramfs run?"
# The initramfs must find the root on virtio-blk, SATA or virtio-scsi (MODULES=most).
initrd_list=$(chroot "$R" lsinitramfs "/boot/initrd.img-$kver")
for module in virtio_pci virtio_blk virtio_scsi ahci sd_mod ext4; do
	grep -q "/$module\.ko" <<<"$initrd_list" || die "Cannot find the module '$module' in '/boot/initrd.img-$kver' (initramfs-tools MODULES=$(sed -n 's/^MODULES=//p' "$R/etc/initramfs-tools/initramfs.conf"))"
done
OUT="$WORK/out"
mkdir -p "$OUT"
cp "$R/boot/vmlinuz-$kver" "$OUT/vmlinuz"
cp "$R/boot/initrd.img-$kver" "$OUT/initrd.img"
echo "$CMDLINE" >"$OUT/cmdline"
cat >"$OUT/syslinux.cfg" <<EOF
SERIAL 0 115200
PROMPT 0
TIMEOUT 0
DEFAULT debian
LABEL debian
  LINUX /vmlinuz
  INITRD /initrd.img
  APPEND $CMDLINE
EOF
# shellcheck disable=SC2016 # dpkg-query's own ${...} format
chroot "$R" dpkg-query -W -f '${Package} ${Version}\n' >"$OUT/packages.txt"

# Unmount what debootstrap left mounted before packing the tree.
unmount_root

# --- disk.img: MBR + FAT16 boot partition + ext4 root, no mount ---------------
img="$OUT/disk.img"
total=$((DISK_MIB * 2048)) # sectors
root_sectors=$((total - ROOT_START))
truncate -s "${DISK_MIB}M" "$img"
log "mkfs.ext4 -d at offset $((ROOT_START * 512)) ($((root_sectors / 2048)) MiB, sparse)"
mkfs.ext4 -q -F -L root -U "$ROOT_UUID" -E offset=$((ROOT_START * 512)) -d "$R" "$img" "$((root_sectors / 2))k"
# (mkfs.vfat warns that the image is larger than the partition: expected.)
mkfs.vfat -F 16 -n DEBIANBOOT --offset "$BOOT_START" "$img" $((BOOT_SECTORS / 2)) 2>&1 >/dev/null | { grep -v '^Warning: block count mismatch' || true; } >&2
syslinux --offset $((BOOT_START * 512)) --install "$img"
export MTOOLS_SKIP_CHECK=1
mcopy -m -i "$img@@$((BOOT_START * 512))" "$OUT/vmlinuz" "$OUT/initrd.img" "$OUT/syslinux.cfg" ::/

le32() { # $1 value -> 4 little-endian bytes
	local esc
	esc=$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)))
	printf '%b' "$esc"
}
dd if="$MBR_BIN" of="$img" bs=440 count=1 conv=notrunc status=none
{
	le32 "$MBR_ID"
	printf '\x00\x00'
	# partition 1: active, CHS fields "use LBA", type 0x0e (FAT16 LBA)
	printf '\x80\xfe\xff\xff\x0e\xfe\xff\xff'
	le32 "$BOOT_START"
	le32 "$BOOT_SECTORS"
	# partition 2: type 0x83 (Linux)
	printf '\x00\xfe\xff\xff\x83\xfe\xff\xff'
	le32 "$ROOT_START"
	le32 "$root_sectors"
	head -c 32 /dev/zero
	printf '\x55\xaa'
} | dd of="$img" bs=1 seek=440 conv=notrunc status=none
# Nothing above may have resized the image.
[[ $(stat -c %s "$img") -eq $((DISK_MIB * 1024 * 1024)) ]] || die "Cannot build '$img': its size is '$(stat -c %s "$img")', not $((DISK_MIB * 1024 * 1024))"

cat >"$OUT/guest.env" <<EOF
DEBIAN_GUEST_VERSION=$VERSION
SUITE=$SUITE
MIRROR=$MIRROR
KERNEL_RELEASE=$kver
KERNEL_CMDLINE="$CMDLINE"
ROOT_UUID=$ROOT_UUID
DISK_MIB=$DISK_MIB
PACKAGES=$PACKAGES
EOF
(cd "$OUT" && sha256sum disk.img vmlinuz initrd.img >SHA256SUMS)
touch "$OUT/.done"
chmod 0755 "$OUT"
mv -T "$OUT" "$DEST"
log "built $DEST ($(du -sh --apparent-size "$DEST/disk.img" | cut -f1) disk.img, $(du -sh "$DEST/disk.img" | cut -f1) allocated) in $(($(date +%s) - start)) s"
echo "$DEST"
