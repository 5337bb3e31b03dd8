/*
 * rp-mkevtx.c — test-only writer of Windows XML Event Log (EVTX) files, so that the tests can
 * hold the failure events the real sample logs lack (Schannel 36870, SCM 7023 for TermService...).
 * Its output is checked with an independent reader (evtxexport, libevtx-utils) before use.
 *
 *   rp-mkevtx OUT [--per-chunk N] [--bad-magic K] [--dirty] < EVENTS
 *
 * EVENTS: one event a line, fields separated by '|':
 *   TIME|PROVIDER|ID|LEVEL|CHANNEL|COMPUTER|insert1|insert2|...
 *   TIME is UTC "YYYY-MM-DDTHH:MM:SSZ"; the inserts become <EventData><Data>.
 * --per-chunk N: at most N records a chunk (default: as many as fit).
 * --bad-magic K: overwrite the signature of chunk K (0-based) to test a damaged chunk.
 * --dirty: set the file header's dirty flag (Windows did not close the log).
 *
 * Layout (libyal's EVTX documentation): a 4096-byte file header ("ElfFile", CRC32 of its first
 * 120 bytes), then 64 KiB chunks ("ElfChnk", a 512-byte header with the CRC32 of the records
 * and of the header), each record "**\0\0", size, id, written time, binary XML, size again.
 * Each record's binary XML is a template instance whose template definition follows inline:
 * the Event element tree with substitution tokens, then the substitution values.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define FILE_HDR 4096
#define CHUNK 65536
#define CHUNK_HDR 512
#define MAX_INSERTS 24

static uint8_t chunk[CHUNK];
static size_t pos;

static void die(const char *msg)
{
	fprintf(stderr, "rp-mkevtx: %s\n", msg);
	exit(2);
}

static void need(size_t n)
{
	if (pos + n > CHUNK - 8)
		die("record too large for a chunk");
}

static void put8(uint8_t v)
{
	need(1);
	chunk[pos++] = v;
}
static void put16(uint16_t v)
{
	put8((uint8_t)v);
	put8((uint8_t)(v >> 8));
}
static void put32(uint32_t v)
{
	put16((uint16_t)v);
	put16((uint16_t)(v >> 16));
}
static void put64(uint64_t v)
{
	put32((uint32_t)v);
	put32((uint32_t)(v >> 32));
}
static void set32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static void set64(uint8_t *p, uint64_t v)
{
	set32(p, (uint32_t)v);
	set32(p + 4, (uint32_t)(v >> 32));
}

/* ASCII/UTF-8 text as UTF-16LE (the test inserts are ASCII; other bytes are kept as code
 * units, enough for a test writer). */
static void put_utf16(const char *s)
{
	for (; *s; s++)
		put16((uint8_t)*s);
}

/* A name defined inline: offset of the name (the next byte), then next-string offset, hash,
 * character count, the UTF-16 characters and a NUL. */
static void put_name(const char *name)
{
	uint32_t hash = 0;
	for (const char *p = name; *p; p++)
		hash = hash * 65599u + (uint8_t)*p;
	put32((uint32_t)(pos + 4));
	put32(0);
	put16((uint16_t)hash);
	put16((uint16_t)strlen(name));
	put_utf16(name);
	put16(0);
}

/* Open start element (0x01, 0x41 with attributes): dependency id, data size (patched by
 * end_element), name.  Returns the position of the data size. */
static size_t open_element(const char *name, int has_attrs)
{
	put8(has_attrs ? 0x41 : 0x01);
	put16(0xffff);
	size_t size_at = pos;
	put32(0);
	put_name(name);
	return size_at;
}

static size_t begin_attrs(void)
{
	size_t at = pos;
	put32(0);
	return at;
}

static void end_attrs(size_t at)
{
	set32(chunk + at, (uint32_t)(pos - at - 4));
}

static void attr_text(const char *name, const char *value, int more)
{
	put8(more ? 0x46 : 0x06);
	put_name(name);
	put8(0x05); /* value text */
	put8(0x01); /* UTF-16 string */
	put16((uint16_t)strlen(value));
	put_utf16(value);
}

static void attr_subst(const char *name, uint16_t index, uint8_t type, int more)
{
	put8(more ? 0x46 : 0x06);
	put_name(name);
	put8(0x0d);
	put16(index);
	put8(type);
}

static void subst(uint16_t index, uint8_t type)
{
	put8(0x0d);
	put16(index);
	put8(type);
}

/* Closes the start tag (0x02), or the empty element (0x03) when empty; patches data size. */
static void close_start(int empty)
{
	put8(empty ? 0x03 : 0x02);
}

static void end_element(size_t size_at, int empty)
{
	if (!empty)
		put8(0x04);
	set32(chunk + size_at, (uint32_t)(pos - size_at - 4));
}

/* <NAME>[substitution]</NAME> */
static void simple_element(const char *name, uint16_t index, uint8_t type)
{
	size_t s = open_element(name, 0);
	close_start(0);
	subst(index, type);
	end_element(s, 0);
}

