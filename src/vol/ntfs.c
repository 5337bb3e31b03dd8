/*
 * ntfs.c — the libntfs-3g backend: an NTFS volume read and written in place on a disk, image or
 * VHD, at the partition's byte offset (no mount, no FUSE, no loop device).
 *
 * The device ops below clamp every access to [offset, offset + size) of the file, so the other
 * partitions and a VHD footer are never touched, and read-only opens use O_RDONLY (the kernel
 * then guarantees that not a byte is written).  Read-write opens take an exclusive lock: O_EXCL
 * on a block device, an open-file-description write lock on an image file.
 *
 * libntfs-3g's write APIs do not check for a read-only mount, create case-variant duplicates
 * without complaint, and have no rename; vol.c keeps writes away from read-only volumes, and
 * this file checks names case-insensitively and replaces files with link/unlink (write_file).
 */
#include "vol/backend.h"
#include "util/fault.h"
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

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/device.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/logfile.h>
#include <ntfs-3g/logging.h>
#include <ntfs-3g/security.h>
#include <ntfs-3g/unistr.h>
#include <ntfs-3g/volume.h>

/* Largest file rp_vol_read loads into memory (hives are well below). */
#define MAX_READ_BYTES ((uint64_t)4 << 30)

/* ---- device operations at an offset ---- */

struct offset_dev {
	char *path;
	int fd;
	int is_blockdev;
	uint64_t base, size; /* the partition inside the file */
	int64_t pos;	     /* for read/write/seek */
};

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
		struct flock lk = {.l_type = rw ? F_WRLCK : F_RDLCK,
				   .l_whence = SEEK_SET,
				   .l_start = (off_t)od->base,
				   .l_len = (off_t)od->size};
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

static int od_close(struct ntfs_device *dev)
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

static struct ntfs_device_operations offset_dev_ops = {
    .open = od_open,
    .close = od_close,
    .seek = od_seek,
    .read = od_read,
    .write = od_write,
    .pread = od_pread,
    .pwrite = od_pwrite,
    .sync = od_sync,
    .stat = od_stat,
    .ioctl = od_ioctl,
};

/* ---- the volume ---- */

struct ntfs_priv {
	ntfs_volume *nv;
	struct offset_dev *od;
	struct SECURITY_CONTEXT scx;
	struct PERMISSIONS_CACHE *seccache; /* scx points here; stays empty without mappings */
};

static struct ntfs_priv *np(rp_vol *vol)
{
	return vol->priv;
}

/* Reports errno for an operation on path: err_code RP_EXIT_WRITE_FAILED for writes. */
static int fail_errno(rp_vol *vol, int err_code, const char *what, const char *path, rp_err *err)
{
	int e = errno ? errno : EIO;
	char *shown = rp_escape(*path ? path : "/");
	rp_fail(err, err_code, "%s %s on %s: %s", what, shown, vol->where, strerror(e));
	free(shown);
	errno = e;
	return -1;
}

/* A fault-injection point: 1 (errno = EIO) when the test harness wants this write to fail. */
static int faulted(const char *point)
{
	if (rp_fault(point)) {
		errno = EIO;
		return 1;
	}
	return 0;
}

static ntfs_inode *open_path(ntfs_volume *nv, const char *path)
{
	char *abs = rp_xasprintf("/%s", path);
	ntfs_inode *ni = ntfs_pathname_to_inode(nv, NULL, abs);
	free(abs);
	return ni;
}

/* Splits "a/b/c" into a malloc'd "a/b" and the leaf "c" (inside path). */
static char *split_parent(const char *path, const char **leaf)
{
	const char *slash = strrchr(path, '/');
	*leaf = slash ? slash + 1 : path;
	return slash ? strndup(path, (size_t)(slash - path)) : rp_xstrdup("");
}

/* An entry of a directory found by name, compared the way Windows does (upcase table). */
struct dir_entry {
	const ntfschar *want;
	int want_len;
	ntfs_volume *nv;
	int found;
	MFT_REF mref;
	ntfschar name[256]; /* the entry's real name */
	int name_len;
};

static int find_cb(void *ctx, const ntfschar *name, const int name_len, const int name_type,
		   const s64 pos, const MFT_REF mref, const unsigned dt_type)
{
	struct dir_entry *de = ctx;
	(void)pos;
	(void)dt_type;
	if (name_type == FILE_NAME_DOS || name_len <= 0 || name_len > 255)
		return 0;
	if (!ntfs_names_are_equal(name, (size_t)name_len, de->want, (size_t)de->want_len,
				  IGNORE_CASE, de->nv->upcase, de->nv->upcase_len))
		return 0;
	de->found = 1;
	de->mref = mref;
	memcpy(de->name, name, (size_t)name_len * sizeof(ntfschar));
	de->name_len = name_len;
	return 1;
}

/* readdir with the real case of the names: with ignore_case on, libntfs-3g hands the callback
 * lower-cased names, so the volume is switched to case-sensitive for the duration. */
