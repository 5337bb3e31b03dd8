/*
 * log_old.c — old-format (DIRT, Windows XP to 8.0) transaction logs: the dirty vector with one
 * bit per 512-byte page of hive-bins data, and the pages that follow it (hive-format.md §6.2).
 */
#include "regf/regf_internal.h"

#include <stdio.h>
#include <string.h>

void regf_old_parse(regf_log *log)
{
	uint32_t hbins = log->hbins_size;
	if (hbins == 0 || hbins % REGF_HBIN_ALIGN != 0) {
		snprintf(log->problem, sizeof log->problem,
			 "its base block has a bad hive-bins size 0x%x", hbins);
		return;
	}
	size_t bitmap_len = hbins / (8 * REGF_LOG_SECTOR); /* one bit per 512-byte page */
	if (log->len < REGF_LOG_BASE_BLOCK + REGF_DIRT_BITMAP + bitmap_len) {
		snprintf(log->problem, sizeof log->problem,
			 "it ends (%zu bytes) inside its dirty vector", log->len);
		return;
	}
	const uint8_t *dirt = log->data + REGF_LOG_BASE_BLOCK;
	if (memcmp(dirt + REGF_DIRT_SIGNATURE, "DIRT", 4) != 0) {
		snprintf(log->problem, sizeof log->problem,
			 "its dirty vector has no DIRT signature");
		return;
	}
	uint32_t count = 0;
	for (size_t i = 0; i < bitmap_len; i++)
		count += (uint32_t)__builtin_popcount(dirt[REGF_DIRT_BITMAP + i]);
	size_t start = (REGF_LOG_BASE_BLOCK + REGF_DIRT_BITMAP + bitmap_len + REGF_LOG_SECTOR - 1) /
		       REGF_LOG_SECTOR * REGF_LOG_SECTOR;
	if (start > log->len || (log->len - start) / REGF_LOG_SECTOR < count) {
		snprintf(log->problem, sizeof log->problem,
			 "it is truncated: %u dirty pages need %zu bytes, it has %zu", count,
			 start + (size_t)count * REGF_LOG_SECTOR, log->len);
		return;
	}
	log->dirt_ok = 1;
	log->dirty_pages = count;
	log->pages_start = start;
}

unsigned regf_old_apply(regf_work *w, const regf_log *log)
{
	const uint8_t *bitmap = log->data + REGF_LOG_BASE_BLOCK + REGF_DIRT_BITMAP;
	const uint8_t *page = log->data + log->pages_start;
	uint32_t bits = log->hbins_size / REGF_LOG_SECTOR;
	unsigned n = 0;

	regf_work_grow(w, log->hbins_size);
	for (uint32_t bit = 0; bit < bits; bit++) {
		if (!(bitmap[bit / 8] >> (bit % 8) & 1))
			continue;
		memcpy(w->img + RP_REGF_BASE_BLOCK + (size_t)bit * REGF_LOG_SECTOR, page,
		       REGF_LOG_SECTOR);
		page += REGF_LOG_SECTOR;
		n++;
	}
	w->applied += n;
	return n;
}
