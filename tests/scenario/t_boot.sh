#!/bin/sh
# boot.safemode (issue 13): the BCD store of the real Windows 10 machine in ../shared/hives/real,
# given a SafeBoot element on its default loader with hivexsh, on the two places Windows keeps
# it: a FAT32 EFI system partition (GPT, type C12A7328-...) and a System Reserved NTFS partition
# (MBR).  Scan finds it with evidence, fix deletes the element, the rescan is clean, undo puts
# the BCD back byte for byte; --enable-sac sets EMS; a BCD the fix would have to grow is refused
# on FAT.  The BCD is read back with mtools (FAT) or rp-testfs (NTFS) and hivexget.
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
BOOTMGR='Objects\{9dea862c-5cdd-4e70-acc1-f32b344d4795}\Elements'
LOADER='{733b62e5-f608-11eb-825c-c112f60133ab}'
ELEMENTS="Objects\\$LOADER\\Elements"
ESP_BCD=EFI/Microsoft/Boot/BCD

# The real BCD, and a copy with SafeBoot = 1 (network) on the default loader (hivexsh).
xz -dc "$SHARED/hives/real/BCD.xz" >"$T/BCD.clean"
check "real BCD: the boot manager's default is $LOADER (hivexget)" \
	test "$(hivexget "$T/BCD.clean" "$BOOTMGR\\23000003" Element)" = "$LOADER"
check "real BCD: the default loader has no SafeBoot element" \
	sh -c "! hivexget '$T/BCD.clean' '$ELEMENTS\\25000080' Element"
cp "$T/BCD.clean" "$T/BCD.safe"
printf '%s\n' "cd $ELEMENTS" 'add 25000080' 'add 26000081' 'cd 25000080' 'setval 1' Element \
	'hex:3:01,00,00,00,00,00,00,00' commit >"$T/hsh"
check "SafeBoot element added with hivexsh" sh -c "hivexsh -w '$T/BCD.safe' <'$T/hsh'"
printf '%s\n' "cd $ELEMENTS\\26000081" 'setval 1' Element 'hex:3:01' commit >"$T/hsh2"
check "SafeBootAlternateShell element added with hivexsh" sh -c "hivexsh -w '$T/BCD.safe' <'$T/hsh2'"

# gpt_esp_disk IMG BCD [full]: partition 1 a 40 MiB FAT32 EFI system partition holding BCD at
# EFI/Microsoft/Boot/BCD (full: a filler file takes every free cluster), partition 2 the
# healthy Windows volume.
ESP_START=2048 ESP_SECTORS=81920
gpt_esp_disk() {
	rm -f "$1" && truncate -s 128M "$1" || return 1
	printf '%s\n' 'label: gpt' \
		"start=$ESP_START, size=$ESP_SECTORS, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=EFI" \
		'type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name=Windows' | sfdisk -q "$1" >/dev/null 2>&1 || return 1
	_p2=$(sfdisk -d "$1" | sed -n 's/.*2 : start= *\([0-9]*\), size= *\([0-9]*\),.*/\1 \2/p')
	set -- "$1" "$2" $_p2 "${3:-}"
	rm -f "$T/esp.part" && mkfs.vfat -C -F 32 -s 1 -S 512 -n ESP "$T/esp.part" $((ESP_SECTORS / 2)) >/dev/null 2>&1 &&
		mmd -i "$T/esp.part" ::/EFI ::/EFI/Microsoft ::/EFI/Microsoft/Boot &&
		mcopy -i "$T/esp.part" "$2" ::/$ESP_BCD || return 1
	if [ "${5:-}" = full ]; then
		_used=$(fsck.vfat -n "$T/esp.part" | sed -n 's/.* \([0-9]*\)\/\([0-9]*\) clusters$/\1 \2/p')
		set -- "$@" $_used
		truncate -s $((($7 - $6) * 512)) "$T/filler" && mcopy -i "$T/esp.part" "$T/filler" ::/FILLER || return 1
	fi
	dd if="$T/esp.part" of="$1" bs=512 seek=$ESP_START conv=notrunc status=none || return 1
	_mkdisk_fs "$T/win.part" "$4" Windows &&
		dd if="$T/win.part" of="$1" bs=512 seek="$3" conv=notrunc status=none || return 1
	rm -f "$T/esp.part" "$T/win.part"
	put_windows "$1" "$T/hives-healthy"
}
# esp_bcd IMG: the BCD's bytes as mtools reads them from the ESP.
esp_bcd() { mtype -i "$1@@$((ESP_START * 512))" ::/$ESP_BCD; }
esp_sha() { esp_bcd "$1" | sha256sum | cut -d' ' -f1; }
esp_get() { esp_bcd "$1" >"$T/get.bcd" && hivexget "$T/get.bcd" "$2" Element; }
sr_sha() { vol_sha "$1@1" Boot/BCD; }
sr_get() { "$TOOLS/rp-testfs" "$1@1" cat Boot/BCD >"$T/get.bcd" && hivexget "$T/get.bcd" "$2" Element; }

