/*
 * test_sd.c — security descriptors: SDDL <-> binary round trips (the strings ntfs-3g.md
 * verified with libntfs-3g), the MachineKeys descriptor against hand-written bytes, every
 * bounds rule of the binary parser, SDDL syntax errors, rights spelling, SID helpers, and
 * every security descriptor ("sk" cell) of the real sample hives, and libntfs-3g accepting
 * and returning the built bytes unchanged on an image made by mkntfs.
 */
#include "util/file.h"
#include "sd/sd.h"
#include "util/text.h"

#include "test.h"

#include <ntfs-3g/types.h>
#include <ntfs-3g/volume.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/security.h>

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* SDDL -> rp_sd -> bytes -> rp_sd -> SDDL; the final text must be want (or the input). */
static int sddl_round_trip(const char *in, const char *want)
{
	rp_err err = {0};
	rp_sd a, b;
	uint8_t *bin, *bin2;
	size_t len, len2;
	int ok = 0;
	if (rp_sd_from_sddl(in, &a, &err) < 0) {
		printf("# %s: %s\n", in, err.msg);
		return 0;
	}
	if (rp_sd_build(&a, &bin, &len, &err) == 0) {
		if (rp_sd_parse(bin, len, &b, &err) == 0) {
			char *out = rp_sd_to_sddl(&b);
			/* build(parse(bytes)) must give the same bytes back */
			if (out && rp_sd_build(&b, &bin2, &len2, &err) == 0) {
				ok = strcmp(out, want ? want : in) == 0 && rp_sd_equal(&a, &b) &&
				     len2 == len && memcmp(bin, bin2, len) == 0;
				free(bin2);
			}
			if (!ok)
				printf("# got %s\n", out ? out : "(null)");
			free(out);
			rp_sd_free(&b);
		}
		free(bin);
	}
	if (err.msg[0])
		printf("# %s: %s\n", in, err.msg);
	rp_sd_free(&a);
	return ok;
}

static int sddl_error(const char *in, const char *want_in_msg)
{
	rp_err err = {0};
	rp_sd sd;
	if (rp_sd_from_sddl(in, &sd, &err) == 0) {
		rp_sd_free(&sd);
		return 0;
	}
	if (!strstr(err.msg, want_in_msg)) {
		printf("# message: %s\n", err.msg);
		return 0;
	}
	return 1;
}

/* SDDL printed for one ACE mask: "D:(A;;<rights>;;;WD)". */
static int rights_spelling(uint8_t type, uint32_t mask, const char *want)
{
	rp_sd sd;
	rp_ace ace;
	memset(&sd, 0, sizeof(sd));
	memset(&ace, 0, sizeof(ace));
	ace.type = type;
	ace.mask = mask;
	rp_sid_parse_text("WD", &ace.sid);
	sd.has_dacl = 1;
	sd.dacl.aces = &ace;
	sd.dacl.count = 1;
	char *out = rp_sd_to_sddl(&sd);
	char expect[128];
	snprintf(expect, sizeof(expect), "D:(%s;;%s;;;WD)", type == 0x11 ? "ML" : "A", want);
	int ok = out && strcmp(out, expect) == 0;
	if (!ok)
		printf("# got %s\n", out ? out : "(null)");
	/* and back: the parsed mask is the same */
	rp_sd back;
	rp_err err = {0};
	if (ok && (rp_sd_from_sddl(out, &back, &err) < 0 || back.dacl.aces[0].mask != mask))
		ok = 0;
	else if (ok)
		rp_sd_free(&back);
	free(out);
	return ok;
}

static int parse_fails(const uint8_t *buf, size_t len, const char *want_in_msg)
{
	rp_err err = {0};
	rp_sd sd;
	if (rp_sd_parse(buf, len, &sd, &err) == 0) {
		rp_sd_free(&sd);
		return 0;
	}
	if (!strstr(err.msg, want_in_msg)) {
		printf("# message: %s\n", err.msg);
		return 0;
	}
	return 1;
}

/* O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA), written out by hand from MS-DTYP 2.4.6. */
static const uint8_t machinekeys_sd[] = {
    0x01, 0x00, 0x04, 0x94,			    /* rev 1, SELF_RELATIVE|P|AI|DACL */
    0x14, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, /* owner 20, group 32 */
    0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, /* no SACL, DACL 44 */
    0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x12, 0x00, 0x00, 0x00, /* S-1-5-18 */
    0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x12, 0x00, 0x00, 0x00, /* S-1-5-18 */
    0x02, 0x00, 0x34, 0x00, 0x02, 0x00, 0x00, 0x00, /* ACL rev 2, 52 bytes, 2 ACEs */
    0x00, 0x00, 0x14, 0x00, 0x9f, 0x01, 0x12, 0x00, /* allow 0x12019f */
    0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* S-1-1-0 */
    0x00, 0x00, 0x18, 0x00, 0xff, 0x01, 0x1f, 0x00,			    /* allow FA */
    0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x20, 0x00, 0x00, 0x00,
    0x20, 0x02, 0x00, 0x00, /* S-1-5-32-544 */
};

