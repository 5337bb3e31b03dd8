/*
 * keys.c — keys.acl and keys.rdp: the MachineKeys folder's access rules, and the RDP key
 * container (TSSecKeySet1) that TermService, running as NETWORK SERVICE, must be able to read.
 *
 * keys.acl compares the folder's DACL as parsed entries (order does not matter, the set and
 * the protected flag do) with Windows' default O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA);
 * the fix replaces the DACL with it and keeps owner, group and SACL.
 * keys.rdp checks the container file: present, well-formed (capi/), and granting SYSTEM full
 * control, NETWORK SERVICE read, and what the build adds (Administrators read before 17763,
 * NT SERVICE\SessionEnv full control from 17763: rdp-registry.md 8.2).  The fix only adds the
 * missing entries; nothing is removed.  A missing or broken key is not repaired here: an
 * offline tool cannot make a key (DPAPI), cert.rdp removes the certificate so that Windows makes
 * both anew, and keys.contents quarantines a broken key no certificate refers to.
 * Facts and sources: ../shared/reference/rdp-registry.md section 8.
 */
#include "capi/capi.h"
#include "cert/cert.h"
#include "checks/keys.h"
#include "sd/sd.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FOLDER_SDDL "O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)"
#define CRYPTOGRAPHY "Microsoft\\Cryptography"
#define RDP_CERTS "Microsoft\\SystemCertificates\\Remote Desktop\\Certificates"

#define ACE_ALLOW 0
#define ACE_DENY 1
#define ACE_INHERIT_ONLY 0x08
#define ACE_INHERITED 0x10
#define DACL_CONTROL_BITS 0x1508 /* DEFAULTED, AUTO_INHERIT_REQ, AUTO_INHERITED, PROTECTED */
#define DACL_PROTECTED 0x1000

#define RIGHTS_FULL 0x1F01FFu
#define RIGHTS_READ 0x120089u
/* The first build whose RDP key carries NT SERVICE\SessionEnv instead of Administrators. */
#define BUILD_SESSIONENV 17763

/* ---- shared with keys_contents.c (keys.h) ---- */

static rp_finding *folder_finding(rp_scan *scan, const char *check, rp_status st,
				  const char *summary, const char *explain, const char *path)
{
	rp_finding *f = rp_finding_add(scan, check, st, st == RP_SKIPPED ? RP_INFO : RP_ERROR,
				       summary, explain);
	rp_evidence *e = rp_evidence_copy(f, &(rp_evidence){.source = RP_SRC_FILE});
	e->path = rp_xstrdup(path);
	return f;
}

int rp_keys_folder(rp_scan *scan, const char *check, rp_err *err)
{
	char path[sizeof RP_MACHINEKEYS];
	memcpy(path, RP_MACHINEKEYS, sizeof path);
	for (char *slash = path;; slash++) {
		slash = strchr(slash, '/');
		if (slash)
			*slash = 0;
		rp_stat st;
		if (rp_vol_stat(scan->vol, path, &st, err) < 0)
			return -1;
		if (!st.exists) {
			folder_finding(
			    scan, check, RP_SKIPPED,
			    "no MachineKeys folder (ProgramData\\Microsoft\\Crypto\\RSA\\"
			    "MachineKeys)",
			    "Windows creates the folder and the RDP key the next time "
			    "Remote Desktop starts; nothing to check.",
			    path);
			return RP_KEYS_FOLDER_ABSENT;
		}
		if (st.is_reparse || !st.is_dir) {
			char *sum =
			    rp_xasprintf("%s is %s: the MachineKeys checks do not look "
					 "through it",
					 path,
					 st.is_reparse ? "a junction, symlink or other reparse "
							 "point"
						       : "a file, not a folder");
			folder_finding(scan, check, RP_NOT_FIXED, sum,
				       "rdprescue never reads or writes through a link: what it "
				       "points to may be another folder, another volume, or "
				       "something an attacker chose. Replace the link with a real "
				       "folder on the Windows side (or restore it from a backup), "
				       "then run rdprescue again.",
				       path);
			free(sum);
			return RP_KEYS_FOLDER_REFUSED;
		}
		if (!slash)
			return RP_KEYS_FOLDER_OK;
		*slash = '/';
	}
}

