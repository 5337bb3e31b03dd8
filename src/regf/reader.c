/*
 * reader.c — rp_regf_reader: a clean hive read in place instead of copied whole.
 *
 * A scan reads a few dozen values from SOFTWARE, which can be 100 MB; copying it into memory
 * for hivex costs more than everything else a scan does.  The reader makes one pass over the
 * hive bins through a 1 MiB window (the checks hivex_open makes: bin chain, cells tiling each
 * bin, the root key allocated) and keeps a bitmap of allocated cell starts, one bit per 4 bytes
 * as hivex keeps it, so that reg/ can ask "is this a cell?" exactly as hivex does.  Later reads
 * go through a direct-mapped cache of 64 KiB pieces.  A hive already in memory (a replayed or
 * an edited image) is read where it is: no window, no cache.  No library reads a hive through a
 * caller's read function (hivex maps a named file; libregf reads every bin header at open and
 * is no faster), hence this file.
 */
#include "regf/regf_internal.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW ((size_t)1 << 20)
#define SLOT_SHIFT 16
#define SLOT_SIZE ((size_t)1 << SLOT_SHIFT)
#define SLOTS 32

typedef struct slot {
	uint64_t index; /* piece number: file offset >> SLOT_SHIFT */
	size_t len;	/* 0: empty */
	uint8_t *data;
} slot;

struct rp_regf_reader {
	char *name;
	uint8_t base[RP_REGF_BASE_BLOCK];
	uint64_t size;	/* 4096 + hive-bins size */
	uint8_t *cells; /* bit per 4-byte unit of the file: an allocated cell starts there */
	rp_regf_read_fn read;
	void *ctx;
	const uint8_t *mem; /* rp_regf_reader_open_memory: the whole image, read where it is */
	slot slots[SLOTS];
};

/* The open pass's view: WINDOW bytes of the file from start. */
typedef struct window {
	rp_regf_reader *r;
	uint8_t *buf;
	uint64_t start;
	size_t len;
} window;

/* n bytes at off (n <= 32), refilling the window from off's 4 KiB page when they are not in it. */
static const uint8_t *window_get(window *w, uint64_t off, size_t n, rp_err *err)
{
	if (off >= w->start && off + n <= w->start + w->len)
		return w->buf + (off - w->start);
	if (w->r->mem && off + n <= w->r->size) /* nothing to copy */
		return w->r->mem + off;
	uint64_t start = off & ~(uint64_t)(REGF_HBIN_ALIGN - 1);
	size_t len = w->r->size - start < WINDOW ? (size_t)(w->r->size - start) : WINDOW;
	if (off + n > start + len) { /* the callers keep within the bins: never expected */
		rp_fail(err, RP_EXIT_UNUSABLE, "%s is corrupt: it ends inside a record at 0x%llx",
			w->r->name, (unsigned long long)off);
		return NULL;
	}
	if (w->r->read(w->r->ctx, start, w->buf, len, err) < 0)
		return NULL;
	w->start = start;
	w->len = len;
	return w->buf + (off - start);
}

static void mark_cell(rp_regf_reader *r, uint64_t off)
{
	r->cells[off >> 5] |= (uint8_t)(1u << ((off >> 2) & 7));
}

int rp_regf_reader_is_cell(const rp_regf_reader *r, uint64_t off)
{
	return off % 4 == 0 && off >= RP_REGF_BASE_BLOCK && off < r->size &&
	       (r->cells[off >> 5] & (1u << ((off >> 2) & 7)));
}

static int bad_cell(const rp_regf_reader *r, uint64_t at, int32_t raw, uint64_t bin_end,
		    rp_err *err)
{
	char *shown = rp_escape(r->name);
	rp_fail(err, RP_EXIT_UNUSABLE,
		"%s is corrupt: a cell of bad size %d at file offset 0x%llx (its hive bin ends at "
		"0x%llx); restore %s from a backup or RegBack",
		shown, raw, (unsigned long long)at, (unsigned long long)bin_end, shown);
	free(shown);
	return -1;
}

/* The one pass over the hive bins. */
static int walk_bins(rp_regf_reader *r, rp_err *err)
{
	uint32_t limit = (uint32_t)(r->size - RP_REGF_BASE_BLOCK);
	window w = {.r = r, .buf = rp_xmalloc(WINDOW)};
	char why[200];
	int rc = 0;
	for (uint32_t rel = 0; rel < limit && rc == 0;) {
		uint64_t pos = (uint64_t)RP_REGF_BASE_BLOCK + rel;
		const uint8_t *h = window_get(&w, pos, REGF_HBIN_HEADER, err);
		if (!h) {
			rc = -1;
			break;
		}
		if (!regf_hbin_ok(h, pos, rel, limit, r->size, why, sizeof why)) {
			rc = regf_chain_broken(r->name, why, err);
			break;
		}
		uint64_t end = pos + rp_le32(h + REGF_HBIN_SIZE);
		for (uint64_t at = pos + REGF_HBIN_HEADER; at < end;) {
			const uint8_t *c = window_get(&w, at, 4, err);
			if (!c) {
				rc = -1;
				break;
			}
			int32_t raw = (int32_t)rp_le32(c);
			uint64_t size = raw < 0 ? (uint64_t)(-(int64_t)raw) : (uint64_t)raw;
			if (size <= 4 || size % 4 != 0 || size > end - at) {
				rc = bad_cell(r, at, raw, end, err);
				break;
			}
			if (raw < 0)
				mark_cell(r, at);
			at += size;
		}
		rel = (uint32_t)(end - RP_REGF_BASE_BLOCK);
	}
	free(w.buf);
	if (rc == 0 && !rp_regf_reader_is_cell(r, RP_REGF_BASE_BLOCK +
						      (uint64_t)rp_le32(r->base + REGF_BB_ROOT))) {
		char *shown = rp_escape(r->name);
		rc = rp_fail(
		    err, RP_EXIT_UNUSABLE,
		    "hive %s: its root key (cell 0x%x) is not an allocated cell; restore %s "
		    "from a backup or RegBack",
		    shown, rp_le32(r->base + REGF_BB_ROOT), shown);
		free(shown);
	}
	return rc;
}

