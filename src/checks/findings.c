/* findings.c — building findings, evidence and planned changes (see checks.h); where a
 * policy-capable value comes from and planning its repair: effective.c. */
#include "checks/checks.h"
#include "reg/sam.h"
#include "util/bytes.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s)
{
	return s ? rp_xstrdup(s) : NULL;
}

rp_finding *rp_finding_add(rp_scan *scan, const char *check, rp_status status, rp_severity sev,
			   const char *summary, const char *explain)
{
	scan->findings =
	    rp_xrealloc(scan->findings, (scan->nfindings + 1) * sizeof *scan->findings);
	rp_finding *f = &scan->findings[scan->nfindings++];
	memset(f, 0, sizeof *f);
	f->check = check;
	f->status = status;
	f->severity = sev;
	f->summary = rp_xstrdup(summary);
	f->explain = dup_or_null(explain);
	return f;
}

rp_evidence *rp_evidence_new(rp_finding *f)
{
	f->evidence = rp_xrealloc(f->evidence, (f->nevidence + 1) * sizeof *f->evidence);
	rp_evidence *e = &f->evidence[f->nevidence++];
	memset(e, 0, sizeof *e);
	return e;
}

rp_evidence *rp_evidence_value(rp_finding *f, rp_hive_file *hf, const char *key, const char *value,
			       const char *source)
{
	rp_evidence *e = rp_evidence_new(f);
	e->hive = rp_xstrdup(hf->name);
	e->key = rp_xstrdup(key);
	e->value = rp_xstrdup(value);
	e->source = rp_xstrdup(source);
	rp_value v = {0};
	if (rp_hive_get(hf->hive, key, value, &v, NULL) == 1) {
		e->present = 1;
		e->type = v.type;
		e->data = v.data;
		e->len = v.len;
	}
	return e;
}

rp_evidence *rp_evidence_copy(rp_finding *f, const rp_evidence *src)
{
	rp_evidence *e = rp_evidence_new(f);
	e->hive = dup_or_null(src->hive);
	e->key = dup_or_null(src->key);
	e->value = dup_or_null(src->value);
	e->present = src->present;
	e->type = src->type;
	if (src->len) {
		e->data = rp_xmalloc(src->len);
		memcpy(e->data, src->data, src->len);
	}
	e->len = src->len;
	e->source = dup_or_null(src->source);
	e->path = dup_or_null(src->path);
	e->note = dup_or_null(src->note);
	return e;
}

static rp_change *new_change(rp_finding *f, rp_change_kind kind, const char *hive, const char *key,
			     const char *value, const char *what)
{
	f->changes = rp_xrealloc(f->changes, (f->nchanges + 1) * sizeof *f->changes);
	rp_change *c = &f->changes[f->nchanges++];
	memset(c, 0, sizeof *c);
	c->kind = kind;
	c->hive = dup_or_null(hive);
	c->key = dup_or_null(key);
	c->value = dup_or_null(value);
	c->what = rp_xstrdup(what);
	return c;
}

static void set_dword(rp_finding *f, rp_change *c, uint32_t data, int weakens)
{
	c->type = RP_REG_DWORD;
	c->len = 4;
	c->data = rp_xmalloc(4);
	for (int i = 0; i < 4; i++)
		c->data[i] = (uint8_t)(data >> (8 * i));
	c->weakens = weakens;
	if (weakens)
		f->weakened = 1;
}

rp_change *rp_change_dword(rp_finding *f, const char *hive, const char *key, const char *value,
			   uint32_t data, int weakens, const char *what)
{
	rp_change *c = new_change(f, RP_CHANGE_REG_SET, hive, key, value, what);
	set_dword(f, c, data, weakens);
	return c;
}

rp_change *rp_change_raw(rp_finding *f, const char *hive, const char *key, const char *value,
			 uint32_t type, const uint8_t *data, size_t len, int weakens,
			 const char *what)
{
	rp_change *c = new_change(f, RP_CHANGE_REG_SET, hive, key, value, what);
	c->type = type;
	c->data = rp_xmalloc(len ? len : 1);
	if (len)
		memcpy(c->data, data, len);
	c->len = len;
	c->weakens = weakens;
	if (weakens)
		f->weakened = 1;
	return c;
}

rp_change *rp_change_sz(rp_finding *f, const char *hive, const char *key, const char *value,
			const char *text, int weakens, const char *what)
{
	size_t len = 0;
	uint8_t *u16 = rp_utf8_to_utf16(text, &len);
	rp_change *c = rp_change_raw(f, hive, key, value, RP_REG_SZ, u16, len, weakens, what);
	free(u16);
	return c;
}

