/*
 * vol.c — the rp_vol interface: dispatch to the backend's ops table and the checks every backend
 * shares (path syntax, read-only and failed-write gates, no writes through reparse points,
 * mkdirs one level at a time), and the routing of "<boot>/..." paths to the boot volume.
 */
#include "vol/backend.h"
#include "util/file.h"
#include "util/text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

rp_vol *rp_vol_new(const struct rp_vol_ops *ops, const char *where, int writable)
{
	rp_vol *vol = rp_xcalloc(1, sizeof *vol);
	vol->ops = ops;
	vol->writable = writable;
	vol->where = rp_xstrdup(where);
	return vol;
}

void rp_vol_delete(rp_vol *vol)
{
	if (!vol)
		return;
	free(vol->where);
	free(vol->boot_note);
	free(vol);
}

void rp_vol_attach_boot(rp_vol *vol, rp_vol *boot)
{
	rp_vol_close(vol->boot, NULL);
	vol->boot = boot;
}

void rp_vol_set_boot_note(rp_vol *vol, const char *note)
{
	free(vol->boot_note);
	vol->boot_note = note ? rp_xstrdup(note) : NULL;
}

const char *rp_vol_boot_note(const rp_vol *vol)
{
	return vol->boot_note;
}

/* 1 when path names the boot volume ("<boot>" or "<boot>/..."): *to is the attached volume
 * and *rest the path inside it; 0 for a path of vol itself; -1 when no boot volume is
 * attached. */
static int boot_route(rp_vol *vol, const char *path, rp_vol **to, const char **rest, rp_err *err)
{
	const size_t n = strlen(RP_VOL_BOOT);
	if (!path)
		return 0;
	while (*path == '/')
		path++;
	if (strncmp(path, RP_VOL_BOOT, n) != 0 || (path[n] && path[n] != '/'))
		return 0;
	if (!vol->boot)
		return rp_fail(err, RP_EXIT_UNUSABLE, "%s: %s", vol->where,
			       vol->boot_note ? vol->boot_note
					      : "no boot partition (EFI system partition or System "
						"Reserved) was opened beside this volume");
	*to = vol->boot;
	*rest = path + n;
	return 1;
}

/* Forwards a call to the boot volume when path is under RP_VOL_BOOT. */
#define ROUTE(vol, path, call)                                                                     \
	do {                                                                                       \
		rp_vol *to_;                                                                       \
		const char *rest_;                                                                 \
		int r_ = boot_route(vol, path, &to_, &rest_, err);                                 \
		if (r_ < 0)                                                                        \
			return -1;                                                                 \
		if (r_ > 0) {                                                                      \
			vol = to_;                                                                 \
			path = rest_;                                                              \
			return call;                                                               \
		}                                                                                  \
	} while (0)

const char *rp_vol_state_refusal(const rp_vol_state *st)
{
	if (st->hibernated || st->log_v2)
		return "Windows was hibernated or shut down with Fast Startup: boot it and shut "
		       "down "
		       "fully (shutdown /s /t 0), or disable Fast Startup (powercfg /h off)";
	if (st->log_unclean)
		return "Windows did not shut down cleanly (the NTFS journal needs replaying): boot "
		       "Windows and shut it down cleanly (shutdown /s /t 0), or run chkdsk on it";
	return NULL;
}

/* Normalised copy of path (see backend.h), or NULL with err set. */
static char *normalise(const char *path, rp_err *err)
{
	if (!path)
		return rp_fail(err, RP_EXIT_USAGE, "no path given"), NULL;
	char *out = rp_xmalloc(strlen(path) + 1);
	size_t n = 0;
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.') ||
		    memchr(p, '\\', len)) {
			char *shown = rp_escape(path);
			rp_fail(err, RP_EXIT_USAGE,
				"invalid volume path %s: use '/' separators and no '.' or '..'",
				shown);
			free(shown);
			free(out);
			return NULL;
		}
		if (n)
			out[n++] = '/';
		memcpy(out + n, p, len);
		n += len;
		p += len;
	}
	out[n] = 0;
	return out;
}

