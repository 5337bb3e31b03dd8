/*
 * plan.c — fix: verified new images (jobs.c), backup, atomic replace, read-back.
 *
 * The order is the safety argument.  Everything that can be computed is computed and verified
 * before the volume is opened for writing: new hive and Registry.pol images exist in memory and
 * read back every edit; new security descriptors parse.  Then the originals are read again from
 * the read-write mount (so the backup holds exactly what is replaced), the backup is written and
 * re-read, and only then is a file replaced, an SD set or a broken file removed.  A failed write
 * is rolled back from the in-memory originals on a fresh mount, because libntfs-3g's state after
 * a failed write is not to be trusted.
 */
#include "plan/interrupt.h"
#include "plan/jobs.h"
#include "plan/plan_internal.h"
#include "util/hash.h"
#include "util/text.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One file a job replaces or keeps, as the read-write mount holds it, hashed on a thread of its
 * own while the next one is read. */
typedef struct original {
	const char *path;
	uint8_t *data, *sd;
	size_t len, sd_len;
	char sha[65];
	rp_sha256_job *hashing;
} original;

/* Job j's entry, just added: it must hold what the scan saw; it gets what j writes. */
static int entry_added(rp_job *j, rp_backup *b, rp_err *err)
{
	rp_backup_entry *en = &b->entries[b->nentries - 1];
	j->entry = b->nentries - 1;
	if (j->sha_before[0] && strcmp(en->sha256_before, j->sha_before) != 0) {
		char *p = rp_escape(j->path);
		rp_fail(err, RP_EXIT_UNUSABLE,
			"%s changed since it was scanned; nothing was written: run fix again", p);
		free(p);
		return -1;
	}
	if (j->action != RP_BACKUP_QUARANTINE)
		memcpy(en->sha256_after, j->sha_after, sizeof en->sha256_after);
	return 0;
}

/* Saves what the volume holds now for job j (read on the read-write mount, so that the backup
 * holds exactly what is replaced) and, for a hive, its logs. */
static int back_up_job(rp_vol *vol, rp_job *j, rp_backup *b, rp_err *err)
{
	if (j->action == RP_BACKUP_SD) {
		uint8_t *sd = NULL;
		size_t sd_len = 0;
		if (rp_vol_get_sd(vol, j->path, &sd, &sd_len, err) < 0)
			return -1;
		rp_backup_entry *en =
		    rp_backup_add(b, j->path, RP_BACKUP_SD, NULL, 0, 0, sd, sd_len);
		en->sddl_before = rp_sd_bytes_to_sddl(sd, sd_len);
		en->sddl_after = j->sddl_after ? rp_xstrdup(j->sddl_after) : NULL;
		free(sd);
		return entry_added(j, b, err);
	}
	original o[4] = {{.path = j->path}};
	size_t n = 1;
	for (int l = 0; j->hf && l < 3; l++)
		if (j->hf->log_path[l])
			o[n++].path = j->hf->log_path[l];
	int rc = 0;
	size_t got = 0;
	for (; got < n; got++) {
		original *f = &o[got];
		if (rp_plan_read_original(vol, f->path, &f->data, &f->len, &f->sd, &f->sd_len,
					  err) < 0) {
			rc = -1;
			break;
		}
		f->hashing = rp_sha256_hex_start(f->data, f->len, f->sha);
	}
	for (size_t i = 0; i < got; i++)
		rp_sha256_hex_wait(o[i].hashing);
	for (size_t i = 0; i < got; i++) {
		/* The bytes read are the backup's: taken over, hashed once, never copied. */
		if (rc == 0)
			rp_backup_add_owned(b, o[i].path, i ? RP_BACKUP_KEEP : j->action, o[i].data,
					    o[i].len, 1, o[i].sha, o[i].sd, o[i].sd_len);
		else
			free(o[i].data);
		free(o[i].sd);
		if (rc == 0 && i == 0)
			rc = entry_added(j, b, err);
	}
	return rc;
}

static int apply_job(rp_vol *vol, const rp_job *j, const rp_backup_entry *en, rp_err *err)
{
	switch (j->action) {
	case RP_BACKUP_SD:
		return rp_vol_set_sd(vol, j->path, j->image, j->len, err);
	case RP_BACKUP_QUARANTINE:
		return rp_vol_remove(vol, j->path, err);
	default:
		return rp_vol_write_file(vol, j->path, j->image, j->len, en->sd, en->sd_len, err);
	}
}

/* Whether the volume still holds entry e's original (content, or SD for an SD change): then
 * there is nothing to roll back for it (the volume layer drops a failed operation whole). */
static int still_original(rp_vol *vol, const rp_backup_entry *e)
{
	uint8_t *data = NULL;
	size_t len = 0;
	rp_err ignored = {0};
	int same = 0;
	if (e->action == RP_BACKUP_SD && e->sd) {
		if (rp_vol_get_sd(vol, e->path, &data, &len, &ignored) == 0)
			same = len == e->sd_len && memcmp(data, e->sd, len) == 0;
	} else if (e->action == RP_BACKUP_REPLACE && e->had_data) {
		if (rp_vol_read(vol, e->path, &data, &len, &ignored) == 0)
			same = len == e->len && (len == 0 || memcmp(data, e->data, len) == 0);
	}
	free(data);
	return same;
}

