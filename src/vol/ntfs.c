/*
 * ntfs.c — the libntfs-3g backend: an NTFS volume read and written in place on a disk, image or
 * VHD, at the partition's byte offset (ntfs_dev.c), without mounting it.  This file has the ops
 * table, the reads, mkdir / set_sd / remove, and opening; write_file is in ntfs_replace.c.
 *
 * libntfs-3g's write APIs do not check for a read-only mount, create case-variant duplicates
 * without complaint, and have no rename; vol.c keeps writes away from read-only volumes, and
 * the backend checks names case-insensitively and replaces files with link/unlink (write_file).
 */
#include "vol/ntfs_internal.h"
#include "util/fault.h"
#include "util/text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ntfs-3g/logfile.h>
#include <ntfs-3g/logging.h>

static int nt_stat(rp_vol *vol, const char *path, rp_stat *st, rp_err *err)
{
	memset(st, 0, sizeof *st);
	ntfs_inode *ni = rpn_open_path(rpn_np(vol)->nv, path);
	if (!ni) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return rpn_fail_errno(vol, RP_EXIT_UNUSABLE, "looking up", path, err);
	}
	rpn_fill_stat(ni, st);
	ntfs_inode_close(ni);
	return 0;
}

/* The inode of a file to read; a directory is refused (EISDIR). */
static ntfs_inode *open_to_read(rp_vol *vol, const char *path, rp_err *err)
{
	ntfs_inode *ni = rpn_open_existing(vol, "reading", path, err);
	if (ni && (ni->mrec->flags & MFT_RECORD_IS_DIRECTORY)) {
		ntfs_inode_close(ni);
		errno = EISDIR;
		rpn_fail_errno(vol, RP_EXIT_UNUSABLE, "reading", path, err);
		return NULL;
	}
	return ni;
}

/* Closes ni after a read that returned rc; a failed one is reported with its errno. */
static int read_done(rp_vol *vol, ntfs_inode *ni, int rc, const char *path, rp_err *err)
{
	if (rc < 0)
		rpn_fail_errno(vol, RP_EXIT_UNUSABLE, "reading", path, err);
	ntfs_inode_close(ni);
	return rc < 0 ? -1 : 0;
}

static int nt_read(rp_vol *vol, const char *path, uint8_t **data, size_t *len, rp_err *err)
{
	ntfs_inode *ni = open_to_read(vol, path, err);
	return ni ? read_done(vol, ni, rpn_read_all(ni, data, len), path, err) : -1;
}

static int nt_read_range(rp_vol *vol, const char *path, uint64_t off, uint8_t *buf, size_t len,
			 rp_err *err)
{
	ntfs_inode *ni = open_to_read(vol, path, err);
	return ni ? read_done(vol, ni, rpn_read_range(ni, off, buf, len), path, err) : -1;
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

/* The entries of dir: each one's inode is opened by its MFT reference (no lookup by name) and
 * handed to wcb while open, or closed before lcb is called. */
static int each_entry(rp_vol *vol, const char *dir, rp_vol_list_cb lcb, rp_vol_walk_cb wcb,
		      void *ctx, rp_err *err)
{
	ntfs_volume *nv = rpn_np(vol)->nv;
	ntfs_inode *dir_ni = rpn_open_existing(vol, "listing", dir, err);
	if (!dir_ni)
		return -1;
	if (!(dir_ni->mrec->flags & MFT_RECORD_IS_DIRECTORY)) {
		ntfs_inode_close(dir_ni);
		errno = ENOTDIR;
		return rpn_fail_errno(vol, RP_EXIT_PROBLEMS, "listing", dir, err);
	}
	struct listing l = {0};
	int rc = rpn_readdir_real_case(dir_ni, &l, list_cb);
	if (rc < 0 || l.failed) {
		if (l.failed)
			errno = l.failed;
		rpn_fail_errno(vol, RP_EXIT_UNUSABLE, "listing", dir, err);
		rc = -1;
	}
	ntfs_inode_close(dir_ni);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		rp_stat st;
		ntfs_inode *ni = ntfs_inode_open(nv, MREF(l.items[i].mref));
		if (!ni && errno == ENOENT) {
			/* A listed name whose record is not in use: a damaged index. */
			rc = rpn_damaged(vol, dir, RPN_NO_FILE, l.items[i].name, err);
			break;
		}
		if (!ni) {
			char *child = rp_xasprintf("%s/%s", dir, l.items[i].name);
			rc = rpn_fail_errno(vol, RP_EXIT_UNUSABLE, "opening", child, err);
			free(child);
			break;
		}
		rpn_fill_stat(ni, &st);
		int stop;
		if (wcb) {
			rp_vol_entry ent = {
			    .vol = vol, .dir = dir, .name = l.items[i].name, .node = ni};
			stop = wcb(ctx, l.items[i].name, &st, &ent);
			ntfs_inode_close(ni);
		} else {
			ntfs_inode_close(ni);
			stop = lcb(ctx, l.items[i].name, &st);
		}
		if (stop)
			break;
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.items[i].name);
	free(l.items);
	return rc;
}

