#!/usr/bin/env bash
# Builds the node's local images without a registry or a container engine:
#   registry.k8s.io/pause:3.10.1  the sandbox image: scripts/cluster/pause.c, static
#   bunvirt.local/busybox:1.35    Debian's busybox-static, for test pods
# packed with umoci, converted by skopeo to docker-archives that
# `ctr images import` loads. Cached in /var/cache/bunvirt/node-images-<hash>/
# (pause.tar, busybox.tar), keyed by pause.c, the busybox binary and this
# script. Prints the directory on its last line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
busybox=/bin/busybox
for c in umoci skopeo gcc; do
  command -v $c >/dev/null || { echo "Cannot build the node images: \"$c\" is not installed (scripts/cluster/setup-node.sh)" >&2; exit 1; }
done
# grep reads the whole list: `grep -q` would stop at the match, and busybox, cut off (SIGPIPE), fails the
# pipeline under pipefail now and then (a CI run failed on it).
[ -x "$busybox" ] && "$busybox" --list | grep -x sh >/dev/null || { echo "Cannot build the node images: \"$busybox\" is not busybox (Debian package busybox-static)" >&2; exit 1; }
CACHE=${BUNVIRT_CACHE:-/var/cache/bunvirt}
hash=$(cat "$here/pause.c" "$busybox" "$0" | sha256sum | cut -c1-16)
out=$CACHE/node-images-$hash
if [ -s "$out/pause.tar" ] && [ -s "$out/busybox.tar" ]; then echo "$out"; exit 0; fi

work=$(mktemp -d /tmp/bunvirt-node-images.XXXXXX)
trap 'rm -rf "$work"' EXIT
gcc -Os -static -Wall -Werror -o "$work/pause.bin" "$here/pause.c"
strip "$work/pause.bin"

layout=$work/layout
umoci init --layout "$layout"
# image TAG: an empty image unpacked into $work/TAG (its rootfs to fill).
image() { umoci new --image "$layout:$1"; umoci unpack --image "$layout:$1" "$work/$1" >/dev/null; }

image pause
install -m 0755 "$work/pause.bin" "$work/pause/rootfs/pause"
umoci repack --image "$layout:pause" "$work/pause" >/dev/null
umoci config --image "$layout:pause" --os linux --architecture amd64 --config.entrypoint /pause --config.user 65535:65535

image busybox
mkdir -p "$work/busybox/rootfs"/{bin,etc,tmp}
install -m 0755 "$busybox" "$work/busybox/rootfs/bin/busybox"
for a in $("$busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$work/busybox/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$work/busybox/rootfs/etc/passwd"
echo 'root:x:0:' > "$work/busybox/rootfs/etc/group"
umoci repack --image "$layout:busybox" "$work/busybox" >/dev/null
umoci config --image "$layout:busybox" --os linux --architecture amd64 --config.cmd /bin/sh --config.env PATH=/bin

mkdir -p "$out.tmp"
skopeo copy -q "oci:$layout:pause" "docker-archive:$out.tmp/pause.tar:registry.k8s.io/pause:3.10.1"
skopeo copy -q "oci:$layout:busybox" "docker-archive:$out.tmp/busybox.tar:bunvirt.local/busybox:1.35"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "$out"
