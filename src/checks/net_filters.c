/*
 * net_filters.c — net.filters: third-party drivers in the network path (report only).
 *
 * A security suite's network filter that breaks after an update drops every connection, RDP
 * included, while Windows' own settings all look healthy.  Candidates, all in the control set
 * Windows boots:
 *  - NDIS lightweight filters and other network services: Control\Network\{4d36e974-...}\
 *    {GUID} with their Ndi\Service (FilterType, FilterRunType: 1 mandatory, 2 optional);
 *  - the network class's UpperFilters / LowerFilters (Control\Class\{4d36e972-...});
 *  - kernel drivers (Type 1) of the groups NDIS, PNP_TDI and NetworkProvider;
 *  - network drivers of security suites known to block RDP after updates (the table below).
 * Which are third-party is a fact about the driver file: the CompanyName of its PE version
 * resource (src/pe/), read through the volume layer.  Without a readable file, a filter whose
 * ComponentId is not Microsoft's ("ms_...") or a known suite's driver still counts; any other
 * driver is not reported (nothing tells it is not Windows' own).  Each one is reported with
 * its vendor, start type, why it is in the path and when its service key was last written
 * (normally when it was installed or updated).
 *
 * Nothing is changed unless asked: fix --disable-driver NAME sets that one driver's Start to 4
 * (backup and undo as for any change).  That lowers the machine's protection, so the finding
 * says what is lost and is marked weakened_security; a mandatory filter (FilterRunType 1) is
 * refused, because NDIS does not start an adapter whose mandatory filter cannot load.
 */
#include "checks/checks.h"
#include "pe/pe.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK rp_id_net_filters
#define NET_SERVICES "Control\\Network\\{4d36e974-e325-11ce-bfc1-08002be10318}"
#define NET_CLASS "Control\\Class\\{4d36e972-e325-11ce-bfc1-08002be10318}"
#define MAX_DRIVER_FILE (64u << 20)

typedef struct suite {
	const char *vendor;
	const char *what; /* the protection the drivers give */
	const char *names[8];
} suite;

static const suite suites[] = {
    {"McAfee",
     "McAfee's firewall and network intrusion prevention",
     {"mfenlfk", "mfewfpk", "mfefirek", "mfetdi2k"}},
    {"Symantec",
     "Symantec Endpoint Protection's firewall and network threat protection",
     {"SymNetS", "SYMTDI", "SYMTDIv", "Teefer2", "Teefer3"}},
    {"Kaspersky",
     "Kaspersky's firewall, network attack blocker and web traffic scanning",
     {"kltdi", "klwfp", "klim5", "klim6", "kneps", "klwtp"}},
    {"Bitdefender",
     "Bitdefender's firewall and network attack defense",
     {"bdfwfpf", "bdfndisf", "bdfndisf6"}},
    {"ESET",
     "ESET's firewall and network attack protection",
     {"epfw", "epfwwfp", "epfwwfpr", "epfwlwf", "epfwndis"}},
    {"Sophos", "Sophos' network threat protection and web filtering", {"sntp", "swi_callout"}},
    {"Trend Micro",
     "Trend Micro's firewall and web reputation filtering",
     {"tmtdi", "tmwfp", "tmlwf"}},
    {"CrowdStrike",
     "CrowdStrike Falcon's sensor (network containment and monitoring)",
     {"CSAgent"}},
};

static const suite *known_suite(const char *name)
{
	for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
		for (size_t j = 0; j < 8 && suites[i].names[j]; j++)
			if (rp_strcasecmp(suites[i].names[j], name) == 0)
				return &suites[i];
	return NULL;
}

typedef struct driver {
	char *name;	   /* service name (raw) */
	char why[160];	   /* how it is in the network path */
	char *component;   /* LWF ComponentId (raw) or NULL */
	uint32_t run_type; /* FilterRunType, 0 unknown */
} driver;

typedef struct list {
	driver *d;
	size_t n;
} list;

static driver *add(list *l, const char *name, const char *why)
{
	for (size_t i = 0; i < l->n; i++)
		if (rp_strcasecmp(l->d[i].name, name) == 0) {
			driver *d = &l->d[i];
			size_t len = strlen(d->why);
			if (!strstr(d->why, why))
				snprintf(d->why + len, sizeof d->why - len, "; %s", why);
			return d;
		}
	l->d = rp_xrealloc(l->d, (l->n + 1) * sizeof *l->d);
	driver *d = &l->d[l->n++];
	memset(d, 0, sizeof *d);
	d->name = rp_xstrdup(name);
	snprintf(d->why, sizeof d->why, "%s", why);
	return d;
}

