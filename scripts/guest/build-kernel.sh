#!/usr/bin/env bash
# Builds bunvirt's small x86_64 guest kernel from Debian's linux-source-6.1:
# `make tinyconfig` + scripts/guest/kernel.config-fragment (merge_config.sh -n,
# so everything not asked for stays off), everything built in, no modules.
# It boots the test guest's busybox initramfs in 34-62 MiB of RAM, where
# Debian's generic kernel needs ~96 MiB.
#
#   scripts/guest/build-kernel.sh         build if needed; prints the kernel directory
#   scripts/guest/build-kernel.sh --dir   print the directory it would use, build nothing
#
# Output: $BUNVIRT_CACHE/kernel-<linux-source version>-<config hash>/ with
# bzImage, config (the final .config), kernel.env, SHA256SUMS and .done. A
# directory with .done is complete and never touched again; a build happens in
# a temporary directory beside it and is renamed into place. The config hash
# covers the fragment's option lines and KERNEL_BUILD_REV: change an option
# and the next run builds a new directory; change the build steps here and
# bump KERNEL_BUILD_REV.
#
# Needs root (apt-get). Installs its build dependencies when missing:
# build-essential bc flex bison libelf-dev xz-utils. A cold build takes ~5 min
# on 2 cores (make -j$(nproc)); the source package is a 139 MB download.
set -euo pipefail

# Bump when the build steps change in a way the fragment's hash does not show.
KERNEL_BUILD_REV=1
# Same upstream version as the Debian kernel build.sh pins (6.1.176-1).
KSRC_PKG=linux-source-6.1
KSRC_VERSION_PIN=6.1.176-1
BUILD_DEPS=(build-essential bc flex bison libelf-dev xz-utils)

CACHE_ROOT=${BUNVIRT_CACHE:-/var/cache/bunvirt}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FRAGMENT="$HERE/kernel.config-fragment"
JOBS=${BUNVIRT_KERNEL_JOBS:-$(nproc)}

log() { echo "build-kernel.sh: $*" >&2; }
die() {
	echo "build-kernel.sh: $*" >&2
	exit 1
}

[[ -f $FRAGMENT ]] || die "Cannot find the kernel config fragment '$FRAGMENT'"
# The options only: comments in the fragment do not change the kernel.
fragment_options() { grep -E '^CONFIG_[A-Za-z0-9_]+=|^# CONFIG_[A-Za-z0-9_]+ is not set$' "$FRAGMENT"; }
CONFIG_HASH=$({
	echo "KERNEL_BUILD_REV=$KERNEL_BUILD_REV"
	fragment_options
} | sha256sum | cut -c1-12)

# A path-safe version string: Debian versions may contain '~', '+' or ':'.
sanitize() { tr -c 'A-Za-z0-9_.\n-' '_' <<<"$1"; }
kernel_dir() { echo "$CACHE_ROOT/kernel-$(sanitize "$1")-$CONFIG_HASH"; }

if [[ ${1:-} == --dir ]]; then
	kernel_dir "$KSRC_VERSION_PIN"
	exit 0
