/*
 * check.c — rp_regf_check: the structural walk a hive must pass before it replaces anything.
 * One pass over the bins builds a map of cell starts; one walk of the key tree from the root
 * checks every record it reaches against that map.  Linear in the hive size, no recursion.
 * Offsets in messages are relative to the hive-bins data (file offset - 4096).
 */
#include "regf/regf_internal.h"
#include "util/err.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CELL_ALLOC 1
#define CELL_FREE 2
#define KEY_SEEN 4
#define MAX_KEY_DEPTH 512
#define BIG_DATA_SEGMENT 16344

typedef struct chk {
	const uint8_t *bins; /* image + 4096 */
	uint32_t hbins;
	uint32_t minor;
	uint8_t *map; /* one byte per 8-byte unit of hive-bins data */
	rp_err *err;
} chk;

/* An allocated cell's data, or NULL. */
static const uint8_t *cell_at(const chk *c, uint32_t rel, uint32_t *data_size)
{
	if (rel >= c->hbins || rel % 8 != 0 || !(c->map[rel / 8] & CELL_ALLOC))
		return NULL;
	*data_size = (uint32_t)(-(int32_t)rp_le32(c->bins + rel + REGF_CELL_SIZE)) - REGF_CELL_DATA;
	return c->bins + rel + REGF_CELL_DATA;
}

static int tile_cells(chk *c)
{
	for (uint32_t bin = 0; bin < c->hbins; bin += rp_le32(c->bins + bin + REGF_HBIN_SIZE)) {
		uint32_t end = bin + rp_le32(c->bins + bin + REGF_HBIN_SIZE);
		uint32_t pos = bin + REGF_HBIN_HEADER;
		while (pos < end) {
			int64_t raw = (int32_t)rp_le32(c->bins + pos + REGF_CELL_SIZE);
			int64_t size = raw < 0 ? -raw : raw;
			if (size < 8 || size % 8 != 0 || size > end - pos)
				return rp_fail(
				    c->err, RP_EXIT_UNUSABLE,
				    "hive is corrupt: the cell at 0x%x has a bad size %lld "
				    "(its bin ends at 0x%x)",
				    pos, (long long)raw, end);
			c->map[pos / 8] = raw < 0 ? CELL_ALLOC : CELL_FREE;
			pos += (uint32_t)size;
		}
	}
	return 0;
}

/* Windows' upcase for the scripts registry names use: ASCII, Latin-1, Latin Extended-A,
 * Greek, Cyrillic, Armenian, Latin Extended Additional, fullwidth Latin.  ß (U+00DF) has no
 * single-character upper case and stays as it is. */
static uint16_t upcase16(uint16_t u)
{
	if (u < 0x80)
		return u >= 'a' && u <= 'z' ? u - 32 : u;
	if (u >= 0xE0 && u <= 0xFE && u != 0xF7)
		return u - 32;
	if (u == 0xFF)
		return 0x178;
	if ((u >= 0x100 && u <= 0x137 && u != 0x131) || (u >= 0x14A && u <= 0x177))
		return u & 1 ? u - 1 : u;
	if ((u >= 0x139 && u <= 0x148) || (u >= 0x179 && u <= 0x17E))
		return u & 1 ? u : u - 1;
	if (u == 0x3AC)
		return 0x386;
	if (u >= 0x3AD && u <= 0x3AF)
		return u - 37;
	if ((u >= 0x3B1 && u <= 0x3C1) || (u >= 0x3C3 && u <= 0x3CB))
		return u - 32;
	if (u == 0x3CC)
		return 0x38C;
	if (u == 0x3CD || u == 0x3CE)
		return u - 63;
	if (u >= 0x430 && u <= 0x44F)
		return u - 32;
	if (u >= 0x450 && u <= 0x45F)
		return u - 80;
	if ((u >= 0x460 && u <= 0x481) || (u >= 0x48A && u <= 0x4BF) || (u >= 0x4D0 && u <= 0x52F))
		return u & 1 ? u - 1 : u;
	if (u >= 0x4C1 && u <= 0x4CE)
		return u & 1 ? u : u - 1;
	if (u >= 0x561 && u <= 0x586)
		return u - 48;
	if ((u >= 0x1E00 && u <= 0x1E95) || (u >= 0x1EA0 && u <= 0x1EFF))
		return u & 1 ? u - 1 : u;
	if (u >= 0xFF41 && u <= 0xFF5A)
		return u - 32;
	return u;
}