/* Puts back the originals of the first n jobs after a failed write, newest first, on a fresh
 * mount.  The job that failed is included: its file may be either version by now (a commit
 * that failed after its journal was complete is finished by this very open); a file that
 * still holds its original is left alone, so that nothing is claimed to fail when nothing
 * changed. */
static void roll_back(const rp_target *t, const rp_plan_opts *opts, const rp_backup *b,
		      const rp_jobs *jobs, size_t n, rp_err *err)
{
	rp_vol *vol = NULL;
	const rp_install *inst = NULL;
	rp_err e2 = {0};
	if (rp_target_open(t, opts->install_index, 1, &vol, &inst, &e2) < 0) {
		rp_err_prefix(err, "rollback impossible (%s); restore with 'rdprescue undo'",
			      e2.msg);
		return;
	}
	for (size_t i = n; i-- > 0;) {
		const rp_backup_entry *e = &b->entries[jobs->v[i].entry];
		if (still_original(vol, e))
			continue;
		if (rp_plan_restore_entry(vol, e, &e2) < 0)
			break;
	}
	if (rp_vol_close(vol, &e2) < 0 || e2.msg[0])
		rp_err_prefix(err, "rollback failed too (%s); restore with 'rdprescue undo'",
			      e2.msg);
	else
		rp_err_prefix(err, "rolled back, the volume is as before");
}

/* Pieces a written file is compared in, where the volume reads parts of files. */
#define READ_BACK_PIECE ((size_t)1 << 20)

/* Whether path holds exactly image's len bytes, read a piece at a time: 1, 0, or -1 (err). */
static int holds_in_pieces(rp_vol *vol, const char *path, const uint8_t *image, size_t len,
			   rp_err *err)
{
	rp_stat st;
	if (rp_vol_stat(vol, path, &st, err) < 0)
		return -1;
	if (!st.exists || st.is_dir || st.size != len)
		return 0;
	uint8_t *piece = rp_xmalloc(len < READ_BACK_PIECE ? (len ? len : 1) : READ_BACK_PIECE);
	int rc = 1;
	for (size_t at = 0; rc == 1 && at < len; at += READ_BACK_PIECE) {
		size_t n = len - at < READ_BACK_PIECE ? len - at : READ_BACK_PIECE;
		if (rp_vol_read_range(vol, path, at, piece, n, err) < 0)
			rc = -1;
		else if (memcmp(piece, image + at, n) != 0)
			rc = 0;
	}
	free(piece);
	return rc;
}

/* Whether the volume (a fresh read-only mount) holds what job j wrote. */
static int read_back(rp_vol *vol, const rp_job *j, rp_err *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int good;
	if (j->action == RP_BACKUP_REPLACE && rp_vol_can_read_range(vol, j->path)) {
		good = holds_in_pieces(vol, j->path, j->image, j->len, err);
		if (good < 0)
			return -1;
	} else if (j->action == RP_BACKUP_QUARANTINE) {
		rp_stat st;
		if (rp_vol_stat(vol, j->path, &st, err) < 0)
			return -1;
		good = !st.exists;
	} else {
		int got = j->action == RP_BACKUP_SD ? rp_vol_get_sd(vol, j->path, &data, &len, err)
						    : rp_vol_read(vol, j->path, &data, &len, err);
		if (got < 0)
			return -1;
		/* Compared with the image itself (sha_after was hashed from it): no second hash. */
		good = len == j->len && (len == 0 || memcmp(data, j->image, len) == 0);
		free(data);
	}
	if (good)
		return 0;
	char *p = rp_escape(j->path);
	rp_fail(err, RP_EXIT_WRITE_FAILED,
		"%s does not hold what was written; restore it with 'rdprescue undo'", p);
	free(p);
	return -1;
}

