/*
 * ntfs_internal.h — what the files of the libntfs-3g backend share (ntfs.c: the ops and opening;
 * ntfs_replace.c: write_file; ntfs_node.c: lookups and helpers; ntfs_dev.c: the offset device;
 * ntfs_journal.c: the redo journal).
 * Calls go one way: ntfs.c -> ntfs_replace.c -> ntfs_node.c -> ntfs_dev.c -> ntfs_journal.c.
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

struct ov_slot;
struct rcache;

struct offset_dev {
	char *path;
	int fd;
	int is_blockdev;
	uint64_t base, size;   /* the partition inside the file */
	int64_t pos;	       /* for read/write/seek */
	uint8_t serial[8];     /* the volume's serial number (boot sector) */
	char *journal;	       /* where a commit's journal goes (rp_jr_path) */
	struct ov_slot *slots; /* blocks written since the last commit */
	size_t cap, used;
	struct rcache *rc; /* the read cache: the disk's bytes (the overlay goes on top) */
	int dropped;	   /* an operation was dropped: nothing more reaches the disk */
	int journal_left;  /* a commit failed after its journal was complete */
	int replayed;	   /* open: blocks of an interrupted commit replayed */
	int pending;	   /* read-only open: an interrupted commit laid over the disk in memory */
	int discarded;	   /* open: an incomplete journal found (and removed when read-write) */
	char *stale; /* open: a journal that does not match the volume (never used): where it is now
			(renamed aside when read-write) */
	int journal_error; /* open: a journal is there but cannot be read (its errno) */
	/* The volume's cluster bitmap (rp_od_set_bitmap), so that a commit knows which blocks
	 * lie in clusters that were free before the operation: none known, none free. */
	uint32_t cluster_size;
	uint64_t nr_clusters;
	struct rp_od_run *bitmap_runs;
	size_t nbitmap_runs;
};

/* One run of the bitmap's data: clusters [vcn, vcn + len) of it are at lcn on the volume. */
struct rp_od_run {
	int64_t vcn, lcn, len;
};

extern struct ntfs_device_operations rp_offset_dev_ops;
int rp_od_close(struct ntfs_device *dev);
/* Where the volume's cluster bitmap lies (its data's runs; copied) and its geometry. */
void rp_od_set_bitmap(struct offset_dev *od, uint32_t cluster_size, uint64_t nr_clusters,
		      const struct rp_od_run *runs, size_t n);
/* Writes the blocks written since the last commit through the journal; 0 also when there are
 * none.  Blocks wholly in clusters the disk's bitmap shows free (a new file's data) are
 * written in place and synced first, and only their hashes journaled (ordered blocks, see
 * ntfs_journal.c).  -1 (errno): nothing the volume shows was written in place, or
 * journal_left is set. */
int rp_od_commit(struct offset_dev *od);
/* Whether anything was written since the last commit. */
int rp_od_pending(const struct offset_dev *od);
/* Drops what a read-only look wrote (access times) when nothing else was pending. */
void rp_od_forget(struct offset_dev *od);
/* Drops what was written since the last commit; nothing is ever written after this. */
void rp_od_discard(struct offset_dev *od);
void rp_od_free(struct offset_dev *od);

/* ---- ntfs_journal.c ---- */

#define RP_JR_BLOCK 4096
struct rp_jr_block {
	uint64_t no;   /* block number in the partition */
	uint8_t *data; /* RP_JR_BLOCK bytes */
};
/* The journal's (or, with another suffix, the dirty mark's) path for a partition: next to an
 * image file, or under $RP_JOURNAL_DIR (default /var/lib/rdprescue for block devices:
 * ntfs-<volume serial>@<offset>-<16 hex of the SHA-256 of the disk's identity>, see
 * rp_disk_identity; ntfs-<serial>@<offset> when nothing identifies the disk, and a file an
 * older rdprescue left under that name is renamed to the new one). */
char *rp_jr_path(const char *dev_path, int is_blockdev, uint64_t base, const uint8_t serial[8],
		 const char *suffix);
/* Makes the directory that holds path (one level, 0700) when it is missing. */
int rp_jr_prepare_dir(const char *path);
/* Writes and fsyncs a journal of n blocks, each with the SHA-256 of what fd_dev (the device,
 * not the overlay) holds there now, and of nord ordered blocks (written in place already:
 * their numbers and the SHA-256 of their contents; fd_dev is fsync'd before the journal is
 * written); fd_dev < 0 writes a version-1 journal without hashes or ordered blocks (only tests
 * make those).  -1 (errno) and no file on failure. */
