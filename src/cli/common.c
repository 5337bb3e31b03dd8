/*
 * common.c — what every command shares: the one-line error message (with the run's report, so
 * that a failed run keeps the contract too), and checking the --backup-dir and --install
 * arguments.
 */
#include "cli/cli.h"
#include "report/report.h"
#include "util/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The run's contract (report.h): one JSON document with --json, a summary line last. */
static struct {
	const char *command, *target;
	int json, reported;
} run;

/* The TARGET of a command line: the first argument that is neither an option nor an option's
 * value (best effort: for the report of a run that stops before its own parsing ends). */
static const char *find_target(int argc, char **argv)
{
	static const char *const with_value[] = {
	    "--check",		 "--install", "--now",	 "--backup-dir",
	    "--backup",		 "--sddl",    "--since", "--disable-driver",
	    "--grant-rdp-logon", "--jobs"};
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

void cli_run_begin(const char *command, int argc, char **argv)
{
	run.command = command;
	run.target = find_target(argc, argv);
	for (int i = 2; i < argc; i++)
		run.json |= !strcmp(argv[i], "--json");
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
			return cli_fail(RP_EXIT_USAGE,
					"--backup-dir %s cannot be created (%s): create it or "
					"choose another",
					dir, strerror(errno));
	}
	if (access(dir, W_OK) != 0 || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return cli_fail(RP_EXIT_USAGE,
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
		return cli_fail(RP_EXIT_USAGE, "--install takes a number from 'rdprescue list'");
	*out = (int)n;
	return 0;
}
