/*
 * test_inuse.c — rp_disk_check_write_in (src/disk/inuse.c) on a fake kernel: a temporary
 * directory holds the /sys/block, /sys/dev/block and /sys/class/block entries, a mountinfo file
 * and a /dev tree that a loop device with partitions, a kpartx (device-mapper) mapping and their
 * mounts would show, so that the branches this container's kernel cannot exercise (no loop
 * partition scanning, no device-mapper) run too.  The target is a real image file: loop
 * devices are matched to it by the backing file's inode.
 *
 * The volume is "partition 2" of the image: bytes [P2, P2 + P2_LEN).
 *
 * rp_disk_identity_in (src/disk/ident.c) on the same kind of fake sysfs, for a real block
 * device node (its number leads into the fake tree): WWID, serial, a partition traced to its
 * disk, a loop device's backing file; and, as root, the GPT disk GUID and MBR signature read
 * from loop devices over images made by sgdisk and sfdisk.
 */
#include "disk/disk.h"
#include "test.h"
#include "util/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define P1_SECTOR 2048ULL
#define P1_SECTORS 32768ULL /* 16 MiB */
#define P2_SECTOR 34816ULL
#define P2_SECTORS 159744ULL
#define P2 (P2_SECTOR * 512)
#define P2_LEN (P2_SECTORS * 512)

static char tmpdir[] = "/tmp/test_inuse.XXXXXX";
static char img[512], other[512], root[512];
static rp_disk_roots roots;
static char sys_root[600], mountinfo[600], dev_root[600];

/* Writes text (printf) to root/rel, creating the folders on the way. */
static void put(const char *rel, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(const char *rel, const char *fmt, ...)
{
	char path[1024], cmd[1200];
	snprintf(path, sizeof path, "%s/%s", root, rel);
	snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
	if (system(cmd) != 0)
		return;
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

/* A symbolic link root/rel -> target, as sysfs and udev make them. */
static void link_to(const char *target, const char *rel)
{
	char path[1024], cmd[1200];
	snprintf(path, sizeof path, "%s/%s", root, rel);
	snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
	if (system(cmd) == 0 && symlink(target, path) != 0)
		perror(path);
}

/* A fresh, empty fake kernel: no loop device, nothing mounted. */
static void reset(void)
{
	char cmd[2000];
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s/sys/block' '%s/dev'", root, root,
		 root);
	if (system(cmd) != 0)
		perror(cmd);
	put("mountinfo", "22 1 0:21 / /proc rw,nosuid - proc proc rw\n");
}

/* Block device NAME (MAJ:MIN) in /sys/block (parent NULL) or as a partition of parent, with its
 * /sys/dev/block and /sys/class/block links and a /dev entry (a plain file: only its name
 * matters here). */
static void blockdev(const char *name, const char *parent, unsigned maj, unsigned min)
{
	char rel[256], target[300];
	if (parent)
		snprintf(rel, sizeof rel, "sys/block/%s/%s", parent, name);
	else
		snprintf(rel, sizeof rel, "sys/block/%s", name);
	char dev[300];
	snprintf(dev, sizeof dev, "%s/dev", rel);
	put(dev, "%u:%u\n", maj, min);
	snprintf(target, sizeof target, "../../%s", rel + 4); /* from sys/dev/block */
	char link[128];
	snprintf(link, sizeof link, "sys/dev/block/%u:%u", maj, min);
	link_to(target, link);
	snprintf(link, sizeof link, "sys/class/block/%s", name);
	link_to(target, link);
	snprintf(link, sizeof link, "dev/%s", name);
	put(link, "%s", "");
}

/* loopN over file at offset (sizelimit 0: to the end). */
static void loop(const char *name, unsigned min, const char *file, uint64_t offset,
		 uint64_t sizelimit)
{
	char rel[256];
	blockdev(name, NULL, 7, min);
	snprintf(rel, sizeof rel, "sys/block/%s/loop/backing_file", name);
	put(rel, "%s\n", file);
	snprintf(rel, sizeof rel, "sys/block/%s/loop/offset", name);
	put(rel, "%llu\n", (unsigned long long)offset);
	snprintf(rel, sizeof rel, "sys/block/%s/loop/sizelimit", name);
	put(rel, "%llu\n", (unsigned long long)sizelimit);
}

/* Partition NAME of loop parent: start and size in 512-byte sectors (as sysfs counts). */
static void partition(const char *name, const char *parent, unsigned min, uint64_t start,
		      uint64_t sectors, int number)
{
	char rel[256];
	blockdev(name, parent, 259, min);
	snprintf(rel, sizeof rel, "sys/block/%s/%s/partition", parent, name);
	put(rel, "%d\n", number);
	snprintf(rel, sizeof rel, "sys/block/%s/%s/start", parent, name);
	put(rel, "%llu\n", (unsigned long long)start);
	snprintf(rel, sizeof rel, "sys/block/%s/%s/size", parent, name);
	put(rel, "%llu\n", (unsigned long long)sectors);
}

/* dm-N named mapper over slave (kpartx: "loop0p2" over loop0), seen from both sides unless
 * holders_too is 0 (then only the mapping's slaves/ names it). */
static void mapping(unsigned min, const char *mapper, const char *slave, int holders_too)
{
	char name[32], rel[256], target[256];
	snprintf(name, sizeof name, "dm-%u", min);
	blockdev(name, NULL, 253, min);
	snprintf(rel, sizeof rel, "sys/block/%s/dm/name", name);
	put(rel, "%s\n", mapper);
	snprintf(rel, sizeof rel, "sys/block/%s/slaves/%s", name, slave);
	snprintf(target, sizeof target, "../../%s", slave);
	link_to(target, rel);
	if (holders_too) {
		snprintf(rel, sizeof rel, "sys/block/%s/holders/%s", slave, name);
		snprintf(target, sizeof target, "../../%s", name);
		link_to(target, rel);
	}
	snprintf(rel, sizeof rel, "dev/mapper/%s", mapper);
	snprintf(target, sizeof target, "../%s", name);
	link_to(target, rel);
}

/* A mountinfo line: a kernel mount shows the device's number, FUSE (ntfs-3g) 0:N and the
 * source only. */
static void mount_line(const char *devno, const char *point, const char *fstype, const char *source)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/mountinfo", root);
	FILE *f = fopen(path, "a");
	if (!f)
		return;
	fprintf(f, "40 22 %s / %s rw,relatime shared:1 - %s %s rw\n", devno, point, fstype, source);
	fclose(f);
}

