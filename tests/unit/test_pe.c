/*
 * test_pe.c — the PE version-resource reader (src/pe/pe.c).
 *
 * The driver image tests/fuzz/corpus/pe/contoso.sys was written by tests/lib/mkpe.py
 * (CompanyName "Contoso Security", FileDescription "Contoso NDIS filter"; pefile reads the same).
 * Its strings are found; every truncation of it is refused or answered without a wrong string;
 * each malformed shape (header offsets past the end, a resource table outside every section, a
 * resource tree that loops, a version block longer than its data, another root key) is refused
 * with a message, and a file without RT_VERSION has no strings.
 */
#include "pe/pe.h"
#include "test.h"
#include "util/file.h"

#include <string.h>

#define SAMPLE "tests/fuzz/corpus/pe/contoso.sys"

static int get(const uint8_t *b, size_t len, const char *name, char **out, rp_err *err)
{
	memset(err, 0, sizeof *err);
	*out = NULL;
	return rp_pe_version_string(b, len, name, out, err);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A copy of the sample with one 32-bit or 16-bit field changed must be refused. */
static void refused(const uint8_t *b, size_t len, size_t at, uint32_t v, int bytes,
		    const char *what)
{
	uint8_t *m = malloc(len);
	memcpy(m, b, len);
	if (bytes == 4)
		put32(m + at, v);
	else {
		m[at] = (uint8_t)v;
		m[at + 1] = (uint8_t)(v >> 8);
	}
	char *out;
	rp_err err;
	int rc = get(m, len, "CompanyName", &out, &err);
	CHECK(rc < 0 && err.msg[0] && !out, "%s: refused (%s)", what, err.msg);
	free(out);
	free(m);
}

int main(void)
{
	uint8_t *b = NULL;
	size_t len = 0;
	rp_err err = {0};
	if (rp_file_read(SAMPLE, &b, &len, 3, &err) < 0) {
		CHECK(0, "read %s: %s", SAMPLE, err.msg);
		TEST_DONE();
	}
	char *out;
	int rc = get(b, len, "CompanyName", &out, &err);
	CHECK(rc == 1 && out && strcmp(out, "Contoso Security") == 0, "CompanyName found: %s",
	      out ? out : "(none)");
	free(out);
	rc = get(b, len, "FileDescription", &out, &err);
	CHECK(rc == 1 && out && strcmp(out, "Contoso NDIS filter") == 0, "FileDescription found");
	free(out);
	rc = get(b, len, "ProductName", &out, &err);
	CHECK(rc == 0 && !out, "a string the resource lacks: 0");

	int bad = 0;
	for (size_t n = 0; n < len; n++) {
		rc = get(b, n, "CompanyName", &out, &err);
		if ((rc == 1 && strcmp(out, "Contoso Security") != 0) || (rc < 0 && !err.msg[0]))
			bad++;
		free(out);
	}
	CHECK(bad == 0, "every truncation (%zu) refused or answered rightly", len);

	refused(b, len, 0x3c, 0xfffffff0u, 4, "e_lfanew past the end");
	refused(b, len, 0x46, 0xffff, 2, "65535 sections");
	refused(b, len, 0x54, 0xfff0, 2, "optional header larger than the file");
	refused(b, len, 0x58, 0x0107, 2, "unknown optional header magic");
	refused(b, len, 0xd8, 0x9000, 4, "resource table outside every section");
	refused(b, len, 0x214, 0x80000000u, 4, "resource tree looping to its root");
	refused(b, len, 0x214, 0x7ffffff0u, 4, "resource subdirectory offset past the table");
	refused(b, len, 0x248, 0x7fff0000u, 4, "version data outside every section");
	refused(b, len, 0x258, 0xffff, 2, "version block longer than its data");
	refused(b, len, 0x25e, 'X', 2, "root block not VS_VERSION_INFO");

	uint8_t *m = malloc(len);
	memcpy(m, b, len);
	put32(m + 0x210, 17);
	rc = get(m, len, "CompanyName", &out, &err);
	CHECK(rc == 0 && !out, "no RT_VERSION entry: 0");
	free(m);
	rc = get((const uint8_t *)"MZ", 2, "CompanyName", &out, &err);
	CHECK(rc < 0 && strstr(err.msg, "not a PE"), "two bytes: not a PE (%s)", err.msg);
	free(b);
	TEST_DONE();
}
