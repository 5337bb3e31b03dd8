/*
 * net_adapter.c — net.adapter: is a network adapter disabled?
 *
 * Every physical adapter of the network class (Control\Class\{4d36e972-...}\NNNN with
 * Characteristics bit NCF_PHYSICAL 0x4) is looked up in the device tree
 * (Enum\<DeviceInstanceID>): ConfigFlags bit 0x1 (CONFIGFLAG_DISABLED) is "disabled in Device
 * Manager".  Its driver service (the device node's Service value, else the class key's
 * Ndi\Service) disabled (Start 4) keeps the
 * adapter from starting as well.  Either way the machine has no network.  The fix clears the
 * bit (the other ConfigFlags bits are kept) and sets the driver's Start to 3 (demand: Windows
 * starts network adapter drivers when the device appears, as on the real Windows 7 hive).
 * Only the control set Windows boots is read and written.
 */
#include "checks/checks.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK rp_id_net_adapter
#define NET_CLASS "Control\\Class\\{4d36e972-e325-11ce-bfc1-08002be10318}"
#define NCF_PHYSICAL 0x4u
#define CONFIGFLAG_DISABLED 0x1u

/* Class subkeys are four decimal digits ("0007"); "Properties" and others are not adapters. */
static int is_instance(const char *name)
{
	if (strlen(name) != 4)
		return 0;
	for (int i = 0; i < 4; i++)
		if (name[i] < '0' || name[i] > '9')
			return 0;
	return 1;
}

typedef struct adapter {
	char *cls;    /* class key */
	char *desc;   /* DriverDesc, escaped */
	char *device; /* DeviceInstanceID (raw) */
	char *svc;    /* Service (raw) */
} adapter;

static int check_device(rp_scan *scan, const adapter *a)
{
	rp_hive_file *system = &scan->reg->system;
	char *rest = rp_xasprintf("Enum\\%s", a->device);
	char *key = rp_registry_ccs_path(scan->reg, rest);
	free(rest);
	uint32_t flags = 0;
	int present = 0;
	int good = !rp_read_dword(system, key, "ConfigFlags", &flags, &present) ||
		   !(flags & CONFIGFLAG_DISABLED);
	if (!good) {
		char *dev = rp_escape(a->device);
		char *sum = rp_xasprintf(
		    "network adapter \"%s\" (%s) is disabled in Device Manager", a->desc, dev);
		rp_finding *f = rp_finding_add(
		    scan, CHECK, RP_PROBLEM, RP_ERROR, sum,
		    "The adapter's device node has CONFIGFLAG_DISABLED (ConfigFlags bit 0x1): "
		    "Windows does not start it, the machine has no network on it and nothing, RDP "
		    "included, can reach it. The fix clears that bit (Device Manager's \"Enable "
		    "device\"); the other ConfigFlags bits are kept.");
		rp_evidence_value(f, system, a->cls, "DriverDesc", RP_SRC_LOCAL);
		rp_evidence_value(f, system, key, "ConfigFlags", RP_SRC_LOCAL);
		char *what = rp_xasprintf("set SYSTEM\\%s\\ConfigFlags to 0x%x (was 0x%x)", key,
					  flags & ~CONFIGFLAG_DISABLED, flags);
		rp_change_dword(f, "SYSTEM", key, "ConfigFlags", flags & ~CONFIGFLAG_DISABLED, 0,
				what);
		free(what);
		free(sum);
		free(dev);
	}
	free(key);
	return good;
}

