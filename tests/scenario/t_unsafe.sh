#!/bin/sh
# Unsafe or bad disks (issue 7): scan still reads what it can; fix writes nothing.  For each disk:
# `fix --yes` exits 3, says on one stderr line what is wrong and what to do, and the image's
# SHA-256 is unchanged; `scan` exits as stated and changes nothing either.
#   BitLocker, hibernated / Fast Startup, unclean $LogFile, truncated image, truncated hive,
#   corrupt hive, no room for the new hive and its backup, read-only image file.
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
P2=34816 # first sector of partition 2 (tests/lib/mkdisk.sh)

# refused NAME IMG SCAN_EXIT PATTERN: scan exits SCAN_EXIT, fix --yes exits 3 with one stderr
# line matching PATTERN (grep -E), and neither changed a byte of IMG.
refused() {
	_s0=$(sha256sum <"$2")
	expect_exit "$3" "$1: scan reads what it can" "$RP" scan "$2"
	expect_exit 3 "$1: fix --yes refuses" "$RP" fix "$2" --yes
	check "$1: one line naming the cause and the way out: $(head -c 240 "$T/err")" \
		sh -c "[ \$(wc -l <'$T/err') = 1 ] && grep -Eq '$4' '$T/err'"
	check "$1: image unchanged" test "$(sha256sum <"$2")" = "$_s0"
}

scenario_hives denied-local "$T/hives"
B=$T/base.img
check "build the base disk (denied-local, GPT)" sh -c ". tests/lib/mkdisk.sh && mkdisk '$B' gpt 96 && \
for f in SYSTEM SOFTWARE; do '$TOOLS/rp-testfs' '$B' put '$T/hives/'\$f Windows/System32/config/\$f || exit 1; done"

# --- BitLocker: the volume header carries -FVE-FS- at byte 3 ---
I=$T/bitlocker.img
cp --sparse=always "$B" "$I"
printf -- '-FVE-FS-' | dd of="$I" bs=1 seek=$((P2 * 512 + 3)) conv=notrunc status=none
refused "BitLocker" "$I" 3 'BitLocker.*unlock it first'

# --- hibernated / Fast Startup: hiberfil.sys starting with HIBR ---
I=$T/hibernated.img
cp --sparse=always "$B" "$I"
"$TOOLS/rp-testfs" "$I" hiberfil
refused "hibernated" "$I" 1 'hibernated or shut down with Fast Startup: boot it and shut down fully'

# --- unclean $LogFile: a consistent v1.1 restart area with a client in use and without
# RESTART_VOLUME_IS_CLEAN, as Windows leaves it after a power cut (mkntfs writes an empty log) ---
I=$T/unclean.img
cp --sparse=always "$B" "$I"
dd if="$I" of="$T/p2.img" bs=512 skip=$P2 count=159744 status=none
lcn=$(ntfsinfo -v -i 2 "$T/p2.img" 2>/dev/null | sed -n '/Runlist:/{n;p;q}' | awk '{print $2}')
csize=$(ntfsinfo -m "$T/p2.img" 2>/dev/null | sed -n 's/.*Cluster Size: *\([0-9]*\).*/\1/p')
rm -f "$T/p2.img"
check "\$LogFile found (LCN $lcn, clusters of $csize B)" test -n "$lcn" -a -n "$csize"
python3 - "$I" $((P2 * 512 + lcn * csize)) <<'EOF'
import struct, sys
img, off = sys.argv[1], int(sys.argv[2])
page = bytearray(4096)
usa_ofs, usa_count, ra_ofs, usn = 32, 9, 56, 1
# RESTART_PAGE_HEADER: RSTR, usa, chkdsk_lsn 0, page sizes 4096, restart area offset, 1.1
struct.pack_into('<4sHHqIIHhhH', page, 0, b'RSTR', usa_ofs, usa_count, 0, 4096, 4096, ra_ofs,
                 1, 1, 0)
