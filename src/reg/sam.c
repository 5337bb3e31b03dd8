/*
 * sam.c — SAM alias, user and domain values and the membership map (see sam.h).
 *
 * Parsers only read inside the value they are given; an alias C is rewritten by inserting the
 * new SID at the end of its member list and moving every descriptor that points past it.
 */
#include "reg/sam.h"
#include "util/bytes.h"
#include "util/text.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int rp_sam_sid_read(const uint8_t *b, size_t avail, rp_sid *sid, size_t *used)
{
	if (avail < 8 || b[0] != 1 || b[1] > 15 || avail < 8 + 4 * (size_t)b[1])
		return -1;
	memset(sid, 0, sizeof *sid);
	sid->revision = b[0];
	sid->count = b[1];
	memcpy(sid->authority, b + 2, 6);
	for (unsigned i = 0; i < sid->count; i++)
		sid->sub[i] = rp_le32(b + 8 + 4 * i);
	*used = 8 + 4 * (size_t)sid->count;
	return 0;
}

size_t rp_sam_sid_write(const rp_sid *sid, uint8_t out[68])
{
	unsigned n = sid->count > 15 ? 15 : sid->count;
	out[0] = sid->revision;
	out[1] = (uint8_t)n;
	memcpy(out + 2, sid->authority, 6);
	for (unsigned i = 0; i < n; i++)
		rp_put_le32(out + 8 + 4 * i, sid->sub[i]);
	return 8 + 4 * (size_t)n;
}

/* The [off, off+n) region of a value whose data starts at base: 0 when it fits. */
static int region(size_t len, size_t base, uint32_t off, uint32_t n)
{
	return base > len || off > len - base || n > len - base - off ? -1 : 0;
}

static char *utf16_field(const uint8_t *v, size_t len, size_t base, uint32_t off, uint32_t n)
{
	if (n == 0 || region(len, base, off, n) < 0)
		return NULL;
	return rp_utf16_to_utf8(v + base + off, n & ~1u);
}

int rp_sam_alias_parse(const uint8_t *c, size_t len, rp_sam_alias *out, rp_err *err)
{
	memset(out, 0, sizeof *out);
	if (len < RP_SAM_ALIAS_HEADER)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "alias value C is %zu bytes, shorter than its "
			       "0x34-byte header",
			       len);
	uint32_t name_off = rp_le32(c + 0x10), name_len = rp_le32(c + 0x14);
	uint32_t moff = rp_le32(c + 0x28), mlen = rp_le32(c + 0x2C), count = rp_le32(c + 0x30);
	if (region(len, RP_SAM_ALIAS_HEADER, moff, mlen) < 0)
		return rp_fail(
		    err, RP_EXIT_UNUSABLE,
		    "alias value C: member list (offset 0x%x, %u bytes) runs past its %zu "
		    "bytes",
		    moff, mlen, len);
	if (count > mlen / 8)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "alias value C: %u members cannot fit in %u bytes", count, mlen);
	out->name = utf16_field(c, len, RP_SAM_ALIAS_HEADER, name_off, name_len);
	out->members_off = moff;
	out->members_len = mlen;
	out->members = count ? rp_xcalloc(count, sizeof *out->members) : NULL;
	const uint8_t *p = c + RP_SAM_ALIAS_HEADER + moff;
	size_t left = mlen;
	for (uint32_t i = 0; i < count; i++) {
		size_t used = 0;
		if (rp_sam_sid_read(p, left, &out->members[i], &used) < 0) {
			rp_sam_alias_free(out);
			return rp_fail(err, RP_EXIT_UNUSABLE,
				       "alias value C: member %u is not a SID", i + 1);
		}
		p += used;
		left -= used;
		out->members_used += (uint32_t)used;
		out->nmembers++;
	}
	return 0;
}

void rp_sam_alias_free(rp_sam_alias *a)
{
	free(a->name);
	free(a->members);
	memset(a, 0, sizeof *a);
}

int rp_sam_alias_add_member(const uint8_t *c, size_t len, const rp_sid *sid, uint8_t **out,
			    size_t *out_len, rp_err *err)
{
	rp_sam_alias a;
	if (rp_sam_alias_parse(c, len, &a, err) < 0)
		return -1;
	size_t count = a.nmembers;
	uint32_t moff = a.members_off, mlen = a.members_len, used = a.members_used;
	rp_sam_alias_free(&a);
	if (count >= 0xFFFFu || mlen > 0xFFFFFFu)
		return rp_fail(err, RP_EXIT_UNUSABLE, "alias value C: member list too large");
	uint8_t bin[68];
	size_t n = rp_sam_sid_write(sid, bin);
	size_t at = RP_SAM_ALIAS_HEADER + (size_t)moff + used; /* after the last member */
	uint8_t *v = rp_xmalloc(len + n);
	memcpy(v, c, at);
	memcpy(v + at, bin, n);
	memcpy(v + at + n, c + at, len - at);
	/* Descriptors (SD, name, comment) of data stored after the member list move along. */
	for (size_t d = 0x04; d <= 0x1C; d += 0x0C) {
		uint32_t off = rp_le32(v + d);
		if ((size_t)off + RP_SAM_ALIAS_HEADER >= at && rp_le32(v + d + 4) > 0)
			rp_put_le32(v + d, off + (uint32_t)n);
	}
	rp_put_le32(v + 0x2C, mlen + (uint32_t)n);
	rp_put_le32(v + 0x30, (uint32_t)count + 1);
	*out = v;
	*out_len = len + n;
	return 0;
}

