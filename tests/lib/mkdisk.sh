# mkdisk.sh — builds NTFS test disk images without root (source it: . tests/lib/mkdisk.sh).
#
#   mkdisk IMG SCHEME SIZE_MB   SCHEME gpt or mbr; two NTFS partitions: 1 = 16 MiB "DATA" (no
#                               Windows), 2 = the rest "Windows" (so Windows is not the first one)
#   mkdisk_bare IMG SIZE_MB     one NTFS file system filling the whole image, label "Windows"
#
# mkntfs always writes at offset 0 of its target, so each partition is formatted as a separate
# partition-sized file and copied into place with dd.  Prints nothing on success; on failure a
# one-line message on stderr and status 1.

# _mkdisk_fs FILE SECTORS LABEL: a fresh NTFS file system in FILE.
_mkdisk_fs()
{
	rm -f "$1" && truncate -s $(($2 * 512)) "$1" &&
		mkntfs -q -F -Q -T -s 512 -H 255 -S 63 -L "$3" "$1" >/dev/null 2>&1 ||
		{ echo "mkdisk: mkntfs failed on $1" >&2; return 1; }
}

mkdisk()
{
	_md_img=$1 _md_scheme=$2 _md_mb=$3
	if [ "$_md_mb" -lt 40 ]; then
		echo "mkdisk: $_md_mb MB is too small (at least 40)" >&2
		return 1
	fi
	# Partition 2 ends on a MiB boundary before the backup GPT: a volume whose sector count is
	# not a multiple of the cluster size gets an alternate boot sector ntfsfix calls BAD.
	_md_size2=$((((_md_mb * 2048 - 34816 - 34) / 2048) * 2048))
	case $_md_scheme in
	gpt) _md_table="label: gpt
start=2048, size=32768, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name=DATA
size=$_md_size2, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name=Windows" ;;
	mbr) _md_table="label: dos
start=2048, size=32768, type=7
size=$_md_size2, type=7, bootable" ;;
	*) echo "mkdisk: scheme must be gpt or mbr, not $_md_scheme" >&2; return 1 ;;
	esac
	rm -f "$_md_img" && truncate -s "${_md_mb}M" "$_md_img" || return 1
	printf '%s\n' "$_md_table" | sfdisk -q "$_md_img" >/dev/null 2>&1 ||
		{ echo "mkdisk: sfdisk failed on $_md_img" >&2; return 1; }
	_md_n=0
	# "IMG2 : start=  34816, size=  96223, type=..." -> "34816 96223"
	for _md_part in $(sfdisk -d "$_md_img" 2>/dev/null |
		sed -n 's/.*start= *\([0-9]*\), size= *\([0-9]*\),.*/\1:\2/p'); do
		_md_n=$((_md_n + 1))
		_md_start=${_md_part%%:*} _md_size=${_md_part##*:}
		if [ $_md_n = 1 ]; then _md_label=DATA; else _md_label=Windows; fi
		_mkdisk_fs "$_md_img.part" "$_md_size" "$_md_label" || return 1
		dd if="$_md_img.part" of="$_md_img" bs=512 seek="$_md_start" conv=notrunc \
			status=none || { echo "mkdisk: dd into $_md_img failed" >&2; return 1; }
		rm -f "$_md_img.part"
	done
	if [ $_md_n != 2 ]; then
		echo "mkdisk: expected 2 partitions in $_md_img, found $_md_n" >&2
		return 1
	fi
}

mkdisk_bare()
{
	_mkdisk_fs "$1" $(($2 * 2048)) Windows
}
