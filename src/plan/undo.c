/*
 * undo.c — restore what a backup holds, byte for byte, security descriptors included.
 *
 * Undo is itself a change to the volume, so it follows the same discipline as fix: a safety
 * backup of the current state first, then atomic replaces, then a read-back.  A file that
 * changed after the fix (Windows ran since) is not overwritten without --force: restoring it
 * would throw away what Windows wrote.  Restoring is idempotent: entries already back in their
 * original state are left alone, so an interrupted undo can simply be run again.
 */
#include "plan/interrupt.h"
#include "plan/plan.h"
#include "util/file.h"
#include "util/hash.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct newest {
	char *name;
} newest;

/* Backup names start with a UTC timestamp, so the greatest name is the newest.  Safety
 * backups made by undo itself are not candidates. */
static int pick_newest(void *ctx, const char *name, const rp_stat *st)
{
	newest *n = ctx;
	size_t len = strlen(name);
	const char *suffix = ".tar.zst";
	if (st->is_dir || strncmp(name, "rdprescue-", 10) != 0 || len < 18 ||
	    strcmp(name + len - strlen(suffix), suffix) != 0 || strstr(name, "-undo.tar.zst"))
		return 0;
	if (!n->name || strcmp(name, n->name) > 0) {
		free(n->name);
		n->name = rp_xstrdup(name);
	}
	return 0;
}

static int load_backup(rp_vol *vol, const rp_plan_opts *opts, rp_backup *b, char **where,
		       rp_err *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	if (opts->backup_file) {
		if (rp_file_read(opts->backup_file, &buf, &len, RP_EXIT_USAGE, err) < 0)
			return -1;
		*where = rp_xstrdup(opts->backup_file);
	} else {
		rp_stat st;
		if (rp_vol_stat(vol, RP_BACKUP_VOL_DIR, &st, err) < 0)
			return -1;
		newest n = {0};
		if (st.exists && rp_vol_list(vol, RP_BACKUP_VOL_DIR, pick_newest, &n, err) < 0)
			return -1;
		if (!n.name)
			return rp_fail(
			    err, RP_EXIT_UNUSABLE,
			    "nothing to undo: no rdprescue backup in \\%s on this volume; "
			    "give one with --backup FILE",
			    RP_BACKUP_VOL_DIR);
		*where = rp_xasprintf("%s/%s", RP_BACKUP_VOL_DIR, n.name);
		free(n.name);
		if (rp_vol_read(vol, *where, &buf, &len, err) < 0)
			return -1;
	}
	int rc = rp_backup_parse(buf, len, b, err);
	free(buf);
	return rc;
}

static int sd_same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

typedef struct current {
	int exists;
	uint8_t *data, *sd;
	size_t len, sd_len;
	char sha[65];	 /* of data */
	char sd_sha[65]; /* of sd */
} current;

/* The current state of an entry's path: for an SD entry only its SD (it may be a folder). */
static int read_current(rp_vol *vol, const rp_backup_entry *e, current *c, rp_err *err)
{
	memset(c, 0, sizeof *c);
	rp_stat st;
	if (rp_vol_stat(vol, e->path, &st, err) < 0)
		return -1;
	if (!st.exists)
		return 0;
	c->exists = 1;
	if (e->action == RP_BACKUP_SD) {
		if (rp_vol_get_sd(vol, e->path, &c->sd, &c->sd_len, err) < 0)
			return -1;
	} else {
		if (rp_plan_read_original(vol, e->path, &c->data, &c->len, &c->sd, &c->sd_len,
					  err) < 0)
			return -1;
		rp_sha256_hex(c->data, c->len, c->sha);
	}
	if (c->sd)
		rp_sha256_hex(c->sd, c->sd_len, c->sd_sha);
	return 0;
}

static void free_current(current *c)
{
	free(c->data);
	free(c->sd);
}

/* Whether entry e needs restoring given the current state; -1 when it changed since the fix
 * and --force was not given. */
static int needs_restore(const rp_backup_entry *e, const current *c, int force, rp_err *err)
{
	int sd_back = !e->sd || (c->exists && sd_same(c->sd, c->sd_len, e->sd, e->sd_len));
	if (e->had_data && c->exists && strcmp(c->sha, e->sha256_before) == 0 && sd_back)
		return 0;
	if (e->action == RP_BACKUP_SD && c->exists && sd_back)
		return 0;
	if (!e->had_data && !c->exists)
		return 0;
	if (force)
		return 1;
	int as_left = 0;
	switch (e->action) {
	case RP_BACKUP_REPLACE:
		as_left = c->exists && (strcmp(c->sha, e->sha256_after) == 0 ||
					strcmp(c->sha, e->sha256_before) == 0);
		break;
	case RP_BACKUP_KEEP:
		as_left = c->exists && strcmp(c->sha, e->sha256_before) == 0;
		break;
	case RP_BACKUP_SD: /* sha256_after: of the SD the fix set */
		as_left = c->exists && c->sd && strcmp(c->sd_sha, e->sha256_after) == 0;
		break;
	case RP_BACKUP_QUARANTINE:
		as_left = !c->exists;
		break;
	case RP_BACKUP_CREATE:
		as_left = c->exists && strcmp(c->sha, e->sha256_after) == 0;
		break;
	}
	if (as_left)
		return 1;
	char *p = rp_escape(e->path);
	rp_fail(err, RP_EXIT_PROBLEMS,
		"%s changed after the backup was made (Windows has probably run since): restoring "
		"it would lose those changes; nothing was restored (add --force to restore anyway)",
		p);
	free(p);
	return -1;
}

