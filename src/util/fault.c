/* fault.c — see fault.h.  Compiled to nothing unless RP_FAULTS is defined. */
#include "util/fault.h"

#ifdef RP_FAULTS
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int rp_fault(const char *point)
{
	static long count;
	const char *at = getenv("RP_FAULT_AT"), *log = getenv("RP_FAULT_LOG");
	count++;
	if (log) {
		FILE *f = fopen(log, "a");
		if (f) {
			fprintf(f, "%ld %s\n", count, point);
			fclose(f);
		}
	}
	if (at && atol(at) == count) {
		errno = EIO;
		return 1;
	}
	return 0;
}
#else
typedef int rp_fault_unused; /* ISO C wants at least one declaration per file */
#endif
