/*
 * table.h — internals shared by the disk/ parsers (not part of the layer's contract).
 */
#ifndef RP_DISK_TABLE_H
#define RP_DISK_TABLE_H

#include "disk/disk.h"
#include "util/bytes.h"

#define RP_SECTOR 512u

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
