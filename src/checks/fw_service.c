/*
 * fw_service.c — fw.service: Windows Firewall and the Base Filtering Engine as services.
 *
 * With MpsSvc (Windows Firewall) or BFE (Base Filtering Engine) unable to start, the boot-time
 * filters Windows installs stay in place and block every inbound connection, RDP included;
 * "the firewall is off" in the profile settings does not help.  Windows' start types, read on
 * the real Windows 7 SP1 SYSTEM hive: MpsSvc 2, BFE 2 (automatic), mpsdrv 3 (manual, the
 * firewall's driver, started by MpsSvc).  A DebugedLoopbackApps value under
 * mpssvc\Parameters\AppCs of a type other than REG_SZ makes MpsSvc stop at every boot (Azure
 * repair-script-library, win-fix-firewall-service).  The fix restores the start types and
 * that value's type; it never changes the firewall's policy.  Only the control set Windows
 * boots is read and written.
 */
#include "checks/checks.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>

#define CHECK rp_id_fw_service
#define BLOCKED                                                                                    \
	"Windows keeps its boot-time filters, which block every inbound connection: the RDP "      \
	"client times out although the port is open in the firewall's rules"

typedef struct fw_service {
	const char *name;
	uint32_t start;	  /* Windows' default Start */
	int must_auto;	  /* anything but automatic is a problem */
	const char *role; /* plain words */
} fw_service;

static const fw_service services[] = {
    {"MpsSvc", 2, 1,
     "Windows Firewall (MpsSvc) must start at boot to replace the boot-time filters"},
    {"BFE", 2, 1,
     "the Base Filtering Engine (BFE) runs the Windows Filtering Platform; the firewall and "
     "IPsec cannot start without it"},
    {"mpsdrv", 3, 0, "the Windows Firewall driver (mpsdrv) is started by MpsSvc"},
};

/* Adds a problem finding unless s starts as Windows starts it; returns 1 when it does. */
static int check_service(rp_scan *scan, const fw_service *s)
{
	rp_hive_file *system = &scan->reg->system;
	char *rest = rp_xasprintf("Services\\%s", s->name);
	char *key = rp_registry_ccs_path(scan->reg, rest);
	free(rest);
	uint32_t start = 0;
	int present = 0;
	int is_dword = rp_read_dword(system, key, "Start", &start, &present);
	int good = is_dword && (s->must_auto ? start == 2 : start <= 3);
	if (good) {
		free(key);
		return 1;
	}
	char buf[16];
	const char *was = rp_dword_shown(present, is_dword, start, buf, sizeof buf);
	char *sum = is_dword && start == 4
			? rp_xasprintf("service %s is disabled (Start 4)", s->name)
			: rp_xasprintf("service %s does not start as Windows starts it (Start %s)",
				       s->name, was);
	char *explain =
	    rp_xasprintf("%s; while it cannot start, %s. The fix sets Start to %u "
			 "(%s), Windows' default; the firewall's rules and profile "
			 "settings are left as they are.",
			 s->role, BLOCKED, s->start, s->start == 2 ? "automatic" : "manual");
	rp_finding *f = rp_finding_add(scan, CHECK, RP_PROBLEM, RP_ERROR, sum, explain);
	rp_evidence_value(f, system, key, "Start", RP_SRC_LOCAL);
	if (present || rp_hive_key_exists(system->hive, key, NULL) == 1)
		rp_change_dword_was(f, "SYSTEM", key, "Start", s->start, was, 0);
	else {
		free(f->explain);
		f->explain = rp_xasprintf(
		    "%s, and its service key is missing: %s. rdprescue does not invent a service "
		    "definition: restore it from a healthy machine of the same Windows build or "
		    "repair Windows (DISM /RestoreHealth, sfc).",
		    s->role, BLOCKED);
	}
	free(sum);
	free(explain);
	free(key);
	return 0;
}

/* mpssvc\Parameters\AppCs\DebugedLoopbackApps must be a REG_SZ when present. */
static void check_loopback(rp_scan *scan, int *healthy)
{
	rp_hive_file *system = &scan->reg->system;
	char *key = rp_registry_ccs_path(scan->reg, "Services\\mpssvc\\Parameters\\AppCs");
	rp_value v = {0};
	if (rp_hive_get(system->hive, key, "DebugedLoopbackApps", &v, NULL) == 1 &&
	    v.type != RP_REG_SZ) {
		*healthy = 0;
		char *sum = rp_xasprintf("DebugedLoopbackApps under mpssvc\\Parameters\\AppCs is "
					 "of type %u, not REG_SZ",
					 v.type);
		char *explain = rp_xasprintf(
		    "Windows Firewall reads AppCs\\DebugedLoopbackApps as a string; of another "
		    "type it makes MpsSvc stop at every boot, and %s. The fix writes the value as "
		    "an empty REG_SZ (the old data stays in the report and the backup).",
		    BLOCKED);
		rp_finding *f = rp_finding_add(scan, CHECK, RP_PROBLEM, RP_ERROR, sum, explain);
		rp_evidence_value(f, system, key, "DebugedLoopbackApps", RP_SRC_LOCAL);
		char *shown = rp_value_format(&v);
		char *what = rp_xasprintf(
		    "set SYSTEM\\%s\\DebugedLoopbackApps to \"\" (REG_SZ; was type %u, %s)", key,
		    v.type, shown);
		rp_change_sz(f, "SYSTEM", key, "DebugedLoopbackApps", "", 0, what);
		free(what);
		free(shown);
		free(explain);
		free(sum);
	}
	rp_value_free(&v);
	free(key);
}

int rp_check_fw_service(rp_scan *scan, rp_err *err)
{
	(void)err;
	size_t n = sizeof services / sizeof services[0];
	int good[sizeof services / sizeof services[0]], healthy = 1, any = 0;
	for (size_t i = 0; i < n; i++) {
		healthy &= good[i] = check_service(scan, &services[i]);
		any |= good[i];
	}
	check_loopback(scan, &healthy);
	if (!any)
		return 0;
	rp_finding *ok =
	    rp_finding_add(scan, CHECK, RP_OK, RP_INFO,
			   healthy ? "Windows Firewall and the Base Filtering Engine start at boot"
				   : "the other firewall services start as Windows starts them",
			   NULL);
	for (size_t i = 0; i < n; i++) {
		if (!good[i])
			continue;
		char *rest = rp_xasprintf("Services\\%s", services[i].name);
		char *key = rp_registry_ccs_path(scan->reg, rest);
		rp_evidence_value(ok, &scan->reg->system, key, "Start", RP_SRC_LOCAL);
		free(key);
		free(rest);
	}
	return 0;
}