rp_change *rp_change_dword_was(rp_finding *f, const char *hive, const char *key, const char *value,
			       uint32_t want, const char *was, int weakens)
{
	char *what = rp_xasprintf("set %s\\%s\\%s to %u (was %s)", hive, key, value, want, was);
	rp_change *c = rp_change_dword(f, hive, key, value, want, weakens, what);
	free(what);
	return c;
}

rp_change *rp_change_delete_value(rp_finding *f, const char *hive, const char *key,
				  const char *value, const char *what)
{
	return new_change(f, RP_CHANGE_REG_DELETE_VALUE, hive, key, value, what);
}

rp_change *rp_change_delete_key(rp_finding *f, const char *hive, const char *key, const char *what)
{
	return new_change(f, RP_CHANGE_REG_DELETE_KEY, hive, key, NULL, what);
}

rp_change *rp_change_create_key(rp_finding *f, const char *hive, const char *key, const char *what)
{
	return new_change(f, RP_CHANGE_REG_CREATE_KEY, hive, key, NULL, what);
}

rp_change *rp_change_pol_dword(rp_finding *f, const char *path, const char *key, const char *value,
			       uint32_t data, int weakens, const char *what)
{
	rp_change *c = new_change(f, RP_CHANGE_POL_SET, NULL, key, value, what);
	c->path = rp_xstrdup(path);
	set_dword(f, c, data, weakens);
	return c;
}

rp_change *rp_change_pol_delete(rp_finding *f, const char *path, const char *key, const char *value,
				const char *what)
{
	rp_change *c = new_change(f, RP_CHANGE_POL_DELETE, NULL, key, value, what);
	c->path = rp_xstrdup(path);
	return c;
}

rp_change *rp_change_file_sd(rp_finding *f, const char *path, const uint8_t *sd, size_t len,
			     const char *what)
{
	rp_change *c = new_change(f, RP_CHANGE_FILE_SD, NULL, NULL, NULL, what);
	c->path = rp_xstrdup(path);
	c->data = rp_xmalloc(len ? len : 1);
	memcpy(c->data, sd, len);
	c->len = len;
	return c;
}

rp_change *rp_change_quarantine(rp_finding *f, const char *path, const char *what)
{
	rp_change *c = new_change(f, RP_CHANGE_QUARANTINE, NULL, NULL, NULL, what);
	c->path = rp_xstrdup(path);
	return c;
}

int rp_read_dword(rp_hive_file *hf, const char *key, const char *value, uint32_t *out, int *present)
{
	rp_value v = {0};
	int found = rp_hive_get(hf->hive, key, value, &v, NULL) == 1;
	if (present)
		*present = found;
	int ok = found && rp_value_dword(&v, out) == 0;
	rp_value_free(&v);
	return ok;
}

void rp_evidence_free(rp_evidence *e)
{
	free(e->hive);
	free(e->key);
	free(e->value);
	free(e->data);
	free(e->source);
	free(e->path);
	free(e->note);
}

void rp_scan_free(rp_scan *scan)
{
	for (size_t i = 0; i < scan->nfindings; i++) {
		rp_finding *f = &scan->findings[i];
		free(f->summary);
		free(f->explain);
		for (size_t j = 0; j < f->nevidence; j++)
			rp_evidence_free(&f->evidence[j]);
		free(f->evidence);
		for (size_t j = 0; j < f->nchanges; j++) {
			rp_change *c = &f->changes[j];
			free(c->hive);
			free(c->path);
			free(c->key);
			free(c->value);
			free(c->data);
			free(c->what);
		}
		free(f->changes);
		for (size_t j = 0; j < f->ncites; j++) {
			free(f->cites[j].event);
			free(f->cites[j].text);
		}
		free(f->cites);
	}
	free(scan->findings);
	rp_bcd_free(&scan->bcd);
	scan->bcd_loaded = 0;
	scan->findings = NULL;
	scan->nfindings = 0;
}

const char *rp_dword_shown(int present, int is_dword, uint32_t v, char *buf, size_t n)
{
	if (!present)
		return "absent";
	if (!is_dword)
		return "not a REG_DWORD";
	snprintf(buf, n, "%u", v);
	return buf;
}

