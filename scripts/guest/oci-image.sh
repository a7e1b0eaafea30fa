#!/usr/bin/env bash
# Packages the test guest as a KubeVirt containerDisk: an OCI image whose single
# layer holds /disk/disk.qcow2 owned by 107:107 (KubeVirt's qemu user), built
# with umoci, no Docker.
#
#   scripts/guest/oci-image.sh          build if needed; prints "DIR TAG"
#
# Output: <guest dir>/oci/, an OCI image layout with the image under the refs
# "<VERSION>" (use with skopeo: oci:<guest dir>/oci:<VERSION>) and
# "bunvirt/guest:<VERSION>". The directory appears atomically (rename), so
# its presence means it is complete.
#
# Needs (Debian): umoci, plus what build.sh needs.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() {
	echo "oci-image.sh: $*" >&2
	exit 1
}
[[ $# -eq 0 ]] || die "Cannot parse arguments: '$*' (usage: oci-image.sh)"
command -v umoci >/dev/null || die "Cannot build the containerDisk: 'umoci' is missing (apt-get install umoci)"

GUEST=$("$HERE/build.sh")
[[ -f "$GUEST/.done" && -f "$GUEST/guest.env" ]] || die "Cannot find a complete guest in '$GUEST'"
VERSION=$(sed -n 's/^GUEST_VERSION=//p' "$GUEST/guest.env")
EPOCH=$(sed -n 's/^SOURCE_DATE_EPOCH=//p' "$GUEST/guest.env")
[[ -n $VERSION && -n $EPOCH ]] || die "Cannot read GUEST_VERSION and SOURCE_DATE_EPOCH from '$GUEST/guest.env'"
LAYOUT="$GUEST/oci"

if [[ -f "$LAYOUT/index.json" ]]; then
	echo "$LAYOUT $VERSION"
	exit 0
fi

exec 9>"$GUEST/../.guest-oci.lock"
flock 9
if [[ -f "$LAYOUT/index.json" ]]; then
	echo "$LAYOUT $VERSION"
	exit 0
fi

WORK=$(mktemp -d "$GUEST/../.guest-oci.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
created=$(date -u -d "@$EPOCH" +%Y-%m-%dT%H:%M:%SZ)

# The layer's content: /disk/disk.qcow2, like `ADD --chown=107:107 disk.qcow2 /disk/`.
mkdir -p "$WORK/src/disk"
cp "$GUEST/disk.qcow2" "$WORK/src/disk/disk.qcow2"
chown -R 107:107 "$WORK/src/disk"
chmod 0755 "$WORK/src/disk"
chmod 0644 "$WORK/src/disk/disk.qcow2"
touch -d "@$EPOCH" "$WORK/src/disk/disk.qcow2" "$WORK/src/disk"

L="$WORK/oci"
umoci init --layout "$L"
umoci new --image "$L:$VERSION"
umoci insert --image "$L:$VERSION" --history.created "$created" --history.author bunvirt \
	--history.created_by "scripts/guest/oci-image.sh: ADD --chown=107:107 disk.qcow2 /disk/" \
	"$WORK/src/disk" /disk
umoci config --no-history --image "$L:$VERSION" --created "$created" --os linux --architecture amd64 \
	--config.label "org.opencontainers.image.title=bunvirt test guest" \
	--config.label "org.opencontainers.image.version=$VERSION" \
	--config.label "io.bunvirt.guest.disk=/disk/disk.qcow2"
umoci tag --image "$L:$VERSION" "bunvirt/guest:$VERSION"
umoci gc --layout "$L"

manifest=$(grep -o '"digest":"sha256:[0-9a-f]*"' "$L/index.json" | head -n 1 | sed 's/.*sha256:\([0-9a-f]*\)"/\1/')
layers=$(grep -o 'application/vnd.oci.image.layer[^"]*' "$L/blobs/sha256/$manifest" | wc -l)
[[ $layers -eq 1 ]] || die "Cannot build a single-layer image: the manifest lists '$layers' layers"

chmod -R a+rX "$L"
mv -T "$L" "$LAYOUT"
echo "oci-image.sh: built $LAYOUT (refs '$VERSION', 'bunvirt/guest:$VERSION')" >&2
echo "$LAYOUT $VERSION"
