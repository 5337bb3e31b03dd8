/*
 * fuzz_pe.c — libFuzzer harness for the PE version-resource reader (src/pe/pe.c).
 *
 * Any input: the reader must stay inside the buffer (ASan), a failure must leave a message,
 * and a found string must come back as a NUL-terminated UTF-8 string.  Several names are
 * asked for, so the walk over every string table and string is exercised.
 */
#include "pe/pe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"CompanyName", "FileDescription", "NoSuchString"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char *out = NULL;
		rp_err err = {0};
		int rc = rp_pe_version_string(data, size, names[i], &out, &err);
		if (rc < 0 && !err.msg[0])
			abort();
		if ((rc == 1) != (out != NULL))
			abort();
		if (out && strlen(out) > size)
			abort();
		free(out);
	}
	return 0;
}
