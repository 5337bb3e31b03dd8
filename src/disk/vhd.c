/*
 * vhd.c — the Microsoft VHD footer (512 bytes, big-endian, cookie "conectix") at the end of a
 * .vhd file.  A fixed VHD is the raw disk followed by the footer, so it is read in place;
 * dynamic and differencing VHDs have block maps rdprescue does not read, and are refused with
 * the command that converts them.
 */
#include "disk/table.h"

#include <string.h>

#define VHD_FIXED 2
#define VHD_DYNAMIC 3
#define VHD_DIFFERENCING 4

int rp_disk_parse_vhd_footer(const uint8_t footer[512], uint64_t file_size, uint64_t *data_size,
			     rp_err *err)
{
	if (file_size < RP_SECTOR || memcmp(footer, "conectix", 8) != 0)
		return 0;
	uint32_t type = rp_be32(footer + 60);
	uint64_t current_size = rp_be64(footer + 48);
	switch (type) {
	case VHD_FIXED:
		break;
	case VHD_DYNAMIC:
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "this is a dynamic VHD; rdprescue reads fixed VHDs and raw images: "
			       "convert it first (qemu-img convert -O raw IN.vhd OUT.img)");
	case VHD_DIFFERENCING:
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "this is a differencing VHD (a snapshot of a parent disk): merge it "
			       "and convert it first (qemu-img convert -O raw IN.vhd OUT.img)");
	default:
		return rp_fail(err, RP_EXIT_UNUSABLE, "the VHD footer has an unknown disk type %u",
			       type);
	}
	uint64_t available = file_size - RP_SECTOR;
	if (current_size > available)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "the VHD is truncated: its footer says %llu bytes of disk but the "
			       "file holds %llu; copy the whole disk again",
			       (unsigned long long)current_size, (unsigned long long)available);
	*data_size = available;
	return 1;
}