static int nt_list(rp_vol *vol, const char *dir, rp_vol_list_cb cb, void *ctx, rp_err *err)
{
	return each_entry(vol, dir, cb, NULL, ctx, err);
}

static int nt_walk(rp_vol *vol, const char *dir, rp_vol_walk_cb cb, void *ctx, rp_err *err)
{
	return each_entry(vol, dir, NULL, cb, ctx, err);
}

/* Names ent in a message as rp_vol_read / rp_vol_get_sd would name its path. */
static int entry_fail(rp_vol_entry *ent, const char *what, rp_err *err)
{
	int e = errno;
	char *path = *ent->dir ? rp_xasprintf("%s/%s", ent->dir, ent->name) : rp_xstrdup(ent->name);
	errno = e;
	rpn_fail_errno(ent->vol, RP_EXIT_UNUSABLE, what, path, err);
	free(path);
	return -1;
}

static int nt_entry_read(rp_vol_entry *ent, uint64_t max, uint8_t **data, size_t *len, rp_err *err)
{
	ntfs_inode *ni = ent->node;
	if (ni->mrec->flags & MFT_RECORD_IS_DIRECTORY) {
		errno = EISDIR;
		return entry_fail(ent, "reading", err);
	}
	if (rpn_read_max(ni, max, data, len) < 0)
		return entry_fail(ent, "reading", err);
	return 0;
}

static int nt_entry_get_sd(rp_vol_entry *ent, uint8_t **sd, size_t *len, rp_err *err)
{
	if (rpn_get_sd_of(ent->vol, ent->node, sd, len) < 0)
		return entry_fail(ent, "reading the security descriptor of", err);
	return 0;
}

static int nt_get_sd(rp_vol *vol, const char *path, uint8_t **sd, size_t *len, rp_err *err)
{
	ntfs_inode *ni = rpn_open_existing(vol, "reading the security descriptor of", path, err);
	if (!ni)
		return -1;
	int rc = 0;
	if (rpn_get_sd_of(vol, ni, sd, len) < 0)
		rc = rpn_fail_errno(vol, RP_EXIT_UNUSABLE, "reading the security descriptor of",
				    path, err);
	ntfs_inode_close(ni);
	return rc;
}

/* ---- writes ---- */

static int nt_set_sd(rp_vol *vol, const char *path, const uint8_t *sd, size_t len, rp_err *err)
{
	const char *what = "setting the security descriptor of";
	if (rpn_begin_op(vol, err) < 0)
		return -1;
	ntfs_inode *ni = rpn_open_existing(vol, what, path, err);
	if (!ni)
		return -1;
	int rc = 0;
	if (rpn_set_sd_of(vol, ni, sd, len) < 0) {
		/* EINVAL: libntfs-3g's validation refused the descriptor; nothing was written. */
		rc = rpn_fail_errno(vol, errno == EINVAL ? RP_EXIT_PROBLEMS : RP_EXIT_WRITE_FAILED,
				    what, path, err);
	}
	if (ntfs_inode_close(ni) < 0 && rc == 0)
		rc = rpn_fail_errno(vol, RP_EXIT_WRITE_FAILED, what, path, err);
	return rpn_end_op(vol, rc, what, path, err);
}

