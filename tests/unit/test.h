/*
 * test.h — the unit-test protocol: each check prints "ok - <name>" or "not ok - <name>: why",
 * a check that cannot run here prints "skip - <name>: why" (SKIP); tests/run.sh counts those
 * lines over every suite and closes with "N passed, N failed, N skipped".  A test binary exits
 * non-zero when any of its checks failed.  Checks that need an earlier step (a parse, an open)
 * sit under NEED(step, ...): when the step fails that is a "not ok" line, never silence.
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

/* A check that cannot run in this environment (a tool or device missing): never a pass. */
#define SKIP(why, ...)                                                                             \
	do {                                                                                       \
		printf("skip - ");                                                                 \
		printf(__VA_ARGS__);                                                               \
		printf(": %s\n", why);                                                             \
		fflush(stdout);                                                                    \
	} while (0)

/* The step the checks below it need: true when it worked; when it did not, a "not ok" line
 * says which checks could not run (use as `if (NEED(parse(...) == 0, "..."))`). */
static inline int test_need(int cond, const char *what, const char *file, int line,
			    const char *expr)
{
	if (!cond) {
		test_failed_count++;
		printf("not ok - %s: cannot run, the step they need failed  (%s:%d: %s)\n", what,
		       file, line, expr);
		fflush(stdout);
	}
	return cond;
}
#define NEED(cond, what) test_need((cond) ? 1 : 0, (what), __FILE__, __LINE__, #cond)

#define TEST_DONE() return test_failed_count ? 1 : 0

/* Directory of the shared test data (../shared next to the checkout, or $RP_SHARED). */
static inline const char *test_shared_dir(void)
{
	const char *s = getenv("RP_SHARED");
	return s && *s ? s : "../shared";
}

#endif
