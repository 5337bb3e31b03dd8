/*
 * part.c — one partition of a disk: its range checked against the disk, and what its first
 * sector says it holds (NTFS, BitLocker, FAT).  Used by every partition-table parser.
 */
#include "disk/table.h"
#include "util/text.h"

#include <stdio.h>
#include <string.h>

rp_fs rp_disk_classify(const uint8_t *sector, size_t len)
{
	if (len < 11)
		return RP_FS_UNKNOWN;
	if (memcmp(sector + 3, "NTFS    ", 8) == 0)
		return RP_FS_NTFS;
	if (memcmp(sector + 3, "-FVE-FS-", 8) == 0)
		return RP_FS_BITLOCKER;
	if (memcmp(sector + 3, "MSWIN4.1", 8) == 0 || memcmp(sector + 3, "MSDOS5.0", 8) == 0 ||
	    memcmp(sector + 3, "mkfs.fat", 8) == 0)
		return RP_FS_FAT;
	if (len >= 0x5A && memcmp(sector + 0x52, "FAT32   ", 8) == 0)
		return RP_FS_FAT;
	if (len >= 0x3E && memcmp(sector + 0x36, "FAT1", 4) == 0)
		return RP_FS_FAT;
	return RP_FS_UNKNOWN;
}

int rp_disk_add_part(rp_disk *disk, int number, uint64_t first_lba, uint64_t sectors,
		     const char *type, const uint8_t *head, size_t len, rp_err *err)
{
	/* LBAs beyond 2^54 cannot be real and would overflow the byte arithmetic. */
	const uint64_t lba_limit = (uint64_t)1 << 54;
	if (first_lba >= lba_limit || sectors >= lba_limit)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "partition %d has an impossible range (LBA %llu, %llu sectors)",
			       number, (unsigned long long)first_lba, (unsigned long long)sectors);
	uint64_t offset = first_lba * RP_SECTOR, size = sectors * RP_SECTOR;
	if (offset + size > disk->size)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "the image is truncated: partition %d ends at %llu but the disk has "
			       "%llu bytes; copy the whole disk again",
			       number, (unsigned long long)(offset + size),
			       (unsigned long long)disk->size);
	if (disk->nparts >= 4096)
		return rp_fail(err, RP_EXIT_UNUSABLE, "too many partitions");
	disk->parts = rp_xrealloc(disk->parts, (disk->nparts + 1) * sizeof *disk->parts);
	rp_part *p = &disk->parts[disk->nparts++];
	memset(p, 0, sizeof *p);
	p->number = number;
	p->offset = offset;
	p->size = size;
	snprintf(p->type, sizeof p->type, "%s", type);
	if (offset < len)
		p->fs = rp_disk_classify(head + offset, len - offset);
	return 0;
}
