#!/usr/bin/env bash
# Builds the launcher's OCI image without a container engine: the Debian
# packages the launcher runs (QEMU for x86, qemu-img, libvirt with its QEMU
# driver, libvirt-dbus, dbus-daemon, nftables, iproute2, OVMF) and their
# dependency closure, unpacked with dpkg-deb (no maintainer scripts), pruned,
# plus compiled/bunvirt, packed with umoci and converted by skopeo to a
# docker-archive that `ctr images import` loads.
#
#   scripts/cluster/build-launcher-image.sh [BUNVIRT_BINARY]   (default compiled/bunvirt)
#
# Cached in /var/cache/bunvirt/launcher-image-<hash>/ where the hash covers
# the resolved package versions, the binary and this script. That directory
# holds image.tar (docker-archive), ref (the image name), size (measured
# sizes), packages; the three newest are kept. Prints the directory on its
# last line. Needs root (apt-get download into the shared .deb cache) and
# umoci, skopeo.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
binary=$(realpath "${1:-$repo/compiled/bunvirt}")
[ -x "$binary" ] || { echo "Cannot build the launcher image: \"$binary\" is not an executable (run: bun run build)" >&2; exit 1; }
for c in umoci skopeo apt-get dpkg-deb; do
  command -v $c >/dev/null || { echo "Cannot build the launcher image: \"$c\" is not installed (scripts/cluster/setup-node.sh)" >&2; exit 1; }
done
CACHE=${BUNVIRT_CACHE:-/var/cache/bunvirt}
DEBS=$CACHE/debs
mkdir -p "$DEBS"

# The package list (what the image runs) and what its dependencies pull in
# that the image never runs: deploy/image/packages.txt and omit.txt, shared
# with deploy/image/Containerfile.
list() { grep -v '^#' "$repo/deploy/image/$1" | tr -s ' \t' '\n' | grep -v '^$'; }
mapfile -t WANT < <(list packages.txt)
mapfile -t OMIT < <(list omit.txt)

