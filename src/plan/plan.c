/*
 * plan.c — fix: planned changes to verified hive images, backup, atomic replace, read-back.
 *
 * The order is the safety argument.  Everything that can be computed is computed and verified
 * before the volume is opened for writing: new images exist in memory, pass regf's structural
 * check and read back every edit.  Then the originals are read again from the read-write mount
 * (so the backup holds exactly what is replaced), the backup is written and re-read, and only
 * then is a file replaced.  A failed replace is rolled back from the in-memory originals on a
 * fresh mount, because libntfs-3g's state after a failed write is not to be trusted.
 */
#include "plan/plan.h"
#include "regf/regf.h"
#include "util/hash.h"
#include "util/text.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct hive_job {
	rp_hive_file *hf;
	rp_edit *edits;
	size_t nedits;
	uint8_t *image; /* the new primary */
	size_t len;
	char sha_after[65];
} hive_job;

static void add_note(rp_plan_result *res, char *note)
{
	res->notes = rp_xrealloc(res->notes, (res->nnotes + 1) * sizeof *res->notes);
	res->notes[res->nnotes++] = note;
}

static void add_file(rp_plan_result *res, const char *path)
{
	res->files = rp_xrealloc(res->files, (res->nfiles + 1) * sizeof *res->files);
	res->files[res->nfiles++] = rp_xstrdup(path);
}

char *rp_install_json(const rp_install *inst, const rp_registry *reg)
{
	json_t *o = json_object();
	json_object_set_new(o, "index", json_integer(inst->index));
	json_object_set_new(o, "partition", json_integer(inst->part_number));
	json_object_set_new(o, "offset", json_integer((json_int_t)inst->offset));
	json_object_set_new(o, "size", json_integer((json_int_t)inst->size));
	json_object_set_new(o, "label", json_string(inst->label));
	if (reg) {
		json_object_set_new(o, "product",
				    reg->product ? json_string(reg->product) : json_null());
		json_object_set_new(o, "build", reg->build ? json_string(reg->build) : json_null());
		json_object_set_new(o, "computer_name",
				    reg->computer ? json_string(reg->computer) : json_null());
		json_object_set_new(o, "control_set", json_string(reg->ccs));
	}
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s ? s : rp_xstrdup("{}");
}

static char *new_backup_id(const char *kind)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	uint8_t rnd[4] = {0};
	FILE *f = fopen("/dev/urandom", "rb");
	if (f) {
		if (fread(rnd, 1, sizeof rnd, f) != sizeof rnd)
			memset(rnd, 0, sizeof rnd);
		fclose(f);
	}
	char hex[9];
	rp_hex(rnd, sizeof rnd, hex);
	return rp_xasprintf("%s-%s-%s", stamp, hex, kind);
}

