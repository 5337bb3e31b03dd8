/*
 * logon_rdp.c — logon.rdp: once the connection is up, may anybody log on over RDP?
 *
 * Windows lets an account log on through Remote Desktop Services when its token holds a SID
 * with SeRemoteInteractiveLogonRight and none with SeDenyRemoteInteractiveLogonRight, and the
 * account is neither disabled nor locked out.  By default the right is held by Administrators
 * and Remote Desktop Users (reachability.md).  What is read:
 *  - SAM: the members of Administrators (alias 0x220), Users (0x221) and Remote Desktop Users
 *    (0x22B) (value C), each local account's flags (Users\<RID>\F) and name (V);
 *  - SECURITY: Policy\Accounts\<SID>\ActSysAc, the logon rights LSA holds;
 *  - the local security policy's GptTmpl.inf ([Privilege Rights]): when it lists a right, the
 *    next policy refresh (at boot) replaces LSA's list for that right with it, so it decides.
 * Domain accounts and domain GPOs are not known offline: their SIDs are shown as SIDs.
 * Report only, except that fix --grant-rdp-logon ACCOUNT adds a local account to Remote
 * Desktop Users (alias C and the membership map under Aliases\Members, as Windows keeps them;
 * the SAM goes through the plan with backup and undo like any hive).  Never a password.
 */
#include "checks/checks.h"
#include "reg/sam.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK rp_id_logon_rdp
#define SAM_ACCOUNT "SAM\\Domains\\Account"
#define SAM_USERS SAM_ACCOUNT "\\Users"
#define SAM_ALIASES "SAM\\Domains\\Builtin\\Aliases"
#define SAM_MEMBERS SAM_ALIASES "\\Members"
#define POL_ACCOUNTS "Policy\\Accounts"
#define GPTTMPL RP_GPTTMPL
#define RIGHT_ALLOW "SeRemoteInteractiveLogonRight"
#define RIGHT_DENY "SeDenyRemoteInteractiveLogonRight"
#define MAX_TOKEN 12

typedef struct user {
	uint32_t rid;
	char *name; /* NULL when V cannot be read */
	rp_sam_user_f f;
	int f_ok;
} user;

typedef struct rights {
	rp_sid *sids;
	size_t n;
	char **unresolved; /* GptTmpl entries naming nobody this machine knows */
	size_t nunresolved;
	int from_policy; /* GptTmpl.inf lists the right */
} rights;

typedef struct ctx {
	rp_scan *scan;
	rp_hive_file *sam, *security;
	rp_sid domain;
	int have_domain;
	user *users;
	size_t nusers;
	rp_sam_alias alias[3]; /* Administrators, Users, Remote Desktop Users */
	int have_alias[3];
	rights allow, deny;
	int rights_known; /* SECURITY loaded or GptTmpl lists both rights */
	uint8_t *inf;
	size_t inf_len;
} ctx;

enum { A_ADMINS, A_USERS, A_RDU };
static const uint32_t alias_rid[3] = {RP_RID_ADMINISTRATORS, 0x221, RP_RID_REMOTE_DESKTOP_USERS};

static void builtin_sid(uint32_t rid, rp_sid *sid)
{
	rp_sid_parse_text("S-1-5-32-0", sid);
	sid->sub[1] = rid;
}

static void local_sid(const ctx *c, uint32_t rid, rp_sid *sid)
{
	*sid = c->domain;
	if (sid->count < 15)
		sid->sub[sid->count++] = rid;
}

static int is_local(const ctx *c, const rp_sid *sid, uint32_t *rid)
{
	if (!c->have_domain || sid->count != c->domain.count + 1)
		return 0;
	rp_sid d = *sid;
	d.count--;
	if (!rp_sid_equal(&d, &c->domain))
		return 0;
	*rid = sid->sub[sid->count - 1];
	return 1;
}

static user *find_user(ctx *c, uint32_t rid)
{
	for (size_t i = 0; i < c->nusers; i++)
		if (c->users[i].rid == rid)
			return &c->users[i];
	return NULL;
}