int rp_vol_close(rp_vol *vol, rp_err *err)
{
	if (!vol)
		return 0;
	int rc = rp_vol_close(vol->boot, err);
	vol->boot = NULL;
	if (vol->ops->close(vol, rc < 0 ? NULL : err) < 0)
		rc = -1;
	rp_vol_delete(vol);
	return rc;
}

const char *rp_vol_backend(const rp_vol *vol)
{
	return vol->ops->name;
}

const char *rp_vol_label(const rp_vol *vol)
{
	return vol->label;
}

const rp_vol_state *rp_vol_get_state(const rp_vol *vol)
{
	return &vol->state;
}

const char *rp_vol_write_refusal(const rp_vol *vol)
{
	return rp_vol_state_refusal(&vol->state);
}

int rp_vol_interrupted(const rp_vol *vol)
{
	const rp_vol_state *st = &vol->state;
	return st->journal_pending || st->journal_dropped || st->marked_dirty ||
	       st->journal_stale || st->journal_unreadable || st->stale_mark;
}

int rp_vol_stat(rp_vol *vol, const char *path, rp_stat *st, rp_err *err)
{
	memset(st, 0, sizeof *st);
	ROUTE(vol, path, rp_vol_stat(vol, path, st, err));
	char *norm = normalise(path, err);
	if (!norm)
		return -1;
	int rc = vol->ops->stat(vol, norm, st, err);
	free(norm);
	return rc;
}

int rp_vol_read(rp_vol *vol, const char *path, uint8_t **data, size_t *len, rp_err *err)
{
	*data = NULL;
	*len = 0;
	ROUTE(vol, path, rp_vol_read(vol, path, data, len, err));
	char *norm = normalise(path, err);
	if (!norm)
		return -1;
	int rc = vol->ops->read(vol, norm, data, len, err);
	free(norm);
	return rc;
}

int rp_vol_can_read_range(rp_vol *vol, const char *path)
{
	rp_vol *to;
	const char *rest;
	rp_err ignored = {0};
	int routed = boot_route(vol, path, &to, &rest, &ignored);
	if (routed < 0)
		return 0;
	return routed ? rp_vol_can_read_range(to, rest) : vol->ops->read_range != NULL;
}

int rp_vol_read_range(rp_vol *vol, const char *path, uint64_t off, uint8_t *buf, size_t len,
		      rp_err *err)
{
	ROUTE(vol, path, rp_vol_read_range(vol, path, off, buf, len, err));
	if (!vol->ops->read_range)
		return rp_fail(err, RP_EXIT_UNUSABLE,
			       "%s: the %s backend cannot read part of a file", vol->where,
			       vol->ops->name);
	char *norm = normalise(path, err);
	if (!norm)
		return -1;
	int rc = vol->ops->read_range(vol, norm, off, buf, len, err);
	free(norm);
	return rc;
}

int rp_vol_list(rp_vol *vol, const char *dir, rp_vol_list_cb cb, void *ctx, rp_err *err)
{
	ROUTE(vol, dir, rp_vol_list(vol, dir, cb, ctx, err));
	char *norm = normalise(dir, err);
	if (!norm)
		return -1;
	int rc = vol->ops->list(vol, norm, cb, ctx, err);
	free(norm);
	return rc;
}

/* rp_vol_walk on a backend without a walk op: the entries are reached by their paths. */
struct walk_by_path {
	rp_vol *vol;
	const char *dir;
	rp_vol_walk_cb cb;
	void *ctx;
};

static int walk_by_path_cb(void *ctx, const char *name, const rp_stat *st)
{
	struct walk_by_path *w = ctx;
	rp_vol_entry ent = {.vol = w->vol, .dir = w->dir, .name = name, .node = NULL};
	return w->cb(w->ctx, name, st, &ent);
}

