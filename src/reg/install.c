/*
 * install.c — load an installation's SYSTEM and SOFTWARE (SAM and SECURITY when they can be)
 * and its Group Policy files (see install.h).
 *
 * The order matters: logs are read with the primary in one pass so that recovery sees the
 * files as they are on the disk now; nothing here writes.
 */
#include "reg/install.h"
#include "reg/reg_internal.h"
#include "util/task.h"
#include "util/text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef struct log_search {
	const char *name;
	char *found[3];
	const char *dir;
} log_search;

static int match_log(void *ctx, const char *entry, const rp_stat *st)
{
	log_search *s = ctx;
	static const char *suffix[3] = {".LOG1", ".LOG2", ".LOG"};
	if (st->is_dir)
		return 0;
	size_t n = strlen(s->name);
	if (strlen(entry) <= n)
		return 0;
	char head[256];
	if (n >= sizeof head)
		return 0;
	memcpy(head, entry, n);
	head[n] = 0;
	if (rp_strcasecmp(head, s->name) != 0)
		return 0;
	for (int i = 0; i < 3; i++) {
		if (rp_strcasecmp(entry + n, suffix[i]) == 0 && !s->found[i])
			s->found[i] = rp_xasprintf("%s/%s", s->dir, entry);
	}
	return 0;
}

int rp_hive_find_logs(rp_vol *vol, const char *dir, const char *name, char *out[3], rp_err *err)
{
	log_search s = {.name = name, .dir = dir};
	if (rp_vol_list(vol, dir, match_log, &s, err) < 0) {
		/* The listing can fail part way (a damaged index): free what it found. */
		for (int i = 0; i < 3; i++)
			free(s.found[i]);
		return -1;
	}
	for (int i = 0; i < 3; i++)
		out[i] = s.found[i];
	return 0;
}

/* The primary's real-case name, so that backups and reports show what is on the disk. */
typedef struct name_search {
	const char *name;
	int want_dir;
	char *found;
} name_search;

static int match_name(void *ctx, const char *entry, const rp_stat *st)
{
	name_search *s = ctx;
	if (!st->is_dir == !s->want_dir && rp_strcasecmp(entry, s->name) == 0) {
		s->found = rp_xstrdup(entry);
		return 1;
	}
	return 0;
}

/* A hive every installation has is not on the volume. */
static int missing(const char *name, rp_err *err)
{
	return rp_fail(
	    err, RP_EXIT_UNUSABLE,
	    "%s/%s is missing: this volume does not hold a complete Windows installation",
	    RP_CONFIG_DIR, name);
}

static int load_hive(rp_vol *vol, const char *name, rp_hive_file *hf, rp_err *err)
{
	int rc = rp_hive_file_load(vol, RP_CONFIG_DIR, name, hf, err);
	return rc == 0 && !hf->path ? missing(name, err) : rc;
}

/* Hives smaller than this are copied even when clean. */
#define IN_PLACE_MIN ((uint64_t)1 << 20)

/* A clean primary is read where it lies instead of copied whole (reg/hive_lazy.c): 1 opened so,
 * 0 when it is dirty (its logs are replayed into a copy) or the volume cannot read part of a
 * file, -1 when it is refused, with the reasons and messages of the copying path. */
static int open_in_place(rp_vol *vol, rp_hive_file *hf, const rp_regf_files *logs, rp_err *err)
{
	rp_stat st;
	uint8_t bb[RP_REGF_BASE_BLOCK];
	rp_err ignored = {0};
	/* Any doubt (a backend without partial reads, a stat that fails): the copying path, which
	 * reports its own errors. */
	if (!rp_vol_can_read_range(vol, hf->path) || rp_vol_stat(vol, hf->path, &st, &ignored) < 0)
		return 0;
	/* A small hive (SAM, SECURITY, BCD) costs nothing to copy, and a copy outlives the volume;
	 * one too short to be a hive is refused by the copying path. */
	if (!st.exists || st.is_dir || st.size < IN_PLACE_MIN)
		return 0;
	if (rp_vol_read_range(vol, hf->path, 0, bb, sizeof bb, err) < 0)
		return -1;
	int clean = rp_regf_recover_clean(bb, (size_t)st.size, logs, &hf->recovery, err);
	if (clean <= 0) {
		if (clean < 0)
			rp_err_prefix(err, "%s", hf->path);
		return clean;
	}
	if (reg_hive_open_lazy(&hf->hive, hf->name, vol, hf->path, bb, err) < 0) {
		rp_err_prefix(err, "%s", hf->path);
		return -1;
	}
	return 1;
}

