/*
 * rds_licensing.c — rds.licensing: can a Remote Desktop Session Host hand out sessions?
 *
 * Only for session hosts (the RDS-RD-Server role installed: SOFTWARE\Microsoft\ServerManager\
 * ServicingStorage\ServerComponentCache\RDS-RD-Server InstallState 1).  A session host needs a
 * licensing mode (2 per device, 4 per user) and a license server; without them it runs on the
 * 120-day grace period (SYSTEM <ccs>\Control\Terminal Server\RCM\GracePeriod) and, once that
 * has ended, refuses every session but the administrative ones ("no Remote Desktop license
 * servers available").  Mode and servers come from the local settings (RCM\Licensing Core
 * LicensingMode, TermService\Parameters\LicenseServers SpecifiedLicenseServers) or, winning,
 * Group Policy (Terminal Services LicensingMode and LicenseServers).  Report only, with
 * Microsoft's advice: connect with `mstsc /admin`, which needs no licence, and configure
 * licensing (or remove the role) there.
 */
#include "checks/checks.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK rp_id_rds_licensing
#define ROLE_KEY "Microsoft\\ServerManager\\ServicingStorage\\ServerComponentCache\\RDS-RD-Server"
#define CORE "Control\\Terminal Server\\RCM\\Licensing Core"
#define GRACE "Control\\Terminal Server\\RCM\\GracePeriod"
#define SERVERS "Services\\TermService\\Parameters\\LicenseServers"

/* REG_SZ or REG_MULTI_SZ as one "a, b" string (malloc'd, escaped), NULL when empty or absent. */
static char *server_list(rp_hive_file *hf, const char *key, const char *value)
{
	rp_value v = {0};
	if (rp_hive_get(hf->hive, key, value, &v, NULL) != 1)
		return NULL;
	char *out = NULL;
	if (v.type == RP_REG_SZ || v.type == RP_REG_EXPAND_SZ) {
		char *s = rp_value_string(&v);
		if (s && *s)
			out = rp_escape(s);
		free(s);
	} else if (v.type == RP_REG_MULTI_SZ) {
		size_t start = 0;
		for (size_t i = 0; i + 1 < v.len; i += 2) {
			if (v.data[i] || v.data[i + 1])
				continue;
			if (i > start) {
				char *s = rp_utf16_to_utf8(v.data + start, i - start);
				char *e = s ? rp_escape(s) : rp_xstrdup("?");
				char *n =
				    rp_xasprintf("%s%s%s", out ? out : "", out ? ", " : "", e);
				free(out);
				free(e);
				free(s);
				out = n;
			}
			start = i + 2;
		}
	}
	rp_value_free(&v);
	return out;
}

static const char *mode_name(uint32_t m)
{
	return m == 2 ? "per device" : m == 4 ? "per user" : NULL;
}

int rp_check_rds_licensing(rp_scan *scan, rp_err *err)
{
	rp_registry *reg = scan->reg;
	uint32_t state = 0;
	int present = 0;
	int is_dword = rp_read_dword(&reg->software, ROLE_KEY, "InstallState", &state, &present);
	if (!is_dword || state != 1) {
		rp_finding *f = rp_finding_add(
		    scan, CHECK, RP_OK, RP_INFO,
		    "not a Remote Desktop Session Host: no RDS licence needed (two administrative "
		    "connections are always allowed)",
		    NULL);
		rp_evidence_value(f, &reg->software, ROLE_KEY, "InstallState", RP_SRC_LOCAL);
		return 0;
	}
	rp_effective mode;
	rp_effective_dword(reg, CORE, RP_POLICY_TS, "LicensingMode", &mode);
	char *core = rp_registry_ccs_path(reg, CORE);
	char *grace = rp_registry_ccs_path(reg, GRACE);
	char *servers_key = rp_registry_ccs_path(reg, SERVERS);
	char *local_servers = server_list(&reg->system, servers_key, "SpecifiedLicenseServers");
	char *policy_servers = server_list(&reg->software, RP_POLICY_TS, "LicenseServers");
	const char *servers = policy_servers ? policy_servers : local_servers;
	const char *mname = mode.present && mode.is_dword ? mode_name(mode.value) : NULL;
	char **gvals = NULL;
	size_t ngrace = 0;
	int grace_key = rp_hive_key_exists(reg->system.hive, grace, err);
	if (grace_key < 0) {
		free(core);
		free(grace);
		free(servers_key);
		free(local_servers);
		free(policy_servers);
		return -1;
	}
	if (grace_key == 1)
		rp_hive_values(reg->system.hive, grace, &gvals, &ngrace, NULL);
	char mbuf[32];
	if (!mname)
		snprintf(mbuf, sizeof mbuf, "%s",
			 !mode.present	 ? "not set"
			 : mode.is_dword ? (mode.value == 5 ? "5, not configured" : "unknown")
					 : "not a REG_DWORD");
	const char *grace_state =
	    ngrace ? "started: GracePeriod holds its timestamp" : "none recorded yet";
	rp_finding *f;
	if (mname && servers) {
		char *sum = rp_xasprintf("session host licensed %s from %s (%s)", mname, servers,
					 policy_servers ? "Group Policy" : "local setting");
		f = rp_finding_add(scan, CHECK, RP_OK, RP_INFO, sum, NULL);
		free(sum);
	} else {
		char *sum =
		    rp_xasprintf("session host without %s%s%s: it lives on the 120-day grace "
				 "period (%s)",
				 mname ? "" : "a licensing mode", !mname && !servers ? " and " : "",
				 servers ? "" : "a license server", grace_state);
		char *explain = rp_xasprintf(
		    "The Remote Desktop Session Host role is installed, but licensing is not "
		    "configured (LicensingMode %s, license servers: %s). During the grace period "
		    "users can connect; after it Windows refuses every session except the "
		    "administrative ones, and the client reports that no Remote Desktop license "
		    "servers are available. Microsoft's advice: connect with 'mstsc /admin' (an "
		    "administrative session needs no licence), then set the licensing mode and "
		    "license server (Group Policy: Remote Desktop Services > RD Licensing) or "
		    "remove "
		    "the role if it is not needed. rdprescue reports it only: a licence cannot be "
		    "made offline.",
		    mname ? mname : mbuf, servers ? servers : "none");
		f = rp_finding_add(scan, CHECK, RP_PROBLEM, RP_WARNING, sum, explain);
		free(sum);
		free(explain);
	}
	rp_evidence_value(f, &reg->software, ROLE_KEY, "InstallState", RP_SRC_LOCAL);
	rp_evidence_effective(f, reg, &mode);
	rp_evidence_value(f, &reg->system, servers_key, "SpecifiedLicenseServers", RP_SRC_LOCAL);
	rp_evidence_value(f, &reg->software, RP_POLICY_TS, "LicenseServers", RP_SRC_POLICY);
	for (size_t i = 0; i < ngrace; i++) {
		rp_evidence *e = rp_evidence_value(f, &reg->system, grace, gvals[i], RP_SRC_LOCAL);
		e->note = rp_xstrdup("grace period timestamp (protected; not decoded offline)");
	}
	if (!ngrace) {
		rp_evidence *e = rp_evidence_copy(
		    f, &(rp_evidence){.hive = "SYSTEM", .key = grace, .source = RP_SRC_LOCAL});
		e->note = rp_xstrdup(grace_key ? "key holds no values" : "key absent");
	}
	rp_names_free(gvals, ngrace);
	free(core);
	free(grace);
	free(servers_key);
	free(local_servers);
	free(policy_servers);
	return 0;
}
