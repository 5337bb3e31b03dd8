/*
 * jobs.c — from planned changes to verified new images, one job per file (see jobs.h).
 *
 * Nothing here writes.  Changes to one hive are applied as one batch; changes to one
 * Registry.pol are applied in order to its parsed entries; of several SD changes to one path
 * the last wins; a file both quarantined and given a new SD is only quarantined.
 */
#include "plan/jobs.h"
#include "reg/pol.h"
#include "regf/regf.h"
#include "sd/sd.h"
#include "util/hash.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rp_change_selected(const rp_finding *f, const rp_change *c, int allow_weaker)
{
	return f->status == RP_PROBLEM && (!c->weakens || allow_weaker);
}

char **rp_jobs_checks(const rp_scan *scan, int allow_weaker, size_t *n)
{
	char **ids = rp_xcalloc(rp_ncheck ? rp_ncheck : 1, sizeof *ids);
	*n = 0;
	for (size_t c = 0; c < rp_ncheck; c++) {
		int used = 0;
		for (size_t i = 0; !used && i < scan->nfindings; i++) {
			const rp_finding *f = &scan->findings[i];
			for (size_t k = 0; !used && k < f->nchanges; k++)
				used = !strcmp(f->check, rp_checks[c].id) &&
				       rp_change_selected(f, &f->changes[k], allow_weaker);
		}
		if (used)
			ids[(*n)++] = rp_xstrdup(rp_checks[c].id);
	}
	return ids;
}

void rp_plan_add_note(rp_plan_result *res, char *note)
{
	res->notes = rp_xrealloc(res->notes, (res->nnotes + 1) * sizeof *res->notes);
	res->notes[res->nnotes++] = note;
}

void rp_plan_add_file(rp_plan_result *res, const char *path)
{
	res->files = rp_xrealloc(res->files, (res->nfiles + 1) * sizeof *res->files);
	res->files[res->nfiles++] = rp_xstrdup(path);
}

static rp_job *new_job(rp_jobs *jobs, const char *path, rp_backup_action action)
{
	jobs->v = rp_xrealloc(jobs->v, (jobs->n + 1) * sizeof *jobs->v);
	rp_job *j = &jobs->v[jobs->n++];
	memset(j, 0, sizeof *j);
	j->path = rp_xstrdup(path);
	j->action = action;
	return j;
}

static rp_job *find_job(rp_jobs *jobs, const char *path, rp_backup_action action)
{
	for (size_t i = 0; i < jobs->n; i++)
		if (jobs->v[i].action == action && rp_strcasecmp(jobs->v[i].path, path) == 0)
			return &jobs->v[i];
	return NULL;
}

/* ---- hives ---- */

static int is_reg_change(const rp_change *c)
{
	return c->kind == RP_CHANGE_REG_SET || c->kind == RP_CHANGE_REG_DELETE_VALUE ||
	       c->kind == RP_CHANGE_REG_DELETE_KEY || c->kind == RP_CHANGE_REG_CREATE_KEY;
}

/* The edits of hive's selected changes, in order; from[k]: the finding edit k comes from. */
static size_t hive_edits(rp_scan *scan, const char *hive, int allow_weaker, rp_edit **out,
			 size_t **from_out)
{
	rp_edit *edits = NULL;
	size_t n = 0, *from = NULL;
	for (size_t i = 0; i < scan->nfindings; i++) {
		rp_finding *f = &scan->findings[i];
		for (size_t j = 0; j < f->nchanges; j++) {
			rp_change *c = &f->changes[j];
			if (!is_reg_change(c) || strcmp(c->hive, hive) != 0 ||
			    !rp_change_selected(f, c, allow_weaker))
				continue;
			edits = rp_xrealloc(edits, (n + 1) * sizeof *edits);
			from = rp_xrealloc(from, (n + 1) * sizeof *from);
			from[n] = i;
			rp_edit *e = &edits[n++];
			memset(e, 0, sizeof *e);
			e->kind = c->kind == RP_CHANGE_REG_SET		  ? RP_EDIT_SET
				  : c->kind == RP_CHANGE_REG_DELETE_VALUE ? RP_EDIT_DELETE_VALUE
				  : c->kind == RP_CHANGE_REG_CREATE_KEY	  ? RP_EDIT_CREATE_KEY
									  : RP_EDIT_DELETE_KEY;
			e->key = c->key;
			e->value = c->value;
			e->type = c->type;
			e->data = c->data;
			e->len = c->len;
		}
	}
	*out = edits;
	*from_out = from;
	return n;
}

