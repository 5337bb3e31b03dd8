/*
 * bench_replay.c — how long a log replay takes on a SYSTEM-sized hive:
 *
 *   bench_replay HIVE [N]
 *
 * HIVE is a dirty hive with HIVE.LOG1/.LOG2 beside it, made with rp-mklogs from the real
 * Windows 7 SYSTEM and a copy with many keys added (docs/hive-integrity.md, "Benchmark").  Replays
 * it N times (10 by default) and prints the milliseconds per replay and per structural check. Never
 * asserts.
 */
#include "util/file.h"
#include "regf/regf.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A whole file; NULL and *len 0 when it cannot be read (an absent log). */
static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *data = NULL;
	if (rp_file_read(path, &data, len, 1, NULL) == 0)
		return data;
	*len = 0;
	return NULL;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_replay HIVE [N]\n");
		return 2;
	}
	int n = argc > 2 ? atoi(argv[2]) : 10;
	char *p1 = rp_xasprintf("%s.LOG1", argv[1]), *p2 = rp_xasprintf("%s.LOG2", argv[1]);
	rp_regf_files f = {.name = "bench"};
	uint8_t *pri = slurp(argv[1], &f.primary_len), *l1 = slurp(p1, &f.log1_len),
		*l2 = slurp(p2, &f.log2_len);
	if (!pri) {
		fprintf(stderr, "bench_replay: cannot read %s\n", argv[1]);
		return 3;
	}
	f.primary = pri;
	f.log1 = l1;
	f.log2 = l2;

	double replay = 0, check = 0;
	rp_regf_recovery info;
	for (int i = 0; i < n; i++) {
		uint8_t *img;
		size_t len;
		rp_err err = {0};
		double t0 = now_ms();
		if (rp_regf_recover(&f, &img, &len, &info, &err) < 0) {
			fprintf(stderr, "bench_replay: %s\n", err.msg);
			return 3;
		}
		double t1 = now_ms();
		if (rp_regf_check(img, len, &err) < 0) {
			fprintf(stderr, "bench_replay: check: %s\n", err.msg);
			return 3;
		}
		check += now_ms() - t1;
		replay += t1 - t0;
		free(img);
	}
	printf("bench_replay: hive %zu B, logs %zu + %zu B, %u entries: %.1f ms per replay, "
	       "%.1f ms per check (%d runs)\n",
	       f.primary_len, f.log1_len, f.log2_len, info.entries_applied, replay / n, check / n,
	       n);
	free(pri);
	free(l1);
	free(l2);
	free(p1);
	free(p2);
	return 0;
}
