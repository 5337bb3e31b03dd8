/*
 * rdp_firewall.c — rdp.firewall: does Windows Firewall let the RDP connection in?
 *
 * The machine's network profile when it next boots is not known offline, so every profile
 * (Domain, Private = StandardProfile, Public) whose firewall is on must let TCP on the RDP port
 * in.  Per profile: EnableFirewall and DoNotAllowExceptions, each with Group Policy copies that
 * win (rdp-registry.md section 5.1: SOFTWARE\Policies, the local Registry.pol, domain GPO
 * caches; read and planned through rp_effective_dword / rp_plan_effective of checks.h); the
 * rules under FirewallPolicy\FirewallRules and their Group Policy counterparts (5.2); and IPsec
 * connection-security rules that demand IPsec for the RDP port and so silently drop ordinary
 * clients.
 *
 * Repairs, smallest first: DoNotAllowExceptions (block every inbound connection) is set to 0 at
 * its source (0 means the same as absent; the shared planner sets policy values rather than
 * deleting them, so a Registry.pol entry stays visible as the administrator's policy); an
 * inactive RDP allow rule is activated — its rule string keeps every byte but the Active value
 * — choosing, in hive order, only rules that cover a profile still closed.
 * Turning an explicit Block rule or an IPsec requirement off, or the firewall of a profile that
 * has no RDP rule at all, lowers security: only with --allow-weaker-security.  rdprescue never
 * invents a rule.
 */
#include "checks/checks.h"
#include "reg/fwrule.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FW_LOCAL "Services\\SharedAccess\\Parameters\\FirewallPolicy"
#define FW_POLICY "Policies\\Microsoft\\WindowsFirewall"
#define RDP_TCP "Control\\Terminal Server\\WinStations\\RDP-Tcp"
#define NPROFILES 3

typedef struct profile {
	const char *name;	/* as rule strings say it */
	const char *local;	/* key under FirewallPolicy */
	const char *policy;	/* SOFTWARE key of its Group Policy copy */
	const char *legacy_pol; /* the pre-Vista policy key that also applies, or NULL */
} profile;

/* The policy keys are whole strings: rp_effective keeps a pointer to the one it read. */
static const profile profiles[NPROFILES] = {
    {"Domain", "DomainProfile", FW_POLICY "\\DomainProfile", NULL},
    {"Private", "StandardProfile", FW_POLICY "\\PrivateProfile", FW_POLICY "\\StandardProfile"},
    {"Public", "PublicProfile", FW_POLICY "\\PublicProfile", NULL},
};

typedef struct fw_rule {
	rp_fwrule r;
	char *name;    /* the registry value's name */
	char *key;     /* full key path in its hive */
	int policy;    /* from SOFTWARE\Policies */
	unsigned mask; /* profiles it applies to (bit i = profiles[i]) */
} fw_rule;

typedef struct fw_state {
	rp_scan *scan;
	unsigned port;
	char *local_root; /* <ccs>\FW_LOCAL */
	int on[NPROFILES];
	int local_rules_apply[NPROFILES]; /* AllowLocalPolicyMerge is not 0 */
	fw_rule *rules;
	size_t nrules;
	fw_rule *consec;
	size_t nconsec;
} fw_state;

static const char *src_name(int policy)
{
	return policy ? RP_SRC_POLICY : RP_SRC_LOCAL;
}

/* The effective DWORD of one profile's setting (checks.h, rp_effective: local copy, SOFTWARE
 * policy copy, local Registry.pol, domain GPOs); for Private the legacy StandardProfile policy
 * key is read when no policy source mentions the newer one.  All the reading of a profile
 * setting's copies is here; rp_plan_effective plans their changes. */
static void profile_setting(fw_state *st, int p, const char *value, rp_effective *out)
{
	char lk[256];
	snprintf(lk, sizeof lk, "%s\\%s", FW_LOCAL, profiles[p].local);
	rp_effective_dword(st->scan->reg, lk, profiles[p].policy, value, out);
	if (profiles[p].legacy_pol && !out->policy_present && out->regpol.action == RP_POL_NONE &&
	    out->domain.action == RP_POL_NONE)
		rp_effective_dword(st->scan->reg, lk, profiles[p].legacy_pol, value, out);
}

static unsigned rule_profiles(const rp_fwrule *r)
{
	if (rp_fwrule_count(r, "Profile") == 0)
		return (1u << NPROFILES) - 1;
	unsigned m = 0;
	for (int p = 0; p < NPROFILES; p++)
		if (rp_fwrule_is(r, "Profile", profiles[p].name))
			m |= 1u << p;
	return m;
}

