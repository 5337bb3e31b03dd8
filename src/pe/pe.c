/*
 * pe.c — reading a PE file's version resource (see pe.h).
 *
 * Layout (Microsoft PE/COFF specification): the DOS header's e_lfanew (0x3c) points at
 * "PE\0\0" and the COFF file header; the optional header (PE32 0x10b or PE32+ 0x20b) holds the
 * data directories, of which number 2 is the resource table; the section table maps RVAs to
 * file offsets.  The resource table is a three-level tree (type, name, language) of
 * IMAGE_RESOURCE_DIRECTORY + entries; the leaf IMAGE_RESOURCE_DATA_ENTRY gives the RVA and
 * size of the VS_VERSIONINFO.  That is a tree of blocks {wLength, wValueLength, wType,
 * szKey, padding to 32 bits, Value, padding, Children}: VS_VERSION_INFO > StringFileInfo >
 * string table ("040904b0") > String.
 */
#include "pe/pe.h"
#include "util/bytes.h"
#include "util/text.h"

#include <stdlib.h>
#include <string.h>

#define RT_VERSION 16u
#define DIR_RESOURCE 2u
#define MAX_SECTIONS 96u

typedef struct pe {
	const uint8_t *b;
	size_t len;
	const uint8_t *sections; /* section table (40 bytes each) */
	unsigned nsections;
} pe;

/* File offset of rva with at least need bytes behind it inside its section's raw data. */
static int rva_to_off(const pe *p, uint32_t rva, size_t need, size_t *off, size_t *avail)
{
	for (unsigned i = 0; i < p->nsections; i++) {
		const uint8_t *s = p->sections + 40 * (size_t)i;
		uint32_t va = rp_le32(s + 12), raw_size = rp_le32(s + 16), raw = rp_le32(s + 20);
		if (rva < va || (uint64_t)rva - va >= raw_size)
			continue;
		uint64_t o = (uint64_t)raw + (rva - va);
		uint64_t end = (uint64_t)raw + raw_size;
		if (end > p->len)
			end = p->len;
		if (o >= end || end - o < need)
			return -1;
		*off = (size_t)o;
		*avail = (size_t)(end - o);
		return 0;
	}
	return -1;
}

/* Resource directory at rsrc + dir_off (inside rsrc_len): the entry with id want, or the first
 * entry when want is 0xffffffff.  Returns the entry's OffsetToData, or -1. */
static int64_t res_entry(const uint8_t *rsrc, size_t rsrc_len, uint32_t dir_off, uint32_t want)
{
	if (dir_off > rsrc_len || rsrc_len - dir_off < 16)
		return -1;
	const uint8_t *d = rsrc + dir_off;
	size_t n = (size_t)rp_le16(d + 12) + rp_le16(d + 14);
	if (n > (rsrc_len - dir_off - 16) / 8)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *e = d + 16 + 8 * i;
		uint32_t name = rp_le32(e);
		if (want == 0xffffffffu || (!(name & 0x80000000u) && name == want))
			return rp_le32(e + 4);
	}
	return -1;
}

/* One version block at off (relative to the resource's bytes v, n long). */
typedef struct vblock {
	size_t end;	  /* first byte after the block */
	size_t key;	  /* szKey */
	size_t key_len;	  /* bytes, without the NUL */
	size_t value;	  /* Value */
	size_t value_len; /* bytes (clamped to the block) */
	size_t children;  /* first child */
} vblock;

static size_t align4(size_t x)
{
	return (x + 3) & ~(size_t)3;
}

static int vblock_read(const uint8_t *v, size_t n, size_t off, vblock *out)
{
	if (off > n || n - off < 6)
		return -1;
	size_t len = rp_le16(v + off), vlen = rp_le16(v + off + 2), type = rp_le16(v + off + 4);
	if (len < 6 || len > n - off)
		return -1;
	out->end = off + len;
	out->key = off + 6;
	size_t k = out->key;
	while (k + 1 < out->end && (v[k] || v[k + 1]))
		k += 2;
	if (k + 1 >= out->end)
		return -1; /* no NUL inside the block */
	out->key_len = k - out->key;
	out->value = align4(k + 2);
	if (out->value > out->end)
		out->value = out->end;
	size_t bytes = type == 1 ? vlen * 2 : vlen;
	out->value_len = bytes < out->end - out->value ? bytes : out->end - out->value;
	out->children = align4(out->value + out->value_len);
	return 0;
}

static int key_is(const uint8_t *v, const vblock *b, const char *want)
{
	char *k = rp_utf16_to_utf8(v + b->key, b->key_len);
	int same = strcmp(k, want) == 0;
	free(k);
	return same;
}

