/*
 * test_sam.c — src/reg/sam.c on the real Windows 7 SAM (../shared/hives/real/SAM.xz): alias C
 * members, user F flags and V names, the account domain SID, adding a member (parsed back, and
 * checked byte for byte around the insertion), the membership map, GptTmpl.inf rights, and
 * truncated or lying values refused without reading outside them.  Also rp_hive_key_sd (a key's
 * security descriptor from its sk cell), on the real SYSTEM and on a hive whose sk offset lies.
 */
#include "reg/reg.h"
#include "reg/sam.h"
#include "test.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint8_t *load_xz(const char *name, size_t *n)
{
	char tmp[] = "/tmp/test_sam.XXXXXX", cmd[8192];
	int fd = mkstemp(tmp);
	if (fd < 0)
		return NULL;
	close(fd);
	snprintf(cmd, sizeof cmd, "xz -dkc '%s/hives/real/%s.xz' > '%s'", test_shared_dir(), name,
		 tmp);
	uint8_t *buf = NULL;
	*n = 0;
	FILE *f = system(cmd) == 0 ? fopen(tmp, "rb") : NULL;
	if (f) {
		buf = malloc(16u << 20);
		*n = fread(buf, 1, 16u << 20, f);
		fclose(f);
	}
	unlink(tmp);
	return buf;
}

static void test_key_sd(void)
{
	size_t n = 0;
	uint8_t *img = load_xz("win7-sp1-x86-SYSTEM", &n);
	rp_hive *h = NULL;
	rp_err err = {0};
	CHECK(img && rp_hive_open(&h, "SYSTEM", img, n, &err) == 0, "real SYSTEM opens");
	if (!h) {
		free(img);
		return;
	}
	uint8_t *sd = NULL;
	size_t len = 0;
	rp_sd parsed;
	const char *key = "ControlSet001\\services\\TermService\\Parameters";
	CHECK(rp_hive_key_sd(h, key, &sd, &len, &err) == 1 &&
		  rp_sd_parse(sd, len, &parsed, &err) == 0,
	      "TermService\\Parameters: security descriptor read and parsed");
	char *sddl = sd ? rp_sd_to_sddl(&parsed) : NULL;
	/* As tests/lib/hive_sd.py and Windows' defaults have it. */
	CHECK(sddl && strcmp(sddl, "O:BAG:BAD:AI(A;ID;KR;;;BU)(A;CIIOID;GR;;;BU)(A;ID;KA;;;BA)(A;"
				   "CIIOID;GA;;;BA)(A;ID;KA;;;SY)(A;CIIOID;GA;;;SY)(A;CIIOID;GA;;;"
				   "CO)") == 0,
	      "TermService\\Parameters SDDL: %s", sddl ? sddl : "(none)");
	free(sddl);
	if (sd)
		rp_sd_free(&parsed);
	free(sd);
	CHECK(rp_hive_key_sd(h, "ControlSet001\\NoSuchKey", &sd, &len, &err) == 0 && !sd,
	      "absent key: 0");
	rp_hive_close(h);
	/* The root key's sk offset pointed past the end of the hive. */
	uint32_t root = (uint32_t)img[0x24] | (uint32_t)img[0x25] << 8 | (uint32_t)img[0x26] << 16 |
			(uint32_t)img[0x27] << 24;
	size_t at = 0x1000 + root + 4 + 0x2C;
	img[at] = img[at + 1] = img[at + 2] = 0xFF;
	img[at + 3] = 0x7F;
	h = NULL;
	if (rp_hive_open(&h, "SYSTEM", img, n, &err) == 0) {
		CHECK(rp_hive_key_sd(h, "", &sd, &len, &err) < 0 && err.msg[0],
		      "an sk offset past the hive is refused with a message");
		rp_hive_close(h);
	} else {
		CHECK(1, "a lying sk offset already refused by hivex");
	}
	free(img);
}

static rp_hive *open_sam(void)
{
	char tmp[] = "/tmp/test_sam.XXXXXX", cmd[8192];
	int fd = mkstemp(tmp);
	if (fd < 0)
		return NULL;
	close(fd);
	snprintf(cmd, sizeof cmd, "xz -dkc '%s/hives/real/SAM.xz' > '%s'", test_shared_dir(), tmp);
	rp_hive *h = NULL;
	if (system(cmd) == 0) {
		FILE *f = fopen(tmp, "rb");
		static uint8_t buf[1 << 20];
		size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
		if (f)
			fclose(f);
		rp_err err = {0};
		if (n == 0 || rp_hive_open(&h, "SAM", buf, n, &err) < 0)
			h = NULL;
	}
	unlink(tmp);
	return h;
}

static int get(rp_hive *h, const char *key, const char *value, rp_value *v)
{
	return rp_hive_get(h, key, value, v, NULL) == 1;
}

#define ALIASES "SAM\\Domains\\Builtin\\Aliases\\"
#define USERS "SAM\\Domains\\Account\\Users\\"