/* Reads every rule string under key; ones that are not REG_SZ or do not parse are skipped
 * (Windows ignores them too). */
static int load_rules(rp_hive_file *hf, const char *key, int policy, fw_rule **list, size_t *n,
		      rp_err *err)
{
	int exists = rp_hive_key_exists(hf->hive, key, err);
	if (exists <= 0)
		return exists;
	char **names = NULL;
	size_t count = 0;
	if (rp_hive_values(hf->hive, key, &names, &count, err) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		rp_value v = {0};
		if (rp_hive_get(hf->hive, key, names[i], &v, err) < 0) {
			rp_names_free(names, count);
			return -1;
		}
		rp_fwrule r;
		if (v.type == RP_REG_SZ && rp_fwrule_parse(v.data, v.len, &r, NULL) == 0) {
			*list = rp_xrealloc(*list, (*n + 1) * sizeof **list);
			(*list)[(*n)++] = (fw_rule){.r = r,
						    .name = rp_xstrdup(names[i]),
						    .key = rp_xstrdup(key),
						    .policy = policy,
						    .mask = rule_profiles(&r)};
		}
		rp_value_free(&v);
	}
	rp_names_free(names, count);
	return 0;
}

static void free_rules(fw_rule *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rp_fwrule_free(&list[i].r);
		free(list[i].name);
		free(list[i].key);
	}
	free(list);
}

/* An inbound TCP rule that the RDP listener's traffic on st->port falls under.  A rule
 * without a port counts only when it names the RDP service, and a rule for another program
 * never counts. */
static int matches_rdp(const fw_state *st, const fw_rule *fr, int need_port)
{
	const rp_fwrule *r = &fr->r;
	if (!rp_fwrule_is(r, "Dir", "In"))
		return 0;
	if (rp_fwrule_count(r, "Protocol") && !rp_fwrule_is(r, "Protocol", "6"))
		return 0;
	int covers = rp_fwrule_port_covers(r, "LPort", st->port);
	int svc_rdp = rp_fwrule_is(r, "Svc", "termservice");
	if (rp_fwrule_count(r, "Svc") && !svc_rdp && !rp_fwrule_is(r, "Svc", "*"))
		return 0;
	char *app = rp_fwrule_get(r, "App", 0);
	if (app) {
		size_t n = strlen(app);
		int ok = rp_strcasecmp(app, "System") == 0 ||
			 (n >= 11 && rp_strcasecmp(app + n - 11, "svchost.exe") == 0);
		free(app);
		if (!ok)
			return 0;
	}
	return covers == 1 || (!need_port && covers == -1 && svc_rdp);
}

static int applies(const fw_state *st, const fw_rule *fr, int p)
{
	return (fr->mask & (1u << p)) && (fr->policy || st->local_rules_apply[p]);
}

static void add_rule_evidence(rp_finding *f, fw_state *st, const fw_rule *fr)
{
	rp_hive_file *hf = fr->policy ? &st->scan->reg->software : &st->scan->reg->system;
	rp_evidence_value(f, hf, fr->key, fr->name, src_name(fr->policy));
}

/* Plans the rule's Active := active, every other byte of its string unchanged. */
static void plan_active(rp_finding *f, const fw_rule *fr, int active, int weakens)
{
	rp_fwrule edited;
	if (rp_fwrule_parse(fr->r.data, fr->r.len, &edited, NULL) < 0)
		return;
	if (rp_fwrule_set_active(&edited, active, NULL) == 0) {
		const char *hive = fr->policy ? "SOFTWARE" : "SYSTEM";
		char *shown = rp_escape(fr->name);
		char *what = rp_xasprintf("set Active=%s in firewall rule %s\\%s\\%s (nothing else "
					  "in the rule string changes)",
					  active ? "TRUE" : "FALSE", hive, fr->key, shown);
		rp_change_raw(f, hive, fr->key, fr->name, RP_REG_SZ, edited.data, edited.len,
			      weakens, what);
		free(what);
		free(shown);
	}
	rp_fwrule_free(&edited);
}

static char *profile_list(unsigned mask)
{
	char buf[64] = "";
	for (int p = 0; p < NPROFILES; p++)
		if (mask & (1u << p)) {
			if (buf[0])
				strcat(buf, ", ");
			strcat(buf, profiles[p].name);
		}
	return rp_xstrdup(buf);
}

