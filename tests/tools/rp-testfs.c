/*
 * rp-testfs — populates and inspects NTFS test images through rdprescue's own vol/ layer
 * (used by the scenario tests to build fixtures; not installed).
 *
 *   rp-testfs IMG[@PARTNO] put LOCALFILE VOLPATH   mkdirs the parents, then write_file
 *   rp-testfs IMG[@PARTNO] mkdir VOLPATH
 *   rp-testfs IMG[@PARTNO] cat VOLPATH             file to stdout
 *   rp-testfs IMG[@PARTNO] ls VOLPATH              one "d|f|r name" line per entry
 *   rp-testfs IMG[@PARTNO] setsd VOLPATH SDFILE    binary self-relative SD
 *   rp-testfs IMG[@PARTNO] getsd VOLPATH           binary SD to stdout
 *   rp-testfs IMG[@PARTNO] rm VOLPATH
 *   rp-testfs IMG[@PARTNO] hiberfil                /hiberfil.sys (8 KiB, "HIBR"): a hibernated
 * volume
 *   rp-testfs IMG[@PARTNO] setsddl VOLPATH SDDL    SD built from SDDL by sd/, set through vol/
 *   rp-testfs IMG[@PARTNO] getsddl VOLPATH         the SD as SDDL (sd/) on stdout
 *   rp-testfs IMG[@PARTNO] mkkey VOLPATH CONTAINER a well-formed synthetic CAPI key container
 *                                                  (capi/, 2048 bits; cannot be decrypted)
 * Bare NTFS images only (the volume starts at byte 0), straight through libntfs-3g:
 *   rp-testfs IMG junction VOLPATH TARGETVOLPATH   makes the existing empty directory VOLPATH a
 *                                                  junction (mount point reparse point, tag
 *                                                  0xA0000003) to C:\TARGETVOLPATH
 *   rp-testfs IMG dirty                            sets VOLUME_IS_DIRTY in $Volume, as Windows
 *                                                  does when it wants chkdsk
 *   rp-testfs IMG dangle VOLPATH                   frees the file record of VOLPATH and leaves its
 *                                                  directory entry: a name with no file behind
 *                                                  it, as an older rdprescue killed while creating
 *                                                  its temporary file left
 *   rp-testfs IMG manykeys VOLDIR COUNT BROKEN_EVERY  COUNT key files in one mount (benchmarks):
 *                                                  one synthetic container's bytes each, and
 *                                                  every BROKEN_EVERY-th file zero-filled
 *
 * Any image or block device:
 *   rp-testfs DEV[@PARTNO] journal CHANGED         the blocks of the partition in which CHANGED
 *                                                  (an image of the same layout) differs from
 *                                                  DEV, as the complete redo journal a commit
 *                                                  killed while writing in place leaves, where
 *                                                  rdprescue looks for DEV's ($RP_JOURNAL_DIR
 *                                                  for a block device; each block with the
 *                                                  SHA-256 of what DEV holds there: the
 *                                                  stale-journal guard); prints its path
 *
 * PARTNO: partition number; default the last NTFS partition; 0 = a bare NTFS image.
 * Exit 0 on success, otherwise one line on stderr and the rp_exit code.
 */
#include "capi/capi.h"
#include "disk/disk.h"
#include "sd/sd.h"
#include "util/file.h"
#include "util/text.h"
#include "vol/ntfs_internal.h"
#include "vol/vol.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/reparse.h>
#include <ntfs-3g/unistr.h>
#include <ntfs-3g/volume.h>

static int usage(void)
{
	fprintf(
	    stderr,
	    "usage: rp-testfs IMG[@PARTNO] put LOCAL VOLPATH | mkdir VOLPATH | cat "
	    "VOLPATH | ls VOLPATH | setsd VOLPATH SDFILE | getsd VOLPATH | rm VOLPATH | "
	    "hiberfil | setsddl VOLPATH SDDL | getsddl VOLPATH | mkkey VOLPATH CONTAINER\n"
	    "       rp-testfs BARE-IMG junction VOLPATH TARGETVOLPATH | dangle VOLPATH | manykeys "
	    "VOLDIR COUNT BROKEN_EVERY\n"
	    "       rp-testfs DEV[@PARTNO] journal CHANGED\n");
	return RP_EXIT_USAGE;
}