/* a is b or below it (case-insensitive, backslash-separated). */
static int key_within(const char *a, const char *b)
{
	size_t n = strlen(b);
	return n == 0 || (strncasecmp(a, b, n) == 0 && (a[n] == 0 || a[n] == '\\'));
}

/* Whether the later edit l changes what edit e reads back as. */
static int touches(const rp_edit *e, const rp_edit *l)
{
	if (l->kind == RP_EDIT_CREATE_KEY)
		return e->kind == RP_EDIT_DELETE_KEY && key_within(l->key, e->key);
	if (l->kind == RP_EDIT_DELETE_KEY)
		return key_within(e->key, l->key);
	if (e->kind == RP_EDIT_DELETE_KEY)
		return key_within(l->key, e->key);
	if (e->kind == RP_EDIT_CREATE_KEY)
		return 0;
	return rp_strcasecmp(e->key, l->key) == 0 && rp_strcasecmp(e->value, l->value) == 0;
}

/* Whether a later edit of the same finding decides what edit i reads back as (a .reg file's
 * order: reg/ verified the outcome of the whole sequence already).  Edits of different
 * findings that disagree are still caught here. */
static int later_touches(const rp_edit *edits, const size_t *from, size_t n, size_t i)
{
	for (size_t j = i + 1; j < n; j++)
		if (from[j] == from[i] && touches(&edits[i], &edits[j]))
			return 1;
	return 0;
}

/* Reads every edit back from h, the new image reopened (reg/ read back the outcome of each
 * finding's sequence already; here, that the findings together leave what each planned). */
static int verify_edits(const rp_hive_file *hf, rp_hive *h, const uint8_t *image, size_t len,
			const rp_edit *edits, const size_t *from, size_t n, rp_err *err)
{
	if (rp_regf_check(image, len, err) < 0) {
		rp_err_prefix(err, "the new %s does not pass its check; nothing was written",
			      hf->name);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const rp_edit *e = &edits[i];
		rp_value v = {0};
		if (later_touches(edits, from, n, i))
			continue;
		int by_key = e->kind == RP_EDIT_DELETE_KEY || e->kind == RP_EDIT_CREATE_KEY;
		int got = by_key ? rp_hive_key_exists(h, e->key, err)
				 : rp_hive_get(h, e->key, e->value, &v, err);
		int good = e->kind == RP_EDIT_SET
			       ? got == 1 && v.type == e->type && v.len == e->len &&
				     memcmp(v.data, e->data, e->len) == 0
			   : e->kind == RP_EDIT_CREATE_KEY ? got == 1
							   : got == 0;
		rp_value_free(&v);
		if (!good)
			rc = rp_fail(err, RP_EXIT_WRITE_FAILED,
				     "the new %s does not read back %s\\%s as planned; nothing was "
				     "written",
				     hf->name, e->key, e->value ? e->value : "");
	}
	return rc;
}

static int hive_job(rp_scan *scan, rp_hive_file *hf, int allow_weaker, int for_write, rp_jobs *jobs,
		    rp_plan_result *res, rp_err *err)
{
	rp_edit *edits = NULL;
	size_t *from = NULL;
	size_t n = hive_edits(scan, hf->name, allow_weaker, &edits, &from);
	if (n == 0)
		return 0;
	rp_job *j = new_job(jobs, hf->path, RP_BACKUP_REPLACE);
	j->hf = hf;
	j->nchanges = n;
	int rc = -1;
	rp_hive *check = NULL;
	rp_sha256_job *hashing = NULL;
	/* Sealed above every sequence number in the primary and both logs, so that a later replay
	 * of the logs can neither chain onto nor be preferred over what we write. */
	if (rp_hive_apply(hf->hive, edits, n, hf->recovery.max_seq + 1, &j->image, &j->len, &check,
			  err) < 0)
		goto out;
	/* The manifest's hash of the new image is taken beside its verification. */
	if (for_write)
		hashing = rp_sha256_hex_start(j->image, j->len, j->sha_after);
	if (verify_edits(hf, check, j->image, j->len, edits, from, n, err) < 0)
		goto out;
	jobs->nchanges += n;
	const rp_regf_recovery *rec = &hf->recovery;
	if (rec->entries_applied)
		rp_plan_add_note(res, rp_xasprintf("%s was dirty: %s; written back clean", hf->name,
						   rec->detail));
	else if (rec->dirty_without_logs)
		rp_plan_add_note(
		    res, rp_xasprintf("%s was dirty and has no transaction logs: the primary "
				      "is all there is; written back clean",
				      hf->name));
	rc = 0;
out:
	rp_sha256_hex_wait(hashing);
	if (check)
		rp_hive_close(check);
	/* a refusal says what to do next */
	if (rc < 0 && err && !strstr(err->msg, "running system") && !strstr(err->msg, "RegBack") &&
	    !strstr(err->msg, "scratch file"))
		rp_err_suffix(
		    err,
		    "; restore %s from Windows\\System32\\config\\RegBack or a backup, or "
		    "run chkdsk /f in Windows",
		    hf->name);
	free(edits);
	free(from);
	return rc;
}

