/*
 * cmd_reg.c — `rdprescue reg TARGET get|set|delete|export|import ...`: offline registry editing.
 *
 * Keys are written as Windows admins write them (HKLM\SYSTEM\CurrentControlSet\..., HKLM\SOFTWARE,
 * HKLM\SAM, HKLM\SECURITY, HKU\.DEFAULT, HKU\<user>, BCD) and mapped to a loaded hive: every hive
 * is read with its logs replayed (reg/), CurrentControlSet is the control set Windows boots
 * (Select\Current).  Every write is a list of rp_change entries handed to the same plan as fix
 * (plan/: verified new image, backup, atomic replace, read-back, undo).  reg refuses nothing
 * regedit allows, but says when a change lowers Remote Desktop security.
 */
#include "cli/cli.h"
#include "plan/plan.h"
#include "report/report.h"
#include "util/file.h"
#include "util/text.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REG_USAGE "run 'rdprescue help reg'"
#define MAX_MORE 8 /* HKU hives one run can load */

typedef struct reg_args {
	int json, dry_run, yes, install;
	const char *backup_dir, *target, *action;
	char **args;
	int nargs;
} reg_args;

/* A loaded hive and how admins name its root. */
typedef struct reg_root {
	rp_hive_file *hf;
	char *shown; /* "HKLM\\SYSTEM", "HKU\\alice", "BCD" */
	char *full;  /* "HKEY_LOCAL_MACHINE\\SYSTEM", "HKEY_USERS\\alice", for .reg files */
} reg_root;

typedef struct reg_ctx {
	rp_target t;
	rp_vol *vol;
	const rp_install *inst;
	rp_registry reg;
	rp_scan scan;
	rp_hive_file more[MAX_MORE];
	char *more_user[MAX_MORE]; /* the HKU name each was loaded for */
	size_t nmore;
} reg_ctx;

/* A key resolved: its hive and its path below the hive's root (CurrentControlSet mapped). */
typedef struct reg_where {
	reg_root root;
	char *key;
} reg_where;

static void where_free(reg_where *w)
{
	free(w->root.shown);
	free(w->root.full);
	free(w->key);
	memset(w, 0, sizeof *w);
}

/* ---- key names ---- */

/* Splits path at backslashes, dropping empty components; returns the count, or n + 1 when
 * there are more than n. */
static size_t split(char *path, char **parts, size_t n)
{
	size_t k = 0;
	char *save = NULL;
	for (char *s = strtok_r(path, "\\", &save); s; s = strtok_r(NULL, "\\", &save)) {
		if (k == n)
			return n + 1;
		parts[k++] = s;
	}
	return k;
}

static char *join(char **parts, size_t n)
{
	rp_strbuf b = {0};
	rp_strbuf_add(&b, "");
	for (size_t i = 0; i < n; i++) {
		if (i)
			rp_strbuf_add(&b, "\\");
		rp_strbuf_add(&b, parts[i]);
	}
	return b.s;
}

static int is(const char *a, const char *b)
{
	return rp_strcasecmp(a, b) == 0;
}

static int load_user(reg_ctx *c, const char *user, rp_hive_file **out, rp_err *err)
{
	for (size_t i = 0; i < c->nmore; i++)
		if (is(c->more_user[i], user)) {
			*out = &c->more[i];
			return 0;
		}
	if (c->nmore == MAX_MORE)
		return rp_fail(err, RP_EXIT_USAGE,
			       "more than %d HKU hives in one run; split the .reg", MAX_MORE);
	int def = is(user, ".DEFAULT");
	if (!def && (!strcmp(user, ".") || !strcmp(user, "..") || strchr(user, '/'))) {
		char *u = rp_escape(user);
		rp_fail(err, RP_EXIT_USAGE,
			"HKU\\%s: not a user name; write HKU\\.DEFAULT or HKU\\<user name>", u);
		free(u);
		return -1;
	}
	rp_hive_file *hf = &c->more[c->nmore];
	char *dir = def ? rp_xstrdup(RP_CONFIG_DIR) : rp_xasprintf("Users/%s", user);
	rp_stat st = {0};
	int rc = 0;
	if (!def && (rp_vol_stat(c->vol, dir, &st, err) < 0 || !st.exists))
		rc = -1;
	else
		rc = rp_hive_file_load(c->vol, dir, def ? "DEFAULT" : "NTUSER.DAT", hf, err);
	free(dir);
	if (rc == 0 && !hf->path)
		rc = -1;
	if (rc < 0) {
		char *u = rp_escape(user);
		if (!err->msg[0] || !hf->path)
			rp_fail(err, RP_EXIT_UNUSABLE,
				def ? "HKU\\.DEFAULT: %s has no DEFAULT hive; check the volume"
				    : "HKU\\%s: there is no Users\\%s\\NTUSER.DAT on this volume; "
				      "name a user folder under Users",
				def ? RP_CONFIG_DIR : u, u);
		free(u);
		rp_hive_file_free(hf);
		return -1;
	}
	/* Each hive its own name: the plan matches changes to hives by name. */
	if (!def && c->nmore)
		snprintf(hf->name, sizeof hf->name, "NTUSER.DAT#%zu", c->nmore + 1);
	c->more_user[c->nmore++] = rp_xstrdup(user);
	c->scan.more_hives = c->more;
	c->scan.nmore_hives = c->nmore;
	*out = hf;
	return 0;
}