char *rp_keys_rdp_path(rp_scan *scan)
{
	rp_value v = {0};
	char *guid = NULL, *path = NULL;
	if (rp_hive_get(scan->reg->software.hive, CRYPTOGRAPHY, "MachineGuid", &v, NULL) == 1)
		guid = rp_value_string(&v);
	rp_value_free(&v);
	/* A GUID is 36 characters of hex and dashes; anything else would make a path. */
	int usable = guid && strlen(guid) == 36 && strspn(guid, "0123456789abcdefABCDEF-") == 36;
	if (usable) {
		char name[128];
		rp_capi_container_file(RP_RDP_CONTAINER, guid, name, sizeof name);
		path = rp_xasprintf("%s/%s", RP_MACHINEKEYS, name);
	}
	free(guid);
	return path;
}

size_t rp_keys_rdp_cert_refs(rp_scan *scan)
{
	rp_hive *h = scan->reg->software.hive;
	char **names = NULL;
	size_t n = 0, refs = 0;
	if (rp_hive_subkeys(h, RDP_CERTS, &names, &n, NULL) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char *key = rp_xasprintf("%s\\%s", RDP_CERTS, names[i]);
		rp_value v = {0};
		rp_cert_info ci;
		if (rp_hive_get(h, key, "Blob", &v, NULL) == 1 &&
		    rp_cert_parse_blob(v.data, v.len, &ci, NULL) == 0 && ci.has_key_prov &&
		    rp_strcasecmp(ci.container, RP_RDP_CONTAINER) == 0)
			refs++;
		rp_value_free(&v);
		free(key);
	}
	rp_names_free(names, n);
	return refs;
}

/* ---- evidence ---- */

/* File evidence: the path and one line (an SDDL string, a verdict). */
static void file_evidence(rp_finding *f, const char *path, const char *note)
{
	rp_evidence *e = rp_evidence_copy(f, &(rp_evidence){.source = RP_SRC_FILE});
	e->path = rp_xstrdup(path);
	e->note = rp_escape(note);
}

static char *sddl_or_reason(const rp_sd *sd)
{
	rp_err e = {0};
	char *s = rp_sd_format_sddl(sd, &e);
	return s ? s : rp_xasprintf("(no SDDL form: %s)", e.msg);
}

/* ---- keys.acl ---- */

static int same_ace(const rp_ace *a, const rp_ace *b)
{
	return a->type == b->type && a->flags == b->flags && a->mask == b->mask &&
	       a->extra_len == 0 && b->extra_len == 0 && rp_sid_equal(&a->sid, &b->sid);
}

/* Every entry of one ACL has an equal entry in the other, and they are as many. */
static int same_entries(const rp_acl *a, const rp_acl *b)
{
	if (a->count != b->count)
		return 0;
	for (int pass = 0; pass < 2; pass++) {
		const rp_acl *x = pass ? b : a, *y = pass ? a : b;
		for (size_t i = 0; i < x->count; i++) {
			int found = 0;
			for (size_t j = 0; j < y->count && !found; j++)
				found = same_ace(&x->aces[i], &y->aces[j]);
			if (!found)
				return 0;
		}
	}
	return 1;
}

static int folder_dacl_ok(const rp_sd *cur, const rp_sd *want)
{
	return cur->has_dacl && !cur->dacl_null && (cur->control & DACL_PROTECTED) &&
	       same_entries(&cur->dacl, &want->dacl);
}

/* The current SD with the default DACL (and its control bits); owner, group and SACL kept,
 * SYSTEM where the owner or group is missing (libntfs-3g needs both). */
