/*
 * log_new.c — new-format (HvLE, Windows 8.1 and later) transaction logs: entry validation with
 * both Marvin32 hashes, the scan for every valid entry (chain and remnants), and applying one
 * log's chain to a working image (hive-format.md §6.3, §7.2).
 */
#include "regf/regf_internal.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int regf_entry_parse(const uint8_t *log, size_t len, size_t offset, regf_entry *e)
{
	if (offset > len || len - offset < REGF_LE_PAGE_REFS)
		return 0;
	const uint8_t *p = log + offset;
	if (memcmp(p, "HvLE", 4) != 0)
		return 0;
	uint32_t size = rp_le32(p + REGF_LE_SIZE), hbins = rp_le32(p + REGF_LE_HBINS_SIZE),
		 pages = rp_le32(p + REGF_LE_PAGES);
	if (size < REGF_LOG_SECTOR || size % REGF_LOG_SECTOR != 0 || size > len - offset)
		return 0;
	if (hbins == 0 || hbins % REGF_HBIN_ALIGN != 0 || pages == 0)
		return 0;
	if (pages > (size - REGF_LE_PAGE_REFS) / REGF_PR_LEN)
		return 0;
	/* The page data follows the references; all of it must lie inside the entry and every
	 * page inside the hive bins the entry describes. */
	uint64_t data = 0;
	for (uint32_t i = 0; i < pages; i++) {
		const uint8_t *ref = p + REGF_LE_PAGE_REFS + REGF_PR_LEN * (size_t)i;
		uint32_t rel = rp_le32(ref + REGF_PR_OFFSET), psize = rp_le32(ref + REGF_PR_SIZE);
		if (psize == 0 || (uint64_t)rel + psize > hbins)
			return 0;
		data += psize;
	}
	if (REGF_LE_PAGE_REFS + REGF_PR_LEN * (uint64_t)pages + data > size)
		return 0;
	if (rp_regf_marvin32(p, REGF_LE_HASH2) != rp_le64(p + REGF_LE_HASH2))
		return 0;
	if (rp_regf_marvin32(p + REGF_LE_PAGE_REFS, size - REGF_LE_PAGE_REFS) !=
	    rp_le64(p + REGF_LE_HASH1))
		return 0;
	e->offset = offset;
	e->size = size;
	e->flags = rp_le32(p + REGF_LE_FLAGS);
	e->seq = rp_le32(p + REGF_LE_SEQ);
	e->hbins_size = hbins;
	e->pages = pages;
	return 1;
}

void regf_new_scan(regf_log *log)
{
	size_t cap = 0;
	size_t pos = REGF_LOG_BASE_BLOCK;
	while (pos < log->len && log->len - pos >= 40) {
		regf_entry e;
		if (!regf_entry_parse(log->data, log->len, pos, &e)) {
			pos += REGF_LOG_SECTOR;
			continue;
		}
		log->entries =
		    rp_grow(log->entries, &cap, log->n_entries + 1, sizeof *log->entries);
		log->entries[log->n_entries++] = e;
		pos += e.size;
	}
	/* The chain: entries back to back from offset 512, starting at the base block's seq1. */
	size_t expect_off = REGF_LOG_BASE_BLOCK;
	uint32_t expect_seq = log->seq1;
	log->chain_len = 0;
	while (log->chain_len < log->n_entries) {
		const regf_entry *e = &log->entries[log->chain_len];
		if (e->offset != expect_off || e->seq != expect_seq)
			break;
		log->chain_len++;
		expect_off += e->size;
		expect_seq++;
	}
}

void regf_work_grow(regf_work *w, uint32_t hbins_size)
{
	size_t need = (size_t)RP_REGF_BASE_BLOCK + hbins_size;
	if (need > w->cap) {
		if (w->limit && need > w->limit) {
			/* cannot happen: every caller first bounds hbins_size by max_hbins */
			fputs("rdprescue: internal error: hive replay outgrew its buffer\n",
			      stderr);
			abort();
		}
		if (!w->limit)
			w->img = rp_xrealloc(w->img, need);
		memset(w->img + w->cap, 0, need - w->cap);
		w->cap = need;
	}
	w->hbins_size = hbins_size;
}

unsigned regf_new_apply(regf_work *w, const regf_log *log, uint64_t max_hbins)
{
	size_t i;
	for (i = 0; i < log->chain_len; i++) {
		const regf_entry *e = &log->entries[i];
		if (e->hbins_size > max_hbins)
			break;
		const uint8_t *p = log->data + e->offset;
		const uint8_t *page = p + REGF_LE_PAGE_REFS + REGF_PR_LEN * (size_t)e->pages;
		regf_work_grow(w, e->hbins_size);
		for (uint32_t k = 0; k < e->pages; k++) {
			const uint8_t *ref = p + REGF_LE_PAGE_REFS + REGF_PR_LEN * (size_t)k;
			uint32_t rel = rp_le32(ref + REGF_PR_OFFSET),
				 psize = rp_le32(ref + REGF_PR_SIZE);
			memcpy(w->img + RP_REGF_BASE_BLOCK + rel, page, psize);
			page += psize;
		}
		w->flags = (w->flags & ~1u) | (e->flags & 1u);
		w->last_seq = e->seq;
		if (w->applied == 0)
			w->first_seq = e->seq;
		w->applied++;
	}
	return (unsigned)i;
}