static int need_hive(rp_hive_file *hf, const char *name, rp_err *err)
{
	if (hf && hf->hive)
		return 0;
	return rp_fail(err, RP_EXIT_UNUSABLE,
		       "HKLM\\%s cannot be read (%s); restore it from %s/RegBack or a backup", name,
		       hf && hf->error ? hf->error : "the hive is missing", RP_CONFIG_DIR);
}

/* Resolves an admin's key path ("HKLM\\SYSTEM\\CurrentControlSet\\...") to a hive and key. */
static int resolve(reg_ctx *c, const char *path, reg_where *w, rp_err *err)
{
	memset(w, 0, sizeof *w);
	char *copy = rp_xstrdup(path);
	char *parts[520]; /* the registry nests 512 levels below a hive root */
	size_t n = split(copy, parts, sizeof parts / sizeof *parts);
	size_t skip = 0;
	rp_hive_file *hf = NULL;
	int rc = -1;
	if (n == 0) {
		rp_fail(err, RP_EXIT_USAGE, "an empty KEY; write it as HKLM\\SYSTEM\\...");
		goto out;
	}
	if (n > sizeof parts / sizeof *parts) {
		rp_fail(err, RP_EXIT_USAGE,
			"a KEY nested deeper than the registry allows (512 levels); check the "
			"path");
		goto out;
	}
	const char *top = parts[0];
	if (is(top, "HKLM") || is(top, "HKEY_LOCAL_MACHINE")) {
		const char *h = n > 1 ? parts[1] : "";
		skip = 2;
		if (is(h, "SYSTEM") || is(h, "SOFTWARE") || is(h, "SAM") || is(h, "SECURITY")) {
			char up[16];
			snprintf(up, sizeof up, "%s", h);
			for (char *p = up; *p; p++)
				*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
			hf = rp_registry_hive(&c->reg, up);
			if (need_hive(hf, up, err) < 0)
				goto out;
			w->root.shown = rp_xasprintf("HKLM\\%s", up);
			w->root.full = rp_xasprintf("HKEY_LOCAL_MACHINE\\%s", up);
		} else if (is(h, "BCD00000000")) {
			skip = 2;
			goto bcd;
		} else {
			rp_fail(err, RP_EXIT_USAGE,
				"%s: HKLM holds SYSTEM, SOFTWARE, SAM, SECURITY and BCD00000000 "
				"offline; " REG_USAGE,
				n > 1 ? "an unknown hive" : "HKLM alone");
			goto out;
		}
	} else if (is(top, "BCD")) {
		skip = 1;
	bcd:
		if (!c->scan.bcd_loaded) {
			rp_bcd_load(c->vol, &c->scan.bcd);
			c->scan.bcd_loaded = 1;
		}
		if (!c->scan.bcd.found) {
			rp_fail(err, RP_EXIT_UNUSABLE, "BCD: %s",
				c->scan.bcd.error ? c->scan.bcd.error
						  : "no BCD store was found on the boot partition; "
						    "attach the disk that holds it");
			goto out;
		}
		hf = &c->scan.bcd.file;
		w->root.shown = rp_xstrdup("BCD");
		w->root.full = rp_xstrdup("HKEY_LOCAL_MACHINE\\BCD00000000");
	} else if (is(top, "HKU") || is(top, "HKEY_USERS")) {
		if (n < 2) {
			rp_fail(err, RP_EXIT_USAGE,
				"HKU alone; write HKU\\.DEFAULT or HKU\\<user name>");
			goto out;
		}
		skip = 2;
		if (load_user(c, parts[1], &hf, err) < 0)
			goto out;
		w->root.shown = rp_xasprintf("HKU\\%s", parts[1]);
		w->root.full = rp_xasprintf("HKEY_USERS\\%s", parts[1]);
	} else if (is(top, "HKCR") || is(top, "HKEY_CLASSES_ROOT")) {
		/* The machine-wide classes: what regedit writes HKCR keys into. */
		hf = &c->reg.software;
		w->root.shown = rp_xstrdup("HKLM\\SOFTWARE");
		w->root.full = rp_xstrdup("HKEY_LOCAL_MACHINE\\SOFTWARE");
		parts[0] = "Classes";
		skip = 0;
	} else if (is(top, "HKCU") || is(top, "HKEY_CURRENT_USER")) {
		rp_fail(err, RP_EXIT_USAGE,
			"%s means nobody offline; write HKU\\<user name> (Users\\<user "
			"name>\\NTUSER.DAT)",
			top);
		goto out;
	} else {
		char *e = rp_escape(path);
		rp_fail(err, RP_EXIT_USAGE,
			"%s: a KEY starts with HKLM\\SYSTEM, HKLM\\SOFTWARE, HKLM\\SAM, "
			"HKLM\\SECURITY, HKU\\.DEFAULT, HKU\\<user> or BCD; " REG_USAGE,
			e);
		free(e);
		goto out;
	}
	if (skip > n)
		skip = n;
	/* CurrentControlSet is the control set Windows boots. */
	if (hf == &c->reg.system && n > skip && is(parts[skip], "CurrentControlSet"))
		parts[skip] = c->reg.ccs;
	w->root.hf = hf;
	w->key = join(parts + skip, n - skip);
	rc = 0;
out:
	free(copy);
	if (rc < 0)
		where_free(w);
	return rc;
}

