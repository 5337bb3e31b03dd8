/*
 * report.h — what a run found and did, as text for people and as JSON (schema "rdprescue/1",
 * docs/json-schema.md) for scripts.  The last line of every run is a one-line summary under
 * 4 KiB, because cloud "run command" consoles keep only the tail.
 */
#ifndef RP_REPORT_H
#define RP_REPORT_H

#include "checks/checks.h"
#include "plan/plan.h"
#include "sd/sd.h"

#include <stdio.h>

typedef struct rp_report {
	const char *command; /* "scan", "fix", "undo" */
	const char *target;
	const rp_install *install;
	int install_arg;	    /* the --install N given (0: none), repeated in hints */
	const rp_registry *reg;	    /* NULL for undo */
	const rp_scan *scan;	    /* NULL for undo */
	const rp_plan_result *plan; /* NULL for scan */
	int dry_run;
	int allow_weaker;
	int exit_code;
	const char *error;  /* a message when the run stopped early */
	int fix_refuses;    /* scan: fix could not build its changes (a note says why) */
	char *const *notes; /* what the volume and hives are like (rp_report_state_notes) */
	size_t nnotes;
} rp_report;

/* Notes on state a user must know before a fix: hibernation / Fast Startup or an unclean
 * journal (fix will refuse: what to do), the NTFS dirty flag, a hive with one of its two
 * logs missing (what was replayed).  Fills up to max malloc'd one-line notes; returns how many. */
size_t rp_report_state_notes(const rp_vol *vol, const rp_registry *reg, char **notes, size_t max);

void rp_report_text(FILE *out, const rp_report *r);
void rp_report_json(FILE *out, const rp_report *r);
/* --brief: one line for the target, one line per check (brief.c); the summary follows. */
void rp_report_brief(FILE *out, const rp_report *r);
/* One line: "{"rdprescue":"summary",...}" — under 4 KiB whatever the findings. */
void rp_report_summary(FILE *out, const rp_report *r);

/* `rdprescue acl show`: the SD of path as SDDL (NULL: why_no_sddl says why) and in words, as
 * text or as JSON (schema "rdprescue-acl/1"). */
void rp_report_acl(FILE *out, int json, const char *path, const rp_sd *sd, const char *sddl,
		   const char *why_no_sddl);
/* `rdprescue acl reset --json`: what was set and where its backup is. */
void rp_report_acl_reset_json(FILE *out, const char *path, const char *sddl, int dry_run,
			      const rp_plan_result *pr);

const char *rp_status_name(rp_status s);
const char *rp_severity_name(rp_severity s);

#endif
