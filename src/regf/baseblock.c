/*
 * baseblock.c — the primary's base block and the hive-bin chain: checksum with Windows' fixups,
 * field validation, and the clean base block written after a replay or an edit (§3, §8).
 */
#include "regf/regf_internal.h"
#include "util/err.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
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
	uint32_t major = rp_le32(bb + REGF_BB_MAJOR), minor = rp_le32(bb + REGF_BB_MINOR),
		 type = rp_le32(bb + REGF_BB_TYPE);
	uint32_t format = rp_le32(bb + REGF_BB_FORMAT), root = rp_le32(bb + REGF_BB_ROOT),
		 hbins = rp_le32(bb + REGF_BB_HBINS_SIZE);

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
	if (hbins == 0 || hbins % REGF_HBIN_ALIGN != 0) {
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

int regf_hbin_ok(const uint8_t *b, uint64_t pos, uint32_t rel, uint32_t limit, uint64_t len,
		 char *why, size_t whylen)
{
	uint32_t off = rp_le32(b + REGF_HBIN_OFFSET), size = rp_le32(b + REGF_HBIN_SIZE);
	if (memcmp(b, "hbin", 4) != 0) {
		snprintf(why, whylen, "no hbin signature at file offset 0x%llx",
			 (unsigned long long)pos);
		return 0;
	}
	if (off != rel) {
		snprintf(why, whylen,
			 "the hive bin at file offset 0x%llx says it is at 0x%x instead of 0x%x",
			 (unsigned long long)pos, off, rel);
		return 0;
	}
	if (size < REGF_HBIN_ALIGN || size % REGF_HBIN_ALIGN != 0 || size > limit - rel ||
	    pos + size > len) {
		snprintf(why, whylen,
			 "the hive bin at file offset 0x%llx has a bad size 0x%x (the hive bins "
			 "end at 0x%x)",
			 (unsigned long long)pos, size, limit);
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
		if (pos + REGF_HBIN_HEADER > len) {
			snprintf(why, whylen, "the file ends at 0x%zx, inside the hive bins", len);
			break;
		}
		if (!regf_hbin_ok(image + pos, pos, rel, limit, len, why, whylen))
			break;
		rel += rp_le32(image + pos + REGF_HBIN_SIZE);
	}
	*bad_at = rel;
	return rel;
}

void regf_seal_base_block(uint8_t *bb, uint32_t seq, uint32_t hbins_size)
{
	rp_put_le32(bb + REGF_BB_SEQ1, seq);
	rp_put_le32(bb + REGF_BB_SEQ2, seq);
	rp_put_le32(bb + REGF_BB_TYPE, REGF_TYPE_PRIMARY);
	rp_put_le32(bb + REGF_BB_HBINS_SIZE, hbins_size);
	rp_put_le32(bb + REGF_BB_CHECKSUM, rp_regf_checksum(bb));
}

int rp_regf_finalize(uint8_t *image, size_t *image_len, uint32_t seq, rp_err *err)
{
	char why[200];
	uint32_t bad_at;

	if (*image_len < RP_REGF_BASE_BLOCK + REGF_HBIN_ALIGN || memcmp(image, "regf", 4) != 0)
		return rp_fail(
		    err, RP_EXIT_UNUSABLE,
		    "hive image of %zu bytes has no base block and hive bin; it is not a "
		    "registry hive",
		    *image_len);
	size_t room = (*image_len - RP_REGF_BASE_BLOCK) / REGF_HBIN_ALIGN * REGF_HBIN_ALIGN;
	uint32_t limit = room > 0xFFFFF000u ? 0xFFFFF000u : (uint32_t)room;
	uint32_t chain = regf_bin_chain(image, *image_len, limit, &bad_at, why, sizeof why);
	if (chain == 0)
		return rp_fail(err, RP_EXIT_UNUSABLE, "hive image has no valid first hive bin: %s",
			       why);
	regf_seal_base_block(image, seq, chain);
	*image_len = (size_t)RP_REGF_BASE_BLOCK + chain;
	return 0;
}

void rp_regf_describe_base(const uint8_t *p, size_t len, rp_regf_base_info *out)
{
	memset(out, 0, sizeof *out);
	if (len < REGF_LOG_BASE_BLOCK || memcmp(p + REGF_BB_SIGNATURE, "regf", 4) != 0)
		return;
	out->present = 1;
	out->seq1 = rp_le32(p + REGF_BB_SEQ1);
	out->seq2 = rp_le32(p + REGF_BB_SEQ2);
	out->major = rp_le32(p + REGF_BB_MAJOR);
	out->minor = rp_le32(p + REGF_BB_MINOR);
	out->type = rp_le32(p + REGF_BB_TYPE);
	out->hbins_size = rp_le32(p + REGF_BB_HBINS_SIZE);
	out->flags = rp_le32(p + REGF_BB_FLAGS);
	out->root = rp_le32(p + REGF_BB_ROOT);
	out->checksum = rp_le32(p + REGF_BB_CHECKSUM);
	out->checksum_want = rp_regf_checksum(p);
	char *name = rp_utf16_to_utf8(p + REGF_BB_FILE_NAME, REGF_BB_FILE_NAME_LEN);
	snprintf(out->file_name, sizeof out->file_name, "%s", name ? name : "");
	free(name);
}