work=$(mktemp -d /tmp/bunvirt-launcher-image.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The dependency closure as apt resolves it on an empty system.
status=$work/status
: > "$status"
# Each omitted package's candidate: its identity (arch, Multi-Arch, Provides) without its dependencies.
candidates=()
while read -r p v; do [ "$v" = "(none)" ] || candidates+=("$p=$v"); done < <(
  apt-cache policy "${OMIT[@]}" | awk '/^[^ ]/ {sub(/:$/, "", $1); p = $1} /Candidate:/ {print p, $2}')
apt-cache show "${candidates[@]}" | awk '
  /^(Package|Version|Architecture|Multi-Arch|Provides):/ {print}
  /^$/ {print "Status: hold ok installed\n"}' > "$status"
apt-get -s install --no-install-recommends -o Dir::State::status="$status" -o Debug::NoLocking=1 "${WANT[@]}" \
  > "$work/resolve" 2>&1 || { cat "$work/resolve" >&2; echo "Cannot build the launcher image: apt cannot resolve the packages" >&2; exit 1; }
awk '/^Inst / {gsub(/[()]/, "", $3); print $2 "=" $3}' "$work/resolve" | sort > "$work/packages"

hash=$( { cat "$work/packages"; sha256sum < "$binary"; sha256sum < "$0"; } | sha256sum | cut -c1-16)
out=$CACHE/launcher-image-$hash
if [ -s "$out/image.tar" ] && [ -s "$out/ref" ]; then
  echo "have $out ($(cat "$out/ref"))"
  echo "$out"
  exit 0
fi
echo "building the launcher image from $(wc -l < "$work/packages") packages"

# Download what the .deb cache lacks (apt-get download names files pkg_ver_arch.deb, ':' as %3a).
(
  cd "$DEBS"
  need=()
  while IFS== read -r p v; do
    ls "${p}_${v//:/%3a}_"*.deb >/dev/null 2>&1 || need+=("$p=$v")
  done < "$work/packages"
  if [ ${#need[@]} -gt 0 ] && ! apt-get download -q "${need[@]}" > "$work/download.log" 2>&1; then
    grep -v "^W: Download is performed unsandboxed" "$work/download.log" >&2
    echo "Cannot build the launcher image: apt-get download failed (stale package lists? run apt-get update)" >&2
    exit 1
  fi
)

rootfs=$work/rootfs
mkdir -p "$rootfs"/usr/{bin,sbin,lib,lib64}
# Debian 12 is merged-/usr: the top-level dirs are links, kept when unpacking.
for d in bin sbin lib lib64; do ln -s usr/$d "$rootfs/$d"; done
while IFS== read -r p v; do
  deb=$(ls "$DEBS/${p}_${v//:/%3a}_"*.deb 2>/dev/null | head -1)
  [ -n "$deb" ] || { echo "Cannot build the launcher image: \"$p=$v\" was not downloaded" >&2; exit 1; }
  dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink -C "$rootfs"
done < "$work/packages"

# Prune what the image never reads (shared with deploy/image/Containerfile).
"$repo/deploy/image/prune.sh" "$rootfs"

# The few files an installed system gets from maintainer scripts.
mkdir -p "$rootfs"/{etc,tmp,run,root,var/lib,var/log,var/cache,var/tmp,proc,sys,dev}
chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
ln -s ../run "$rootfs/var/run"
cat > "$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
messagebus:x:100:101::/nonexistent:/usr/sbin/nologin
libvirt-qemu:x:64055:108:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat > "$rootfs/etc/group" <<'EOF'
root:x:0:
kvm:x:104:libvirt-qemu
messagebus:x:101:
libvirt-qemu:x:108:
libvirt:x:109:
nogroup:x:65534:
EOF
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$rootfs/etc/nsswitch.conf"
[ -e "$rootfs/bin/sh" ] || ln -s dash "$rootfs/usr/bin/sh"
install -m 0755 "$binary" "$rootfs/usr/bin/bunvirt"
ldconfig -r "$rootfs"

# Pack: one layer with everything, entrypoint bunvirt.
ref="bunvirt.local/launcher:$hash"
layout=$work/layout
umoci init --layout "$layout"
umoci new --image "$layout:launcher"
umoci unpack --image "$layout:launcher" "$work/bundle" >/dev/null
rmdir "$work/bundle/rootfs" && mv "$rootfs" "$work/bundle/rootfs"
umoci repack --image "$layout:launcher" "$work/bundle" >/dev/null
umoci config --image "$layout:launcher" --os linux --architecture amd64 \
  --config.entrypoint /usr/bin/bunvirt --config.env PATH=/usr/sbin:/usr/bin:/sbin:/bin --config.env LC_ALL=C.UTF-8
umoci gc --layout "$layout"

mkdir -p "$out.tmp"
skopeo copy -q "oci:$layout:launcher" "docker-archive:$out.tmp/image.tar:$ref"
echo "$ref" > "$out.tmp/ref"
cp "$work/packages" "$out.tmp/packages"
uncompressed=$(du -sb --apparent-size "$work/bundle/rootfs" | cut -f1)
compressed=$(find "$layout/blobs" -type f -size +100k -printf '%s\n' | sort -n | tail -1)
{
  echo "packages: $(wc -l < "$work/packages")"
  echo "uncompressed: $uncompressed bytes ($((uncompressed / 1048576)) MiB)"
  echo "compressed (gzip layer): $compressed bytes ($((compressed / 1048576)) MiB)"
} > "$out.tmp/size"
rm -rf "$out" && mv "$out.tmp" "$out"
# Each new bunvirt binary makes a new image (~280 MB): keep the three newest.
ls -dt "$CACHE"/launcher-image-*/ | tail -n +4 | xargs -r rm -rf
cat "$out/size"
echo "$out"
