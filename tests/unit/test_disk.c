/*
 * test_disk.c — disk/: partition tables, VHD footers and refusals on images built with
 * tests/lib/mkdisk.sh (sfdisk + mkntfs) and qemu-img, plus hand-made bad tables in memory.
 */
#include "disk/disk.h"
#include "test.h"

#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char dir[] = "/tmp/rp-test-disk-XXXXXX";

/* Runs a shell command in the temp dir with mkdisk.sh loaded; 0 on success. */
#include "disk_fixture.h"

static void check_two_ntfs(const rp_disk *d, const char *what, const char *scheme)
{
	CHECK(!strcmp(d->scheme, scheme), "%s: scheme %s (got %s)", what, scheme, d->scheme);
	CHECK(d->nparts == 2, "%s: two partitions (got %zu)", what, d->nparts);
	if (d->nparts != 2)
		return;
	CHECK(d->parts[0].fs == RP_FS_NTFS && d->parts[1].fs == RP_FS_NTFS,
	      "%s: both partitions classified NTFS", what);
	CHECK(d->parts[0].number == 1 && d->parts[1].number == 2, "%s: numbered 1 and 2", what);
	CHECK(d->parts[0].offset == 2048 * 512ull && d->parts[0].size == 16ull << 20,
	      "%s: partition 1 at 1 MiB, 16 MiB long", what);
	CHECK(d->parts[1].offset == 34816 * 512ull, "%s: partition 2 at sector 34816", what);
}

static void test_images(void)
{
	rp_disk d;
	rp_err err = {0};

	CHECK(sh("mkdisk gpt.img gpt 64") == 0, "mkdisk gpt");
	CHECK(rp_disk_probe(&d, in_dir("gpt.img"), &err) == 0, "probe GPT image: %s", err.msg);
	check_two_ntfs(&d, "gpt", "gpt");
	CHECK(!strcmp(d.format, "raw") && d.size == 64ull << 20, "gpt: raw, 64 MiB");
	CHECK(d.nparts == 2 && !strcmp(d.parts[1].type, "gpt basic data") &&
		  !strcmp(d.parts[1].name, "Windows"),
	      "gpt: partition 2 is basic data named Windows");
	rp_disk_free(&d);

	CHECK(sh("mkdisk mbr.img mbr 64") == 0, "mkdisk mbr");
	rp_err_clear(&err);
	CHECK(rp_disk_probe(&d, in_dir("mbr.img"), &err) == 0, "probe MBR image: %s", err.msg);
	check_two_ntfs(&d, "mbr", "mbr");
	CHECK(d.nparts == 2 && !strcmp(d.parts[1].type, "mbr 0x07"), "mbr: type 0x07");
	rp_disk_free(&d);

	CHECK(sh("qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on gpt.img "
		 "fixed.vhd") == 0,
	      "qemu-img makes a fixed VHD");
	rp_err_clear(&err);
	CHECK(rp_disk_probe(&d, in_dir("fixed.vhd"), &err) == 0, "probe fixed VHD: %s", err.msg);
	check_two_ntfs(&d, "vhd", "gpt");
	CHECK(!strcmp(d.format, "vhd") && d.size == 64ull << 20,
	      "vhd: format vhd, footer excluded from the size (%llu)", (unsigned long long)d.size);
	rp_disk_free(&d);

	CHECK(sh("qemu-img convert -f raw -O vpc gpt.img dynamic.vhd") == 0,
	      "qemu-img makes a dynamic VHD");
	rp_err_clear(&err);
	CHECK(rp_disk_probe(&d, in_dir("dynamic.vhd"), &err) < 0 &&
		  err.exit_code == RP_EXIT_UNUSABLE && strstr(err.msg, "dynamic VHD"),
	      "dynamic VHD refused: %s", err.msg);

	CHECK(sh("mkdisk_bare bare.img 20") == 0, "mkdisk_bare");
	rp_err_clear(&err);
	CHECK(rp_disk_probe(&d, in_dir("bare.img"), &err) == 0, "probe bare image: %s", err.msg);
	CHECK(!strcmp(d.scheme, "none") && d.nparts == 1 && d.parts[0].number == 0 &&
		  d.parts[0].fs == RP_FS_NTFS && d.parts[0].size == 20ull << 20,
	      "bare: one NTFS volume, number 0, whole image");
	rp_disk_free(&d);

	CHECK(sh("cp gpt.img trunc.img && truncate -s 40M trunc.img") == 0, "truncated copy");
	rp_err_clear(&err);
	CHECK(rp_disk_probe(&d, in_dir("trunc.img"), &err) < 0 &&
		  err.exit_code == RP_EXIT_UNUSABLE &&
		  strstr(err.msg, "the image is truncated: partition 2 ends at") &&
		  strstr(err.msg, "copy the whole disk again"),
	      "truncated image refused: %s", err.msg);

	CHECK(sh("head -c 10485760 /dev/urandom > random.img") == 0, "10 MB of random bytes");
	rp_err_clear(&err);
	CHECK(rp_disk_probe(&d, in_dir("random.img"), &err) < 0 &&
		  err.exit_code == RP_EXIT_UNUSABLE && strstr(err.msg, "not a disk image"),
	      "random bytes refused: %s", err.msg);

	CHECK(sh("head -c 1000 /dev/zero > tiny.img") == 0, "tiny file");
	rp_err_clear(&err);
	CHECK(rp_disk_probe(&d, in_dir("tiny.img"), &err) < 0 &&
		  err.exit_code == RP_EXIT_UNUSABLE && strstr(err.msg, "too small"),
	      "tiny file refused: %s", err.msg);

	rp_err_clear(&err);
	CHECK(rp_disk_probe(&d, in_dir("missing.img"), &err) < 0 &&
		  err.exit_code == RP_EXIT_UNUSABLE && strstr(err.msg, "No such file"),
	      "missing path refused: %s", err.msg);
	rp_err_clear(&err);
	CHECK(rp_disk_probe(&d, dir, &err) < 0 && err.exit_code == RP_EXIT_USAGE &&
		  strstr(err.msg, "is a directory"),
	      "directory refused with a usage error: %s", err.msg);
	rp_err_clear(&err);
	CHECK(rp_disk_probe(&d, "/dev/null", &err) < 0 && err.exit_code == RP_EXIT_USAGE,
	      "character device refused: %s", err.msg);

	/* BitLocker: the OEM id of partition 2 becomes -FVE-FS-. */
	CHECK(sh("cp gpt.img bl.img && printf -- '-FVE-FS-' | dd of=bl.img bs=1 seek=$((34816 * "
		 "512 + 3)) conv=notrunc status=none") == 0,
	      "BitLocker signature planted");
	rp_err_clear(&err);
	CHECK(rp_disk_probe(&d, in_dir("bl.img"), &err) == 0 && d.nparts == 2 &&
		  d.parts[1].fs == RP_FS_BITLOCKER && d.parts[0].fs == RP_FS_NTFS,
	      "BitLocker partition classified: %s", err.msg);
	rp_disk_free(&d);
}