static int check_driver(rp_scan *scan, const adapter *a)
{
	if (!a->svc || !*a->svc || strchr(a->svc, '\\'))
		return 1;
	rp_hive_file *system = &scan->reg->system;
	char *rest = rp_xasprintf("Services\\%s", a->svc);
	char *key = rp_registry_ccs_path(scan->reg, rest);
	free(rest);
	uint32_t start = 0;
	int good = !rp_read_dword(system, key, "Start", &start, NULL) || start != 4;
	/* Adapters of one model share a driver: it is reported (and fixed) once. */
	for (size_t i = 0; !good && i < scan->nfindings; i++) {
		const rp_finding *g = &scan->findings[i];
		if (strcmp(g->check, CHECK) == 0 && g->nchanges &&
		    strcmp(g->changes[0].key, key) == 0) {
			free(key);
			return 0;
		}
	}
	if (!good) {
		char *svc = rp_escape(a->svc);
		char *sum = rp_xasprintf("the driver of network adapter \"%s\", service %s, is "
					 "disabled (Start 4)",
					 a->desc, svc);
		rp_finding *f = rp_finding_add(
		    scan, CHECK, RP_PROBLEM, RP_ERROR, sum,
		    "With its driver service disabled the adapter cannot start: the machine has no "
		    "network on it and nothing, RDP included, can reach it. The fix sets Start to "
		    "3 "
		    "(started when the device appears), Windows' value for network adapter "
		    "drivers.");
		rp_evidence_value(f, system, a->cls, "DriverDesc", RP_SRC_LOCAL);
		rp_evidence_value(f, system, key, "Start", RP_SRC_LOCAL);
		rp_change_dword_was(f, "SYSTEM", key, "Start", 3, "4", 0);
		free(sum);
		free(svc);
	}
	free(key);
	return good;
}

int rp_check_net_adapter(rp_scan *scan, rp_err *err)
{
	rp_hive *h = scan->reg->system.hive;
	char *cls = rp_registry_ccs_path(scan->reg, NET_CLASS);
	char **names = NULL;
	size_t n = 0, physical = 0;
	int healthy = 1;
	int exists = rp_hive_key_exists(h, cls, err);
	if (exists < 0 || (exists && rp_hive_subkeys(h, cls, &names, &n, err) < 0)) {
		free(cls);
		return -1;
	}
	char **keys = rp_xcalloc(n ? n : 1, sizeof *keys);
	for (size_t i = 0; i < n; i++) {
		if (!is_instance(names[i]))
			continue;
		char *key = rp_xasprintf("%s\\%s", cls, names[i]);
		uint32_t ch = 0;
		char *device = rp_hive_get_string(h, key, "DeviceInstanceID");
		if (!rp_read_dword(&scan->reg->system, key, "Characteristics", &ch, NULL) ||
		    !(ch & NCF_PHYSICAL) || !device || !*device) {
			free(device);
			free(key);
			continue;
		}
		char *desc = rp_hive_get_string(h, key, "DriverDesc");
		/* The device node names its driver; the class key's Ndi\\Service too. */
		char *rest = rp_xasprintf("Enum\\%s", device);
		char *enum_key = rp_registry_ccs_path(scan->reg, rest);
		char *ndi = rp_xasprintf("%s\\Ndi", key);
		char *svc = rp_hive_get_string(h, enum_key, "Service");
		if (!svc)
			svc = rp_hive_get_string(h, ndi, "Service");
		free(ndi);
		free(enum_key);
		free(rest);
		adapter a = {.cls = key,
			     .desc = rp_escape(desc ? desc : names[i]),
			     .device = device,
			     .svc = svc};
		free(desc);
		int good = check_device(scan, &a);
		good &= check_driver(scan, &a);
		healthy &= good;
		if (good)
			keys[physical++] = key;
		else
			free(key);
		free(a.desc);
		free(a.device);
		free(a.svc);
	}
	if (physical || healthy) {
		char *sum =
		    !physical ? rp_xstrdup("no physical network adapter is registered")
		    : healthy
			? rp_xasprintf("%zu network adapter(s) enabled, their drivers startable",
				       physical)
			: rp_xasprintf("%zu other network adapter(s) enabled", physical);
		rp_finding *ok =
		    rp_finding_add(scan, CHECK, RP_OK, physical ? RP_INFO : RP_WARNING, sum, NULL);
		for (size_t i = 0; i < physical; i++)
			rp_evidence_value(ok, &scan->reg->system, keys[i], "DriverDesc",
					  RP_SRC_LOCAL);
		free(sum);
	}
	for (size_t i = 0; i < physical; i++)
		free(keys[i]);
	free(keys);
	rp_names_free(names, n);
	free(cls);
	return 0;
}