static void check_no_exceptions(fw_state *st)
{
	rp_registry *reg = st->scan->reg;
	for (int p = 0; p < NPROFILES; p++) {
		if (!st->on[p])
			continue;
		rp_effective eff;
		profile_setting(st, p, "DoNotAllowExceptions", &eff);
		if (!eff.present || (eff.is_dword && eff.value == 0))
			continue;
		char buf[16];
		char *origin = rp_effective_origin(&eff);
		char *sum = rp_xasprintf(
		    "the %s profile blocks every inbound connection "
		    "(DoNotAllowExceptions = %s, from %s)",
		    profiles[p].name, rp_dword_shown(1, eff.is_dword, eff.value, buf, sizeof buf),
		    origin);
		char *explain = rp_effective_explain(
		    &eff,
		    "DoNotAllowExceptions makes Windows Firewall ignore every allow rule of "
		    "the profile, the Remote Desktop rule included, so the TCP connection to "
		    "the RDP port never arrives: the client says it cannot connect. The fix "
		    "sets it to 0 (the same as absent: the profile's rules apply again) at its "
		    "source, and in a local copy that blocks too; the firewall stays on.");
		rp_finding *f = rp_finding_add(st->scan, rp_id_rdp_firewall, RP_PROBLEM, RP_ERROR,
					       sum, explain);
		rp_evidence_effective(f, reg, &eff);
		int local_blocks = eff.local_present && !(eff.local_is_dword && eff.local == 0);
		rp_plan_effective(f, &eff, 0, local_blocks ? RP_PLAN_LOCAL : 0);
		free(explain);
		free(origin);
		free(sum);
	}
}

/* A rule someone made on purpose that keeps RDP out: a problem whose fix (the rule's
 * Active=FALSE) lowers security, so it is planned only with --allow-weaker-security. */
static void deliberate_rule(fw_state *st, fw_rule *fr, const char *sum, const char *explain)
{
	rp_finding *f =
	    rp_finding_add(st->scan, rp_id_rdp_firewall, RP_PROBLEM, RP_ERROR, sum, explain);
	add_rule_evidence(f, st, fr);
	if (st->scan->allow_weaker)
		plan_active(f, fr, 0, 1);
}

/* Active Block rules on the RDP port: Windows applies Block before Allow. */
static void check_block_rules(fw_state *st)
{
	for (size_t i = 0; i < st->nrules; i++) {
		fw_rule *fr = &st->rules[i];
		unsigned hit = 0;
		for (int p = 0; p < NPROFILES; p++)
			if (st->on[p] && applies(st, fr, p))
				hit |= 1u << p;
		if (!hit || !rp_fwrule_is(&fr->r, "Action", "Block") ||
		    !rp_fwrule_is(&fr->r, "Active", "TRUE") || !matches_rdp(st, fr, 1))
			continue;
		char *shown = rp_escape(fr->name), *plist = profile_list(hit);
		char *sum = rp_xasprintf(
		    "firewall rule %s blocks TCP %u inbound (%s profile%s, %s)", shown, st->port,
		    plist, strchr(plist, ',') ? "s" : "", fr->policy ? "Group Policy" : "local");
		deliberate_rule(
		    st, fr, sum,
		    "An active Block rule for the RDP port wins over every Allow rule, so "
		    "the connection is dropped before it reaches the listener: the client "
		    "says it cannot connect. Someone made this rule on purpose; turning it "
		    "off lowers security, so the fix (Active=FALSE, nothing else in the "
		    "rule changes) happens only with --allow-weaker-security.");
		free(sum);
		free(plist);
		free(shown);
	}
}

