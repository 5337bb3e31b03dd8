/*
 * sddl_format.c — rp_sd to SDDL text in Windows' canonical spelling.
 *
 * O: G: D: S: in that order; ACL flags P AR AI; ACE flags OI CI NP IO ID SA FA; SIDs as aliases
 * where one exists, else numeric; rights as an exact composite (FA, KR, GA, ...), else bit
 * names in bit order (CCLCSWRPWPDTLOCRRC), else lower-case hex (0x12019f); GUIDs lower-case.
 *
 * Some descriptors have no SDDL spelling this module produces: unknown ACE types, callback
 * (conditional) and resource-attribute ACEs, ACEs with trailing application bytes, the
 * CRITICAL/0x20 ACE flag, object flags beyond the two GUID bits.  Those change what the
 * descriptor grants, so they are refused rather than silently dropped.  Control bits SDDL
 * cannot carry (…_DEFAULTED, RM_CONTROL_VALID) and the ACL revision are left out, as Windows
 * does.
 */
#include "sd/sd_internal.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct named_mask {
	const char *code;
	uint32_t mask;
};

/* Step 1: exact composites.  KX equals KR and is never printed. */
static const struct named_mask composites[] = {
    {"FA", 0x1f01ff},	{"FR", 0x120089},   {"FW", 0x120116},	{"FX", 0x1200a0},
    {"KA", 0xf003f},	{"KR", 0x20019},    {"KW", 0x20006},	{"GA", 0x10000000},
    {"GR", 0x80000000}, {"GW", 0x40000000}, {"GX", 0x20000000}, {"RC", 0x20000},
    {"SD", 0x10000},	{"WD", 0x40000},    {"WO", 0x80000},
};

/* Step 2: names of single bits, in bit order. */
static const char *const bit_names[32] = {
    [0] = "CC",	 [1] = "DC",  [2] = "LC",  [3] = "SW",	[4] = "RP",  [5] = "WP",
    [6] = "DT",	 [7] = "LO",  [8] = "CR",  [16] = "SD", [17] = "RC", [18] = "WD",
    [19] = "WO", [28] = "GA", [29] = "GX", [30] = "GW", [31] = "GR",
};

/* Mandatory label ACEs name their low bits no-write-up, no-read-up, no-execute-up. */
static const char *const label_bit_names[3] = {"NW", "NR", "NX"};

static void format_rights(rp_strbuf *b, uint8_t type, uint32_t mask)
{
	const int label = type == 0x11;
	if (mask == 0)
		return;
	if (!label) {
		for (size_t i = 0; i < sizeof(composites) / sizeof(composites[0]); i++) {
			if (composites[i].mask == mask) {
				rp_strbuf_add(b, composites[i].code);
				return;
			}
		}
	}
	for (int i = 0; i < 32; i++) {
		const char *name = label && i < 3 ? label_bit_names[i] : bit_names[i];
		if ((mask >> i & 1) && !name) {
			char hex[16];
			snprintf(hex, sizeof(hex), "0x%x", mask);
			rp_strbuf_add(b, hex);
			return;
		}
	}
	for (int i = 0; i < 32; i++)
		if (mask >> i & 1)
			rp_strbuf_add(b, label && i < 3 ? label_bit_names[i] : bit_names[i]);
}

static void format_sid(rp_strbuf *b, const rp_sid *sid)
{
	const char *alias = sd_sid_alias(sid);
	if (alias) {
		rp_strbuf_add(b, alias);
		return;
	}
	char *text = rp_sid_to_text(sid);
	rp_strbuf_add(b, text);
	free(text);
}

/* A GUID as stored (Data1 le32, Data2 le16, Data3 le16, Data4 bytes), lower-case. */
static void format_guid(rp_strbuf *b, const uint8_t g[16])
{
	char s[40];
	snprintf(s, sizeof(s),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[3], g[2],
		 g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14],
		 g[15]);
	rp_strbuf_add(b, s);
}

static const char *ace_type_code(uint8_t type)
{
	switch (type) {
	case 0x00:
		return "A";
	case 0x01:
		return "D";
	case 0x02:
		return "AU";
	case 0x03:
		return "AL";
	case 0x05:
		return "OA";
	case 0x06:
		return "OD";
	case 0x07:
		return "OU";
	case 0x08:
		return "OL";
	case 0x11:
		return "ML";
	case 0x13:
		return "SP";
	default:
		return NULL;
	}
}

static const struct {
	const char *code;
	uint8_t flag;
} ace_flag_names[] = {
    {"OI", 0x01}, {"CI", 0x02}, {"NP", 0x04}, {"IO", 0x08},
    {"ID", 0x10}, {"SA", 0x40}, {"FA", 0x80},
};