static void test_machinekeys_bytes(void)
{
	rp_err err = {0};
	rp_sd sd, parsed;
	uint8_t *bin = NULL;
	size_t len = 0;
	int built =
	    rp_sd_from_sddl("O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)", &sd, &err) == 0 &&
	    rp_sd_build(&sd, &bin, &len, &err) == 0;
	CHECK(built && len == sizeof(machinekeys_sd) && memcmp(bin, machinekeys_sd, len) == 0,
	      "MachineKeys SDDL builds to the hand-written 96 bytes");
	CHECK(rp_sd_parse(machinekeys_sd, sizeof(machinekeys_sd), &parsed, &err) == 0 &&
		  rp_sd_equal(&sd, &parsed),
	      "hand-written MachineKeys bytes parse equal to the SDDL");
	char *text = rp_sd_to_sddl(&parsed);
	CHECK(text && strcmp(text, "O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)") == 0,
	      "hand-written MachineKeys bytes print as Windows' SDDL");
	free(text);
	/* a change of one ACE makes the descriptors differ */
	parsed.dacl.aces[1].mask = 0x120089;
	CHECK(!rp_sd_equal(&sd, &parsed), "rp_sd_equal sees a changed access mask");
	rp_sd_free(&parsed);
	rp_sd_free(&sd);
	free(bin);
}

static void test_round_trips(void)
{
	CHECK(sddl_round_trip("O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)", NULL),
	      "round trip: MachineKeys folder default");
	CHECK(sddl_round_trip("O:SYG:SYD:P(A;;FA;;;SY)(A;;FA;;;BA)", NULL),
	      "round trip: key file repair target");
	CHECK(sddl_round_trip("O:BAG:SYD:PAI(A;OICIID;FA;;;SY)(A;;0x1200a9;;;S-1-5-21-1-2-3-1001)"
			      "(A;CIIO;GA;;;CO)",
			      NULL),
	      "round trip: inherited flags, domain SID, CREATOR OWNER");
	CHECK(sddl_round_trip("O:S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
			      "G:SYD:PAI(A;;FA;;;S-1-5-80-956008885-3418522649-1831038044-"
			      "1853292631-2271478464)(A;;0x1200a9;;;BU)",
			      NULL),
	      "round trip: service-SID owner (TrustedInstaller)");
	CHECK(sddl_round_trip("O:SYG:SYD:NO_ACCESS_CONTROL", NULL), "round trip: NULL DACL");
	CHECK(sddl_round_trip("O:SYG:SYD:", NULL), "round trip: empty DACL (deny all)");
	CHECK(sddl_round_trip("O:SYG:SY", NULL), "round trip: no DACL at all");
	CHECK(sddl_round_trip("O:BAG:SYD:(A;;FA;;;SY)S:AI(AU;SAFA;FA;;;WD)(ML;;NWNR;;;HI)", NULL),
	      "round trip: SACL with audit and mandatory label");
	CHECK(sddl_round_trip("O:SYG:SYS:PAR(ML;OICI;NW;;;LW)", NULL),
	      "round trip: SACL flags P AR");
	CHECK(sddl_round_trip("O:SYG:SYD:PARAI(D;NP;FW;;;AN)(A;OICIIO;GR;;;AU)", NULL),
	      "round trip: deny ACE, NP, all DACL flags");
	CHECK(sddl_round_trip("O:SYG:SYD:(OA;CI;CCDC;bf967aba-0de6-11d0-a285-00aa003049e2;;AU)"
			      "(OD;;CR;00299570-246d-11d0-a768-00aa006e0529;"
			      "4828cc14-1437-45bc-9b07-ad6f015e5f28;WD)(OA;;RP;;"
			      "4828cc14-1437-45bc-9b07-ad6f015e5f28;RU)",
			      NULL),
	      "round trip: object ACEs with one, two and only an inherited GUID");
	CHECK(
	    sddl_round_trip("O:SYG:SYD:(A;;CCLCSWRPWPDTLOCRRC;;;SY)(A;;KA;;;BA)(A;;KR;;;BU)", NULL),
	    "round trip: service-style rights and key rights");
	CHECK(sddl_round_trip("O:SYG:SYD:(A;;;;;WD)", NULL), "round trip: empty access mask");
	CHECK(sddl_round_trip("O:S-1-0x010203040506-7G:S-1-5-32-999D:(A;;FA;;;S-1-5)", NULL),
	      "round trip: 48-bit authority, unknown builtin RID, SID without sub-authorities");
	CHECK(sddl_round_trip(" O:SY G:SY D:P (A;;FA;;;SY) (A;;FA;;;BA) ",
			      "O:SYG:SYD:P(A;;FA;;;SY)(A;;FA;;;BA)"),
	      "blanks between parts and ACEs are accepted and not printed");
	CHECK(sddl_round_trip("D:(A;;FA;;;S-1-5-18)G:S-1-5-32-544O:S-1-5-20",
			      "O:NSG:BAD:(A;;FA;;;SY)"),
	      "numeric SIDs print as aliases, parts print in O G D S order");
	CHECK(sddl_round_trip("O:SYG:SYD:(A;;0x1f01ff;;;SY)(A;;1179785;;;BU)(A;;KX;;;LS)",
			      "O:SYG:SYD:(A;;FA;;;SY)(A;;FR;;;BU)(A;;KR;;;LS)"),
	      "hex and decimal masks print as composites; KX prints as KR (same mask)");
	CHECK(sddl_round_trip("O:SYG:SYD:(A;;RCSDWDWOGAGXGWGRCC;;;SY)",
			      "O:SYG:SYD:(A;;CCSDRCWDWOGAGXGWGR;;;SY)"),
	      "bit names print in bit order");
}