static int readdir_real_case(ntfs_inode *dir_ni, void *ctx, ntfs_filldir_t cb)
{
	ntfs_volume *nv = dir_ni->vol;
	int was_sensitive = NVolCaseSensitive(nv);
	NVolSetCaseSensitive(nv);
	s64 pos = 0;
	int rc = ntfs_readdir(dir_ni, &pos, ctx, cb);
	if (!was_sensitive)
		NVolClearCaseSensitive(nv);
	return rc;
}

/* Looks leaf up in dir_ni case-insensitively.  1 found, 0 not found, -1 error (errno). */
static int find_entry(ntfs_inode *dir_ni, const char *leaf, struct dir_entry *de)
{
	ntfschar *uname = NULL;
	int ulen = ntfs_mbstoucs(leaf, &uname);
	if (ulen <= 0) {
		errno = EINVAL;
		return -1;
	}
	memset(de, 0, sizeof *de);
	de->want = uname;
	de->want_len = ulen;
	de->nv = dir_ni->vol;
	int rc = readdir_real_case(dir_ni, de, find_cb);
	de->want = NULL;
	free(uname);
	/* ntfs_readdir returns -1 when the callback stops it: a find is no failure. */
	return de->found ? 1 : rc < 0 ? -1 : 0;
}

static uint32_t file_attributes(ntfs_inode *ni)
{
	uint32_t attrib = 0;
	if (ntfs_get_ntfs_attrib(ni, (char *)&attrib, sizeof attrib) != sizeof attrib)
		attrib = le32_to_cpu(ni->flags);
	return attrib;
}

static void fill_stat(ntfs_inode *ni, rp_stat *st)
{
	memset(st, 0, sizeof *st);
	st->exists = 1;
	st->attributes = file_attributes(ni);
	st->is_dir = (ni->mrec->flags & MFT_RECORD_IS_DIRECTORY) != 0;
	st->is_reparse = (st->attributes & FILE_ATTR_REPARSE_POINT) != 0;
	st->is_encrypted = (st->attributes & FILE_ATTR_ENCRYPTED) != 0;
	if (!st->is_dir) {
		ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
		if (na) {
			st->size = (uint64_t)na->data_size;
			ntfs_attr_close(na);
		}
	}
}

static int nt_stat(rp_vol *vol, const char *path, rp_stat *st, rp_err *err)
{
	memset(st, 0, sizeof *st);
	ntfs_inode *ni = open_path(np(vol)->nv, path);
	if (!ni) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return fail_errno(vol, RP_EXIT_UNUSABLE, "looking up", path, err);
	}
	fill_stat(ni, st);
	ntfs_inode_close(ni);
	return 0;
}

/* Opens path for reading; a missing path is an error here. */
static ntfs_inode *open_existing(rp_vol *vol, const char *what, const char *path, rp_err *err)
{
	ntfs_inode *ni = open_path(np(vol)->nv, path);
	if (!ni)
		fail_errno(vol, RP_EXIT_UNUSABLE, what, path, err);
	return ni;
}

static int read_all(ntfs_inode *ni, uint8_t **data, size_t *len)
{
	ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
	if (!na)
		return -1;
	if (na->data_size < 0 || (uint64_t)na->data_size > MAX_READ_BYTES) {
		ntfs_attr_close(na);
		errno = EFBIG;
		return -1;
	}
	size_t size = (size_t)na->data_size;
	uint8_t *buf = rp_xmalloc(size ? size : 1);
	size_t done = 0;
	while (done < size) {
		s64 r = ntfs_attr_pread(na, (s64)done, (s64)(size - done), buf + done);
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			free(buf);
			ntfs_attr_close(na);
			return -1;
		}
		done += (size_t)r;
	}
	ntfs_attr_close(na);
	*data = buf;
	*len = size;
	return 0;
}

static int nt_read(rp_vol *vol, const char *path, uint8_t **data, size_t *len, rp_err *err)
{
	ntfs_inode *ni = open_existing(vol, "reading", path, err);
	if (!ni)
		return -1;
	int rc = 0;
	if (ni->mrec->flags & MFT_RECORD_IS_DIRECTORY) {
		errno = EISDIR;
		rc = fail_errno(vol, RP_EXIT_UNUSABLE, "reading", path, err);
	} else if (read_all(ni, data, len) < 0) {
		rc = fail_errno(vol, RP_EXIT_UNUSABLE, "reading", path, err);
	}
	ntfs_inode_close(ni);
	return rc;
}

/* Entries collected during readdir; the children are opened only afterwards (readdir opens
 * some of them itself, and an inode must never be open twice). */
struct listing {
	struct {
		char *name;
		MFT_REF mref;
	} * items;
	size_t n, cap;
	int failed;
};

static int list_cb(void *ctx, const ntfschar *name, const int name_len, const int name_type,
		   const s64 pos, const MFT_REF mref, const unsigned dt_type)
{
	struct listing *l = ctx;
	(void)pos;
	(void)dt_type;
	if (name_type == FILE_NAME_DOS)
		return 0;
	if ((name_len == 1 && le16_to_cpu(name[0]) == '.') ||
	    (name_len == 2 && le16_to_cpu(name[0]) == '.' && le16_to_cpu(name[1]) == '.'))
		return 0;
	char *utf8 = NULL;
	if (ntfs_ucstombs(name, name_len, &utf8, 0) < 0) {
		l->failed = errno ? errno : EILSEQ;
		return 1;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->items = rp_xrealloc(l->items, l->cap * sizeof *l->items);
	}
	l->items[l->n].name = utf8;
	l->items[l->n].mref = mref;
	l->n++;
	return 0;
}

