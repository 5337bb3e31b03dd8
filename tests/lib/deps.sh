#!/bin/sh
# Installs every build and test package rdprescue needs (Debian 12), only when one is missing.
set -e
PKGS="build-essential pkg-config file strace xz-utils libhivex-dev libhivex-bin libwin-hivex-perl ntfs-3g-dev ntfs-3g \
libssl-dev libarchive-dev libzstd-dev libacl1-dev liblz4-dev libxml2-dev libbz2-dev liblzma-dev zlib1g-dev \
nettle-dev libicu-dev libjansson-dev libevtx-dev libbfio-dev libevtx-utils gdisk fdisk qemu-utils libregf-utils zstd time python3 clang clang-format libclang-rt-14-dev \
xorriso isolinux syslinux-common mtools dosfstools libarchive-tools kmod qemu-system-x86 ovmf python3-pefile \
pandoc man-db groff-base tmux ansible chntpw attr"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "make deps: installing$missing"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
