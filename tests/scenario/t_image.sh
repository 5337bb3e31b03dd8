#!/bin/sh
# Rescue image (issue 6): builds the image (image/build.sh, cached) and boots it under qemu TCG
# with a broken Windows disk (denied-by-policy): the kernel + initrd directly with the disk on
# AHCI and on virtio (with a RDPRESCUE FAT disk), the hybrid ISO with SeaBIOS and with OVMF +
# Secure Boot enforced (menu entry "fix" picked by keys on the serial console), and once with no
# Windows disk.  Each boot's JSON report is parsed between the serial markers, and the host
# checks the disk is repaired.  Skips only when qemu-system-x86_64 is not installed.
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh

if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
	fail "rescue image boots" "qemu-system-x86_64 is not installed (make deps)"
	finish
fi

if [ "${SANITIZE:-0}" = 1 ]; then
	skip "rescue image boots" "the sanitizer build is not static; plain make check boots it"
	finish
fi

IMG=${BUILD:-build}/image
ISO=${BUILD:-build}/rdprescue.iso
if [ "${RP_IMAGE_BUILT:-0}" != 1 ]; then
	check "make image: builds vmlinuz, initrd and the ISO" env BUILD="${BUILD:-build}" sh image/build.sh
fi
check "ISO is at most 24 MiB" test "$(stat -c %s "$ISO")" -le $((24 * 1024 * 1024))
check "ISO is a hybrid image: El Torito BIOS + UEFI entries, MBR with the ESP as a partition" sh -c \
	"xorriso -indev '$ISO' -report_el_torito plain 2>/dev/null | grep -q 'El Torito boot img :   1  BIOS' &&
	 xorriso -indev '$ISO' -report_el_torito plain 2>/dev/null | grep -q 'El Torito boot img :   2  UEFI' &&
	 sfdisk -d '$ISO' | grep -q 'type=ef'"

BOOT="python3 image/qemu-boot.py"
QEMU="qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 1024 -display none -serial stdio -monitor none -no-reboot -nic none"
KERNEL="-kernel $IMG/vmlinuz -initrd $IMG/initrd.img"
FIX="console=ttyS0 panic=-1 quiet rdprescue.action=fix"

# booted NAME DISK QEMU...: boots (qemu-boot.py checks the report: rc=0), then the host's
# rdprescue must find rdp.access healthy on DISK.
booted() {
	_name=$1 _disk=$2
	shift 2
	if $BOOT --log "$T/$_name.log" "$@" >"$T/$_name.res" 2>&1; then
		ok "$_name: report between the markers parses, rc=0 ($(cat "$T/$_name.res"))"
	else
		fail "$_name" "$(cat "$T/$_name.res")"
	fi
	expect_exit 0 "$_name: the disk is repaired (host scan --check rdp.access)" \
		"$RP" scan --check rdp.access "$_disk"
}

D0=$T/broken.img
check "build the broken disk (denied-by-policy, GPT)" scenario_disk denied-by-policy gpt "$D0"
expect_exit 1 "the disk is broken before the boot" "$RP" scan --check rdp.access "$D0"

# Kernel + initrd, disk on AHCI: the "done when" boot.
cp "$D0" "$T/ahci.img"
booted ahci "$T/ahci.img" --timeout 240 -- $QEMU -M q35 $KERNEL \
	-append "$FIX rdprescue.report=serial" \
	-drive "file=$T/ahci.img,format=raw,if=none,id=d0" -device ide-hd,drive=d0,bus=ide.0

# Kernel + initrd, disk on virtio, a second virtio disk with a FAT partition labelled RDPRESCUE.
cp "$D0" "$T/virtio.img"
mkfs.vfat -C -n RDPRESCUE "$T/fat.img" 8192 >/dev/null
booted virtio "$T/virtio.img" --timeout 240 -- $QEMU $KERNEL \
	-append "$FIX rdprescue.report=both rdprescue.args=\"--check rdp.access,rdp.listener\"" \
	-drive "file=$T/virtio.img,format=raw,if=virtio" -drive "file=$T/fat.img,format=raw,if=virtio"
