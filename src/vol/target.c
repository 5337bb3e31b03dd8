/*
 * target.c — finding the Windows installations on a target: a mounted directory, or every NTFS
 * partition of a disk, image or VHD (each mounted read-only and looked into), and the boot
 * partition beside them (EFI system partition, or System Reserved holding Boot/BCD).
 * The probe's read-only volume of each installation is kept (t->held) and handed to the first
 * read-only open of it, so that a scan mounts the volume once, not three times.
 */
#include "util/text.h"
#include "vol/vol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define WINDOWS_MARKER "Windows/System32/config/SYSTEM"
#define SYSTEM_RESERVED_MARKER "Boot/BCD"

static int is_esp(const rp_part *p)
{
	return p->fs == RP_FS_FAT &&
	       (!strcmp(p->type, "gpt efi system") || !strcmp(p->type, "mbr 0xef"));
}

static void set_boot(rp_target *t, const rp_part *p)
{
	t->boot_part = p->number;
	t->boot_fs = p->fs;
	t->boot_offset = p->offset;
	t->boot_size = p->size;
}

/* 1 when the volume holds Windows, 0 when not, -1 on a read error. */
static int holds_windows(rp_vol *vol, rp_err *err)
{
	rp_stat st;
	if (rp_vol_stat(vol, WINDOWS_MARKER, &st, err) < 0)
		return -1;
	return st.exists && !st.is_dir;
}

/* A new installation; vol (the probe's read-only volume of it) is kept in t->held. */
static rp_install *add_install(rp_target *t, rp_vol *vol)
{
	t->installs = rp_xrealloc(t->installs, (t->ninstalls + 1) * sizeof *t->installs);
	t->held = rp_xrealloc(t->held, (t->ninstalls + 1) * sizeof *t->held);
	t->held[t->ninstalls] = vol;
	rp_install *in = &t->installs[t->ninstalls++];
	memset(in, 0, sizeof *in);
	in->index = (int)t->ninstalls;
	return in;
}

/* Closes the volumes the probe still holds. */
static void release_held(const rp_target *t)
{
	for (size_t i = 0; t->held && i < t->ninstalls; i++) {
		rp_vol_close(t->held[i], NULL);
		t->held[i] = NULL;
	}
}

static int probe_dir(rp_target *t, rp_err *err)
{
	rp_vol *vol;
	if (rp_vol_open_dir(&vol, t->path, 0, err) < 0)
		return -1;
	int found = holds_windows(vol, err);
	if (found > 0)
		add_install(t, vol);
	else
		rp_vol_close(vol, NULL);
	return found < 0 ? -1 : 0;
}

static int probe_disk(rp_target *t, size_t *ntfs_seen, rp_err *err)
{
	if (rp_disk_probe(&t->disk, t->path, err) < 0)
		return -1;
	for (size_t i = 0; i < t->disk.nparts; i++) {
		const rp_part *p = &t->disk.parts[i];
		if (p->fs == RP_FS_BITLOCKER)
			t->bitlocker_parts++;
		if (is_esp(p) && (!t->boot_part || t->boot_fs != RP_FS_FAT))
			set_boot(t, p);
		if (p->fs != RP_FS_NTFS)
			continue;
		(*ntfs_seen)++;
		rp_vol *vol;
		rp_err verr = {0};
		/* A partition that does not mount is not where Windows is; a damaged Windows
		 * volume is reported when nothing else is found. */
		if (rp_vol_open_ntfs(&vol, t->path, p->offset, p->size, 0, &verr) < 0)
			continue;
		int found = holds_windows(vol, &verr);
		if (found > 0) {
			rp_install *in = add_install(t, vol);
			in->part_number = p->number;
			in->offset = p->offset;
			in->size = p->size;
			snprintf(in->label, sizeof in->label, "%s", rp_vol_label(vol));
			continue;
		}
		if (found == 0 && !t->boot_part) {
			rp_stat st;
			if (rp_vol_stat(vol, SYSTEM_RESERVED_MARKER, &st, &verr) == 0 &&
			    st.exists && !st.is_dir)
				set_boot(t, p);
		}
		rp_vol_close(vol, NULL);
	}
	return 0;
}

int rp_target_probe(rp_target *t, const char *path, rp_err *err)
{
	memset(t, 0, sizeof *t);
	t->path = rp_xstrdup(path);
	struct stat st;
	size_t ntfs_seen = 0;
	int rc;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		t->is_dir = 1;
		rc = probe_dir(t, err);
	} else {
		rc = probe_disk(t, &ntfs_seen, err);
	}
	if (rc == 0 && t->ninstalls == 0) {
		char *shown = rp_escape(path);
		if (t->is_dir)
			rp_fail(err, RP_EXIT_UNUSABLE,
				"no Windows installation found in %s (no %s): give the directory "
				"where the Windows volume is mounted",
				shown, WINDOWS_MARKER);
		else if (t->bitlocker_parts)
			rp_fail(
			    err, RP_EXIT_UNUSABLE,
			    "no Windows installation found on %s (%zu NTFS partitions looked at): "
			    "%d partition%s encrypted with BitLocker: unlock it first (e.g. "
			    "dislocker) and give the unlocked volume",
			    shown, ntfs_seen, t->bitlocker_parts,
			    t->bitlocker_parts == 1 ? " is" : "s are");
		else
			rp_fail(
			    err, RP_EXIT_UNUSABLE,
			    "no Windows installation found on %s (%zu NTFS partition%s looked at); "
			    "give the OS disk",
			    shown, ntfs_seen, ntfs_seen == 1 ? "" : "s");
		free(shown);
		rc = -1;
	}
	if (rc < 0)
		rp_target_free(t);
	return rc;
}

