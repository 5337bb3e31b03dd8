/*
 * acl.c — `rdprescue acl`'s output: a security descriptor as SDDL and in words
 * ("Allow Everyone: read & write (0x12019f), this folder only"), as text or JSON (schema
 * "rdprescue-acl/1").  Disk strings (the path, account names) are escaped before printing.
 */
#include "report/report.h"
#include "util/text.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rights masks Windows' security dialog has a name for. */
static const struct {
	uint32_t mask;
	const char *name;
} named_rights[] = {
    {0x1F01FF, "full control"},
    {0x1301BF, "modify"},
    {0x1201BF, "read, write & execute"},
    {0x12019F, "read & write"},
    {0x1200A9, "read & execute"},
    {0x120089, "read"},
    {0x120116, "write"},
    {0x10000000, "generic all"},
    {0x80000000, "generic read"},
    {0xA0000000, "generic read & execute"},
};

/* File and folder access bits, in mask order. */
static const char *const bit_names[32] = {
    [0] = "read data / list folder",
    [1] = "write data / add file",
    [2] = "append data / add subfolder",
    [3] = "read extended attributes",
    [4] = "write extended attributes",
    [5] = "execute / traverse",
    [6] = "delete children",
    [7] = "read attributes",
    [8] = "write attributes",
    [16] = "delete",
    [17] = "read permissions",
    [18] = "change permissions",
    [19] = "take ownership",
    [20] = "synchronize",
    [24] = "access system security",
    [28] = "generic all",
    [29] = "generic execute",
    [30] = "generic write",
    [31] = "generic read",
};

static char *rights_text(uint32_t mask)
{
	for (size_t i = 0; i < sizeof named_rights / sizeof named_rights[0]; i++)
		if (named_rights[i].mask == mask)
			return rp_xasprintf("%s (0x%x)", named_rights[i].name, mask);
	char buf[512] = "";
	for (int b = 0; b < 32; b++) {
		if (!(mask & (1u << b)))
			continue;
		char part[64];
		if (bit_names[b])
			snprintf(part, sizeof part, "%s%s", buf[0] ? ", " : "", bit_names[b]);
		else
			snprintf(part, sizeof part, "%sbit %d", buf[0] ? ", " : "", b);
		strncat(buf, part, sizeof buf - strlen(buf) - 1);
	}
	return rp_xasprintf("%s (0x%x)", buf[0] ? buf : "nothing", mask);
}

/* "Everyone", "NT SERVICE\SessionEnv" or the numeric SID (malloc'd). */
static char *sid_text(const rp_sid *sid)
{
	const char *known = rp_sid_well_known_name(sid);
	if (known)
		return rp_xstrdup(known);
	static const char *const services[] = {"SessionEnv", "TermService", "UmRdpService"};
	for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
		rp_sid s;
		rp_sid_service(services[i], &s);
		if (rp_sid_equal(&s, sid))
			return rp_xasprintf("NT SERVICE\\%s", services[i]);
	}
	return rp_sid_to_text(sid);
}

static const char *ace_type_text(uint8_t type)
{
	switch (type) {
	case 0:
		return "Allow";
	case 1:
		return "Deny";
	case 2:
		return "Audit";
	case 0x11:
		return "Integrity label";
	default:
		return "Other";
	}
}

/* Where an entry applies, from its inheritance flags. */
static const char *applies_text(uint8_t flags)
{
	int oi = flags & 0x1, ci = flags & 0x2, io = flags & 0x8;
	if (!oi && !ci)
		return "this object only";
	if (io)
		return oi && ci ? "subfolders and files only"
		       : ci	? "subfolders only"
				: "files only";
	return oi && ci ? "this folder, subfolders and files"
	       : ci	? "this folder and subfolders"
			: "this folder and files";
}

static void print_acl(FILE *out, const char *title, const rp_acl *acl)
{
	fprintf(out, "%s:\n", title);
	if (!acl->count)
		fprintf(out, "  (no entries: nobody has access)\n");
	for (size_t i = 0; i < acl->count; i++) {
		const rp_ace *a = &acl->aces[i];
		char *who = sid_text(&a->sid), *rights = rights_text(a->mask);
		char *shown = rp_escape(who);
		fprintf(out, "  %s %s: %s, %s%s\n", ace_type_text(a->type), shown, rights,
			applies_text(a->flags), a->flags & 0x10 ? ", inherited" : "");
		free(shown);
		free(who);
		free(rights);
	}
}

static json_t *acl_json(const rp_acl *acl)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < acl->count; i++) {
		const rp_ace *a = &acl->aces[i];
		char *sid = rp_sid_to_text(&a->sid), *who = sid_text(&a->sid),
		     *rights = rights_text(a->mask);
		json_array_append_new(arr, json_pack("{s:s,s:i,s:s,s:s,s:I,s:s,s:s}", "type",
						     ace_type_text(a->type), "flags", a->flags,
						     "sid", sid, "name", who, "mask",
						     (json_int_t)a->mask, "rights", rights,
						     "applies_to", applies_text(a->flags)));
		free(sid);
		free(who);
		free(rights);
	}
	return arr;
}

static void dump(FILE *out, json_t *o)
{
	json_dumpf(o, out, JSON_INDENT(2));
	fputc('\n', out);
	json_decref(o);
}

void rp_report_acl(FILE *out, int json, const char *path, const rp_sd *sd, const char *sddl,
		   const char *why_no_sddl)
{
	char *owner = sd->has_owner ? sid_text(&sd->owner) : rp_xstrdup("(none)");
	char *group = sd->has_group ? sid_text(&sd->group) : rp_xstrdup("(none)");
	char *epath = rp_escape(path), *eowner = rp_escape(owner), *egroup = rp_escape(group);
	int protected = (sd->control & SD_DACL_PROTECTED) != 0;
	if (json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "schema", "rdprescue-acl/1", "path",
				      epath, "owner", eowner, "group", egroup);
		json_object_set_new(o, "sddl", sddl ? json_string(sddl) : json_null());
		json_object_set_new(o, "protected", json_boolean(protected));
		json_object_set_new(
		    o, "dacl", !sd->has_dacl || sd->dacl_null ? json_null() : acl_json(&sd->dacl));
		dump(out, o);
	} else {
		fprintf(out, "%s\n", epath);
		fprintf(out, "SDDL:  %s\n", sddl ? sddl : why_no_sddl);
		fprintf(out, "owner: %s\ngroup: %s\n", eowner, egroup);
		if (!sd->has_dacl || sd->dacl_null)
			fprintf(out, "DACL: none (everyone has full access)\n");
		else
			print_acl(out,
				  protected ? "DACL (protected: nothing inherited from the parent)"
					    : "DACL",
				  &sd->dacl);
		if (sd->has_sacl && !sd->sacl_null && sd->sacl.count)
			print_acl(out, "SACL (auditing and integrity labels)", &sd->sacl);
	}
	free(epath);
	free(eowner);
	free(egroup);
	free(owner);
	free(group);
}

void rp_report_acl_reset_json(FILE *out, const char *path, const char *sddl, int dry_run,
			      const rp_plan_result *pr)
{
	char *epath = rp_escape(path);
	json_t *o = json_pack("{s:s,s:s,s:s,s:b}", "schema", "rdprescue-acl/1", "path", epath,
			      "sddl", sddl, "dry_run", dry_run);
	json_object_set_new(o, "backup",
			    pr->backup_volume ? json_string(pr->backup_volume) : json_null());
	json_object_set_new(o, "backup_host",
			    pr->backup_host ? json_string(pr->backup_host) : json_null());
	dump(out, o);
	free(epath);
}
