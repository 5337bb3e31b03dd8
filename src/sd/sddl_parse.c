/*
 * sddl_parse.c — SDDL text to rp_sd.
 *
 * Accepts O:, G:, D:, S: in any order (each at most once, blanks allowed between parts and
 * between ACEs); ACL flags P, AR, AI and NO_ACCESS_CONTROL; ACEs
 * (type;flags;rights;object_guid;inherit_object_guid;sid) of types A D AU AL OA OD OU OL ML
 * SP; rights as two-letter codes (composites, bit names, NR NW NX) or one hex ("0x...") or
 * decimal number; SIDs numeric or as aliases.  Letters are case-sensitive, as in Windows,
 * except the "S-" of numeric SIDs and "0x".  Every error names the character position.
 */
#include "sd/sd_internal.h"
#include "util/text.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const char *start;
	const char *p;
	rp_err *err;
};

__attribute__((format(printf, 3, 4))) static int fail_at(struct parser *ps, const char *at,
							 const char *fmt, ...)
{
	char msg[512], near[16];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(near, sizeof(near), "%.12s", at);
	char *shown = rp_escape(near);
	if (*at)
		rp_fail(ps->err, RP_EXIT_USAGE, "SDDL: %s (at character %zu, near \"%s\")", msg,
			(size_t)(at - ps->start) + 1, shown);
	else
		rp_fail(ps->err, RP_EXIT_USAGE, "SDDL: %s (at character %zu, the end of the text)",
			msg, (size_t)(at - ps->start) + 1);
	free(shown);
	return -1;
}

static void skip_blanks(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
		ps->p++;
}

static int field_is(const char *f, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(f, word, n) == 0;
}

static int parse_sid_at(struct parser *ps, rp_sid *sid)
{
	rp_err sub = {0};
	size_t used;
	if (sd_sid_scan(ps->p, &used, sid, &sub) < 0)
		return fail_at(ps, ps->p, "%s", sub.msg);
	ps->p += used;
	return 0;
}

static const struct {
	const char *code;
	uint8_t type;
} ace_types[] = {
    {"A", 0x00},  {"D", 0x01},	{"AU", 0x02}, {"AL", 0x03}, {"OA", 0x05},
    {"OD", 0x06}, {"OU", 0x07}, {"OL", 0x08}, {"ML", 0x11}, {"SP", 0x13},
};

static const char *const unsupported_types[] = {"XA", "XD", "XU", "ZA", "RA"};

static const struct {
	const char *code;
	uint8_t flag;
} ace_flags[] = {
    {"OI", 0x01}, {"CI", 0x02}, {"NP", 0x04}, {"IO", 0x08},
    {"ID", 0x10}, {"SA", 0x40}, {"FA", 0x80},
};

