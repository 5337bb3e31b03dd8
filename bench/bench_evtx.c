/*
 * bench_evtx.c — how long reading an event log takes (src/evtx/, what every scan does):
 *
 *   bench_evtx LOG.evtx [N]
 *
 * Reads the file once into memory, then parses it N times (5 by default) with
 * rp_events_load_buffer and prints the milliseconds per read, the records read and kept.  The
 * log bench/run.sh uses is a 20 MB System.evtx written by tests/tools/rp-mkevtx.  Never
 * asserts.
 */
#include "evtx/evtx.h"
#include "util/file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_evtx LOG.evtx [N]\n");
		return 2;
	}
	int n = argc > 2 ? atoi(argv[2]) : 5;
	uint8_t *data;
	size_t len;
	rp_err err = {0};
	if (rp_file_read(argv[1], &data, &len, 3, &err) < 0) {
		fprintf(stderr, "bench_evtx: %s\n", err.msg);
		return 3;
	}
	double best = 1e18, total = 0;
	rp_evlog st;
	for (int i = 0; i < n; i++) {
		rp_events ev;
		memset(&ev, 0, sizeof ev);
		memset(&st, 0, sizeof st);
		st.name = "System";
		double t0 = now_ms();
		rp_events_load_buffer(&ev, &st, data, len);
		rp_events_sort(&ev);
		double ms = now_ms() - t0;
		total += ms;
		best = ms < best ? ms : best;
		rp_events_free(&ev);
	}
	printf("evtx read: %.1f MB, %zu records (%zu kept, %zu chunks): %.1f ms mean, %.1f ms best "
	       "over %d runs\n",
	       len / 1e6, st.records, st.kept, st.chunks, total / n, best, n);
	free(data);
	return 0;
}
