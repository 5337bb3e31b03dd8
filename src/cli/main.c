/*
 * main.c — rdprescue's entry point: dispatch to a command, nothing else.
 */
#include "cli/cli.h"
#include "plan/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: rdprescue COMMAND TARGET [options]\n"
    "\n"
    "  scan   TARGET [--json] [--check ID,...] [--install N] [--now YYYY-MM-DD]\n"
    "  fix    TARGET [--json] [--check ID,...] [--install N] [--dry-run] [--backup-dir DIR]\n"
    "                [--allow-weaker-security] [--yes] [--now YYYY-MM-DD]\n"
    "                [--reset-ip] [--disable-driver NAME] [--enable-sac]\n"
    "                [--grant-rdp-logon ACCOUNT]\n"
    "  undo   TARGET [--backup FILE] [--backup-dir DIR] [--install N] [--force] [--json] "
    "[--yes]\n"
    "  list   [DEVICE|IMAGE ...]\n"
    "  acl    TARGET show PATH [--json] | TARGET reset PATH --sddl SDDL [--yes] [--backup-dir "
    "DIR]\n"
    "  hive   FILE [LOG1 LOG2] [--recover OUT]\n"
    "  events TARGET [--since last-boot|YYYY-MM-DD] [--all] [--install N] [--json]\n"
    "\n"
    "TARGET: a block device, a raw disk image, a fixed VHD, a single-partition image, or a\n"
    "directory where a Windows volume is mounted.\n"
    "Exit: 0 healthy/fixed, 1 problems remain, 2 usage, 3 target unusable, 4 write failed and\n"
    "rolled back.  See 'man rdprescue' (docs/rdprescue.1.md).\n";

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
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help"))
		return print_usage(stdout), 0;
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version"))
		return printf("rdprescue %s\n", RP_VERSION), 0;
	if (!strcmp(cmd, "scan") || !strcmp(cmd, "fix"))
		return cmd_scan(argc - 1, argv + 1);
	if (!strcmp(cmd, "undo"))
		return cmd_undo(argc - 1, argv + 1);
	if (!strcmp(cmd, "list"))
		return cmd_list(argc - 1, argv + 1);
	if (!strcmp(cmd, "acl"))
		return cmd_acl(argc - 1, argv + 1);
	if (!strcmp(cmd, "hive"))
		return cmd_hive(argc - 1, argv + 1);
	if (!strcmp(cmd, "events"))
		return cmd_events(argc - 1, argv + 1);
	return cli_fail(RP_EXIT_USAGE, "unknown command '%s'; run 'rdprescue --help' for the list",
			cmd[0] ? cmd : "''");
}
