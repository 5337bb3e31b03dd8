/*
 * backend.h — what a vol/ backend provides (wimlib-style ops table), and the rp_vol every backend
 * shares.  vol.c does everything that does not depend on the backend: path checks, the
 * read-only and failed-write gates, the reparse-point walk, mkdirs.  Paths handed to the ops
 * are normalised: no leading or doubled '/', no "." or ".." components, "" for the root.
 */
#ifndef RP_VOL_BACKEND_H
#define RP_VOL_BACKEND_H

#include "vol/vol.h"

struct rp_vol_ops {
	const char *name;
	int (*stat)(rp_vol *vol, const char *path, rp_stat *st, rp_err *err);
	int (*read)(rp_vol *vol, const char *path, uint8_t **data, size_t *len, rp_err *err);
	/* Optional: rp_vol_read_range. */
	int (*read_range)(rp_vol *vol, const char *path, uint64_t off, uint8_t *buf, size_t len,
			  rp_err *err);
	int (*list)(rp_vol *vol, const char *dir, rp_vol_list_cb cb, void *ctx, rp_err *err);
	int (*get_sd)(rp_vol *vol, const char *path, uint8_t **sd, size_t *len, rp_err *err);
	/* Writes: a failure that may have touched the volume is reported with
	 * RP_EXIT_WRITE_FAILED, which makes vol.c refuse every later write. */
	int (*set_sd)(rp_vol *vol, const char *path, const uint8_t *sd, size_t len, rp_err *err);
	/* One directory whose parent exists and whose name is free. */
	int (*mkdir)(rp_vol *vol, const char *path, rp_err *err);
	int (*write_file)(rp_vol *vol, const char *path, const uint8_t *data, size_t len,
			  const uint8_t *sd, size_t sd_len, rp_err *err);
	int (*remove)(rp_vol *vol, const char *path, rp_err *err);
	int (*sync)(rp_vol *vol, rp_err *err);
	/* Whether the directory entry of path is sound (no name listed twice, none without a
	 * file behind it); NULL when the backend cannot tell.  Reads only. */
	int (*check_entry)(rp_vol *vol, const char *path, rp_err *err);
	/* Bytes a new file may still take. */
	int (*free_space)(rp_vol *vol, uint64_t *bytes, rp_err *err);
	/* Releases everything, also after a failure; reports a failed write-back. */
	int (*close)(rp_vol *vol, rp_err *err);
	/* Optional: refuses (nothing written) a write_file of len bytes the backend cannot do. */
	int (*check_replace)(rp_vol *vol, const char *path, size_t len, rp_err *err);
	/* Optional: list with each entry's node (ent->node) open during cb.  Without it
	 * rp_vol_walk uses list, and the entry calls read the entry by its path. */
	int (*walk)(rp_vol *vol, const char *dir, rp_vol_walk_cb cb, void *ctx, rp_err *err);
	/* With walk: an entry's file (at most max bytes) and its security descriptor. */
	int (*entry_read)(rp_vol_entry *ent, uint64_t max, uint8_t **data, size_t *len,
			  rp_err *err);
	int (*entry_get_sd)(rp_vol_entry *ent, uint8_t **sd, size_t *len, rp_err *err);
};

/* An entry of a walk: the directory (normalised) and name it was listed under, and the
 * backend's handle of it (ntfs: the open ntfs_inode; NULL: reached by its path). */
struct rp_vol_entry {
	rp_vol *vol;
	const char *dir;
	const char *name;
	void *node;
};

struct rp_vol {
	const struct rp_vol_ops *ops;
	void *priv;
	int writable;	  /* opened read-write: the only case write ops are called */
	int write_failed; /* a write failed: no more writes */
	char *where;	  /* device or directory, for messages */
	char label[128];
	uint64_t size;
	rp_vol_state state;
	struct rp_vol *boot; /* the boot volume seen under RP_VOL_BOOT (owned), or NULL */
	char *boot_note;     /* why there is none, for messages (NULL: no boot partition) */
};

extern const struct rp_vol_ops rp_vol_ntfs_ops;
extern const struct rp_vol_ops rp_vol_dir_ops;
extern const struct rp_vol_ops rp_vol_fat_ops;

/* Allocates the common part (where = a copy of where). */
rp_vol *rp_vol_new(const struct rp_vol_ops *ops, const char *where, int writable);
void rp_vol_delete(rp_vol *vol);

/* The message for a volume Windows left hibernated / unclean, for a refused read-write open. */
const char *rp_vol_state_refusal(const rp_vol_state *st);

/* Name of the temporary file write_file uses next to the target. */
#define RP_VOL_TMP_SUFFIX ".rdprescue-tmp"
/* Name the replaced file keeps until the new one is in place. */
#define RP_VOL_OLD_SUFFIX ".rdprescue-old"
/* Next to an image (ntfs backend): the redo journal of a commit in progress, and the mark that
 * rdprescue set the volume's dirty flag (see ntfs_journal.c). */
#define RP_VOL_JOURNAL_SUFFIX ".rdprescue-journal"
#define RP_VOL_DIRTY_SUFFIX ".rdprescue-dirty"

#endif
