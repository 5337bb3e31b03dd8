/*
 * hive_lazy.c — the read-only backend of a clean hive read in place (regf/reader.c) instead of
 * copied into memory for hivex: what a scan uses for SOFTWARE, which can be 100 MB for a few
 * dozen values.
 *
 * Every operation answers as the hivex call of the same name does (lib/node.c and lib/value.c
 * of hivex 1.3.23): the same handles (the file offset of a cell), the same checks in the same
 * order, the same limits (70,000 subkeys, 110,000 values, 8,000,000 bytes of data), the same
 * errno for the same failure, names converted by the same iconv (an ASCII name is compared
 * without converting it: its UTF-8 is itself).  test_hive_lazy reads every key and value of the
 * real hives in ../shared both ways and compares.  The same backend reads a clean image held
 * in memory (a hive whose logs were replayed, a small hive copied whole, an edited image being
 * verified): lookups then cost no copy into a scratch file, no hivex_open and no name
 * conversion.  An edit copies the image (the copy op) and hivex, when it is needed, works on
 * that copy.
 */
#include "reg/reg_internal.h"

#include "util/bytes.h"
#include "util/file.h"
#include "util/text.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SUBKEYS 70000
#define MAX_VALUES 110000
#define MAX_VALUE_LEN 8000000
#define MAX_RI_DEPTH 32

/* Cell offsets of hivex's packed records (the cell's size field first). */
enum {
	CELL_ID = 4,
	NK_FLAGS = 6,
	NK_TIMESTAMP = 8,
	NK_SUBKEYS = 24,
	NK_SUBKEY_LIST = 32,
	NK_VALUES = 40,
	NK_VALUE_LIST = 44,
	NK_NAME_LEN = 76,
	NK_NAME = 80,
	VK_NAME_LEN = 6,
	VK_DATA_LEN = 8,
	VK_DATA = 12,
	VK_TYPE = 16,
	VK_FLAGS = 20,
	VK_NAME = 24,
	LIST_COUNT = 6,
	LIST_ITEMS = 8,
	VALUE_LIST_ITEMS = 4,
	DB_SEGMENTS = 6,
	DB_LIST = 8,
	CELL_BODY = 4,
	BASE_ROOT = 36,	     /* base block: the root key's cell, relative to the hive bins */
	NK_COMP_NAME = 0x20, /* the name is Latin-1, not UTF-16LE */
	VK_COMP_NAME = 1,
};
#define VK_DATA_INLINE 0x80000000u

/* The first want bytes of the allocated cell at off into buf (zeros past the cell's end), its
 * size in *len: 0, or -1 with errno = bad_errno when off starts no allocated cell, EIO when the
 * read failed.  No allocation: the common reads (a key's or value's fixed fields, its name) need
 * none, which matters when a lookup reads every subkey of Services. */
