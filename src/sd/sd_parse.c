/*
 * sd_parse.c — self-relative security descriptor bytes to rp_sd, and comparing/freeing rp_sd.
 *
 * The bytes come from the disk: every offset, size and count is checked against the buffer
 * before it is used.  ACEs of unknown types are kept as opaque bytes so that rp_sd_build
 * writes them back unchanged.
 */
#include "sd/sd_internal.h"
#include "util/text.h"

#include <stdlib.h>
#include <string.h>

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

enum sd_ace_layout sd_ace_layout(uint8_t type)
{
	switch (type) {
	case 0x00: /* access allowed */
	case 0x01: /* access denied */
	case 0x02: /* system audit */
	case 0x03: /* system alarm */
	case 0x09: /* access allowed callback */
	case 0x0a: /* access denied callback */
	case 0x0d: /* system audit callback */
	case 0x0e: /* system alarm callback */
	case 0x11: /* mandatory label */
	case 0x12: /* resource attribute */
	case 0x13: /* scoped policy id */
		return SD_ACE_BASIC;
	case 0x05: /* access allowed object */
	case 0x06: /* access denied object */
	case 0x07: /* system audit object */
	case 0x08: /* system alarm object */
	case 0x0b: /* access allowed callback object */
	case 0x0c: /* access denied callback object */
	case 0x0f: /* system audit callback object */
	case 0x10: /* system alarm callback object */
		return SD_ACE_OBJECT;
	default:
		return SD_ACE_OPAQUE;
	}
}

/* A SID at buf[0..avail). */
static int parse_sid(const uint8_t *buf, size_t avail, rp_sid *sid, const char *what, size_t at,
		     rp_err *err)
{
	if (avail < 8)
		return rp_fail(
		    err, RP_EXIT_UNUSABLE,
		    "security descriptor: %s SID at offset %zu is cut short (%zu bytes left)", what,
		    at, avail);
	if (buf[0] != 1)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "security descriptor: %s SID at offset %zu has revision %u, not 1",
			       what, at, buf[0]);
	if (buf[1] > SD_SID_MAX_SUB)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "security descriptor: %s SID at offset %zu has %u sub-authorities "
			       "(at most 15)",
			       what, at, buf[1]);
	memset(sid, 0, sizeof(*sid));
	sid->revision = buf[0];
	sid->count = buf[1];
	if (sd_sid_size(sid) > avail)
		return rp_fail(
		    err, RP_EXIT_UNUSABLE,
		    "security descriptor: %s SID at offset %zu needs %zu bytes, %zu left", what, at,
		    sd_sid_size(sid), avail);
	memcpy(sid->authority, buf + 2, 6);
	for (unsigned i = 0; i < sid->count; i++)
		sid->sub[i] = le32(buf + 8 + 4 * i);
	return 0;
}

static void copy_extra(rp_ace *ace, const uint8_t *p, size_t n)
{
	ace->extra_len = n;
	if (n) {
		ace->extra = rp_xmalloc(n);
		memcpy(ace->extra, p, n);
	}
}

/* One ACE of ace_size bytes at buf (size already checked against the ACL). */
static int parse_ace(const uint8_t *buf, size_t ace_size, size_t at, rp_ace *ace, rp_err *err)
{
	ace->type = buf[0];
	ace->flags = buf[1];
	enum sd_ace_layout layout = sd_ace_layout(ace->type);
	if (layout == SD_ACE_OPAQUE) {
		copy_extra(ace, buf + 4, ace_size - 4);
		return 0;
	}
	size_t pos = 8;
	if (ace_size < pos + 8)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "security descriptor: ACE at offset %zu is %zu bytes, too small for "
			       "type 0x%02x",
			       at, ace_size, ace->type);
	ace->mask = le32(buf + 4);
	if (layout == SD_ACE_OBJECT) {
		ace->object_flags = le32(buf + 8);
		pos = 12;
		if (ace->object_flags & SD_ACE_OBJECT_TYPE_PRESENT) {
			if (ace_size < pos + 16)
				return rp_fail(
				    err, RP_EXIT_UNUSABLE,
				    "security descriptor: object ACE at offset %zu is cut "
				    "short in its object type GUID",
				    at);
			memcpy(ace->object_type, buf + pos, 16);
			pos += 16;
		}
		if (ace->object_flags & SD_ACE_INHERITED_OBJECT_TYPE_PRESENT) {
			if (ace_size < pos + 16)
				return rp_fail(
				    err, RP_EXIT_UNUSABLE,
				    "security descriptor: object ACE at offset %zu is cut "
				    "short in its inherited object type GUID",
				    at);
			memcpy(ace->inherited_type, buf + pos, 16);
			pos += 16;
		}
	}
	if (parse_sid(buf + pos, ace_size - pos, &ace->sid, "ACE", at + pos, err) < 0)
		return -1;
	pos += sd_sid_size(&ace->sid);
	copy_extra(ace, buf + pos, ace_size - pos);
	return 0;
}