/* The byte range of the partition asked for. */
static int find_part(const char *img, int partno, uint64_t *offset, uint64_t *size, rp_err *err)
{
	rp_disk disk;
	if (rp_disk_probe(&disk, img, err) < 0)
		return -1;
	int rc = -1;
	for (size_t i = disk.nparts; i-- > 0;) {
		const rp_part *p = &disk.parts[i];
		if ((partno < 0 && p->fs == RP_FS_NTFS) || p->number == partno) {
			*offset = p->offset;
			*size = p->size;
			rc = 0;
			break;
		}
	}
	if (rc < 0)
		rp_fail(err, RP_EXIT_USAGE, "%s: no %s partition %d", img,
			partno < 0 ? "NTFS" : "such", partno);
	rp_disk_free(&disk);
	return rc;
}

static int print_entry(void *ctx, const char *name, const rp_stat *st)
{
	(void)ctx;
	char *shown = rp_escape(name);
	printf("%c %s\n", st->is_reparse ? 'r' : st->is_dir ? 'd' : 'f', shown);
	free(shown);
	return 0;
}

static int put(rp_vol *vol, const char *local, const char *path, rp_err *err)
{
	uint8_t *data;
	size_t len;
	if (rp_file_read(local, &data, &len, RP_EXIT_USAGE, err) < 0)
		return -1;
	char *parent = rp_xstrdup(path);
	char *slash = strrchr(parent, '/');
	int rc = 0;
	if (slash) {
		*slash = 0;
		rc = rp_vol_mkdirs(vol, parent, err);
	}
	if (rc == 0)
		rc = rp_vol_write_file(vol, path, data, len, NULL, 0, err);
	free(parent);
	free(data);
	return rc;
}

static int getsddl(rp_vol *vol, const char *path, rp_err *err)
{
	uint8_t *raw;
	size_t len;
	if (rp_vol_get_sd(vol, path, &raw, &len, err) < 0)
		return -1;
	rp_sd sd;
	int rc = rp_sd_parse(raw, len, &sd, err);
	free(raw);
	if (rc < 0)
		return -1;
	char *text = rp_sd_format_sddl(&sd, err);
	rp_sd_free(&sd);
	if (!text)
		return -1;
	printf("%s\n", text);
	free(text);
	return 0;
}

/* ---- bare images, straight through libntfs-3g ---- */

static void put_le16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Mount point reparse data: tag, data length, reserved; substitute name offset/length, print
 * name offset/length; then "\??\C:\target" and "C:\target", each NUL-terminated UTF-16LE. */
static int junction(ntfs_volume *nv, const char *path, const char *target, rp_err *err)
{
	char *win = rp_xasprintf("C:\\%s", target);
	for (char *c = win; *c; c++)
		if (*c == '/')
			*c = '\\';
	char *subst = rp_xasprintf("\\??\\%s", win);
	size_t slen = 0, plen = 0;
	uint8_t *s16 = rp_utf8_to_utf16(subst, &slen), *p16 = rp_utf8_to_utf16(win, &plen);
	size_t data_len = 8 + slen + plen, total = 8 + data_len;
	uint8_t *buf = rp_xcalloc(1, total);
	buf[0] = 0x03, buf[1] = 0x00, buf[2] = 0x00, buf[3] = 0xA0;
	put_le16(buf + 4, (unsigned)data_len);
	put_le16(buf + 8, 0);
	put_le16(buf + 10, (unsigned)(slen - 2));
	put_le16(buf + 12, (unsigned)slen);
	put_le16(buf + 14, (unsigned)(plen - 2));
	memcpy(buf + 16, s16, slen);
	memcpy(buf + 16 + slen, p16, plen);
	char *abs = rp_xasprintf("/%s", path);
	ntfs_inode *ni = ntfs_pathname_to_inode(nv, NULL, abs);
	int rc = 0;
	if (!ni)
		rc = rp_fail(err, RP_EXIT_USAGE, "%s: %s", path, strerror(errno));
	else if (ntfs_set_ntfs_reparse_data(ni, (const char *)buf, total, 0) < 0)
		rc = rp_fail(err, RP_EXIT_PROBLEMS, "setting the reparse point of %s: %s", path,
			     strerror(errno));
	if (ni && ntfs_inode_close(ni) < 0 && rc == 0)
		rc = rp_fail(err, RP_EXIT_PROBLEMS, "closing %s: %s", path, strerror(errno));
	free(abs);
	free(buf);
	free(s16);
	free(p16);
	free(subst);
	free(win);
	return rc;
}

