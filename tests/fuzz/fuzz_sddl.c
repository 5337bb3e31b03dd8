/*
 * fuzz_sddl.c — libFuzzer harness for the SDDL parser.
 *
 * Arbitrary text: parsing must not crash and must leave a message on failure.  Whatever
 * parses must print as SDDL that parses back equal and prints the same (a fixed point), and
 * when it builds, the bytes must parse back equal.
 */
#include "sd/sd.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	rp_sd sd, again;
	rp_err err = {0};
	if (rp_sd_from_sddl(text, &sd, &err) < 0) {
		if (!err.msg[0])
			abort();
		free(text);
		return 0;
	}
	char *out = rp_sd_to_sddl(&sd);
	if (!out)
		abort(); /* everything the parser accepts can be printed */
	if (rp_sd_from_sddl(out, &again, &err) < 0 || !rp_sd_equal(&sd, &again))
		abort();
	char *out2 = rp_sd_to_sddl(&again);
	if (!out2 || strcmp(out, out2) != 0)
		abort();
	free(out2);
	rp_sd_free(&again);
	uint8_t *bin;
	size_t len;
	if (rp_sd_build(&sd, &bin, &len, &err) == 0) {
		if (rp_sd_parse(bin, len, &again, &err) < 0 || !rp_sd_equal(&sd, &again))
			abort();
		rp_sd_free(&again);
		free(bin);
	}
	free(out);
	rp_sd_free(&sd);
	free(text);
	return 0;
}
