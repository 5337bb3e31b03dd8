/*
 * value.c — typed views of registry values: DWORD, strings, and a bounded, escaped rendering
 * for reports.  Value data comes from the disk: every length is checked, odd UTF-16 lengths
 * drop the last byte, and everything shown is escaped.
 */
#include "reg/reg_internal.h"

#include "util/text.h"

#include <stdarg.h>
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

/* Adds one UTF-16 string (at most FORMAT_MAX_UNITS units shown) as "text", escaped. */
static void add_quoted(rp_strbuf *b, const uint8_t *u16, size_t bytes)
{
	size_t units = bytes / 2, shown_units = units;
	if (shown_units > FORMAT_MAX_UNITS)
		shown_units = FORMAT_MAX_UNITS;
	char *utf8 = rp_utf16_to_utf8(u16, shown_units * 2);
	char *esc = rp_escape(utf8);
	rp_strbuf_add(b, "\"");
	rp_strbuf_add(b, esc);
	rp_strbuf_add(b, "\"");
	if (shown_units < units) {
		rp_strbuf_addf(b, "... (%zu characters)", units);
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

static void add_hex(rp_strbuf *b, const rp_value *v)
{
	if (v->type == RP_REG_BINARY)
		rp_strbuf_add(b, "hex:");
	else
		rp_strbuf_addf(b, "hex(%x):", v->type);
	size_t shown = v->len < FORMAT_MAX_BYTES ? v->len : FORMAT_MAX_BYTES;
	for (size_t i = 0; i < shown; i++)
		rp_strbuf_addf(b, i ? ",%02x" : "%02x", v->data[i]);
	if (shown < v->len) {
		rp_strbuf_addf(b, "... (%zu bytes)", v->len);
	}
}

char *rp_value_format(const rp_value *v)
{
	rp_strbuf b = {0};
	rp_strbuf_add(&b, "");
	if (v->type == RP_REG_DWORD && v->len == 4) {
		uint32_t d;
		rp_value_dword(v, &d);
		rp_strbuf_addf(&b, "0x%08x (%u)", d, d);
	} else if (v->type == RP_REG_QWORD && v->len == 8) {
		unsigned long long q = 0;
		for (int i = 7; i >= 0; i--)
			q = q << 8 | v->data[i];
		rp_strbuf_addf(&b, "0x%016llx (%llu)", q, q);
	} else if (v->type == RP_REG_SZ || v->type == RP_REG_EXPAND_SZ) {
		add_quoted(&b, v->data, u16_strlen(v->data, v->len & ~(size_t)1));
	} else if (v->type == RP_REG_MULTI_SZ) {
		/* "a", "b", ... — stops at the empty string that ends the list. */
		size_t off = 0, count = 0, end = v->len & ~(size_t)1;
		rp_strbuf_add(&b, "[");
		while (off < end) {
			size_t n = u16_strlen(v->data + off, end - off);
			if (n == 0)
				break;
			if (count == 16) {
				rp_strbuf_add(&b, ", ...");
				break;
			}
			if (count++)
				rp_strbuf_add(&b, ", ");
			add_quoted(&b, v->data + off, n);
			off += n + 2;
		}
		rp_strbuf_add(&b, "]");
	} else {
		add_hex(&b, v);
	}
	return b.s;
}