/* "Preston", "BUILTIN\Administrators" or the SID (malloc'd, escaped). */
static char *sid_name(ctx *c, const rp_sid *sid)
{
	uint32_t rid;
	if (is_local(c, sid, &rid)) {
		user *u = find_user(c, rid);
		if (u && u->name)
			return rp_escape(u->name);
	}
	const char *wk = rp_sid_well_known_name(sid);
	return wk ? rp_xstrdup(wk) : rp_sid_to_text(sid);
}

static int sid_in(const rp_sid *list, size_t n, const rp_sid *sid)
{
	for (size_t i = 0; i < n; i++)
		if (rp_sid_equal(&list[i], sid))
			return 1;
	return 0;
}

static void rights_add(rights *r, const rp_sid *sid)
{
	if (sid_in(r->sids, r->n, sid))
		return;
	r->sids = rp_xrealloc(r->sids, (r->n + 1) * sizeof *r->sids);
	r->sids[r->n++] = *sid;
}

static void rights_free(rights *r)
{
	free(r->sids);
	rp_names_free(r->unresolved, r->nunresolved);
	memset(r, 0, sizeof *r);
}

static int alias_has(const ctx *c, int a, const rp_sid *sid)
{
	return c->have_alias[a] && sid_in(c->alias[a].members, c->alias[a].nmembers, sid);
}

/* ---- reading ---- */

static void read_users(ctx *c)
{
	char **keys = NULL;
	size_t n = 0;
	if (rp_hive_subkeys(c->sam->hive, SAM_USERS, &keys, &n, NULL) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		char *end = NULL;
		unsigned long rid = strtoul(keys[i], &end, 16);
		if (strlen(keys[i]) != 8 || *end)
			continue; /* "Names" */
		char *key = rp_xasprintf("%s\\%s", SAM_USERS, keys[i]);
		user u = {.rid = (uint32_t)rid};
		rp_value v = {0};
		if (rp_hive_get(c->sam->hive, key, "F", &v, NULL) == 1)
			u.f_ok = rp_sam_user_f_parse(v.data, v.len, &u.f, NULL) == 0;
		rp_value_free(&v);
		if (rp_hive_get(c->sam->hive, key, "V", &v, NULL) == 1)
			rp_sam_user_v_name(v.data, v.len, &u.name, NULL);
		rp_value_free(&v);
		free(key);
		c->users = rp_xrealloc(c->users, (c->nusers + 1) * sizeof *c->users);
		c->users[c->nusers++] = u;
	}
	rp_names_free(keys, n);
}

static void read_sam(ctx *c)
{
	rp_value v = {0};
	if (rp_hive_get(c->sam->hive, SAM_ACCOUNT, "V", &v, NULL) == 1)
		c->have_domain = rp_sam_domain_sid(v.data, v.len, &c->domain, NULL) == 0;
	rp_value_free(&v);
	read_users(c);
	for (int a = 0; a < 3; a++) {
		char *key = rp_xasprintf("%s\\%08X", SAM_ALIASES, alias_rid[a]);
		if (rp_hive_get(c->sam->hive, key, "C", &v, NULL) == 1)
			c->have_alias[a] =
			    rp_sam_alias_parse(v.data, v.len, &c->alias[a], NULL) == 0;
		rp_value_free(&v);
		free(key);
	}
}

/* LSA's copy: every Policy\Accounts\<SID> whose ActSysAc has the allow / deny bit. */
static void read_security(ctx *c)
{
	char **keys = NULL;
	size_t n = 0;
	if (!c->security || rp_hive_subkeys(c->security->hive, POL_ACCOUNTS, &keys, &n, NULL) < 0)
		return;
	c->rights_known = 1;
	for (size_t i = 0; i < n; i++) {
		rp_sid sid;
		if (rp_sid_parse_text(keys[i], &sid) < 0)
			continue;
		char *key = rp_xasprintf("%s\\%s\\ActSysAc", POL_ACCOUNTS, keys[i]);
		rp_value v = {0};
		if (rp_hive_get(c->security->hive, key, "", &v, NULL) == 1 && v.len == 4) {
			uint32_t mask = (uint32_t)v.data[0] | (uint32_t)v.data[1] << 8 |
					(uint32_t)v.data[2] << 16 | (uint32_t)v.data[3] << 24;
			if (mask & RP_LOGON_REMOTE_INTERACTIVE)
				rights_add(&c->allow, &sid);
			if (mask & RP_LOGON_DENY_REMOTE_INTERACTIVE)
				rights_add(&c->deny, &sid);
		}
		rp_value_free(&v);
		free(key);
	}
	rp_names_free(keys, n);
}

