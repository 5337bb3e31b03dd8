/*
 * ntfs_dev.c — the device libntfs-3g reads and writes through: one partition of a disk, image or
 * VHD, at its byte offset (no mount, no FUSE, no loop device).
 *
 * The ops clamp every access to [offset, offset + size) of the file, so the other partitions
 * and a VHD footer are never touched, and read-only opens use O_RDONLY (the kernel then
 * guarantees that not a byte is written).  Read-write opens take an exclusive lock: O_EXCL on a
 * block device, an open-file-description write lock on an image file.
 */
#include "vol/ntfs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static struct offset_dev *odev(struct ntfs_device *dev)
{
	return dev->d_private;
}

static int od_open(struct ntfs_device *dev, int flags)
{
	struct offset_dev *od = odev(dev);
	int rw = (flags & O_ACCMODE) != O_RDONLY;
	int fd = open(od->path,
		      (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC | (rw && od->is_blockdev ? O_EXCL : 0));
	if (fd < 0) {
		/* EROFS makes the library fall back to a read-only mount, which
		 * rp_vol_open_ntfs reports as "not writable". */
		if (rw && (errno == EACCES || errno == EPERM))
			errno = EROFS;
		return -1;
	}
	if (!od->is_blockdev) {
		/* An open file description lock: unlike a classic fcntl lock it is not dropped
		 * when this process closes another descriptor of the same file. */
		struct flock lk = {.l_type = rw ? F_WRLCK : F_RDLCK, .l_whence = SEEK_SET};
		if (fcntl(fd, F_OFD_SETLK, &lk) < 0) {
			close(fd);
			errno = EBUSY;
			return -1;
		}
	}
	od->fd = fd;
	od->pos = 0;
	if (rw)
		NDevClearReadOnly(dev);
	else
		NDevSetReadOnly(dev);
	if (od->is_blockdev)
		NDevSetBlock(dev);
	NDevSetOpen(dev);
	return 0;
}

int rp_od_close(struct ntfs_device *dev)
{
	struct offset_dev *od = odev(dev);
	int rc = 0;
	if (NDevDirty(dev) && !NDevReadOnly(dev) && fsync(od->fd) < 0)
		rc = -1;
	int e = errno;
	if (close(od->fd) < 0 && rc == 0)
		rc = -1;
	else
		errno = e;
	od->fd = -1;
	NDevClearOpen(dev);
	return rc;
}

static s64 od_pread(struct ntfs_device *dev, void *buf, s64 count, s64 offset)
{
	struct offset_dev *od = odev(dev);
	if (offset < 0 || count < 0) {
		errno = EINVAL;
		return -1;
	}
	if ((uint64_t)offset >= od->size)
		return 0;
	if ((uint64_t)count > od->size - (uint64_t)offset)
		count = (s64)(od->size - (uint64_t)offset);
	s64 done = 0;
	while (done < count) {
		ssize_t r = pread(od->fd, (char *)buf + done, (size_t)(count - done),
				  (off_t)(od->base + (uint64_t)offset + (uint64_t)done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return done ? done : -1;
		if (r == 0)
			break;
		done += r;
	}
	return done;
}

static s64 od_pwrite(struct ntfs_device *dev, const void *buf, s64 count, s64 offset)
{
	struct offset_dev *od = odev(dev);
	if (NDevReadOnly(dev)) {
		errno = EROFS;
		return -1;
	}
	if (offset < 0 || count < 0) {
		errno = EINVAL;
		return -1;
	}
	if ((uint64_t)offset >= od->size) {
		errno = ENOSPC;
		return -1;
	}
	if ((uint64_t)count > od->size - (uint64_t)offset)
		count = (s64)(od->size - (uint64_t)offset);
	NDevSetDirty(dev);
	s64 done = 0;
	while (done < count) {
		ssize_t w = pwrite(od->fd, (const char *)buf + done, (size_t)(count - done),
				   (off_t)(od->base + (uint64_t)offset + (uint64_t)done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return done ? done : -1;
		done += w;
	}
	return done;
}

static s64 od_seek(struct ntfs_device *dev, s64 offset, int whence)
{
	struct offset_dev *od = odev(dev);
	s64 base;
	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = od->pos;
		break;
	case SEEK_END:
		base = (s64)od->size;
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	/* Both terms are below 2^63 in practice; reject anything that would wrap. */
	if ((offset > 0 && base > INT64_MAX - offset) || base + offset < 0 ||
	    (uint64_t)(base + offset) > od->size) {
		errno = EINVAL;
		return -1;
	}
	od->pos = base + offset;
	return od->pos;
}

static s64 od_read(struct ntfs_device *dev, void *buf, s64 count)
{
	s64 r = od_pread(dev, buf, count, odev(dev)->pos);
	if (r > 0)
		odev(dev)->pos += r;
	return r;
}

static s64 od_write(struct ntfs_device *dev, const void *buf, s64 count)
{
	s64 w = od_pwrite(dev, buf, count, odev(dev)->pos);
	if (w > 0)
		odev(dev)->pos += w;
	return w;
}

static int od_sync(struct ntfs_device *dev)
{
	if (NDevReadOnly(dev))
		return 0;
	if (fsync(odev(dev)->fd) < 0)
		return -1;
	NDevClearDirty(dev);
	return 0;
}

static int od_stat(struct ntfs_device *dev, struct stat *st)
{
	if (fstat(odev(dev)->fd, st) < 0)
		return -1;
	st->st_size = (off_t)odev(dev)->size;
	return 0;
}

static int od_ioctl(struct ntfs_device *dev, unsigned long request, void *arg)
{
	struct offset_dev *od = odev(dev);
	switch (request) {
	case BLKGETSIZE64:
		*(uint64_t *)arg = od->size;
		return 0;
	case BLKGETSIZE:
		*(unsigned long *)arg = (unsigned long)(od->size >> 9);
		return 0;
	case BLKSSZGET:
		*(int *)arg = 512;
		return 0;
	default:
		errno = ENOTTY;
		return -1;
	}
}

struct ntfs_device_operations rp_offset_dev_ops = {
    .open = od_open,
    .close = rp_od_close,
    .seek = od_seek,
    .read = od_read,
    .write = od_write,
    .pread = od_pread,
    .pwrite = od_pwrite,
    .sync = od_sync,
    .stat = od_stat,
    .ioctl = od_ioctl,
};
