/*
 * sd_build.c — rp_sd to self-relative bytes in the canonical layout: header, owner, group,
 * SACL, DACL, no padding.  That is what libntfs-3g's ntfs_set_ntfs_acl accepts (owner and
 * group required, exact size) and what Windows itself writes, so parse -> build is
 * byte-identical for descriptors Windows wrote.
 */
#include "sd/sd_internal.h"
#include "util/text.h"

#include <stdlib.h>
#include <string.h>

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static int check_sid(const rp_sid *sid, const char *what, rp_err *err)
{
	if (sid->revision != 1 || sid->count > SD_SID_MAX_SUB)
		return rp_fail(err, RP_EXIT_USAGE,
			       "cannot build security descriptor: %s SID has revision %u and %u "
			       "sub-authorities (revision 1, at most 15 expected)",
			       what, sid->revision, sid->count);
	return 0;
}

static size_t put_sid(uint8_t *p, const rp_sid *sid)
{
	p[0] = sid->revision;
	p[1] = sid->count;
	memcpy(p + 2, sid->authority, 6);
	for (unsigned i = 0; i < sid->count; i++)
		put32(p + 8 + 4 * i, sid->sub[i]);
	return sd_sid_size(sid);
}

/* Size of one ACE, or 0 (err filled) when it cannot be encoded. */
static size_t ace_size(const rp_ace *ace, rp_err *err)
{
	size_t size;
	switch (sd_ace_layout(ace->type)) {
	case SD_ACE_OPAQUE:
		size = 4;
		break;
	case SD_ACE_OBJECT:
		size = 12 + sd_sid_size(&ace->sid);
		if (ace->object_flags & SD_ACE_OBJECT_TYPE_PRESENT)
			size += 16;
		if (ace->object_flags & SD_ACE_INHERITED_OBJECT_TYPE_PRESENT)
			size += 16;
		break;
	default:
		size = 8 + sd_sid_size(&ace->sid);
		break;
	}
	if (sd_ace_layout(ace->type) != SD_ACE_OPAQUE && check_sid(&ace->sid, "ACE", err) < 0)
		return 0;
	if (ace->extra_len > 0xffff || size + ace->extra_len > 0xffff ||
	    (size + ace->extra_len) % 4 != 0) {
		rp_fail(err, RP_EXIT_USAGE,
			"cannot build security descriptor: ACE of type 0x%02x would be %zu bytes "
			"(a multiple of 4 up to 65532 needed)",
			ace->type, size + ace->extra_len);
		return 0;
	}
	return size + ace->extra_len;
}

static int has_object_ace(const rp_acl *acl)
{
	for (size_t i = 0; i < acl->count; i++)
		if (sd_ace_layout(acl->aces[i].type) == SD_ACE_OBJECT)
			return 1;
	return 0;
}

/* Bytes the ACL needs; 0 with err filled when it cannot be encoded. */
static size_t acl_size(const rp_acl *acl, const char *what, rp_err *err)
{
	if (acl->count > 0xffff) {
		rp_fail(err, RP_EXIT_USAGE,
			"cannot build security descriptor: %s has %zu ACEs (at most 65535)", what,
			acl->count);
		return 0;
	}
	size_t size = SD_ACL_HEADER_SIZE;
	for (size_t i = 0; i < acl->count; i++) {
		size_t n = ace_size(&acl->aces[i], err);
		if (!n)
			return 0;
		size += n;
		if (size > 0xfffc) {
			rp_fail(err, RP_EXIT_USAGE,
				"cannot build security descriptor: %s is larger than 65532 bytes",
				what);
			return 0;
		}
	}
	return size;
}

static size_t put_acl(uint8_t *p, const rp_acl *acl, size_t size)
{
	/* Keep a valid parsed revision; object ACEs need revision 4. */
	uint8_t revision =
	    acl->revision == SD_ACL_REVISION_DS ? SD_ACL_REVISION_DS : SD_ACL_REVISION;
	if (has_object_ace(acl))
		revision = SD_ACL_REVISION_DS;
	p[0] = revision;
	p[1] = 0;
	put16(p + 2, size);
	put16(p + 4, acl->count);
	put16(p + 6, 0);
	size_t pos = SD_ACL_HEADER_SIZE;
	for (size_t i = 0; i < acl->count; i++) {
		const rp_ace *ace = &acl->aces[i];
		uint8_t *a = p + pos;
		size_t n = ace_size(ace, NULL);
		a[0] = ace->type;
		a[1] = ace->flags;
		put16(a + 2, n);
		size_t at = 4;
		if (sd_ace_layout(ace->type) != SD_ACE_OPAQUE) {
			put32(a + 4, ace->mask);
			at = 8;
			if (sd_ace_layout(ace->type) == SD_ACE_OBJECT) {
				put32(a + 8, ace->object_flags);
				at = 12;
				if (ace->object_flags & SD_ACE_OBJECT_TYPE_PRESENT) {
					memcpy(a + at, ace->object_type, 16);
					at += 16;
				}
				if (ace->object_flags & SD_ACE_INHERITED_OBJECT_TYPE_PRESENT) {
					memcpy(a + at, ace->inherited_type, 16);
					at += 16;
				}
			}
			at += put_sid(a + at, &ace->sid);
		}
		if (ace->extra_len)
			memcpy(a + at, ace->extra, ace->extra_len);
		pos += n;
	}
	return size;
}

int rp_sd_build(const rp_sd *sd, uint8_t **buf, size_t *len, rp_err *err)
{
	*buf = NULL;
	*len = 0;
	if (!sd->has_owner || !sd->has_group)
		return rp_fail(err, RP_EXIT_USAGE,
			       "cannot build security descriptor without an owner and a group "
			       "(libntfs-3g refuses it): give both O: and G:");
	if (check_sid(&sd->owner, "owner", err) < 0 || check_sid(&sd->group, "group", err) < 0)
		return -1;
	size_t sacl_size = 0, dacl_size = 0;
	if (sd->has_sacl && !sd->sacl_null && !(sacl_size = acl_size(&sd->sacl, "SACL", err)))
		return -1;
	if (sd->has_dacl && !sd->dacl_null && !(dacl_size = acl_size(&sd->dacl, "DACL", err)))
		return -1;
	size_t total = SD_HEADER_SIZE + sd_sid_size(&sd->owner) + sd_sid_size(&sd->group) +
		       sacl_size + dacl_size;
	uint8_t *p = rp_xcalloc(1, total);
	uint16_t control = (uint16_t)(sd->control & ~(SD_DACL_PRESENT | SD_SACL_PRESENT));
	control |= SD_SELF_RELATIVE;
	if (sd->has_dacl)
		control |= SD_DACL_PRESENT;
	if (sd->has_sacl)
		control |= SD_SACL_PRESENT;
	p[0] = 1;
	p[1] = sd->rm_control;
	put16(p + 2, control);
	size_t pos = SD_HEADER_SIZE;
	put32(p + 4, pos);
	pos += put_sid(p + pos, &sd->owner);
	put32(p + 8, pos);
	pos += put_sid(p + pos, &sd->group);
	if (sacl_size) {
		put32(p + 12, pos);
		pos += put_acl(p + pos, &sd->sacl, sacl_size);
	}
	if (dacl_size) {
		put32(p + 16, pos);
		pos += put_acl(p + pos, &sd->dacl, dacl_size);
	}
	*buf = p;
	*len = pos;
	return 0;
}
