/*
 * rdp_security.c — rdp.security: a security layer, NLA and encryption level the server can
 * actually complete.
 *
 * Each of SecurityLayer, UserAuthentication and MinEncryptionLevel has a local copy (RDP-Tcp)
 * and a Group Policy copy that wins.  Windows does not clamp out-of-range values, and some
 * combinations cannot be negotiated: NLA (CredSSP) needs TLS, so SecurityLayer 0 with NLA on
 * fails; SecurityLayer 2 (TLS) is "not compatible with a MinEncryptionLevel of 1".  The fix only
 * ever raises security; lowering it (NLA off, the negotiating layer) happens only with
 * --allow-weaker-security, and the report says so.
 *
 * After the handshake (issue 14, reachability.md): FIPS mode (Lsa\FIPSAlgorithmPolicy\Enabled,
 * and the local security policy's copy in GptTmpl.inf, which wins at the next refresh) cannot
 * run the RDP security layer's own encryption below level 4, so SecurityLayer 0 with it drops
 * every client; fAllowSecProtocolNegotiation 0 stops the server from negotiating TLS / CredSSP;
 * Lsa\disabledomaincreds 1 keeps credentials from being delegated (only turned off with
 * --allow-weaker-security); and a domain member that requires NLA needs its domain controller
 * reachable (a note).
 */
#include "checks/checks.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RDP_TCP "Control\\Terminal Server\\WinStations\\RDP-Tcp"
#define FIPS_KEY "Control\\Lsa\\FIPSAlgorithmPolicy"
#define LSA_KEY "Control\\Lsa"

typedef struct setting {
	const char *value;
	uint32_t min, max; /* valid local range */
	uint32_t pol_max;  /* valid policy range is min..pol_max */
	uint32_t fallback; /* what a broken value becomes: Windows' default */
	rp_effective eff;
	int fixed; /* a change to it is planned */
	uint32_t planned;
} setting;

enum { SL, UA, MEL };

static int valid(const setting *s, int is_dword, uint32_t v, uint32_t max)
{
	return is_dword && v >= s->min && v <= max;
}

static void add_evidence(rp_finding *f, rp_scan *scan, const setting *s)
{
	rp_evidence_effective(f, scan->reg, &s->eff);
}

/* Plans s := v at the source of its effective value (checks.h, rp_plan_effective); a
 * weakening change goes to the local copy too, so that neither brings the stricter value
 * back. */
static void plan_set(rp_finding *f, setting *s, uint32_t v, int weakens)
{
	rp_plan_effective(f, &s->eff, v, weakens ? RP_PLAN_LOCAL | RP_PLAN_WEAKENS : 0);
	s->fixed = 1;
	s->planned = v;
}

static uint32_t effective(const setting *s)
{
	return s->fixed ? s->planned : s->eff.value;
}

/* Out-of-range copies, local, policy or Registry.pol: broken, whatever wins. */
static void check_ranges(rp_scan *scan, setting *set)
{
	for (int i = 0; i < 3; i++) {
		setting *s = &set[i];
		const rp_effective *e = &s->eff;
		int local_bad = e->local_present && !valid(s, e->local_is_dword, e->local, s->max);
		int pol_bad =
		    e->policy_present && !valid(s, e->policy_is_dword, e->policy, s->pol_max);
		int regpol_bad = e->regpol.action == RP_POL_SETS &&
				 !valid(s, e->regpol.is_dword, e->regpol.value, s->pol_max);
		int domain_bad = e->domain.action == RP_POL_SETS &&
				 !valid(s, e->domain.is_dword, e->domain.value, s->pol_max);
		if (!local_bad && !pol_bad && !regpol_bad && !domain_bad)
			continue;
		const char *copy = domain_bad	? "domain GPO"
				   : regpol_bad ? "Registry.pol"
				   : pol_bad	? "policy"
						: "local";
		char *sum =
		    rp_xasprintf("%s holds a value Windows cannot use (%s copy)", s->value, copy);
		char *base = rp_xasprintf(
		    "Windows does not correct an out-of-range %s; the listener then fails the "
		    "security negotiation and the client shows 0x904 / extended 0x7. The fix sets "
		    "Windows' default, %u.",
		    s->value, s->fallback);
		char *explain = rp_effective_explain(e, base);
		rp_finding *f =
		    rp_finding_add(scan, rp_id_rdp_security, RP_PROBLEM, RP_ERROR, sum, explain);
		free(sum);
		free(base);
		free(explain);
		add_evidence(f, scan, s);
		if (regpol_bad)
			rp_plan_copy(f, e, RP_SRC_REGPOL, s->fallback, 0);
		if (pol_bad)
			rp_plan_copy(f, e, RP_SRC_POLICY, s->fallback, 0);
		if (local_bad)
			rp_plan_copy(f, e, RP_SRC_LOCAL, s->fallback, 0);
		s->fixed = 1;
		s->planned = s->fallback;
	}
}

