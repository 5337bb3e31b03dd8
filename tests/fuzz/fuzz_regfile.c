/*
 * fuzz_regfile.c — libFuzzer harness for rp_regfile_parse: any bytes, as a .reg file from a user
 * or a disk would be.  On success every entry is walked (lengths and strings read back) so that
 * an inconsistent entry shows up under ASan.
 */
#include "reg/reg.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rp_regfile_entry *entries;
	size_t n;
	rp_err err = {0};
	if (rp_regfile_parse(data, size, &entries, &n, &err) < 0) {
		/* a refusal must say why */
		if (!err.msg[0] || memchr(err.msg, '\n', strlen(err.msg)))
			__builtin_trap();
		return 0;
	}
	volatile size_t sink = 0;
	for (size_t i = 0; i < n; i++) {
		const rp_edit *e = &entries[i].edit;
		sink += strlen(entries[i].root) + strlen(e->key);
		if (e->value)
			sink += strlen(e->value);
		for (size_t j = 0; j < e->len; j++)
			sink += e->data[j];
	}
	rp_regfile_free(entries, n);
	return 0;
}
