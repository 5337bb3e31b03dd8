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
 */
#include "checks/checks.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>

#define RDP_TCP "Control\\Terminal Server\\WinStations\\RDP-Tcp"

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
static void weaken(rp_scan *scan, setting *set)
{
	int nla_on = !set[UA].eff.present || effective(&set[UA]) == 1;
	int tls_only = set[SL].eff.present && effective(&set[SL]) == 2;
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
	(void)err;
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
	check_combinations(scan, set);
	if (scan->allow_weaker)
		weaken(scan, set);
	if (scan->nfindings == before) {
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
	return 0;
}