/* Profiles that need RDP let in and are not; activates inactive RDP allow rules to open them. */
static void check_allow_rules(fw_state *st)
{
	unsigned need = 0, open = 0;
	for (int p = 0; p < NPROFILES; p++) {
		if (!st->on[p])
			continue;
		need |= 1u << p;
		for (size_t i = 0; i < st->nrules; i++) {
			fw_rule *fr = &st->rules[i];
			if (applies(st, fr, p) && rp_fwrule_is(&fr->r, "Action", "Allow") &&
			    rp_fwrule_is(&fr->r, "Active", "TRUE") && matches_rdp(st, fr, 0))
				open |= 1u << p;
		}
	}
	unsigned closed = need & ~open;
	if (!closed)
		return;
	rp_finding *f = NULL;
	unsigned opened = 0;
	for (size_t i = 0; i < st->nrules; i++) {
		fw_rule *fr = &st->rules[i];
		unsigned gain = 0;
		for (int p = 0; p < NPROFILES; p++)
			if ((closed & ~opened & (1u << p)) && applies(st, fr, p))
				gain |= 1u << p;
		if (!gain || !rp_fwrule_is(&fr->r, "Action", "Allow") ||
		    rp_fwrule_is(&fr->r, "Active", "TRUE") || !matches_rdp(st, fr, 0))
			continue;
		if (!f) {
			char *plist = profile_list(closed);
			char *sum = rp_xasprintf("the Remote Desktop firewall rule is inactive (%s "
						 "profile%s)",
						 plist, strchr(plist, ',') ? "s" : "");
			f = rp_finding_add(st->scan, rp_id_rdp_firewall, RP_PROBLEM, RP_ERROR, sum,
					   "Windows Firewall is on for these profiles and the rule "
					   "that lets TCP to the "
					   "RDP port in is disabled (Active=FALSE), so the "
					   "connection is dropped and the "
					   "client says it cannot connect. The fix sets "
					   "Active=TRUE in that rule and "
					   "changes nothing else in it (the equivalent of 'netsh "
					   "advfirewall firewall "
					   "set rule group=\"Remote Desktop\" new enable=yes'); "
					   "the firewall stays on.");
			free(sum);
			free(plist);
		}
		add_rule_evidence(f, st, fr);
		plan_active(f, fr, 1, 0);
		opened |= gain;
	}
	unsigned missing = closed & ~opened;
	if (!missing)
		return;
	char *plist = profile_list(missing);
	int moved = st->port != 3389;
	char *sum = moved ? rp_xasprintf("no firewall rule allows the moved RDP port %u (%s "
					 "profile%s); the built-in rule covers 3389 only",
					 st->port, plist, strchr(plist, ',') ? "s" : "")
			  : rp_xasprintf("no firewall rule allows RDP (TCP %u) in (%s profile%s)",
					 st->port, plist, strchr(plist, ',') ? "s" : "");
	f = rp_finding_add(
	    st->scan, rp_id_rdp_firewall, RP_PROBLEM, RP_WARNING, sum,
	    moved
		? "The RDP listener was moved off 3389 and no firewall rule opens the new port "
		  "while the firewall is on, so the connection is dropped and the client says "
		  "it cannot connect. rdprescue does not invent a rule: set RDP-Tcp PortNumber "
		  "back to 3389, or, once Windows runs, add a rule for the port (and open it in "
		  "the cloud network rules). With --allow-weaker-security the fix turns the "
		  "firewall of these profiles off instead (Microsoft's offline procedure)."
		: "The firewall is on for these profiles and no rule, active or not, lets TCP to "
		  "the RDP port in, so the connection is dropped and the client says it cannot "
		  "connect. rdprescue does not invent a rule: once Windows runs, enable the "
		  "'Remote Desktop' rule group (netsh advfirewall firewall set rule group=\"Remote "
		  "Desktop\" new enable=yes) or add a rule. With --allow-weaker-security the fix "
		  "turns the firewall of these profiles off instead (Microsoft's offline "
		  "procedure).");
	free(sum);
	free(plist);
	char *port_key = rp_registry_ccs_path(st->scan->reg, RDP_TCP);
	rp_evidence_value(f, &st->scan->reg->system, port_key, "PortNumber", RP_SRC_LOCAL);
	free(port_key);
	for (int p = 0; p < NPROFILES; p++) {
		if (!(missing & (1u << p)))
			continue;
		rp_effective eff;
		profile_setting(st, p, "EnableFirewall", &eff);
		rp_evidence_effective(f, st->scan->reg, &eff);
		/* every copy, so that none turns the firewall back on */
		if (st->scan->allow_weaker)
			rp_plan_effective(f, &eff, 0, RP_PLAN_LOCAL | RP_PLAN_WEAKENS);
	}
}

/* IPsec connection-security rules that require IPsec for the RDP port. */
static void check_consec(fw_state *st)
{
	for (size_t i = 0; i < st->nconsec; i++) {
		fw_rule *fr = &st->consec[i];
		const rp_fwrule *r = &fr->r;
		if (!rp_fwrule_is(r, "Active", "TRUE") ||
		    !(rp_fwrule_is(r, "Action", "Secure") ||
		      rp_fwrule_is(r, "Action", "SecureServer")) ||
		    (rp_fwrule_count(r, "Protocol") && !rp_fwrule_is(r, "Protocol", "6")) ||
		    !(rp_fwrule_port_covers(r, "EP1Port", st->port) == 1 ||
		      rp_fwrule_port_covers(r, "EP2Port", st->port) == 1))
			continue;
		char *shown = rp_escape(fr->name);
		char *sum = rp_xasprintf("IPsec rule %s requires IPsec for the RDP port (%s)",
					 shown, fr->policy ? "Group Policy" : "local");
		deliberate_rule(
		    st, fr, sum,
		    "A connection-security rule with Action Secure/SecureServer on the RDP "
		    "port makes Windows drop every connection that is not IPsec-protected, "
		    "so ordinary clients time out ('can't connect'). Turning the "
		    "requirement off lowers security: the fix (Active=FALSE, nothing else "
		    "in the rule changes) happens only with --allow-weaker-security.");
		free(sum);
		free(shown);
	}
}

