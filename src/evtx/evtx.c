/*
 * evtx.c — reading the event logs of an installation (see evtx.h).
 *
 * Each file is read whole through vol/ and handed to libevtx through a libbfio memory range.
 * Before that, our own bounds-checked walk over the chunk headers counts the chunks and the
 * damaged ones (bad signature, header or records checksum), since libevtx skips them silently:
 * that count is what the report shows as "damaged chunks skipped".  A record libevtx cannot
 * read is skipped and counted; the next one is tried.
 */
#include "evtx/evtx.h"
#include "evtx/prefilter.h"
#include "util/bytes.h"
#include "util/text.h"

#include <libbfio.h>
#include <libevtx.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define LOGDIR "Windows/System32/winevt/Logs/"

/* scan: the log can hold an event a finding cites. */
static const struct {
	const char *name, *file;
	int scan;
} known_logs[RP_EVLOG_COUNT] = {
    {"System", "System.evtx", 1},
    {"Application", "Application.evtx", 1},
    {"Security", "Security.evtx", 0},
    {"RemoteConnectionManager",
     "Microsoft-Windows-TerminalServices-RemoteConnectionManager%4Operational.evtx", 1},
    {"RdpCoreTS", "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational.evtx", 0},
    {"LocalSessionManager",
     "Microsoft-Windows-TerminalServices-LocalSessionManager%4Operational.evtx", 0},
};

/* On-disk layout (libyal's "Windows XML Event Log (EVTX)" documentation). */
#define EVTX_FILE_HEADER_SIZE 4096
#define EVTX_CHUNK_SIZE 65536
#define EVTX_CHUNK_HEADER_SIZE 512
enum {
	FH_FLAGS = 120, /* file header: 1 dirty, 2 full */
	CH_FREE_OFFSET = 0x30,
	CH_RECORDS_CRC = 0x34,
	CH_HEADER_CRC = 0x7c,
};

/* Counts the chunks with a header and the damaged ones. */
static void count_chunks(const uint8_t *d, size_t len, rp_evlog *st)
{
	if (len >= EVTX_FILE_HEADER_SIZE && memcmp(d, "ElfFile", 8) == 0)
		st->dirty = (rp_le32(d + FH_FLAGS) & 1u) != 0;
	for (size_t off = EVTX_FILE_HEADER_SIZE;
	     len >= EVTX_CHUNK_SIZE && off <= len - EVTX_CHUNK_SIZE; off += EVTX_CHUNK_SIZE) {
		const uint8_t *c = d + off;
		int blank = 1;
		for (size_t i = 0; i < 8 && blank; i++)
			blank = c[i] == 0;
		if (blank)
			continue; /* never written */
		if (memcmp(c, "ElfChnk", 8) != 0) {
			st->bad_chunks++;
			continue;
		}
		st->chunks++;
		uLong hcrc = crc32(0, c, 120);
		hcrc = crc32(hcrc, c + 128, EVTX_CHUNK_HEADER_SIZE - 128);
		uint32_t free_off = rp_le32(c + CH_FREE_OFFSET);
		int bad = hcrc != rp_le32(c + CH_HEADER_CRC) || free_off < EVTX_CHUNK_HEADER_SIZE ||
			  free_off > EVTX_CHUNK_SIZE;
		if (!bad && crc32(0, c + EVTX_CHUNK_HEADER_SIZE,
				  free_off - EVTX_CHUNK_HEADER_SIZE) != rp_le32(c + CH_RECORDS_CRC))
			bad = 1;
		st->bad_chunks += bad;
	}
}

/* A libevtx UTF-8 getter into a malloc'd string (NULL when absent or unreadable). */
typedef int (*size_fn)(libevtx_record_t *, size_t *, libevtx_error_t **);
typedef int (*get_fn)(libevtx_record_t *, uint8_t *, size_t, libevtx_error_t **);

static char *get_utf8(libevtx_record_t *r, size_fn sz, get_fn get)
{
	size_t n = 0;
	libevtx_error_t *e = NULL;
	if (sz(r, &n, &e) != 1 || n == 0) {
		libevtx_error_free(&e);
		return NULL;
	}
	char *s = rp_xmalloc(n + 1);
	if (get(r, (uint8_t *)s, n, &e) != 1) {
		libevtx_error_free(&e);
		free(s);
		return NULL;
	}
	s[n] = 0;
	return s;
}

static char *get_string(libevtx_record_t *r, int idx)
{
	size_t n = 0;
	libevtx_error_t *e = NULL;
	if (libevtx_record_get_utf8_string_size(r, idx, &n, &e) != 1 || n == 0) {
		libevtx_error_free(&e);
		return rp_xstrdup("");
	}
	char *s = rp_xmalloc(n + 1);
	if (libevtx_record_get_utf8_string(r, idx, (uint8_t *)s, n, &e) != 1) {
		libevtx_error_free(&e);
		s[0] = 0;
		return s;
	}
	s[n] = 0;
	return s;
}

