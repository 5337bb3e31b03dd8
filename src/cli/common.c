/*
 * common.c — what every command shares: the one-line error message, and checking the
 * --backup-dir and --install arguments.
 */
#include "cli/cli.h"
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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
