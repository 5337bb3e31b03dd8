/*
 * cmd_acl.c — `rdprescue acl TARGET show PATH` and `rdprescue acl TARGET reset PATH --sddl SDDL`.
 *
 * show: the security descriptor of a file or folder on the Windows volume as SDDL and as a list
 *       of entries in words ("Allow Everyone: read & write (0x12019f), this folder only").
 * reset: sets an SDDL given by hand, through plan/ (rp_plan_set_sd): backup first, read back,
 *       undone by `rdprescue undo`.
 * PATH is volume-relative; "C:\ProgramData\..." and backslashes are accepted.
 */
#include "cli/cli.h"
#include "report/report.h"
#include "plan/plan.h"
#include "sd/sd.h"
#include "util/text.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ACL_USAGE                                                                                  \
	"usage: rdprescue acl TARGET show PATH [--install N] [--json]\n"                           \
	"       rdprescue acl TARGET reset PATH --sddl SDDL [--install N] [--backup-dir DIR] "     \
	"[--dry-run] [--yes] [--json]"

typedef struct acl_args {
	const char *target, *action, *path, *sddl, *backup_dir;
	int install, json, yes, dry_run;
} acl_args;

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

static void print_acl(const char *title, const rp_acl *acl)
{
	printf("%s:\n", title);
	if (!acl->count)
		printf("  (no entries: nobody has access)\n");
	for (size_t i = 0; i < acl->count; i++) {
		const rp_ace *a = &acl->aces[i];
		char *who = sid_text(&a->sid), *rights = rights_text(a->mask);
		char *shown = rp_escape(who);
		printf("  %s %s: %s, %s%s\n", ace_type_text(a->type), shown, rights,
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

static int show(const rp_target *t, const acl_args *a)
{
	rp_err err = {0};
	rp_vol *vol = NULL;
	const rp_install *inst = NULL;
	uint8_t *raw = NULL;
	size_t len = 0;
	if (rp_target_open(t, a->install, 0, &vol, &inst, &err) < 0 ||
	    rp_vol_get_sd(vol, a->path, &raw, &len, &err) < 0) {
		rp_vol_close(vol, NULL);
		return cli_fail(err.exit_code, "%s", err.msg);
	}
	rp_vol_close(vol, NULL);
	rp_sd sd;
	if (rp_sd_parse(raw, len, &sd, &err) < 0) {
		free(raw);
		return cli_fail(RP_EXIT_PROBLEMS, "%s: %s", a->path, err.msg);
	}
	free(raw);
	char *sddl = rp_sd_format_sddl(&sd, &err);
	char *owner = sd.has_owner ? sid_text(&sd.owner) : rp_xstrdup("(none)");
	char *group = sd.has_group ? sid_text(&sd.group) : rp_xstrdup("(none)");
	char *path = rp_escape(a->path), *eowner = rp_escape(owner), *egroup = rp_escape(group);
	if (a->json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "schema", "rdprescue-acl/1", "path",
				      path, "owner", eowner, "group", egroup);
		json_object_set_new(o, "sddl", sddl ? json_string(sddl) : json_null());
		json_object_set_new(o, "protected", json_boolean(sd.control & 0x1000));
		json_object_set_new(
		    o, "dacl", !sd.has_dacl || sd.dacl_null ? json_null() : acl_json(&sd.dacl));
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else {
		printf("%s\n", path);
		printf("SDDL:  %s\n", sddl ? sddl : err.msg);
		printf("owner: %s\ngroup: %s\n", eowner, egroup);
		if (!sd.has_dacl || sd.dacl_null)
			printf("DACL: none (everyone has full access)\n");
		else
			print_acl(sd.control & 0x1000
				      ? "DACL (protected: nothing inherited from the "
					"parent)"
				      : "DACL",
				  &sd.dacl);
		if (sd.has_sacl && !sd.sacl_null && sd.sacl.count)
			print_acl("SACL (auditing and integrity labels)", &sd.sacl);
	}
	free(path);
	free(eowner);
	free(egroup);
	free(owner);
	free(group);
	free(sddl);
	rp_sd_free(&sd);
	return 0;
}

static int reset(rp_target *t, const acl_args *a)
{
	rp_err err = {0};
	rp_sd sd;
	uint8_t *bin = NULL;
	size_t len = 0;
	if (rp_sd_from_sddl(a->sddl, &sd, &err) < 0)
		return cli_fail(RP_EXIT_USAGE, "--sddl: %s", err.msg);
	int built = rp_sd_build(&sd, &bin, &len, &err);
	rp_sd_free(&sd);
	if (built < 0)
		return cli_fail(RP_EXIT_USAGE, "--sddl: %s", err.msg);
	if (!a->dry_run && rp_target_check_write(t, a->install, "acl", &err) < 0) {
		free(bin);
		return cli_fail(err.exit_code, "%s", err.msg);
	}
	if (!a->yes && !a->dry_run) {
		char line[16];
		fprintf(stderr, "rdprescue: set the security descriptor of %s on %s? [y/N] ",
			a->path, a->target);
		if (!fgets(line, sizeof line, stdin) || (line[0] != 'y' && line[0] != 'Y')) {
			free(bin);
			return cli_fail(2, "nothing changed: acl reset was not confirmed");
		}
	}
	rp_plan_opts po = {.target = a->target,
			   .install_index = a->install,
			   .backup_dir = a->backup_dir,
			   .dry_run = a->dry_run};
	rp_plan_result pr = {0};
	int rc = rp_plan_set_sd(t, &po, a->path, bin, len, &pr, &err);
	free(bin);
	if (rc < 0) {
		rp_plan_result_free(&pr);
		return cli_fail(err.exit_code ? err.exit_code : RP_EXIT_WRITE_FAILED, "%s",
				err.msg);
	}
	char *path = rp_escape(a->path);
	if (a->json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:b}", "schema", "rdprescue-acl/1", "path",
				      path, "sddl", a->sddl, "dry_run", a->dry_run);
		json_object_set_new(o, "backup",
				    pr.backup_volume ? json_string(pr.backup_volume) : json_null());
		json_object_set_new(o, "backup_host",
				    pr.backup_host ? json_string(pr.backup_host) : json_null());
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else if (a->dry_run) {
		printf("%s: the descriptor is valid; nothing was written (dry run)\n", path);
	} else {
		char *win = rp_xstrdup(pr.backup_volume);
		for (char *c = win; *c; c++)
			if (*c == '/')
				*c = '\\';
		printf("%s: security descriptor set and read back\n", path);
		printf("backup: %s%s\\%s on the volume (undo with 'rdprescue undo %s --yes')\n",
		       pr.backup_host ? pr.backup_host : "", pr.backup_host ? " and " : "", win,
		       a->target);
		free(win);
	}
	free(path);
	rp_plan_result_free(&pr);
	return 0;
}

static int parse(int argc, char **argv, acl_args *a)
{
	static const struct option opts[] = {
	    {"sddl", required_argument, NULL, 's'},
	    {"install", required_argument, NULL, 'i'},
	    {"backup-dir", required_argument, NULL, 'b'},
	    {"json", no_argument, NULL, 'j'},
	    {"yes", no_argument, NULL, 'y'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	memset(a, 0, sizeof *a);
	opterr = 0;
	optind = 0; /* 0: glibc re-initializes getopt fully */
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			a->sddl = optarg;
			break;
		case 'i':
			if (cli_install_index(optarg, &a->install))
				return 2;
			break;
		case 'b':
			a->backup_dir = optarg;
			break;
		case 'j':
			a->json = 1;
			break;
		case 'y':
			a->yes = 1;
			break;
		case 'n':
			a->dry_run = 1;
			break;
		case 'h':
			return -1;
		default:
			return cli_fail(2, "unknown option '%s'; %s", argv[optind - 1], ACL_USAGE);
		}
	}
	if (argc - optind != 3)
		return cli_fail(2, "acl needs TARGET, show or reset, and PATH; %s", ACL_USAGE);
	a->target = argv[optind];
	a->action = argv[optind + 1];
	a->path = argv[optind + 2];
	int is_show = !strcmp(a->action, "show"), is_reset = !strcmp(a->action, "reset");
	if (!is_show && !is_reset)
		return cli_fail(2, "acl takes show or reset, not '%s'; %s", a->action, ACL_USAGE);
	if (is_reset && !a->sddl)
		return cli_fail(2, "acl reset needs --sddl SDDL; %s", ACL_USAGE);
	if (is_show && (a->sddl || a->yes || a->backup_dir || a->dry_run))
		return cli_fail(2, "acl show only reads: --sddl, --yes, --backup-dir and "
				   "--dry-run belong to acl reset");
	if (is_reset && !a->yes && !a->dry_run && !isatty(STDIN_FILENO))
		return cli_fail(2, "acl reset changes the disk: add --yes to confirm (or "
				   "--dry-run to check the SDDL)");
	if (cli_backup_dir_ok(a->backup_dir, !a->dry_run))
		return 2;
	return 0;
}

/* "C:\ProgramData\X" or "\ProgramData\X" -> "ProgramData/X" (malloc'd). */
static char *volume_path(const char *p)
{
	if (((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) && p[1] == ':')
		p += 2;
	while (*p == '\\' || *p == '/')
		p++;
	char *out = rp_xstrdup(p);
	for (char *c = out; *c; c++)
		if (*c == '\\')
			*c = '/';
	return out;
}

int cmd_acl(int argc, char **argv)
{
	acl_args a;
	int prc = parse(argc, argv, &a);
	if (prc < 0)
		return puts(ACL_USAGE), 0;
	if (prc > 0)
		return prc;
	char *path = volume_path(a.path);
	a.path = path;
	rp_err err = {0};
	rp_target t = {0};
	int rc;
	if (rp_target_probe(&t, a.target, &err) < 0)
		rc = cli_fail(err.exit_code, "%s", err.msg);
	else
		rc = !strcmp(a.action, "show") ? show(&t, &a) : reset(&t, &a);
	if (rc == 0) { /* the contract: the summary line last (stderr with --json) */
		rp_report r = {.command = "acl", .target = a.target, .install_arg = a.install};
		cli_reported();
		fflush(stdout);
		rp_report_summary(a.json ? stderr : stdout, &r);
	}
	rp_target_free(&t);
	free(path);
	return rc;
}