static int open_reader(rp_regf_reader **out, const char *name, const uint8_t *base_block,
		       rp_regf_read_fn read, void *ctx, const uint8_t *mem, rp_err *err)
{
	*out = NULL;
	rp_regf_reader *r = rp_xcalloc(1, sizeof *r);
	r->name = rp_xstrdup(name);
	memcpy(r->base, base_block, RP_REGF_BASE_BLOCK);
	r->size = (uint64_t)RP_REGF_BASE_BLOCK + rp_le32(base_block + REGF_BB_HBINS_SIZE);
	r->cells = rp_xcalloc((size_t)(r->size >> 5) + 1, 1);
	r->read = read;
	r->ctx = ctx;
	r->mem = mem;
	if (walk_bins(r, err) < 0) {
		rp_regf_reader_close(r);
		return -1;
	}
	*out = r;
	return 0;
}

int rp_regf_reader_open(rp_regf_reader **out, const char *name, const uint8_t *base_block,
			rp_regf_read_fn read, void *ctx, rp_err *err)
{
	return open_reader(out, name, base_block, read, ctx, NULL, err);
}

int rp_regf_reader_open_memory(rp_regf_reader **out, const char *name, const uint8_t *image,
			       size_t len, rp_err *err)
{
	*out = NULL;
	if (len < RP_REGF_BASE_BLOCK ||
	    (uint64_t)rp_le32(image + REGF_BB_HBINS_SIZE) > len - RP_REGF_BASE_BLOCK) {
		char *shown = rp_escape(name);
		rp_fail(err, RP_EXIT_UNUSABLE,
			"%s is truncated: its hive bins do not fit in its %zu bytes", shown, len);
		free(shown);
		return -1;
	}
	return open_reader(out, name, image, NULL, NULL, image, err);
}

void rp_regf_reader_close(rp_regf_reader *r)
{
	if (!r)
		return;
	for (int i = 0; i < SLOTS; i++)
		free(r->slots[i].data);
	free(r->cells);
	free(r->name);
	free(r);
}

void rp_regf_reader_rebind(rp_regf_reader *r, rp_regf_read_fn read, void *ctx)
{
	r->read = read;
	r->ctx = ctx;
}

uint64_t rp_regf_reader_size(const rp_regf_reader *r)
{
	return r->size;
}

const uint8_t *rp_regf_reader_base_block(const rp_regf_reader *r)
{
	return r->base;
}

int rp_regf_reader_read(rp_regf_reader *r, uint64_t off, void *buf, size_t len, rp_err *err)
{
	if (off > r->size || len > r->size - off) {
		char *shown = rp_escape(r->name);
		rp_fail(err, RP_EXIT_UNUSABLE,
			"%s is corrupt: %zu bytes at file offset 0x%llx run past its end (0x%llx)",
			shown, len, (unsigned long long)off, (unsigned long long)r->size);
		free(shown);
		return -1;
	}
	if (r->mem) {
		memcpy(buf, r->mem + off, len);
		return 0;
	}
	if (off < RP_REGF_BASE_BLOCK) { /* the base block is held */
		size_t n =
		    RP_REGF_BASE_BLOCK - off < len ? (size_t)(RP_REGF_BASE_BLOCK - off) : len;
		memcpy(buf, r->base + off, n);
		off += n;
		buf = (uint8_t *)buf + n;
		len -= n;
	}
	while (len) {
		uint64_t index = off >> SLOT_SHIFT;
		slot *s = &r->slots[index % SLOTS];
		if (!s->len || s->index != index) {
			uint64_t start = index << SLOT_SHIFT;
			size_t n =
			    r->size - start < SLOT_SIZE ? (size_t)(r->size - start) : SLOT_SIZE;
			if (!s->data)
				s->data = rp_xmalloc(SLOT_SIZE);
			s->len = 0;
			if (r->read(r->ctx, start, s->data, n, err) < 0)
				return -1;
			s->index = index;
			s->len = n;
		}
		size_t at = (size_t)(off - (index << SLOT_SHIFT));
		size_t n = s->len - at < len ? s->len - at : len;
		memcpy(buf, s->data + at, n);
		off += n;
		buf = (uint8_t *)buf + n;
		len -= n;
	}
	return 0;
}