/* A protective MBR + GPT header + entry array, CRCs right, in memory. */
static void make_gpt(uint8_t *buf, size_t len, uint32_t count, uint32_t entry_size, uint64_t first,
		     uint64_t last)
{
	memset(buf, 0, len);
	buf[446 + 4] = 0xEE;
	buf[446 + 8] = 1;
	buf[510] = 0x55;
	buf[511] = 0xAA;
	uint8_t *h = buf + 512;
	memcpy(h, "EFI PART", 8);
	h[12] = 92;
	h[72] = 2; /* entries at LBA 2 */
	memcpy(h + 80, &count, 4);
	memcpy(h + 84, &entry_size, 4);
	uint8_t *e = buf + 1024;
	static const uint8_t basic[16] = {0xA2, 0xA0, 0xD0, 0xEB, 0xE5, 0xB9, 0x33, 0x44,
					  0x87, 0xC0, 0x68, 0xB6, 0xB7, 0x26, 0x99, 0xC7};
	if (count && entry_size >= 128 && 1024 + (size_t)entry_size <= len) {
		memcpy(e, basic, 16);
		memcpy(e + 32, &first, 8);
		memcpy(e + 40, &last, 8);
	}
	size_t arr = (size_t)count * entry_size;
	uint32_t crc = arr <= len - 1024 ? (uint32_t)crc32(0, e, (uInt)arr) : 0;
	memcpy(h + 88, &crc, 4);
	uint32_t hcrc = (uint32_t)crc32(0, h, 92);
	memcpy(h + 16, &hcrc, 4);
}

