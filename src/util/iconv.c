/*
 * iconv.c — iconv_open / iconv / iconv_close for the few charsets the libraries inside
 * rdprescue ask for: UTF-8, UTF-16LE/BE, LATIN1 (ISO-8859-1) and ASCII.
 *
 * Why: hivex converts every key and value name with iconv (LATIN1 or UTF-16LE to UTF-8, and
 * back).  A static glibc does not carry those converters: it loads them at run time from
 * gconv/<charset>.so, which need the host's libc.so.6 and ld.so.  Where they are missing (the boot
 * image, a rescue system of another distribution) iconv_open fails, every name lookup fails,
 * and the registry reads as empty — a scan would then call present values absent.  These
 * definitions are linked in ahead of glibc's (Makefile: --undefined=iconv_open), so the binary
 * converts the same way everywhere.  Behaviour follows glibc's for these charsets: invalid or
 * unrepresentable input is EILSEQ, an incomplete sequence at the end is EINVAL, a full output
 * buffer is E2BIG, and nothing is converted irreversibly.  Any other charset is EINVAL at
 * iconv_open, as glibc answers for a charset it does not know.
 */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum charset { CS_UTF8, CS_UTF16LE, CS_UTF16BE, CS_LATIN1, CS_ASCII } charset;

typedef struct converter {
	charset from, to;
} converter;

static const struct {
	const char *name;
	charset cs;
} names[] = {
    {"UTF-8", CS_UTF8},		  {"UTF8", CS_UTF8},	     {"UTF-16LE", CS_UTF16LE},
    {"UTF16LE", CS_UTF16LE},	  {"UTF-16BE", CS_UTF16BE},  {"UTF16BE", CS_UTF16BE},
    {"LATIN1", CS_LATIN1},	  {"ISO-8859-1", CS_LATIN1}, {"ISO8859-1", CS_LATIN1},
    {"ISO_8859-1", CS_LATIN1},	  {"ASCII", CS_ASCII},	     {"US-ASCII", CS_ASCII},
    {"ANSI_X3.4-1968", CS_ASCII}, {"646", CS_ASCII},
};

/* A charset name without its "//TRANSLIT"-style suffix, case-insensitive. */
static int lookup(const char *name, charset *cs)
{
	size_t n = strcspn(name, "/");
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i].name) == n && strncasecmp(names[i].name, name, n) == 0) {
			*cs = names[i].cs;
			return 0;
		}
	return -1;
}

iconv_t iconv_open(const char *tocode, const char *fromcode)
{
	converter c;
	if (lookup(tocode, &c.to) < 0 || lookup(fromcode, &c.from) < 0) {
		errno = EINVAL;
		return (iconv_t)-1;
	}
	converter *p = malloc(sizeof *p);
	if (!p) {
		errno = ENOMEM;
		return (iconv_t)-1;
	}
	*p = c;
	return (iconv_t)p;
}

int iconv_close(iconv_t cd)
{
	free(cd);
	return 0;
}

/* Decodes one character: its length in bytes (> 0), or -EILSEQ / -EINVAL. */
static int decode(charset cs, const uint8_t *p, size_t n, uint32_t *cp)
{
	switch (cs) {
	case CS_ASCII:
		if (p[0] >= 0x80)
			return -EILSEQ;
		*cp = p[0];
		return 1;
	case CS_LATIN1:
		*cp = p[0];
		return 1;
	case CS_UTF16LE:
	case CS_UTF16BE: {
		int be = cs == CS_UTF16BE;
		if (n < 2)
			return -EINVAL;
		uint32_t u = be ? (uint32_t)(p[0] << 8 | p[1]) : (uint32_t)(p[1] << 8 | p[0]);
		if (u >= 0xDC00 && u <= 0xDFFF)
			return -EILSEQ;
		if (u < 0xD800 || u > 0xDBFF) {
			*cp = u;
			return 2;
		}
		if (n < 4)
			return -EINVAL;
		uint32_t lo = be ? (uint32_t)(p[2] << 8 | p[3]) : (uint32_t)(p[3] << 8 | p[2]);
		if (lo < 0xDC00 || lo > 0xDFFF)
			return -EILSEQ;
		*cp = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
		return 4;
	}
	case CS_UTF8:
		break;
	}
	uint8_t b = p[0];
	int len = b < 0x80		   ? 1
		  : b >= 0xC2 && b <= 0xDF ? 2
		  : b >= 0xE0 && b <= 0xEF ? 3
		  : b >= 0xF0 && b <= 0xF4 ? 4
					   : 0;
	if (len == 0)
		return -EILSEQ;
	uint32_t c = len == 1 ? b : b & (0x7F >> len);
	for (int i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return -EINVAL;
		if ((p[i] & 0xC0) != 0x80)
			return -EILSEQ;
		c = c << 6 | (p[i] & 0x3F);
	}
	/* overlong forms, surrogates and code points past U+10FFFF are not UTF-8 */
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	if (c < min[len] || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
		return -EILSEQ;
	*cp = c;
	return len;
}

/* Encodes cp into out (4 bytes at most): its length, or -EILSEQ when cs cannot hold it. */
static int encode(charset cs, uint32_t cp, uint8_t *out)
{
	switch (cs) {
	case CS_ASCII:
	case CS_LATIN1:
		if (cp >= (cs == CS_ASCII ? 0x80u : 0x100u))
			return -EILSEQ;
		out[0] = (uint8_t)cp;
		return 1;
	case CS_UTF16LE:
	case CS_UTF16BE: {
		uint16_t units[2];
		int n = 1;
		if (cp < 0x10000) {
			units[0] = (uint16_t)cp;
		} else {
			units[0] = (uint16_t)(0xD800 + ((cp - 0x10000) >> 10));
			units[1] = (uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF));
			n = 2;
		}
		for (int i = 0; i < n; i++) {
			uint8_t hi = (uint8_t)(units[i] >> 8), lo = (uint8_t)units[i];
			out[2 * i] = cs == CS_UTF16BE ? hi : lo;
			out[2 * i + 1] = cs == CS_UTF16BE ? lo : hi;
		}
		return 2 * n;
	}
	case CS_UTF8:
		break;
	}
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xC0 | cp >> 6);
		out[1] = (uint8_t)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xE0 | cp >> 12);
		out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (uint8_t)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (uint8_t)(0xF0 | cp >> 18);
	out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (uint8_t)(0x80 | (cp & 0x3F));
	return 4;
}

size_t iconv(iconv_t cd, char **inbuf, size_t *inleft, char **outbuf, size_t *outleft)
{
	const converter *c = (const converter *)cd;
	if (!inbuf || !*inbuf)
		return 0; /* no shift state to reset or flush */
	while (*inleft > 0) {
		uint32_t cp = 0;
		uint8_t tmp[4];
		int used = decode(c->from, (const uint8_t *)*inbuf, *inleft, &cp);
		int made = used > 0 ? encode(c->to, cp, tmp) : used;
		if (made < 0) {
			errno = -made;
			return (size_t)-1;
		}
		if ((size_t)made > *outleft) {
			errno = E2BIG;
			return (size_t)-1;
		}
		memcpy(*outbuf, tmp, (size_t)made);
		*outbuf += made;
		*outleft -= (size_t)made;
		*inbuf += used;
		*inleft -= (size_t)used;
	}
	return 0;
}
