/*
 * main.c — rdprescue's entry point: dispatch to a command, nothing else.
 */
#include "cli/cli.h"
#include "plan/plan.h"
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: rdprescue COMMAND TARGET [options]\n"
    "       rdprescue help COMMAND    (or COMMAND --help): its options, examples\n"
    "       rdprescue --version       the version, commit and library versions\n"
    "\n"
    "  scan   report why Remote Desktop fails; writes nothing\n"
    "  fix    repair it (backup first; --dry-run, --yes)\n"
    "  undo   restore the last backup\n"
    "  list   the Windows installations on the disks of this machine\n"
    "  acl    show or set one security descriptor on the Windows volume\n"
    "  hive   inspect or recover a loose registry hive file\n"
    "  events the machine's own event logs: what Windows logged about RDP\n"
    "  backups the backups of an installation, newest first: the undo history\n"
    "  reg    get, set, delete, export or import registry keys offline (with undo)\n"
    "\n"
    "TARGET: a block device, a raw disk image, a fixed VHD, a single-partition\n"
    "image, or a directory where a Windows volume is mounted.\n"
    "Exit: 0 healthy/fixed, 1 problems remain, 2 usage, 3 target unusable,\n"
    "4 write failed and rolled back.  See 'man rdprescue'.\n";

/* The usage text, then the checks from the catalogue (so the list cannot go stale). */
static void print_usage(FILE *out)
{
	fputs(usage, out);
	fputs("\nChecks:\n", out);
	int width = 0;
	for (size_t i = 0; i < rp_ncheck; i++)
		if ((int)strlen(rp_checks[i].id) > width)
			width = (int)strlen(rp_checks[i].id);
	for (size_t i = 0; i < rp_ncheck; i++)
		fprintf(out, "  %-*s  %s\n", width, rp_checks[i].id, rp_checks[i].title);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return print_usage(stderr), RP_EXIT_USAGE;
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || (!strcmp(cmd, "help") && argc == 2))
		return print_usage(stdout), 0;
	if (!strcmp(cmd, "help"))
		return argc == 3
			   ? cli_help(argv[2], stdout)
			   : cli_fail(2, "help takes one COMMAND, e.g. 'rdprescue help scan'");
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version"))
		return cli_version(stdout), 0;
	if (cli_has_help(cmd) && cli_wants_help(argc - 1, argv + 1))
		return cli_help(cmd, stdout);
	if (!strcmp(cmd, "scan") || !strcmp(cmd, "fix") || !strcmp(cmd, "undo") ||
	    !strcmp(cmd, "acl") || !strcmp(cmd, "backups") || !strcmp(cmd, "reg"))
		cli_run_begin(cmd, argc, argv);
	if (!strcmp(cmd, "scan") || !strcmp(cmd, "fix"))
		return cmd_scan(argc - 1, argv + 1);
	if (!strcmp(cmd, "undo"))
		return cmd_undo(argc - 1, argv + 1);
	if (!strcmp(cmd, "list"))
		return cmd_list(argc - 1, argv + 1);
	if (!strcmp(cmd, "acl"))
		return cmd_acl(argc - 1, argv + 1);
	if (!strcmp(cmd, "backups"))
		return cmd_backups(argc - 1, argv + 1);
	if (!strcmp(cmd, "reg"))
		return cmd_reg(argc - 1, argv + 1);
	if (!strcmp(cmd, "hive"))
		return cmd_hive(argc - 1, argv + 1);
	if (!strcmp(cmd, "events"))
		return cmd_events(argc - 1, argv + 1);
	return cli_fail(RP_EXIT_USAGE, "unknown command '%s'; run 'rdprescue --help' for the list",
			cmd[0] ? cmd : "''");
}