/* A problem whose fix changes s: the explanation says what s's source means for the fix. */
static rp_finding *add_problem(rp_scan *scan, const char *sum, const char *base, const setting *s)
{
	char *explain = rp_effective_explain(&s->eff, base);
	rp_finding *f =
	    rp_finding_add(scan, rp_id_rdp_security, RP_PROBLEM, RP_ERROR, sum, explain);
	free(explain);
	return f;
}

/* A security option with a local SYSTEM value and a copy in the local security policy. */
typedef struct option {
	int local_present, local_is_dword, policy_set;
	uint32_t local, policy;
	int present;
	uint32_t value; /* effective: the policy copy wins */
	char *key;	/* "<ccs>\\<key>" */
} option;

static void read_option(rp_scan *scan, const uint8_t *inf, size_t inf_len, const char *key,
			const char *value, option *o)
{
	memset(o, 0, sizeof *o);
	o->key = rp_registry_ccs_path(scan->reg, key);
	o->local_is_dword =
	    rp_read_dword(&scan->reg->system, o->key, value, &o->local, &o->local_present);
	o->policy_set = inf && rp_gpttmpl_dword(inf, inf_len, key, value, &o->policy);
	o->present = o->policy_set || o->local_is_dword;
	o->value = o->policy_set ? o->policy : o->local;
}

static void evidence_option(rp_finding *f, rp_scan *scan, const option *o, const char *value)
{
	rp_evidence *e = rp_evidence_value(f, &scan->reg->system, o->key, value, RP_SRC_LOCAL);
	if (o->policy_set) {
		e->note = rp_xstrdup("overridden by the local security policy");
		rp_evidence *p = rp_evidence_copy(f, &(rp_evidence){.source = RP_SRC_FILE});
		p->path = rp_xstrdup(RP_GPTTMPL);
		p->present = 1;
		p->note =
		    rp_xasprintf("[Registry Values] sets %s to %u (effective: applied at every "
				 "policy refresh)",
				 value, o->policy);
	} else if (o->local_present) {
		e->note = rp_xstrdup("effective");
	}
}

static void check_fips(rp_scan *scan, setting *set, const option *fips)
{
	if (!fips->present || fips->value == 0)
		return;
	uint32_t sl = effective(&set[SL]), mel = effective(&set[MEL]);
	int have_sl = set[SL].eff.present || set[SL].fixed;
	if (!have_sl || sl != 0 || mel == 4)
		return;
	rp_finding *f = add_problem(
	    scan, "FIPS mode is on, but the listener uses the RDP security layer below FIPS level",
	    "With 'System cryptography: Use FIPS compliant algorithms' enabled Windows refuses "
	    "the RDP security layer's own RC4 encryption unless MinEncryptionLevel is 4 (FIPS); "
	    "SecurityLayer 0 forces that layer, so every connection is dropped ('an internal "
	    "error has occurred' / 0x904). The fix raises SecurityLayer to 2: TLS with FIPS "
	    "cipher suites carries the session instead (FIPS stays on).",
	    &set[SL]);
	evidence_option(f, scan, fips, "Enabled");
	add_evidence(f, scan, &set[SL]);
	add_evidence(f, scan, &set[MEL]);
	plan_set(f, &set[SL], 2, 0);
}