check "healthy hives" scenario_hives healthy "$T/hives-healthy"
check "build GPT disk, BCD with SafeBoot on the FAT32 ESP" gpt_esp_disk "$T/esp.img" "$T/BCD.safe"
check "mtools reads the BCD back from the image" sh -c "mtype -i '$T/esp.img@@$((ESP_START * 512))' ::/$ESP_BCD | cmp - '$T/BCD.safe'"

# ---- UEFI: FAT32 EFI system partition ----
D=$T/esp.img
sha0=$(esp_sha "$D")
expect_exit 1 "ESP: scan --json finds Safe Mode" "$RP" scan "$D" --json --check boot.safemode
cp "$T/out" "$T/scan.json"
check "ESP: problem names the entry and the mode" $JQ "$T/scan.json" \
	'any("Windows 10" in f["summary"] and "network" in f["summary"] for f in F("boot.safemode","problem"))'
check "ESP: evidence: SafeBoot element data 01 00.. on the ESP path" $JQ "$T/scan.json" \
	'any(e["hive"]=="BCD" and e["key"].endswith("25000080") and e["path"]=="<boot>/EFI/Microsoft/Boot/BCD" for f in F("boot.safemode","problem") for e in f["evidence"])'
check "ESP: evidence: the boot manager default element" $JQ "$T/scan.json" \
	'any(e["key"].endswith("23000003") for f in F("boot.safemode","problem") for e in f["evidence"])'
check "ESP: plan deletes SafeBoot and SafeBootAlternateShell" $JQ "$T/scan.json" \
	'sorted(c["key"][-8:] for f in F("boot.safemode","problem") for c in f["changes"])==["25000080","26000081"]'
expect_exit 1 "ESP: text scan" "$RP" scan "$D" --check boot.safemode
check "ESP: text report shows the boot entry and its state" grep_text 'Elements.12000004.Element = "Windows 10" \[bcd, boot entry (default): Safe Mode network with alternate shell, EMS off\]' "$T/out"
expect_exit 0 "ESP: list" "$RP" list "$D"
check "ESP: list shows the default entry in Safe Mode" grep -q "boot entry Windows 10 (default): Safe Mode network with alternate shell, EMS off (BCD on the EFI system partition)" "$T/out"

