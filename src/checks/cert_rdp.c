/*
 * cert_rdp.c — cert.rdp: the certificate the RDP listener presents for TLS.
 *
 * Every entry of SOFTWARE Microsoft\SystemCertificates\Remote Desktop\Certificates is parsed
 * (cert/: the Blob's property records, the DER through OpenSSL) and judged: valid now
 * (scan->now), key name = SHA-1 of the DER = property 0x03, and a private key Windows can use:
 * property 2 names a CAPI container whose file must exist in MachineKeys (capi/ names it) and
 * be well-formed.  SSLCertificateSHA1Hash in RDP-Tcp may pin a certificate of this store or of
 * LocalMachine\My; a pin to nothing or to a broken certificate is judged too.
 *
 * The repair is rdp-registry.md section 7's offline recipe: remove the broken certificate's
 * registry key, so that SessionEnv/TermService make a new self-signed certificate and key at the
 * next start.  The recipe is "taken only when ... it is not the pinned SSLCertificateSHA1Hash":
 * a pinned certificate is usually one an administrator installed on purpose, which Windows
 * cannot make again.  That holds for LocalMachine\My, so there only the pin is removed and the
 * certificate stays.  The Remote Desktop store holds Windows' own self-signed certificates;
 * when the pinned one is broken, the certificate and the pin go together: the pin alone would
 * keep pointing at a dead (then missing) certificate, and without it RDP uses the new
 * self-signed one.  Key files are never touched here: MachineKeys belongs to the keys.* checks.
 */
#include "capi/capi.h"
#include "cert/cert.h"
#include "checks/checks.h"
#include "util/text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RD_STORE "Microsoft\\SystemCertificates\\Remote Desktop\\Certificates"
#define MY_STORE "Microsoft\\SystemCertificates\\MY\\Certificates"
#define RDP_TCP "Control\\Terminal Server\\WinStations\\RDP-Tcp"
#define PIN_VALUE "SSLCertificateSHA1Hash"
#define CRYPTOGRAPHY "Microsoft\\Cryptography"
#define MACHINE_KEYS "ProgramData/Microsoft/Crypto/RSA/MachineKeys"
#define SHA1_LEN 20

#define WHY_TLS                                                                                    \
	"The RDP listener presents this certificate for TLS; with SecurityLayer 2 (SSL) or NLA "   \
	"every connection needs a valid certificate whose private key TermService can use, "       \
	"otherwise the server drops the connection during the security handshake (the client "     \
	"shows 0x904 / extended 0x7 or \"an internal error has occurred\")."
#define WHY_REGENERATE                                                                             \
	" Windows (SessionEnv, TermService) makes a new self-signed certificate and key at the "   \
	"next boot when the Remote Desktop store holds none, but it does not replace an entry "    \
	"that is still there (events 1057/1058, \"object already exists\"). The fix backs up "     \
	"and removes the certificate's registry key; SessionEnv and TermService must not be "      \
	"disabled (see rdp.services)."
#define WHY_KEEP_KEY_FILE                                                                          \
	" The key container file in MachineKeys is not deleted here: the keys.* checks own "       \
	"MachineKeys and quarantine a broken file."

typedef struct cert_ctx {
	rp_scan *scan;
	char *pin_key;	    /* SYSTEM <ccs>\...\RDP-Tcp */
	int pin_present;    /* SSLCertificateSHA1Hash exists */
	int pin_valid;	    /* and is a 20-byte REG_BINARY */
	char pin[41];	    /* its upper-case hex */
	int pin_in_my;	    /* LocalMachine\My holds the pinned certificate */
	char *machine_guid; /* NULL when missing or not GUID-shaped */
} cert_ctx;

/* What one store entry is, and what is wrong with it. */
typedef struct cert_entry {
	char *key;   /* store\name */
	char *shown; /* name, escaped */
	int has_blob, parsed;
	rp_cert_info info;
	char *facts;	  /* evidence note: subject, validity, thumbprint, or the parse error */
	char *reasons;	  /* "; "-joined problems, NULL when healthy */
	char *key_path;	  /* MachineKeys file, NULL when not looked for */
	char *key_note;	  /* what was found there */
	char *valid_till; /* for healthy summaries */
} cert_entry;

