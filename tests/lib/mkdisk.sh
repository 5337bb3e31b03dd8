# mkdisk.sh — builds NTFS test disk images without root (source it: . tests/lib/mkdisk.sh).
#
#   mkdisk IMG SCHEME SIZE_MB   SCHEME gpt or mbr; two NTFS partitions: 1 = 16 MiB "DATA" (no
#                               Windows), 2 = the rest "Windows" (so Windows is not the first one)
#   mkdisk_bare IMG SIZE_MB     one NTFS file system filling the whole image, label "Windows"
#
# mkntfs always writes at offset 0 of its target, so each partition is formatted as a separate
# partition-sized file and copied into place with dd.  Prints nothing on success; on failure a
# one-line message on stderr and status 1.
#
# A disk of one scheme and size is built once and copied after that (cp --sparse=always) from
# $RP_CACHE: tests/run.sh gives all suites one cache; a suite run alone keeps its own in
# $T/cache.

# rp_cached KEY DEST BUILDER ARGS...: DEST is a copy of $RP_CACHE/KEY, which "BUILDER ARGS...
# FILE" makes once (into a file of its own, renamed into place: parallel suites share it).
# BUILDER may call rp_cached itself (its variables are local: dash and bash have local).
rp_cached()
{
	local _rc_key _rc_dest _rc_tmp _rc_dir
	_rc_key=$1 _rc_dest=$2 _rc_dir=${RP_CACHE:-${T:+$T/cache}}
	shift 2
	if [ -z "$_rc_dir" ]; then # neither a run's cache nor a scratch directory: no cache
		"$@" "$_rc_dest"
		return
	fi
	mkdir -p "$_rc_dir" || return 1
	if [ ! -e "$_rc_dir/$_rc_key" ]; then
		_rc_tmp=$(mktemp -u "$_rc_dir/$_rc_key.XXXXXX")
		"$@" "$_rc_tmp" || { rm -rf "$_rc_tmp"; return 1; }
		mv -T "$_rc_tmp" "$_rc_dir/$_rc_key" 2>/dev/null || rm -rf "$_rc_tmp"
	fi
	cp -R --sparse=always "$_rc_dir/$_rc_key" "$_rc_dest"
}

# _mkdisk_fs FILE SECTORS LABEL: a fresh NTFS file system in FILE.
_mkdisk_fs()
{
	rm -f "$1" && truncate -s $(($2 * 512)) "$1" &&
		mkntfs -q -F -Q -T -s 512 -H 255 -S 63 -L "$3" "$1" >/dev/null 2>&1 ||
		{ echo "mkdisk: mkntfs failed on $1" >&2; return 1; }
}

mkdisk()
{
	rm -rf "$1" && rp_cached "mkdisk-$2-$3.img" "$1" _mkdisk_build "$2" "$3"
}

# _mkdisk_build SCHEME SIZE_MB IMG
_mkdisk_build()
{
	_md_scheme=$1 _md_mb=$2 _md_img=$3
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
	rm -rf "$1" && rp_cached "mkdisk-bare-$2.img" "$1" _mkdisk_bare_build "$2"
}

_mkdisk_bare_build()
{
	_mkdisk_fs "$2" $(($1 * 2048)) Windows
}
