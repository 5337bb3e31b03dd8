/*
 * prefilter.c — the event id of every record of an EVTX file, found cheaply, so that libevtx
 * (which builds a whole XML tree per record, ~50 µs each) parses only the records the rule table
 * may keep.  A 20 MB System log holds ~40,000 records, most of them Service Control Manager
 * 7036 "entered the running state"; reading them all through libevtx takes seconds.
 *
 * A record's binary XML is a template instance: the template definition (in the same chunk)
 * holds the Event element tree, and EventID's content is a substitution (an index into the
 * record's value array) or a literal.  For each template (cached by its chunk offset) the walk
 * below finds that substitution; for each record it reads the value.  Anything unexpected gives
 * RP_EVID_UNKNOWN: the caller then lets libevtx decide, so the walk can only cost time, never
 * lose an event.  Records are listed in the order libevtx lists them (chunks in file order,
 * records in chunk order); the caller checks that the record identifiers agree and falls back to
 * reading every record when they do not (damaged chunks).  Every read is bounds-checked.
 */
#include "evtx/prefilter.h"
#include "util/bytes.h"
#include "util/text.h"

#include <stdlib.h>
#include <string.h>

#define FILE_HDR 4096
#define CHUNK 65536
#define CHUNK_HDR 512
#define MAX_TEMPLATES 128

/* What a template's EventID element holds. */
typedef struct tmpl {
	uint32_t offset; /* chunk offset of the definition */
	int subst;	 /* substitution index, -1: literal or unknown */
	uint32_t literal;
} tmpl;

typedef struct walk {
	const uint8_t *c; /* the chunk */
	size_t pos, end;
	int depth, in_eventid, eventid_depth;
	int subst;
	uint32_t literal;
	int found;
} walk;

static int have(const walk *w, size_t n)
{
	return w->pos <= w->end && w->end - w->pos >= n;
}

/* A name at chunk offset off equals "EventID"? */
static int name_is_eventid(const uint8_t *c, uint32_t off)
{
	static const char want[] = "EventID";
	if (off > CHUNK - 8)
		return 0;
	uint16_t n = rp_le16(c + off + 6);
	if (n != sizeof want - 1 || off + 8 + 2u * n > CHUNK)
		return 0;
	for (uint16_t i = 0; i < n; i++)
		if (rp_le16(c + off + 8 + 2 * i) != (uint8_t)want[i])
			return 0;
	return 1;
}

/* Skips a name reference at pos; an inline name (offset == where the name would start) is
 * skipped too.  Returns the name's chunk offset, or UINT32_MAX on a bad one. */
static uint32_t skip_name(walk *w)
{
	if (!have(w, 4))
		return UINT32_MAX;
	uint32_t off = rp_le32(w->c + w->pos);
	w->pos += 4;
	if (off == w->pos) {
		if (!have(w, 8))
			return UINT32_MAX;
		uint16_t n = rp_le16(w->c + w->pos + 6);
		size_t sz = 8 + 2u * n + 2;
		if (!have(w, sz))
			return UINT32_MAX;
		w->pos += sz;
	}
	return off;
}

/* Walks the template's tokens until EventID's content is known.  0 found, -1 unknown. */
static int walk_tokens(walk *w)
{
	while (have(w, 1)) {
		uint8_t tok = w->c[w->pos++];
		switch (tok & 0x0f) {
		case 0x00: /* end of stream */
			return -1;
		case 0x01: { /* open start element */
			if (!have(w, 6))
				return -1;
			w->pos += 6; /* dependency id, data size */
			uint32_t name = skip_name(w);
			if (name == UINT32_MAX)
				return -1;
			if (tok & 0x40) { /* attribute list: skipped by its size */
				if (!have(w, 4))
					return -1;
				uint32_t sz = rp_le32(w->c + w->pos);
				w->pos += 4;
				if (!have(w, sz))
					return -1;
				w->pos += sz;
			}
			w->depth++;
			if (name_is_eventid(w->c, name)) {
				w->in_eventid = 1;
				w->eventid_depth = w->depth;
			}
			break;
		}
		case 0x02: /* close start element */
			break;
		case 0x03: /* close empty element */
		case 0x04: /* end element */
			if (w->in_eventid && w->depth == w->eventid_depth)
				return -1; /* EventID without a value we understand */
			w->depth--;
			break;
		case 0x05: { /* value text */
			if (!have(w, 3) || w->c[w->pos] != 0x01)
				return -1;
			uint16_t n = rp_le16(w->c + w->pos + 1);
			w->pos += 3;
			if (!have(w, 2u * n))
				return -1;
			if (w->in_eventid && w->depth == w->eventid_depth) {
				uint32_t v = 0;
				if (n == 0 || n > 5)
					return -1;
				for (uint16_t i = 0; i < n; i++) {
					uint16_t ch = rp_le16(w->c + w->pos + 2 * i);
					if (ch < '0' || ch > '9')
						return -1;
					v = v * 10 + (ch - '0');
				}
				w->literal = v;
				w->subst = -1;
				return 0;
			}
			w->pos += 2u * n;
			break;
		}
		case 0x06: /* attribute: its value follows as tokens */
			if (skip_name(w) == UINT32_MAX)
				return -1;
			break;
		case 0x07:   /* CDATA */
		case 0x0b: { /* PI data */
			if (!have(w, 2))
				return -1;
			uint16_t n = rp_le16(w->c + w->pos);
			w->pos += 2;
			if (!have(w, 2u * n))
				return -1;
			w->pos += 2u * n;
			break;
		}
		case 0x08: /* character reference */
			if (!have(w, 2))
				return -1;
			w->pos += 2;
			break;
		case 0x09: /* entity reference */
		case 0x0a: /* PI target */
			if (skip_name(w) == UINT32_MAX)
				return -1;
			break;
		case 0x0d: /* substitution */
		case 0x0e: /* optional substitution */
			if (!have(w, 3))
				return -1;
			if (w->in_eventid && w->depth == w->eventid_depth) {
				w->subst = rp_le16(w->c + w->pos);
				return 0;
			}
			w->pos += 3;
			break;
		case 0x0f: /* fragment header */
			if (!have(w, 3))
				return -1;
			w->pos += 3;
			break;
		default: /* nested template instance or unknown: give up */
			return -1;
		}
	}
	return -1;
}

