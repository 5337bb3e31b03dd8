/*
 * pol.c — Registry.pol (PReg) parsing, editing and serializing (see pol.h).
 *
 * Hand-written because no Debian library reads PReg.  Every length comes from the file, so each
 * one is checked against what is left before it is used.
 */
#include "reg/pol.h"
#include "util/bytes.h"
#include "util/text.h"

#include <stdlib.h>
#include <string.h>

#define POL_SIGNATURE 0x67655250u /* "PReg" */
#define POL_HEADER 8

/* Reads one UTF-16LE code unit and compares it with c. */
static int unit_is(const uint8_t *buf, size_t len, size_t off, uint16_t c)
{
	return off + 2 <= len && rp_le16(buf + off) == c;
}

/* A NUL-terminated UTF-16LE string at *off; returns its byte length with the NUL, 0 if none. */
static size_t string_len(const uint8_t *buf, size_t len, size_t off)
{
	for (size_t p = off; p + 2 <= len; p += 2)
		if (rp_le16(buf + p) == 0)
			return p + 2 - off;
	return 0;
}

static uint8_t *copy_bytes(const uint8_t *p, size_t n)
{
	uint8_t *c = rp_xmalloc(n ? n : 1);
	memcpy(c, p, n);
	return c;
}

static int bad(rp_err *err, size_t off, const char *what)
{
	return rp_fail(err, RP_EXIT_UNUSABLE,
		       "Registry.pol is malformed at byte %zu (%s); nothing in it is used", off,
		       what);
}

static int parse_entry(const uint8_t *buf, size_t len, size_t *off, rp_pol_entry *e, rp_err *err)
{
	size_t p = *off;
	if (!unit_is(buf, len, p, '['))
		return bad(err, p, "expected '['");
	p += 2;
	size_t klen = string_len(buf, len, p);
	if (klen == 0)
		return bad(err, p, "key name without its terminating NUL");
	e->raw_key = copy_bytes(buf + p, klen);
	e->raw_key_len = klen;
	p += klen;
	if (!unit_is(buf, len, p, ';'))
		return bad(err, p, "expected ';' after the key");
	p += 2;
	size_t vlen = string_len(buf, len, p);
	if (vlen == 0)
		return bad(err, p, "value name without its terminating NUL");
	e->raw_value = copy_bytes(buf + p, vlen);
	e->raw_value_len = vlen;
	p += vlen;
	if (!unit_is(buf, len, p, ';') || p + 2 + 4 + 2 + 4 + 2 > len)
		return bad(err, p, "truncated type or size");
	p += 2;
	e->type = rp_le32(buf + p);
	p += 4;
	if (!unit_is(buf, len, p, ';'))
		return bad(err, p, "expected ';' after the type");
	p += 2;
	uint32_t size = rp_le32(buf + p);
	p += 4;
	if (!unit_is(buf, len, p, ';'))
		return bad(err, p, "expected ';' after the size");
	p += 2;
	if (size > len - p || len - p - size < 2)
		return bad(err, p, "data runs past the end of the file");
	e->data = copy_bytes(buf + p, size);
	e->len = size;
	p += size;
	if (!unit_is(buf, len, p, ']'))
		return bad(err, p, "expected ']'");
	*off = p + 2;
	e->key = rp_utf16_to_utf8(e->raw_key, e->raw_key_len);
	e->value = rp_utf16_to_utf8(e->raw_value, e->raw_value_len);
	return 0;
}

static void entry_free(rp_pol_entry *e)
{
	free(e->key);
	free(e->value);
	free(e->data);
	free(e->raw_key);
	free(e->raw_value);
}

int rp_pol_parse(const uint8_t *buf, size_t len, rp_pol *pol, rp_err *err)
{
	memset(pol, 0, sizeof *pol);
	pol->version = 1;
	if (len == 0)
		return 0;
	if (len < POL_HEADER || rp_le32(buf) != POL_SIGNATURE)
		return rp_fail(
		    err, RP_EXIT_UNUSABLE,
		    "not a Registry.pol file (no PReg signature); nothing in it is used");
	pol->version = rp_le32(buf + 4);
	if (pol->version != 1)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "Registry.pol has version %u, only version 1 is known",
			       pol->version);
	size_t off = POL_HEADER;
	size_t cap = 0;
	while (off < len) {
		if (pol->nentries == cap) {
			cap = cap ? 2 * cap : 16;
			pol->entries = rp_xrealloc(pol->entries, cap * sizeof *pol->entries);
		}
		rp_pol_entry *e = &pol->entries[pol->nentries];
		memset(e, 0, sizeof *e);
		if (parse_entry(buf, len, &off, e, err) < 0) {
			entry_free(e);
			rp_pol_free(pol);
			return -1;
		}
		pol->nentries++;
	}
	return 0;
}

static void put_unit(uint8_t *p, uint16_t c)
{
	p[0] = (uint8_t)c;
	p[1] = (uint8_t)(c >> 8);
}