int rp_plan_restore_entry(rp_vol *vol, const rp_backup_entry *e, rp_err *err)
{
	switch (e->action) {
	case RP_BACKUP_SD:
		return rp_vol_set_sd(vol, e->path, e->sd, e->sd_len, err);
	case RP_BACKUP_CREATE:
		return rp_vol_remove(vol, e->path, err);
	default:
		return rp_vol_write_file(vol, e->path, e->data, e->len, e->sd, e->sd_len, err);
	}
}

int rp_plan_undo(const rp_target *t, const rp_plan_opts *opts, rp_plan_result *res, rp_err *err)
{
	memset(res, 0, sizeof *res);
	rp_vol *vol = NULL;
	const rp_install *inst = NULL;
	rp_backup b = {0}, safety = {0};
	char *where = NULL;
	int *todo = NULL;
	int rc = -1;
	/* Read-write from here: SIGINT/SIGTERM/SIGHUP wait until the run is done. */
	rp_plan_guard guard = {0};
	rp_plan_guard_begin(&guard);
	if (rp_target_open(t, opts->install_index, 1, &vol, &inst, err) < 0) {
		rp_plan_guard_end(&guard, res);
		return -1;
	}
	rp_vol_state at_open = *rp_vol_get_state(vol);
	rp_plan_note_volume(res, &at_open);
	if (load_backup(vol, opts, &b, &where, err) < 0)
		goto out;
	res->backup_id = rp_xstrdup(b.id);
	todo = rp_xcalloc(b.nentries ? b.nentries : 1, sizeof *todo);

	char *install_json = rp_install_json(inst, NULL);
	rp_plan_backup_init(&safety, "undo", opts, install_json);
	free(install_json);
	size_t n = 0;
	for (size_t i = 0; i < b.nentries; i++) {
		current c;
		const rp_backup_entry *e = &b.entries[i];
		if (read_current(vol, e, &c, err) < 0)
			goto out;
		int need = needs_restore(e, &c, opts->force, err);
		if (need > 0) {
			todo[i] = 1;
			n++;
			if (e->action == RP_BACKUP_SD) {
				rp_backup_entry *s = rp_backup_add(&safety, e->path, RP_BACKUP_SD,
								   NULL, 0, 0, c.sd, c.sd_len);
				rp_sha256_hex(e->sd, e->sd_len, s->sha256_after);
			} else {
				rp_backup_add(&safety, e->path,
					      c.exists ? RP_BACKUP_REPLACE : RP_BACKUP_CREATE,
					      c.data, c.len, c.exists, c.sd, c.sd_len);
			}
		}
		free_current(&c);
		if (need < 0)
			goto out;
	}
	if (n == 0) {
		rc = 0;
		goto out;
	}
	/* A directory index an interrupted older run damaged is refused before any write. */
	for (size_t i = 0; i < b.nentries; i++)
		if (todo[i] && rp_vol_check_entry(vol, b.entries[i].path, err) < 0)
			goto out;
	if (rp_plan_store_backup(vol, &safety, opts, res, err) < 0)
		goto out;
	for (size_t i = 0; i < b.nentries; i++) {
		if (!todo[i])
			continue;
		if (rp_plan_restore_entry(vol, &b.entries[i], err) < 0) {
			err->exit_code = RP_EXIT_WRITE_FAILED;
			rp_err_prefix(err,
				      "undo stopped after %zu of %zu files; run it again to "
				      "finish (it skips what is already restored)",
				      res->nfiles, n);
			goto out;
		}
		res->files = rp_xrealloc(res->files, (res->nfiles + 1) * sizeof *res->files);
		res->files[res->nfiles++] = rp_xstrdup(b.entries[i].path);
	}
	int marked = rp_vol_get_state(vol)->marked_dirty && !at_open.marked_dirty;
	if (rp_vol_close(vol, err) < 0) {
		vol = NULL;
		err->exit_code = RP_EXIT_WRITE_FAILED;
		goto out;
	}
	vol = NULL;
	res->changes = res->nfiles;
	if (marked)
		rp_plan_note_marked(res);

	/* Read back: every restored entry now matches its original, bytes and SD. */
	if (rp_target_open(t, opts->install_index, 0, &vol, &inst, err) < 0)
		goto out;
	for (size_t i = 0; i < b.nentries; i++) {
		if (!todo[i])
			continue;
		current c;
		if (read_current(vol, &b.entries[i], &c, err) < 0)
			goto out;
		int back = needs_restore(&b.entries[i], &c, 0, NULL) == 0;
		free_current(&c);
		if (!back) {
			char *p = rp_escape(b.entries[i].path);
			rp_fail(err, RP_EXIT_WRITE_FAILED,
				"%s does not read back as the backup holds it; run undo again", p);
			free(p);
			goto out;
		}
	}
	rc = 0;
out:
	if (vol && rp_vol_close(vol, rc == 0 ? err : NULL) < 0)
		rc = -1;
	rp_plan_guard_end(&guard, res);
	free(where);
	free(todo);
	rp_backup_free(&b);
	rp_backup_free(&safety);
	return rc;
}
