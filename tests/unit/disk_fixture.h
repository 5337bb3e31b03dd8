/*
 * disk_fixture.h — helpers shared by the disk and volume unit tests: run a shell snippet with
 * tests/lib/mkdisk.sh loaded inside the test's scratch directory, and name files in it.
 * The including test defines `static char dir[]` (its mkdtemp'd scratch directory) first.
 */
#ifndef RP_DISK_FIXTURE_H
#define RP_DISK_FIXTURE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int sh(const char *fmt, ...)
{
	char cmd[2048], body[1536];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	char cwd[1024];
	if (!getcwd(cwd, sizeof cwd))
		return -1;
	if (snprintf(cmd, sizeof cmd, ". '%s/tests/lib/mkdisk.sh' && cd '%s' && { %s; }", cwd, dir,
		     body) >= (int)sizeof cmd)
		return -1;
	return system(cmd);
}

static char *in_dir(const char *name)
{
	static char buf[4][512];
	static int i;
	i = (i + 1) % 4;
	if (snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name) >= (int)sizeof buf[i])
		abort();
	return buf[i];
}

/* Makes the scratch directory; 0 on success. */
static int fixture_begin(void)
{
	if (mkdtemp(dir))
		return 0;
	perror("mkdtemp");
	return -1;
}

/* Removes the scratch directory and everything in it. */
static void fixture_end(void)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

#endif
