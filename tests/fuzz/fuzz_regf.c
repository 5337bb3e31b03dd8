/*
 * fuzz_regf.c — libFuzzer harness for the hive integrity layer: the input is split into a
 * primary and up to three logs (the first 12 bytes hold the lengths of LOG1, LOG2 and LOG,
 * little-endian, each taken modulo what is left), then recovered, checked and finalized.
 */
#include "regf/regf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t take(const uint8_t **p, size_t *left, const uint8_t *len_field)
{
	uint32_t want = (uint32_t)len_field[0] | (uint32_t)len_field[1] << 8 |
			(uint32_t)len_field[2] << 16 | (uint32_t)len_field[3] << 24;
	size_t n = *left ? want % (*left + 1) : 0;
	*p += n;
	*left -= n;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 12)
		return 0;
	const uint8_t *p = data + 12;
	size_t left = size - 12;
	rp_regf_files f = {0};
	f.log1 = p;
	f.log1_len = take(&p, &left, data);
	f.log2 = p;
	f.log2_len = take(&p, &left, data + 4);
	f.log = p;
	f.log_len = take(&p, &left, data + 8);
	f.primary = p;
	f.primary_len = left;

	uint8_t *img;
	size_t len;
	rp_regf_recovery info;
	rp_err err = {0};
	int rc = rp_regf_recover(&f, &img, &len, &info, &err);
	/* The in-place replay must agree byte for byte. */
	uint8_t *in = malloc(f.primary_len ? f.primary_len : 1);
	memcpy(in, f.primary, f.primary_len);
	size_t ilen = f.primary_len;
	rp_regf_recovery iinfo;
	rp_err ierr = {0};
	int irc = rp_regf_recover_in_place(&in, &ilen, &f, &iinfo, &ierr);
	if (irc != rc || strcmp(ierr.msg, err.msg) != 0 ||
	    (rc == 0 &&
	     (ilen != len || memcmp(in, img, len) != 0 || memcmp(&iinfo, &info, sizeof info) != 0)))
		abort();
	free(in);
	/* So must the replay in a fixed buffer of rp_regf_recover_cap bytes (install.c's memfd
	 * mapping); ASan catches any write past it. */
	size_t cap = rp_regf_recover_cap(f.primary_len, &f), blen = f.primary_len;
	uint8_t *buf = malloc(cap);
	memset(buf, 0xA5, cap);
	memcpy(buf, f.primary, f.primary_len);
	rp_regf_recovery binfo;
	rp_err berr = {0};
	int brc = rp_regf_recover_in_buffer(buf, cap, &blen, &f, &binfo, &berr);
	if (brc != rc || strcmp(berr.msg, err.msg) != 0 ||
	    (rc == 0 && (blen != len || memcmp(buf, img, len) != 0 ||
			 memcmp(&binfo, &info, sizeof info) != 0)))
		abort();
	free(buf);
	if (rc == 0) {
		if (rp_regf_check(img, len, &err) == 0) {
			rp_regf_finalize(img, &len, info.max_seq + 1, &err);
			rp_regf_check(img, len, &err);
		}
		free(img);
	}
	rp_regf_log_info li;
	rp_regf_describe_log(f.log1, f.log1_len, &li);
	return 0;
}
