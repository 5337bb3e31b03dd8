/*
 * ntfs_internal.h — what the files of the libntfs-3g backend share (ntfs.c: the ops and opening;
 * ntfs_replace.c: write_file; ntfs_node.c: lookups and helpers; ntfs_dev.c: the offset device).
 * Calls go one way: ntfs.c -> ntfs_replace.c -> ntfs_node.c -> ntfs_dev.c.
 */
#ifndef RP_VOL_NTFS_INTERNAL_H
#define RP_VOL_NTFS_INTERNAL_H

#include "vol/backend.h"

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/device.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/security.h>
#include <ntfs-3g/unistr.h>
#include <ntfs-3g/volume.h>

/* Largest file rp_vol_read loads into memory (hives are well below). */
#define MAX_READ_BYTES ((uint64_t)4 << 30)

/* ---- ntfs_dev.c ---- */

struct offset_dev {
	char *path;
	int fd;
	int is_blockdev;
	uint64_t base, size; /* the partition inside the file */
	int64_t pos;	     /* for read/write/seek */
};

extern struct ntfs_device_operations rp_offset_dev_ops;
int rp_od_close(struct ntfs_device *dev);

/* ---- ntfs_node.c ---- */

/* ---- the volume ---- */

struct ntfs_priv {
	ntfs_volume *nv;
	struct offset_dev *od;
	struct SECURITY_CONTEXT scx;
	struct PERMISSIONS_CACHE *seccache; /* scx points here; stays empty without mappings */
};

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

struct ntfs_priv *rpn_np(rp_vol *vol);
int rpn_fail_errno(rp_vol *vol, int err_code, const char *what, const char *path, rp_err *err);
int rpn_faulted(const char *point);
ntfs_inode *rpn_open_path(ntfs_volume *nv, const char *path);
char *rpn_split_parent(const char *path, const char **leaf);
int rpn_readdir_real_case(ntfs_inode *dir_ni, void *ctx, ntfs_filldir_t cb);
int rpn_find_entry(ntfs_inode *dir_ni, const char *leaf, struct dir_entry *de);
uint32_t rpn_file_attributes(ntfs_inode *ni);
void rpn_fill_stat(ntfs_inode *ni, rp_stat *st);
ntfs_inode *rpn_open_existing(rp_vol *vol, const char *what, const char *path, rp_err *err);
int rpn_read_all(ntfs_inode *ni, uint8_t **data, size_t *len);
int rpn_get_sd_of(rp_vol *vol, ntfs_inode *ni, uint8_t **sd, size_t *len);
int rpn_set_sd_of(rp_vol *vol, ntfs_inode *ni, const uint8_t *sd, size_t len);
int rpn_leaf_name(rp_vol *vol, const char *path, const char *leaf, ntfschar **uname, int *ulen,
		  rp_err *err);

/* ---- ntfs_replace.c ---- */

int rp_ntfs_write_file(rp_vol *vol, const char *path, const uint8_t *data, size_t len,
		       const uint8_t *sd, size_t sd_len, rp_err *err);

#endif
