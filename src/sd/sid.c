/*
 * sid.c — security identifiers: text form, SDDL aliases, display names, service SIDs.
 *
 * The alias table is the one of ntfs-3g.md §8.2 (Microsoft's "SID Strings").  Domain-relative
 * aliases (LA, DA, ...) need the machine or domain SID, which an offline tool does not know:
 * they are refused on input and such SIDs are printed numerically.
 */
#include "sd/sd_internal.h"
#include "util/hash.h"
#include "util/text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUTH_WORLD 1
#define AUTH_CREATOR 3
#define AUTH_NT 5
#define AUTH_APP_PACKAGE 15
#define AUTH_LABEL 16
#define RID_BUILTIN 32

struct sid_alias {
	char code[3];
	uint8_t authority;
	uint8_t count;
	uint32_t sub[2];
	const char *name; /* display name, or NULL */
};

static const struct sid_alias sid_aliases[] = {
    {"WD", AUTH_WORLD, 1, {0, 0}, "Everyone"},
    {"CO", AUTH_CREATOR, 1, {0, 0}, "CREATOR OWNER"},
    {"CG", AUTH_CREATOR, 1, {1, 0}, "CREATOR GROUP"},
    {"OW", AUTH_CREATOR, 1, {4, 0}, "OWNER RIGHTS"},
    {"NU", AUTH_NT, 1, {2, 0}, "NT AUTHORITY\\NETWORK"},
    {"IU", AUTH_NT, 1, {4, 0}, "NT AUTHORITY\\INTERACTIVE"},
    {"SU", AUTH_NT, 1, {6, 0}, "NT AUTHORITY\\SERVICE"},
    {"AN", AUTH_NT, 1, {7, 0}, "NT AUTHORITY\\ANONYMOUS LOGON"},
    {"ED", AUTH_NT, 1, {9, 0}, "NT AUTHORITY\\ENTERPRISE DOMAIN CONTROLLERS"},
    {"PS", AUTH_NT, 1, {10, 0}, "NT AUTHORITY\\SELF"},
    {"AU", AUTH_NT, 1, {11, 0}, "NT AUTHORITY\\Authenticated Users"},
    {"RC", AUTH_NT, 1, {12, 0}, "NT AUTHORITY\\RESTRICTED"},
    {"SY", AUTH_NT, 1, {18, 0}, "NT AUTHORITY\\SYSTEM"},
    {"LS", AUTH_NT, 1, {19, 0}, "NT AUTHORITY\\LOCAL SERVICE"},
    {"NS", AUTH_NT, 1, {20, 0}, "NT AUTHORITY\\NETWORK SERVICE"},
    {"WR", AUTH_NT, 1, {33, 0}, "NT AUTHORITY\\WRITE RESTRICTED"},
    {"BA", AUTH_NT, 2, {RID_BUILTIN, 544}, "BUILTIN\\Administrators"},
    {"BU", AUTH_NT, 2, {RID_BUILTIN, 545}, "BUILTIN\\Users"},
    {"BG", AUTH_NT, 2, {RID_BUILTIN, 546}, "BUILTIN\\Guests"},
    {"PU", AUTH_NT, 2, {RID_BUILTIN, 547}, "BUILTIN\\Power Users"},
    {"AO", AUTH_NT, 2, {RID_BUILTIN, 548}, "BUILTIN\\Account Operators"},
    {"SO", AUTH_NT, 2, {RID_BUILTIN, 549}, "BUILTIN\\Server Operators"},
    {"PO", AUTH_NT, 2, {RID_BUILTIN, 550}, "BUILTIN\\Print Operators"},
    {"BO", AUTH_NT, 2, {RID_BUILTIN, 551}, "BUILTIN\\Backup Operators"},
    {"RE", AUTH_NT, 2, {RID_BUILTIN, 552}, "BUILTIN\\Replicator"},
    {"RU", AUTH_NT, 2, {RID_BUILTIN, 554}, "BUILTIN\\Pre-Windows 2000 Compatible Access"},
    {"RD", AUTH_NT, 2, {RID_BUILTIN, 555}, "BUILTIN\\Remote Desktop Users"},
    {"NO", AUTH_NT, 2, {RID_BUILTIN, 556}, "BUILTIN\\Network Configuration Operators"},
    {"MU", AUTH_NT, 2, {RID_BUILTIN, 558}, "BUILTIN\\Performance Monitor Users"},
    {"LU", AUTH_NT, 2, {RID_BUILTIN, 559}, "BUILTIN\\Performance Log Users"},
    {"IS", AUTH_NT, 2, {RID_BUILTIN, 568}, "BUILTIN\\IIS_IUSRS"},
    {"CY", AUTH_NT, 2, {RID_BUILTIN, 569}, "BUILTIN\\Cryptographic Operators"},
    {"ER", AUTH_NT, 2, {RID_BUILTIN, 573}, "BUILTIN\\Event Log Readers"},
    {"CD", AUTH_NT, 2, {RID_BUILTIN, 574}, "BUILTIN\\Certificate Service DCOM Access"},
    {"RA", AUTH_NT, 2, {RID_BUILTIN, 575}, "BUILTIN\\RDS Remote Access Servers"},
    {"ES", AUTH_NT, 2, {RID_BUILTIN, 576}, "BUILTIN\\RDS Endpoint Servers"},
    {"MS", AUTH_NT, 2, {RID_BUILTIN, 577}, "BUILTIN\\RDS Management Servers"},
    {"HA", AUTH_NT, 2, {RID_BUILTIN, 578}, "BUILTIN\\Hyper-V Administrators"},
    {"AA", AUTH_NT, 2, {RID_BUILTIN, 579}, "BUILTIN\\Access Control Assistance Operators"},
    {"RM", AUTH_NT, 2, {RID_BUILTIN, 580}, "BUILTIN\\Remote Management Users"},
    {"AC", AUTH_APP_PACKAGE, 2, {2, 1}, "APPLICATION PACKAGE AUTHORITY\\ALL APPLICATION PACKAGES"},
    {"LW", AUTH_LABEL, 1, {4096, 0}, "Mandatory Label\\Low Mandatory Level"},
    {"ME", AUTH_LABEL, 1, {8192, 0}, "Mandatory Label\\Medium Mandatory Level"},
    {"MP", AUTH_LABEL, 1, {8448, 0}, "Mandatory Label\\Medium Plus Mandatory Level"},
    {"HI", AUTH_LABEL, 1, {12288, 0}, "Mandatory Label\\High Mandatory Level"},
    {"SI", AUTH_LABEL, 1, {16384, 0}, "Mandatory Label\\System Mandatory Level"},
};

