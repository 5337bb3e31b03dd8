/*
 * inuse.c — may we write to these bytes?  Refuses, before anything is read or written, a target
 * whose bytes somebody else is using or that cannot be written at all:
 *
 *  - read-only: a block device with BLKROGET set (`losetup -r`, a cloud disk attached
 *    read-only), an image file that cannot be opened for writing, a /dev node a non-root user
 *    may not open;
 *  - in use: the same bytes reachable through another block device that is mounted (kernel or
 *    FUSE mount, found in /proc/self/mountinfo by major:minor or by the mount's source), mapped
 *    by device-mapper (kpartx, LVM: /sys/.../holders) or held open exclusively (O_EXCL).
 *    For an image file: every loop device whose backing file is the same inode (st_dev/st_ino)
 *    and whose window (loop/offset, loop/sizelimit) overlaps the volume, and its partitions
 *    (loopNpM, sysfs start/size in 512-byte sectors) that overlap it.
 *    For a block device: the device, its partitions that overlap the volume, their holders.
 *    Device-mapper devices over any of them (holders/, or a dm-N whose slaves/ names one):
 *    their tables (the offsets) are not in sysfs, so any mapping counts and the message says
 *    so.  Where to look (sysfs, mountinfo, /dev) comes from rp_disk_roots: the tests give a
 *    fake tree.
 *
 * Two writers on one NTFS volume destroy it; this is the only place that looks for the other.
 */
#include "disk/disk.h"
#include "util/file.h"
#include "util/text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAX_DEVS 64
#define PATH_LEN 4096

static const rp_disk_roots real_roots = {"/sys", "/proc/self/mountinfo", "/dev"};

/* A block device that shows the target's bytes. */
typedef struct blkdev {
	dev_t dev;
	char name[256];	  /* kernel name: "loop0p2", "dm-1" */
	char mapper[256]; /* device-mapper: its name (/dev/mapper/NAME), else "" */
} blkdev;

typedef struct devset {
	const rp_disk_roots *r;
	blkdev d[MAX_DEVS];
	size_t n;
} devset;

static int read_u64(const char *path, uint64_t *out)
{
	char buf[64], *end;
	if (rp_file_first_line(path, buf, sizeof buf) < 0)
		return -1;
	unsigned long long v = strtoull(buf, &end, 10);
	if (end == buf)
		return -1;
	*out = v;
	return 0;
}

/* "MAJ:MIN" -> dev_t. */
static int parse_devno(const char *s, dev_t *out)
{
	unsigned maj, min;
	if (sscanf(s, "%u:%u", &maj, &min) != 2)
		return -1;
	*out = makedev(maj, min);
	return 0;
}

/* <sys>/dev/block/MAJ:MIN */
static void sys_dev(const devset *s, dev_t dev, char *out, size_t size)
{
	snprintf(out, size, "%s/dev/block/%u:%u", s->r->sys, major(dev), minor(dev));
}

static void add_dev(devset *s, dev_t dev, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->d[i].dev == dev)
			return;
	if (s->n == MAX_DEVS)
		return;
	blkdev *b = &s->d[s->n++];
	memset(b, 0, sizeof *b);
	b->dev = dev;
	snprintf(b->name, sizeof b->name, "%s", name);
	/* A device-mapper device says its name in dm/name (kpartx: "loop0p2"). */
	char p[PATH_LEN];
	sys_dev(s, dev, p, sizeof p);
	size_t used = strlen(p);
	snprintf(p + used, sizeof p - used, "/dm/name");
	if (rp_file_first_line(p, b->mapper, sizeof b->mapper) < 0 || strchr(b->mapper, '/'))
		b->mapper[0] = 0;
}

/* How messages name b: "/dev/mapper/loop0p2" for a mapping, else "/dev/loop0p2". */
static void shown_name(const blkdev *b, char *out, size_t size)
{
	if (b->mapper[0])
		snprintf(out, size, "/dev/mapper/%s", b->mapper);
	else
		snprintf(out, size, "/dev/%s", b->name);
}

/* The kernel name of dev ("loop0p2"), from the <sys>/dev/block link. */
static void dev_name(const devset *s, dev_t dev, char *name, size_t size)
{
	char link[PATH_LEN], target[PATH_LEN];
	sys_dev(s, dev, link, sizeof link);
	ssize_t n = readlink(link, target, sizeof target - 1);
	if (n <= 0) {
		snprintf(name, size, "%u:%u", major(dev), minor(dev));
		return;
	}
	target[n] = 0;
	const char *slash = strrchr(target, '/');
	snprintf(name, size, "%.200s", slash ? slash + 1 : target);
}