static void test_rights(void)
{
	CHECK(rights_spelling(0, 0x12019f, "0x12019f"), "rights: 0x12019f prints as hex");
	CHECK(rights_spelling(0, 0x1f01ff, "FA"), "rights: FA");
	CHECK(rights_spelling(0, 0x120089, "FR"), "rights: FR");
	CHECK(rights_spelling(0, 0x120116, "FW"), "rights: FW");
	CHECK(rights_spelling(0, 0x1200a0, "FX"), "rights: FX");
	CHECK(rights_spelling(0, 0xf003f, "KA"), "rights: KA");
	CHECK(rights_spelling(0, 0x20019, "KR"), "rights: KR (never KX)");
	CHECK(rights_spelling(0, 0x20006, "KW"), "rights: KW");
	CHECK(rights_spelling(0, 0x10000000, "GA"), "rights: GA");
	CHECK(rights_spelling(0, 0xa0000000, "GXGR"), "rights: generic bits in bit order");
	CHECK(rights_spelling(0, 0x2019f, "CCDCLCSWRPLOCRRC"),
	      "rights: 0x2019f spelled with bit names");
	CHECK(rights_spelling(0, 0x201ff, "CCDCLCSWRPWPDTLOCRRC"),
	      "rights: 0x201ff spelled with bit names");
	CHECK(rights_spelling(0, 0x1200a9, "0x1200a9"), "rights: SYNCHRONIZE forces hex");
	CHECK(rights_spelling(0, 0x1, "CC"), "rights: bit 0 of an allow ACE is CC");
	CHECK(rights_spelling(0x11, 0x1, "NW"), "rights: mandatory label no-write-up is NW");
	CHECK(rights_spelling(0x11, 0x3, "NWNR"), "rights: mandatory label NWNR");
	CHECK(rights_spelling(0x11, 0x7, "NWNRNX"), "rights: mandatory label NWNRNX");
	CHECK(rights_spelling(0, 0xffffffff, "0xffffffff"), "rights: all bits as hex");
}