/* A service name must be one registry key name: no separators, not empty. */
static int plain_name(const char *s)
{
	return s && *s && !strchr(s, '\\') && !strchr(s, '/') && strlen(s) < 256;
}

static void from_lwfs(rp_scan *scan, list *l)
{
	rp_hive *h = scan->reg->system.hive;
	char *base = rp_registry_ccs_path(scan->reg, NET_SERVICES);
	char **subs = NULL;
	size_t n = 0;
	if (rp_hive_subkeys(h, base, &subs, &n, NULL) == 0) {
		for (size_t i = 0; i < n; i++) {
			char *key = rp_xasprintf("%s\\%s", base, subs[i]);
			char *ndi = rp_xasprintf("%s\\Ndi", key);
			char *svc = rp_hive_get_string(h, ndi, "Service");
			char *comp = rp_hive_get_string(h, key, "ComponentId");
			uint32_t ft = 0, run = 0;
			int is_filter =
			    rp_read_dword(&scan->reg->system, ndi, "FilterType", &ft, NULL);
			rp_read_dword(&scan->reg->system, ndi, "FilterRunType", &run, NULL);
			if (plain_name(svc)) {
				driver *d = add(l, svc,
						is_filter ? "NDIS lightweight filter"
							  : "network service (Control\\Network)");
				if (!d->component && comp)
					d->component = rp_xstrdup(comp);
				if (is_filter)
					d->run_type = run;
			}
			free(comp);
			free(svc);
			free(ndi);
			free(key);
		}
		rp_names_free(subs, n);
	}
	free(base);
}

static void from_class_filters(rp_scan *scan, list *l)
{
	rp_hive *h = scan->reg->system.hive;
	char *cls = rp_registry_ccs_path(scan->reg, NET_CLASS);
	static const char *const values[] = {"UpperFilters", "LowerFilters"};
	for (size_t k = 0; k < 2; k++) {
		rp_value v = {0};
		if (rp_hive_get(h, cls, values[k], &v, NULL) == 1 && v.type == RP_REG_MULTI_SZ) {
			size_t off = 0, end = v.len & ~(size_t)1;
			while (off < end) {
				size_t m = 0;
				while (off + m + 1 < end &&
				       (v.data[off + m] || v.data[off + m + 1]))
					m += 2;
				if (m == 0)
					break;
				char *name = rp_utf16_to_utf8(v.data + off, m);
				if (plain_name(name))
					add(l, name,
					    k ? "network class lower filter"
					      : "network class upper filter");
				free(name);
				off += m + 2;
			}
		}
		rp_value_free(&v);
	}
	free(cls);
}

static void from_services(rp_scan *scan, list *l)
{
	rp_hive *h = scan->reg->system.hive;
	char *base = rp_registry_ccs_path(scan->reg, "Services");
	char **subs = NULL;
	size_t n = 0;
	if (rp_hive_subkeys(h, base, &subs, &n, NULL) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (!plain_name(subs[i]))
				continue;
			const suite *s = known_suite(subs[i]);
			char *key = rp_xasprintf("%s\\%s", base, subs[i]);
			uint32_t type = 0;
			char *group = rp_hive_get_string(h, key, "Group");
			int kernel = rp_read_dword(&scan->reg->system, key, "Type", &type, NULL) &&
				     type == 1;
			if (kernel && group &&
			    (rp_strcasecmp(group, "NDIS") == 0 ||
			     rp_strcasecmp(group, "PNP_TDI") == 0 ||
			     rp_strcasecmp(group, "NetworkProvider") == 0)) {
				char why[64];
				char *g = rp_escape(group);
				snprintf(why, sizeof why, "kernel driver of group %s", g);
				free(g);
				add(l, subs[i], why);
			}
			if (s) {
				char why[64];
				snprintf(why, sizeof why, "network driver of %s", s->vendor);
				add(l, subs[i], why);
			}
			free(group);
			free(key);
		}
		rp_names_free(subs, n);
	}
	free(base);
}

