/*
 * weakening.c — which registry values lower Remote Desktop security when set, and what is lost:
 * for `rdprescue reg`, which applies any change (as regedit does) but says so.
 *
 * Looked at where Windows reads them: the local values of the booted control set (Terminal
 * Server and its WinStations\<listener> keys) and their policy copies in SOFTWARE (which beat
 * the local ones).  Only REG_DWORD sets are judged.
 */
#include "checks/checks.h"
#include "util/text.h"

#include <stdlib.h>
#include <string.h>

static int is(const char *a, const char *b)
{
	return rp_strcasecmp(a, b) == 0;
}

const char *rp_rdp_weakening(const rp_registry *reg, const char *hive, const char *key,
			     const char *value, uint32_t type, const uint8_t *data, size_t len,
			     int *weakens)
{
	*weakens = 0;
	if (type != RP_REG_DWORD || len != 4 || !value)
		return NULL;
	uint32_t v = (uint32_t)(data[0] | data[1] << 8 | data[2] << 16 | (uint32_t)data[3] << 24);
	int ts = 0, winstation = 0;
	if (!strcmp(hive, "SYSTEM")) {
		char *k = rp_registry_ccs_path(reg, "Control\\Terminal Server");
		size_t kl = strlen(k);
		ts = is(key, k);
		winstation = !strncasecmp(key, k, kl) &&
			     !strncasecmp(key + kl, "\\WinStations\\", 13) && key[kl + 13] &&
			     !strchr(key + kl + 13, '\\');
		free(k);
	} else if (!strcmp(hive, "SOFTWARE")) {
		ts = winstation = is(key, RP_POLICY_TS);
	}
	if (ts && is(value, "fDenyTSConnections") && v != 0)
		return "every Remote Desktop connection will be refused";
	*weakens = 1;
	if (winstation && is(value, "UserAuthentication") && v == 0)
		return "Network Level Authentication is turned off: anyone who reaches the port "
		       "gets a Windows logon session before proving who they are";
	if (winstation && is(value, "SecurityLayer") && v == 0)
		return "the RDP security layer replaces TLS: the server is not authenticated, so "
		       "a man in the middle can read the session";
	if (winstation && is(value, "SecurityLayer") && v == 1)
		return "the security layer is negotiated: a client that does not ask for TLS gets "
		       "the RDP security layer, where the server is not authenticated";
	if (winstation && is(value, "MinEncryptionLevel") && v < 2)
		return "low encryption: only data from the client is encrypted";
	*weakens = 0;
	return NULL;
}