static int format_ace(rp_strbuf *b, const rp_ace *ace, const char *acl_name, size_t index,
		      rp_err *err)
{
	const char *type = ace_type_code(ace->type);
	if (!type)
		return rp_fail(err, RP_EXIT_PROBLEMS,
			       "%s ACE %zu has type 0x%02x (callback, resource attribute or "
			       "unknown), which has no SDDL spelling here",
			       acl_name, index, ace->type);
	if (ace->extra_len)
		return rp_fail(err, RP_EXIT_PROBLEMS,
			       "%s ACE %zu carries %zu bytes of application data after its SID, "
			       "which SDDL cannot show",
			       acl_name, index, ace->extra_len);
	if (ace->flags & 0x20)
		return rp_fail(err, RP_EXIT_PROBLEMS,
			       "%s ACE %zu has flag 0x20, which has no SDDL spelling", acl_name,
			       index);
	if (ace->object_flags &
	    ~(uint32_t)(SD_ACE_OBJECT_TYPE_PRESENT | SD_ACE_INHERITED_OBJECT_TYPE_PRESENT))
		return rp_fail(err, RP_EXIT_PROBLEMS,
			       "%s ACE %zu has object flags 0x%x, which SDDL cannot show", acl_name,
			       index, ace->object_flags);
	rp_strbuf_add(b, "(");
	rp_strbuf_add(b, type);
	rp_strbuf_add(b, ";");
	for (size_t i = 0; i < sizeof(ace_flag_names) / sizeof(ace_flag_names[0]); i++)
		if (ace->flags & ace_flag_names[i].flag)
			rp_strbuf_add(b, ace_flag_names[i].code);
	rp_strbuf_add(b, ";");
	format_rights(b, ace->type, ace->mask);
	rp_strbuf_add(b, ";");
	int object = sd_ace_layout(ace->type) == SD_ACE_OBJECT;
	if (object && (ace->object_flags & SD_ACE_OBJECT_TYPE_PRESENT))
		format_guid(b, ace->object_type);
	rp_strbuf_add(b, ";");
	if (object && (ace->object_flags & SD_ACE_INHERITED_OBJECT_TYPE_PRESENT))
		format_guid(b, ace->inherited_type);
	rp_strbuf_add(b, ";");
	format_sid(b, &ace->sid);
	rp_strbuf_add(b, ")");
	return 0;
}

static int format_acl(rp_strbuf *b, const char *tag, uint16_t control, int is_null,
		      const rp_acl *acl, int sacl, rp_err *err)
{
	rp_strbuf_add(b, tag);
	if (control & (sacl ? SD_SACL_PROTECTED : SD_DACL_PROTECTED))
		rp_strbuf_add(b, "P");
	if (control & (sacl ? SD_SACL_AUTO_INHERIT_REQ : SD_DACL_AUTO_INHERIT_REQ))
		rp_strbuf_add(b, "AR");
	if (control & (sacl ? SD_SACL_AUTO_INHERITED : SD_DACL_AUTO_INHERITED))
		rp_strbuf_add(b, "AI");
	if (is_null) {
		rp_strbuf_add(b, "NO_ACCESS_CONTROL");
		return 0;
	}
	for (size_t i = 0; i < acl->count; i++)
		if (format_ace(b, &acl->aces[i], sacl ? "SACL" : "DACL", i, err) < 0)
			return -1;
	return 0;
}

char *rp_sd_format_sddl(const rp_sd *sd, rp_err *err)
{
	rp_strbuf b = {rp_xmalloc(64), 0, 64};
	b.s[0] = '\0';
	if (sd->has_owner) {
		rp_strbuf_add(&b, "O:");
		format_sid(&b, &sd->owner);
	}
	if (sd->has_group) {
		rp_strbuf_add(&b, "G:");
		format_sid(&b, &sd->group);
	}
	if (sd->has_dacl && format_acl(&b, "D:", sd->control, sd->dacl_null, &sd->dacl, 0, err) < 0)
		goto fail;
	if (sd->has_sacl && format_acl(&b, "S:", sd->control, sd->sacl_null, &sd->sacl, 1, err) < 0)
		goto fail;
	return b.s;
fail:
	free(b.s);
	return NULL;
}

char *rp_sd_to_sddl(const rp_sd *sd)
{
	return rp_sd_format_sddl(sd, NULL);
}

char *rp_sd_bytes_to_sddl(const uint8_t *sd, size_t len)
{
	rp_sd parsed;
	if (rp_sd_parse(sd, len, &parsed, NULL) < 0)
		return NULL;
	char *s = rp_sd_to_sddl(&parsed);
	rp_sd_free(&parsed);
	return s;
}