static int folder_fix_sd(const rp_sd *cur, int parsed, const rp_sd *want, uint8_t **out,
			 size_t *len, rp_err *err)
{
	if (!parsed)
		return rp_sd_build(want, out, len, err);
	rp_sd n = *cur;
	n.control =
	    (uint16_t)((cur->control & ~DACL_CONTROL_BITS) | (want->control & DACL_CONTROL_BITS));
	n.has_dacl = 1;
	n.dacl_null = 0;
	n.dacl = want->dacl;
	if (!n.has_owner) {
		n.has_owner = 1;
		n.owner = want->owner;
	}
	if (!n.has_group) {
		n.has_group = 1;
		n.group = want->group;
	}
	return rp_sd_build(&n, out, len, err);
}

int rp_check_keys_acl(rp_scan *scan, rp_err *err)
{
	int state = rp_keys_folder(scan, rp_id_keys_acl, err);
	if (state != RP_KEYS_FOLDER_OK)
		return state < 0 ? -1 : 0;
	rp_sd want;
	if (rp_sd_from_sddl(FOLDER_SDDL, &want, err) < 0)
		return -1;
	uint8_t *raw = NULL, *fixed = NULL;
	size_t raw_len = 0, fixed_len = 0;
	rp_err e = {0};
	if (rp_vol_get_sd(scan->vol, RP_MACHINEKEYS, &raw, &raw_len, &e) < 0) {
		char *sum = rp_xasprintf(
		    "MachineKeys folder: security descriptor not readable (%s)", e.msg);
		folder_finding(scan, rp_id_keys_acl, RP_SKIPPED, sum,
			       "A mounted directory may not expose NTFS security descriptors; "
			       "check the folder on the disk itself.",
			       RP_MACHINEKEYS);
		free(sum);
		rp_sd_free(&want);
		return 0;
	}
	rp_sd cur;
	int parsed = rp_sd_parse(raw, raw_len, &cur, &e) == 0;
	int rc = 0;
	if (parsed && folder_dacl_ok(&cur, &want)) {
		rp_finding *f =
		    rp_finding_add(scan, rp_id_keys_acl, RP_OK, RP_INFO,
				   "MachineKeys folder has Windows' default access rules", NULL);
		char *s = sddl_or_reason(&cur);
		file_evidence(f, RP_MACHINEKEYS, s);
		free(s);
		goto out;
	}
	if (folder_fix_sd(&cur, parsed, &want, &fixed, &fixed_len, err) < 0) {
		rc = -1;
		goto out;
	}
	rp_finding *f = rp_finding_add(
	    scan, rp_id_keys_acl, RP_PROBLEM, RP_ERROR,
	    "MachineKeys folder's access rules differ from Windows' default",
	    "Windows reads and creates machine keys in this folder as Everyone (read, write, "
	    "this folder only) and Administrators (full control). With other rules TermService "
	    "cannot load or create the RDP key: the listener gets no certificate and clients "
	    "disconnect right after connecting (0x904 / extended 0x7). The fix sets the folder's "
	    "DACL to Windows' "
	    "default, D:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA); owner, group and audit entries stay.");
	char *before = parsed ? sddl_or_reason(&cur)
			      : rp_xasprintf("(unreadable security descriptor: %s)", e.msg);
	char *note = rp_xasprintf("now: %s", before);
	file_evidence(f, RP_MACHINEKEYS, note);
	free(note);
	note = rp_xasprintf("Windows' default: %s", FOLDER_SDDL);
	file_evidence(f, RP_MACHINEKEYS, note);
	free(note);
	char *what = rp_xasprintf("set the DACL of %s to D:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA) "
				  "(was %s)",
				  RP_MACHINEKEYS, before);
	char *shown = rp_escape(what);
	rp_change_file_sd(f, RP_MACHINEKEYS, fixed, fixed_len, shown);
	free(shown);
	free(what);
	free(before);
out:
	if (parsed)
		rp_sd_free(&cur);
	rp_sd_free(&want);
	free(raw);
	free(fixed);
	return rc;
}

/* ---- keys.rdp ---- */

typedef struct need {
	const char *who;
	rp_sid sid;
	uint32_t rights;
	const char *rights_name;
} need;

