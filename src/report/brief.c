/*
 * brief.c — `--brief`: the report for cloud "run command" consoles, which keep only a few
 * kilobytes of output.  One line for the target, one line per check (its worst status and its
 * first problem), each cut at BRIEF_LINE bytes, so that with the summary line the whole output
 * stays under 4 KiB whatever the disk holds.
 */
#include "report/report.h"
#include "util/text.h"

#include <stdlib.h>
#include <string.h>

#define BRIEF_LINE 150

/* Worst first: what a check's line reports when it has several findings. */
static int rank(rp_status s)
{
	switch (s) {
	case RP_NOT_FIXED:
		return 4;
	case RP_PROBLEM:
		return 3;
	case RP_FIXED:
		return 2;
	case RP_OK:
		return 1;
	default:
		return 0;
	}
}

/* Writes s cut to at most max bytes (never inside a UTF-8 sequence), escaped. */
static void put_cut(FILE *out, const char *s, size_t max)
{
	char *e = rp_escape(s ? s : "");
	if (strlen(e) > max) {
		size_t n = max > 3 ? max - 3 : 0;
		while (n && ((unsigned char)e[n] & 0xC0) == 0x80)
			n--;
		strcpy(e + n, "...");
	}
	fputs(e, out);
	free(e);
}

void rp_report_brief(FILE *out, const rp_report *r)
{
	fprintf(out, "rdprescue %s%s ", r->command, r->dry_run ? " (dry run)" : "");
	put_cut(out, r->target, 80);
	if (r->reg && r->reg->product) {
		fputs(": ", out);
		put_cut(out, r->reg->product, 40);
		if (r->reg->build) {
			fputs(" build ", out);
			put_cut(out, r->reg->build, 12);
		}
	}
	fputc('\n', out);
	if (!r->scan)
		return;
	const rp_scan *s = r->scan;
	for (size_t i = 0; i < s->nfindings; i++) {
		const char *check = s->findings[i].check;
		int seen = 0;
		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(s->findings[k].check, check) == 0;
		if (seen)
			continue;
		/* The check's worst finding and how many more it has. */
		const rp_finding *worst = &s->findings[i];
		size_t more = 0;
		for (size_t k = i; k < s->nfindings; k++) {
			const rp_finding *f = &s->findings[k];
			if (strcmp(f->check, check) != 0)
				continue;
			if (rank(f->status) > rank(worst->status))
				worst = f;
			more += rank(f->status) >= 2;
		}
		more -= more && rank(worst->status) >= 2;
		char head[64];
		snprintf(head, sizeof head, "%-9s %-14s ", rp_status_name(worst->status), check);
		fputs(head, out);
		size_t room = BRIEF_LINE - strlen(head);
		if (more) {
			char tail[32];
			snprintf(tail, sizeof tail, " (+%zu more)", more);
			put_cut(out, worst->summary, room - strlen(tail));
			fputs(tail, out);
		} else {
			put_cut(out, worst->summary, room);
		}
		fputc('\n', out);
	}
}