/* A GptTmpl entry: "S-1-5-32-544", or a name (local account, builtin group). */
static int resolve_entry(ctx *c, const char *e, rp_sid *sid)
{
	if (rp_sid_parse_text(e, sid) == 0 && strncmp(e, "S-", 2) == 0)
		return 0;
	const char *bs = strrchr(e, '\\');
	const char *leaf = bs ? bs + 1 : e;
	for (size_t i = 0; i < c->nusers; i++)
		if (c->users[i].name && rp_strcasecmp(c->users[i].name, leaf) == 0 &&
		    c->have_domain) {
			local_sid(c, c->users[i].rid, sid);
			return 0;
		}
	for (int a = 0; a < 3; a++)
		if (c->have_alias[a] && c->alias[a].name &&
		    rp_strcasecmp(c->alias[a].name, leaf) == 0) {
			builtin_sid(alias_rid[a], sid);
			return 0;
		}
	if (rp_strcasecmp(leaf, "Everyone") == 0)
		return rp_sid_parse_text("S-1-1-0", sid);
	return -1;
}

static void policy_right(ctx *c, const char *right, rights *r)
{
	char **entries = NULL;
	size_t n = 0;
	if (!c->inf || !rp_secedit_right(c->inf, c->inf_len, right, &entries, &n))
		return;
	rights_free(r);
	r->from_policy = 1;
	for (size_t i = 0; i < n; i++) {
		rp_sid sid;
		if (resolve_entry(c, entries[i], &sid) == 0) {
			rights_add(r, &sid);
		} else {
			r->unresolved = rp_xrealloc(r->unresolved,
						    (r->nunresolved + 1) * sizeof *r->unresolved);
			r->unresolved[r->nunresolved++] = rp_xstrdup(entries[i]);
		}
	}
	rp_names_free(entries, n);
}

static int read_policy(ctx *c, rp_err *err)
{
	int rc = rp_read_gpttmpl(c->scan, &c->inf, &c->inf_len, err);
	if (rc <= 0)
		return rc;
	policy_right(c, RIGHT_ALLOW, &c->allow);
	policy_right(c, RIGHT_DENY, &c->deny);
	if (c->allow.from_policy && c->deny.from_policy)
		c->rights_known = 1;
	return 0;
}

/* ---- judging ---- */

/* The SIDs Windows puts in the token of an RDP logon by sid (local account or not). */
static size_t token(const ctx *c, const rp_sid *sid, int local, rp_sid out[MAX_TOKEN])
{
	static const char *always[] = {"S-1-1-0", "S-1-5-11", "S-1-5-14", "S-1-5-4"};
	size_t n = 0;
	out[n++] = *sid;
	for (size_t i = 0; i < 4; i++)
		rp_sid_parse_text(always[i], &out[n++]);
	for (int a = 0; a < 3; a++)
		if (alias_has(c, a, sid))
			builtin_sid(alias_rid[a], &out[n++]);
	if (local) {
		rp_sid_parse_text("S-1-5-113", &out[n++]); /* Local account */
		if (alias_has(c, A_ADMINS, sid))
			rp_sid_parse_text("S-1-5-114", &out[n++]);
	}
	return n;
}

/* The first SID of the token in list, or NULL. */
static const rp_sid *token_hit(const rp_sid *tok, size_t n, const rights *r)
{
	for (size_t i = 0; i < n; i++)
		if (sid_in(r->sids, r->n, &tok[i]))
			return &tok[i];
	return NULL;
}

typedef struct verdict {
	int allowed, denied, disabled, locked, local;
	const rp_sid *deny_by;
	const user *u;
} verdict;

static verdict judge(ctx *c, const rp_sid *sid, rp_sid tok[MAX_TOKEN])
{
	verdict v = {0};
	uint32_t rid;
	v.local = is_local(c, sid, &rid);
	if (v.local) {
		v.u = find_user(c, rid);
		if (v.u && v.u->f_ok) {
			v.disabled = (v.u->f.acb & RP_ACB_DISABLED) != 0;
			v.locked = (v.u->f.acb & RP_ACB_AUTOLOCK) != 0;
		}
	}
	size_t n = token(c, sid, v.local, tok);
	v.allowed = !c->rights_known || token_hit(tok, n, &c->allow) != NULL;
	v.deny_by = token_hit(tok, n, &c->deny);
	v.denied = v.deny_by != NULL;
	return v;
}

