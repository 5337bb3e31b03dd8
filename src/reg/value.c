/*
 * value.c — typed views of registry values: DWORD, strings, and a bounded, escaped rendering
 * for reports; type names and TYPE DATA as reg.exe takes them on a command line.  Value data comes
 * from the disk: every length is checked, odd UTF-16 lengths drop the last byte, and everything
 * shown is escaped.
 */
#include "reg/reg_internal.h"

#include "util/text.h"

#include <errno.h>
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

/* ---- values as reg.exe and regedit name and take them on a command line ---- */

static const struct {
	const char *name;
	uint32_t type;
} types[] = {
    {"REG_NONE", RP_REG_NONE},
    {"REG_SZ", RP_REG_SZ},
    {"REG_EXPAND_SZ", RP_REG_EXPAND_SZ},
    {"REG_BINARY", RP_REG_BINARY},
    {"REG_DWORD", RP_REG_DWORD},
    {"REG_DWORD_BIG_ENDIAN", RP_REG_DWORD_BE},
    {"REG_LINK", RP_REG_LINK},
    {"REG_MULTI_SZ", RP_REG_MULTI_SZ},
    {"REG_RESOURCE_LIST", 8},
    {"REG_FULL_RESOURCE_DESCRIPTOR", 9},
    {"REG_RESOURCE_REQUIREMENTS_LIST", 10},
    {"REG_QWORD", RP_REG_QWORD},
};

const char *rp_reg_type_name(uint32_t type, char *buf, size_t n)
{
	for (size_t i = 0; i < sizeof types / sizeof *types; i++)
		if (types[i].type == type)
			return types[i].name;
	snprintf(buf, n, "REG_0x%x", type);
	return buf;
}

static int parse_number(const char *s, unsigned long long max, unsigned long long *out)
{
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int cli_hex_digit(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

int rp_value_parse(const char *tname, const char *data, uint32_t *type, uint8_t **out, size_t *len,
		   rp_err *err)
{
	int found = 0;
	for (size_t i = 0; i < sizeof types / sizeof *types && !found; i++)
		if (rp_strcasecmp(tname, types[i].name) == 0) {
			*type = types[i].type;
			found = 1;
		}
	if (!found)
		return rp_fail(
		    err, RP_EXIT_USAGE,
		    "unknown TYPE '%s'; use REG_SZ, REG_EXPAND_SZ, REG_DWORD, REG_QWORD, "
		    "REG_MULTI_SZ or REG_BINARY (hex)",
		    tname);
	unsigned long long v;
	if (*type == RP_REG_SZ || *type == RP_REG_EXPAND_SZ) {
		*out = rp_utf8_to_utf16(data, len);
		if (!*out)
			return rp_fail(err, RP_EXIT_USAGE,
				       "DATA is not valid UTF-8; pass UTF-8 text");
	} else if (*type == RP_REG_DWORD || *type == RP_REG_QWORD) {
		int q = *type == RP_REG_QWORD;
		if (parse_number(data, q ? ~0ull : 0xffffffffull, &v) < 0)
			return rp_fail(err, RP_EXIT_USAGE,
				       "%s takes a number up to %s (decimal, or hex with 0x); not "
				       "'%s'",
				       q ? "REG_QWORD" : "REG_DWORD",
				       q ? "0xffffffffffffffff" : "0xffffffff", data);
		*len = q ? 8 : 4;
		*out = rp_xmalloc(*len);
		for (size_t i = 0; i < *len; i++)
			(*out)[i] = (uint8_t)(v >> (8 * i));
	} else if (*type == RP_REG_MULTI_SZ) {
		/* Strings separated by \0, as reg.exe takes them; "" is the empty list. */
		size_t total = 0;
		uint8_t *buf = NULL;
		const char *s = data;
		while (*data) {
			const char *sep = strstr(s, "\\0");
			size_t n = sep ? (size_t)(sep - s) : strlen(s);
			char *one = rp_xasprintf("%.*s", (int)n, s);
			size_t l;
			uint8_t *u = rp_utf8_to_utf16(one, &l);
			free(one);
			if (!u) {
				free(buf);
				return rp_fail(err, RP_EXIT_USAGE,
					       "DATA is not valid UTF-8; pass UTF-8 text");
			}
			buf = rp_xrealloc(buf, total + l + 2);
			memcpy(buf + total, u, l);
			total += l;
			free(u);
			if (!sep)
				break;
			s = sep + 2;
		}
		buf = rp_xrealloc(buf, total + 2);
		buf[total] = buf[total + 1] = 0;
		*out = buf;
		*len = total + 2;
	} else {
		/* hex bytes: "01ab02", "01,ab,02" or "01 ab 02"; "" is no data */
		size_t cap = strlen(data) / 2 + 1, n = 0;
		uint8_t *buf = rp_xmalloc(cap);
		for (const char *p = data; *p;) {
			if (*p == ',' || *p == ' ' || *p == ':') {
				p++;
				continue;
			}
			if (cli_hex_digit(p[0]) < 0 || cli_hex_digit(p[1]) < 0) {
				free(buf);
				return rp_fail(err, RP_EXIT_USAGE,
					       "%s takes hex bytes such as 01,ab,ff or 01abff; not "
					       "'%s'",
					       tname, data);
			}
			buf[n++] = (uint8_t)(cli_hex_digit(p[0]) << 4 | cli_hex_digit(p[1]));
			p += 2;
		}
		*out = buf;
		*len = n;
	}
	return 0;
}

char *rp_hive_get_string(rp_hive *h, const char *key, const char *value)
{
	rp_value v = {0};
	char *s = NULL;
	if (rp_hive_get(h, key, value, &v, NULL) == 1)
		s = rp_value_string(&v);
	rp_value_free(&v);
	return s;
}