static int parse_acl(const uint8_t *buf, size_t len, size_t off, rp_acl *acl, const char *what,
		     rp_err *err)
{
	if (off < SD_HEADER_SIZE || off > len || len - off < SD_ACL_HEADER_SIZE)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "security descriptor: %s offset %zu is outside the %zu-byte "
			       "descriptor",
			       what, off, len);
	const uint8_t *p = buf + off;
	acl->revision = p[0];
	size_t acl_size = le16(p + 2);
	size_t count = le16(p + 4);
	if (acl->revision < SD_ACL_REVISION || acl->revision > SD_ACL_REVISION_DS)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "security descriptor: %s has revision %u (2 to 4 expected)", what,
			       acl->revision);
	if (acl_size < SD_ACL_HEADER_SIZE || acl_size % 4 != 0 || acl_size > len - off)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "security descriptor: %s size %zu is invalid or runs past the "
			       "%zu-byte descriptor",
			       what, acl_size, len);
	/* Every ACE takes at least 4 bytes: this bounds the allocation below. */
	if (count > (acl_size - SD_ACL_HEADER_SIZE) / 4)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "security descriptor: %s claims %zu ACEs in %zu bytes", what, count,
			       acl_size);
	acl->count = count;
	acl->aces = rp_xcalloc(count ? count : 1, sizeof(rp_ace));
	size_t pos = SD_ACL_HEADER_SIZE;
	for (size_t i = 0; i < count; i++) {
		if (acl_size - pos < 4)
			return rp_fail(err, RP_EXIT_UNUSABLE,
				       "security descriptor: %s ACE %zu starts past the end of the "
				       "ACL",
				       what, i);
		size_t ace_size = le16(p + pos + 2);
		if (ace_size < 4 || ace_size % 4 != 0 || ace_size > acl_size - pos)
			return rp_fail(
			    err, RP_EXIT_UNUSABLE,
			    "security descriptor: %s ACE %zu has size %zu (a multiple of "
			    "4 within the ACL's %zu bytes expected)",
			    what, i, ace_size, acl_size);
		if (parse_ace(p + pos, ace_size, off + pos, &acl->aces[i], err) < 0)
			return -1;
		pos += ace_size;
	}
	return 0;
}

int rp_sd_parse(const uint8_t *buf, size_t len, rp_sd *sd, rp_err *err)
{
	memset(sd, 0, sizeof(*sd));
	if (!buf || len < SD_HEADER_SIZE)
		return rp_fail(
		    err, RP_EXIT_UNUSABLE,
		    "security descriptor of %zu bytes is shorter than its 20-byte header", len);
	if (buf[0] != 1)
		return rp_fail(err, RP_EXIT_UNUSABLE, "security descriptor has revision %u, not 1",
			       buf[0]);
	uint16_t control = le16(buf + 2);
	if (!(control & SD_SELF_RELATIVE))
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "security descriptor is not self-relative (control 0x%04x)",
			       control);
	sd->rm_control = buf[1];
	sd->control = control;
	size_t off_owner = le32(buf + 4), off_group = le32(buf + 8);
	size_t off_sacl = le32(buf + 12), off_dacl = le32(buf + 16);
	if (off_owner) {
		if (off_owner < SD_HEADER_SIZE || off_owner > len)
			goto bad_offset;
		if (parse_sid(buf + off_owner, len - off_owner, &sd->owner, "owner", off_owner,
			      err) < 0)
			goto fail;
		sd->has_owner = 1;
	}
	if (off_group) {
		if (off_group < SD_HEADER_SIZE || off_group > len)
			goto bad_offset;
		if (parse_sid(buf + off_group, len - off_group, &sd->group, "group", off_group,
			      err) < 0)
			goto fail;
		sd->has_group = 1;
	}
	/* An ACL offset without its PRESENT bit is ignored, as Windows does. */
	if (control & SD_SACL_PRESENT) {
		sd->has_sacl = 1;
		if (!off_sacl)
			sd->sacl_null = 1;
		else if (parse_acl(buf, len, off_sacl, &sd->sacl, "SACL", err) < 0)
			goto fail;
	}
	if (control & SD_DACL_PRESENT) {
		sd->has_dacl = 1;
		if (!off_dacl)
			sd->dacl_null = 1;
		else if (parse_acl(buf, len, off_dacl, &sd->dacl, "DACL", err) < 0)
			goto fail;
	}
	return 0;
