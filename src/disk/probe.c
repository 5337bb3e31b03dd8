/*
 * probe.c — identifying a disk: file or block device, VHD footer, partition table or bare
 * file system, and what is in each partition.  Only reads.
 */
#include "disk/table.h"
#include "util/text.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* How much of the start of the disk the parsers get: the MBR, the GPT header and a GPT entry
 * array of up to 1 MiB wherever the header puts it inside that. */
#define HEAD_BYTES (1024u * 1024u)
#define MIN_DISK_BYTES (64u * 1024u)

int rp_disk_parse(const uint8_t *head, size_t len, uint64_t disk_size, rp_disk *disk, rp_err *err)
{
	disk->size = disk_size;
	if (len > disk_size)
		len = (size_t)disk_size;
	if (len < RP_SECTOR)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "not a disk image: %llu bytes is too small to hold a disk",
			       (unsigned long long)disk_size);
	rp_fs fs0 = rp_disk_classify(head, len);
	if (fs0 == RP_FS_NTFS || fs0 == RP_FS_BITLOCKER) {
		snprintf(disk->scheme, sizeof disk->scheme, "none");
		if (rp_disk_add_part(disk, 0, 0, disk_size / RP_SECTOR, "bare", head, len, err) < 0)
			return -1;
		return 0;
	}
	int protective = 0;
	if (rp_mbr_detect(head, len, &protective))
		return protective ? rp_gpt_parse(head, len, disk, err)
				  : rp_mbr_parse(head, len, disk, err);
	if (rp_gpt_detect(head, len))
		return rp_gpt_parse(head, len, disk, err);
	return rp_fail(err, RP_EXIT_UNUSABLE,
		       "not a disk image: no partition table and no NTFS boot sector");
}

static int read_at(int fd, uint8_t *buf, size_t n, uint64_t off)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = pread(fd, buf + done, n - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

static int probe_fd(rp_disk *disk, int fd, const struct stat *st, rp_err *err)
{
	const char *path = disk->path;
	uint64_t file_size;
	if (S_ISBLK(st->st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &file_size) < 0)
			return rp_fail(err, RP_EXIT_UNUSABLE, "%s: cannot get the device size: %s",
				       path, strerror(errno));
		disk->is_blockdev = 1;
		snprintf(disk->format, sizeof disk->format, "block");
	} else {
		file_size = (uint64_t)st->st_size;
		snprintf(disk->format, sizeof disk->format, "raw");
	}
	if (file_size < MIN_DISK_BYTES)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "%s is not a disk image: %llu bytes is too small", path,
			       (unsigned long long)file_size);

	uint8_t footer[RP_SECTOR];
	if (read_at(fd, footer, sizeof footer, file_size - RP_SECTOR) < 0)
		return rp_fail(err, RP_EXIT_UNUSABLE, "%s: read error at the end of the disk: %s",
			       path, errno ? strerror(errno) : "short read");
	uint64_t data_size = file_size;
	int vhd = rp_disk_parse_vhd_footer(footer, file_size, &data_size, err);
	if (vhd < 0) {
		rp_err_prefix(err, "%s", path);
		return -1;
	}
	if (vhd)
		snprintf(disk->format, sizeof disk->format, "vhd");

	size_t len = data_size < HEAD_BYTES ? (size_t)data_size : HEAD_BYTES;
	uint8_t *head = rp_xmalloc(len);
	if (read_at(fd, head, len, 0) < 0) {
		free(head);
		return rp_fail(err, RP_EXIT_UNUSABLE, "%s: read error at the start of the disk: %s",
			       path, errno ? strerror(errno) : "short read");
	}
	int rc = rp_disk_parse(head, len, data_size, disk, err);
	free(head);
	if (rc < 0) {
		rp_err_prefix(err, "%s", path);
		return -1;
	}
	for (size_t i = 0; i < disk->nparts; i++) {
		rp_part *p = &disk->parts[i];
		uint8_t sector[RP_SECTOR];
		if (p->fs != RP_FS_UNKNOWN || p->size < RP_SECTOR)
			continue;
		if (read_at(fd, sector, sizeof sector, p->offset) < 0)
			return rp_fail(err, RP_EXIT_UNUSABLE,
				       "%s: read error in partition %d at byte %llu: %s", path,
				       p->number, (unsigned long long)p->offset,
				       errno ? strerror(errno) : "short read");
		p->fs = rp_disk_classify(sector, sizeof sector);
	}
	return 0;
}

int rp_disk_probe(rp_disk *disk, const char *path, rp_err *err)
{
	memset(disk, 0, sizeof *disk);
	disk->path = rp_xstrdup(path);
	struct stat st;
	if (stat(path, &st) < 0) {
		int e = errno;
		rp_disk_free(disk);
		return rp_fail(err, RP_EXIT_UNUSABLE, "%s: %s", path, strerror(e));
	}
	if (S_ISDIR(st.st_mode)) {
		rp_disk_free(disk);
		return rp_fail(err, RP_EXIT_USAGE,
			       "%s is a directory: give a disk, an image or a mounted Windows "
			       "volume",
			       path);
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		rp_disk_free(disk);
		return rp_fail(err, RP_EXIT_USAGE, "%s is neither a disk image nor a block device",
			       path);
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		rp_disk_free(disk);
		if ((e == EACCES || e == EPERM) && geteuid() != 0)
			return rp_fail(err, RP_EXIT_UNUSABLE,
				       "cannot open %s (permission denied): run as root", path);
		return rp_fail(err, RP_EXIT_UNUSABLE, "cannot open %s: %s", path, strerror(e));
	}
	errno = 0;
	int rc = probe_fd(disk, fd, &st, err);
	close(fd);
	if (rc < 0)
		rp_disk_free(disk);
	return rc;
}

void rp_disk_free(rp_disk *disk)
{
	if (!disk)
		return;
	free(disk->path);
	free(disk->parts);
	memset(disk, 0, sizeof *disk);
}
