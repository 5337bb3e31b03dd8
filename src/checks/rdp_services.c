/*
 * rdp_services.c — rdp.services: can the services behind Remote Desktop start?
 *
 * TermService runs the listener; SessionEnv makes and renews its self-signed certificate;
 * UmRdpService redirects devices into sessions; CertPropSvc, KeyIso and CryptSvc give the TLS
 * credential its certificate and private key (rdp-registry.md sections 4 and 7).  The rule of
 * Microsoft's newest repair scripts is followed: only a service that is disabled (Start 4), or
 * whose Start is missing or not a start type at all, is set back to Windows' value; a service
 * set to automatic instead of manual is left alone.  TermService must also run as NETWORK
 * SERVICE (the RDP key's ACL grants that account) in a Win32 service process (Type 16 or 32).
 */
#include "checks/checks.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>

#define NETWORK_SERVICE "NT Authority\\NetworkService"

typedef struct service {
	const char *name;
	uint32_t start;	  /* Windows' default Start */
	const char *role; /* what breaks without it, in plain words */
} service;

static const service services[] = {
    {"TermService", 3,
     "Remote Desktop Services runs the RDP listener; while it cannot start nothing answers on "
     "the RDP port and the client cannot connect at all"},
    {"SessionEnv", 3,
     "Remote Desktop Configuration creates and renews the listener's self-signed certificate; "
     "without it the listener has no usable certificate and drops the connection during the TLS "
     "handshake (0x904 / extended 0x7)"},
    {"UmRdpService", 3,
     "the Remote Desktop port redirector starts with every session; Microsoft's "
     "troubleshooting for a client that cannot connect requires it to be startable"},
    {"CertPropSvc", 3,
     "Certificate Propagation is one of the services Windows needs to (re)create the RDP "
     "certificate; without a certificate the TLS handshake fails (0x904 / extended 0x7)"},
    {"KeyIso", 3,
     "CNG Key Isolation opens the private keys of TLS credentials; without it the listener "
     "cannot use its certificate's key and drops the connection (0x904 / extended 0x7)"},
    {"CryptSvc", 2,
     "Cryptographic Services validates and creates certificates; without it the RDP "
     "certificate cannot be made or checked and the TLS handshake fails (0x904 / extended "
     "0x7)"},
};

/* Start values a Win32 service can have and still start: automatic or manual (or delayed
 * automatic, which is 2 too). */
static int startable(uint32_t start)
{
	return start == 2 || start == 3;
}

static void check_start(rp_scan *scan, const service *s, const char *key, int *healthy)
{
	rp_hive_file *system = &scan->reg->system;
	uint32_t start = 0;
	int present = 0;
	int is_dword = rp_read_dword(system, key, "Start", &start, &present);
	if (is_dword && startable(start))
		return;
	*healthy = 0;
	char buf[16];
	const char *was = rp_dword_shown(present, is_dword, start, buf, sizeof buf);
	char *sum = is_dword && start == 4
			? rp_xasprintf("service %s is disabled (Start 4)", s->name)
			: rp_xasprintf("service %s has no usable Start value (%s)", s->name, was);
	char *explain = rp_xasprintf("%s. The fix sets Start to %u (%s), Windows' default.",
				     s->role, s->start, s->start == 2 ? "automatic" : "manual");
	rp_finding *f =
	    rp_finding_add(scan, rp_id_rdp_services, RP_PROBLEM, RP_ERROR, sum, explain);
	rp_evidence_value(f, system, key, "Start", RP_SRC_LOCAL);
	rp_change_dword_was(f, "SYSTEM", key, "Start", s->start, was, 0);
	free(sum);
	free(explain);
}