fi
[[ $# -eq 0 ]] || die "Cannot parse arguments: '$*' (usage: build-kernel.sh [--dir])"

# Fast path: the pinned source with this fragment is already built.
if [[ -f "$(kernel_dir "$KSRC_VERSION_PIN")/.done" ]]; then
	kernel_dir "$KSRC_VERSION_PIN"
	exit 0
fi

[[ $(id -u) -eq 0 ]] || die "Cannot build the guest kernel: needs root (apt-get), running as uid '$(id -u)'"
[[ $(uname -m) == x86_64 ]] || die "Cannot build the guest kernel: needs an x86_64 host (no cross-compiling), this is '$(uname -m)'"
for tool in apt-get apt-cache dpkg-query dpkg-deb flock sha256sum; do
	command -v "$tool" >/dev/null || die "Cannot build the guest kernel: '$tool' is missing"
done

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.kernel.lock"
flock 9

# --- build dependencies (idempotent: installs only what is missing) ----------
installed() { [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]; }
missing=()
for p in "${BUILD_DEPS[@]}"; do
	installed "$p" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
	log "installing build dependencies: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
		log "apt-get install failed, running apt-get update and trying again"
		apt-get update -qq >&2
		apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
			die "Cannot install the build dependencies '${missing[*]}'"
	fi
fi

# --- which linux-source version ------------------------------------------------
pkg_available() { # $1 package, $2 version (apt-cache show exits 0 for a missing version)
	apt-cache madison "$1" 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}' | grep -xF -- "$2" >/dev/null
}
KSRC_VERSION=$KSRC_VERSION_PIN
if ! pkg_available "$KSRC_PKG" "$KSRC_VERSION"; then
	log "'$KSRC_PKG=$KSRC_VERSION' is not in the apt lists, running apt-get update"
	apt-get update -qq >&2 || log "apt-get update failed, using the lists as they are"
fi
if ! pkg_available "$KSRC_PKG" "$KSRC_VERSION"; then
	KSRC_VERSION=$(apt-cache policy "$KSRC_PKG" | sed -n 's/^ *Candidate: //p')
	[[ -n $KSRC_VERSION && $KSRC_VERSION != "(none)" ]] || die "Cannot find a version of '$KSRC_PKG' to download"
	log "pinned '$KSRC_PKG=$KSRC_VERSION_PIN' is gone, falling back to '$KSRC_PKG=$KSRC_VERSION'"
fi
DEST=$(kernel_dir "$KSRC_VERSION")
if [[ -f "$DEST/.done" ]]; then
	echo "$DEST"
	exit 0
fi
[[ ! -e $DEST ]] || {
	log "removing incomplete '$DEST'"
	rm -rf "$DEST"
}

# Under the lock, any other build directory is a leftover of a killed build.
rm -rf "$CACHE_ROOT"/.kernel-build.*
WORK=$(mktemp -d "$CACHE_ROOT/.kernel-build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
chmod 0755 "$WORK" # apt-get download drops privileges to _apt
OUT="$WORK/out"
mkdir -p "$OUT" "$WORK/deb"
log "building kernel $KSRC_PKG=$KSRC_VERSION config $CONFIG_HASH in $WORK (~5 min)"
started=$SECONDS

# --- source: /usr/src when that exact version is installed, else the .deb ------
tarball=/usr/src/$KSRC_PKG.tar.xz
if [[ $(dpkg-query -W -f='${Version}' "$KSRC_PKG" 2>/dev/null || true) == "$KSRC_VERSION" && -f $tarball ]]; then
	log "using the installed '$tarball'"
else
	(cd "$WORK/deb" && apt-get download -q -o APT::Sandbox::User=root "$KSRC_PKG=$KSRC_VERSION" >&2)
	deb=$(find "$WORK/deb" -maxdepth 1 -name '*.deb' | head -n 1)
	[[ -n $deb ]] || die "Cannot download '$KSRC_PKG=$KSRC_VERSION': apt-get download left no .deb"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$WORK/deb" "./usr/src/$KSRC_PKG.tar.xz" ||
		die "Cannot find 'usr/src/$KSRC_PKG.tar.xz' in '$deb'"
	rm -f "$deb"
	tarball="$WORK/deb/usr/src/$KSRC_PKG.tar.xz"
fi
# Every timestamp in the kernel comes from the source tarball: same source
# and fragment, same bzImage bytes.
SOURCE_DATE_EPOCH=$(stat -c %Y "$tarball")
tar -xJf "$tarball" -C "$WORK"
rm -rf "$WORK/deb"
SRC="$WORK/$KSRC_PKG"
[[ -f $SRC/Makefile && -x $SRC/scripts/kconfig/merge_config.sh ]] || die "Cannot find the kernel tree in '$tarball' (no $KSRC_PKG/Makefile)"
unpacked=$SECONDS

# --- config: tinyconfig + fragment, allnoconfig semantics -----------------------
unset KBUILD_OUTPUT KCONFIG_CONFIG KCONFIG_ALLCONFIG CROSS_COMPILE O LLVM CC
export ARCH=x86_64
export KBUILD_BUILD_TIMESTAMP KBUILD_BUILD_USER=bunvirt KBUILD_BUILD_HOST=bunvirt KBUILD_BUILD_VERSION=1
KBUILD_BUILD_TIMESTAMP=$(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH")
export SOURCE_DATE_EPOCH
cd "$SRC"
make -s tinyconfig >"$WORK/config.log" 2>&1 || {
	tail -n 30 "$WORK/config.log" >&2
	die "Cannot run 'make tinyconfig' in '$SRC'"
}
# -n: allnoconfig with tinyconfig + fragment as KCONFIG_ALLCONFIG, so options
# the fragment makes visible stay off unless the fragment turns them on.
scripts/kconfig/merge_config.sh -n .config "$FRAGMENT" >>"$WORK/config.log" 2>&1 || {
	tail -n 30 "$WORK/config.log" >&2
	die "Cannot merge '$FRAGMENT' into the tinyconfig"
}
bad=()
while IFS= read -r line; do
	grep -qxF -- "$line" .config || bad+=("$line")
done < <(fragment_options)
if ((${#bad[@]} > 0)); then
	printf '  %s\n' "${bad[@]}" >&2
	die "Cannot configure the kernel: the options above from '$FRAGMENT' are not in the final .config (a missing dependency or a typo)"
fi

# --- build ------------------------------------------------------------------------
configured=$SECONDS
make -j"$JOBS" bzImage >"$WORK/build.log" 2>&1 || {
	tail -n 40 "$WORK/build.log" >&2
	die "Cannot build the kernel in '$SRC' (log above)"
}
built=$SECONDS
KREL=$(make -s kernelrelease)
cp arch/x86/boot/bzImage "$OUT/bzImage"
cp .config "$OUT/config"
cd "$WORK"

cat >"$OUT/kernel.env" <<EOF
# bunvirt small guest kernel, built by scripts/guest/build-kernel.sh
KERNEL_SOURCE_PACKAGE=$KSRC_PKG
KERNEL_SOURCE_VERSION=$KSRC_VERSION
KERNEL_RELEASE=$KREL
KERNEL_CONFIG_HASH=$CONFIG_HASH
KERNEL_BUILD_REV=$KERNEL_BUILD_REV
BZIMAGE_BYTES=$(stat -c %s "$OUT/bzImage")
SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH
BUILD_JOBS=$JOBS
BUILD_SECONDS_UNPACK=$((unpacked - started))
BUILD_SECONDS_MAKE=$((built - configured))
BUILD_SECONDS_TOTAL=$((SECONDS - started))
EOF
(cd "$OUT" && sha256sum bzImage config >SHA256SUMS)
touch -d "@$SOURCE_DATE_EPOCH" "$OUT"/{bzImage,config}
touch "$OUT/.done"
chmod 0755 "$OUT"

mv -T "$OUT" "$DEST"
log "built $DEST: $KREL, bzImage $(stat -c %s "$DEST/bzImage") bytes, $((SECONDS - started)) s (make -j$JOBS: $((built - configured)) s)"
echo "$DEST"