static void test_real(rp_hive *h)
{
	rp_value v = {0};
	rp_err err = {0};
	rp_sid dom;
	CHECK(get(h, "SAM\\Domains\\Account", "V", &v) &&
		  rp_sam_domain_sid(v.data, v.len, &dom, &err) == 0,
	      "domain SID parses: %s", err.msg);
	char *ds = rp_sid_to_text(&dom);
	CHECK(strcmp(ds, "S-1-5-21-1760460187-1592185332-161725925") == 0, "domain SID is %s", ds);
	free(ds);
	rp_value_free(&v);

	rp_sam_alias a;
	CHECK(get(h, ALIASES "00000220", "C", &v) &&
		  rp_sam_alias_parse(v.data, v.len, &a, &err) == 0,
	      "Administrators C parses");
	CHECK(a.name && strcmp(a.name, "Administrators") == 0, "alias name Administrators");
	CHECK(a.nmembers == 2, "Administrators has 2 members (%zu)", a.nmembers);
	if (a.nmembers == 2) {
		char *m0 = rp_sid_to_text(&a.members[0]), *m1 = rp_sid_to_text(&a.members[1]);
		CHECK(strcmp(m0, "S-1-5-21-1760460187-1592185332-161725925-500") == 0 &&
			  strcmp(m1, "S-1-5-21-1760460187-1592185332-161725925-1000") == 0,
		      "members -500 and -1000 (%s, %s)", m0, m1);
		free(m0);
		free(m1);
	}
	rp_sam_alias_free(&a);
	rp_value_free(&v);

	CHECK(get(h, ALIASES "0000022B", "C", &v) &&
		  rp_sam_alias_parse(v.data, v.len, &a, &err) == 0,
	      "Remote Desktop Users C parses");
	CHECK(a.nmembers == 0 && a.name && strcmp(a.name, "Remote Desktop Users") == 0,
	      "Remote Desktop Users: empty");
	rp_sam_alias_free(&a);

	/* Adding Preston: parse back, header fields and everything before/after the list kept. */
	rp_sid preston = dom;
	preston.sub[preston.count++] = 1000;
	uint8_t *nc = NULL;
	size_t nlen = 0;
	CHECK(rp_sam_alias_add_member(v.data, v.len, &preston, &nc, &nlen, &err) == 0 &&
		  nlen == v.len + 28,
	      "add member: 28 bytes more");
	CHECK(nc && rp_sam_alias_parse(nc, nlen, &a, &err) == 0 && a.nmembers == 1 &&
		  rp_sid_equal(&a.members[0], &preston),
	      "add member: parses back with Preston as its one member");
	rp_sam_alias_free(&a);
	CHECK(nc && memcmp(nc, v.data, 0x2C) == 0 &&
		  memcmp(nc + 0x34, v.data + 0x34, v.len - 0x34) == 0,
	      "add member: header up to the list descriptor and all old data unchanged");
	uint8_t *nc2 = NULL;
	size_t nlen2 = 0;
	rp_sid other = dom;
	other.sub[other.count++] = 1001;
	CHECK(nc && rp_sam_alias_add_member(nc, nlen, &other, &nc2, &nlen2, &err) == 0 &&
		  rp_sam_alias_parse(nc2, nlen2, &a, &err) == 0 && a.nmembers == 2 &&
		  rp_sid_equal(&a.members[1], &other),
	      "add a second member after the first");
	rp_sam_alias_free(&a);
	free(nc);
	free(nc2);
	rp_value_free(&v);

	rp_sam_user_f f;
	CHECK(get(h, USERS "000001F4", "F", &v) &&
		  rp_sam_user_f_parse(v.data, v.len, &f, &err) == 0 && f.rid == 500 &&
		  f.acb == 0x0211,
	      "Administrator F: RID 500, ACB 0x0211 (disabled)");
	rp_value_free(&v);
	CHECK(get(h, USERS "000003E8", "F", &v) &&
		  rp_sam_user_f_parse(v.data, v.len, &f, &err) == 0 && f.rid == 1000 &&
		  !(f.acb & RP_ACB_DISABLED),
	      "Preston F: RID 1000, enabled (ACB 0x%04x)", f.acb);
	rp_value_free(&v);
	char *name = NULL;
	CHECK(get(h, USERS "000003E8", "V", &v) &&
		  rp_sam_user_v_name(v.data, v.len, &name, &err) == 0 && name &&
		  strcmp(name, "Preston") == 0,
	      "Preston V: name");
	free(name);
	/* A V whose name descriptor points past its end. */
	uint8_t *bad = malloc(v.len);
	memcpy(bad, v.data, v.len);
	bad[0x10] = 0xFF;
	bad[0x11] = 0xFF;
	name = NULL;
	CHECK(rp_sam_user_v_name(bad, v.len, &name, &err) < 0 && !name,
	      "V with a lying length refused");
	CHECK(rp_sam_user_v_name(v.data, 0x20, &name, &err) < 0, "truncated V refused");
	free(bad);
	rp_value_free(&v);

	CHECK(get(h,
		  "SAM\\Domains\\Builtin\\Aliases\\Members\\S-1-5-21-1760460187-1592185332-"
		  "161725925\\000003E8",
		  "", &v) &&
		  v.type == 2 && v.len == 8,
	      "membership map: Preston in 2 aliases (type 2, 8 bytes)");
	size_t ml = 0;
	uint8_t *m = rp_sam_membership_add(v.data, v.len, 0x22B, &ml);
	CHECK(ml == 12 && memcmp(m, v.data, 8) == 0 && m[8] == 0x2B && m[9] == 2 && !m[10] &&
		  !m[11],
	      "membership map: RID appended");
	free(m);
	rp_value_free(&v);
}

