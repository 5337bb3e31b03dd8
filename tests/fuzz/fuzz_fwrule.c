/*
 * fuzz_fwrule.c — libFuzzer harness for the firewall rule parser: any bytes, as a REG_SZ rule
 * value from the disk would be.  A parsed rule is queried, activated and deactivated; the edit
 * must keep a parsable rule whose only change is the Active value, and deactivating after
 * activating must give a rule that reads Active=FALSE.
 */
#include "reg/fwrule.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rp_fwrule r;
	rp_err err = {0};
	if (rp_fwrule_parse(data, size, &r, &err) < 0) {
		if (!err.msg[0] || memchr(err.msg, '\n', strlen(err.msg)))
			__builtin_trap();
		return 0;
	}
	free(rp_fwrule_version(&r));
	free(rp_fwrule_get(&r, "Profile", 1));
	(void)rp_fwrule_is(&r, "Action", "Allow");
	(void)rp_fwrule_port_covers(&r, "LPort", 3389);
	size_t fields = r.nfields, actives = rp_fwrule_count(&r, "Active");
	if (rp_fwrule_set_active(&r, 1, &err) == 0) {
		/* one field more only when there was no Active field */
		if (r.nfields != fields + (actives == 0) || !rp_fwrule_is(&r, "Active", "TRUE"))
			__builtin_trap();
		if (rp_fwrule_set_active(&r, 0, &err) < 0 || !rp_fwrule_is(&r, "Active", "FALSE"))
			__builtin_trap();
	} else if (actives < 2) {
		__builtin_trap();
	}
	rp_fwrule_free(&r);
	return 0;
}