static int nt_list(rp_vol *vol, const char *dir, rp_vol_list_cb cb, void *ctx, rp_err *err)
{
	ntfs_volume *nv = np(vol)->nv;
	ntfs_inode *dir_ni = open_existing(vol, "listing", dir, err);
	if (!dir_ni)
		return -1;
	if (!(dir_ni->mrec->flags & MFT_RECORD_IS_DIRECTORY)) {
		ntfs_inode_close(dir_ni);
		errno = ENOTDIR;
		return fail_errno(vol, RP_EXIT_PROBLEMS, "listing", dir, err);
	}
	struct listing l = {0};
	int rc = readdir_real_case(dir_ni, &l, list_cb);
	if (rc < 0 || l.failed) {
		if (l.failed)
			errno = l.failed;
		fail_errno(vol, RP_EXIT_UNUSABLE, "listing", dir, err);
		rc = -1;
	}
	ntfs_inode_close(dir_ni);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		rp_stat st;
		ntfs_inode *ni = ntfs_inode_open(nv, MREF(l.items[i].mref));
		if (!ni) {
			char *child = rp_xasprintf("%s/%s", dir, l.items[i].name);
			rc = fail_errno(vol, RP_EXIT_UNUSABLE, "opening", child, err);
			free(child);
			break;
		}
		fill_stat(ni, &st);
		ntfs_inode_close(ni);
		if (cb(ctx, l.items[i].name, &st))
			break;
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.items[i].name);
	free(l.items);
	return rc;
}

static int get_sd_of(rp_vol *vol, ntfs_inode *ni, uint8_t **sd, size_t *len)
{
	int need = ntfs_get_ntfs_acl(&np(vol)->scx, ni, NULL, 0);
	if (need <= 0) {
		errno = need < 0 ? -need : ENODATA;
		return -1;
	}
	uint8_t *buf = rp_xmalloc((size_t)need);
	int got = ntfs_get_ntfs_acl(&np(vol)->scx, ni, (char *)buf, (size_t)need);
	if (got != need) {
		free(buf);
		errno = got < 0 ? -got : EIO;
		return -1;
	}
	*sd = buf;
	*len = (size_t)need;
	return 0;
}

static int nt_get_sd(rp_vol *vol, const char *path, uint8_t **sd, size_t *len, rp_err *err)
{
	ntfs_inode *ni = open_existing(vol, "reading the security descriptor of", path, err);
	if (!ni)
		return -1;
	int rc = 0;
	if (get_sd_of(vol, ni, sd, len) < 0)
		rc = fail_errno(vol, RP_EXIT_UNUSABLE, "reading the security descriptor of", path,
				err);
	ntfs_inode_close(ni);
	return rc;
}

/* ---- writes ---- */

static int set_sd_of(rp_vol *vol, ntfs_inode *ni, const uint8_t *sd, size_t len)
{
	if (faulted("vol:set_sd"))
		return -1;
	return ntfs_set_ntfs_acl(&np(vol)->scx, ni, (const char *)sd, len, 0);
}

static int nt_set_sd(rp_vol *vol, const char *path, const uint8_t *sd, size_t len, rp_err *err)
{
	const char *what = "setting the security descriptor of";
	ntfs_inode *ni = open_existing(vol, what, path, err);
	if (!ni)
		return -1;
	int rc = 0;
	if (set_sd_of(vol, ni, sd, len) < 0) {
		/* EINVAL: libntfs-3g's validation refused the descriptor; nothing was written. */
		rc = fail_errno(vol, errno == EINVAL ? RP_EXIT_PROBLEMS : RP_EXIT_WRITE_FAILED,
				what, path, err);
	}
	if (ntfs_inode_close(ni) < 0 && rc == 0)
		rc = fail_errno(vol, RP_EXIT_WRITE_FAILED, what, path, err);
	return rc;
}

/* A leaf name as NTFS stores it, refused when Windows could not handle it. */
static int leaf_name(rp_vol *vol, const char *path, const char *leaf, ntfschar **uname, int *ulen,
		     rp_err *err)
{
	*uname = NULL;
	*ulen = ntfs_mbstoucs(leaf, uname);
	if (*ulen <= 0 || *ulen > 255 || ntfs_forbidden_names(np(vol)->nv, *uname, *ulen, TRUE)) {
		free(*uname);
		*uname = NULL;
		char *shown = rp_escape(path);
		rp_fail(err, RP_EXIT_PROBLEMS, "%s on %s: Windows does not allow this file name",
			shown, vol->where);
		free(shown);
		return -1;
	}
	return 0;
}

