/*
 * status.c — the one-line status of long work on a terminal: "rdprescue: writing the backup,
 * then the repairs..." on stderr while it runs, erased when it is done.  Only when stderr is a
 * terminal and the run is not --json, so no escape code or carriage return reaches a file or a
 * pipe (util/term.h decides what a terminal is).
 */
#include "cli/cli.h"
#include "util/term.h"

#include <stdio.h>

void cli_status(int wanted, const char *what)
{
	if (!wanted || !rp_term_isatty(stderr))
		return;
	if (what)
		fprintf(stderr, "\rrdprescue: %s...\033[K", what);
	else
		fputs("\r\033[K", stderr);
	fflush(stderr);
}
