/*
 * test_capi.c — CAPI key container checks: the container file-name hash against the published
 * table, the verdicts on a synthetic well-formed container and on each kind of damage, a
 * CNG-shaped file, and random or mutated bytes (which must never crash or read out of bounds).
 */
#include "capi/capi.h"
#include "test.h"

#include <stdint.h>
#include <string.h>

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static rp_capi_verdict inspect(const uint8_t *b, size_t n, rp_capi_info *info)
{
	rp_capi_inspect(b, n, info);
	return info->verdict;
}

/* Offset of part `field` (header index 3..9 in body order) in a container. */
static size_t part_offset(const uint8_t *c, int field)
{
	static const int order[] = {2, 7, 3, 4, 8, 5, 6, 9}; /* name hash sp spv sf ep epv ef */
	size_t off = 40;
	for (size_t i = 0; i < sizeof order / sizeof order[0] && order[i] != field; i++)
		off += rd32(c + order[i] * 4);
	return off;
}

static void test_names(void)
{
	static const struct {
		const char *name, *hash;
	} table[] = {
	    {"TSSecKeySet1", "f686aace6942fb7f7ceb231212eef4a4"},
	    {"iisWasKey", "76944fb33636aeddb9590521c2e8815a"},
	    {"iisConfigurationKey", "6de9cb26d2b98c01ec4e9e8b34824aa2"},
	    {"NetFrameworkConfigurationKey", "d6d986f09a1ee04e24c949879fdb506c"},
	    {"MyCoolContainer", "52ab417621a9d74c73e3e0f1bc374e0a"},
	    {"tssecKEYSET1", "f686aace6942fb7f7ceb231212eef4a4"},
	};
	const char *guid = "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9";
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		char out[128], want[128];
		rp_capi_container_file(table[i].name, guid, out, sizeof out);
		snprintf(want, sizeof want, "%s_%s", table[i].hash, guid);
		CHECK(strcmp(out, want) == 0, "container file of %s is %s (got %s)", table[i].name,
		      want, out);
	}
}

static void test_built(const uint8_t *c, size_t n)
{
	rp_capi_info info;
	CHECK(inspect(c, n, &info) == RP_CAPI_OK, "synthetic container is OK (%s)", info.reason);
	CHECK(strcmp(info.name, "TSSecKeySet1") == 0, "name read back (%s)", info.name);
	CHECK(info.version == 2 && info.exch_bits == 2048 && info.sig_bits == 0,
	      "version 2, exchange 2048 bits, no signature key (%u, %u, %u)", info.version,
	      info.exch_bits, info.sig_bits);
	CHECK(info.has_private && info.trailing == 0, "private key present, no trailing bytes");
	CHECK(rd32(c + 20) == 284, "exchange public blob is 284 bytes like a real RDP key (%u)",
	      rd32(c + 20));
	CHECK(!rp_capi_is_broken(info.verdict), "a well-formed container is not broken");

	uint8_t *longer = malloc(n + 7);
	memcpy(longer, c, n);
	memset(longer + n, 0xab, 7);
	CHECK(inspect(longer, n + 7, &info) == RP_CAPI_OK && info.trailing == 7,
	      "trailing bytes allowed and counted (%zu)", info.trailing);
	free(longer);
}