static void test_sddl_errors(void)
{
	CHECK(sddl_error("O:SYG:SYD:(A;;FA;;;LA)", "relative to the machine"),
	      "domain-relative alias LA refused with a clear message");
	CHECK(sddl_error("O:DAG:SY", "numeric S-1-5-21"), "domain-relative alias DA refused");
	CHECK(sddl_error("O:SYG:SYD:(A;;FA;;;SY", "character 22"),
	      "unterminated ACE refused at its position");
	CHECK(sddl_error("O:SYG:SYD:(Q;;FA;;;SY)", "unknown ACE type"), "unknown ACE type refused");
	CHECK(sddl_error("O:SYG:SYD:(A;XX;FA;;;SY)", "character 14"),
	      "unknown ACE flag refused at its position");
	CHECK(sddl_error("O:SYG:SYD:(A;;FZ;;;SY)", "unknown access right"),
	      "unknown right refused");
	CHECK(sddl_error("O:SYG:SYD:(A;;0x1ffffffff;;;SY)", "32 bits"),
	      "access mask over 32 bits refused");
	CHECK(sddl_error("O:SYG:SYD:(A;;0x12g;;;SY)", "bad digit"), "bad hex digit refused");
	CHECK(sddl_error("O:SYG:SYD:(A;;FA;;;S-1-5-18-)", "sub-authority"),
	      "dangling '-' in a SID refused");
	CHECK(sddl_error("O:S-2-5-18", "revision 1"), "SID revision 2 refused");
	CHECK(sddl_error("O:S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", "15"),
	      "SID with 16 sub-authorities refused");
	CHECK(sddl_error("O:S-1-5-4294967296", "2^32"), "sub-authority over 32 bits refused");
	CHECK(sddl_error("O:SYO:BA", "appears twice"), "O: twice refused");
	CHECK(sddl_error("O:SYX:BA", "character 5"), "unknown part refused at its position");
	CHECK(sddl_error("O:SYG:SYD:NO_ACCESS_CONTROL(A;;FA;;;SY)", "cannot have ACEs"),
	      "NULL DACL with ACEs refused");
	CHECK(sddl_error("O:SYG:SYD:(XA;;FA;;;WD;(@User.Title==\"PM\"))", "not supported"),
	      "conditional ACE refused");
	CHECK(sddl_error("O:SYG:SYD:(A;;FA;;;WD;x)", "not supported"), "seventh ACE field refused");
	CHECK(sddl_error("O:SYG:SYD:(A;;FA;bf967aba-0de6-11d0-a285-00aa003049e2;;WD)",
			 "only object ACEs"),
	      "GUID on a non-object ACE refused");
	CHECK(sddl_error("O:SYG:SYD:(OA;;FA;bf967aba-0de6-11d0-a285-00aa003049e;;WD)", "36"),
	      "short GUID refused");
	CHECK(sddl_error("O:SYG:SYD:(A;;FA;;;)", "needs a SID"), "empty SID refused");
	CHECK(sddl_error("O:SYG:SYD:(A;;FA;;;SYX)", "after the ACE's SID"),
	      "text after the SID refused");
	CHECK(sddl_error("O:\x01\x02", "\\x01"), "control characters in the message are escaped");
	rp_sd sd;
	rp_err err = {0};
	CHECK(rp_sd_from_sddl("", &sd, &err) == 0 && !sd.has_owner && !sd.has_dacl,
	      "empty SDDL is an empty descriptor");
	uint8_t *bin;
	size_t len;
	CHECK(rp_sd_from_sddl("O:SYD:(A;;FA;;;SY)", &sd, &err) == 0 &&
		  rp_sd_build(&sd, &bin, &len, &err) < 0 && strstr(err.msg, "owner and a group"),
	      "building without a group is refused (libntfs-3g would reject it)");
	rp_sd_free(&sd);
}

