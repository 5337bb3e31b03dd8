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
	int fix, json, brief, dry_run, allow_weaker, yes, reset_ip, enable_sac;
	const char *checks, *backup_dir, *target, *disable_driver, *grant;
	int install;
	int first_target, jobs; /* argv index of the first TARGET; --jobs N (0: one per CPU) */
	time_t now;		/* --now, or 0: the clock */
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
		return cli_fail(RP_EXIT_USAGE,
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
	    {"brief", no_argument, NULL, 'B'},
	    {"check", required_argument, NULL, 'c'},
	    {"install", required_argument, NULL, 'i'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"backup-dir", required_argument, NULL, 'b'},
	    {"allow-weaker-security", no_argument, NULL, 'w'},
	    {"yes", no_argument, NULL, 'y'},
	    {"enable-sac", no_argument, NULL, 'e'},
	    {"grant-rdp-logon", required_argument, NULL, 'g'},
	    {"now", required_argument, NULL, 't'},
	    {"reset-ip", no_argument, NULL, 'r'},
	    {"disable-driver", required_argument, NULL, 'd'},
	    {"jobs", required_argument, NULL, 'J'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	memset(a, 0, sizeof *a);
	a->fix = strcmp(argv[0], "fix") == 0;
	opterr = 0;
	optind = 0; /* 0: glibc re-initializes getopt fully */
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (!a->fix && strchr("nbwyrdeg", c))
			return cli_fail(RP_EXIT_USAGE, "%s is an option of 'fix', not of 'scan'",
					argv[optind - 1]);
		switch (c) {
		case 'j':
			a->json = 1;
			break;
		case 'B':
			a->brief = 1;
			break;
		case 'c':
			a->checks = optarg;
			break;
		case 'i':
			if (cli_install_index(optarg, &a->install))
				return RP_EXIT_USAGE;
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
		case 'r':
			a->reset_ip = 1;
			break;
		case 'd':
			a->disable_driver = optarg;
			break;
		case 'e':
			a->enable_sac = 1;
			break;
		case 'g':
			if (!*optarg)
				return cli_fail(RP_EXIT_USAGE,
						"--grant-rdp-logon needs a local account name");
			a->grant = optarg;
			break;
		case 't':
			if (parse_now(optarg, &a->now))
				return RP_EXIT_USAGE;
			break;
		case 'J': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || end == optarg || n < 1 || n > 256)
				return cli_fail(RP_EXIT_USAGE,
						"--jobs takes a number of targets to run at once, "
						"1 to 256");
			a->jobs = (int)n;
			break;
		}
		case 'h':
			return -1;
		default:
			return cli_fail(RP_EXIT_USAGE,
					"unknown option '%s'; run 'rdprescue --help'",
					argv[optind - 1]);
		}
	}
	if (optind > argc - 1)
		return cli_fail(RP_EXIT_USAGE,
				"%s needs a TARGET (a disk, image, VHD or mounted directory); run "
				"'rdprescue --help'",
				argv[0]);
	a->target = argv[optind];
	a->first_target = optind;
	if (a->json && a->brief)
		return cli_fail(2, "--json and --brief do not go together: choose one");
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
		int persists = 0, judged = 0;
		for (size_t j = 0; j < after->nfindings; j++) {
			persists |= after->findings[j].status == RP_PROBLEM &&
				    same_problem(f, &after->findings[j]);
			judged |= strcmp(after->findings[j].check, f->check) == 0 &&
				  after->findings[j].status != RP_SKIPPED;
		}
		/* A problem nothing was planned for, that the re-scan cannot judge, stays. */
		f->status = persists || (!judged && !f->nchanges) ? RP_NOT_FIXED : RP_FIXED;
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

