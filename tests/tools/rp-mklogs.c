/*
 * rp-mklogs — makes a realistic dirty hive with new-format (HvLE) transaction logs from two
 * clean hives, for tests and benchmarks:
 *
 *   rp-mklogs OLD NEW OUTDIR NAME [--split]
 *
 * OUTDIR/NAME is OLD's bytes with its base block left as Windows leaves it after an unclean
 * stop (seq1 = seq + 1, seq2 = seq, checksum valid); OUTDIR/NAME.LOG1 (and .LOG2 with --split,
 * the entries divided between both logs with consecutive sequence numbers) holds HvLE entries
 * whose dirty pages (a 4 KiB page diff) turn OLD into NEW.  Replaying them gives NEW's bins.
 */
#include "regf/regf.h"
#include "util/err.h"
#include "util/file.h"
#include "util/text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096
#define ENTRY_DATA_MAX (256 * 1024) /* page data per entry: several entries per log */

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static int slurp(const char *path, uint8_t **data, size_t *len)
{
	rp_err err = {0};
	if (rp_file_read(path, data, len, 1, &err) < 0) {
		fprintf(stderr, "rp-mklogs: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int spill(const char *dir, const char *name, const char *ext, const uint8_t *data,
		 size_t len)
{
	char *path = rp_xasprintf("%s/%s%s", dir, name, ext);
	FILE *f = fopen(path, "wb");
	int rc = f && fwrite(data, 1, len, f) == len ? 0 : -1;
	if (f && fclose(f) != 0)
		rc = -1;
	if (rc < 0)
		fprintf(stderr, "rp-mklogs: cannot write %s: %s\n", path, strerror(errno));
	free(path);
	return rc;
}

/* A clean, consistent image of a hive file (logs ignored: both inputs must be clean). */
static int load_clean(const char *path, uint8_t **image, size_t *len)
{
	uint8_t *raw;
	size_t n;
	if (slurp(path, &raw, &n) < 0)
		return -1;
	rp_regf_files files = {.primary = raw, .primary_len = n, .name = path};
	rp_regf_recovery info;
	rp_err err = {0};
	int rc = rp_regf_recover(&files, image, len, &info, &err);
	free(raw);
	if (rc < 0) {
		fprintf(stderr, "rp-mklogs: %s\n", err.msg);
		return -1;
	}
	if (info.was_dirty) {
		fprintf(stderr, "rp-mklogs: %s is dirty; give two clean hives\n", path);
		free(*image);
		return -1;
	}
	return 0;
}

/* A growing log: base block, then entries. */
typedef struct logbuf {
	uint8_t *data;
	size_t len, cap;
	unsigned entries;
} logbuf;

static void log_start(logbuf *l, const uint8_t *base, uint32_t seq)
{
	l->cap = 1 << 20;
	l->data = rp_xcalloc(l->cap, 1);
	memcpy(l->data, base, 512);
	put32(l->data + 4, seq);
	put32(l->data + 8, seq);
	put32(l->data + 28, 6); /* new-format log */
	put32(l->data + 508, rp_regf_checksum(l->data));
	l->len = 512;
	l->entries = 0;
}

/* Appends one HvLE entry holding pages [first, last) of the run list. */
static void log_entry(logbuf *l, const uint8_t *bins, const uint32_t *run_off,
		      const uint32_t *run_len, size_t first, size_t last, uint32_t seq,
		      uint32_t hbins, uint32_t flags)
{
	size_t data = 0;
	for (size_t i = first; i < last; i++)
		data += run_len[i];
	size_t size = (40 + 8 * (last - first) + data + 511) / 512 * 512;
	l->data = rp_grow(l->data, &l->cap, l->len + size, 1);
	uint8_t *e = l->data + l->len;
	memset(e, 0, size);
	memcpy(e, "HvLE", 4);
	put32(e + 4, (uint32_t)size);
	put32(e + 8, flags & 1);
	put32(e + 12, seq);
	put32(e + 16, hbins);
	put32(e + 20, (uint32_t)(last - first));
	uint8_t *ref = e + 40, *page = e + 40 + 8 * (last - first);
	for (size_t i = first; i < last; i++) {
		put32(ref, run_off[i]);
		put32(ref + 4, run_len[i]);
		ref += 8;
		memcpy(page, bins + run_off[i], run_len[i]);
		page += run_len[i];
	}
	put64(e + 24, rp_regf_marvin32(e + 40, size - 40));
	put64(e + 32, rp_regf_marvin32(e, 32));
	l->len += size;
	l->entries++;
}

int main(int argc, char **argv)
{
	int split = argc == 6 && strcmp(argv[5], "--split") == 0;
	if (argc != 5 && !split) {
		fprintf(stderr, "usage: rp-mklogs OLD NEW OUTDIR NAME [--split]\n");
		return 2;
	}
	uint8_t *old_img, *new_img, *old_raw;
	size_t old_len, new_len, old_raw_len;
	if (load_clean(argv[1], &old_img, &old_len) < 0 ||
	    load_clean(argv[2], &new_img, &new_len) < 0 ||
	    slurp(argv[1], &old_raw, &old_raw_len) < 0)
		return 3;

	/* Dirty pages: every 4 KiB page of NEW's bins that OLD lacks or has different, merged
	 * into runs and cut at ENTRY_DATA_MAX so that entries stay a realistic size. */
	const uint8_t *ob = old_img + 4096, *nb = new_img + 4096;
	size_t ohb = old_len - 4096, nhb = new_len - 4096;
	size_t max_runs = nhb / PAGE + 1, n_runs = 0;
	uint32_t *run_off = rp_xmalloc(max_runs * sizeof *run_off);
	uint32_t *run_len = rp_xmalloc(max_runs * sizeof *run_len);
	for (size_t p = 0; p < nhb; p += PAGE) {
		if (p + PAGE <= ohb && memcmp(ob + p, nb + p, PAGE) == 0)
			continue;
		if (n_runs && run_off[n_runs - 1] + run_len[n_runs - 1] == p &&
		    run_len[n_runs - 1] < ENTRY_DATA_MAX) {
			run_len[n_runs - 1] += PAGE;
			continue;
		}
		run_off[n_runs] = (uint32_t)p;
		run_len[n_runs++] = PAGE;
	}
	if (n_runs == 0) {
		fprintf(stderr, "rp-mklogs: %s and %s have the same hive bins\n", argv[1], argv[2]);
		return 3;
	}

	/* Group runs into entries of about ENTRY_DATA_MAX bytes of page data. */
	size_t *cut = rp_xmalloc((n_runs + 1) * sizeof *cut), n_entries = 0;
	size_t acc = 0;
	cut[0] = 0;
	for (size_t i = 0; i < n_runs; i++) {
		acc += run_len[i];
		if (acc >= ENTRY_DATA_MAX || i + 1 == n_runs) {
			cut[++n_entries] = i + 1;
			acc = 0;
		}
	}
	if (split && n_entries < 2) {
		/* Two logs need two entries: split the single entry's runs (or its only run). */
		if (n_runs == 1 && run_len[0] > PAGE) {
			run_off[1] = run_off[0] + PAGE;
			run_len[1] = run_len[0] - PAGE;
			run_len[0] = PAGE;
			n_runs = 2;
		}
		if (n_runs >= 2) {
			cut[1] = n_runs / 2;
			cut[2] = n_runs;
			n_entries = 2;
		}
	}

	uint32_t seq = get32(old_img + 8), flags = get32(old_img + 144);
	uint32_t hbins = (uint32_t)nhb;
	size_t in_log1 = split ? (n_entries + 1) / 2 : n_entries;
	logbuf l1, l2 = {0};
	log_start(&l1, old_img, seq);
	for (size_t i = 0; i < in_log1; i++)
		log_entry(&l1, nb, run_off, run_len, cut[i], cut[i + 1], seq + (uint32_t)i, hbins,
			  flags);
	if (split) {
		log_start(&l2, old_img, seq + (uint32_t)in_log1);
		for (size_t i = in_log1; i < n_entries; i++)
			log_entry(&l2, nb, run_off, run_len, cut[i], cut[i + 1], seq + (uint32_t)i,
				  hbins, flags);
	}

	/* The primary: OLD's bytes, base block dirty as a write that never finished. */
	put32(old_raw + 4, seq + 1);
	put32(old_raw + 8, seq);
	put32(old_raw + 508, rp_regf_checksum(old_raw));
	int rc = spill(argv[3], argv[4], "", old_raw, old_raw_len);
	rc |= spill(argv[3], argv[4], ".LOG1", l1.data, l1.len);
	if (split)
		rc |= spill(argv[3], argv[4], ".LOG2", l2.data, l2.len);
	if (rc == 0)
		printf("%s/%s: %zu entries (seq %u-%u), %zu dirty runs, logs %zu + %zu bytes\n",
		       argv[3], argv[4], n_entries, seq, seq + (uint32_t)n_entries - 1, n_runs,
		       l1.len, l2.len);
	free(old_img);
	free(new_img);
	free(old_raw);
	free(run_off);
	free(run_len);
	free(cut);
	free(l1.data);
	free(l2.data);
	return rc ? 3 : 0;
}
