/*
 * main.c — rdprescue's entry point: dispatch to a command, nothing else.
 */
#include "cli/cli.h"
#include "plan/plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	for (size_t i = 0; i < rp_ncheck; i++)
		fprintf(out, "  %-14s %s\n", rp_checks[i].id, rp_checks[i].title);
}

int cli_fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("rdprescue: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return code;
}

int cli_backup_dir_ok(const char *dir)
{
	if (dir && access(dir, W_OK) != 0)
		return cli_fail(2,
				"--backup-dir %s is not a writable directory: create it or choose "
				"another",
				dir);
	return 0;
}

int cli_install_index(const char *arg, int *out)
{
	char *end;
	long n = strtol(arg, &end, 10);
	if (*end || end == arg || n < 1 || n > 64)
		return cli_fail(2, "--install takes a number from 'rdprescue list'");
	*out = (int)n;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return print_usage(stderr), 2;
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
	return cli_fail(2, "unknown command '%s'; run 'rdprescue --help' for the list",
			cmd[0] ? cmd : "''");
}
