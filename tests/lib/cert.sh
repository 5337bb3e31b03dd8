# cert.sh — Remote Desktop certificates for the scenario tests: real certificates made by
# OpenSSL (tests/tools/rp-mkcert) as registry Blobs for hivexregedit, and the synthetic CAPI key
# container file they are linked to.  Source it after assert.sh, mkdisk.sh and scenario.sh.
#
#   blob NAME NOT-BEFORE NOT-AFTER   a certificate for CN=NAME linked to TSSecKeySet1 in
#                                    $T/NAME.blob; prints its thumbprint
#   store_reg STORE KEYNAME BLOB     .reg text: one certificate entry (with every parent key)
#   pin_reg THUMBPRINT               .reg text: RDP-Tcp SSLCertificateSHA1Hash pinning it
#   put_keyfile IMG                  the TSSecKeySet1 key file in MachineKeys, with the SDDLs a
#                                    real Windows gives the file and the folder
#   cert_disk NAME SCENARIO KEY(0|1) REGFILE...
#                                    $T/NAME.img: a GPT disk from hive/scenarios/SCENARIO, each
#                                    system*.reg / other .reg merged into SYSTEM / SOFTWARE, and
#                                    the key file when KEY is 1
MKCERT=$TOOLS/rp-mkcert
GUID=3f2a8c1e-6b7d-4e59-9a10-2c4b6d8e0f12 # hive/software-base.reg
CERTS='Microsoft\SystemCertificates'
RD="$CERTS\\Remote Desktop\\Certificates"
MY="$CERTS\\MY\\Certificates"
RDP_TCP='ControlSet001\Control\Terminal Server\WinStations\RDP-Tcp'
FOLDER_SDDL='O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)'
KEY_SDDL='O:SYG:SYD:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FR;;;NS)'
KEYFILE=ProgramData/Microsoft/Crypto/RSA/MachineKeys/$("$MKCERT" keyname TSSecKeySet1 $GUID)
"$MKCERT" container TSSecKeySet1 "$T/keyfile" || exit 1

blob() { "$MKCERT" blob --cn "$1" --not-before "$2" --not-after "$3" --container TSSecKeySet1 "$T/$1.blob"; }

# reg_hex FILE: the bytes of FILE as .reg hex data (01,02,...).
reg_hex() { od -An -v -tx1 "$1" | tr -s ' \n' '  ' | sed 's/^ *//; s/ *$//; s/ /,/g'; }

# hivexregedit creates no missing parents, so every parent key is written.
store_reg() {
	printf 'Windows Registry Editor Version 5.00\n\n'
	printf '[HKEY_LOCAL_MACHINE\\SOFTWARE\\%s]\n\n' "$CERTS" "$CERTS\\$1" "$CERTS\\$1\\Certificates"
	printf '[HKEY_LOCAL_MACHINE\\SOFTWARE\\%s]\n"Blob"=hex:%s\n\n' "$CERTS\\$1\\Certificates\\$2" "$(reg_hex "$3")"
}

pin_reg() {
	printf 'Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\%s]\n' "$RDP_TCP"
	printf '"SSLCertificateSHA1Hash"=hex:%s\n\n' "$(echo "$1" | sed 's/../&,/g; s/,$//')"
}

put_keyfile() {
	"$TOOLS/rp-testfs" "$1" put "$T/keyfile" "$KEYFILE" &&
		"$TOOLS/rp-testfs" "$1" setsddl "$KEYFILE" "$KEY_SDDL" &&
		"$TOOLS/rp-testfs" "$1" setsddl "${KEYFILE%/*}" "$FOLDER_SDDL"
}

cert_disk() {
	c_name=$1 c_scenario=$2 c_key=$3
	shift 3
	scenario_hives "$c_scenario" "$T/h-$c_name" || return 1
	for c_reg in "$@"; do
		case $(basename "$c_reg") in
		system*) hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' "$T/h-$c_name/SYSTEM" "$c_reg" ;;
		*) hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SOFTWARE' "$T/h-$c_name/SOFTWARE" "$c_reg" ;;
		esac || return 1
	done
	mkdisk "$T/$c_name.img" gpt 96 && put_windows "$T/$c_name.img" "$T/h-$c_name" || return 1
	[ "$c_key" = 0 ] || put_keyfile "$T/$c_name.img"
}