static int overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Partitions of whole (a disk whose byte 0 is target byte base) that overlap the volume. */
static void add_partitions(devset *s, dev_t whole, uint64_t base, uint64_t offset, uint64_t size)
{
	char dir[PATH_LEN];
	sys_dev(s, whole, dir, sizeof dir);
	DIR *dh = opendir(dir);
	if (!dh)
		return;
	struct dirent *de;
	while ((de = readdir(dh)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char p[2 * PATH_LEN], buf[64];
		uint64_t start, sectors;
		dev_t dev;
		snprintf(p, sizeof p, "%s/%s/partition", dir, de->d_name);
		if (access(p, F_OK) != 0)
			continue;
		snprintf(p, sizeof p, "%s/%s/start", dir, de->d_name);
		if (read_u64(p, &start) < 0)
			continue;
		snprintf(p, sizeof p, "%s/%s/size", dir, de->d_name);
		if (read_u64(p, &sectors) < 0)
			continue;
		snprintf(p, sizeof p, "%s/%s/dev", dir, de->d_name);
		if (rp_file_first_line(p, buf, sizeof buf) < 0 || parse_devno(buf, &dev) < 0)
			continue;
		/* sysfs counts 512-byte sectors whatever the logical block size. */
		if (start <= (UINT64_MAX - base) / 512 && sectors <= UINT64_MAX / 512 &&
		    overlaps(base + start * 512, sectors * 512, offset, size))
			add_dev(s, dev, de->d_name);
	}
	closedir(dh);
}

/* Adds the device <sys>/class/block/NAME. */
static void add_named(devset *s, const char *name)
{
	char p[PATH_LEN], buf[64];
	dev_t dev;
	snprintf(p, sizeof p, "%s/class/block/%s/dev", s->r->sys, name);
	if (rp_file_first_line(p, buf, sizeof buf) == 0 && parse_devno(buf, &dev) == 0)
		add_dev(s, dev, name);
}

static int in_set(const devset *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->d[i].name, name))
			return 1;
	return 0;
}

/* Devices built on top of s's devices (device-mapper: kpartx, LVM; md), recursively: each
 * device's holders/, and every <sys>/block/X whose slaves/ names one of them (the same link
 * seen from above).  A device-mapper table may map any part of its slave; sysfs does not say
 * which (only `dmsetup table` does), so every mapping over the device counts. */
static void add_holders(devset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		char dir[PATH_LEN];
		sys_dev(s, s->d[i].dev, dir, sizeof dir);
		size_t used = strlen(dir);
		snprintf(dir + used, sizeof dir - used, "/holders");
		DIR *dh = opendir(dir);
		struct dirent *de;
		while (dh && (de = readdir(dh)) != NULL)
			if (de->d_name[0] != '.')
				add_named(s, de->d_name);
		if (dh)
			closedir(dh);
		/* Slaves seen from above: once per new device, every block device's slaves/. */
		char block[PATH_LEN];
		snprintf(block, sizeof block, "%s/block", s->r->sys);
		DIR *bh = opendir(block);
		while (bh && (de = readdir(bh)) != NULL) {
			if (de->d_name[0] == '.' || in_set(s, de->d_name))
				continue;
			char p[2 * PATH_LEN];
			snprintf(p, sizeof p, "%s/%s/slaves/%s", block, de->d_name, s->d[i].name);
			if (access(p, F_OK) == 0)
				add_named(s, de->d_name);
		}
		if (bh)
			closedir(bh);
	}
}

/* Loop devices whose backing file is st's inode and whose window overlaps the volume. */
static void add_loops(devset *s, const struct stat *st, uint64_t offset, uint64_t size)
{
	char block[PATH_LEN];
	snprintf(block, sizeof block, "%s/block", s->r->sys);
	DIR *dh = opendir(block);
	if (!dh)
		return;
	struct dirent *de;
	while ((de = readdir(dh)) != NULL) {
		if (strncmp(de->d_name, "loop", 4) != 0)
			continue;
		char p[2 * PATH_LEN], backing[PATH_LEN], buf[64];
		struct stat bst;
		uint64_t loff = 0, limit = 0;
		dev_t dev;
		snprintf(p, sizeof p, "%s/%s/loop/backing_file", block, de->d_name);
		if (rp_file_first_line(p, backing, sizeof backing) < 0 ||
		    stat(backing, &bst) != 0 || bst.st_dev != st->st_dev ||
		    bst.st_ino != st->st_ino)
			continue;
		snprintf(p, sizeof p, "%s/%s/loop/offset", block, de->d_name);
		read_u64(p, &loff);
		snprintf(p, sizeof p, "%s/%s/loop/sizelimit", block, de->d_name);
		read_u64(p, &limit);
		if (!overlaps(loff, limit ? limit : UINT64_MAX - loff, offset, size))
			continue;
		snprintf(p, sizeof p, "%s/%s/dev", block, de->d_name);
		if (rp_file_first_line(p, buf, sizeof buf) < 0 || parse_devno(buf, &dev) < 0)
			continue;
		add_dev(s, dev, de->d_name);
		add_partitions(s, dev, loff, offset, size);
	}
	closedir(dh);
}

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape_mountinfo(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
}