static int finish(rp_report *r, int json, int brief)
{
	cli_reported();
	if (json)
		rp_report_json(stdout, r);
	else if (brief)
		rp_report_brief(stdout, r);
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
	if (prc < 0)
		return cli_help(argv[0], stdout);
	if (prc > 0)
		return prc;
	rp_err err = {0};
	if (rp_checks_validate(a.checks, &err) < 0)
		return cli_fail(err.exit_code, "%s", err.msg);
	if (a.reset_ip && !rp_checks_selects(a.checks, rp_id_net_ip))
		return cli_fail(RP_EXIT_USAGE,
				"--reset-ip works through the net.ip check; add it to --check");
	if (a.disable_driver && !rp_checks_selects(a.checks, rp_id_net_filters))
		return cli_fail(RP_EXIT_USAGE,
				"--disable-driver works through the net.filters check; add it to "
				"--check");
	if (a.grant && !rp_checks_selects(a.checks, rp_id_logon_rdp))
		return cli_fail(RP_EXIT_USAGE,
				"--grant-rdp-logon is carried out by the logon.rdp check; add it "
				"to --check");
	if (a.fix && !a.yes && !a.dry_run && !isatty(STDIN_FILENO))
		return cli_fail(RP_EXIT_USAGE,
				"fix changes the disk: add --yes to confirm (or --dry-run to see "
				"the plan)");
	if (cli_backup_dir_ok(a.backup_dir, !a.dry_run))
		return RP_EXIT_USAGE;
	if (a.first_target < argc - 1) {
		/* Several targets: nobody can answer one question per disk. */
		if (a.fix && !a.yes && !a.dry_run)
			return cli_fail(RP_EXIT_USAGE,
					"fix on several targets changes each disk without asking: "
					"add --yes (or --dry-run to see the plans)");
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		int jobs = a.jobs ? a.jobs : cpus > 0 ? (int)cpus : 1;
		return cli_fleet(argc, argv, a.first_target, jobs, a.json);
	}

	rp_target t = {0};
	rp_vol *vol = NULL;
	const rp_install *inst = NULL;
	rp_registry reg = {0};
	char *notes[8] = {0};
	rp_events events = {0};
	rp_scan scan = {.allow_weaker = a.allow_weaker,
			.now = a.now ? a.now : time(NULL),
			.reset_ip = a.reset_ip,
			.disable_driver = a.disable_driver,
			.enable_sac = a.enable_sac,
			.grant_rdp_logon = a.grant,
			.target = a.target};
	if (!a.json && isatty(STDERR_FILENO))
		scan.progress = show_progress;
	rp_report r = {.command = argv[0],
		       .target = a.target,
		       .install_arg = a.install,
		       .dry_run = a.dry_run,
		       .allow_weaker = a.allow_weaker};
	int rc;
	/* A write that would be refused is refused before anything is scanned or printed. */
	if (rp_target_probe(&t, a.target, &err) < 0 ||
	    (a.fix && !a.dry_run && rp_target_check_write(&t, a.install, "fix", &err) < 0) ||
	    rp_target_open(&t, a.install, 0, &vol, &inst, &err) < 0) {
		rc = cli_fail(err.exit_code, "%s", err.msg);
		goto out;
	}
	r.install = inst;
	cli_status(!a.json, "reading the registry");
	int loaded = rp_registry_load(vol, &reg, &err);
	cli_status(!a.json, NULL);
	if (loaded < 0) {
		rc = cli_fail(err.exit_code, "%s", err.msg);
		goto out;
	}
	r.reg = &reg;
	r.nnotes = rp_report_state_notes(vol, &reg, notes, sizeof notes / sizeof *notes);
	r.notes = notes;
	/* Missing or damaged logs are noted, not fatal; only a volume error stops the scan. */
	if (rp_events_load(vol, &events, 1, &err) < 0) {
		rc = cli_fail(err.exit_code, "%s", err.msg);
		goto out;
	}
	scan.vol = vol;
	scan.reg = &reg;
	scan.events = &events;
	if (rp_scan_run(&scan, a.checks, &err) < 0) {
		rc = cli_fail(err.exit_code, "%s", err.msg);
		goto out;
	}
	r.scan = &scan;
	/* scan and fix agree: a change fix could not build is told now, not at fix time. */
	if (!a.fix && count_status(&scan, RP_PROBLEM) && r.nnotes < sizeof notes / sizeof *notes) {
		rp_err perr = {0};
		if (rp_plan_preflight(&scan, a.allow_weaker, &perr) < 0) {
			notes[r.nnotes++] = rp_xasprintf("fix would refuse: %s", perr.msg);
			r.fix_refuses = 1;
		}
	}
	/* not-fixed in a scan: a problem rdprescue refuses to touch (e.g. behind a junction). */
	r.exit_code = count_status(&scan, RP_PROBLEM) || count_status(&scan, RP_NOT_FIXED)
			  ? RP_EXIT_PROBLEMS
			  : RP_EXIT_OK;
	/* Nothing to fix, but an interrupted run left a change to complete or its dirty flag:
	 * plan/ finishes that (rp_plan_fix with no jobs). */
	int finishing = a.fix && !a.dry_run && r.exit_code == RP_EXIT_OK && rp_vol_interrupted(vol);
	if (!a.fix || (r.exit_code == RP_EXIT_OK && !finishing)) {
		rc = finish(&r, a.json, a.brief);
		goto out;
	}

	if (!confirm(&a, &scan)) {
		rc = cli_fail(RP_EXIT_USAGE, "nothing changed: fix was not confirmed");
		goto out;
	}
	/* plan/ reads what it still needs from scan.vol, then closes it. */
	vol = NULL;
	rp_plan_opts po = {.target = a.target,
			   .install_index = a.install,
			   .backup_dir = a.backup_dir,
			   .dry_run = a.dry_run,
			   .allow_weaker = a.allow_weaker,
			   .keep_vol = 1};
	rp_plan_result pr = {0};
	r.plan = &pr;
	cli_status(!a.json, a.dry_run ? "planning and verifying the repairs"
				      : "writing the backup, then the repairs");
	int planned = rp_plan_fix(&t, &scan, &po, &pr, &err);
	cli_status(!a.json, NULL);
	if (planned < 0) {
		r.exit_code = err.exit_code ? err.exit_code : RP_EXIT_WRITE_FAILED;
		r.error = err.msg;
		rc = finish(&r, a.json, a.brief);
		rp_plan_result_free(&pr);
		goto out;
	}
	if (!a.dry_run && pr.files_written) {
		/* Judge by what the disk holds now: the hives the fix did not write are taken
		 * over from the first scan (same bytes), the written ones read again; from here on
		 * reg keeps only its strings and recovery records, which the report shows. */
		rp_registry after_reg = {0};
		/* No event logs: they tell what happened before the fix, not what the disk holds
		 * now (events.unexplained is skipped, its findings stay not-fixed). */
		rp_scan after = {.allow_weaker = 0,
				 .now = scan.now,
				 .reset_ip = a.reset_ip,
				 .disable_driver = a.disable_driver,
				 .enable_sac = a.enable_sac,
				 .grant_rdp_logon = a.grant,
				 .target = a.target};
		cli_status(!a.json, "scanning what the disk now holds");
		/* plan/ hands over the fresh read-only mount it read the written files back on. */
		vol = scan.vol;
		scan.vol = NULL;
		if ((!vol && rp_target_open(&t, a.install, 0, &vol, &inst, &err) < 0) ||
		    rp_registry_reload(vol, &reg, (const char *const *)pr.files, pr.nfiles,
				       &after_reg, &err) < 0 ||
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
		cli_status(!a.json, NULL);
		rp_scan_free(&after);
		rp_registry_free(&after_reg);
	} else if (!a.dry_run && !finishing) {
		settle(&scan, &scan);
		r.exit_code = RP_EXIT_PROBLEMS;
	}
	rc = finish(&r, a.json, a.brief);
	rp_plan_result_free(&pr);
out:
	for (size_t i = 0; i < sizeof notes / sizeof *notes; i++)
		free(notes[i]);
	rp_scan_free(&scan);
	rp_events_free(&events);
	rp_registry_free(&reg);
	rp_vol_close(vol, NULL);
	rp_target_free(&t);
	return rc;
}