int rp_sam_user_f_parse(const uint8_t *f, size_t len, rp_sam_user_f *out, rp_err *err)
{
	memset(out, 0, sizeof *out);
	if (len < RP_SAM_F_MIN)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "user value F is %zu bytes, shorter than the 0x44 bytes that hold "
			       "its flags",
			       len);
	out->rid = rp_le32(f + 0x30);
	out->acb = rp_le16(f + 0x38);
	out->failed_logons = rp_le16(f + 0x40);
	return 0;
}

int rp_sam_user_v_name(const uint8_t *v, size_t len, char **name, rp_err *err)
{
	*name = NULL;
	if (len < RP_SAM_USER_V_HEADER)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "user value V is %zu bytes, shorter than its 0xCC-byte header", len);
	uint32_t off = rp_le32(v + 0x0C), n = rp_le32(v + 0x10);
	if (n == 0 || region(len, RP_SAM_USER_V_HEADER, off, n) < 0)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "user value V: the name (offset 0x%x, %u bytes) is not inside its "
			       "%zu bytes",
			       off, n, len);
	*name = utf16_field(v, len, RP_SAM_USER_V_HEADER, off, n);
	if (!*name)
		return rp_fail(err, RP_EXIT_UNUSABLE, "user value V: the name is not UTF-16");
	return 0;
}

int rp_sam_domain_sid(const uint8_t *v, size_t len, rp_sid *sid, rp_err *err)
{
	if (len < RP_SAM_DOMAIN_V_HEADER)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "domain value V is %zu bytes, shorter than its "
			       "header",
			       len);
	uint32_t off = rp_le32(v + 0x0C), n = rp_le32(v + 0x10);
	size_t used = 0;
	if (region(len, RP_SAM_DOMAIN_V_HEADER, off, n) < 0 ||
	    rp_sam_sid_read(v + RP_SAM_DOMAIN_V_HEADER + off, n, sid, &used) < 0 || used != n)
		return rp_fail(err, RP_EXIT_UNUSABLE, "domain value V holds no domain SID");
	return 0;
}

uint8_t *rp_sam_membership_add(const uint8_t *data, size_t len, uint32_t rid, size_t *out_len)
{
	uint8_t *v = rp_xmalloc(len + 4);
	if (len)
		memcpy(v, data, len);
	rp_put_le32(v + len, rid);
	*out_len = len + 4;
	return v;
}

/* Trims spaces and tabs at both ends of [b, *e). */
static const char *trim(const char *b, const char **e)
{
	while (b < *e && (*b == ' ' || *b == '\t'))
		b++;
	while (*e > b && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
		(*e)--;
	return b;
}

int rp_secedit_value(const uint8_t *inf, size_t len, const char *section, const char *key,
		     char **value)
{
	*value = NULL;
	char *text;
	if (len >= 2 && inf[0] == 0xFF && inf[1] == 0xFE) {
		text = rp_utf16_to_utf8(inf + 2, (len - 2) & ~(size_t)1);
	} else {
		text = rp_xmalloc(len + 1);
		memcpy(text, inf, len);
		text[len] = 0;
	}
	if (!text)
		return 0;
	int in_section = 0;
	size_t tlen = strlen(text); /* an embedded NUL ends the text */
	size_t slen = strlen(section), klen = strlen(key);
	for (const char *line = text; line < text + tlen && !*value;) {
		const char *end = memchr(line, '\n', (size_t)(text + tlen - line));
		const char *next = end ? end + 1 : text + tlen;
		if (!end)
			end = text + tlen;
		const char *b = trim(line, &end);
		size_t l = (size_t)(end - b);
		if (l > 0 && b[0] == '[') {
			in_section = l == slen + 2 && b[l - 1] == ']' &&
				     strncasecmp(b + 1, section, slen) == 0;
		} else if (in_section) {
			const char *eq = memchr(b, '=', l);
			const char *ke = eq;
			if (eq) {
				const char *k = trim(b, &ke);
				if ((size_t)(ke - k) == klen && strncasecmp(k, key, klen) == 0) {
					const char *v = trim(eq + 1, &end);
					*value = rp_xmalloc((size_t)(end - v) + 1);
					memcpy(*value, v, (size_t)(end - v));
					(*value)[end - v] = 0;
				}
			}
		}
		line = next;
	}
	free(text);
	return *value != NULL;
}

int rp_secedit_right(const uint8_t *inf, size_t len, const char *right, char ***entries, size_t *n)
{
	*entries = NULL;
	*n = 0;
	char *list = NULL;
	if (!rp_secedit_value(inf, len, "Privilege Rights", right, &list))
		return 0;
	const char *end = list + strlen(list);
	for (const char *v = list; v < end;) {
		const char *c = memchr(v, ',', (size_t)(end - v));
		const char *ve = c ? c : end;
		const char *vb = trim(v, &ve);
		if (vb < ve && *vb == '*')
			vb++;
		if (vb < ve) {
			*entries = rp_xrealloc(*entries, (*n + 1) * sizeof **entries);
			char *s = rp_xmalloc((size_t)(ve - vb) + 1);
			memcpy(s, vb, (size_t)(ve - vb));
			s[ve - vb] = 0;
			(*entries)[(*n)++] = s;
		}
		v = c ? c + 1 : end;
	}
	free(list);
	return 1;
}