static int nt_mkdir(rp_vol *vol, const char *path, rp_err *err)
{
	const char *leaf;
	char *parent = rpn_split_parent(path, &leaf);
	ntfschar *uname;
	int ulen, rc = -1;
	ntfs_inode *dir_ni = NULL;
	if (rpn_leaf_name(vol, path, leaf, &uname, &ulen, err) < 0 || rpn_begin_op(vol, err) < 0)
		goto out;
	dir_ni = rpn_open_existing(vol, "creating directory", parent, err);
	if (!dir_ni)
		goto out;
	le32 securid = ntfs_inherited_id(&rpn_np(vol)->scx, dir_ni, TRUE);
	ntfs_inode *ni = rpn_faulted("vol:mkdir")
			     ? NULL
			     : ntfs_create(dir_ni, securid, uname, (u8)ulen, S_IFDIR);
	if (!ni) {
		rpn_fail_errno(vol, RP_EXIT_WRITE_FAILED, "creating directory", path, err);
		goto out;
	}
	rc = 0;
	if (ntfs_inode_close_in_dir(ni, dir_ni) < 0)
		rc = rpn_fail_errno(vol, RP_EXIT_WRITE_FAILED, "creating directory", path, err);
out:
	if (dir_ni && ntfs_inode_close(dir_ni) < 0 && rc == 0)
		rc = rpn_fail_errno(vol, RP_EXIT_WRITE_FAILED, "creating directory", path, err);
	rc = rpn_end_op(vol, rc, "creating directory", path, err);
	free(uname);
	free(parent);
	return rc;
}

static int nt_remove(rp_vol *vol, const char *path, rp_err *err)
{
	const char *leaf;
	char *parent = rpn_split_parent(path, &leaf);
	int rc = -1;
	if (rpn_begin_op(vol, err) < 0) {
		free(parent);
		return -1;
	}
	ntfs_inode *dir_ni = rpn_open_existing(vol, "removing from", parent, err);
	free(parent);
	if (!dir_ni)
		return -1;
	struct dir_entry de;
	int found = rpn_find_entry(dir_ni, leaf, &de);
	if (found <= 0) {
		if (found == 0)
			errno = ENOENT;
		rpn_fail_errno(vol, RP_EXIT_PROBLEMS, "removing", path, err);
		ntfs_inode_close(dir_ni);
		return -1;
	}
	ntfs_inode *ni = MREF(de.mref) < FILE_first_user
			     ? NULL
			     : ntfs_inode_open(rpn_np(vol)->nv, MREF(de.mref));
	if (!ni) {
		if (MREF(de.mref) < FILE_first_user) {
			char *shown = rp_escape(path);
			rp_fail(err, RP_EXIT_PROBLEMS,
				"removing %s on %s: it is an NTFS system file", shown, vol->where);
			free(shown);
		} else {
			rpn_fail_errno(vol, RP_EXIT_UNUSABLE, "opening", path, err);
		}
		ntfs_inode_close(dir_ni);
		return -1;
	}
	if (rpn_faulted("vol:unlink")) {
		ntfs_inode_close_in_dir(ni, dir_ni);
		ntfs_inode_close(dir_ni);
	} else {
		/* ntfs_delete closes both inodes, also when it fails. */
		rc = ntfs_delete(rpn_np(vol)->nv, NULL, ni, dir_ni, de.name, (u8)de.name_len);
	}
	if (rc < 0)
		rpn_fail_errno(vol, RP_EXIT_WRITE_FAILED, "removing", path, err);
	return rpn_end_op(vol, rc, "removing", path, err);
}

static int nt_sync(rp_vol *vol, rp_err *err)
{
	if (rpn_faulted("vol:sync") || ntfs_device_sync(rpn_np(vol)->nv->dev) < 0)
		return rpn_fail_errno(vol, RP_EXIT_WRITE_FAILED, "syncing", "/", err);
	return rpn_end_op(vol, 0, "syncing", "/", err);
}

static int nt_free_space(rp_vol *vol, uint64_t *bytes, rp_err *err)
{
	ntfs_volume *nv = rpn_np(vol)->nv;
	/* Counts the clear bits of $Bitmap (also sets free_mft_records). */
	if (ntfs_volume_get_free_space(nv) < 0 || nv->free_clusters < 0)
		return rpn_fail_errno(vol, RP_EXIT_UNUSABLE, "counting the free clusters of", "/",
				      err);
	*bytes = (uint64_t)nv->free_clusters * nv->cluster_size;
	return 0;
}