bad_offset:
	rp_fail(err, RP_EXIT_UNUSABLE,
		"security descriptor: owner/group offset (%zu/%zu) lies outside the %zu-byte "
		"descriptor",
		off_owner, off_group, len);
fail:
	rp_sd_free(sd);
	return -1;
}

static void free_acl(rp_acl *acl)
{
	for (size_t i = 0; i < acl->count; i++)
		free(acl->aces[i].extra);
	free(acl->aces);
	memset(acl, 0, sizeof(*acl));
}

void rp_sd_free(rp_sd *sd)
{
	if (!sd)
		return;
	free_acl(&sd->dacl);
	free_acl(&sd->sacl);
	memset(sd, 0, sizeof(*sd));
}

static int ace_equal(const rp_ace *a, const rp_ace *b)
{
	if (a->type != b->type || a->flags != b->flags || a->extra_len != b->extra_len)
		return 0;
	if (a->extra_len && memcmp(a->extra, b->extra, a->extra_len) != 0)
		return 0;
	enum sd_ace_layout layout = sd_ace_layout(a->type);
	if (layout == SD_ACE_OPAQUE)
		return 1;
	if (a->mask != b->mask || !rp_sid_equal(&a->sid, &b->sid))
		return 0;
	if (layout == SD_ACE_OBJECT) {
		if (a->object_flags != b->object_flags)
			return 0;
		if ((a->object_flags & SD_ACE_OBJECT_TYPE_PRESENT) &&
		    memcmp(a->object_type, b->object_type, 16) != 0)
			return 0;
		if ((a->object_flags & SD_ACE_INHERITED_OBJECT_TYPE_PRESENT) &&
		    memcmp(a->inherited_type, b->inherited_type, 16) != 0)
			return 0;
	}
	return 1;
}

/* The ACL revision is a format detail, not part of what the ACL grants: not compared. */
static int acl_equal(const rp_acl *a, const rp_acl *b)
{
	if (a->count != b->count)
		return 0;
	for (size_t i = 0; i < a->count; i++)
		if (!ace_equal(&a->aces[i], &b->aces[i]))
			return 0;
	return 1;
}

int rp_sd_equal(const rp_sd *a, const rp_sd *b)
{
	/* PRESENT bits are compared through has_dacl/has_sacl. */
	const uint16_t ignored = SD_SELF_RELATIVE | SD_DACL_PRESENT | SD_SACL_PRESENT;
	if ((a->control & ~ignored) != (b->control & ~ignored) || a->rm_control != b->rm_control)
		return 0;
	if (!!a->has_owner != !!b->has_owner || !!a->has_group != !!b->has_group)
		return 0;
	if (a->has_owner && !rp_sid_equal(&a->owner, &b->owner))
		return 0;
	if (a->has_group && !rp_sid_equal(&a->group, &b->group))
		return 0;
	if (!!a->has_dacl != !!b->has_dacl || !!a->has_sacl != !!b->has_sacl)
		return 0;
	if (a->has_dacl) {
		if (!!a->dacl_null != !!b->dacl_null)
			return 0;
		if (!a->dacl_null && !acl_equal(&a->dacl, &b->dacl))
			return 0;
	}
	if (a->has_sacl) {
		if (!!a->sacl_null != !!b->sacl_null)
			return 0;
		if (!a->sacl_null && !acl_equal(&a->sacl, &b->sacl))
			return 0;
	}
	return 1;
}