expect_exit 0 "ESP: fix --yes" "$RP" fix "$D" --yes --json --check boot.safemode
cp "$T/out" "$T/fix.json"
check "ESP: fix JSON: boot.safemode fixed" $JQ "$T/fix.json" 'len(F("boot.safemode","fixed"))==1'
check "ESP: the BCD keeps its size (mtools)" test "$(esp_bcd "$D" | wc -c)" = "$(wc -c <"$T/BCD.safe")"
check "ESP: SafeBoot and SafeBootAlternateShell gone (hivexget on the mtools copy)" sh -c "mtype -i '$D@@$((ESP_START * 512))' ::/$ESP_BCD >'$T/get.bcd' && ! hivexget '$T/get.bcd' '$ELEMENTS\\25000080' Element && ! hivexget '$T/get.bcd' '$ELEMENTS\\26000081' Element"
check "ESP: the default and description are intact" test "$(esp_get "$D" "$BOOTMGR\\23000003")/$(esp_get "$D" "$ELEMENTS\\12000004")" = "$LOADER/Windows 10"
check "ESP: fsck.vfat -n finds the FAT volume clean" sh -c "dd if='$D' of='$T/esp.chk' bs=512 skip=$ESP_START count=$ESP_SECTORS status=none && fsck.vfat -n '$T/esp.chk'"
expect_exit 0 "ESP: rescan clean" "$RP" scan "$D" --check boot.safemode
check "ESP: rescan says it boots normally" grep_text "starts Windows normally" "$T/out"
check "ESP: backup on the Windows volume names the BCD" sh -c "'$TOOLS/rp-testfs' '$D' ls rdprescue/backups | grep -q tar.zst"
expect_exit 0 "ESP: undo --yes" "$RP" undo "$D" --yes
check "ESP: undo restores the BCD byte for byte (mtools)" test "$(esp_sha "$D")" = "$sha0"
expect_exit 1 "ESP: after undo Safe Mode is back" "$RP" scan "$D" --check boot.safemode

# --enable-sac: EMS on for the default loader.  A new key: hivex grows the hive by a page, so the
# FAT file grows by a cluster chain extension (and shrinks again on undo).
sha1=$(esp_sha "$D")
expect_exit 0 "ESP: fix --enable-sac --yes (Safe Mode fixed, EMS set)" "$RP" fix "$D" --yes --enable-sac --check boot.safemode --json
cp "$T/out" "$T/sac.json"
check "ESP: both findings fixed" $JQ "$T/sac.json" 'len(F("boot.safemode","fixed"))==2 and d["exit"]==0'
check "ESP: EMS element 260000b0 = 01 (hivexget on the mtools copy)" sh -c "mtype -i '$D@@$((ESP_START * 512))' ::/$ESP_BCD >'$T/get.bcd' && hivexget '$T/get.bcd' '$ELEMENTS\\260000b0' Element | od -An -tx1 | grep -qx ' 01'"
check "ESP: SafeBoot gone too" sh -c "! hivexget '$T/get.bcd' '$ELEMENTS\\25000080' Element"
check "ESP: fsck.vfat -n clean after the BCD grew" sh -c "dd if='$D' of='$T/esp.chk' bs=512 skip=$ESP_START count=$ESP_SECTORS status=none && fsck.vfat -n '$T/esp.chk'"
expect_exit 0 "ESP: rescan with --enable-sac clean" "$RP" fix "$D" --yes --enable-sac --check boot.safemode
check "ESP: EMS shown on" grep -q "EMS on" "$T/out"
expect_exit 0 "ESP: undo --yes after --enable-sac" "$RP" undo "$D" --yes
check "ESP: undo restores the BCD byte for byte (shrinks back)" test "$(esp_sha "$D")" = "$sha1"
check "ESP: fsck.vfat -n clean after undo" sh -c "dd if='$D' of='$T/esp.chk' bs=512 skip=$ESP_START count=$ESP_SECTORS status=none && fsck.vfat -n '$T/esp.chk'"
expect_exit 2 "scan does not take --enable-sac" "$RP" scan "$D" --enable-sac

# A full ESP: an edit that must grow the BCD (a new key: hivex adds a 4 KiB page) is refused.
D=$T/esp-full.img
check "build GPT disk with a full ESP" gpt_esp_disk "$D" "$T/BCD.clean" full
sha_full=$(esp_sha "$D")
expect_exit 3 "full ESP: fix --dry-run --enable-sac already says it would be refused" "$RP" fix "$D" --dry-run --enable-sac --check boot.safemode
check "full ESP: dry-run message names the free clusters" grep -q "free clusters" "$T/err"
expect_exit 3 "full ESP: fix --enable-sac refused" "$RP" fix "$D" --yes --enable-sac --check boot.safemode
check "full ESP: the message says why and that nothing was written" grep -q "free clusters.*nothing was written" "$T/err"
check "full ESP: BCD untouched" test "$(esp_sha "$D")" = "$sha_full"
check "full ESP: no backup was left behind" sh -c "! '$TOOLS/rp-testfs' '$D' ls rdprescue/backups 2>/dev/null | grep -q tar.zst"