typedef struct keyname {
	const uint8_t *p;
	uint32_t len; /* bytes */
	int comp;     /* one byte per character (Latin-1) */
} keyname;

static uint16_t name_unit(const keyname *n, uint32_t i)
{
	return n->comp ? n->p[i] : rp_le16(n->p + 2 * (size_t)i);
}

/* Windows' subkey order: upper-cased UTF-16 code units, compared one by one. */
static int name_cmp(const keyname *a, const keyname *b)
{
	uint32_t na = a->comp ? a->len : a->len / 2, nb = b->comp ? b->len : b->len / 2;
	for (uint32_t i = 0; i < na && i < nb; i++) {
		uint16_t x = upcase16(name_unit(a, i)), y = upcase16(name_unit(b, i));
		if (x != y)
			return x < y ? -1 : 1;
	}
	return na < nb ? -1 : na > nb;
}

static char *name_text(const keyname *n)
{
	if (!n->comp)
		return rp_utf16_to_utf8(n->p, n->len);
	/* Latin-1 to UTF-16LE, then the common conversion. */
	uint8_t *u16 = rp_xmalloc(2 * (size_t)n->len + 2);
	for (uint32_t i = 0; i < n->len; i++) {
		u16[2 * i] = n->p[i];
		u16[2 * i + 1] = 0;
	}
	char *s = rp_utf16_to_utf8(u16, 2 * (size_t)n->len);
	free(u16);
	return s;
}

/* A key node with its name inside the cell, or NULL with err filled. */
static const uint8_t *key_at(chk *c, uint32_t off, keyname *name)
{
	uint32_t sz;
	const uint8_t *d = cell_at(c, off, &sz);
	if (!d) {
		rp_fail(c->err, RP_EXIT_UNUSABLE,
			"hive is corrupt: key node 0x%x is not an allocated cell", off);
		return NULL;
	}
	if (sz < REGF_NK_NAME || memcmp(d, "nk", 2) != 0) {
		rp_fail(c->err, RP_EXIT_UNUSABLE,
			"hive is corrupt: cell 0x%x is not a key node (nk)", off);
		return NULL;
	}
	name->p = d + REGF_NK_NAME;
	name->len = rp_le16(d + REGF_NK_NAME_LEN);
	name->comp = (rp_le16(d + REGF_NK_FLAGS) & REGF_NK_COMP_NAME) != 0;
	if (name->len > sz - REGF_NK_NAME) {
		rp_fail(c->err, RP_EXIT_UNUSABLE,
			"hive is corrupt: the name of key node 0x%x (%u bytes) runs past its cell",
			off, name->len);
		return NULL;
	}
	return d;
}

static int check_security(chk *c, uint32_t key, uint32_t sk)
{
	uint32_t sz;
	const uint8_t *d = cell_at(c, sk, &sz);
	if (!d || sz < REGF_SK_SD || memcmp(d, "sk", 2) != 0 ||
	    rp_le32(d + REGF_SK_SD_SIZE) > sz - REGF_SK_SD)
		return rp_fail(c->err, RP_EXIT_UNUSABLE,
			       "hive is corrupt: key node 0x%x has a bad security cell 0x%x", key,
			       sk);
	return 0;
}

