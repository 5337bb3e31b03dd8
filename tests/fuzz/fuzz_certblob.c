/* fuzz_certblob.c — libFuzzer harness: rp_cert_parse_blob on arbitrary registry Blob bytes.
 * A failure must come with a message; a success with an upper-case hex thumbprint. */
#include "cert/cert.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rp_cert_info info;
	rp_err err = {0};
	if (rp_cert_parse_blob(data, size, &info, &err) < 0) {
		if (!err.msg[0])
			abort();
		return 0;
	}
	if (strlen(info.thumbprint) != 40 || !memchr(info.subject, 0, sizeof info.subject) ||
	    !memchr(info.container, 0, sizeof info.container))
		abort();
	return 0;
}
