/*
 * rdp_access.c — rdp.access: is Remote Desktop allowed at all?
 *
 * fDenyTSConnections decides, and a Group Policy copy under SOFTWARE\Policies beats the local
 * value.  An absent local value is a problem too: the listener then stops listening while the
 * UI still claims RDP is on (rdp-registry.md section 2.1).  TSEnabled, TSUserEnabled and
 * TSServerDrainMode can also keep every connection out.  The fix changes the source of the
 * effective value and, so that removing a policy later does not bring the problem back, the
 * local value as well.
 */
#include "checks/checks.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>

#define TS_KEY "Control\\Terminal Server"

static void check_deny(rp_scan *scan)
{
	rp_registry *reg = scan->reg;
	rp_effective eff;
	rp_effective_dword(reg, TS_KEY, RP_POLICY_TS, "fDenyTSConnections", &eff);
	char *local_key = rp_registry_ccs_path(reg, TS_KEY);
	char lb[16], pb[16];
	const char *local_s =
	    rp_dword_shown(eff.local_present, eff.local_is_dword, eff.local, lb, sizeof lb);
	const char *pol_s =
	    rp_dword_shown(eff.policy_present, eff.policy_is_dword, eff.policy, pb, sizeof pb);

	int policy_denies = eff.policy_present && !(eff.policy_is_dword && eff.policy == 0);
	int local_denies = !(eff.local_present && eff.local_is_dword && eff.local == 0);
	rp_finding *f;
	if (policy_denies) {
		char *sum = rp_xasprintf("Remote Desktop is denied by Group Policy "
					 "(SOFTWARE\\%s fDenyTSConnections = %s)",
					 RP_POLICY_TS, pol_s);
		f = rp_finding_add(
		    scan, "rdp.access", RP_PROBLEM, RP_ERROR, sum,
		    "A policy copy of fDenyTSConnections overrides the local setting and forbids "
		    "Remote Desktop, so the server refuses every RDP connection; the client shows "
		    "0x904 / extended 0x7 or cannot connect at all. The fix sets the policy value "
		    "to 0 (allow) and the local value too.");
		free(sum);
	} else if (!eff.policy_present && local_denies) {
		char *sum =
		    rp_xasprintf("Remote Desktop is turned off (fDenyTSConnections = %s)", local_s);
		f = rp_finding_add(
		    scan, "rdp.access", RP_PROBLEM, RP_ERROR, sum,
		    "Terminal Server\\fDenyTSConnections must be 0 for the RDP listener to accept "
		    "connections; when it is 1 or missing the server drops every connection (the "
		    "client shows 0x904 / extended 0x7 or 'can't connect'). The fix sets it to 0.");
		free(sum);
	} else {
		const char *note = eff.policy_present && local_denies
				       ? "Remote Desktop is allowed by Group Policy (the local "
					 "value alone would deny it)"
				       : "Remote Desktop is allowed";
		f = rp_finding_add(scan, "rdp.access", RP_OK, RP_INFO, note, NULL);
	}
	rp_evidence_value(f, &reg->system, local_key, "fDenyTSConnections", RP_SRC_LOCAL);
	rp_evidence_value(f, &reg->software, RP_POLICY_TS, "fDenyTSConnections", RP_SRC_POLICY);
	f->evidence[eff.policy_present ? 1 : 0].note = rp_xstrdup("effective (policy beats local)");

	if (f->status == RP_PROBLEM) {
		if (policy_denies) {
			char *what =
			    rp_xasprintf("set SOFTWARE\\%s\\fDenyTSConnections to 0 (was %s)",
					 RP_POLICY_TS, pol_s);
			rp_change_dword(f, "SOFTWARE", RP_POLICY_TS, "fDenyTSConnections", 0, 0,
					what);
			free(what);
		}
		if (local_denies) {
			char *what = rp_xasprintf(
			    "set SYSTEM\\%s\\fDenyTSConnections to 0 (was %s)", local_key, local_s);
			rp_change_dword(f, "SYSTEM", local_key, "fDenyTSConnections", 0, 0, what);
			free(what);
		}
	}
	free(local_key);
}

static const rp_expected switches[] = {
    {"TSEnabled", 1, "TSEnabled = 0 disables the Terminal Server component: nobody can connect"},
    {"TSUserEnabled", 0,
     "TSUserEnabled = 1 makes the server answer \"you can't connect to the "
     "terminal server\""},
    {"TSServerDrainMode", 0,
     "TSServerDrainMode = 1 puts the server in drain mode: it refuses "
     "new sessions"},
};

int rp_check_rdp_access(rp_scan *scan, rp_err *err)
{
	(void)err;
	check_deny(scan);
	char *key = rp_registry_ccs_path(scan->reg, TS_KEY);
	rp_expect_dwords(scan, "rdp.access", key, switches, sizeof switches / sizeof switches[0]);
	free(key);
	return 0;
}