static const struct {
	const char *code;
	uint32_t mask;
} rights[] = {
    {"FA", 0x1f01ff},	{"FR", 0x120089},   {"FW", 0x120116},	{"FX", 0x1200a0},
    {"KA", 0xf003f},	{"KR", 0x20019},    {"KW", 0x20006},	{"KX", 0x20019},
    {"GA", 0x10000000}, {"GR", 0x80000000}, {"GW", 0x40000000}, {"GX", 0x20000000},
    {"RC", 0x20000},	{"SD", 0x10000},    {"WD", 0x40000},	{"WO", 0x80000},
    {"CC", 0x1},	{"DC", 0x2},	    {"LC", 0x4},	{"SW", 0x8},
    {"RP", 0x10},	{"WP", 0x20},	    {"DT", 0x40},	{"LO", 0x80},
    {"CR", 0x100},	{"NW", 0x1},	    {"NR", 0x2},	{"NX", 0x4},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int parse_type(struct parser *ps, const char *f, size_t n, uint8_t *type)
{
	for (size_t i = 0; i < COUNT(ace_types); i++) {
		if (field_is(f, n, ace_types[i].code)) {
			*type = ace_types[i].type;
			return 0;
		}
	}
	for (size_t i = 0; i < COUNT(unsupported_types); i++)
		if (field_is(f, n, unsupported_types[i]))
			return fail_at(ps, f,
				       "ACE type %s (conditional or resource attribute) is not "
				       "supported",
				       unsupported_types[i]);
	return fail_at(ps, f, "unknown ACE type (A, D, AU, AL, OA, OD, OU, OL, ML or SP expected)");
}

static int parse_flags(struct parser *ps, const char *f, size_t n, uint8_t *flags)
{
	*flags = 0;
	for (size_t at = 0; at < n; at += 2) {
		size_t i;
		for (i = 0; i < COUNT(ace_flags); i++)
			if (n - at >= 2 && memcmp(f + at, ace_flags[i].code, 2) == 0)
				break;
		if (i == COUNT(ace_flags))
			return fail_at(ps, f + at,
				       "unknown ACE flag (OI, CI, NP, IO, ID, SA or FA expected)");
		*flags |= ace_flags[i].flag;
	}
	return 0;
}

static int parse_rights(struct parser *ps, const char *f, size_t n, uint32_t *mask)
{
	*mask = 0;
	if (n && isdigit((unsigned char)f[0])) {
		int hex = n > 2 && f[0] == '0' && (f[1] == 'x' || f[1] == 'X');
		uint64_t v = 0;
		for (size_t i = hex ? 2 : 0; i < n; i++) {
			int c = (unsigned char)f[i];
			if (hex ? !isxdigit(c) : !isdigit(c))
				return fail_at(ps, f + i, "bad digit in the access mask");
			v = v * (hex ? 16 : 10) +
			    (uint64_t)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
			if (v > 0xffffffffULL)
				return fail_at(ps, f, "access mask is larger than 32 bits");
		}
		*mask = (uint32_t)v;
		return 0;
	}
	for (size_t at = 0; at < n; at += 2) {
		size_t i;
		for (i = 0; i < COUNT(rights); i++)
			if (n - at >= 2 && memcmp(f + at, rights[i].code, 2) == 0)
				break;
		if (i == COUNT(rights))
			return fail_at(ps, f + at,
				       "unknown access right (codes such as FA, FR, KA, GA, RC, "
				       "CC..CR, or a number like 0x12019f expected)");
		*mask |= rights[i].mask;
	}
	return 0;
}

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" to the stored byte order. */
static int parse_guid(struct parser *ps, const char *f, size_t n, uint8_t g[16])
{
	static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
	if (n != 36)
		return fail_at(ps, f,
			       "object GUID must be 36 characters like "
			       "bf967aba-0de6-11d0-a285-00aa003049e2");
	size_t k = 0;
	for (size_t i = 0; i < 36;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (f[i] != '-')
				return fail_at(ps, f + i, "object GUID needs '-' here");
			i++;
			continue;
		}
		if (!isxdigit((unsigned char)f[i]) || !isxdigit((unsigned char)f[i + 1]))
			return fail_at(ps, f + i, "bad hex digit in object GUID");
		g[order[k++]] =
		    (uint8_t)(hexval((unsigned char)f[i]) << 4 | hexval((unsigned char)f[i + 1]));
		i += 2;
	}
	return 0;
}

/* One "(...)" ACE at ps->p, appended to acl. */
static int parse_ace(struct parser *ps, rp_acl *acl)
{
	const char *f[6];
	size_t n[6];
	const char *open = ps->p;
	ps->p++;
	for (int i = 0; i < 6; i++) {
		f[i] = ps->p;
		while (*ps->p && *ps->p != ';' && *ps->p != ')' && *ps->p != '(')
			ps->p++;
		n[i] = (size_t)(ps->p - f[i]);
		char want = i < 5 ? ';' : ')';
		if (*ps->p == ';' && i == 5)
			return fail_at(ps, ps->p,
				       "conditional expressions and resource attributes after "
				       "the SID are not supported");
		if (*ps->p != want)
			return fail_at(ps, ps->p,
				       "ACE needs 6 fields type;flags;rights;guid;guid;sid in "
				       "parentheses: expected '%c'",
				       want);
		ps->p++;
	}
	rp_ace ace;
	memset(&ace, 0, sizeof(ace));
	if (parse_type(ps, f[0], n[0], &ace.type) < 0 ||
	    parse_flags(ps, f[1], n[1], &ace.flags) < 0 ||
	    parse_rights(ps, f[2], n[2], &ace.mask) < 0)
		return -1;
	int object = sd_ace_layout(ace.type) == SD_ACE_OBJECT;
	if (!object && (n[3] || n[4]))
		return fail_at(ps, n[3] ? f[3] : f[4],
			       "only object ACEs (OA, OD, OU, OL) take GUIDs");
	if (n[3]) {
		if (parse_guid(ps, f[3], n[3], ace.object_type) < 0)
			return -1;
		ace.object_flags |= SD_ACE_OBJECT_TYPE_PRESENT;
	}
	if (n[4]) {
		if (parse_guid(ps, f[4], n[4], ace.inherited_type) < 0)
			return -1;
		ace.object_flags |= SD_ACE_INHERITED_OBJECT_TYPE_PRESENT;
	}
	struct parser sub = *ps;
	sub.p = f[5];
	if (n[5] == 0)
		return fail_at(ps, f[5], "ACE needs a SID");
	if (parse_sid_at(&sub, &ace.sid) < 0)
		return -1;
	if (sub.p != f[5] + n[5])
		return fail_at(ps, sub.p, "unexpected text after the ACE's SID");
	if (acl->count >= 0xffff)
		return fail_at(ps, open, "more than 65535 ACEs in one ACL");
	acl->aces = rp_xrealloc(acl->aces, (acl->count + 1) * sizeof(rp_ace));
	acl->aces[acl->count++] = ace;
	return 0;
}

