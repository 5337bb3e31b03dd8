/*
 * fwrule.c — parsing and the one edit of Windows Firewall rule strings (see fwrule.h).
 *
 * Grammar ([MS-GPFAS] 2.2.2.19): RULE = "v" VERSION "|" 1*FIELD, FIELD = KEY "=" VALUE "|".
 * Positions are UTF-16 units into the value's bytes; nothing is converted until a caller asks
 * for a value, so the bytes written back are the bytes read, except the edited value.
 */
#include "reg/fwrule.h"
#include "util/bytes.h"
#include "util/text.h"

#include <stdlib.h>
#include <string.h>

static uint16_t unit(const rp_fwrule *r, size_t i)
{
	return rp_le16(r->data + 2 * i);
}

static uint16_t ascii_lower(uint16_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint16_t)(c + 32) : c;
}

/* The units [off, off+n) equal the ASCII string s, case-insensitively. */
static int units_equal(const rp_fwrule *r, size_t off, size_t n, const char *s)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(unit(r, off + i)) != ascii_lower((uint8_t)s[i]))
			return 0;
	return 1;
}

static int parse_version(rp_fwrule *r, rp_err *err)
{
	if (r->units == 0 || unit(r, 0) != 'v')
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "firewall rule does not start with a version (\"v2.10|\")");
	size_t i = 1, dots = 0, digits = 0;
	for (; i < r->units && unit(r, i) != '|'; i++) {
		uint16_t c = unit(r, i);
		if (c == '.')
			dots++;
		else if (c >= '0' && c <= '9')
			digits++;
		else
			return rp_fail(err, RP_EXIT_UNUSABLE,
				       "firewall rule version has a character other than digits "
				       "and '.' at unit %zu",
				       i);
	}
	if (i == r->units || dots != 1 || digits < 2)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "firewall rule version is not of the form vN.N followed by '|'");
	r->version_len = i;
	return 0;
}

static int parse_fields(rp_fwrule *r, rp_err *err)
{
	size_t i = r->version_len + 1, cap = 0;
	if (i >= r->units)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "firewall rule has no field after its version");
	while (i < r->units) {
		size_t key = i;
		while (i < r->units && unit(r, i) != '=' && unit(r, i) != '|')
			i++;
		if (i == r->units || unit(r, i) != '=' || i == key)
			return rp_fail(err, RP_EXIT_UNUSABLE,
				       "firewall rule field at unit %zu is not KEY=VALUE", key);
		size_t val = ++i;
		while (i < r->units && unit(r, i) != '|')
			i++;
		if (i == r->units)
			return rp_fail(err, RP_EXIT_UNUSABLE,
				       "firewall rule field at unit %zu does not end with '|'",
				       key);
		r->fields = rp_grow(r->fields, &cap, r->nfields + 1, sizeof *r->fields);
		r->fields[r->nfields++] = (rp_fwfield){
		    .key = key, .key_len = val - 1 - key, .val = val, .val_len = i - val};
		i++;
	}
	return 0;
}

/* (Re)builds the field table over r->data. */
static int index_rule(rp_fwrule *r, rp_err *err)
{
	free(r->fields);
	r->fields = NULL;
	r->nfields = 0;
	size_t n = r->len / 2;
	r->units = 0;
	while (r->units < n && unit(r, r->units) != 0)
		r->units++;
	if (parse_version(r, err) < 0 || parse_fields(r, err) < 0) {
		free(r->fields);
		r->fields = NULL;
		r->nfields = 0;
		return -1;
	}
	return 0;
}

int rp_fwrule_parse(const uint8_t *data, size_t len, rp_fwrule *out, rp_err *err)
{
	memset(out, 0, sizeof *out);
	if (len > RP_FWRULE_MAX_BYTES)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "firewall rule of %zu bytes is over the %d-byte limit", len,
			       RP_FWRULE_MAX_BYTES);
	out->data = rp_xmalloc(len ? len : 1);
	if (len)
		memcpy(out->data, data, len);
	out->len = len;
	if (index_rule(out, err) < 0) {
		rp_fwrule_free(out);
		return -1;
	}
	return 0;
}

void rp_fwrule_free(rp_fwrule *r)
{
	free(r->data);
	free(r->fields);
	memset(r, 0, sizeof *r);
}