/* Generic rights as they apply to files. */
static uint32_t file_rights(uint32_t mask)
{
	uint32_t r = mask & 0x01FFFFFFu;
	if (mask & 0x10000000u)
		r |= RIGHTS_FULL;
	if (mask & 0x80000000u)
		r |= RIGHTS_READ;
	if (mask & 0x40000000u)
		r |= 0x120116u;
	if (mask & 0x20000000u)
		r |= 0x1200A0u;
	return r;
}

/* What the DACL allows sid (its own entries and Everyone's), and what it denies it. */
static void rights_of(const rp_sd *sd, const rp_sid *sid, uint32_t *allowed, uint32_t *denied)
{
	rp_sid world;
	rp_sid_parse_text("WD", &world);
	*allowed = *denied = 0;
	if (!sd->has_dacl || sd->dacl_null) {
		*allowed = 0xFFFFFFFFu; /* no DACL: everything is allowed to everyone */
		return;
	}
	for (size_t i = 0; i < sd->dacl.count; i++) {
		const rp_ace *a = &sd->dacl.aces[i];
		if (a->flags & ACE_INHERIT_ONLY)
			continue;
		if (!rp_sid_equal(&a->sid, sid) && !rp_sid_equal(&a->sid, &world))
			continue;
		if (a->type == ACE_ALLOW)
			*allowed |= file_rights(a->mask);
		else if (a->type == ACE_DENY)
			*denied |= file_rights(a->mask);
	}
}

static size_t needs_for(unsigned build, need *out)
{
	size_t n = 0;
	out[n] = (need){"SYSTEM", {0}, RIGHTS_FULL, "full control"};
	rp_sid_parse_text("SY", &out[n++].sid);
	out[n] = (need){"NETWORK SERVICE", {0}, RIGHTS_READ, "read"};
	rp_sid_parse_text("NS", &out[n++].sid);
	if (build && build < BUILD_SESSIONENV) {
		out[n] = (need){"Administrators", {0}, RIGHTS_READ, "read"};
		rp_sid_parse_text("BA", &out[n++].sid);
	} else if (build >= BUILD_SESSIONENV) {
		out[n] = (need){"NT SERVICE\\SessionEnv", {0}, RIGHTS_FULL, "full control"};
		rp_sid_service("SessionEnv", &out[n++].sid);
	}
	return n;
}

/* The DACL with new allow entries after the explicit ones (canonical order: explicit deny,
 * explicit allow, inherited), every existing entry kept as it is. */
static int add_entries(const rp_sd *cur, const need *add, size_t nadd, uint8_t **out, size_t *len,
		       rp_err *err)
{
	rp_sd n = *cur;
	size_t at = 0;
	while (at < cur->dacl.count && !(cur->dacl.aces[at].flags & ACE_INHERITED))
		at++;
	n.dacl.count = cur->dacl.count + nadd;
	n.dacl.aces = rp_xcalloc(n.dacl.count, sizeof *n.dacl.aces);
	if (at)
		memcpy(n.dacl.aces, cur->dacl.aces, at * sizeof *n.dacl.aces);
	for (size_t i = 0; i < nadd; i++)
		n.dacl.aces[at + i] =
		    (rp_ace){.type = ACE_ALLOW, .mask = add[i].rights, .sid = add[i].sid};
	if (cur->dacl.count > at)
		memcpy(n.dacl.aces + at + nadd, cur->dacl.aces + at,
		       (cur->dacl.count - at) * sizeof *n.dacl.aces);
	if (!n.dacl.revision)
		n.dacl.revision = 2;
	rp_sid sy;
	rp_sid_parse_text("SY", &sy);
	if (!n.has_owner) {
		n.has_owner = 1;
		n.owner = sy;
	}
	if (!n.has_group) {
		n.has_group = 1;
		n.group = sy;
	}
	int rc = rp_sd_build(&n, out, len, err);
	free(n.dacl.aces);
	return rc;
}