static int nt_mkdir(rp_vol *vol, const char *path, rp_err *err)
{
	const char *leaf;
	char *parent = split_parent(path, &leaf);
	ntfschar *uname;
	int ulen, rc = -1;
	ntfs_inode *dir_ni = NULL;
	if (leaf_name(vol, path, leaf, &uname, &ulen, err) < 0)
		goto out;
	dir_ni = open_existing(vol, "creating directory", parent, err);
	if (!dir_ni)
		goto out;
	le32 securid = ntfs_inherited_id(&np(vol)->scx, dir_ni, TRUE);
	ntfs_inode *ni =
	    faulted("vol:mkdir") ? NULL : ntfs_create(dir_ni, securid, uname, (u8)ulen, S_IFDIR);
	if (!ni) {
		fail_errno(vol, RP_EXIT_WRITE_FAILED, "creating directory", path, err);
		goto out;
	}
	rc = 0;
	if (ntfs_inode_close_in_dir(ni, dir_ni) < 0)
		rc = fail_errno(vol, RP_EXIT_WRITE_FAILED, "creating directory", path, err);
out:
	if (dir_ni && ntfs_inode_close(dir_ni) < 0 && rc == 0)
		rc = fail_errno(vol, RP_EXIT_WRITE_FAILED, "creating directory", path, err);
	free(uname);
	free(parent);
	return rc;
}

/* State of one write_file: the directory is reopened after every ntfs_delete (which closes
 * it), so it is kept by number. */
struct replace {
	rp_vol *vol;
	ntfs_volume *nv;
	const char *path;
	u64 dir_no;
	ntfs_inode *dir_ni;
	ntfschar *name, *tmp_name, *old_name; /* final (real case when replacing), tmp, old */
	int name_len, tmp_len, old_len;
	int has_old;
	MFT_REF old_mref;
	u64 tmp_no;
	int tmp_linked, old_linked; /* names that exist on the volume and may need removing */
};

static int reopen_dir(struct replace *r)
{
	r->dir_ni = ntfs_inode_open(r->nv, r->dir_no);
	return r->dir_ni ? 0 : -1;
}

/* link(inode no -> name) in the directory. */
static int link_name(struct replace *r, u64 no, ntfschar *name, int len)
{
	ntfs_inode *ni = ntfs_inode_open(r->nv, no);
	if (!ni)
		return -1;
	int rc = faulted("vol:link") ? -1 : ntfs_link(ni, r->dir_ni, name, (u8)len);
	int e = errno;
	if (ntfs_inode_close_in_dir(ni, r->dir_ni) < 0 && rc == 0)
		return -1;
	errno = e;
	return rc;
}

/* unlink(name of inode no); ntfs_delete closes the directory, which is reopened. */
static int unlink_name(struct replace *r, u64 no, ntfschar *name, int len)
{
	ntfs_inode *ni = ntfs_inode_open(r->nv, no);
	if (!ni)
		return -1;
	if (faulted("vol:unlink")) {
		ntfs_inode_close_in_dir(ni, r->dir_ni);
		return -1;
	}
	int rc = ntfs_delete(r->nv, NULL, ni, r->dir_ni, name, (u8)len);
	int e = errno;
	r->dir_ni = NULL;
	if (reopen_dir(r) < 0 && rc == 0)
		return -1;
	errno = e;
	return rc;
}

/* Creates, fills, closes, re-reads and compares the temporary file. */
static int write_tmp(struct replace *r, const uint8_t *data, size_t len, const uint8_t *sd,
		     size_t sd_len, uint32_t attrib, le32 securid)
{
	ntfs_inode *ni = faulted("vol:create") ? NULL
					       : ntfs_create(r->dir_ni, securid, r->tmp_name,
							     (u8)r->tmp_len, S_IFREG);
	if (!ni)
		return -1;
	r->tmp_no = ni->mft_no;
	r->tmp_linked = 1;
	int rc = -1;
	ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
	if (!na)
		goto close;
	if (faulted("vol:truncate") || ntfs_attr_truncate_solid(na, (s64)len) < 0)
		goto close_attr;
	for (size_t done = 0; done < len;) {
		s64 w = faulted("vol:write")
			    ? -1
			    : ntfs_attr_pwrite(na, (s64)done, (s64)(len - done), data + done);
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			goto close_attr;
		}
		done += (size_t)w;
	}
	rc = 0;
close_attr:
	ntfs_attr_close(na);
	if (rc == 0 && sd && set_sd_of(r->vol, ni, sd, sd_len) < 0)
		rc = -1;
	if (rc == 0 && attrib &&
	    (faulted("vol:set_attrib") ||
	     ntfs_set_ntfs_attrib(ni, (const char *)&attrib, sizeof attrib, 0) < 0))
		rc = -1;
close:;
	int e = errno;
	if (ntfs_inode_close_in_dir(ni, r->dir_ni) < 0)
		return -1;
	errno = e;
	if (rc < 0)
		return -1;

	/* Read back what is on the volume now. */
	ni = ntfs_inode_open(r->nv, r->tmp_no);
	if (!ni)
		return -1;
	uint8_t *back = NULL;
	size_t back_len = 0;
	rc = read_all(ni, &back, &back_len);
	e = errno;
	ntfs_inode_close_in_dir(ni, r->dir_ni);
	errno = e;
	if (rc == 0 && (back_len != len || memcmp(back, data, len) != 0)) {
		errno = EIO;
		rc = -1;
	}
	free(back);
	return rc;
}

