/*
 * tls.c — tls.schannel and tls.credssp: can the server complete the TLS handshake and the
 * CredSSP (NLA) exchange that an RDP client starts?
 *
 * tls.schannel: the SCHANNEL Protocols\TLS 1.x\Server keys decide which TLS versions the
 * listener offers (rdp-registry.md sections 2.3, 6 and 11).  With none left, the server closes
 * the connection during the handshake: 0x904 / extended 0x7, event 36871.  The fix repairs TLS
 * 1.2 only; TLS 1.0 comes back only with --allow-weaker-security.  An empty Group Policy
 * cipher-suite list kills TLS the same way; deleting it (from SOFTWARE\Policies and from a local
 * Registry.pol that would write it back) restores Windows' default order.
 *
 * tls.credssp: AllowEncryptionOracle (CVE-2018-0886) decides which CredSSP peers are accepted.
 * It is reported with what it means; 2 (Vulnerable) is a security warning that rdprescue never
 * writes; a value out of range is removed (SOFTWARE and local Registry.pol copies) so that
 * Windows' default applies.  Both policy values are read through rp_effective_dword, which knows
 * every copy and which one decides (checks.h).
 */
#include "checks/checks.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROTOCOLS "Control\\SecurityProviders\\SCHANNEL\\Protocols"
#define CIPHER_POLICY "Policies\\Microsoft\\Cryptography\\Configuration\\SSL\\00010002"
#define CREDSSP "Microsoft\\Windows\\CurrentVersion\\Policies\\System\\CredSSP\\Parameters"

enum { TLS10, TLS11, TLS12, TLS13, NPROTO };

typedef struct protocol {
	const char *name;
	char *key; /* <ccs>\PROTOCOLS\<name>\Server */
	int en_present, en_dword, dbd_present, dbd_dword;
	uint32_t enabled, disabled_by_default;
	int def_on;  /* offered by this build when nothing is configured */
	int offered; /* what the server offers, all things considered */
} protocol;

/* Windows' defaults by build.  Windows 7 / 2008 R2 (before build 9200) have TLS 1.1 and 1.2 but
 * do not offer them unless configured (INFERENCE, the conservative reading: the fix then writes
 * both values explicitly, which is harmless if they were on); TLS 1.3 serves from build 20348
 * (Windows Server 2022). */
static int default_on(int proto, unsigned build)
{
	switch (proto) {
	case TLS10:
		return 1;
	case TLS11:
	case TLS12:
		return build >= 9200;
	default:
		return build >= 20348;
	}
}

static void read_protocol(rp_scan *scan, protocol *p, int proto)
{
	static const char *names[NPROTO] = {"TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"};
	rp_hive_file *system = &scan->reg->system;
	p->name = names[proto];
	char *rest = rp_xasprintf(PROTOCOLS "\\%s\\Server", p->name);
	p->key = rp_registry_ccs_path(scan->reg, rest);
	free(rest);
	p->en_dword = rp_read_dword(system, p->key, "Enabled", &p->enabled, &p->en_present);
	p->dbd_dword = rp_read_dword(system, p->key, "DisabledByDefault", &p->disabled_by_default,
				     &p->dbd_present);
	p->def_on = default_on(proto, scan->reg->build_number);
	/* Enabled 0 turns the protocol off (any other number, 0xffffffff included, leaves it on);
	 * DisabledByDefault non-zero keeps it from being offered unless an application asks for
	 * it by name, which the RDP listener does not. */
	int enabled = p->en_present && p->en_dword ? p->enabled != 0 : p->def_on;
	int by_default = p->dbd_present && p->dbd_dword ? p->disabled_by_default == 0 : p->def_on;
	p->offered = enabled && by_default && (proto != TLS13 || scan->reg->build_number >= 20348);
}

static void add_protocol_evidence(rp_finding *f, rp_scan *scan, const protocol *p)
{
	rp_evidence_value(f, &scan->reg->system, p->key, "Enabled", RP_SRC_LOCAL);
	rp_evidence_value(f, &scan->reg->system, p->key, "DisabledByDefault", RP_SRC_LOCAL);
}

/* Plans what makes p offered: Enabled 1 and DisabledByDefault 0, each written only when its
 * current value (or the build's default, when absent) is in the way. */