void rp_target_free(rp_target *t)
{
	if (!t)
		return;
	release_held(t);
	free(t->held);
	free(t->path);
	rp_disk_free(&t->disk);
	free(t->installs);
	memset(t, 0, sizeof *t);
}

/* Opens the boot partition beside vol; a failure is kept as vol's boot note. */
static void attach_boot(const rp_target *t, rp_vol *vol, int writable)
{
	rp_vol *boot = NULL;
	rp_err e = {0};
	int rc = t->boot_fs == RP_FS_FAT
		     ? rp_vol_open_fat(&boot, t->path, t->boot_offset, t->boot_size, writable, &e)
		     : rp_vol_open_ntfs(&boot, t->path, t->boot_offset, t->boot_size, writable, &e);
	if (rc == 0) {
		rp_vol_attach_boot(vol, boot);
		return;
	}
	/* libntfs-3g opens a block device exclusively (O_EXCL), once: the Windows volume has it. */
	char *note =
	    writable && t->disk.is_blockdev && t->boot_fs == RP_FS_NTFS
		? rp_xasprintf(
		      "the System Reserved partition (partition %d) cannot be opened for "
		      "writing beside the Windows volume on a block device (each needs "
		      "the disk exclusively); nothing was written: remove the setting from "
		      "Windows RE with bcdedit, or run rdprescue on an image of the disk",
		      t->boot_part)
		: rp_xasprintf("the boot partition (partition %d) cannot be opened: %s",
			       t->boot_part, e.msg);
	rp_vol_set_boot_note(vol, note);
	free(note);
}

/* The installation index names (0: the only one), or NULL with err set. */
static const rp_install *pick(const rp_target *t, int index, rp_err *err)
{
	if (index == 0 && t->ninstalls > 1)
		return rp_fail(err, RP_EXIT_USAGE,
			       "%zu Windows installations found: choose one with --install N (see "
			       "rdprescue list)",
			       t->ninstalls),
		       NULL;
	if (index == 0)
		index = 1;
	if (index < 1 || (size_t)index > t->ninstalls)
		return rp_fail(
			   err, RP_EXIT_USAGE,
			   "there is no Windows installation %d (%zu found; see rdprescue list)",
			   index, t->ninstalls),
		       NULL;
	return &t->installs[index - 1];
}

int rp_target_check_write(rp_target *t, int index, const char *command, rp_err *err)
{
	t->write_command = command;
	const rp_install *in = pick(t, index, err);
	if (!in)
		return -1;
	rp_vol *vol = NULL;
	if (t->is_dir) /* refuses a directory we cannot write or a hibernated Windows */
		return rp_vol_open_dir(&vol, t->path, 1, err) < 0 ? -1 : rp_vol_close(vol, err);
	if (rp_disk_check_write(t->path, in->offset, in->size, command, err) < 0)
		return -1;
	/* Read-only: what Windows left behind decides, before a byte is written (the state the
	 * probe's volume read, when it is still held). */
	rp_vol *held = t->held ? t->held[in->index - 1] : NULL;
	if (!held && rp_vol_open_ntfs(&vol, t->path, in->offset, in->size, 0, err) < 0)
		return -1;
	const char *why = rp_vol_write_refusal(held ? held : vol);
	rp_vol_close(vol, NULL);
	if (why) {
		char *shown = rp_escape(t->path);
		rp_fail(err, RP_EXIT_UNUSABLE, "cannot write to the Windows volume on %s: %s",
			shown, why);
		free(shown);
		return -1;
	}
	return 0;
}

int rp_target_open(const rp_target *t, int index, int writable, rp_vol **vol,
		   const rp_install **inst, rp_err *err)
{
	*vol = NULL;
	if (inst)
		*inst = NULL;
	const rp_install *in = pick(t, index, err);
	if (!in)
		return -1;
	if (writable && !t->is_dir &&
	    rp_disk_check_write(t->path, in->offset, in->size,
				t->write_command ? t->write_command : "fix", err) < 0)
		return -1;
	int rc;
	rp_vol **held = t->held ? &t->held[in->index - 1] : NULL;
	if (writable)
		release_held(t);
	if (!writable && held && *held) {
		*vol = *held; /* the caller's now */
		*held = NULL;
		rc = 0;
	} else {
		rc = t->is_dir
			 ? rp_vol_open_dir(vol, t->path, writable, err)
			 : rp_vol_open_ntfs(vol, t->path, in->offset, in->size, writable, err);
	}
	if (rc == 0 && t->boot_part)
		attach_boot(t, *vol, writable);
	if (rc == 0 && inst)
		*inst = in;
	return rc;
}