static void key_missing_or_broken(rp_scan *scan, const char *path, const char *state)
{
	size_t refs = rp_keys_rdp_cert_refs(scan);
	char *sum = rp_xasprintf("RDP key container (%s) is %s", RP_RDP_CONTAINER, state);
	char *explain;
	if (refs)
		explain = rp_xasprintf(
		    "%zu certificate%s of the Remote Desktop store use%s this key, so TermService "
		    "cannot set up TLS and clients disconnect right after connecting (0x904 / "
		    "extended 0x7). A key cannot "
		    "be made offline (it is DPAPI-protected): this check changes nothing. cert.rdp "
		    "removes the certificate and keys.contents moves a broken key file into the "
		    "backup; Windows then makes a new key and a new self-signed certificate at the "
		    "next start.",
		    refs, refs == 1 ? "" : "s", refs == 1 ? "s" : "");
	else
		explain = rp_xstrdup(
		    "No certificate of the Remote Desktop store uses it. A key cannot be made "
		    "offline (it is DPAPI-protected): keys.contents moves a broken key into the "
		    "backup, and Windows makes a new key and certificate at the next start.");
	rp_finding *f = rp_finding_add(scan, rp_id_keys_rdp, RP_PROBLEM, RP_ERROR, sum, explain);
	file_evidence(f, path, state);
	free(sum);
	free(explain);
}

static void check_key_acl(rp_scan *scan, const char *path, const rp_capi_info *ci)
{
	uint8_t *raw = NULL, *fixed = NULL;
	size_t raw_len = 0, fixed_len = 0;
	rp_err e = {0};
	rp_sd cur;
	if (rp_vol_get_sd(scan->vol, path, &raw, &raw_len, &e) < 0 ||
	    rp_sd_parse(raw, raw_len, &cur, &e) < 0) {
		char *sum = rp_xasprintf("RDP key: security descriptor not readable (%s)", e.msg);
		rp_finding *f = rp_finding_add(scan, rp_id_keys_rdp, RP_SKIPPED, RP_INFO, sum,
					       "A mounted directory may not expose NTFS security "
					       "descriptors; check the file on the disk itself.");
		file_evidence(f, path, "security descriptor not readable");
		free(sum);
		free(raw);
		return;
	}
	need needs[3], missing[3];
	size_t nneeds = needs_for(scan->reg->build_number, needs), nmissing = 0;
	const char *blocked = NULL;
	for (size_t i = 0; i < nneeds; i++) {
		uint32_t allowed, denied;
		rights_of(&cur, &needs[i].sid, &allowed, &denied);
		if (denied & needs[i].rights)
			blocked = needs[i].who;
		else if ((allowed & needs[i].rights) != needs[i].rights)
			missing[nmissing++] = needs[i];
	}
	char *sddl = sddl_or_reason(&cur);
	if (!nmissing && !blocked) {
		char *sum = rp_xasprintf("RDP key container is well-formed (%u-bit exchange key) "
					 "and readable by NETWORK SERVICE",
					 ci->exch_bits);
		rp_finding *f = rp_finding_add(scan, rp_id_keys_rdp, RP_OK, RP_INFO, sum, NULL);
		file_evidence(f, path, sddl);
		free(sum);
		goto out;
	}
	char who[160] = "";
	for (size_t i = 0; i < nmissing; i++) {
		char part[64];
		snprintf(part, sizeof part, "%s%s %s", i ? ", " : "", missing[i].who,
			 missing[i].rights_name);
		strncat(who, part, sizeof who - strlen(who) - 1);
	}
	char *sum = blocked ? rp_xasprintf("RDP key: a deny entry takes access from %s", blocked)
			    : rp_xasprintf("RDP key lacks %s", who);
	/* The command to run, with this target and this file (escaped: both may be odd). */
	char *etarget = rp_target_shown(scan), *epath = rp_escape(path);
	for (char *c = epath; *c; c++)
		if (*c == '/')
			*c = '\\';
	char *reset =
	    rp_xasprintf("'rdprescue acl %s reset \"C:\\%s\" --sddl ...'", etarget, epath);
	free(etarget);
	free(epath);
	char *explain = rp_xasprintf(
	    "TermService runs as NETWORK SERVICE and must read this key to use its certificate; "
	    "without it the listener has no certificate and clients disconnect right after "
	    "connecting (0x904 / extended 0x7; events 1057/36870). Windows' default grants SYSTEM "
	    "full control, NETWORK "
	    "SERVICE read and, by build, Administrators read (before %u) or NT "
	    "SERVICE\\SessionEnv full control (from %u). %s%s%s",
	    BUILD_SESSIONENV, BUILD_SESSIONENV,
	    blocked ? "A deny entry wins over every allow entry and the fix removes nothing: "
		      "reset the file's rules with "
		    : "The fix adds the missing entries and keeps every existing one.",
	    blocked ? reset : "", blocked ? "." : "");
	free(reset);
	rp_finding *f = rp_finding_add(scan, rp_id_keys_rdp, RP_PROBLEM, RP_ERROR, sum, explain);
	char *note = rp_xasprintf("now: %s", sddl);
	file_evidence(f, path, note);
	free(note);
	if (!blocked) {
		if (add_entries(&cur, missing, nmissing, &fixed, &fixed_len, &e) < 0) {
			file_evidence(f, path, e.msg);
		} else {
			char *what = rp_xasprintf("add %s to the rules of %s", who, path);
			char *shown = rp_escape(what);
			rp_change_file_sd(f, path, fixed, fixed_len, shown);
			free(shown);
			free(what);
		}
	}
	free(sum);
	free(explain);
out:
	free(sddl);
	rp_sd_free(&cur);
	free(raw);
	free(fixed);
}

