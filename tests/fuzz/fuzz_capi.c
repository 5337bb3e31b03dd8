/* fuzz_capi.c — libFuzzer harness: rp_capi_inspect on arbitrary key-file bytes.  The verdict
 * must be a known value and the reason and name NUL-terminated strings. */
#include "capi/capi.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rp_capi_info info;
	rp_capi_inspect(data, size, &info);
	if (info.verdict > RP_CAPI_UNRECOGNIZED || !memchr(info.reason, 0, sizeof info.reason) ||
	    !memchr(info.name, 0, sizeof info.name) || !info.reason[0])
		abort();
	if (info.verdict == RP_CAPI_OK && (info.trailing > size || !info.has_private))
		abort();
	return 0;
}
