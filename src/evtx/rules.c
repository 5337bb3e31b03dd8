/*
 * rules.c — the events rdprescue understands: what each means in plain words, whether it is an
 * RDP-related failure, and which check it points to; Win32 error texts for %%N inserts; times.
 *
 * Sources: ../shared/reference/reachability.md (event ids), the events' own message texts
 * (Windows' message tables, in English), and the Win32 error texts of winerror.h.
 */
#include "evtx/evtx.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCM "Service Control Manager"
#define KGEN "Microsoft-Windows-Kernel-General"
#define KPOW "Microsoft-Windows-Kernel-Power"
#define RCM "Microsoft-Windows-TerminalServices-RemoteConnectionManager"
#define CORE "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS"
#define LSM "Microsoft-Windows-TerminalServices-LocalSessionManager"
#define SEC "Microsoft-Windows-Security-Auditing"
#define KEYCHECKS "keys.acl,keys.rdp,keys.contents,cert.rdp"

/* provider, short, id, marker, failure, check, service_arg, logon_type, meaning */
static const rp_ev_rule rules[] = {
    {KGEN, "Kernel-General", 12, RP_EV_BOOT, 0, "", 0, 0, "Windows started (boot at %7)"},
    {KGEN, "Kernel-General", 13, RP_EV_SHUTDOWN, 0, "", 0, 0, "Windows shut down"},
    {"EventLog", "EventLog", 6005, RP_EV_BOOT, 0, "", 0, 0, "The Event Log service started"},
    {"EventLog", "EventLog", 6006, RP_EV_SHUTDOWN, 0, "", 0, 0,
     "The Event Log service stopped (clean shutdown)"},
    {"EventLog", "EventLog", 6008, RP_EV_UNEXPECTED, 0, "", 0, 0,
     "The previous system shutdown at %1 %2 was unexpected"},
    {KPOW, "Kernel-Power", 41, RP_EV_UNEXPECTED, 0, "", 0, 0,
     "The system rebooted without cleanly shutting down first (crash, hang or lost power)"},

    {"Schannel", "Schannel", 36870, RP_EV_NONE, 1, KEYCHECKS, 0, 0,
     "A fatal error occurred when attempting to access the TLS server credential private key "
     "(error code %1): TermService cannot read the RDP certificate's private key "
     "(MachineKeys access rules or a broken key container)"},
    {"Schannel", "Schannel", 36871, RP_EV_NONE, 1, "tls.schannel,rdp.security", 0, 0,
     "A fatal error occurred while creating a TLS server credential (error %1): the TLS "
     "protocols, cipher suites or FIPS policy leave nothing RDP can use"},
    {"Schannel", "Schannel", 36874, RP_EV_NONE, 1, "tls.schannel", 0, 0,
     "A TLS connection request was received, but none of the cipher suites the client supports "
     "is enabled on the server"},
    {"Schannel", "Schannel", 36888, RP_EV_NONE, 0, "tls.schannel", 0, 0,
     "A fatal TLS alert was generated (alert %1, state %2)"},
    {"Schannel", "Schannel", 36887, RP_EV_NONE, 0, "tls.schannel", 0, 0,
     "A fatal TLS alert was received from the remote endpoint (alert %1)"},

    {RCM, "RemoteConnectionManager", 1057, RP_EV_NONE, 1, KEYCHECKS, 0, 0,
     "The RD Session Host Server failed to create a new self signed certificate for RDP over "
     "TLS (%1)"},
    {RCM, "RemoteConnectionManager", 1058, RP_EV_NONE, 1, KEYCHECKS, 0, 0,
     "The RD Session Host Server failed to replace the expired self signed certificate used for "
     "RDP over TLS (%1)"},
    {RCM, "RemoteConnectionManager", 1056, RP_EV_NONE, 0, "cert.rdp", 0, 0,
     "The RD Session Host Server created a new self signed certificate for RDP over TLS"},
    {RCM, "RemoteConnectionManager", 261, RP_EV_NONE, 0, "", 0, 0,
     "Listener %1 received a connection"},
    {RCM, "RemoteConnectionManager", 1149, RP_EV_NONE, 0, "", 0, 0,
     "User authentication succeeded: %2\\%1 from %3"},

    {CORE, "RdpCoreTS", 131, RP_EV_NONE, 0, "", 0, 0,
     "The server accepted a new %1 connection from client %2"},
    {CORE, "RdpCoreTS", 140, RP_EV_NONE, 0, "", 0, 0,
     "A connection from %1 failed because the user name or password is not correct"},
    {CORE, "RdpCoreTS", 102, RP_EV_NONE, 0, "", 0, 0,
     "The server terminated the main RDP connection with the client"},
    {CORE, "RdpCoreTS", 103, RP_EV_NONE, 0, "", 0, 0, "The disconnect reason is %1"},
    {CORE, "RdpCoreTS", 226, RP_EV_NONE, 0, "", 0, 0,
     "%1: an error was encountered when transitioning from %3 to %5 in response to %7 (a "
     "connection that ended early; routine on a machine scanned from the internet)"},
    {CORE, "RdpCoreTS", 227, RP_EV_NONE, 0, "", 0, 0, "RDP stack error in %1: %3"},

    {LSM, "LocalSessionManager", 21, RP_EV_NONE, 0, "", 0, 0,
     "Session logon succeeded: user %1, session %2, from %3"},
    {LSM, "LocalSessionManager", 23, RP_EV_NONE, 0, "", 0, 0,
     "Session logoff succeeded: user %1, session %2"},
    {LSM, "LocalSessionManager", 24, RP_EV_NONE, 0, "", 0, 0,
     "Session disconnected: user %1, session %2, from %3"},
    {LSM, "LocalSessionManager", 25, RP_EV_NONE, 0, "", 0, 0,
     "Session reconnection succeeded: user %1, session %2, from %3"},

    {SCM, SCM, 7000, RP_EV_NONE, 1, "rdp.services", 1, 0, "The %1 service failed to start: %2"},
    {SCM, SCM, 7001, RP_EV_NONE, 1, "rdp.services", 1, 0,
     "The %1 service depends on the %2 service, which failed to start: %3"},
    {SCM, SCM, 7009, RP_EV_NONE, 1, "rdp.services", 2, 0,
     "A timeout was reached (%1 milliseconds) while waiting for the %2 service to connect"},
    {SCM, SCM, 7011, RP_EV_NONE, 1, "rdp.services", 2, 0,
     "A timeout (%1 milliseconds) was reached while waiting for a transaction response from "
     "the %2 service"},
    {SCM, SCM, 7022, RP_EV_NONE, 1, "rdp.services", 1, 0, "The %1 service hung on starting"},
    {SCM, SCM, 7023, RP_EV_NONE, 1, "rdp.services", 1, 0,
     "The %1 service terminated with the following error: %2"},
    {SCM, SCM, 7024, RP_EV_NONE, 1, "rdp.services", 1, 0,
     "The %1 service terminated with the service-specific error %2"},
    {SCM, SCM, 7031, RP_EV_NONE, 1, "rdp.services", 1, 0,
     "The %1 service terminated unexpectedly; it has done this %2 time(s)"},
    {SCM, SCM, 7034, RP_EV_NONE, 1, "rdp.services", 1, 0,
     "The %1 service terminated unexpectedly; it has done this %2 time(s)"},
    {SCM, SCM, 7040, RP_EV_NONE, 0, "rdp.services", 1, 0,
     "The start type of the %1 service was changed from %2 to %3 (by %U)"},
    {SCM, SCM, 7045, RP_EV_NONE, 0, "", 0, 0,
     "A service was installed: %1 (file %2, type %3, start %4, account %5)"},

    {SEC, "Security", 4625, RP_EV_NONE, 0, "rdp.access", 0, 11,
     "An RDP logon failed for %7\\%6 from %20 (status %8, sub-status %10)"},
    {SEC, "Security", 4624, RP_EV_NONE, 0, "", 0, 9, "An RDP logon succeeded for %7\\%6 from %19"},
};