/* ---- evidence ---- */

static void evidence_alias(rp_finding *f, ctx *c, int a)
{
	char *key = rp_xasprintf("%s\\%08X", SAM_ALIASES, alias_rid[a]);
	rp_evidence *e = rp_evidence_value(f, c->sam, key, "C", RP_SRC_LOCAL);
	char *list = rp_xstrdup("");
	for (size_t i = 0; c->have_alias[a] && i < c->alias[a].nmembers; i++) {
		char *nm = sid_name(c, &c->alias[a].members[i]);
		char *sid = rp_sid_to_text(&c->alias[a].members[i]);
		char *l = rp_xasprintf("%s%s%s (%s)", list, *list ? ", " : "", nm, sid);
		free(list);
		free(nm);
		free(sid);
		list = l;
	}
	e->note = c->have_alias[a] ? rp_xasprintf("members: %s", *list ? list : "none")
				   : rp_xstrdup("cannot be read");
	free(list);
	free(key);
}

static void evidence_right(rp_finding *f, ctx *c, const rp_sid *sid)
{
	if (!c->security)
		return;
	char *s = rp_sid_to_text(sid);
	char *key = rp_xasprintf("%s\\%s\\ActSysAc", POL_ACCOUNTS, s);
	rp_evidence *e = rp_evidence_value(f, c->security, key, "", RP_SRC_LOCAL);
	char *nm = sid_name(c, sid);
	e->note = rp_xasprintf("logon rights of %s (0x400 allow RDP, 0x800 deny RDP)%s", nm,
			       c->allow.from_policy || c->deny.from_policy
				   ? "; GptTmpl.inf replaces them at the next policy refresh"
				   : "");
	free(nm);
	free(key);
	free(s);
}

static void evidence_policy(rp_finding *f, ctx *c)
{
	if (!c->inf)
		return;
	rp_evidence *e = rp_evidence_copy(f, &(rp_evidence){.source = RP_SRC_FILE});
	e->path = rp_xstrdup(GPTTMPL);
	e->present = 1;
	e->note = rp_xasprintf("[Privilege Rights]: %s %s, %s %s (effective: policy beats the "
			       "SECURITY hive)",
			       RIGHT_ALLOW, c->allow.from_policy ? "listed" : "not listed",
			       RIGHT_DENY, c->deny.from_policy ? "listed" : "not listed");
}

static void evidence_user(rp_finding *f, ctx *c, const user *u)
{
	char *key = rp_xasprintf("%s\\%08X", SAM_USERS, u->rid);
	rp_evidence *e = rp_evidence_value(f, c->sam, key, "F", RP_SRC_LOCAL);
	if (u->f_ok)
		e->note = rp_xasprintf("account control flags 0x%04x at offset 0x38 (0x0001 "
				       "disabled, 0x0400 locked out), %u failed logons",
				       u->f.acb, u->f.failed_logons);
	free(key);
}

static void evidence_common(rp_finding *f, ctx *c)
{
	evidence_alias(f, c, A_ADMINS);
	evidence_alias(f, c, A_RDU);
	rp_sid s;
	builtin_sid(RP_RID_ADMINISTRATORS, &s);
	evidence_right(f, c, &s);
	builtin_sid(RP_RID_REMOTE_DESKTOP_USERS, &s);
	evidence_right(f, c, &s);
	evidence_policy(f, c);
}

/* ---- findings ---- */

static const char *right_source(const rights *r)
{
	return r->from_policy ? "the local security policy (GptTmpl.inf)" : "the SECURITY hive";
}