int rp_jr_write(const char *path, int fd_dev, uint64_t base, uint64_t size,
		const struct rp_jr_block *b, size_t n, const struct rp_jr_block *ord,
		const char (*ord_hash)[65], size_t nord);
/* The SHA-256 (hex) of each of n blocks of a partition of size bytes: an ordered block's hash in
 * its journal record, taken beforehand (rp_jr_write's ord_hash; NULL there takes them itself). */
void rp_jr_hash(const struct rp_jr_block *b, size_t n, uint64_t size, char (*hex)[65]);
/* 1: a complete journal for this partition that fd_dev (the device) holds either the new
 * contents or the pre-image of, block by block, and the new contents of each ordered block
 * (*b malloc'd: the journaled blocks); 0: none; -2: incomplete or not
 * for this partition; -3: stale, the volume changed since it was written (nothing of it may
 * be used; see rp_jr_set_aside); -1: unreadable (errno). */
int rp_jr_read(const char *path, int fd_dev, uint64_t base, uint64_t size, struct rp_jr_block **b,
	       size_t *n);
/* Renames a stale journal to <path>.stale-<UTC time> beside it (never deleted): the new path
 * (malloc'd), or NULL (errno) when it could not be renamed. */
char *rp_jr_set_aside(const char *path);
/* Writes the blocks in place (the last one clamped to size), runs of consecutive blocks in
 * one call; rp_jr_apply then fsyncs fd. */
int rp_jr_put(int fd, uint64_t base, uint64_t size, const struct rp_jr_block *b, size_t n);
int rp_jr_apply(int fd, uint64_t base, uint64_t size, const struct rp_jr_block *b, size_t n);
void rp_jr_free(struct rp_jr_block *b, size_t n);

/* ---- ntfs_node.c ---- */

/* ---- the volume ---- */

struct ntfs_priv {
	ntfs_volume *nv;
	struct offset_dev *od;
	struct SECURITY_CONTEXT scx;
	struct PERMISSIONS_CACHE *seccache; /* scx points here; stays empty without mappings */
	char *dirty_mark;		    /* file saying rdprescue set the dirty flag */
	int marked_dirty;  /* the dirty flag is rdprescue's: set by this open or an interrupted one
			    */
	int windows_dirty; /* the flag was set by Windows: left alone */
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
/* rpn_read_all refusing (EFBIG) a file above max bytes before reading it. */
int rpn_read_max(ntfs_inode *ni, uint64_t max, uint8_t **data, size_t *len);
/* Whether ni's data is exactly data's len bytes, compared a piece at a time: 1 yes, 0 no, -1
 * when it cannot be read (errno). */
int rpn_holds(ntfs_inode *ni, const uint8_t *data, size_t len);
/* Bytes [off, off + len) of ni's data; EIO when the data is shorter. */
int rpn_read_range(ntfs_inode *ni, uint64_t off, uint8_t *buf, size_t len);
int rpn_get_sd_of(rp_vol *vol, ntfs_inode *ni, uint8_t **sd, size_t *len);
int rpn_set_sd_of(rp_vol *vol, ntfs_inode *ni, const uint8_t *sd, size_t len);
int rpn_leaf_name(rp_vol *vol, const char *path, const char *leaf, ntfschar **uname, int *ulen,
		  rp_err *err);

/* Fails with RP_EXIT_UNUSABLE: the index of dir is damaged; what_fmt ("lists %s twice") says
 * how, about name; the message says to run chkdsk /f. */
int rpn_damaged(rp_vol *vol, const char *dir, const char *what_fmt, const char *name, rp_err *err);
#define RPN_NO_FILE "lists %s, but there is no file behind that name"
#define RPN_TWICE "lists %s twice"
/* Starts one write operation: the first one marks the volume dirty (and commits that alone),
 * so that Windows runs chkdsk if rdprescue is interrupted before it clears the flag. */
int rpn_begin_op(rp_vol *vol, rp_err *err);
/* Ends one write operation (rc: its result so far): commits what it wrote, or drops it so that
 * nothing of it reaches the disk.  what/path name it in a message when the commit fails. */
int rpn_end_op(rp_vol *vol, int rc, const char *what, const char *path, rp_err *err);

/* ---- ntfs_replace.c ---- */

/* The check_entry op (a missing directory is no damage: 0). */
int rp_ntfs_check_entry(rp_vol *vol, const char *path, rp_err *err);
int rp_ntfs_write_file(rp_vol *vol, const char *path, const uint8_t *data, size_t len,
		       const uint8_t *sd, size_t sd_len, rp_err *err);

#endif