/* A hive read from its volume whose logs are still to be replayed and whose image is still to
 * be opened: work that touches no volume, so load_registry does it on a thread of its own
 * while the next hive is read. */
typedef struct pending_hive {
	rp_hive_file *hf;
	uint8_t *data[4]; /* the primary, LOG1, LOG2, LOG */
	size_t len[4];
	int rc;
	rp_err err;
} pending_hive;

/* The logs p holds, as recovery takes them. */
static rp_regf_files pending_logs(const pending_hive *p)
{
	return (rp_regf_files){
	    .log1 = p->data[1],
	    .log1_len = p->len[1],
	    .log2 = p->data[2],
	    .log2_len = p->len[2],
	    .log = p->data[3],
	    .log_len = p->len[3],
	};
}

/* Finds and reads hf (memset here): 0 when it is done (opened in place, or missing: hf->path
 * NULL), 1 when p holds what finish_hive needs, -1 on failure. */
static int read_hive(rp_vol *vol, const char *dir, const char *name, rp_hive_file *hf,
		     pending_hive *p, rp_err *err)
{
	name_search ns = {.name = name};
	memset(hf, 0, sizeof *hf);
	memset(p, 0, sizeof *p);
	p->hf = hf;
	snprintf(hf->name, sizeof hf->name, "%s", name);
	if (rp_vol_list(vol, dir, match_name, &ns, err) < 0) {
		free(ns.found);
		return -1;
	}
	if (!ns.found)
		return 0;
	hf->path = rp_xasprintf("%s/%s", dir, ns.found);
	free(ns.found);
	if (rp_hive_find_logs(vol, dir, name, hf->log_path, err) < 0)
		return -1;
	int rc = 1;
	for (int i = 0; i < 3 && rc == 1; i++)
		if (hf->log_path[i] &&
		    rp_vol_read(vol, hf->log_path[i], &p->data[i + 1], &p->len[i + 1], err) < 0)
			rc = -1;
	rp_regf_files files = pending_logs(p);
	int lazy = rc == 1 ? open_in_place(vol, hf, &files, err) : 0;
	if (lazy != 0)
		rc = lazy > 0 ? 0 : -1;
	if (rc == 1 && rp_vol_read(vol, hf->path, &p->data[0], &p->len[0], err) < 0)
		rc = -1;
	for (int i = 0; rc != 1 && i < 4; i++) {
		free(p->data[i]);
		p->data[i] = NULL;
	}
	return rc;
}

/* The rest of a hive's load (a pending_hive, as a task): its logs replayed into the primary's
 * memory, grown for them and trimmed to the recovered image, which the lazy backend reads
 * where it is (a clean image; else it moves into the in-memory file hivex opens).  The logs
 * are freed first.  p->rc and p->err say how it went. */
static void finish_hive(void *arg)
{
	pending_hive *p = arg;
	rp_hive_file *hf = p->hf;
	rp_err *err = &p->err;
	p->rc = -1;
	rp_regf_files files = pending_logs(p);
	size_t cap = rp_regf_recover_cap(p->len[0], &files);
	if (cap > p->len[0])
		p->data[0] = rp_xrealloc(p->data[0], cap);
	size_t image_len = p->len[0];
	if (rp_regf_recover_in_buffer(p->data[0], cap > p->len[0] ? cap : p->len[0], &image_len,
				      &files, &hf->recovery, err) < 0) {
		rp_err_prefix(err, "%s", hf->path);
		goto out;
	}
	for (int i = 1; i < 4; i++) {
		free(p->data[i]);
		p->data[i] = NULL;
	}
	uint8_t *image =
	    image_len < cap ? rp_xrealloc(p->data[0], image_len ? image_len : 1) : p->data[0];
	p->data[0] = NULL;
	if (reg_hive_open_image(&hf->hive, hf->name, image, image_len, 1) == 1) {
		p->rc = 0;
		goto out;
	}
	/* Not clean (dirty, without logs), or bins the lazy reader refuses: hivex decides. */
	p->rc = reg_hive_open_owned(&hf->hive, hf->name, hf->path, image, image_len, err);
	if (p->rc < 0 && !strstr(err->msg, "scratch file")) /* what to do next */
		rp_err_suffix(
		    err,
		    "; restore %s from %s/RegBack or a backup, or run chkdsk /f on the volume "
		    "in Windows",
		    hf->name, RP_CONFIG_DIR);
out:
	for (int i = 0; i < 4; i++)
		free(p->data[i]);
}