/* fAllowSecProtocolNegotiation, disabledomaincreds, the domain note. */
static void check_after_handshake(rp_scan *scan, setting *set, const option *ddc)
{
	char *rdp_tcp = rp_registry_ccs_path(scan->reg, RDP_TCP);
	rp_expected neg = {
	    "fAllowSecProtocolNegotiation", 1,
	    "With fAllowSecProtocolNegotiation 0 the listener does not negotiate the "
	    "security protocol: clients that ask for TLS or CredSSP (every current "
	    "client, and every one when NLA is required) are dropped during the "
	    "connection sequence"};
	rp_expect_dwords(scan, "rdp.security", rdp_tcp, &neg, 1);
	free(rdp_tcp);
	if (ddc->present && ddc->value == 1) {
		rp_finding *f = rp_finding_add(
		    scan, "rdp.security", RP_PROBLEM, RP_WARNING,
		    "disabledomaincreds 1: credentials for network authentication may not be "
		    "stored",
		    ddc->policy_set
			? "'Network access: Do not allow storage of passwords and credentials for "
			  "network authentication' is enabled by the local security policy "
			  "(GptTmpl.inf). Credential delegation to the session fails ('your "
			  "credentials did not work') with saved or delegated credentials. It is a "
			  "hardening setting: change it with secpol.msc at the console if RDP "
			  "needs "
			  "it; rdprescue does not edit GptTmpl.inf."
			: "'Network access: Do not allow storage of passwords and credentials for "
			  "network authentication' is enabled. Credential delegation to the "
			  "session "
			  "fails ('your credentials did not work') with saved or delegated "
			  "credentials. It is a hardening setting: it is turned off (0) only with "
			  "--allow-weaker-security, and then credentials may be stored again.");
		evidence_option(f, scan, ddc, "disabledomaincreds");
		if (!ddc->policy_set)
			rp_change_dword_was(f, "SYSTEM", ddc->key, "disabledomaincreds", 0, "1", 1);
	}
	rp_hive_file *sec = scan->reg->security.hive ? &scan->reg->security : NULL;
	rp_value dom = {0};
	int joined =
	    sec && rp_hive_get(sec->hive, "Policy\\PolPrDmS", "", &dom, NULL) == 1 && dom.len >= 8;
	rp_value_free(&dom);
	int nla = !set[UA].eff.present || effective(&set[UA]) == 1;
	if (joined && nla) {
		rp_finding *f = rp_finding_add(
		    scan, "rdp.security", RP_OK, RP_INFO,
		    "domain member with NLA required: domain accounts need a reachable domain "
		    "controller",
		    "Network Level Authentication checks a domain account's credentials before the "
		    "session starts, so the domain controller must be reachable from the server "
		    "(and the machine's trust with the domain intact). When it is not, domain "
		    "logons fail; a local account still works.");
		rp_evidence_value(f, sec, "Policy\\PolPrDmS", "", RP_SRC_LOCAL);
		rp_evidence_effective(f, scan->reg, &set[UA].eff);
	}
}

static void check_combinations(rp_scan *scan, setting *set)
{
	uint32_t sl = effective(&set[SL]), ua = effective(&set[UA]), mel = effective(&set[MEL]);
	int have_sl = set[SL].eff.present || set[SL].fixed;
	int have_ua = set[UA].eff.present || set[UA].fixed;
	int have_mel = set[MEL].eff.present || set[MEL].fixed;
	if (have_sl && have_ua && sl == 0 && ua == 1) {
		rp_finding *f = add_problem(
		    scan,
		    "NLA is required but the security layer is the legacy RDP layer "
		    "(SecurityLayer 0, UserAuthentication 1)",
		    "Network Level Authentication runs CredSSP inside TLS, and SecurityLayer 0 "
		    "offers no TLS, so the server drops the connection before a secure channel "
		    "exists (0x904 / extended 0x7). The fix raises SecurityLayer to 2 (TLS); "
		    "Windows makes a self-signed certificate when none is usable.",
		    &set[SL]);
		add_evidence(f, scan, &set[SL]);
		add_evidence(f, scan, &set[UA]);
		plan_set(f, &set[SL], 2, 0);
		sl = 2;
	}
	if (have_sl && have_mel && sl == 2 && mel == 1) {
		rp_finding *f = add_problem(
		    scan,
		    "SecurityLayer 2 (TLS) with MinEncryptionLevel 1 (Low), which Windows "
		    "documents as incompatible",
		    "With TLS required, the Low encryption level cannot be negotiated and the "
		    "listener refuses clients (0x904 / extended 0x7). The fix raises "
		    "MinEncryptionLevel to 2 (client "
		    "compatible, Windows' default).",
		    &set[MEL]);
		add_evidence(f, scan, &set[SL]);
		add_evidence(f, scan, &set[MEL]);
		plan_set(f, &set[MEL], 2, 0);
	}
}

