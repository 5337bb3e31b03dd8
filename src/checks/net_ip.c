/*
 * net_ip.c — net.ip: how each network interface gets its address.
 *
 * Every interface under Services\Tcpip\Parameters\Interfaces\{GUID} of the control set Windows
 * boots: DHCP (EnableDHCP 1) or static (IPAddress, SubnetMask, DefaultGateway, NameServer), the
 * adapter it belongs to (Control\Network\{4D36E972-...}\{GUID}\Connection\Name, and the
 * DriverDesc of the Control\Class\{4d36e972-...}\NNNN whose NetCfgInstanceId is the GUID), and
 * the IPv6 side (Services\Tcpip6\Parameters\Interfaces\{GUID}: Dhcpv6State, NameServer).
 *
 * A cloud hands out its VMs' addresses by DHCP; a static address there (left from another
 * network, or from a NIC that was replaced) makes the VM unreachable.  The cloud is told by its
 * guest agent's service: WindowsAzureGuestAgent / RdAgent (Azure), AmazonSSMAgent / EC2Launch /
 * Ec2Config (AWS), GCEAgent (GCP).  There a static interface is a problem and the fix switches
 * it to DHCP: EnableDHCP 1; IPAddress, SubnetMask, DefaultGateway and DefaultGatewayMetric
 * removed; NameServer "" (DNS from DHCP too); the persistent default routes through its old
 * gateway (Tcpip\Parameters\PersistentRoutes, which Windows writes with a static gateway)
 * removed, as the usual "back to DHCP" procedures remove the gateway's routes before enabling
 * DHCP.  The old values are in the finding's evidence and in the backup.  Elsewhere a static
 * address is reported and changed only with --reset-ip.
 */
#include "checks/checks.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK rp_id_net_ip
#define IFACES "Services\\Tcpip\\Parameters\\Interfaces"
#define IFACES6 "Services\\Tcpip6\\Parameters\\Interfaces"
#define CONNECTIONS "Control\\Network\\{4D36E972-E325-11CE-BFC1-08002BE10318}"
#define NET_CLASS "Control\\Class\\{4d36e972-e325-11ce-bfc1-08002be10318}"

typedef struct agent {
	const char *service;
	const char *cloud;
} agent;

static const agent agents[] = {
    {"WindowsAzureGuestAgent", "Azure"},
    {"RdAgent", "Azure"},
    {"AmazonSSMAgent", "AWS"},
    {"EC2Launch", "AWS"},
    {"Ec2Config", "AWS"},
    {"GCEAgent", "GCP"},
};

/* The first guest agent installed, or NULL. */
static const agent *find_cloud(rp_scan *scan)
{
	for (size_t i = 0; i < sizeof agents / sizeof agents[0]; i++) {
		char *rest = rp_xasprintf("Services\\%s", agents[i].service);
		char *key = rp_registry_ccs_path(scan->reg, rest);
		int found = rp_hive_key_exists(scan->reg->system.hive, key, NULL) == 1;
		free(key);
		free(rest);
		if (found)
			return &agents[i];
	}
	return NULL;
}

/* A value rendered for a summary (escaped), or "none". */
static char *shown(rp_hive *h, const char *key, const char *value)
{
	rp_value v = {0};
	char *s = rp_hive_get(h, key, value, &v, NULL) == 1 ? rp_value_format(&v) : NULL;
	rp_value_free(&v);
	return s ? s : rp_xstrdup("none");
}

/* The strings of a REG_MULTI_SZ (malloc'd UTF-8), up to the empty one that ends the list. */
static char **multi_sz(rp_hive *h, const char *key, const char *value, size_t *count)
{
	rp_value v = {0};
	char **out = NULL;
	*count = 0;
	if (rp_hive_get(h, key, value, &v, NULL) == 1 && v.type == RP_REG_MULTI_SZ) {
		size_t off = 0, end = v.len & ~(size_t)1;
		while (off < end) {
			size_t n = 0;
			while (off + n + 1 < end && (v.data[off + n] || v.data[off + n + 1]))
				n += 2;
			if (n == 0)
				break;
			out = rp_xrealloc(out, (*count + 1) * sizeof *out);
			out[(*count)++] = rp_utf16_to_utf8(v.data + off, n);
			off += n + 2;
		}
	}
	rp_value_free(&v);
	return out;
}