static void free_priv(struct ntfs_priv *p)
{
	if (!p)
		return;
	rp_od_free(p->od);
	free(p->dirty_mark);
	free(p);
}

static int nt_close(rp_vol *vol, rp_err *err)
{
	struct ntfs_priv *p = rpn_np(vol);
	int rc = 0;
	if (vol->writable && !vol->write_failed && nt_sync(vol, err) < 0)
		rc = -1;
	/* The dirty flag goes with the last transaction: the one unmounting commits. */
	int clear = vol->writable && !vol->write_failed && rc == 0 && p->marked_dirty;
	if (clear && ntfs_volume_write_flags(p->nv, p->nv->flags & ~VOLUME_IS_DIRTY) < 0)
		rc = rpn_fail_errno(vol, RP_EXIT_WRITE_FAILED, "clearing the dirty flag of", "/",
				    err);
	if (vol->writable && (vol->write_failed || rc < 0))
		rp_od_discard(p->od);
	if (ntfs_umount(p->nv, FALSE) < 0 && rc == 0)
		rc = rpn_fail_errno(vol, vol->writable ? RP_EXIT_WRITE_FAILED : RP_EXIT_UNUSABLE,
				    "unmounting", "/", err);
	/* Clean again: the mark that says rdprescue set the flag goes too. */
	if (clear && rc == 0)
		unlink(p->dirty_mark);
	free_priv(p);
	return rc;
}

const struct rp_vol_ops rp_vol_ntfs_ops = {
    .name = "ntfs",
    .stat = nt_stat,
    .read = nt_read,
    .read_range = nt_read_range,
    .list = nt_list,
    .get_sd = nt_get_sd,
    .set_sd = nt_set_sd,
    .mkdir = nt_mkdir,
    .write_file = rp_ntfs_write_file,
    .remove = nt_remove,
    .check_entry = rp_ntfs_check_entry,
    .sync = nt_sync,
    .free_space = nt_free_space,
    .close = nt_close,
    .walk = nt_walk,
    .entry_read = nt_entry_read,
    .entry_get_sd = nt_entry_get_sd,
};

/* ---- opening ---- */

static ntfs_volume *mount_at(struct offset_dev *od, unsigned long flags)
{
	struct ntfs_device *dev = ntfs_device_alloc(od->path, 0, &rp_offset_dev_ops, od);
	if (!dev)
		return NULL;
	ntfs_volume *nv = ntfs_device_mount(dev, flags);
	if (!nv) {
		int e = errno;
		/* A failed mount leaves dev allocated, and possibly open. */
		if (NDevOpen(dev))
			rp_od_close(dev);
		ntfs_device_free(dev);
		errno = e;
	}
	return nv;
}

/* Tells the offset device where the cluster bitmap lies, so that a commit writes a new file's
 * data in place before its journal (ordered blocks); when its runs cannot be mapped, every
 * block is journaled. */
