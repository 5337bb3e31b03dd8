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
 *
 * Issue 14 adds what svchost and the service control manager need beyond the Start values:
 * TermService's Parameters\ServiceDll (%SystemRoot% expanded) must name a file on the volume
 * (not judged on a volume without Windows\System32\ntoskrnl.exe: no system files there at
 * all), and every service in its DependOnService chain (TermDD, RPCSS and theirs, followed
 * transitively, each once) must exist and not be disabled.  A disabled dependency is set back
 * to Windows' start value (the Windows 7 hive's for the ones RDP needs, manual otherwise).
 * The access rules of TermService's key and its Parameters key must let the readers read them:
 * the service control manager (SYSTEM) the service key, svchost running as NETWORK SERVICE
 * (with NT SERVICE\\TermService in its token) Parameters\\ServiceDll.  Report only: rdprescue
 * does not write registry security descriptors.
 */
#include "checks/checks.h"
#include "sd/sd.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NETWORK_SERVICE "NT Authority\\NetworkService"
#define DEFAULT_DLL "%SystemRoot%\\System32\\termsrv.dll"
#define KERNEL "Windows/System32/ntoskrnl.exe"
#define MAX_DEPS 64

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
	if (!rp_expect_service_account(
		scan, rp_id_rdp_services, key, "TermService", NETWORK_SERVICE,
		"NT AUTHORITY\\NETWORK SERVICE",
		"Remote Desktop Services must run as NETWORK SERVICE: the RDP key container and "
		"the "
		"listener's registry keys grant that account, so under another account the service "
		"fails to start (logon failure, error 1069) or cannot read its key, and the client "
		"cannot connect or gets 0x904 / extended 0x7. The fix sets ObjectName back to NT "
		"Authority\\NetworkService."))
		*healthy = 0;

	if (!rp_expect_service_type(
		scan, rp_id_rdp_services, key, "TermService", 16,
		"any other type keeps Remote Desktop Services from starting and the client cannot "
		"connect. The fix sets Type 16, the value of Microsoft's 'Remote Desktop Services "
		"not starting' procedure."))
		*healthy = 0;
}

/* "%SystemRoot%\\System32\\termsrv.dll" -> "Windows/System32/termsrv.dll" (malloc'd), NULL when
 * the path is not on the Windows volume (another drive, a UNC path, an unknown variable). */