static void plan_enable(rp_finding *f, const protocol *p, int weakens)
{
	char buf[16];
	if ((p->en_present && !(p->en_dword && p->enabled != 0)) ||
	    (!p->en_present && !p->def_on)) {
		const char *was =
		    rp_dword_shown(p->en_present, p->en_dword, p->enabled, buf, sizeof buf);
		rp_change_dword_was(f, "SYSTEM", p->key, "Enabled", 1, was, weakens);
	}
	if ((p->dbd_present && !(p->dbd_dword && p->disabled_by_default == 0)) ||
	    (!p->dbd_present && !p->def_on)) {
		const char *was = rp_dword_shown(p->dbd_present, p->dbd_dword,
						 p->disabled_by_default, buf, sizeof buf);
		rp_change_dword_was(f, "SYSTEM", p->key, "DisabledByDefault", 0, was, weakens);
	}
}

static void check_protocols(rp_scan *scan)
{
	protocol ps[NPROTO];
	memset(ps, 0, sizeof ps);
	int any = 0;
	char offered[64] = "";
	for (int i = 0; i < NPROTO; i++) {
		read_protocol(scan, &ps[i], i);
		any |= ps[i].offered;
		if (ps[i].offered) {
			if (offered[0])
				strcat(offered, ", ");
			strcat(offered, ps[i].name);
		}
	}
	rp_finding *f;
	if (any) {
		char *sum = rp_xasprintf("the RDP server offers %s", offered);
		f = rp_finding_add(
		    scan, rp_id_tls_schannel, RP_OK,
		    !ps[TLS12].offered && !ps[TLS13].offered ? RP_WARNING : RP_INFO, sum,
		    !ps[TLS12].offered && !ps[TLS13].offered
			? "Only old TLS versions are left; clients that refuse them (hardened or "
			  "future Windows) cannot connect. Left as it is."
			: NULL);
		free(sum);
		for (int i = 0; i < NPROTO; i++)
			add_protocol_evidence(f, scan, &ps[i]);
	} else {
		int legacy = scan->reg->build_number < 9200;
		char *explain = rp_xasprintf(
		    "Every TLS version is turned off for the server side of Schannel, so the RDP "
		    "listener cannot complete a TLS handshake: it closes the connection and the "
		    "client shows 0x904 / extended 0x7 (Schannel event 36871). The fix enables TLS "
		    "1.2 for the server (Enabled 1, DisabledByDefault 0) and leaves TLS 1.0 and "
		    "1.1 "
		    "off; --allow-weaker-security enables TLS 1.0 as well.%s",
		    legacy ? " On Windows 7 / Server 2008 R2 the RDP listener speaks TLS 1.2 only "
			     "with update KB3080079 installed; without it, TLS 1.0 "
			     "(--allow-weaker-security) is what lets clients in."
			   : "");
		f = rp_finding_add(scan, rp_id_tls_schannel, RP_PROBLEM, RP_ERROR,
				   "no TLS version is left for the RDP server", explain);
		free(explain);
		for (int i = 0; i < NPROTO; i++)
			add_protocol_evidence(f, scan, &ps[i]);
		plan_enable(f, &ps[TLS12], 0);
		if (scan->allow_weaker)
			plan_enable(f, &ps[TLS10], 1);
	}
	for (int i = 0; i < NPROTO; i++)
		free(ps[i].key);
}

/* A REG_SZ / MULTI_SZ cipher-suite list names a suite: any character other than separators
 * (',', NUL, blanks). */
static int names_a_suite(uint32_t type, const uint8_t *data, size_t len)
{
	if (type != RP_REG_SZ && type != RP_REG_EXPAND_SZ && type != RP_REG_MULTI_SZ)
		return 0;
	for (size_t i = 0; i + 1 < len; i += 2) {
		uint16_t c = (uint16_t)(data[i] | data[i + 1] << 8);
		if (c != 0 && c != ',' && c != ' ' && c != '\t')
			return 1;
	}
	return 0;
}

/* The .pol entry behind copy c (a local Registry.pol or domain GPO entry that sets it). */
static const rp_pol_entry *pol_entry(const rp_registry *reg, const rp_pol_copy *c, const char *name)
{
	if (c->action != RP_POL_SETS)
		return NULL;
	if (reg->local_pol && reg->local_pol->path == c->path)
		return rp_pol_find(&reg->local_pol->pol, c->key, name);
	for (size_t i = 0; i < reg->ngpos; i++)
		if (reg->gpos[i].path == c->path)
			return rp_pol_find(&reg->gpos[i].pol, c->key, name);
	return NULL;
}