/* Finds a mount of one of s's devices, or of the file st itself (ntfs-3g on an image file).
 * Fills what ("/dev/loop0p2") and where (mount point); 1 when found. */
static int find_mount(const devset *s, const struct stat *file, char *what, size_t what_size,
		      char *where, size_t where_size)
{
	FILE *f = fopen(s->r->mountinfo, "re");
	if (!f)
		return 0;
	char *line = NULL;
	size_t cap = 0;
	int found = 0;
	while (!found && getline(&line, &cap, f) > 0) {
		char devno[32], mnt[4096], source[4096], src_path[PATH_LEN];
		const char *sep = strstr(line, " - ");
		dev_t dev;
		if (!sep || sscanf(line, "%*s %*s %31s %*s %4095s", devno, mnt) != 2 ||
		    sscanf(sep + 3, "%*s %4095s", source) != 1 || parse_devno(devno, &dev) < 0)
			continue;
		unescape_mountinfo(mnt);
		unescape_mountinfo(source);
		/* A source under /dev is looked up under the /dev root. */
		if (!strncmp(source, "/dev/", 5))
			snprintf(src_path, sizeof src_path, "%s/%s", s->r->dev, source + 5);
		else
			snprintf(src_path, sizeof src_path, "%s", source);
		struct stat sst;
		int have_src = source[0] == '/' && stat(src_path, &sst) == 0;
		/* The kernel name the source resolves to (/dev/mapper/NAME links to ../dm-N). */
		char *real = strncmp(source, "/dev/", 5) ? NULL : realpath(src_path, NULL);
		const char *src_name = real ? strrchr(real, '/') + 1 : NULL;
		for (size_t i = 0; i < s->n && !found; i++) {
			/* A kernel file system shows the device; FUSE (ntfs-3g) only its source. */
			if (dev == s->d[i].dev ||
			    (have_src && S_ISBLK(sst.st_mode) && sst.st_rdev == s->d[i].dev) ||
			    (src_name && !strcmp(src_name, s->d[i].name))) {
				shown_name(&s->d[i], what, what_size);
				found = 1;
			}
		}
		if (!found && file && have_src && S_ISREG(sst.st_mode) &&
		    sst.st_dev == file->st_dev && sst.st_ino == file->st_ino) {
			snprintf(what, what_size, "%s", source);
			found = 1;
		}
		free(real);
		if (found)
			snprintf(where, where_size, "%s", mnt);
	}
	free(line);
	fclose(f);
	return found;
}

/* 1 when somebody holds dev open exclusively (a mount, a mapping, a VM, mkfs, ...). */
static int held_exclusively(const devset *s, const blkdev *b)
{
	char node[PATH_LEN];
	struct stat st;
	snprintf(node, sizeof node, "%s/%s", s->r->dev, b->name);
	if (stat(node, &st) != 0 || !S_ISBLK(st.st_mode) || st.st_rdev != b->dev)
		return 0;
	int fd = open(node, O_RDONLY | O_EXCL | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno == EBUSY;
}

/* The device itself: readable, writable, not read-only. */
static int check_blockdev_writable(const char *path, const char *shown, rp_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EPERM))
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "%s cannot be opened (permission denied): run as root", shown);
	if (fd < 0)
		return rp_fail(err, RP_EXIT_UNUSABLE, "cannot open %s: %s", shown, strerror(errno));
	int ro = 0;
	int rc = ioctl(fd, BLKROGET, &ro);
	close(fd);
	if (rc == 0 && ro)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "the device %s is read-only: attach it read-write (losetup without "
			       "-r, or the cloud disk attached read-write) and run again",
			       shown);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == EROFS)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "the device %s is read-only: attach it read-write and run again",
			       shown);
	if ((errno == EACCES || errno == EPERM) && geteuid() != 0)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "%s is not writable by this user (permission denied): run as root",
			       shown);
	return rp_fail(err, RP_EXIT_UNUSABLE, "cannot open %s for writing: %s", shown,
		       strerror(errno));
}

static int check_file_writable(const char *path, const char *shown, rp_err *err)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == EROFS)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "%s is on a read-only file system: work on a writable copy", shown);
	if (errno == EACCES || errno == EPERM)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "%s is not writable by this user (permission denied): run as root "
			       "or work on a writable copy",
			       shown);
	return rp_fail(err, RP_EXIT_UNUSABLE, "cannot open %s for writing: %s", shown,
		       strerror(errno));
}

