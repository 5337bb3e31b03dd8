/*
 * ident.c — a stable identity of the disk behind a block device, so that what rdprescue keeps
 * about a disk between runs (the redo journal of an interrupted write, vol/ntfs_journal.c) is
 * found again when the disk comes back under another name (/dev/sdb today, /dev/sdc after a
 * reboot), and is never taken for another disk's, even a clone's.
 *
 * In order of preference, for the whole disk (a partition device is traced to its disk):
 *   wwid:   sysfs wwid (SCSI, SATA, NVMe: the world-wide name), then device/wwid;
 *   serial: sysfs serial or device/serial (virtio, NVMe, some USB bridges);
 *   loop:   a loop device's backing file (the path sysfs shows), so two loop devices of one
 *           image are one disk and a copy of the image is another;
 *   gpt:    the GPT disk GUID (LBA 1, 512- or 4096-byte sectors), for a whole disk only;
 *   mbr:    the MBR disk signature (bytes 440-443, not 0), for a whole disk only.
 * The hardware names come first because a partition table is copied with the disk: clones of
 * one cloud image share their GPT GUID and NTFS serial.  Nothing found: "" (the caller keeps
 * its older key).  Every sysfs value and sector is bounds-checked and kept to printable
 * ASCII.
 */
#include "disk/disk.h"
#include "util/bytes.h"
#include "util/file.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const rp_disk_roots real_roots = {"/sys", "/proc/self/mountinfo", "/dev"};

/* First line of path, trimmed, printable ASCII only; 0 when that leaves something. */
static int sysfs_value(const char *path, char *out, size_t size)
{
	char buf[256];
	if (rp_file_first_line(path, buf, sizeof buf) < 0)
		return -1;
	char *s = buf, *e = buf + strlen(buf);
	while (*s == ' ' || *s == '\t')
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	if (e == s)
		return -1;
	for (char *p = s; p < e; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '_';
	snprintf(out, size, "%.*s", (int)(e - s), s);
	return 0;
}

/* GPT disk GUID or MBR signature read from the device itself. */
static int table_identity(const char *path, char *out, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	uint8_t head[8192];
	ssize_t got = pread(fd, head, sizeof head, 0);
	close(fd);
	if (got < 512)
		return -1;
	static const size_t lba1[] = {512, 4096};
	for (size_t i = 0; i < 2; i++) {
		if ((size_t)got < lba1[i] + 72 || memcmp(head + lba1[i], "EFI PART", 8) != 0)
			continue;
		const uint8_t *g = head + lba1[i] + 56;
		static const uint8_t zero[16];
		if (!memcmp(g, zero, 16))
			continue;
		snprintf(out, size, "gpt:%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 rp_le32(g), rp_le16(g + 4), rp_le16(g + 6), g[8], g[9], g[10], g[11],
			 g[12], g[13], g[14], g[15]);
		return 0;
	}
	if (head[510] == 0x55 && head[511] == 0xaa && rp_le32(head + 440) != 0) {
		snprintf(out, size, "mbr:%08x", rp_le32(head + 440));
		return 0;
	}
	return -1;
}

int rp_disk_identity_in(const rp_disk_roots *roots, const char *path, char *out, size_t size)
{
	const rp_disk_roots *r = roots ? roots : &real_roots;
	out[0] = 0;
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISBLK(st.st_mode))
		return 0;
	char dir[PATH_MAX], p[PATH_MAX + 64], val[256];
	snprintf(p, sizeof p, "%s/dev/block/%u:%u", r->sys, major(st.st_rdev), minor(st.st_rdev));
	if (!realpath(p, dir))
		return table_identity(path, out, size) == 0 ? 1 : 0;
	/* A partition: its disk is the folder above. */
	snprintf(p, sizeof p, "%s/partition", dir);
	int partition = access(p, F_OK) == 0;
	if (partition) {
		char *slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			return 0;
		*slash = 0;
	}
	static const char *const hw[][2] = {
	    {"wwid", "wwid"},
	    {"device/wwid", "wwid"},
	    {"serial", "serial"},
	    {"device/serial", "serial"},
	    {"loop/backing_file", "loop"},
	};
	for (size_t i = 0; i < sizeof hw / sizeof hw[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, hw[i][0]);
		if (sysfs_value(p, val, sizeof val) == 0) {
			snprintf(out, size, "%s:%s", hw[i][1], val);
			return 1;
		}
	}
	if (!partition && table_identity(path, out, size) == 0)
		return 1;
	return 0;
}

int rp_disk_identity(const char *path, char *out, size_t size)
{
	return rp_disk_identity_in(NULL, path, out, size);
}
