/*
 * test_pol.c — src/reg/pol.c: Registry.pol (PReg) files built byte by byte here, independently
 * of the serializer (MS-GPREG layout: "PReg", le32 1, then '[' key ';' value ';' type ';' size
 * ';' data ']' in UTF-16LE).  Round trip byte-identical, lookups (last entry wins,
 * case-insensitive), the delete instructions, edits, and every kind of malformed file.
 */
#include "reg/pol.h"
#include "test.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS "Software\\Policies\\Microsoft\\Windows NT\\Terminal Services"

typedef struct buf {
	uint8_t b[8192];
	size_t n;
} buf;

static void put16(buf *o, uint16_t c)
{
	o->b[o->n++] = (uint8_t)c;
	o->b[o->n++] = (uint8_t)(c >> 8);
}

static void put32(buf *o, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		o->b[o->n++] = (uint8_t)(v >> (8 * i));
}

/* ASCII string as UTF-16LE with its NUL. */
static void put_str(buf *o, const char *s)
{
	for (; *s; s++)
		put16(o, (uint8_t)*s);
	put16(o, 0);
}

static void header(buf *o)
{
	o->n = 0;
	memcpy(o->b, "PReg", 4);
	o->n = 4;
	put32(o, 1);
}

static void entry(buf *o, const char *key, const char *value, uint32_t type, const void *data,
		  uint32_t len)
{
	put16(o, '[');
	put_str(o, key);
	put16(o, ';');
	put_str(o, value);
	put16(o, ';');
	put32(o, type);
	put16(o, ';');
	put32(o, len);
	put16(o, ';');
	memcpy(o->b + o->n, data, len);
	o->n += len;
	put16(o, ']');
}