static char *units_utf8(const rp_fwrule *r, size_t off, size_t n)
{
	return rp_utf16_to_utf8(r->data + 2 * off, 2 * n);
}

char *rp_fwrule_version(const rp_fwrule *r)
{
	return units_utf8(r, 0, r->version_len);
}

size_t rp_fwrule_count(const rp_fwrule *r, const char *key)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nfields; i++)
		n += units_equal(r, r->fields[i].key, r->fields[i].key_len, key);
	return n;
}

static const rp_fwfield *nth_field(const rp_fwrule *r, const char *key, size_t nth)
{
	for (size_t i = 0; i < r->nfields; i++)
		if (units_equal(r, r->fields[i].key, r->fields[i].key_len, key) && nth-- == 0)
			return &r->fields[i];
	return NULL;
}

char *rp_fwrule_get(const rp_fwrule *r, const char *key, size_t nth)
{
	const rp_fwfield *f = nth_field(r, key, nth);
	return f ? units_utf8(r, f->val, f->val_len) : NULL;
}

int rp_fwrule_is(const rp_fwrule *r, const char *key, const char *want)
{
	for (size_t i = 0; i < r->nfields; i++) {
		const rp_fwfield *f = &r->fields[i];
		if (units_equal(r, f->key, f->key_len, key) &&
		    units_equal(r, f->val, f->val_len, want))
			return 1;
	}
	return 0;
}

/* Reads a decimal number of at most 5 digits at units [*i, end); -1 when there is none. */
static long read_port(const rp_fwrule *r, size_t *i, size_t end)
{
	long v = 0;
	size_t start = *i;
	while (*i < end && unit(r, *i) >= '0' && unit(r, *i) <= '9' && *i - start < 5)
		v = v * 10 + (unit(r, (*i)++) - '0');
	return *i == start ? -1 : v;
}

/* One comma-separated port list: numbers and ranges "a-b"; other items (keywords) skipped. */
static int list_covers(const rp_fwrule *r, const rp_fwfield *f, unsigned port)
{
	size_t i = f->val, end = f->val + f->val_len;
	while (i < end) {
		size_t item_end = i;
		while (item_end < end && unit(r, item_end) != ',')
			item_end++;
		long lo = read_port(r, &i, item_end), hi = lo;
		if (lo >= 0 && i < item_end && unit(r, i) == '-') {
			i++;
			hi = read_port(r, &i, item_end);
		}
		if (lo >= 0 && hi >= 0 && i == item_end && (long)port >= lo && (long)port <= hi)
			return 1;
		i = item_end + 1;
	}
	return 0;
}

int rp_fwrule_port_covers(const rp_fwrule *r, const char *key, unsigned port)
{
	int seen = 0;
	for (size_t i = 0; i < r->nfields; i++) {
		const rp_fwfield *f = &r->fields[i];
		if (!units_equal(r, f->key, f->key_len, key))
			continue;
		seen = 1;
		if (list_covers(r, f, port))
			return 1;
	}
	return seen ? 0 : -1;
}

/* Replaces units [off, off+n) of the data by the ASCII string s, keeping every other byte. */
static void splice(rp_fwrule *r, size_t off, size_t n, const char *s)
{
	size_t sn = strlen(s);
	size_t head = 2 * off, tail = r->len - 2 * (off + n);
	size_t len = head + 2 * sn + tail;
	uint8_t *d = rp_xmalloc(len ? len : 1);
	memcpy(d, r->data, head);
	for (size_t i = 0; i < sn; i++) {
		d[head + 2 * i] = (uint8_t)s[i];
		d[head + 2 * i + 1] = 0;
	}
	memcpy(d + head + 2 * sn, r->data + 2 * (off + n), tail);
	free(r->data);
	r->data = d;
	r->len = len;
}

int rp_fwrule_set_active(rp_fwrule *r, int active, rp_err *err)
{
	const char *v = active ? "TRUE" : "FALSE";
	size_t n = rp_fwrule_count(r, "Active");
	if (n > 1)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "firewall rule has %zu Active fields; which one Windows uses is not "
			       "defined, so it is left as it is",
			       n);
	if (n == 1) {
		const rp_fwfield *f = nth_field(r, "Active", 0);
		splice(r, f->val, f->val_len, v);
	} else {
		char *field = rp_xasprintf("Active=%s|", v);
		splice(r, r->version_len + 1, 0, field);
		free(field);
	}
	return index_rule(r, err);
}
