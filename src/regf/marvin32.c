/*
 * marvin32.c — Microsoft's Marvin32 hash with the registry's seed, which protects the two hashes
 * of every HvLE log entry (hive-format.md §6.3).
 */
#include "regf/regf_internal.h"

#define MARVIN32_SEED 0x82EF4D887A4E55C5ull

static inline uint32_t rotl32(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static inline void marvin_mix(uint32_t *lo, uint32_t *hi, uint32_t w)
{
	*lo += w;
	*hi ^= *lo;
	*lo = rotl32(*lo, 20) + *hi;
	*hi = rotl32(*hi, 9) ^ *lo;
	*lo = rotl32(*lo, 27) + *hi;
	*hi = rotl32(*hi, 19);
}

uint64_t rp_regf_marvin32(const uint8_t *data, size_t len)
{
	uint32_t lo = (uint32_t)MARVIN32_SEED, hi = (uint32_t)(MARVIN32_SEED >> 32);
	size_t i = 0;

	for (; len - i >= 4; i += 4)
		marvin_mix(&lo, &hi, rp_le32(data + i));

	/* The tail (0-3 bytes) sits below a 0x80 marker byte. */
	uint32_t final = 0x80;
	for (size_t k = len - i; k > 0; k--)
		final = (final << 8) | data[i + k - 1];
	marvin_mix(&lo, &hi, final);
	marvin_mix(&lo, &hi, 0);
	return (uint64_t)hi << 32 | lo;
}
