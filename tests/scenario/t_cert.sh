#!/bin/sh
# Certificate scenarios (issue 4, cert.rdp): real certificates made by OpenSSL (rp-mkcert) as
# registry Blobs merged into SOFTWARE with hivexregedit, synthetic CAPI key files put into
# MachineKeys through our vol layer.  Each broken case: scan finds it, fix removes the bad
# certificate (and a dangling or dead pin), the key file stays, scan is healthy, undo restores
# both hives byte for byte.  The healthy case: fix changes nothing.  --now keeps it repeatable.
. tests/lib/assert.sh
. tests/lib/mkdisk.sh
. tests/lib/scenario.sh
. tests/lib/cert.sh
NOW=2024-06-01

# broken NAME 'SUMMARY-WORDS' GONE-KEY: the whole round trip on $T/NAME.img; GONE-KEY is the
# SOFTWARE key the fix must remove ("" when only the pin goes).  The fix is cert.rdp's alone, so
# that what it leaves alone (the key file: keys.* own MachineKeys) can be seen.
broken() {
	c_name=$1 c_words=$2 c_gone=$3 c_img=$T/$1.img
	c_s0=$(vol_sha "$c_img" $SYS) c_w0=$(vol_sha "$c_img" $SOFT)
	c_k0=$(vol_sha "$c_img" "$KEYFILE" 2>/dev/null)
	expect_exit 1 "$c_name: scan --json finds it" "$RP" scan "$c_img" --json --now $NOW
	cp "$T/out" "$T/$c_name.json"
	check "$c_name: cert.rdp problem says '$c_words'" $JQ "$T/$c_name.json" \
		"any('$c_words' in f['summary'] for f in F('cert.rdp','problem'))"
	expect_exit 0 "$c_name: fix --yes" "$RP" fix "$c_img" --yes --check cert.rdp --now $NOW
	if [ -n "$c_gone" ]; then
		check "$c_name: the certificate's key is gone (hivexget)" sh -c "'$TOOLS/rp-testfs' '$c_img' cat $SOFT >'$T/g.hive' && ! hivexget '$T/g.hive' '$c_gone' >/dev/null 2>&1"
	fi
	check "$c_name: the key file is not touched" test "$(vol_sha "$c_img" "$KEYFILE" 2>/dev/null)" = "$c_k0"
	expect_exit 0 "$c_name: scan --check cert.rdp healthy after fix" "$RP" scan "$c_img" --check cert.rdp --now $NOW
	expect_exit 0 "$c_name: undo --yes" "$RP" undo "$c_img" --yes
	check "$c_name: undo restores SOFTWARE and SYSTEM byte for byte" \
		test "$(vol_sha "$c_img" $SYS)$(vol_sha "$c_img" $SOFT)" = "$c_s0$c_w0"
	expect_exit 1 "$c_name: after undo the problem is back" "$RP" scan "$c_img" --check cert.rdp --now $NOW
}

# --- healthy: valid certificate, key file present ---
th=$(blob healthy 2024-05-01 2024-11-01)
store_reg 'Remote Desktop' "$th" "$T/healthy.blob" >"$T/software-healthy.reg"
check "healthy: build disk" cert_disk healthy healthy 1 "$T/software-healthy.reg"
expect_exit 0 "healthy: scan exit 0" "$RP" scan "$T/healthy.img" --json --now $NOW
check "healthy: cert.rdp ok with subject, validity and thumbprint" $JQ "$T/out" \
	"any(e.get('note','').startswith('subject CN=healthy') and 'notAfter 2024-11-01T00:00:00Z' in e['note'] and '$th' in e['note'] for f in F('cert.rdp','ok') for e in f['evidence'])"
check "healthy: key file evidence (source file)" $JQ "$T/out" \
	"any(e['source']=='file' and e['path']=='$KEYFILE' and 'present' in e['note'] for f in F('cert.rdp','ok') for e in f['evidence'])"
hw=$(sha256sum <"$T/healthy.img")
expect_exit 0 "healthy: fix writes nothing" "$RP" fix "$T/healthy.img" --yes --now $NOW
check "healthy: image unchanged by fix" test "$(sha256sum <"$T/healthy.img")" = "$hw"
expect_exit 1 "healthy certificate judged a year later: expired" "$RP" scan "$T/healthy.img" --check cert.rdp --now 2025-06-01T12:00:00Z
expect_exit 2 "--now refuses a malformed time" "$RP" scan "$T/healthy.img" --now 2024-13-45
rm -f "$T/healthy.img"