int rp_ev_id_known(uint32_t id)
{
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		if (rules[i].id == id)
			return 1;
	return 0;
}

const rp_ev_rule *rp_ev_rule_find(const char *provider, uint32_t id)
{
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		if (rules[i].id == id && rp_strcasecmp(rules[i].provider, provider) == 0)
			return &rules[i];
	return NULL;
}

/* Services RDP needs, by key name, with their English display names: TermService, its
 * dependencies and helpers, the key isolation service, the firewall and the network path. */
static const struct {
	const char *key, *display1, *display2;
} rdp_services[] = {
    {"TermService", "Remote Desktop Services", "Terminal Services"},
    {"UmRdpService", "Remote Desktop Services UserMode Port Redirector", NULL},
    {"SessionEnv", "Remote Desktop Configuration", NULL},
    {"TermDD", "Remote Desktop Device Redirector Driver", NULL},
    {"RDPDR", NULL, NULL},
    {"RpcSs", "Remote Procedure Call (RPC)", NULL},
    {"RpcEptMapper", "RPC Endpoint Mapper", NULL},
    {"DcomLaunch", "DCOM Server Process Launcher", NULL},
    {"KeyIso", "CNG Key Isolation", NULL},
    {"CryptSvc", "Cryptographic Services", NULL},
    {"MpsSvc", "Windows Firewall", "Windows Defender Firewall"},
    {"BFE", "Base Filtering Engine", NULL},
    {"mpsdrv", "Windows Firewall Authorization Driver", NULL},
    {"Dhcp", "DHCP Client", NULL},
    {"NlaSvc", "Network Location Awareness", NULL},
    {"Tcpip", "TCP/IP Protocol Driver", NULL},
    {"Netlogon", NULL, NULL},
};

const char *rp_ev_service_key(const char *name)
{
	for (size_t i = 0; name && i < sizeof rdp_services / sizeof rdp_services[0]; i++) {
		const char *n[3] = {rdp_services[i].key, rdp_services[i].display1,
				    rdp_services[i].display2};
		for (int k = 0; k < 3; k++)
			if (n[k] && rp_strcasecmp(n[k], name) == 0)
				return rdp_services[i].key;
	}
	return NULL;
}