static void test_parsers(void)
{
	static uint8_t buf[34 * 512];
	rp_disk d;
	rp_err err = {0};

	make_gpt(buf, sizeof buf, 128, 128, 2048, 4095);
	memset(&d, 0, sizeof d);
	CHECK(rp_disk_parse(buf, sizeof buf, 8ull << 20, &d, &err) == 0 && d.nparts == 1 &&
		  d.parts[0].offset == 2048 * 512ull && d.parts[0].size == 2048 * 512ull,
	      "hand-made GPT parses: %s", err.msg);
	rp_disk_free(&d);

	make_gpt(buf, sizeof buf, 128, 128, 2048, 4095);
	buf[1024 + 40] ^= 1; /* entry changed, CRC not */
	rp_err_clear(&err);
	memset(&d, 0, sizeof d);
	CHECK(rp_disk_parse(buf, sizeof buf, 8ull << 20, &d, &err) < 0 &&
		  strstr(err.msg, "checksum"),
	      "GPT entry CRC mismatch refused: %s", err.msg);
	rp_disk_free(&d);

	make_gpt(buf, sizeof buf, 1000000, 128, 2048, 4095);
	rp_err_clear(&err);
	memset(&d, 0, sizeof d);
	CHECK(rp_disk_parse(buf, sizeof buf, 8ull << 20, &d, &err) < 0 &&
		  err.exit_code == RP_EXIT_UNUSABLE,
	      "GPT with a million entries refused: %s", err.msg);
	rp_disk_free(&d);

	make_gpt(buf, sizeof buf, 4, 64, 2048, 4095);
	rp_err_clear(&err);
	memset(&d, 0, sizeof d);
	CHECK(rp_disk_parse(buf, sizeof buf, 8ull << 20, &d, &err) < 0,
	      "GPT entry size 64 refused: %s", err.msg);
	rp_disk_free(&d);

	make_gpt(buf, sizeof buf, 128, 128, 2048, UINT64_MAX - 1);
	rp_err_clear(&err);
	memset(&d, 0, sizeof d);
	CHECK(rp_disk_parse(buf, sizeof buf, 8ull << 20, &d, &err) < 0 &&
		  err.exit_code == RP_EXIT_UNUSABLE,
	      "GPT partition ending at LBA 2^64 refused: %s", err.msg);
	rp_disk_free(&d);

	/* MBR entry 1 past the end of an 8 MiB disk. */
	memset(buf, 0, sizeof buf);
	buf[510] = 0x55;
	buf[511] = 0xAA;
	uint8_t *e = buf + 446;
	e[4] = 0x07;
	uint32_t first = 2048, count = 0xFFFFFFFF;
	memcpy(e + 8, &first, 4);
	memcpy(e + 12, &count, 4);
	rp_err_clear(&err);
	memset(&d, 0, sizeof d);
	CHECK(rp_disk_parse(buf, sizeof buf, 8ull << 20, &d, &err) < 0 &&
		  strstr(err.msg, "partition 1 ends at"),
	      "MBR partition past the end refused: %s", err.msg);
	rp_disk_free(&d);

	uint8_t sector[512] = {0xEB, 0x52, 0x90};
	memcpy(sector + 3, "NTFS    ", 8);
	CHECK(rp_disk_classify(sector, sizeof sector) == RP_FS_NTFS, "classify NTFS");
	memcpy(sector + 3, "-FVE-FS-", 8);
	CHECK(rp_disk_classify(sector, sizeof sector) == RP_FS_BITLOCKER, "classify BitLocker");
	memcpy(sector + 3, "MSWIN4.1", 8);
	CHECK(rp_disk_classify(sector, sizeof sector) == RP_FS_FAT, "classify FAT");
	CHECK(rp_disk_classify(sector, 5) == RP_FS_UNKNOWN, "classify a 5-byte buffer: unknown");

	uint8_t footer[512] = {0};
	uint64_t data_size = 0;
	memcpy(footer, "conectix", 8);
	footer[63] = 3;
	rp_err_clear(&err);
	CHECK(rp_disk_parse_vhd_footer(footer, 1 << 20, &data_size, &err) < 0 &&
		  strstr(err.msg, "dynamic"),
	      "dynamic footer refused: %s", err.msg);
	footer[63] = 4;
	rp_err_clear(&err);
	CHECK(rp_disk_parse_vhd_footer(footer, 1 << 20, &data_size, &err) < 0 &&
		  strstr(err.msg, "differencing"),
	      "differencing footer refused: %s", err.msg);
	footer[63] = 2;
	footer[48 + 5] = 0x20; /* current size 2 MiB in a 1 MiB file */
	rp_err_clear(&err);
	CHECK(rp_disk_parse_vhd_footer(footer, 1 << 20, &data_size, &err) < 0 &&
		  strstr(err.msg, "truncated"),
	      "fixed VHD larger than its file refused: %s", err.msg);
	memset(footer, 0, 8);
	CHECK(rp_disk_parse_vhd_footer(footer, 1 << 20, &data_size, &err) == 0,
	      "no cookie: not a VHD");
}

int main(void)
{
	if (fixture_begin() < 0)
		return 1;
	test_parsers();
	test_images();
	fixture_end();
	TEST_DONE();
}
