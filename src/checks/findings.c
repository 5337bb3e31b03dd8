/* findings.c — building findings, evidence and planned changes (see checks.h). */
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

static rp_evidence *new_evidence(rp_finding *f)
{
	f->evidence = rp_xrealloc(f->evidence, (f->nevidence + 1) * sizeof *f->evidence);
	rp_evidence *e = &f->evidence[f->nevidence++];
	memset(e, 0, sizeof *e);
	return e;
}

rp_evidence *rp_evidence_value(rp_finding *f, rp_hive_file *hf, const char *key, const char *value,
			       const char *source)
{
	rp_evidence *e = new_evidence(f);
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
	rp_evidence *e = new_evidence(f);
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

/* What one .pol file does to Software\<policy_key>\name at the refresh. */
static rp_pol_action pol_action(const rp_pol_file *pf, const char *key, const char *name,
				const rp_pol_entry **entry)
{
	*entry = NULL;
	if (!pf->parsed)
		return RP_POL_NONE;
	if (rp_pol_deletes(&pf->pol, key, name))
		return RP_POL_DELETES;
	*entry = rp_pol_find(&pf->pol, key, name);
	return *entry ? RP_POL_SETS : RP_POL_NONE;
}

static void read_pol_copy(const rp_pol_file *pf, const char *key, const char *name, rp_pol_copy *c)
{
	const rp_pol_entry *e;
	rp_pol_action a = pol_action(pf, key, name, &e);
	if (a == RP_POL_NONE)
		return;
	memset(c, 0, sizeof *c);
	c->action = a;
	c->path = pf->path;
	c->key = e ? e->key : NULL;
	if (e && (e->type == RP_REG_DWORD || e->type == RP_REG_DWORD_BE) && e->len == 4) {
		c->is_dword = 1;
		c->value = e->type == RP_REG_DWORD ? rp_le32(e->data) : rp_be32(e->data);
	}
}

void rp_effective_dword(rp_registry *reg, const char *local_key, const char *policy_key,
			const char *value, rp_effective *out)
{
	memset(out, 0, sizeof *out);
	out->policy_key = policy_key;
	out->name = value;
	if (local_key) {
		snprintf(out->local_key, sizeof out->local_key, "%s\\%s", reg->ccs, local_key);
		out->local_is_dword = rp_read_dword(&reg->system, out->local_key, value,
						    &out->local, &out->local_present);
	}
	out->policy_is_dword =
	    rp_read_dword(&reg->software, policy_key, value, &out->policy, &out->policy_present);

	char *pol_key = rp_xasprintf("Software\\%s", policy_key);
	if (reg->local_pol)
		read_pol_copy(reg->local_pol, pol_key, value, &out->regpol);
	for (size_t i = 0; i < reg->ngpos; i++)
		read_pol_copy(&reg->gpos[i], pol_key, value, &out->domain);
	free(pol_key);

	/* The policy copy after the refresh: the domain's entries are applied after the local
	 * file's, so they win. */
	const rp_pol_copy *pol = out->domain.action != RP_POL_NONE   ? &out->domain
				 : out->regpol.action != RP_POL_NONE ? &out->regpol
								     : NULL;
	out->policy_removed = pol && pol->action == RP_POL_DELETES;
	if (pol && pol->action == RP_POL_SETS) {
		out->present = 1;
		out->value = pol->value;
		out->is_dword = pol->is_dword;
		out->source = pol == &out->domain ? RP_SRC_DOMAIN : RP_SRC_REGPOL;
		out->path = pol->path;
	} else if (out->policy_present && !out->policy_removed) {
		out->present = 1;
		out->value = out->policy;
		out->is_dword = out->policy_is_dword;
		out->source = RP_SRC_POLICY;
	} else if (out->local_present) {
		out->present = 1;
		out->value = out->local;
		out->is_dword = out->local_is_dword;
		out->source = RP_SRC_LOCAL;
	}
}

static const char *effective_note(const char *source, int policy_removed)
{
	if (strcmp(source, RP_SRC_LOCAL) == 0)
		return policy_removed ? "effective (a Registry.pol entry removes the policy copy "
					"at the next refresh)"
				      : "effective (no policy sets it)";
	if (strcmp(source, RP_SRC_POLICY) == 0)
		return "effective (policy beats local)";
	if (strcmp(source, RP_SRC_REGPOL) == 0)
		return "effective (written into SOFTWARE\\Policies at every policy refresh)";
	return "effective (domain GPO, re-applied at every policy refresh)";
}

static void pol_evidence(rp_finding *f, const rp_effective *eff, const rp_pol_file *pf,
			 const char *source)
{
	char *key = rp_xasprintf("Software\\%s", eff->policy_key);
	const rp_pol_entry *entry;
	rp_pol_action a = pol_action(pf, key, eff->name, &entry);
	if (a != RP_POL_NONE) {
		rp_evidence *e = new_evidence(f);
		e->key = rp_xstrdup(entry ? entry->key : key);
		e->value = rp_xstrdup(entry ? entry->value : eff->name);
		e->source = rp_xstrdup(source);
		e->path = rp_xstrdup(pf->path);
		if (entry) {
			e->present = 1;
			e->type = entry->type;
			e->len = entry->len;
			e->data = rp_xmalloc(entry->len ? entry->len : 1);
			memcpy(e->data, entry->data, entry->len);
		}
		int decides = eff->path && strcmp(eff->path, pf->path) == 0;
		if (decides)
			e->note = rp_xstrdup(effective_note(source, 0));
		else if (a == RP_POL_DELETES)
			e->note = rp_xstrdup("removes the policy copy at the next refresh");
	}
	free(key);
}

void rp_evidence_effective(rp_finding *f, rp_registry *reg, const rp_effective *eff)
{
	if (eff->local_key[0]) {
		rp_evidence *local =
		    rp_evidence_value(f, &reg->system, eff->local_key, eff->name, RP_SRC_LOCAL);
		if (eff->source && strcmp(eff->source, RP_SRC_LOCAL) == 0)
			local->note = rp_xstrdup(effective_note(RP_SRC_LOCAL, eff->policy_removed));
	}
	rp_evidence *policy =
	    rp_evidence_value(f, &reg->software, eff->policy_key, eff->name, RP_SRC_POLICY);
	if (eff->source && strcmp(eff->source, RP_SRC_POLICY) == 0)
		policy->note = rp_xstrdup(effective_note(RP_SRC_POLICY, 0));
	else if (policy->present && eff->policy_removed)
		policy->note = rp_xstrdup("removed at the next policy refresh");
	if (reg->local_pol)
		pol_evidence(f, eff, reg->local_pol, RP_SRC_REGPOL);
	for (size_t i = 0; i < reg->ngpos; i++)
		pol_evidence(f, eff, &reg->gpos[i], RP_SRC_DOMAIN);
}

char *rp_effective_origin(const rp_effective *eff)
{
	if (!eff->source || strcmp(eff->source, RP_SRC_LOCAL) == 0)
		return rp_xstrdup("the local setting");
	if (strcmp(eff->source, RP_SRC_POLICY) == 0)
		return rp_xasprintf("Group Policy (SOFTWARE\\%s)", eff->policy_key);
	if (strcmp(eff->source, RP_SRC_REGPOL) == 0)
		return rp_xasprintf("the local Group Policy file %s", eff->path);
	return rp_xasprintf("a domain GPO (cached in %s)", eff->path);
}

char *rp_effective_explain(const rp_effective *eff, const char *base)
{
	if (!eff->source)
		return rp_xstrdup(base);
	if (strcmp(eff->source, RP_SRC_REGPOL) == 0)
		return rp_xasprintf(
		    "%s The value comes from the local Group Policy file %s, which writes it into "
		    "SOFTWARE\\Policies again at every policy refresh: the fix sets the entry in "
		    "that file as well as the policy copy.",
		    base, eff->path);
	if (strcmp(eff->source, RP_SRC_DOMAIN) == 0)
		return rp_xasprintf(
		    "%s The value comes from a domain GPO (cached in %s). The domain re-applies it "
		    "at every policy refresh, so it cannot be fixed offline: the fix makes the "
		    "local copies healthy, so the machine accepts connections after boot until it "
		    "next gets policy from a domain controller (at boot, when one is reachable). "
		    "To keep it working, change the setting in that GPO in the domain (Group "
		    "Policy Management), or move the computer to an OU the GPO does not apply to.",
		    base, eff->path);
	if (eff->policy_removed)
		return rp_xasprintf(
		    "%s A Registry.pol entry removes the SOFTWARE\\Policies copy at "
		    "the next policy refresh, so the local value decides; the fix "
		    "removes the stale policy copy now.",
		    base);
	return rp_xstrdup(base);
}

static int holds(int present, int is_dword, uint32_t v, uint32_t want)
{
	return present && is_dword && v == want;
}

void rp_plan_copy(rp_finding *f, const rp_effective *eff, const char *source, uint32_t want,
		  unsigned flags)
{
	int weakens = (flags & RP_PLAN_WEAKENS) != 0;
	char buf[16];
	if (strcmp(source, RP_SRC_REGPOL) == 0) {
		const char *was =
		    rp_dword_shown(1, eff->regpol.is_dword, eff->regpol.value, buf, sizeof buf);
		char *what = rp_xasprintf("set %s\\%s in %s to %u (was %s)", eff->regpol.key,
					  eff->name, eff->regpol.path, want, was);
		rp_change_pol_dword(f, eff->regpol.path, eff->regpol.key, eff->name, want, weakens,
				    what);
		free(what);
	} else if (strcmp(source, RP_SRC_POLICY) == 0) {
		const char *was = rp_dword_shown(eff->policy_present, eff->policy_is_dword,
						 eff->policy, buf, sizeof buf);
		rp_change_dword_was(f, "SOFTWARE", eff->policy_key, eff->name, want, was, weakens);
	} else {
		const char *was = rp_dword_shown(eff->local_present, eff->local_is_dword,
						 eff->local, buf, sizeof buf);
		rp_change_dword_was(f, "SYSTEM", eff->local_key, eff->name, want, was, weakens);
	}
}

int rp_plan_effective(rp_finding *f, const rp_effective *eff, uint32_t want, unsigned flags)
{
	if (eff->regpol.action == RP_POL_SETS &&
	    !holds(1, eff->regpol.is_dword, eff->regpol.value, want))
		rp_plan_copy(f, eff, RP_SRC_REGPOL, want, flags);
	if (eff->policy_present && !holds(1, eff->policy_is_dword, eff->policy, want)) {
		if (eff->policy_removed) {
			char buf[16];
			char *what = rp_xasprintf(
			    "delete SOFTWARE\\%s\\%s (was %s; Registry.pol removes it at the next "
			    "refresh)",
			    eff->policy_key, eff->name,
			    rp_dword_shown(1, eff->policy_is_dword, eff->policy, buf, sizeof buf));
			rp_change_delete_value(f, "SOFTWARE", eff->policy_key, eff->name, what);
			free(what);
		} else {
			rp_plan_copy(f, eff, RP_SRC_POLICY, want, flags);
		}
	}
	/* Below a domain GPO that sets the value, the copy that decides until the next refresh
	 * from a domain controller. */
	int local_decides;
	if (eff->domain.action == RP_POL_SETS)
		local_decides = eff->regpol.action != RP_POL_SETS &&
				(eff->regpol.action == RP_POL_DELETES || !eff->policy_present);
	else
		local_decides = !eff->source || strcmp(eff->source, RP_SRC_LOCAL) == 0;
	if (eff->local_key[0] && (local_decides || (flags & RP_PLAN_LOCAL)) &&
	    !holds(eff->local_present, eff->local_is_dword, eff->local, want))
		rp_plan_copy(f, eff, RP_SRC_LOCAL, want, flags);
	return eff->domain.action != RP_POL_SETS ||
	       holds(1, eff->domain.is_dword, eff->domain.value, want);
}

void rp_report_bad_pols(rp_scan *scan, const char *check)
{
	rp_registry *reg = scan->reg;
	size_t n = reg->ngpos + (reg->local_pol ? 1 : 0);
	for (size_t i = 0; i < n; i++) {
		const rp_pol_file *pf =
		    reg->local_pol ? (i == 0 ? reg->local_pol : &reg->gpos[i - 1]) : &reg->gpos[i];
		if (pf->parsed)
			continue;
		char *sum =
		    rp_xasprintf("Group Policy file %s cannot be read: %s", pf->path, pf->error);
		int known = 0;
		for (size_t j = 0; j < scan->nfindings; j++)
			known |= strcmp(scan->findings[j].summary, sum) == 0;
		if (!known) {
			rp_finding *f = rp_finding_add(scan, check, RP_PROBLEM, RP_WARNING, sum,
						       "Windows cannot apply the policy in this "
						       "file either (event 1096 in the "
						       "System log) and keeps the values it wrote "
						       "before. rdprescue ignores the "
						       "file when it judges settings and never "
						       "writes it. On a running Windows, "
						       "rename it and run 'gpupdate /force' so "
						       "that local policy is rebuilt, or "
						       "restore it from a backup.");
			rp_evidence *e = new_evidence(f);
			e->path = rp_xstrdup(pf->path);
			e->source =
			    rp_xstrdup(pf == reg->local_pol ? RP_SRC_REGPOL : RP_SRC_DOMAIN);
		}
		free(sum);
	}
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
	}
	free(scan->findings);
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