int rp_hive_file_load(rp_vol *vol, const char *dir, const char *name, rp_hive_file *hf, rp_err *err)
{
	pending_hive p;
	int rc = read_hive(vol, dir, name, hf, &p, err);
	if (rc <= 0)
		return rc;
	finish_hive(&p);
	if (p.rc < 0)
		*err = p.err;
	return p.rc;
}

/* SAM and SECURITY: a failure is recorded in hf->error (hive stays NULL), never returned. */
static void load_optional(rp_vol *vol, const char *name, rp_hive_file *hf)
{
	rp_err err = {0};
	if (load_hive(vol, name, hf, &err) == 0)
		return;
	if (hf->hive)
		rp_hive_close(hf->hive);
	hf->hive = NULL;
	hf->error = !hf->path	 ? rp_xasprintf("%s/%s is missing", RP_CONFIG_DIR, name)
		    : err.msg[0] ? rp_xstrdup(err.msg)
				 : rp_xstrdup("cannot be read");
}

/* Names of the hives a Windows installation keeps: a base block naming one of them as its file
 * says which hive it is (the field holds the tail of the path Windows loaded it from; files made
 * by other tools hold anything, so an unknown name proves nothing). */
static const char *const known_hives[] = {
    "SYSTEM",	    "SOFTWARE", "SAM",	      "SECURITY", "DEFAULT", "NTUSER.DAT",
    "UsrClass.dat", "BCD",	"COMPONENTS", "DRIVERS",  "ELAM",    "Amcache.hve",
};

/* The last path component of the base block's file name field, when it is a known hive other
 * than want (malloc'd), else NULL. */
static char *other_hive_name(const rp_hive *h, const char *want)
{
	const uint8_t *img = rp_hive_base_block(h);
	if (!img)
		return NULL;
	char *name = rp_utf16_to_utf8(img + 48, 64);
	if (!name)
		return NULL;
	const char *leaf = strrchr(name, '\\');
	leaf = leaf ? leaf + 1 : name;
	char *found = NULL;
	for (size_t i = 0; i < sizeof known_hives / sizeof *known_hives; i++)
		if (rp_strcasecmp(leaf, known_hives[i]) == 0 && rp_strcasecmp(leaf, want) != 0)
			found = rp_xstrdup(known_hives[i]);
	free(name);
	return found;
}

/* A file called SYSTEM must hold Select and a ControlSetNNN; one called SOFTWARE must hold
 * Microsoft\Windows NT\CurrentVersion.  Anything else (a user's NTUSER.DAT copied there, an
 * empty hive) is refused, so that no run creates Windows keys in the wrong hive. */