static void add_reason(cert_entry *e, const char *fmt, const char *arg)
{
	char *r = rp_xasprintf(fmt, arg);
	char *joined = e->reasons ? rp_xasprintf("%s; %s", e->reasons, r) : rp_xstrdup(r);
	free(e->reasons);
	free(r);
	e->reasons = joined;
}

static void format_time(time_t t, char *out, size_t n)
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, n, "%lld (seconds since 1970)", (long long)t);
}

/* MachineGuid names every MachineKeys file; only GUID characters may go into a volume path. */
static char *read_machine_guid(rp_registry *reg)
{
	rp_value v = {0};
	if (rp_hive_get(reg->software.hive, CRYPTOGRAPHY, "MachineGuid", &v, NULL) != 1)
		return NULL;
	char *s = rp_value_string(&v);
	rp_value_free(&v);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	int ok = n > 0 && n <= 64;
	for (size_t i = 0; ok && i < n; i++)
		ok = isxdigit((unsigned char)s[i]) || s[i] == '-';
	if (!ok) {
		free(s);
		return NULL;
	}
	return s;
}

static void read_pin(cert_ctx *c)
{
	rp_registry *reg = c->scan->reg;
	c->pin_key = rp_registry_ccs_path(reg, RDP_TCP);
	rp_value v = {0};
	if (rp_hive_get(reg->system.hive, c->pin_key, PIN_VALUE, &v, NULL) != 1)
		return;
	c->pin_present = 1;
	if (v.type == RP_REG_BINARY && v.len == SHA1_LEN) {
		c->pin_valid = 1;
		rp_hex(v.data, SHA1_LEN, c->pin);
		for (char *p = c->pin; *p; p++)
			*p = (char)toupper((unsigned char)*p);
	}
	rp_value_free(&v);
}

/* Looks for the certificate's key container file.  -1 only when the volume fails. */
static int check_key_file(cert_ctx *c, cert_entry *e, rp_err *err)
{
	const rp_cert_info *in = &e->info;
	if (!in->has_key_prov) {
		add_reason(e, "%s",
			   "no private key link (property 2, CERT_KEY_PROV_INFO, missing)");
		return 0;
	}
	if (in->prov_type == 0) {
		e->key_note = rp_xasprintf("CNG key \"%s\" (Crypto\\Keys): not checked offline",
					   in->container);
		return 0;
	}
	if (!c->machine_guid) {
		e->key_note =
		    rp_xstrdup("SOFTWARE\\Microsoft\\Cryptography\\MachineGuid missing or "
			       "not a GUID: key file not looked for");
		return 0;
	}
	/* The container name is escaped by cert/; the two differ only for names with control
	 * characters, which no Windows key container uses. */
	char file[128];
	rp_capi_container_file(in->container, c->machine_guid, file, sizeof file);
	e->key_path = rp_xasprintf("%s/%s", MACHINE_KEYS, file);
	rp_stat st;
	if (rp_vol_stat(c->scan->vol, e->key_path, &st, err) < 0)
		return -1;
	if (!st.exists || st.is_dir) {
		e->key_note = rp_xasprintf("key container \"%s\": file missing", in->container);
		add_reason(e, "its key container file (%s) is missing", in->container);
		return 0;
	}
	uint8_t *buf = NULL;
	size_t len = 0;
	rp_err read_err = {0};
	if (rp_vol_read(c->scan->vol, e->key_path, &buf, &len, &read_err) < 0) {
		e->key_note = rp_xasprintf("key container \"%s\": unreadable (%s)", in->container,
					   read_err.msg);
		add_reason(e, "its key container file (%s) cannot be read", in->container);
		return 0;
	}
	rp_capi_info ki;
	rp_capi_inspect(buf, len, &ki);
	free(buf);
	if (rp_capi_is_broken(ki.verdict)) {
		e->key_note =
		    rp_xasprintf("key container \"%s\": broken, %s", in->container, ki.reason);
		add_reason(e, "its key container file (%s) is broken", in->container);
	} else {
		e->key_note =
		    rp_xasprintf("key container \"%s\": present, %zu bytes", in->container, len);
	}
	return 0;
}

