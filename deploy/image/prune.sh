#!/usr/bin/env bash
# Removes from an unpacked image root (ROOT, "/" inside a Containerfile
# build) what bunvirt never reads. Used by scripts/cluster/build-launcher-image.sh
# and deploy/image/Containerfile, so both images hold the same files.
#
#   deploy/image/prune.sh ROOT
set -euo pipefail
rootfs=${1:?usage: prune.sh ROOT}
rootfs=${rootfs%/}

# Prune what a launcher never reads: docs, man pages, locales, lintian and
# completion data, headers; QEMU's 32-bit x86 and microvm emulators (the
# launcher runs qemu-system-x86_64, and libvirt would probe every emulator it
# finds) and its tools the launcher does not run (qemu-img stays); ROMs of
# other machines; OVMF's 2M and legacy images. Kept: SeaBIOS (bios*.bin), the option ROMs x86 machines load
# (linuxboot, multiboot, kvmvapic, pvh, vgabios, iPXE efi-*.rom for NICs),
# keymaps, OVMF 4M images with their descriptors.
rm -rf "$rootfs"/usr/share/{doc,man,info,locale,lintian,bash-completion,zsh,bug,gtk-doc,help,polkit-1}
rm -rf "$rootfs"/usr/include "$rootfs"/usr/lib/x86_64-linux-gnu/{pkgconfig,gconv} "$rootfs"/usr/share/pkgconfig
rm -f "$rootfs"/usr/bin/qemu-system-i386 "$rootfs"/usr/libexec/qemu-system-i386 "$rootfs"/usr/bin/qemu-system-x86_64-microvm \
  "$rootfs"/usr/bin/{qemu-storage-daemon,qemu-nbd,qemu-io,qemu-pr-helper} "$rootfs"/usr/lib/qemu/virtiofsd
rm -rf "$rootfs"/usr/share/ovmf
find "$rootfs/usr/share/qemu" -maxdepth 1 -type f \
  \( -name 'openbios-*' -o -name 'u-boot*' -o -name 'skiboot*' -o -name 'slof*' -o -name 'palcode*' \
     -o -name 'hppa*' -o -name 'opensbi*' -o -name 'qemu_vga.ndrv' -o -name 'edk2-arm*' -o -name 'edk2-aarch64*' \
     -o -name 'bamboo*' -o -name 'canyonlands*' -o -name 'petalogix*' -o -name 's390*' -o -name 'npcm7xx*' \
     -o -name 'QEMU,*' -o -name 'pxe-*' -o -name 'vof*' -o -name 'qboot.rom' -o -name 'u-boot.e500' \) -delete
rm -f "$rootfs"/usr/share/OVMF/OVMF_CODE.fd "$rootfs"/usr/share/OVMF/OVMF_VARS.fd "$rootfs"/usr/share/OVMF/OVMF_CODE.secboot.fd \
  "$rootfs"/usr/share/OVMF/OVMF_VARS.ms.fd "$rootfs"/usr/share/OVMF/OVMF32*
find "${rootfs:-/}" -xtype l -path '*/usr/share/doc/*' -delete 2>/dev/null || true