static void put_le16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void test_malformed_binary(void)
{
	uint8_t b[sizeof(machinekeys_sd)];
	const size_t n = sizeof(b);
#define RESET() memcpy(b, machinekeys_sd, n)
	RESET();
	CHECK(parse_fails(b, 19, "shorter than its 20-byte header"), "binary: short header");
	b[0] = 2;
	CHECK(parse_fails(b, n, "revision 2"), "binary: SD revision 2");
	RESET();
	b[3] = 0x14;
	CHECK(parse_fails(b, n, "not self-relative"), "binary: absolute SD");
	RESET();
	b[4] = 0xff;
	CHECK(parse_fails(b, n, "outside"), "binary: owner offset past the end");
	RESET();
	b[4] = 8;
	CHECK(parse_fails(b, n, "outside"), "binary: owner offset inside the header");
	RESET();
	b[4] = 92;
	CHECK(parse_fails(b, n, "cut short"), "binary: owner SID cut by the end");
	RESET();
	b[21] = 16;
	CHECK(parse_fails(b, n, "16 sub-authorities"), "binary: SID with 16 sub-authorities");
	RESET();
	b[32] = 2;
	CHECK(parse_fails(b, n, "revision 2, not 1"), "binary: group SID revision 2");
	RESET();
	b[16] = 0x5c;
	CHECK(parse_fails(b, n, "outside"), "binary: DACL offset past the end");
	RESET();
	b[16] = 0x58;
	b[88] = 2;
	b[90] = 0x10;
	CHECK(parse_fails(b, n, "runs past"), "binary: DACL header fits, ACL size does not");
	RESET();
	put_le16(b + 46, 0x38);
	CHECK(parse_fails(b, n, "runs past"), "binary: ACL size past the end");
	RESET();
	put_le16(b + 46, 0x32);
	CHECK(parse_fails(b, n, "runs past"), "binary: ACL size not a multiple of 4");
	RESET();
	b[44] = 1;
	CHECK(parse_fails(b, n, "revision 1"), "binary: ACL revision 1");
	RESET();
	put_le16(b + 48, 12);
	CHECK(parse_fails(b, n, "claims 12 ACEs"), "binary: ACE count beyond what fits");
	RESET();
	put_le16(b + 48, 3);
	CHECK(parse_fails(b, n, "ACE 2 starts past"), "binary: ACE count one too many");
	RESET();
	put_le16(b + 54, 0x16);
	CHECK(parse_fails(b, n, "size 22"), "binary: AceSize not a multiple of 4");
	RESET();
	put_le16(b + 54, 0x10);
	CHECK(parse_fails(b, n, "needs 12 bytes"), "binary: AceSize cuts its SID");
	RESET();
	put_le16(b + 54, 0x0c);
	CHECK(parse_fails(b, n, "too small"), "binary: AceSize below the minimum");
	RESET();
	put_le16(b + 54, 0x00);
	CHECK(parse_fails(b, n, "size 0"), "binary: AceSize 0");
	RESET();
	put_le16(b + 54, 0x3c);
	CHECK(parse_fails(b, n, "within the ACL"), "binary: AceSize past the ACL");
	RESET();
	b[81] = 3;
	CHECK(parse_fails(b, n, "needs 20 bytes, 16 left"),
	      "binary: ACE SID count larger than the ACE");
	RESET();
	b[52] = 0x05;
	b[60] = 0x03;
	CHECK(parse_fails(b, n, "cut short in its object type GUID"),
	      "binary: object ACE whose GUIDs do not fit");
	/* a valid descriptor with trailing bytes (as $SDS pads entries) is accepted */
	uint8_t padded[sizeof(machinekeys_sd) + 8];
	memcpy(padded, machinekeys_sd, n);
	memset(padded + n, 0xee, 8);
	rp_sd sd;
	rp_err err = {0};
	CHECK(rp_sd_parse(padded, sizeof(padded), &sd, &err) == 0 && sd.dacl.count == 2,
	      "binary: trailing bytes after the descriptor are ignored");
	rp_sd_free(&sd);
	/* every truncation of a valid descriptor is refused (no reads past the end) */
	int refused = 0;
	for (size_t cut = 0; cut < n; cut++) {
		if (rp_sd_parse(machinekeys_sd, cut, &sd, &err) < 0)
			refused++;
		else
			rp_sd_free(&sd);
	}
	CHECK(refused == (int)n, "binary: all %zu truncations refused (%d)", n, refused);
#undef RESET
}

/* Unknown and callback ACEs: kept as bytes, rebuilt identically, refused by SDDL output. */
static void test_opaque_aces(void)
{
	uint8_t b[sizeof(machinekeys_sd) + 12];
	memcpy(b, machinekeys_sd, sizeof(machinekeys_sd));
	/* append a 12-byte ACE of unknown type 0x42 to the DACL */
	uint8_t *ace = b + sizeof(machinekeys_sd);
	const uint8_t unknown[12] = {0x42, 0x03, 0x0c, 0x00, 1, 2, 3, 4, 5, 6, 7, 8};
	memcpy(ace, unknown, sizeof(unknown));
	put_le16(b + 46, 0x34 + 12);
	put_le16(b + 48, 3);
	rp_sd sd;
	rp_err err = {0};
	uint8_t *out = NULL;
	size_t len = 0;
	int ok = rp_sd_parse(b, sizeof(b), &sd, &err) == 0 && sd.dacl.count == 3 &&
		 sd.dacl.aces[2].extra_len == 8 && rp_sd_build(&sd, &out, &len, &err) == 0;
	CHECK(ok && len == sizeof(b) && memcmp(out, b, len) == 0,
	      "unknown ACE type kept as opaque bytes and rebuilt byte-identically");
	free(out);
	err.msg[0] = '\0';
	char *text = rp_sd_format_sddl(&sd, &err);
	CHECK(!text && strstr(err.msg, "type 0x42"), "unknown ACE type refused in SDDL output");
	free(text);
	rp_sd_free(&sd);
	/* callback ACE (type 9) with application data after the SID */
	memcpy(b, machinekeys_sd, sizeof(machinekeys_sd));
	b[52] = 0x09;
	put_le16(b + 54, 0x14 + 12);
	memmove(b + 52 + 0x20, b + 52 + 0x14, 24);
	memcpy(b + 52 + 0x14, "artx\x01\x02\x03\x04\x05\x06\x07\x08", 12);
	put_le16(b + 46, 0x34 + 12);
	ok = rp_sd_parse(b, sizeof(b), &sd, &err) == 0 && sd.dacl.aces[0].extra_len == 12 &&
	     rp_sd_build(&sd, &out, &len, &err) == 0;
	CHECK(ok && len == sizeof(b) && memcmp(out, b, len) == 0,
	      "callback ACE with application data rebuilt byte-identically");
	free(out);
	text = rp_sd_to_sddl(&sd);
	CHECK(!text, "callback ACE refused in SDDL output");
	free(text);
	rp_sd_free(&sd);
}