void rp_plan_backup_init(rp_backup *b, const char *kind, const rp_plan_opts *opts,
			 const char *install_json)
{
	memset(b, 0, sizeof *b);
	b->id = new_backup_id(kind);
	b->kind = rp_xstrdup(kind);
	char created[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
	b->created = rp_xstrdup(created);
	b->tool_version = rp_xstrdup(RP_VERSION);
	b->target = rp_xstrdup(opts->target);
	b->install = rp_xstrdup(install_json);
}

int rp_plan_read_original(rp_vol *vol, const char *path, uint8_t **data, size_t *len, uint8_t **sd,
			  size_t *sd_len, rp_err *err)
{
	if (rp_vol_read(vol, path, data, len, err) < 0)
		return -1;
	*sd = NULL;
	*sd_len = 0;
	if (strcmp(rp_vol_backend(vol), "ntfs") == 0)
		return rp_vol_get_sd(vol, path, sd, sd_len, err);
	rp_err ignored = {0};
	rp_vol_get_sd(vol, path, sd, sd_len, &ignored);
	return 0;
}

int rp_plan_store_backup(rp_vol *vol, const rp_backup *b, const rp_plan_opts *opts,
			 rp_plan_result *res, rp_err *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	if (rp_backup_serialize(b, &buf, &len, err) < 0)
		return -1;
	int rc = -1;
	char *host = NULL, *on_vol = NULL;
	rp_backup check = {0};
	if (rp_backup_parse(buf, len, &check, err) < 0)
		goto out;
	rp_backup_free(&check);
	/* The result names a backup only once it is complete: the report must not point to
	 * one that failed. */
	char *name = rp_xasprintf("rdprescue-%s.tar.zst", b->id);
	if (opts->backup_dir)
		host = rp_xasprintf("%s/%s", opts->backup_dir, name);
	on_vol = rp_xasprintf("%s/%s", RP_BACKUP_VOL_DIR, name);
	free(name);
	if (host && rp_backup_write_host(buf, len, host, err) < 0)
		goto out;
	uint8_t *back = NULL;
	size_t back_len = 0;
	if (rp_vol_mkdirs(vol, RP_BACKUP_VOL_DIR, err) < 0 ||
	    rp_vol_write_file(vol, on_vol, buf, len, NULL, 0, err) < 0 ||
	    rp_vol_read(vol, on_vol, &back, &back_len, err) < 0) {
		rp_err_prefix(err, "writing the backup onto the volume");
		goto out;
	}
	if (back_len != len || memcmp(back, buf, len) != 0) {
		free(back);
		rp_fail(err, RP_EXIT_WRITE_FAILED,
			"the backup read back from the volume differs from what was written (%s); "
			"nothing was changed",
			on_vol);
		goto out;
	}
	free(back);
	res->backup_id = rp_xstrdup(b->id);
	res->backup_host = host;
	res->backup_volume = on_vol;
	host = on_vol = NULL;
	rc = 0;
out:
	free(host);
	free(on_vol);
	free(buf);
	return rc;
}

static int edits_for(rp_scan *scan, const char *hive, int allow_weaker, hive_job *job)
{
	for (size_t i = 0; i < scan->nfindings; i++) {
		rp_finding *f = &scan->findings[i];
		if (f->status != RP_PROBLEM)
			continue;
		for (size_t j = 0; j < f->nchanges; j++) {
			rp_change *c = &f->changes[j];
			if (strcmp(c->hive, hive) != 0 || (c->weakens && !allow_weaker))
				continue;
			job->edits =
			    rp_xrealloc(job->edits, (job->nedits + 1) * sizeof *job->edits);
			rp_edit *e = &job->edits[job->nedits++];
			memset(e, 0, sizeof *e);
			e->kind = c->kind == RP_CHANGE_REG_SET		  ? RP_EDIT_SET
				  : c->kind == RP_CHANGE_REG_DELETE_VALUE ? RP_EDIT_DELETE_VALUE
									  : RP_EDIT_DELETE_KEY;
			e->key = c->key;
			e->value = c->value;
			e->type = c->type;
			e->data = c->data;
			e->len = c->len;
		}
	}
	return (int)job->nedits;
}

/* Reopens the written image and reads every edit back. */
static int verify_edits(hive_job *job, rp_err *err)
{
	rp_hive *h = NULL;
	if (rp_regf_check(job->image, job->len, err) < 0 ||
	    rp_hive_open(&h, job->hf->name, job->image, job->len, err) < 0) {
		rp_err_prefix(err, "the new %s does not pass its check; nothing was written",
			      job->hf->name);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < job->nedits && rc == 0; i++) {
		rp_edit *e = &job->edits[i];
		rp_value v = {0};
		int got = e->kind == RP_EDIT_DELETE_KEY ? rp_hive_key_exists(h, e->key, err)
							: rp_hive_get(h, e->key, e->value, &v, err);
		int good = e->kind == RP_EDIT_SET
			       ? got == 1 && v.type == e->type && v.len == e->len &&
				     memcmp(v.data, e->data, e->len) == 0
			       : got == 0;
		rp_value_free(&v);
		if (!good)
			rc = rp_fail(err, RP_EXIT_WRITE_FAILED,
				     "the new %s does not read back %s\\%s as planned; nothing was "
				     "written",
				     job->hf->name, e->key, e->value ? e->value : "");
	}
	rp_hive_close(h);
	return rc;
}

static int build_image(hive_job *job, rp_err *err)
{
	if (rp_hive_apply(job->hf->hive, job->edits, job->nedits, &job->image, &job->len, err) < 0)
		return -1;
	/* Above every sequence number in the primary and both logs, so that a later replay of
	 * the logs can neither chain onto nor be preferred over what we write. */
	if (rp_regf_finalize(job->image, &job->len, job->hf->recovery.max_seq + 1, err) < 0)
		return -1;
	if (verify_edits(job, err) < 0)
		return -1;
	rp_sha256_hex(job->image, job->len, job->sha_after);
	return 0;
}

/* Puts the originals back after a failed replace, on a fresh mount. */
static void roll_back(const rp_target *t, const rp_plan_opts *opts, rp_backup *b, size_t written,
		      rp_err *err)
{
	rp_vol *vol = NULL;
	const rp_install *inst = NULL;
	rp_err e2 = {0};
	if (rp_target_open(t, opts->install_index, 1, &vol, &inst, &e2) < 0) {
		rp_err_prefix(err, "rollback impossible (%s); restore with 'rdprescue undo'",
			      e2.msg);
		return;
	}
	for (size_t i = 0; i < written; i++) {
		rp_backup_entry *en = &b->entries[i];
		if (en->action != RP_BACKUP_REPLACE)
			continue;
		if (rp_vol_write_file(vol, en->path, en->data, en->len, en->sd, en->sd_len, &e2) <
		    0)
			break;
	}
	if (rp_vol_close(vol, &e2) < 0 || e2.msg[0])
		rp_err_prefix(err, "rollback failed too (%s); restore with 'rdprescue undo'",
			      e2.msg);
	else
		rp_err_prefix(err, "rolled back, the volume is as before");
}

int rp_plan_fix(const rp_target *t, rp_scan *scan, const rp_plan_opts *opts, rp_plan_result *res,
		rp_err *err)
{
	memset(res, 0, sizeof *res);
	rp_registry *reg = scan->reg;
	hive_job jobs[2] = {{.hf = &reg->system}, {.hf = &reg->software}};
	int rc = -1;
	size_t njobs = 0;
	for (int i = 0; i < 2; i++) {
		if (edits_for(scan, jobs[i].hf->name, opts->allow_weaker, &jobs[i]) == 0)
			continue;
		if (build_image(&jobs[i], err) < 0)
			goto out;
		res->changes += jobs[i].nedits;
		njobs++;
		const rp_regf_recovery *rec = &jobs[i].hf->recovery;
		if (rec->entries_applied)
			add_note(res, rp_xasprintf("%s was dirty: %s; written back clean",
						   jobs[i].hf->name, rec->detail));
		else if (rec->dirty_without_logs)
			add_note(res, rp_xasprintf("%s was dirty and has no transaction logs: the "
						   "primary is all there is; written back clean",
						   jobs[i].hf->name));
	}
	if (njobs == 0 || opts->dry_run) {
		rc = 0;
		goto out;
	}

	/* From here on the volume is read-write. */
	const rp_install *inst = NULL;
	rp_vol *vol = NULL;
	char *install_json = NULL;
	if (rp_target_open(t, opts->install_index, 1, &vol, &inst, err) < 0)
		goto out;
	install_json = rp_install_json(inst, reg);
	rp_backup b;
	rp_plan_backup_init(&b, "fix", opts, install_json);
	free(install_json);
	for (int i = 0; i < 2; i++) {
		if (!jobs[i].image)
			continue;
		rp_hive_file *hf = jobs[i].hf;
		uint8_t *data = NULL, *sd = NULL;
		size_t len = 0, sd_len = 0;
		if (rp_plan_read_original(vol, hf->path, &data, &len, &sd, &sd_len, err) < 0)
			goto close;
		rp_backup_entry *en =
		    rp_backup_add(&b, hf->path, RP_BACKUP_REPLACE, data, len, 1, sd, sd_len);
		memcpy(en->sha256_after, jobs[i].sha_after, sizeof en->sha256_after);
		free(data);
		free(sd);
		for (int l = 0; l < 3; l++) {
			if (!hf->log_path[l])
				continue;
			if (rp_plan_read_original(vol, hf->log_path[l], &data, &len, &sd, &sd_len,
						  err) < 0)
				goto close;
			rp_backup_add(&b, hf->log_path[l], RP_BACKUP_KEEP, data, len, 1, sd,
				      sd_len);
			free(data);
			free(sd);
		}
	}
	/* The backup holds at most the originals' bytes; both it and the new hives must fit. */
	uint64_t need = jobs[0].len + jobs[1].len;
	for (size_t i = 0; i < b.nentries; i++)
		need += b.entries[i].len;
	if (rp_vol_check_room(vol, need, err) < 0 ||
	    rp_plan_store_backup(vol, &b, opts, res, err) < 0)
		goto close;

	size_t written = 0;
	for (size_t i = 0; i < b.nentries; i++) {
		rp_backup_entry *en = &b.entries[i];
		if (en->action != RP_BACKUP_REPLACE)
			continue;
		hive_job *job = strcmp(en->path, jobs[0].hf->path) == 0 ? &jobs[0] : &jobs[1];
		if (rp_vol_write_file(vol, en->path, job->image, job->len, en->sd, en->sd_len,
				      err) < 0) {
			rp_vol_close(vol, NULL);
			vol = NULL;
			err->exit_code = RP_EXIT_WRITE_FAILED;
			/* i too: write_file may have failed after the new copy was in place. */
			roll_back(t, opts, &b, i + 1, err);
			goto free_backup;
		}
		written = i + 1;
		add_file(res, en->path);
	}
	if (rp_vol_close(vol, err) < 0) {
		vol = NULL;
		err->exit_code = RP_EXIT_WRITE_FAILED;
		roll_back(t, opts, &b, written, err);
		goto free_backup;
	}
	vol = NULL;
	res->files_written = res->nfiles;

	/* Read back what the volume holds now, on a fresh read-only mount. */
	if (rp_target_open(t, opts->install_index, 0, &vol, &inst, err) < 0)
		goto free_backup;
	for (size_t i = 0; i < b.nentries; i++) {
		rp_backup_entry *en = &b.entries[i];
		if (en->action != RP_BACKUP_REPLACE)
			continue;
		uint8_t *data = NULL;
		size_t len = 0;
		char sha[65];
		if (rp_vol_read(vol, en->path, &data, &len, err) < 0)
			goto close;
		rp_sha256_hex(data, len, sha);
		free(data);
		if (strcmp(sha, en->sha256_after) != 0) {
			rp_fail(
			    err, RP_EXIT_WRITE_FAILED,
			    "%s does not hold what was written; restore it with 'rdprescue undo'",
			    en->path);
			goto close;
		}
	}
	rc = 0;
close:
	if (vol && rp_vol_close(vol, rc == 0 ? err : NULL) < 0)
		rc = -1;
free_backup:
	rp_backup_free(&b);
out:
	for (int i = 0; i < 2; i++) {
		free(jobs[i].edits);
		free(jobs[i].image);
	}
	return rc;
}

void rp_plan_result_free(rp_plan_result *res)
{
	free(res->backup_host);
	free(res->backup_volume);
	free(res->backup_id);
	for (size_t i = 0; i < res->nfiles; i++)
		free(res->files[i]);
	free(res->files);
	for (size_t i = 0; i < res->nnotes; i++)
		free(res->notes[i]);
	free(res->notes);
	memset(res, 0, sizeof *res);
}