static char *shown_path(const reg_where *w, const char *value)
{
	char *s = rp_xasprintf("%s%s%s%s%s", w->root.shown, *w->key ? "\\" : "", w->key,
			       value ? "\\" : "", value ? value : "");
	char *e = rp_escape(s);
	free(s);
	return e;
}

/* ---- planning ---- */

typedef struct reg_plan {
	reg_ctx *ctx;
	rp_finding *f;
	char *notes[64];
	size_t nnotes;
	size_t skipped; /* deletions of what is not there */
} reg_plan;

static void add_note(reg_plan *p, char *note)
{
	if (p->nnotes < sizeof p->notes / sizeof *p->notes)
		p->notes[p->nnotes++] = note;
	else
		free(note);
}

/* a is b or below it (case-insensitive). */
static int key_within(const char *a, const char *b)
{
	size_t n = strlen(b);
	return n == 0 || (strncasecmp(a, b, n) == 0 && (a[n] == 0 || a[n] == '\\'));
}

/* Whether a change planned earlier in this run makes the delete (of value, or of the key when
 * value is NULL) or the create (create = 1) of w do something that the disk as it is now does
 * not show: a value or key set or created before it is deleted, a key deleted before it is
 * created again. */
static int planned_before(const reg_plan *p, const reg_where *w, const char *value, int create)
{
	for (size_t i = 0; i < p->f->nchanges; i++) {
		const rp_change *c = &p->f->changes[i];
		if (strcmp(c->hive, w->root.hf->name) != 0)
			continue;
		if (create ? c->kind == RP_CHANGE_REG_DELETE_KEY && key_within(w->key, c->key)
		    : value
			? c->kind == RP_CHANGE_REG_SET && rp_strcasecmp(c->key, w->key) == 0 &&
			      rp_strcasecmp(c->value, value) == 0
			: (c->kind == RP_CHANGE_REG_SET || c->kind == RP_CHANGE_REG_CREATE_KEY) &&
			      key_within(c->key, w->key))
			return 1;
	}
	return 0;
}