static int check_in_use(const rp_disk_roots *roots, const struct stat *st, uint64_t offset,
			uint64_t size, const char *command, const char *shown, rp_err *err)
{
	devset s = {.r = roots};
	struct stat file;
	int have_file = 0;
	if (S_ISBLK(st->st_mode)) {
		char name[256];
		dev_name(&s, st->st_rdev, name, sizeof name);
		add_dev(&s, st->st_rdev, name);
		add_partitions(&s, st->st_rdev, 0, offset, size);
		/* A loop device: the same file may be attached again, or mounted directly. */
		char p[PATH_LEN], backing[PATH_LEN];
		uint64_t loff = 0;
		sys_dev(&s, st->st_rdev, p, sizeof p);
		size_t used = strlen(p);
		snprintf(p + used, sizeof p - used, "/loop/backing_file");
		if (rp_file_first_line(p, backing, sizeof backing) == 0 &&
		    stat(backing, &file) == 0 && S_ISREG(file.st_mode)) {
			snprintf(p + used, sizeof p - used, "/loop/offset");
			read_u64(p, &loff);
			if (loff <= UINT64_MAX - offset - size)
				add_loops(&s, &file, loff + offset, size);
			have_file = 1;
		}
	} else {
		file = *st;
		have_file = 1;
		add_loops(&s, st, offset, size);
	}
	add_holders(&s);

	char what[4200], where[4096];
	if (find_mount(&s, have_file ? &file : NULL, what, sizeof what, where, sizeof where)) {
		char *ewhat = rp_escape(what), *ewhere = rp_escape(where);
		rp_fail(err, RP_EXIT_UNUSABLE,
			"%s is in use: %s is mounted at %s; give the mount point instead "
			"(rdprescue %s %s) or unmount it",
			shown, ewhat, ewhere, command, ewhere);
		free(ewhat);
		free(ewhere);
		return -1;
	}
	for (size_t i = 0; i < s.n; i++) {
		char name[300];
		shown_name(&s.d[i], name, sizeof name);
		char *ename = rp_escape(name);
		int rc = 0;
		if (s.d[i].mapper[0] || strncmp(s.d[i].name, "dm-", 3) == 0)
			rc = rp_fail(err, RP_EXIT_UNUSABLE,
				     "%s is in use: the device-mapper device %s (%s; kpartx, LVM) "
				     "maps bytes of it, perhaps the volume's (only its table, "
				     "dmsetup table, says which); remove the mapping (kpartx -d, "
				     "dmsetup remove) or mount the volume and give the mount point "
				     "(rdprescue %s /mnt/...)",
				     shown, ename, s.d[i].name, command);
		else if (strncmp(s.d[i].name, "md", 2) == 0)
			rc = rp_fail(err, RP_EXIT_UNUSABLE,
				     "%s is in use: the RAID device %s is built on it; stop it "
				     "(mdadm --stop) or mount it and give the mount point "
				     "(rdprescue %s /mnt/...)",
				     shown, ename, command);
		free(ename);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < s.n; i++)
		if (held_exclusively(&s, &s.d[i]))
			return rp_fail(
			    err, RP_EXIT_UNUSABLE,
			    "%s is in use: /dev/%s is held open exclusively by another "
			    "program (a mount in another namespace, a VM, a partitioner); "
			    "stop it, or mount the volume and give the mount point "
			    "(rdprescue %s /mnt/...)",
			    shown, s.d[i].name, command);
	return 0;
}

int rp_disk_check_write(const char *path, uint64_t offset, uint64_t size, const char *command,
			rp_err *err)
{
	return rp_disk_check_write_in(NULL, path, offset, size, command, err);
}

int rp_disk_check_write_in(const rp_disk_roots *roots, const char *path, uint64_t offset,
			   uint64_t size, const char *command, rp_err *err)
{
	char *shown = rp_escape(path);
	struct stat st;
	int rc;
	if (stat(path, &st) != 0)
		rc = rp_fail(err, RP_EXIT_UNUSABLE, "cannot open %s: %s", shown, strerror(errno));
	else if (S_ISBLK(st.st_mode))
		rc = check_blockdev_writable(path, shown, err);
	else if (S_ISREG(st.st_mode))
		rc = check_file_writable(path, shown, err);
	else
		rc = rp_fail(err, RP_EXIT_USAGE, "%s is not a disk, image or directory", shown);
	if (rc == 0)
		rc = check_in_use(roots ? roots : &real_roots, &st, offset, size, command, shown,
				  err);
	free(shown);
	return rc;
}
