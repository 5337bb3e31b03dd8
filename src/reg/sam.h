/*
 * sam.h — the binary values of the SAM and SECURITY hives that say who may log on.
 *
 * Layouts (checked on the real Windows 7 SAM and SECURITY in ../shared/hives/real, and against
 * the public descriptions in regripper's samparse and chntpw's sam.h):
 *
 *  - alias C (SAM\Domains\Builtin\Aliases\<RID>\C): a 0x34-byte header, the RID at 0x00 then four
 *    (offset, length, extra) descriptors at 0x04 (security descriptor), 0x10 (name, UTF-16),
 *    0x1C (comment, UTF-16) and 0x28 (members: binary SIDs one after another; its extra word at
 *    0x30 is the member count); offsets count from 0x34.
 *  - user F (SAM\Domains\Account\Users\<RID>\F, 0x50 bytes): RID at 0x30, account control
 *    flags (ACB) at 0x38 (16 bits: 0x0001 disabled, 0x0400 locked out by the lockout policy),
 *    failed logon count at 0x40 (16 bits).
 *  - user V: a 0xCC-byte header of 12-byte descriptors; the user name at 0x0C (offset) and
 *    0x10 (length, bytes of UTF-16); offsets count from 0xCC.
 *  - domain V (SAM\Domains\Account\V): header 0x30 bytes; the domain SID is described at 0x0C
 *    (offset from 0x30) and 0x10 (length), after the security descriptor's (0x00, 0x04).
 *  - SECURITY Policy\Accounts\<SID>\ActSysAc: a 32-bit mask of logon rights (ntsecapi.h
 *    SECURITY_ACCESS_*: 0x400 remote interactive, 0x800 deny remote interactive).
 *
 * Every offset and length is checked against the value's size: the disk may be hostile.
 */
#ifndef RP_SAM_H
#define RP_SAM_H

#include "sd/sd.h"
#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

#define RP_SAM_ALIAS_HEADER 0x34u
#define RP_SAM_USER_V_HEADER 0xCCu
#define RP_SAM_DOMAIN_V_HEADER 0x30u
#define RP_SAM_F_MIN 0x44u

#define RP_ACB_DISABLED 0x0001u
#define RP_ACB_AUTOLOCK 0x0400u

#define RP_LOGON_INTERACTIVE 0x0001u
#define RP_LOGON_REMOTE_INTERACTIVE 0x0400u
#define RP_LOGON_DENY_REMOTE_INTERACTIVE 0x0800u

#define RP_RID_ADMINISTRATORS 0x220u
#define RP_RID_REMOTE_DESKTOP_USERS 0x22Bu

typedef struct rp_sam_alias {
	char *name; /* UTF-8, NULL when empty */
	rp_sid *members;
	size_t nmembers;
	uint32_t members_off, members_len; /* as stored (offset from the header) */
	uint32_t members_used;		   /* bytes the members take (<= members_len) */
} rp_sam_alias;

typedef struct rp_sam_user_f {
	uint32_t rid;
	uint16_t acb;
	uint16_t failed_logons;
} rp_sam_user_f;

/* A binary SID at b (avail bytes): fills sid and *used.  -1 when it does not fit or is not a
 * SID (revision 1, at most 15 sub-authorities). */
int rp_sam_sid_read(const uint8_t *b, size_t avail, rp_sid *sid, size_t *used);
/* The binary form of sid into out (8 + 4 * count bytes, at most 68); returns its length. */
size_t rp_sam_sid_write(const rp_sid *sid, uint8_t out[68]);

int rp_sam_alias_parse(const uint8_t *c, size_t len, rp_sam_alias *out, rp_err *err);
void rp_sam_alias_free(rp_sam_alias *a);
/* The alias C value with sid added after its last member (count and length updated,
 * the descriptors of anything stored after the list moved along): malloc'd. */
int rp_sam_alias_add_member(const uint8_t *c, size_t len, const rp_sid *sid, uint8_t **out,
			    size_t *out_len, rp_err *err);

int rp_sam_user_f_parse(const uint8_t *f, size_t len, rp_sam_user_f *out, rp_err *err);
/* The user name from a user V value (malloc'd UTF-8). */
int rp_sam_user_v_name(const uint8_t *v, size_t len, char **name, rp_err *err);
/* The account domain's SID from SAM\Domains\Account\V. */
int rp_sam_domain_sid(const uint8_t *v, size_t len, rp_sid *sid, rp_err *err);

/* SAM\Domains\Builtin\Aliases\Members\<domain>\<RID> default value: its type is the number of
 * aliases, its data their RIDs.  The data with rid added (malloc'd; len + 4 bytes). */
uint8_t *rp_sam_membership_add(const uint8_t *data, size_t len, uint32_t rid, size_t *out_len);

/* A security template (GptTmpl.inf: UTF-16LE with a BOM, or 8-bit text): the text after '='
 * of key in [section] (trimmed, malloc'd UTF-8).  1 when found, 0 when not. */
int rp_secedit_value(const uint8_t *inf, size_t len, const char *section, const char *key,
		     char **value);
/* A security template (GptTmpl.inf: UTF-16LE with a BOM, or 8-bit text): the entries of right
 * in its [Privilege Rights] section ("*S-1-5-32-544", or an account name), as malloc'd UTF-8
 * strings without the '*'.  Returns 1 when the right is listed (possibly empty), 0 when not. */
int rp_secedit_right(const uint8_t *inf, size_t len, const char *right, char ***entries, size_t *n);

#endif