/* Runs the check for fix; the message ("" when the write may go ahead), exit code in *code. */
static const char *run(int *code)
{
	static rp_err err;
	rp_err_clear(&err);
	int rc = rp_disk_check_write_in(&roots, img, P2, P2_LEN, "fix", &err);
	*code = rc == 0 ? 0 : err.exit_code;
	return rc == 0 ? "" : err.msg;
}

static int has(const char *msg, const char *part)
{
	return strstr(msg, part) != NULL;
}

static void expect_mounted(const char *name, const char *what, const char *where)
{
	int code;
	const char *msg = run(&code);
	char *want = rp_xasprintf("is in use: %s is mounted at %s; give the mount point instead "
				  "(rdprescue fix %s) or unmount it",
				  what, where, where);
	CHECK(code == 3 && has(msg, want), "%s: exit %d, %s", name, code, msg);
	free(want);
}

static void expect_free(const char *name)
{
	int code;
	const char *msg = run(&code);
	CHECK(code == 0 && !msg[0], "%s: may be written (exit %d%s%s)", name, code,
	      msg[0] ? ", " : "", msg);
}

/* The output of a shell command, first line, malloc'd. */
static char *sh_out(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char *out = rp_xcalloc(1, 512);
	if (p) {
		if (!fgets(out, 512, p))
			out[0] = 0;
		pclose(p);
	}
	out[strcspn(out, "\n")] = 0;
	return out;
}

/* rp_disk_identity_in for node: its identity ("" when none) and the return value. */
static const char *ident(const char *node, int *found)
{
	static char out[300];
	*found = rp_disk_identity_in(&roots, node, out, sizeof out);
	return out;
}

