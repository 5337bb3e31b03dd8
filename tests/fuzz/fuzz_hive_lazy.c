/*
 * fuzz_hive_lazy.c — libFuzzer harness for a clean hive read in place: the input is a primary;
 * when recovery would call it clean, regf's reader opens it through a read function over the
 * input (as reg/ reads a file on the volume), and again where it lies in memory (as reg/ reads
 * a replayed or edited image), and each time every key, value, security descriptor, the .reg
 * export and a copy of the image are read through reg/'s lazy backend.  Nothing may read
 * outside the input.
 */
#include "reg/reg_internal.h"
#include "regf/regf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct input {
	const uint8_t *data;
	size_t len;
} input;

static int read_input(void *ctx, uint64_t off, uint8_t *buf, size_t len, rp_err *err)
{
	const input *in = ctx;
	if (off > in->len || len > in->len - off)
		return rp_fail(err, RP_EXIT_UNUSABLE, "read past the input");
	memcpy(buf, in->data + off, len);
	return 0;
}

/* Everything a scan and an edit read of a hive. */
static void exercise(rp_hive *h)
{
	size_t keys, values;
	rp_err e1 = {0};
	rp_hive_count_keys(h, &keys, &values, &e1);
	char **names = NULL;
	size_t n = 0;
	rp_err e2 = {0};
	if (rp_hive_values(h, "", &names, &n, &e2) == 0) {
		for (size_t i = 0; i < n; i++) {
			rp_value v = {0};
			rp_err e3 = {0};
			if (rp_hive_get(h, "", names[i], &v, &e3) == 1) {
				char *shown = rp_value_format(&v);
				free(shown);
			}
			rp_value_free(&v);
		}
		rp_names_free(names, n);
	}
	uint8_t *sd = NULL;
	size_t sdlen = 0;
	rp_err e4 = {0};
	rp_hive_key_sd(h, "", &sd, &sdlen, &e4);
	free(sd);
	char *out = NULL;
	rp_err e5 = {0};
	if (rp_regfile_export(h, "", "HKEY_LOCAL_MACHINE\\FUZZ", &out, &e5) == 0)
		free(out);
	uint8_t *copy = NULL;
	rp_err e6 = {0};
	if (reg_hive_read_image(h, &copy, &e6) == 0)
		free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 * RP_REGF_BASE_BLOCK)
		return 0;
	rp_regf_files files = {.name = "fuzz"};
	rp_regf_recovery info;
	rp_err err = {0};
	if (rp_regf_recover_clean(data, size, &files, &info, &err) != 1)
		return 0;
	input in = {data, size};
	rp_regf_reader *r = NULL;
	if (rp_regf_reader_open(&r, "fuzz", data, read_input, &in, &err) < 0)
		return 0;
	rp_hive *h = reg_hive_open_reader("fuzz", r);
	exercise(h);
	rp_hive_close(h);
	if (reg_hive_open_image(&h, "fuzz", (uint8_t *)data, size, 0) == 1) {
		exercise(h);
		rp_hive_close(h);
	}
	return 0;
}