static int free_name(struct replace *r, const char *leaf, const char *suffix, ntfschar **uname,
		     int *ulen, rp_err *err)
{
	char *name = rp_xasprintf("%s%s", leaf, suffix);
	struct dir_entry de;
	int found = find_entry(r->dir_ni, name, &de);
	int rc = 0;
	if (found != 0) {
		char *shown = rp_escape(name);
		if (found > 0)
			rc = rp_fail(err, RP_EXIT_PROBLEMS,
				     "writing %s on %s: %s is in the way (left by an interrupted "
				     "run?): move it away first",
				     r->path, r->vol->where, shown);
		else
			rc = fail_errno(r->vol, RP_EXIT_UNUSABLE, "looking up", name, err);
		free(shown);
	} else {
		*ulen = ntfs_mbstoucs(name, uname);
		if (*ulen <= 0 || *ulen > 255)
			rc =
			    rp_fail(err, RP_EXIT_PROBLEMS, "writing %s on %s: the name is too long",
				    r->path, r->vol->where);
	}
	free(name);
	return rc;
}

/* Whether the inode behind a directory entry is a plain user file (not a directory, not an NTFS
 * system file): only those are ever cleaned up as leftovers. */
static int is_user_file(struct replace *r, const struct dir_entry *de)
{
	if (MREF(de->mref) < FILE_first_user)
		return 0;
	ntfs_inode *ni = ntfs_inode_open(r->nv, MREF(de->mref));
	if (!ni)
		return -1;
	int plain = !(ni->mrec->flags & MFT_RECORD_IS_DIRECTORY);
	ntfs_inode_close_in_dir(ni, r->dir_ni);
	return plain;
}

/* Cleans up after a write_file that was interrupted (power loss, a failed roll-back) before it
 * could remove its temporary names; see the swap in nt_write_file.  "<leaf>.rdprescue-tmp" is
 * dropped: either the new copy never got in place, or it is in place under leaf as well.
 * "<leaf>.rdprescue-old" is dropped when leaf exists; when leaf is missing, the swap stopped
 * between unlinking leaf and linking the new copy, so the original gets its name back. */
