/*
 * text.c — the report for people: what is wrong in plain words, the evidence, what the fix
 * changes.  Every string that came from the disk is escaped before it is printed.  The report is
 * composed line by line, then each line is wrapped to the width of out (util/term.h: the
 * terminal's, 80 on a file or pipe) and the status tags are coloured on a terminal only.
 */
#include "report/report.h"
#include "util/term.h"
#include "util/text.h"

#include <stdlib.h>
#include <string.h>

static void put_escaped(FILE *out, const char *s)
{
	char *e = rp_escape(s ? s : "");
	fputs(e, out);
	free(e);
}

/* Where an evidence record's value lives, in plain words. */
static void put_source(FILE *out, const rp_evidence *e)
{
	const char *src = e->source ? e->source : "";
	if (strcmp(src, RP_SRC_LOCAL) == 0) {
		fputs("local setting", out);
	} else if (strcmp(src, RP_SRC_POLICY) == 0) {
		fputs("Group Policy copy", out);
	} else if (strcmp(src, RP_SRC_REGPOL) == 0 || strcmp(src, RP_SRC_DOMAIN) == 0) {
		fputs(strcmp(src, RP_SRC_REGPOL) == 0 ? "from the local Group Policy file "
						      : "from a domain GPO cached in ",
		      out);
		put_escaped(out, e->path);
	} else {
		put_escaped(out, src);
	}
}

#define SHOWN_MAX 160

static void put_evidence(FILE *out, const rp_evidence *e)
{
	fputs("      ", out);
	if (e->key) {
		if (e->hive)
			fprintf(out, "%s\\", e->hive);
		put_escaped(out, e->key);
		fputs("\\", out);
		put_escaped(out, e->value);
		if (e->present) {
			rp_value v = {.type = e->type, .data = e->data, .len = e->len};
			char *shown = rp_value_format(&v);
			fputs(" = ", out);
			/* A certificate Blob or a firewall rule runs to kilobytes: the text report
			 * shows its start, the JSON report all of it. */
			if (strlen(shown) > SHOWN_MAX)
				strcpy(shown + SHOWN_MAX - 40,
				       "... (cut; --json shows the whole value)");
			put_escaped(out, shown);
			free(shown);
		} else {
			fputs(e->hive ? " (absent)" : "", out);
		}
	} else if (e->path) {
		put_escaped(out, e->path);
	}
	fputs("  [", out);
	put_source(out, e);
	if (e->note)
		fprintf(out, ", %s", e->note);
	fputs("]\n", out);
}

/* Plain words on one line under an indent: rp_report_text wraps every line to the width. */
static void put_wrapped(FILE *out, const char *indent, const char *text)
{
	fputs(indent, out);
	fputs(text, out);
	fputc('\n', out);
}

static void put_install(FILE *out, const rp_report *r)
{
	const rp_install *i = r->install;
	const rp_registry *reg = r->reg;
	fputs("Windows: ", out);
	put_escaped(out, reg && reg->product ? reg->product : "unknown product");
	if (reg && reg->build) {
		fputs(" build ", out);
		put_escaped(out, reg->build);
	}
	if (reg && reg->computer) {
		fputs(", computer ", out);
		put_escaped(out, reg->computer);
	}
	fprintf(out, "\n  on partition %d (", i->part_number);
	put_escaped(out, i->label[0] ? i->label : "no label");
	fprintf(out, ", %.1f GiB)", (double)i->size / (1 << 30));
	if (reg)
		fprintf(out, ", control set %s%s", reg->ccs,
			reg->ccs_fallback ? " (Select\\Current missing)" : "");
	fputc('\n', out);
	if (reg) {
		const rp_hive_file *h[4] = {&reg->system, &reg->software, &reg->sam,
					    &reg->security};
		for (int k = 0; k < 4; k++) {
			/* Not h->hive: after a fix the rescan has taken the hives over. */
			if (!h[k]->path)
				continue; /* an optional hive that is not there */
			fprintf(out, "  %s: ", h[k]->name);
			put_escaped(out, h[k]->error		    ? h[k]->error
					 : h[k]->recovery.detail[0] ? h[k]->recovery.detail
								    : "clean");
			fputc('\n', out);
		}
	}
}

static const char *tag(rp_status s)
{
	switch (s) {
	case RP_OK:
		return "  ok     ";
	case RP_PROBLEM:
		return "PROBLEM  ";
	case RP_FIXED:
		return "FIXED    ";
	case RP_NOT_FIXED:
		return "NOT FIXED";
	default:
		return "skipped  ";
	}
}

