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

static void add_evidence(rp_finding *f, rp_scan *scan, const char *key, const setting *s)
{
	size_t first = f->nevidence;
	rp_evidence_value(f, &scan->reg->system, key, s->value, RP_SRC_LOCAL);
	rp_evidence_value(f, &scan->reg->software, RP_POLICY_TS, s->value, RP_SRC_POLICY);
	if (s->eff.present)
		f->evidence[first + (s->eff.policy_present ? 1 : 0)].note =
		    rp_xstrdup("effective (policy beats local)");
}

/* Plans one copy of s := v: the policy copy (SOFTWARE) or the local one (SYSTEM RDP-Tcp). */
static void plan_copy(rp_finding *f, const char *key, const setting *s, int policy, uint32_t v,
		      int weakens)
{
	char buf[16];
	const char *was =
	    policy ? rp_dword_shown(1, s->eff.policy_is_dword, s->eff.policy, buf, sizeof buf)
		   : rp_dword_shown(s->eff.local_present, s->eff.local_is_dword, s->eff.local, buf,
				    sizeof buf);
	const char *hive = policy ? "SOFTWARE" : "SYSTEM", *k = policy ? RP_POLICY_TS : key;
	char *what = rp_xasprintf("set %s\\%s\\%s to %u (was %s)", hive, k, s->value, v, was);
	rp_change_dword(f, hive, k, s->value, v, weakens, what);
	free(what);
}

/* Plans s := v at the source of its effective value (the policy when there is one); a
 * weakening change goes to both copies, so that neither brings the stricter value back. */
static void plan_set(rp_finding *f, const char *key, setting *s, uint32_t v, int weakens)
{
	if (s->eff.policy_present)
		plan_copy(f, key, s, 1, v, weakens);
	if (!s->eff.policy_present || weakens)
		plan_copy(f, key, s, 0, v, weakens);
	s->fixed = 1;
	s->planned = v;
}

static uint32_t effective(const setting *s)
{
	return s->fixed ? s->planned : s->eff.value;
}

/* Out-of-range copies, local or policy: broken, whatever wins. */
static void check_ranges(rp_scan *scan, const char *key, setting *set)
{
	for (int i = 0; i < 3; i++) {
		setting *s = &set[i];
		int local_bad =
		    s->eff.local_present && !valid(s, s->eff.local_is_dword, s->eff.local, s->max);
		int pol_bad = s->eff.policy_present &&
			      !valid(s, s->eff.policy_is_dword, s->eff.policy, s->pol_max);
		if (!local_bad && !pol_bad)
			continue;
		char *sum = rp_xasprintf("%s holds a value Windows cannot use (%s copy)", s->value,
					 pol_bad ? "policy" : "local");
		char *explain = rp_xasprintf(
		    "Windows does not correct an out-of-range %s; the listener then fails the "
		    "security negotiation and the client shows 0x904 / extended 0x7. The fix sets "
		    "Windows' default, %u.",
		    s->value, s->fallback);
		rp_finding *f =
		    rp_finding_add(scan, "rdp.security", RP_PROBLEM, RP_ERROR, sum, explain);
		free(sum);
		free(explain);
		add_evidence(f, scan, key, s);
		if (pol_bad)
			plan_copy(f, key, s, 1, s->fallback, 0);
		if (local_bad)
			plan_copy(f, key, s, 0, s->fallback, 0);
		s->fixed = 1;
		s->planned = s->fallback;
	}
}

static void check_combinations(rp_scan *scan, const char *key, setting *set)
{
	uint32_t sl = effective(&set[SL]), ua = effective(&set[UA]), mel = effective(&set[MEL]);
	int have_sl = set[SL].eff.present || set[SL].fixed;
	int have_ua = set[UA].eff.present || set[UA].fixed;
	int have_mel = set[MEL].eff.present || set[MEL].fixed;
	if (have_sl && have_ua && sl == 0 && ua == 1) {
		rp_finding *f = rp_finding_add(
		    scan, "rdp.security", RP_PROBLEM, RP_ERROR,
		    "NLA is required but the security layer is the legacy RDP layer "
		    "(SecurityLayer 0, UserAuthentication 1)",
		    "Network Level Authentication runs CredSSP inside TLS, and SecurityLayer 0 "
		    "offers no TLS, so the server drops the connection before a secure channel "
		    "exists (0x904 / extended 0x7). The fix raises SecurityLayer to 2 (TLS); "
		    "Windows makes a self-signed certificate when none is usable.");
		add_evidence(f, scan, key, &set[SL]);
		add_evidence(f, scan, key, &set[UA]);
		plan_set(f, key, &set[SL], 2, 0);
		sl = 2;
	}
	if (have_sl && have_mel && sl == 2 && mel == 1) {
		rp_finding *f = rp_finding_add(
		    scan, "rdp.security", RP_PROBLEM, RP_ERROR,
		    "SecurityLayer 2 (TLS) with MinEncryptionLevel 1 (Low), which Windows "
		    "documents as incompatible",
		    "With TLS required, the Low encryption level cannot be negotiated and the "
		    "listener refuses clients. The fix raises MinEncryptionLevel to 2 (client "
		    "compatible, Windows' default).");
		add_evidence(f, scan, key, &set[SL]);
		add_evidence(f, scan, key, &set[MEL]);
		plan_set(f, key, &set[MEL], 2, 0);
	}
}

/* Only on request: the Microsoft troubleshooting step for clients that cannot complete NLA. */
static void weaken(rp_scan *scan, const char *key, setting *set)
{
	int nla_on = !set[UA].eff.present || effective(&set[UA]) == 1;
	int tls_only = set[SL].eff.present && effective(&set[SL]) == 2;
	if (!nla_on && !tls_only)
		return;
	rp_finding *f = rp_finding_add(
	    scan, "rdp.security", RP_PROBLEM, RP_WARNING,
	    "weaker security requested: NLA off and the negotiating security layer",
	    "--allow-weaker-security was given: NLA (UserAuthentication) is turned off and "
	    "SecurityLayer set to 1 (negotiate), so clients that fail CredSSP or TLS (broken "
	    "certificate, domain trust lost, unpatched CredSSP) can connect and log on at the "
	    "console. This lowers security: turn NLA back on (UserAuthentication 1, "
	    "SecurityLayer 2) once the cause is repaired.");
	add_evidence(f, scan, key, &set[UA]);
	add_evidence(f, scan, key, &set[SL]);
	if (nla_on)
		plan_set(f, key, &set[UA], 0, 1);
	if (tls_only)
		plan_set(f, key, &set[SL], 1, 1);
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
	char *key = rp_registry_ccs_path(scan->reg, RDP_TCP);
	size_t before = scan->nfindings;
	check_ranges(scan, key, set);
	check_combinations(scan, key, set);
	if (scan->allow_weaker)
		weaken(scan, key, set);
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
		rp_finding *f = rp_finding_add(scan, "rdp.security", RP_OK, RP_INFO, sum, NULL);
		free(sum);
		for (int i = 0; i < 3; i++)
			add_evidence(f, scan, key, &set[i]);
	}
	free(key);
	return 0;
}