static int check_identity(rp_hive_file *hf, rp_err *err)
{
	char *other = other_hive_name(hf->hive, hf->name);
	const char *missing = NULL;
	if (!strcmp(hf->name, "SYSTEM")) {
		char **names = NULL;
		size_t n = 0;
		int sets = 0;
		if (rp_hive_subkeys(hf->hive, "", &names, &n, err) < 0) {
			free(other);
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			sets += strlen(names[i]) == 13 &&
				strncasecmp(names[i], "ControlSet", 10) == 0 &&
				strspn(names[i] + 10, "0123456789") == 3;
		rp_names_free(names, n);
		if (rp_hive_key_exists(hf->hive, "Select", NULL) != 1)
			missing = "no Select key";
		else if (!sets)
			missing = "no ControlSetNNN key";
	} else if (rp_hive_key_exists(hf->hive, "Microsoft\\Windows NT\\CurrentVersion", NULL) !=
		   1) {
		missing = "no Microsoft\\Windows NT\\CurrentVersion key";
	}
	if (!missing && !other)
		return 0;
	char *ename = other ? rp_escape(other) : NULL, *epath = rp_escape(hf->path);
	rp_fail(
	    err, RP_EXIT_UNUSABLE,
	    "%s is not a %s hive (%s%s%s%s): nothing will be written to it; restore the real %s "
	    "from %s/RegBack or from a backup",
	    epath, hf->name, missing ? missing : "", missing && other ? ", " : "",
	    other ? "its base block names it " : "", other ? ename : "", hf->name, RP_CONFIG_DIR);
	free(ename);
	free(epath);
	free(other);
	return -1;
}

static void resolve_ccs(rp_registry *reg)
{
	rp_value v = {0};
	uint32_t current = 0;
	if (rp_hive_get(reg->system.hive, "Select", "Current", &v, NULL) == 1)
		rp_value_dword(&v, &current);
	rp_value_free(&v);
	if (current >= 1 && current <= 999) {
		snprintf(reg->ccs, sizeof reg->ccs, "ControlSet%03u", current);
		if (rp_hive_key_exists(reg->system.hive, reg->ccs, NULL) == 1)
			return;
	}
	snprintf(reg->ccs, sizeof reg->ccs, "ControlSet001");
	reg->ccs_fallback = 1;
}

/* Whether dir exists as a directory; -1 when asking failed (err says why). */
static int is_dir(rp_vol *vol, const char *dir, rp_err *err)
{
	rp_stat st;
	if (rp_vol_stat(vol, dir, &st, err) < 0)
		return -1;
	return st.exists && st.is_dir && !st.is_reparse;
}

/* The real-case name of name (a file, or a directory with want_dir) inside dir: malloc'd, NULL
 * when absent.  -1 when dir cannot be listed. */
static int find_entry(rp_vol *vol, const char *dir, const char *name, int want_dir, char **out,
		      rp_err *err)
{
	name_search ns = {.name = name, .want_dir = want_dir};
	*out = NULL;
	int d = is_dir(vol, dir, err);
	if (d <= 0)
		return d;
	if (rp_vol_list(vol, dir, match_name, &ns, err) < 0) {
		free(ns.found);
		return -1;
	}
	*out = ns.found;
	return 0;
}

static void pol_failed(rp_pol_file *pf, const rp_err *err)
{
	pf->error = rp_xstrdup(err->msg[0] ? err->msg : "cannot be read");
}

/* Reads and parses one .pol file; a failure is recorded in pf, never returned. */
static void load_pol(rp_vol *vol, rp_pol_file *pf)
{
	rp_err err = {0};
	rp_stat st;
	uint8_t *data = NULL;
	size_t len = 0;
	if (rp_vol_stat(vol, pf->path, &st, &err) < 0) {
		pol_failed(pf, &err);
	} else if (st.size > RP_POL_MAX_SIZE) {
		rp_fail(&err, RP_EXIT_UNUSABLE, "%llu bytes, more than any policy file holds",
			(unsigned long long)st.size);
		pol_failed(pf, &err);
	} else if (rp_vol_read(vol, pf->path, &data, &len, &err) < 0) {
		pol_failed(pf, &err);
	} else if (rp_pol_parse(data, len, &pf->pol, &err) < 0) {
		pol_failed(pf, &err);
	} else {
		pf->parsed = 1;
	}
	free(data);
}

static rp_pol_file *add_gpo(rp_registry *reg, char *path)
{
	reg->gpos = rp_xrealloc(reg->gpos, (reg->ngpos + 1) * sizeof *reg->gpos);
	rp_pol_file *pf = &reg->gpos[reg->ngpos++];
	memset(pf, 0, sizeof *pf);
	pf->path = path;
	return pf;
}

static void load_local_pol(rp_vol *vol, rp_registry *reg)
{
	rp_err err = {0};
	char *leaf = NULL;
	int rc = find_entry(vol, RP_LOCAL_POL_DIR, "Registry.pol", 0, &leaf, &err);
	if (rc == 0 && !leaf)
		return;
	reg->local_pol = rp_xcalloc(1, sizeof *reg->local_pol);
	if (rc < 0) {
		reg->local_pol->path = rp_xstrdup(RP_LOCAL_POL_DIR "/Registry.pol");
		pol_failed(reg->local_pol, &err);
		return;
	}
	reg->local_pol->path = rp_xasprintf("%s/%s", RP_LOCAL_POL_DIR, leaf);
	free(leaf);
	load_pol(vol, reg->local_pol);
}

typedef struct dir_names {
	char **names;
	size_t n;
} dir_names;

static int collect_dir(void *ctx, const char *entry, const rp_stat *st)
{
	dir_names *d = ctx;
	if (st->is_dir && !st->is_reparse) {
		d->names = rp_xrealloc(d->names, (d->n + 1) * sizeof *d->names);
		d->names[d->n++] = rp_xstrdup(entry);
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every History\<GPO>\Machine\registry.pol, the copies gpsvc keeps of domain GPOs. */
static void load_domain_pols(rp_vol *vol, rp_registry *reg)
{
	rp_err err = {0};
	dir_names gpo = {0};
	int d = is_dir(vol, RP_GPO_HISTORY_DIR, &err);
	if (d == 0)
		return;
	if (d < 0 || rp_vol_list(vol, RP_GPO_HISTORY_DIR, collect_dir, &gpo, &err) < 0) {
		pol_failed(add_gpo(reg, rp_xstrdup(RP_GPO_HISTORY_DIR)), &err);
		goto out;
	}
	qsort(gpo.names, gpo.n, sizeof *gpo.names, by_name);
	for (size_t i = 0; i < gpo.n; i++) {
		char *dir = rp_xasprintf("%s/%s", RP_GPO_HISTORY_DIR, gpo.names[i]);
		char *machine = NULL, *leaf = NULL, *mdir = NULL;
		rp_err_clear(&err);
		if (find_entry(vol, dir, "Machine", 1, &machine, &err) < 0) {
			pol_failed(add_gpo(reg, rp_xstrdup(dir)), &err);
		} else if (machine) {
			mdir = rp_xasprintf("%s/%s", dir, machine);
			if (find_entry(vol, mdir, "registry.pol", 0, &leaf, &err) < 0)
				pol_failed(add_gpo(reg, rp_xstrdup(mdir)), &err);
			else if (leaf)
				load_pol(vol, add_gpo(reg, rp_xasprintf("%s/%s", mdir, leaf)));
		}
		free(leaf);
		free(mdir);
		free(machine);
		free(dir);
	}
out:
	for (size_t i = 0; i < gpo.n; i++)
		free(gpo.names[i]);
	free(gpo.names);
}

/* What a reload may take over from the registry loaded before (NULL: nothing). */
typedef struct reuse {
	rp_registry *old;
	const char *const *changed; /* volume paths written since */
	size_t nchanged;
} reuse;

static int path_changed(const reuse *ru, const char *path)
{
	for (size_t i = 0; path && i < ru->nchanged; i++)
		if (ru->changed[i] && rp_strcasecmp(path, ru->changed[i]) == 0)
			return 1;
	return 0;
}

/* The old registry's loaded hive file for name when neither its primary nor a log was written
 * since (its bytes are what the volume holds), else NULL. */
static rp_hive_file *reusable(const reuse *ru, const char *name)
{
	if (!ru || !ru->old)
		return NULL;
	rp_hive_file *hf = rp_registry_hive(ru->old, name);
	if (!hf || path_changed(ru, hf->path))
		return NULL;
	for (int i = 0; i < 3; i++)
		if (path_changed(ru, hf->log_path[i]))
			return NULL;
	return hf;
}

/* Moves the hive of from into to; from keeps its strings (the report reads them), its hive
 * becomes NULL. */
static void take_hive(rp_vol *vol, rp_hive_file *to, rp_hive_file *from)
{
	*to = *from;
	if (to->hive)
		reg_hive_rebind(to->hive, vol);
	to->path = from->path ? rp_xstrdup(from->path) : NULL;
	for (int i = 0; i < 3; i++)
		to->log_path[i] = from->log_path[i] ? rp_xstrdup(from->log_path[i]) : NULL;
	to->error = from->error ? rp_xstrdup(from->error) : NULL;
	from->hive = NULL;
}

static int get_hive(rp_vol *vol, const reuse *ru, const char *name, rp_hive_file *hf, rp_err *err)
{
	rp_hive_file *old = reusable(ru, name);
	if (old) {
		take_hive(vol, hf, old);
		return 0;
	}
	return load_hive(vol, name, hf, err);
}

static void get_optional(rp_vol *vol, const reuse *ru, const char *name, rp_hive_file *hf)
{
	rp_hive_file *old = reusable(ru, name);
	if (old)
		take_hive(vol, hf, old);
	else
		load_optional(vol, name, hf);
}

/* core_only: SYSTEM and SOFTWARE and what comes from them, nothing else. */
static int load_registry(rp_vol *vol, const reuse *ru, int core_only, rp_registry *reg, rp_err *err)
{
	memset(reg, 0, sizeof *reg);
	/* SYSTEM's replay and opening (no volume in it) run beside SOFTWARE's read; its errors
	 * still come first. */
	pending_hive sys;
	rp_task *replaying = NULL;
	rp_err sw_err = {0};
	int got = 0;
	rp_hive_file *old = reusable(ru, "SYSTEM");
	if (old)
		take_hive(vol, &reg->system, old);
	else
		got = read_hive(vol, RP_CONFIG_DIR, "SYSTEM", &reg->system, &sys, err);
	if (got == 1)
		replaying = rp_task_start(finish_hive, &sys);
	int sw = got < 0 ? -1 : get_hive(vol, ru, "SOFTWARE", &reg->software, &sw_err);
	rp_task_wait(replaying);
	if (got == 1 && sys.rc < 0) {
		*err = sys.err;
		got = -1;
	}
	if (got == 0 && !old && !reg->system.path)
		got = missing("SYSTEM", err);
	int rc = got < 0 ? -1 : check_identity(&reg->system, err);
	if (rc == 0 && sw < 0) {
		*err = sw_err;
		rc = -1;
	}
	if (rc < 0 || check_identity(&reg->software, err) < 0) {
		rp_registry_free(reg);
		return -1;
	}
	resolve_ccs(reg);
	const char *cv = "Microsoft\\Windows NT\\CurrentVersion";
	reg->product = rp_hive_get_string(reg->software.hive, cv, "ProductName");
	reg->build = rp_hive_get_string(reg->software.hive, cv, "CurrentBuild");
	if (!reg->build)
		reg->build = rp_hive_get_string(reg->software.hive, cv, "CurrentBuildNumber");
	if (reg->build)
		reg->build_number = (unsigned)strtoul(reg->build, NULL, 10);
	char *cn = rp_registry_ccs_path(reg, "Control\\ComputerName\\ComputerName");
	reg->computer = rp_hive_get_string(reg->system.hive, cn, "ComputerName");
	free(cn);
	if (core_only)
		return 0;
	get_optional(vol, ru, "SAM", &reg->sam);
	get_optional(vol, ru, "SECURITY", &reg->security);
	load_local_pol(vol, reg);
	load_domain_pols(vol, reg);
	return 0;
}

int rp_registry_load(rp_vol *vol, rp_registry *reg, rp_err *err)
{
	return load_registry(vol, NULL, 0, reg, err);
}

int rp_registry_load_core(rp_vol *vol, rp_registry *reg, rp_err *err)
{
	return load_registry(vol, NULL, 1, reg, err);
}

int rp_registry_reload(rp_vol *vol, rp_registry *old, const char *const *changed, size_t nchanged,
		       rp_registry *reg, rp_err *err)
{
	reuse ru = {.old = old, .changed = changed, .nchanged = nchanged};
	/* What cannot be reused is released first: the old and the new copy of a written hive
	 * are never held at once. */
	rp_hive_file *all[] = {&old->system, &old->software, &old->sam, &old->security};
	for (size_t i = 0; i < sizeof all / sizeof *all; i++)
		if (all[i]->hive && !reusable(&ru, all[i]->name)) {
			rp_hive_close(all[i]->hive);
			all[i]->hive = NULL;
		}
	return load_registry(vol, &ru, 0, reg, err);
}

void rp_hive_file_detach(rp_hive_file *hf)
{
	if (hf->hive)
		reg_hive_rebind(hf->hive, NULL);
}

void rp_registry_detach(rp_registry *reg)
{
	rp_hive_file *all[] = {&reg->system, &reg->software, &reg->sam, &reg->security};
	for (size_t i = 0; i < sizeof all / sizeof *all; i++)
		rp_hive_file_detach(all[i]);
}

rp_hive_file *rp_registry_hive(rp_registry *reg, const char *name)
{
	rp_hive_file *all[] = {&reg->system, &reg->software, &reg->sam, &reg->security};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (all[i]->hive && strcmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}

void rp_hive_file_free(rp_hive_file *hf)
{
	if (hf->hive)
		rp_hive_close(hf->hive);
	free(hf->path);
	for (int i = 0; i < 3; i++)
		free(hf->log_path[i]);
	free(hf->error);
	memset(hf, 0, sizeof *hf);
}

static void free_pol_file(rp_pol_file *pf)
{
	free(pf->path);
	if (pf->parsed)
		rp_pol_free(&pf->pol);
	free(pf->error);
}

void rp_registry_free(rp_registry *reg)
{
	if (reg->local_pol)
		free_pol_file(reg->local_pol);
	free(reg->local_pol);
	for (size_t i = 0; i < reg->ngpos; i++)
		free_pol_file(&reg->gpos[i]);
	free(reg->gpos);
	rp_hive_file_free(&reg->system);
	rp_hive_file_free(&reg->software);
	rp_hive_file_free(&reg->sam);
	rp_hive_file_free(&reg->security);
	free(reg->product);
	free(reg->build);
	free(reg->computer);
	memset(reg, 0, sizeof *reg);
}

char *rp_registry_ccs_path(const rp_registry *reg, const char *rest)
{
	return rp_xasprintf("%s\\%s", reg->ccs, rest);
}
