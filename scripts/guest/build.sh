#!/usr/bin/env bash
# Builds bunvirt's small real test guest: the small kernel from
# scripts/guest/build-kernel.sh (Debian's linux-source-6.1, everything built
# in, no modules) plus a busybox initramfs (scripts/guest/rootfs/init) on a
# syslinux-bootable FAT disk. Boots in 48-62 MiB of RAM.
#
#   scripts/guest/build.sh            build if needed; prints the guest directory
#   scripts/guest/build.sh --dir      print the directory it would use, build nothing
#
# Output (see docs/guest.md): $BUNVIRT_CACHE/guest-<VERSION>/ with vmlinuz,
# initrd.gz, cmdline, syslinux.cfg, disk.img, disk.qcow2, guest.env, SHA256SUMS
# and .done. A directory with .done is complete and is never touched again; a
# build happens in a temporary directory beside it and is renamed into place.
#
# Needs (Debian): busybox-static, cpio, gzip, syslinux, mtools, dosfstools,
# qemu-utils, util-linux (flock); build-kernel.sh installs its own build deps.
set -euo pipefail

# Bump GUEST_REV whenever anything that ends up in the image changes
# (this script, scripts/guest/rootfs/*): the cache is keyed by VERSION only.
# The kernel's part of VERSION (<linux-source version>-<config hash>) follows
# build-kernel.sh and its kernel.config-fragment by itself.
GUEST_REV=8

CACHE_ROOT=${BUNVIRT_CACHE:-/var/cache/bunvirt}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KERNEL_BUILD="$HERE/build-kernel.sh"
# kernel-<linux-source version>-<config hash> -> "<version>-<hash>"
kernel_id() { local d=${1%/}; echo "${d##*/kernel-}"; }
VERSION="${GUEST_REV}-$(kernel_id "$("$KERNEL_BUILD" --dir)")"
ROOTFS_SRC="$HERE/rootfs"
CMDLINE="console=ttyS0,115200 quiet"
DISK_MIB=64
PART_START=2048 # sectors: the FAT partition starts at 1 MiB

log() { echo "build.sh: $*" >&2; }
die() {
	echo "build.sh: $*" >&2
	exit 1
}

# A tag-safe version string: Debian versions may contain '~' or '+'.
sanitize() { tr -c 'A-Za-z0-9_.\n-' '_' <<<"$1"; }

guest_dir() { echo "$CACHE_ROOT/guest-$(sanitize "$1")"; }

if [[ ${1:-} == --dir ]]; then
	guest_dir "$VERSION"
	exit 0