int rp_plan_fix(const rp_target *t, rp_scan *scan, const rp_plan_opts *opts, rp_plan_result *res,
		rp_err *err)
{
	memset(res, 0, sizeof *res);
	rp_jobs jobs;
	int rc = -1;
	rp_plan_guard guard = {0};
	int built = rp_jobs_build(scan, opts->allow_weaker, !opts->dry_run, &jobs, res, err);
	/* A file the backend cannot write this way (FAT: no room to grow) is refused now, so that
	 * --dry-run says so too; it is asked again on the read-write mount below. */
	for (size_t i = 0; built == 0 && i < jobs.n; i++)
		if (jobs.v[i].action == RP_BACKUP_REPLACE &&
		    rp_vol_check_replace(scan->vol, jobs.v[i].path, jobs.v[i].len, err) < 0)
			built = -1;
	rp_vol_state seen = {0};
	if (scan->vol)
		seen = *rp_vol_get_state(scan->vol);
	/* libntfs-3g must not have the volume open twice when it is reopened read-write. */
	if (scan->reg)
		rp_registry_detach(scan->reg);
	rp_hive_file_detach(&scan->bcd.file);
	for (size_t i = 0; i < scan->nmore_hives; i++)
		rp_hive_file_detach(&scan->more_hives[i]);
	rp_vol_close(scan->vol, NULL);
	scan->vol = NULL;
	if (built < 0)
		goto out;
	res->changes = jobs.nchanges;
	if (jobs.n == 0 || opts->dry_run) {
		/* Nothing to change, but an interrupted run may have left its last change to
		 * complete, or the dirty flag to clear. */
		rc = opts->dry_run ? 0 : rp_plan_finish_interrupted(t, opts, &seen, res, err);
		goto out;
	}

	/* From here on the volume is read-write, and SIGINT/SIGTERM/SIGHUP wait. */
	const rp_install *inst = NULL;
	rp_vol *vol = NULL;
	rp_plan_guard_begin(&guard);
	if (rp_target_open(t, opts->install_index, 1, &vol, &inst, err) < 0)
		goto out;
	rp_vol_state at_open = *rp_vol_get_state(vol);
	rp_plan_note_volume(res, &at_open);
	char *install_json = rp_install_json(inst, scan->reg);
	rp_backup b;
	rp_plan_backup_init(&b, opts->kind ? opts->kind : "fix", opts, install_json);
	free(install_json);
	if (!opts->kind) /* `reg` edits are no check's */
		b.checks = rp_jobs_checks(scan, opts->allow_weaker, &b.nchecks);
	/* A directory index an interrupted older run damaged is refused before any write. */
	for (size_t i = 0; i < jobs.n; i++)
		if (rp_vol_check_entry(vol, jobs.v[i].path, err) < 0)
			goto close;
	for (size_t i = 0; i < jobs.n; i++)
		if (back_up_job(vol, &jobs.v[i], &b, err) < 0)
			goto close;
	/* A backend that cannot write a file this way (FAT: only in place, same size) says so
	 * before anything is written. */
	for (size_t i = 0; i < jobs.n; i++)
		if (jobs.v[i].action == RP_BACKUP_REPLACE &&
		    rp_vol_check_replace(vol, jobs.v[i].path, jobs.v[i].len, err) < 0)
			goto close;
	/* The backup holds at most the originals' bytes; it and the new files must fit. */
	uint64_t need = 0;
	for (size_t i = 0; i < jobs.n; i++)
		if (jobs.v[i].action == RP_BACKUP_REPLACE)
			need += jobs.v[i].len;
	for (size_t i = 0; i < b.nentries; i++)
		need += b.entries[i].len;
	if (rp_vol_check_room(vol, need, err) < 0 ||
	    rp_plan_store_backup(vol, &b, opts, res, err) < 0)
		goto close;

	for (size_t i = 0; i < jobs.n; i++) {
		rp_job *j = &jobs.v[i];
		if (apply_job(vol, j, &b.entries[j->entry], err) < 0) {
			rp_vol_close(vol, NULL);
			vol = NULL;
			err->exit_code = RP_EXIT_WRITE_FAILED;
			roll_back(t, opts, &b, &jobs, i + 1, err);
			goto free_backup;
		}
		rp_plan_add_file(res, j->path);
	}
	int marked = rp_vol_get_state(vol)->marked_dirty && !at_open.marked_dirty;
	if (rp_vol_close(vol, err) < 0) {
		vol = NULL;
		err->exit_code = RP_EXIT_WRITE_FAILED;
		roll_back(t, opts, &b, &jobs, jobs.n, err);
		goto free_backup;
	}
	vol = NULL;
	res->files_written = res->nfiles;
	if (marked)
		rp_plan_note_marked(res);

	/* Read back what the volume holds now, on a fresh read-only mount. */
	if (rp_target_open(t, opts->install_index, 0, &vol, &inst, err) < 0)
		goto free_backup;
	for (size_t i = 0; i < jobs.n; i++)
		if (read_back(vol, &jobs.v[i], err) < 0)
			goto close;
	rc = 0;
	if (opts->keep_vol) {
		/* The mount just read back from holds the disk as written: the re-scan's. */
		scan->vol = vol;
		vol = NULL;
	}
close:
	if (vol && rp_vol_close(vol, rc == 0 ? err : NULL) < 0)
		rc = -1;
free_backup:
	rp_backup_free(&b);
out:
	rp_plan_guard_end(&guard, res);
	rp_jobs_free(&jobs);
	return rc;
}

int rp_plan_preflight(rp_scan *scan, int allow_weaker, rp_err *err)
{
	rp_jobs jobs;
	rp_plan_result scratch = {0};
	int rc = rp_jobs_build(scan, allow_weaker, 0, &jobs, &scratch, err);
	rp_jobs_free(&jobs);
	rp_plan_result_free(&scratch);
	return rc;
}

void rp_plan_result_free(rp_plan_result *res)
{
	free(res->backup_host);
	free(res->backup_volume);
	free(res->backup_id);
	free(res->restored_id);
	free(res->restored_from);
	for (size_t i = 0; i < res->nfiles; i++)
		free(res->files[i]);
	free(res->files);
	for (size_t i = 0; i < res->nnotes; i++)
		free(res->notes[i]);
	free(res->notes);
	memset(res, 0, sizeof *res);
}