/* ---- Registry.pol ---- */

static int pol_verify(const rp_pol *want, const uint8_t *image, size_t len, const char *path,
		      rp_err *err)
{
	rp_pol back;
	if (rp_pol_parse(image, len, &back, err) < 0) {
		rp_err_prefix(err, "the new %s does not parse; nothing was written", path);
		return -1;
	}
	int same = back.nentries == want->nentries;
	for (size_t i = 0; same && i < back.nentries; i++) {
		const rp_pol_entry *a = &back.entries[i], *b = &want->entries[i];
		same = a->type == b->type && a->len == b->len &&
		       (a->len == 0 || memcmp(a->data, b->data, a->len) == 0) &&
		       strcmp(a->key, b->key) == 0 && strcmp(a->value, b->value) == 0;
	}
	rp_pol_free(&back);
	if (!same)
		return rp_fail(err, RP_EXIT_WRITE_FAILED,
			       "the new %s does not read back as planned; nothing was written",
			       path);
	return 0;
}

static int pol_job(rp_scan *scan, const char *path, int allow_weaker, rp_jobs *jobs, rp_err *err)
{
	uint8_t *orig = NULL;
	size_t orig_len = 0;
	if (rp_vol_read(scan->vol, path, &orig, &orig_len, err) < 0) {
		rp_err_prefix(err, "cannot edit the policy file");
		return -1;
	}
	rp_pol pol;
	if (rp_pol_parse(orig, orig_len, &pol, err) < 0) {
		char *p = rp_escape(path);
		rp_err_prefix(err, "%s", p);
		free(p);
		free(orig);
		return -1;
	}
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; i < scan->nfindings && rc == 0; i++) {
		rp_finding *f = &scan->findings[i];
		for (size_t k = 0; k < f->nchanges && rc == 0; k++) {
			rp_change *c = &f->changes[k];
			if ((c->kind != RP_CHANGE_POL_SET && c->kind != RP_CHANGE_POL_DELETE) ||
			    rp_strcasecmp(c->path, path) != 0 ||
			    !rp_change_selected(f, c, allow_weaker))
				continue;
			n++;
			if (c->kind == RP_CHANGE_POL_DELETE)
				rp_pol_delete(&pol, c->key, c->value);
			else if (rp_pol_set(&pol, c->key, c->value, c->type, c->data, c->len) < 0)
				rc = rp_fail(err, RP_EXIT_UNUSABLE,
					     "policy entry name is not valid UTF-8; nothing was "
					     "written");
		}
	}
	uint8_t *image = NULL;
	size_t len = 0;
	if (rc == 0) {
		rp_pol_serialize(&pol, &image, &len);
		rc = pol_verify(&pol, image, len, path, err);
	}
	if (rc == 0 && (len != orig_len || memcmp(image, orig, len) != 0)) {
		rp_job *j = new_job(jobs, path, RP_BACKUP_REPLACE);
		j->image = image;
		j->len = len;
		j->nchanges = n;
		rp_sha256_hex(orig, orig_len, j->sha_before);
		rp_sha256_hex(image, len, j->sha_after);
		jobs->nchanges += n;
		image = NULL;
	}
	free(image);
	free(orig);
	rp_pol_free(&pol);
	return rc;
}

/* ---- security descriptors and quarantine ---- */

