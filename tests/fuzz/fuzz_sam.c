/*
 * fuzz_sam.c — libFuzzer harness for the SAM / security-template parsers (src/reg/sam.c).
 *
 * The input is read as every kind of value at once: alias C, user F and V, domain V, the
 * membership map and a GptTmpl.inf.  Nothing may crash or read outside the input.  An alias C
 * that parses must take a new member and parse back with one member more, that member last and
 * the others unchanged; a failed parse must leave a message.
 */
#include "reg/reg.h"
#include "reg/sam.h"
#include "util/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void alias(const uint8_t *data, size_t size)
{
	rp_sam_alias a, b;
	rp_err err = {0};
	if (rp_sam_alias_parse(data, size, &a, &err) < 0) {
		if (!err.msg[0])
			abort();
		return;
	}
	rp_sid sid;
	if (rp_sid_parse_text("S-1-5-21-1760460187-1592185332-161725925-1000", &sid) < 0)
		abort();
	uint8_t *out = NULL;
	size_t len = 0;
	if (rp_sam_alias_add_member(data, size, &sid, &out, &len, &err) == 0) {
		if (len != size + 28 || rp_sam_alias_parse(out, len, &b, &err) < 0 ||
		    b.nmembers != a.nmembers + 1 || !rp_sid_equal(&b.members[a.nmembers], &sid))
			abort();
		for (size_t i = 0; i < a.nmembers; i++)
			if (!rp_sid_equal(&a.members[i], &b.members[i]))
				abort();
		rp_sam_alias_free(&b);
		free(out);
	}
	rp_sam_alias_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	alias(data, size);
	rp_err err = {0};
	rp_sam_user_f f;
	rp_sam_user_f_parse(data, size, &f, &err);
	char *name = NULL;
	if (rp_sam_user_v_name(data, size, &name, &err) == 0 && !name)
		abort();
	free(name);
	rp_sid sid;
	rp_sam_domain_sid(data, size, &sid, &err);
	size_t used = 0;
	if (rp_sam_sid_read(data, size, &sid, &used) == 0) {
		uint8_t back[68];
		if (used > size || rp_sam_sid_write(&sid, back) != used ||
		    memcmp(back, data, used) != 0)
			abort();
	}
	size_t ml = 0;
	free(rp_sam_membership_add(data, size, 0x22B, &ml));
	char **e = NULL;
	size_t n = 0;
	rp_secedit_right(data, size, "SeDenyRemoteInteractiveLogonRight", &e, &n);
	for (size_t i = 0; i < n; i++)
		if (!e[i])
			abort();
	rp_names_free(e, n);
	return 0;
}
