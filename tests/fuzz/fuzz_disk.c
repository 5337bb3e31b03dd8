/*
 * fuzz_disk.c — libFuzzer harness for the disk/ parsers: the input is the start of a disk (MBR,
 * GPT header and entries), its last 512 bytes double as a VHD footer, and its first sector is
 * classified.  The disk size comes from the first 8 bytes so partitions can end anywhere.
 */
#include "disk/disk.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t disk_size = size;
	if (size >= 8) {
		memcpy(&disk_size, data, 8);
		disk_size %= (uint64_t)1 << 50;
	}
	rp_disk disk;
	memset(&disk, 0, sizeof disk);
	rp_err err = {0};
	if (rp_disk_parse(data, size, disk_size, &disk, &err) == 0) {
		for (size_t i = 0; i < disk.nparts; i++)
			if (disk.parts[i].offset + disk.parts[i].size > disk.size)
				__builtin_trap();
	}
	rp_disk_free(&disk);

	if (size >= 512) {
		uint64_t data_size = 0;
		rp_err_clear(&err);
		if (rp_disk_parse_vhd_footer(data + size - 512, disk_size, &data_size, &err) == 1 &&
		    data_size > disk_size)
			__builtin_trap();
	}
	rp_disk_classify(data, size);
	return 0;
}