check "virtio: report.json on the RDPRESCUE partition parses, exit 0" sh -c \
	"mtype -i '$T/fat.img' ::report.json | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d[\"exit\"]!=0 or d[\"command\"]!=\"fix\")'"
check "virtio: rdprescue.args=\"--check ...\" reached rdprescue (only those checks ran)" sh -c \
	"mtype -i '$T/fat.img' ::report.json | python3 -c 'import json,sys; sys.exit({f[\"check\"] for f in json.load(sys.stdin)[\"findings\"]} != {\"rdp.access\",\"rdp.listener\"})'"
check "virtio: rc.txt on the RDPRESCUE partition says 0" sh -c "[ \"\$(mtype -i '$T/fat.img' ::rc.txt | tr -d '\r\n')\" = 0 ]"
check "virtio: the backup went to the RDPRESCUE partition too" sh -c \
	"mdir -b -i '$T/fat.img' ::/backups | grep -q 'fix.tar.zst'"
check "virtio: the backup is on the Windows volume" sh -c \
	"'$TOOLS/rp-testfs' '$T/virtio.img' ls rdprescue/backups | grep -q 'fix.tar.zst'"

# The ISO under SeaBIOS, booted as a CD: isolinux's prompt, entry "scan" typed on the serial
# port, with a RDPRESCUE FAT disk: the problem is reported (rc=1) and nothing is written.
cp "$D0" "$T/bios.img"
mkfs.vfat -C -n RDPRESCUE "$T/fat2.img" 8192 >/dev/null
sha_bios=$(sha256sum <"$T/bios.img")
if $BOOT --log "$T/iso-bios.log" --timeout 300 --expect-rc 1 --send "boot:" 'scan\r' -- $QEMU \
	-drive "file=$ISO,if=none,id=cd,media=cdrom,readonly=on,format=raw" \
	-device ide-cd,drive=cd,bootindex=0 -drive "file=$T/bios.img,format=raw,if=virtio" \
	-drive "file=$T/fat2.img,format=raw,if=virtio" >"$T/iso-bios.res" 2>&1; then
	ok "iso-bios: entry scan, report between the markers parses, rc=1 ($(cat "$T/iso-bios.res"))"
else
	fail "iso-bios" "$(cat "$T/iso-bios.res")"
fi
check "iso-bios: the scan report names rdp.access as a problem" sh -c \
	"mtype -i '$T/fat2.img' ::report.json | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(not any(f[\"check\"]==\"rdp.access\" and f[\"status\"]==\"problem\" for f in d[\"findings\"]))'"
check "iso-bios: scan wrote nothing to the Windows disk" test "$(sha256sum <"$T/bios.img")" = "$sha_bios"

# The ISO written to a USB stick with a RDPRESCUE partition appended (docs/usb.md's recipe),
# booted from the stick on xHCI with SeaBIOS: report and backup land on the stick.
mkfs.vfat -C -n RDPRESCUE "$T/report.img" 16384 >/dev/null
check "stick image: the ISO with a RDPRESCUE partition appended (xorriso)" sh -c \
	"xorriso -indev '$ISO' -outdev '$T/stick.img' -boot_image any replay -append_partition 3 0x0c '$T/report.img' >'$T/xorriso.log' 2>&1"
P3=$(sfdisk -J "$T/stick.img" | python3 -c "import json,sys; print(json.load(sys.stdin)['partitiontable']['partitions'][2]['start'] * 512)")
cp "$D0" "$T/usb.img"
booted usb-stick-bios "$T/usb.img" --timeout 300 --send "boot:" 'fix\r' -- $QEMU \
	-device qemu-xhci,id=xhci -drive "file=$T/stick.img,if=none,id=usb,format=raw" \
	-device usb-storage,bus=xhci.0,drive=usb,bootindex=0 -drive "file=$T/usb.img,format=raw,if=virtio"
