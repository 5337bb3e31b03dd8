/*
 * baseblock.c — the primary's base block and the hive-bin chain: checksum with Windows' fixups,
 * field validation, and the clean base block written after a replay or an edit (§3, §8).
 */
#include "regf/regf_internal.h"
#include "util/err.h"

#include <stdio.h>
#include <string.h>

uint32_t rp_regf_checksum(const uint8_t *base_block)
{
	uint32_t x = 0;
	for (size_t off = 0; off < 508; off += 4)
		x ^= rp_le32(base_block + off);
	if (x == 0xFFFFFFFFu)
		return 0xFFFFFFFEu;
	if (x == 0)
		return 1;
	return x;
}

int regf_base_fields_ok(const uint8_t *bb, char *why, size_t whylen)
{
	uint32_t major = rp_le32(bb + 20), minor = rp_le32(bb + 24), type = rp_le32(bb + 28);
	uint32_t format = rp_le32(bb + 32), root = rp_le32(bb + 36), hbins = rp_le32(bb + 40);

	if (major != 1 || minor < 3 || minor > 6) {
		snprintf(why, whylen,
			 "format version %u.%u is not supported (1.3 to 1.6 are; 1.1 and 1.2 are "
			 "NT 3.x hives)",
			 major, minor);
		return 0;
	}
	if (type != REGF_TYPE_PRIMARY) {
		snprintf(why, whylen, "file type %u is not a primary hive (0)", type);
		return 0;
	}
	if (format != 1) {
		snprintf(why, whylen, "file format %u is not 1 (direct memory load)", format);
		return 0;
	}
	if (hbins == 0 || hbins % 4096 != 0) {
		snprintf(why, whylen, "hive-bins size 0x%x is not a non-zero multiple of 4096",
			 hbins);
		return 0;
	}
	if (root >= hbins || root % 8 != 0) {
		snprintf(why, whylen, "root cell offset 0x%x is outside the hive bins (0x%x)", root,
			 hbins);
		return 0;
	}
	return 1;
}

uint32_t regf_bin_chain(const uint8_t *image, size_t len, uint32_t limit, uint32_t *bad_at,
			char *why, size_t whylen)
{
	uint32_t rel = 0;
	why[0] = 0;
	while (rel < limit) {
		size_t pos = (size_t)RP_REGF_BASE_BLOCK + rel;
		if (pos + 32 > len) {
			snprintf(why, whylen, "the file ends at 0x%zx, inside the hive bins", len);
			break;
		}
		const uint8_t *b = image + pos;
		uint32_t off = rp_le32(b + 4), size = rp_le32(b + 8);
		if (memcmp(b, "hbin", 4) != 0) {
			snprintf(why, whylen, "no hbin signature at file offset 0x%zx", pos);
			break;
		}
		if (off != rel) {
			snprintf(
			    why, whylen,
			    "the hive bin at file offset 0x%zx says it is at 0x%x instead of 0x%x",
			    pos, off, rel);
			break;
		}
		if (size < 4096 || size % 4096 != 0 || size > limit - rel || pos + size > len) {
			snprintf(
			    why, whylen,
			    "the hive bin at file offset 0x%zx has a bad size 0x%x (the hive bins "
			    "end at 0x%x)",
			    pos, size, limit);
			break;
		}
		rel += size;
	}
	*bad_at = rel;
	return rel;
}

void regf_seal_base_block(uint8_t *bb, uint32_t seq, uint32_t hbins_size)
{
	rp_put_le32(bb + 4, seq);
	rp_put_le32(bb + 8, seq);
	rp_put_le32(bb + 28, REGF_TYPE_PRIMARY);
	rp_put_le32(bb + 40, hbins_size);
	rp_put_le32(bb + 508, rp_regf_checksum(bb));
}

int rp_regf_finalize(uint8_t *image, size_t *image_len, uint32_t seq, rp_err *err)
{
	char why[200];
	uint32_t bad_at;

	if (*image_len < RP_REGF_BASE_BLOCK + 4096 || memcmp(image, "regf", 4) != 0)
		return rp_fail(
		    err, RP_EXIT_UNUSABLE,
		    "hive image of %zu bytes has no base block and hive bin; it is not a "
		    "registry hive",
		    *image_len);
	size_t room = (*image_len - RP_REGF_BASE_BLOCK) / 4096 * 4096;
	uint32_t limit = room > 0xFFFFF000u ? 0xFFFFF000u : (uint32_t)room;
	uint32_t chain = regf_bin_chain(image, *image_len, limit, &bad_at, why, sizeof why);
	if (chain == 0)
		return rp_fail(err, RP_EXIT_UNUSABLE, "hive image has no valid first hive bin: %s",
			       why);
	regf_seal_base_block(image, seq, chain);
	*image_len = (size_t)RP_REGF_BASE_BLOCK + chain;
	return 0;
}