# --- expired (the self-signed certificate's usual 6 months are over) ---
te=$(blob expired 2023-11-22 2024-05-23)
store_reg 'Remote Desktop' "$te" "$T/expired.blob" >"$T/software-expired.reg"
check "expired: build disk" cert_disk expired healthy 1 "$T/software-expired.reg"
broken expired "expired on 2024-05-23" "$RD\\$te"
check "expired: evidence names hive, key and value" $JQ "$T/expired.json" \
	"any(e.get('hive')=='SOFTWARE' and e['key']==r'$RD\\$te' and e['value']=='Blob' for f in F('cert.rdp','problem') for e in f['evidence'])"
check "expired: fix plans a reg-delete-key, explain names SecurityLayer and rdp.services" $JQ "$T/expired.json" \
	"any(c['kind']=='reg-delete-key' for f in F('cert.rdp','problem') for c in f['changes']) and all('SecurityLayer 2' in f['explain'] and 'rdp.services' in f['explain'] and 'keys.' in f['explain'] for f in F('cert.rdp','problem'))"
rm -f "$T/expired.img"

# --- not yet valid ---
tn=$(blob notyet 2024-07-01 2025-01-01)
store_reg 'Remote Desktop' "$tn" "$T/notyet.blob" >"$T/software-notyet.reg"
check "not yet valid: build disk" cert_disk notyet healthy 1 "$T/software-notyet.reg"
broken notyet "not valid before 2024-07-01" "$RD\\$tn"
rm -f "$T/notyet.img"