/* Reads and judges store\name.  -1 only when the volume fails. */
static int assess(cert_ctx *c, const char *store, const char *name, cert_entry *e, rp_err *err)
{
	memset(e, 0, sizeof *e);
	e->key = rp_xasprintf("%s\\%s", store, name);
	e->shown = rp_escape(name);
	rp_value v = {0};
	if (rp_hive_get(c->scan->reg->software.hive, e->key, "Blob", &v, NULL) != 1) {
		add_reason(e, "%s", "it has no Blob value");
		e->facts = rp_xstrdup("no Blob value");
		return 0;
	}
	e->has_blob = 1;
	rp_err perr = {0};
	if (rp_cert_parse_blob(v.data, v.len, &e->info, &perr) < 0) {
		rp_value_free(&v);
		add_reason(e, "its Blob cannot be parsed (%s)", perr.msg);
		e->facts = rp_xasprintf("unparsable: %s", perr.msg);
		return 0;
	}
	rp_value_free(&v);
	e->parsed = 1;
	const rp_cert_info *in = &e->info;
	char nb[40], na[40];
	format_time(in->not_before, nb, sizeof nb);
	format_time(in->not_after, na, sizeof na);
	e->valid_till = rp_xstrdup(na);
	e->facts = rp_xasprintf("subject %s, notBefore %s, notAfter %s, SHA-1 %s", in->subject, nb,
				na, in->thumbprint);
	if (c->scan->now > in->not_after)
		add_reason(e, "expired on %s", na);
	if (c->scan->now < in->not_before)
		add_reason(e, "not valid before %s", nb);
	if (rp_strcasecmp(name, in->thumbprint) != 0)
		add_reason(e, "its key name is not its SHA-1 thumbprint %s", in->thumbprint);
	if (in->has_sha1_prop && strcmp(in->sha1_prop, in->thumbprint) != 0)
		add_reason(e, "its SHA-1 property (0x03) %s is not the certificate's SHA-1",
			   in->sha1_prop);
	return check_key_file(c, e, err);
}

static void entry_free(cert_entry *e)
{
	free(e->key);
	free(e->shown);
	free(e->facts);
	free(e->reasons);
	free(e->key_path);
	free(e->key_note);
	free(e->valid_till);
}

static void add_entry_evidence(cert_ctx *c, rp_finding *f, const cert_entry *e)
{
	rp_evidence *ev =
	    rp_evidence_value(f, &c->scan->reg->software, e->key, "Blob", RP_SRC_LOCAL);
	ev->note = rp_xstrdup(e->facts);
	if (e->key_note) {
		rp_evidence file = {
		    .path = e->key_path, .source = RP_SRC_FILE, .note = e->key_note};
		rp_evidence_copy(f, &file);
	}
}

static void add_pin_evidence(cert_ctx *c, rp_finding *f)
{
	rp_evidence_value(f, &c->scan->reg->system, c->pin_key, PIN_VALUE, RP_SRC_LOCAL);
}

static void plan_pin_removal(cert_ctx *c, rp_finding *f)
{
	char *what = rp_xasprintf("delete SYSTEM\\%s\\%s (pins %s)", c->pin_key, PIN_VALUE,
				  c->pin_valid ? c->pin : "an invalid value");
	rp_change_delete_value(f, "SYSTEM", c->pin_key, PIN_VALUE, what);
	free(what);
}

