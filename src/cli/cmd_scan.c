/*
 * cmd_scan.c — `rdprescue scan` and `rdprescue fix`.
 *
 * scan: probe the target, load the registry read-only, run the checks, report.
 * fix:  the same scan, then plan/ writes the changes (backup first), then a fresh read-only
 *       scan of what the disk now holds decides each finding's final status.  The exit code
 *       comes from that re-scan, never from what we meant to do.
 */
#include "cli/cli.h"
#include "plan/plan.h"
#include "report/report.h"
#include "util/text.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct scan_args {
	int fix, json, dry_run, allow_weaker, yes;
	const char *checks, *backup_dir, *target;
	int install;
	time_t now; /* --now, or 0: the clock */
} scan_args;

/* --now YYYY-MM-DD[THH:MM:SSZ] (UTC): the time certificates are judged against, so that a
 * test or a report made later gives the same answer. */
static int parse_now(const char *arg, time_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *end = strptime(arg, "%Y-%m-%d", &tm);
	if (end && *end == 'T')
		end = strptime(end + 1, "%H:%M:%SZ", &tm);
	if (!end || *end)
		return cli_fail(2,
				"--now takes a UTC time YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, not "
				"'%s'",
				arg);
	*out = timegm(&tm);
	return 0;
}

static int parse(int argc, char **argv, scan_args *a)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"check", required_argument, NULL, 'c'},
	    {"install", required_argument, NULL, 'i'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"backup-dir", required_argument, NULL, 'b'},
	    {"allow-weaker-security", no_argument, NULL, 'w'},
	    {"yes", no_argument, NULL, 'y'},
	    {"now", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	memset(a, 0, sizeof *a);
	a->fix = strcmp(argv[0], "fix") == 0;
	opterr = 0;
	optind = 0; /* 0: glibc re-initializes getopt fully */
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (!a->fix && strchr("nbwy", c))
			return cli_fail(2, "%s is an option of 'fix', not of 'scan'",
					argv[optind - 1]);
		switch (c) {
		case 'j':
			a->json = 1;
			break;
		case 'c':
			a->checks = optarg;
			break;
		case 'i':
			if (cli_install_index(optarg, &a->install))
				return 2;
			break;
		case 'n':
			a->dry_run = 1;
			break;
		case 'b':
			a->backup_dir = optarg;
			break;
		case 'w':
			a->allow_weaker = 1;
			break;
		case 'y':
			a->yes = 1;
			break;
		case 't':
			if (parse_now(optarg, &a->now))
				return 2;
			break;
		case 'h':
			return -1;
		default:
			return cli_fail(2, "unknown option '%s'; run 'rdprescue --help'",
					argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_fail(2,
				"%s needs exactly one TARGET (a disk, image, VHD or mounted "
				"directory); run 'rdprescue --help'",
				argv[0]);
	a->target = argv[optind];
	return 0;
}

/* "rdprescue: keys.contents: 12000 files" on one line of the terminal, erased at the end. */
static void show_progress(void *ctx, const char *check, size_t done, int finished)
{
	(void)ctx;
	if (finished)
		fputs("\r\033[K", stderr);
	else
		fprintf(stderr, "\rrdprescue: %s: %zu files\033[K", check, done);
	fflush(stderr);
}

static int count_status(const rp_scan *s, rp_status st)
{
	int n = 0;
	for (size_t i = 0; i < s->nfindings; i++)
		n += s->findings[i].status == st;
	return n;
}

static int same_problem(const rp_finding *a, const rp_finding *b)
{
	return strcmp(a->check, b->check) == 0 && strcmp(a->summary, b->summary) == 0;
}

/* Final statuses: what the re-scan of the written disk says about each planned repair. */
static void settle(rp_scan *before, rp_scan *after)
{
	/* Fixed means the re-scan no longer sees it, whichever check's change did it (a broken RDP
	 * key is resolved by keys.contents and cert.rdp together). */
	for (size_t i = 0; i < before->nfindings; i++) {
		rp_finding *f = &before->findings[i];
		if (f->status != RP_PROBLEM)
			continue;
		int persists = 0;
		for (size_t j = 0; j < after->nfindings; j++)
			persists |= after->findings[j].status == RP_PROBLEM &&
				    same_problem(f, &after->findings[j]);
		f->status = persists ? RP_NOT_FIXED : RP_FIXED;
	}
	/* A problem the re-scan sees that the first scan did not: report it as it is. */
	for (size_t j = 0; j < after->nfindings; j++) {
		rp_finding *g = &after->findings[j];
		if (g->status != RP_PROBLEM)
			continue;
		int known = 0;
		for (size_t i = 0; i < before->nfindings; i++)
			known |= same_problem(&before->findings[i], g);
		if (!known) {
			rp_finding *n = rp_finding_add(before, g->check, RP_PROBLEM, g->severity,
						       g->summary, g->explain);
			for (size_t k = 0; k < g->nevidence; k++)
				rp_evidence_copy(n, &g->evidence[k]);
		}
	}
}

static int confirm(const scan_args *a, const rp_scan *s)
{
	if (a->yes || a->dry_run)
		return 1;
	if (!isatty(STDIN_FILENO))
		return 0;
	int n = 0;
	for (size_t i = 0; i < s->nfindings; i++)
		n += (int)s->findings[i].nchanges;
	fprintf(stderr, "rdprescue: apply %d change%s to %s? [y/N] ", n, n == 1 ? "" : "s",
		a->target);
	char line[16];
	return fgets(line, sizeof line, stdin) && (line[0] == 'y' || line[0] == 'Y');
}

static int finish(rp_report *r, int json)
{
	if (json)
		rp_report_json(stdout, r);
	else
		rp_report_text(stdout, r);
	fflush(stdout);
	if (r->error)
		fprintf(stderr, "rdprescue: %s\n", r->error);
	rp_report_summary(json ? stderr : stdout, r);
	return r->exit_code;
}

int cmd_scan(int argc, char **argv)
{
	scan_args a;
	int prc = parse(argc, argv, &a);
	if (prc < 0) {
		fprintf(stdout,
			"usage: rdprescue %s TARGET [--json] [--check ID,...] [--install N] "
			"[--now YYYY-MM-DD[THH:MM:SSZ]]%s\n",
			argv[0],
			strcmp(argv[0], "fix") == 0 ? " [--dry-run] [--backup-dir DIR] "
						      "[--allow-weaker-security] [--yes]"
						    : "");
		return 0;
	}
	if (prc > 0)
		return prc;
	rp_err err = {0};
	if (rp_checks_validate(a.checks, &err) < 0)
		return cli_fail(err.exit_code, "%s", err.msg);
	if (a.fix && !a.yes && !a.dry_run && !isatty(STDIN_FILENO))
		return cli_fail(2,
				"fix changes the disk: add --yes to confirm (or --dry-run to see "
				"the plan)");
	if (cli_backup_dir_ok(a.backup_dir))
		return 2;

	rp_target t = {0};
	rp_vol *vol = NULL;
	const rp_install *inst = NULL;
	rp_registry reg = {0};
	rp_scan scan = {.allow_weaker = a.allow_weaker, .now = a.now ? a.now : time(NULL)};
	if (!a.json && isatty(STDERR_FILENO))
		scan.progress = show_progress;
	rp_report r = {.command = argv[0],
		       .target = a.target,
		       .dry_run = a.dry_run,
		       .allow_weaker = a.allow_weaker};
	int rc;
	if (rp_target_probe(&t, a.target, &err) < 0 ||
	    rp_target_open(&t, a.install, 0, &vol, &inst, &err) < 0) {
		rc = cli_fail(err.exit_code, "%s", err.msg);
		goto out;
	}
	r.install = inst;
	if (rp_registry_load(vol, &reg, &err) < 0) {
		rc = cli_fail(err.exit_code, "%s", err.msg);
		goto out;
	}
	r.reg = &reg;
	scan.vol = vol;
	scan.reg = &reg;
	if (rp_scan_run(&scan, a.checks, &err) < 0) {
		rc = cli_fail(err.exit_code, "%s", err.msg);
		goto out;
	}
	r.scan = &scan;
	/* not-fixed in a scan: a problem rdprescue refuses to touch (e.g. behind a junction). */
	r.exit_code = count_status(&scan, RP_PROBLEM) || count_status(&scan, RP_NOT_FIXED)
			  ? RP_EXIT_PROBLEMS
			  : RP_EXIT_OK;
	/* Nothing to fix, but an interrupted run left a change to complete or its dirty flag:
	 * plan/ finishes that (rp_plan_fix with no jobs). */
	int finishing = a.fix && !a.dry_run && r.exit_code == RP_EXIT_OK && rp_vol_interrupted(vol);
	if (!a.fix || (r.exit_code == RP_EXIT_OK && !finishing)) {
		rc = finish(&r, a.json);
		goto out;
	}

	if (!confirm(&a, &scan)) {
		rc = cli_fail(2, "nothing changed: fix was not confirmed");
		goto out;
	}
	/* plan/ reads what it still needs from scan.vol, then closes it. */
	vol = NULL;
	rp_plan_opts po = {.target = a.target,
			   .install_index = a.install,
			   .backup_dir = a.backup_dir,
			   .dry_run = a.dry_run,
			   .allow_weaker = a.allow_weaker};
	rp_plan_result pr = {0};
	r.plan = &pr;
	if (rp_plan_fix(&t, &scan, &po, &pr, &err) < 0) {
		r.exit_code = err.exit_code ? err.exit_code : RP_EXIT_WRITE_FAILED;
		r.error = err.msg;
		rc = finish(&r, a.json);
		rp_plan_result_free(&pr);
		goto out;
	}
	if (!a.dry_run && pr.files_written) {
		/* Judge by what the disk holds now. */
		rp_registry after_reg = {0};
		rp_scan after = {.allow_weaker = 0, .now = scan.now};
		if (rp_target_open(&t, a.install, 0, &vol, &inst, &err) < 0 ||
		    rp_registry_load(vol, &after_reg, &err) < 0 ||
		    (after.vol = vol, after.reg = &after_reg, rp_scan_run(&after, a.checks, &err)) <
			0) {
			r.exit_code = err.exit_code;
			r.error = err.msg;
		} else {
			settle(&scan, &after);
			r.exit_code =
			    count_status(&scan, RP_PROBLEM) || count_status(&scan, RP_NOT_FIXED)
				? RP_EXIT_PROBLEMS
				: RP_EXIT_OK;
		}
		rp_scan_free(&after);
		rp_registry_free(&after_reg);
	} else if (!a.dry_run && !finishing) {
		settle(&scan, &scan);
		r.exit_code = RP_EXIT_PROBLEMS;
	}
	rc = finish(&r, a.json);
	rp_plan_result_free(&pr);
out:
	rp_scan_free(&scan);
	rp_registry_free(&reg);
	rp_vol_close(vol, NULL);
	rp_target_free(&t);
	return rc;
}
