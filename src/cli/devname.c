/*
 * devname.c — which cloud or hypervisor a disk of this machine comes from, from the links
 * udev makes for it, so that `rdprescue list` can say "Azure data disk, LUN 0" next to
 * /dev/sdc.  Read-only: it only lists /dev/disk/azure and /dev/disk/by-id and compares where
 * their links point with where the disk's own path points.
 *
 *   /dev/disk/azure/scsi1/lunN, /dev/disk/azure/data/by-lun/N    Azure data disk, LUN N
 *   /dev/disk/azure/root, /dev/disk/azure/os                      Azure OS disk of this VM
 *   /dev/disk/azure/resource                                      Azure temporary disk
 *   /dev/disk/by-id/google-NAME                                   GCP disk (device name NAME)
 *   /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_volX          AWS EBS volume vol-X
 *   /dev/disk/by-id/...Msft_Virtual_Disk...                        Hyper-V (or Azure) virtual disk
 *   /dev/disk/by-id/virtio-..., ...QEMU_HARDDISK...                  KVM/QEMU virtual disk
 *   /dev/disk/by-id/usb-...                                       USB disk
 *   /dev/nbdN                                                     qemu-nbd (a VHDX or qcow2 image)
 *
 * The environment variable RP_DEV_ROOT, when set, is prepended to those directories: the
 * tests build a fake /dev tree with it.
 */
#include "cli/cli.h"
#include "util/text.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How one kind of link names its disk; rank: lower wins when several links point at it. */
typedef struct link_kind {
	const char *dir;      /* under the /dev root */
	const char *prefix;   /* the link's name starts with this ("" for any) */
	const char *contains; /* and contains this (NULL for any) */
	const char *what;     /* printf format; %s is the rest of the name after prefix */
} link_kind;

static const link_kind kinds[] = {
    {"/dev/disk/azure/scsi1", "lun", NULL, "Azure data disk, LUN %s"},
    {"/dev/disk/azure/data/by-lun", "", NULL, "Azure data disk, LUN %s"},
    {"/dev/disk/azure", "root", NULL, "Azure OS disk of this VM"},
    {"/dev/disk/azure", "os", NULL, "Azure OS disk of this VM"},
    {"/dev/disk/azure", "resource", NULL, "Azure temporary disk"},
    {"/dev/disk/by-id", "google-", NULL, "GCP disk, device name %s"},
    {"/dev/disk/by-id", "nvme-Amazon_Elastic_Block_Store_vol", NULL, "AWS EBS volume vol-%s"},
    {"/dev/disk/by-id", "", "Msft_Virtual_Disk", "Hyper-V or Azure virtual disk"},
    {"/dev/disk/by-id", "virtio-", NULL, "KVM virtio disk"},
    {"/dev/disk/by-id", "", "QEMU_HARDDISK", "KVM/QEMU virtual disk"},
    {"/dev/disk/by-id", "usb-", NULL, "USB disk"},
};

/* The rest of a link name worth showing: up to a '-part' or '_N' suffix, escaped. */
static char *name_rest(const char *rest)
{
	char *r = rp_xstrdup(rest);
	char *cut = strstr(r, "-part");
	if (cut)
		*cut = '\0';
	cut = strchr(r, '_');
	if (cut)
		*cut = '\0';
	char *e = rp_escape(r);
	free(r);
	return e;
}

char *cli_disk_origin(const char *dev)
{
	const char *root = getenv("RP_DEV_ROOT");
	char want[PATH_MAX];
	if (!realpath(dev, want))
		return NULL;
	const char *base = strrchr(want, '/');
	base = base ? base + 1 : want;
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		const link_kind *lk = &kinds[k];
		char *dir = rp_xasprintf("%s%s", root ? root : "", lk->dir);
		DIR *d = opendir(dir);
		char *found = NULL;
		struct dirent *de;
		while (d && !found && (de = readdir(d))) {
			size_t pl = strlen(lk->prefix);
			if (de->d_name[0] == '.' || strncmp(de->d_name, lk->prefix, pl) != 0 ||
			    (lk->contains && !strstr(de->d_name, lk->contains)) ||
			    strstr(de->d_name, "-part"))
				continue;
			char *link = rp_xasprintf("%s/%s", dir, de->d_name), got[PATH_MAX];
			if (realpath(link, got) && strcmp(got, want) == 0) {
				char *rest = name_rest(de->d_name + pl);
				found = rp_xasprintf(lk->what, rest);
				free(rest);
			}
			free(link);
		}
		if (d)
			closedir(d);
		free(dir);
		if (found)
			return found;
	}
	if (strncmp(base, "nbd", 3) == 0 && base[3] >= '0' && base[3] <= '9')
		return rp_xstrdup("qemu-nbd export (a VHDX, VHD or qcow2 image)");
	return NULL;
}