# ---- faults on the FAT writer (a FAULTS=1 build, as t_faults.sh): fix --enable-sac grows the
# BCD; whichever write point fails (every FAT, directory-entry, FSInfo and fsync point, and the
# first and last content write), the fix exits 4 and rolls back: the BCD is the original, the
# FAT volume passes fsck.vfat -n, and an unfaulted fix afterwards writes what it always writes ----
FB=${BUILD:-build}/faults
RPF=$PWD/$FB/rdprescue
check "FAULTS=1 build in $FB" make -s BUILD="$FB" FAULTS=1 all
check "ESP disk for the fault runs" gpt_esp_disk "$T/fault.img" "$T/BCD.safe"
F=$T/fault-copy.img
cp --sparse=always "$T/fault.img" "$F"
rm -f "$T/points"
RP_FAULT_LOG=$T/points expect_exit 0 "unfaulted fix --enable-sac lists the fault points" \
	"$RPF" fix "$F" --yes --enable-sac --check boot.safemode
sha_fixed=$(esp_sha "$F") sha_orig=$(esp_sha "$T/fault.img")
check "the fault run reached FAT content and metadata write points" sh -c "grep -q ' fat.data\$' '$T/points' && grep -q ' fat.meta\$' '$T/points'"
first_data=$(grep -m1 ' fat.data$' "$T/points" | cut -d' ' -f1)
last_data=$(grep ' fat.data$' "$T/points" | tail -n 1 | cut -d' ' -f1)
while read -r n point; do
	case $point in
	fat.meta | fat.fsync) ;;
	fat.data) [ "$n" = "$first_data" ] || [ "$n" = "$last_data" ] || continue ;;
	*) continue ;;
	esac
	cp --sparse=always "$T/fault.img" "$F"
	RP_FAULT_AT=$n "$RPF" fix "$F" --yes --enable-sac --check boot.safemode >"$T/fout" 2>"$T/ferr"
	rc=$? bad=""
	[ "$rc" = 4 ] || bad="$bad exit $rc (wanted 4);"
	grep -q "rolled back" "$T/ferr" || bad="$bad no rollback: $(head -c 300 "$T/ferr");"
	[ "$(esp_sha "$F")" = "$sha_orig" ] || bad="$bad the BCD is not the original;"
	dd if="$F" of="$T/esp.chk" bs=512 skip=$ESP_START count=$ESP_SECTORS status=none
	fsck.vfat -n "$T/esp.chk" >"$T/fsck.out" 2>&1 || bad="$bad fsck.vfat -n: $(tail -n 3 "$T/fsck.out" | tr '\n' ' ');"
	"$RP" fix "$F" --yes --enable-sac --check boot.safemode >/dev/null 2>"$T/rerr" || bad="$bad fix after it: $(head -c 200 "$T/rerr");"
	[ "$(esp_sha "$F")" = "$sha_fixed" ] || bad="$bad fix after it wrote something else;"
	if [ -z "$bad" ]; then ok "fault $n at $point: exit 4, rolled back, fsck clean"; else fail "fault $n at $point" "$bad"; fi
done <"$T/points"

# ---- BIOS: System Reserved NTFS partition (MBR) ----
D=$T/sr.img
check "build MBR disk" scenario_disk healthy mbr "$D"
check "put the BCD on the System Reserved partition" "$TOOLS/rp-testfs" "$D@1" put "$T/BCD.safe" Boot/BCD
sha0=$(sr_sha "$D")
expect_exit 1 "SR: scan --json finds Safe Mode" "$RP" scan "$D" --json --check boot.safemode
cp "$T/out" "$T/scan.json"
check "SR: evidence path on System Reserved" $JQ "$T/scan.json" \
	'any(e["path"]=="<boot>/Boot/BCD" and e["key"].endswith("25000080") for f in F("boot.safemode","problem") for e in f["evidence"])'