/* base plus where the value comes from, for a fix that removes the bad policy value: a local
 * Registry.pol entry is removed as well (rp_effective_explain words the other sources). */
static char *removal_explain(const rp_effective *eff, const char *base)
{
	if (!eff->source || strcmp(eff->source, RP_SRC_REGPOL) != 0)
		return rp_effective_explain(eff, base);
	return rp_xasprintf("%s The value comes from the local Group Policy file %s, which writes "
			    "it into SOFTWARE\\Policies again at every policy refresh: the fix "
			    "removes the entry from that file as well (the policy becomes Not "
			    "Configured).",
			    base, eff->path);
}

/* The SOFTWARE\Policies copy of Functions names a suite (1), names none (0), is absent (-1). */
static int policy_copy_names_a_suite(rp_hive_file *sw)
{
	rp_value v = {0};
	if (rp_hive_get(sw->hive, CIPHER_POLICY, "Functions", &v, NULL) != 1)
		return -1;
	int named = names_a_suite(v.type, v.data, v.len);
	rp_value_free(&v);
	return named;
}

/*
 * The Group Policy cipher-suite order ("SSL Cipher Suite Order"): present but naming no suite
 * leaves TLS without one.  It has policy copies only (SOFTWARE\Policies, the local Registry.pol,
 * domain GPO caches), read with rp_effective_dword for where each lives and which decides; the
 * value is a string, so the deciding copy's data is judged here.  The fix removes the empty
 * list wherever it is (the Registry.pol entry too, or the next refresh writes it back): with no
 * policy, Windows' default suite order applies.
 */
static void check_cipher_policy(rp_scan *scan)
{
	rp_registry *reg = scan->reg;
	rp_effective eff;
	rp_effective_dword(reg, NULL, CIPHER_POLICY, "Functions", &eff);
	if (!eff.present)
		return;
	int software_named = policy_copy_names_a_suite(&reg->software);
	const rp_pol_entry *regpol = pol_entry(reg, &eff.regpol, "Functions");
	int regpol_empty = regpol && !names_a_suite(regpol->type, regpol->data, regpol->len);
	int empty;
	if (strcmp(eff.source, RP_SRC_POLICY) == 0) {
		empty = software_named == 0;
	} else if (strcmp(eff.source, RP_SRC_REGPOL) == 0) {
		empty = regpol_empty;
	} else {
		const rp_pol_entry *e = pol_entry(reg, &eff.domain, "Functions");
		empty = !e || !names_a_suite(e->type, e->data, e->len);
	}
	if (!empty)
		return;
	char *origin = rp_effective_origin(&eff);
	char *sum = rp_xasprintf("the SSL cipher-suite order set by %s names no suite "
				 "(SSL\\00010002 Functions)",
				 origin);
	const char *base =
	    "An SSL Cipher Suite Order policy that names no suite leaves Schannel nothing to "
	    "negotiate, so every TLS handshake fails: the RDP client shows 0x904 / extended 0x7. "
	    "The fix deletes the empty Functions value, so Windows' default suite order applies.";
	char *explain = removal_explain(&eff, base);
	rp_finding *f =
	    rp_finding_add(scan, rp_id_tls_schannel, RP_PROBLEM, RP_ERROR, sum, explain);
	rp_evidence_effective(f, reg, &eff);
	if (regpol_empty) {
		char *what = rp_xasprintf("remove the empty entry %s\\Functions from %s",
					  eff.regpol.key, eff.regpol.path);
		rp_change_pol_delete(f, eff.regpol.path, eff.regpol.key, "Functions", what);
		free(what);
	}
	if (software_named == 0)
		rp_change_delete_value(f, "SOFTWARE", CIPHER_POLICY, "Functions",
				       "delete SOFTWARE\\" CIPHER_POLICY "\\Functions (empty)");
	free(explain);
	free(sum);
	free(origin);
}

int rp_check_tls_schannel(rp_scan *scan, rp_err *err)
{
	(void)err;
	check_protocols(scan);
	check_cipher_policy(scan);
	return 0;
}