/* IPAddress holds some address other than "0.0.0.0". */
static int has_address(rp_hive *h, const char *key)
{
	size_t n = 0;
	char **list = multi_sz(h, key, "IPAddress", &n);
	int found = 0;
	for (size_t i = 0; i < n; i++)
		found |= strcmp(list[i], "0.0.0.0") != 0;
	rp_names_free(list, n);
	return found;
}

/* The adapter behind interface guid: connection name and driver description (escaped). */
static char *adapter_of(rp_scan *scan, const char *guid, char **cls_key)
{
	rp_hive *h = scan->reg->system.hive;
	char *rest = rp_xasprintf(CONNECTIONS "\\%s\\Connection", guid);
	char *key = rp_registry_ccs_path(scan->reg, rest);
	char *name = rp_hive_get_string(h, key, "Name");
	free(key);
	free(rest);
	char *cls = rp_registry_ccs_path(scan->reg, NET_CLASS), *desc = NULL;
	char **subs = NULL;
	size_t n = 0;
	*cls_key = NULL;
	if (rp_hive_subkeys(h, cls, &subs, &n, NULL) == 0) {
		for (size_t i = 0; i < n && !desc; i++) {
			char *k = rp_xasprintf("%s\\%s", cls, subs[i]);
			char *id = rp_hive_get_string(h, k, "NetCfgInstanceId");
			if (id && rp_strcasecmp(id, guid) == 0) {
				desc = rp_hive_get_string(h, k, "DriverDesc");
				*cls_key = k;
				k = NULL;
			}
			free(id);
			free(k);
		}
		rp_names_free(subs, n);
	}
	free(cls);
	char *n_esc = rp_escape(name ? name : "no connection name");
	char *d_esc = rp_escape(desc ? desc : "no adapter registered");
	char *out = rp_xasprintf("\"%s\", %s", n_esc, d_esc);
	free(n_esc);
	free(d_esc);
	free(name);
	free(desc);
	return out;
}

/* Persistent default routes through one of the interface's static gateways
 * ("0.0.0.0,0.0.0.0,GATEWAY,METRIC" under Tcpip\Parameters\PersistentRoutes; Windows writes
 * them with a static gateway): with DHCP they would keep a dead default route, so they go too. */
static void plan_routes(rp_finding *f, rp_scan *scan, const char *key)
{
	rp_hive *h = scan->reg->system.hive;
	size_t ngw = 0, nvals = 0;
	char **gws = multi_sz(h, key, "DefaultGateway", &ngw);
	char *routes =
	    rp_registry_ccs_path(scan->reg, "Services\\Tcpip\\Parameters\\PersistentRoutes");
	char **vals = NULL;
	if (ngw && rp_hive_values(h, routes, &vals, &nvals, NULL) == 0) {
		for (size_t i = 0; i < nvals; i++) {
			const char *prefix = "0.0.0.0,0.0.0.0,";
			if (strncmp(vals[i], prefix, strlen(prefix)) != 0)
				continue;
			const char *gw = vals[i] + strlen(prefix);
			const char *comma = strchr(gw, ',');
			size_t len = comma ? (size_t)(comma - gw) : strlen(gw);
			for (size_t g = 0; g < ngw; g++) {
				if (strlen(gws[g]) != len || strncmp(gws[g], gw, len) != 0)
					continue;
				rp_evidence_value(f, &scan->reg->system, routes, vals[i],
						  RP_SRC_LOCAL);
				char *shown = rp_escape(vals[i]);
				char *what =
				    rp_xasprintf("delete SYSTEM\\%s\\%s (the persistent default "
						 "route through the old gateway)",
						 routes, shown);
				rp_change_delete_value(f, "SYSTEM", routes, vals[i], what);
				free(what);
				free(shown);
				break;
			}
		}
	}
	rp_names_free(vals, nvals);
	rp_names_free(gws, ngw);
	free(routes);
}