static int plan_set(reg_plan *p, const reg_where *w, const char *value, uint32_t type,
		    const uint8_t *data, size_t len, rp_err *err)
{
	rp_value old = {0}, now = {.type = type, .data = (uint8_t *)data, .len = len};
	int got = rp_hive_get(w->root.hf->hive, w->key, value, &old, err);
	if (got < 0)
		return -1;
	char tb[32], ob[32];
	char *path = shown_path(w, *value ? value : "(default)");
	char *shown = rp_value_format(&now), *was = got ? rp_value_format(&old) : NULL;
	char *what = rp_xasprintf("set %s to %s %s (was %s%s%s)", path,
				  rp_reg_type_name(type, tb, sizeof tb), shown,
				  got ? rp_reg_type_name(old.type, ob, sizeof ob) : "absent",
				  got ? " " : "", got ? was : "");
	int weakens = 0;
	const char *lost = rp_rdp_weakening(&p->ctx->reg, w->root.hf->name, w->key, value, type,
					    data, len, &weakens);
	rp_change_raw(p->f, w->root.hf->name, w->key, value, type, data, len, weakens, what);
	if (lost)
		add_note(p, rp_xasprintf("%s %s: %s", weakens ? "lowers RDP security:" : "warning:",
					 path, lost));
	free(path);
	free(shown);
	free(was);
	free(what);
	rp_value_free(&old);
	return 0;
}

static int plan_delete(reg_plan *p, const reg_where *w, const char *value, int strict, rp_err *err)
{
	int got;
	rp_value old = {0};
	if (value)
		got = rp_hive_get(w->root.hf->hive, w->key, value, &old, err);
	else
		got = rp_hive_key_exists(w->root.hf->hive, w->key, err);
	rp_value_free(&old);
	if (got < 0)
		return -1;
	char *path = shown_path(w, value && !*value ? "(default)" : value);
	int rc = 0;
	if (!value && !*w->key) {
		rc = rp_fail(err, RP_EXIT_USAGE,
			     "%s is a hive's root key, which cannot be deleted; delete its subkeys",
			     path);
	} else if (got == 0 && strict) {
		rc = rp_fail(err, RP_EXIT_PROBLEMS, "%s does not exist; nothing was written", path);
	} else if (got == 0 && !planned_before(p, w, value, 0)) {
		p->skipped++;
	} else {
		char *what =
		    rp_xasprintf("delete %s %s", value ? "value" : "key with its subkeys", path);
		if (value)
			rp_change_delete_value(p->f, w->root.hf->name, w->key, value, what);
		else
			rp_change_delete_key(p->f, w->root.hf->name, w->key, what);
		free(what);
	}
	free(path);
	return rc;
}

/* A [KEY] line: the key is created when it is not there yet. */
static int plan_create(reg_plan *p, const reg_where *w, rp_err *err)
{
	int got = rp_hive_key_exists(w->root.hf->hive, w->key, err);
	if (got < 0)
		return -1;
	if (got == 1 && !planned_before(p, w, NULL, 1))
		return 0;
	char *path = shown_path(w, NULL);
	char *what = rp_xasprintf("create key %s", path);
	rp_change_create_key(p->f, w->root.hf->name, w->key, what);
	free(what);
	free(path);
	return 0;
}

static int plan_import(reg_plan *p, const char *file, rp_err *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	if (rp_file_read(file, &buf, &len, RP_EXIT_USAGE, err) < 0)
		return -1;
	rp_regfile_entry *e = NULL;
	size_t n = 0;
	int rc = rp_regfile_parse(buf, len, &e, &n, err);
	free(buf);
	if (rc < 0) {
		char *f = rp_escape(file);
		rp_err_prefix(err, "%s", f);
		free(f);
		return -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		rp_edit *ed = &e[i].edit;
		char *path = rp_xasprintf("%s\\%s", e[i].root, ed->key);
		reg_where w;
		rc = resolve(p->ctx, path, &w, err);
		free(path);
		if (rc < 0)
			break;
		if (ed->kind == RP_EDIT_SET)
			rc = plan_set(p, &w, ed->value, ed->type, ed->data, ed->len, err);
		else if (ed->kind == RP_EDIT_CREATE_KEY)
			rc = plan_create(p, &w, err);
		else
			rc = plan_delete(p, &w, ed->kind == RP_EDIT_DELETE_VALUE ? ed->value : NULL,
					 0, err);
		where_free(&w);
	}
	rp_regfile_free(e, n);
	if (rc == 0 && p->skipped)
		add_note(p, rp_xasprintf("%zu deletion%s of what is not there: nothing to do",
					 p->skipped, p->skipped == 1 ? "" : "s"));
	return rc;
}

/* ---- the run ---- */