static void test_damage(const uint8_t *c, size_t n)
{
	rp_capi_info info;
	uint8_t *b = malloc(n);

	CHECK(inspect(c, 0, &info) == RP_CAPI_EMPTY && rp_capi_is_broken(info.verdict),
	      "empty file is EMPTY and broken");
	memset(b, 0, n);
	CHECK(inspect(b, n, &info) == RP_CAPI_ZEROED && rp_capi_is_broken(info.verdict),
	      "zero-filled file is ZEROED and broken (%s)", info.reason);

	size_t cuts[] = {4, 12, 39, 40, 52, 100, 373, n - 100, n - 1};
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		CHECK(inspect(c, cuts[i], &info) == RP_CAPI_TRUNCATED &&
			  rp_capi_is_broken(info.verdict),
		      "cut at %zu bytes is TRUNCATED (%s)", cuts[i], info.reason);
	}
	CHECK(inspect(c, 3, &info) == RP_CAPI_UNRECOGNIZED, "3-byte fragment is UNRECOGNIZED");

	memcpy(b, c, n);
	wr32(b, 3);
	CHECK(inspect(b, n, &info) == RP_CAPI_MALFORMED && strstr(info.reason, "version 3"),
	      "version 3 in an otherwise valid container is MALFORMED (%s)", info.reason);

	memcpy(b, c, n);
	memcpy(b + part_offset(b, 5), "RSA2", 4);
	CHECK(inspect(b, n, &info) == RP_CAPI_MALFORMED && strstr(info.reason, "RSA1"),
	      "bad RSA1 magic is MALFORMED (%s)", info.reason);

	memcpy(b, c, n);
	wr32(b + part_offset(b, 5) + 4, 200);
	CHECK(inspect(b, n, &info) == RP_CAPI_MALFORMED && strstr(info.reason, "modulus length"),
	      "RSA1 modulus length inconsistent with bits is MALFORMED (%s)", info.reason);

	memcpy(b, c, n);
	b[part_offset(b, 6) + 4] ^= 0xff;
	CHECK(inspect(b, n, &info) == RP_CAPI_MALFORMED && strstr(info.reason, "df9d8cd0"),
	      "bad DPAPI provider GUID is MALFORMED (%s)", info.reason);

	memcpy(b, c, n);
	b[part_offset(b, 9) + 4 + 15] ^= 0x01;
	CHECK(inspect(b, n, &info) == RP_CAPI_MALFORMED && strstr(info.reason, "export-flag"),
	      "bad GUID in the export-flag blob is MALFORMED (%s)", info.reason);

	/* The description length grows by 2: every later field shifts and the end no longer
	 * matches the slot. */
	memcpy(b, c, n);
	size_t desc = part_offset(b, 6) + 4 + 16 + 4 + 16 + 4;
	wr32(b + desc, rd32(b + desc) + 2);
	CHECK(inspect(b, n, &info) == RP_CAPI_MALFORMED && strstr(info.reason, "DPAPI"),
	      "DPAPI internal length off by 2 is MALFORMED (%s)", info.reason);

	memcpy(b, c, n);
	b[40 + 12] = 'X'; /* overwrite the name's NUL */
	CHECK(inspect(b, n, &info) == RP_CAPI_MALFORMED && strstr(info.reason, "NUL"),
	      "name without NUL is MALFORMED (%s)", info.reason);

	memcpy(b, c, n);
	b[41] = 0x07;
	CHECK(inspect(b, n, &info) == RP_CAPI_MALFORMED && strstr(info.reason, "control"),
	      "control character in the name is MALFORMED (%s)", info.reason);

	/* Keep only the header, name, hash and public key; declare no private parts. */
	memcpy(b, c, n);
	size_t pub_end = part_offset(b, 5) + rd32(b + 20);
	wr32(b + 24, 0);
	wr32(b + 36, 0);
	CHECK(inspect(b, pub_end, &info) == RP_CAPI_MALFORMED && strstr(info.reason, "private"),
	      "container without any private key is MALFORMED (%s)", info.reason);

	memcpy(b, c, n);
	wr32(b + 8, 0xffffffffu);
	CHECK(inspect(b, n, &info) == RP_CAPI_UNRECOGNIZED,
	      "implausible name length is UNRECOGNIZED, not broken (%s)", info.reason);

	memcpy(b, c, n);
	wr32(b, 7);
	b[part_offset(b, 5)] = 'X';
	CHECK(inspect(b, n, &info) == RP_CAPI_UNRECOGNIZED,
	      "wrong version and a bad blob is UNRECOGNIZED (%s)", info.reason);
	free(b);
}

