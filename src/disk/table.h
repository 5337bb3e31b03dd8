/*
 * table.h — internals shared by the disk/ parsers (not part of the layer's contract).
 */
#ifndef RP_DISK_TABLE_H
#define RP_DISK_TABLE_H

#include "disk/disk.h"

#define RP_SECTOR 512u

/* Little-endian and big-endian field readers; callers check the bounds first. */
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

/* Appends a partition [first_lba, first_lba + sectors) after checking it lies inside the disk.
 * The first sector is classified when it is inside head. */
int rp_disk_add_part(rp_disk *disk, int number, uint64_t first_lba, uint64_t sectors,
		     const char *type, const uint8_t *head, size_t len, rp_err *err);

/* sector 0 is a valid MBR (signature and status bytes); *protective set when it holds 0xEE. */
int rp_mbr_detect(const uint8_t *head, size_t len, int *protective);
int rp_mbr_parse(const uint8_t *head, size_t len, rp_disk *disk, rp_err *err);
int rp_gpt_detect(const uint8_t *head, size_t len);
int rp_gpt_parse(const uint8_t *head, size_t len, rp_disk *disk, rp_err *err);

#endif