static int open_registry(reg_ctx *c, const reg_args *a, int write, rp_err *err)
{
	if (rp_target_probe(&c->t, a->target, err) < 0 ||
	    (write && rp_target_check_write(&c->t, a->install, "reg", err) < 0) ||
	    rp_target_open(&c->t, a->install, 0, &c->vol, &c->inst, err) < 0)
		return -1;
	cli_status(!a->json, "reading the registry");
	int rc = rp_registry_load(c->vol, &c->reg, err);
	cli_status(!a->json, NULL);
	c->scan.vol = c->vol;
	c->scan.reg = &c->reg;
	c->scan.target = a->target;
	return rc;
}

static void ctx_free(reg_ctx *c)
{
	rp_scan_free(&c->scan);
	for (size_t i = 0; i < c->nmore; i++) {
		rp_hive_file_free(&c->more[i]);
		free(c->more_user[i]);
	}
	rp_registry_free(&c->reg);
	rp_vol_close(c->vol, NULL);
	rp_target_free(&c->t);
}

static void summary(const reg_args *a, const reg_ctx *c, const rp_plan_result *pr)
{
	rp_report r = {.command = "reg",
		       .target = a->target,
		       .install_arg = a->install,
		       .reg = c->reg.system.hive ? &c->reg : NULL,
		       .plan = pr};
	cli_reported();
	fflush(stdout);
	rp_report_summary(a->json ? stderr : stdout, &r);
}

static json_t *jstr(const char *s)
{
	char *e = rp_escape(s);
	json_t *j = json_string(e);
	free(e);
	return j ? j : json_string("");
}

static int do_get(reg_ctx *c, const reg_args *a)
{
	rp_err err = {0};
	reg_where w;
	if (resolve(c, a->args[0], &w, &err) < 0)
		return cli_fail(err.exit_code, "%s", err.msg);
	rp_hive *h = w.root.hf->hive;
	const char *only = a->nargs > 1 ? a->args[1] : NULL;
	char **names = NULL, **subs = NULL;
	size_t nnames = 0, nsubs = 0;
	int rc = 0;
	int exists = rp_hive_key_exists(h, w.key, &err);
	char *path = shown_path(&w, NULL);
	if (exists < 0) {
		rc = cli_fail(err.exit_code, "%s", err.msg);
		goto out;
	}
	if (!exists) {
		rc =
		    cli_fail(RP_EXIT_PROBLEMS, "%s does not exist; list its parent with get", path);
		goto out;
	}
	if (only) {
		names = rp_xmalloc(sizeof *names);
		names[0] = rp_xstrdup(only);
		nnames = 1;
	} else if (rp_hive_values(h, w.key, &names, &nnames, &err) < 0 ||
		   rp_hive_subkeys(h, w.key, &subs, &nsubs, &err) < 0) {
		rc = cli_fail(err.exit_code, "%s", err.msg);
		goto out;
	}
	json_t *doc = json_object(), *jv = json_array();
	if (!a->json) {
		printf("%s", path);
		if (w.root.hf == &c->reg.system && strstr(a->args[0], "urrentControlSet"))
			printf("  (CurrentControlSet is %s)", c->reg.ccs);
		printf("\n");
	}
	for (size_t i = 0; i < nnames && rc == 0; i++) {
		rp_value v = {0};
		int got = rp_hive_get(h, w.key, names[i], &v, &err);
		if (got <= 0) {
			char *vn = rp_escape(names[i]);
			rc = got < 0
				 ? cli_fail(err.exit_code, "%s", err.msg)
				 : cli_fail(RP_EXIT_PROBLEMS,
					    "%s has no value '%s'; list its values with get KEY",
					    path, vn);
			free(vn);
			break;
		}
		char tb[32];
		const char *tn = rp_reg_type_name(v.type, tb, sizeof tb);
		char *shown = rp_value_format(&v);
		if (a->json) {
			char *hex = rp_xmalloc(v.len * 2 + 1);
			rp_hex(v.data, v.len, hex);
			json_t *o = json_object();
			json_object_set_new(o, "name", jstr(names[i]));
			json_object_set_new(o, "type", json_string(tn));
			json_object_set_new(o, "data", jstr(shown));
			json_object_set_new(o, "hex", json_string(hex));
			if (v.type == RP_REG_SZ || v.type == RP_REG_EXPAND_SZ) {
				char *s = rp_value_string(&v);
				json_object_set_new(o, "text", jstr(s ? s : ""));
				free(s);
			}
			json_array_append_new(jv, o);
			free(hex);
		} else {
			char *vn = rp_escape(*names[i] ? names[i] : "(default)");
			printf("    %-24s %-14s %s\n", vn, tn, shown);
			free(vn);
		}
		free(shown);
		rp_value_free(&v);
	}
	if (rc == 0) {
		if (a->json) {
			json_t *js = json_array();
			for (size_t i = 0; i < nsubs; i++)
				json_array_append_new(js, jstr(subs[i]));
			json_object_set_new(doc, "schema", json_string("rdprescue-reg/1"));
			json_object_set_new(doc, "action", json_string("get"));
			json_object_set_new(doc, "key", json_string(path));
			json_object_set_new(doc, "hive", json_string(w.root.hf->name));
			json_object_set_new(doc, "hive_path", jstr(w.root.hf->path));
			json_object_set_new(doc, "control_set", json_string(c->reg.ccs));
			json_object_set_new(doc, "values", jv);
			json_object_set_new(doc, "subkeys", js);
			jv = NULL;
			json_dumpf(doc, stdout, JSON_COMPACT);
			fputc('\n', stdout);
		} else {
			for (size_t i = 0; i < nsubs; i++) {
				char *s = rp_escape(subs[i]);
				printf("    [%s]\n", s);
				free(s);
			}
		}
		summary(a, c, NULL);
	}
	json_decref(jv);
	json_decref(doc);
out:
	free(path);
	rp_names_free(names, nnames);
	rp_names_free(subs, nsubs);
	where_free(&w);
	return rc;
}