static int clear_leftovers(struct replace *r, const char *leaf, rp_err *err)
{
	static const char *const suffixes[] = {RP_VOL_TMP_SUFFIX, RP_VOL_OLD_SUFFIX};
	for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
		char *name = rp_xasprintf("%s%s", leaf, suffixes[i]);
		char *shown = rp_escape(name), *shown_path = rp_escape(r->path);
		struct dir_entry de, cur;
		int rc = -1;
		int found = find_entry(r->dir_ni, name, &de);
		int plain = found > 0 ? is_user_file(r, &de) : 0;
		int has_leaf = found > 0 && i == 1 ? find_entry(r->dir_ni, leaf, &cur) : 1;
		int suffix_len = (int)strlen(suffixes[i]);
		if (found < 0 || plain < 0 || has_leaf < 0)
			fail_errno(r->vol, RP_EXIT_UNUSABLE, "looking up", name, err);
		else if (found == 0)
			rc = 0;
		else if (!plain)
			rp_fail(
			    err, RP_EXIT_PROBLEMS,
			    "writing next to %s on %s: %s is in the way and is not a file: move "
			    "it away first",
			    shown_path, r->vol->where, shown);
		else if (!has_leaf &&
			 link_name(r, MREF(de.mref), de.name, de.name_len - suffix_len) < 0)
			fail_errno(r->vol, RP_EXIT_WRITE_FAILED, "restoring the original from",
				   name, err);
		else if (unlink_name(r, MREF(de.mref), de.name, de.name_len) < 0)
			fail_errno(r->vol, RP_EXIT_WRITE_FAILED,
				   "removing what an interrupted run left:", name, err);
		else
			rc = 0;
		free(shown_path);
		free(shown);
		free(name);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Puts the original name back on the old inode and removes the temporary names: the volume
 * then holds the old file only. */
static int roll_back(struct replace *r)
{
	int rc = 0;
	if (!r->dir_ni && reopen_dir(r) < 0)
		return -1;
	if (r->has_old && r->old_linked) {
		struct dir_entry de;
		char *leaf = NULL;
		ntfs_ucstombs(r->name, r->name_len, &leaf, 0);
		int present = leaf ? find_entry(r->dir_ni, leaf, &de) : -1;
		free(leaf);
		if (present < 0)
			return -1;
		if (present == 0 && link_name(r, MREF(r->old_mref), r->name, r->name_len) < 0)
			return -1;
		if (unlink_name(r, MREF(r->old_mref), r->old_name, r->old_len) < 0)
			rc = -1;
		else
			r->old_linked = 0;
	}
	if (r->tmp_linked && unlink_name(r, r->tmp_no, r->tmp_name, r->tmp_len) < 0)
		rc = -1;
	else
		r->tmp_linked = 0;
	return rc;
}

static int nt_write_file(rp_vol *vol, const char *path, const uint8_t *data, size_t len,
			 const uint8_t *sd, size_t sd_len, rp_err *err)
{
	struct replace r = {.vol = vol, .nv = np(vol)->nv, .path = path};
	const char *leaf;
	char *parent = split_parent(path, &leaf);
	uint8_t *old_sd = NULL;
	size_t old_sd_len = 0;
	uint32_t attrib = 0;
	le32 securid = 0;
	int rc = -1;
	char *shown = rp_escape(path);

	if (leaf_name(vol, path, leaf, &r.name, &r.name_len, err) < 0)
		goto out;
	r.dir_ni = open_existing(vol, "writing into", parent, err);
	if (!r.dir_ni)
		goto out;
	r.dir_no = r.dir_ni->mft_no;
	if (clear_leftovers(&r, leaf, err) < 0)
		goto out;

	struct dir_entry old;
	int found = find_entry(r.dir_ni, leaf, &old);
	if (found < 0) {
		fail_errno(vol, RP_EXIT_UNUSABLE, "looking up", path, err);
		goto out;
	}
	if (free_name(&r, leaf, RP_VOL_TMP_SUFFIX, &r.tmp_name, &r.tmp_len, err) < 0 ||
	    free_name(&r, leaf, RP_VOL_OLD_SUFFIX, &r.old_name, &r.old_len, err) < 0)
		goto out;
	if (found) {
		/* Replace under the existing (real-case) name, with its SD and attributes. */
		r.has_old = 1;
		r.old_mref = old.mref;
		memcpy(r.name, old.name, (size_t)old.name_len * sizeof(ntfschar));
		r.name_len = old.name_len;
		ntfs_inode *ni = ntfs_inode_open(r.nv, MREF(old.mref));
		if (!ni) {
			fail_errno(vol, RP_EXIT_UNUSABLE, "opening", path, err);
			goto out;
		}
		int bad = ni->mft_no < FILE_first_user;
		attrib = file_attributes(ni) & ~(uint32_t)FILE_ATTR_NORMAL;
		int got = bad || sd ? 0 : get_sd_of(vol, ni, &old_sd, &old_sd_len);
		int e = errno;
		ntfs_inode_close_in_dir(ni, r.dir_ni);
		errno = e;
		if (bad) {
			rp_fail(err, RP_EXIT_PROBLEMS,
				"writing %s on %s: it is an NTFS system file", shown, vol->where);
			goto out;
		}
		if (got < 0) {
			fail_errno(vol, RP_EXIT_UNUSABLE, "reading the security descriptor of",
				   path, err);
			goto out;
		}
	} else if (!sd) {
		securid = ntfs_inherited_id(&np(vol)->scx, r.dir_ni, FALSE);
	}

	if (write_tmp(&r, data, len, sd ? sd : old_sd, sd ? sd_len : old_sd_len, attrib, securid) <
	    0) {
		fail_errno(vol, RP_EXIT_WRITE_FAILED, "writing a temporary copy of", path, err);
		goto fail;
	}
	/* The swap: old name -> .rdprescue-old, tmp -> name, then drop the two temp names. */
	if (r.has_old) {
		if (link_name(&r, MREF(r.old_mref), r.old_name, r.old_len) < 0) {
			fail_errno(vol, RP_EXIT_WRITE_FAILED, "keeping the old copy of", path, err);
			goto fail;
		}
		r.old_linked = 1;
		if (unlink_name(&r, MREF(r.old_mref), r.name, r.name_len) < 0) {
			fail_errno(vol, RP_EXIT_WRITE_FAILED, "unlinking the old", path, err);
			goto fail;
		}
	}
	if (link_name(&r, r.tmp_no, r.name, r.name_len) < 0) {
		fail_errno(vol, RP_EXIT_WRITE_FAILED, "linking the new", path, err);
		goto fail;
	}
	/* The new file is in place: from here on a failure leaves a stray temp name only. */
	r.has_old = 0;
	if (unlink_name(&r, r.tmp_no, r.tmp_name, r.tmp_len) < 0) {
		fail_errno(vol, RP_EXIT_WRITE_FAILED, "removing the temporary name of", path, err);
		goto out;
	}
	r.tmp_linked = 0;
	if (r.old_linked && unlink_name(&r, MREF(r.old_mref), r.old_name, r.old_len) < 0) {
		fail_errno(vol, RP_EXIT_WRITE_FAILED, "removing the old copy of", path, err);
		goto out;
	}
	rc = 0;
	goto out;
fail:
	if (roll_back(&r) == 0)
		rp_err_prefix(err, "rolled back, %s unchanged", shown);
	else
		rp_err_prefix(err, "roll-back failed too, check %s%s", shown, RP_VOL_OLD_SUFFIX);
out:
	if (r.dir_ni && ntfs_inode_close(r.dir_ni) < 0 && rc == 0)
		rc = fail_errno(vol, RP_EXIT_WRITE_FAILED, "writing", path, err);
	free(shown);
	free(old_sd);
	free(r.name);
	free(r.tmp_name);
	free(r.old_name);
	free(parent);
	return rc;
}

static int nt_remove(rp_vol *vol, const char *path, rp_err *err)
{
	const char *leaf;
	char *parent = split_parent(path, &leaf);
	int rc = -1;
	ntfs_inode *dir_ni = open_existing(vol, "removing from", parent, err);
	free(parent);
	if (!dir_ni)
		return -1;
	struct dir_entry de;
	int found = find_entry(dir_ni, leaf, &de);
	if (found <= 0) {
		if (found == 0)
			errno = ENOENT;
		fail_errno(vol, RP_EXIT_PROBLEMS, "removing", path, err);
		ntfs_inode_close(dir_ni);
		return -1;
	}
	ntfs_inode *ni =
	    MREF(de.mref) < FILE_first_user ? NULL : ntfs_inode_open(np(vol)->nv, MREF(de.mref));
	if (!ni) {
		if (MREF(de.mref) < FILE_first_user) {
			char *shown = rp_escape(path);
			rp_fail(err, RP_EXIT_PROBLEMS,
				"removing %s on %s: it is an NTFS system file", shown, vol->where);
			free(shown);
		} else {
			fail_errno(vol, RP_EXIT_UNUSABLE, "opening", path, err);
		}
		ntfs_inode_close(dir_ni);
		return -1;
	}
	if (faulted("vol:unlink")) {
		ntfs_inode_close_in_dir(ni, dir_ni);
		ntfs_inode_close(dir_ni);
	} else {
		/* ntfs_delete closes both inodes, also when it fails. */
		rc = ntfs_delete(np(vol)->nv, NULL, ni, dir_ni, de.name, (u8)de.name_len);
	}
	if (rc < 0)
		fail_errno(vol, RP_EXIT_WRITE_FAILED, "removing", path, err);
	return rc;
}

static int nt_sync(rp_vol *vol, rp_err *err)
{
	if (faulted("vol:sync") || ntfs_device_sync(np(vol)->nv->dev) < 0)
		return fail_errno(vol, RP_EXIT_WRITE_FAILED, "syncing", "/", err);
	return 0;
}

static int nt_free_space(rp_vol *vol, uint64_t *bytes, rp_err *err)
{
	ntfs_volume *nv = np(vol)->nv;
	/* Counts the clear bits of $Bitmap (also sets free_mft_records). */
	if (ntfs_volume_get_free_space(nv) < 0 || nv->free_clusters < 0)
		return fail_errno(vol, RP_EXIT_UNUSABLE, "counting the free clusters of", "/", err);
	*bytes = (uint64_t)nv->free_clusters * nv->cluster_size;
	return 0;
}

static void free_priv(struct ntfs_priv *p)
{
	if (!p)
		return;
	if (p->od) {
		free(p->od->path);
		free(p->od);
	}
	free(p);
}

static int nt_close(rp_vol *vol, rp_err *err)
{
	struct ntfs_priv *p = np(vol);
	int rc = 0;
	if (vol->writable && !vol->write_failed && nt_sync(vol, err) < 0)
		rc = -1;
	if (ntfs_umount(p->nv, FALSE) < 0 && rc == 0)
		rc = fail_errno(vol, vol->writable ? RP_EXIT_WRITE_FAILED : RP_EXIT_UNUSABLE,
				"unmounting", "/", err);
	free_priv(p);
	return rc;
}

const struct rp_vol_ops rp_vol_ntfs_ops = {
    .name = "ntfs",
    .stat = nt_stat,
    .read = nt_read,
    .list = nt_list,
    .get_sd = nt_get_sd,
    .set_sd = nt_set_sd,
    .mkdir = nt_mkdir,
    .write_file = nt_write_file,
    .remove = nt_remove,
    .sync = nt_sync,
    .free_space = nt_free_space,
    .close = nt_close,
};

/* ---- opening ---- */

static ntfs_volume *mount_at(struct offset_dev *od, unsigned long flags)
{
	struct ntfs_device *dev = ntfs_device_alloc(od->path, 0, &offset_dev_ops, od);
	if (!dev)
		return NULL;
	ntfs_volume *nv = ntfs_device_mount(dev, flags);
	if (!nv) {
		int e = errno;
		/* A failed mount leaves dev allocated, and possibly open. */
		if (NDevOpen(dev))
			od_close(dev);
		ntfs_device_free(dev);
		errno = e;
	}
	return nv;
}

/* What Windows left behind, read without writing anything. */
static void diagnose(ntfs_volume *nv, rp_vol_state *st)
{
	st->dirty_flag = (nv->flags & VOLUME_IS_DIRTY) != 0;
	if (ntfs_volume_check_hiberfile(nv, 0) < 0 && errno == EPERM)
		st->hibernated = 1;
	ntfs_inode *ni = ntfs_inode_open(nv, FILE_LogFile);
	ntfs_attr *na = ni ? ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0) : NULL;
	if (na) {
		RESTART_PAGE_HEADER *rp = NULL;
		if (!ntfs_check_logfile(na, &rp)) {
			st->log_unclean = 1;
		} else if (rp) {
			st->log_v2 = sle16_to_cpu(rp->major_ver) >= 2;
			st->log_unclean = !ntfs_is_logfile_clean(na, rp);
		}
		free(rp);
		ntfs_attr_close(na);
	}
	if (ni)
		ntfs_inode_close(ni);
}