/* Aliases for SIDs under the machine's or the domain's own SID. */
static const char domain_aliases[][3] = {"LA", "LG", "DA", "DU", "DG", "DC", "DD", "CA", "SA",
					 "EA", "PA", "RS", "RO", "CN", "AP", "KA", "EK"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void alias_to_sid(const struct sid_alias *a, rp_sid *sid)
{
	memset(sid, 0, sizeof(*sid));
	sid->revision = 1;
	sid->count = a->count;
	sid->authority[5] = a->authority;
	for (unsigned i = 0; i < a->count; i++)
		sid->sub[i] = a->sub[i];
}

static const struct sid_alias *find_alias(const rp_sid *sid)
{
	for (size_t i = 0; i < COUNT(sid_aliases); i++) {
		rp_sid known;
		alias_to_sid(&sid_aliases[i], &known);
		if (rp_sid_equal(&known, sid))
			return &sid_aliases[i];
	}
	return NULL;
}

const char *sd_sid_alias(const rp_sid *sid)
{
	const struct sid_alias *a = find_alias(sid);
	return a ? a->code : NULL;
}

int sd_sid_from_alias(const char *s, rp_sid *sid)
{
	for (size_t i = 0; i < COUNT(sid_aliases); i++) {
		if (s[0] == sid_aliases[i].code[0] && s[0] && s[1] == sid_aliases[i].code[1]) {
			alias_to_sid(&sid_aliases[i], sid);
			return 0;
		}
	}
	return -1;
}

int sd_is_domain_alias(const char *s)
{
	for (size_t i = 0; i < COUNT(domain_aliases); i++)
		if (s[0] && s[0] == domain_aliases[i][0] && s[1] == domain_aliases[i][1])
			return 1;
	return 0;
}

int rp_sid_equal(const rp_sid *a, const rp_sid *b)
{
	if (a->revision != b->revision || a->count != b->count ||
	    memcmp(a->authority, b->authority, 6) != 0)
		return 0;
	for (unsigned i = 0; i < a->count && i < SD_SID_MAX_SUB; i++)
		if (a->sub[i] != b->sub[i])
			return 0;
	return 1;
}

/* Decimal (or, for the authority, "0x" hex) number of at most max; *end after it. */
static int scan_number(const char *s, int allow_hex, uint64_t max, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	const char *p = s;
	if (allow_hex && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		if (!isxdigit((unsigned char)*p))
			return -1;
		/* At most 12 digits: a 48-bit authority; stops before a following "D:". */
		for (int n = 0; n < 12 && isxdigit((unsigned char)*p); n++, p++) {
			int d = isdigit((unsigned char)*p) ? *p - '0'
							   : tolower((unsigned char)*p) - 'a' + 10;
			v = v * 16 + (uint64_t)d;
		}
	} else {
		if (!isdigit((unsigned char)*p))
			return -1;
		for (; isdigit((unsigned char)*p); p++) {
			v = v * 10 + (uint64_t)(*p - '0');
			if (v > max)
				return -1;
		}
	}
	if (v > max)
		return -1;
	*out = v;
	*end = p;
	return 0;
}

int sd_sid_scan(const char *s, size_t *used, rp_sid *sid, rp_err *err)
{
	memset(sid, 0, sizeof(*sid));
	if ((s[0] == 'S' || s[0] == 's') && s[1] == '-') {
		const char *p = s + 2;
		uint64_t v;
		if (scan_number(p, 0, 255, &v, &p) < 0 || v != 1)
			return rp_fail(err, RP_EXIT_USAGE,
				       "SID must start with \"S-1-\" (revision 1)");
		if (*p != '-')
			return rp_fail(err, RP_EXIT_USAGE,
				       "SID needs an identifier authority after \"S-1-\"");
		p++;
		if (scan_number(p, 1, 0xffffffffffffULL, &v, &p) < 0)
			return rp_fail(err, RP_EXIT_USAGE,
				       "SID identifier authority must be a number below 2^48");
		sid->revision = 1;
		for (int i = 5; i >= 0; i--, v >>= 8)
			sid->authority[i] = (uint8_t)(v & 0xff);
		while (*p == '-') {
			if (sid->count == SD_SID_MAX_SUB)
				return rp_fail(err, RP_EXIT_USAGE,
					       "SID has more than 15 sub-authorities");
			if (scan_number(p + 1, 0, 0xffffffffULL, &v, &p) < 0)
				return rp_fail(
				    err, RP_EXIT_USAGE,
				    "SID sub-authority must be a decimal number below 2^32");
			sid->sub[sid->count++] = (uint32_t)v;
		}
		*used = (size_t)(p - s);
		return 0;
	}
	if (s[0] && s[1] && sd_sid_from_alias(s, sid) == 0) {
		*used = 2;
		return 0;
	}
	if (s[0] && s[1] && sd_is_domain_alias(s))
		return rp_fail(err, RP_EXIT_USAGE,
			       "SID alias \"%.2s\" is relative to the machine's or domain's SID, "
			       "which is not known offline: write the numeric S-1-5-21-... form",
			       s);
	return rp_fail(err, RP_EXIT_USAGE,
		       "expected a SID (\"S-1-5-18\" or an alias such as SY, BA, WD)");
}

int rp_sid_parse_text(const char *s, rp_sid *sid)
{
	size_t used;
	rp_sid parsed;
	if (!s || sd_sid_scan(s, &used, &parsed, NULL) < 0 || s[used] != '\0')
		return -1;
	*sid = parsed;
	return 0;
}

char *rp_sid_to_text(const rp_sid *sid)
{
	char buf[16 + 11 * SD_SID_MAX_SUB + 16];
	uint64_t auth = 0;
	for (int i = 0; i < 6; i++)
		auth = (auth << 8) | sid->authority[i];
	int n;
	/* Windows prints authorities of 2^32 and above as 12 hex digits. */
	if (auth >> 32)
		n = snprintf(buf, sizeof(buf), "S-%u-0x%012llX", sid->revision,
			     (unsigned long long)auth);
	else
		n = snprintf(buf, sizeof(buf), "S-%u-%llu", sid->revision,
			     (unsigned long long)auth);
	for (unsigned i = 0; i < sid->count && i < SD_SID_MAX_SUB; i++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "-%u", sid->sub[i]);
	return rp_xstrdup(buf);
}

void rp_sid_service(const char *service, rp_sid *sid)
{
	size_t len = 0;
	uint8_t *u16 = rp_utf8_to_utf16(service, &len);
	if (!u16) {
		/* Not UTF-8: hash the bytes as Latin-1, the nearest reading of the name. */
		size_t n = strlen(service);
		u16 = rp_xcalloc(n + 1, 2);
		for (size_t i = 0; i < n; i++)
			u16[2 * i] = (uint8_t)service[i];
		len = 2 * (n + 1);
	}
	len -= 2; /* the terminating NUL unit is not hashed */
	/* Windows upper-cases the name first; service names are ASCII in practice. */
	for (size_t i = 0; i + 1 < len; i += 2)
		if (u16[i + 1] == 0 && u16[i] >= 'a' && u16[i] <= 'z')
			u16[i] = (uint8_t)(u16[i] - 'a' + 'A');
	uint8_t digest[20];
	rp_sha1(u16, len, digest);
	free(u16);
	memset(sid, 0, sizeof(*sid));
	sid->revision = 1;
	sid->authority[5] = AUTH_NT;
	sid->count = 6;
	sid->sub[0] = 80;
	for (int i = 0; i < 5; i++)
		sid->sub[1 + i] = (uint32_t)digest[4 * i] | (uint32_t)digest[4 * i + 1] << 8 |
				  (uint32_t)digest[4 * i + 2] << 16 |
				  (uint32_t)digest[4 * i + 3] << 24;
}

const char *rp_sid_well_known_name(const rp_sid *sid)
{
	const struct sid_alias *a = find_alias(sid);
	if (a)
		return a->name;
	/* Service SIDs are hashes and cannot be reversed; the one every system has is known. */
	rp_sid trusted_installer;
	rp_sid_service("TrustedInstaller", &trusted_installer);
	if (rp_sid_equal(sid, &trusted_installer))
		return "NT SERVICE\\TrustedInstaller";
	return NULL;
}