static void check_members(ctx *c)
{
	rp_scan *scan = c->scan;
	char *usable = rp_xstrdup(""), *unusable = rp_xstrdup("");
	int nusable = 0;
	/* Every member of Administrators and Remote Desktop Users, once. */
	rp_sid seen[256];
	size_t nseen = 0;
	for (int k = 0; k < 2; k++) {
		int a = k ? A_RDU : A_ADMINS;
		for (size_t i = 0; c->have_alias[a] && i < c->alias[a].nmembers; i++) {
			const rp_sid *sid = &c->alias[a].members[i];
			if (sid_in(seen, nseen, sid) || nseen == 256)
				continue;
			seen[nseen++] = *sid;
			rp_sid tok[MAX_TOKEN];
			verdict v = judge(c, sid, tok);
			char *nm = sid_name(c, sid);
			const char *why = v.disabled   ? "disabled"
					  : v.locked   ? "locked out"
					  : v.denied   ? "denied by " RIGHT_DENY
					  : !v.allowed ? "no " RIGHT_ALLOW
						       : NULL;
			char **list = why ? &unusable : &usable;
			char *l =
			    why ? rp_xasprintf("%s%s%s (%s)", *list, **list ? ", " : "", nm, why)
				: rp_xasprintf("%s%s%s", *list, **list ? ", " : "", nm);
			free(*list);
			*list = l;
			nusable += !why;
			if (v.locked && !v.disabled) {
				char *sum = rp_xasprintf("account %s is locked out", nm);
				rp_finding *f = rp_finding_add(
				    scan, CHECK, RP_PROBLEM, RP_WARNING, sum,
				    "The account lockout policy locked this account after too many "
				    "failed logons; RDP logons with it fail until the lockout "
				    "duration ends or an administrator unlocks it (Local Users and "
				    "Groups, or 'net user NAME /active:yes' at the console). "
				    "rdprescue does not change accounts.");
				if (v.u)
					evidence_user(f, c, v.u);
				free(sum);
			}
			if (v.denied && !v.disabled) {
				char *by = sid_name(c, v.deny_by);
				char *sum = rp_xasprintf("%s is denied RDP logons (%s names %s)",
							 nm, RIGHT_DENY, by);
				char *explain = rp_xasprintf(
				    "'Deny log on through Remote Desktop Services' beats 'Allow': "
				    "%s is in the token of %s, so every RDP logon by it fails with "
				    "'the connection was denied because the user account is not "
				    "authorized for remote login'. The setting comes from %s; "
				    "remove %s from it (secpol.msc, User Rights Assignment) at the "
				    "console or through the domain. rdprescue reports it only.",
				    by, nm, right_source(&c->deny), by);
				rp_finding *f = rp_finding_add(scan, CHECK, RP_PROBLEM, RP_WARNING,
							       sum, explain);
				evidence_right(f, c, v.deny_by);
				evidence_policy(f, c);
				free(by);
				free(sum);
				free(explain);
			}
			free(nm);
		}
	}
	rp_sid adm, rdu;
	builtin_sid(RP_RID_ADMINISTRATORS, &adm);
	builtin_sid(RP_RID_REMOTE_DESKTOP_USERS, &rdu);
	int adm_ok = !c->rights_known || sid_in(c->allow.sids, c->allow.n, &adm);
	int rdu_ok = !c->rights_known || sid_in(c->allow.sids, c->allow.n, &rdu);
	if (!adm_ok && !rdu_ok) {
		char *explain = rp_xasprintf(
		    "Windows gives this right to Administrators and Remote Desktop Users; here "
		    "%s grants it to neither, so their members are refused at logon over RDP "
		    "('the connection was denied because the user account is not authorized for "
		    "remote login'). Add them back to 'Allow log on through Remote Desktop "
		    "Services' (secpol.msc) at the console. rdprescue reports it only.",
		    right_source(&c->allow));
		rp_finding *f = rp_finding_add(scan, CHECK, RP_PROBLEM, RP_ERROR,
					       RIGHT_ALLOW " grants neither Administrators nor "
							   "Remote Desktop Users",
					       explain);
		free(explain);
		evidence_common(f, c);
	}
	char *sum;
	rp_finding *f;
	if (nusable > 0) {
		sum = rp_xasprintf("may log on over RDP: %s%s%s", usable,
				   *unusable ? "; not: " : "", unusable);
		f = rp_finding_add(
		    scan, CHECK, RP_OK, RP_INFO, sum,
		    c->rights_known ? NULL
				    : "The SECURITY hive was not loaded and no GptTmpl.inf lists "
				      "the rights: the logon rights are assumed to be Windows' "
				      "defaults.");
	} else {
		sum = rp_xasprintf("nobody known to this machine may log on over RDP%s%s",
				   *unusable ? ": " : "", unusable);
		f = rp_finding_add(
		    scan, CHECK, RP_PROBLEM, RP_ERROR, sum,
		    "No member of Administrators or Remote Desktop Users can log on through Remote "
		    "Desktop: every one is disabled, locked out, denied or without the right. The "
		    "connection itself succeeds, then the logon fails. Log on at the console (or "
		    "the cloud's serial console) to enable an account, or run fix "
		    "--grant-rdp-logon ACCOUNT to add an enabled local account to Remote Desktop "
		    "Users (rdprescue never sets a password).");
	}
	free(sum);
	evidence_common(f, c);
	for (size_t i = 0; i < nseen; i++) {
		uint32_t rid;
		user *u = is_local(c, &seen[i], &rid) ? find_user(c, rid) : NULL;
		if (u)
			evidence_user(f, c, u);
	}
	free(usable);
	free(unusable);
}