fi
[[ $# -eq 0 ]] || die "Cannot parse arguments: '$*' (usage: build.sh [--dir])"

# Fast path: the pinned guest is already built.
if [[ -f "$(guest_dir "$VERSION")/.done" ]]; then
	guest_dir "$VERSION"
	exit 0
fi

[[ $(id -u) -eq 0 ]] || die "Cannot build the guest: needs root (apt-get download, ownership in the images), running as uid '$(id -u)'"
for tool in /bin/busybox cpio gzip syslinux mcopy mkfs.vfat qemu-img flock; do
	command -v "$tool" >/dev/null || die "Cannot build the guest: '$tool' is missing (apt-get install busybox-static cpio syslinux mtools dosfstools qemu-utils)"
done
[[ -f /usr/lib/syslinux/mbr/mbr.bin ]] || die "Cannot build the guest: '/usr/lib/syslinux/mbr/mbr.bin' is missing (apt-get install syslinux-common)"

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.guest.lock"
flock 9

# --- kernel: scripts/guest/build-kernel.sh (cached; ~5 min cold) ------------
# Runs under the guest lock; build-kernel.sh takes only its own lock
# (.kernel.lock), so the two scripts never wait on each other in a cycle.
KDIR=$("$KERNEL_BUILD" | tail -n 1) || die "Cannot build the guest kernel with '$KERNEL_BUILD'"
[[ -f $KDIR/.done && -f $KDIR/bzImage && -f $KDIR/kernel.env ]] || die "Cannot find a complete kernel in '$KDIR'"
kenv() { sed -n "s/^$1=//p" "$KDIR/kernel.env"; }
KPKG=$(kenv KERNEL_SOURCE_PACKAGE)
KVERSION=$(kenv KERNEL_SOURCE_VERSION)
KREL=$(kenv KERNEL_RELEASE)
KHASH=$(kenv KERNEL_CONFIG_HASH)
VERSION="${GUEST_REV}-$(kernel_id "$KDIR")"
DEST=$(guest_dir "$VERSION")
if [[ -f "$DEST/.done" ]]; then
	echo "$DEST"
	exit 0
fi
[[ ! -e $DEST ]] || {
	log "removing incomplete '$DEST'"
	rm -rf "$DEST"
}

# Under the lock, any other build directory is a leftover of a killed build.
rm -rf "$CACHE_ROOT"/.guest-build.*
WORK=$(mktemp -d "$CACHE_ROOT/.guest-build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
OUT="$WORK/out"
mkdir -p "$OUT"
log "building guest $VERSION in $WORK"

cp "$KDIR/bzImage" "$OUT/vmlinuz"
# Every timestamp in the outputs comes from the kernel source package: same
# source and config, same bytes.
export SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=$(kenv SOURCE_DATE_EPOCH)
[[ -n $SOURCE_DATE_EPOCH ]] || die "Cannot read SOURCE_DATE_EPOCH from '$KDIR/kernel.env'"

# --- initramfs -----------------------------------------------------------------
R="$WORK/initramfs"
mkdir -p "$R"/{bin,dev,proc,sys,run,tmp,mnt/cidata,root,etc/acpi/PWRF,lib/modules,var/log}
ln -s ../run "$R/var/run"
cp /bin/busybox "$R/bin/busybox"
for applet in $(/bin/busybox --list); do
	[[ $applet == busybox ]] || ln -s busybox "$R/bin/$applet"
done
ln -s bin "$R/sbin"
mkdir -p "$R/usr"
ln -s ../bin "$R/usr/bin"
ln -s ../bin "$R/usr/sbin"
install -m 0755 "$ROOTFS_SRC/init" "$R/init"
install -m 0755 "$ROOTFS_SRC/udhcpc.script" "$R/etc/udhcpc.script"
install -m 0755 "$ROOTFS_SRC/bunvirt-hello" "$R/bin/bunvirt-hello"
install -m 0755 "$ROOTFS_SRC/acpi-power" "$R/etc/acpi/PWRF/00000080"
ln -s ../run/resolv.conf "$R/etc/resolv.conf"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
printf 'bunvirt-guest %s\nkernel %s %s\n' "$VERSION" "$KPKG" "$KVERSION" >"$R/etc/bunvirt-guest"
# No modules: everything is built into the kernel. /init reads this file, so
# it stays (empty: the insmod loop runs zero times).
: >"$R/lib/modules/load-order"
find "$R" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
(cd "$R" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
	cpio --null --create --format=newc --owner=0:0 --reproducible --quiet) |
	gzip -9 -n >"$OUT/initrd.gz"

# --- bootable disk: MBR (syslinux mbr.bin) + one FAT16 partition --------------
echo "$CMDLINE" >"$OUT/cmdline"
cat >"$OUT/syslinux.cfg" <<EOF
SERIAL 0 115200
PROMPT 0
TIMEOUT 0
DEFAULT bunvirt
LABEL bunvirt
  LINUX /vmlinuz
  INITRD /initrd.gz
  APPEND $CMDLINE
EOF
touch -d "@$SOURCE_DATE_EPOCH" "$OUT"/{vmlinuz,initrd.gz,syslinux.cfg,cmdline}

img="$OUT/disk.img"
total=$((DISK_MIB * 2048)) # sectors
part_sectors=$((total - PART_START))
truncate -s "${DISK_MIB}M" "$img"
# Volume id from the epoch: reproducible, differs between kernels.
mkfs.vfat -F 16 -n BUNVIRT -i "$(printf '%08x' "$SOURCE_DATE_EPOCH")" --invariant \
	--offset "$PART_START" "$img" $((part_sectors / 2)) >/dev/null
syslinux --offset $((PART_START * 512)) --install "$img"
export MTOOLS_SKIP_CHECK=1
mcopy -m -i "$img@@$((PART_START * 512))" "$OUT/vmlinuz" "$OUT/initrd.gz" "$OUT/syslinux.cfg" ::/

le32() { # $1 value -> 4 little-endian bytes
	local esc
	esc=$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)))
	printf '%b' "$esc"
}
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$img" bs=440 count=1 conv=notrunc status=none
{
	le32 $((0x62766972)) # disk signature "bvir"
	printf '\x00\x00'
	# partition 1: active, CHS fields "use LBA", type 0x0e (FAT16 LBA)
	printf '\x80\xfe\xff\xff\x0e\xfe\xff\xff'
	le32 "$PART_START"
	le32 "$part_sectors"
	head -c 48 /dev/zero
	printf '\x55\xaa'
} | dd of="$img" bs=1 seek=440 conv=notrunc status=none

qemu-img convert -f raw -O qcow2 "$img" "$OUT/disk.qcow2"

cat >"$OUT/guest.env" <<EOF
# bunvirt test guest, built by scripts/guest/build.sh
GUEST_VERSION=$VERSION
GUEST_REV=$GUEST_REV
KERNEL_PACKAGE=$KPKG
KERNEL_PACKAGE_VERSION=$KVERSION
KERNEL_RELEASE=$KREL
KERNEL_CONFIG_HASH=$KHASH
KERNEL_CMDLINE="$CMDLINE"
SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH
EOF
(cd "$OUT" && sha256sum vmlinuz initrd.gz disk.img disk.qcow2 >SHA256SUMS)
touch -d "@$SOURCE_DATE_EPOCH" "$OUT"/{guest.env,SHA256SUMS,disk.img,disk.qcow2}
touch "$OUT/.done"
chmod 0755 "$OUT"

mv -T "$OUT" "$DEST"
log "built $DEST ($(du -sh --apparent-size "$DEST/disk.img" | cut -f1) disk.img, $(du -sh "$DEST/disk.qcow2" | cut -f1) disk.qcow2)"
echo "$DEST"