static int dangle(ntfs_volume *nv, const char *path, rp_err *err)
{
	char *abs = rp_xasprintf("/%s", path);
	ntfs_inode *ni = ntfs_pathname_to_inode(nv, NULL, abs);
	free(abs);
	if (!ni)
		return rp_fail(err, RP_EXIT_USAGE, "%s: %s", path, strerror(errno));
	ni->mrec->flags &= ~MFT_RECORD_IN_USE;
	ntfs_inode_mark_dirty(ni);
	if (ntfs_inode_close(ni) < 0)
		return rp_fail(err, RP_EXIT_PROBLEMS, "closing %s: %s", path, strerror(errno));
	return 0;
}

static int create_file(ntfs_inode *dir, const char *name, const uint8_t *data, size_t len)
{
	ntfschar *uname = NULL;
	int ulen = ntfs_mbstoucs(name, &uname);
	if (ulen <= 0)
		return -1;
	ntfs_inode *ni = ntfs_create(dir, 0, uname, (u8)ulen, S_IFREG);
	free(uname);
	if (!ni)
		return -1;
	int rc = 0;
	if (len) {
		ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
		rc = na && ntfs_attr_pwrite(na, 0, (s64)len, data) == (s64)len ? 0 : -1;
		if (na)
			ntfs_attr_close(na);
	}
	if (ntfs_inode_close_in_dir(ni, dir) < 0)
		rc = -1;
	return rc;
}

/* Many key files in one mount: <32 hex>_<guid>, a sound container's bytes or zeros. */
static int manykeys(ntfs_volume *nv, const char *dir, long count, long broken_every, rp_err *err)
{
	uint8_t *key = NULL;
	size_t key_len = 0;
	if (rp_capi_build_container("rdprescue-bench", 2048, &key, &key_len) < 0)
		return rp_fail(err, RP_EXIT_PROBLEMS, "building a container failed");
	uint8_t *zeros = rp_xcalloc(1, key_len);
	char *abs = rp_xasprintf("/%s", dir);
	ntfs_inode *dir_ni = ntfs_pathname_to_inode(nv, NULL, abs);
	int rc = 0;
	if (!dir_ni)
		rc = rp_fail(err, RP_EXIT_USAGE, "%s: %s", dir, strerror(errno));
	for (long i = 0; rc == 0 && i < count; i++) {
		char name[80];
		snprintf(name, sizeof name, "%032lx_6d1e0bb4-8c5e-4c1f-9d1e-5a4f7b2c3d%02ld", i,
			 i % 100);
		int broken = broken_every > 0 && i % broken_every == broken_every - 1;
		if (create_file(dir_ni, name, broken ? zeros : key, key_len) < 0)
			rc = rp_fail(err, RP_EXIT_PROBLEMS, "creating %s/%s: %s", dir, name,
				     strerror(errno));
	}
	if (dir_ni && ntfs_inode_close(dir_ni) < 0 && rc == 0)
		rc = rp_fail(err, RP_EXIT_PROBLEMS, "closing %s: %s", dir, strerror(errno));
	free(abs);
	free(zeros);
	free(key);
	return rc;
}