static int check_data(chk *c, uint32_t vk, uint32_t size, uint32_t off)
{
	uint32_t sz;
	const uint8_t *d = cell_at(c, off, &sz);
	if (!d)
		return rp_fail(
		    c->err, RP_EXIT_UNUSABLE,
		    "hive is corrupt: value 0x%x points at 0x%x for its %u bytes of data, "
		    "which is not an allocated cell",
		    vk, off, size);
	if (c->minor > 3 && size > BIG_DATA_SEGMENT) {
		/* Big data: a db record, a segment list, segments of up to 16,344 bytes. */
		if (sz < 8 || memcmp(d, "db", 2) != 0)
			return rp_fail(
			    c->err, RP_EXIT_UNUSABLE,
			    "hive is corrupt: value 0x%x holds %u bytes but cell 0x%x is "
			    "not a big-data (db) record",
			    vk, size, off);
		uint32_t nseg = rp_le16(d + REGF_DB_SEGMENTS), list = rp_le32(d + REGF_DB_LIST),
			 lsz;
		const uint8_t *l = cell_at(c, list, &lsz);
		uint64_t room = (uint64_t)nseg * BIG_DATA_SEGMENT;
		if (!l || nseg > lsz / 4 || room < size || room - size >= BIG_DATA_SEGMENT)
			return rp_fail(
			    c->err, RP_EXIT_UNUSABLE,
			    "hive is corrupt: big-data record 0x%x of value 0x%x has a bad "
			    "segment list (%u segments for %u bytes)",
			    off, vk, nseg, size);
		uint32_t left = size;
		for (uint32_t i = 0; i < nseg; i++) {
			uint32_t seg = rp_le32(l + 4 * (size_t)i), ssz;
			uint32_t want = left < BIG_DATA_SEGMENT ? left : BIG_DATA_SEGMENT;
			if (!cell_at(c, seg, &ssz) || ssz < want)
				return rp_fail(
				    c->err, RP_EXIT_UNUSABLE,
				    "hive is corrupt: segment %u (0x%x) of value 0x%x is not "
				    "an allocated cell of %u bytes",
				    i, seg, vk, want);
			left -= want;
		}
		return 0;
	}
	if (sz < size)
		return rp_fail(c->err, RP_EXIT_UNUSABLE,
			       "hive is corrupt: value 0x%x has %u bytes of data in cell 0x%x of "
			       "%u bytes",
			       vk, size, off, sz);
	return 0;
}

static int check_values(chk *c, uint32_t key, const uint8_t *nk)
{
	uint32_t count = rp_le32(nk + REGF_NK_VALUES), list = rp_le32(nk + REGF_NK_VALUE_LIST), sz;
	if (count == 0)
		return 0;
	const uint8_t *l = cell_at(c, list, &sz);
	if (!l || count > sz / 4)
		return rp_fail(c->err, RP_EXIT_UNUSABLE,
			       "hive is corrupt: key node 0x%x has %u values but its value list "
			       "0x%x is not an allocated cell that holds them",
			       key, count, list);
	for (uint32_t i = 0; i < count; i++) {
		uint32_t vk = rp_le32(l + 4 * (size_t)i), vsz;
		const uint8_t *v = cell_at(c, vk, &vsz);
		if (!v || vsz < REGF_VK_NAME || memcmp(v, "vk", 2) != 0)
			return rp_fail(
			    c->err, RP_EXIT_UNUSABLE,
			    "hive is corrupt: value %u of key node 0x%x (0x%x) is not an "
			    "allocated vk cell",
			    i, key, vk);
		if (rp_le16(v + REGF_VK_NAME_LEN) > vsz - REGF_VK_NAME)
			return rp_fail(c->err, RP_EXIT_UNUSABLE,
				       "hive is corrupt: the name of value 0x%x runs past its cell",
				       vk);
		uint32_t size = rp_le32(v + REGF_VK_DATA_SIZE);
		if (size & REGF_VK_DATA_INLINE || size == 0)
			continue; /* inline (up to 4 bytes in the offset field) or empty */
		if (check_data(c, vk, size, rp_le32(v + REGF_VK_DATA)) < 0)
			return -1;
	}
	return 0;
}

/* A stack of keys still to visit. */
typedef struct todo {
	struct todo_key {
		uint32_t off, parent, depth;
	} * v;
	size_t n, cap;
} todo;

static void push(todo *t, uint32_t off, uint32_t parent, uint32_t depth)
{
	t->v = rp_grow(t->v, &t->cap, t->n + 1, sizeof *t->v);
	t->v[t->n++] = (struct todo_key){off, parent, depth};
}

