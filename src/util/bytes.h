/*
 * bytes.h — little- and big-endian field readers and writers for the on-disk formats (partition
 * tables, hives, logs, key files, certificate Blobs).  Callers check bounds first.
 */
#ifndef RP_BYTES_H
#define RP_BYTES_H

#include <stdint.h>

static inline uint16_t rp_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t rp_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t rp_le64(const uint8_t *p)
{
	return (uint64_t)rp_le32(p) | (uint64_t)rp_le32(p + 4) << 32;
}

static inline uint32_t rp_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline uint64_t rp_be64(const uint8_t *p)
{
	return (uint64_t)rp_be32(p) << 32 | rp_be32(p + 4);
}

static inline void rp_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

#endif
