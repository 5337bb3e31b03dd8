/*
 * fuzz_sd.c — libFuzzer harness for the binary security descriptor parser.
 *
 * Any input: parse must not crash or read out of bounds.  When it parses: build -> parse must
 * give an equal descriptor and build again the same bytes; when SDDL can show it: format ->
 * parse must give an equal descriptor (ignoring what SDDL cannot carry: the _DEFAULTED and
 * RM_CONTROL_VALID bits, rm_control, P/AR/AI bits of an absent ACL).
 */
#include "sd/sd.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Control bits SDDL carries for this descriptor. */
static uint16_t sddl_control(const rp_sd *sd)
{
	uint16_t keep = 0x8000 | 0x0004 | 0x0010;
	if (sd->has_dacl)
		keep |= 0x1000 | 0x0100 | 0x0400;
	if (sd->has_sacl)
		keep |= 0x2000 | 0x0200 | 0x0800;
	return (uint16_t)(sd->control & keep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rp_sd sd, again, from_text;
	rp_err err = {0};
	if (rp_sd_parse(data, size, &sd, &err) < 0)
		return 0;
	uint8_t *bin, *bin2;
	size_t len, len2;
	if (rp_sd_build(&sd, &bin, &len, &err) == 0) {
		if (rp_sd_parse(bin, len, &again, &err) < 0 || !rp_sd_equal(&sd, &again))
			abort();
		if (rp_sd_build(&again, &bin2, &len2, &err) < 0 || len2 != len ||
		    memcmp(bin, bin2, len) != 0)
			abort();
		free(bin2);
		rp_sd_free(&again);
		free(bin);
	} else if (sd.has_owner && sd.has_group) {
		/* a parsed descriptor with owner and group always builds */
		abort();
	}
	char *text = rp_sd_to_sddl(&sd);
	if (text) {
		if (rp_sd_from_sddl(text, &from_text, &err) < 0)
			abort();
		sd.control = sddl_control(&sd);
		sd.rm_control = 0;
		if (!rp_sd_equal(&sd, &from_text))
			abort();
		char *text2 = rp_sd_to_sddl(&from_text);
		if (!text2 || strcmp(text, text2) != 0)
			abort();
		free(text2);
		rp_sd_free(&from_text);
		free(text);
	}
	rp_sd_free(&sd);
	return 0;
}
