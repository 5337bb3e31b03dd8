/*
 * undo.c — restore what a backup holds, byte for byte, security descriptors included.
 *
 * Undo is itself a change to the volume, so it follows the same discipline as fix: a safety
 * backup of the current state first, then atomic replaces, then a read-back.  A file that
 * changed after the fix (Windows ran since) is not overwritten without --force: restoring it
 * would throw away what Windows wrote (a state a newer rdprescue run wrote is not such a change).
 * Restoring is idempotent: entries already back in their original state are left alone, so an
 * interrupted undo can simply be run again.  Backups form a history: each undo restores the
 * newest one not yet undone, so repeated runs walk back to the state before the first fix.
 */
#include "plan/jobs.h"
#include "plan/interrupt.h"
#include "plan/plan_internal.h"
#include "util/file.h"
#include "util/hash.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The stored backups of a volume, newest first, loaded on demand. */
typedef struct history {
	rp_stored *st;
	size_t n;
	rp_backup *b;
	int *loaded;
} history;

static int load_at(rp_vol *vol, history *h, size_t i, rp_err *err)
{
	if (!h->loaded[i]) {
		if (rp_store_load(vol, &h->st[i], &h->b[i], err) < 0)
			return -1;
		h->loaded[i] = 1;
	}
	return 0;
}

static void history_free(history *h)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->loaded[i])
			rp_backup_free(&h->b[i]);
	free(h->b);
	free(h->loaded);
	rp_store_free(h->st, h->n);
	memset(h, 0, sizeof *h);
}

static int history_open(rp_vol *vol, const char *backup_dir, int with_undo, history *h, rp_err *err)
{
	memset(h, 0, sizeof *h);
	if (rp_store_list(vol, backup_dir, with_undo, &h->st, &h->n, err) < 0)
		return -1;
	h->b = rp_xcalloc(h->n ? h->n : 1, sizeof *h->b);
	h->loaded = rp_xcalloc(h->n ? h->n : 1, sizeof *h->loaded);
	return 0;
}

static int sd_same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* 1 when the path already holds what a loaded backup older than the one named name holds as
 * its original (content, or SD for an SD entry): an undo went back past this backup. */
static int before_older(const history *h, const char *name, const rp_backup_entry *e,
			const char *sha, const uint8_t *sd, size_t sd_len)
{
	for (size_t i = 0; h && i < h->n; i++) {
		if (!h->loaded[i] || strcmp(h->st[i].name, name) >= 0 ||
		    !strcmp(h->b[i].kind, "undo"))
			continue;
		for (size_t k = 0; k < h->b[i].nentries; k++) {
			const rp_backup_entry *o = &h->b[i].entries[k];
			if (strcmp(o->path, e->path) != 0)
				continue;
			if (e->action == RP_BACKUP_SD
				? o->sd && sd && sd_same(o->sd, o->sd_len, sd, sd_len)
				: o->had_data && !strcmp(o->sha256_before, sha))
				return 1;
		}
	}
	return 0;
}

