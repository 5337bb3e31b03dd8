/*
 * main.c — rdprescue's entry point: dispatch to a command, nothing else.
 */
#include "cli/cli.h"
#include "plan/plan.h"
#include "report/report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: rdprescue COMMAND TARGET [options]\n"
    "\n"
    "  scan   TARGET [--json] [--check ID,...] [--install N] [--now YYYY-MM-DD]\n"
    "  fix    TARGET [--json] [--check ID,...] [--install N] [--dry-run] [--backup-dir DIR]\n"
    "                [--allow-weaker-security] [--yes] [--now YYYY-MM-DD]\n"
    "  undo   TARGET [--backup ID|FILE] [--backup-dir DIR] [--install N] [--force] [--dry-run]\n"
    "                [--json] [--yes]\n"
    "  backups TARGET [--install N] [--backup-dir DIR] [--json]\n"
    "  list   [DEVICE|IMAGE ...]\n"
    "  acl    TARGET show PATH [--json] | TARGET reset PATH --sddl SDDL [--yes] [--backup-dir "
    "DIR]\n"
    "  hive   FILE [LOG1 LOG2] [--recover OUT]\n"
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
	for (size_t i = 0; i < rp_ncheck; i++)
		fprintf(out, "  %-14s %s\n", rp_checks[i].id, rp_checks[i].title);
}

/* The run's contract (report.h): one JSON document with --json, a summary line last. */
static struct {
	const char *command, *target;
	int json, reported;
} run;

/* The TARGET of a command line: the first argument that is neither an option nor an option's
 * value (best effort: for the report of a run that stops before its own parsing ends). */
static const char *find_target(int argc, char **argv)
{
	static const char *const with_value[] = {"--check",	 "--install", "--now",
						 "--backup-dir", "--backup",  "--sddl"};
	for (int i = 2; i < argc; i++) {
		int takes = 0;
		for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++)
			takes |= !strcmp(argv[i], with_value[k]);
		if (takes)
			i++;
		else if (argv[i][0] != '-')
			return argv[i];
	}
	return NULL;
}

void cli_reported(void)
{
	run.reported = 1;
}

int cli_fail(int code, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "rdprescue: %s\n", msg);
	if (run.command && !run.reported) {
		rp_report r = {
		    .command = run.command, .target = run.target, .exit_code = code, .error = msg};
		if (run.json)
			rp_report_json(stdout, &r);
		fflush(stdout);
		rp_report_summary(run.json ? stderr : stdout, &r);
		fflush(stdout);
		run.reported = 1;
	}
	return code;
}

int cli_backup_dir_ok(const char *dir, int create)
{
	if (!dir)
		return 0;
	struct stat st;
	if (create && stat(dir, &st) != 0 && errno == ENOENT) {
		/* Backups hold every original byte: only this user may read them. */
		if (mkdir(dir, 0700) != 0)
			return cli_fail(2,
					"--backup-dir %s cannot be created (%s): create it or "
					"choose another",
					dir, strerror(errno));
	}
	if (access(dir, W_OK) != 0 || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
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
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help"))
		return print_usage(stdout), 0;
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version"))
		return printf("rdprescue %s\n", RP_VERSION), 0;
	if (!strcmp(cmd, "scan") || !strcmp(cmd, "fix") || !strcmp(cmd, "undo") ||
	    !strcmp(cmd, "acl") || !strcmp(cmd, "backups")) {
		run.command = cmd;
		run.target = find_target(argc, argv);
		for (int i = 2; i < argc; i++)
			run.json |= !strcmp(argv[i], "--json");
	}
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
	if (!strcmp(cmd, "hive"))
		return cmd_hive(argc - 1, argv + 1);
	return cli_fail(2, "unknown command '%s'; run 'rdprescue --help' for the list",
			cmd[0] ? cmd : "''");
}