static void dword_entry(buf *o, const char *key, const char *value, uint32_t v)
{
	uint8_t d[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	entry(o, key, value, 4, d, 4);
}

/* REG_SZ data as Windows writes it: UTF-16LE with the NUL. */
static void sz_entry(buf *o, const char *key, const char *value, const char *s)
{
	buf d = {.n = 0};
	put_str(&d, s);
	entry(o, key, value, 1, d.b, (uint32_t)d.n);
}

static uint32_t dword_of(const rp_pol_entry *e)
{
	return e && e->len == 4 ? (uint32_t)e->data[0] | (uint32_t)e->data[1] << 8 |
				      (uint32_t)e->data[2] << 16 | (uint32_t)e->data[3] << 24
				: 0xdeadbeefu;
}

static int parses(const uint8_t *b, size_t n, rp_err *err)
{
	rp_pol pol;
	rp_err_clear(err);
	int rc = rp_pol_parse(b, n, &pol, err);
	if (rc == 0)
		rp_pol_free(&pol);
	return rc == 0;
}

static void test_round_trip(void)
{
	buf o;
	header(&o);
	dword_entry(&o, TS, "fDenyTSConnections", 1);
	sz_entry(&o, TS, "**del.SecurityLayer", " ");
	sz_entry(&o, "Software\\Policies\\Microsoft\\Cryptography\\Configuration\\SSL\\00010002",
		 "Functions", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
	entry(&o, TS, "Odd", 3, "\x01\x02\x03", 3); /* odd data size: later strings unaligned */
	dword_entry(&o, TS, "UserAuthentication", 1);
	entry(&o, TS, "", 1, "", 0); /* default value, no data */

	rp_pol pol;
	rp_err err = {0};
	CHECK(rp_pol_parse(o.b, o.n, &pol, &err) == 0, "parse a six-entry file: %s", err.msg);
	CHECK(pol.nentries == 6 && pol.version == 1, "six entries, version 1 (got %zu)",
	      pol.nentries);
	CHECK(strcmp(pol.entries[0].key, TS) == 0 &&
		  strcmp(pol.entries[0].value, "fDenyTSConnections") == 0 &&
		  pol.entries[0].type == 4 && dword_of(&pol.entries[0]) == 1,
	      "first entry: key, value, REG_DWORD 1");
	CHECK(pol.entries[3].len == 3 && memcmp(pol.entries[3].data, "\x01\x02\x03", 3) == 0,
	      "odd-sized binary data kept");
	CHECK(strcmp(pol.entries[4].value, "UserAuthentication") == 0 &&
		  dword_of(&pol.entries[4]) == 1,
	      "entry after odd-sized data parsed at an odd offset");
	CHECK(strcmp(pol.entries[5].value, "") == 0 && pol.entries[5].len == 0,
	      "default value with empty data");
	uint8_t *out = NULL;
	size_t len = 0;
	rp_pol_serialize(&pol, &out, &len);
	CHECK(len == o.n && memcmp(out, o.b, len) == 0, "serialize is byte-identical (%zu/%zu)",
	      len, o.n);
	free(out);
	rp_pol_free(&pol);

	/* Names keep their exact bytes, even the case and non-ASCII characters. */
	buf u;
	header(&u);
	put16(&u, '[');
	put16(&u, 'K');
	put16(&u, 0x00e9); /* e acute */
	put16(&u, 0);
	put16(&u, ';');
	put_str(&u, "V");
	put16(&u, ';');
	put32(&u, 4);
	put16(&u, ';');
	put32(&u, 4);
	put16(&u, ';');
	put32(&u, 7);
	put16(&u, ']');
	CHECK(rp_pol_parse(u.b, u.n, &pol, &err) == 0 &&
		  strcmp(pol.entries[0].key, "K\xc3\xa9") == 0,
	      "UTF-16 key decoded to UTF-8");
	rp_pol_serialize(&pol, &out, &len);
	CHECK(len == u.n && memcmp(out, u.b, len) == 0, "non-ASCII names round-trip");
	free(out);
	rp_pol_free(&pol);
}

static void test_empty(void)
{
	rp_pol pol;
	rp_err err = {0};
	CHECK(rp_pol_parse((const uint8_t *)"", 0, &pol, &err) == 0 && pol.nentries == 0,
	      "a 0-byte file is an empty policy");
	uint8_t *out = NULL;
	size_t len = 0;
	rp_pol_serialize(&pol, &out, &len);
	CHECK(len == 8 && memcmp(out, "PReg\x01\x00\x00\x00", 8) == 0,
	      "an empty policy serializes to the 8-byte header");
	free(out);
	rp_pol_free(&pol);
	CHECK(rp_pol_parse((const uint8_t *)"PReg\x01\x00\x00\x00", 8, &pol, &err) == 0 &&
		  pol.nentries == 0,
	      "header only: no entries");
	rp_pol_free(&pol);
}

static void test_find(void)
{
	buf o;
	header(&o);
	dword_entry(&o, TS, "fDenyTSConnections", 1);
	dword_entry(&o, TS, "SecurityLayer", 2);
	dword_entry(&o, "software\\policies\\microsoft\\windows nt\\terminal services",
		    "FDENYTSCONNECTIONS", 0);
	rp_pol pol;
	rp_err err = {0};
	CHECK(rp_pol_parse(o.b, o.n, &pol, &err) == 0, "parse for find");
	const rp_pol_entry *e = rp_pol_find(&pol, TS, "fDenyTSConnections");
	CHECK(e == &pol.entries[2] && dword_of(e) == 0, "find: the last entry wins, any case");
	CHECK(rp_pol_find(&pol, "SOFTWARE\\POLICIES\\MICROSOFT\\WINDOWS NT\\TERMINAL SERVICES",
			  "securitylayer") == &pol.entries[1],
	      "find is case-insensitive in key and value");
	CHECK(rp_pol_find(&pol, TS, "UserAuthentication") == NULL, "find: absent value");
	CHECK(rp_pol_find(&pol, "Software\\Policies", "fDenyTSConnections") == NULL,
	      "find: a parent key does not match");
	CHECK(!rp_pol_deletes(&pol, TS, "fDenyTSConnections"), "plain sets delete nothing");
	rp_pol_free(&pol);
}

static int deletes_after(void (*build)(buf *), const char *key, const char *value)
{
	buf o;
	header(&o);
	build(&o);
	rp_pol pol;
	rp_err err = {0};
	if (rp_pol_parse(o.b, o.n, &pol, &err) < 0)
		return -1;
	int d = rp_pol_deletes(&pol, key, value);
	rp_pol_free(&pol);
	return d;
}

static void b_del(buf *o)
{
	dword_entry(o, TS, "fDenyTSConnections", 1);
	sz_entry(o, TS, "**del.fDenyTSConnections", " ");
}
static void b_del_then_set(buf *o)
{
	sz_entry(o, TS, "**Del.fDenyTSConnections", " ");
	dword_entry(o, TS, "fdenytsconnections", 0);
}
static void b_delvals(buf *o)
{
	dword_entry(o, TS, "SecurityLayer", 0);
	sz_entry(o, TS, "**delvals.", " ");
}
static void b_deletevalues(buf *o)
{
	sz_entry(o, TS, "**DeleteValues", "MaxIdleTime; fDenyTSConnections;KeepAliveEnable");
}
static void b_deletekeys(buf *o)
{
	sz_entry(o, "Software\\Policies", "**DeleteKeys",
		 "Software\\Policies\\Microsoft\\Windows NT");
}
static void b_other_key(buf *o)
{
	sz_entry(o, "Software\\Policies\\Microsoft\\WindowsFirewall", "**del.fDenyTSConnections",
		 " ");
}

static void test_deletes(void)
{
	CHECK(deletes_after(b_del, TS, "fDenyTSConnections") == 1, "**del.X removes X");
	CHECK(deletes_after(b_del, TS, "SecurityLayer") == 0, "**del.X leaves other values");
	CHECK(deletes_after(b_del_then_set, TS, "fDenyTSConnections") == 0,
	      "a later set wins over **del.X (case-insensitive)");
	CHECK(deletes_after(b_delvals, TS, "fDenyTSConnections") == 1,
	      "**delvals. removes every value of the key");
	CHECK(deletes_after(b_deletevalues, TS, "fDenyTSConnections") == 1 &&
		  deletes_after(b_deletevalues, TS, "MaxIdleTime") == 1 &&
		  deletes_after(b_deletevalues, TS, "SecurityLayer") == 0,
	      "**DeleteValues removes the listed values only");
	CHECK(deletes_after(b_deletekeys, TS, "fDenyTSConnections") == 1,
	      "**DeleteKeys removes the values of keys below the listed key");
	CHECK(deletes_after(b_deletekeys, "Software\\Policies\\Microsoft\\Windows NTX", "v") == 0,
	      "**DeleteKeys: a sibling with a longer name is not below it");
	CHECK(deletes_after(b_other_key, TS, "fDenyTSConnections") == 0,
	      "**del.X under another key does not apply");
}

static void test_edit(void)
{
	buf o;
	header(&o);
	dword_entry(&o, TS, "fDenyTSConnections", 1);
	dword_entry(&o, TS, "SecurityLayer", 0);
	dword_entry(&o, TS, "fDenyTSConnections", 1);
	rp_pol pol;
	rp_err err = {0};
	CHECK(rp_pol_parse(o.b, o.n, &pol, &err) == 0, "parse for edits");
	uint8_t zero[4] = {0};
	CHECK(rp_pol_set(&pol, "SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services",
			 "fdenytsconnections", 4, zero, 4) == 0,
	      "set an existing value");
	CHECK(pol.nentries == 3 && dword_of(&pol.entries[0]) == 0 && dword_of(&pol.entries[2]) == 0,
	      "set changes every entry for the value, adds none");
	uint8_t *out = NULL;
	size_t len = 0;
	rp_pol_serialize(&pol, &out, &len);
	/* The expected bytes: the same file built with 0 in both entries, original names kept. */
	buf want;
	header(&want);
	dword_entry(&want, TS, "fDenyTSConnections", 0);
	dword_entry(&want, TS, "SecurityLayer", 0);
	dword_entry(&want, TS, "fDenyTSConnections", 0);
	CHECK(len == want.n && memcmp(out, want.b, len) == 0,
	      "set keeps the stored key/value names byte for byte");
	free(out);

	uint8_t two[4] = {2, 0, 0, 0};
	CHECK(rp_pol_set(&pol, TS, "UserAuthentication", 4, two, 4) == 0 && pol.nentries == 4,
	      "set a new value appends an entry");
	rp_pol_serialize(&pol, &out, &len);
	rp_pol back;
	CHECK(rp_pol_parse(out, len, &back, &err) == 0, "the edited file parses");
	CHECK(dword_of(rp_pol_find(&back, TS, "UserAuthentication")) == 2 &&
		  dword_of(rp_pol_find(&back, TS, "SecurityLayer")) == 0,
	      "the new entry reads back, the others are unchanged");
	rp_pol_free(&back);
	free(out);

	CHECK(rp_pol_delete(&pol, TS, "FDENYTSCONNECTIONS") == 2 && pol.nentries == 2,
	      "delete removes every entry for the value");
	CHECK(rp_pol_find(&pol, TS, "fDenyTSConnections") == NULL, "deleted value not found");
	CHECK(rp_pol_delete(&pol, TS, "fDenyTSConnections") == 0, "deleting again removes none");
	rp_pol_serialize(&pol, &out, &len);
	buf want2;
	header(&want2);
	dword_entry(&want2, TS, "SecurityLayer", 0);
	dword_entry(&want2, TS, "UserAuthentication", 2);
	CHECK(len == want2.n && memcmp(out, want2.b, len) == 0,
	      "after delete the file holds exactly the other entries");
	free(out);
	CHECK(rp_pol_set(&pol, TS, "bad\xff", 4, two, 4) == -1 && pol.nentries == 2,
	      "set refuses a value name that is not UTF-8");
	rp_pol_free(&pol);
}

static void test_malformed(void)
{
	rp_err err = {0};
	buf o;
	header(&o);
	dword_entry(&o, TS, "fDenyTSConnections", 1);
	CHECK(parses(o.b, o.n, &err), "well-formed reference file parses");
	int all_truncations_fail = 1;
	for (size_t n = 9; n < o.n; n++)
		if (parses(o.b, n, &err))
			all_truncations_fail = 0;
	CHECK(all_truncations_fail, "every truncation inside the entry is rejected");
	CHECK(strstr(err.msg, "malformed at byte") != NULL, "the message gives the offset: %s",
	      err.msg);
	CHECK(!parses(o.b, 5, &err), "a truncated header is rejected");

	buf b = o;
	b.b[8] = '(';
	CHECK(!parses(b.b, b.n, &err) && strstr(err.msg, "'['"), "bad opening bracket: %s",
	      err.msg);
	b = o;
	b.b[b.n - 2] = '}';
	CHECK(!parses(b.b, b.n, &err) && strstr(err.msg, "']'"), "bad closing bracket: %s",
	      err.msg);
	/* The size field sits 4 + 2 bytes before the data: 4 bytes data, 2 ']' at the end. */
	size_t size_off = o.n - 2 - 4 - 2 - 4;
	b = o;
	b.b[size_off] = 200;
	CHECK(!parses(b.b, b.n, &err) && strstr(err.msg, "past the end"), "size past the end: %s",
	      err.msg);
	b = o;
	b.b[size_off] = 0xff, b.b[size_off + 1] = 0xff, b.b[size_off + 2] = 0xff,
	b.b[size_off + 3] = 0xff;
	CHECK(!parses(b.b, b.n, &err), "size 0xffffffff rejected (no overflow)");
	b = o;
	b.b[size_off] = 2; /* data shorter: ']' expected where data continues */
	CHECK(!parses(b.b, b.n, &err), "size too small rejected");
	b = o;
	b.b[size_off - 2] = ':';
	CHECK(!parses(b.b, b.n, &err), "missing ';' after the type rejected");
	b = o;
	memcpy(b.b, "Preg", 4);
	CHECK(!parses(b.b, b.n, &err) && strstr(err.msg, "signature"), "bad signature: %s",
	      err.msg);
	b = o;
	b.b[4] = 2;
	CHECK(!parses(b.b, b.n, &err) && strstr(err.msg, "version 2"), "bad version: %s", err.msg);

	/* A key that never ends (no NUL unit). */
	buf k;
	header(&k);
	put16(&k, '[');
	for (int i = 0; i < 10; i++)
		put16(&k, 'A');
	CHECK(!parses(k.b, k.n, &err) && strstr(err.msg, "NUL"), "unterminated key: %s", err.msg);
	/* An odd trailing byte after a good entry. */
	b = o;
	b.b[b.n++] = '[';
	CHECK(!parses(b.b, b.n, &err), "a stray odd byte after the last entry is rejected");
	/* A second entry truncated after its value name. */
	b = o;
	put16(&b, '[');
	put_str(&b, "K");
	put16(&b, ';');
	put_str(&b, "V");
	CHECK(!parses(b.b, b.n, &err), "entry ending after the value name is rejected");
}

int main(void)
{
	test_round_trip();
	test_empty();
	test_find();
	test_deletes();
	test_edit();
	test_malformed();
	TEST_DONE();
}