/* Queues one child: it must be a key node seen for the first time, after the previous one. */
static int child(chk *c, todo *t, uint32_t key, uint32_t depth, uint32_t sub, keyname *prev,
		 int *have_prev)
{
	keyname name;
	if (!key_at(c, sub, &name)) {
		rp_err_prefix(c->err, "subkey list of key node 0x%x", key);
		return -1;
	}
	if (c->map[sub / 8] & KEY_SEEN)
		return rp_fail(c->err, RP_EXIT_UNUSABLE,
			       "hive is corrupt: key node 0x%x is reached twice (subkey lists are "
			       "cross-linked, seen again under 0x%x)",
			       sub, key);
	c->map[sub / 8] |= KEY_SEEN;
	if (*have_prev) {
		int cmp = name_cmp(prev, &name);
		if (cmp >= 0) {
			char *a = name_text(prev), *b = name_text(&name);
			char *ea = rp_escape(a), *eb = rp_escape(b);
			rp_fail(c->err, RP_EXIT_UNUSABLE,
				"hive is corrupt: the subkeys of key node 0x%x are %s (\"%s\" then "
				"\"%s\" at 0x%x)",
				key, cmp == 0 ? "duplicated" : "not sorted", ea, eb, sub);
			free(a);
			free(b);
			free(ea);
			free(eb);
			return -1;
		}
	}
	*prev = name;
	*have_prev = 1;
	push(t, sub, key, depth + 1);
	return 0;
}

/* Walks a leaf (lf/lh/li) or an index root (ri) of leaves; counts the subkeys found. */
static int walk_list(chk *c, todo *t, uint32_t key, uint32_t depth, uint32_t list, int in_ri,
		     uint32_t *found, keyname *prev, int *have_prev)
{
	uint32_t sz;
	const uint8_t *l = cell_at(c, list, &sz);
	if (!l || sz < 4)
		return rp_fail(c->err, RP_EXIT_UNUSABLE,
			       "hive is corrupt: subkey list 0x%x of key node 0x%x is not an "
			       "allocated cell",
			       list, key);
	uint32_t n = rp_le16(l + REGF_LIST_COUNT), step;
	if (!memcmp(l, "lf", 2) || !memcmp(l, "lh", 2))
		step = 8;
	else if (!memcmp(l, "li", 2) || !memcmp(l, "ri", 2))
		step = 4;
	else
		return rp_fail(
		    c->err, RP_EXIT_UNUSABLE,
		    "hive is corrupt: subkey list 0x%x of key node 0x%x has no lf/lh/li/ri "
		    "signature",
		    list, key);
	if (n > (sz - REGF_LIST_ELEMENTS) / step)
		return rp_fail(c->err, RP_EXIT_UNUSABLE,
			       "hive is corrupt: subkey list 0x%x of key node 0x%x counts %u "
			       "elements, more than its cell holds",
			       list, key, n);
	int is_ri = !memcmp(l, "ri", 2);
	if (is_ri && in_ri)
		return rp_fail(
		    c->err, RP_EXIT_UNUSABLE,
		    "hive is corrupt: index root 0x%x of key node 0x%x points at another "
		    "index root",
		    list, key);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t e = rp_le32(l + REGF_LIST_ELEMENTS + (size_t)i * step);
		int rc = is_ri ? walk_list(c, t, key, depth, e, 1, found, prev, have_prev)
			       : child(c, t, key, depth, e, prev, have_prev);
		if (rc < 0)
			return -1;
		if (!is_ri)
			(*found)++;
	}
	return 0;
}

