/*
 * gpt.c — the GUID partition table (512-byte LBAs): header at LBA 1, entry array where the
 * header says.  Header and entry-array CRC32s are checked (zlib's crc32 is the GPT one); every
 * count, size and offset is bounded before use.
 */
#include "disk/table.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define GPT_MAX_ENTRIES 1024
#define GPT_MAX_ENTRY_SIZE 4096

static const struct {
	uint8_t guid[16];
	const char *name;
} gpt_types[] = {
    {{0xA2, 0xA0, 0xD0, 0xEB, 0xE5, 0xB9, 0x33, 0x44, 0x87, 0xC0, 0x68, 0xB6, 0xB7, 0x26, 0x99,
      0xC7},
     "gpt basic data"},
    {{0xA4, 0xBB, 0x94, 0xDE, 0xD1, 0x06, 0x40, 0x4D, 0xA1, 0x6A, 0xBF, 0xD5, 0x01, 0x79, 0xD6,
      0xAC},
     "gpt winre"},
    {{0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9,
      0x3B},
     "gpt efi system"},
    {{0x16, 0xE3, 0xC9, 0xE3, 0x5C, 0x0B, 0xB8, 0x4D, 0x81, 0x7D, 0xF9, 0x2D, 0xF0, 0x02, 0x15,
      0xAE},
     "gpt microsoft reserved"},
};

int rp_gpt_detect(const uint8_t *head, size_t len)
{
	return len >= 2 * RP_SECTOR && memcmp(head + RP_SECTOR, "EFI PART", 8) == 0;
}

static void type_name(const uint8_t *guid, char *out, size_t size)
{
	for (size_t i = 0; i < sizeof gpt_types / sizeof gpt_types[0]; i++) {
		if (memcmp(guid, gpt_types[i].guid, 16) == 0) {
			snprintf(out, size, "%s", gpt_types[i].name);
			return;
		}
	}
	char hex[33];
	rp_hex(guid, 16, hex);
	snprintf(out, size, "gpt %s", hex);
}

int rp_gpt_parse(const uint8_t *head, size_t len, rp_disk *disk, rp_err *err)
{
	if (!rp_gpt_detect(head, len))
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "the disk has a protective MBR but no GPT header at sector 1");
	const uint8_t *h = head + RP_SECTOR;
	uint32_t header_size = rp_le32(h + 12);
	if (header_size < 92 || header_size > RP_SECTOR)
		return rp_fail(err, RP_EXIT_UNUSABLE, "the GPT header size %u is invalid",
			       header_size);
	uint8_t copy[RP_SECTOR];
	memcpy(copy, h, header_size);
	memset(copy + 16, 0, 4);
	if (crc32(0, copy, header_size) != rp_le32(h + 16))
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "the GPT header checksum is wrong: the partition table is damaged");

	uint64_t entries_lba = rp_le64(h + 72);
	uint32_t count = rp_le32(h + 80), entry_size = rp_le32(h + 84);
	if (count > GPT_MAX_ENTRIES || entry_size < 128 || entry_size > GPT_MAX_ENTRY_SIZE ||
	    entry_size % 8)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "the GPT header is invalid (%u entries of %u bytes)", count,
			       entry_size);
	uint64_t array_len = (uint64_t)count * entry_size; /* at most 4 MiB: no overflow */
	if (entries_lba < 2 || entries_lba > len / RP_SECTOR ||
	    array_len > len - entries_lba * RP_SECTOR)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "the GPT entries (LBA %llu, %llu bytes) lie outside the first %zu "
			       "bytes of the disk",
			       (unsigned long long)entries_lba, (unsigned long long)array_len, len);
	const uint8_t *array = head + entries_lba * RP_SECTOR;
	if (crc32(0, array, (uInt)array_len) != rp_le32(h + 88))
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "the GPT entry checksum is wrong: the partition table is damaged");

	snprintf(disk->scheme, sizeof disk->scheme, "gpt");
	static const uint8_t zero[16];
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = array + (size_t)i * entry_size;
		if (memcmp(e, zero, 16) == 0)
			continue;
		uint64_t first = rp_le64(e + 32), last = rp_le64(e + 40);
		if (first == 0 || last < first)
			return rp_fail(err, RP_EXIT_UNUSABLE,
				       "GPT partition %u has an invalid range (LBA %llu to %llu)",
				       i + 1, (unsigned long long)first, (unsigned long long)last);
		char type[48];
		type_name(e, type, sizeof type);
		if (rp_disk_add_part(disk, (int)i + 1, first, last - first + 1, type, head, len,
				     err) < 0)
			return -1;
		char *name = rp_utf16_to_utf8(e + 56, 72);
		rp_part *p = &disk->parts[disk->nparts - 1];
		snprintf(p->name, sizeof p->name, "%s", name);
		free(name);
	}
	return 0;
}