/* Flags and ACEs after "D:" or "S:". */
static int parse_acl(struct parser *ps, rp_sd *sd, int sacl)
{
	uint16_t protected_bit = sacl ? SD_SACL_PROTECTED : SD_DACL_PROTECTED;
	uint16_t req_bit = sacl ? SD_SACL_AUTO_INHERIT_REQ : SD_DACL_AUTO_INHERIT_REQ;
	uint16_t inherited_bit = sacl ? SD_SACL_AUTO_INHERITED : SD_DACL_AUTO_INHERITED;
	rp_acl *acl = sacl ? &sd->sacl : &sd->dacl;
	int is_null = 0;
	sd->control |= sacl ? SD_SACL_PRESENT : SD_DACL_PRESENT;
	if (sacl)
		sd->has_sacl = 1;
	else
		sd->has_dacl = 1;
	for (;;) {
		if (strncmp(ps->p, "NO_ACCESS_CONTROL", 17) == 0) {
			is_null = 1;
			ps->p += 17;
		} else if (ps->p[0] == 'P') {
			sd->control |= protected_bit;
			ps->p++;
		} else if (ps->p[0] == 'A' && ps->p[1] == 'R') {
			sd->control |= req_bit;
			ps->p += 2;
		} else if (ps->p[0] == 'A' && ps->p[1] == 'I') {
			sd->control |= inherited_bit;
			ps->p += 2;
		} else {
			break;
		}
	}
	skip_blanks(ps);
	while (*ps->p == '(') {
		if (is_null)
			return fail_at(ps, ps->p,
				       "NO_ACCESS_CONTROL (a NULL ACL) cannot have ACEs");
		if (parse_ace(ps, acl) < 0)
			return -1;
		skip_blanks(ps);
	}
	if (is_null) {
		if (sacl)
			sd->sacl_null = 1;
		else
			sd->dacl_null = 1;
	}
	acl->revision = SD_ACL_REVISION;
	for (size_t i = 0; i < acl->count; i++)
		if (sd_ace_layout(acl->aces[i].type) == SD_ACE_OBJECT)
			acl->revision = SD_ACL_REVISION_DS;
	return 0;
}

int rp_sd_from_sddl(const char *sddl, rp_sd *sd, rp_err *err)
{
	struct parser ps = {sddl, sddl, err};
	memset(sd, 0, sizeof(*sd));
	if (!sddl)
		return rp_fail(err, RP_EXIT_USAGE, "SDDL: no text given");
	sd->control = SD_SELF_RELATIVE;
	int seen[4] = {0, 0, 0, 0};
	const char *parts = "OGDS";
	for (;;) {
		skip_blanks(&ps);
		if (!*ps.p)
			break;
		const char *which = ps.p[0] ? strchr(parts, ps.p[0]) : NULL;
		if (!which || ps.p[1] != ':') {
			fail_at(
			    &ps, ps.p,
			    "expected O:, G:, D: or S: (or ACL flags P AR AI NO_ACCESS_CONTROL, "
			    "or an ACE in parentheses)");
			goto fail;
		}
		int k = (int)(which - parts);
		if (seen[k]++) {
			fail_at(&ps, ps.p, "%c: appears twice", ps.p[0]);
			goto fail;
		}
		ps.p += 2;
		int rc;
		switch (k) {
		case 0:
			rc = parse_sid_at(&ps, &sd->owner);
			sd->has_owner = rc == 0;
			break;
		case 1:
			rc = parse_sid_at(&ps, &sd->group);
			sd->has_group = rc == 0;
			break;
		default:
			rc = parse_acl(&ps, sd, k == 3);
			break;
		}
		if (rc < 0)
			goto fail;
	}
	return 0;
fail:
	rp_sd_free(sd);
	return -1;
}
