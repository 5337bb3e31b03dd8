/*
 * mbr.c — the DOS/MBR partition table: four primary entries at offset 446 of sector 0.
 *
 * Extended partitions (0x05/0x0F/0x85) are not followed: Windows OS disks do not use them.
 */
#include "disk/table.h"

#include <stdio.h>

#define MBR_ENTRIES 446
#define MBR_PROTECTIVE 0xEE

static int is_extended(uint8_t type)
{
	return type == 0x05 || type == 0x0F || type == 0x85;
}

int rp_mbr_detect(const uint8_t *head, size_t len, int *protective)
{
	*protective = 0;
	if (len < RP_SECTOR || head[510] != 0x55 || head[511] != 0xAA)
		return 0;
	int used = 0;
	for (int i = 0; i < 4; i++) {
		const uint8_t *e = head + MBR_ENTRIES + 16 * i;
		/* The status byte is 0x00 or 0x80 in a partition table; boot sectors of file
		 * systems (NTFS, FAT) carry code there instead. */
		if (e[0] != 0x00 && e[0] != 0x80)
			return 0;
		if (e[4] == MBR_PROTECTIVE)
			*protective = 1;
		if (e[4] != 0)
			used++;
	}
	return used > 0;
}

int rp_mbr_parse(const uint8_t *head, size_t len, rp_disk *disk, rp_err *err)
{
	if (len < RP_SECTOR)
		return rp_fail(err, RP_EXIT_UNUSABLE, "the MBR is cut short");
	snprintf(disk->scheme, sizeof disk->scheme, "mbr");
	for (int i = 0; i < 4; i++) {
		const uint8_t *e = head + MBR_ENTRIES + 16 * i;
		uint8_t type = e[4];
		uint32_t first = rp_le32(e + 8), count = rp_le32(e + 12);
		if (type == 0 || count == 0 || is_extended(type))
			continue;
		if (first == 0)
			return rp_fail(
			    err, RP_EXIT_UNUSABLE,
			    "MBR partition %d starts at sector 0: the partition table is "
			    "damaged",
			    i + 1);
		char name[48];
		snprintf(name, sizeof name, "mbr 0x%02x", type);
		if (rp_disk_add_part(disk, i + 1, first, count, name, head, len, err) < 0)
			return -1;
	}
	return 0;
}