static int sd_job(const rp_change *c, rp_jobs *jobs, rp_err *err)
{
	rp_sd parsed;
	if (rp_sd_parse(c->data, c->len, &parsed, err) < 0) {
		rp_err_prefix(err,
			      "the planned security descriptor is invalid; nothing was written");
		return -1;
	}
	rp_sd_free(&parsed);
	rp_job *j = find_job(jobs, c->path, RP_BACKUP_SD);
	if (!j) {
		j = new_job(jobs, c->path, RP_BACKUP_SD);
	} else {
		free(j->image);
		free(j->sddl_after);
		jobs->nchanges -= j->nchanges;
	}
	j->image = rp_xmalloc(c->len);
	memcpy(j->image, c->data, c->len);
	j->len = c->len;
	j->nchanges = 1;
	jobs->nchanges++;
	rp_sha256_hex(j->image, j->len, j->sha_after);
	j->sddl_after = rp_sd_bytes_to_sddl(j->image, j->len);
	return 0;
}

static void drop_job(rp_jobs *jobs, rp_job *j)
{
	jobs->nchanges -= j->nchanges;
	free(j->path);
	free(j->image);
	free(j->sddl_after);
	size_t i = (size_t)(j - jobs->v);
	memmove(j, j + 1, (jobs->n - i - 1) * sizeof *j);
	jobs->n--;
}

static int file_jobs(rp_scan *scan, int allow_weaker, rp_jobs *jobs, rp_plan_result *res,
		     rp_err *err)
{
	for (size_t i = 0; i < scan->nfindings; i++) {
		rp_finding *f = &scan->findings[i];
		for (size_t k = 0; k < f->nchanges; k++) {
			rp_change *c = &f->changes[k];
			if (!rp_change_selected(f, c, allow_weaker))
				continue;
			if ((c->kind == RP_CHANGE_POL_SET || c->kind == RP_CHANGE_POL_DELETE) &&
			    !find_job(jobs, c->path, RP_BACKUP_REPLACE)) {
				if (pol_job(scan, c->path, allow_weaker, jobs, err) < 0)
					return -1;
			} else if (c->kind == RP_CHANGE_FILE_SD) {
				if (sd_job(c, jobs, err) < 0)
					return -1;
			} else if (c->kind == RP_CHANGE_QUARANTINE &&
				   !find_job(jobs, c->path, RP_BACKUP_QUARANTINE)) {
				new_job(jobs, c->path, RP_BACKUP_QUARANTINE)->nchanges = 1;
				jobs->nchanges++;
			}
		}
	}
	/* A quarantined file keeps no new SD: it leaves the volume. */
	for (size_t i = 0; i < jobs->n;) {
		rp_job *j = &jobs->v[i];
		if (j->action == RP_BACKUP_SD && find_job(jobs, j->path, RP_BACKUP_QUARANTINE)) {
			char *p = rp_escape(j->path);
			rp_plan_add_note(res, rp_xasprintf("%s is quarantined, so its new security "
							   "descriptor is not set",
							   p));
			free(p);
			drop_job(jobs, j);
			continue;
		}
		i++;
	}
	return 0;
}

int rp_jobs_build(rp_scan *scan, int allow_weaker, int for_write, rp_jobs *jobs,
		  rp_plan_result *res, rp_err *err)
{
	memset(jobs, 0, sizeof *jobs);
	rp_hive_file *hives[] = {&scan->reg->system, &scan->reg->software, &scan->reg->sam,
				 &scan->reg->security, scan->bcd.found ? &scan->bcd.file : NULL};
	for (size_t i = 0; i < sizeof hives / sizeof hives[0]; i++)
		if (hives[i] && hives[i]->hive &&
		    hive_job(scan, hives[i], allow_weaker, for_write, jobs, res, err) < 0)
			return -1;
	for (size_t i = 0; i < scan->nmore_hives; i++)
		if (scan->more_hives[i].hive && hive_job(scan, &scan->more_hives[i], allow_weaker,
							 for_write, jobs, res, err) < 0)
			return -1;
	return file_jobs(scan, allow_weaker, jobs, res, err);
}

void rp_jobs_free(rp_jobs *jobs)
{
	for (size_t i = 0; i < jobs->n; i++) {
		free(jobs->v[i].path);
		free(jobs->v[i].image);
		free(jobs->v[i].sddl_after);
	}
	free(jobs->v);
	memset(jobs, 0, sizeof *jobs);
}