static int run_raw(const char *img, const char *cmd, int argc, char **argv, rp_err *err)
{
	uint64_t offset = 0, size = 0;
	if (find_part(img, 0, &offset, &size, err) < 0)
		return -1;
	ntfs_volume *nv = ntfs_mount(img, 0);
	if (!nv)
		return rp_fail(err, RP_EXIT_UNUSABLE, "%s: cannot mount: %s", img, strerror(errno));
	int rc;
	if (!strcmp(cmd, "junction") && argc == 2)
		rc = junction(nv, argv[0], argv[1], err);
	else if (!strcmp(cmd, "dirty") && argc == 0)
		rc = ntfs_volume_write_flags(nv, nv->flags | VOLUME_IS_DIRTY) < 0
			 ? rp_fail(err, RP_EXIT_PROBLEMS, "%s: cannot set the dirty flag: %s", img,
				   strerror(errno))
			 : 0;
	else if (!strcmp(cmd, "dangle") && argc == 1)
		rc = dangle(nv, argv[0], err);
	else if (!strcmp(cmd, "manykeys") && argc == 3)
		rc = manykeys(nv, argv[0], strtol(argv[1], NULL, 10), strtol(argv[2], NULL, 10),
			      err);
	else
		rc = rp_fail(err, RP_EXIT_USAGE, "wrong arguments for %s", cmd);
	if (ntfs_umount(nv, FALSE) < 0 && rc == 0)
		rc = rp_fail(err, RP_EXIT_PROBLEMS, "%s: unmount failed: %s", img, strerror(errno));
	return rc;
}

static int run(rp_vol *vol, const char *cmd, int argc, char **argv, rp_err *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc = -1;
	if (!strcmp(cmd, "put") && argc == 2) {
		rc = put(vol, argv[0], argv[1], err);
	} else if (!strcmp(cmd, "mkdir") && argc == 1) {
		rc = rp_vol_mkdirs(vol, argv[0], err);
	} else if (!strcmp(cmd, "cat") && argc == 1) {
		rc = rp_vol_read(vol, argv[0], &data, &len, err);
	} else if (!strcmp(cmd, "getsd") && argc == 1) {
		rc = rp_vol_get_sd(vol, argv[0], &data, &len, err);
	} else if (!strcmp(cmd, "ls") && argc == 1) {
		rc = rp_vol_list(vol, argv[0], print_entry, NULL, err);
	} else if (!strcmp(cmd, "rm") && argc == 1) {
		rc = rp_vol_remove(vol, argv[0], err);
	} else if (!strcmp(cmd, "setsd") && argc == 2) {
		rc = rp_file_read(argv[1], &data, &len, RP_EXIT_USAGE, err);
		if (rc == 0)
			rc = rp_vol_set_sd(vol, argv[0], data, len, err);
		free(data);
		data = NULL;
	} else if (!strcmp(cmd, "setsddl") && argc == 2) {
		rp_sd sd;
		rc = rp_sd_from_sddl(argv[1], &sd, err);
		if (rc == 0) {
			rc = rp_sd_build(&sd, &data, &len, err);
			rp_sd_free(&sd);
		}
		if (rc == 0)
			rc = rp_vol_set_sd(vol, argv[0], data, len, err);
		free(data);
		data = NULL;
	} else if (!strcmp(cmd, "getsddl") && argc == 1) {
		rc = getsddl(vol, argv[0], err);
	} else if (!strcmp(cmd, "mkkey") && argc == 2) {
		if (rp_capi_build_container(argv[1], 2048, &data, &len) < 0)
			rc =
			    rp_fail(err, RP_EXIT_PROBLEMS, "building container %s failed", argv[1]);
		else
			rc = rp_vol_write_file(vol, argv[0], data, len, NULL, 0, err);
		free(data);
		data = NULL;
	} else if (!strcmp(cmd, "hiberfil") && argc == 0) {
		uint8_t hib[8192] = {'H', 'I', 'B', 'R'};
		rc = rp_vol_write_file(vol, "hiberfil.sys", hib, sizeof hib, NULL, 0, err);
	} else {
		return rp_fail(err, RP_EXIT_USAGE, "unknown command or wrong arguments: %s", cmd);
	}
	if (rc == 0 && data && fwrite(data, 1, len, stdout) != len)
		rc = rp_fail(err, RP_EXIT_PROBLEMS, "writing to stdout: %s", strerror(errno));
	free(data);
	return rc;
}