void rp_expect_dwords(rp_scan *scan, const char *check, const char *key, const rp_expected *list,
		      size_t n)
{
	rp_hive_file *system = &scan->reg->system;
	for (size_t i = 0; i < n; i++) {
		uint32_t v = 0;
		int present = 0;
		int is_dword = rp_read_dword(system, key, list[i].value, &v, &present);
		if (!present || (is_dword && v == list[i].want))
			continue;
		char buf[16];
		const char *was = rp_dword_shown(present, is_dword, v, buf, sizeof buf);
		char *sum =
		    rp_xasprintf("%s is %s (healthy: %u)", list[i].value, was, list[i].want);
		char *explain =
		    rp_xasprintf("%s. The fix sets it to %u.", list[i].why, list[i].want);
		rp_finding *f = rp_finding_add(scan, check, RP_PROBLEM, RP_ERROR, sum, explain);
		rp_evidence_value(f, system, key, list[i].value, RP_SRC_LOCAL);
		rp_change_dword_was(f, "SYSTEM", key, list[i].value, list[i].want, was, 0);
		free(sum);
		free(explain);
	}
}

int rp_read_gpttmpl(rp_scan *scan, uint8_t **data, size_t *len, rp_err *err)
{
	rp_stat st;
	*data = NULL;
	*len = 0;
	if (rp_vol_stat(scan->vol, RP_GPTTMPL, &st, err) < 0)
		return -1;
	if (!st.exists || st.is_dir || st.is_reparse || st.size > (1u << 20))
		return 0;
	return rp_vol_read(scan->vol, RP_GPTTMPL, data, len, err) < 0 ? -1 : 1;
}

int rp_gpttmpl_dword(const uint8_t *inf, size_t len, const char *key, const char *value,
		     uint32_t *out)
{
	char *name = rp_xasprintf("MACHINE\\System\\CurrentControlSet\\%s\\%s", key, value);
	char *v = NULL;
	int found = rp_secedit_value(inf, len, "Registry Values", name, &v);
	free(name);
	int rc = 0;
	if (found && v[0] == '4' && v[1] == ',') {
		char *end = NULL;
		unsigned long n = strtoul(v + 2, &end, 10);
		if (end != v + 2 && !*end && n <= 0xFFFFFFFFul) {
			*out = (uint32_t)n;
			rc = 1;
		}
	}
	free(v);
	return rc;
}

char *rp_target_shown(const rp_scan *scan)
{
	return rp_escape(scan->target ? scan->target : "/dev/sdX");
}

int rp_expect_service_type(rp_scan *scan, const char *check, const char *key, const char *service,
			   uint32_t want, const char *why)
{
	rp_hive_file *system = &scan->reg->system;
	uint32_t type = 0;
	int present = 0;
	int is_dword = rp_read_dword(system, key, "Type", &type, &present);
	if (is_dword && (type == 0x10 || type == 0x20))
		return 1;
	char buf[16];
	const char *was = rp_dword_shown(present, is_dword, type, buf, sizeof buf);
	char *sum = rp_xasprintf("%s's Type is %s, not a Win32 service process", service, was);
	char *explain = rp_xasprintf(
	    "The service control manager starts %s only as a Win32 service (Type 16, own "
	    "process, or 32, shared svchost process); %s",
	    service, why);
	rp_finding *f = rp_finding_add(scan, check, RP_PROBLEM, RP_ERROR, sum, explain);
	rp_evidence_value(f, system, key, "Type", RP_SRC_LOCAL);
	rp_change_dword_was(f, "SYSTEM", key, "Type", want, was, 0);
	free(explain);
	free(sum);
	return 0;
}

int rp_expect_service_account(rp_scan *scan, const char *check, const char *key,
			      const char *service, const char *account, const char *alias,
			      const char *explain)
{
	rp_hive_file *system = &scan->reg->system;
	char *found = rp_hive_get_string(system->hive, key, "ObjectName");
	if (found && (rp_strcasecmp(found, account) == 0 || rp_strcasecmp(found, alias) == 0)) {
		free(found);
		return 1;
	}
	char *shown = found ? rp_escape(found) : rp_xstrdup("absent");
	char *sum = rp_xasprintf("%s runs as %s, not %s", service, shown, account);
	rp_finding *f = rp_finding_add(scan, check, RP_PROBLEM, RP_ERROR, sum, explain);
	rp_evidence_value(f, system, key, "ObjectName", RP_SRC_LOCAL);
	char *what =
	    rp_xasprintf("set SYSTEM\\%s\\ObjectName to \"%s\" (was %s)", key, account, shown);
	rp_change_sz(f, "SYSTEM", key, "ObjectName", account, 0, what);
	free(what);
	free(sum);
	free(shown);
	free(found);
	return 0;
}