int rp_vol_walk(rp_vol *vol, const char *dir, rp_vol_walk_cb cb, void *ctx, rp_err *err)
{
	ROUTE(vol, dir, rp_vol_walk(vol, dir, cb, ctx, err));
	char *norm = normalise(dir, err);
	if (!norm)
		return -1;
	int rc;
	if (vol->ops->walk) {
		rc = vol->ops->walk(vol, norm, cb, ctx, err);
	} else {
		struct walk_by_path w = {vol, norm, cb, ctx};
		rc = vol->ops->list(vol, norm, walk_by_path_cb, &w, err);
	}
	free(norm);
	return rc;
}

static char *entry_path(const rp_vol_entry *ent)
{
	return *ent->dir ? rp_xasprintf("%s/%s", ent->dir, ent->name) : rp_xstrdup(ent->name);
}

int rp_vol_entry_read(rp_vol_entry *ent, uint64_t max, uint8_t **data, size_t *len, rp_err *err)
{
	*data = NULL;
	*len = 0;
	rp_vol *vol = ent->vol;
	if (ent->node && vol->ops->entry_read)
		return vol->ops->entry_read(ent, max, data, len, err);
	char *path = entry_path(ent);
	rp_stat st;
	int rc = vol->ops->stat(vol, path, &st, err);
	if (rc == 0 && st.exists && !st.is_dir && st.size > max) {
		char *shown = rp_escape(path);
		rc = rp_fail(err, RP_EXIT_UNUSABLE, "reading %s on %s: %s", shown, vol->where,
			     strerror(EFBIG));
		free(shown);
	}
	if (rc == 0)
		rc = vol->ops->read(vol, path, data, len, err);
	if (rc == 0 && *len > max) {
		/* It grew between the two looks. */
		free(*data);
		*data = NULL;
		*len = 0;
		char *shown = rp_escape(path);
		rc = rp_fail(err, RP_EXIT_UNUSABLE, "reading %s on %s: %s", shown, vol->where,
			     strerror(EFBIG));
		free(shown);
	}
	free(path);
	return rc;
}

int rp_vol_entry_get_sd(rp_vol_entry *ent, uint8_t **sd, size_t *len, rp_err *err)
{
	*sd = NULL;
	*len = 0;
	rp_vol *vol = ent->vol;
	if (ent->node && vol->ops->entry_get_sd)
		return vol->ops->entry_get_sd(ent, sd, len, err);
	char *path = entry_path(ent);
	int rc = vol->ops->get_sd(vol, path, sd, len, err);
	free(path);
	return rc;
}

int rp_vol_get_sd(rp_vol *vol, const char *path, uint8_t **sd, size_t *len, rp_err *err)
{
	*sd = NULL;
	*len = 0;
	ROUTE(vol, path, rp_vol_get_sd(vol, path, sd, len, err));
	char *norm = normalise(path, err);
	if (!norm)
		return -1;
	int rc = vol->ops->get_sd(vol, norm, sd, len, err);
	free(norm);
	return rc;
}

/* The gates in front of every write: opened writable, no earlier failure. */
static int may_write(rp_vol *vol, const char *what, const char *path, rp_err *err)
{
	char *shown = rp_escape(path);
	int rc = 0;
	if (!vol->writable)
		rc = rp_fail(err, RP_EXIT_USAGE, "%s %s on %s: the volume was opened read-only",
			     what, shown, vol->where);
	else if (vol->write_failed)
		rc = rp_fail(err, RP_EXIT_WRITE_FAILED,
			     "%s %s on %s: refused because an earlier write failed", what, shown,
			     vol->where);
	free(shown);
	return rc;
}

/* Refuses a write when a component of path (all of them when whole, else all but the last) is
 * a reparse point, or path itself is encrypted / a reparse point.  Fills *target with the
 * stat of path. */