static char *volume_path(const char *p)
{
	static const char *roots[] = {"%SystemRoot%\\", "%windir%\\", "\\SystemRoot\\"};
	const char *rest = NULL;
	for (size_t i = 0; i < 3 && !rest; i++)
		if (strncasecmp(p, roots[i], strlen(roots[i])) == 0)
			rest = p + strlen(roots[i]);
	char *out;
	if (rest) {
		out = rp_xasprintf("Windows/%s", rest);
	} else if (((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z') && p[1] == ':' && p[2] == '\\') {
		out = rp_xstrdup(p + 3); /* the drive letter is not known offline; assume C: */
	} else {
		return NULL;
	}
	for (char *c = out; *c; c++)
		if (*c == '\\')
			*c = '/';
	if (strchr(out, '%') || strstr(out, "..")) {
		free(out);
		return NULL;
	}
	return out;
}

static int file_exists(rp_scan *scan, const char *path, rp_err *err)
{
	rp_stat st;
	if (rp_vol_stat(scan->vol, path, &st, err) < 0)
		return -1;
	return st.exists && !st.is_dir;
}

/* TermService\Parameters\ServiceDll: present, and its file on the volume. */
static int check_service_dll(rp_scan *scan, const char *ts_key, int *healthy, char **note,
			     rp_err *err)
{
	rp_hive_file *system = &scan->reg->system;
	char *key = rp_xasprintf("%s\\Parameters", ts_key);
	rp_value v = {0};
	char *dll = NULL;
	if (rp_hive_get(system->hive, key, "ServiceDll", &v, NULL) == 1)
		dll = rp_value_string(&v);
	rp_value_free(&v);
	int have_files = file_exists(scan, KERNEL, err);
	int rc = 0;
	if (have_files < 0) {
		rc = -1;
		goto out;
	}
	char *vpath = dll ? volume_path(dll) : NULL;
	int exists = vpath && have_files ? file_exists(scan, vpath, err) : 0;
	if (exists < 0) {
		free(vpath);
		rc = -1;
		goto out;
	}
	if (dll && (exists || !have_files || !vpath)) {
		char *shown = rp_escape(dll);
		*note = rp_xasprintf(
		    !have_files ? "ServiceDll %s (file not checked: no %s on this volume)"
		    : exists	? "ServiceDll %s found"
				: "ServiceDll %s is not on the Windows volume (not checked)",
		    shown, KERNEL);
		free(shown);
		free(vpath);
		goto out;
	}
	*healthy = 0;
	char *shown = dll ? rp_escape(dll) : NULL;
	char *sum =
	    dll ? rp_xasprintf("TermService's ServiceDll %s does not exist on the volume", shown)
		: rp_xstrdup("TermService has no ServiceDll (Parameters\\ServiceDll)");
	/* Windows' own DLL, when it is there and the value names something else. */
	int dflt =
	    have_files && !(vpath && rp_strcasecmp(vpath, "Windows/System32/termsrv.dll") == 0)
		? file_exists(scan, "Windows/System32/termsrv.dll", err)
		: 0;
	if (dflt < 0) {
		rc = -1;
		dflt = 0;
	}
	char *explain = rp_xasprintf(
	    "svchost loads Remote Desktop Services from the DLL that ServiceDll names; %s, so "
	    "TermService fails to start (event 7023 or 7000) and nothing answers on the RDP "
	    "port. %s",
	    dll ? "that file is missing" : "the value is missing",
	    dflt ? "The fix sets ServiceDll back to " DEFAULT_DLL " (REG_EXPAND_SZ), which exists."
		 : "rdprescue cannot restore a system file: repair Windows (sfc /scannow "
		   "/offbootdir "
		   "/offwindir, or DISM /RestoreHealth /Source) or copy termsrv.dll from the same "
		   "build.");
	rp_finding *f = rp_finding_add(scan, "rdp.services", RP_PROBLEM, RP_ERROR, sum, explain);
	rp_evidence *e = rp_evidence_value(f, system, key, "ServiceDll", RP_SRC_LOCAL);
	if (vpath)
		e->note = rp_xasprintf("on the volume: %s (missing)", vpath);
	if (dflt) {
		size_t len = 0;
		uint8_t *u16 = rp_utf8_to_utf16(DEFAULT_DLL, &len);
		rp_change_raw(f, "SYSTEM", key, "ServiceDll", RP_REG_EXPAND_SZ, u16, len, 0,
			      "set TermService's Parameters\\ServiceDll to " DEFAULT_DLL);
		free(u16);
	}
	free(sum);
	free(explain);
	free(shown);
	free(vpath);
out:
	free(dll);
	free(key);
	return rc;
}

/* Windows 7's Start for the services TermService depends on (3, manual, for any other). */
static uint32_t default_start(const char *name)
{
	static const struct {
		const char *name;
		uint32_t start;
	} known[] = {{"TermDD", 1}, {"RPCSS", 2}, {"RpcEptMapper", 2}, {"DcomLaunch", 2}};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (rp_strcasecmp(known[i].name, name) == 0)
			return known[i].start;
	return 3;
}

/* The names in a REG_MULTI_SZ (malloc'd UTF-8), appended to names. */
static void multi_sz(const rp_value *v, char ***names, size_t *n)
{
	if (v->type != RP_REG_MULTI_SZ && v->type != RP_REG_SZ)
		return;
	size_t start = 0;
	for (size_t i = 0; i + 1 < v->len; i += 2) {
		if (v->data[i] || v->data[i + 1])
			continue;
		if (i > start) {
			char *s = rp_utf16_to_utf8(v->data + start, i - start);
			if (s) {
				*names = rp_xrealloc(*names, (*n + 1) * sizeof **names);
				(*names)[(*n)++] = s;
			}
		}
		start = i + 2;
	}
}

/* TermService's DependOnService, followed transitively (each service once), and TermDD. */
static int check_dependencies(rp_scan *scan, int *healthy, rp_err *err)
{
	rp_hive_file *system = &scan->reg->system;
	char **names = rp_xcalloc(1, sizeof *names), **by = rp_xcalloc(1, sizeof *by);
	size_t n = 0, done = 0;
	int rc = 0;
	/* names[i] was named by by[i]; the queue is names[done..n). */
	const char *roots[] = {"TermService", "TermDD"};
	for (size_t r = 0; r < 2; r++) {
		names = rp_xrealloc(names, (n + 1) * sizeof *names);
		by = rp_xrealloc(by, (n + 1) * sizeof *by);
		names[n] = rp_xstrdup(roots[r]);
		by[n++] = r ? rp_xstrdup("TermService") : NULL;
	}
	for (; done < n && rc == 0; done++) {
		char *rest = rp_xasprintf("Services\\%s", names[done]);
		char *key = rp_registry_ccs_path(scan->reg, rest);
		free(rest);
		int exists = rp_hive_key_exists(system->hive, key, err);
		if (exists < 0) {
			rc = -1;
		} else if (!exists && by[done]) {
			*healthy = 0;
			char *nm = rp_escape(names[done]), *parent = rp_escape(by[done]);
			char *sum =
			    rp_xasprintf("%s needs service %s, which does not exist", parent, nm);
			char *explain = rp_xasprintf(
			    "The service control manager starts %s only after every service in its "
			    "DependOnService; %s has no key, so the start fails with 'the "
			    "dependency "
			    "service does not exist' (1075) and TermService never runs. rdprescue "
			    "does not invent a service: restore it from the same Windows build or "
			    "repair Windows (DISM /RestoreHealth).",
			    parent, nm);
			rp_finding *f = rp_finding_add(scan, "rdp.services", RP_PROBLEM, RP_ERROR,
						       sum, explain);
			char *pkey = rp_xasprintf("%s\\Services\\%s", scan->reg->ccs, by[done]);
			rp_evidence_value(f, system, pkey, "DependOnService", RP_SRC_LOCAL);
			rp_evidence_value(f, system, key, "Start", RP_SRC_LOCAL);
			free(pkey);
			free(sum);
			free(explain);
			free(nm);
			free(parent);
		} else if (exists) {
			uint32_t start = 0;
			int present = 0;
			int is_dword = rp_read_dword(system, key, "Start", &start, &present);
			/* TermService's own Start is judged above; its dependencies here. */
			if (by[done] && is_dword && start >= 4) {
				*healthy = 0;
				uint32_t want = default_start(names[done]);
				char *nm = rp_escape(names[done]), *parent = rp_escape(by[done]);
				char buf[16];
				const char *was =
				    rp_dword_shown(present, is_dword, start, buf, sizeof buf);
				char *sum = rp_xasprintf(
				    "%s needs service %s, which is %s (Start %s)", parent, nm,
				    start == 4 ? "disabled" : "not startable", was);
				char *explain = rp_xasprintf(
				    "The service control manager starts %s only after %s; while %s "
				    "is "
				    "disabled the start fails ('the dependency service or group "
				    "failed to start', 1068) and TermService never runs, so "
				    "nothing "
				    "answers on the RDP port. The fix sets its Start to %u, "
				    "Windows' "
				    "value.",
				    parent, nm, nm, want);
				rp_finding *f = rp_finding_add(scan, "rdp.services", RP_PROBLEM,
							       RP_ERROR, sum, explain);
				rp_evidence_value(f, system, key, "Start", RP_SRC_LOCAL);
				rp_change_dword_was(f, "SYSTEM", key, "Start", want, was, 0);
				free(sum);
				free(explain);
				free(nm);
				free(parent);
			}
			rp_value v = {0};
			char **deps = NULL;
			size_t nd = 0;
			if (rp_hive_get(system->hive, key, "DependOnService", &v, NULL) == 1)
				multi_sz(&v, &deps, &nd);
			rp_value_free(&v);
			for (size_t i = 0; i < nd; i++) {
				int seen = 0;
				for (size_t k = 0; k < n && !seen; k++)
					seen = rp_strcasecmp(names[k], deps[i]) == 0;
				if (seen || n >= MAX_DEPS)
					continue;
				names = rp_xrealloc(names, (n + 1) * sizeof *names);
				by = rp_xrealloc(by, (n + 1) * sizeof *by);
				names[n] = rp_xstrdup(deps[i]);
				by[n++] = rp_xstrdup(names[done]);
			}
			rp_names_free(deps, nd);
		}
		free(key);
	}
	rp_names_free(names, n);
	rp_names_free(by, n);
	return rc;
}

#define KEY_QUERY_VALUE 0x1u
#define GENERIC_ALL 0x10000000u
#define GENERIC_READ 0x80000000u

/* Whether the DACL grants KEY_QUERY_VALUE to a token of n SIDs: ACEs in order, deny before a
 * grant wins; generic read and all count as key read; inherit-only ACEs do not apply. */
static int can_query(const rp_sd *sd, const rp_sid *tok, size_t n, const rp_sid **denied_by)
{
	*denied_by = NULL;
	if (!sd->has_dacl || sd->dacl_null)
		return 1;
	for (size_t i = 0; i < sd->dacl.count; i++) {
		const rp_ace *a = &sd->dacl.aces[i];
		if ((a->type != 0 && a->type != 1) || (a->flags & 0x08))
			continue;
		if (!(a->mask & (KEY_QUERY_VALUE | GENERIC_ALL | GENERIC_READ)))
			continue;
		for (size_t k = 0; k < n; k++) {
			if (!rp_sid_equal(&a->sid, &tok[k]))
				continue;
			if (a->type == 1) {
				*denied_by = &a->sid;
				return 0;
			}
			return 1;
		}
	}
	return 0;
}

/* TermService's key (read by SYSTEM) and its Parameters (read by NETWORK SERVICE). */
static int check_key_access(rp_scan *scan, const char *ts_key, int *healthy, rp_err *err)
{
	rp_sid ts_sid;
	rp_sid_service("TermService", &ts_sid);
	static const char *ns_token[] = {"S-1-5-20", "S-1-1-0", "S-1-5-11", "S-1-5-6",
					 "S-1-5-32-545"};
	rp_sid sys[2], ns[6];
	size_t nsys = 0, nns = 0;
	rp_sid_parse_text("S-1-5-18", &sys[nsys++]);
	rp_sid_parse_text("S-1-5-32-544", &sys[nsys++]);
	for (size_t i = 0; i < 5; i++)
		rp_sid_parse_text(ns_token[i], &ns[nns++]);
	ns[nns++] = ts_sid;
	char *params = rp_xasprintf("%s\\Parameters", ts_key);
	const struct {
		const char *key, *who;
		const rp_sid *tok;
		size_t n;
	} keys[] = {{ts_key, "the service control manager (SYSTEM)", sys, nsys},
		    {params, "TermService (NETWORK SERVICE)", ns, nns}};
	int rc = 0;
	for (size_t i = 0; i < 2 && rc == 0; i++) {
		uint8_t *raw = NULL;
		size_t len = 0;
		int got = rp_hive_key_sd(scan->reg->system.hive, keys[i].key, &raw, &len, err);
		if (got < 0) {
			rc = -1;
			break;
		}
		rp_sd sd;
		rp_err perr = {0};
		const rp_sid *denied_by = NULL;
		int parsed = got == 1 && rp_sd_parse(raw, len, &sd, &perr) == 0;
		int ok = got == 0 || (parsed && can_query(&sd, keys[i].tok, keys[i].n, &denied_by));
		if (!ok) {
			*healthy = 0;
			char *sddl = parsed ? rp_sd_to_sddl(&sd) : NULL;
			char *by = NULL;
			if (denied_by) {
				const char *wk = rp_sid_well_known_name(denied_by);
				by = wk ? rp_xstrdup(wk) : rp_sid_to_text(denied_by);
			}
			char *sum = rp_xasprintf(
			    "the access rules of SYSTEM\\%s keep %s from reading it%s%s%s",
			    keys[i].key, keys[i].who, by ? " (a deny entry for " : "", by ? by : "",
			    by ? ")" : "");
			char *explain = rp_xasprintf(
			    "%s must read this key to start Remote Desktop Services; its security "
			    "descriptor (%s) gives no read access%s, so TermService fails to start "
			    "(access denied, 5) and nothing answers on the RDP port. Windows' "
			    "rules "
			    "give SYSTEM and Administrators full control and Users read. rdprescue "
			    "does not rewrite registry access rules: restore them at the console "
			    "(regedit, Permissions) or from a healthy machine of the same build.",
			    keys[i].who,
			    sddl     ? sddl
			    : parsed ? "not expressible in SDDL"
				     : perr.msg,
			    denied_by ? " or denies it" : "");
			rp_finding *f = rp_finding_add(scan, "rdp.services", RP_PROBLEM, RP_ERROR,
						       sum, explain);
			rp_evidence *e =
			    rp_evidence_copy(f, &(rp_evidence){.hive = "SYSTEM",
							       .key = (char *)keys[i].key,
							       .source = RP_SRC_LOCAL});
			e->note = rp_xasprintf("key security descriptor: %s",
					       sddl ? sddl : "(see the explanation)");
			free(sum);
			free(explain);
			free(sddl);
			free(by);
		}
		if (parsed)
			rp_sd_free(&sd);
		free(raw);
	}
	free(params);
	return rc;
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
	char *dll_note = NULL;
	if (rc == 0 && (check_service_dll(scan, keys[0], &healthy, &dll_note, err) < 0 ||
			check_dependencies(scan, &healthy, err) < 0 ||
			check_key_access(scan, keys[0], &healthy, err) < 0))
		rc = -1;
	if (rc == 0 && healthy) {
		rp_finding *ok =
		    rp_finding_add(scan, rp_id_rdp_services, RP_OK, RP_INFO,
				   "TermService and the services RDP needs are startable", NULL);
		for (size_t i = 0; i < n; i++)
			rp_evidence_value(ok, &scan->reg->system, keys[i], "Start", RP_SRC_LOCAL);
		rp_evidence_value(ok, &scan->reg->system, keys[0], "ObjectName", RP_SRC_LOCAL);
		char *params = rp_xasprintf("%s\\Parameters", keys[0]);
		rp_evidence *e =
		    rp_evidence_value(ok, &scan->reg->system, params, "ServiceDll", RP_SRC_LOCAL);
		e->note = dll_note;
		dll_note = NULL;
		rp_evidence_value(ok, &scan->reg->system, keys[0], "DependOnService", RP_SRC_LOCAL);
		free(params);
	}
	free(dll_note);
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	return rc;
}