/* The template at chunk offset def: what its EventID holds (cached). */
static const tmpl *template_at(const uint8_t *c, uint32_t def, tmpl *cache, size_t *ncache)
{
	for (size_t i = 0; i < *ncache; i++)
		if (cache[i].offset == def)
			return &cache[i];
	tmpl t = {.offset = def, .subst = -2};
	if (def <= CHUNK - 24) {
		uint32_t size = rp_le32(c + def + 20);
		walk w = {.c = c, .pos = def + 24, .end = def + 24 + (size_t)size};
		if (w.end > CHUNK)
			w.end = CHUNK;
		if (walk_tokens(&w) == 0) {
			t.subst = w.subst;
			t.literal = w.literal;
		}
	}
	if (*ncache < MAX_TEMPLATES)
		cache[(*ncache)++] = t;
	else
		cache[MAX_TEMPLATES - 1] = t;
	return *ncache ? &cache[*ncache - 1] : NULL;
}

/* The event id of the record at chunk offset r (size sz), or RP_EVID_UNKNOWN. */
static uint32_t record_event_id(const uint8_t *c, size_t r, size_t sz, tmpl *cache, size_t *ncache)
{
	size_t p = r + 24, end = r + sz - 4;
	if (end < p || end - p < 14 || memcmp(c + p, "\x0f\x01\x01\x00\x0c", 5) != 0)
		return RP_EVID_UNKNOWN;
	p += 5 + 1 + 4; /* token, unknown, template id */
	uint32_t def = rp_le32(c + p);
	p += 4;
	if (def == p) { /* the definition follows inline: the values come after it */
		if (end - p < 24)
			return RP_EVID_UNKNOWN;
		uint32_t size = rp_le32(c + p + 20);
		if (size > end - p - 24)
			return RP_EVID_UNKNOWN;
		p += 24 + size;
	}
	const tmpl *t = template_at(c, def, cache, ncache);
	if (!t || t->subst == -2)
		return RP_EVID_UNKNOWN;
	if (t->subst < 0)
		return t->literal;
	if (end - p < 4)
		return RP_EVID_UNKNOWN;
	uint32_t nvals = rp_le32(c + p);
	p += 4;
	if ((uint32_t)t->subst >= nvals || nvals > (end - p) / 4)
		return RP_EVID_UNKNOWN;
	size_t data = p + 4 * (size_t)nvals, off = data;
	for (int i = 0; i < t->subst; i++)
		off += rp_le16(c + p + 4 * (size_t)i);
	uint16_t vsize = rp_le16(c + p + 4 * (size_t)t->subst);
	uint8_t vtype = c[p + 4 * (size_t)t->subst + 2];
	if (off > end || end - off < vsize)
		return RP_EVID_UNKNOWN;
	if (vtype == 0x06 && vsize == 2) /* UInt16 */
		return rp_le16(c + off);
	if (vtype == 0x08 && vsize == 4) /* UInt32 */
		return rp_le32(c + off);
	return RP_EVID_UNKNOWN;
}

void rp_evtx_prefilter(const uint8_t *d, size_t len, rp_evtx_rec **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	tmpl *cache = rp_xmalloc(MAX_TEMPLATES * sizeof *cache);
	for (size_t off = FILE_HDR; len >= CHUNK && off <= len - CHUNK; off += CHUNK) {
		const uint8_t *c = d + off;
		if (memcmp(c, "ElfChnk", 8) != 0)
			continue;
		size_t ncache = 0;
		uint32_t free_off = rp_le32(c + 0x30);
		if (free_off > CHUNK)
			free_off = CHUNK;
		for (size_t r = CHUNK_HDR; r + 28 <= free_off;) {
			uint32_t sz = rp_le32(c + r + 4);
			if (memcmp(c + r, "\x2a\x2a\x00\x00", 4) != 0 || sz < 28 ||
			    sz > free_off - r || rp_le32(c + r + sz - 4) != sz)
				break;
			if (*n == cap) {
				cap = cap ? cap * 2 : 1024;
				*out = rp_xrealloc(*out, cap * sizeof **out);
			}
			(*out)[*n].record = rp_le64(c + r + 8);
			(*out)[*n].event_id = record_event_id(c, r, sz, cache, &ncache);
			(*n)++;
			r += sz;
		}
	}
	free(cache);
}
