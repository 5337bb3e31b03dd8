/*
 * sd_internal.h — what the files of src/sd/ share and nothing else needs: control bits, ACE
 * type classes, SID sizes and the SID alias tables.
 */
#ifndef RP_SD_INTERNAL_H
#define RP_SD_INTERNAL_H

#include "sd/sd.h"

#include <stddef.h>
#include <stdint.h>

#define SD_HEADER_SIZE 20
#define SD_ACL_HEADER_SIZE 8
#define SD_SID_MAX_SUB 15

/* Object ACE Flags: which GUIDs follow. */
#define SD_ACE_OBJECT_TYPE_PRESENT 0x1
#define SD_ACE_INHERITED_OBJECT_TYPE_PRESENT 0x2

#define SD_ACL_REVISION 2
#define SD_ACL_REVISION_DS 4

/* How the bytes after the 4-byte ACE header are laid out. */
enum sd_ace_layout {
	SD_ACE_BASIC,  /* mask, SID, optional application data */
	SD_ACE_OBJECT, /* mask, flags, 0-2 GUIDs, SID, optional application data */
	SD_ACE_OPAQUE, /* unknown type: the whole body is kept in extra */
};

enum sd_ace_layout sd_ace_layout(uint8_t type);

static inline size_t sd_sid_size(const rp_sid *sid)
{
	return 8 + 4 * (size_t)sid->count;
}

/* Two-letter SDDL alias of a well-known SID, or NULL. */
const char *sd_sid_alias(const rp_sid *sid);
/* Alias (exactly two characters at s) to SID: 0, or -1 when it is no alias. */
int sd_sid_from_alias(const char *s, rp_sid *sid);
/* Non-zero when the two characters at s are a domain-relative alias (LA, DA, ...). */
int sd_is_domain_alias(const char *s);

/* Scans a SID at s (numeric "S-1-..." or a two-letter alias) and stores how many characters
 * it used.  Fills err with a message (no position) on failure. */
int sd_sid_scan(const char *s, size_t *used, rp_sid *sid, rp_err *err);

#endif
