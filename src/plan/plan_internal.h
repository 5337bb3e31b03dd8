/*
 * plan_internal.h — what the files of src/plan/ share and nothing outside uses: the backup
 * store (store.c).  The public interface is plan.h.
 */
#ifndef RP_PLAN_INTERNAL_H
#define RP_PLAN_INTERNAL_H

#include "plan/plan.h"

/* Serializes b, writes it to --backup-dir (when given) and into the volume's backup folder,
 * and re-reads both; the volume is open read-write.  Sets res->backup_*. */
int rp_plan_store_backup(rp_vol *vol, const rp_backup *b, const rp_plan_opts *opts,
			 rp_plan_result *res, rp_err *err);
/* Reads a file and its SD (the dir backend may have none: sd NULL). */
int rp_plan_read_original(rp_vol *vol, const char *path, uint8_t **data, size_t *len, uint8_t **sd,
			  size_t *sd_len, rp_err *err);
/* Puts one backup entry's original back (content and SD, SD only, or removes a created file). */
int rp_plan_restore_entry(rp_vol *vol, const rp_backup_entry *e, rp_err *err);
/* A new backup with a fresh id ("<UTC time>-<random>-<kind>"). */
void rp_plan_backup_init(rp_backup *b, const char *kind, const rp_plan_opts *opts,
			 const char *install_json);

/* One stored backup archive: where its copies are, and (once loaded) what it holds. */
typedef struct rp_stored {
	char *name;	   /* "rdprescue-<id>.tar.zst" */
	char *volume_path; /* RP_BACKUP_VOL_DIR/name, NULL when only on the host */
	char *host_path;   /* backup_dir/name, NULL when not there */
} rp_stored;

/* Every backup archive in the volume's backup folder and in backup_dir (may be NULL), newest
 * first (names start with the UTC time); with_undo: also the safety backups undo makes. */
int rp_store_list(rp_vol *vol, const char *backup_dir, int with_undo, rp_stored **out, size_t *n,
		  rp_err *err);
/* Reads (volume copy first, else the host copy) and parses one, every hash verified. */
int rp_store_load(rp_vol *vol, const rp_stored *s, rp_backup *b, rp_err *err);
void rp_store_free(rp_stored *v, size_t n);

#endif
