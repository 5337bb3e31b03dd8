/*
 * test_fat.c — the FAT backend (src/vol/fat.c) on FAT12 and FAT32 images made by mkfs.vfat and
 * filled by mcopy (independent tools): names (8.3 and long), reads, in-place rewrites that keep,
 * grow and shrink a file (read back with mtype, checked with fsck.vfat -n), the refusals, and
 * damaged volumes (a looping chain, a cluster outside the volume, a size beyond the chain), and
 * a chain longer than its size (what an interrupted growth leaves) read and then repaired.
 */
#include "test.h"
#include "util/bytes.h"
#include "vol/vol.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* IMG with EFI/Microsoft/Boot/BCD (bcd_len bytes of a pattern) and "A long name.txt". */
static int make_image(const char *img, const char *mkfs_opts, int kib, size_t bcd_len)
{
	char pat[256];
	snprintf(pat, sizeof pat, "%s/pattern", dir);
	FILE *f = fopen(pat, "wb");
	if (!f)
		return -1;
	for (size_t i = 0; i < bcd_len; i++)
		fputc((int)(i * 31 % 251), f);
	fclose(f);
	return sh("cd %s && rm -f %s && mkfs.vfat -C %s %s %d >/dev/null && mmd -i %s ::/EFI "
		  "::/EFI/Microsoft ::/EFI/Microsoft/Boot && mcopy -i %s pattern "
		  "::/EFI/Microsoft/Boot/BCD && echo hello >small && mcopy -i %s small '::/A long "
		  "name.txt'",
		  dir, img, mkfs_opts, img, kib, img, img, img);
}

static int names_seen;
static int count_name(void *ctx, const char *name, const rp_stat *st)
{
	(void)st;
	if (!strcmp(name, (const char *)ctx))
		names_seen++;
	return 0;
}

static void round_trip(const char *label, const char *mkfs_opts, int kib)
{
	char img[128];
	snprintf(img, sizeof img, "%s/%s.img", dir, label);
	CHECK(make_image(img, mkfs_opts, kib, 5000) == 0, "%s: image made", label);
	rp_vol *vol = NULL;
	rp_err err = {0};
	CHECK(rp_vol_open_fat(&vol, img, 0, (uint64_t)kib * 1024, 1, &err) == 0, "%s: opened (%s)",
	      label, err.msg);
	if (!vol)
		return;
	CHECK(!strcmp(rp_vol_backend(vol), "fat"), "%s: backend fat", label);
	rp_stat st;
	CHECK(rp_vol_stat(vol, "/efi/MICROSOFT/boot/bcd", &st, &err) == 0 && st.exists &&
		  !st.is_dir && st.size == 5000,
	      "%s: case-insensitive stat, size 5000", label);
	names_seen = 0;
	CHECK(rp_vol_list(vol, "", count_name, "A long name.txt", &err) == 0 && names_seen == 1,
	      "%s: long file name listed", label);
	uint8_t *data = NULL;
	size_t len = 0;
	CHECK(rp_vol_read(vol, "EFI/Microsoft/Boot/BCD", &data, &len, &err) == 0 && len == 5000 &&
		  data[4999] == (uint8_t)(4999 * 31 % 251),
	      "%s: read matches what mcopy wrote", label);
	/* Same size, then grown by 9000 bytes, then back: mtype must agree each time. */
	uint8_t *big = malloc(14000);
	for (size_t i = 0; i < 14000; i++)
		big[i] = (uint8_t)(i * 7 + 3);
	memcpy(big, "regf", 4);
	CHECK(rp_vol_write_file(vol, "EFI/Microsoft/Boot/BCD", big, 5000, NULL, 0, &err) == 0,
	      "%s: same-size rewrite (%s)", label, err.msg);
	CHECK(rp_vol_write_file(vol, "EFI/Microsoft/Boot/BCD", big, 14000, NULL, 0, &err) == 0,
	      "%s: grown rewrite (%s)", label, err.msg);
	CHECK(rp_vol_close(vol, &err) == 0, "%s: closed", label);
	char out[160];
	snprintf(out, sizeof out, "%s/out", dir);
	FILE *g = fopen(out, "wb");
	if (g) {
		fwrite(big, 1, 14000, g);
		fclose(g);
	}
	CHECK(sh("mtype -i %s ::/EFI/Microsoft/Boot/BCD | cmp -s - %s", img, out) == 0,
	      "%s: mtype reads the grown file", label);
	CHECK(sh("fsck.vfat -n %s >/dev/null 2>&1", img) == 0,
	      "%s: fsck.vfat -n clean after growth", label);
	CHECK(rp_vol_open_fat(&vol, img, 0, (uint64_t)kib * 1024, 1, &err) == 0, "%s: reopened",
	      label);
	CHECK(rp_vol_write_file(vol, "EFI/Microsoft/Boot/BCD", data, 5000, NULL, 0, &err) == 0,
	      "%s: shrunk back (%s)", label, err.msg);
	/* Refusals: nothing is created, removed or given an SD. */
	rp_err e2 = {0};
	CHECK(rp_vol_write_file(vol, "EFI/new.txt", data, 10, NULL, 0, &e2) < 0 &&
		  e2.exit_code == RP_EXIT_UNUSABLE && strstr(e2.msg, "nothing was written"),
	      "%s: a new file is refused", label);
	rp_err_clear(&e2);
	CHECK(rp_vol_remove(vol, "A long name.txt", &e2) < 0 && e2.exit_code == RP_EXIT_UNUSABLE,
	      "%s: remove refused", label);
	rp_err_clear(&e2);
	CHECK(rp_vol_mkdirs(vol, "EFI/Other", &e2) < 0, "%s: mkdir refused", label);
	CHECK(rp_vol_close(vol, &err) == 0, "%s: closed again", label);
	snprintf(out, sizeof out, "%s/orig", dir);
	g = fopen(out, "wb");
	if (g) {
		fwrite(data, 1, 5000, g);
		fclose(g);
	}
	CHECK(sh("mtype -i %s ::/EFI/Microsoft/Boot/BCD | cmp -s - %s", img, out) == 0,
	      "%s: mtype reads the original again", label);
	CHECK(sh("fsck.vfat -n %s >/dev/null 2>&1", img) == 0,
	      "%s: fsck.vfat -n clean after shrink", label);
	free(big);
	free(data);
}