/* Reads one record; keeps it when the rule table knows it.  0 ok, -1 unreadable. */
static int read_record(libevtx_record_t *r, rp_events *out, rp_evlog *st)
{
	libevtx_error_t *e = NULL;
	uint32_t id = 0;
	if (libevtx_record_get_event_identifier(r, &id, &e) != 1) {
		libevtx_error_free(&e);
		return -1;
	}
	char *provider = get_utf8(r, libevtx_record_get_utf8_source_name_size,
				  libevtx_record_get_utf8_source_name);
	const rp_ev_rule *rule = provider ? rp_ev_rule_find(provider, id & 0xffff) : NULL;
	if (!rule) {
		free(provider);
		return 0;
	}
	rp_event ev = {.log = st->name, .id = id & 0xffff, .provider = provider, .rule = rule};
	if (libevtx_record_get_identifier(r, &ev.record, &e) != 1 ||
	    libevtx_record_get_written_time(r, &ev.filetime, &e) != 1) {
		libevtx_error_free(&e);
		free(provider);
		return -1;
	}
	ev.user = get_utf8(r, libevtx_record_get_utf8_user_security_identifier_size,
			   libevtx_record_get_utf8_user_security_identifier);
	if (libevtx_record_get_event_level(r, &ev.level, &e) != 1)
		libevtx_error_free(&e);
	int ns = 0;
	if (libevtx_record_get_number_of_strings(r, &ns, &e) != 1) {
		libevtx_error_free(&e);
		ns = 0;
	}
	if (ns > 0) {
		ev.strings = rp_xcalloc((size_t)ns, sizeof *ev.strings);
		for (int i = 0; i < ns; i++)
			ev.strings[i] = get_string(r, i);
		ev.nstrings = (size_t)ns;
	}
	/* Security 4624/4625 are kept only for remote-interactive (RDP) logons. */
	if (rule->logon_type) {
		size_t k = (size_t)rule->logon_type - 1;
		if (k >= ev.nstrings || strcmp(ev.strings[k], "10") != 0) {
			for (size_t i = 0; i < ev.nstrings; i++)
				free(ev.strings[i]);
			free(ev.strings);
			free(ev.user);
			free(provider);
			return 0;
		}
	}
	out->ev = rp_xrealloc(out->ev, (out->n + 1) * sizeof *out->ev);
	out->ev[out->n++] = ev;
	st->kept++;
	return 0;
}

static void free_event(rp_event *ev)
{
	for (size_t k = 0; k < ev->nstrings; k++)
		free(ev->strings[k]);
	free(ev->strings);
	free(ev->provider);
	free(ev->user);
}

/* Reads the n records of f.  With recs (the prefilter's list, same length): a record whose
 * event id no rule has is counted without being parsed, and each record parsed must carry the
 * identifier recs names (the first and the last are always parsed to check that); -1 when one
 * does not. */
static int read_records(libevtx_file_t *f, int n, const rp_evtx_rec *recs, rp_events *out,
			rp_evlog *st)
{
	libevtx_error_t *e = NULL;
	for (int i = 0; i < n; i++) {
		if (recs && i != 0 && i != n - 1 && recs[i].event_id != RP_EVID_UNKNOWN &&
		    !rp_ev_id_known(recs[i].event_id)) {
			st->records++;
			continue;
		}
		libevtx_record_t *r = NULL;
		if (libevtx_file_get_record_by_index(f, i, &r, &e) != 1) {
			libevtx_error_free(&e);
			st->bad_records++;
			continue;
		}
		uint64_t rid = 0;
		if (recs &&
		    (libevtx_record_get_identifier(r, &rid, &e) != 1 || rid != recs[i].record)) {
			libevtx_error_free(&e);
			libevtx_record_free(&r, NULL);
			return -1;
		}
		if (read_record(r, out, st) < 0)
			st->bad_records++;
		else
			st->records++;
		libevtx_record_free(&r, NULL);
	}
	return 0;
}