enum { T_STRING = 0x01, T_UINT8 = 0x04, T_UINT16 = 0x06, T_UINT64 = 0x0a, T_FILETIME = 0x11 };

typedef struct event {
	uint64_t filetime;
	char *provider, *channel, *computer;
	unsigned id, level;
	char *inserts[MAX_INSERTS];
	int ninserts;
} event;

/* The template: Event/System (Provider, EventID, Level, TimeCreated, EventRecordID, Channel,
 * Computer) and EventData with one Data element per insert, every value a substitution. */
static void put_template(const event *e)
{
	size_t ev = open_element("Event", 1);
	size_t at = begin_attrs();
	attr_text("xmlns", "http://schemas.microsoft.com/win/2004/08/events/event", 0);
	end_attrs(at);
	close_start(0);

	size_t sys = open_element("System", 0);
	close_start(0);
	size_t p = open_element("Provider", 1);
	at = begin_attrs();
	attr_subst("Name", 0, T_STRING, 0);
	end_attrs(at);
	close_start(1);
	end_element(p, 1);
	simple_element("EventID", 1, T_UINT16);
	simple_element("Level", 2, T_UINT8);
	size_t tc = open_element("TimeCreated", 1);
	at = begin_attrs();
	attr_subst("SystemTime", 3, T_FILETIME, 0);
	end_attrs(at);
	close_start(1);
	end_element(tc, 1);
	simple_element("EventRecordID", 4, T_UINT64);
	simple_element("Channel", 5, T_STRING);
	simple_element("Computer", 6, T_STRING);
	end_element(sys, 0);

	size_t data = open_element("EventData", 0);
	close_start(0);
	for (int i = 0; i < e->ninserts; i++) {
		char pname[16];
		snprintf(pname, sizeof pname, "param%d", i + 1);
		size_t d = open_element("Data", 1);
		at = begin_attrs();
		attr_text("Name", pname, 0);
		end_attrs(at);
		close_start(0);
		subst((uint16_t)(7 + i), T_STRING);
		end_element(d, 0);
	}
	end_element(data, 0);
	end_element(ev, 0);
}

/* One record at pos; returns 0, or -1 when it does not fit (pos unchanged). */
static int put_record(const event *e, uint64_t rid, uint32_t template_id)
{
	size_t start = pos;
	/* Conservative size estimate: names, inserts and values, all UTF-16. */
	size_t est =
	    1400 + strlen(e->provider) * 2 + strlen(e->channel) * 2 + strlen(e->computer) * 2;
	for (int i = 0; i < e->ninserts; i++)
		est += 60 + strlen(e->inserts[i]) * 2;
	if (pos + est > CHUNK - 8)
		return -1;
	put32(0x00002a2a);
	size_t size_at = pos;
	put32(0);
	put64(rid);
	put64(e->filetime);
	/* Binary XML: fragment header, template instance with an inline definition. */
	put8(0x0f), put8(0x01), put8(0x01), put8(0x00);
	put8(0x0c);
	put8(0x01);
	put32(template_id);
	put32((uint32_t)(pos + 4)); /* definition offset: right here */
	put32(0);		    /* next template definition */
	for (int i = 0; i < 16; i++)
		put8((uint8_t)(template_id >> (8 * (i % 4))) ^ (uint8_t)i); /* GUID */
	size_t dsize_at = pos;
	put32(0);
	put8(0x0f), put8(0x01), put8(0x01), put8(0x00);
	put_template(e);
	put8(0x00); /* end of stream */
	set32(chunk + dsize_at, (uint32_t)(pos - dsize_at - 4));
	/* Substitution values: count, descriptors (size, type), data. */
	int nvals = 7 + e->ninserts;
	put32((uint32_t)nvals);
	const char *strs[MAX_INSERTS + 7] = {e->provider};
	strs[5] = e->channel;
	strs[6] = e->computer;
	for (int i = 0; i < e->ninserts; i++)
		strs[7 + i] = e->inserts[i];
	static const uint8_t fixed_type[7] = {T_STRING, T_UINT16, T_UINT8, T_FILETIME,
					      T_UINT64, T_STRING, T_STRING};
	static const uint16_t fixed_size[7] = {0, 2, 1, 8, 8, 0, 0};
	for (int i = 0; i < nvals; i++) {
		uint8_t type = i < 7 ? fixed_type[i] : T_STRING;
		uint16_t size = type == T_STRING ? (uint16_t)(strlen(strs[i]) * 2) : fixed_size[i];
		put16(size);
		put8(type);
		put8(0);
	}
	for (int i = 0; i < nvals; i++) {
		switch (i) {
		case 1:
			put16((uint16_t)e->id);
			break;
		case 2:
			put8((uint8_t)e->level);
			break;
		case 3:
			put64(e->filetime);
			break;
		case 4:
			put64(rid);
			break;
		default:
			put_utf16(strs[i]);
		}
	}
	put8(0x00); /* end of the record's stream */
	put32(0);   /* size copy */
	uint32_t size = (uint32_t)(pos - start);
	set32(chunk + size_at, size);
	set32(chunk + pos - 4, size);
	if (pos > CHUNK - 8) {
		pos = start;
		return -1;
	}
	return 0;
}