static void test_sids(void)
{
	rp_sid sid, other;
	CHECK(rp_sid_parse_text("S-1-5-18", &sid) == 0 && rp_sid_parse_text("SY", &other) == 0 &&
		  rp_sid_equal(&sid, &other),
	      "SID: S-1-5-18 equals SY");
	char *text = rp_sid_to_text(&other);
	CHECK(strcmp(text, "S-1-5-18") == 0, "SID: alias prints numerically in rp_sid_to_text");
	free(text);
	CHECK(rp_sid_parse_text("S-1-5-32-544x", &sid) < 0, "SID: trailing text refused");
	CHECK(rp_sid_parse_text("LA", &sid) < 0, "SID: domain-relative alias refused");
	CHECK(rp_sid_parse_text("s-1-5-32-545", &sid) == 0 &&
		  strcmp(rp_sid_well_known_name(&sid), "BUILTIN\\Users") == 0,
	      "SID: lower-case s- accepted, BU named");
	static const struct {
		const char *alias, *name;
	} names[] = {
	    {"SY", "NT AUTHORITY\\SYSTEM"},
	    {"LS", "NT AUTHORITY\\LOCAL SERVICE"},
	    {"NS", "NT AUTHORITY\\NETWORK SERVICE"},
	    {"BA", "BUILTIN\\Administrators"},
	    {"BU", "BUILTIN\\Users"},
	    {"WD", "Everyone"},
	    {"CO", "CREATOR OWNER"},
	    {"AU", "NT AUTHORITY\\Authenticated Users"},
	    {"IU", "NT AUTHORITY\\INTERACTIVE"},
	    {"SU", "NT AUTHORITY\\SERVICE"},
	    {"AN", "NT AUTHORITY\\ANONYMOUS LOGON"},
	};
	int named = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *got = NULL;
		if (rp_sid_parse_text(names[i].alias, &sid) == 0)
			got = rp_sid_well_known_name(&sid);
		if (got && strcmp(got, names[i].name) == 0)
			named++;
		else
			printf("# %s -> %s\n", names[i].alias, got ? got : "(null)");
	}
	CHECK(named == (int)(sizeof(names) / sizeof(names[0])), "SID: %d well-known names", named);
	rp_sid_service("SessionEnv", &sid);
	text = rp_sid_to_text(&sid);
	CHECK(strcmp(text, "S-1-5-80-4022436659-1090538466-1613889075-870485073-3428993833") == 0,
	      "service SID of SessionEnv (%s)", text);
	free(text);
	rp_sid_service("TrustedInstaller", &sid);
	text = rp_sid_to_text(&sid);
	CHECK(strcmp(text, "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464") == 0,
	      "service SID of TrustedInstaller (%s)", text);
	free(text);
	rp_sid_service("trustedinstaller", &other);
	CHECK(rp_sid_equal(&sid, &other), "service SID: name is upper-cased first");
	CHECK(strcmp(rp_sid_well_known_name(&sid), "NT SERVICE\\TrustedInstaller") == 0,
	      "TrustedInstaller named");
	rp_sid_service("SessionEnv", &sid);
	CHECK(rp_sid_well_known_name(&sid) == NULL, "other service SIDs have no name");
	CHECK(rp_sid_parse_text("S-1-5-21-1-2-3-500", &sid) == 0 &&
		  rp_sid_well_known_name(&sid) == NULL,
	      "machine account SIDs have no name");
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Same header and same bytes for owner, group, SACL and DACL, wherever each one lies:
 * Windows lays registry descriptors out SACL, DACL, owner, group; rp_sd_build writes owner,
 * group, SACL, DACL (the order libntfs-3g documents). */
