/*
 * test.h — the unit-test protocol: each check prints "ok - <name>" or "not ok - <name>: why";
 * tests/run.sh counts those lines over every suite and closes with "N passed, N failed".
 * A test binary exits non-zero when any of its checks failed.
 */
#ifndef RP_TEST_H
#define RP_TEST_H

#include <stdio.h>
#include <stdlib.h>

static int test_failed_count;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (cond) {                                                                        \
			printf("ok - ");                                                           \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
		} else {                                                                           \
			test_failed_count++;                                                       \
			printf("not ok - ");                                                       \
			printf(__VA_ARGS__);                                                       \
			printf("  (%s:%d: %s)\n", __FILE__, __LINE__, #cond);                      \
		}                                                                                  \
		fflush(stdout);                                                                    \
	} while (0)

#define TEST_DONE() return test_failed_count ? 1 : 0

/* Directory of the shared test data (../shared next to the checkout, or $RP_SHARED). */
static inline const char *test_shared_dir(void)
{
	const char *s = getenv("RP_SHARED");
	return s && *s ? s : "../shared";
}

#endif