void rp_pol_serialize(const rp_pol *pol, uint8_t **out, size_t *len)
{
	size_t n = POL_HEADER;
	for (size_t i = 0; i < pol->nentries; i++) {
		const rp_pol_entry *e = &pol->entries[i];
		n += 2 + e->raw_key_len + 2 + e->raw_value_len + 2 + 4 + 2 + 4 + 2 + e->len + 2;
	}
	uint8_t *b = rp_xmalloc(n), *p = b;
	rp_put_le32(p, POL_SIGNATURE);
	rp_put_le32(p + 4, pol->version);
	p += POL_HEADER;
	for (size_t i = 0; i < pol->nentries; i++) {
		const rp_pol_entry *e = &pol->entries[i];
		put_unit(p, '[');
		p += 2;
		memcpy(p, e->raw_key, e->raw_key_len);
		p += e->raw_key_len;
		put_unit(p, ';');
		p += 2;
		memcpy(p, e->raw_value, e->raw_value_len);
		p += e->raw_value_len;
		put_unit(p, ';');
		rp_put_le32(p + 2, e->type);
		put_unit(p + 6, ';');
		rp_put_le32(p + 8, (uint32_t)e->len);
		put_unit(p + 12, ';');
		p += 14;
		memcpy(p, e->data, e->len);
		p += e->len;
		put_unit(p, ']');
		p += 2;
	}
	*out = b;
	*len = n;
}

void rp_pol_free(rp_pol *pol)
{
	for (size_t i = 0; i < pol->nentries; i++)
		entry_free(&pol->entries[i]);
	free(pol->entries);
	memset(pol, 0, sizeof *pol);
}

static int matches(const rp_pol_entry *e, const char *key, const char *value)
{
	return rp_strcasecmp(e->key, key) == 0 && rp_strcasecmp(e->value, value) == 0;
}

const rp_pol_entry *rp_pol_find(const rp_pol *pol, const char *key, const char *value)
{
	for (size_t i = pol->nentries; i-- > 0;)
		if (matches(&pol->entries[i], key, value))
			return &pol->entries[i];
	return NULL;
}

/* Whether the ';'-separated REG_SZ list in e's data names s (case-insensitive); with prefix,
 * whether s is one of the names or lies below one ("A\\B" covers "A\\B\\C"). */
static int list_names(const rp_pol_entry *e, const char *s, int prefix)
{
	char *list = rp_utf16_to_utf8(e->data, e->len);
	int found = 0;
	for (char *save = NULL, *item = strtok_r(list, ";", &save); item && !found;
	     item = strtok_r(NULL, ";", &save)) {
		while (*item == ' ')
			item++;
		size_t n = strlen(item);
		while (n && item[n - 1] == ' ')
			item[--n] = 0;
		if (!n)
			continue;
		if (rp_strcasecmp(item, s) == 0)
			found = 1;
		else if (prefix && strlen(s) > n && s[n] == '\\') {
			char *head = rp_xstrdup(s);
			head[n] = 0;
			found = rp_strcasecmp(head, item) == 0;
			free(head);
		}
	}
	free(list);
	return found;
}

int rp_pol_deletes(const rp_pol *pol, const char *key, const char *value)
{
	char *del = rp_xasprintf("**del.%s", value);
	int deleted = 0;
	for (size_t i = 0; i < pol->nentries; i++) {
		const rp_pol_entry *e = &pol->entries[i];
		if (rp_strcasecmp(e->value, "**deletekeys") == 0) {
			if (list_names(e, key, 1))
				deleted = 1;
			continue;
		}
		if (rp_strcasecmp(e->key, key) != 0)
			continue;
		if (rp_strcasecmp(e->value, del) == 0 || rp_strcasecmp(e->value, "**delvals.") == 0)
			deleted = 1;
		else if (rp_strcasecmp(e->value, "**deletevalues") == 0 && list_names(e, value, 0))
			deleted = 1;
		else if (rp_strcasecmp(e->value, value) == 0)
			deleted = 0; /* a later set wins over an earlier delete */
	}
	free(del);
	return deleted;
}

int rp_pol_set(rp_pol *pol, const char *key, const char *value, uint32_t type, const uint8_t *data,
	       size_t len)
{
	int found = 0;
	for (size_t i = 0; i < pol->nentries; i++) {
		rp_pol_entry *e = &pol->entries[i];
		if (!matches(e, key, value))
			continue;
		free(e->data);
		e->data = copy_bytes(data, len);
		e->len = len;
		e->type = type;
		found = 1;
	}
	if (found)
		return 0;
	size_t klen = 0, vlen = 0;
	uint8_t *raw_key = rp_utf8_to_utf16(key, &klen);
	uint8_t *raw_value = rp_utf8_to_utf16(value, &vlen);
	if (!raw_key || !raw_value) {
		free(raw_key);
		free(raw_value);
		return -1;
	}
	pol->entries = rp_xrealloc(pol->entries, (pol->nentries + 1) * sizeof *pol->entries);
	rp_pol_entry *e = &pol->entries[pol->nentries++];
	memset(e, 0, sizeof *e);
	e->key = rp_xstrdup(key);
	e->value = rp_xstrdup(value);
	e->raw_key = raw_key;
	e->raw_key_len = klen;
	e->raw_value = raw_value;
	e->raw_value_len = vlen;
	e->type = type;
	e->data = copy_bytes(data, len);
	e->len = len;
	return 0;
}

size_t rp_pol_delete(rp_pol *pol, const char *key, const char *value)
{
	size_t kept = 0, removed = 0;
	for (size_t i = 0; i < pol->nentries; i++) {
		if (matches(&pol->entries[i], key, value)) {
			entry_free(&pol->entries[i]);
			removed++;
		} else {
			pol->entries[kept++] = pol->entries[i];
		}
	}
	pol->nentries = kept;
	return removed;
}