static void read_profiles(fw_state *st)
{
	for (int p = 0; p < NPROFILES; p++) {
		rp_effective eff;
		profile_setting(st, p, "EnableFirewall", &eff);
		/* absent means Windows' default: on */
		st->on[p] = !(eff.present && eff.is_dword && eff.value == 0);
		if (!st->on[p]) {
			char *origin = rp_effective_origin(&eff);
			char *sum =
			    rp_xasprintf("Windows Firewall is off for the %s profile (by %s)",
					 profiles[p].name, origin);
			rp_finding *f =
			    rp_finding_add(st->scan, rp_id_rdp_firewall, RP_OK, RP_INFO, sum,
					   "A firewall that is off does not block RDP; rdprescue "
					   "leaves it as it is "
					   "(turning it back on is your decision).");
			rp_evidence_effective(f, st->scan->reg, &eff);
			free(origin);
			free(sum);
		}
		/* AllowLocalPolicyMerge has only policy copies: 0 there keeps local rules out */
		rp_effective merge;
		profile_setting(st, p, "AllowLocalPolicyMerge", &merge);
		st->local_rules_apply[p] =
		    !(merge.present && strcmp(merge.source, RP_SRC_LOCAL) != 0 && merge.is_dword &&
		      merge.value == 0);
	}
}

static unsigned rdp_port(rp_registry *reg)
{
	char *key = rp_registry_ccs_path(reg, RDP_TCP);
	uint32_t port = 0;
	int ok = rp_read_dword(&reg->system, key, "PortNumber", &port, NULL);
	free(key);
	/* rdp.listener reports an unusable port; judge the firewall by the standard one then */
	return ok && port > 0 && port <= 65535 ? port : 3389;
}

int rp_check_rdp_firewall(rp_scan *scan, rp_err *err)
{
	fw_state st = {.scan = scan, .port = rdp_port(scan->reg)};
	st.local_root = rp_registry_ccs_path(scan->reg, FW_LOCAL);
	char *local_rules = rp_xasprintf("%s\\FirewallRules", st.local_root);
	char *local_consec = rp_xasprintf("%s\\ConSecRules", st.local_root);
	int rc = 0;
	if (load_rules(&scan->reg->system, local_rules, 0, &st.rules, &st.nrules, err) < 0 ||
	    load_rules(&scan->reg->software, FW_POLICY "\\FirewallRules", 1, &st.rules, &st.nrules,
		       err) < 0 ||
	    load_rules(&scan->reg->system, local_consec, 0, &st.consec, &st.nconsec, err) < 0 ||
	    load_rules(&scan->reg->software, FW_POLICY "\\ConSecRules", 1, &st.consec, &st.nconsec,
		       err) < 0) {
		rc = -1;
		goto out;
	}
	read_profiles(&st);
	size_t infos = scan->nfindings;
	check_no_exceptions(&st);
	check_block_rules(&st);
	check_allow_rules(&st);
	check_consec(&st);
	if (scan->nfindings == infos) {
		int any_on = st.on[0] || st.on[1] || st.on[2];
		char *sum = any_on ? rp_xasprintf("Windows Firewall lets RDP (TCP %u) in on every "
						  "profile where it is on",
						  st.port)
				   : rp_xstrdup("Windows Firewall is off for every profile");
		rp_finding *f = rp_finding_add(scan, rp_id_rdp_firewall, RP_OK, RP_INFO, sum, NULL);
		free(sum);
		for (size_t i = 0; i < st.nrules; i++)
			if (rp_fwrule_is(&st.rules[i].r, "Action", "Allow") &&
			    rp_fwrule_is(&st.rules[i].r, "Active", "TRUE") &&
			    matches_rdp(&st, &st.rules[i], 0))
				add_rule_evidence(f, &st, &st.rules[i]);
	}
out:
	free_rules(st.rules, st.nrules);
	free_rules(st.consec, st.nconsec);
	free(st.local_root);
	free(local_rules);
	free(local_consec);
	return rc;
}