/* The driver file's volume path from ImagePath (or the default System32\drivers\NAME.sys). */
static char *volume_path(const char *image, const char *name)
{
	if (!image || !*image)
		return rp_xasprintf("Windows/System32/drivers/%s.sys", name);
	const char *p = image;
	while (*p == '"' || *p == ' ')
		p++;
	char *s;
	if (strncmp(p, "\\??\\", 4) == 0)
		p += 4;
	if (((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z') && p[1] == ':' && p[2] == '\\')
		s = rp_xstrdup(p + 3);
	else if (strncasecmp(p, "\\SystemRoot\\", 12) == 0)
		s = rp_xasprintf("Windows\\%s", p + 12);
	else if (strncasecmp(p, "%SystemRoot%\\", 13) == 0)
		s = rp_xasprintf("Windows\\%s", p + 13);
	else if (strncasecmp(p, "%windir%\\", 9) == 0)
		s = rp_xasprintf("Windows\\%s", p + 9);
	else if (p[0] == '\\')
		s = rp_xstrdup(p + 1);
	else
		s = rp_xasprintf("Windows\\%s", p);
	/* The file name ends at a quote or at the arguments after ".sys" / ".exe". */
	char *q = strchr(s, '"');
	if (q)
		*q = 0;
	for (char *e = s; *e; e++) {
		if (*e == '\\')
			*e = '/';
		if ((strncasecmp(e, ".sys", 4) == 0 || strncasecmp(e, ".exe", 4) == 0) &&
		    (e[4] == ' ' || e[4] == 0)) {
			e[4] = 0;
			break;
		}
	}
	if (strstr(s, "..")) {
		free(s);
		return NULL;
	}
	return s;
}

/* CompanyName of the driver file, or NULL (*note says why). */
static char *vendor_of(rp_scan *scan, const char *path, const char **note)
{
	rp_stat st = {0};
	if (!path || rp_vol_stat(scan->vol, path, &st, NULL) < 0 || !st.exists || st.is_dir) {
		*note = "driver file not found";
		return NULL;
	}
	if (st.is_reparse || st.size > MAX_DRIVER_FILE) {
		*note = st.is_reparse ? "driver file is a reparse point (not read)"
				      : "driver file too large to read";
		return NULL;
	}
	uint8_t *buf = NULL;
	size_t len = 0;
	char *company = NULL;
	rp_err err = {0};
	if (rp_vol_read(scan->vol, path, &buf, &len, &err) < 0) {
		*note = "driver file unreadable";
		return NULL;
	}
	int rc = rp_pe_version_string(buf, len, "CompanyName", &company, &err);
	free(buf);
	*note = rc < 0 ? "driver file is not a well-formed PE" : rc == 0 ? "no CompanyName" : NULL;
	return rc == 1 ? company : NULL;
}

static void iso_date(int64_t filetime, char *out, size_t n)
{
	time_t t = (time_t)(filetime / 10000000 - 11644473600LL);
	struct tm tm;
	if (filetime <= 0 || !gmtime_r(&t, &tm) || !strftime(out, n, "%Y-%m-%d %H:%M UTC", &tm))
		snprintf(out, n, "unknown");
}

static const char *start_word(int ok, uint32_t start)
{
	static const char *const words[] = {"boot", "system", "automatic", "manual", "disabled"};
	return !ok ? "no Start" : start <= 4 ? words[start] : "invalid Start";
}

/* Adds the finding for a third-party driver; *matched when it is the --disable-driver one. */
static void report(rp_scan *scan, const driver *d, const char *vendor, const char *note,
		   const suite *s, const char *key, const char *path, int *matched)
{
	rp_hive_file *system = &scan->reg->system;
	uint32_t start = 0;
	int start_present = 0;
	int has_start = rp_read_dword(system, key, "Start", &start, &start_present);
	int64_t ft = 0;
	char when[40];
	iso_date(rp_hive_key_time(system->hive, key, &ft, NULL) == 1 ? ft : 0, when, sizeof when);
	char *name = rp_escape(d->name);
	char *v = rp_escape(vendor ? vendor : s ? s->vendor : "unknown vendor");
	char *sum = rp_xasprintf("third-party driver %s (%s%s%s) in the network path: %s; start %s "
				 "(%u); service key last written %s",
				 name, v, vendor ? "" : ", ", vendor ? "" : note, d->why,
				 start_word(has_start, start), has_start ? start : 0, when);
	int wanted = scan->disable_driver && rp_strcasecmp(scan->disable_driver, d->name) == 0;
	*matched |= wanted;
	const char *lost = s ? s->what : "whatever filtering or protection this driver provides";
	rp_finding *f;
	if (!wanted || (has_start && start == 4)) {
		char *target = rp_target_shown(scan);
		char *explain = rp_xasprintf(
		    "Reported only: a driver in the network path sees (and can drop) every packet. "
		    "Security suites' filters are known to block RDP after an update or a "
		    "half-finished uninstall; if the machine cannot be reached while Windows' "
		    "settings are healthy, suspect this driver: 'rdprescue fix %s "
		    "--disable-driver %s' disables it (backed up, undoable), at the cost of %s.",
		    target, name, lost);
		free(target);
		f = rp_finding_add(scan, CHECK, RP_OK, s ? RP_WARNING : RP_INFO, sum, explain);
		free(explain);
	} else if (d->run_type == 1) {
		char *explain = rp_xasprintf(
		    "%s is a mandatory NDIS filter (FilterRunType 1): NDIS does not start an "
		    "adapter whose mandatory filter cannot load, so disabling it would take the "
		    "network down instead of bringing it back. Nothing is changed: uninstall the "
		    "product from a working session, or remove the filter's binding with its "
		    "vendor's tool.",
		    name);
		f = rp_finding_add(scan, CHECK, RP_NOT_FIXED, RP_WARNING, sum, explain);
		free(explain);
	} else {
		char *explain = rp_xasprintf(
		    "--disable-driver %s asks to disable this driver. The fix sets its Start to 4 "
		    "(disabled); Windows then boots without it and without %s: the machine is less "
		    "protected until it is re-enabled (rdprescue undo, or the product's repair). "
		    "Disabling one part of a security suite can make the rest of it report errors.",
		    name, lost);
		f = rp_finding_add(scan, CHECK, RP_PROBLEM, RP_WARNING, sum, explain);
		free(explain);
		char buf[16];
		rp_change_dword_was(
		    f, "SYSTEM", key, "Start", 4,
		    rp_dword_shown(start_present, has_start, start, buf, sizeof buf), 0);
		f->weakened = 1; /* asked for by name; the report says what is lost */
	}
	rp_evidence_value(f, system, key, "Start", RP_SRC_LOCAL);
	rp_evidence_value(f, system, key, "ImagePath", RP_SRC_LOCAL);
	rp_evidence_value(f, system, key, "Group", RP_SRC_LOCAL);
	if (path) {
		rp_evidence *e = rp_evidence_copy(f, &(rp_evidence){.source = RP_SRC_FILE});
		e->path = rp_xstrdup(path);
		e->present = vendor != NULL;
		e->note = vendor ? rp_xasprintf("CompanyName \"%s\"", v) : rp_xstrdup(note);
	}
	free(sum);
	free(v);
	free(name);
}

int rp_check_net_filters(rp_scan *scan, rp_err *err)
{
	list l = {0};
	from_lwfs(scan, &l);
	from_class_filters(scan, &l);
	from_services(scan, &l);
	rp_hive *h = scan->reg->system.hive;
	size_t reported = 0, microsoft = 0;
	int matched = 0;
	for (size_t i = 0; i < l.n; i++) {
		driver *d = &l.d[i];
		char *rest = rp_xasprintf("Services\\%s", d->name);
		char *key = rp_registry_ccs_path(scan->reg, rest);
		free(rest);
		if (rp_hive_key_exists(h, key, NULL) == 1) {
			char *image = rp_hive_get_string(h, key, "ImagePath");
			char *path = volume_path(image, d->name);
			const char *note = NULL;
			char *vendor = vendor_of(scan, path, &note);
			const suite *s = known_suite(d->name);
			int third;
			if (vendor)
				third = !strstr(vendor, "Microsoft");
			else
				third =
				    s || (d->component && strncasecmp(d->component, "ms_", 3) != 0);
			if (third) {
				report(scan, d, vendor, note, s, key, path, &matched);
				reported++;
			} else
				microsoft++;
			free(vendor);
			free(path);
			free(image);
		}
		free(key);
	}
	if (!reported) {
		char *sum = rp_xasprintf("no third-party driver in the network path (%zu Windows "
					 "drivers and filters looked at)",
					 microsoft);
		rp_finding_add(scan, CHECK, RP_OK, RP_INFO, sum, NULL);
		free(sum);
	}
	for (size_t i = 0; i < l.n; i++) {
		free(l.d[i].name);
		free(l.d[i].component);
	}
	free(l.d);
	if (scan->disable_driver && !matched) {
		char *shown = rp_escape(scan->disable_driver), *target = rp_target_shown(scan);
		int rc = rp_fail(err, RP_EXIT_USAGE,
				 "--disable-driver %s: no third-party driver of that name in the "
				 "network path; 'rdprescue scan %s --check net.filters' lists them",
				 shown, target);
		free(shown);
		free(target);
		return rc;
	}
	return 0;
}