static int check_components(rp_vol *vol, const char *norm, rp_stat *target, rp_err *err)
{
	char *prefix = rp_xstrdup(norm);
	int rc = 0;
	memset(target, 0, sizeof *target);
	for (char *slash = prefix;; slash++) {
		slash = strchr(slash, '/');
		if (slash)
			*slash = 0;
		rp_stat st;
		memset(&st, 0, sizeof st);
		if (vol->ops->stat(vol, prefix, &st, err) < 0) {
			rc = -1;
			break;
		}
		char *shown = rp_escape(prefix);
		if (st.exists && st.is_reparse)
			rc = rp_fail(err, RP_EXIT_PROBLEMS,
				     "%s on %s is a reparse point (junction, symlink, deduplicated "
				     "or compressed file): rdprescue does not write through it",
				     shown, vol->where);
		else if (st.exists && st.is_encrypted)
			rc = rp_fail(err, RP_EXIT_PROBLEMS,
				     "%s on %s is encrypted (EFS): rdprescue cannot change it",
				     shown, vol->where);
		else if (slash && st.exists && !st.is_dir)
			rc = rp_fail(err, RP_EXIT_PROBLEMS, "%s on %s is a file, not a directory",
				     shown, vol->where);
		free(shown);
		if (rc < 0 || !slash) {
			*target = st;
			break;
		}
		if (!st.exists) {
			/* Nothing below a missing directory exists either. */
			break;
		}
		*slash = '/';
	}
	free(prefix);
	return rc;
}

/* Runs a backend write and closes the gate when it failed after touching the volume. */
static int after_write(rp_vol *vol, int rc, rp_err *err)
{
	if (rc < 0 && (!err || err->exit_code == RP_EXIT_WRITE_FAILED))
		vol->write_failed = 1;
	return rc;
}

/* Common start of a write: normalised path, gates, component checks. */
static char *begin_write(rp_vol *vol, const char *what, const char *path, rp_stat *target,
			 rp_err *err)
{
	char *norm = normalise(path, err);
	if (!norm)
		return NULL;
	if (may_write(vol, what, norm, err) < 0 || check_components(vol, norm, target, err) < 0) {
		free(norm);
		return NULL;
	}
	return norm;
}

static int missing(rp_vol *vol, const char *what, const char *norm, rp_err *err)
{
	char *shown = rp_escape(norm);
	rp_fail(err, RP_EXIT_PROBLEMS, "%s %s on %s: no such file or directory", what, shown,
		vol->where);
	free(shown);
	return -1;
}

static int is_a_directory(rp_vol *vol, const char *what, const char *norm, rp_err *err)
{
	char *shown = rp_escape(*norm ? norm : "/");
	rp_fail(err, RP_EXIT_PROBLEMS, "%s %s on %s: it is a directory; only files are %s", what,
		shown, vol->where, !strcmp(what, "removing") ? "removed" : "written");
	free(shown);
	return -1;
}

int rp_vol_set_sd(rp_vol *vol, const char *path, const uint8_t *sd, size_t len, rp_err *err)
{
	ROUTE(vol, path, rp_vol_set_sd(vol, path, sd, len, err));
	rp_stat st;
	char *norm = begin_write(vol, "setting the security descriptor of", path, &st, err);
	if (!norm)
		return -1;
	int rc = st.exists ? after_write(vol, vol->ops->set_sd(vol, norm, sd, len, err), err)
			   : missing(vol, "setting the security descriptor of", norm, err);
	free(norm);
	return rc;
}

