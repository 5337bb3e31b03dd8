#!/bin/sh
# t_cloud.sh — docs/cloud.md as far as this machine can check it: every rdprescue command line
# in it is a real command with real options; `list` names the cloud or hypervisor of a disk
# from udev-style links (a fake /dev tree through RP_DEV_ROOT, pointing at the demo disk); the
# VHDX and qcow2 path without nbd (qemu-img convert to raw, fix, convert back) repairs the disk.
. tests/lib/assert.sh
. tests/lib/scenario.sh

# --- the recipes name only what exists ---
awk '/^ *```/ { f = !f; next } f' docs/cloud.md |
	grep -o '\brdprescue [a-z][a-z]*\( [^"]*\)\?' >"$T/lines"
n=0
while IFS= read -r line; do
	n=$((n + 1))
	c=$(echo "$line" | awk '{ print $2 }')
	if ! "$RP" help "$c" >"$T/h" 2>/dev/null; then
		fail "docs/cloud.md: $line" "no command '$c'"
		continue
	fi
	for o in $(echo "$line" | grep -o -- '--[a-z][a-z-]*'); do
		grep -q -- "^  \(-h, \)\?$o\b" "$T/h" || fail "docs/cloud.md: $line" "'$c' has no option $o"
	done
done <"$T/lines"
check "docs/cloud.md: $n rdprescue command lines, each a real command with its real options" \
	sh -c "[ $n -ge 10 ]"

# --- list names the disk's cloud from its links ---
DEMO_BUILD=$T/demo-build
BUILD=$DEMO_BUILD RP=$RP TOOLS=$TOOLS RP_SHARED=$SHARED sh tests/demo.sh >"$T/demo.out" 2>&1
D=$DEMO_BUILD/demo/broken-windows.img
"$RP" undo "$D" --yes >/dev/null 2>&1
R=$T/root
mkdir -p "$R/dev/disk/by-id"
cp --sparse=always "$D" "$R/dev/sdc"
# link_as DIR NAME WANT: with only the link DIR/NAME -> sdc, list names sdc as WANT
link_as() {
	rm -rf "$R/dev/disk" && mkdir -p "$R/dev/disk/$1"
	_up=$(echo "dev/disk/$1" | sed 's|[^/]*|..|g')
	ln -s "$_up/dev/sdc" "$R/dev/disk/$1/$2"
	RP_DEV_ROOT=$R "$RP" list "$R/dev/sdc" >"$T/out" 2>"$T/err"
	check "list: $1/$2 is '$3'" grep -q "^$R/dev/sdc install 1: partition 2, .* \\[$3\\]\$" "$T/out"
}
link_as azure/scsi1 lun3 "Azure data disk, LUN 3"
RP_DEV_ROOT=$R "$RP" list "$R/dev/disk/azure/scsi1/lun3" >"$T/out" 2>&1
check "list takes the link name as TARGET" grep -q "/lun3 install 1: .* \\[Azure data disk, LUN 3\\]\$" "$T/out"
link_as azure/data/by-lun 2 "Azure data disk, LUN 2"
link_as azure root "Azure OS disk of this VM"
link_as by-id google-win-os "GCP disk, device name win-os"
link_as by-id nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0 "AWS EBS volume vol-0123456789abcdef0"
link_as by-id scsi-3600224801234567890abcdef01234567-Msft_Virtual_Disk "Hyper-V or Azure virtual disk"
link_as by-id virtio-f00dfeed "KVM virtio disk"
link_as by-id ata-QEMU_HARDDISK_QM00001 "KVM/QEMU virtual disk"
link_as by-id usb-SanDisk_Cruzer_4C530001-0:0 "USB disk"
# a link to another disk, and a partition's link, name nothing
rm -rf "$R/dev/disk" && mkdir -p "$R/dev/disk/by-id" && : >"$R/dev/sdd"
ln -s ../../sdd "$R/dev/disk/by-id/google-other"
ln -s ../../sdc "$R/dev/disk/by-id/google-x-part2"
RP_DEV_ROOT=$R "$RP" list "$R/dev/sdc" >"$T/out" 2>&1
check "list: no link to this disk, nothing named" sh -c "grep -q '^$R/dev/sdc install 1:' '$T/out' && ! grep -q '\\]\$' '$T/out'"
"$RP" list "$D" >"$T/out" 2>&1
check "list: an image file is named nothing" sh -c "grep -q '^$D install 1:' '$T/out' && ! grep -q '\\]\$' '$T/out'"

# --- Hyper-V / KVM without nbd: convert, fix, convert back ---
for fmt in vhdx qcow2; do
	qemu-img convert -O "$fmt" "$D" "$T/win.$fmt" &&
		qemu-img convert -O raw "$T/win.$fmt" "$T/win.raw" || fail "$fmt: convert" "qemu-img failed"
	expect_exit 0 "$fmt: fix of the raw copy" "$RP" fix "$T/win.raw" --yes --brief
	qemu-img convert -O "$fmt" "$T/win.raw" "$T/fixed.$fmt" &&
		qemu-img convert -O raw "$T/fixed.$fmt" "$T/again.raw" || fail "$fmt: convert back" "qemu-img failed"
	expect_exit 0 "$fmt: the converted-back disk scans healthy" "$RP" scan "$T/again.raw" --brief
	rm -f "$T/win.raw" "$T/again.raw" "$T/win.$fmt" "$T/fixed.$fmt"
done
finish