log_size = 2 << 20
# RESTART_AREA: one client, in use (index 0), flags 0 = not RESTART_VOLUME_IS_CLEAN
struct.pack_into('<qHHHHIHHqIHHII', page, ra_ofs, 0x100000, 1, 0xFFFF, 0, 0,
                 67 - log_size.bit_length(), 48 + 160, 48, log_size, 0, 48, 64, 1, 0)
# LOG_CLIENT_RECORD "NTFS"
struct.pack_into('<qqHHH6sI8s', page, ra_ofs + 48, 0x100000, 0x100000, 0xFFFF, 0xFFFF, 0,
                 b'', 8, 'NTFS'.encode('utf-16-le'))
# update sequence array: the last two bytes of every sector hold usn, the originals go here
struct.pack_into('<H', page, usa_ofs, usn)
for i in range(1, usa_count):
    page[usa_ofs + 2 * i:usa_ofs + 2 * i + 2] = page[512 * i - 2:512 * i]
    struct.pack_into('<H', page, 512 * i - 2, usn)
with open(img, 'r+b') as f:
    for pos in (0, 4096):
        f.seek(off + pos)
        f.write(page)
EOF
refused "unclean \$LogFile" "$I" 1 'did not shut down cleanly.*shut it down cleanly'

# --- truncated image: partition 2 runs past the end ---
I=$T/truncated.img
cp --sparse=always "$B" "$I"
truncate -s 60M "$I"
refused "truncated image" "$I" 3 'image is truncated.*copy the whole disk again'

# --- truncated hive ---
I=$T/hive-truncated.img
cp --sparse=always "$B" "$I"
head -c 3000000 "$T/hives/SYSTEM" >"$T/SYSTEM.half"
"$TOOLS/rp-testfs" "$I" put "$T/SYSTEM.half" $SYS
refused "truncated hive" "$I" 3 'SYSTEM: the hive is truncated.*restore the hive'

# --- corrupt hive: the hive-bin chain broken ---
I=$T/hive-corrupt.img
cp --sparse=always "$B" "$I"
cp "$T/hives/SYSTEM" "$T/SYSTEM.bad"
head -c 16384 /dev/zero | dd of="$T/SYSTEM.bad" bs=4096 seek=2 conv=notrunc status=none
"$TOOLS/rp-testfs" "$I" put "$T/SYSTEM.bad" $SYS
refused "corrupt hive" "$I" 3 'SYSTEM: the hive is corrupt.*restore the hive'

# --- no room: a 64 MB disk whose Windows volume a big file fills up; refused before any write
# (a volume without the check would get the backup, then fail on the hive and roll back) ---
I=$T/full.img
check "build a small, nearly full volume" sh -c ". tests/lib/mkdisk.sh && mkdisk '$I' gpt 64 && \
for f in SYSTEM SOFTWARE; do '$TOOLS/rp-testfs' '$I' put '$T/hives/'\$f Windows/System32/config/\$f || exit 1; done && \
head -c 24000000 /dev/zero >'$T/filler' && '$TOOLS/rp-testfs' '$I' put '$T/filler' filler.bin"
rm -f "$T/filler"
refused "no room" "$I" 1 'KiB free but the new files and their backup need .* KiB: nothing was written; free up space'

# --- read-only image file: as root, permissions do not stop writes, so the fix runs as the
# unprivileged user nobody (setpriv, no capabilities); as another user, chmod is enough ---
D=$T/ro
mkdir -p "$D" && chmod 0755 "$T" "$D"
I=$D/readonly.img
cp --sparse=always "$B" "$I" && chmod 0444 "$I"
if [ "$(id -u)" = 0 ]; then
	AS="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all"
else
	AS=""
fi
s0=$(sha256sum <"$I")
expect_exit 1 "read-only image: scan reads it" $AS "$RP" scan "$I"
expect_exit 3 "read-only image: fix --yes refuses" $AS "$RP" fix "$I" --yes
check "read-only image: one line naming the cause and the way out: $(head -c 240 "$T/err")" \
	sh -c "[ \$(wc -l <'$T/err') = 1 ] && grep -Eq 'not writable by this user.*(run as root|writable copy)' '$T/err'"
check "read-only image: unchanged" test "$(sha256sum <"$I")" = "$s0"
finish