int rp_ev_rdp_service(const char *name)
{
	return rp_ev_service_key(name) != NULL;
}

const char *rp_event_service(const rp_event *e)
{
	if (!e->rule || !e->rule->service_arg || (size_t)e->rule->service_arg > e->nstrings)
		return NULL;
	return e->strings[e->rule->service_arg - 1];
}

int rp_event_is_failure(const rp_event *e)
{
	if (!e->rule || !e->rule->failure)
		return 0;
	if (e->rule->service_arg) {
		const char *svc = rp_event_service(e);
		return svc && rp_ev_rdp_service(svc);
	}
	return 1;
}

/* The Win32 errors a service failure names most often (winerror.h texts). */
static const struct {
	unsigned code;
	const char *text;
} win32[] = {
    {2, "The system cannot find the file specified."},
    {50, "The request is not supported."},
    {3, "The system cannot find the path specified."},
    {5, "Access is denied."},
    {14, "Not enough memory resources are available to complete this operation."},
    {87, "The parameter is incorrect."},
    {126, "The specified module could not be found."},
    {193, "The service's program is not a valid Win32 application."},
    {1053, "The service did not respond to the start or control request in a timely fashion."},
    {1058, "The service cannot be started, either because it is disabled or because it has no "
	   "enabled devices associated with it."},
    {1060, "The specified service does not exist as an installed service."},
    {1067, "The process terminated unexpectedly."},
    {1068, "The dependency service or group failed to start."},
    {1069, "The service did not start due to a logon failure."},
    {1075, "The dependency service does not exist or has been marked for deletion."},
    {1079, "The account specified for this service is different from the account specified for "
	   "other services running in the same process."},
    {1275, "This driver has been blocked from loading."},
    {1290, "The service start failed since one or more services in the same process have an "
	   "incompatible service SID type setting."},
    {1297, "A privilege that the service requires to function properly does not exist in the "
	   "service account configuration."},
    {577, "Windows cannot verify the digital signature for this file."},
};

char *rp_ev_insert_words(const char *s)
{
	if (strncmp(s, "%%", 2) != 0 || !s[2])
		return rp_xstrdup(s);
	char *end;
	unsigned long n = strtoul(s + 2, &end, 10);
	if (*end || n > 0xffffffffUL)
		return rp_xstrdup(s);
	unsigned code = (unsigned)n;
	/* HRESULT_FROM_WIN32: 0x8007xxxx carries Win32 error xxxx. */
	if ((code & 0xffff0000u) == 0x80070000u)
		code &= 0xffffu;
	for (size_t i = 0; i < sizeof win32 / sizeof win32[0]; i++)
		if (win32[i].code == code)
			return rp_xasprintf("%s (error %u)", win32[i].text, code);
	return rp_xasprintf("error %u", code);
}

char *rp_event_text(const rp_event *e)
{
	const char *m = e->rule ? e->rule->meaning : "";
	size_t cap = 256, len = 0;
	char *out = rp_xmalloc(cap);
	for (const char *p = m; *p;) {
		const char *piece = NULL;
		char *owned = NULL;
		size_t plen = 1;
		if (p[0] == '%' && p[1] == 'U') {
			plen = 2;
			const char *u = e->user;
			owned = rp_xstrdup(!u				? "an unknown account"
					   : strcmp(u, "S-1-5-18") == 0 ? "SYSTEM"
					   : strcmp(u, "S-1-5-19") == 0 ? "LOCAL SERVICE"
					   : strcmp(u, "S-1-5-20") == 0 ? "NETWORK SERVICE"
									: u);
			piece = owned;
		} else if (p[0] == '%' && p[1] >= '1' && p[1] <= '9') {
			char *end;
			unsigned long k = strtoul(p + 1, &end, 10);
			plen = (size_t)(end - p);
			owned = k <= e->nstrings ? rp_ev_insert_words(e->strings[k - 1])
						 : rp_xstrdup("?");
			piece = owned;
		}
		size_t add = piece ? strlen(piece) : 1;
		while (len + add + 1 > cap)
			cap *= 2;
		out = rp_xrealloc(out, cap);
		memcpy(out + len, piece ? piece : p, add);
		len += add;
		p += plen;
		free(owned);
	}
	out[len] = 0;
	return out;
}

/* FILETIME: 100 ns ticks since 1601-01-01. */
#define FT_UNIX_DIFF 11644473600ULL

time_t rp_ev_unix(uint64_t ft)
{
	uint64_t s = ft / 10000000ULL;
	return s < FT_UNIX_DIFF ? 0 : (time_t)(s - FT_UNIX_DIFF);
}

void rp_ev_time(uint64_t ft, int iso, char *buf, size_t n)
{
	time_t t = rp_ev_unix(ft);
	struct tm tm;
	gmtime_r(&t, &tm);
	char base[32];
	strftime(base, sizeof base, iso ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
	if (iso)
		snprintf(buf, n, "%s.%07uZ", base, (unsigned)(ft % 10000000ULL));
	else
		snprintf(buf, n, "%s", base);
}