static size_t make_cng(uint8_t *b, size_t size, uint32_t version)
{
	static const char name[] = "TSSecKeySet1";
	memset(b, 0, size);
	size_t name_len = 2 * sizeof name;
	wr32(b, version);
	wr32(b + 8, (uint32_t)name_len);
	wr32(b + 12, 1);
	wr32(b + 16, 0x40);
	wr32(b + 20, 0x200);
	wr32(b + 24, 0x600);
	for (size_t i = 0; i < sizeof name; i++)
		b[44 + 2 * i] = (uint8_t)name[i];
	size_t n = 44 + name_len + 0x40 + 0x200 + 0x600;
	for (size_t i = 44 + name_len; i < n && i < size; i++)
		b[i] = (uint8_t)(i * 7 + 1);
	return n < size ? n : size;
}

static void test_cng(void)
{
	uint8_t b[4096];
	rp_capi_info info;
	size_t n = make_cng(b, sizeof b, 1);
	CHECK(inspect(b, n, &info) == RP_CAPI_UNRECOGNIZED && strstr(info.reason, "CNG"),
	      "CNG-shaped key file is UNRECOGNIZED (%s)", info.reason);
	n = make_cng(b, sizeof b, 2);
	CHECK(inspect(b, n, &info) == RP_CAPI_UNRECOGNIZED && strstr(info.reason, "CNG"),
	      "CNG-shaped file with version 2 is still UNRECOGNIZED (%s)", info.reason);
	CHECK(!rp_capi_is_broken(RP_CAPI_UNRECOGNIZED), "UNRECOGNIZED is never broken");
}

/* xorshift: reproducible pseudo-random input. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int valid_info(const rp_capi_info *info)
{
	return info->verdict >= RP_CAPI_OK && info->verdict <= RP_CAPI_UNRECOGNIZED &&
	       info->reason[0] && memchr(info->reason, 0, sizeof info->reason) &&
	       memchr(info->name, 0, sizeof info->name);
}

static void test_random(const uint8_t *c, size_t n)
{
	rp_capi_info info;
	int ok = 1, broken_random = 0;
	uint8_t *b = malloc(n);
	for (int i = 0; i < 20000; i++) {
		size_t len = rng() % 600;
		for (size_t j = 0; j < len; j++)
			b[j] = (uint8_t)rng();
		if (i % 2 && len >= 4)
			wr32(b, 2); /* half the inputs claim version 2 */
		rp_capi_inspect(b, len, &info);
		ok &= valid_info(&info);
		broken_random += i % 2 == 0 && len > 0 && info.verdict == RP_CAPI_MALFORMED;
	}
	CHECK(ok, "20000 random inputs: every verdict valid, reason set");
	CHECK(broken_random == 0, "random bytes without version 2 are never MALFORMED (%d)",
	      broken_random);
	ok = 1;
	for (int i = 0; i < 5000; i++) {
		memcpy(b, c, n);
		int flips = 1 + (int)(rng() % 4);
		for (int k = 0; k < flips; k++)
			b[rng() % n] = (uint8_t)rng();
		rp_capi_inspect(b, (size_t)(rng() % (n + 1)), &info);
		ok &= valid_info(&info);
	}
	CHECK(ok, "5000 mutated and cut containers: every verdict valid");
	free(b);
}

int main(void)
{
	test_names();
	uint8_t *c = NULL;
	size_t n = 0;
	CHECK(rp_capi_build_container("TSSecKeySet1", 2048, &c, &n) == 0 && c && n > 1000,
	      "builder makes a 2048-bit container (%zu bytes)", n);
	uint8_t *bad = NULL;
	size_t bad_len = 0;
	CHECK(rp_capi_build_container("", 2048, &bad, &bad_len) < 0 && !bad,
	      "builder refuses an empty name");
	CHECK(rp_capi_build_container("x", 1001, &bad, &bad_len) < 0 && !bad,
	      "builder refuses a bit length that is not a multiple of 8");
	if (c) {
		test_built(c, n);
		test_damage(c, n);
		test_random(c, n);
	}
	test_cng();
	free(c);
	TEST_DONE();
}
