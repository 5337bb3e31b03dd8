/*
 * net_dhcp.c — net.dhcp: will the DHCP Client service run at boot?
 *
 * Azure, AWS and GCP hand out a VM's address by DHCP: with the DHCP Client disabled (or unable
 * to start) the VM comes up without an address and nothing reaches it.  Only
 * Services\Dhcp of the control set Windows boots (Select\Current) is read and written.
 * Windows' values, read on the real Windows 7 SP1 SYSTEM hive: Start 2 (automatic), ObjectName
 * "NT Authority\LocalService", Type 0x20 (shared svchost process).  Type 16 (own process) also
 * runs, so only a type that is no Win32 service at all is changed.
 */
#include "checks/checks.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>

#define CHECK rp_id_net_dhcp
#define LOCAL_SERVICE "NT Authority\\LocalService"
#define CLOUD_WORDS                                                                                \
	"Azure, AWS and GCP give a VM its address by DHCP, so the VM boots without an address "    \
	"and nothing, RDP included, can reach it"

static void check_start(rp_scan *scan, const char *key, int *healthy)
{
	rp_hive_file *system = &scan->reg->system;
	uint32_t start = 0;
	int present = 0;
	int is_dword = rp_read_dword(system, key, "Start", &start, &present);
	if (is_dword && start == 2)
		return;
	*healthy = 0;
	char buf[16];
	const char *was = rp_dword_shown(present, is_dword, start, buf, sizeof buf);
	char *sum =
	    is_dword && start == 4
		? rp_xstrdup("the DHCP Client service is disabled (Start 4)")
		: rp_xasprintf("the DHCP Client service does not start at boot (Start %s)", was);
	char *explain = rp_xasprintf(
	    "The DHCP Client (Services\\Dhcp) must start with Windows to obtain and renew the "
	    "machine's address; %s. The fix sets Start to 2 (automatic), Windows' default.",
	    CLOUD_WORDS);
	rp_finding *f = rp_finding_add(scan, CHECK, RP_PROBLEM, RP_ERROR, sum, explain);
	rp_evidence_value(f, system, key, "Start", RP_SRC_LOCAL);
	rp_change_dword_was(f, "SYSTEM", key, "Start", 2, was, 0);
	free(sum);
	free(explain);
}

static void check_account(rp_scan *scan, const char *key, int *healthy)
{
	char *explain = rp_xasprintf(
	    "The DHCP Client runs in the LocalServiceNetworkRestricted svchost group as LOCAL "
	    "SERVICE; under another account the service control manager cannot start it in that "
	    "process (error 1069 or 1297) and %s. The fix sets ObjectName back to %s.",
	    CLOUD_WORDS, LOCAL_SERVICE);
	if (!rp_expect_service_account(scan, CHECK, key, "the DHCP Client", LOCAL_SERVICE,
				       "NT AUTHORITY\\LOCAL SERVICE", explain))
		*healthy = 0;
	free(explain);
}

static void check_type(rp_scan *scan, const char *key, int *healthy)
{
	char *why = rp_xasprintf("with another type it never starts and %s. The fix sets Type 32 "
				 "(0x20), Windows' value.",
				 CLOUD_WORDS);
	if (!rp_expect_service_type(scan, CHECK, key, "the DHCP Client", 0x20, why))
		*healthy = 0;
	free(why);
}

int rp_check_net_dhcp(rp_scan *scan, rp_err *err)
{
	rp_hive_file *system = &scan->reg->system;
	char *key = rp_registry_ccs_path(scan->reg, "Services\\Dhcp");
	int exists = rp_hive_key_exists(system->hive, key, err);
	if (exists < 0) {
		free(key);
		return -1;
	}
	if (!exists) {
		char *sum = rp_xasprintf("the DHCP Client service is missing (SYSTEM\\%s)", key);
		rp_finding *f = rp_finding_add(
		    scan, CHECK, RP_PROBLEM, RP_ERROR, sum,
		    "The key of the DHCP Client service is gone, so Windows cannot obtain an "
		    "address by DHCP; " CLOUD_WORDS ". rdprescue does not invent a service "
		    "definition: restore it from a healthy machine of the same Windows build or "
		    "repair Windows (DISM /RestoreHealth, sfc).");
		rp_evidence_value(f, system, key, "Start", RP_SRC_LOCAL);
		free(sum);
		free(key);
		return 0;
	}
	int healthy = 1;
	check_start(scan, key, &healthy);
	check_account(scan, key, &healthy);
	check_type(scan, key, &healthy);
	if (healthy) {
		rp_finding *ok = rp_finding_add(scan, CHECK, RP_OK, RP_INFO,
						"the DHCP Client service starts at boot", NULL);
		rp_evidence_value(ok, system, key, "Start", RP_SRC_LOCAL);
		rp_evidence_value(ok, system, key, "ObjectName", RP_SRC_LOCAL);
		rp_evidence_value(ok, system, key, "Type", RP_SRC_LOCAL);
	}
	free(key);
	return 0;
}
