#!/usr/bin/env bash
# Builds bunvirt's small real test guest: a Debian kernel plus a busybox
# initramfs (scripts/guest/rootfs/init) on a syslinux-bootable FAT disk.
#
#   scripts/guest/build.sh            build if needed; prints the guest directory
#   scripts/guest/build.sh --dir      print the directory it would use, build nothing
#
# Output (see docs/guest.md): $BUNVIRT_CACHE/guest-<VERSION>/ with vmlinuz,
# initrd.gz, cmdline, syslinux.cfg, disk.img, disk.qcow2, guest.env, SHA256SUMS
# and .done. A directory with .done is complete and is never touched again; a
# build happens in a temporary directory beside it and is renamed into place.
#
# Needs (Debian): apt (apt-get download), dpkg, busybox-static, cpio, gzip, xz,
# syslinux, mtools, dosfstools, qemu-utils, util-linux (flock).
set -euo pipefail

# Bump GUEST_REV whenever anything that ends up in the image changes
# (this script, scripts/guest/rootfs/*): the cache is keyed by VERSION only.
GUEST_REV=1
# Pinned Debian kernel: bookworm (point release) 6.1.0-50, package 6.1.176-1.
KERNEL_PKG_PIN=linux-image-6.1.0-50-amd64
KERNEL_VERSION_PIN=6.1.176-1
VERSION="${GUEST_REV}-${KERNEL_VERSION_PIN}"

CACHE_ROOT=${BUNVIRT_CACHE:-/var/cache/bunvirt}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
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
for tool in apt-get apt-cache dpkg /bin/busybox cpio gzip xz syslinux mcopy mkfs.vfat qemu-img flock; do
	command -v "$tool" >/dev/null || die "Cannot build the guest: '$tool' is missing (apt-get install busybox-static cpio syslinux mtools dosfstools qemu-utils xz-utils)"
done
[[ -f /usr/lib/syslinux/mbr/mbr.bin ]] || die "Cannot build the guest: '/usr/lib/syslinux/mbr/mbr.bin' is missing (apt-get install syslinux-common)"

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.guest.lock"
flock 9

# --- which kernel package --------------------------------------------------
pkg_available() { # $1 package, $2 version (apt-cache show exits 0 for a missing version)
	apt-cache madison "$1" 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}' | grep -qxF -- "$2"
}
KPKG=$KERNEL_PKG_PIN
KVERSION=$KERNEL_VERSION_PIN
if ! pkg_available "$KPKG" "$KVERSION"; then
	log "'$KPKG=$KVERSION' is not in the apt lists, running apt-get update"
	apt-get update -qq >&2 || log "apt-get update failed, using the lists as they are"
fi
if ! pkg_available "$KPKG" "$KVERSION"; then
	KPKG=$(apt-cache pkgnames linux-image-6.1.0- | grep -E '^linux-image-6\.1\.0-[0-9]+-amd64$' | sort -V | tail -n 1 || true)
	[[ -n $KPKG ]] || die "Cannot find a Debian 6.1 amd64 kernel: no 'linux-image-6.1.0-*-amd64' in the apt lists"
	KVERSION=$(apt-cache policy "$KPKG" | sed -n 's/^ *Candidate: //p')
	[[ -n $KVERSION && $KVERSION != "(none)" ]] || die "Cannot find a version of '$KPKG' to download"
	log "pinned '$KERNEL_PKG_PIN=$KERNEL_VERSION_PIN' is gone, falling back to '$KPKG=$KVERSION'"
	VERSION="${GUEST_REV}-${KVERSION}"
fi
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
chmod 0755 "$WORK" # apt-get download drops privileges to _apt
OUT="$WORK/out"
mkdir -p "$OUT" "$WORK/deb"
log "building guest $VERSION in $WORK"