static void tell_bitmap(struct ntfs_priv *p)
{
	ntfs_attr *na = p->nv->lcnbmp_na;
	if (!na || ntfs_attr_map_whole_runlist(na) < 0 || !na->rl)
		return;
	size_t n = 0;
	while (na->rl[n].length)
		n++;
	struct rp_od_run *runs = rp_xmalloc((n ? n : 1) * sizeof *runs);
	for (size_t i = 0; i < n; i++)
		runs[i] = (struct rp_od_run){na->rl[i].vcn, na->rl[i].lcn, na->rl[i].length};
	rp_od_set_bitmap(p->od, p->nv->cluster_size, (uint64_t)p->nv->nr_clusters, runs, n);
	free(runs);
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
	memcpy(od->serial, sector + 0x48, sizeof od->serial);
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

/* Whether rdprescue set the dirty flag the volume has (an interrupted run left its mark): then
 * it is not Windows asking for chkdsk, and the next write clears it (rpn_begin_op). */
static void own_dirty_flag(struct ntfs_priv *p, int writable, rp_vol_state *st)
{
	int mark = access(p->dirty_mark, F_OK) == 0;
	if (st->dirty_flag && mark) {
		st->dirty_flag = 0;
		st->marked_dirty = 1;
		p->marked_dirty = 1;
	} else if (mark && writable) {
		/* Killed between writing the mark and committing the flag, or between clearing
		 * the flag and removing the mark: the volume is clean, the mark alone goes. */
		unlink(p->dirty_mark);
	} else if (mark) {
		st->stale_mark = 1;
	}
	p->windows_dirty = st->dirty_flag;
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
	p->od->journal =
	    rp_jr_path(dev_path, p->od->is_blockdev, offset, p->od->serial, RP_VOL_JOURNAL_SUFFIX);
	p->dirty_mark =
	    rp_jr_path(dev_path, p->od->is_blockdev, offset, p->od->serial, RP_VOL_DIRTY_SUFFIX);

	rp_vol_state state = {0};
	p->nv = mount_at(p->od, writable ? 0 : NTFS_MNT_RDONLY);
	if (!p->nv && writable && p->od->journal_error) {
		rp_fail(err, RP_EXIT_UNUSABLE,
			"a redo journal left by an interrupted rdprescue run (%s) cannot be read "
			"(%s): nothing was done; make it readable and run again (or, if the volume "
			"was restored or repaired since it was left, move the journal away)",
			p->od->journal, strerror(p->od->journal_error));
		free_priv(p);
		return -1;
	}
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
	if (!p->nv && writable && p->od->stale) {
		/* Replaying it would overwrite what was written to the volume since. */
		int kept = strcmp(p->od->stale, p->od->journal) != 0;
		rp_fail(
		    err, RP_EXIT_UNUSABLE,
		    "a redo journal left by an interrupted rdprescue run (%s) does not match the "
		    "volume at byte %llu of %s: it has changed since (Windows or chkdsk ran); it "
		    "was not replayed and %s %s; run chkdsk /f on the volume in Windows, then "
		    "run again",
		    p->od->journal, (unsigned long long)offset, dev_path,
		    kept ? "was kept as" : "could not be moved aside (move it away by hand):",
		    p->od->stale);
		free_priv(p);
		return -1;
	}
	if (!p->nv) {
		int e = errno;
		free_priv(p);
		return mount_failure(dev_path, offset, e, err);
	}
	if (writable && NVolReadOnly(p->nv)) {
		rp_od_discard(p->od);
		ntfs_umount(p->nv, FALSE);
		free_priv(p);
		return rp_fail(
		    err, RP_EXIT_UNUSABLE,
		    "%s is not writable by this user (permission denied): run as root or "
		    "work on a writable copy",
		    dev_path);
	}
	if (ntfs_set_ignore_case(p->nv) < 0) {
		rp_od_discard(p->od);
		ntfs_umount(p->nv, FALSE);
		free_priv(p);
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "%s: the NTFS volume at byte %llu has no usable upcase table",
			       dev_path, (unsigned long long)offset);
	}
	/* Hide the $MFT & co. metafiles, show hidden files (Windows has many). */
	ntfs_set_shown_files(p->nv, FALSE, TRUE, FALSE);
	if (writable)
		tell_bitmap(p);
	diagnose(p->nv, &state);
	if (!writable)
		state.read_only = access(dev_path, W_OK) != 0;
	p->scx.vol = p->nv;
	p->scx.pseccache = &p->seccache;
	state.replayed = p->od->replayed != 0;
	state.journal_pending = p->od->pending;
	state.journal_dropped = p->od->discarded;
	state.journal_stale = p->od->stale != NULL;
	state.journal_unreadable = p->od->journal_error != 0;
	own_dirty_flag(p, writable, &state);

	rp_vol *vol = rp_vol_new(&rp_vol_ntfs_ops, dev_path, writable);
	vol->priv = p;
	vol->state = state;
	vol->size = (uint64_t)p->nv->nr_clusters * p->nv->cluster_size;
	snprintf(vol->label, sizeof vol->label, "%s", p->nv->vol_name ? p->nv->vol_name : "");
	*out = vol;
	return 0;
}
