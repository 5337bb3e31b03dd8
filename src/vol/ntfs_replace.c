/*
 * ntfs_replace.c — write_file of the libntfs-3g backend: a file created or replaced so that the
 * volume holds the old or the new file at every instant, never a mix.
 *
 * The whole replace is one transaction of the offset device (ntfs_dev.c): the old name is
 * deleted and the new file created under it (two index updates, the fewest there are), filled,
 * given its security descriptor and attributes, closed and read back, and only then committed
 * through the redo journal.  A failure at any step drops the transaction: the disk never saw
 * any of it.  Names an older rdprescue left behind (<name>.rdprescue-tmp / -old) are cleaned
 * up first, in the same transaction (see docs/design-notes.md, "Write ordering on NTFS").
 */
#include "vol/ntfs_internal.h"
#include "util/fault.h"
#include "util/text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* State of one write_file: the directory is reopened after every ntfs_delete (which closes
 * it), so it is kept by number. */
struct replace {
	rp_vol *vol;
	ntfs_volume *nv;
	const char *path;
	u64 dir_no;
	ntfs_inode *dir_ni;
	ntfschar *name; /* the file's name (real case when replacing) */
	int name_len;
	u64 new_no; /* the new file's record */
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
	int rc = rpn_faulted("vol:link") ? -1 : ntfs_link(ni, r->dir_ni, name, (u8)len);
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
	if (rpn_faulted("vol:unlink")) {
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

/* Creates the new file under r->name, fills it, closes it, re-reads and compares it. */
static int write_new(struct replace *r, const uint8_t *data, size_t len, const uint8_t *sd,
		     size_t sd_len, uint32_t attrib, le32 securid)
{
	ntfs_inode *ni = rpn_faulted("vol:create")
			     ? NULL
			     : ntfs_create(r->dir_ni, securid, r->name, (u8)r->name_len, S_IFREG);
	if (!ni)
		return -1;
	r->new_no = ni->mft_no;
	int rc = -1;
	ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
	if (!na)
		goto close;
	if (rpn_faulted("vol:truncate") || ntfs_attr_truncate_solid(na, (s64)len) < 0)
		goto close_attr;
	for (size_t done = 0; done < len;) {
		s64 w = rpn_faulted("vol:write")
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
	if (rc == 0 && sd && rpn_set_sd_of(r->vol, ni, sd, sd_len) < 0)
		rc = -1;
	if (rc == 0 && attrib &&
	    (rpn_faulted("vol:set_attrib") ||
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
	ni = ntfs_inode_open(r->nv, r->new_no);
	if (!ni)
		return -1;
	int same = rpn_holds(ni, data, len);
	e = errno;
	ntfs_inode_close_in_dir(ni, r->dir_ni);
	errno = same == 0 ? EIO : e;
	return same == 1 ? 0 : -1;
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

/* Entries of a directory with one name (case-insensitive, 8.3 aliases skipped); twice: one
 * file listed twice under it. */
struct name_count {
	const ntfschar *want;
	int want_len;
	ntfs_volume *nv;
	int n, twice;
	MFT_REF mref;
};

static int count_cb(void *ctx, const ntfschar *name, const int name_len, const int name_type,
		    const s64 pos, const MFT_REF mref, const unsigned dt_type)
{
	struct name_count *c = ctx;
	(void)pos;
	(void)dt_type;
	if (name_type != FILE_NAME_DOS && name_len > 0 &&
	    ntfs_names_are_equal(name, (size_t)name_len, c->want, (size_t)c->want_len, IGNORE_CASE,
				 c->nv->upcase, c->nv->upcase_len)) {
		/* The same file under the same name again is a damaged index; two files whose
		 * names differ in case only (POSIX namespace) are not. */
		if (c->n && MREF(mref) == MREF(c->mref))
			c->twice = 1;
		c->n++;
		c->mref = mref;
	}
	return 0;
}

/* The damage an older rdprescue (one ntfs-3g operation written without a journal) left when it
 * was killed: an index that lists a name twice, or lists a name with no file behind it.  Such
 * an index is not repaired here (only chkdsk rebuilds an index safely): the write is refused,
 * before anything is written, with what is wrong and how to clear it. */
static int check_index(struct replace *r, const char *leaf, rp_err *err)
{
	static const char *const suffixes[] = {"", RP_VOL_TMP_SUFFIX, RP_VOL_OLD_SUFFIX};
	for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
		char *name = rp_xasprintf("%s%s", leaf, suffixes[i]);
		struct name_count c = {.nv = r->nv};
		ntfschar *uname = NULL;
		c.want_len = ntfs_mbstoucs(name, &uname);
		c.want = uname;
		int rc = c.want_len > 0 ? rpn_readdir_real_case(r->dir_ni, &c, count_cb) : -1;
		const char *damage = NULL;
		if (rc < 0 && c.want_len <= 0)
			damage = NULL;
		else if (c.twice)
			damage = RPN_TWICE;
		else if (c.n == 1 && MREF(c.mref) >= FILE_first_user) {
			ntfs_inode *ni = ntfs_inode_open(r->nv, MREF(c.mref));
			if (ni)
				ntfs_inode_close_in_dir(ni, r->dir_ni);
			else
				damage = RPN_NO_FILE;
		}
		free(uname);
		if (damage) {
			char *dir = rp_xstrdup(r->path);
			char *slash = strrchr(dir, '/');
			if (slash)
				*slash = '\0';
			rpn_damaged(r->vol, slash ? dir : "", damage, name, err);
			free(dir);
			free(name);
			return -1;
		}
		free(name);
	}
	return 0;
}

/* Cleans up after a write_file of an older rdprescue (a five-step link/unlink swap) that was
 * interrupted before it could remove its temporary names.  "<leaf>.rdprescue-tmp" is
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
		int found = rpn_find_entry(r->dir_ni, name, &de);
		int plain = found > 0 ? is_user_file(r, &de) : 0;
		int has_leaf = found > 0 && i == 1 ? rpn_find_entry(r->dir_ni, leaf, &cur) : 1;
		int suffix_len = (int)strlen(suffixes[i]);
		if (found < 0 || plain < 0 || has_leaf < 0)
			rpn_fail_errno(r->vol, RP_EXIT_UNUSABLE, "looking up", name, err);
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
			rpn_fail_errno(r->vol, RP_EXIT_WRITE_FAILED, "restoring the original from",
				       name, err);
		else if (unlink_name(r, MREF(de.mref), de.name, de.name_len) < 0)
			rpn_fail_errno(r->vol, RP_EXIT_WRITE_FAILED,
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

int rp_ntfs_check_entry(rp_vol *vol, const char *path, rp_err *err)
{
	struct replace r = {.vol = vol, .nv = rpn_np(vol)->nv, .path = path};
	const char *leaf;
	char *parent = rpn_split_parent(path, &leaf);
	struct offset_dev *od = rpn_np(vol)->od;
	int had_writes = vol->writable && rp_od_pending(od);
	ntfs_inode *dir_ni = rpn_open_path(r.nv, parent);
	int rc = 0;
	if (dir_ni) {
		r.dir_ni = dir_ni;
		rc = check_index(&r, leaf, err);
		ntfs_inode_close(dir_ni);
	}
	/* A look writes nothing: libntfs-3g's access-time updates of the look are not kept. */
	if (vol->writable && !had_writes)
		rp_od_forget(od);
	free(parent);
	return rc;
}

int rp_ntfs_write_file(rp_vol *vol, const char *path, const uint8_t *data, size_t len,
		       const uint8_t *sd, size_t sd_len, rp_err *err)
{
	struct replace r = {.vol = vol, .nv = rpn_np(vol)->nv, .path = path};
	const char *leaf;
	char *parent = rpn_split_parent(path, &leaf);
	uint8_t *old_sd = NULL;
	size_t old_sd_len = 0;
	uint32_t attrib = 0;
	le32 securid = 0;
	int rc = -1, wrote = 0;
	char *shown = rp_escape(path);

	if (rpn_leaf_name(vol, path, leaf, &r.name, &r.name_len, err) < 0)
		goto out;
	r.dir_ni = rpn_open_existing(vol, "writing into", parent, err);
	if (!r.dir_ni)
		goto out;
	r.dir_no = r.dir_ni->mft_no;
	if (check_index(&r, leaf, err) < 0 || rpn_begin_op(vol, err) < 0 ||
	    clear_leftovers(&r, leaf, err) < 0)
		goto out;

	struct dir_entry old;
	int found = rpn_find_entry(r.dir_ni, leaf, &old);
	if (found < 0) {
		rpn_fail_errno(vol, RP_EXIT_UNUSABLE, "looking up", path, err);
		goto out;
	}
	if (found) {
		/* Replace under the existing (real-case) name, with its SD and attributes. */
		memcpy(r.name, old.name, (size_t)old.name_len * sizeof(ntfschar));
		r.name_len = old.name_len;
		ntfs_inode *ni = ntfs_inode_open(r.nv, MREF(old.mref));
		if (!ni) {
			rpn_fail_errno(vol, RP_EXIT_UNUSABLE, "opening", path, err);
			goto out;
		}
		int bad = ni->mft_no < FILE_first_user;
		int is_dir = (ni->mrec->flags & MFT_RECORD_IS_DIRECTORY) != 0;
		attrib = rpn_file_attributes(ni) & ~(uint32_t)FILE_ATTR_NORMAL;
		int got = bad || is_dir || sd ? 0 : rpn_get_sd_of(vol, ni, &old_sd, &old_sd_len);
		int e = errno;
		ntfs_inode_close_in_dir(ni, r.dir_ni);
		errno = e;
		if (bad || is_dir) {
			rp_fail(err, RP_EXIT_PROBLEMS, "writing %s on %s: it is %s", shown,
				vol->where, bad ? "an NTFS system file" : "a directory");
			goto out;
		}
		if (got < 0) {
			rpn_fail_errno(vol, RP_EXIT_UNUSABLE, "reading the security descriptor of",
				       path, err);
			goto out;
		}
		wrote = 1;
		if (unlink_name(&r, MREF(old.mref), r.name, r.name_len) < 0) {
			rpn_fail_errno(vol, RP_EXIT_WRITE_FAILED, "unlinking the old", path, err);
			goto out;
		}
	} else if (!sd) {
		securid = ntfs_inherited_id(&rpn_np(vol)->scx, r.dir_ni, FALSE);
	}
	wrote = 1;
	if (write_new(&r, data, len, sd ? sd : old_sd, sd ? sd_len : old_sd_len, attrib, securid) <
	    0) {
		rpn_fail_errno(vol, RP_EXIT_WRITE_FAILED, "writing the new", path, err);
		goto out;
	}
	rc = 0;
out:
	if (r.dir_ni && ntfs_inode_close(r.dir_ni) < 0 && rc == 0)
		rc = rpn_fail_errno(vol, RP_EXIT_WRITE_FAILED, "writing", path, err);
	int failed_before = rc < 0;
	rc = rpn_end_op(vol, rc, "writing", path, err);
	if (rc < 0 && wrote && failed_before)
		rp_err_prefix(err, "rolled back, %s unchanged", shown);
	free(shown);
	free(old_sd);
	free(r.name);
	free(parent);
	return rc;
}