expect_exit 0 "SR: list" "$RP" list "$D"
check "SR: list names System Reserved" grep -q "(BCD on the System Reserved partition)" "$T/out"
expect_exit 0 "SR: fix --yes" "$RP" fix "$D" --yes --check boot.safemode
check "SR: SafeBoot gone (hivexget)" sh -c "'$TOOLS/rp-testfs' '$D@1' cat Boot/BCD >'$T/get.bcd' && ! hivexget '$T/get.bcd' '$ELEMENTS\\25000080' Element"
check "SR: description intact" test "$(sr_get "$D" "$ELEMENTS\\12000004")" = "Windows 10"
expect_exit 0 "SR: rescan clean" "$RP" scan "$D" --check boot.safemode
check "SR: System Reserved passes ntfsfix -n" ntfs_check "$D" 1
expect_exit 0 "SR: undo --yes" "$RP" undo "$D" --yes
check "SR: undo restores the BCD byte for byte" test "$(sr_sha "$D")" = "$sha0"
expect_exit 1 "SR: after undo Safe Mode is back" "$RP" scan "$D" --check boot.safemode

# ---- block devices (loop): the ESP is written beside the Windows volume; System Reserved NTFS
# cannot be (libntfs-3g opens the disk exclusively), which the fix says, writing nothing ----
LOOPS=""
trap 'for l in $LOOPS; do losetup -d "$l"; done; [ "${RP_KEEP:-0}" = 1 ] || rm -rf "$T"' EXIT
check "ESP disk for a loop device" gpt_esp_disk "$T/loop-esp.img" "$T/BCD.safe"
L=$(losetup -f --show -P "$T/loop-esp.img") && LOOPS="$LOOPS $L"
if [ -n "$L" ]; then
	expect_exit 0 "loop ESP: fix --yes" "$RP" fix "$L" --yes --check boot.safemode
	expect_exit 0 "loop ESP: rescan clean" "$RP" scan "$L" --check boot.safemode
	expect_exit 0 "loop ESP: undo --yes" "$RP" undo "$L" --yes
	check "loop ESP: undo restores the BCD byte for byte" sh -c "mtype -i '$L@@$((ESP_START * 512))' ::/$ESP_BCD | cmp - '$T/BCD.safe'"
else
	fail "loop ESP" "losetup failed"
fi
L=$(losetup -f --show -P "$T/sr.img") && LOOPS="$LOOPS $L"
if [ -n "$L" ]; then
	sha_sr=$(sr_sha "$T/sr.img")
	expect_exit 3 "loop System Reserved: fix refused" "$RP" fix "$L" --yes --check boot.safemode
	check "loop System Reserved: the message says why and that nothing was written" grep -q "System Reserved partition (partition 1) cannot be opened for writing.*nothing was written" "$T/err"
	check "loop System Reserved: BCD untouched" test "$(sr_sha "$T/sr.img")" = "$sha_sr"
else
	fail "loop System Reserved" "losetup failed"
fi

# ---- clean machine: the real BCD as it is ----
D=$T/clean.img
check "build GPT disk with the real (clean) BCD on the ESP" gpt_esp_disk "$D" "$T/BCD.clean"
expect_exit 0 "clean: scan ok" "$RP" scan "$D" --check boot.safemode
check "clean: boots normally" grep_text "the default boot entry 'Windows 10' starts Windows normally (no Safe Mode; EMS off)" "$T/out"
expect_exit 0 "clean: fix changes nothing" "$RP" fix "$D" --yes --check boot.safemode
check "clean: BCD untouched" test "$(esp_bcd "$D" | sha256sum | cut -d' ' -f1)" = "$(sha256sum <"$T/BCD.clean" | cut -d' ' -f1)"

# ---- no boot partition in the target: skipped, not a problem ----
D=$T/noboot.img
check "build disk without a BCD" scenario_disk healthy gpt "$D"
expect_exit 0 "no BCD: scan ok" "$RP" scan "$D" --check boot.safemode
check "no BCD: says no store was found" grep -q "no BCD store found" "$T/out"
finish