/* See the header: a complete journal of the blocks in which changed differs from dev. */
static int make_journal(const char *dev, uint64_t offset, uint64_t size, const char *changed,
			rp_err *err)
{
	int a = open(dev, O_RDONLY | O_CLOEXEC), b = open(changed, O_RDONLY | O_CLOEXEC);
	uint8_t boot[512];
	struct stat st;
	int rc = -1;
	if (a < 0 || b < 0 || fstat(a, &st) < 0 ||
	    pread(a, boot, sizeof boot, (off_t)offset) != (ssize_t)sizeof boot) {
		rp_fail(err, RP_EXIT_UNUSABLE, "cannot read %s or %s", dev, changed);
		goto out;
	}
	struct rp_jr_block *blocks = NULL;
	size_t n = 0;
	uint8_t *x = rp_xmalloc(RP_JR_BLOCK), *y = rp_xmalloc(RP_JR_BLOCK);
	for (uint64_t off = 0; off < size; off += RP_JR_BLOCK) {
		size_t len = size - off < RP_JR_BLOCK ? (size_t)(size - off) : RP_JR_BLOCK;
		memset(x, 0, RP_JR_BLOCK);
		memset(y, 0, RP_JR_BLOCK);
		if (pread(a, x, len, (off_t)(offset + off)) != (ssize_t)len ||
		    pread(b, y, len, (off_t)(offset + off)) != (ssize_t)len)
			break;
		if (memcmp(x, y, len) == 0)
			continue;
		blocks = rp_xrealloc(blocks, (n + 1) * sizeof *blocks);
		blocks[n].no = off / RP_JR_BLOCK;
		blocks[n].data = rp_xmalloc(RP_JR_BLOCK);
		memcpy(blocks[n++].data, y, RP_JR_BLOCK);
	}
	free(x);
	free(y);
	char *path =
	    rp_jr_path(dev, S_ISBLK(st.st_mode), offset, boot + 0x48, RP_VOL_JOURNAL_SUFFIX);
	if (n == 0)
		rp_fail(err, RP_EXIT_USAGE, "%s and %s do not differ in that partition", dev,
			changed);
	else if (rp_jr_write(path, a, offset, size, blocks, n, NULL, NULL, 0) < 0)
		rp_fail(err, RP_EXIT_WRITE_FAILED, "cannot write %s: %s", path, strerror(errno));
	else
		rc = printf("%s\n", path) < 0 ? -1 : 0;
	free(path);
	rp_jr_free(blocks, n);
out:
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	const char *cmd = argv[2];
	rp_err err = {0};
	if (!strcmp(cmd, "junction") || !strcmp(cmd, "manykeys") || !strcmp(cmd, "dirty") ||
	    !strcmp(cmd, "dangle")) {
		if (run_raw(argv[1], cmd, argc - 3, argv + 3, &err) == 0)
			return 0;
		fprintf(stderr, "rp-testfs: %s\n", err.msg);
		return err.exit_code ? err.exit_code : 1;
	}
	int writable = !strcmp(cmd, "put") || !strcmp(cmd, "mkdir") || !strcmp(cmd, "setsd") ||
		       !strcmp(cmd, "rm") || !strcmp(cmd, "hiberfil") || !strcmp(cmd, "setsddl") ||
		       !strcmp(cmd, "mkkey");
	char *img = rp_xstrdup(argv[1]);
	int partno = -1;
	char *at = strrchr(img, '@');
	if (at) {
		char *end;
		*at = 0;
		long n = strtol(at + 1, &end, 10);
		if (*end || n < 0 || n > 4096) {
			free(img);
			return usage();
		}
		partno = (int)n;
	}
	uint64_t offset = 0, size = 0;
	rp_vol *vol = NULL;
	int rc = find_part(img, partno, &offset, &size, &err);
	if (rc == 0 && !strcmp(cmd, "journal")) {
		rc = argc == 4 ? make_journal(img, offset, size, argv[3], &err) : usage();
		free(img);
		if (rc == RP_EXIT_USAGE || rc == 0)
			return rc;
		fprintf(stderr, "rp-testfs: %s\n", err.msg);
		return err.exit_code ? err.exit_code : 1;
	}
	if (rc == 0)
		rc = rp_vol_open_ntfs(&vol, img, offset, size, writable, &err);
	if (rc == 0)
		rc = run(vol, cmd, argc - 3, argv + 3, &err);
	if (vol && rp_vol_close(vol, &err) < 0)
		rc = -1;
	free(img);
	if (rc < 0) {
		fprintf(stderr, "rp-testfs: %s\n", err.msg);
		return err.exit_code ? err.exit_code : 1;
	}
	return 0;
}
