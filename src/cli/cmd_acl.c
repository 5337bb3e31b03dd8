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
#include "report/report.h"
#include "sd/sd.h"
#include "util/text.h"

#include <getopt.h>
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
	rp_report_acl(stdout, a->json, a->path, &sd, sddl, err.msg);
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
			return cli_fail(RP_EXIT_USAGE,
					"nothing changed: acl reset was not confirmed");
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
		rp_report_acl_reset_json(stdout, a->path, a->sddl, a->dry_run, &pr);
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
				return RP_EXIT_USAGE;
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
			return cli_fail(RP_EXIT_USAGE, "unknown option '%s'; %s", argv[optind - 1],
					ACL_USAGE);
		}
	}
	if (argc - optind != 3)
		return cli_fail(RP_EXIT_USAGE, "acl needs TARGET, show or reset, and PATH; %s",
				ACL_USAGE);
	a->target = argv[optind];
	a->action = argv[optind + 1];
	a->path = argv[optind + 2];
	int is_show = !strcmp(a->action, "show"), is_reset = !strcmp(a->action, "reset");
	if (!is_show && !is_reset)
		return cli_fail(RP_EXIT_USAGE, "acl takes show or reset, not '%s'; %s", a->action,
				ACL_USAGE);
	if (is_reset && !a->sddl)
		return cli_fail(RP_EXIT_USAGE, "acl reset needs --sddl SDDL; %s", ACL_USAGE);
	if (is_show && (a->sddl || a->yes || a->backup_dir || a->dry_run))
		return cli_fail(RP_EXIT_USAGE,
				"acl show only reads: --sddl, --yes, --backup-dir and "
				"--dry-run belong to acl reset");
	if (is_reset && !a->yes && !a->dry_run && !isatty(STDIN_FILENO))
		return cli_fail(RP_EXIT_USAGE,
				"acl reset changes the disk: add --yes to confirm (or "
				"--dry-run to check the SDDL)");
	if (cli_backup_dir_ok(a->backup_dir, !a->dry_run))
		return RP_EXIT_USAGE;
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
		return cli_help("acl", stdout);
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