int rp_check_keys_rdp(rp_scan *scan, rp_err *err)
{
	int state = rp_keys_folder(scan, rp_id_keys_rdp, err);
	if (state != RP_KEYS_FOLDER_OK)
		return state < 0 ? -1 : 0;
	char *path = rp_keys_rdp_path(scan);
	if (!path) {
		rp_finding *f = rp_finding_add(
		    scan, rp_id_keys_rdp, RP_SKIPPED, RP_INFO,
		    "no usable MachineGuid in SOFTWARE\\Microsoft\\Cryptography",
		    "The RDP key's file name ends in the MachineGuid; without it the key cannot "
		    "be found.");
		rp_evidence_value(f, &scan->reg->software, CRYPTOGRAPHY, "MachineGuid",
				  RP_SRC_LOCAL);
		return 0;
	}
	rp_stat st;
	int rc = 0;
	if (rp_vol_stat(scan->vol, path, &st, err) < 0) {
		rc = -1;
		goto out;
	}
	if (!st.exists) {
		if (rp_keys_rdp_cert_refs(scan)) {
			key_missing_or_broken(scan, path, "missing");
		} else {
			rp_finding *f = rp_finding_add(
			    scan, rp_id_keys_rdp, RP_OK, RP_INFO,
			    "no RDP key container yet, and no certificate that needs one",
			    "Windows makes the key and a self-signed certificate when Remote "
			    "Desktop starts.");
			file_evidence(f, path, "absent");
		}
		goto out;
	}
	if (st.is_dir || st.is_reparse) {
		rp_finding *f = rp_finding_add(
		    scan, rp_id_keys_rdp, RP_NOT_FIXED, RP_ERROR,
		    "RDP key container's name is taken by a folder or link",
		    "rdprescue does not change folders or links in MachineKeys; remove it on the "
		    "Windows side so that Windows can make the key.");
		file_evidence(f, path, st.is_dir ? "a folder" : "a reparse point");
		goto out;
	}
	uint8_t *data = NULL;
	size_t len = 0;
	if (rp_vol_read(scan->vol, path, &data, &len, err) < 0) {
		rc = -1;
		goto out;
	}
	rp_capi_info ci;
	rp_capi_inspect(data, len, &ci);
	free(data);
	if (rp_capi_is_broken(ci.verdict)) {
		char *state_text = rp_xasprintf("broken: %s", ci.reason);
		key_missing_or_broken(scan, path, state_text);
		free(state_text);
		goto out;
	}
	check_key_acl(scan, path, &ci);
out:
	free(path);
	return rc;
}
