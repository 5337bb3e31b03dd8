/*
 * test_evtx.c — the event-log layer (src/evtx/) on the real System log of ../shared/evtx
 * (decompressed here with liblzma): record counts, the prefilter against libevtx record by
 * record, damaged and truncated copies, and the rule table's words, times and boots.
 */
#include "evtx/evtx.h"
#include "evtx/prefilter.h"
#include "test.h"
#include "util/file.h"
#include "util/text.h"

#include <libbfio.h>
#include <libevtx.h>
#include <lzma.h>
#include <string.h>

static uint8_t *unxz(const char *path, size_t *len)
{
	uint8_t *in;
	size_t inlen;
	rp_err err = {0};
	if (rp_file_read(path, &in, &inlen, 3, &err) < 0)
		return NULL;
	size_t cap = 8 << 20, inpos = 0;
	uint8_t *out = rp_xmalloc(cap);
	uint64_t memlimit = UINT64_MAX;
	*len = 0;
	lzma_ret rc =
	    lzma_stream_buffer_decode(&memlimit, 0, NULL, in, &inpos, inlen, out, len, cap);
	free(in);
	if (rc != LZMA_OK) {
		free(out);
		return NULL;
	}
	return out;
}

/* Every record's event id as libevtx reads it, compared with the prefilter's. */
static void prefilter_vs_libevtx(uint8_t *d, size_t len)
{
	rp_evtx_rec *recs;
	size_t n;
	rp_evtx_prefilter(d, len, &recs, &n);
	libbfio_handle_t *h = NULL;
	libevtx_file_t *f = NULL;
	int nr = 0;
	libbfio_memory_range_initialize(&h, NULL);
	libbfio_memory_range_set(h, d, len, NULL);
	libevtx_file_initialize(&f, NULL);
	int opened = libevtx_file_open_file_io_handle(f, h, LIBEVTX_OPEN_READ, NULL) == 1;
	libevtx_file_get_number_of_records(f, &nr, NULL);
	CHECK(opened && (size_t)nr == n, "prefilter lists as many records as libevtx (%zu, %d)", n,
	      nr);
	size_t same = 0, unknown = 0, differ = 0;
	for (int i = 0; i < nr && (size_t)i < n; i++) {
		libevtx_record_t *r = NULL;
		uint32_t id = 0;
		uint64_t rid = 0;
		if (libevtx_file_get_record_by_index(f, i, &r, NULL) != 1)
			continue;
		libevtx_record_get_event_identifier(r, &id, NULL);
		libevtx_record_get_identifier(r, &rid, NULL);
		libevtx_record_free(&r, NULL);
		if (recs[i].record != rid)
			differ++;
		else if (recs[i].event_id == RP_EVID_UNKNOWN)
			unknown++;
		else if (recs[i].event_id == (id & 0xffff))
			same++;
		else
			differ++;
	}
	CHECK(
	    differ == 0 && unknown == 0 && same == n,
	    "prefilter: event id and record id of every record as libevtx (%zu same, %zu unknown, "
	    "%zu differ)",
	    same, unknown, differ);
	libevtx_file_close(f, NULL);
	libevtx_file_free(&f, NULL);
	libbfio_handle_free(&h, NULL);
	free(recs);
}

static void load(uint8_t *d, size_t len, rp_events *ev, rp_evlog *st)
{
	memset(ev, 0, sizeof *ev);
	memset(st, 0, sizeof *st);
	st->name = "System";
	rp_events_load_buffer(ev, st, d, len);
	rp_events_sort(ev);
}