check "usb-stick-bios: report.json on the stick's RDPRESCUE partition says exit 0" sh -c \
	"mtype -i '$T/stick.img@@$P3' ::report.json | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"exit\"]!=0)'"
check "usb-stick-bios: the backup is on the stick" sh -c "mdir -b -i '$T/stick.img@@$P3' ::/backups | grep -q 'fix.tar.zst'"

# The ISO under OVMF with Secure Boot enforced (Microsoft keys), booted as a CD through
# Debian's signed shim, GRUB and kernel; GRUB's hotkey "f" picks the unattended fix.
CODE=/usr/share/OVMF/OVMF_CODE_4M.ms.fd VARS=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
if [ -f "$CODE" ] && [ -f "$VARS" ]; then
	cp "$VARS" "$T/vars.fd"
	cp "$D0" "$T/uefi.img"
	booted iso-uefi-secureboot "$T/uefi.img" --timeout 400 --send "unattended fix" 'f' -- $QEMU \
		-M q35,smm=on -global driver=cfi.pflash01,property=secure,value=on \
		-drive "if=pflash,format=raw,unit=0,file=$CODE,readonly=on" \
		-drive "if=pflash,format=raw,unit=1,file=$T/vars.fd" \
		-drive "file=$ISO,if=none,id=cd,media=cdrom,readonly=on,format=raw" \
		-device ide-cd,drive=cd,bus=ide.1,bootindex=0 -drive "file=$T/uefi.img,format=raw,if=virtio"
	check "iso-uefi-secureboot: the kernel ran with Secure Boot enabled" \
		grep -aq "rdprescue-image: .*secure boot: enabled" "$T/iso-uefi-secureboot.log"
else
	fail "iso-uefi-secureboot" "$CODE or $VARS is missing: install ovmf (make deps)"
fi

# The interactive menu (default entry) on the serial console: scan, then fix, confirmed at
# rdprescue's own prompt, then power off from the menu.
cp "$D0" "$T/menu.img"
if $BOOT --log "$T/menu.log" --timeout 300 --no-report \
	--send "Choice: " 's\n' --send "Press Enter" '\n' \
	--send "Choice: " 'f\n' --send "? [y/N]" 'y\n' --send "Press Enter" '\n' \
	--send "Choice: " 'p\n' -- $QEMU $KERNEL -append "console=ttyS0 panic=-1 quiet" \
	-drive "file=$T/menu.img,format=raw,if=virtio" >"$T/menu.res" 2>&1; then
	ok "menu: s, f, y, p on the console, and the machine powers off ($(cat "$T/menu.res"))"
else
	fail "menu" "$(cat "$T/menu.res")"
fi
check "menu: lists the installation" grep -aq "1) /dev/vda install 1: partition 2" "$T/menu.log"
check "menu: scan shows the problem" grep -aq "PROBLEM   rdp.access" "$T/menu.log"
check "menu: fix asked before writing" grep -aq "apply 2 changes to /dev/vda? \[y/N\]" "$T/menu.log"
expect_exit 0 "menu: the disk is repaired (host scan --check rdp.access)" \
	"$RP" scan --check rdp.access "$T/menu.img"

# No Windows disk at all: the report still comes, with exit 3 and the reason.
mkdisk "$T/empty.img" gpt 64
if $BOOT --log "$T/empty.log" --timeout 240 --expect-rc 3 -- $QEMU $KERNEL \
	-append "console=ttyS0 panic=-1 quiet rdprescue.action=scan rdprescue.timeout=3" \
	-drive "file=$T/empty.img,format=raw,if=virtio" >"$T/empty.res" 2>&1; then
	ok "no Windows: report with rc=3 ($(cat "$T/empty.res"))"
else
	fail "no Windows" "$(cat "$T/empty.res")"
fi
finish