static void test_identity(void)
{
	/* A block device node of this machine; only its number matters with a fake sysfs. */
	static const char *const nodes[] = {"/dev/loop7", "/dev/loop0", "/dev/vda", "/dev/sda"};
	const char *node = NULL;
	struct stat st;
	for (size_t i = 0; !node && i < sizeof nodes / sizeof nodes[0]; i++)
		if (stat(nodes[i], &st) == 0 && S_ISBLK(st.st_mode))
			node = nodes[i];
	if (!NEED(node != NULL, "identity: a block device node (/dev/loop7, /dev/vda, ...)"))
		return;
	char devlink[64];
	snprintf(devlink, sizeof devlink, "sys/dev/block/%u:%u", major(st.st_rdev),
		 minor(st.st_rdev));
	int found;
	const char *id;

	reset();
	link_to("../../block/sdz", devlink);
	put("sys/block/sdz/wwid", "naa.60022480f0a1b2c3d4e5f60718293a4b\n");
	put("sys/block/sdz/device/serial", "NOT-THIS\n");
	id = ident(node, &found);
	CHECK(found == 1 && !strcmp(id, "wwid:naa.60022480f0a1b2c3d4e5f60718293a4b"),
	      "identity: the disk's wwid first (%s)", id);

	reset();
	link_to("../../block/vdz", devlink);
	put("sys/block/vdz/serial", "  BHYVE-1234 \t\n");
	id = ident(node, &found);
	CHECK(found == 1 && !strcmp(id, "serial:BHYVE-1234"), "identity: a trimmed serial (%s)",
	      id);

	reset();
	link_to("../../block/sdz/sdz2", devlink);
	put("sys/block/sdz/sdz2/partition", "2\n");
	put("sys/block/sdz/device/wwid", "t10.ATA     Samsung SSD 870\n");
	put("sys/block/sdz/sdz2/wwid", "NOT-THE-PARTITION\n");
	id = ident(node, &found);
	CHECK(found == 1 && !strcmp(id, "wwid:t10.ATA     Samsung SSD 870"),
	      "identity: a partition is traced to its disk (%s)", id);

	reset();
	link_to("../../block/loop9", devlink);
	put("sys/block/loop9/loop/backing_file", "/images/win\x01.img\n");
	id = ident(node, &found);
	CHECK(found == 1 && !strcmp(id, "loop:/images/win_.img"),
	      "identity: a loop device by its backing file, control bytes replaced (%s)", id);

	reset();
	link_to("../../block/sdz/sdz1", devlink);
	put("sys/block/sdz/sdz1/partition", "1\n");
	put("sys/block/sdz/wwid", "   \n");
	id = ident(node, &found);
	CHECK(found == 0 && !id[0],
	      "identity: a partition whose disk has no name, blank wwid: none (%s)", id);
	id = ident(img, &found);
	CHECK(found == 0 && !id[0],
	      "identity: an image file has none (the journal sits beside it)");

	/* The partition table's own identity, read from real loop devices (root). */
	if (geteuid() != 0 || system("command -v losetup sgdisk sfdisk >/dev/null") != 0) {
		SKIP("needs root, losetup, sgdisk and sfdisk",
		     "identity: GPT disk GUID, MBR signature");
		return;
	}
	reset();
	char cmd[1400];
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && truncate -s 8M gpt.img mbr.img && "
		 "sgdisk -U 0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0 -n 1:2048:0 gpt.img >/dev/null && "
		 "printf 'label: dos\\nlabel-id: 0x1234abcd\\n2048,,7\\n' | sfdisk -q mbr.img",
		 tmpdir);
	if (!NEED(system(cmd) == 0, "identity: GPT and MBR images made"))
		return;
	static const char *const want[] = {"gpt:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
					   "mbr:1234abcd"};
	static const char *const file[] = {"gpt.img", "mbr.img"};
	for (int i = 0; i < 2; i++) {
		snprintf(cmd, sizeof cmd, "losetup -f --show '%s/%s'", tmpdir, file[i]);
		char *loopdev = sh_out(cmd);
		if (!NEED(loopdev[0] == '/', "identity: loop device attached")) {
			free(loopdev);
			continue;
		}
		/* The fake sysfs knows nothing of it: no wwid, serial or backing file. */
		id = ident(loopdev, &found);
		CHECK(found == 1 && !strcmp(id, want[i]), "identity: %s read from %s (%s)", want[i],
		      loopdev, id);
		snprintf(cmd, sizeof cmd, "losetup -d '%s'", loopdev);
		CHECK(system(cmd) == 0, "identity: %s detached", loopdev);
		free(loopdev);
	}
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		CHECK(0, "mkdtemp");
		TEST_DONE();
	}
	snprintf(img, sizeof img, "%s/disk.img", tmpdir);
	snprintf(other, sizeof other, "%s/other.img", tmpdir);
	snprintf(root, sizeof root, "%s/root", tmpdir);
	snprintf(sys_root, sizeof sys_root, "%s/sys", root);
	snprintf(mountinfo, sizeof mountinfo, "%s/mountinfo", root);
	snprintf(dev_root, sizeof dev_root, "%s/dev", root);
	roots = (rp_disk_roots){sys_root, mountinfo, dev_root};
	FILE *f = fopen(img, "w");
	int made = f && ftruncate(fileno(f), (off_t)((P2_SECTOR + P2_SECTORS + 2048) * 512)) == 0;
	if (f)
		fclose(f);
	f = fopen(other, "w");
	made = made && f;
	if (f)
		fclose(f);
	if (!NEED(made, "image files"))
		TEST_DONE();

	reset();
	expect_free("nothing attached, nothing mounted");

	/* A loop device over the whole image (offset 0), mounted by the kernel. */
	reset();
	loop("loop0", 0, img, 0, 0);
	mount_line("7:0", "/mnt/whole", "ntfs3", "/dev/loop0");
	expect_mounted("loop at offset 0, kernel mount", "/dev/loop0", "/mnt/whole");

	/* Attached at partition 2's offset (losetup -o P2 --sizelimit), mounted by ntfs-3g:
	 * FUSE shows 0:N, only the source names the device. */
	reset();
	loop("loop3", 3, img, P2, P2_LEN);
	mount_line("0:55", "/mnt/p2", "fuseblk", "/dev/loop3");
	expect_mounted("loop at the partition's offset, ntfs-3g mount", "/dev/loop3", "/mnt/p2");

	/* Attached at partition 1's offset only: its window ends before the volume. */
	reset();
	loop("loop3", 3, img, P1_SECTOR * 512, P1_SECTORS * 512);
	mount_line("0:55", "/mnt/p1", "fuseblk", "/dev/loop3");
	expect_free("loop over partition 1 only (window before the volume), mounted");

	/* losetup -P: partitions loop0p1, loop0p2 of a loop at offset 0. */
	reset();
	loop("loop0", 0, img, 0, 0);
	partition("loop0p1", "loop0", 0, P1_SECTOR, P1_SECTORS, 1);
	partition("loop0p2", "loop0", 1, P2_SECTOR, P2_SECTORS, 2);
	mount_line("259:1", "/mnt/win", "ntfs3", "/dev/loop0p2");
	expect_mounted("loop0p2 (the volume) mounted by the kernel", "/dev/loop0p2", "/mnt/win");
	reset();
	loop("loop0", 0, img, 0, 0);
	partition("loop0p1", "loop0", 0, P1_SECTOR, P1_SECTORS, 1);
	partition("loop0p2", "loop0", 1, P2_SECTOR, P2_SECTORS, 2);
	mount_line("0:60", "/mnt/with space", "fuseblk", "/dev/loop0p2");
	/* mountinfo escapes the space as \040 */
	char path[1024];
	snprintf(path, sizeof path, "%s/mountinfo", root);
	char cmd[1200];
	snprintf(cmd, sizeof cmd, "sed -i 's#/mnt/with space#/mnt/with\\\\040space#' '%s'", path);
	CHECK(system(cmd) == 0, "mountinfo escapes the mount point's space");
	expect_mounted("loop0p2 mounted by ntfs-3g at a path with a space", "/dev/loop0p2",
		       "/mnt/with space");
	reset();
	loop("loop0", 0, img, 0, 0);
	partition("loop0p1", "loop0", 0, P1_SECTOR, P1_SECTORS, 1);
	partition("loop0p2", "loop0", 1, P2_SECTOR, P2_SECTORS, 2);
	mount_line("259:0", "/mnt/boot", "vfat", "/dev/loop0p1");
	expect_free("only loop0p1 (another partition) mounted");

	/* A loop at partition 1's offset without a size limit reaches the volume too: its own
	 * partition table (none here) aside, its bytes overlap. */
	reset();
	loop("loop5", 5, img, P1_SECTOR * 512, 0);
	partition("loop5p1", "loop5", 7, P2_SECTOR - P1_SECTOR, P2_SECTORS, 1);
	mount_line("259:7", "/mnt/shifted", "ntfs3", "/dev/loop5p1");
	expect_mounted("partition of a loop at an offset (start counted from the loop's offset)",
		       "/dev/loop5p1", "/mnt/shifted");

	/* kpartx -a: dm-0 "loop0p2" over loop0 (table offset unknown to sysfs), not mounted. */
	reset();
	loop("loop0", 0, img, 0, 0);
	mapping(0, "loop0p2", "loop0", 1);
	int code;
	const char *msg = run(&code);
	CHECK(code == 3 &&
		  has(msg, "disk.img is in use: the device-mapper device /dev/mapper/loop0p2 "
			   "(dm-0; kpartx, LVM) maps bytes of it") &&
		  has(msg, "only its table, dmsetup table, says which") && has(msg, "kpartx -d") &&
		  has(msg, "(rdprescue fix /mnt/...)"),
	      "kpartx mapping over the loop, not mounted: exit %d, %s", code, msg);
	/* Seen only from above (slaves/, no holders/ entry): the same. */
	reset();
	loop("loop0", 0, img, 0, 0);
	mapping(2, "vg-win", "loop0", 0);
	msg = run(&code);
	CHECK(code == 3 && has(msg, "device-mapper device /dev/mapper/vg-win (dm-2"),
	      "mapping found through its slaves/ only: exit %d, %s", code, msg);

	/* The mapping mounted: by the kernel (253:0), by ntfs-3g through /dev/mapper. */
	reset();
	loop("loop0", 0, img, 0, 0);
	mapping(0, "loop0p2", "loop0", 1);
	mount_line("253:0", "/mnt/dm", "ntfs3", "/dev/mapper/loop0p2");
	expect_mounted("kpartx mapping mounted by the kernel", "/dev/mapper/loop0p2", "/mnt/dm");
	reset();
	loop("loop0", 0, img, 0, 0);
	mapping(0, "loop0p2", "loop0", 1);
	mount_line("0:61", "/mnt/dmfuse", "fuseblk", "/dev/mapper/loop0p2");
	expect_mounted("kpartx mapping mounted by ntfs-3g (source /dev/mapper/loop0p2)",
		       "/dev/mapper/loop0p2", "/mnt/dmfuse");
	/* A mapping over a partition that is not the volume does not count. */
	reset();
	loop("loop0", 0, img, 0, 0);
	partition("loop0p1", "loop0", 0, P1_SECTOR, P1_SECTORS, 1);
	mapping(4, "crypt-boot", "loop0p1", 1);
	mount_line("253:4", "/mnt/crypt", "vfat", "/dev/mapper/crypt-boot");
	expect_free("a mapping over partition 1 only, mounted");

	/* An unrelated loop device (another image), mounted, with a mapping: not ours. */
	reset();
	loop("loop1", 1, other, 0, 0);
	partition("loop1p2", "loop1", 2, P2_SECTOR, P2_SECTORS, 2);
	mapping(1, "loop1p2", "loop1", 1);
	mount_line("259:2", "/mnt/other", "ntfs3", "/dev/loop1p2");
	mount_line("253:1", "/mnt/otherdm", "ntfs3", "/dev/mapper/loop1p2");
	expect_free("an unrelated loop (another image) with partitions and a mapping, mounted");

	/* Two loops, ours unused and another one mounted: not in use; ours mounted: named. */
	reset();
	loop("loop1", 1, other, 0, 0);
	loop("loop2", 2, img, 0, 0);
	mount_line("7:1", "/mnt/other", "ntfs3", "/dev/loop1");
	expect_free("our loop attached but unused, another loop mounted");
	mount_line("0:62", "/mnt/ours", "fuseblk", "/dev/loop2");
	expect_mounted("then ours mounted too", "/dev/loop2", "/mnt/ours");

	/* The image file mounted directly (ntfs-3g on the file, no loop device). */
	reset();
	mount_line("0:63", "/mnt/direct", "fuseblk", img);
	char *where = rp_xasprintf("%s", img);
	expect_mounted("the image mounted directly by ntfs-3g", where, "/mnt/direct");
	free(where);

	/* Hostile sysfs: garbage numbers, a backing_file that is not ours, a start past 2^64. */
	reset();
	loop("loop0", 0, img, 0, 0);
	partition("loop0p2", "loop0", 1, P2_SECTOR, P2_SECTORS, 2);
	put("sys/block/loop0/loop0p2/start", "99999999999999999999\n");
	put("sys/block/loop0/loop0p1/partition", "1\n");
	put("sys/block/loop0/loop0p1/start", "x\n");
	put("sys/block/loop0/loop0p1/size", "\n");
	put("sys/block/loop0/loop0p1/dev", "nonsense\n");
	put("sys/block/loop9/loop/backing_file", "/no/such/file\n");
	mount_line("259:1", "/mnt/win", "ntfs3", "/dev/loop0p2");
	mount_line("garbage", "", "", "");
	expect_free("hostile sysfs values: nothing overlaps, nothing crashes");

	test_identity();

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	CHECK(system(cmd) == 0, "temporary directory removed");
	TEST_DONE();
}