static int check_key(chk *c, todo *t, uint32_t off, uint32_t parent, uint32_t depth, int root)
{
	keyname name;
	const uint8_t *nk = key_at(c, off, &name);
	if (!nk)
		return -1;
	if (!root && rp_le32(nk + REGF_NK_PARENT) != parent)
		return rp_fail(
		    c->err, RP_EXIT_UNUSABLE,
		    "hive is corrupt: key node 0x%x names 0x%x as its parent, but it is a "
		    "subkey of 0x%x",
		    off, rp_le32(nk + REGF_NK_PARENT), parent);
	if (depth > MAX_KEY_DEPTH)
		return rp_fail(c->err, RP_EXIT_UNUSABLE,
			       "hive is corrupt: key node 0x%x is nested deeper than %d levels",
			       off, MAX_KEY_DEPTH);
	if (check_security(c, off, rp_le32(nk + REGF_NK_SECURITY)) < 0)
		return -1;
	uint32_t class_len = rp_le16(nk + REGF_NK_CLASS_LEN), csz;
	if (class_len && (!cell_at(c, rp_le32(nk + REGF_NK_CLASS), &csz) || csz < class_len))
		return rp_fail(
		    c->err, RP_EXIT_UNUSABLE,
		    "hive is corrupt: the class name of key node 0x%x (cell 0x%x) is not "
		    "an allocated cell of %u bytes",
		    off, rp_le32(nk + REGF_NK_CLASS), class_len);
	if (check_values(c, off, nk) < 0)
		return -1;
	uint32_t subkeys = rp_le32(nk + REGF_NK_SUBKEYS), found = 0;
	if (subkeys == 0)
		return 0;
	keyname prev = {0};
	int have_prev = 0;
	if (walk_list(c, t, off, depth, rp_le32(nk + REGF_NK_SUBKEY_LIST), 0, &found, &prev,
		      &have_prev) < 0)
		return -1;
	if (found != subkeys)
		return rp_fail(
		    c->err, RP_EXIT_UNUSABLE,
		    "hive is corrupt: key node 0x%x counts %u subkeys but its lists hold "
		    "%u",
		    off, subkeys, found);
	return 0;
}

int rp_regf_check(const uint8_t *image, size_t len, rp_err *err)
{
	char why[200];
	uint32_t bad_at;

	if (len < RP_REGF_BASE_BLOCK + REGF_HBIN_ALIGN || memcmp(image, "regf", 4) != 0)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "hive image of %zu bytes has no regf base block and hive bin", len);
	if (rp_regf_checksum(image) != rp_le32(image + REGF_BB_CHECKSUM))
		return rp_fail(err, RP_EXIT_UNUSABLE, "hive base block checksum is wrong");
	if (rp_le32(image + REGF_BB_SEQ1) != rp_le32(image + REGF_BB_SEQ2))
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "hive is dirty (seq %u/%u): replay its logs before checking it",
			       rp_le32(image + REGF_BB_SEQ1), rp_le32(image + REGF_BB_SEQ2));
	if (!regf_base_fields_ok(image, why, sizeof why))
		return rp_fail(err, RP_EXIT_UNUSABLE, "hive base block: %s", why);
	uint32_t hbins = rp_le32(image + REGF_BB_HBINS_SIZE);
	if (len != (size_t)RP_REGF_BASE_BLOCK + hbins)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "hive image is %zu bytes but its base block says 4096 + 0x%x", len,
			       hbins);
	if (regf_bin_chain(image, len, hbins, &bad_at, why, sizeof why) != hbins)
		return rp_fail(err, RP_EXIT_UNUSABLE, "hive is corrupt: %s", why);

	chk c = {.bins = image + RP_REGF_BASE_BLOCK,
		 .hbins = hbins,
		 .minor = rp_le32(image + REGF_BB_MINOR),
		 .map = rp_xcalloc(hbins / 8, 1),
		 .err = err};
	todo t = {0};
	int rc = tile_cells(&c);
	uint32_t root = rp_le32(image + REGF_BB_ROOT);
	if (rc == 0) {
		keyname name;
		if (!key_at(&c, root, &name)) {
			rp_err_prefix(err, "root key");
			rc = -1;
		} else {
			c.map[root / 8] |= KEY_SEEN;
			push(&t, root, REGF_NIL, 0);
		}
	}
	int first = 1;
	while (rc == 0 && t.n > 0) {
		t.n--;
		rc = check_key(&c, &t, t.v[t.n].off, t.v[t.n].parent, t.v[t.n].depth, first);
		first = 0;
	}
	free(t.v);
	free(c.map);
	return rc;
}
