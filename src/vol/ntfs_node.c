/*
 * ntfs_node.c — what the libntfs-3g backend's files share: the backend's private state, errors
 * for messages, case-insensitive lookup in a directory (the way Windows compares names), file
 * attributes, reading a file or its security descriptor, and the names Windows allows.
 */
#include "vol/ntfs_internal.h"
#include "util/fault.h"
#include "util/file.h"
#include "util/text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ntfs_priv *rpn_np(rp_vol *vol)
{
	return vol->priv;
}

/* Reports errno for an operation on path: err_code RP_EXIT_WRITE_FAILED for writes. */
int rpn_fail_errno(rp_vol *vol, int err_code, const char *what, const char *path, rp_err *err)
{
	int e = errno ? errno : EIO;
	char *shown = rp_escape(*path ? path : "/");
	rp_fail(err, err_code, "%s %s on %s: %s", what, shown, vol->where, strerror(e));
	free(shown);
	errno = e;
	return -1;
}

/* A fault-injection point: 1 (errno = EIO) when the test harness wants this write to fail. */
int rpn_faulted(const char *point)
{
	if (rp_fault(point)) {
		errno = EIO;
		return 1;
	}
	return 0;
}

ntfs_inode *rpn_open_path(ntfs_volume *nv, const char *path)
{
	char *abs = rp_xasprintf("/%s", path);
	ntfs_inode *ni = ntfs_pathname_to_inode(nv, NULL, abs);
	free(abs);
	return ni;
}

/* Splits "a/b/c" into a malloc'd "a/b" and the leaf "c" (inside path). */
char *rpn_split_parent(const char *path, const char **leaf)
{
	const char *slash = strrchr(path, '/');
	*leaf = slash ? slash + 1 : path;
	return slash ? strndup(path, (size_t)(slash - path)) : rp_xstrdup("");
}

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
int rpn_readdir_real_case(ntfs_inode *dir_ni, void *ctx, ntfs_filldir_t cb)
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
int rpn_find_entry(ntfs_inode *dir_ni, const char *leaf, struct dir_entry *de)
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
	int rc = rpn_readdir_real_case(dir_ni, de, find_cb);
	de->want = NULL;
	free(uname);
	/* ntfs_readdir returns -1 when the callback stops it: a find is no failure. */
	return de->found ? 1 : rc < 0 ? -1 : 0;
}

uint32_t rpn_file_attributes(ntfs_inode *ni)
{
	uint32_t attrib = 0;
	if (ntfs_get_ntfs_attrib(ni, (char *)&attrib, sizeof attrib) != sizeof attrib)
		attrib = le32_to_cpu(ni->flags);
	return attrib;
}