void rp_events_load_buffer(rp_events *out, rp_evlog *st, uint8_t *data, size_t len)
{
	count_chunks(data, len, st);
	/* libbfio's memory range (Debian's 20170123) does not clamp a read at the end of the
	 * range: libevtx reads the 4096-byte header and whole 64 KiB chunks, so a short or
	 * truncated file is given to it zero-padded to the end of its last chunk (a zero chunk is
	 * an unused one).  fuzz_evtx found the over-read. */
	if (len < EVTX_FILE_HEADER_SIZE || memcmp(data, "ElfFile", 8) != 0) {
		snprintf(st->note, sizeof st->note, "not an event log (no EVTX file header)");
		return;
	}
	uint8_t *padded = NULL;
	size_t tail = (len - EVTX_FILE_HEADER_SIZE) % EVTX_CHUNK_SIZE;
	if (tail) {
		size_t plen = len + (EVTX_CHUNK_SIZE - tail);
		padded = rp_xcalloc(1, plen);
		memcpy(padded, data, len);
		data = padded;
		len = plen;
	}
	libbfio_handle_t *h = NULL;
	libbfio_error_t *be = NULL;
	libevtx_file_t *f = NULL;
	libevtx_error_t *e = NULL;
	if (libbfio_memory_range_initialize(&h, &be) != 1 ||
	    libbfio_memory_range_set(h, data, len, &be) != 1) {
		libbfio_error_free(&be);
		snprintf(st->note, sizeof st->note, "out of memory");
		goto out;
	}
	if (libevtx_file_initialize(&f, &e) != 1 ||
	    libevtx_file_open_file_io_handle(f, h, LIBEVTX_OPEN_READ, &e) != 1) {
		libevtx_error_free(&e);
		snprintf(st->note, sizeof st->note, "not an event log (no readable EVTX header)");
		goto out;
	}
	st->opened = 1;
	int n = 0;
	if (libevtx_file_get_number_of_records(f, &n, &e) != 1) {
		libevtx_error_free(&e);
		n = 0;
	}
	rp_evtx_rec *recs = NULL;
	size_t nrec = 0;
	rp_evtx_prefilter(data, len, &recs, &nrec);
	size_t kept0 = out->n;
	if (read_records(f, n, nrec == (size_t)n ? recs : NULL, out, st) < 0) {
		/* The walk and libevtx disagree (a damaged chunk): read every record. */
		for (size_t i = kept0; i < out->n; i++)
			free_event(&out->ev[i]);
		out->n = kept0;
		st->records = st->kept = st->bad_records = 0;
		read_records(f, n, NULL, out, st);
	}
	free(recs);
	libevtx_file_close(f, NULL);
out:
	libevtx_file_free(&f, NULL);
	libbfio_handle_free(&h, NULL);
	free(padded);
}

static int cmp_event(const void *pa, const void *pb)
{
	const rp_event *a = pa, *b = pb;
	if (a->filetime != b->filetime)
		return a->filetime < b->filetime ? -1 : 1;
	int c = strcmp(a->log, b->log);
	if (c)
		return c;
	return a->record < b->record ? -1 : a->record > b->record;
}

void rp_events_sort(rp_events *ev)
{
	if (ev->n > 1)
		qsort(ev->ev, ev->n, sizeof *ev->ev, cmp_event);
}

#define SAME_BOOT_TICKS (600ULL * 10000000ULL) /* 10 minutes of FILETIME */

int rp_events_boot_starts(const rp_events *ev, size_t i)
{
	if (i >= ev->n || !ev->ev[i].rule || ev->ev[i].rule->marker != RP_EV_BOOT)
		return 0;
	for (size_t j = i; j-- > 0;) {
		const rp_event *p = &ev->ev[j];
		if (ev->ev[i].filetime - p->filetime > SAME_BOOT_TICKS)
			break;
		if (p->rule->marker == RP_EV_SHUTDOWN)
			return 1;
		if (p->rule->marker == RP_EV_BOOT)
			return 0;
	}
	return 1;
}

size_t rp_events_last_boot(const rp_events *ev)
{
	for (size_t i = ev->n; i-- > 0;)
		if (rp_events_boot_starts(ev, i))
			return i;
	return 0;
}

int rp_events_load(rp_vol *vol, rp_events *out, int for_scan, rp_err *err)
{
	memset(out, 0, sizeof *out);
	out->loaded = 1;
	for (int i = 0; i < RP_EVLOG_COUNT; i++) {
		rp_evlog *st = &out->logs[i];
		st->name = known_logs[i].name;
		char *path = rp_xasprintf(LOGDIR "%s", known_logs[i].file);
		rp_stat s = {0};
		if (rp_vol_stat(vol, path, &s, err) < 0) {
			free(path);
			return -1;
		}
		st->path = known_logs[i].file;
		free(path);
		if (!s.exists || s.is_dir)
			continue;
		st->present = 1;
		if (for_scan && !known_logs[i].scan) {
			snprintf(st->note, sizeof st->note,
				 "not read for a scan (no finding cites it)");
			continue;
		}
		if (s.is_reparse || s.is_encrypted) {
			snprintf(st->note, sizeof st->note, "%s",
				 s.is_reparse ? "a reparse point: not followed"
					      : "encrypted (EFS): cannot be read offline");
			continue;
		}
		uint8_t *data = NULL;
		size_t len = 0;
		rp_err rerr = {0};
		path = rp_xasprintf(LOGDIR "%s", known_logs[i].file);
		int rc = rp_vol_read(vol, path, &data, &len, &rerr);
		free(path);
		if (rc < 0) {
			snprintf(st->note, sizeof st->note, "could not be read: %.130s", rerr.msg);
			continue;
		}
		rp_events_load_buffer(out, st, data, len);
		free(data);
	}
	rp_events_sort(out);
	return 0;
}

void rp_events_free(rp_events *ev)
{
	for (size_t i = 0; i < ev->n; i++)
		free_event(&ev->ev[i]);
	free(ev->ev);
	memset(ev, 0, sizeof *ev);
}