static void test_bad_alias(void)
{
	uint8_t c[0x34 + 8] = {0};
	rp_sam_alias a;
	rp_err err = {0};
	CHECK(rp_sam_alias_parse(c, 0x20, &a, &err) < 0, "alias C shorter than its header refused");
	c[0x28] = 0x00;
	c[0x2C] = 0x40; /* members: 64 bytes, only 8 there */
	c[0x30] = 1;
	CHECK(rp_sam_alias_parse(c, sizeof c, &a, &err) < 0 && err.msg[0],
	      "member list past the end refused");
	c[0x2C] = 8;
	c[0x34] = 1;
	c[0x35] = 2; /* 2 sub-authorities: 16 bytes, 8 there */
	CHECK(rp_sam_alias_parse(c, sizeof c, &a, &err) < 0, "member SID past its list refused");
	c[0x35] = 0;
	c[0x30] = 1;
	CHECK(rp_sam_alias_parse(c, sizeof c, &a, &err) == 0 && a.nmembers == 1,
	      "8-byte SID S-1-0 accepted");
	rp_sam_alias_free(&a);
	c[0x28] = 0xF0;
	c[0x29] = 0xFF;
	c[0x2A] = 0xFF;
	c[0x2B] = 0xFF; /* offset near 4 GiB: no wrap-around */
	CHECK(rp_sam_alias_parse(c, sizeof c, &a, &err) < 0, "huge member offset refused");
	rp_sam_user_f f;
	CHECK(rp_sam_user_f_parse(c, 0x40, &f, &err) < 0, "F shorter than 0x44 refused");

	/* fuzz_sam's finding: a member list of 8 bytes that holds no member (count 0).  The new
	 * member goes after the last member, so it is the one that parses back. */
	uint8_t d[0x34 + 8] = {0};
	d[0x2C] = 8;
	d[0x34] = 1; /* looks like a SID S-1-0 */
	rp_sid sid;
	rp_sid_parse_text("S-1-5-32-545", &sid);
	uint8_t *out = NULL;
	size_t len = 0;
	CHECK(rp_sam_alias_add_member(d, sizeof d, &sid, &out, &len, &err) == 0 &&
		  rp_sam_alias_parse(out, len, &a, &err) == 0 && a.nmembers == 1 &&
		  rp_sid_equal(&a.members[0], &sid),
	      "count 0 with bytes in the list: the new member is the one that parses back");
	rp_sam_alias_free(&a);
	free(out);
}

static void test_inf(void)
{
	static const char ascii[] =
	    "[Unicode]\r\nUnicode=yes\r\n[Privilege Rights]\r\n"
	    "SeInteractiveLogonRight = *S-1-5-32-544\r\n"
	    "SeDenyRemoteInteractiveLogonRight = *S-1-5-32-546 , Preston,\r\n"
	    "[Version]\r\nSeRemoteInteractiveLogonRight = *S-1-1-0\r\n";
	char **e = NULL;
	size_t n = 0;
	CHECK(rp_secedit_right((const uint8_t *)ascii, strlen(ascii),
			       "SeDenyRemoteInteractiveLogonRight", &e, &n) == 1 &&
		  n == 2 && strcmp(e[0], "S-1-5-32-546") == 0 && strcmp(e[1], "Preston") == 0,
	      "GptTmpl: deny list, '*' dropped, names kept, spaces trimmed");
	rp_names_free(e, n);
	CHECK(rp_secedit_right((const uint8_t *)ascii, strlen(ascii),
			       "SeRemoteInteractiveLogonRight", &e, &n) == 0 &&
		  n == 0,
	      "GptTmpl: a right outside [Privilege Rights] is not listed");
	size_t u16len = 0;
	uint8_t *u16 = rp_utf8_to_utf16(ascii, &u16len);
	uint8_t *bom = malloc(u16len + 2);
	bom[0] = 0xFF;
	bom[1] = 0xFE;
	memcpy(bom + 2, u16, u16len);
	CHECK(rp_secedit_right(bom, u16len + 2, "SeDenyRemoteInteractiveLogonRight", &e, &n) == 1 &&
		  n == 2,
	      "GptTmpl: UTF-16LE with BOM");
	rp_names_free(e, n);
	CHECK(rp_secedit_right(bom, 3, "SeDenyRemoteInteractiveLogonRight", &e, &n) == 0,
	      "GptTmpl: truncated UTF-16 read safely");
	free(bom);
	free(u16);
}

int main(void)
{
	rp_hive *h = open_sam();
	CHECK(h != NULL, "real SAM opens");
	if (h) {
		test_real(h);
		rp_hive_close(h);
	}
	test_bad_alias();
	test_inf();
	test_key_sd();
	TEST_DONE();
}