static void plan_dhcp(rp_finding *f, rp_hive *h, const char *key, const char *was)
{
	char *what = rp_xasprintf("set SYSTEM\\%s\\EnableDHCP to 1 (was %s)", key, was);
	rp_change_dword(f, "SYSTEM", key, "EnableDHCP", 1, 0, what);
	free(what);
	static const char *const drop[] = {"IPAddress", "SubnetMask", "DefaultGateway",
					   "DefaultGatewayMetric"};
	for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++) {
		rp_value v = {0};
		if (rp_hive_get(h, key, drop[i], &v, NULL) == 1) {
			char *old = rp_value_format(&v);
			what = rp_xasprintf("delete SYSTEM\\%s\\%s (was %s)", key, drop[i], old);
			rp_change_delete_value(f, "SYSTEM", key, drop[i], what);
			free(what);
			free(old);
		}
		rp_value_free(&v);
	}
	char *dns = rp_hive_get_string(h, key, "NameServer");
	if (dns && *dns) {
		char *old = rp_escape(dns);
		what = rp_xasprintf(
		    "set SYSTEM\\%s\\NameServer to \"\" (DNS from DHCP; was \"%s\")", key, old);
		rp_change_sz(f, "SYSTEM", key, "NameServer", "", 0, what);
		free(what);
		free(old);
	}
	free(dns);
}

static void add_evidence(rp_finding *f, rp_scan *scan, const char *key, const char *key6,
			 const char *cls_key)
{
	rp_hive_file *system = &scan->reg->system;
	static const char *const values[] = {"EnableDHCP", "IPAddress", "SubnetMask",
					     "DefaultGateway", "NameServer"};
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
		rp_evidence_value(f, system, key, values[i], RP_SRC_LOCAL);
	rp_evidence_value(f, system, key6, "Dhcpv6State", RP_SRC_LOCAL);
	rp_evidence_value(f, system, key6, "NameServer", RP_SRC_LOCAL);
	if (cls_key)
		rp_evidence_value(f, system, cls_key, "DriverDesc", RP_SRC_LOCAL);
}