/* TermService: the account it runs as and its service type. */
static void check_termservice(rp_scan *scan, const char *key, int *healthy)
{
	rp_hive_file *system = &scan->reg->system;
	rp_value v = {0};
	char *account = NULL;
	if (rp_hive_get(system->hive, key, "ObjectName", &v, NULL) == 1)
		account = rp_value_string(&v);
	rp_value_free(&v);
	if (!account || (rp_strcasecmp(account, NETWORK_SERVICE) != 0 &&
			 rp_strcasecmp(account, "NT AUTHORITY\\NETWORK SERVICE") != 0)) {
		*healthy = 0;
		char *shown = account ? rp_escape(account) : rp_xstrdup("absent");
		char *sum =
		    rp_xasprintf("TermService runs as %s, not NT Authority\\NetworkService", shown);
		rp_finding *f = rp_finding_add(
		    scan, rp_id_rdp_services, RP_PROBLEM, RP_ERROR, sum,
		    "Remote Desktop Services must run as NETWORK SERVICE: the RDP key container "
		    "and "
		    "the listener's registry keys grant that account, so under another account the "
		    "service fails to start (logon failure, error 1069) or cannot read its key, "
		    "and "
		    "the client cannot connect or gets 0x904 / extended 0x7. The fix sets "
		    "ObjectName "
		    "back to NT Authority\\NetworkService.");
		rp_evidence_value(f, system, key, "ObjectName", RP_SRC_LOCAL);
		char *what = rp_xasprintf("set SYSTEM\\%s\\ObjectName to \"%s\" (was %s)", key,
					  NETWORK_SERVICE, shown);
		rp_change_sz(f, "SYSTEM", key, "ObjectName", NETWORK_SERVICE, 0, what);
		free(what);
		free(sum);
		free(shown);
	}
	free(account);

	uint32_t type = 0;
	int present = 0;
	int is_dword = rp_read_dword(system, key, "Type", &type, &present);
	if (is_dword && (type == 16 || type == 32))
		return;
	*healthy = 0;
	char buf[16];
	const char *was = rp_dword_shown(present, is_dword, type, buf, sizeof buf);
	char *sum = rp_xasprintf("TermService Type is %s, not a Win32 service process", was);
	rp_finding *f = rp_finding_add(
	    scan, rp_id_rdp_services, RP_PROBLEM, RP_ERROR, sum,
	    "The service control manager starts TermService only as a Win32 service (Type 16, "
	    "own process, or 32, shared svchost process); any other type keeps Remote Desktop "
	    "Services from starting and the client cannot connect. The fix sets Type 16, the "
	    "value of Microsoft's 'Remote Desktop Services not starting' procedure.");
	rp_evidence_value(f, system, key, "Type", RP_SRC_LOCAL);
	rp_change_dword_was(f, "SYSTEM", key, "Type", 16, was, 0);
	free(sum);
}

int rp_check_rdp_services(rp_scan *scan, rp_err *err)
{
	int healthy = 1, rc = 0;
	size_t n = sizeof services / sizeof services[0];
	char **keys = rp_xcalloc(n, sizeof *keys);
	for (size_t i = 0; i < n; i++) {
		const service *s = &services[i];
		char *rest = rp_xasprintf("Services\\%s", s->name);
		keys[i] = rp_registry_ccs_path(scan->reg, rest);
		free(rest);
		int exists = rp_hive_key_exists(scan->reg->system.hive, keys[i], err);
		if (exists < 0) {
			rc = -1;
			break;
		}
		if (!exists) {
			healthy = 0;
			char *sum =
			    rp_xasprintf("service %s is missing (SYSTEM\\%s)", s->name, keys[i]);
			char *explain = rp_xasprintf(
			    "%s. Its key is gone, so Windows does not know the service at all. "
			    "rdprescue does not invent a service definition: restore it from a "
			    "healthy machine of the same Windows build (export its key there and "
			    "import it with Windows' own 'reg import' from a recovery command "
			    "prompt) or repair Windows (DISM /RestoreHealth, sfc).",
			    s->role);
			rp_finding *f = rp_finding_add(scan, rp_id_rdp_services, RP_PROBLEM,
						       RP_ERROR, sum, explain);
			rp_evidence_value(f, &scan->reg->system, keys[i], "Start", RP_SRC_LOCAL);
			free(sum);
			free(explain);
			continue;
		}
		check_start(scan, s, keys[i], &healthy);
		if (i == 0)
			check_termservice(scan, keys[i], &healthy);
	}
	if (rc == 0 && healthy) {
		rp_finding *ok =
		    rp_finding_add(scan, rp_id_rdp_services, RP_OK, RP_INFO,
				   "TermService and the services RDP needs are startable", NULL);
		for (size_t i = 0; i < n; i++)
			rp_evidence_value(ok, &scan->reg->system, keys[i], "Start", RP_SRC_LOCAL);
		rp_evidence_value(ok, &scan->reg->system, keys[0], "ObjectName", RP_SRC_LOCAL);
	}
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	return rc;
}