static int same_components(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
	if (a_len != b_len || memcmp(a, b, 4) != 0)
		return 0;
	for (int i = 0; i < 4; i++) {
		size_t off_a = rd32(a + 4 + 4 * i), off_b = rd32(b + 4 + 4 * i);
		if (!off_a != !off_b)
			return 0;
		if (!off_a)
			continue;
		size_t size = i < 2 ? 8 + 4 * (size_t)a[off_a + 1]
				    : (size_t)(a[off_a + 2] | a[off_a + 3] << 8);
		if (off_a + size > a_len || off_b + size > b_len ||
		    memcmp(a + off_a, b + off_b, size) != 0)
			return 0;
	}
	return 1;
}

struct hive_stats {
	int sk, parsed, identical, sddl, sddl_equal;
};

/* Every allocated "sk" cell of a hive file: parse, rebuild, SDDL round trip. */
static int scan_hive(const char *path, struct hive_stats *st)
{
	uint8_t *h = NULL;
	size_t got;
	if (rp_file_read(path, &h, &got, 1, NULL) < 0)
		return -1;
	size_t bin = 4096;
	while (bin + 32 <= got && memcmp(h + bin, "hbin", 4) == 0) {
		size_t bin_size = rd32(h + bin + 8);
		if (bin_size < 32 || bin_size > got - bin)
			break;
		for (size_t c = bin + 32; c + 4 <= bin + bin_size;) {
			int32_t cell = (int32_t)rd32(h + c);
			size_t cell_size = (size_t)(cell < 0 ? -(int64_t)cell : cell);
			if (cell_size < 8 || cell_size > bin + bin_size - c)
				break;
			if (cell < 0 && cell_size >= 24 && memcmp(h + c + 4, "sk", 2) == 0) {
				size_t sd_len = rd32(h + c + 20);
				st->sk++;
				rp_sd sd, again;
				rp_err err = {0};
				if (sd_len <= cell_size - 24 &&
				    rp_sd_parse(h + c + 24, sd_len, &sd, &err) == 0) {
					st->parsed++;
					uint8_t *out;
					size_t out_len;
					if (rp_sd_build(&sd, &out, &out_len, &err) == 0) {
						st->identical += same_components(h + c + 24, sd_len,
										 out, out_len);
						free(out);
					}
					char *text = rp_sd_to_sddl(&sd);
					if (text) {
						st->sddl++;
						if (rp_sd_from_sddl(text, &again, &err) == 0) {
							/* SDDL drops the _DEFAULTED bits */
							again.control |= sd.control & 0x2b;
							again.rm_control = sd.rm_control;
							st->sddl_equal += rp_sd_equal(&sd, &again);
							rp_sd_free(&again);
						}
						free(text);
					}
					rp_sd_free(&sd);
				} else {
					printf("# %s sk at 0x%zx: %s\n", path, c, err.msg);
				}
			}
			c += cell_size;
		}
		bin += bin_size;
	}
	free(h);
	return 0;
}

static void test_real_hives(void)
{
	char path[4096], tmp[] = "/tmp/test_sd_XXXXXX";
	struct hive_stats st = {0};
	int fd = mkstemp(tmp);
	snprintf(path, sizeof(path), "xz -dkc '%s/hives/real/win7-sp1-x86-SYSTEM.xz' > '%s'",
		 test_shared_dir(), tmp);
	int ok = fd >= 0 && system(path) == 0 && scan_hive(tmp, &st) == 0;
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	CHECK(ok && st.sk > 10, "Win7 SYSTEM hive: %d sk cells found", st.sk);
	CHECK(ok && st.parsed == st.sk, "Win7 SYSTEM: %d/%d descriptors parse", st.parsed, st.sk);
	CHECK(ok && st.identical == st.sk,
	      "Win7 SYSTEM: %d/%d rebuild with identical header, SIDs and ACLs", st.identical,
	      st.sk);
	CHECK(ok && st.sddl == st.sk && st.sddl_equal == st.sk,
	      "Win7 SYSTEM: %d/%d print as SDDL, %d parse back equal", st.sddl, st.sk,
	      st.sddl_equal);
	static const char *const made[] = {"ManySubkeysHive", "DeletedTreeHive", "MultiSzHive",
					   "BigDataHive", "ExtendedASCIIHive"};
	struct hive_stats ws = {0};
	int missing = 0;
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		snprintf(path, sizeof(path), "%s/hives/windows-made/%s", test_shared_dir(),
			 made[i]);
		if (scan_hive(path, &ws) < 0)
			missing++;
	}
	CHECK(!missing && ws.sk > 0 && ws.parsed == ws.sk && ws.identical == ws.sk &&
		  ws.sddl_equal == ws.sk,
	      "windows-made hives: %d sk, %d parse, %d rebuild identically, %d SDDL round trips",
	      ws.sk, ws.parsed, ws.identical, ws.sddl_equal);
}