/* Patches the FAT12 entry of cluster c in both FATs of a mkfs.vfat image. */
static int set_fat12(const char *img, uint32_t c, uint32_t v)
{
	FILE *f = fopen(img, "r+b");
	if (!f)
		return -1;
	uint8_t bs[512];
	if (fread(bs, 1, 512, f) != 512) {
		fclose(f);
		return -1;
	}
	uint32_t bps = rp_le16(bs + 11), res = rp_le16(bs + 14), fats = bs[16],
		 fsz = rp_le16(bs + 22);
	for (uint32_t k = 0; k < fats; k++) {
		long at = (long)((res + k * fsz) * bps + c * 3 / 2);
		uint8_t b[2];
		fseek(f, at, SEEK_SET);
		if (fread(b, 1, 2, f) != 2)
			break;
		uint16_t w = rp_le16(b);
		w = (c & 1) ? (uint16_t)((w & 0xF) | (v << 4)) : (uint16_t)((w & 0xF000) | v);
		b[0] = (uint8_t)w;
		b[1] = (uint8_t)(w >> 8);
		fseek(f, at, SEEK_SET);
		fwrite(b, 1, 2, f);
	}
	fclose(f);
	return 0;
}

static void damaged(void)
{
	char img[128];
	snprintf(img, sizeof img, "%s/bad.img", dir);
	/* Cluster 2..4: EFI, Microsoft, Boot; the BCD starts at cluster 5 (mkfs.vfat -s 1 order).
	 */
	const uint32_t v[] = {5 /* loops onto itself */, 0xFF0 /* reserved */, 4000 /* outside */};
	const char *what[] = {"a looping chain", "a reserved cluster", "a cluster past the end"};
	for (int i = 0; i < 3; i++) {
		CHECK(make_image(img, "-s 1", 512, 3000) == 0 && set_fat12(img, 5, v[i]) == 0,
		      "damaged image %d made", i);
		rp_vol *vol = NULL;
		rp_err err = {0};
		uint8_t *data = NULL;
		size_t len = 0;
		CHECK(rp_vol_open_fat(&vol, img, 0, 512 * 1024, 0, &err) == 0, "damaged %d opens",
		      i);
		CHECK(vol && rp_vol_read(vol, "EFI/Microsoft/Boot/BCD", &data, &len, &err) < 0 &&
			  err.exit_code == RP_EXIT_UNUSABLE && strstr(err.msg, "damaged"),
		      "%s: read refused as damaged", what[i]);
		free(data);
		rp_vol_close(vol, NULL);
	}
	rp_vol *vol = NULL;
	rp_err err = {0};
	CHECK(sh("head -c 4096 /dev/zero >%s", img) == 0 &&
		  rp_vol_open_fat(&vol, img, 0, 4096, 0, &err) < 0 && !vol &&
		  err.exit_code == RP_EXIT_UNUSABLE,
	      "zeros are not a FAT volume");
}

