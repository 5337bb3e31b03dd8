/*
 * test_iconv.c — util/iconv.c, rdprescue's own iconv (linked ahead of glibc's).
 *
 * Every conversion is compared with iconv(1), glibc's converter in another process, on text
 * that covers ASCII, Latin-1, the BMP and surrogate pairs; the error cases (E2BIG resumable,
 * EILSEQ, EINVAL) and the charset names hivex and libarchive use are checked on their own.
 */
#include "test.h"
#include "util/file.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>

static char dir[] = "/tmp/rp-test-iconv-XXXXXX";

/* Converts with our iconv into a malloc'd buffer; -1 with errno on failure. */
static int convert(const char *to, const char *from, const char *in, size_t inlen, char **out,
		   size_t *outlen)
{
	iconv_t cd = iconv_open(to, from);
	if (cd == (iconv_t)-1)
		return -1;
	size_t cap = inlen * 4 + 4, left = cap;
	char *buf = malloc(cap), *o = buf, *i = (char *)in;
	size_t r = iconv(cd, &i, &inlen, &o, &left);
	int saved = errno;
	iconv_close(cd);
	if (r == (size_t)-1) {
		free(buf);
		errno = saved;
		return -1;
	}
	*out = buf;
	*outlen = cap - left;
	return 0;
}

/* The same conversion by iconv(1) (glibc's converters, another process). */
static int reference(const char *to, const char *from, const char *in, size_t inlen, char **out,
		     size_t *outlen)
{
	char src[64], cmd[256];
	snprintf(src, sizeof src, "%s/in", dir);
	FILE *f = fopen(src, "wb");
	if (!f || fwrite(in, 1, inlen, f) != inlen || fclose(f) != 0)
		return -1;
	snprintf(cmd, sizeof cmd, "iconv -f %s -t %s '%s' 2>/dev/null", from, to, src);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	uint8_t *data = NULL;
	int bad = rp_stream_read(p, &data, outlen) < 0;
	if (pclose(p) != 0 || bad) {
		free(data);
		return -1;
	}
	*out = (char *)data;
	return 0;
}

static void same_as_glibc(const char *to, const char *from, const char *in, size_t len,
			  const char *what)
{
	char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	int ra = convert(to, from, in, len, &a, &alen);
	int rb = reference(to, from, in, len, &b, &blen);
	CHECK(ra == 0 && rb == 0 && alen == blen && memcmp(a, b, alen) == 0,
	      "%s -> %s: %s, as iconv(1)", from, to, what);
	free(a);
	free(b);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		TEST_DONE();
	}
	/* "Terminal Server", "Zürich", "日本語", "𝄞" (a surrogate pair in UTF-16) */
	const char *utf8 = "Terminal Server Z\xc3\xbcrich \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e "
			   "\xf0\x9d\x84\x9e";
	size_t n8 = strlen(utf8);
	same_as_glibc("UTF-16LE", "UTF-8", utf8, n8, "mixed text");
	same_as_glibc("UTF-16BE", "UTF-8", utf8, n8, "mixed text");
	char *u16 = NULL;
	size_t n16 = 0;
	CHECK(convert("UTF-16LE", "UTF-8", utf8, n8, &u16, &n16) == 0, "UTF-8 -> UTF-16LE");
	same_as_glibc("UTF-8", "UTF-16LE", u16, n16, "back again");
	char *back = NULL;
	size_t nb = 0;
	CHECK(convert("UTF-8", "UTF-16LE", u16, n16, &back, &nb) == 0 && nb == n8 &&
		  memcmp(back, utf8, n8) == 0,
	      "UTF-16LE -> UTF-8 round trip is exact");
	free(back);
	const char latin1[] = "fDenyTSConnections \xe9\xfc\xff";
	same_as_glibc("UTF-8", "LATIN1", latin1, sizeof latin1 - 1, "Latin-1 key name");
	same_as_glibc("LATIN1", "UTF-8", "Z\xc3\xbcrich", 7, "UTF-8 to Latin-1");
	same_as_glibc("UTF-8", "ANSI_X3.4-1968", "plain", 5, "ASCII (the C locale's charset)");

	/* E2BIG: stops before the character that does not fit, and resumes. */
	iconv_t cd = iconv_open("UTF-8", "UTF-16LE");
	char out[8], *o = out, *i = u16;
	size_t in_left = n16, out_left = 3;
	size_t r = iconv(cd, &i, &in_left, &o, &out_left);
	CHECK(r == (size_t)-1 && errno == E2BIG && o - out == 3 && i - u16 == 6,
	      "E2BIG after the last whole character that fits");
	out_left = sizeof out - 3;
	r = iconv(cd, &i, &in_left, &o, &out_left);
	CHECK(r == (size_t)-1 && errno == E2BIG && o - out == 8 && !memcmp(out, "Terminal", 8),
	      "and resumes where it stopped");
	CHECK(iconv(cd, NULL, NULL, NULL, NULL) == 0, "reset is accepted");
	iconv_close(cd);
	free(u16);

	static const struct {
		const char *to, *from, *in;
		size_t len;
		int err;
		const char *what;
	} bad[] = {
	    {"UTF-16LE", "UTF-8", "a\xc0\xafz", 4, EILSEQ, "overlong UTF-8 is EILSEQ"},
	    {"UTF-16LE", "UTF-8", "a\xed\xa0\x80", 4, EILSEQ, "an encoded surrogate is EILSEQ"},
	    {"UTF-16LE", "UTF-8", "a\xe6\x97", 3, EINVAL,
	     "a cut UTF-8 sequence at the end is EINVAL"},
	    {"UTF-8", "UTF-16LE", "\x00\xdc", 2, EILSEQ, "a lone low surrogate is EILSEQ"},
	    {"UTF-8", "UTF-16LE", "\x34\xd8", 2, EINVAL, "a high surrogate at the end is EINVAL"},
	    {"UTF-8", "UTF-16LE", "\x34\xd8\x41\x00", 4, EILSEQ,
	     "a high surrogate without its low half is EILSEQ"},
	    {"LATIN1", "UTF-8", "\xe6\x97\xa5", 3, EILSEQ,
	     "a character Latin-1 cannot hold is EILSEQ"},
	    {"UTF-8", "ASCII", "\xe9", 1, EILSEQ, "a byte >= 0x80 is not ASCII"},
	};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		char *x = NULL;
		size_t nx = 0;
		int rc = convert(bad[k].to, bad[k].from, bad[k].in, bad[k].len, &x, &nx);
		CHECK(rc < 0 && errno == bad[k].err, "%s", bad[k].what);
		if (rc == 0)
			free(x);
	}
	CHECK(iconv_open("UTF-8", "EBCDIC-US") == (iconv_t)-1 && errno == EINVAL,
	      "an unknown charset is EINVAL at iconv_open");
	cd = iconv_open("utf-8//TRANSLIT", "latin1");
	CHECK(cd != (iconv_t)-1, "names are case-insensitive and take a //suffix");
	if (cd != (iconv_t)-1)
		iconv_close(cd);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		CHECK(0, "cleanup");
	TEST_DONE();
}