/* The healthy states of AllowEncryptionOracle (absent, 0, 1, 2) and what each means. */
typedef struct credssp_state {
	rp_severity severity;
	const char *summary, *explain;
} credssp_state;

static const credssp_state credssp_states[] = {
    {RP_INFO, "AllowEncryptionOracle not set: Windows' default (Mitigated on updated Windows)",
     "With the CredSSP update (March/May 2018) installed, the default accepts updated and "
     "unpatched clients but does not fall back to insecure CredSSP when this server connects "
     "out. If this server lacks the update, updated clients refuse it ('CredSSP encryption "
     "oracle remediation'); install the update."},
    {RP_INFO, "AllowEncryptionOracle 0 (Force Updated Clients)",
     "Only clients with the CredSSP update (March 2018 or later) can complete NLA; an unpatched "
     "client fails with 'CredSSP encryption oracle remediation'. That is the secure setting: "
     "update the client rather than change it."},
    {RP_INFO, "AllowEncryptionOracle 1 (Mitigated)",
     "Updated and unpatched clients can complete NLA with this server. If this server itself "
     "lacks the CredSSP update, updated clients refuse it; install the update."},
    {RP_WARNING, "AllowEncryptionOracle 2 (Vulnerable): CredSSP accepts unpatched peers",
     "Value 2 re-enables the CredSSP encryption-oracle weakness (CVE-2018-0886) that lets a man "
     "in the middle run commands on the server. It does not stop RDP, so rdprescue leaves it; "
     "set it to 1 (or remove it) once every client is updated. rdprescue never writes 2."},
};

int rp_check_tls_credssp(rp_scan *scan, rp_err *err)
{
	(void)err;
	rp_registry *reg = scan->reg;
	/* a policy value only: SOFTWARE and the Registry.pol files ("Software\\Microsoft\\...") */
	rp_effective eff;
	rp_effective_dword(reg, NULL, CREDSSP, "AllowEncryptionOracle", &eff);
	uint32_t v = eff.value;
	int is_dword = eff.is_dword;
	rp_finding *f;
	if (!eff.present || (is_dword && v <= 2)) {
		const credssp_state *c = &credssp_states[eff.present ? v + 1 : 0];
		f = rp_finding_add(scan, rp_id_tls_credssp, RP_OK, c->severity, c->summary,
				   c->explain);
	} else {
		char buf[16];
		const char *was = rp_dword_shown(1, is_dword, v, buf, sizeof buf);
		char *origin = rp_effective_origin(&eff);
		char *sum = rp_xasprintf("AllowEncryptionOracle is %s, outside 0..2 (from %s)", was,
					 origin);
		char *explain = removal_explain(
		    &eff,
		    "CredSSP knows only 0 (Force Updated Clients), 1 (Mitigated) and 2 "
		    "(Vulnerable); with anything else the NLA exchange can fail and the client "
		    "cannot log on (0x904 / extended 0x7 or a CredSSP error). The fix deletes "
		    "the value so that Windows' default (Mitigated on updated Windows) "
		    "applies.");
		f = rp_finding_add(scan, rp_id_tls_credssp, RP_PROBLEM, RP_ERROR, sum, explain);
		free(explain);
		free(sum);
		free(origin);
		/* every copy out of range goes: the Registry.pol entry (or the refresh writes it
		 * back) and the SOFTWARE one; a domain GPO cannot be changed offline */
		if (eff.regpol.action == RP_POL_SETS &&
		    !(eff.regpol.is_dword && eff.regpol.value <= 2)) {
			char *what = rp_xasprintf("remove %s\\AllowEncryptionOracle from %s",
						  eff.regpol.key, eff.regpol.path);
			rp_change_pol_delete(f, eff.regpol.path, eff.regpol.key,
					     "AllowEncryptionOracle", what);
			free(what);
		}
		if (eff.policy_present && !(eff.policy_is_dword && eff.policy <= 2))
			rp_change_delete_value(f, "SOFTWARE", CREDSSP, "AllowEncryptionOracle",
					       "delete SOFTWARE\\" CREDSSP
					       "\\AllowEncryptionOracle");
	}
	rp_evidence_effective(f, reg, &eff);
	return 0;
}