static void report_rd_entry(cert_ctx *c, const cert_entry *e, int pinned)
{
	const char *subject = e->parsed ? e->info.subject : "unreadable";
	rp_finding *f;
	if (!e->reasons) {
		char *sum =
		    rp_xasprintf("RDP certificate %s (%s) is valid until %s%s", e->shown, subject,
				 e->valid_till, pinned ? ", pinned by SSLCertificateSHA1Hash" : "");
		f = rp_finding_add(c->scan, rp_id_cert_rdp, RP_OK, RP_INFO, sum, NULL);
		free(sum);
		add_entry_evidence(c, f, e);
		if (pinned)
			add_pin_evidence(c, f);
		return;
	}
	/* The pin goes with the certificate unless LocalMachine\My holds the pinned one. */
	int drop_pin = pinned && !c->pin_in_my;
	char *sum = rp_xasprintf("RDP certificate %s (%s): %s", e->shown, subject, e->reasons);
	char *explain = rp_xasprintf(
	    "%s%s%s%s", WHY_TLS, WHY_REGENERATE,
	    drop_pin ? " SSLCertificateSHA1Hash pins this certificate and is deleted too: a pin "
		       "to a removed certificate leaves the listener without one, and without a "
		       "pin RDP uses the new self-signed certificate."
		     : "",
	    e->key_path ? WHY_KEEP_KEY_FILE : "");
	f = rp_finding_add(c->scan, rp_id_cert_rdp, RP_PROBLEM, RP_ERROR, sum, explain);
	free(sum);
	free(explain);
	add_entry_evidence(c, f, e);
	if (pinned)
		add_pin_evidence(c, f);
	char *what =
	    rp_xasprintf("delete SOFTWARE\\%s (the certificate; Windows makes a new one)", e->key);
	rp_change_delete_key(f, "SOFTWARE", e->key, what);
	free(what);
	if (drop_pin)
		plan_pin_removal(c, f);
}

/* A store entry whose name cannot be addressed as a key path (it holds a backslash). */
static void report_unaddressable(cert_ctx *c, const char *store, const char *name)
{
	char *shown = rp_escape(name);
	char *sum =
	    rp_xasprintf("certificate store entry \"%s\" has a backslash in its name", shown);
	rp_finding *f = rp_finding_add(
	    c->scan, rp_id_cert_rdp, RP_PROBLEM, RP_WARNING, sum,
	    "Windows never writes such a name; the entry was made by something else. rdprescue "
	    "cannot address it by path, so it is left as it is: delete it with regedit on a "
	    "running Windows or from a rescue machine.");
	rp_evidence note = {.hive = "SOFTWARE", .key = (char *)store, .note = shown};
	rp_evidence_copy(f, &note);
	free(sum);
	free(shown);
}

/* Judges every entry of the Remote Desktop store; *pin_seen when the pin names one of them. */
static int check_rd_store(cert_ctx *c, int *pin_seen, rp_err *err)
{
	rp_hive *soft = c->scan->reg->software.hive;
	int exists = rp_hive_key_exists(soft, RD_STORE, err);
	if (exists < 0)
		return -1;
	if (!exists) {
		rp_finding *f = rp_finding_add(
		    c->scan, rp_id_cert_rdp, RP_OK, RP_INFO,
		    "no Remote Desktop certificate store: Windows creates it with a new "
		    "self-signed certificate at the next TermService start",
		    NULL);
		rp_evidence none = {.hive = "SOFTWARE", .key = RD_STORE, .note = "absent"};
		rp_evidence_copy(f, &none);
		return 0;
	}
	char **names = NULL;
	size_t n = 0;
	if (rp_hive_subkeys(soft, RD_STORE, &names, &n, err) < 0)
		return -1;
	if (n == 0) {
		rp_finding_add(c->scan, rp_id_cert_rdp, RP_OK, RP_INFO,
			       "the Remote Desktop certificate store is empty: Windows makes a new "
			       "self-signed certificate at the next TermService start",
			       NULL);
	}
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (strchr(names[i], '\\')) {
			report_unaddressable(c, RD_STORE, names[i]);
			continue;
		}
		int pinned = c->pin_valid && rp_strcasecmp(names[i], c->pin) == 0;
		*pin_seen |= pinned;
		cert_entry e;
		rc = assess(c, RD_STORE, names[i], &e, err);
		if (rc == 0)
			report_rd_entry(c, &e, pinned);
		entry_free(&e);
	}
	rp_names_free(names, n);
	return rc;
}

/* SSLCertificateSHA1Hash: malformed, pointing at nothing, or at a certificate in
 * LocalMachine\My (judged here; pins into the Remote Desktop store were judged with it). */
