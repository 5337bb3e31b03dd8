/*
 * jobs.h — what a fix will write, computed and verified before the volume is opened for writing.
 *
 * One job per file the run touches: a hive or a Registry.pol whose content is replaced, a file
 * or folder whose security descriptor is replaced, or a broken file to quarantine.  Every new
 * image is built from the scan's read-only view and checked (hives by regf/ and a read-back of
 * every edit; Registry.pol by parsing it back), so that a write can only fail on I/O.
 */
#ifndef RP_PLAN_JOBS_H
#define RP_PLAN_JOBS_H

#include "plan/plan.h"
#include "sd/sd.h" /* rp_sd_bytes_to_sddl for the manifests */

typedef struct rp_job {
	char *path;		 /* volume path */
	rp_backup_action action; /* RP_BACKUP_REPLACE, _SD or _QUARANTINE */
	rp_hive_file *hf;	 /* hive jobs: the hive (its logs are saved too) */
	uint8_t *image;		 /* REPLACE: the new content; SD: the new security descriptor */
	size_t len;
	char sha_before[65]; /* REPLACE of a .pol: the content the image was computed from */
	char sha_after[65];  /* SHA-256 of image */
	char *sddl_after;    /* SD: the new descriptor in SDDL (NULL when not expressible) */
	size_t nchanges;     /* planned changes it carries */
	size_t entry;	     /* its entry in the fix's backup */
} rp_job;

typedef struct rp_jobs {
	rp_job *v;
	size_t n;
	size_t nchanges;
} rp_jobs;

/* Whether fix applies change c of finding f. */
int rp_change_selected(const rp_finding *f, const rp_change *c, int allow_weaker);

/* The ids of the catalogue checks with a change fix applies (rp_change_selected), in
 * catalogue order, malloc'd (*n of them; an array even when *n is 0): the backup's "checks". */
char **rp_jobs_checks(const rp_scan *scan, int allow_weaker, size_t *n);

/* Computes and verifies every job of the scan's selected changes (notes go to res).
 * for_write 0 (a preflight, nothing will be written): a new hive's sha_after, which only the
 * backup's manifest needs, is left empty instead of hashing the whole image. */
int rp_jobs_build(rp_scan *scan, int allow_weaker, int for_write, rp_jobs *jobs,
		  rp_plan_result *res, rp_err *err);
void rp_jobs_free(rp_jobs *jobs);
/* Appends a note (malloc'd, taken over) to the result. */
void rp_plan_add_note(rp_plan_result *res, char *note);
/* Appends a copy of path to res's files (the files a run wrote or would write). */
void rp_plan_add_file(rp_plan_result *res, const char *path);

#endif