static void real_log(void)
{
	char *path = rp_xasprintf("%s/evtx/real/System.evtx.xz", test_shared_dir());
	size_t len = 0;
	uint8_t *d = unxz(path, &len);
	free(path);
	CHECK(d != NULL, "real System.evtx unpacked (%zu bytes)", len);
	if (!d)
		return;
	rp_events ev;
	rp_evlog st;
	load(d, len, &ev, &st);
	CHECK(st.opened && st.records == 1881 && st.bad_records == 0,
	      "real System log: 1881 records read (%zu), none bad", st.records);
	CHECK(st.chunks == 15 && st.bad_chunks == 0, "15 sound chunks (%zu, %zu bad)", st.chunks,
	      st.bad_chunks);
	CHECK(st.kept == ev.n && ev.n == 106, "106 events kept (%zu)", ev.n);
	int sorted = 1;
	for (size_t i = 1; i < ev.n; i++)
		sorted &= ev.ev[i - 1].filetime <= ev.ev[i].filetime;
	CHECK(sorted, "kept events sorted by time");
	size_t boots = 0;
	for (size_t i = 0; i < ev.n; i++)
		boots += rp_events_boot_starts(&ev, i);
	CHECK(boots >= 2, "boots separated (%zu boot starts)", boots);
	uint64_t last_record = ev.n ? ev.ev[ev.n - 1].record : 0;
	rp_events_free(&ev);
	prefilter_vs_libevtx(d, len);

	/* A chunk with a broken signature in the middle: skipped, counted, the rest read. */
	uint8_t *bad = rp_xmalloc(len);
	memcpy(bad, d, len);
	memcpy(bad + 4096 + 3 * 65536, "XXXXXXX", 8);
	load(bad, len, &ev, &st);
	CHECK(st.opened && st.chunks == 14 && st.bad_chunks == 1,
	      "broken chunk signature: 14 chunks read, 1 damaged (%zu, %zu)", st.chunks,
	      st.bad_chunks);
	CHECK(st.records > 1000 && st.records < 1881, "records of the other chunks read (%zu)",
	      st.records);
	int has_last = 0;
	for (size_t i = 0; i < ev.n; i++)
		has_last |= ev.ev[i].record == last_record;
	CHECK(has_last, "the log is read past the damaged chunk (record %llu kept)",
	      (unsigned long long)last_record);
	rp_events_free(&ev);

	/* A damaged record inside a chunk: the walk and libevtx disagree, every record is read. */
	memcpy(bad, d, len);
	memset(bad + 4096 + 65536 + 512 + 4, 0xff, 4); /* first record of chunk 1: size */
	load(bad, len, &ev, &st);
	CHECK(st.opened && st.records > 0,
	      "a record with a broken size: the log is still read "
	      "(%zu records, %zu bad chunks)",
	      st.records, st.bad_chunks);
	rp_events_free(&ev);

	/* Truncated copies: never a crash, read as far as they go. */
	size_t cuts[] = {0, 100, 4096, 4096 + 512, 4096 + 65536 + 1000, len / 2};
	for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
		load(d, cuts[k], &ev, &st);
		CHECK(st.records <= 1881 && (cuts[k] >= 4096 + 65536 || st.records == 0),
		      "truncated to %zu bytes: %zu records, opened %d", cuts[k], st.records,
		      st.opened);
		rp_events_free(&ev);
	}
	free(bad);
	free(d);

	uint8_t junk[8192];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)(i * 7 + 3);
	load(junk, sizeof junk, &ev, &st);
	CHECK(!st.opened && st.note[0], "not an event log: not opened, noted (%s)", st.note);
	rp_events_free(&ev);
}

static void words(void)
{
	char *w = rp_ev_insert_words("%%1058");
	CHECK(strstr(w, "either because it is disabled") && strstr(w, "(error 1058)"),
	      "%%%%1058 in words: %s", w);
	free(w);
	w = rp_ev_insert_words("%%2147942414");
	CHECK(strstr(w, "Not enough memory") && strstr(w, "(error 14)"),
	      "HRESULT 0x8007000E is Win32 error 14: %s", w);
	free(w);
	const char *same[] = {"%%99999", "Spooler", "%%", "%%12x", "%%-5", ""};
	const char *want[] = {"error 99999", "Spooler", "%%", "%%12x", "%%-5", ""};
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
		w = rp_ev_insert_words(same[i]);
		CHECK(strcmp(w, want[i]) == 0, "'%s' in words is '%s' (%s)", same[i], want[i], w);
		free(w);
	}
	const rp_ev_rule *r = rp_ev_rule_find("service control manager", 7040);
	CHECK(r && strcmp(r->check, "rdp.services") == 0, "rule found case-insensitively");
	CHECK(!rp_ev_rule_find("Service Control Manager", 7036), "7036 is not kept");
	char *s1 = rp_xstrdup("Remote Desktop Services"), *s2 = rp_xstrdup("auto start");
	char *strs[] = {s1, s2};
	rp_event e = {.rule = r, .id = 7040, .strings = strs, .nstrings = 2, .user = "S-1-5-18"};
	char *t = rp_event_text(&e);
	CHECK(strcmp(t, "The start type of the Remote Desktop Services service was changed from "
			"auto start to ? (by SYSTEM)") == 0,
	      "7040 in words, a missing insert as '?', the user: %s", t);
	free(t);
	CHECK(rp_event_is_failure(&e) == 0, "7040 is not a failure");
	e.rule = rp_ev_rule_find("Service Control Manager", 7023);
	CHECK(rp_event_is_failure(&e), "7023 naming Remote Desktop Services is an RDP failure");
	strs[0] = "Spooler";
	CHECK(!rp_event_is_failure(&e), "7023 naming Spooler is not");
	strs[0] = s1;
	free(s1);
	free(s2);
	char buf[48];
	uint64_t ft =
	    (1772424720ULL + 11644473600ULL) * 10000000ULL + 1234567; /* 2026-03-02 04:12 */
	rp_ev_time(ft, 1, buf, sizeof buf);
	CHECK(strcmp(buf, "2026-03-02T04:12:00.1234567Z") == 0, "ISO time: %s", buf);
	rp_ev_time(ft, 0, buf, sizeof buf);
	CHECK(strcmp(buf, "2026-03-02 04:12:00") == 0, "plain time: %s", buf);
}

int main(void)
{
	real_log();
	words();
	TEST_DONE();
}