/* Writes text as regedit does: UTF-16LE with a BOM, through a temporary file and a rename. */
static int write_reg_file(const char *file, const char *text)
{
	size_t len = 0;
	uint8_t *u16 = rp_utf8_to_utf16(text, &len);
	char *tmp = rp_xasprintf("%s.rdprescue-tmp", file);
	FILE *f = u16 ? fopen(tmp, "wb") : NULL;
	int ok = f && fwrite("\xff\xfe", 1, 2, f) == 2 && fwrite(u16, 1, len - 2, f) == len - 2;
	if (f && fclose(f) != 0)
		ok = 0;
	if (ok && rename(tmp, file) != 0)
		ok = 0;
	int e = errno;
	if (!ok)
		unlink(tmp);
	free(tmp);
	free(u16);
	if (!ok)
		return cli_fail(RP_EXIT_USAGE, "cannot write %s (%s); choose another FILE", file,
				strerror(e));
	return 0;
}

static int do_export(reg_ctx *c, const reg_args *a)
{
	rp_err err = {0};
	reg_where w;
	if (resolve(c, a->args[0], &w, &err) < 0)
		return cli_fail(err.exit_code, "%s", err.msg);
	char *text = NULL;
	int rc = 0;
	if (rp_regfile_export(w.root.hf->hive, w.key, w.root.full, &text, &err) < 0) {
		rc = cli_fail(err.exit_code, "%s", err.msg);
		goto out;
	}
	const char *file = a->nargs > 1 ? a->args[1] : NULL;
	if (file && write_reg_file(file, text) != 0) {
		rc = RP_EXIT_USAGE;
		goto out;
	}
	char *path = shown_path(&w, NULL);
	if (a->json) {
		json_t *doc = json_object();
		json_object_set_new(doc, "schema", json_string("rdprescue-reg/1"));
		json_object_set_new(doc, "action", json_string("export"));
		json_object_set_new(doc, "key", json_string(path));
		json_object_set_new(doc, "file", file ? jstr(file) : json_null());
		if (!file)
			json_object_set_new(doc, "reg", jstr(text));
		json_dumpf(doc, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(doc);
	} else if (file) {
		printf("%s exported to %s (UTF-16LE, Windows Registry Editor Version 5.00)\n", path,
		       file);
	} else {
		fputs(text, stdout);
	}
	free(path);
	/* The .reg text on stdout stays a .reg file: the summary goes to stderr. */
	reg_args b = *a;
	b.json |= !file;
	summary(&b, c, NULL);
out:
	free(text);
	where_free(&w);
	return rc;
}

static int confirm(const reg_args *a, size_t n)
{
	if (a->yes || a->dry_run)
		return 1;
	fprintf(stderr, "rdprescue: write %zu registry change%s to %s? [y/N] ", n,
		n == 1 ? "" : "s", a->target);
	char line[16];
	return fgets(line, sizeof line, stdin) && (line[0] == 'y' || line[0] == 'Y');
}

static int do_write(reg_ctx *c, const reg_args *a)
{
	rp_err err = {0};
	reg_plan p = {.ctx = c};
	char *about = rp_xasprintf("rdprescue reg %s", a->action);
	p.f = rp_finding_add(&c->scan, "reg", RP_PROBLEM, RP_INFO, about,
			     "registry changes asked for on the command line");
	free(about);
	int rc = 0;
	reg_where w = {0};
	if (!strcmp(a->action, "import")) {
		rc = plan_import(&p, a->args[0], &err);
	} else if (resolve(c, a->args[0], &w, &err) < 0) {
		rc = -1;
	} else if (!strcmp(a->action, "set")) {
		uint32_t type = 0;
		uint8_t *data = NULL;
		size_t len = 0;
		if (rp_value_parse(a->args[2], a->args[3], &type, &data, &len, &err) < 0) {
			where_free(&w);
			return cli_fail(err.exit_code, "%s", err.msg);
		}
		rc = plan_set(&p, &w, a->args[1], type, data, len, &err);
		free(data);
	} else {
		rc = plan_delete(&p, &w, a->nargs > 1 ? a->args[1] : NULL, 1, &err);
	}
	where_free(&w);
	if (rc < 0) {
		rc = cli_fail(err.exit_code, "%s", err.msg);
		goto out;
	}
	/* Weakening changes are marked on each change; reg applies them all (as regedit). */
	p.f->weakened = 0;
	if (!confirm(a, p.f->nchanges)) {
		rc =
		    cli_fail(RP_EXIT_USAGE, "nothing changed: reg %s was not confirmed", a->action);
		goto out;
	}
	rp_plan_opts po = {.target = a->target,
			   .install_index = a->install,
			   .backup_dir = a->backup_dir,
			   .dry_run = a->dry_run,
			   .allow_weaker = 1,
			   .kind = "reg"};
	rp_plan_result pr = {0};
	c->vol = NULL; /* plan/ closes the scan's volume */
	cli_status(!a->json, a->dry_run ? "building and verifying the new hives"
					: "writing the backup, then the registry");
	int planned = rp_plan_fix(&c->t, &c->scan, &po, &pr, &err);
	cli_status(!a->json, NULL);
	if (planned == 0 && !a->dry_run && pr.files_written)
		p.f->status = RP_FIXED;
	rp_report r = {.command = "reg",
		       .target = a->target,
		       .install = c->inst,
		       .install_arg = a->install,
		       .reg = &c->reg,
		       .scan = &c->scan,
		       .plan = &pr,
		       .dry_run = a->dry_run,
		       .allow_weaker = 1,
		       .exit_code = planned < 0 ? (err.exit_code ? err.exit_code : 4) : 0,
		       .error = planned < 0 ? err.msg : NULL,
		       .notes = p.notes,
		       .nnotes = p.nnotes};
	cli_reported();
	if (a->json) {
		rp_report_json(stdout, &r);
	} else {
		char *t = rp_escape(a->target);
		printf("rdprescue reg %s %s%s\n", a->action, t,
		       a->dry_run ? " (dry run: nothing written)" : "");
		for (size_t i = 0; i < p.f->nchanges; i++) {
			const rp_change *ch = &p.f->changes[i];
			printf("  %s%s\n", ch->what, ch->weakens ? "  (lowers RDP security)" : "");
		}
		for (size_t i = 0; i < p.nnotes; i++)
			printf("note: %s\n", p.notes[i]);
		for (size_t i = 0; i < pr.nnotes; i++) {
			char *n = rp_escape(pr.notes[i]);
			printf("note: %s\n", n);
			free(n);
		}
		if (planned == 0 && pr.files_written) {
			printf("%zu change%s written to %zu file%s and read back.\n", pr.changes,
			       pr.changes == 1 ? "" : "s", pr.files_written,
			       pr.files_written == 1 ? "" : "s");
			char *bv = rp_escape(pr.backup_volume ? pr.backup_volume : "");
			printf(
			    "backup: %s%s%s on the volume (undo with 'rdprescue undo %s --yes')\n",
			    pr.backup_host ? pr.backup_host : "", pr.backup_host ? " and " : "", bv,
			    t);
			free(bv);
		} else if (planned == 0 && a->dry_run) {
			printf("%zu change%s built and verified; nothing was written (dry run).\n",
			       pr.changes, pr.changes == 1 ? "" : "s");
		} else if (planned == 0) {
			printf("nothing to change.\n");
		}
		free(t);
	}
	fflush(stdout);
	if (planned < 0)
		fprintf(stderr, "rdprescue: %s\n", err.msg);
	rp_report_summary(a->json ? stderr : stdout, &r);
	rc = r.exit_code;
	rp_plan_result_free(&pr);
out:
	for (size_t i = 0; i < p.nnotes; i++)
		free(p.notes[i]);
	return rc;
}

static int parse(int argc, char **argv, reg_args *a)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"yes", no_argument, NULL, 'y'},
	    {"backup-dir", required_argument, NULL, 'b'},
	    {"install", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	memset(a, 0, sizeof *a);
	opterr = 0;
	optind = 0;
	int c;
	/* Options anywhere; "--" ends them (a DATA that starts with a dash goes after it). */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			a->json = 1;
			break;
		case 'n':
			a->dry_run = 1;
			break;
		case 'y':
			a->yes = 1;
			break;
		case 'b':
			a->backup_dir = optarg;
			break;
		case 'i':
			if (cli_install_index(optarg, &a->install))
				return RP_EXIT_USAGE;
			break;
		case 'h':
			return -1;
		default:
			return cli_fail(RP_EXIT_USAGE, "unknown option '%s'; " REG_USAGE,
					argv[optind - 1]);
		}
	}
	if (argc - optind < 3)
		return cli_fail(RP_EXIT_USAGE,
				"reg needs TARGET, an action (get, set, delete, export, import) "
				"and a KEY or FILE; " REG_USAGE);
	a->target = argv[optind];
	a->action = argv[optind + 1];
	a->args = argv + optind + 2;
	a->nargs = argc - optind - 2;
	static const struct {
		const char *name;
		int min, max, writes;
	} acts[] = {{"get", 1, 2, 0},
		    {"export", 1, 2, 0},
		    {"set", 4, 4, 1},
		    {"delete", 1, 2, 1},
		    {"import", 1, 1, 1}};
	int found = -1;
	for (size_t i = 0; i < sizeof acts / sizeof *acts; i++)
		if (!strcmp(a->action, acts[i].name))
			found = (int)i;
	if (found < 0)
		return cli_fail(
		    RP_EXIT_USAGE,
		    "reg takes get, set, delete, export or import, not '%s'; " REG_USAGE,
		    a->action);
	if (a->nargs < acts[found].min || a->nargs > acts[found].max)
		return cli_fail(RP_EXIT_USAGE, "reg %s takes %s; " REG_USAGE, a->action,
				found == 0   ? "KEY [VALUE]"
				: found == 1 ? "KEY [FILE.reg]"
				: found == 2 ? "KEY VALUE TYPE DATA"
				: found == 3 ? "KEY [VALUE]"
					     : "FILE.reg");
	if (!acts[found].writes && (a->dry_run || a->yes || a->backup_dir))
		return cli_fail(RP_EXIT_USAGE,
				"reg %s only reads; --dry-run, --yes and --backup-dir belong to "
				"set, delete and import",
				a->action);
	if (acts[found].writes && !a->yes && !a->dry_run && !isatty(STDIN_FILENO))
		return cli_fail(RP_EXIT_USAGE,
				"reg %s changes the disk; add --yes to confirm (or --dry-run to "
				"see the changes)",
				a->action);
	if (acts[found].writes && cli_backup_dir_ok(a->backup_dir, !a->dry_run))
		return RP_EXIT_USAGE;
	return 0;
}

int cmd_reg(int argc, char **argv)
{
	reg_args a;
	int prc = parse(argc, argv, &a);
	if (prc < 0)
		return cli_help("reg", stdout);
	if (prc > 0)
		return prc;
	int writes = strcmp(a.action, "get") && strcmp(a.action, "export");
	reg_ctx c;
	memset(&c, 0, sizeof c);
	rp_err err = {0};
	int rc;
	if (open_registry(&c, &a, writes && !a.dry_run, &err) < 0)
		rc = cli_fail(err.exit_code, "%s", err.msg);
	else if (!strcmp(a.action, "get"))
		rc = do_get(&c, &a);
	else if (!strcmp(a.action, "export"))
		rc = do_export(&c, &a);
	else
		rc = do_write(&c, &a);
	ctx_free(&c);
	return rc;
}
