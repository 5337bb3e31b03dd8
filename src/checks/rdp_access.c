/*
 * rdp_access.c — rdp.access: is Remote Desktop allowed at all?
 *
 * fDenyTSConnections decides, and a Group Policy copy under SOFTWARE\Policies beats the local
 * value, and the Registry.pol files rewrite that copy at every policy refresh (checks.h,
 * rp_effective).  An absent local value is a problem too: the listener then stops listening
 * while the UI still claims RDP is on (rdp-registry.md section 2.1).  TSEnabled, TSUserEnabled
 * and TSServerDrainMode can also keep every connection out.  The fix changes the source of the
 * effective value (a local Registry.pol entry is set to 0, "Allow users to connect remotely:
 * Enabled") and, so that removing a policy later does not bring the problem back, the local
 * value as well.
 */
#include "checks/checks.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS_KEY "Control\\Terminal Server"

static void check_deny(rp_scan *scan)
{
	rp_registry *reg = scan->reg;
	rp_effective eff;
	rp_effective_dword(reg, TS_KEY, RP_POLICY_TS, "fDenyTSConnections", &eff);
	char buf[16];
	const char *shown = rp_dword_shown(eff.present, eff.is_dword, eff.value, buf, sizeof buf);
	int by_policy = eff.source && strcmp(eff.source, RP_SRC_LOCAL) != 0;
	int denies = !(eff.present && eff.is_dword && eff.value == 0);
	int local_denies = !(eff.local_present && eff.local_is_dword && eff.local == 0);
	rp_finding *f;
	if (denies && by_policy) {
		char *origin = rp_effective_origin(&eff);
		char *sum = rp_xasprintf("Remote Desktop is denied by %s (fDenyTSConnections = %s)",
					 origin, shown);
		char *explain = rp_effective_explain(
		    &eff,
		    "A policy copy of fDenyTSConnections overrides the local setting and forbids "
		    "Remote Desktop, so the server refuses every RDP connection; the client shows "
		    "0x904 / extended 0x7 or cannot connect at all. The fix sets the policy value "
		    "to 0 (allow), and the local value too when it is not 0.");
		f = rp_finding_add(scan, rp_id_rdp_access, RP_PROBLEM, RP_ERROR, sum, explain);
		free(origin);
		free(sum);
		free(explain);
	} else if (denies) {
		char *sum =
		    rp_xasprintf("Remote Desktop is turned off (fDenyTSConnections = %s)", shown);
		char *explain = rp_effective_explain(
		    &eff,
		    "Terminal Server\\fDenyTSConnections must be 0 for the RDP listener to accept "
		    "connections; when it is 1 or missing the server drops every connection (the "
		    "client shows 0x904 / extended 0x7 or 'can't connect'). The fix sets it to 0.");
		f = rp_finding_add(scan, rp_id_rdp_access, RP_PROBLEM, RP_ERROR, sum, explain);
		free(sum);
		free(explain);
	} else {
		char *origin = rp_effective_origin(&eff);
		char *note = by_policy && local_denies
				 ? rp_xasprintf("Remote Desktop is allowed by %s (the local value "
						"alone would deny it)",
						origin)
				 : rp_xasprintf("Remote Desktop is allowed (by %s)", origin);
		f = rp_finding_add(scan, rp_id_rdp_access, RP_OK, RP_INFO, note, NULL);
		free(origin);
		free(note);
	}
	rp_evidence_effective(f, reg, &eff);
	if (f->status == RP_PROBLEM)
		rp_plan_effective(f, &eff, 0, RP_PLAN_LOCAL);
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
	rp_report_bad_pols(scan, rp_id_rdp_access);
	check_deny(scan);
	char *key = rp_registry_ccs_path(scan->reg, TS_KEY);
	rp_expect_dwords(scan, rp_id_rdp_access, key, switches,
			 sizeof switches / sizeof switches[0]);
	free(key);
	return 0;
}
