/*
 * sd.h — Windows security descriptors: binary (self-relative) and SDDL, both directions.
 *
 * Hand-written: no Debian library converts SDDL.  Parsing is bounds-checked (descriptors come
 * from the disk).  SDDL output uses Windows' canonical spelling: SID aliases (SY BA WD NS LS
 * ...), rights aliases (FA FR FW FX KA ... GA GR ...) when the mask matches exactly, else the
 * bit names when every bit has one, else hex ("0x12019f").  Compare descriptors as parsed
 * structures, never as strings.
 */
#ifndef RP_SD_H
#define RP_SD_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

/* Security descriptor control bits (rp_sd.control; Windows' SE_*). */
enum {
	SD_OWNER_DEFAULTED = 0x0001,
	SD_GROUP_DEFAULTED = 0x0002,
	SD_DACL_PRESENT = 0x0004,
	SD_DACL_DEFAULTED = 0x0008,
	SD_SACL_PRESENT = 0x0010,
	SD_SACL_DEFAULTED = 0x0020,
	SD_DACL_AUTO_INHERIT_REQ = 0x0100,
	SD_SACL_AUTO_INHERIT_REQ = 0x0200,
	SD_DACL_AUTO_INHERITED = 0x0400,
	SD_SACL_AUTO_INHERITED = 0x0800,
	SD_DACL_PROTECTED = 0x1000,
	SD_SACL_PROTECTED = 0x2000,
	SD_RM_CONTROL_VALID = 0x4000,
	SD_SELF_RELATIVE = 0x8000,
};

typedef struct rp_sid {
	uint8_t revision;
	uint8_t count; /* sub-authorities, <= 15 */
	uint8_t authority[6];
	uint32_t sub[15];
} rp_sid;

typedef struct rp_ace {
	uint8_t type;  /* 0 allow, 1 deny, 2 audit, 0x11 mandatory label, ... */
	uint8_t flags; /* OI 0x1, CI 0x2, NP 0x4, IO 0x8, ID 0x10, SA 0x40, FA 0x80 */
	uint32_t mask;
	rp_sid sid;
	/* object ACEs (types 5-8): */
	uint32_t object_flags;
	uint8_t object_type[16], inherited_type[16];
	/* bytes after the SID that are part of the ACE (callback/resource data), kept verbatim */
	uint8_t *extra;
	size_t extra_len;
} rp_ace;

typedef struct rp_acl {
	uint8_t revision;
	rp_ace *aces;
	size_t count;
} rp_acl;

typedef struct rp_sd {
	uint16_t control; /* SE_* bits; SELF_RELATIVE is implied */
	uint8_t rm_control;
	int has_owner, has_group;
	rp_sid owner, group;
	int has_dacl, has_sacl;	  /* present (DACL_PRESENT/SACL_PRESENT) */
	int dacl_null, sacl_null; /* present but NULL */
	rp_acl dacl, sacl;
} rp_sd;

int rp_sd_parse(const uint8_t *buf, size_t len, rp_sd *sd, rp_err *err);
/* Self-relative bytes laid out header, owner, group, SACL, DACL without padding (what
 * libntfs-3g's ntfs_set_ntfs_acl accepts).  malloc'd. */
int rp_sd_build(const rp_sd *sd, uint8_t **buf, size_t *len, rp_err *err);
int rp_sd_from_sddl(const char *sddl, rp_sd *sd, rp_err *err);
char *rp_sd_to_sddl(const rp_sd *sd); /* malloc'd; NULL when SDDL cannot express it */
/* SDDL of self-relative SD bytes (malloc'd; NULL when they do not parse or SDDL cannot express
 * them). */
char *rp_sd_bytes_to_sddl(const uint8_t *sd, size_t len);
/* Same, saying why not: callback/conditional, resource-attribute and unknown ACE types, ACEs
 * with application data after the SID, ACE flag 0x20 (docs/sddl.md). */
char *rp_sd_format_sddl(const rp_sd *sd, rp_err *err);
void rp_sd_free(rp_sd *sd);
int rp_sd_equal(const rp_sd *a, const rp_sd *b);

int rp_sid_parse_text(const char *s, rp_sid *sid); /* "S-1-5-18" or an alias ("SY") */
char *rp_sid_to_text(const rp_sid *sid);	   /* always the numeric "S-1-..." form */
int rp_sid_equal(const rp_sid *a, const rp_sid *b);
/* NT SERVICE\<name>: S-1-5-80- + SHA-1 of the upper-cased UTF-16LE name. */
void rp_sid_service(const char *service, rp_sid *sid);
/* "NT AUTHORITY\SYSTEM", "BUILTIN\Administrators", "Everyone", ... or NULL when unknown. */
const char *rp_sid_well_known_name(const rp_sid *sid);

#endif