# --- thumbprint mismatch: the key name is not the certificate's SHA-1 ---
tm=$(blob mismatch 2024-05-01 2024-11-01)
case $tm in 0*) wrong=1${tm#?} ;; *) wrong=0${tm#?} ;; esac
store_reg 'Remote Desktop' "$wrong" "$T/mismatch.blob" >"$T/software-mismatch.reg"
check "thumbprint mismatch: build disk" cert_disk mismatch healthy 1 "$T/software-mismatch.reg"
broken mismatch "key name is not its SHA-1 thumbprint $tm" "$RD\\$wrong"
rm -f "$T/mismatch.img"

# --- key container file missing (an orphaned certificate: Windows will not replace it) ---
tk=$(blob nokey 2024-05-01 2024-11-01)
store_reg 'Remote Desktop' "$tk" "$T/nokey.blob" >"$T/software-nokey.reg"
check "missing key file: build disk" cert_disk nokey healthy 0 "$T/software-nokey.reg"
broken nokey "key container file (TSSecKeySet1) is missing" "$RD\\$tk"
check "missing key file: file evidence says missing" $JQ "$T/nokey.json" \
	"any(e['source']=='file' and e['path']=='$KEYFILE' and 'missing' in e['note'] for f in F('cert.rdp','problem') for e in f['evidence'])"
rm -f "$T/nokey.img"

# --- key container file zero-filled (broken: keys.contents quarantines it, cert.rdp leaves it) ---
check "zeroed key file: build disk" cert_disk zerokey healthy 0 "$T/software-nokey.reg"
head -c 1024 /dev/zero >"$T/zero.key"
"$TOOLS/rp-testfs" "$T/zerokey.img" put "$T/zero.key" "$KEYFILE"
"$TOOLS/rp-testfs" "$T/zerokey.img" setsddl "${KEYFILE%/*}" "$FOLDER_SDDL"
broken zerokey "key container file (TSSecKeySet1) is broken" "$RD\\$tk"
check "zeroed key file: evidence says why" $JQ "$T/zerokey.json" \
	"any(e['source']=='file' and 'zero' in e['note'] for f in F('cert.rdp','problem') for e in f['evidence'])"
expect_exit 0 "zeroed key file: a full fix repairs everything in one run" "$RP" fix "$T/zerokey.img" --yes --now $NOW
check "zeroed key file: the key file was quarantined by keys.contents" \
	sh -c "! '$TOOLS/rp-testfs' '$T/zerokey.img' cat '$KEYFILE' >/dev/null 2>&1"
expect_exit 0 "zeroed key file: full scan healthy" "$RP" scan "$T/zerokey.img" --now $NOW
rm -f "$T/zerokey.img"

# --- unparsable Blob ---
printf '\040\000\000\000\001\000\000\000\377\000\000\000garbage' >"$T/garbage.blob"
store_reg 'Remote Desktop' "$tk" "$T/garbage.blob" >"$T/software-garbage.reg"
check "unparsable blob: build disk" cert_disk garbage healthy 1 "$T/software-garbage.reg"
broken garbage "Blob cannot be parsed" "$RD\\$tk"
rm -f "$T/garbage.img"

# --- SSLCertificateSHA1Hash pins a certificate that is in no store; the healthy one stays ---
tp=$(blob pinned-nowhere 2024-05-01 2024-11-01)
pin_reg "$tp" >"$T/system-pin-missing.reg"
check "dangling pin: build disk" cert_disk pinmissing healthy 1 "$T/software-healthy.reg" "$T/system-pin-missing.reg"
broken pinmissing "pins certificate $tp, which is in no certificate store" ""
"$RP" fix "$T/pinmissing.img" --yes --now $NOW >/dev/null 2>&1
check "dangling pin: the value is gone after fix" sh -c "! { '$TOOLS/rp-testfs' '$T/pinmissing.img' cat $SYS >'$T/p.hive' && hivexget '$T/p.hive' '$RDP_TCP' SSLCertificateSHA1Hash; }"
check "dangling pin: the healthy certificate stays" sh -c "'$TOOLS/rp-testfs' '$T/pinmissing.img' cat $SOFT >'$T/p.hive' && hivexget '$T/p.hive' '$RD\\$th' Blob >/dev/null"
rm -f "$T/pinmissing.img"

# --- the pinned certificate of the Remote Desktop store is expired: certificate and pin go ---
pin_reg "$te" >"$T/system-pin-expired.reg"
check "pinned expired: build disk" cert_disk pinexpired healthy 1 "$T/software-expired.reg" "$T/system-pin-expired.reg"
broken pinexpired "expired on 2024-05-23" "$RD\\$te"
"$RP" fix "$T/pinexpired.img" --yes --now $NOW --json >"$T/pe.json" 2>/dev/null
check "pinned expired: one finding removes the certificate and the pin" $JQ "$T/pe.json" \
	"any(sorted(c['kind'] for c in f['changes'])==['reg-delete-key','reg-delete-value'] for f in F('cert.rdp','fixed'))"
check "pinned expired: the pin is gone" sh -c "! { '$TOOLS/rp-testfs' '$T/pinexpired.img' cat $SYS >'$T/p.hive' && hivexget '$T/p.hive' '$RDP_TCP' SSLCertificateSHA1Hash; }"
rm -f "$T/pinexpired.img"

# --- the pinned certificate is an expired one of LocalMachine\My: only the pin goes ---
store_reg MY "$te" "$T/expired.blob" >"$T/software-my-expired.reg"
check "pinned expired in My: build disk" cert_disk pinmy healthy 1 "$T/software-healthy.reg" "$T/software-my-expired.reg" "$T/system-pin-expired.reg"
broken pinmy "in LocalMachine\\\\My: expired on 2024-05-23" ""
"$RP" fix "$T/pinmy.img" --yes --now $NOW >/dev/null 2>&1
check "pinned expired in My: the pin is gone" sh -c "! { '$TOOLS/rp-testfs' '$T/pinmy.img' cat $SYS >'$T/p.hive' && hivexget '$T/p.hive' '$RDP_TCP' SSLCertificateSHA1Hash; }"
check "pinned expired in My: the certificate in My stays" sh -c "'$TOOLS/rp-testfs' '$T/pinmy.img' cat $SOFT >'$T/p.hive' && hivexget '$T/p.hive' '$MY\\$te' Blob >/dev/null"
expect_exit 0 "pinned expired in My: full scan healthy after fix" "$RP" scan "$T/pinmy.img" --now $NOW
rm -f "$T/pinmy.img"

# --- no store at all: Windows makes one ---
check "no store: build disk" cert_disk nostore healthy 1
expect_exit 0 "no store: scan exit 0" "$RP" scan "$T/nostore.img" --check cert.rdp --now $NOW --json
check "no store: cert.rdp ok says Windows creates it" $JQ "$T/out" "any('Windows creates it' in f['summary'] for f in F('cert.rdp','ok'))"
finish