void rpn_fill_stat(ntfs_inode *ni, rp_stat *st)
{
	memset(st, 0, sizeof *st);
	st->exists = 1;
	st->attributes = rpn_file_attributes(ni);
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

/* Opens path for reading; a missing path is an error here. */
ntfs_inode *rpn_open_existing(rp_vol *vol, const char *what, const char *path, rp_err *err)
{
	ntfs_inode *ni = rpn_open_path(rpn_np(vol)->nv, path);
	if (!ni)
		rpn_fail_errno(vol, RP_EXIT_UNUSABLE, what, path, err);
	return ni;
}

int rpn_read_all(ntfs_inode *ni, uint8_t **data, size_t *len)
{
	return rpn_read_max(ni, MAX_READ_BYTES, data, len);
}

/* The unnamed data attribute of ni, open, when it holds at most max bytes (else EFBIG). */
static ntfs_attr *open_data(ntfs_inode *ni, uint64_t max)
{
	if (max > MAX_READ_BYTES)
		max = MAX_READ_BYTES;
	ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
	if (na && (na->data_size < 0 || (uint64_t)na->data_size > max)) {
		ntfs_attr_close(na);
		errno = EFBIG;
		return NULL;
	}
	return na;
}

/* Reads [at, at + n) of na whole into buf. */
static int pread_full(ntfs_attr *na, uint64_t at, size_t n, uint8_t *buf)
{
	size_t done = 0;
	while (done < n) {
		s64 r = ntfs_attr_pread(na, (s64)(at + done), (s64)(n - done), buf + done);
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

int rpn_read_max(ntfs_inode *ni, uint64_t max, uint8_t **data, size_t *len)
{
	ntfs_attr *na = open_data(ni, max);
	if (!na)
		return -1;
	size_t size = (size_t)na->data_size;
	uint8_t *buf = rp_xmalloc(size ? size : 1);
	int rc = pread_full(na, 0, size, buf);
	ntfs_attr_close(na);
	if (rc < 0) {
		free(buf);
		return -1;
	}
	*data = buf;
	*len = size;
	return 0;
}

/* Pieces a file is compared in: nothing file-sized is held for a read-back. */
#define COMPARE_PIECE ((size_t)1 << 20)

int rpn_holds(ntfs_inode *ni, const uint8_t *data, size_t len)
{
	ntfs_attr *na = open_data(ni, MAX_READ_BYTES);
	if (!na)
		return -1;
	int rc = (uint64_t)na->data_size == len;
	uint8_t *piece = rc && len ? rp_xmalloc(len < COMPARE_PIECE ? len : COMPARE_PIECE) : NULL;
	for (size_t at = 0; rc == 1 && at < len; at += COMPARE_PIECE) {
		size_t n = len - at < COMPARE_PIECE ? len - at : COMPARE_PIECE;
		if (pread_full(na, at, n, piece) < 0)
			rc = -1;
		else if (memcmp(piece, data + at, n) != 0)
			rc = 0;
	}
	int e = errno;
	free(piece);
	ntfs_attr_close(na);
	errno = e;
	return rc;
}

int rpn_read_range(ntfs_inode *ni, uint64_t off, uint8_t *buf, size_t len)
{
	ntfs_attr *na = open_data(ni, MAX_READ_BYTES);
	if (!na)
		return -1;
	int rc = 0;
	if (off > (uint64_t)na->data_size || len > (uint64_t)na->data_size - off) {
		errno = EIO; /* shorter than the caller saw it */
		rc = -1;
	} else {
		rc = pread_full(na, off, len, buf);
	}
	int e = errno;
	ntfs_attr_close(na);
	errno = e;
	return rc;
}

int rpn_get_sd_of(rp_vol *vol, ntfs_inode *ni, uint8_t **sd, size_t *len)
{
	int need = ntfs_get_ntfs_acl(&rpn_np(vol)->scx, ni, NULL, 0);
	if (need <= 0) {
		errno = need < 0 ? -need : ENODATA;
		return -1;
	}
	uint8_t *buf = rp_xmalloc((size_t)need);
	int got = ntfs_get_ntfs_acl(&rpn_np(vol)->scx, ni, (char *)buf, (size_t)need);
	if (got != need) {
		free(buf);
		errno = got < 0 ? -got : EIO;
		return -1;
	}
	*sd = buf;
	*len = (size_t)need;
	return 0;
}

int rpn_set_sd_of(rp_vol *vol, ntfs_inode *ni, const uint8_t *sd, size_t len)
{
	if (rpn_faulted("vol:set_sd"))
		return -1;
	return ntfs_set_ntfs_acl(&rpn_np(vol)->scx, ni, (const char *)sd, len, 0);
}

/* A leaf name as NTFS stores it, refused when Windows could not handle it. */
int rpn_leaf_name(rp_vol *vol, const char *path, const char *leaf, ntfschar **uname, int *ulen,
		  rp_err *err)
{
	*uname = NULL;
	*ulen = ntfs_mbstoucs(leaf, uname);
	if (*ulen <= 0 || *ulen > 255 ||
	    ntfs_forbidden_names(rpn_np(vol)->nv, *uname, *ulen, TRUE)) {
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

int rpn_damaged(rp_vol *vol, const char *dir, const char *what_fmt, const char *name, rp_err *err)
{
	char *shown_dir = rp_escape(*dir ? dir : "/"), *shown = rp_escape(name);
	char *what = rp_xasprintf(what_fmt, shown);
	rp_fail(err, RP_EXIT_UNUSABLE,
		"the directory index of %s on %s is damaged: it %s (what an older rdprescue "
		"interrupted while writing left); nothing was written: run chkdsk /f on this "
		"volume in Windows, then run rdprescue again",
		shown_dir, vol->where, what);
	free(what);
	free(shown);
	free(shown_dir);
	return -1;
}

/* Writes back the records libntfs-3g keeps open for the whole mount ($MFT, $MFTMirr, $Bitmap,
 * $Volume, $Secure), so that a commit holds everything an operation changed. */
static int sync_system_inodes(ntfs_volume *nv)
{
	ntfs_inode *sys[] = {nv->mft_ni, nv->mftmirr_ni, nv->lcnbmp_ni, nv->vol_ni, nv->secure_ni};
	for (size_t i = 0; i < sizeof sys / sizeof *sys; i++)
		if (sys[i] && NInoDirty(sys[i]) && ntfs_inode_sync(sys[i]) < 0)
			return -1;
	return 0;
}

int rpn_begin_op(rp_vol *vol, rp_err *err)
{
	struct ntfs_priv *p = rpn_np(vol);
	if (p->marked_dirty || p->windows_dirty)
		return 0;
	/* The mark first: a flag without it would read as Windows asking for chkdsk. */
	int fd = rp_jr_prepare_dir(p->dirty_mark) < 0
		     ? -1
		     : open(p->dirty_mark, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		char *m = rp_escape(p->dirty_mark);
		rp_fail(err, RP_EXIT_UNUSABLE,
			"cannot create %s (%s): rdprescue keeps its journal and dirty mark next to "
			"the image; make that directory writable or set RP_JOURNAL_DIR to one; "
			"nothing was written",
			m, strerror(errno));
		free(m);
		return -1;
	}
	int rc = 0;
	{
		char line[200];
		int n =
		    snprintf(line, sizeof line,
			     "rdprescue set the dirty flag of the NTFS volume at byte %llu while "
			     "writing; it clears both when it is done\n",
			     (unsigned long long)p->od->base);
		if (write(fd, line, (size_t)n) != n || fsync(fd) < 0)
			rc = -1;
		close(fd);
	}
	if (rc == 0 && (ntfs_volume_write_flags(p->nv, p->nv->flags | VOLUME_IS_DIRTY) < 0 ||
			sync_system_inodes(p->nv) < 0 || rp_od_commit(p->od) < 0))
		rc = -1;
	if (rc < 0) {
		int e = errno;
		int left = p->od->journal_left;
		rp_od_discard(p->od);
		/* A journal left behind sets the flag on the next open: the mark stays with it. */
		if (!left)
			unlink(p->dirty_mark);
		char *m = rp_escape(p->dirty_mark);
		rp_fail(err, RP_EXIT_WRITE_FAILED,
			"cannot mark the volume on %s dirty before writing (%s: %s): %s",
			vol->where, m, strerror(e),
			left ? "the next run completes the mark and clears it"
			     : "nothing was written");
		free(m);
		return -1;
	}
	p->marked_dirty = 1;
	vol->state.marked_dirty = 1;
	return 0;
}

int rpn_end_op(rp_vol *vol, int rc, const char *what, const char *path, rp_err *err)
{
	struct ntfs_priv *p = rpn_np(vol);
	/* A refusal (libntfs-3g's validation, a name in the way) leaves a consistent volume:
	 * what it wrote (an inode's times) is committed like a success. */
	if (rc < 0 && err && err->exit_code != RP_EXIT_WRITE_FAILED && rp_od_pending(p->od) &&
	    sync_system_inodes(p->nv) == 0 && rp_od_commit(p->od) == 0)
		return -1;
	if (rc == 0) {
		if (sync_system_inodes(p->nv) < 0 || rp_od_commit(p->od) < 0) {
			int left = p->od->journal_left;
			rp_od_discard(p->od);
			rpn_fail_errno(vol, RP_EXIT_WRITE_FAILED, what, path, err);
			if (left) {
				char *j = rp_escape(p->od->journal);
				rp_err_prefix(
				    err,
				    "%s holds the change and completes it when the volume is "
				    "next opened",
				    j);
				free(j);
			}
			return -1;
		}
		return 0;
	}
	/* Nothing of a failed operation reaches the disk. */
	if (rp_od_pending(p->od))
		rp_od_discard(p->od);
	return -1;
}