/* libntfs-3g validates what rp_sd_build writes (ntfs-3g.md §4.2) and returns it unchanged. */
static void test_ntfs3g(void)
{
	static const char *const sddls[] = {
	    "O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)",
	    "O:SYG:SYD:P(A;;FA;;;SY)(A;;FA;;;BA)",
	    "O:BAG:SYD:PAI(A;OICIID;FA;;;SY)(A;;0x1200a9;;;S-1-5-21-1-2-3-1001)(A;CIIO;GA;;;CO)",
	    "O:S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464G:SYD:(A;;FA;;;SY)",
	    "O:SYG:SYD:NO_ACCESS_CONTROL",
	    "O:BAG:SYD:(A;;FA;;;SY)S:AI(AU;SAFA;FA;;;WD)(ML;;NWNR;;;HI)",
	    "O:SYG:SYD:(OA;CI;CCDC;bf967aba-0de6-11d0-a285-00aa003049e2;;AU)",
	};
	char dir[] = "/tmp/test_sd_ntfs_XXXXXX", img[64], cmd[256];
	if (!mkdtemp(dir)) {
		CHECK(0, "libntfs-3g: temporary directory");
		return;
	}
	snprintf(img, sizeof(img), "%s/disk.img", dir);
	int fd = open(img, O_CREAT | O_WRONLY, 0600);
	int made = fd >= 0 && ftruncate(fd, 8 << 20) == 0;
	if (fd >= 0)
		close(fd);
	snprintf(cmd, sizeof(cmd), "mkntfs -F -Q -T -q '%s' >/dev/null 2>&1", img);
	made = made && system(cmd) == 0;
	ntfs_volume *vol = made ? ntfs_mount(img, 0) : NULL;
	CHECK(vol != NULL, "libntfs-3g: mounted an mkntfs image");
	if (vol) {
		struct SECURITY_CONTEXT scx;
		memset(&scx, 0, sizeof(scx));
		scx.vol = vol;
		ntfs_inode *root = ntfs_pathname_to_inode(vol, NULL, "/");
		/* mkntfs's own root descriptor parses and survives an SDDL round trip */
		static uint8_t got[65536]; /* mkntfs's root descriptor is about 4 KiB */
		int n = root ? ntfs_get_ntfs_acl(&scx, root, (char *)got, sizeof(got)) : -1;
		rp_sd sd, back;
		rp_err err = {0};
		char *text = NULL;
		int ok =
		    n > 0 && n <= (int)sizeof(got) && rp_sd_parse(got, (size_t)n, &sd, &err) == 0;
		if (ok) {
			text = rp_sd_to_sddl(&sd);
			ok = text && rp_sd_from_sddl(text, &back, &err) == 0 &&
			     rp_sd_equal(&sd, &back);
			if (text && ok)
				rp_sd_free(&back);
			rp_sd_free(&sd);
		}
		CHECK(ok, "libntfs-3g: mkntfs root descriptor parses (%s)", text ? text : err.msg);
		free(text);
		int same = 0;
		for (size_t i = 0; root && i < sizeof(sddls) / sizeof(sddls[0]); i++) {
			uint8_t *bin;
			size_t len;
			if (rp_sd_from_sddl(sddls[i], &sd, &err) < 0)
				continue;
			if (rp_sd_build(&sd, &bin, &len, &err) == 0) {
				if (ntfs_set_ntfs_acl(&scx, root, (const char *)bin, len, 0) == 0) {
					n = ntfs_get_ntfs_acl(&scx, root, (char *)got, sizeof(got));
					if (n == (int)len && memcmp(got, bin, len) == 0)
						same++;
					else
						printf("# read back differs: %s\n", sddls[i]);
				} else {
					printf("# libntfs-3g refused: %s\n", sddls[i]);
				}
				free(bin);
			}
			rp_sd_free(&sd);
		}
		CHECK(same == (int)(sizeof(sddls) / sizeof(sddls[0])),
		      "libntfs-3g: accepted and returned %d/%zu built descriptors unchanged", same,
		      sizeof(sddls) / sizeof(sddls[0]));
		if (root)
			ntfs_inode_close(root);
		ntfs_umount(vol, 0);
	}
	unlink(img);
	rmdir(dir);
}

int main(void)
{
	test_machinekeys_bytes();
	test_round_trips();
	test_rights();
	test_sddl_errors();
	test_malformed_binary();
	test_opaque_aces();
	test_sids();
	test_real_hives();
	test_ntfs3g();
	TEST_DONE();
}
