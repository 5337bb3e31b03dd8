/*
 * plan.h — turning planned changes into a safe write, and undoing it.
 *
 * fix:  changes -> new hive images (reg/ edits, regf/ clean base block, structural check,
 *       read-back) -> backup archive (host --backup-dir and the target volume, each re-read and
 *       verified) -> atomic replace of each file -> read back what the volume now holds.
 *       Any failed write rolls back what was already replaced (exit 4).
 * undo: the newest backup of the volume (or --backup FILE) -> a safety backup of the current
 *       state -> every file and security descriptor restored byte-for-byte -> read back.
 */
#ifndef RP_PLAN_H
#define RP_PLAN_H

#include "checks/checks.h"
#include "plan/backup.h"
#include "vol/vol.h"

#define RP_BACKUP_VOL_DIR "rdprescue/backups"
#define RP_VERSION "0.1.0"

typedef struct rp_plan_opts {
	const char *target; /* as given on the command line */
	int install_index;
	const char *backup_dir; /* host directory, or NULL */
	int dry_run;
	int allow_weaker;
	int force;		 /* undo: restore even if files changed since the fix */
	const char *backup_file; /* undo: a given archive */
	const char *kind;	 /* rp_plan_fix: the backup's kind ("reg"); NULL: "fix" */
	int keep_vol; /* rp_plan_fix: hand back the read-back mount in scan->vol (see there) */
} rp_plan_opts;

typedef struct rp_plan_result {
	char *backup_host;   /* host path of the archive (NULL when none) */
	char *backup_volume; /* volume path of the archive */
	char *backup_id;
	size_t files_written;
	char **files; /* volume paths written (replaced / restored) */
	size_t nfiles;
	size_t changes; /* registry edits applied (fix) or entries restored (undo) */
	char **notes;	/* one-line notes for the report (e.g. a hive written clean) */
	size_t nnotes;
	char *restored_id;   /* undo: the backup it restores (or would, with --dry-run) */
	char *restored_from; /* undo: where that backup was read (volume path or host file) */
} rp_plan_result;

/* Applies every change of the scan's PROBLEM findings (weakening ones only when allowed).
 * scan->vol is the read-only volume of the scan: the new images are computed from it, then it
 * is closed (scan->vol = NULL) and the volume reopened read-write for the write, then closed
 * again, and every written file is read back on a fresh read-only mount.  On return the caller
 * re-scans: with opts->keep_vol, a fix that wrote files and read them all back leaves that fresh
 * read-only mount in scan->vol (the caller closes it; it holds what the disk holds after the
 * write, so the re-scan needs no mount of its own); otherwise, and on any failure, scan->vol is
 * NULL on return. */
int rp_plan_fix(const rp_target *t, rp_scan *scan, const rp_plan_opts *opts, rp_plan_result *res,
		rp_err *err);

/* What fix would do first, in memory only: builds and verifies every new image of the scan's
 * selected changes, writes nothing, keeps scan->vol open.  -1 with the refusal fix would give
 * (so that scan can report it). */
int rp_plan_preflight(rp_scan *scan, int allow_weaker, rp_err *err);

/* Undo walks the history: without --backup it restores the newest backup whose files are not
 * back to their originals yet, so that each run goes one step further back, until the state
 * before the first change (then nothing is restored and a note says so).  --backup takes an id
 * (see rp_plan_backups) or an archive file.  A file that changed since the backup was made is
 * only overwritten with --force, unless the change was written by a newer rdprescue run.
 * dry_run: says what would be restored (res->files, notes) and writes nothing. */
int rp_plan_undo(const rp_target *t, const rp_plan_opts *opts, rp_plan_result *res, rp_err *err);

/* One backup of the installation, as `rdprescue backups` lists it. */
typedef struct rp_backup_info {
	rp_backup backup;  /* manifest and original bytes, every hash verified */
	char *volume_path; /* copy in the volume's backup folder (NULL: none) */
	char *host_path;   /* copy in --backup-dir (NULL: none) */
	int undone;	   /* every file is back to what the backup holds */
} rp_backup_info;

/* Every backup on the installation's volume and in opts->backup_dir, newest first (undo's own
 * safety backups included). */
int rp_plan_backups(const rp_target *t, const rp_plan_opts *opts, rp_backup_info **out, size_t *n,
		    rp_err *err);
void rp_backup_infos_free(rp_backup_info *v, size_t n);

/* Replaces the security descriptor of path (a file or folder) with sd: the original goes into
 * a verified backup (entry action "sd", undone by rp_plan_undo), then the new one is set and
 * read back (src/plan/acl.c).  dry_run: validates sd only. */
int rp_plan_set_sd(const rp_target *t, const rp_plan_opts *opts, const char *path,
		   const uint8_t *sd, size_t len, rp_plan_result *res, rp_err *err);

void rp_plan_result_free(rp_plan_result *res);

/* JSON text describing an installation, for manifests and reports (malloc'd). */
char *rp_install_json(const rp_install *inst, const rp_registry *reg);

#endif