/* Reads the partition's first sector: BitLocker and "not NTFS" get clear messages before
 * libntfs-3g says "NTFS signature is missing". */
static int check_boot_sector(struct offset_dev *od, rp_err *err)
{
	int fd = open(od->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rp_fail(err, RP_EXIT_UNUSABLE, "cannot open %s: %s", od->path,
			       strerror(errno));
	struct stat st;
	uint8_t sector[512];
	int rc = 0;
	if (fstat(fd, &st) < 0)
		rc = rp_fail(err, RP_EXIT_UNUSABLE, "%s: %s", od->path, strerror(errno));
	else if (pread(fd, sector, sizeof sector, (off_t)od->base) != (ssize_t)sizeof sector)
		rc = rp_fail(err, RP_EXIT_UNUSABLE,
			     "%s: cannot read the boot sector at byte %llu: the image is truncated "
			     "or unreadable",
			     od->path, (unsigned long long)od->base);
	close(fd);
	if (rc < 0)
		return rc;
	od->is_blockdev = S_ISBLK(st.st_mode);
	switch (rp_disk_classify(sector, sizeof sector)) {
	case RP_FS_NTFS:
		return 0;
	case RP_FS_BITLOCKER:
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "the volume at byte %llu of %s is encrypted with BitLocker: unlock "
			       "it first (e.g. dislocker) and give the unlocked volume",
			       (unsigned long long)od->base, od->path);
	default:
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "there is no NTFS file system at byte %llu of %s",
			       (unsigned long long)od->base, od->path);
	}
}