/* 1 when sha is what a loaded rdprescue backup newer than the one named name wrote at path. */
static int written_by_us(const history *h, const char *name, const char *path, const char *sha)
{
	for (size_t i = 0; h && i < h->n; i++) {
		if (!h->loaded[i] || strcmp(h->st[i].name, name) <= 0)
			continue;
		for (size_t k = 0; k < h->b[i].nentries; k++) {
			const rp_backup_entry *e = &h->b[i].entries[k];
			if (e->sha256_after[0] && !strcmp(e->sha256_after, sha) &&
			    !strcmp(e->path, path))
				return 1;
		}
	}
	return 0;
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
 * and --force was not given.  h and name (the backup's file name): states newer rdprescue runs
 * wrote count as rdprescue's, not as changes (NULL: none). */
static int needs_restore(const rp_backup_entry *e, const current *c, int force, const history *h,
			 const char *name, rp_err *err)
{
	int sd_back = !e->sd || (c->exists && sd_same(c->sd, c->sd_len, e->sd, e->sd_len));
	if (e->had_data && c->exists && strcmp(c->sha, e->sha256_before) == 0 && sd_back)
		return 0;
	if (e->action == RP_BACKUP_SD && c->exists && sd_back)
		return 0;
	if (!e->had_data && !c->exists)
		return 0;
	if (c->exists && name && before_older(h, name, e, c->sha, c->sd, c->sd_len))
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
	if (c->exists && name &&
	    written_by_us(h, name, e->path, e->action == RP_BACKUP_SD ? c->sd_sha : c->sha))
		return 1;
	char *p = rp_escape(e->path);
	rp_fail(err, RP_EXIT_PROBLEMS,
		"%s changed after the backup was made (Windows has probably run since): restoring "
		"it would lose those changes; nothing was restored (add --force to restore anyway)",
		p);
	free(p);
	return -1;
}

/* Frees the n states of keep, then keep (NULL: none). */
static void free_currents(current *keep, size_t n)
{
	for (size_t i = 0; keep && i < n; i++)
		free_current(&keep[i]);
	free(keep);
}

/* Marks in todo the entries of b to restore; returns how many, or -1 (err).  keep (b->nentries
 * zeroed states, or NULL): receives the current state, bytes and hashes, of each entry to
 * restore, so that the safety backup is made from what was just read instead of reading and
 * hashing it again. */
static long examine(rp_vol *vol, const rp_backup *b, int force, const history *h, const char *name,
		    int *todo, current *keep, rp_err *err)
{
	long n = 0;
	for (size_t i = 0; i < b->nentries; i++) {
		current c;
		int got = read_current(vol, &b->entries[i], &c, err);
		int need = got < 0 ? -1 : needs_restore(&b->entries[i], &c, force, h, name, err);
		if (keep && need > 0)
			keep[i] = c;
		else
			free_current(&c);
		if (need < 0)
			return -1;
		todo[i] = need;
		n += need;
	}
	return n;
}

/* The history entry --backup names: an id, or a stored archive's file name; -1 when none. */
static long find_named(const history *h, const char *arg)
{
	if (strchr(arg, '/'))
		return -1;
	for (size_t i = 0; i < h->n; i++) {
		char *want = rp_xasprintf("rdprescue-%s", arg);
		int hit =
		    !strcmp(h->st[i].name, arg) || !strncmp(h->st[i].name, want, strlen(want));
		free(want);
		if (hit)
			return (long)i;
	}
	return -1;
}

/* Windows form of a volume path ("\rdprescue\backups\x") for notes; host paths as they are. */
static char *shown_where(const char *where, int on_volume)
{
	char *s = on_volume ? rp_xasprintf("\\%s", where) : rp_xstrdup(where);
	for (char *c = s; on_volume && *c; c++)
		if (*c == '/')
			*c = '\\';
	return s;
}

int rp_plan_undo(const rp_target *t, const rp_plan_opts *opts, rp_plan_result *res, rp_err *err)
{
	memset(res, 0, sizeof *res);
	rp_vol *vol = NULL;
	const rp_install *inst = NULL;
	rp_backup given = {0}, safety = {0};
	const rp_backup *b = NULL;
	history h = {0};
	char *name = NULL;
	int *todo = NULL, on_volume = 0;
	current *cur = NULL; /* the chosen backup's entries as the volume holds them now */
	size_t ncur = 0;
	long n = 0, chosen = -1;
	int rc = -1;
	rp_plan_guard guard = {0};
	/* Read-write from here: SIGINT/SIGTERM/SIGHUP wait until the run is done. */
	if (!opts->dry_run)
		rp_plan_guard_begin(&guard);
	if (rp_target_open(t, opts->install_index, !opts->dry_run, &vol, &inst, err) < 0) {
		rp_plan_guard_end(&guard, res);
		return -1;
	}
	rp_vol_state at_open = *rp_vol_get_state(vol);
	rp_plan_note_volume(res, &at_open);
	if (history_open(vol, opts->backup_dir, 0, &h, err) < 0)
		goto out;
	if (opts->backup_file) {
		chosen = find_named(&h, opts->backup_file);
		if (chosen < 0) {
			uint8_t *buf = NULL;
			size_t len = 0;
			if (rp_file_read(opts->backup_file, &buf, &len, RP_EXIT_USAGE, err) < 0) {
				rp_err_prefix(err,
					      "--backup takes an id from 'rdprescue backups' or an "
					      "archive file");
				goto out;
			}
			int parsed = rp_backup_parse(buf, len, &given, err);
			free(buf);
			if (parsed < 0)
				goto out;
			b = &given;
			name = rp_xasprintf("rdprescue-%s.tar.zst", given.id);
			res->restored_from = rp_xstrdup(opts->backup_file);
		} else if (load_at(vol, &h, (size_t)chosen, err) < 0) {
			goto out;
		}
		/* Newer runs' states are rdprescue's own: load them to know those states. */
		for (size_t i = 0; i < h.n; i++) {
			rp_err ignored = {0};
			if (strcmp(h.st[i].name, name ? name : h.st[chosen].name) > 0)
				load_at(vol, &h, i, &ignored);
		}
	}
	if (!b && chosen < 0 && h.n == 0) {
		rp_fail(
		    err, RP_EXIT_UNUSABLE,
		    "nothing to undo: no rdprescue backup in \\%s on this volume; give one with "
		    "--backup FILE",
		    RP_BACKUP_VOL_DIR);
		goto out;
	}
	/* Without --backup: the newest backup not undone yet (all loaded: older originals tell
	 * which backups an earlier undo went back past). */
	for (size_t i = 0; !b && chosen < 0 && i < h.n; i++)
		if (load_at(vol, &h, i, err) < 0)
			goto out;
	for (size_t i = chosen >= 0 ? (size_t)chosen : 0; !b && i < h.n; i++) {
		if (load_at(vol, &h, i, err) < 0)
			goto out;
		free(todo);
		todo = rp_xcalloc(h.b[i].nentries ? h.b[i].nentries : 1, sizeof *todo);
		free_currents(cur, ncur);
		ncur = h.b[i].nentries;
		cur = rp_xcalloc(ncur ? ncur : 1, sizeof *cur);
		n = examine(vol, &h.b[i], opts->force, &h, h.st[i].name, todo, cur, err);
		if (n < 0)
			goto out;
		if (n > 0 || chosen >= 0) {
			chosen = (long)i;
			b = &h.b[i];
		}
	}
	if (!b) {
		rp_plan_add_note(
		    res, rp_xasprintf("nothing to undo: every file is as it was before the "
				      "first of the %zu rdprescue backups on this volume (%s)",
				      h.n, h.b[h.n - 1].id));
		rc = 0;
		goto out;
	}
	if (chosen >= 0) {
		on_volume = h.st[chosen].volume_path != NULL;
		name = rp_xstrdup(h.st[chosen].name);
		res->restored_from =
		    rp_xstrdup(on_volume ? h.st[chosen].volume_path : h.st[chosen].host_path);
	} else {
		todo = rp_xcalloc(b->nentries ? b->nentries : 1, sizeof *todo);
		ncur = b->nentries;
		cur = rp_xcalloc(ncur ? ncur : 1, sizeof *cur);
		n = examine(vol, b, opts->force, &h, name, todo, cur, err);
		if (n < 0)
			goto out;
	}
	res->restored_id = rp_xstrdup(b->id);
	char *where = shown_where(res->restored_from, on_volume);
	rp_plan_add_note(res, rp_xasprintf("%s backup %s (%s of %s) from %s: %ld file%s",
					   opts->dry_run ? "would restore" : "restores", b->id,
					   b->kind, b->created, where, n, n == 1 ? "" : "s"));
	free(where);
	if (n == 0) {
		rc = 0;
		goto out;
	}
	if (opts->dry_run) {
		for (size_t i = 0; i < b->nentries; i++)
			if (todo[i]) {
				rp_plan_add_file(res, b->entries[i].path);
			}
		rc = 0;
		goto out;
	}
	/* A directory index an interrupted older run damaged is refused before any write. */
	for (size_t i = 0; i < b->nentries; i++)
		if (todo[i] && rp_vol_check_entry(vol, b->entries[i].path, err) < 0)
			goto out;

	char *install_json = rp_install_json(inst, NULL);
	rp_plan_backup_init(&safety, "undo", opts, install_json);
	free(install_json);
	/* The current state examine just read on this very mount (nothing was written since):
	 * its bytes are taken over with their hash, not read and hashed again. */
	for (size_t i = 0; i < b->nentries; i++) {
		current *c = &cur[i];
		const rp_backup_entry *e = &b->entries[i];
		if (!todo[i])
			continue;
		if (e->action == RP_BACKUP_SD) {
			rp_backup_entry *s = rp_backup_add(&safety, e->path, RP_BACKUP_SD, NULL, 0,
							   0, c->sd, c->sd_len);
			rp_sha256_hex(e->sd, e->sd_len, s->sha256_after);
		} else {
			rp_backup_add_owned(&safety, e->path,
					    c->exists ? RP_BACKUP_REPLACE : RP_BACKUP_CREATE,
					    c->data, c->len, c->exists, c->sha, c->sd, c->sd_len);
			c->data = NULL;
		}
	}
	if (rp_plan_store_backup(vol, &safety, opts, res, err) < 0)
		goto out;
	for (size_t i = 0; i < b->nentries; i++) {
		if (!todo[i])
			continue;
		if (rp_plan_restore_entry(vol, &b->entries[i], err) < 0) {
			err->exit_code = RP_EXIT_WRITE_FAILED;
			rp_err_prefix(err,
				      "undo stopped after %zu of %ld files; run it again to "
				      "finish (it skips what is already restored)",
				      res->nfiles, n);
			goto out;
		}
		rp_plan_add_file(res, b->entries[i].path);
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
	for (size_t i = 0; i < b->nentries; i++) {
		if (!todo[i])
			continue;
		current c;
		if (read_current(vol, &b->entries[i], &c, err) < 0)
			goto out;
		int back = needs_restore(&b->entries[i], &c, 0, NULL, NULL, NULL) == 0;
		free_current(&c);
		if (!back) {
			char *p = rp_escape(b->entries[i].path);
			rp_fail(err, RP_EXIT_WRITE_FAILED,
				"%s does not read back as the backup holds it; run undo again", p);
			free(p);
			goto out;
		}
	}
	if (chosen >= 0 && (size_t)chosen + 1 < h.n)
		rp_plan_add_note(
		    res, rp_xasprintf("%zu older backup%s: run undo again to go back further "
				      "(see rdprescue backups)",
				      h.n - (size_t)chosen - 1,
				      h.n - (size_t)chosen - 1 == 1 ? "" : "s"));
	rc = 0;
out:
	if (vol && rp_vol_close(vol, rc == 0 ? err : NULL) < 0)
		rc = -1;
	free(name);
	rp_plan_guard_end(&guard, res);
	free(todo);
	free_currents(cur, ncur);
	history_free(&h);
	rp_backup_free(&given);
	rp_backup_free(&safety);
	return rc;
}

int rp_plan_backups(const rp_target *t, const rp_plan_opts *opts, rp_backup_info **out, size_t *n,
		    rp_err *err)
{
	rp_vol *vol = NULL;
	history h = {0};
	*out = NULL;
	*n = 0;
	if (rp_target_open(t, opts->install_index, 0, &vol, NULL, err) < 0)
		return -1;
	int rc = -1;
	if (history_open(vol, opts->backup_dir, 1, &h, err) < 0)
		goto out;
	for (size_t i = 0; i < h.n; i++)
		if (load_at(vol, &h, i, err) < 0)
			goto out;
	rp_backup_info *v = rp_xcalloc(h.n ? h.n : 1, sizeof *v);
	for (size_t i = 0; i < h.n; i++) {
		int *todo = rp_xcalloc(h.b[i].nentries ? h.b[i].nentries : 1, sizeof *todo);
		rp_err ignored = {0};
		/* undo's safety backups are never "undone": they are undo's own record */
		v[i].undone = strcmp(h.b[i].kind, "undo") != 0 &&
			      examine(vol, &h.b[i], 0, &h, h.st[i].name, todo, NULL, &ignored) == 0;
		free(todo);
	}
	for (size_t i = 0; i < h.n; i++) {
		v[i].backup = h.b[i]; /* moved */
		h.loaded[i] = 0;
		v[i].volume_path = h.st[i].volume_path;
		v[i].host_path = h.st[i].host_path;
		h.st[i].volume_path = h.st[i].host_path = NULL;
	}
	*out = v;
	*n = h.n;
	rc = 0;
out:
	history_free(&h);
	rp_vol_close(vol, NULL);
	return rc;
}

void rp_backup_infos_free(rp_backup_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rp_backup_free(&v[i].backup);
		free(v[i].volume_path);
		free(v[i].host_path);
	}
	free(v);
}
