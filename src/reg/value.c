/*
 * value.c — typed views of registry values: DWORD, strings, and a bounded, escaped rendering
 * for reports.  Value data comes from the disk: every length is checked, odd UTF-16 lengths
 * drop the last byte, and everything shown is escaped.
 */
#include "reg/reg.h"

#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest rendering of a string (UTF-16 units) and of binary data (bytes) in a report. */
#define FORMAT_MAX_UNITS 256
#define FORMAT_MAX_BYTES 64

void rp_value_free(rp_value *v)
{
	if (!v)
		return;
	free(v->data);
	v->data = NULL;
	v->len = 0;
}

int rp_value_dword(const rp_value *v, uint32_t *out)
{
	if (v->type != RP_REG_DWORD || v->len != 4)
		return -1;
	*out = (uint32_t)v->data[0] | (uint32_t)v->data[1] << 8 | (uint32_t)v->data[2] << 16 |
	       (uint32_t)v->data[3] << 24;
	return 0;
}

char *rp_value_string(const rp_value *v)
{
	if (v->type != RP_REG_SZ && v->type != RP_REG_EXPAND_SZ)
		return NULL;
	return rp_utf16_to_utf8(v->data, v->len & ~(size_t)1);
}

/* Appends to a growing string. */
typedef struct strbuf {
	char *s;
	size_t len, cap;
} strbuf;

static void sb_add(strbuf *b, const char *s)
{
	size_t n = strlen(s);
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = rp_xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

/* Adds one UTF-16 string (at most FORMAT_MAX_UNITS units shown) as "text", escaped. */
static void add_quoted(strbuf *b, const uint8_t *u16, size_t bytes)
{
	size_t units = bytes / 2, shown_units = units;
	if (shown_units > FORMAT_MAX_UNITS)
		shown_units = FORMAT_MAX_UNITS;
	char *utf8 = rp_utf16_to_utf8(u16, shown_units * 2);
	char *esc = rp_escape(utf8);
	sb_add(b, "\"");
	sb_add(b, esc);
	sb_add(b, "\"");
	if (shown_units < units) {
		char tail[64];
		snprintf(tail, sizeof tail, "... (%zu characters)", units);
		sb_add(b, tail);
	}
	free(esc);
	free(utf8);
}

/* Length in bytes of the UTF-16 string at u16 (up to the NUL unit or the end). */
static size_t u16_strlen(const uint8_t *u16, size_t bytes)
{
	size_t i = 0;
	while (i + 1 < bytes && (u16[i] || u16[i + 1]))
		i += 2;
	return i;
}

static void add_hex(strbuf *b, const rp_value *v)
{
	char prefix[32];
	if (v->type == RP_REG_BINARY)
		snprintf(prefix, sizeof prefix, "hex:");
	else
		snprintf(prefix, sizeof prefix, "hex(%x):", v->type);
	sb_add(b, prefix);
	size_t shown = v->len < FORMAT_MAX_BYTES ? v->len : FORMAT_MAX_BYTES;
	for (size_t i = 0; i < shown; i++) {
		char byte[4];
		snprintf(byte, sizeof byte, i ? ",%02x" : "%02x", v->data[i]);
		sb_add(b, byte);
	}
	if (shown < v->len) {
		char tail[64];
		snprintf(tail, sizeof tail, "... (%zu bytes)", v->len);
		sb_add(b, tail);
	}
}

char *rp_value_format(const rp_value *v)
{
	strbuf b = {0};
	sb_add(&b, "");
	char num[64];
	if (v->type == RP_REG_DWORD && v->len == 4) {
		uint32_t d;
		rp_value_dword(v, &d);
		snprintf(num, sizeof num, "0x%08x (%u)", d, d);
		sb_add(&b, num);
	} else if (v->type == RP_REG_QWORD && v->len == 8) {
		unsigned long long q = 0;
		for (int i = 7; i >= 0; i--)
			q = q << 8 | v->data[i];
		snprintf(num, sizeof num, "0x%016llx (%llu)", q, q);
		sb_add(&b, num);
	} else if (v->type == RP_REG_SZ || v->type == RP_REG_EXPAND_SZ) {
		add_quoted(&b, v->data, u16_strlen(v->data, v->len & ~(size_t)1));
	} else if (v->type == RP_REG_MULTI_SZ) {
		/* "a", "b", ... — stops at the empty string that ends the list. */
		size_t off = 0, count = 0, end = v->len & ~(size_t)1;
		sb_add(&b, "[");
		while (off < end) {
			size_t n = u16_strlen(v->data + off, end - off);
			if (n == 0)
				break;
			if (count == 16) {
				sb_add(&b, ", ...");
				break;
			}
			if (count++)
				sb_add(&b, ", ");
			add_quoted(&b, v->data + off, n);
			off += n + 2;
		}
		sb_add(&b, "]");
	} else {
		add_hex(&b, v);
	}
	return b.s;
}