/* --grant-rdp-logon ACCOUNT: plans the SAM changes that add it to Remote Desktop Users. */
static int grant(ctx *c, rp_err *err)
{
	const char *want = c->scan->grant_rdp_logon;
	user *u = NULL;
	for (size_t i = 0; i < c->nusers && !u; i++)
		if (c->users[i].name && rp_strcasecmp(c->users[i].name, want) == 0)
			u = &c->users[i];
	char *shown = rp_escape(want);
	if (!u || !c->have_domain || !c->have_alias[A_RDU]) {
		int rc = rp_fail(err, u ? RP_EXIT_UNUSABLE : RP_EXIT_USAGE,
				 u ? "--grant-rdp-logon: the SAM's Remote Desktop Users or domain "
				     "SID cannot be read; nothing written"
				   : "--grant-rdp-logon: no local account '%s' in the SAM; name a "
				     "local account (rdprescue scan shows the members it knows)",
				 shown);
		free(shown);
		return rc;
	}
	rp_sid sid;
	local_sid(c, u->rid, &sid);
	char *name = rp_escape(u->name);
	char *alias_key = rp_xasprintf("%s\\%08X", SAM_ALIASES, RP_RID_REMOTE_DESKTOP_USERS);
	int rc = 0;
	if (alias_has(c, A_RDU, &sid)) {
		char *sum = rp_xasprintf("%s is already a member of Remote Desktop Users", name);
		rp_finding *f = rp_finding_add(c->scan, CHECK, RP_OK, RP_INFO, sum, NULL);
		evidence_alias(f, c, A_RDU);
		free(sum);
		goto out;
	}
	rp_sid rdu;
	builtin_sid(RP_RID_REMOTE_DESKTOP_USERS, &rdu);
	int has_right = !c->rights_known || sid_in(c->allow.sids, c->allow.n, &rdu);
	int disabled = u->f_ok && (u->f.acb & RP_ACB_DISABLED);
	char *sum = rp_xasprintf("%s is not a member of Remote Desktop Users "
				 "(--grant-rdp-logon)",
				 name);
	char *explain = rp_xasprintf(
	    "Requested with --grant-rdp-logon: the fix adds the local account %s to Remote Desktop "
	    "Users, which lets it log on over RDP%s. This widens who may log on; remove it again "
	    "(Local Users and Groups) once the machine is repaired, or run rdprescue undo. The "
	    "password is not touched.%s",
	    name,
	    has_right ? "" : " only once that group holds " RIGHT_ALLOW " again (it does not now)",
	    disabled ? " The account is disabled: it still cannot log on until it is enabled at "
		       "the console."
		     : "");
	rp_finding *f = rp_finding_add(c->scan, CHECK, RP_PROBLEM, RP_WARNING, sum, explain);
	free(sum);
	free(explain);
	evidence_alias(f, c, A_RDU);
	evidence_user(f, c, u);

	rp_value cv = {0};
	uint8_t *newc = NULL;
	size_t newc_len = 0;
	if (rp_hive_get(c->sam->hive, alias_key, "C", &cv, err) != 1 ||
	    rp_sam_alias_add_member(cv.data, cv.len, &sid, &newc, &newc_len, err) < 0) {
		rc = -1;
		rp_err_prefix(err, "--grant-rdp-logon");
		rp_value_free(&cv);
		goto out;
	}
	rp_value_free(&cv);
	char *what = rp_xasprintf("add %s to Remote Desktop Users (SAM\\%s\\C)", name, alias_key);
	rp_change_raw(f, "SAM", alias_key, "C", RP_REG_BINARY, newc, newc_len, 0, what);
	free(what);
	free(newc);

	/* The membership map: Members\<domain SID>\<RID> (type = number of aliases). */
	char *dom = rp_sid_to_text(&c->domain);
	char *dom_key = rp_xasprintf("%s\\%s", SAM_MEMBERS, dom);
	char *mem_key = rp_xasprintf("%s\\%08X", dom_key, u->rid);
	rp_value mv = {0};
	if (rp_hive_get(c->sam->hive, mem_key, "", &mv, NULL) == 1) {
		size_t len = 0;
		uint8_t *data =
		    rp_sam_membership_add(mv.data, mv.len, RP_RID_REMOTE_DESKTOP_USERS, &len);
		what = rp_xasprintf("record Remote Desktop Users among %s's groups (SAM\\%s)", name,
				    mem_key);
		rp_change_raw(f, "SAM", mem_key, "", mv.type + 1, data, len, 0, what);
		free(what);
		free(data);
	} else {
		uint8_t rid[4] = {RP_RID_REMOTE_DESKTOP_USERS & 0xFF,
				  RP_RID_REMOTE_DESKTOP_USERS >> 8, 0, 0};
		what = rp_xasprintf("record Remote Desktop Users as %s's group (new SAM\\%s)", name,
				    mem_key);
		rp_change_raw(f, "SAM", mem_key, "", 1, rid, 4, 0, what);
		free(what);
		/* The parent counts its subkeys in its default value's type. */
		const char *parents[2] = {dom_key, SAM_MEMBERS};
		for (int p = 0; p < 2; p++) {
			rp_value pv = {0};
			int got = rp_hive_get(c->sam->hive, parents[p], "", &pv, NULL) == 1;
			what = rp_xasprintf("count the new member key in SAM\\%s", parents[p]);
			rp_change_raw(f, "SAM", parents[p], "", got ? pv.type + 1 : 1,
				      got ? pv.data : NULL, got ? pv.len : 0, 0, what);
			free(what);
			rp_value_free(&pv);
			if (got)
				break; /* an existing domain key: Members' count is unchanged */
		}
	}
	rp_value_free(&mv);
	free(dom);
	free(dom_key);
	free(mem_key);
out:
	free(alias_key);
	free(name);
	free(shown);
	return rc;
}