static void full(void)
{
	char img[128];
	snprintf(img, sizeof img, "%s/full.img", dir);
	rp_vol *vol = NULL;
	rp_err err = {0};
	uint64_t free_bytes = 0;
	CHECK(make_image(img, "-s 1", 512, 3000) == 0 &&
		  rp_vol_open_fat(&vol, img, 0, 512 * 1024, 0, &err) == 0 &&
		  rp_vol_free_space(vol, &free_bytes, &err) == 0 && free_bytes > 0,
	      "free space counted (%llu bytes)", (unsigned long long)free_bytes);
	rp_vol_close(vol, NULL);
	vol = NULL;
	/* A file that takes every free cluster but one. */
	CHECK(sh("cd %s && head -c %llu /dev/zero >fill && mcopy -i %s fill ::/FILL", dir,
		 (unsigned long long)free_bytes - 512, img) == 0,
	      "volume filled with mcopy");
	CHECK(rp_vol_open_fat(&vol, img, 0, 512 * 1024, 1, &err) == 0, "full image opened");
	CHECK(vol && rp_vol_check_replace(vol, "EFI/Microsoft/Boot/BCD", 3000 + 512, &err) == 0,
	      "growth into the last free cluster is possible");
	CHECK(vol &&
		  rp_vol_check_replace(vol, "EFI/Microsoft/Boot/BCD", 3000 + 1024 + 512, &err) <
		      0 &&
		  strstr(err.msg, "free clusters") && strstr(err.msg, "nothing was written"),
	      "growth beyond the free space is refused before writing");
	rp_vol_close(vol, NULL);
}

/* Sets the size field of the directory entry with 8.3 name name11 (first match). */
static int set_size(const char *img, const char *name11, uint32_t size)
{
	FILE *f = fopen(img, "r+b");
	if (!f)
		return -1;
	static uint8_t buf[512 * 1024];
	size_t n = fread(buf, 1, sizeof buf, f);
	int rc = -1;
	for (size_t off = 0; off + 32 <= n; off += 32) {
		if (memcmp(buf + off, name11, 11) == 0 && !(buf[off + 11] & 0x18)) {
			rp_put_le32(buf + off + 28, size);
			fseek(f, (long)(off + 28), SEEK_SET);
			rc = fwrite(buf + off + 28, 1, 4, f) == 4 ? 0 : -1;
			break;
		}
	}
	fclose(f);
	return rc;
}

static void longer_chain(void)
{
	char img[128];
	snprintf(img, sizeof img, "%s/long.img", dir);
	CHECK(make_image(img, "-s 1", 512, 3000) == 0 && set_size(img, "BCD        ", 1000) == 0,
	      "image whose BCD chain (6 clusters) is longer than its size (1000)");
	CHECK(sh("fsck.vfat -n %s >/dev/null 2>&1", img) != 0,
	      "fsck.vfat -n sees the mismatch before the repair");
	rp_vol *vol = NULL;
	rp_err err = {0};
	uint8_t *data = NULL;
	size_t len = 0;
	CHECK(rp_vol_open_fat(&vol, img, 0, 512 * 1024, 1, &err) == 0 &&
		  rp_vol_read(vol, "EFI/Microsoft/Boot/BCD", &data, &len, &err) == 0 &&
		  len == 1000 && data[999] == (uint8_t)(999 * 31 % 251),
	      "read: the size decides (%s)", err.msg);
	CHECK(vol &&
		  rp_vol_write_file(vol, "EFI/Microsoft/Boot/BCD", data, len, NULL, 0, &err) == 0,
	      "rewritten at 1000 bytes: the whole chain is known (%s)", err.msg);
	rp_vol_close(vol, NULL);
	CHECK(sh("fsck.vfat -n %s >/dev/null 2>&1", img) == 0,
	      "fsck.vfat -n clean: the chain was cut to the size");
	free(data);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_fat.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	round_trip("fat12", "-s 1", 512);
	round_trip("fat32", "-F 32 -s 1 -S 512", 40 * 1024);
	damaged();
	longer_chain();
	full();
	sh("rm -rf %s", dir);
	TEST_DONE();
}