/* Only on request: the Microsoft troubleshooting step for clients that cannot complete NLA. */
static void weaken(rp_scan *scan, setting *set, int fips_needs_tls)
{
	int nla_on = !set[UA].eff.present || effective(&set[UA]) == 1;
	/* With FIPS on below level 4 the RDP layer cannot be offered: TLS stays required. */
	int tls_only = set[SL].eff.present && effective(&set[SL]) == 2 && !fips_needs_tls;
	if (!nla_on && !tls_only)
		return;
	rp_finding *f = rp_finding_add(
	    scan, rp_id_rdp_security, RP_PROBLEM, RP_WARNING,
	    "weaker security requested: NLA off and the negotiating security layer",
	    "--allow-weaker-security was given: NLA (UserAuthentication) is turned off and "
	    "SecurityLayer set to 1 (negotiate), so clients that fail CredSSP or TLS (broken "
	    "certificate, domain trust lost, unpatched CredSSP) can connect and log on at the "
	    "console. This lowers security: turn NLA back on (UserAuthentication 1, "
	    "SecurityLayer 2) once the cause is repaired.");
	add_evidence(f, scan, &set[UA]);
	add_evidence(f, scan, &set[SL]);
	if (nla_on)
		plan_set(f, &set[UA], 0, 1);
	if (tls_only)
		plan_set(f, &set[SL], 1, 1);
}

int rp_check_rdp_security(rp_scan *scan, rp_err *err)
{
	uint8_t *inf = NULL;
	size_t inf_len = 0;
	if (rp_read_gpttmpl(scan, &inf, &inf_len, err) < 0)
		return -1;
	option fips, ddc;
	read_option(scan, inf, inf_len, FIPS_KEY, "Enabled", &fips);
	read_option(scan, inf, inf_len, LSA_KEY, "disabledomaincreds", &ddc);
	free(inf);
	setting set[3] = {
	    [SL] = {.value = "SecurityLayer", .min = 0, .max = 2, .pol_max = 2, .fallback = 2},
	    [UA] = {.value = "UserAuthentication", .min = 0, .max = 1, .pol_max = 1, .fallback = 1},
	    [MEL] =
		{.value = "MinEncryptionLevel", .min = 1, .max = 4, .pol_max = 3, .fallback = 2},
	};
	for (int i = 0; i < 3; i++)
		rp_effective_dword(scan->reg, RDP_TCP, RP_POLICY_TS, set[i].value, &set[i].eff);
	rp_report_bad_pols(scan, rp_id_rdp_security);
	size_t before = scan->nfindings;
	check_ranges(scan, set);
	check_fips(scan, set, &fips);
	check_combinations(scan, set);
	size_t core = scan->nfindings;
	check_after_handshake(scan, set, &ddc);
	if (scan->allow_weaker)
		weaken(scan, set, fips.present && fips.value && effective(&set[MEL]) != 4);
	/* The OK summary when nothing is wrong (a domain note is no problem). */
	int problems = 0;
	for (size_t i = core; i < scan->nfindings; i++)
		problems |= scan->findings[i].status != RP_OK;
	if (core == before && !problems) {
		char sl[16] = "default", mel[16] = "default";
		if (set[SL].eff.present)
			snprintf(sl, sizeof sl, "%u", set[SL].eff.value);
		if (set[MEL].eff.present)
			snprintf(mel, sizeof mel, "%u", set[MEL].eff.value);
		const char *nla = !set[UA].eff.present ? "default (required)"
				  : set[UA].eff.value  ? "required"
						       : "off";
		char *sum =
		    rp_xasprintf("SecurityLayer %s, NLA %s, MinEncryptionLevel %s", sl, nla, mel);
		rp_finding *f = rp_finding_add(scan, rp_id_rdp_security, RP_OK, RP_INFO, sum, NULL);
		free(sum);
		for (int i = 0; i < 3; i++)
			add_evidence(f, scan, &set[i]);
	}
	free(fips.key);
	free(ddc.key);
	return 0;
}
