# scenario.sh — builds the broken Windows disks the scenario tests and `make demo` use.  Source
# it after assert.sh (needs $T, $TOOLS, $SHARED) and mkdisk.sh.
#
#   scenario_hives NAME DIR   DIR/SYSTEM, DIR/SOFTWARE for hive/scenarios/NAME; with
#                             SCENARIO_SAM=1 also DIR/SAM and DIR/SECURITY (the real Windows 7
#                             ones, sam.reg / security.reg merged when the scenario has them)
#   scenario_disk NAME SCHEME IMG   a disk image (gpt|mbr|bare|vhd) with those hives on the
#                                   Windows partition (partition 2; partition 1 holds no Windows)
# The SYSTEM is the real Windows 7 SP1 hive from ../shared/hives/real; SOFTWARE starts from
# ../shared's EmptyHive.  .reg files are merged with hivexregedit (libwin-hivex-perl), a reader
# and writer independent of rdprescue.

HIVE_DIR=${HIVE_DIR:-$PWD/hive}
# Volume paths and the independent readers every suite uses.
SYS=Windows/System32/config/SYSTEM
SOFT=Windows/System32/config/SOFTWARE
LPOL=Windows/System32/GroupPolicy/Machine/Registry.pol
JQ="python3 tests/lib/jq.py"
POL="python3 tests/lib/pol.py"

# _base_hives DIR: the healthy SYSTEM and SOFTWARE every scenario starts from.
_base_hives() {
	mkdir -p "$1" || return 1
	xz -dkc "$SHARED/hives/real/win7-sp1-x86-SYSTEM.xz" >"$1/SYSTEM" || return 1
	hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' "$1/SYSTEM" \
		"$HIVE_DIR/healthy-rdp.reg" || return 1
	cp "$SHARED/hives/windows-made/EmptyHive" "$1/SOFTWARE" && chmod u+w "$1/SOFTWARE"
	hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SOFTWARE' "$1/SOFTWARE" \
		"$HIVE_DIR/software-base.reg"
}

# base_hives DIR: DIR gets the healthy base SYSTEM and SOFTWARE (built once per run).
base_hives() { rp_cached hives-base "$1" _base_hives; }

# _scenario_hives NAME DIR: the base hives with the scenario's .reg files merged.
_scenario_hives() {
	rp_cached hives-base "$2" _base_hives || return 1
	if [ -f "$HIVE_DIR/scenarios/$1/system.reg" ]; then
		hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' "$2/SYSTEM" \
			"$HIVE_DIR/scenarios/$1/system.reg" || return 1
	fi
	if [ -f "$HIVE_DIR/scenarios/$1/software.reg" ]; then
		hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SOFTWARE' "$2/SOFTWARE" \
			"$HIVE_DIR/scenarios/$1/software.reg" || return 1
	fi
	[ "${SCENARIO_SAM:-0}" = 1 ] || return 0
	for _h in SAM SECURITY; do
		xz -dkc "$SHARED/hives/real/$_h.xz" >"$2/$_h" || return 1
		_r=$HIVE_DIR/scenarios/$1/$(echo $_h | tr A-Z a-z).reg
		if [ -f "$_r" ]; then
			hivexregedit --merge --prefix "HKEY_LOCAL_MACHINE\\$_h" "$2/$_h" "$_r" || return 1
		fi
	done
}

# Built once per name and SCENARIO_SAM ($RP_CACHE, see mkdisk.sh); DIR gets its own copy.
scenario_hives() {
	mkdir -p "$2" && rp_cached "hives-$1-sam${SCENARIO_SAM:-0}" "$T/.hives-$1.$$" _scenario_hives "$1" &&
		cp "$T/.hives-$1.$$"/* "$2/" && rm -rf "$T/.hives-$1.$$"
}

# put_windows IMG DIR: copies DIR/SYSTEM, DIR/SOFTWARE (and any DIR/*.LOG*) onto the image's
# Windows partition through rdprescue's own volume layer.
put_windows() {
	for f in "$2"/*; do
		"$TOOLS/rp-testfs" "$1" put "$f" "Windows/System32/config/$(basename "$f")" || return 1
	done
}

scenario_disk() {
	_name=$1 _scheme=$2 _img=$3
	scenario_hives "$_name" "$T/hives-$_name" || return 1
	case $_scheme in
	bare) mkdisk_bare "$_img" 64 ;;
	vhd) mkdisk "$_img.raw" gpt 96 ;;
	*) mkdisk "$_img" "$_scheme" 96 ;;
	esac || return 1
	if [ "$_scheme" = vhd ]; then
		put_windows "$_img.raw" "$T/hives-$_name" || return 1
		qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on "$_img.raw" "$_img" &&
			rm -f "$_img.raw"
	else
		put_windows "$_img" "$T/hives-$_name"
	fi
}

# vol_sha IMG PATH: SHA-256 of a file on the image's Windows volume.
vol_sha() {
	"$TOOLS/rp-testfs" "$1" cat "$2" | sha256sum | cut -d' ' -f1
}

# ntfs_check IMG PARTNO: extracts the partition and runs ntfsfix -n on it (an independent check
# that the volume is consistent).
ntfs_check() {
	_start=$(sfdisk -J "$1" | python3 -c "import json,sys; p=json.load(sys.stdin)['partitiontable']['partitions'][$2-1]; print(p['start'], p['size'])")
	set -- "$1" $_start
	dd if="$1" of="$T/part.img" bs=512 skip="$2" count="$3" status=none &&
		ntfsfix -n "$T/part.img" >"$T/ntfsfix.out" 2>&1
	_rc=$?
	rm -f "$T/part.img"
	return $_rc
}

# dirty_system OLD DIRTY: OLD gets the healthy hives; DIRTY a SYSTEM whose .LOG1 and .LOG2 hold
# what the primary does not (300 keys under Services\RpLogOnly and the denied-local scenario's
# values: RDP denied), made by rp-mklogs, and the same SOFTWARE.
dirty_system() {
	scenario_hives healthy "$1" || return 1
	cp "$1/SYSTEM" "$T/new.SYSTEM" || return 1
	{
		printf 'Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\RpLogOnly]\n"Marker"="only in the logs"\n'
		i=0
		while [ $i -lt 300 ]; do
			printf '\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\RpLogOnly\\K%03d]\n"N"=dword:%08x\n' $i $i
			i=$((i + 1))
		done
	} >"$T/logonly.reg"
	hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' "$T/new.SYSTEM" "$T/logonly.reg" &&
		hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' "$T/new.SYSTEM" \
			hive/scenarios/denied-local/system.reg &&
		mkdir -p "$2" && "$TOOLS/rp-mklogs" "$1/SYSTEM" "$T/new.SYSTEM" "$2" SYSTEM --split &&
		cp "$1/SOFTWARE" "$2/SOFTWARE"
}