static int check_pin(cert_ctx *c, int pin_seen, rp_err *err)
{
	if (!c->pin_valid) {
		rp_finding *f = rp_finding_add(
		    c->scan, rp_id_cert_rdp, RP_PROBLEM, RP_ERROR,
		    "SSLCertificateSHA1Hash is not a 20-byte REG_BINARY thumbprint",
		    "SSLCertificateSHA1Hash pins the RDP listener's certificate by its SHA-1; a "
		    "value of another type or length names no certificate, and the listener has "
		    "none to present. The fix deletes the value (Microsoft's documented fallback): "
		    "RDP then uses the self-signed certificate of the Remote Desktop store.");
		add_pin_evidence(c, f);
		plan_pin_removal(c, f);
		return 0;
	}
	if (!c->pin_in_my) {
		if (pin_seen)
			return 0;
		char *sum = rp_xasprintf("SSLCertificateSHA1Hash pins certificate %s, which is in "
					 "no certificate store",
					 c->pin);
		rp_finding *f = rp_finding_add(
		    c->scan, rp_id_cert_rdp, RP_PROBLEM, RP_ERROR, sum,
		    "SSLCertificateSHA1Hash pins a certificate that is neither in LocalMachine\\My "
		    "nor in the Remote Desktop store, so the listener has no certificate for TLS "
		    "and drops connections during the security handshake (0x904 / extended 0x7). "
		    "The fix deletes the value (Microsoft's documented fallback): RDP then uses "
		    "the self-signed certificate of the Remote Desktop store, which Windows makes "
		    "at the next TermService start when there is none.");
		free(sum);
		add_pin_evidence(c, f);
		plan_pin_removal(c, f);
		return 0;
	}
	cert_entry e;
	if (assess(c, MY_STORE, c->pin, &e, err) < 0) {
		entry_free(&e);
		return -1;
	}
	const char *subject = e.parsed ? e.info.subject : "unreadable";
	rp_finding *f;
	if (!e.reasons) {
		char *sum = rp_xasprintf("SSLCertificateSHA1Hash pins %s (%s) in LocalMachine\\My, "
					 "valid until %s",
					 e.shown, subject, e.valid_till);
		f = rp_finding_add(c->scan, rp_id_cert_rdp, RP_OK, RP_INFO, sum, NULL);
		free(sum);
	} else {
		char *sum = rp_xasprintf("pinned certificate %s (%s) in LocalMachine\\My: %s",
					 e.shown, subject, e.reasons);
		f = rp_finding_add(
		    c->scan, rp_id_cert_rdp, RP_PROBLEM, RP_ERROR, sum,
		    WHY_TLS
		    " SSLCertificateSHA1Hash pins this certificate of LocalMachine\\My. "
		    "The fix deletes the pin only, so RDP falls back to the self-signed "
		    "certificate of the Remote Desktop store (Windows makes one at the next "
		    "TermService start when there is none); the certificate itself stays, "
		    "because other services may use it and Windows cannot make it again. "
		    "Renew it and pin it again.");
		free(sum);
		plan_pin_removal(c, f);
	}
	add_entry_evidence(c, f, &e);
	add_pin_evidence(c, f);
	entry_free(&e);
	return 0;
}

int rp_check_cert_rdp(rp_scan *scan, rp_err *err)
{
	cert_ctx c = {.scan = scan};
	read_pin(&c);
	c.machine_guid = read_machine_guid(scan->reg);
	int rc = 0;
	if (c.pin_valid) {
		char *key = rp_xasprintf("%s\\%s", MY_STORE, c.pin);
		c.pin_in_my = rp_hive_key_exists(scan->reg->software.hive, key, err);
		free(key);
		rc = c.pin_in_my < 0 ? -1 : 0;
	}
	int pin_seen = 0;
	if (rc == 0)
		rc = check_rd_store(&c, &pin_seen, err);
	if (rc == 0 && c.pin_present)
		rc = check_pin(&c, pin_seen, err);
	free(c.pin_key);
	free(c.machine_guid);
	return rc;
}