static int cell_head(rp_hive *h, uint64_t off, uint8_t *buf, size_t want, size_t *len,
		     int bad_errno)
{
	if (!rp_regf_reader_is_cell(h->reader, off)) {
		errno = bad_errno;
		return -1;
	}
	uint8_t size[4];
	if (rp_regf_reader_read(h->reader, off, size, 4, NULL) < 0) {
		errno = EIO;
		return -1;
	}
	int32_t raw = (int32_t)rp_le32(size);
	*len = raw < 0 ? (size_t)(-(int64_t)raw) : (size_t)raw;
	/* The open pass checked every size; one that no longer fits means the file changed under
	 * us (another writer): refused before cell() allocates for it. */
	if (*len < 4 || *len > h->len - off) {
		errno = EIO;
		return -1;
	}
	size_t n = *len < want ? *len : want;
	memset(buf + n, 0, want - n);
	if (rp_regf_reader_read(h->reader, off, buf, n, NULL) < 0) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* The whole cell at off (size field first, malloc'd): for lists and data, whose size varies. */
static uint8_t *cell(rp_hive *h, uint64_t off, size_t *len, int bad_errno)
{
	uint8_t size[4];
	if (cell_head(h, off, size, sizeof size, len, bad_errno) < 0)
		return NULL;
	uint8_t *c = rp_xmalloc(*len);
	if (rp_regf_reader_read(h->reader, off, c, *len, NULL) < 0) {
		free(c);
		errno = EIO;
		return NULL;
	}
	return c;
}

/* cell_head of a record with signature id (EINVAL otherwise, as hivex). */
static int record_head(rp_hive *h, uint64_t off, const char *id, uint8_t *buf, size_t want,
		       size_t *len)
{
	if (cell_head(h, off, buf, want, len, EINVAL) < 0)
		return -1;
	if (*len < CELL_ID + 2 || memcmp(buf + CELL_ID, id, 2) != 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* A record's name: n bytes at file offset off into buf (of cap bytes) or, longer, into a malloc'd
 * buffer; NULL with errno EIO when the read failed. */
static uint8_t *name_bytes(rp_hive *h, uint64_t off, size_t n, uint8_t *buf, size_t cap)
{
	uint8_t *out = n <= cap ? buf : rp_xmalloc(n);
	if (rp_regf_reader_read(h->reader, off, out, n, NULL) < 0) {
		if (out != buf)
			free(out);
		errno = EIO;
		return NULL;
	}
	return out;
}

/* LATIN1 or UTF-16LE bytes as a UTF-8 string, as hivex's _hivex_recode gives it.  The two
 * converters are opened once (stateless conversions: each call starts from the initial state). */
static char *recode(const uint8_t *in, size_t len, int utf16)
{
	static iconv_t converters[2] = {(iconv_t)-1, (iconv_t)-1};
	iconv_t *ic = &converters[utf16 ? 1 : 0];
	if (*ic == (iconv_t)-1)
		*ic = iconv_open("UTF-8", utf16 ? "UTF-16LE" : "LATIN1");
	if (*ic == (iconv_t)-1)
		return NULL;
	iconv(*ic, NULL, NULL, NULL, NULL);
	size_t cap = len * 2 + 1, inleft = len, outleft = cap - 1;
	char *out = rp_xmalloc(cap), *op = out, *ip = (char *)in;
	if (iconv(*ic, &ip, &inleft, &op, &outleft) == (size_t)-1) {
		int e = errno;
		free(out);
		errno = e;
		return NULL;
	}
	*op = 0;
	return out;
}

/* Whether a stored name (n bytes, Latin-1 or UTF-16LE) equals query the way hivex compares them
 * (decoded to UTF-8, then strcasecmp): 1 or 0 when every character is ASCII from 1 to 127, whose
 * UTF-8 is itself; -1 when only decoding can tell. */
static int ascii_name_equal(const uint8_t *name, size_t n, int utf16, const char *query)
{
	size_t step = utf16 ? 2 : 1, chars = n / step;
	if (utf16 && n % 2)
		return -1;
	for (size_t i = 0; i < chars; i++)
		if (name[i * step] == 0 || name[i * step] > 127 || (utf16 && name[i * 2 + 1]))
			return -1;
	if (strlen(query) != chars)
		return 0;
	for (size_t i = 0; i < chars; i++) {
		int a = name[i * step], b = (unsigned char)query[i];
		if (a != b && !((a | 32) == (b | 32) && (a | 32) >= 'a' && (a | 32) <= 'z'))
			return 0;
	}
	return 1;
}

static hive_node_h lz_root(rp_hive *h)
{
	const uint8_t *bb = rp_regf_reader_base_block(h->reader);
	uint64_t off = RP_REGF_BASE_BLOCK + (uint64_t)rp_le32(bb + BASE_ROOT);
	if (!rp_regf_reader_is_cell(h->reader, off)) {
		errno = ENOKEY;
		return 0;
	}
	return (hive_node_h)off;
}

/* A record's decoded name: nk (NK_NAME_LEN, NK_NAME, NK_COMP_NAME) or vk (VK_...), as hivex's
 * hivex_node_name and hivex_value_key give it. */
static char *record_name(rp_hive *h, uint64_t off, const char *id, size_t head, size_t len_at,
			 size_t flags_at, unsigned latin1_flag)
{
	uint8_t r[NK_NAME], small[256];
	size_t len;
	if (record_head(h, off, id, r, head, &len) < 0)
		return NULL;
	size_t n = rp_le16(r + len_at);
	if (len < head || n > len - head) {
		errno = EFAULT;
		return NULL;
	}
	uint8_t *bytes = name_bytes(h, off + head, n, small, sizeof small);
	if (!bytes)
		return NULL;
	char *name = recode(bytes, n, !(rp_le16(r + flags_at) & latin1_flag));
	if (bytes != small)
		free(bytes);
	return name;
}

static char *lz_node_name(rp_hive *h, hive_node_h node)
{
	return record_name(h, node, "nk", NK_NAME, NK_NAME_LEN, NK_FLAGS, NK_COMP_NAME);
}

static int64_t lz_node_timestamp(rp_hive *h, hive_node_h node)
{
	uint8_t nk[NK_NAME];
	size_t len;
	if (record_head(h, node, "nk", nk, sizeof nk, &len) < 0)
		return -1;
	int64_t t = (int64_t)rp_le64(nk + NK_TIMESTAMP);
	if (t < 0)
		errno = EINVAL;
	return t;
}

static size_t lz_node_nr_values(rp_hive *h, hive_node_h node)
{
	uint8_t nk[NK_NAME];
	size_t len;
	if (record_head(h, node, "nk", nk, sizeof nk, &len) < 0)
		return 0;
	return rp_le32(nk + NK_VALUES);
}

typedef struct offsets {
	hive_node_h *v;
	size_t n, cap, limit;
} offsets;

static int offsets_add(offsets *o, hive_node_h off)
{
	if (o->n >= o->limit) {
		errno = ERANGE;
		return -1;
	}
	o->v = rp_grow(o->v, &o->cap, o->n + 2, sizeof *o->v);
	o->v[o->n++] = off;
	return 0;
}

static int child_is_nk(rp_hive *h, uint64_t off)
{
	uint8_t c[CELL_ID + 2];
	size_t len;
	if (cell_head(h, off, c, sizeof c, &len, EFAULT) < 0)
		return -1;
	if (len < CELL_ID + 2 || memcmp(c + CELL_ID, "nk", 2) != 0) {
		errno = EFAULT;
		return -1;
	}
	return 0;
}

/* hivex's _get_children: lf / lh / li lists of nk cells, ri lists of those lists. */
static int get_children(rp_hive *h, uint64_t off, offsets *children, size_t *blocks, unsigned depth)
{
	if (++*blocks > MAX_SUBKEYS) {
		errno = ERANGE;
		return -1;
	}
	size_t len;
	uint8_t *b = cell(h, off, &len, EFAULT);
	if (!b)
		return -1;
	int rc = 0;
	size_t n = len >= LIST_COUNT + 2 ? rp_le16(b + LIST_COUNT) : 0;
	int lf = len >= CELL_ID + 2 && b[CELL_ID] == 'l' &&
		 (b[CELL_ID + 1] == 'f' || b[CELL_ID + 1] == 'h');
	int li = len >= CELL_ID + 2 && b[CELL_ID] == 'l' && b[CELL_ID + 1] == 'i';
	int ri = len >= CELL_ID + 2 && b[CELL_ID] == 'r' && b[CELL_ID + 1] == 'i';
	size_t step = lf ? 8 : 4;
	if (!lf && !li && !ri) {
		errno = ENOTSUP;
		rc = -1;
	} else if (len < LIST_ITEMS || LIST_ITEMS + n * step > len) {
		errno = EFAULT;
		rc = -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint64_t item = RP_REGF_BASE_BLOCK + (uint64_t)rp_le32(b + LIST_ITEMS + i * step);
		if (ri) {
			if (!rp_regf_reader_is_cell(h->reader, item)) {
				errno = EFAULT;
				rc = -1;
			} else if (depth >= MAX_RI_DEPTH) {
				errno = EINVAL;
				rc = -1;
			} else {
				rc = get_children(h, item, children, blocks, depth + 1);
			}
		} else if (child_is_nk(h, item) < 0 || offsets_add(children, item) < 0) {
			rc = -1;
		}
	}
	free(b);
	return rc;
}

static hive_node_h *lz_children(rp_hive *h, hive_node_h node)
{
	uint8_t nk[NK_NAME];
	size_t len;
	if (record_head(h, node, "nk", nk, sizeof nk, &len) < 0)
		return NULL;
	size_t want = rp_le32(nk + NK_SUBKEYS);
	uint64_t list = RP_REGF_BASE_BLOCK + (uint64_t)rp_le32(nk + NK_SUBKEY_LIST);
	offsets children = {.limit = want};
	size_t blocks = 0;
	int rc = 0;
	if (want > MAX_SUBKEYS) {
		errno = ERANGE;
		rc = -1;
	} else if (want && !rp_regf_reader_is_cell(h->reader, list)) {
		errno = EFAULT;
		rc = -1;
	} else if (want && get_children(h, list, &children, &blocks, 0) < 0) {
		rc = -1;
	} else if (children.n != want) {
		errno = ENOTSUP;
		rc = -1;
	}
	if (rc < 0) {
		free(children.v);
		return NULL;
	}
	hive_node_h *out = children.v ? children.v : rp_xmalloc(sizeof *out);
	out[children.n] = 0;
	return out;
}

static hive_value_h *lz_values(rp_hive *h, hive_node_h node)
{
	uint8_t nk[NK_NAME];
	size_t len;
	if (record_head(h, node, "nk", nk, sizeof nk, &len) < 0)
		return NULL;
	size_t n = rp_le32(nk + NK_VALUES);
	uint64_t list = RP_REGF_BASE_BLOCK + (uint64_t)rp_le32(nk + NK_VALUE_LIST);
	if (n > MAX_VALUES) {
		errno = ERANGE;
		return NULL;
	}
	hive_value_h *out = rp_xmalloc((n + 1) * sizeof *out);
	out[0] = 0;
	if (n == 0)
		return out;
	uint8_t *vl = cell(h, list, &len, EFAULT);
	if (!vl || VALUE_LIST_ITEMS + n * 4 > len) {
		if (vl)
			errno = EFAULT;
		free(vl);
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t v = RP_REGF_BASE_BLOCK + (uint64_t)rp_le32(vl + VALUE_LIST_ITEMS + i * 4);
		if (!rp_regf_reader_is_cell(h->reader, v)) {
			free(vl);
			free(out);
			errno = EFAULT;
			return NULL;
		}
		out[i] = (hive_value_h)v;
	}
	out[n] = 0;
	free(vl);
	return out;
}

static char *lz_value_key(rp_hive *h, hive_value_h value)
{
	return record_name(h, value, "vk", VK_NAME, VK_NAME_LEN, VK_FLAGS, VK_COMP_NAME);
}

/* The child of node (or value, with values) named query, compared as hivex compares (0 and
 * errno when a name cannot be read): ASCII names without decoding them. */
static hive_node_h find_named(rp_hive *h, hive_node_h node, const char *query, int values)
{
	hive_node_h *items = values ? lz_values(h, node) : lz_children(h, node), found = 0;
	if (!items)
		return 0;
	const char *id = values ? "vk" : "nk";
	size_t head = values ? VK_NAME : NK_NAME, len_at = values ? VK_NAME_LEN : NK_NAME_LEN;
	size_t flags_at = values ? VK_FLAGS : NK_FLAGS;
	unsigned latin1 = values ? VK_COMP_NAME : NK_COMP_NAME;
	for (size_t i = 0; items[i] && !found; i++) {
		uint8_t r[NK_NAME], small[256];
		size_t len;
		if (record_head(h, items[i], id, r, head, &len) < 0)
			break;
		size_t n = rp_le16(r + len_at);
		if (len < head || n > len - head) {
			errno = EFAULT;
			break;
		}
		int eq = -1;
		if (n <= sizeof small) {
			if (!name_bytes(h, items[i] + head, n, small, sizeof small))
				break;
			eq = ascii_name_equal(small, n, !(rp_le16(r + flags_at) & latin1), query);
		}
		if (eq < 0) {
			char *name = record_name(h, items[i], id, head, len_at, flags_at, latin1);
			if (!name)
				break;
			eq = strcasecmp(name, query) == 0;
			free(name);
		}
		if (eq)
			found = items[i];
	}
	free(items);
	return found;
}

static hive_node_h lz_get_child(rp_hive *h, hive_node_h node, const char *name)
{
	return find_named(h, node, name, 0);
}

static hive_value_h lz_get_value(rp_hive *h, hive_node_h node, const char *name)
{
	return find_named(h, node, name, 1);
}

/* A db record's segments, each copied but for its last 4 bytes, up to len bytes (hivex). */
static char *big_data(rp_hive *h, uint64_t db_off, size_t *len)
{
	size_t dblen, bllen;
	uint8_t *db = cell(h, db_off, &dblen, EINVAL);
	if (!db)
		return NULL;
	if (dblen < DB_LIST + 4) {
		free(db);
		errno = EINVAL;
		return NULL;
	}
	size_t segments = rp_le16(db + DB_SEGMENTS);
	uint64_t list = RP_REGF_BASE_BLOCK + (uint64_t)rp_le32(db + DB_LIST);
	free(db);
	uint8_t *bl = cell(h, list, &bllen, EINVAL);
	if (!bl)
		return NULL;
	if (VALUE_LIST_ITEMS + segments * 4 > bllen) {
		free(bl);
		errno = EINVAL;
		return NULL;
	}
	char *out = rp_xmalloc(*len ? *len : 1);
	size_t off = 0;
	for (size_t i = 0; i < segments; i++) {
		uint64_t seg =
		    RP_REGF_BASE_BLOCK + (uint64_t)rp_le32(bl + VALUE_LIST_ITEMS + i * 4);
		size_t seglen;
		uint8_t *s = cell(h, seg, &seglen, EINVAL);
		if (!s || seglen < 8) {
			if (s)
				errno = EINVAL;
			free(s);
			free(bl);
			free(out);
			return NULL;
		}
		size_t sz = seglen - 8;
		if (off + sz > *len)
			sz = *len - off;
		memcpy(out + off, s + CELL_BODY, sz);
		off += sz;
		free(s);
	}
	free(bl);
	*len = off;
	return out;
}

static char *lz_value_value(rp_hive *h, hive_value_h value, hive_type *type, size_t *len_out)
{
	uint8_t vk[VK_NAME];
	size_t vklen;
	if (record_head(h, value, "vk", vk, sizeof vk, &vklen) < 0)
		return NULL;
	uint32_t raw = rp_le32(vk + VK_DATA_LEN);
	size_t len = raw & 0x7fffffffu;
	int is_inline = !!(raw & VK_DATA_INLINE);
	uint64_t data = RP_REGF_BASE_BLOCK + (uint64_t)rp_le32(vk + VK_DATA);
	uint8_t inline_data[4];
	memcpy(inline_data, vk + VK_DATA, 4);
	if (type)
		*type = (hive_type)rp_le32(vk + VK_TYPE);
	if (len_out)
		*len_out = len;
	if (is_inline && len > 4) {
		errno = ENOTSUP;
		return NULL;
	}
	if (len > MAX_VALUE_LEN) {
		errno = ERANGE;
		return NULL;
	}
	if (is_inline) {
		char *out = rp_xmalloc(len ? len : 1);
		memcpy(out, inline_data, len);
		return out;
	}
	size_t dlen;
	uint8_t *d = cell(h, data, &dlen, EFAULT);
	if (!d)
		return NULL;
	if (len <= dlen - CELL_BODY) {
		char *out = rp_xmalloc(len ? len : 1);
		memcpy(out, d + CELL_BODY, len);
		free(d);
		return out;
	}
	int is_db = dlen >= CELL_ID + 2 && memcmp(d + CELL_ID, "db", 2) == 0;
	free(d);
	if (!is_db) {
		errno = EINVAL;
		return NULL;
	}
	char *out = big_data(h, data, &len);
	if (out && len_out)
		*len_out = len;
	return out;
}

static int lz_read(rp_hive *h, uint64_t off, void *buf, size_t len)
{
	if (rp_regf_reader_read(h->reader, off, buf, len, NULL) < 0) {
		errno = off + len > h->len ? EFAULT : EIO;
		return -1;
	}
	return 0;
}

/* Pieces a volume-backed image is copied in: big enough that the volume is asked few times. */
#define COPY_PIECE ((size_t)1 << 20)

static int read_source(void *ctx, uint64_t off, uint8_t *buf, size_t len, rp_err *err);

static int lz_copy(rp_hive *h, uint8_t *buf, rp_err *err)
{
	if (h->mem) {
		memcpy(buf, h->mem, h->len);
		return 0;
	}
	if (!h->src.path)
		return rp_fail(err, RP_EXIT_UNUSABLE, "hive %s: its image cannot be copied",
			       h->name);
	for (size_t at = 0; at < h->len; at += COPY_PIECE)
		if (read_source(&h->src, at, buf + at,
				h->len - at < COPY_PIECE ? h->len - at : COPY_PIECE, err) < 0)
			return -1;
	return 0;
}

const reg_backend reg_lazy_backend = {
    .root = lz_root,
    .children = lz_children,
    .node_name = lz_node_name,
    .node_timestamp = lz_node_timestamp,
    .node_nr_values = lz_node_nr_values,
    .values = lz_values,
    .value_key = lz_value_key,
    .value_value = lz_value_value,
    .read = lz_read,
    .copy = lz_copy,
    .get_child = lz_get_child,
    .get_value = lz_get_value,
};

/* ---- opening, moving, making resident ---- */

static int read_source(void *ctx, uint64_t off, uint8_t *buf, size_t len, rp_err *err)
{
	reg_source *src = ctx;
	if (!src->vol) {
		char *shown = rp_escape(src->path ? src->path : "the hive");
		rp_fail(err, RP_EXIT_UNUSABLE, "%s: the volume it is read from is closed", shown);
		free(shown);
		return -1;
	}
	return rp_vol_read_range(src->vol, src->path, off, buf, len, err);
}

static rp_hive *new_lazy(const char *name)
{
	rp_hive *h = rp_xcalloc(1, sizeof *h);
	h->name = rp_xstrdup(name);
	h->ops = &reg_lazy_backend;
	h->fd = -1;
	return h;
}

int reg_hive_open_lazy(rp_hive **out, const char *name, rp_vol *vol, const char *path,
		       const uint8_t *base_block, rp_err *err)
{
	*out = NULL;
	rp_hive *h = new_lazy(name);
	h->src.vol = vol;
	h->src.path = rp_xstrdup(path);
	/* Its messages name "the hive", after the path the caller puts first, as recovery's do. */
	if (rp_regf_reader_open(&h->reader, "the hive", base_block, read_source, &h->src, err) <
	    0) {
		rp_hive_close(h);
		return -1;
	}
	h->len = (size_t)rp_regf_reader_size(h->reader);
	*out = h;
	return 0;
}

int reg_hive_open_image(rp_hive **out, const char *name, uint8_t *image, size_t len, int owned)
{
	*out = NULL;
	rp_regf_files none = {0};
	rp_regf_recovery info;
	rp_err ignored = {0};
	if (len < RP_REGF_BASE_BLOCK ||
	    rp_regf_recover_clean(image, len, &none, &info, &ignored) != 1)
		return 0;
	rp_hive *h = new_lazy(name);
	h->mem = image;
	if (rp_regf_reader_open_memory(&h->reader, "the hive", image, len, &ignored) < 0) {
		h->mem = NULL; /* the caller's still */
		rp_hive_close(h);
		return 0;
	}
	h->mem_owned = owned;
	h->len = (size_t)rp_regf_reader_size(h->reader);
	*out = h;
	return 1;
}

rp_hive *reg_hive_open_reader(const char *name, rp_regf_reader *reader)
{
	rp_hive *h = new_lazy(name);
	h->reader = reader;
	h->len = (size_t)rp_regf_reader_size(reader);
	return h;
}

void reg_hive_rebind(rp_hive *h, rp_vol *vol)
{
	if (h->reader)
		h->src.vol = vol;
}