static int mount_failure(const char *path, uint64_t offset, int e, rp_err *err)
{
	if (e == EBUSY)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "%s is in use (mounted, or opened by another rdprescue): unmount or "
			       "stop it first",
			       path);
	return rp_fail(err, RP_EXIT_UNUSABLE,
		       "cannot open the NTFS volume at byte %llu of %s: %s (run chkdsk on it in "
		       "Windows if the file system is damaged)",
		       (unsigned long long)offset, path, strerror(e));
}

int rp_vol_open_ntfs(rp_vol **out, const char *dev_path, uint64_t offset, uint64_t size,
		     int writable, rp_err *err)
{
	*out = NULL;
	/* libntfs-3g would print to stderr; failures come back through errno instead. */
	ntfs_log_set_handler(ntfs_log_handler_null);
	if (size < 512 || offset > UINT64_MAX - size)
		return rp_fail(err, RP_EXIT_USAGE, "invalid volume range (byte %llu, %llu bytes)",
			       (unsigned long long)offset, (unsigned long long)size);
	struct ntfs_priv *p = rp_xcalloc(1, sizeof *p);
	p->od = rp_xcalloc(1, sizeof *p->od);
	p->od->path = rp_xstrdup(dev_path);
	p->od->fd = -1;
	p->od->base = offset;
	p->od->size = size;
	if (check_boot_sector(p->od, err) < 0) {
		free_priv(p);
		return -1;
	}

	rp_vol_state state = {0};
	p->nv = mount_at(p->od, writable ? 0 : NTFS_MNT_RDONLY);
	if (!p->nv && writable && (errno == EPERM || errno == EOPNOTSUPP)) {
		/* Refused read-write: find out why, read-only, and say so. */
		int e = errno;
		ntfs_volume *ro = mount_at(p->od, NTFS_MNT_RDONLY);
		if (ro) {
			diagnose(ro, &state);
			ntfs_umount(ro, FALSE);
		}
		const char *why = rp_vol_state_refusal(&state);
		free_priv(p);
		if (why)
			return rp_fail(err, RP_EXIT_UNUSABLE,
				       "cannot write to the Windows volume at byte %llu of %s: %s",
				       (unsigned long long)offset, dev_path, why);
		return mount_failure(dev_path, offset, e, err);
	}
	if (!p->nv) {
		int e = errno;
		free_priv(p);
		return mount_failure(dev_path, offset, e, err);
	}
	if (writable && NVolReadOnly(p->nv)) {
		ntfs_umount(p->nv, FALSE);
		free_priv(p);
		return rp_fail(
		    err, RP_EXIT_UNUSABLE,
		    "%s is not writable by this user (permission denied): run as root or "
		    "work on a writable copy",
		    dev_path);
	}
	if (ntfs_set_ignore_case(p->nv) < 0) {
		ntfs_umount(p->nv, FALSE);
		free_priv(p);
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "%s: the NTFS volume at byte %llu has no usable upcase table",
			       dev_path, (unsigned long long)offset);
	}
	/* Hide the $MFT & co. metafiles, show hidden files (Windows has many). */
	ntfs_set_shown_files(p->nv, FALSE, TRUE, FALSE);
	diagnose(p->nv, &state);
	if (!writable)
		state.read_only = access(dev_path, W_OK) != 0;
	p->scx.vol = p->nv;
	p->scx.pseccache = &p->seccache;

	rp_vol *vol = rp_vol_new(&rp_vol_ntfs_ops, dev_path, writable);
	vol->priv = p;
	vol->state = state;
	vol->size = (uint64_t)p->nv->nr_clusters * p->nv->cluster_size;
	snprintf(vol->label, sizeof vol->label, "%s", p->nv->vol_name ? p->nv->vol_name : "");
	*out = vol;
	return 0;
}