int rp_check_logon_rdp(rp_scan *scan, rp_err *err)
{
	rp_registry *reg = scan->reg;
	if (!reg->sam.hive) {
		char *why = rp_escape(reg->sam.error ? reg->sam.error : "not loaded");
		char *sum = rp_xasprintf("SAM not available: %s", why);
		free(why);
		if (scan->grant_rdp_logon) {
			int rc = rp_fail(
			    err, RP_EXIT_UNUSABLE,
			    "--grant-rdp-logon needs the SAM hive: %s; nothing written", sum);
			free(sum);
			return rc;
		}
		rp_finding_add(scan, CHECK, RP_SKIPPED, RP_INFO, sum,
			       "Who may log on is recorded in the SAM hive "
			       "(Windows/System32/config/SAM); without it this check cannot run.");
		free(sum);
		return 0;
	}
	ctx c = {
	    .scan = scan, .sam = &reg->sam, .security = reg->security.hive ? &reg->security : NULL};
	int rc = 0;
	read_sam(&c);
	read_security(&c);
	if (read_policy(&c, err) < 0) {
		rc = -1;
		goto out;
	}
	check_members(&c);
	if (scan->grant_rdp_logon)
		rc = grant(&c, err);
out:
	for (size_t i = 0; i < c.nusers; i++)
		free(c.users[i].name);
	free(c.users);
	for (int a = 0; a < 3; a++)
		rp_sam_alias_free(&c.alias[a]);
	rights_free(&c.allow);
	rights_free(&c.deny);
	free(c.inf);
	return rc;
}
