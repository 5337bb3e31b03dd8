/*
 * fuzz_evtx.c — libFuzzer harness for the event-log layer (src/evtx/): an event log from a
 * hostile disk.  The input is read as one log (rp_events_load_buffer: chunk walk, prefilter,
 * libevtx), then every kept event is put in words the way `events` and `scan` print it.
 * Invariants: nothing kept that no rule knows, counts consistent, the prefilter lists no more
 * records than fit in the file, every text and time formats.
 */
#include "evtx/evtx.h"
#include "evtx/prefilter.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1); /* libbfio wants a writable range */
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	rp_events ev;
	rp_evlog st;
	memset(&ev, 0, sizeof ev);
	memset(&st, 0, sizeof st);
	st.name = "System";
	rp_events_load_buffer(&ev, &st, copy, size);
	rp_events_sort(&ev);
	if (ev.n != st.kept || st.kept > st.records || (!st.opened && st.records))
		abort();
	for (size_t i = 0; i < ev.n; i++) {
		const rp_event *e = &ev.ev[i];
		if (!e->rule || e->rule != rp_ev_rule_find(e->provider, e->id))
			abort();
		char *t = rp_event_text(e);
		char buf[48];
		rp_ev_time(e->filetime, 1, buf, sizeof buf);
		for (size_t k = 0; k < e->nstrings; k++)
			free(rp_ev_insert_words(e->strings[k]));
		(void)rp_event_is_failure(e);
		(void)rp_events_boot_starts(&ev, i);
		free(t);
	}
	(void)rp_events_last_boot(&ev);
	rp_evtx_rec *recs;
	size_t n;
	rp_evtx_prefilter(copy, size, &recs, &n);
	if (n > size / 28)
		abort();
	free(recs);
	rp_events_free(&ev);
	free(copy);
	return 0;
}