static void report_text(FILE *out, const rp_report *r)
{
	fprintf(out, "rdprescue %s ", r->command);
	put_escaped(out, r->target);
	fputs(r->dry_run ? " (dry run: nothing written)\n" : "\n", out);
	if (r->install)
		put_install(out, r);
	fputc('\n', out);
	if (r->scan) {
		for (size_t i = 0; i < r->scan->nfindings; i++) {
			const rp_finding *f = &r->scan->findings[i];
			fprintf(out, "%s %-13s ", tag(f->status), f->check);
			put_escaped(out, f->summary);
			fputc('\n', out);
			if (f->status == RP_OK && f->severity == RP_INFO)
				continue;
			if (f->explain)
				put_wrapped(out, "      ", f->explain);
			for (size_t j = 0; j < f->nevidence; j++)
				put_evidence(out, &f->evidence[j]);
			for (size_t j = 0; j < f->ncites; j++) {
				const rp_cite *c = &f->cites[j];
				fputs("      Windows logged this: ", out);
				put_escaped(out, c->event);
				fprintf(out, ", %zu time%s, last %.10s %.5s\n", c->count,
					c->count == 1 ? "" : "s", c->last, c->last + 11);
				fputs("        ", out);
				put_escaped(out, c->text);
				fputc('\n', out);
			}
			for (size_t j = 0; j < f->nchanges; j++) {
				const rp_change *c = &f->changes[j];
				int applied = r->plan && !r->dry_run && r->plan->files_written &&
					      (!c->weakens || r->allow_weaker);
				fputs(applied ? "      changed: " : "      fix: ", out);
				put_escaped(out, c->what);
				fputs(c->weakens ? "  (lowers security)\n" : "\n", out);
			}
			if (f->weakened && f->status == RP_FIXED)
				fputs("      NOTE: security was lowered at your request "
				      "(--allow-weaker-security)\n",
				      out);
		}
	}
	if (r->scan) {
		size_t problems = 0, fixed = 0, left = 0, fixable = 0;
		for (size_t i = 0; i < r->scan->nfindings; i++) {
			rp_status st = r->scan->findings[i].status;
			problems += st == RP_PROBLEM;
			fixable += st == RP_PROBLEM && r->scan->findings[i].nchanges > 0;
			fixed += st == RP_FIXED;
			left += st == RP_NOT_FIXED;
		}
		fputc('\n', out);
		if (fixed || left)
			fprintf(out, "%zu fixed, %zu not fixed.\n", fixed, left);
		else if (problems && r->dry_run)
			fprintf(out, "%zu problem%s; nothing was written (dry run).\n", problems,
				problems == 1 ? "" : "s");
		else if (problems && r->fix_refuses)
			fprintf(
			    out,
			    "%zu problem%s; fix cannot repair %s on this disk (see the note).\n",
			    problems, problems == 1 ? "" : "s", problems == 1 ? "it" : "them");
		else if (problems && strcmp(r->command, "scan") != 0)
			fprintf(out, "%zu problem%s left: nothing was fixed.\n", problems,
				problems == 1 ? "" : "s");
		else if (fixable) {
			if (fixable == problems)
				fprintf(out, "%zu problem%s. Run 'rdprescue fix ", problems,
					problems == 1 ? "" : "s");
			else
				fprintf(out,
					"%zu problems; %zu can be repaired offline: run 'rdprescue "
					"fix ",
					problems, fixable);
			put_escaped(out, r->target);
			if (r->install_arg)
				fprintf(out, " --install %d", r->install_arg);
			if (fixable == problems)
				fprintf(out, " --yes' to repair %s.\n",
					problems == 1 ? "it" : "them");
			else
				fprintf(out, " --yes'. The others are reported only (see each "
					     "explanation).\n");
		} else if (problems)
			fprintf(
			    out,
			    "%zu problem%s, reported only: rdprescue has no offline repair for %s "
			    "(see %s explanation).\n",
			    problems, problems == 1 ? "" : "s", problems == 1 ? "it" : "them",
			    problems == 1 ? "its" : "each");
		else
			fputs("No problems found.\n", out);
	}
	for (size_t i = 0; i < r->nnotes; i++) {
		fputs("note: ", out);
		put_escaped(out, r->notes[i]);
		fputc('\n', out);
	}
	if (r->plan) {
		for (size_t i = 0; i < r->plan->nnotes; i++) {
			fputs("note: ", out);
			put_escaped(out, r->plan->notes[i]);
			fputc('\n', out);
		}
		if (!r->scan)
			for (size_t i = 0; i < r->plan->nfiles; i++) {
				fputs(r->dry_run ? "would restore: " : "restored: ", out);
				put_escaped(out, r->plan->files[i]);
				fputc('\n', out);
			}
		if (r->plan->backup_host || r->plan->backup_volume) {
			fputs("backup: ", out);
			if (r->plan->backup_host) {
				put_escaped(out, r->plan->backup_host);
				fputs(" and ", out);
			}
			char *win = rp_xstrdup(r->plan->backup_volume);
			for (char *c = win; *c; c++)
				if (*c == '/')
					*c = '\\';
			fputs("\\", out);
			put_escaped(out, win);
			free(win);
			fputs(" on the volume\n", out);
		}
	}
}

/* The status tags in colour on a terminal. */
static const struct {
	const char *tag;
	int sgr;
} painted[] = {
    {"PROBLEM  ", RP_RED}, {"NOT FIXED", RP_RED}, {"FIXED    ", RP_GREEN}, {"  ok     ", RP_GREEN}};

/* The report, each line wrapped to out's width (80 on a file or pipe), continuation lines
 * indented under their line; the status tags in colour when out is a terminal. */
void rp_report_text(FILE *out, const rp_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	if (!mem) {
		report_text(out, r);
		return;
	}
	report_text(mem, r);
	fclose(mem);
	size_t width = rp_term_width(out);
	for (char *line = buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		size_t lead = strspn(line, " "), col = 0;
		for (size_t i = 0; i < sizeof painted / sizeof painted[0]; i++) {
			size_t n = strlen(painted[i].tag);
			if (strncmp(line, painted[i].tag, n) == 0) {
				rp_term_paint(out, painted[i].sgr, painted[i].tag);
				line += n;
				col = n;
				break;
			}
		}
		rp_wrap(out, line, col, lead + 2 > 6 ? lead + 2 : 6, width);
		fputc('\n', out);
	}
	free(buf);
}