static void check_interface(rp_scan *scan, const agent *cloud, const char *ifaces,
			    const char *ifaces6, const char *guid, char **dhcp_keys, size_t *ndhcp)
{
	rp_hive *h = scan->reg->system.hive;
	char *key = rp_xasprintf("%s\\%s", ifaces, guid);
	char *key6 = rp_xasprintf("%s\\%s", ifaces6, guid);
	uint32_t dhcp = 0;
	int present = 0;
	int is_dword = rp_read_dword(&scan->reg->system, key, "EnableDHCP", &dhcp, &present);
	if (!(is_dword && dhcp == 0 && has_address(h, key))) {
		dhcp_keys[(*ndhcp)++] = key;
		free(key6);
		return;
	}
	char *cls_key = NULL;
	char *adapter = adapter_of(scan, guid, &cls_key);
	char *g = rp_escape(guid), *ip = shown(h, key, "IPAddress"),
	     *mask = shown(h, key, "SubnetMask"), *gw = shown(h, key, "DefaultGateway"),
	     *dns = shown(h, key, "NameServer");
	char *sum = rp_xasprintf("interface %s (%s) has a static address %s mask %s, gateway %s, "
				 "DNS %s",
				 g, adapter, ip, mask, gw, dns);
	rp_finding *f;
	if (cloud) {
		char *explain = rp_xasprintf(
		    "The %s guest agent (service %s) says this machine runs in %s, which hands "
		    "out addresses by DHCP. A static address does not follow the VM to a new NIC, "
		    "subnet or host: the VM boots with an address the cloud's network does not "
		    "route and nothing, RDP included, can reach it. The fix switches this "
		    "interface to DHCP (EnableDHCP 1; IPAddress, SubnetMask, DefaultGateway and "
		    "its metric removed; DNS from DHCP; persistent default routes through the old "
		    "gateway removed); the old values are in this report and in the backup.",
		    cloud->cloud, cloud->service, cloud->cloud);
		f = rp_finding_add(scan, CHECK, RP_PROBLEM, RP_ERROR, sum, explain);
		free(explain);
	} else if (scan->reset_ip) {
		f = rp_finding_add(
		    scan, CHECK, RP_PROBLEM, RP_WARNING, sum,
		    "No cloud guest agent is installed, so a static address may be intended; "
		    "--reset-ip asks for DHCP anyway. The fix switches this interface to DHCP "
		    "(EnableDHCP 1; IPAddress, SubnetMask, DefaultGateway and its metric removed; "
		    "DNS from DHCP; persistent default routes through the old gateway removed); "
		    "the "
		    "old values are in this report and in the backup. Without "
		    "a DHCP server on its network the machine gets no address.");
	} else {
		f = rp_finding_add(
		    scan, CHECK, RP_OK, RP_WARNING, sum,
		    "No cloud guest agent (Azure, AWS, GCP) is installed, so the static address is "
		    "kept. If the machine moved to another network it cannot be reached at this "
		    "address: 'rdprescue fix --reset-ip' switches the interface to DHCP.");
	}
	add_evidence(f, scan, key, key6, cls_key);
	if (f->status == RP_PROBLEM) {
		plan_routes(f, scan, key);
		plan_dhcp(f, h, key, "0");
	}
	free(sum);
	free(g);
	free(ip);
	free(mask);
	free(gw);
	free(dns);
	free(adapter);
	free(cls_key);
	free(key6);
	free(key);
}

int rp_check_net_ip(rp_scan *scan, rp_err *err)
{
	rp_hive *h = scan->reg->system.hive;
	char *ifaces = rp_registry_ccs_path(scan->reg, IFACES);
	char *ifaces6 = rp_registry_ccs_path(scan->reg, IFACES6);
	char **names = NULL;
	size_t n = 0, ndhcp = 0;
	int exists = rp_hive_key_exists(h, ifaces, err);
	if (exists < 0 || (exists && rp_hive_subkeys(h, ifaces, &names, &n, err) < 0)) {
		free(ifaces);
		free(ifaces6);
		return -1;
	}
	const agent *cloud = find_cloud(scan);
	char **dhcp_keys = rp_xcalloc(n ? n : 1, sizeof *dhcp_keys);
	for (size_t i = 0; i < n; i++)
		check_interface(scan, cloud, ifaces, ifaces6, names[i], dhcp_keys, &ndhcp);
	if (ndhcp || !n) {
		char *sum = !n ? rp_xstrdup("no IPv4 interface is configured")
			       : rp_xasprintf("%zu interface(s) get their address by DHCP%s%s",
					      ndhcp, cloud ? " (" : "", cloud ? cloud->cloud : "");
		if (cloud) {
			char *full = rp_xasprintf("%s guest agent)", sum);
			free(sum);
			sum = full;
		}
		rp_finding *ok =
		    rp_finding_add(scan, CHECK, RP_OK, n ? RP_INFO : RP_WARNING, sum, NULL);
		for (size_t i = 0; i < ndhcp; i++)
			rp_evidence_value(ok, &scan->reg->system, dhcp_keys[i], "EnableDHCP",
					  RP_SRC_LOCAL);
		free(sum);
	}
	for (size_t i = 0; i < ndhcp; i++)
		free(dhcp_keys[i]);
	free(dhcp_keys);
	rp_names_free(names, n);
	free(ifaces);
	free(ifaces6);
	return 0;
}
