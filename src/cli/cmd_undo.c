/*
 * cmd_undo.c — `rdprescue undo`: restore the newest backup on the volume (or --backup FILE).
 */
#include "cli/cli.h"
#include "plan/plan.h"
#include "report/report.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_undo(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"backup", required_argument, NULL, 'f'},
	    {"backup-dir", required_argument, NULL, 'b'},
	    {"install", required_argument, NULL, 'i'},
	    {"force", no_argument, NULL, 'F'},
	    {"json", no_argument, NULL, 'j'},
	    {"yes", no_argument, NULL, 'y'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	rp_plan_opts po = {0};
	int json = 0, yes = 0, c;
	opterr = 0;
	optind = 0; /* 0: glibc re-initializes getopt fully */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			po.backup_file = optarg;
			break;
		case 'b':
			po.backup_dir = optarg;
			break;
		case 'i':
			if (cli_install_index(optarg, &po.install_index))
				return RP_EXIT_USAGE;
			break;
		case 'F':
			po.force = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'y':
			yes = 1;
			break;
		case 'n':
			po.dry_run = 1;
			break;
		case 'h':
			return cli_help("undo", stdout);
		default:
			return cli_fail(RP_EXIT_USAGE,
					"unknown option '%s'; run 'rdprescue --help'",
					argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_fail(RP_EXIT_USAGE,
				"undo needs exactly one TARGET; run 'rdprescue --help'");
	po.target = argv[optind];
	if (!yes && !po.dry_run) {
		if (!isatty(STDIN_FILENO))
			return cli_fail(RP_EXIT_USAGE,
					"undo changes the disk: add --yes to confirm");
		fprintf(stderr, "rdprescue: restore the last backup onto %s? [y/N] ", po.target);
		char line[16];
		if (!fgets(line, sizeof line, stdin) || (line[0] != 'y' && line[0] != 'Y'))
			return cli_fail(RP_EXIT_USAGE, "nothing changed: undo was not confirmed");
	}
	if (cli_backup_dir_ok(po.backup_dir, !po.dry_run))
		return RP_EXIT_USAGE;

	rp_err err = {0};
	rp_target t = {0};
	if (rp_target_probe(&t, po.target, &err) < 0 ||
	    (!po.dry_run && rp_target_check_write(&t, po.install_index, "undo", &err) < 0)) {
		rp_target_free(&t);
		return cli_fail(err.exit_code, "%s", err.msg);
	}
	rp_plan_result pr = {0};
	rp_report r = {.command = "undo",
		       .target = po.target,
		       .install_arg = po.install_index,
		       .plan = &pr,
		       .dry_run = po.dry_run};
	cli_status(!json, "backing up the current state, then restoring");
	int undone = rp_plan_undo(&t, &po, &pr, &err);
	cli_status(!json, NULL);
	if (undone < 0) {
		r.exit_code = err.exit_code ? err.exit_code : RP_EXIT_WRITE_FAILED;
		r.error = err.msg;
	}
	cli_reported();
	if (json)
		rp_report_json(stdout, &r);
	else
		rp_report_text(stdout, &r);
	fflush(stdout);
	if (r.error)
		fprintf(stderr, "rdprescue: %s\n", r.error);
	else if (!pr.nfiles && !pr.nnotes && !json)
		puts("nothing to restore: every file already matches the backup");
	rp_report_summary(json ? stderr : stdout, &r);
	int rc = r.exit_code;
	rp_plan_result_free(&pr);
	rp_target_free(&t);
	return rc;
}
