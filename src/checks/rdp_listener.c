/*
 * rdp_listener.c — rdp.listener: the RDP-Tcp WinStation that listens for connections.
 *
 * A disabled listener, one that refuses logons, allows zero sessions, listens on no valid port,
 * or is bound to one network adapter (adapter numbers change when a VM moves or is resized)
 * accepts the TCP connection badly or not at all.  A port other than 3389 works but needs the
 * client and the firewall to follow, so it is reported, not changed.
 */
#include "checks/checks.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>

#define RDP_TCP "Control\\Terminal Server\\WinStations\\RDP-Tcp"

static const rp_expected listener[] = {
    {"fEnableWinStation", 1,
     "fEnableWinStation = 0 disables the RDP-Tcp listener: nothing "
     "answers on the RDP port and the client cannot connect"},
    {"fLogonDisabled", 0,
     "fLogonDisabled = 1 makes the listener refuse every logon: the client cannot "
     "connect"},
    {"LanAdapter", 0,
     "LanAdapter binds the listener to one network adapter; adapter numbers "
     "change when a VM is moved or resized, and the listener then hears "
     "nothing (the client cannot connect). 0 listens on all adapters"},
};

static void check_port(rp_scan *scan, const char *key)
{
	rp_hive_file *system = &scan->reg->system;
	uint32_t port = 0;
	int present = 0;
	int is_dword = rp_read_dword(system, key, "PortNumber", &port, &present);
	rp_finding *f;
	if (!is_dword || port == 0 || port > 65535) {
		char buf[16];
		const char *was = rp_dword_shown(present, is_dword, port, buf, sizeof buf);
		char *sum =
		    rp_xasprintf("RDP-Tcp PortNumber is %s: the listener has no valid port", was);
		f = rp_finding_add(
		    scan, rp_id_rdp_listener, RP_PROBLEM, RP_ERROR, sum,
		    "Without a valid PortNumber the RDP listener cannot start: nothing answers on "
		    "the RDP port and the client cannot connect. The fix sets the standard "
		    "port 3389.");
		rp_evidence_value(f, system, key, "PortNumber", RP_SRC_LOCAL);
		rp_change_dword_was(f, "SYSTEM", key, "PortNumber", 3389, was, 0);
		free(sum);
		return;
	}
	if (port != 3389) {
		char *sum = rp_xasprintf("RDP listens on port %u, not 3389", port);
		f = rp_finding_add(
		    scan, rp_id_rdp_listener, RP_OK, RP_WARNING, sum,
		    "A custom port works, but the client must connect to host:port, "
		    "and Windows' built-in firewall rule and cloud network rules only "
		    "open 3389. Left as it is.");
		free(sum);
	} else {
		f = rp_finding_add(scan, rp_id_rdp_listener, RP_OK, RP_INFO,
				   "RDP-Tcp listens on port 3389", NULL);
	}
	rp_evidence_value(f, system, key, "PortNumber", RP_SRC_LOCAL);
}

static void check_instances(rp_scan *scan, const char *key)
{
	rp_hive_file *system = &scan->reg->system;
	uint32_t n = 0;
	int present = 0;
	if (!rp_read_dword(system, key, "MaxInstanceCount", &n, &present) || n != 0)
		return;
	rp_finding *f =
	    rp_finding_add(scan, rp_id_rdp_listener, RP_PROBLEM, RP_ERROR,
			   "RDP-Tcp MaxInstanceCount is 0: no session is allowed",
			   "MaxInstanceCount limits the sessions of the listener; 0 lets "
			   "nobody in: every connection is refused and the client cannot "
			   "connect. The fix sets 4294967295 (unlimited, Windows' "
			   "default).");
	rp_evidence_value(f, system, key, "MaxInstanceCount", RP_SRC_LOCAL);
	rp_change_dword_was(f, "SYSTEM", key, "MaxInstanceCount", 0xFFFFFFFFu, "0", 0);
}

int rp_check_rdp_listener(rp_scan *scan, rp_err *err)
{
	char *key = rp_registry_ccs_path(scan->reg, RDP_TCP);
	int exists = rp_hive_key_exists(scan->reg->system.hive, key, err);
	if (exists < 0) {
		free(key);
		return -1;
	}
	if (!exists) {
		char *sum = rp_xasprintf("the RDP-Tcp listener is missing (SYSTEM\\%s)", key);
		rp_finding *f = rp_finding_add(
		    scan, rp_id_rdp_listener, RP_PROBLEM, RP_ERROR, sum,
		    "Without the RDP-Tcp WinStation key there is no RDP listener at all. "
		    "rdprescue does not invent its ~80 values: export the key on a healthy "
		    "machine of the same Windows build and import it with Windows' own "
		    "'reg import' (from a recovery command prompt), or repair Windows.");
		rp_evidence_value(f, &scan->reg->system, key, "PortNumber", RP_SRC_LOCAL);
		free(sum);
		free(key);
		return 0;
	}
	rp_expect_dwords(scan, rp_id_rdp_listener, key, listener,
			 sizeof listener / sizeof listener[0]);
	check_instances(scan, key);
	check_port(scan, key);
	free(key);
	return 0;
}
