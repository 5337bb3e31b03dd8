/* text.c — see text.h. */
#include "util/text.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *rp_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fputs("rdprescue: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *rp_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p) {
		fputs("rdprescue: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *rp_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q) {
		fputs("rdprescue: out of memory\n", stderr);
		abort();
	}
	return q;
}

char *rp_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(rp_xmalloc(n), s, n);
}

char *rp_xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = rp_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

void *rp_grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	size_t n = *cap ? *cap : 16;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			n = need;
		else
			n *= 2;
	}
	if (size && n > SIZE_MAX / size) {
		fputs("rdprescue: out of memory\n", stderr);
		abort();
	}
	*cap = n;
	return rp_xrealloc(p, n * size);
}

/* Room for n more bytes and the NUL. */
static void strbuf_room(rp_strbuf *b, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = rp_xrealloc(b->s, b->cap);
	}
}

void rp_strbuf_add(rp_strbuf *b, const char *s)
{
	size_t n = strlen(s);
	strbuf_room(b, n);
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

void rp_strbuf_addf(rp_strbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	strbuf_room(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is invalid.  Overlong forms,
 * surrogates and C1 controls (U+0080..U+009F) count as invalid so that they get escaped. */
static size_t utf8_seq(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	size_t n;
	unsigned cp;
	if ((s[0] & 0xE0) == 0xC0) {
		n = 2;
		cp = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		n = 3;
		cp = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
	    (cp >= 0x80 && cp <= 0x9F))
		return 0;
	return n;
}

char *rp_escape(const char *s)
{
	size_t len = strlen(s);
	char *out = rp_xmalloc(len * 4 + 1), *o = out;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = utf8_seq(p);
		if (n == 1 && *p >= 0x20 && *p != 0x7F) {
			*o++ = (char)*p++;
		} else if (n > 1) {
			memcpy(o, p, n);
			o += n;
			p += n;
		} else {
			o += sprintf(o, "\\x%02x", *p++);
		}
	}
	*o = 0;
	return out;
}

char *rp_utf16_to_utf8(const uint8_t *u16, size_t len)
{
	size_t units = len / 2;
	char *out = rp_xmalloc(units * 3 + 1), *o = out;
	for (size_t i = 0; i < units; i++) {
		unsigned cp = u16[2 * i] | (unsigned)u16[2 * i + 1] << 8;
		if (cp == 0)
			break;
		if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < units) {
			unsigned lo = u16[2 * i + 2] | (unsigned)u16[2 * i + 3] << 8;
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				i++;
			} else {
				cp = 0xFFFD;
			}
		} else if (cp >= 0xD800 && cp <= 0xDFFF) {
			cp = 0xFFFD;
		}
		if (cp < 0x80) {
			*o++ = (char)cp;
		} else if (cp < 0x800) {
			*o++ = (char)(0xC0 | cp >> 6);
			*o++ = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			*o++ = (char)(0xE0 | cp >> 12);
			*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
			*o++ = (char)(0x80 | (cp & 0x3F));
		} else {
			*o++ = (char)(0xF0 | cp >> 18);
			*o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
			*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
			*o++ = (char)(0x80 | (cp & 0x3F));
		}
	}
	*o = 0;
	/* units*3 covers every case: a surrogate pair is 2 units for 4 bytes */
	return out;
}

uint8_t *rp_utf8_to_utf16(const char *s, size_t *out_len)
{
	size_t len = strlen(s);
	uint8_t *out = rp_xmalloc(len * 4 + 2), *o = out;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = utf8_seq(p);
		unsigned cp;
		if (n == 0) {
			/* C1 controls are valid UTF-8 even though rp_escape escapes them */
			if ((p[0] & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80 &&
			    ((p[0] & 0x1F) << 6 | (p[1] & 0x3F)) >= 0x80) {
				n = 2;
			} else {
				free(out);
				return NULL;
			}
		}
		if (n == 1)
			cp = p[0];
		else if (n == 2)
			cp = (p[0] & 0x1Fu) << 6 | (p[1] & 0x3F);
		else if (n == 3)
			cp = (p[0] & 0x0Fu) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3F);
		else
			cp = (p[0] & 0x07u) << 18 | (p[1] & 0x3Fu) << 12 | (p[2] & 0x3Fu) << 6 |
			     (p[3] & 0x3F);
		p += n;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			unsigned hi = 0xD800 + (cp >> 10), lo = 0xDC00 + (cp & 0x3FF);
			*o++ = hi & 0xFF;
			*o++ = (uint8_t)(hi >> 8);
			*o++ = lo & 0xFF;
			*o++ = (uint8_t)(lo >> 8);
		} else {
			*o++ = cp & 0xFF;
			*o++ = (uint8_t)(cp >> 8);
		}
	}
	*o++ = 0;
	*o++ = 0;
	*out_len = (size_t)(o - out);
	return out;
}

int rp_strcasecmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char ca = (unsigned char)*a, cb = (unsigned char)*b;
		if (ca >= 'a' && ca <= 'z')
			ca -= 32;
		if (cb >= 'a' && cb <= 'z')
			cb -= 32;
		if (ca != cb || !ca)
			return ca - cb;
	}
}

void rp_hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = 0;
}