static void finish_chunk(FILE *out, uint64_t first, uint64_t last, size_t last_off, int bad)
{
	memcpy(chunk, "ElfChnk", 8);
	set64(chunk + 8, first);
	set64(chunk + 16, last);
	set64(chunk + 24, first);
	set64(chunk + 32, last);
	set32(chunk + 0x28, 128);
	set32(chunk + 0x2c, (uint32_t)last_off);
	set32(chunk + 0x30, (uint32_t)pos);
	set32(chunk + 0x34, (uint32_t)crc32(0, chunk + CHUNK_HDR, (uInt)(pos - CHUNK_HDR)));
	uLong c = crc32(0, chunk, 120);
	c = crc32(c, chunk + 128, CHUNK_HDR - 128);
	set32(chunk + 0x7c, (uint32_t)c);
	if (bad)
		memcpy(chunk, "BADCHNK", 8);
	if (fwrite(chunk, 1, CHUNK, out) != CHUNK)
		die("write failed");
}

static uint64_t parse_time(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		die("TIME must be YYYY-MM-DDTHH:MM:SSZ");
	return ((uint64_t)timegm(&tm) + 11644473600ULL) * 10000000ULL;
}

static int parse_event(char *line, event *e)
{
	memset(e, 0, sizeof *e);
	char *f[MAX_INSERTS + 6];
	int n = 0;
	for (char *save = NULL, *t = strtok_r(line, "|", &save); t && n < MAX_INSERTS + 6;
	     t = strtok_r(NULL, "|", &save))
		f[n++] = t;
	if (n < 6)
		return -1;
	e->filetime = parse_time(f[0]);
	e->provider = f[1];
	e->id = (unsigned)strtoul(f[2], NULL, 10);
	e->level = (unsigned)strtoul(f[3], NULL, 10);
	e->channel = f[4];
	e->computer = f[5];
	for (int i = 6; i < n; i++)
		e->inserts[e->ninserts++] = f[i];
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: rp-mkevtx OUT [--per-chunk N] [--bad-magic K] [--dirty] < EVENTS");
	long per_chunk = 1L << 30, bad = -1;
	int dirty = 0;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--per-chunk") && i + 1 < argc)
			per_chunk = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--bad-magic") && i + 1 < argc)
			bad = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--dirty"))
			dirty = 1;
		else
			die("unknown option");
	}
	FILE *out = fopen(argv[1], "wb");
	if (!out)
		die("cannot create OUT");
	uint8_t hdr[FILE_HDR] = {0};
	if (fwrite(hdr, 1, FILE_HDR, out) != FILE_HDR)
		die("write failed");

	char *line = NULL;
	size_t cap = 0;
	uint64_t rid = 1, first = 1;
	long nchunks = 0, in_chunk = 0;
	size_t last_off = 0;
	memset(chunk, 0, sizeof chunk);
	pos = CHUNK_HDR;
	while (getline(&line, &cap, stdin) > 0) {
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		event e;
		if (parse_event(line, &e) < 0)
			die("an event line needs "
			    "TIME|PROVIDER|ID|LEVEL|CHANNEL|COMPUTER[|inserts]");
		size_t at = pos;
		if (in_chunk >= per_chunk || put_record(&e, rid, (uint32_t)rid * 2654435761u) < 0) {
			if (!in_chunk)
				die("event too large");
			finish_chunk(out, first, rid - 1, last_off, nchunks == bad);
			nchunks++;
			memset(chunk, 0, sizeof chunk);
			pos = CHUNK_HDR;
			first = rid;
			in_chunk = 0;
			at = pos;
			if (put_record(&e, rid, (uint32_t)rid * 2654435761u) < 0)
				die("event too large");
		}
		last_off = at;
		in_chunk++;
		rid++;
	}
	free(line);
	if (in_chunk) {
		finish_chunk(out, first, rid - 1, last_off, nchunks == bad);
		nchunks++;
	}
	memcpy(hdr, "ElfFile", 8);
	set64(hdr + 8, 0);
	set64(hdr + 16, nchunks ? (uint64_t)nchunks - 1 : 0);
	set64(hdr + 24, rid);
	set32(hdr + 32, 128);
	hdr[36] = 1; /* minor version */
	hdr[38] = 3; /* major version */
	hdr[40] = FILE_HDR & 0xff, hdr[41] = FILE_HDR >> 8;
	hdr[42] = (uint8_t)nchunks, hdr[43] = (uint8_t)(nchunks >> 8);
	set32(hdr + 120, dirty ? 1u : 0u);
	set32(hdr + 124, (uint32_t)crc32(0, hdr, 120));
	if (fseek(out, 0, SEEK_SET) != 0 || fwrite(hdr, 1, FILE_HDR, out) != FILE_HDR ||
	    fclose(out) != 0)
		die("write failed");
	return 0;
}
