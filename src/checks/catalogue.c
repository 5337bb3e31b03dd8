/*
 * catalogue.c — the list of checks and running a selection of them.
 * Each family lives in its own file; this table is the only place that names them all.
 */
#include "checks/checks.h"
#include "util/text.h"

#include <stdlib.h>
#include <string.h>

int rp_check_rdp_access(rp_scan *scan, rp_err *err);
int rp_check_rdp_listener(rp_scan *scan, rp_err *err);
int rp_check_rdp_security(rp_scan *scan, rp_err *err);
int rp_check_rdp_services(rp_scan *scan, rp_err *err);
int rp_check_rdp_firewall(rp_scan *scan, rp_err *err);
int rp_check_tls_schannel(rp_scan *scan, rp_err *err);
int rp_check_tls_credssp(rp_scan *scan, rp_err *err);
int rp_check_cert_rdp(rp_scan *scan, rp_err *err);
int rp_check_keys_acl(rp_scan *scan, rp_err *err);
int rp_check_keys_rdp(rp_scan *scan, rp_err *err);
int rp_check_keys_contents(rp_scan *scan, rp_err *err);
int rp_check_logon_rdp(rp_scan *scan, rp_err *err);
int rp_check_rds_licensing(rp_scan *scan, rp_err *err);

const rp_check rp_checks[] = {
    {"rdp.access", "Remote Desktop allowed", rp_check_rdp_access},
    {"rdp.listener", "RDP-Tcp listener", rp_check_rdp_listener},
    {"rdp.security", "Security layer, NLA and encryption", rp_check_rdp_security},
    {"rdp.services", "Remote Desktop services startable", rp_check_rdp_services},
    {"rdp.firewall", "Windows Firewall lets RDP in", rp_check_rdp_firewall},
    {"tls.schannel", "TLS versions and cipher suites", rp_check_tls_schannel},
    {"tls.credssp", "CredSSP encryption oracle setting", rp_check_tls_credssp},
    {"cert.rdp", "RDP listener certificate and its key", rp_check_cert_rdp},
    {"keys.acl", "MachineKeys folder access rules", rp_check_keys_acl},
    {"keys.rdp", "RDP key container: present, sound, readable", rp_check_keys_rdp},
    {"keys.contents", "Broken key container files", rp_check_keys_contents},
    {"logon.rdp", "Who may log on over RDP (SAM, logon rights)", rp_check_logon_rdp},
    {"rds.licensing", "Session host licensing and grace period", rp_check_rds_licensing},
};
const size_t rp_ncheck = sizeof rp_checks / sizeof rp_checks[0];

const rp_check *rp_check_find(const char *id)
{
	for (size_t i = 0; i < rp_ncheck; i++)
		if (strcmp(rp_checks[i].id, id) == 0)
			return &rp_checks[i];
	return NULL;
}

/* Calls fn for each id of a comma-separated list; stops at the first unknown one. */
static int for_each_id(const char *ids, rp_scan *scan, rp_err *err)
{
	char *list = rp_xstrdup(ids), *save = NULL;
	int rc = 0;
	for (char *id = strtok_r(list, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
		const rp_check *c = rp_check_find(id);
		if (!c) {
			char *shown = rp_escape(id);
			rc = rp_fail(err, RP_EXIT_USAGE,
				     "unknown check '%s': see 'rdprescue scan --help' for the list",
				     shown);
			free(shown);
			break;
		}
		if (scan && c->run(scan, err) < 0) {
			rc = -1;
			break;
		}
	}
	free(list);
	return rc;
}

int rp_checks_validate(const char *ids, rp_err *err)
{
	return ids ? for_each_id(ids, NULL, err) : 0;
}

int rp_scan_run(rp_scan *scan, const char *ids, rp_err *err)
{
	if (ids)
		return for_each_id(ids, scan, err);
	for (size_t i = 0; i < rp_ncheck; i++)
		if (rp_checks[i].run(scan, err) < 0)
			return -1;
	return 0;
}