# --- kernel ----------------------------------------------------------------
(cd "$WORK/deb" && apt-get download -q -o APT::Sandbox::User=root "$KPKG=$KVERSION" >&2)
deb=$(find "$WORK/deb" -maxdepth 1 -name '*.deb' | head -n 1)
[[ -n $deb ]] || die "Cannot download '$KPKG=$KVERSION': apt-get download left no .deb"
dpkg -x "$deb" "$WORK/kernel"
rm -f "$deb"
KREL=${KPKG#linux-image-}
vmlinuz="$WORK/kernel/boot/vmlinuz-$KREL"
moddir="$WORK/kernel/lib/modules/$KREL"
[[ -f $vmlinuz && -d $moddir ]] || die "Cannot find '$vmlinuz' and '$moddir' in '$KPKG'"
cp "$vmlinuz" "$OUT/vmlinuz"
# Every timestamp in the outputs comes from the kernel package: same package,
# same bytes.
export SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=$(stat -c %Y "$vmlinuz")

# --- modules, in dependency order --------------------------------------------
# Wanted modules; '?' marks optional ones (absent or built in: skipped).
WANTED=(
	virtio_ring virtio ?virtio_pci_modern_dev ?virtio_pci_legacy_dev virtio_pci
	virtio_blk virtio_net virtio_scsi ?virtio_console ?virtio_rng
	?ahci ?sd_mod cdrom sr_mod isofs ?af_packet
	?crc32c_generic ?ext4
	button evdev
)
declare -A KO=()       # module name (with '_') -> .ko path
declare -A VISITED=()
ORDER=()
while IFS= read -r f; do
	n=${f##*/}
	n=${n%%.ko*}
	KO[${n//-/_}]=$f
done < <(find "$moddir/kernel" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz')

ko_plain() { # $1 path -> uncompressed module on stdout
	case "$1" in
	*.ko.xz) xz -dc "$1" ;;
	*.ko.zst) zstd -dc "$1" ;;
	*.ko.gz) gzip -dc "$1" ;;
	*) cat "$1" ;;
	esac
}
mkdir -p "$WORK/ko"
module_deps() { # $1 name -> names from depends=, then softdep=pre: ones that are modules
	local plain="$WORK/ko/$1.ko" s
	[[ -f $plain ]] || ko_plain "${KO[$1]}" >"$plain"
	tr '\0' '\n' <"$plain" | sed -n 's/^depends=//p' | tr ',' '\n' | sed '/^$/d'
	# softdeps often name aliases ("crypto-crc32c"): keep only real module names
	for s in $(tr '\0' '\n' <"$plain" | sed -n 's/^softdep=.*pre: *\([^ ]*\).*/\1/p'); do
		[[ -z ${KO[${s//-/_}]:-} ]] || echo "$s"
	done
}
is_builtin() { grep -qE "/${1//_/[-_]}\.ko$" "$moddir/modules.builtin"; }
visit() { # $1 name, $2 "required" or "optional"
	local m=${1//-/_} d
	[[ -z ${VISITED[$m]:-} ]] || return 0
	VISITED[$m]=1
	if [[ -z ${KO[$m]:-} ]]; then
		is_builtin "$m" && return 0
		[[ $2 == optional ]] && {
			log "optional module '$m' not found, skipped"
			return 0
		}
		die "Cannot find kernel module '$m' in '$KPKG' (neither a .ko nor built in)"
	fi
	for d in $(module_deps "$m"); do
		visit "$d" required
	done
	ORDER+=("$m")
}
for w in "${WANTED[@]}"; do
	if [[ $w == \?* ]]; then visit "${w#\?}" optional; else visit "$w" required; fi
done
# A hard dependency that is missing is still an error.
for m in "${ORDER[@]}"; do
	plain="$WORK/ko/$m.ko"
	for d in $(tr '\0' '\n' <"$plain" | sed -n 's/^depends=//p' | tr ',' ' '); do
		d=${d//-/_}
		[[ -n ${KO[$d]:-} ]] || is_builtin "$d" || die "Cannot load '$m': its dependency '$d' is missing"
	done
done
log "modules: ${ORDER[*]}"

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
for m in "${ORDER[@]}"; do
	install -m 0644 "$WORK/ko/$m.ko" "$R/lib/modules/$m.ko"
done
printf '%s\n' "${ORDER[@]}" >"$R/lib/modules/load-order"
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
KERNEL_CMDLINE="$CMDLINE"
MODULES="${ORDER[*]}"
SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH
EOF
(cd "$OUT" && sha256sum vmlinuz initrd.gz disk.img disk.qcow2 >SHA256SUMS)
touch -d "@$SOURCE_DATE_EPOCH" "$OUT"/{guest.env,SHA256SUMS,disk.img,disk.qcow2}
touch "$OUT/.done"
chmod 0755 "$OUT"

mv -T "$OUT" "$DEST"
log "built $DEST ($(du -sh --apparent-size "$DEST/disk.img" | cut -f1) disk.img, $(du -sh "$DEST/disk.qcow2" | cut -f1) disk.qcow2)"
echo "$DEST"