/* Looks for String name under every string table of StringFileInfo. */
static int find_string(const uint8_t *v, size_t n, const char *name, char **out)
{
	vblock root;
	if (vblock_read(v, n, 0, &root) < 0 || !key_is(v, &root, "VS_VERSION_INFO"))
		return -1;
	for (size_t c = root.children; c + 6 <= root.end;) {
		vblock sfi;
		if (vblock_read(v, root.end, c, &sfi) < 0)
			return -1;
		if (key_is(v, &sfi, "StringFileInfo")) {
			for (size_t t = sfi.children; t + 6 <= sfi.end;) {
				vblock table;
				if (vblock_read(v, sfi.end, t, &table) < 0)
					return -1;
				for (size_t s = table.children; s + 6 <= table.end;) {
					vblock str;
					if (vblock_read(v, table.end, s, &str) < 0)
						return -1;
					if (key_is(v, &str, name)) {
						*out =
						    rp_utf16_to_utf8(v + str.value, str.value_len);
						return 1;
					}
					s = align4(str.end);
				}
				t = align4(table.end);
			}
		}
		c = align4(sfi.end);
	}
	return 0;
}

int rp_pe_version_string(const uint8_t *b, size_t len, const char *name, char **out, rp_err *err)
{
	*out = NULL;
	if (len < 0x40 || b[0] != 'M' || b[1] != 'Z')
		return rp_fail(err, RP_EXIT_UNUSABLE, "not a PE file (no MZ header)");
	uint32_t nt = rp_le32(b + 0x3c);
	if (nt > len || len - nt < 24 || memcmp(b + nt, "PE\0\0", 4) != 0)
		return rp_fail(err, RP_EXIT_UNUSABLE, "not a PE file (no PE signature)");
	unsigned nsections = rp_le16(b + nt + 6);
	size_t opt = nt + 24, opt_size = rp_le16(b + nt + 20);
	if (opt_size > len - opt || opt_size < 2 || nsections > MAX_SECTIONS)
		return rp_fail(err, RP_EXIT_UNUSABLE, "PE headers run past the end of the file");
	uint16_t magic = rp_le16(b + opt);
	size_t ndirs_at = magic == 0x10b ? 92 : magic == 0x20b ? 108 : 0;
	if (!ndirs_at)
		return rp_fail(err, RP_EXIT_UNUSABLE, "PE optional header of unknown kind 0x%x",
			       magic);
	size_t sections = opt + opt_size;
	if ((size_t)nsections * 40 > len - sections)
		return rp_fail(err, RP_EXIT_UNUSABLE, "PE section table runs past the end");
	if (opt_size < ndirs_at + 4 || rp_le32(b + opt + ndirs_at) <= DIR_RESOURCE ||
	    opt_size < ndirs_at + 4 + 8 * (DIR_RESOURCE + 1))
		return 0; /* no resource directory */
	const uint8_t *dir = b + opt + ndirs_at + 4 + 8 * DIR_RESOURCE;
	uint32_t rsrc_rva = rp_le32(dir), rsrc_size = rp_le32(dir + 4);
	if (!rsrc_rva || !rsrc_size)
		return 0;
	pe p = {.b = b, .len = len, .sections = b + sections, .nsections = nsections};
	size_t rsrc_off, rsrc_avail;
	if (rva_to_off(&p, rsrc_rva, 16, &rsrc_off, &rsrc_avail) < 0)
		return rp_fail(err, RP_EXIT_UNUSABLE, "PE resource table outside every section");
	size_t rsrc_len = rsrc_size < rsrc_avail ? rsrc_size : rsrc_avail;
	const uint8_t *rsrc = b + rsrc_off;
	int64_t e = res_entry(rsrc, rsrc_len, 0, RT_VERSION);
	if (e < 0)
		return 0; /* no version resource */
	for (int level = 0; level < 2; level++) {
		if (!(e & 0x80000000))
			return rp_fail(err, RP_EXIT_UNUSABLE, "PE resource tree is malformed");
		e = res_entry(rsrc, rsrc_len, (uint32_t)e & 0x7fffffffu, 0xffffffffu);
		if (e < 0)
			return rp_fail(err, RP_EXIT_UNUSABLE, "PE resource tree is malformed");
	}
	if ((e & 0x80000000) || (uint64_t)e > rsrc_len || rsrc_len - (size_t)e < 16)
		return rp_fail(err, RP_EXIT_UNUSABLE, "PE resource data entry is malformed");
	uint32_t v_rva = rp_le32(rsrc + e), v_size = rp_le32(rsrc + e + 4);
	size_t v_off, v_avail;
	if (rva_to_off(&p, v_rva, 6, &v_off, &v_avail) < 0)
		return rp_fail(err, RP_EXIT_UNUSABLE, "PE version resource outside every section");
	size_t v_len = v_size < v_avail ? v_size : v_avail;
	int rc = find_string(b + v_off, v_len, name, out);
	if (rc < 0)
		return rp_fail(err, RP_EXIT_UNUSABLE, "PE version resource is malformed");
	return rc;
}