int rp_vol_mkdirs(rp_vol *vol, const char *dir, rp_err *err)
{
	ROUTE(vol, dir, rp_vol_mkdirs(vol, dir, err));
	rp_stat st;
	char *norm = begin_write(vol, "creating directory", dir, &st, err);
	if (!norm)
		return -1;
	int rc = 0;
	if (st.exists && !st.is_dir) {
		char *shown = rp_escape(norm);
		rc =
		    rp_fail(err, RP_EXIT_PROBLEMS,
			    "creating directory %s on %s: a file has that name", shown, vol->where);
		free(shown);
	}
	/* Walk down, creating what is missing; check_components vouched for what exists. */
	for (char *slash = norm; rc == 0 && !st.exists && *norm;) {
		slash = strchr(slash, '/');
		if (slash)
			*slash = 0;
		rp_stat cur;
		rc = vol->ops->stat(vol, norm, &cur, err);
		if (rc == 0 && !cur.exists)
			rc = after_write(vol, vol->ops->mkdir(vol, norm, err), err);
		if (!slash)
			break;
		*slash++ = '/';
	}
	free(norm);
	return rc;
}

int rp_vol_write_file(rp_vol *vol, const char *path, const uint8_t *data, size_t len,
		      const uint8_t *sd, size_t sd_len, rp_err *err)
{
	ROUTE(vol, path, rp_vol_write_file(vol, path, data, len, sd, sd_len, err));
	rp_stat st;
	char *norm = begin_write(vol, "writing", path, &st, err);
	if (!norm)
		return -1;
	int rc;
	if (!*norm || (st.exists && st.is_dir))
		rc = is_a_directory(vol, "writing", norm, err);
	else
		rc = after_write(vol, vol->ops->write_file(vol, norm, data, len, sd, sd_len, err),
				 err);
	free(norm);
	return rc;
}

int rp_vol_remove(rp_vol *vol, const char *path, rp_err *err)
{
	ROUTE(vol, path, rp_vol_remove(vol, path, err));
	rp_stat st;
	char *norm = begin_write(vol, "removing", path, &st, err);
	if (!norm)
		return -1;
	int rc;
	if (!st.exists)
		rc = missing(vol, "removing", norm, err);
	else if (st.is_dir)
		rc = is_a_directory(vol, "removing", norm, err);
	else
		rc = after_write(vol, vol->ops->remove(vol, norm, err), err);
	free(norm);
	return rc;
}

int rp_vol_free_space(rp_vol *vol, uint64_t *bytes, rp_err *err)
{
	*bytes = 0;
	return vol->ops->free_space(vol, bytes, err);
}

/* Room kept free besides the data: MFT records, index blocks, cluster rounding. */
#define METADATA_SLACK ((uint64_t)1 << 20)

int rp_vol_check_room(rp_vol *vol, uint64_t need, rp_err *err)
{
	uint64_t free_bytes;
	if (rp_vol_free_space(vol, &free_bytes, err) < 0)
		return -1;
	if (need <= UINT64_MAX - METADATA_SLACK && free_bytes >= need + METADATA_SLACK)
		return 0;
	return rp_fail(err, RP_EXIT_UNUSABLE,
		       "the Windows volume on %s has %llu KiB free but the new files and their "
		       "backup need %llu KiB: nothing was written; free up space on it (empty "
		       "the recycle bin, delete files in Windows\\Temp) and run fix again",
		       vol->where, (unsigned long long)(free_bytes >> 10),
		       (unsigned long long)((need + METADATA_SLACK) >> 10));
}

int rp_vol_check_entry(rp_vol *vol, const char *path, rp_err *err)
{
	ROUTE(vol, path, rp_vol_check_entry(vol, path, err));
	char *norm = normalise(path, err);
	if (!norm)
		return -1;
	int rc = vol->ops->check_entry ? vol->ops->check_entry(vol, norm, err) : 0;
	free(norm);
	return rc;
}

int rp_vol_check_replace(rp_vol *vol, const char *path, size_t len, rp_err *err)
{
	ROUTE(vol, path, rp_vol_check_replace(vol, path, len, err));
	if (!vol->ops->check_replace)
		return 0;
	char *norm = normalise(path, err);
	if (!norm)
		return -1;
	int rc = vol->ops->check_replace(vol, norm, len, err);
	free(norm);
	return rc;
}
